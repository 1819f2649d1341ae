"""Gradients at NaN and ±Inf follow PyTorch (issue 16 item 8): every activation and reduction."""

from __future__ import annotations

import math

import numpy as np
import pytest

import microtensor as mt

NAN, INF = math.nan, math.inf

# name: (microtensor call, torch call); each reduces to a scalar with fixed weights so that every
# element's gradient differs
W3 = [1.0, 2.0, 3.0]
UNARY = {
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "exp": (lambda x: x.exp(), lambda x: x.exp()),
    "log": (lambda x: x.log(), lambda x: x.log()),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt()),
    "clamp": (lambda x: x.clamp(-1, 1), lambda x: x.clamp(-1, 1)),
    "clamp_min": (lambda x: x.clamp(min=0), lambda x: x.clamp(min=0)),
    "neg": (lambda x: -x, lambda x: -x),
}
REDUCTIONS = {
    "max": (lambda x: x.max(), lambda x: x.max()),
    "min": (lambda x: x.min(), lambda x: x.min()),
    "max_dim": (lambda x: x.max(0).values, lambda x: x.max(0).values),
    "min_dim": (lambda x: x.min(0).values, lambda x: x.min(0).values),
    "sum": (lambda x: x.sum(), lambda x: x.sum()),
    "mean": (lambda x: x.mean(), lambda x: x.mean()),
    "logsumexp": (lambda x: x.logsumexp(0), lambda x: x.logsumexp(0)),
    "var": (lambda x: x.var(), lambda x: x.var()),
    "std": (lambda x: x.std(), lambda x: x.std()),
    "softmax": (lambda x: x.softmax(0), lambda x: x.softmax(0)),
    "log_softmax": (lambda x: x.log_softmax(0), lambda x: x.log_softmax(0)),
}
SPECIAL = [NAN, INF, -INF, 0.0, 1.0, -1.0]
TRIPLES = [
    [1.0, NAN, 2.0],
    [NAN, 3.0, NAN],
    [1.0, INF, 2.0],
    [1.0, -INF, 2.0],
    [INF, INF, 1.0],
    [-INF, -INF, -INF],
    [NAN, INF, -INF],
]


def _ours(call, values):
    x = mt.tensor(values, dtype=mt.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        out = call(x)
        (out * mt.tensor(np.resize(W3, out.shape), dtype=mt.float64)).sum().backward()
    return x.grad.numpy()


def _theirs(torch, call, values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out = call(x)
    (out * torch.tensor(np.resize(W3, tuple(out.shape)), dtype=torch.float64)).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradients_at_nan_and_inf_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = UNARY[name]
    np.testing.assert_allclose(
        _ours(ours, SPECIAL), _theirs(torch, theirs, SPECIAL), rtol=1e-12, err_msg=name
    )


@pytest.mark.parametrize("values", TRIPLES, ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_gradients_at_nan_and_inf_match_torch(name, values):
    torch = pytest.importorskip("torch")
    ours, theirs = REDUCTIONS[name]
    np.testing.assert_allclose(_ours(ours, values), _theirs(torch, theirs, values), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("a, b", [(NAN, 1.0), (1.0, NAN), (NAN, NAN), (INF, 1.0), (INF, INF), (-INF, -INF)])
def test_maximum_minimum_gradients_at_nan_and_inf_match_torch(name, a, b):
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (mt, torch):
        x = lib.tensor([a], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([b], dtype=lib.float64, requires_grad=True)
        getattr(lib, name)(x, y).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    np.testing.assert_array_equal(grads[0], grads[1])


# PyTorch's values, written out (these run without torch too)
def test_abs_gradient_at_nan_is_zero():
    np.testing.assert_array_equal(_ours(UNARY["abs"][0], [NAN, 0.0, -2.0, INF]), [0.0, 0.0, -3.0, 1.0])


def test_relu_passes_the_gradient_through_nan():
    np.testing.assert_array_equal(_ours(UNARY["relu"][0], [NAN, -1.0, 0.0, 2.0]), [1.0, 0.0, 0.0, 1.0])


def test_max_and_min_put_the_gradient_on_the_nans():
    np.testing.assert_array_equal(_ours(lambda x: x.max(), [1.0, NAN, 2.0]), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_ours(lambda x: x.min(), [NAN, 3.0, NAN]), [0.5, 0.0, 0.5])


def test_maximum_of_nan_gives_both_sides_the_gradient():
    a = mt.tensor([NAN], dtype=mt.float64, requires_grad=True)
    b = mt.tensor([1.0], dtype=mt.float64, requires_grad=True)
    mt.maximum(a, b).sum().backward()
    assert a.grad.item() == 1.0 and b.grad.item() == 1.0


def test_var_at_an_infinite_element_gives_infinite_gradients_elsewhere():
    np.testing.assert_array_equal(_ours(lambda x: x.var(), [1.0, INF, 2.0]), [-INF, NAN, -INF])


# ------------------------------------------------------------------ backward at poles is silent
# Each backward hits a pole (a division by zero, inf - inf, 0 * inf, ...) where NumPy would warn;
# PyTorch gives the IEEE values without a word, and so must the engine (the values are NumPy's).
POLES = {
    "log(0)": (lambda x: x.log(), [0.0, 1.0]),
    "sqrt(0)": (lambda x: x.sqrt(), [0.0, 4.0]),
    "1/x at 0": (lambda x: 1 / x, [0.0, 2.0]),
    "x**0.5 at 0": (lambda x: x**0.5, [0.0, 4.0]),
    "x**-1 at 0": (lambda x: x**-1.0, [0.0, 2.0]),
    "tanh'(inf) * inf": (lambda x: x.tanh() * x, [math.inf, 1.0]),
    "x/y at y=0": (lambda x: x / (x - x), [1.0, 2.0]),
}


def _quiet_backward(lib, name, dtype):
    import warnings

    fn, values = POLES[name]
    x = lib.tensor(values, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as `-W error::RuntimeWarning`: any NumPy warning fails
        y = fn(x)
        y.backward(lib.ones_like(y))
        y = fn(x)
        y.backward(lib.ones_like(y))  # the second backward accumulates into .grad (inf + -inf, ...)
    return x.grad


@pytest.mark.parametrize("name", sorted(POLES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_backward_at_poles_is_silent(name, dtype):
    grad = _quiet_backward(mt, name, getattr(mt, dtype)).numpy()
    assert not np.isfinite(grad).all(), f"{name} does not hit a pole"


@pytest.mark.parametrize("name", sorted(POLES))
def test_backward_at_poles_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours = _quiet_backward(mt, name, mt.float64).numpy()
    theirs = _quiet_backward(torch, name, torch.float64).numpy()
    np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_accumulating_inf_and_minus_inf_is_silent_as_pytorch():
    import warnings

    torch = pytest.importorskip("torch")
    results = []
    for lib in (mt, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x.log().sum().backward()  # .grad = [inf, 1]
            (-x.log()).sum().backward()  # accumulated in place: inf + -inf
        results.append(x.grad.tolist())
    assert math.isnan(results[0][0]) and results[0][1] == 0.0
    assert math.isnan(results[1][0]) and results[1][1] == 0.0


def test_backward_through_create_graph_at_a_pole_is_silent():
    import warnings

    x = mt.tensor([0.0, 1.0], dtype=mt.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = mt.autograd.grad(x.sqrt().sum(), x, create_graph=True)
        g.sum().backward()
    assert math.isinf(x.grad.tolist()[0]) and x.grad.tolist()[1] == pytest.approx(-0.25)


def test_user_code_inside_backward_still_warns():
    # only the library's own arithmetic is quiet: a hook or a Function's backward that divides by
    # zero with NumPy warns as it would outside backward
    x = mt.tensor([0.0, 1.0], requires_grad=True)
    x.register_hook(lambda g: (np.float32(1) / g.numpy(), None)[1])  # g is 0: 1/0
    y = (x * 0).sum()
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        y.backward()

    class Reciprocal(mt.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 1

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return mt.tensor(g.numpy() / a.detach().numpy())

    z = mt.tensor([0.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        Reciprocal.apply(z).sum().backward()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("zero_first", [False, True])
def test_masked_gradient_where_is_bit_identical_to_numpy_where(dtype, zero_first):
    # where(cond, 0, grad) / where(cond, grad, 0) on arrays takes a branch-free path (an AND on the
    # bits): the result must equal np.where's bit for bit: +0.0 where masked, NaN, ±inf and -0.0
    # kept as they are
    from microtensor.ops import _xp

    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5)).astype(dtype)
    a[0, :4] = [NAN, INF, -INF, -0.0]
    cond = rng.random((6, 5)) < 0.5
    for zero in (0, 0.0):
        args = (zero, a) if zero_first else (a, zero)
        for c in (cond, cond.T.copy().T, ~cond):
            got, want = _xp.where(c, *args), np.where(c, *args)
            assert got.dtype == want.dtype
            assert got.tobytes() == want.tobytes()


def test_relu_gradient_is_plus_zero_where_masked_and_keeps_nonfinite_grads():
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 2.0, 3.0, -4.0, 5.0], np.float32)
    g = np.array([-2.0, INF, NAN, -0.0, NAN, -INF], np.float32)
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    xm.relu().backward(mt.tensor(g))
    xt.relu().backward(torch.tensor(g))
    assert xm.grad.numpy().tobytes() == xt.grad.numpy().tobytes()
