"""Misuse gets an error naming the op and the shapes, dtypes or values involved (never a bare NumPy one)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt


def x23(**kw):
    return mt.ones(2, 3, **kw)


def check(excinfo, op: str, *fragments: str) -> str:
    """The message starts with the op's name and contains every fragment; the error is not NumPy's."""
    err = excinfo.value
    msg = str(err)
    assert not isinstance(err, np.exceptions.AxisError), f"bare NumPy AxisError: {msg}"
    assert type(err).__module__ == "builtins" or type(err).__module__.startswith("microtensor"), type(err)
    assert re.match(rf"{re.escape(op)}(?!\w)", msg), f"message does not start with {op!r}: {msg}"
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in message: {msg}"
    return msg


# (id, thunk, exception type, op name the message starts with, fragments the message must contain)
CASES = [
    # binary ops with shapes that do not broadcast: both shapes and the op are named
    ("add", lambda: x23() + mt.ones(3, 2), RuntimeError, "add", ["(2, 3)", "(3, 2)"]),
    ("radd", lambda: mt.ones(4) + x23(), RuntimeError, "add", ["(4,)", "(2, 3)"]),
    ("sub", lambda: x23() - mt.ones(2), RuntimeError, "sub", ["(2, 3)", "(2,)"]),
    ("mul", lambda: x23() * mt.ones(4), RuntimeError, "mul", ["(2, 3)", "(4,)"]),
    ("div", lambda: x23() / mt.ones(2, 2), RuntimeError, "div", ["(2, 3)", "(2, 2)"]),
    ("pow", lambda: x23() ** mt.ones(4), RuntimeError, "pow", ["(2, 3)", "(4,)"]),
    ("maximum", lambda: mt.maximum(x23(), mt.ones(5)), RuntimeError, "maximum", ["(2, 3)", "(5,)"]),
    ("minimum", lambda: mt.minimum(x23(), mt.ones(5)), RuntimeError, "minimum", ["(2, 3)", "(5,)"]),
    ("where", lambda: mt.where(mt.ones(4) > 0, x23(), x23()), RuntimeError, "where", ["(4,)", "(2, 3)"]),
    ("compare", lambda: x23() < mt.ones(4), RuntimeError, "lt", ["(2, 3)", "(4,)"]),
    ("add-str", lambda: x23() + "a", TypeError, "add", ["str"]),
    # matmul
    ("matmul-2d", lambda: x23() @ x23(), RuntimeError, "matmul", ["(2, 3)", "(2, 3)"]),
    ("matmul-vec", lambda: x23() @ mt.ones(4), RuntimeError, "matmul", ["(2, 3)", "(4,)"]),
    ("matmul-vec-left", lambda: mt.ones(4) @ x23(), RuntimeError, "matmul", ["(4,)", "(2, 3)"]),
    (
        "matmul-batch",
        lambda: mt.ones(2, 2, 3) @ mt.ones(3, 3, 2),
        RuntimeError,
        "matmul",
        ["(2, 2, 3)", "(3, 3, 2)"],
    ),
    ("matmul-0d", lambda: mt.tensor(1.0) @ x23(), RuntimeError, "matmul", ["()", "(2, 3)", "1-D"]),
    (
        "matmul-fn",
        lambda: mt.matmul(mt.ones(3, 5), mt.ones(4, 2)),
        RuntimeError,
        "matmul",
        ["(3, 5)", "(4, 2)"],
    ),
    # dtypes that cannot require grad
    (
        "requires-grad-int",
        lambda: mt.tensor([1, 2], requires_grad=True),
        RuntimeError,
        "requires_grad",
        ["int64"],
    ),
    (
        "requires-grad-bool",
        lambda: mt.tensor([True]).requires_grad_(),
        RuntimeError,
        "requires_grad",
        ["bool"],
    ),
    (
        "requires-grad-int32",
        lambda: mt.zeros(2, dtype=mt.int32, requires_grad=True),
        RuntimeError,
        "requires_grad",
        ["int32"],
    ),
    ("mean-int", lambda: mt.tensor([1, 2]).mean(), RuntimeError, "mean", ["int64"]),
    ("softmax-int", lambda: mt.tensor([1, 2]).softmax(0), RuntimeError, "softmax", ["int64"]),
    ("neg-bool", lambda: -mt.tensor([True]), RuntimeError, "neg", ["bool"]),
    ("where-cond", lambda: mt.where(x23(), x23(), x23()), TypeError, "where", ["float32"]),
    ("logical-float", lambda: x23() & x23(), TypeError, "and", ["float32"]),
    # backward misuse
    ("backward-no-grad", lambda: x23().sum().backward(), RuntimeError, "backward", ["does not require grad"]),
    (
        "backward-non-scalar",
        lambda: (x23(requires_grad=True) * 2).backward(),
        RuntimeError,
        "backward",
        ["(2, 3)", "gradient"],
    ),
    (
        "backward-gradient-shape",
        lambda: (x23(requires_grad=True) * 2).backward(mt.ones(3, 2)),
        RuntimeError,
        "backward",
        ["(3, 2)", "(2, 3)"],
    ),
    (
        "grad-non-scalar",
        lambda: mt.autograd.grad(x23(requires_grad=True) * 2, mt.ones(1, requires_grad=True)),
        RuntimeError,
        "grad",
        ["(2, 3)"],
    ),
    (
        "grad-input-no-grad",
        lambda: mt.autograd.grad((mt.ones(1, requires_grad=True) * 2).sum(), mt.ones(1)),
        RuntimeError,
        "grad",
        ["input 0", "require grad"],
    ),
    # out-of-range dims: the op, the dim and the valid range
    ("sum-dim", lambda: x23().sum(2), IndexError, "sum", ["2", "[-2, 1]"]),
    ("sum-dims", lambda: x23().sum((0, -3)), IndexError, "sum", ["-3", "[-2, 1]"]),
    ("sum-dim-repeated", lambda: x23().sum((0, 0)), RuntimeError, "sum", ["(0, 0)", "multiple"]),
    ("sum-dim-float", lambda: x23().sum(1.0), TypeError, "sum", ["float"]),
    ("mean-dim", lambda: x23().mean(5), IndexError, "mean", ["5", "[-2, 1]"]),
    ("max-dim", lambda: x23().max(2), IndexError, "max", ["2", "[-2, 1]"]),
    ("argmax-dim", lambda: x23().argmax(-3), IndexError, "argmax", ["-3", "[-2, 1]"]),
    ("var-dim", lambda: x23().var(4), IndexError, "var", ["4", "[-2, 1]"]),
    ("logsumexp-dim", lambda: x23().logsumexp(3), IndexError, "logsumexp", ["3", "[-2, 1]"]),
    ("softmax-dim", lambda: x23().softmax(2), IndexError, "softmax", ["2", "[-2, 1]"]),
    ("log-softmax-dim", lambda: x23().log_softmax(-3), IndexError, "log_softmax", ["-3", "[-2, 1]"]),
    ("transpose-dim", lambda: x23().transpose(0, 2), IndexError, "transpose", ["2", "[-2, 1]"]),
    ("unsqueeze-dim", lambda: x23().unsqueeze(3), IndexError, "unsqueeze", ["3", "[-3, 2]"]),
    ("squeeze-dim", lambda: x23().squeeze(5), IndexError, "squeeze", ["5", "[-2, 1]"]),
    ("flatten-dim", lambda: x23().flatten(0, 4), IndexError, "flatten", ["4", "[-2, 1]"]),
    ("cat-dim", lambda: mt.cat([x23(), x23()], 2), IndexError, "cat", ["2", "[-2, 1]"]),
    ("stack-dim", lambda: mt.stack([x23(), x23()], 3), IndexError, "stack", ["3", "[-3, 2]"]),
    ("size-dim", lambda: x23().size(2), IndexError, "size", ["2", "[-2, 1]"]),
    # shape ops
    ("reshape", lambda: x23().reshape(4, 2), RuntimeError, "reshape", ["(4, 2)", "(2, 3)"]),
    ("view", lambda: x23().view(-1, 4), RuntimeError, "view", ["(-1, 4)", "(2, 3)", "6"]),
    ("reshape-two-unknown", lambda: x23().reshape(-1, -1), RuntimeError, "reshape", ["(-1, -1)"]),
    ("reshape-negative", lambda: x23().reshape(-2, 3), RuntimeError, "reshape", ["(-2, 3)", "(2, 3)"]),
    ("reshape-type", lambda: x23().reshape(2, "a"), TypeError, "reshape", ["'a'"]),
    ("permute-repeat", lambda: x23().permute(0, 0), RuntimeError, "permute", ["(0, 0)", "(2, 3)"]),
    ("permute-short", lambda: x23().permute(0), RuntimeError, "permute", ["(0,)", "(2, 3)"]),
    ("permute-range", lambda: x23().permute(1, 0, 2), IndexError, "permute", ["2"]),
    ("expand", lambda: x23().expand(4, 3), RuntimeError, "expand", ["(2, 3)", "(4, 3)"]),
    ("expand-fewer", lambda: x23().expand(3), RuntimeError, "expand", ["(1)", "(2)"]),
    ("flatten-order", lambda: mt.ones(2, 3, 4).flatten(2, 1), RuntimeError, "flatten", ["2", "1"]),
    ("t-3d", lambda: mt.ones(2, 2, 2).t(), RuntimeError, "t()", ["3D"]),
    ("cat-shapes", lambda: mt.cat([x23(), mt.ones(3, 2)], 1), RuntimeError, "cat", ["(2, 3)", "(3, 2)"]),
    ("cat-ndim", lambda: mt.cat([x23(), mt.ones(3)]), RuntimeError, "cat", ["(2, 3)", "(3,)"]),
    ("cat-empty", lambda: mt.cat([]), RuntimeError, "cat", ["non-empty"]),
    ("cat-tensor", lambda: mt.cat(x23()), TypeError, "cat", ["Tensor"]),
    ("stack-shapes", lambda: mt.stack([x23(), mt.ones(3, 2)]), RuntimeError, "stack", ["(2, 3)", "(3, 2)"]),
    # indexing
    ("index-range", lambda: x23()[5], IndexError, "getitem", ["5", "(2, 3)"]),
    ("index-range-dim1", lambda: x23()[:, 3], IndexError, "getitem", ["3", "(2, 3)"]),
    ("index-array-range", lambda: x23()[mt.tensor([0, 2])], IndexError, "getitem", ["2", "(2, 3)"]),
    ("index-too-many", lambda: x23()[0, 0, 0], IndexError, "getitem", ["(2, 3)"]),
    ("index-float-tensor", lambda: x23()[mt.tensor([0.0, 1.0])], IndexError, "getitem", ["float32"]),
    ("index-float", lambda: x23()[1.5], IndexError, "getitem", ["1.5"]),
    ("index-mask-shape", lambda: x23()[mt.tensor([True, False, True])], IndexError, "getitem", ["(2, 3)"]),
    (
        "take-along-dim",
        lambda: mt.take_along_dim(x23(), mt.tensor([[5]]), 1),
        IndexError,
        "take_along_dim",
        ["5", "(2, 3)"],
    ),
    # conversions and creation
    ("item", lambda: x23().item(), RuntimeError, "item()", ["6 elements", "(2, 3)"]),
    ("bool", lambda: bool(x23()), RuntimeError, "Boolean value", ["6 elements"]),
    ("numpy-grad", lambda: x23(requires_grad=True).numpy(), RuntimeError, "numpy()", ["detach"]),
    ("tensor-str", lambda: mt.tensor(["a"]), TypeError, "tensor", ["<U1"]),
    ("tensor-ragged", lambda: mt.tensor([[1, 2], [3]]), ValueError, "tensor", ["list"]),
    ("zeros-negative", lambda: mt.zeros(-1), ValueError, "zeros", ["-1"]),
    ("eye-negative", lambda: mt.eye(-1), ValueError, "eye", ["-1"]),
    ("default-dtype", lambda: mt.set_default_dtype(mt.int32), TypeError, "set_default_dtype", ["int32"]),
    ("arange-step", lambda: mt.arange(0, 3, 0), RuntimeError, "arange", ["step"]),
    ("clamp-none", lambda: x23().clamp(), RuntimeError, "clamp", ["min", "max"]),
    # in-place
    (
        "inplace-leaf",
        lambda: x23(requires_grad=True).__isub__(1.0),
        RuntimeError,
        "sub_",
        ["leaf", "no_grad"],
    ),
    ("inplace-shape", lambda: mt.ones(2, 1).__iadd__(x23()), RuntimeError, "add_", ["(2, 1)", "(2, 3)"]),
    ("inplace-dtype", lambda: mt.tensor([1, 2]).__iadd__(1.5), RuntimeError, "add_", ["float32", "int64"]),
]


@pytest.mark.parametrize(
    ("thunk", "exc", "op", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_misuse_raises_a_named_error(thunk, exc, op, fragments):
    with pytest.raises(exc) as excinfo:
        thunk()
    assert type(excinfo.value) is exc  # exactly the PyTorch-style type, not a NumPy subclass
    check(excinfo, op, *fragments)


def test_second_backward_error_names_retain_graph():
    x = mt.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as excinfo:
        y.backward()
    check(excinfo, "backward", "retain_graph=True")


def test_grad_unused_input_names_allow_unused_and_shape():
    x, unused = mt.ones(2, requires_grad=True), mt.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError) as excinfo:
        mt.autograd.grad((x * 2).sum(), [x, unused])
    check(excinfo, "grad", "input 1", "(3, 4)", "allow_unused=True")


def test_hook_returning_wrong_shape_names_the_shapes():
    x = mt.ones(2, requires_grad=True)

    def bad_hook(g):
        return mt.ones(5)

    x.register_hook(bad_hook)
    with pytest.raises(RuntimeError) as excinfo:
        (x * 2).sum().backward()
    check(excinfo, "hook", "bad_hook", "(2,)")


def test_requires_grad_false_on_non_leaf():
    y = mt.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as excinfo:
        y.requires_grad = False
    check(excinfo, "requires_grad", "leaf", "detach()")


def test_errors_chain_the_numpy_cause_but_are_not_numpy_errors():
    with pytest.raises(RuntimeError) as excinfo:
        x23() + mt.ones(3, 2)
    assert isinstance(excinfo.value.__cause__, ValueError)  # kept for debugging, not raised bare


def test_failed_op_leaves_no_partial_state():
    x = x23(requires_grad=True)
    with pytest.raises(RuntimeError):
        x @ x
    assert x.grad is None and x.is_leaf
    (x @ x.T).sum().backward()  # the tensor still works normally
    assert x.grad.shape == (2, 3)


@st.composite
def non_broadcastable_shapes(draw):
    a = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    b = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return a, b
    assume(False)


@given(non_broadcastable_shapes(), st.sampled_from(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]))
def test_any_non_broadcastable_pair_names_op_and_both_shapes(shapes, op):
    a, b = shapes
    x, y = mt.ones(*a, requires_grad=True), mt.ones(*b)
    with pytest.raises(RuntimeError) as excinfo:
        getattr(mt, op)(x, y)
    check(excinfo, op, str(a), str(b))


@given(
    hnp.array_shapes(min_dims=1, max_dims=4, max_side=3),
    st.integers(-10, 10),
    st.sampled_from(["sum", "mean", "softmax", "log_softmax", "argmax", "unsqueeze", "transpose", "cat"]),
)
def test_every_dim_outside_the_range_raises_index_error_naming_the_op(shape, dim, op):
    x = mt.ones(*shape)
    n = len(shape) + (1 if op == "unsqueeze" else 0)
    calls = {
        "sum": lambda: x.sum(dim),
        "mean": lambda: x.mean(dim),
        "softmax": lambda: x.softmax(dim),
        "log_softmax": lambda: x.log_softmax(dim),
        "argmax": lambda: x.argmax(dim),
        "unsqueeze": lambda: x.unsqueeze(dim),
        "transpose": lambda: x.transpose(0, dim),
        "cat": lambda: mt.cat([x, x], dim),
    }
    if -n <= dim < n:
        calls[op]()  # in range: no error
        return
    with pytest.raises(IndexError) as excinfo:
        calls[op]()
    check(excinfo, op, f"[{-n}, {n - 1}]", str(dim))


@given(st.integers(0, 5), st.integers(0, 5), st.integers(1, 5), st.integers(1, 5))
def test_matmul_inner_size_mismatch_names_both_shapes(m, k1, k2, n):
    assume(k1 != k2)
    a, b = mt.ones(m, k1), mt.ones(k2, n)
    with pytest.raises(RuntimeError) as excinfo:
        a @ b
    check(excinfo, "matmul", str((m, k1)), str((k2, n)))


@given(
    hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)
)
def test_reshape_to_a_different_size_names_both_shapes(shape, target):
    assume(int(np.prod(shape)) != int(np.prod(target)))
    with pytest.raises(RuntimeError) as excinfo:
        mt.ones(*shape).reshape(target)
    check(excinfo, "reshape", str(shape), str(target))
