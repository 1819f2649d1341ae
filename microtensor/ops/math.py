"""Elementwise math beyond arithmetic: trigonometry, exponentials and logarithms, rounding, the error
function, division with rounding, remainders, and the non-differentiable predicates and logic
(isclose, isinf, logical_*, bitwise_*). Forward and derivative side by side, as in ops/base.py.

Floating functions (sin, erf, atan2, ...) turn integer and bool inputs into the default float
dtype, as PyTorch does; rounding, sign, square and the remainders keep integer dtypes. Derivatives
at the edges of a domain follow PyTorch (e.g. asin's is inf at ±1, sign's and round's are 0).
"""

from __future__ import annotations

import math as _m

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper
from .elementwise import _floating, _operands, cast

_NUMBER = (int, float, bool)


def _both(name: str, npfn):
    """A derivative-namespace function: Tensor.name() on Tensors, npfn on arrays."""

    def fn(a):
        return getattr(a, name)() if isinstance(a, Tensor) else npfn(a)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name}(a), elementwise, on arrays and Tensors."
    return helper(fn)


# (kept under private names: the public sin, cos, ... below take these names in this module)
_cos = _both("cos", np.cos)
_sin = _both("sin", np.sin)
_cosh = _both("cosh", np.cosh)
_sinh = _both("sinh", np.sinh)


# ------------------------------------------------------------- forward kernels
# NumPy has no erf; math.erf is exact to the last bit and runs at about 0.11 µs per element
# (measured: 1e6 elements in ~0.11 s, against ~0.004 s for np.exp) - slower than a ufunc but exact,
# and no approximation of comparable accuracy is faster in vectorised NumPy.
def _per_element(fn, x: np.ndarray) -> np.ndarray:
    x64 = np.asarray(x, np.float64)
    out = np.fromiter(map(fn, x64.ravel().tolist()), np.float64, x64.size).reshape(x64.shape)
    return out.astype(x.dtype, copy=False)


def _erf(x: np.ndarray) -> np.ndarray:
    return _per_element(_m.erf, x)


def _erfc(x: np.ndarray) -> np.ndarray:
    return _per_element(_m.erfc, x)


def _erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (±inf at ±1, nan outside): Giles' single-precision polynomial
    ("Approximating the erfinv function", 2010) as the start, then Newton steps on erf to float64."""
    y64 = np.asarray(y, np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - y64) * (1.0 + y64))
        small = w < 5.0
        ws = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
            p1 = c + p1 * ws
        wl = np.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
            p2 = c + p2 * wl
        x = np.where(small, p1, p2) * y64
        inner = np.isfinite(x)
        for _ in range(2):  # Newton on erf(x) = y: quadratic convergence from ~1e-7
            xs = np.where(inner, x, 0.0)
            x = np.where(inner, xs - (_erf(xs) - y64) / (2 / _m.sqrt(_m.pi) * np.exp(-xs * xs)), x)
        x = np.where(np.abs(y64) == 1, np.copysign(np.inf, y64), x)
        x = np.where(np.abs(y64) > 1, np.nan, x)
    return x.astype(y.dtype, copy=False)


# ---------------------------------------------------------------- trigonometry
class Sin(Op):
    derivatives = {"x": "grad * cos(x)"}

    def forward(self, x):
        return np.sin(x)


class Cos(Op):
    derivatives = {"x": "-grad * sin(x)"}

    def forward(self, x):
        return np.cos(x)


class Tan(Op):
    derivatives = {"x": "grad * (1 + out * out)"}

    def forward(self, x):
        return np.tan(x)


class Asin(Op):
    derivatives = {"x": "grad * (1 - x * x) ** -0.5"}  # inf at ±1, as PyTorch

    def forward(self, x):
        return np.arcsin(x)


class Acos(Op):
    derivatives = {"x": "-grad * (1 - x * x) ** -0.5"}

    def forward(self, x):
        return np.arccos(x)


class Atan(Op):
    derivatives = {"x": "grad / (1 + x * x)"}

    def forward(self, x):
        return np.arctan(x)


class Sinh(Op):
    derivatives = {"x": "grad * cosh(x)"}

    def forward(self, x):
        return np.sinh(x)


class Cosh(Op):
    derivatives = {"x": "grad * sinh(x)"}

    def forward(self, x):
        return np.cosh(x)


class Asinh(Op):
    derivatives = {"x": "grad * (x * x + 1) ** -0.5"}

    def forward(self, x):
        return np.arcsinh(x)


class Acosh(Op):
    derivatives = {"x": "grad * (x * x - 1) ** -0.5"}  # inf at 1, as PyTorch

    def forward(self, x):
        return np.arccosh(x)


class Atanh(Op):
    derivatives = {"x": "grad / (1 - x * x)"}

    def forward(self, x):
        return np.arctanh(x)


class Atan2(Op):
    derivatives = {"a": "grad * b * inv_sq(a, b)", "b": "-grad * a * inv_sq(a, b)"}

    def forward(self, a, b):
        return np.arctan2(a, b)


@helper
def inv_sq(a, b):
    """1 / (a² + b²), and 0 where that is 0 (PyTorch's atan2 gradient at the origin is 0, not nan)."""
    d = a * a + b * b
    zero = _xp.constant(d) == 0
    return _xp.where(zero, 0, 1 / _xp.where(zero, 1, d))


class Hypot(Op):
    derivatives = {"a": "grad * a / out", "b": "grad * b / out"}

    def forward(self, a, b):
        return np.hypot(a, b)


class Sinc(Op):
    derivatives = {"x": "grad * dsinc(x, out)"}

    def forward(self, x):
        px = np.pi * x
        with np.errstate(all="ignore"):
            return np.where(x == 0, 1, np.sin(px) / np.where(x == 0, 1, px)).astype(x.dtype, copy=False)


@helper
def dsinc(x, out):
    """d/dx sin(πx)/(πx) = (cos(πx) − sinc(x)) / x, and 0 at x = 0 (as PyTorch)."""
    safe = _xp.where(_xp.constant(x == 0), 1, x)
    return _xp.where(_xp.constant(x == 0), 0, (_cos(safe * _m.pi) - out) / safe)


class Deg2rad(Op):
    __slots__ = ("factor",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad * self.factor"}

    def __init__(self):
        self.factor = _m.pi / 180

    def forward(self, x):
        return x * np.asarray(self.factor, x.dtype)


class Rad2deg(Op):
    __slots__ = ("factor",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad * self.factor"}

    def __init__(self):
        self.factor = 180 / _m.pi

    def forward(self, x):
        return x * np.asarray(self.factor, x.dtype)


# ------------------------------------------------------ exponentials, logarithms
class Exp2(Op):
    __slots__ = ("ln2",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad * out * self.ln2"}

    def __init__(self):
        self.ln2 = _m.log(2)

    def forward(self, x):
        return np.exp2(x)


class Expm1(Op):
    derivatives = {"x": "grad * (out + 1)"}

    def forward(self, x):
        return np.expm1(x)


class Log2(Op):
    __slots__ = ("ln2",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad / (x * self.ln2)"}

    def __init__(self):
        self.ln2 = _m.log(2)

    def forward(self, x):
        return np.log2(x)


class Log10(Op):
    __slots__ = ("ln10",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad / (x * self.ln10)"}

    def __init__(self):
        self.ln10 = _m.log(10)

    def forward(self, x):
        return np.log10(x)


class Log1p(Op):
    derivatives = {"x": "grad / (x + 1)"}

    def forward(self, x):
        return np.log1p(x)


class Rsqrt(Op):
    derivatives = {"x": "-grad * out * out * out / 2"}

    def forward(self, x):
        return 1 / np.sqrt(x)


class Reciprocal(Op):
    derivatives = {"x": "-grad * out * out"}

    def forward(self, x):
        return np.reciprocal(x)


class Square(Op):
    derivatives = {"x": "grad * 2 * x"}

    def forward(self, x):
        return x * x


class Logit(Op):
    __slots__ = ("eps",)
    # with eps, x is clamped to [eps, 1 − eps] first: no gradient outside (as PyTorch)
    derivatives = {"x": "where(logit_inside(x, self.eps), grad / x_one_minus_x(x, self.eps), 0)"}

    def __init__(self, eps=None):
        self.eps = eps

    def forward(self, x):
        if self.eps is not None:
            x = np.clip(x, self.eps, 1 - self.eps)
        return np.log(x / (1 - x))


@helper
def logit_inside(x, eps):
    """The constant mask eps ≤ x ≤ 1 − eps where logit's input passes unclamped (all True without eps)."""
    x = _xp.constant(x)
    if eps is None:
        return np.ones(x.shape, bool)
    return (x >= eps) & (x <= 1 - eps)


@helper
def x_one_minus_x(x, eps):
    """x · (1 − x) where logit's gradient is used; 0.25 where it is masked (so no 0 · ∞ reaches it)."""
    if eps is not None:
        x = _xp.where(logit_inside(x, eps), x, 0.5)
    return x * (1 - x)


class LogAddExp(Op):
    derivatives = {"a": "grad * sigmoid(a - b)", "b": "grad * sigmoid(b - a)"}

    def forward(self, a, b):
        return np.logaddexp(a, b)


class LogAddExp2(Op):
    __slots__ = ("ln2",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"a": "grad * sigmoid((a - b) * self.ln2)", "b": "grad * sigmoid((b - a) * self.ln2)"}

    def __init__(self):
        self.ln2 = _m.log(2)

    def forward(self, a, b):
        return np.logaddexp2(a, b)


class Xlogy(Op):
    # ∂x: log y, but 0 where x == 0 and y ≤ 0 (PyTorch's convention; there the forward is 0 too)
    derivatives = {"x": "grad * xlogy_dx(x, y)", "y": "grad * x / y"}

    def forward(self, x, y):
        with np.errstate(all="ignore"):
            out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0, out).astype(out.dtype, copy=False)


@helper
def xlogy_dx(x, y):
    """log y, with 0 where x == 0 and y ≤ 0 (xlogy's derivative in x)."""
    bad = _xp.constant(x == 0) & _xp.constant(y <= 0)
    return _xp.where(bad, 0, _xp.log(_xp.where(bad, 1, y)))


# ------------------------------------------------------------ error functions
class Erf(Op):
    __slots__ = ("two_over_sqrt_pi",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad * self.two_over_sqrt_pi * exp(-x * x)"}

    def __init__(self):
        self.two_over_sqrt_pi = 2 / _m.sqrt(_m.pi)

    def forward(self, x):
        return _erf(x)


class Erfc(Op):
    __slots__ = ("two_over_sqrt_pi",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "-grad * self.two_over_sqrt_pi * exp(-x * x)"}

    def __init__(self):
        self.two_over_sqrt_pi = 2 / _m.sqrt(_m.pi)

    def forward(self, x):
        return _erfc(x)


class Erfinv(Op):
    __slots__ = ("sqrt_pi_over_2",)  # a constant; an attribute, so explain's text can name it
    derivatives = {"x": "grad * self.sqrt_pi_over_2 * exp(out * out)"}

    def __init__(self):
        self.sqrt_pi_over_2 = _m.sqrt(_m.pi) / 2

    def forward(self, x):
        return _erfinv(x)


# ------------------------------------------------------ rounding and sign (∂ = 0)
class Sign(Op):
    derivatives = {"x": "grad * 0"}  # 0 everywhere (also at the jump), as PyTorch

    def forward(self, x):
        return np.sign(x)


class Sgn(Op):
    derivatives = {"x": "grad * 0"}

    def forward(self, x):
        return np.sign(x)


class Floor(Op):
    derivatives = {"x": "grad * 0"}

    def forward(self, x):
        return np.floor(x)


class Ceil(Op):
    derivatives = {"x": "grad * 0"}

    def forward(self, x):
        return np.ceil(x)


class Trunc(Op):
    derivatives = {"x": "grad * 0"}

    def forward(self, x):
        return np.trunc(x)


class Round(Op):
    __slots__ = ("decimals",)
    derivatives = {"x": "grad * 0"}

    def __init__(self, decimals: int = 0):
        self.decimals = decimals

    def forward(self, x):
        return _round(x, self.decimals)


def _round(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round half to even at `decimals` digits, as PyTorch: rint(x · 10^d) / 10^d (d < 0: by 10^−d)."""
    if decimals == 0:
        return np.rint(x)
    with np.errstate(all="ignore"):
        if decimals > 0:
            ten = np.asarray(10.0**decimals, x.dtype)
            return np.rint(x * ten) / ten
        ten = np.asarray(10.0**-decimals, x.dtype)
        return np.rint(x / ten) * ten


class Frac(Op):
    derivatives = {"x": "grad"}

    def forward(self, x):
        return x - np.trunc(x)


class Angle(Op):
    derivatives = {"x": "grad * 0"}

    def forward(self, x):
        # π for negative numbers, 0 otherwise, nan for nan (PyTorch's angle of a real number)
        return np.where(x < 0, np.asarray(np.pi, x.dtype), np.where(np.isnan(x), x, 0)).astype(x.dtype)


class NanToNum(Op):
    __slots__ = ("nan", "posinf", "neginf")
    derivatives = {"x": "grad * finite(x)"}

    def __init__(self, nan, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)


@helper
def finite(x):
    """1 where x is finite, else 0 (a constant of x's dtype)."""
    x = _xp.constant(x)
    return np.isfinite(x).astype(x.dtype)


# --------------------------------------------------------- two-operand functions
class Copysign(Op):
    # ∂a: ±1 as the sign flips, 0 at a == 0 (PyTorch's convention); b only lends its sign: 0
    derivatives = {"a": "grad * sgn(a) * sgn(out)", "b": "grad * 0"}

    def forward(self, a, b):
        return np.copysign(a, b)


class Fmod(Op):
    # a − trunc(a / b) · b
    derivatives = {"a": "grad", "b": "-grad * trunc_div(a, b)"}

    def forward(self, a, b):
        return np.fmod(a, b)


class Remainder(Op):
    # a − floor(a / b) · b (the sign of b, as Python's %)
    derivatives = {"a": "grad", "b": "-grad * floor_div(a, b)"}

    def forward(self, a, b):
        return _remainder(a, b)


def _remainder(a, b):
    """Python's % for arrays, with PyTorch's zeros: a zero remainder keeps the sign of a (PyTorch
    corrects fmod by b where the signs differ; NumPy's remainder gives zeros the sign of b)."""
    if np.result_type(a, b).kind != "f":
        return np.remainder(a, b)
    m = np.fmod(a, b)
    return np.where((m != 0) & ((m < 0) != (np.asarray(b) < 0)), m + b, m)


class _Apply:
    """forward(*arrays) = self.fn(*arrays), for the ops below that carry their kernel as data."""

    __slots__ = ()

    def forward(self, *arrays):
        return self.fn(*arrays)


class _NotDifferentiable(_Apply, Op):
    """A result that PyTorch records in the graph but has no derivative for (floor_divide; a Python
    number % a tensor): it requires grad when an input does, as PyTorch's, and backward through it
    raises, naming the op, where PyTorch raises "derivative for aten::<op> is not implemented".
    (Unregistered, being no op with a gradient; its grad_fn reads NotImplemented, as PyTorch's.)"""

    __slots__ = ("fn", "what", "instead")
    public_name = "no_derivative"  # (what viz labels the node with)

    def __init__(self, fn, what: str, instead: str):
        self.fn, self.what, self.instead = fn, what, instead

    def _vjp(self, _need, grad, out, *inputs):
        raise RuntimeError(
            f"derivative for {self.what} is not implemented (nor is it in PyTorch); {self.instead}"
        )

    def name(self) -> str:
        return "NotImplemented"


@helper
def trunc_div(a, b):
    """trunc(a / b), a constant (its own derivative is 0)."""
    return _div_rounded(_xp.constant(a), _xp.constant(b), "trunc")


@helper
def floor_div(a, b):
    """floor(a / b), a constant (its own derivative is 0)."""
    return _div_rounded(_xp.constant(a), _xp.constant(b), "floor")


class DivRounded(Op):
    """a / b rounded toward zero ("trunc") or down ("floor"): its gradient is 0, as PyTorch's."""

    __slots__ = ("mode",)
    public_name = "div"
    derivatives = {"a": "grad * 0", "b": "grad * 0"}

    def __init__(self, mode: str):
        self.mode = mode

    def forward(self, a, b):
        return _div_rounded(a, b, self.mode)


def _div_rounded(a, b, mode: str) -> np.ndarray:
    # (a Python number stays one: NumPy then keeps the tensor's dtype, as PyTorch's promotion does)
    if np.result_type(a, b).kind == "f":
        with np.errstate(all="ignore"):
            if mode == "floor":
                return np.floor_divide(a, b)  # Python's float floor division, as PyTorch's
            return np.trunc(np.true_divide(a, b))
    q = np.floor_divide(a, b)
    if mode == "trunc":  # round toward zero: one up where the floor went below a negative quotient
        q = q + ((q < 0) & (q * b != a))
    return q


def _check_int_divisor(a, b, op: str) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would return 0 with a warning); so does
    a division of bools by bools (PyTorch has no bool kernel for them)."""
    kinds = {
        t._data.dtype.kind if isinstance(t, Tensor) else ("b" if type(t) is bool else "x") for t in (a, b)
    }
    if kinds == {"b"}:
        raise RuntimeError(
            f"{op}: not implemented for bool tensors (as in PyTorch); convert them with .int()"
        )
    for t in (a, b):
        if isinstance(t, Tensor) and t._data.dtype.kind == "f":
            return
    bd = b._data if isinstance(b, Tensor) else np.asarray(b)
    if bd.dtype.kind in "iub" and (bd == 0).any():
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")


class Lerp(Op):
    """start + weight · (end − start); weight a Tensor or a Python number."""

    derivatives = {"start": "grad * (1 - weight)", "end": "grad * weight", "weight": "grad * (end - start)"}

    def forward(self, start, end, weight):
        diff = end - start
        # PyTorch's two-sided form: exact at weight 0 (start) and at weight 1 (end)
        return np.where(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))


# ------------------------------------------------------------------ functions
def _floating_unary(op_cls, name: str, doc: str, domain: str = ""):
    def fn(input, *, out=None) -> Tensor:  # noqa: A002 - PyTorch's name
        _no_out(out, name)
        x = input if isinstance(input, Tensor) else as_tensor(input, name)
        if x._data.dtype.kind != "f":
            x = _floating(x)
        return op_cls()(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc}, elementwise; same shape as input (integers give the default float dtype).{domain}\n\n"
        f"Derivative: {op_cls.formula}.\n\n"
        f"    >>> mt.{name}(mt.tensor([0.5, 0.25]))\n"
    )
    return fn


def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported by microtensor; assign the result instead")


sin = _floating_unary(Sin, "sin", "Sine")
cos = _floating_unary(Cos, "cos", "Cosine")
tan = _floating_unary(Tan, "tan", "Tangent")
asin = _floating_unary(Asin, "asin", "Inverse sine", " Outside [-1, 1]: nan.")
acos = _floating_unary(Acos, "acos", "Inverse cosine", " Outside [-1, 1]: nan.")
atan = _floating_unary(Atan, "atan", "Inverse tangent")
sinh = _floating_unary(Sinh, "sinh", "Hyperbolic sine")
cosh = _floating_unary(Cosh, "cosh", "Hyperbolic cosine")
asinh = _floating_unary(Asinh, "asinh", "Inverse hyperbolic sine")
acosh = _floating_unary(Acosh, "acosh", "Inverse hyperbolic cosine", " Below 1: nan.")
atanh = _floating_unary(Atanh, "atanh", "Inverse hyperbolic tangent", " ±1: ±inf; outside: nan.")
sinc = _floating_unary(Sinc, "sinc", "Normalised sinc sin(πx)/(πx) (1 at 0)")
deg2rad = _floating_unary(Deg2rad, "deg2rad", "Degrees to radians")
rad2deg = _floating_unary(Rad2deg, "rad2deg", "Radians to degrees")
exp2 = _floating_unary(Exp2, "exp2", "2 to the power x")
expm1 = _floating_unary(Expm1, "expm1", "exp(x) − 1, exact for small x")
log2 = _floating_unary(Log2, "log2", "Base-2 logarithm")
log10 = _floating_unary(Log10, "log10", "Base-10 logarithm")
log1p = _floating_unary(Log1p, "log1p", "log(1 + x), exact for small x")
rsqrt = _floating_unary(Rsqrt, "rsqrt", "1 / sqrt(x)")
reciprocal = _floating_unary(Reciprocal, "reciprocal", "1 / x")
erf = _floating_unary(Erf, "erf", "The error function 2/√π ∫₀ˣ e^(−t²) dt")
erfc = _floating_unary(Erfc, "erfc", "The complementary error function 1 − erf(x)")
erfinv = _floating_unary(Erfinv, "erfinv", "The inverse error function", " ±1: ±inf; outside: nan.")


def _keep_dtype(op_cls, name: str, doc: str, ints: bool = True):
    """An op that keeps integer dtypes (floor of an integer is itself, as PyTorch)."""

    def fn(input, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        x = as_tensor(input, name)
        if x._data.dtype.kind != "f":
            if not ints:
                raise TypeError(
                    f"{name}: not implemented for integer/bool dtype {x.dtype}; use a float tensor"
                )
            return Tensor._wrap(op_cls().forward(x._data).astype(x._data.dtype, copy=False))
        return op_cls()(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc}, elementwise; same shape and dtype as input.\n\n    >>> mt.{name}(mt.tensor([-1.5, 2.5]))\n"
    )
    return fn


floor = _keep_dtype(Floor, "floor", "Round down (gradient 0)")
ceil = _keep_dtype(Ceil, "ceil", "Round up (gradient 0)")
trunc = _keep_dtype(Trunc, "trunc", "Round toward zero (gradient 0)")
fix = _keep_dtype(Trunc, "fix", "Round toward zero; trunc's alias (gradient 0)")
frac = _keep_dtype(Frac, "frac", "x − trunc(x), the fractional part with x's sign", ints=False)


def sign(input, *, out=None) -> Tensor:  # noqa: A002
    """−1, 0 or 1 by the sign of each element (0 for ±0, nan for nan); gradient 0. Same dtype.

    >>> mt.sign(mt.tensor([-2.0, 0.0, 3.0]))   # tensor([-1., 0., 1.])
    """
    _no_out(out, "sign")
    x = as_tensor(input, "sign")
    if x._data.dtype.kind == "b":
        return Tensor._wrap(x._data.copy())
    if x._data.dtype.kind != "f":
        return Tensor._wrap(np.sign(x._data))
    return Sign()(x)


def sgn(input, *, out=None) -> Tensor:  # noqa: A002
    """sign for real tensors (x / |x| for complex ones in PyTorch); gradient 0.

    >>> mt.sgn(mt.tensor([-2.0, 3.0]))   # tensor([-1., 1.])
    """
    _no_out(out, "sgn")
    x = as_tensor(input, "sgn")
    if x._data.dtype.kind != "f":
        return sign(x)
    return Sgn()(x)


def round(input, *, decimals: int = 0, out=None) -> Tensor:  # noqa: A001, A002
    """Round half to even, at `decimals` digits after the point (negative: before it); gradient 0.

    >>> mt.round(mt.tensor([0.5, 1.5, 1.2345]), decimals=0)   # tensor([0., 2., 1.])
    """
    _no_out(out, "round")
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    x = as_tensor(input, "round")
    if x._data.dtype.kind != "f":
        if decimals:
            raise RuntimeError(f"round: decimals is not supported for integer dtype {x.dtype}")
        return Tensor._wrap(x._data.copy())
    return Round(decimals)(x)


def square(input, *, out=None) -> Tensor:  # noqa: A002
    """input * input, elementwise; keeps integer dtypes (bool becomes int64, as PyTorch).

    >>> mt.square(mt.tensor([-2.0, 3.0]))   # tensor([4., 9.])
    """
    _no_out(out, "square")
    x = as_tensor(input, "square")
    if x._data.dtype.kind == "b":
        x = Tensor._wrap(x._data.astype(np.int64))
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data * x._data)
    return Square()(x)


def angle(input, *, out=None) -> Tensor:  # noqa: A002
    """The argument of a real number: π where input < 0, else 0 (nan stays nan); gradient 0.

    >>> mt.angle(mt.tensor([-1.0, 2.0]))   # tensor([3.1416, 0.])
    """
    _no_out(out, "angle")
    return Angle()(_floating(as_tensor(input, "angle")))


def logit(input, eps=None, *, out=None) -> Tensor:  # noqa: A002
    """log(p / (1 − p)); with eps, p is first clamped to [eps, 1 − eps] (no gradient outside).

    >>> mt.logit(mt.tensor([0.5, 0.75]))   # tensor([0., 1.0986])
    """
    _no_out(out, "logit")
    if eps is not None and not isinstance(eps, int | float):
        raise TypeError(f"logit: eps must be a float or None, got {type(eps).__name__}")
    return Logit(eps)(_floating(as_tensor(input, "logit")))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None, *, out=None) -> Tensor:  # noqa: A002
    """nan → `nan`, +inf → `posinf`, −inf → `neginf` (default: the dtype's largest/smallest value).

    The gradient passes where input is finite and is 0 elsewhere.

    >>> mt.nan_to_num(mt.tensor([float('nan'), float('inf'), 1.0]), posinf=9.0)   # [0., 9., 1.]
    """
    _no_out(out, "nan_to_num")
    x = as_tensor(input, "nan_to_num")
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.copy())
    return NanToNum(nan, posinf, neginf)(x)


def positive(input) -> Tensor:  # noqa: A002
    """input itself (as PyTorch: the same tensor); bool input raises.

    >>> x = mt.tensor([1.0]); mt.positive(x) is x   # True
    """
    x = as_tensor(input, "positive")
    if x._data.dtype.kind == "b":
        raise TypeError("positive: not supported for bool tensors")
    return x


def _float_pair(a, b, name: str, ints: bool = True):
    """Both operands promoted (as PyTorch), then integer ones made the default float dtype (or, for
    the functions PyTorch has no integer kernel for, `ints=False`, refused)."""
    a, b = _operands(a, b, name)
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    t = ta if ta is not None else tb
    if t._data.dtype.kind != "f":
        if not ints:
            raise RuntimeError(
                f"{name}: not implemented for {t.dtype} operands (as in PyTorch); make one floating point"
            )
        dt = _dtypes.get_default_dtype()
        a = cast(a, dt) if ta is not None else a
        b = cast(b, dt) if tb is not None else b
    return a, b


def _binary(op_cls, name: str, doc: str, ints: bool = True):
    def fn(input, other, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        return op_cls()(*_float_pair(input, other, name, ints))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc}, elementwise with broadcasting; "
        + ("integers give the default float dtype" if ints else "two integer operands raise, as in PyTorch")
        + ".\n\n"
        f"Derivative: {op_cls.formula}.\n\n    >>> mt.{name}(mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))\n"
    )
    return fn


atan2 = _binary(
    Atan2, "atan2", "The angle of the point (other, input): atan(input / other) in the right quadrant"
)
hypot = _binary(Hypot, "hypot", "sqrt(input² + other²), without overflow", ints=False)
logaddexp = _binary(LogAddExp, "logaddexp", "log(e^input + e^other), without overflow", ints=False)
logaddexp2 = _binary(LogAddExp2, "logaddexp2", "log2(2^input + 2^other), without overflow", ints=False)
xlogy = _binary(Xlogy, "xlogy", "input · log(other), and 0 where input == 0 (unless other is nan)")
copysign = _binary(Copysign, "copysign", "|input| with the sign of other")


def fmod(input, other, *, out=None) -> Tensor:  # noqa: A002
    """input − trunc(input / other) · other: the remainder with the sign of input (C's fmod).

    Integer division by zero raises. Derivatives: 1 in input, −trunc(input / other) in other.

    >>> mt.fmod(mt.tensor([-3.0, 3.0]), 2)   # tensor([-1., 1.])
    """
    _no_out(out, "fmod")
    if not isinstance(input, Tensor):  # PyTorch has fmod(Tensor, Tensor | Number) only
        raise TypeError(f"fmod(): input must be a Tensor, got {type(input).__name__} (other may be a number)")
    a, b = _operands(input, other, "fmod")
    _check_int_divisor(a, b, "fmod")
    return Fmod()(a, b)


def remainder(input, other, *, out=None) -> Tensor:  # noqa: A002
    """input − floor(input / other) · other: the remainder with the sign of other (Python's %).

    Integer division by zero raises. Derivatives: 1 in input, −floor(input / other) in other.

    >>> mt.remainder(mt.tensor([-3.0, 3.0]), 2)   # tensor([1., 1.])
    """
    _no_out(out, "remainder")
    a, b = _operands(input, other, "remainder")
    _check_int_divisor(a, b, "remainder")
    if not isinstance(a, Tensor):  # a Python number % a tensor: PyTorch has no derivative for it
        return _NotDifferentiable(
            _remainder,
            "remainder (a number % a tensor)",
            "detach() the tensor, or write number - floor(number / x) * x",
        )(a, b)
    return Remainder()(a, b)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:  # noqa: A002
    """input / other; rounding_mode None: true division (integers give floats), "trunc": rounded
    toward zero, "floor": rounded down (integers stay integers; the gradient is 0).

    >>> mt.div(mt.tensor([-7, 7]), 2, rounding_mode="floor")   # tensor([-4, 3])
    """
    from .elementwise import div as true_div

    _no_out(out, "div")
    if rounding_mode is None:
        return true_div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    a, b = _operands(input, other, "div")
    _check_int_divisor(a, b, "div")
    return DivRounded(rounding_mode)(a, b)


def true_divide(input, other, *, out=None) -> Tensor:  # noqa: A002
    """input / other, true division; div's alias.

    >>> mt.true_divide(mt.tensor([1, 3]), 2)   # tensor([0.5, 1.5])
    """
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None) -> Tensor:  # noqa: A002
    """input / other rounded down (the `//` operator). Not differentiable (PyTorch has no derivative
    for it either): the result requires grad when an input does, as in PyTorch, but backward
    through it raises; div(..., rounding_mode="floor") gives the same values with a gradient of 0.

    >>> mt.floor_divide(mt.tensor([-7, 7]), 2)   # tensor([-4, 3])
    """
    _no_out(out, "floor_divide")
    a, b = _operands(input, other, "floor_divide")
    _check_int_divisor(a, b, "floor_divide")
    return _NotDifferentiable(
        _floor_divide,
        "floor_divide",
        "div(..., rounding_mode='floor') gives the same values with a gradient of 0",
    )(a, b)


def _floor_divide(a, b):
    return _div_rounded(a, b, "floor")


def float_power(input, exponent, *, out=None) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64 (the result is float64 whatever the inputs).

    >>> mt.float_power(mt.tensor([2]), 3).dtype   # float64
    """
    from .elementwise import pow as _pow

    _no_out(out, "float_power")

    def f64(v):
        if isinstance(v, Tensor):
            return cast(v, np.float64)
        if isinstance(v, np.ndarray):
            return cast(as_tensor(v, "float_power"), np.float64)
        return float(v)

    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: input or exponent must be a Tensor")
    return _pow(f64(input), f64(exponent))


def lerp(input, end, weight, *, out=None) -> Tensor:  # noqa: A002
    """input + weight · (end − input): linear interpolation; weight a number or a Tensor.

    >>> mt.lerp(mt.tensor([0.0]), mt.tensor([10.0]), 0.25)   # tensor([2.5])
    """
    _no_out(out, "lerp")
    if isinstance(input, Tensor) and isinstance(end, Tensor) and input.dtype != end.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    start, end = _operands(input, end, "lerp")
    if not isinstance(start, Tensor) or start._data.dtype.kind != "f":
        raise TypeError("lerp: input and end must be floating-point tensors")
    if isinstance(weight, Tensor):
        if weight._data.dtype.kind != "f":
            raise TypeError(f"lerp: weight must be floating point, got {weight.dtype}")
        if weight._data.dtype != start._data.dtype:
            raise RuntimeError(f"lerp: expected dtype {start.dtype} for weight but got dtype {weight.dtype}")
    elif isinstance(weight, _NUMBER):
        weight = float(weight)
    else:
        raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")
    return Lerp()(start, end, weight)


def clamp_min(input, min) -> Tensor:  # noqa: A002
    """max(input, min): clamp with only a lower bound (a number or a Tensor).

    >>> mt.clamp_min(mt.tensor([-1.0, 2.0]), 0)   # tensor([0., 2.])
    """
    from .elementwise import clamp

    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:  # noqa: A002
    """min(input, max): clamp with only an upper bound (a number or a Tensor).

    >>> mt.clamp_max(mt.tensor([-1.0, 2.0]), 0)   # tensor([-1., 0.])
    """
    from .elementwise import clamp

    return clamp(input, max=max)


def absolute(input, *, out=None) -> Tensor:  # noqa: A002
    """|input|; abs's alias.

    >>> mt.absolute(mt.tensor([-2.0]))   # tensor([2.])
    """
    from .elementwise import abs as _abs

    _no_out(out, "absolute")
    return _abs(input)


def negative(input, *, out=None) -> Tensor:  # noqa: A002
    """−input; neg's alias.

    >>> mt.negative(mt.tensor([2.0]))   # tensor([-2.])
    """
    from .elementwise import neg

    _no_out(out, "negative")
    return neg(as_tensor(input, "negative"))


# ------------------------------------------------- predicates, logic, bit operations
def _arr(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, _NUMBER + (np.ndarray, np.generic)):
        return np.asarray(x)
    raise TypeError(f"{name}: expected a Tensor or a number, got {type(x).__name__}")


def _pred(name: str, fn, doc: str):
    def pred(input) -> Tensor:  # noqa: A002
        return Tensor._wrap(np.asarray(fn(_arr(input, name))))

    pred.__name__ = pred.__qualname__ = name
    pred.__doc__ = (
        f"{doc}: a bool tensor of input's shape (never requires grad).\n\n"
        f"    >>> mt.{name}(mt.tensor([1.0, float('inf'), float('nan')]))\n"
    )
    return pred


isinf = _pred("isinf", np.isinf, "Where input is ±inf")
isposinf = _pred(
    "isposinf",
    lambda a: np.isposinf(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool),
    "Where input is +inf",
)
isneginf = _pred(
    "isneginf",
    lambda a: np.isneginf(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool),
    "Where input is −inf",
)
isnan = _pred("isnan", np.isnan, "Where input is nan")
isfinite = _pred("isfinite", np.isfinite, "Where input is finite (not inf, not nan)")
isreal = _pred(
    "isreal",
    lambda a: np.ones(a.shape, bool),
    "Where input is real (everywhere: microtensor has no complex dtypes)",
)
signbit = _pred("signbit", np.signbit, "Where the sign bit is set (negative numbers and −0.0)")


def _same_dtype(a, b, name: str):
    a, b = as_tensor(a, name), as_tensor(b, name)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}(): expected both inputs to have same dtype, got {a.dtype} and {b.dtype}")
    return a._data, b._data


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:  # noqa: A002
    """|input − other| ≤ atol + rtol · |other|, elementwise (equal infinities are close; nan is close
    to nan only with equal_nan). Both must have the same dtype.

    >>> mt.isclose(mt.tensor([1.0, 2.0]), mt.tensor([1.0 + 1e-9, 2.1]))   # tensor([True, False])
    """
    a, b = _same_dtype(input, other, "isclose")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be non-negative, got rtol={rtol} atol={atol}")
    try:
        return Tensor._wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))
    except ValueError as e:
        raise RuntimeError(f"isclose: shapes {a.shape} and {b.shape} are not broadcastable") from e


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:  # noqa: A002
    """Whether isclose holds everywhere: a Python bool.

    >>> mt.allclose(mt.tensor([1.0]), mt.tensor([1.0 + 1e-9]))   # True
    """
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input, other) -> bool:  # noqa: A002
    """True if both have the same shape and the same elements (nan is never equal), else False.

    >>> mt.equal(mt.tensor([1, 2]), mt.tensor([1, 2]))   # True
    """
    a, b = as_tensor(input, "equal")._data, as_tensor(other, "equal")._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _logical(name: str, ufunc, doc: str):
    def fn(input, other, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        a, b = _arr(input, name), _arr(other, name)
        try:
            return Tensor._wrap(np.asarray(ufunc(a, b)))
        except ValueError as e:
            raise RuntimeError(f"{name}: shapes {a.shape} and {b.shape} are not broadcastable") from e

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc} of the truth values (nonzero is True): a bool tensor.\n\n"
        f"    >>> mt.{name}(mt.tensor([True, False]), mt.tensor([True, True]))\n"
    )
    return fn


logical_and = _logical("logical_and", np.logical_and, "Elementwise AND")
logical_or = _logical("logical_or", np.logical_or, "Elementwise OR")
logical_xor = _logical("logical_xor", np.logical_xor, "Elementwise XOR")


def logical_not(input, *, out=None) -> Tensor:  # noqa: A002
    """Elementwise NOT of the truth values (zero is False): a bool tensor.

    >>> mt.logical_not(mt.tensor([0, 2]))   # tensor([True, False])
    """
    _no_out(out, "logical_not")
    return Tensor._wrap(np.logical_not(_arr(input, "logical_not")))


def _bitwise(name: str, ufunc, doc: str):
    def fn(input, other, *, out=None) -> Tensor:  # noqa: A002
        _no_out(out, name)
        if not isinstance(input, Tensor) and isinstance(other, Tensor) and isinstance(input, _NUMBER):
            a, b = _operands(input, other, name)
        else:
            a, b = _operands(as_tensor(input, name), other, name)
        for t in (a, b):
            d = t._data.dtype if isinstance(t, Tensor) else np.asarray(t).dtype
            if d.kind not in "biu":
                raise RuntimeError(f"{name}: not implemented for dtype {d} (bool or integer tensors only)")
        return Tensor._wrap(np.asarray(ufunc(_xp.constant(a), _xp.constant(b))))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{doc}, elementwise on bool or integer tensors.\n\n"
        f"    >>> mt.{name}(mt.tensor([12]), mt.tensor([10]))\n"
    )
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "Bitwise AND")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "Bitwise OR")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "Bitwise XOR")
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, "input shifted left by other bits")
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, "input shifted right by other bits")


def bitwise_not(input, *, out=None) -> Tensor:  # noqa: A002
    """Bitwise NOT (logical NOT for bool), elementwise.

    >>> mt.bitwise_not(mt.tensor([0, 1]))   # tensor([-1, -2])
    """
    _no_out(out, "bitwise_not")
    a = _arr(input, "bitwise_not")
    if a.dtype.kind not in "biu":
        raise RuntimeError(f"bitwise_not: not implemented for dtype {a.dtype} (bool or integer tensors only)")
    return Tensor._wrap(np.invert(a))


def heaviside(input, values, *, out=None) -> Tensor:  # noqa: A002
    """0 where input < 0, `values` where input == 0, 1 where input > 0. Not differentiable (as in
    PyTorch): the result never requires grad. Both must have the same dtype.

    >>> mt.heaviside(mt.tensor([-1.0, 0.0, 2.0]), mt.tensor([0.5]))   # tensor([0., 0.5, 1.])
    """
    _no_out(out, "heaviside")
    a, b = _same_dtype(input, values, "heaviside")
    return Tensor._wrap(np.asarray(np.heaviside(a, b)).astype(a.dtype, copy=False))
