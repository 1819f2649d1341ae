"""Elementwise ops: arithmetic, activations, comparisons. Forward and backward side by side.

Binary ops broadcast like NumPy; their backward un-broadcasts with `sum_to`.
A Python scalar operand is passed straight to NumPy (no Tensor is made for it)
and gets no gradient.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from . import _xp
from ._xp import sum_to
from .base import Op, as_tensor

_NUMBER = (int, float, bool)


# ------------------------------------------------------------ dtype handling
def _operands(a, b, op: str):
    """Both operands with PyTorch's dtype promotion applied (scalars stay Python numbers)."""
    if type(b) is float and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return a, b  # the common case first: a float tensor and a Python float keep the tensor's dtype
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a._data.dtype != b._data.dtype:
            dt = _dtypes.result_type(a, b)
            a, b = cast(a, dt), cast(b, dt)
        return a, b
    if isinstance(b, Tensor):
        b2, a2 = _operands(b, a, op)
        return a2, b2
    if not isinstance(a, Tensor):
        a = as_tensor(a, op)
    if type(b) in _NUMBER:
        dt = _dtypes.scalar_result_type(a._data.dtype, b)
        return (a if dt == a._data.dtype else cast(a, dt)), _int_scalar(b, dt, op)
    return _operands(a, as_tensor(b, op), op)


def _int_scalar(b, dt: np.dtype, op: str):
    """A Python int outside an integer dtype's range wraps around as in PyTorch (NumPy would raise)."""
    if type(b) is not int or dt.kind not in "iu":
        return b
    info = np.iinfo(dt)
    if info.min <= b <= info.max:
        return b
    if not -(2**63) <= b < 2**64:
        raise RuntimeError(f"{op}: value {b} cannot be converted to {dt} without overflow")
    return np.array(b % 2**64, np.uint64).astype(dt)[()]


def _floating(x: Tensor) -> Tensor:
    """Integer/bool input to a floating op (exp, division, ...) becomes the default float dtype."""
    return x if x._data.dtype.kind == "f" else cast(x, _dtypes.get_default_dtype())


# ----------------------------------------------------------------- arithmetic
class Add(Op):
    formula = "∂a = grad, ∂b = grad (each summed over its broadcast axes)"

    def forward(self, a, b):
        return a + b

    def backward(self, g, out, a, b):
        return (
            sum_to(g, a.shape) if self.needs[0] else None,
            sum_to(g, b.shape) if self.needs[1] else None,
        )


class Sub(Op):
    formula = "∂a = grad, ∂b = −grad"

    def forward(self, a, b):
        return a - b

    def backward(self, g, out, a, b):
        return (
            sum_to(g, a.shape) if self.needs[0] else None,
            sum_to(-g, b.shape) if self.needs[1] else None,
        )


class Mul(Op):
    formula = "∂a = grad · b, ∂b = grad · a"

    def forward(self, a, b):
        return a * b

    def backward(self, g, out, a, b):
        return (
            sum_to(g * b, a.shape) if self.needs[0] else None,
            sum_to(g * a, b.shape) if self.needs[1] else None,
        )


class Div(Op):
    formula = "∂a = grad / b, ∂b = −grad · out / b"

    def forward(self, a, b):
        return a / b

    def backward(self, g, out, a, b):
        return (
            sum_to(g / b, a.shape) if self.needs[0] else None,
            sum_to(-g * out / b, b.shape) if self.needs[1] else None,
        )


class Pow(Op):
    formula = "∂a = grad · b · a^(b−1), ∂b = grad · out · ln a"

    def forward(self, a, b):
        return a**b

    def backward(self, g, out, a, b):
        ga = gb = None
        if self.needs[0]:
            if isinstance(b, _NUMBER):
                ga = g * 0 if b == 0 else g * (b * a ** (b - 1))
            else:
                # 0 only where b · a^(b−1) is 0 · ∞ (a == b == 0): masking all b == 0 would also
                # zero the second derivative ∂²/∂a∂b = a^(b−1) · (1 + b ln a), which is 1/a there
                undefined = _xp.constant(a == 0) & _xp.constant(b == 0)
                ga = sum_to(_xp.where(undefined, 0, g * b * a ** (b - 1)), a.shape)
        if self.needs[1]:
            # d/db a^b = a^b ln a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention);
            # for a == 0 and b < 0 it is ∞ · (−∞) = −∞, as in PyTorch
            zero_base = _xp.constant(a == 0) & _xp.constant(b >= 0)  # (a may be a Python number)
            log_a = _xp.log(_xp.where(zero_base, 1, a))
            gb = sum_to(g * out * log_a, b.shape)
        return ga, gb


class Neg(Op):
    formula = "∂a = −grad"

    def forward(self, a):
        return -a

    def backward(self, g, out, a):
        return -g


def add(a, b) -> Tensor:
    return Add()(*_operands(a, b, "add"))


def sub(a, b) -> Tensor:
    return Sub()(*_operands(a, b, "sub"))


def mul(a, b) -> Tensor:
    return Mul()(*_operands(a, b, "mul"))


def div(a, b) -> Tensor:
    a, b = _operands(a, b, "div")
    if isinstance(a, Tensor) and a._data.dtype.kind != "f":
        a = _floating(a)  # true division of integers gives floats, as in PyTorch
        a, b = _operands(a, b, "div")
    elif isinstance(b, Tensor) and b._data.dtype.kind != "f":
        b = _floating(b)
        a, b = _operands(a, b, "div")
    return Div()(a, b)


def pow(a, b) -> Tensor:
    return Pow()(*_operands(a, b, "pow"))


def neg(a: Tensor) -> Tensor:
    if a._data.dtype.kind == "b":
        raise TypeError("neg: negation of a bool tensor is not supported; use ~x (logical not)")
    return Neg()(a)


# ----------------------------------------------------------------- unary math
class Exp(Op):
    formula = "∂x = grad · out"

    def forward(self, x):
        return np.exp(x)

    def backward(self, g, out, x):
        return g * out


class Log(Op):
    formula = "∂x = grad / x"

    def forward(self, x):
        return np.log(x)

    def backward(self, g, out, x):
        return g / x


class Sqrt(Op):
    __slots__ = ("zero_at_0",)
    formula = "∂x = grad / (2 · out)  (std takes it as 0 where out = 0, as PyTorch)"

    def __init__(self, zero_at_0: bool = False):
        self.zero_at_0 = zero_at_0

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g, out, x):
        if not self.zero_at_0:
            return g / (2 * out)
        zero = _xp.constant(out == 0)
        return _xp.where(zero, 0, g / (2 * _xp.where(zero, 1, out)))


class Abs(Op):
    formula = "∂x = grad · sign(x)"

    def forward(self, x):
        return np.abs(x)

    def backward(self, g, out, x):
        return g * _xp.sign(x)


class Tanh(Op):
    formula = "∂x = grad · (1 − out²)"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, out, x):
        return g - g * out * out  # no Python-scalar operand: those cost NumPy twice an array's


class Sigmoid(Op):
    formula = "∂x = grad · out · (1 − out)"

    def forward(self, x):
        if x.ndim and x.dtype.itemsize >= 4 and x.size and np.minimum.reduce(x, axis=None) > -80:
            e = np.exp(-x)  # cannot overflow here: the short path
            e += 1
            return np.reciprocal(e, out=e)
        e = np.exp(-np.abs(x))  # never overflows; exact in both tails
        return np.where(x >= 0, 1, e) / (1 + e)

    def backward(self, g, out, x):
        return g * (out - out * out)


class Relu(Op):
    formula = "∂x = grad · [x > 0]"

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, g, out, x):
        return g * (out > 0)


class Clamp(Op):
    __slots__ = ("lo", "hi")
    formula = "∂x = grad · [min ≤ x ≤ max]"

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)

    def backward(self, g, out, x):
        inside = True  # a constant mask (arrays, also under create_graph: `True & Tensor` fails)
        if self.lo is not None:
            inside = _xp.constant(x >= self.lo)
        if self.hi is not None:
            inside = inside & _xp.constant(x <= self.hi)
        return g * inside


class Maximum(Op):
    formula = "∂a = grad · ([a > b] + ½[a = b]), ∂b = grad · ([b > a] + ½[a = b])"

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, g, out, a, b):
        wa = _xp.constant((a > b) + (a == b) * 0.5)
        return (
            sum_to(g * wa, a.shape) if self.needs[0] else None,
            sum_to(g * (1 - wa), b.shape) if self.needs[1] else None,
        )


class Minimum(Op):
    formula = "∂a = grad · ([a < b] + ½[a = b]), ∂b = grad · ([b < a] + ½[a = b])"

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, g, out, a, b):
        wa = _xp.constant((a < b) + (a == b) * 0.5)
        return (
            sum_to(g * wa, a.shape) if self.needs[0] else None,
            sum_to(g * (1 - wa), b.shape) if self.needs[1] else None,
        )


class Where(Op):
    formula = "∂a = grad · [cond], ∂b = grad · [not cond]"

    def forward(self, cond, a, b):
        return np.where(cond, a, b)

    def backward(self, g, out, cond, a, b):
        return (
            None,
            sum_to(_xp.where(cond, g, 0), a.shape) if self.needs[1] else None,
            sum_to(_xp.where(cond, 0, g), b.shape) if self.needs[2] else None,
        )


class Cast(Op):
    __slots__ = ("dtype",)
    formula = "∂x = grad cast back to x's dtype"

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, g, out, x):
        return _xp.cast(g, x.dtype)


class Clone(Op):
    formula = "∂x = grad"

    def forward(self, x):
        return x.copy()

    def backward(self, g, out, x):
        return g


def _unary(op_cls):
    name = op_cls.__name__.lower()

    def fn(x: Tensor) -> Tensor:
        if not (isinstance(x, Tensor) and x._data.dtype.kind == "f"):
            x = _floating(as_tensor(x, name))
        return op_cls()(x)

    fn.__name__ = op_cls.__name__.lower()
    fn.__doc__ = f"{op_cls.__name__} elementwise ({op_cls.formula})."
    return fn


exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)


def abs(x: Tensor) -> Tensor:
    return Abs()(as_tensor(x, "abs"))


def relu(x: Tensor) -> Tensor:
    return Relu()(as_tensor(x, "relu"))


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """Limit x to [min, max]; either bound may be None (or a Tensor)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # as with number bounds (and in PyTorch) x keeps the whole gradient where it equals a bound;
        # a NaN bound gives NaN, as PyTorch
        out = as_tensor(x, "clamp")
        if min is not None:
            out = where((out < min) | _isnan(min), min, out)
        if max is not None:
            out = where((out > max) | _isnan(max), max, out)
        return out
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, _NUMBER):
            raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(v).__name__}")
    x = as_tensor(x, "clamp")
    if x._data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        x = _floating(x)
    return Clamp(min, max)(x)


def _isnan(v):
    return v.isnan() if isinstance(v, Tensor) else bool(np.isnan(v))


def maximum(a, b) -> Tensor:
    return Maximum()(*_operands(a, b, "maximum"))


def minimum(a, b) -> Tensor:
    return Minimum()(*_operands(a, b, "minimum"))


def where(condition, input, other) -> Tensor:
    """Elementwise `input if condition else other`; condition must be bool."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    a, b = _operands(input, other, "where")
    return Where()(cond, a, b)


def cast(x: Tensor, dtype) -> Tensor:
    """x converted to dtype; differentiable between float dtypes."""
    dtype = np.dtype(dtype)
    if x._data.dtype == dtype:
        return x
    if dtype.kind != "f":
        return Tensor._wrap(x._data.astype(dtype))
    return Cast(dtype)(x)


def clone(x: Tensor) -> Tensor:
    return Clone()(x)


# ------------------------------------------------- non-differentiable helpers
def compare(a: Tensor, b, ufunc, name: str) -> Tensor:
    """A comparison: a bool Tensor that never requires grad."""
    other = b._data if isinstance(b, Tensor) else b
    if not isinstance(other, _NUMBER + (np.ndarray, np.generic)):
        if name in ("eq", "ne"):
            return Tensor._wrap(np.full(a.shape, name == "ne"))  # like Python's == on unrelated types
        raise TypeError(f"{name}: cannot compare a Tensor with {type(b).__name__}")
    try:
        return Tensor._wrap(ufunc(a._data, other))
    except ValueError as e:
        shape = getattr(other, "shape", ())
        raise RuntimeError(f"{name}: shapes {a.shape} and {shape} are not broadcastable: {e}") from e


def logical(a: Tensor, b, ufunc, name: str) -> Tensor:
    """&, |, ^ and ~ on bool or integer tensors."""
    if a._data.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected a bool or integer tensor, got dtype {a.dtype}")
    if ufunc is None:
        return Tensor._wrap(np.invert(a._data))
    other = b._data if isinstance(b, Tensor) else _int_scalar(b, a._data.dtype, name)
    try:
        return Tensor._wrap(ufunc(a._data, other))
    except (TypeError, ValueError) as e:
        raise RuntimeError(f"{name}: unsupported operands {a.shape} {a.dtype} and {other!r:.60}: {e}") from e
