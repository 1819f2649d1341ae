"""Pointwise functions that hand-written optimizers and everyday code reach for: addcmul / addcdiv
(`input + value · t1 · t2`, `input + value · t1 / t2`), fmax / fmin (maximum and minimum that
ignore NaN), the comparison functions and their aliases (`lt`, `less`, ...), the integer
functions gcd / lcm, and ldexp / frexp (scaling by powers of two).

addcmul, addcdiv, ldexp and frexp are compositions of recorded ops (Mul, Div, Add, Pow), so their
gradients are those ops' rules; fmax / fmin are ops of their own (their derivative differs from
maximum's at ties and NaN).
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper
from .elementwise import _operands, cast, compare
from .elementwise import add as _add
from .elementwise import div as _div
from .elementwise import mul as _mul
from .elementwise import pow as _pow
from .sort import _return_type

_NUMBER = (int, float, bool)


def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported by microtensor; assign the result instead")


def _tensor(x, name: str, what: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    return x


def _result_dtype(*ts: Tensor) -> np.dtype:
    """PyTorch's result dtype of several tensors: the highest category wins; within it, dimensioned
    tensors decide over 0-d ones (as for two operands, _dtypes.result_type)."""
    top = max(_dtypes.category(t._data.dtype) for t in ts)
    pick = [t for t in ts if _dtypes.category(t._data.dtype) == top]
    dims = [t for t in pick if t.ndim > 0] or pick
    dt = dims[0]._data.dtype
    for t in dims[1:]:
        dt = np.promote_types(dt, t._data.dtype)
    return dt


def _scaled(value, dt: np.dtype, name: str):
    """value as the result dtype takes it: integer results truncate a float value (as PyTorch)."""
    if not isinstance(value, _NUMBER + (np.generic,)):
        raise TypeError(f"{name}(): argument 'value' must be a number, not {type(value).__name__}")
    if dt.kind in "iu":
        return int(value)
    return value


# ------------------------------------------------------------------ addcmul / addcdiv
def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:  # noqa: A002
    """input + value · tensor1 · tensor2, elementwise with broadcasting (value a number; an integer
    result truncates it). The dtype is the promotion of all three.

    Derivatives: 1 in input, value · tensor2 in tensor1, value · tensor1 in tensor2.

    >>> mt.addcmul(mt.zeros(2), mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]), value=0.5)   # [1.5, 4.]
    """
    _no_out(out, "addcmul")
    ts = [as_tensor(t, "addcmul") for t in (input, tensor1, tensor2)]
    dt = _result_dtype(*ts)
    if dt.kind == "b":
        raise RuntimeError("addcmul: not implemented for bool tensors")
    value = _scaled(value, dt, "addcmul")
    x, a, b = (cast(t, dt) for t in ts)
    _broadcast_check("addcmul", x, a, b)
    prod = _mul(a, b)
    return _add(x, prod if value == 1 else _mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:  # noqa: A002
    """input + value · tensor1 / tensor2, elementwise with broadcasting (value a number). Integer
    tensor1 and tensor2 together raise, as PyTorch (which removed integer division here).

    Derivatives: 1 in input, value / tensor2 in tensor1, −value · tensor1 / tensor2² in tensor2.

    >>> mt.addcdiv(mt.ones(2), mt.tensor([1.0, 2.0]), mt.tensor([4.0, 4.0]), value=2)   # [1.5, 2.]
    """
    _no_out(out, "addcdiv")
    ts = [as_tensor(t, "addcdiv") for t in (input, tensor1, tensor2)]
    if all(t._data.dtype.kind in "biu" for t in ts[1:]):
        raise RuntimeError(
            "addcdiv: integer division with addcdiv is no longer supported (tensor1 and tensor2 are "
            f"{ts[1].dtype} and {ts[2].dtype}); use input + value * mt.trunc(tensor1 / tensor2) for "
            "the old behaviour, or float tensors"
        )
    dt = _result_dtype(*ts)
    value = _scaled(value, dt, "addcdiv")
    x, a, b = (cast(t, dt) for t in ts)
    _broadcast_check("addcdiv", x, a, b)
    quot = _div(a, b)
    return _add(x, quot if value == 1 else _mul(quot, value))


def _broadcast_check(name: str, *ts: Tensor) -> None:
    try:
        np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in ts)
        raise RuntimeError(
            f"{name}: the shapes of input, tensor1 and tensor2 ({shapes}) do not broadcast"
        ) from None


# ------------------------------------------------------------------------- fmax / fmin
# fmax(a, b) is the larger where both are numbers, the number where one is NaN, NaN where both are.
# ∂: all of grad to a where a ≥ b or b is NaN, else to b (PyTorch's rule: ties go to a, unlike
# maximum, which splits them).
class Fmax(Op):
    derivatives = {"a": "where(first_wins(a, b, 1), grad, 0)", "b": "where(first_wins(a, b, 1), 0, grad)"}

    def forward(self, a, b):
        return np.fmax(a, b)


class Fmin(Op):
    derivatives = {"a": "where(first_wins(a, b, -1), grad, 0)", "b": "where(first_wins(a, b, -1), 0, grad)"}

    def forward(self, a, b):
        return np.fmin(a, b)


@helper
def first_wins(a, b, sign):
    """The constant mask where fmax (sign 1) or fmin (sign −1) takes a: a ≥ b (a ≤ b) or b is NaN."""
    a, b = _xp.constant(a), _xp.constant(b)
    better = (a >= b) if sign > 0 else (a <= b)
    return better | np.isnan(b)


def _fminmax(op_cls, name: str, doc: str):
    def fn(input, other, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        a, b = _operands(_tensor(input, name, "input"), _tensor(other, name, "other"), name)
        if a._data.dtype.kind == "b":
            raise RuntimeError(f"{name}: not implemented for bool tensors")
        if a._data.dtype.kind != "f":  # integers have no NaN: the plain elementwise max / min
            return Tensor._wrap(op_cls().forward(a._data, b._data))
        return op_cls()(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc}, elementwise with broadcasting; where one side is NaN the other is taken (NaN only "
        "where both are). Both operands must be tensors.\n\n"
        f"Derivative: {op_cls.formula}.\n\n"
        f"    >>> mt.{name}(mt.tensor([1.0, float('nan')]), mt.tensor([float('nan'), 2.0]))   # [1., 2.]\n"
    )
    return fn


fmax = _fminmax(Fmax, "fmax", "The larger of input and other, ignoring NaN")
fmin = _fminmax(Fmin, "fmin", "The smaller of input and other, ignoring NaN")


# ----------------------------------------------------------------------- comparisons
def _comparison(ufunc, name: str, symbol: str, alias_of: str | None = None):
    def fn(input, other, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        return compare(_tensor(input, name, "input"), other, ufunc, name)

    fn.__name__ = fn.__qualname__ = name
    also = f" ({alias_of}'s alias)" if alias_of else ""
    fn.__doc__ = (
        f"input {symbol} other, elementwise with broadcasting{also}: a bool tensor (never requires grad); "
        f"other a tensor or a number.\n\n    >>> mt.{name}(mt.tensor([1, 2, 3]), 2)\n"
    )
    return fn


eq = _comparison(np.equal, "eq", "==")
ne = _comparison(np.not_equal, "ne", "!=")
lt = _comparison(np.less, "lt", "<")
le = _comparison(np.less_equal, "le", "<=")
gt = _comparison(np.greater, "gt", ">")
ge = _comparison(np.greater_equal, "ge", ">=")
not_equal = _comparison(np.not_equal, "not_equal", "!=", "ne")
less = _comparison(np.less, "less", "<", "lt")
less_equal = _comparison(np.less_equal, "less_equal", "<=", "le")
greater = _comparison(np.greater, "greater", ">", "gt")
greater_equal = _comparison(np.greater_equal, "greater_equal", ">=", "ge")


# ------------------------------------------------------------------ integer functions
def _integers(input, other, name: str):
    a, b = _operands(as_tensor(input, name), other, name)
    for t in (a, b):
        d = t._data.dtype if isinstance(t, Tensor) else np.asarray(t).dtype
        if d.kind not in "iu":
            raise RuntimeError(f"{name}: not implemented for dtype {d} (integer tensors only)")
    return _xp.constant(a), _xp.constant(b)


def gcd(input, other, *, out=None) -> Tensor:  # noqa: A002
    """The greatest common divisor of |input| and |other|, elementwise (integer tensors; gcd(0, 0) = 0).

    >>> mt.gcd(mt.tensor([12, -18]), mt.tensor([-8, 12]))   # tensor([4, 6])
    """
    _no_out(out, "gcd")
    a, b = _integers(input, other, "gcd")
    return Tensor._wrap(np.asarray(np.gcd(a, b)))


def lcm(input, other, *, out=None) -> Tensor:  # noqa: A002
    """The least common multiple of |input| and |other|, elementwise (integer tensors; 0 if either is 0).

    >>> mt.lcm(mt.tensor([12, -18]), mt.tensor([-8, 12]))   # tensor([24, 36])
    """
    _no_out(out, "lcm")
    a, b = _integers(input, other, "lcm")
    return Tensor._wrap(np.asarray(np.lcm(a, b)))


# ------------------------------------------------------------------- powers of two
def ldexp(input, other, *, out=None) -> Tensor:  # noqa: A002
    """input · 2^other, elementwise with broadcasting, in the floating dtype of the two (integers give
    the default float dtype); differentiable in input (and in a floating other).

    >>> mt.ldexp(mt.tensor([1.0, 3.0]), mt.tensor([3, -1]))   # tensor([8., 1.5])
    """
    _no_out(out, "ldexp")
    x, e = as_tensor(input, "ldexp"), as_tensor(other, "ldexp")
    dt = _dtypes.result_type(x, e)
    if dt.kind != "f":
        dt = _dtypes.get_default_dtype()
    return _mul(cast(x, dt), _pow(2.0, cast(e, dt)))


frexp_t = _return_type("frexp", ["mantissa", "exponent"])


class Frexp(Op):
    """The mantissa of frexp; x = mantissa · 2^exponent, so ∂x = 2^−exponent (`scale`)."""

    __slots__ = ("scale", "exponent")
    derivatives = {"x": "grad * self.scale"}

    def forward(self, x):
        mantissa, self.exponent = np.frexp(x)
        with np.errstate(over="ignore"):  # 2^-e overflows for subnormal x, as PyTorch's grad does
            self.scale = np.ldexp(np.ones((), x.dtype), -self.exponent)
        return mantissa


def frexp(input, *, out=None):  # noqa: A002
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1) (0 for 0;
    inf and NaN kept with exponent 0); exponent is int32. Floating tensors only.

    Derivative of the mantissa: 2^−exponent.

    >>> mt.frexp(mt.tensor([8.0, -0.3]))   # mantissa [0.5, -0.6], exponent [4, -1]
    """
    _no_out(out, "frexp")
    x = as_tensor(input, "frexp")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"frexp: only supports floating-point dtypes, got {x.dtype}")
    op = Frexp()
    mantissa = op(x)
    return frexp_t(mantissa, Tensor._wrap(op.exponent.astype(np.int32)))


# ------------------------------------------------------------------ add / sub with alpha
def _with_alpha(input, other, alpha, name: str):
    """The promoted operands, other scaled by alpha (checked against the result dtype, as PyTorch)."""
    if not isinstance(alpha, _NUMBER + (np.generic,)):
        raise TypeError(f"{name}(): argument 'alpha' must be a number, not {type(alpha).__name__}")
    a, b = _operands(input, other, name)
    dt = (a if isinstance(a, Tensor) else b)._data.dtype
    if isinstance(alpha, bool | np.bool_) and dt.kind != "b":
        raise RuntimeError(f"{name}: boolean alpha only supported for boolean results, got {dt}")
    if isinstance(alpha, float | np.floating) and dt.kind in "biu":
        raise RuntimeError(
            f"{name}: for integral input tensors, argument alpha must not be a floating point number "
            f"(got alpha={alpha} for a {dt} result)"
        )
    return a, (_mul(b, alpha) if isinstance(b, Tensor) else b * alpha)


def add(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """input + alpha · other, elementwise with broadcasting (alpha a number, default 1).

    >>> mt.add(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 1.0]), alpha=10)   # tensor([11., 12.])
    """
    _no_out(out, "add")
    if type(alpha) is int and alpha == 1:  # the default (not True or 1.0): no scaling, no checks
        return _add(input, other)
    return _add(*_with_alpha(input, other, alpha, "add"))


def sub(input, other, *, alpha=1, out=None) -> Tensor:  # noqa: A002
    """input − alpha · other, elementwise with broadcasting (alpha a number, default 1).

    >>> mt.sub(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 1.0]), alpha=2)   # tensor([-1., 0.])
    """
    from .elementwise import sub as _sub

    _no_out(out, "sub")
    if type(alpha) is int and alpha == 1:  # the default: no scaling, no checks
        return _sub(input, other)
    return _sub(*_with_alpha(input, other, alpha, "sub"))


def nextafter(input, other, *, out=None) -> Tensor:  # noqa: A002
    """The next floating-point value after input toward other, elementwise (both of one float
    dtype). Not differentiable: the result never requires grad.

    >>> mt.nextafter(mt.tensor([1.0], dtype=mt.float64), mt.tensor([2.0], dtype=mt.float64)) - 1  # 2.2204e-16
    """
    _no_out(out, "nextafter")
    a, b = as_tensor(input, "nextafter"), as_tensor(other, "nextafter")
    if a._data.dtype != b._data.dtype or a._data.dtype.kind != "f":
        raise RuntimeError(
            f"nextafter: expected both inputs to have the same floating dtype, got {a.dtype} and {b.dtype}"
        )
    try:
        return Tensor._wrap(np.asarray(np.nextafter(a._data, b._data)))
    except ValueError:
        raise RuntimeError(
            f"nextafter: shapes {tuple(a.shape)} and {tuple(b.shape)} are not broadcastable"
        ) from None
