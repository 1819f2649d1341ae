"""Autograd against the hand-derived backprop of microtensor.reference.

Each test builds one of the classic small networks from raw microtensor tensors
(x @ W.T + b, .tanh(), .sigmoid(), ...), writes the loss with microtensor ops,
calls backward() and requires the loss and every parameter gradient to equal
the closed-form formulas to 1e-9 relative in float64. The closed forms are
themselves checked against central finite differences, and the reference
SGD step against manual microtensor updates under no_grad.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt
from microtensor import reference as ref

RTOL, ATOL = 1e-9, 1e-12
HIDDEN = ("relu", "tanh", "sigmoid")


# ------------------------------------------------------------------ strategies
def _floats(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _array(draw, shape, lo=-1.0, hi=1.0):
    return draw(hnp.arrays(np.float64, shape, elements=_floats(lo, hi)))


# Ranges keep |Z| <= 11 at the output, so sigmoid never saturates to exactly 0 or 1
# (where the reference clamps log at -100 and the comparison would be meaningless).
@st.composite
def single_layer(draw, classes: bool = False):
    """X (m, in), targets, W (out, in), b (out,): out = 1..3, or 2..5 classes with integer labels."""
    m, n_in = draw(st.integers(1, 8)), draw(st.integers(1, 5))
    n_out = draw(st.integers(2, 5)) if classes else draw(st.integers(1, 3))
    X = _array(draw, (m, n_in), -2, 2)
    if classes:
        y = draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, n_out - 1)))
    else:
        y = _array(draw, (m, n_out), 0, 1)  # soft targets in [0, 1] (exact 0/1 included)
    return X, y, {"weight": _array(draw, (n_out, n_in)), "bias": _array(draw, (n_out,))}


@st.composite
def two_layer(draw, classes: bool = False, targets=(0.0, 1.0)):
    """X (m, in), targets, and the state_dict of Linear(in, hidden) -> act -> Linear(hidden, out)."""
    m, n_in, n_hidden = draw(st.integers(1, 8)), draw(st.integers(1, 5)), draw(st.integers(1, 6))
    n_out = draw(st.integers(2, 5)) if classes else draw(st.integers(1, 3))
    X = _array(draw, (m, n_in), -2, 2)
    if classes:
        y = draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, n_out - 1)))
    else:
        y = _array(draw, (m, n_out), *targets)
    params = {
        "0.weight": _array(draw, (n_hidden, n_in)),
        "0.bias": _array(draw, (n_hidden,)),
        "2.weight": _array(draw, (n_out, n_hidden)),
        "2.bias": _array(draw, (n_out,)),
    }
    return X, y, params


# ------------------------------------------------------- the networks in microtensor
def _leaves(params: dict[str, np.ndarray]) -> dict[str, mt.Tensor]:
    return {k: mt.tensor(v, requires_grad=True) for k, v in params.items()}


def _act(z: mt.Tensor, kind: str) -> mt.Tensor:
    return {"relu": z.relu, "tanh": z.tanh, "sigmoid": z.sigmoid}[kind]()


def _bce(p: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _mse(a: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
    return ((a - y) ** 2).mean()


def _ce_indexed(z: mt.Tensor, labels: np.ndarray) -> mt.Tensor:
    """-mean_i log_softmax(z)[i, labels_i], picking with integer-array indexing."""
    return -z.log_softmax(dim=1)[mt.arange(len(labels)), mt.tensor(labels)].mean()


def _ce_one_hot(z: mt.Tensor, labels: np.ndarray) -> mt.Tensor:
    """-mean_i sum_k Y_ik log_softmax(z)_ik with a one-hot Y."""
    Y = mt.tensor(ref.one_hot(labels, z.shape[1], dtype=np.float64))
    return -(Y * z.log_softmax(dim=1)).sum(dim=1).mean()


def _one_layer(X, p):
    return mt.tensor(X) @ p["weight"].T + p["bias"]


def _two_layers(X, p, hidden):
    a1 = _act(mt.tensor(X) @ p["0.weight"].T + p["0.bias"], hidden)
    return a1 @ p["2.weight"].T + p["2.bias"]


def _assert_matches_reference(loss: mt.Tensor, params: dict[str, mt.Tensor], expected) -> None:
    ref_loss, ref_grads = expected
    assert loss.shape == () and loss.dtype == np.float64
    loss.backward()
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=RTOL, atol=ATOL, err_msg="loss")
    assert set(ref_grads) == set(params)
    for name, p in params.items():
        assert p.grad is not None, name
        assert p.grad.shape == p.shape and p.grad.dtype == np.float64, name
        np.testing.assert_allclose(p.grad.numpy(), ref_grads[name], rtol=RTOL, atol=ATOL, err_msg=name)


# ------------------------------------------------------------------------ tests
@given(single_layer())
def test_logistic_mse(case):
    X, y, params = case
    p = _leaves(params)
    loss = _mse(_one_layer(X, p).sigmoid(), mt.tensor(y))
    _assert_matches_reference(loss, p, ref.logistic_mse(X, y, params["weight"], params["bias"]))


@given(single_layer())
def test_logistic_bce(case):
    X, y, params = case
    p = _leaves(params)
    loss = _bce(_one_layer(X, p).sigmoid(), mt.tensor(y))
    _assert_matches_reference(loss, p, ref.logistic_bce(X, y, params["weight"], params["bias"]))


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid"])
@given(case=two_layer())
def test_mlp_bce(hidden, case):
    X, y, params = case
    p = _leaves(params)
    loss = _bce(_two_layers(X, p, hidden).sigmoid(), mt.tensor(y))
    _assert_matches_reference(loss, p, ref.mlp_bce(X, y, *params.values(), hidden=hidden))


@given(two_layer(targets=(-1.0, 1.0)))
def test_mlp_tanh_mse(case):
    X, y, params = case
    p = _leaves(params)
    loss = _mse(_two_layers(X, p, "tanh").tanh(), mt.tensor(y))
    _assert_matches_reference(loss, p, ref.mlp_tanh_mse(X, y, *params.values()))


@pytest.mark.parametrize("ce", [_ce_indexed, _ce_one_hot], ids=["indexed", "one_hot"])
@given(case=single_layer(classes=True))
def test_softmax_cross_entropy(ce, case):
    X, labels, params = case
    p = _leaves(params)
    loss = ce(_one_layer(X, p), labels)
    _assert_matches_reference(loss, p, ref.softmax_cross_entropy(X, labels, params["weight"], params["bias"]))


# Hidden unit 0 has zero weights and bias, so its pre-activation is exactly 0 on every row:
# relu'(0) = 0 in both (the reference masks by A > 0).
_ZERO_UNIT = (
    np.array([[0.5, -1.0], [1.5, 0.25], [-2.0, 1.0]]),
    np.array([0, 2, 1]),
    {
        "0.weight": np.array([[0.0, 0.0], [0.5, -0.5], [1.0, 0.75]]),
        "0.bias": np.array([0.0, 0.1, -0.2]),
        "2.weight": np.array([[0.3, -0.6, 0.9], [-0.4, 0.8, 0.1], [0.2, 0.5, -0.7]]),
        "2.bias": np.array([0.1, 0.0, -0.1]),
    },
)


@pytest.mark.parametrize("hidden", HIDDEN)
@given(case=two_layer(classes=True))
@example(case=_ZERO_UNIT)
def test_mlp_softmax_ce(hidden, case):
    X, labels, params = case
    p = _leaves(params)
    loss = _ce_indexed(_two_layers(X, p, hidden), labels)
    _assert_matches_reference(loss, p, ref.mlp_softmax_ce(X, labels, *params.values(), hidden=hidden))


# ------------------------------------------- the oracle itself, by finite differences
def _draw_case(rng, classes: bool, two: bool, targets=(0.0, 1.0)):
    m, n_in, n_hidden, n_out = 5, 3, 4, 3
    X = rng.uniform(-2, 2, (m, n_in))
    y = rng.integers(0, n_out, m) if classes else rng.uniform(*targets, (m, n_out))
    if two:
        shapes = {"0.weight": (n_hidden, n_in), "0.bias": (n_hidden,), "2.weight": (n_out, n_hidden)}
        shapes["2.bias"] = (n_out,)
    else:
        shapes = {"weight": (n_out, n_in), "bias": (n_out,)}
    return X, y, {k: rng.uniform(-1, 1, s) for k, s in shapes.items()}


ORACLES = {
    "logistic_mse": (ref.logistic_mse, False, False, {}),
    "logistic_bce": (ref.logistic_bce, False, False, {}),
    "mlp_bce_tanh": (ref.mlp_bce, False, True, {"hidden": "tanh"}),
    "mlp_bce_sigmoid": (ref.mlp_bce, False, True, {"hidden": "sigmoid"}),
    "mlp_tanh_mse": (ref.mlp_tanh_mse, False, True, {}),
    "softmax_cross_entropy": (ref.softmax_cross_entropy, True, False, {}),
    "mlp_softmax_ce_relu": (ref.mlp_softmax_ce, True, True, {"hidden": "relu"}),
    "mlp_softmax_ce_tanh": (ref.mlp_softmax_ce, True, True, {"hidden": "tanh"}),
    "mlp_softmax_ce_sigmoid": (ref.mlp_softmax_ce, True, True, {"hidden": "sigmoid"}),
}


@pytest.mark.parametrize("name", list(ORACLES))
def test_reference_gradients_match_finite_differences(name):
    """The hand-derived formulas are right: central differences of the reference loss agree."""
    fn, classes, two, kw = ORACLES[name]
    X, y, params = _draw_case(np.random.default_rng(7), classes, two)
    loss, grads = fn(X, y, *params.values(), **kw)
    assert np.ndim(loss) == 0 and np.isfinite(loss)
    eps = 1e-6
    for key, p in params.items():
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            orig = p[i]
            p[i] = orig + eps
            plus = fn(X, y, *params.values(), **kw)[0]
            p[i] = orig - eps
            minus = fn(X, y, *params.values(), **kw)[0]
            p[i] = orig
            numeric[i] = (plus - minus) / (2 * eps)
        assert grads[key].shape == p.shape
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-9, err_msg=f"{name} {key}")
    # and the loss value is the textbook one, computed the slow obvious way
    if name == "logistic_mse":
        A = 1 / (1 + np.exp(-(X @ params["weight"].T + params["bias"])))
        np.testing.assert_allclose(loss, np.mean((A - y) ** 2), rtol=1e-12)


# --------------------------------------------------------------- training steps
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid"])
def test_sgd_steps_match_manual_microtensor_training(hidden, momentum):
    """Reference sgd_step on reference gradients == microtensor autograd + manual updates."""
    rng = np.random.default_rng(3)
    X, y, init = _draw_case(rng, classes=False, two=True)
    lr, steps = 0.5, 6
    ref_params = {k: v.copy() for k, v in init.items()}
    buffers: dict[str, np.ndarray] = {}
    ref_losses = []
    for _ in range(steps):
        loss, grads = ref.mlp_bce(X, y, *ref_params.values(), hidden=hidden)
        ref_losses.append(loss)
        buffers = ref.sgd_step(ref_params, grads, lr, momentum, buffers)

    p = _leaves(init)
    bufs: dict[str, mt.Tensor] = {}
    losses = []
    for _ in range(steps):
        for t in p.values():
            t.grad = None
        loss = _bce(_two_layers(X, p, hidden).sigmoid(), mt.tensor(y))
        losses.append(loss.item())
        loss.backward()
        with mt.no_grad():
            for k, t in p.items():
                g = t.grad
                if momentum:
                    g = bufs[k] = g.clone() if k not in bufs else bufs[k] * momentum + g
                t -= lr * g
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-12)
    assert losses[-1] < losses[0]  # the steps did train
    for k, t in p.items():
        assert t.is_leaf and t.requires_grad
        assert not np.allclose(t.detach().numpy(), init[k])  # every parameter moved
        np.testing.assert_allclose(t.detach().numpy(), ref_params[k], rtol=1e-12, atol=1e-12, err_msg=k)
