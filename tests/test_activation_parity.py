"""Activations (issue 13, item 2) against PyTorch: values and gradients, float32 and float64,
including the edges (the kinks and bounds, ±1e4, ±inf, NaN) where the side a gradient takes or an
overflow-free form matters."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

EDGES = [-1e4, -30.0, -6.0, -3.0, -2.0, -1.0, -0.5, -0.25, -1e-7, 0.0, 1e-7, 0.25, 0.5, 1.0, 2.0, 3.0,
         6.0, 20.0, 30.0, 1e4, float("inf"), -float("inf"), float("nan")]  # fmt: skip

# name -> kwargs (PyTorch's names); the functional is called as F.name(x, **kwargs) in both
CASES = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("elu", {}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.0}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 6.0}), ("softplus", {"beta": 0.5}),
    ("softsign", {}), ("logsigmoid", {}), ("tanhshrink", {}), ("softshrink", {}),
    ("softshrink", {"lambd": 1.0}), ("hardshrink", {}), ("hardshrink", {"lambd": 2.0}),
    ("threshold", {"threshold": 1.0, "value": -2.0}), ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("rrelu", {}),
]  # fmt: skip


def _both(name, kwargs, values, dtype):
    x = mt.tensor(np.asarray(values, dtype), requires_grad=True)
    tx = torch.tensor(np.asarray(values, dtype), requires_grad=True)
    y, ty = getattr(F, name)(x, **kwargs), getattr(TF, name)(tx, **kwargs)
    g = np.linspace(-1.5, 2.0, y.numel()).astype(dtype).reshape(y.shape)
    y.backward(mt.tensor(g))
    ty.backward(torch.tensor(g))
    return y, ty, x.grad, tx.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}{k or ''}" for n, k in CASES])
def test_values_and_gradients_match_pytorch_at_edges_and_random_points(name, kwargs, dtype):
    rng = np.random.default_rng(0)
    values = np.concatenate([np.asarray(EDGES), rng.normal(0, 3, 40)])
    y, ty, g, tg = _both(name, kwargs, values, dtype)
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    if dtype == "float64" and name in ("hardsigmoid", "hardswish"):
        tol["rtol"] = 1e-7  # some PyTorch kernels multiply by a float32 1/6 even in float64
    assert y.dtype == getattr(mt, dtype) and g.dtype == getattr(mt, dtype)
    y, ty = y.detach().numpy(), ty.detach().numpy()
    if name == "gelu" and dtype == "float32":
        # PyTorch's float32 erf kernel gives gelu(inf) = nan (its float64 one gives inf, as here)
        keep = values != np.inf
        y, ty = y[keep], ty[keep]
    np.testing.assert_allclose(y, ty, **tol, err_msg=f"{name} value")
    # at a NaN input PyTorch's gradient depends on whether its vectorised or its scalar loop met it
    known = ~np.isnan(values)
    np.testing.assert_allclose(g.numpy()[known], tg.numpy()[known], **tol, err_msg=f"{name} gradient")


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}{k or ''}" for n, k in CASES])
def test_second_derivatives_match_pytorch(name, kwargs):
    if name == "hardsigmoid":
        pytest.skip("PyTorch has no double backward for hardsigmoid (here: 0, as its derivative is flat)")
    values = np.random.default_rng(1).normal(0, 2, 30)
    x = mt.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    (g,) = mt.autograd.grad(getattr(F, name)(x, **kwargs).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(getattr(TF, name)(tx, **kwargs).sum(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx, allow_unused=True)
    want = np.zeros_like(values) if tgg is None else tgg.numpy()
    if not g.requires_grad:  # a piecewise-constant derivative records nothing: its derivative is 0
        np.testing.assert_array_equal(want, 0)
        return
    (gg,) = mt.autograd.grad((g * g).sum(), x, allow_unused=True)
    got = np.zeros_like(values) if gg is None else gg.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh",
                                  "relu6", "hardsigmoid", "hardswish", "rrelu"])  # fmt: skip
def test_inplace_overwrites_the_input_and_keeps_the_graph(name):
    values = np.array([-2.0, -0.5, 0.5, 2.0])
    a = mt.tensor(values, requires_grad=True)
    ta = torch.tensor(values, requires_grad=True)
    x, tx = a * 1.0, ta * 1.0  # non-leaves: in-place is allowed on them
    out, tout = getattr(F, name)(x, inplace=True), getattr(TF, name)(tx, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-7)  # PyTorch: float32 1/6
    (out * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    (tout * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-7)


def test_inplace_on_a_leaf_that_requires_grad_is_refused_and_out_of_place_leaves_input_alone():
    x = mt.tensor([-1.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu(x, inplace=True)
    y = mt.tensor([-1.0, 1.0])
    F.elu(y)
    np.testing.assert_array_equal(y.numpy(), [-1.0, 1.0])
    assert F.elu_(y) is y and y[0].item() == pytest.approx(np.expm1(-1.0))
    nn.ReLU(inplace=True)(y)
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0])


@pytest.mark.parametrize(("shape", "nparams"), [((4, 3), 1), ((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 2, 2), 3),
                                                ((5,), 1), ((), 1)])  # fmt: skip
def test_prelu_matches_pytorch_per_channel(shape, nparams):
    rng = np.random.default_rng(3)
    xv = rng.normal(size=shape)
    wv = rng.uniform(0.05, 0.5, nparams)
    x, w = mt.tensor(xv, requires_grad=True), mt.tensor(wv, requires_grad=True)
    tx, tw = torch.tensor(xv, requires_grad=True), torch.tensor(wv, requires_grad=True)
    y, ty = F.prelu(x, w), TF.prelu(tx, tw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_prelu_module_and_errors():
    m = nn.PReLU(3, init=0.1)
    assert m.weight.shape == (3,) and np.allclose(m.weight.detach().numpy(), 0.1)
    assert [k for k, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(RuntimeError, match=r"prelu: .*3 entries.*4 channels"):
        m(mt.zeros(2, 4))
    assert repr(m) == "PReLU(num_parameters=3)"


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_glu_softmin_and_softmax2d_match_pytorch(dim):
    v = np.random.default_rng(4).normal(size=(4, 6, 2))
    for mine, theirs in ((lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim)),
                         (lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim)),
                         (lambda t: nn.Softmax2d()(t), lambda t: torch.nn.Softmax2d()(t))):  # fmt: skip
        x, tx = mt.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        y, ty = mine(x), theirs(tx)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        w = np.cos(np.arange(y.numel())).reshape(y.shape)
        y.backward(mt.tensor(w))
        ty.backward(torch.tensor(w))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    with pytest.raises(RuntimeError, match="glu: halving dimension must be even"):
        F.glu(mt.zeros(3, 5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rrelu_training_draws_pytorchs_slopes_from_the_global_generator(dtype):
    v = np.random.default_rng(5).normal(size=(3, 7)).astype(dtype)
    v[0, 0] = 0.0  # x = 0 draws a slope too, as in PyTorch
    mt.manual_seed(11)
    torch.manual_seed(11)
    x, tx = mt.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, ty = F.rrelu(x, 0.1, 0.3, training=True), TF.rrelu(tx, 0.1, 0.3, training=True)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    slopes = y.detach().numpy()[v < 0] / v[v < 0]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and np.ptp(slopes) > 0
    m = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(m(mt.tensor([-1.0])).numpy(), [-0.2])


def test_modules_match_pytorch_and_print_like_pytorch():
    v = np.random.default_rng(6).normal(0, 3, (3, 4)).astype("float32")
    mods = ["GELU()", "GELU(approximate='tanh')", "SiLU()", "Mish()", "ELU(alpha=0.7)", "SELU()", "CELU(2.0)",
            "Hardtanh(-2.0, 2.0)", "ReLU6()", "Hardsigmoid()", "Hardswish()", "Softplus(2.0, 5.0)",
            "Softsign()", "LogSigmoid()", "Tanhshrink()", "Softshrink(0.3)", "Hardshrink(0.3)", "Softmin(1)",
            "GLU(1)",
            "Threshold(0.1, 20.0)", "RReLU()", "ReLU(inplace=True)", "LeakyReLU(0.2)"]  # fmt: skip
    for text in mods:
        mine, theirs = eval(f"nn.{text}"), eval(f"torch.nn.{text}")  # noqa: S307 - the literals above
        mine.eval(), theirs.eval()
        assert repr(mine) == repr(theirs), text
        y = mine(mt.tensor(v.copy()))
        ty = theirs(torch.tensor(v.copy()))
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=2e-6, atol=1e-6, err_msg=text)


def test_bad_arguments_raise_library_errors():
    with pytest.raises(RuntimeError, match="gelu: approximate"):
        F.gelu(mt.zeros(2), approximate="fast")
    with pytest.raises(RuntimeError, match="silu: expected a floating-point tensor"):
        F.silu(mt.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="softshrink: lambda"):
        F.softshrink(mt.zeros(2), -1.0)
    with pytest.raises(ValueError, match="Hardtanh: max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="Softmax2d"):
        nn.Softmax2d()(mt.zeros(2, 3))
    np.testing.assert_array_equal(F.relu6(mt.tensor([-1, 3, 9])).numpy(), [0, 3, 6])  # integers, as PyTorch


def test_public_names_match_pytorch():
    assert mt.selu is not None and mt.Tensor.prelu is not None and mt.Tensor.hardshrink is not None
    x = mt.tensor([-1.0, 0.3, 2.0])
    np.testing.assert_allclose(mt.hardshrink(x, 0.5).numpy(), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(x.hardshrink().numpy(), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(mt.threshold(x, 0.5, 9.0).numpy(), [9.0, 9.0, 2.0])
    np.testing.assert_allclose(
        mt.celu(x).numpy(), torch.celu(torch.tensor([-1.0, 0.3, 2.0])).numpy(), rtol=1e-6
    )
