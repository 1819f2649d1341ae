"""Every differentiable op, checked through THE OP TABLE (tests/op_cases.py).

For each case Hypothesis draws shapes, parameters and float64 values inside the
op's domain, then: the forward matches NumPy, the backward matches central
finite differences (gradcheck), and the backward of the backward does too
(gradgradcheck, through create_graph). A registered op without a case fails
`test_every_registered_op_has_a_case`.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from op_cases import CASES, CASES_BY_NAME, OpCase

import microtensor as mt
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.ops.base import REGISTRY
from microtensor.testing import arrays


def _import_every_module() -> None:
    """Ops defined anywhere in the package register on import: import it all before reading REGISTRY."""
    for info in pkgutil.walk_packages(mt.__path__, "microtensor."):
        importlib.import_module(info.name)


def _as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _floating(outs) -> tuple:
    return tuple(o for o in outs if isinstance(o, mt.Tensor) and o.is_floating_point())


def ops_built(outputs) -> set[str]:
    """Names of the Op classes in the graph that produced `outputs`."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = [o for o in outputs if isinstance(o, mt.Tensor)]
    while stack:
        node = stack.pop().grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node).__name__)
        stack.extend(x for x in node.inputs if isinstance(x, mt.Tensor))
    return names


def _leaves(arrays_, dtype=mt.float64) -> list[mt.Tensor]:
    return [mt.tensor(a, dtype=dtype, requires_grad=True) for a in arrays_]


def _run(case: OpCase, sample, dtype=mt.float64):
    arrays_, params = sample
    xs = _leaves(arrays_, dtype)
    return xs, _as_tuple(case.fn(*xs, **params))


# ------------------------------------------------------------------ the table
def test_every_registered_op_has_a_case():
    _import_every_module()
    covered = set().union(*(c.ops for c in CASES))
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"registered ops with no case in tests/op_cases.py: {missing}"
    unknown = sorted(covered - set(REGISTRY))
    assert not unknown, f"cases name ops that are not registered: {unknown}"
    assert all(c.ops for c in CASES), [c.name for c in CASES if not c.ops]
    no_formula = sorted(name for name, cls in REGISTRY.items() if not cls.formula.strip())
    assert not no_formula, f"ops without a formula: {no_formula}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_builds_the_ops_it_names(case: OpCase):
    """Each op a case names really appears in the graph of some drawn example (no stale claims)."""
    for op in case.ops:
        find(
            case.strategy,
            lambda sample, op=op: op in ops_built(_run(case, sample)[1]),
            settings=settings(max_examples=300, phases=[Phase.generate], database=None),
        )


# ----------------------------------------------------- forward + gradients
def _check_forward(case: OpCase, outs, arrays_, params) -> None:
    refs = _as_tuple(case.ref(*arrays_, **params))
    assert len(outs) == len(refs), f"{case.name}: {len(outs)} outputs, reference has {len(refs)}"
    for o, r in zip(outs, refs):
        r = np.asarray(r)
        assert o.shape == r.shape, f"{case.name}: shape {o.shape}, NumPy gives {r.shape}"
        if r.dtype.kind == "f":
            assert o.dtype == mt.float64
            np.testing.assert_allclose(o.detach().numpy(), r, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(o.numpy(), r)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_op_forward_and_gradients(case: OpCase, data):
    arrays_, params = data.draw(case.strategy, label="inputs, params")
    xs = _leaves(arrays_)
    outs = _as_tuple(case.fn(*xs, **params))
    _check_forward(case, outs, arrays_, params)
    extra = ops_built(outs) - set(case.ops)
    assert not extra, f"{case.name} also builds {sorted(extra)}; list them in its case"

    def fn(*ts):
        return _floating(_as_tuple(case.fn(*ts, **params)))

    gradcheck(fn, xs, eps=case.eps)
    if not case.second_order:
        return
    grad_outputs = tuple(
        mt.tensor(
            data.draw(arrays(o.shape, np.float64, "real", case.grid), label="grad_output"), requires_grad=True
        )
        for o in _floating(outs)
    )
    gradgradcheck(fn, xs, grad_outputs, eps=case.eps)


def test_double_on_float64_is_the_identity():
    x = mt.tensor([1.0, -2.0], dtype=mt.float64, requires_grad=True)
    assert x.double() is x and x.to(mt.float64) is x
    (x.double() * x.double()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])


# --------------------------------------------------------------------- dtypes
FLOAT32_CASES = [
    "add", "sub_scalar", "mul_scalar", "rdiv_scalar", "div", "pow", "pow_scalar_exponent", "neg",
    "matmul_batched_broadcast", "matmul_1d_nd", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
    "clamp_both", "maximum", "where", "where_scalar_other", "sum", "mean", "logsumexp", "max_all",
    "max_dim", "var", "std", "softmax", "log_softmax", "reshape_view", "permute", "squeeze", "expand",
    "cat", "stack", "getitem_basic", "getitem_int_array", "getitem_bool_mask", "take_along_dim", "clone",
]  # fmt: skip


@pytest.mark.parametrize("name", FLOAT32_CASES)
@given(data=st.data())
@settings(max_examples=10)
def test_float32_in_float32_out_and_float32_grads(name, data):
    case = CASES_BY_NAME[name]
    sample = data.draw(case.strategy)
    results = {}
    for dtype in (mt.float32, mt.float64):
        xs, outs = _run(case, sample, dtype)
        outs = _floating(outs)
        for o in outs:
            assert o.dtype == dtype, f"{name}: {dtype} inputs gave a {o.dtype} output"
        loss = sum(((o * 1.5).sum() for o in outs), mt.tensor(0.0, dtype=dtype))  # 1.5 keeps the dtype
        loss.backward()
        for x in xs:
            assert x.grad is not None and x.grad.dtype == dtype and x.grad.shape == x.shape
        results[dtype] = ([o.detach().numpy() for o in outs], [x.grad.numpy() for x in xs])
    (o32, g32), (o64, g64) = results[mt.float32], results[mt.float64]
    for a, b in zip(o32 + g32, o64 + g64):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


# ------------------------------------------------ saturation at huge logits
def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# name: (call, stable NumPy value, stable NumPy gradient of sum(w * out))
SATURATING = {
    "softmax": (
        lambda x: x.softmax(-1),
        lambda x: _np_softmax(x, -1),
        lambda x, w: _np_softmax(x, -1) * (w - (w * _np_softmax(x, -1)).sum(-1, keepdims=True)),
    ),
    "log_softmax": (
        lambda x: mt.log_softmax(x, 1),
        lambda x: (
            (x - x.max(1, keepdims=True)) - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True))
        ),
        lambda x, w: w - _np_softmax(x, 1) * w.sum(1, keepdims=True),
    ),
    "logsumexp": (
        lambda x: x.logsumexp(-1, keepdim=True),
        lambda x: (
            x.max(-1, keepdims=True) + np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
        ),
        lambda x, w: w * _np_softmax(x, -1),
    ),
    "sigmoid": (mt.sigmoid, _np_sigmoid, lambda x, w: w * _np_sigmoid(x) * (1 - _np_sigmoid(x))),
    "tanh": (mt.tanh, np.tanh, lambda x, w: w * (1 - np.tanh(x) ** 2)),
}
EXTREMES = st.sampled_from([1e4, -1e4, 1e4 - 1, -1e4 + 0.5, 0.0, 3e3]) | st.floats(-1e4, 1e4)


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(SATURATING))
@given(data=st.data())
@settings(max_examples=15)
def test_saturating_ops_stay_finite_and_exact_at_huge_logits(name, dtype, data):
    call, value, vjp = SATURATING[name]
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(2, 4)))
    n = shape[0] * shape[1]
    x_np = np.reshape(data.draw(st.lists(EXTREMES, min_size=n, max_size=n)), shape).astype(dtype)
    x_np.flat[0] = 1e4  # always at least one huge logit
    x = mt.tensor(x_np, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = call(x)
        w = np.linspace(-1.0, 2.0, out.numel()).reshape(out.shape)
        (out * mt.tensor(w, dtype=dtype)).sum().backward()
    x64 = x_np.astype(np.float64)
    rtol, atol = (1e-12, 1e-12) if dtype == mt.float64 else (1e-5, 1e-5)
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(out.detach().numpy(), value(x64), rtol=rtol, atol=atol)
    if name == "logsumexp" and dtype == mt.float32:
        # exp(x − out), as PyTorch: x − out keeps only |out|·ε absolute precision in float32
        atol = 4 * np.finfo(np.float32).eps * np.abs(x64).max()
    np.testing.assert_allclose(x.grad.numpy(), vjp(x64, w), rtol=rtol, atol=atol)
