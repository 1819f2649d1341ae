"""Every differentiable op, checked through THE OP TABLE (tests/op_cases.py).

For each case Hypothesis draws shapes, parameters and float64 values inside the
op's domain, then: the forward matches NumPy, the backward matches central
finite differences (gradcheck), and the backward of the backward does too
(gradgradcheck, through create_graph). A registered op without a case fails
`test_every_registered_op_has_a_case`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from op_cases import CASES, CASES_BY_NAME, OpCase

import microtensor as mt
from microtensor import _repeats as repeats_module
from microtensor import explain as explain_module
from microtensor import viz as viz_module
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.explain import RecordedGraph
from microtensor.ops import bindings
from microtensor.ops._xp import sum_to
from microtensor.ops.base import NAMESPACE, REGISTRY, ROLES, render, unrender
from microtensor.ops.bindings import BINDINGS, REACHED
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


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
@settings(max_examples=10)
def test_create_graph_first_derivative_equals_the_fast_path(case: OpCase, data):
    """The derivative expressions evaluated on Tensors (create_graph=True) give the same first
    derivative as on arrays: gradgradcheck alone compares that path only with itself."""
    arrays_, params = data.draw(case.strategy, label="inputs, params")
    xs = _leaves(arrays_)
    outs = _floating(_as_tuple(case.fn(*xs, **params)))
    if not outs or not any(o.requires_grad for o in outs):
        return
    outs = tuple(o for o in outs if o.requires_grad)
    gos = tuple(
        mt.tensor(data.draw(arrays(o.shape, np.float64), label="grad_output"), requires_grad=True)
        for o in outs
    )
    fast = mt.autograd.grad(outs, xs, gos, retain_graph=True, allow_unused=True)
    graphed = mt.autograd.grad(outs, xs, gos, create_graph=True, allow_unused=True)
    for i, (f, g) in enumerate(zip(fast, graphed)):
        assert (f is None) == (g is None), f"{case.name}: input {i}"
        if f is None:
            continue
        assert g.requires_grad, f"{case.name}: input {i}'s gradient was not recorded under create_graph"
        assert g.dtype == f.dtype and g.shape == f.shape == xs[i].shape
        np.testing.assert_allclose(
            g.detach().numpy(), f.numpy(), rtol=1e-12, atol=1e-12, err_msg=f"{case.name}: input {i}"
        )


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


# ------------------------------------------- the text people read is the code the engine runs
def test_every_differentiable_input_has_a_declared_derivative_and_a_role():
    _import_every_module()
    for name, cls in REGISTRY.items():
        inputs = set(cls.input_names)
        assert inputs, f"{name}: forward declares no inputs"
        assert set(cls.derivatives) == inputs - set(cls.nondifferentiable), (
            f"{name}: derivatives for {sorted(cls.derivatives)}, differentiable inputs "
            f"{sorted(inputs - set(cls.nondifferentiable))}"
        )
        assert cls.role in ROLES, name
        for key, expr in cls.derivatives.items():
            # the text is rendered from the expression and reads back as the same expression
            assert cls.formulas[key] == render(expr)
            back = ast.dump(ast.parse(unrender(cls.formulas[key]), mode="eval"))
            assert back == ast.dump(ast.parse(expr.replace("self.", ""), mode="eval")), (name, key)
            # every function it calls is in the derivative namespace
            tree = ast.parse(expr, mode="eval")
            called = {
                n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            assert called <= set(NAMESPACE), (
                f"{name}.derivatives[{key!r}] calls {sorted(called - set(NAMESPACE))}"
            )


def test_explain_and_viz_name_no_op_class():
    _import_every_module()
    for module in (explain_module, viz_module, repeats_module):
        src = inspect.getsource(module)
        named = [n for n in REGISTRY if f'"{n}"' in src or f"'{n}'" in src]
        assert not named, f"{module.__name__} names op classes {named}: read the ops' declared data instead"


def _evaluate_text(text: str, values: dict[str, Any], scope: dict[str, Any]):
    """Evaluate a rule as explain prints it: its symbols (dL/dZ1, A1, ...) bound to `values`."""
    names = {}
    for k, sym in enumerate(sorted(values, key=len, reverse=True)):
        token = f"_v{k}"
        pattern = r"(?<![\w/])" + re.escape(sym) + r"(?!(?!ᵀ)[\w/])"  # (a transpose mark ends a symbol)
        text, hits = re.subn(pattern, token, text)
        if hits:
            names[token] = values[sym]
    return eval(unrender(text), dict(NAMESPACE), {**scope, **names})  # noqa: S307 - our own text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
@settings(max_examples=5)
def test_explained_derivative_equals_the_engines(case: OpCase, data):
    """For every op node of every case: the rule explain prints for each edge, with its symbols
    bound to the recorded values, evaluates to the gradient the engine passes along that edge."""
    arrays_, params = data.draw(case.strategy, label="inputs, params")
    xs = _leaves(arrays_)
    outs = _floating(_as_tuple(case.fn(*xs, **params)))
    if not outs:
        return
    # a weighted sum of the outputs: every node of the case then receives a gradient with a symbol
    # (the root's, the seed, is printed as the literal 1; the root itself is not checked)
    weights = [mt.tensor(data.draw(arrays(o.shape, np.float64), label="weights")) for o in outs]
    root = mt.stack([(o * w).sum() for o, w in zip(outs, weights)]).sum()
    graph = RecordedGraph(root)
    values = {graph.sym[id(t)]: t._data for t in graph.order}
    checked = 0
    for t in graph.order:
        node = t.grad_fn
        if node is None or t is root:
            continue
        g = data.draw(arrays(t.shape, np.float64), label="grad")
        engine = node._vjp(node.needs, g, t._data, *node.arrays)
        scope = {a: getattr(node, a) for a in _attributes(node)}
        n_fixed = len(type(node).input_names) - type(node).variadic
        scope.update(
            {
                n: x
                for n, x in zip(type(node).input_names[:n_fixed], node.arrays)
                if not isinstance(x, mt.Tensor)
            }
        )
        for j, (x, need) in enumerate(zip(node.inputs, node.needs)):
            if not need:
                continue
            text = graph.rule(t, j)
            got = _evaluate_text(text, {**values, graph.grad_symbol(t): g}, scope)
            want = sum_to(engine[j], x.shape)
            got = sum_to(np.asarray(got), x.shape)
            np.testing.assert_allclose(
                got, want, rtol=1e-12, atol=1e-12, err_msg=f"{node.name()} input {j}: {text}"
            )
            checked += 1
    assert checked or all(t.grad_fn is None for t in graph.order)


def _attributes(node) -> list[str]:
    names = []
    for klass in type(node).__mro__:
        names += [s for s in getattr(klass, "__slots__", ()) if hasattr(node, s)]
    return [n for n in names if n not in ("inputs", "arrays", "needs", "saved", "epoch", "seq", "where")]


# ------------------------------------------------------------ one place binds each op
# PyTorch 2.13's names among the ops' public names (used when torch is not installed)
TORCH_FUNCTIONS = set(
    [
        "abs",
        "add",
        "argmax",
        "argmin",
        "cat",
        "clamp",
        "clip",
        "clone",
        "concat",
        "div",
        "divide",
        "exp",
        "flatten",
        "log",
        "log_softmax",
        "logsumexp",
        "matmul",
        "max",
        "maximum",
        "mean",
        "min",
        "minimum",
        "mul",
        "multiply",
        "neg",
        "permute",
        "pow",
        "relu",
        "reshape",
        "sigmoid",
        "softmax",
        "sqrt",
        "squeeze",
        "stack",
        "std",
        "sub",
        "subtract",
        "sum",
        "take_along_dim",
        "tanh",
        "transpose",
        "unsqueeze",
        "var",
        "where",
    ]
)
TORCH_METHODS = (TORCH_FUNCTIONS - {"cat", "concat", "stack"}) | {"expand"}


def _torch_has():
    try:
        import torch
    except ImportError:
        return TORCH_FUNCTIONS.__contains__, TORCH_METHODS.__contains__
    return (lambda n: hasattr(torch, n)), (lambda n: hasattr(torch.Tensor, n))


def test_every_registered_op_is_bound_where_pytorch_has_it():
    _import_every_module()
    bound = {op for b in BINDINGS for op in b.ops}
    unbound = sorted(set(REGISTRY) - bound - set(REACHED))
    assert not unbound, f"ops with no row in ops/bindings.py (and not in REACHED): {unbound}"
    assert not set(REACHED) - set(REGISTRY), "REACHED names ops that are not registered"
    for b in BINDINGS:  # the table is what the public surface is: nothing shadows it
        if b.method:
            assert mt.Tensor.__dict__.get(b.name) is bindings.methods()[b.name], (
                f"Tensor.{b.name} is not the table's"
            )
        if b.name in bindings.functions():
            assert getattr(mt, b.name) is bindings.functions()[b.name], (
                f"microtensor.{b.name} is not the table's"
            )
    torch_fn, torch_method = _torch_has()
    names = {b.name for b in BINDINGS} | {cls.op_name() for n, cls in REGISTRY.items() if n not in REACHED}
    no_fn = sorted(n for n in names if torch_fn(n) and not hasattr(mt, n))
    no_method = sorted(n for n in names if torch_method(n) and not hasattr(mt.Tensor, n))
    assert not no_fn, f"PyTorch has torch.X but microtensor lacks: {no_fn}"
    assert not no_method, f"PyTorch has Tensor.X but microtensor's Tensor lacks: {no_method}"


def test_a_method_is_its_function():
    x = mt.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    for name in ("exp", "abs", "tanh", "sum", "relu", "sigmoid"):
        np.testing.assert_array_equal(
            getattr(x, name)().detach().numpy(), getattr(mt, name)(x).detach().numpy()
        )
    np.testing.assert_array_equal(
        x.where(x > 0, 0.0).detach().numpy(), mt.where(x > 0, x, 0.0).detach().numpy()
    )
    assert x.where(x > 0, 0.0).grad_fn.name() == "WhereBackward"
