"""nn.init: PyTorch's numbers under the same seed, its gains and fans, its errors, and writes
that go through the in-place path (version counter) under no_grad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microtensor as mt
import microtensor.nn as nn
from microtensor.nn import init


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


SEEDS = st.integers(0, 2**32 - 1)
FLOATS = st.sampled_from(["float32", "float64"])
WEIGHT_SHAPES = st.sampled_from([(3, 5), (5, 3), (1, 17), (16, 16), (4, 2, 3), (6, 3, 2, 2), (2, 3, 1, 2, 2)])
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]  # fmt: skip


def same(a, b) -> None:
    x, y = a.detach().numpy(), b.detach().numpy()
    assert x.dtype == np.dtype(str(b.dtype).removeprefix("torch.")) and x.shape == tuple(b.shape)
    np.testing.assert_array_equal(x, y)


def twins(torch, shape, dtype):
    return mt.empty(*shape, dtype=getattr(mt, dtype)), torch.empty(*shape, dtype=getattr(torch, dtype))


@given(seed=SEEDS, shape=WEIGHT_SHAPES, dtype=FLOATS, gain=st.floats(0.1, 3))
def test_random_initialisers_draw_torchs_numbers(torch, seed, shape, dtype, gain):
    for name, kwargs in (
        ("uniform_", {"a": -0.5, "b": 1.5}),
        ("normal_", {"mean": 0.3, "std": 2.0}),
        ("xavier_uniform_", {"gain": gain}),
        ("xavier_normal_", {"gain": gain}),
    ):
        a, b = twins(torch, shape, dtype)
        getattr(init, name)(a, generator=mt.Generator().manual_seed(seed), **kwargs)
        getattr(torch.nn.init, name)(b, generator=torch.Generator().manual_seed(seed), **kwargs)
        same(a, b)


@given(
    seed=SEEDS,
    shape=WEIGHT_SHAPES,
    dtype=FLOATS,
    a=st.sampled_from([0, 0.01, 0.2, math.sqrt(5)]),
    mode=st.sampled_from(["fan_in", "fan_out", "FAN_OUT"]),
    nonlinearity=st.sampled_from(NONLINEARITIES),
)
def test_kaiming_draws_torchs_numbers_for_every_mode_and_nonlinearity(
    torch, seed, shape, dtype, a, mode, nonlinearity
):
    for name in ("kaiming_uniform_", "kaiming_normal_"):
        x, y = twins(torch, shape, dtype)
        getattr(init, name)(x, a, mode, nonlinearity, generator=mt.Generator().manual_seed(seed))
        getattr(torch.nn.init, name)(y, a, mode, nonlinearity, generator=torch.Generator().manual_seed(seed))
        same(x, y)


@given(seed=SEEDS, shape=WEIGHT_SHAPES, dtype=FLOATS)
def test_trunc_normal_orthogonal_and_sparse_follow_torch(torch, seed, shape, dtype):
    # trunc_normal_ both ways (rejection of normals; rejection from a uniform); QR is NumPy's, so
    # orthogonal_ agrees to rounding
    for args in ((0.5, 2.0, -1.0, 3.0), (0.0, 1.0, 1.0, 1.5), (0.0, 0.02, -0.04, 0.04)):
        x, y = twins(torch, shape, dtype)
        init.trunc_normal_(x, *args, generator=mt.Generator().manual_seed(seed))
        torch.nn.init.trunc_normal_(y, *args, generator=torch.Generator().manual_seed(seed))
        same(x, y)
        assert x.numpy().min() >= args[2] - 1e-7 and x.numpy().max() <= args[3] + 1e-7
    x, y = twins(torch, shape, dtype)
    init.orthogonal_(x, gain=1.5, generator=mt.Generator().manual_seed(seed))
    torch.nn.init.orthogonal_(y, gain=1.5, generator=torch.Generator().manual_seed(seed))
    np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5)
    if len(shape) == 2:
        mt.manual_seed(seed)
        torch.manual_seed(seed)
        x, y = twins(torch, shape, dtype)
        init.sparse_(x, 0.4, std=0.5, generator=mt.Generator().manual_seed(seed + 1))
        torch.nn.init.sparse_(y, 0.4, std=0.5, generator=torch.Generator().manual_seed(seed + 1))
        same(x, y)


@given(seed=SEEDS, sizes=st.tuples(st.integers(1, 20), st.integers(1, 20)), dtype=FLOATS, bias=st.booleans())
def test_default_linear_init_matches_torch(torch, seed, sizes, dtype, bias):
    mt.manual_seed(seed)
    torch.manual_seed(seed)
    ours = nn.Linear(*sizes, bias=bias, dtype=getattr(mt, dtype))
    theirs = torch.nn.Linear(*sizes, bias=bias, dtype=getattr(torch, dtype))
    same(ours.weight, theirs.weight)
    if bias:
        same(ours.bias, theirs.bias)
    same(mt.get_rng_state(), torch.get_rng_state())  # the same draws were consumed


def test_a_seeded_model_matches_torchs_initial_weights(torch):
    mt.manual_seed(7)
    torch.manual_seed(7)
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    t_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        same(value, t_state[key])


def test_deterministic_initialisers_match_torch(torch):
    for name, shape, args in (
        ("constant_", (3, 4), (0.25,)),
        ("ones_", (2, 3), ()),
        ("zeros_", (2, 3), ()),
        ("eye_", (3, 5), ()),
        ("eye_", (5, 3), ()),
        ("dirac_", (4, 2, 3), ()),
        ("dirac_", (4, 2, 3, 3), (2,)),
        ("dirac_", (6, 3, 3, 2, 3), (3,)),
    ):
        x, y = twins(torch, shape, "float32")
        x.fill_(7.0)
        y.fill_(7.0)
        getattr(init, name)(x, *args)
        getattr(torch.nn.init, name)(y, *args)
        same(x, y)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(torch, nonlinearity):
    for param in (None, 0.2, 1, 0):
        if nonlinearity != "leaky_relu" and param is not None:
            continue
        assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_fans_match_torch(torch):
    for shape in ((3, 5), (4, 2, 3), (6, 3, 2, 2), (0, 4), (2, 3, 1, 2, 2)):
        x = mt.empty(*shape)
        assert init._calculate_fan_in_and_fan_out(x) == torch.nn.init._calculate_fan_in_and_fan_out(
            torch.empty(*shape)
        )


def test_bad_arguments_raise_and_leave_the_tensor_unchanged():
    w = mt.ones(3, 4)
    for call, err, match in (
        (lambda: init.calculate_gain("swish"), ValueError, "unsupported nonlinearity 'swish'"),
        (
            lambda: init.calculate_gain("leaky_relu", "x"),
            ValueError,
            "negative_slope 'x' is not a valid number",
        ),
        (lambda: init.xavier_uniform_(mt.ones(3)), ValueError, "fewer than 2 dimensions"),
        (lambda: init.kaiming_normal_(w, mode="fan_avg"), ValueError, "mode 'fan_avg' not supported"),
        (lambda: init.eye_(mt.ones(2, 2, 2)), ValueError, "eye_: only tensors with 2 dimensions"),
        (lambda: init.dirac_(w), ValueError, "dirac_: only tensors with 3, 4, or 5 dimensions"),
        (lambda: init.dirac_(mt.ones(3, 2, 2), groups=2), ValueError, "must be divisible by groups"),
        (lambda: init.orthogonal_(mt.ones(3)), ValueError, "orthogonal_: only tensors with 2 or more"),
        (lambda: init.sparse_(mt.ones(2, 2, 2), 0.1), ValueError, "sparse_: only tensors with 2 dimensions"),
        (lambda: init.normal_(w, 0.0, -1.0), RuntimeError, "normal_: expects std >= 0.0"),
        (lambda: init.uniform_(w, 2.0, 1.0), RuntimeError, "uniform_: expects from <= to"),
        (lambda: init.zeros_(np.ones(3)), TypeError, "zeros_: expected a Tensor"),
    ):
        with pytest.raises(err, match=match):
            call()
    assert w.tolist() == [[1.0] * 4] * 3 and w._version == 0


def test_zero_element_tensors_are_a_no_op_with_a_warning():
    w = mt.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(w) is w
    assert init.orthogonal_(w) is w


def test_initialisers_bump_the_version_so_a_stale_graph_refuses_backward(torch):
    # as PyTorch: re-initialising a weight that a recorded op saved (here to give the input's
    # gradient) invalidates the graph
    for fill in (init.zeros_, lambda t: init.kaiming_uniform_(t, a=1.0), lambda t: init.orthogonal_(t)):
        lin = nn.Linear(3, 2)
        loss = lin(mt.ones(1, 3, requires_grad=True)).sum()
        version = lin.weight._version
        assert fill(lin.weight) is lin.weight
        assert lin.weight._version > version and lin.weight.is_leaf and lin.weight.requires_grad
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()
    tl = torch.nn.Linear(3, 2)
    tloss = tl(torch.ones(1, 3, requires_grad=True)).sum()
    torch.nn.init.zeros_(tl.weight)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tloss.backward()


def test_initialisers_draw_from_the_global_generator_by_default():
    mt.manual_seed(3)
    a = init.normal_(mt.empty(20)).tolist()
    mt.manual_seed(3)
    assert mt.randn(20).tolist() == a


def test_a_seed_trains_to_the_same_step_count_as_torch(torch):
    # end to end: the same seed gives the same initial weights, so the 2-2-1 XOR network of
    # examples/momentum.py converges at the same step as PyTorch's (126 steps for seed 0, μ=0.9)
    x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [[0.0], [1.0], [1.0], [0.0]]

    def steps(lib, nn_mod, optim, functional):
        lib.manual_seed(0)
        model = nn_mod.Sequential(nn_mod.Linear(2, 2), nn_mod.Tanh(), nn_mod.Linear(2, 1), nn_mod.Tanh())
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xs, ys = lib.tensor(x), lib.tensor(y)
        for step in range(1, 400):
            loss = functional.mse_loss(model(xs), ys)
            if loss.item() < 0.01:
                return step
            opt.zero_grad()
            loss.backward()
            opt.step()
        return None

    ours = steps(mt, nn, mt.optim, nn.functional)
    assert ours is not None and ours == steps(torch, torch.nn, torch.optim, torch.nn.functional)
