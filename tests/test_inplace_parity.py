"""Augmented assignment (`x += y`, `x //= y`, `x **= y`, `x @= y`, `x &= y`, ...) against PyTorch.

Python's augmented assignment calls the in-place dunder when the class has one (`x += y` is
`x = x.__iadd__(y)`) and otherwise rebinds to the out-of-place result: PyTorch has no `__imatmul__`,
so `x @= y` makes a new tensor there, and here. For each operator the same program runs in both
libraries on a leaf that requires grad (both refuse), on a tensor in the graph (the same object comes
back with the op's history recorded; backward gives the same gradients, or raises in both, as for
`//=`), on a view of one, on a constant tensor with an operand that requires grad, and on integer
and bool tensors (the result dtype is kept; where the result cannot be cast back, both raise).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import TOL  # noqa: E402

import microtensor as mt  # noqa: E402

# symbol: (the augmented assignment, the operand domain)
FLOAT_OPS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "@=": operator.imatmul,
}
INT_OPS = {
    **{k: v for k, v in FLOAT_OPS.items() if k != "@="},
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
}
X = np.array([[1.5, 2.5, 0.75], [3.0, 0.7, 1.25], [0.5, 2.0, 1.75]])  # positive: a base for **=
Y = np.array([[2.0, 1.5, -1.25], [-0.5, 0.25, 2.0], [1.5, -3.0, 0.5]])  # nonzero: a divisor


def _both(fn):
    """fn(L) for L = torch and microtensor: the two results, or the two exceptions."""
    out = []
    for L in (torch, mt):
        try:
            out.append(fn(L))
        except Exception as e:  # noqa: BLE001 - compared below: both must raise
            out.append(e)
    return out


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _assert_close(a, b, dtype="float32", what=""):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _program(op, operand: str, where: str):
    """The program run in both libraries: an augmented assignment on a graph tensor, then backward.
    Returns (is the same object, values, requires_grad, gradients or the backward error)."""

    def run(L):
        leaf = L.tensor(X, dtype=L.float32, requires_grad=True)
        y = {
            "tensor": L.tensor(Y, dtype=L.float32, requires_grad=True),
            "row": L.tensor(Y[0], dtype=L.float32, requires_grad=True),  # broadcast to x's shape
            "constant": L.tensor(Y, dtype=L.float32),
            "number": 2.0,
            "int": 3,
        }[operand]
        if where == "graph":
            x = leaf * 1
            target = x
        elif where == "view":  # an in-place op through a view rewrites its base's history
            base = leaf * 1
            x = base[1:]
            target = base
        else:  # "constant": x needs no grad, the operand does
            x = L.tensor(X, dtype=L.float32)
            target = x
        before = x
        x = op(x, y if where != "view" or not hasattr(y, "shape") else y[1:] if y.ndim == 2 else y)
        same = x is before
        vals = _np(target).copy()
        req = target.requires_grad
        try:
            (target * L.tensor(Y * 0.5 + 0.1, dtype=L.float32)).sum().backward()
            grads = tuple(None if t is None else _np(t).copy() for t in (leaf.grad, getattr(y, "grad", None)))
        except RuntimeError as e:
            grads = e
        return same, vals, req, grads

    return run


@pytest.mark.parametrize("where", ["graph", "view", "constant"])
@pytest.mark.parametrize("operand", ["tensor", "row", "constant", "number", "int"])
@pytest.mark.parametrize("symbol", list(FLOAT_OPS))
def test_augmented_assignment_in_the_graph_matches_torch(symbol, operand, where):
    op = FLOAT_OPS[symbol]
    if symbol == "@=" and operand in ("row", "number", "int"):
        pytest.skip("@ needs a matrix operand")
    t, m = _both(_program(op, operand, where))
    what = f"x {symbol} {operand} ({where})"
    if isinstance(t, Exception):
        assert isinstance(m, Exception), f"{what}: PyTorch raises {t!r}, microtensor does not"
        return
    assert not isinstance(m, Exception), f"{what}: microtensor raises {m!r}"
    (t_same, t_vals, t_req, t_grads), (m_same, m_vals, m_req, m_grads) = t, m
    assert m_same == t_same, f"{what}: in place in PyTorch: {t_same}"
    _assert_close(m_vals, t_vals, what=what)
    assert m_req == t_req, what
    if isinstance(t_grads, Exception):
        assert isinstance(m_grads, RuntimeError), f"{what}: PyTorch's backward raises {t_grads}"
        for reason in ("not implemented", "does not require grad"):  # the same reason
            assert (reason in str(m_grads)) == (reason in str(t_grads)), (what, m_grads, t_grads)
        return
    assert not isinstance(m_grads, Exception), f"{what}: backward raises {m_grads!r}"
    for a, b in zip(m_grads, t_grads):
        assert (a is None) == (b is None), what
        if b is not None:
            _assert_close(a, b, what=f"grad {what}")


@pytest.mark.parametrize("symbol", list(FLOAT_OPS))
def test_augmented_assignment_on_a_leaf_that_requires_grad_raises_as_torch(symbol):
    op = FLOAT_OPS[symbol]

    def run(L):
        x = L.tensor(X, requires_grad=True)
        out = op(x, L.tensor(Y))
        return out is x, _np(out)

    t, m = _both(run)
    if symbol == "@=":  # no in-place matmul: a new tensor, and the leaf is untouched
        assert t[0] is False and m[0] is False
        _assert_close(m[1], t[1], "float64")
        return
    assert isinstance(t, RuntimeError) and isinstance(m, RuntimeError), (t, m)
    assert "leaf" in str(m) and "in-place" in str(m), m


@pytest.mark.parametrize("symbol", list(FLOAT_OPS))
def test_augmented_assignment_bumps_the_version_as_torch(symbol):
    """A tensor saved for backward and then changed in place: backward refuses in both."""
    op = FLOAT_OPS[symbol]

    def run(L):
        leaf = L.tensor(X, requires_grad=True)
        x = leaf * 1
        y = x.exp()  # exp saves its output... and x.sin() saves x
        z = x.sin()
        x = op(x, L.tensor(Y))
        try:
            (y.sum() + z.sum()).backward()
            return "ok", _np(leaf.grad)
        except RuntimeError as e:
            return "raises", str(e)

    t, m = _both(run)
    assert t[0] == m[0], (t, m)
    if t[0] == "ok":  # @=: x was rebound, nothing was modified
        _assert_close(m[1], t[1], "float64")
    else:
        assert "modified by an inplace operation" in m[1] or "version" in m[1], m[1]


INT_OPERANDS = {
    "int tensor": lambda L: L.tensor([[2, 3, 1], [1, 2, 4], [3, 1, 2]]),
    "int row": lambda L: L.tensor([2, 1, 3]),
    "int8 tensor": lambda L: L.tensor([[2, 3, 1], [1, 2, 4], [3, 1, 2]], dtype=L.int8),
    "bool tensor": lambda L: L.tensor([[True, False, True]] * 3),
    "float tensor": lambda L: L.tensor([[2.0, 3.0, 1.5]] * 3),
    "python int": lambda L: 2,
    "python float": lambda L: 1.5,
    "python bool": lambda L: True,
}
SELVES = {
    "int64": lambda L: L.tensor([[7, -7, 5], [-3, 8, 6], [9, 2, -4]]),
    "int32": lambda L: L.tensor([[7, -7, 5], [-3, 8, 6], [9, 2, -4]], dtype=L.int32),
    "uint8": lambda L: L.tensor([[7, 200, 5], [3, 8, 6], [9, 2, 4]], dtype=L.uint8),
    "bool": lambda L: L.tensor([[True, False, True], [False, False, True], [True, True, False]]),
    "float32": lambda L: L.tensor([[7.5, -7.0, 5.0], [-3.0, 8.0, 6.25], [9.0, 2.0, -4.5]]),
}


@pytest.mark.parametrize("self_dtype", list(SELVES))
@pytest.mark.parametrize("symbol", list(INT_OPS))
def test_augmented_assignment_on_integer_and_bool_tensors_matches_torch(symbol, self_dtype):
    """Every operand kind: the dtype of x is kept (in place), the values are PyTorch's, and where
    PyTorch raises (a float result into an integer tensor, bitwise ops on floats, bool arithmetic)
    microtensor raises a RuntimeError or TypeError too, leaving x unchanged."""
    op = INT_OPS[symbol]
    for name, make in INT_OPERANDS.items():

        def run(L, make=make):
            x = SELVES[self_dtype](L)
            before = _np(x).copy()
            try:
                out = op(x, make(L))
            except Exception as e:  # noqa: BLE001
                if L is mt:  # a refused write leaves x as it was (PyTorch may have written part of it)
                    np.testing.assert_array_equal(_np(x), before)
                return "raises", type(e).__name__
            return out is x, str(out.dtype).removeprefix("torch."), _np(out).copy()

        t, m = run(torch), run(mt)
        what = f"{self_dtype} {symbol} {name}"
        if t[0] == "raises":
            assert m[0] == "raises", f"{what}: PyTorch raises {t[1]}, microtensor gives {m}"
            continue
        assert m[0] != "raises", f"{what}: microtensor raises {m[1]}"
        assert m[:2] == t[:2], (what, m[:2], t[:2])
        if t[1].startswith("float"):  # (float pow differs in the last bit)
            _assert_close(m[2], t[2], t[1], what)
        else:
            np.testing.assert_array_equal(m[2], t[2], err_msg=what)


def test_reflected_bitwise_operators_and_shifts_match_torch():
    for fn in (
        lambda L, x: (True & x, 1 | x, 3 ^ x, 1 << x, 64 >> x, x << 2, x >> 1),
        lambda L, x: (x & 6, x | 8, x ^ 5, (x > 1) & True, False | (x > 2), True ^ (x > 1)),
    ):
        t = fn(torch, torch.tensor([0, 1, 2, 3]))
        m = fn(mt, mt.tensor([0, 1, 2, 3]))
        for a, b in zip(m, t):
            assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_div_in_place_with_a_rounding_mode_matches_torch():
    for mode in ("trunc", "floor"):
        for dtype in ("float32", "int64"):
            t = torch.tensor([7, -7, 5], dtype=getattr(torch, dtype)).div_(2, rounding_mode=mode)
            m = mt.tensor([7, -7, 5], dtype=getattr(mt, dtype)).div_(2, rounding_mode=mode)
            assert str(m.dtype) == str(t.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(m.numpy(), t.numpy())
    with pytest.raises(RuntimeError):
        torch.tensor([7, -7]).div_(2)  # true division into an integer tensor
    with pytest.raises(RuntimeError):
        mt.tensor([7, -7]).div_(2)


@pytest.mark.parametrize(
    "name", ["abs_", "exp_", "log_", "neg_", "sqrt_", "sigmoid_", "tanh_", "relu_", "pow_"]
)
def test_elementwise_in_place_methods_match_torch(name):
    args = (2.0,) if name == "pow_" else ()

    def run(L):
        leaf = L.tensor(X, requires_grad=True)
        x = leaf * 1 - 1.0
        if name in ("log_", "sqrt_"):
            x = x + 1.0
        out = getattr(x, name)(*args)
        assert out is x
        (x * L.tensor(Y)).sum().backward()
        return _np(x), _np(leaf.grad)

    t, m = run(torch), run(mt)
    _assert_close(m[0], t[0], "float64", name)
    _assert_close(m[1], t[1], "float64", f"grad {name}")


def test_matmul_family_in_place_methods_match_torch():
    rng = np.random.default_rng(5)
    c, a, b, v = (
        rng.standard_normal((3, 2)),
        rng.standard_normal((3, 4)),
        rng.standard_normal((4, 2)),
        rng.standard_normal(4),
    )

    def run(L):
        leaves = [L.tensor(z, requires_grad=True) for z in (c, a, b, v)]
        tc, ta, tb, tv = leaves
        x = tc * 1
        x.addmm_(ta, tb, beta=0.5, alpha=2.0)
        w = tc[:, 0] * 1
        w.addmv_(ta, tv)
        (x.sum() + (w * w).sum()).backward()
        return _np(x), _np(w), *(_np(t.grad) for t in leaves)

    for p, q in zip(run(mt), run(torch)):
        _assert_close(p, q, "float64")
