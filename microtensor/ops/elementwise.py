"""Elementwise ops: arithmetic, activations, comparisons. Forward and backward side by side.

Binary ops broadcast like NumPy; the engine un-broadcasts their gradients.
A Python scalar operand is passed straight to NumPy (no Tensor is made for it)
and gets no gradient.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._quiet import call_quietly
from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper

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
    derivatives = {"a": "grad", "b": "grad"}

    def forward(self, a, b):
        return a + b


class Sub(Op):
    derivatives = {"a": "grad", "b": "-grad"}

    def forward(self, a, b):
        return a - b


class Mul(Op):
    derivatives = {"a": "grad * b", "b": "grad * a"}

    def forward(self, a, b):
        return a * b


class Div(Op):
    derivatives = {"a": "grad / b", "b": "-grad * out / b"}

    def forward(self, a, b):
        return a / b


class Pow(Op):
    derivatives = {
        "a": "grad * power_rule(a, b)",
        # d/db a^b = a^b ln a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention); for a == 0
        # and b < 0 it is ∞ · (−∞) = −∞, as in PyTorch
        "b": "grad * out * log_base(a, b)",
    }

    def forward(self, a, b):
        if type(b) in (int, float) and a.dtype.kind == "f":
            special = _POW_SPECIAL.get(b)
            if special is not None:
                return special(a)
        return a**b


# PyTorch computes these float powers by products and square roots, not by pow (aten's
# pow_tensor_scalar kernel): x**3 is x·x·x, x**-2 is 1/(x·x), x**-0.5 is 1/sqrt(x), ..., whose results
# differ from NumPy's power in the last bit for about 1 in 3 float32 elements (x**3, measured);
# doing the same keeps programs' printed figures PyTorch's. (Its x**0.5 is a vectorised pow within an
# ulp of sqrt, which neither np.sqrt nor np.power reproduces: left to NumPy.)
_POW_SPECIAL = {
    2: lambda x: x * x,
    3: lambda x: x * x * x,
    -0.5: lambda x: 1 / np.sqrt(x),
    -1: lambda x: 1 / x,
    -2: lambda x: 1 / (x * x),
}


@helper
def power_rule(a, b):
    """b · a^(b−1), taken as 0 where a == b == 0 (where it is 0 · ∞)."""
    if isinstance(b, _NUMBER):
        return 0 if b == 0 else b * a ** (b - 1)
    # mask only a == b == 0: masking all b == 0 would also zero the second derivative
    # ∂²/∂a∂b = a^(b−1) · (1 + b ln a), which is 1/a there
    return _xp.where(_xp.constant(a == 0) & _xp.constant(b == 0), 0, b * a ** (b - 1))


@helper
def log_base(a, b):
    """ln a, taken as 0 where a == 0 and b >= 0 (the derivative of a^b in b, as PyTorch)."""
    return _xp.log(_xp.where(_xp.constant(a == 0) & _xp.constant(b >= 0), 1, a))


class Neg(Op):
    derivatives = {"a": "-grad"}

    def forward(self, a):
        return -a


def add(a, b) -> Tensor:
    """Elementwise sum a + b, broadcasting the two shapes; Python numbers adopt the tensor's dtype.

    Example:

        >>> mt.add(mt.tensor([1., 2.]), 10).tolist()
        [11.0, 12.0]
    """
    return Add()(*_operands(a, b, "add"))


def _is_bool(v) -> bool:
    return type(v) is bool or (isinstance(v, Tensor) and v._data.dtype.kind == "b")


def sub(a, b) -> Tensor:
    """Elementwise difference a - b, broadcasting the two shapes (`subtract` is the same function).

    Example:

        >>> mt.sub(mt.tensor([[1.], [2.]]), mt.tensor([1., 2.])).tolist()
        [[0.0, -1.0], [1.0, 0.0]]
    """
    if _is_bool(a) or _is_bool(b):  # as PyTorch (NumPy refuses only bool - bool)
        shapes = [f"{tuple(v.shape)} {v.dtype}" if isinstance(v, Tensor) else repr(v) for v in (a, b)]
        if _is_bool(a) and _is_bool(b):
            hint = "use ^ (logical_xor) instead"
        else:
            hint = "to invert a mask use ~x (logical_not); to subtract, convert with .int() or .float()"
        raise RuntimeError(
            f"sub: subtraction with a bool operand is not supported ({', '.join(shapes)}); {hint}"
        )
    return Sub()(*_operands(a, b, "sub"))


def mul(a, b) -> Tensor:
    """Elementwise product a * b, broadcasting the two shapes (`multiply` is the same function).

    Example:

        >>> mt.mul(mt.tensor([1., 2., 3.]), 2).tolist()
        [2.0, 4.0, 6.0]
    """
    return Mul()(*_operands(a, b, "mul"))


def div(a, b) -> Tensor:
    """Elementwise true division a / b, broadcasting; integer inputs give a floating result.

    Example:

        >>> mt.div(mt.tensor([1, 2]), 4).tolist()
        [0.25, 0.5]
    """
    a2, b2 = _operands(a, b, "div")
    if (a2 if isinstance(a2, Tensor) else b2)._data.dtype.kind != "f":
        # true division of integers gives floats, as in PyTorch, which converts each operand to
        # float directly: promoting to their common integer dtype first could wrap (-2 as uint8)
        fa, fb = (v if type(v) in _NUMBER else _floating(as_tensor(v, "div")) for v in (a, b))
        a2, b2 = _operands(fa, fb, "div")
    return Div()(a2, b2)


def pow(a, b) -> Tensor:
    """Elementwise power a ** b, broadcasting; differentiable in the base and in a tensor exponent.

    Example:

        >>> mt.pow(mt.tensor([1., 2., 3.]), 2).tolist()
        [1.0, 4.0, 9.0]
    """
    if _is_bool(a) and _is_bool(b) and not (type(b) is bool and isinstance(a, Tensor)):
        raise RuntimeError(
            "pow: not implemented between a bool tensor and a bool (only bool_tensor ** True/False is); "
            "convert with .int() or .float()"
        )
    if type(b) is int and b < 0 and isinstance(a, Tensor) and a._data.dtype.kind in "biu":
        raise RuntimeError(
            f"pow: integers to negative integer powers are not allowed ({a.dtype} tensor ** {b}); "
            "use a float exponent or convert with .float()"
        )
    a, b = _operands(a, b, "pow")
    if type(b) is bool and a._data.dtype.kind == "b":  # PyTorch: x ** True is x, x ** False all True
        return Tensor._wrap(a._data.copy() if b else np.ones_like(a._data))
    if isinstance(b, Tensor) and b._data.dtype.kind in "iu":  # an integer result: never needs a gradient
        base = a._data if isinstance(a, Tensor) else np.asarray(_int_scalar(a, b._data.dtype, "pow"), b.dtype)
        return Tensor._wrap(_int_power(base, b._data))
    return Pow()(a, b)


def _int_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b for integer arrays of one dtype as PyTorch (C) computes it, also for negative exponents
    (which NumPy refuses): 1 ** -n = 1, (-1) ** -n = ±1, any other base ** -n = 0 (truncated)."""
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** np.where(negative, 0, b)
    odd = (b & 1).astype(bool)
    small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, small, out).astype(out.dtype, copy=False)


def neg(a: Tensor) -> Tensor:
    """Elementwise negation -a, same shape and dtype.

    Example:

        >>> mt.neg(mt.tensor([1., -2.])).tolist()
        [-1.0, 2.0]
    """
    if a._data.dtype.kind == "b":
        raise RuntimeError("neg: negation of a bool tensor is not supported; use ~x (logical not)")
    return Neg()(a)


# ----------------------------------------------------------------- unary math
class Exp(Op):
    role = "activation"
    derivatives = {"x": "grad * out"}

    def forward(self, x):
        return np.exp(x)


class Log(Op):
    derivatives = {"x": "grad / x"}

    def forward(self, x):
        return np.log(x)


class Sqrt(Op):
    derivatives = {"x": "grad / (2 * out)"}

    def forward(self, x):
        return np.sqrt(x)


class Std(Op):
    """sqrt of a variance: std's last step; its gradient is 0 (not 0 · ∞ = nan) where out = 0, as PyTorch."""

    public_name = "std"
    derivatives = {"v": "where(out == 0, 0, grad / (2 * nonzero(out)))"}

    def forward(self, v):
        return np.sqrt(v)


@helper
def nonzero(a):
    """a with its zeros replaced by 1 (a divisor whose zeros are masked out anyway)."""
    return _xp.where(_xp.constant(a == 0), 1, a)


class Abs(Op):
    derivatives = {"x": "grad * sgn(x)"}  # sgn: 0 at 0 and at NaN, as PyTorch

    def forward(self, x):
        return np.abs(x)


class Tanh(Op):
    role = "activation"
    # no Python-scalar operand (1 − out²): those cost NumPy twice an array's
    derivatives = {"x": "grad - grad * out * out"}

    def forward(self, x):
        return np.tanh(x)


class Sigmoid(Op):
    role = "activation"
    derivatives = {"x": "grad * (out - out * out)"}

    def forward(self, x):
        return _xp.sigmoid(x)


class Relu(Op):
    role = "activation"
    derivatives = {"x": "where(out <= 0, 0, grad)"}  # NaN passes grad through, as PyTorch

    def forward(self, x):
        out = np.maximum(x, 0)
        if x.dtype.kind == "f":  # relu(-0.0) is -0.0 in PyTorch; which zero np.maximum keeps on a tie
            zero = x == 0  # differs between its kernels, so zeros are copied from x (a rare case)
            if zero.any():
                out = np.where(zero, x, out)
        return out


class Clamp(Op):
    __slots__ = ("min", "max")
    derivatives = {"x": "grad * inside(x, self.min, self.max)"}  # NaN is not inside: 0, as PyTorch

    def __init__(self, lo, hi):
        self.min, self.max = lo, hi

    def forward(self, x):
        return np.clip(x, self.min, self.max)


@helper
def inside(x, lo, hi):
    """The constant mask lo ≤ x ≤ hi (a None bound is no bound)."""
    x = _xp.constant(x)
    if lo is None:
        return x <= hi
    return (x >= lo) if hi is None else (x >= lo) & (x <= hi)


# ∂ of max(a, b): all of grad to the larger, half to each where they tie, and (as PyTorch) all of it
# to both where they are unordered (a NaN). (Written with where: PyTorch refuses arithmetic on bool
# tensors, such as 1 − (a < b), and so do microtensor's Tensors on the create_graph path.)
class Maximum(Op):
    derivatives = {
        "a": "where(a < b, 0, where(a == b, grad / 2, grad))",
        "b": "where(a > b, 0, where(a == b, grad / 2, grad))",
    }

    def forward(self, a, b):
        return np.maximum(a, b)


class Minimum(Op):
    derivatives = {
        "a": "where(a > b, 0, where(a == b, grad / 2, grad))",
        "b": "where(a < b, 0, where(a == b, grad / 2, grad))",
    }

    def forward(self, a, b):
        return np.minimum(a, b)


class Where(Op):
    nondifferentiable = ("cond",)
    derivatives = {"a": "where(cond, grad, 0)", "b": "where(cond, 0, grad)"}

    def forward(self, cond, a, b):
        return np.where(cond, a, b)


class Cast(Op):
    __slots__ = ("dtype",)
    derivatives = {"x": "cast(grad, x.dtype)"}

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)


class Clone(Op):
    derivatives = {"x": "grad"}

    def forward(self, x):
        return x.copy()


def _unary(op_cls):
    name = op_cls.__name__.lower()

    def fn(x: Tensor) -> Tensor:
        if not (isinstance(x, Tensor) and x._data.dtype.kind == "f"):
            x = _floating(as_tensor(x, name))
        return op_cls()(x)

    fn.__name__ = fn.__qualname__ = op_cls.__name__.lower()
    fn.__doc__ = f"{op_cls.__name__} of x, elementwise; same shape as x (its derivative: {op_cls.formula})."
    return fn


exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)


def abs(x: Tensor) -> Tensor:
    """Elementwise absolute value |x|, same shape and dtype (gradient sign(x), 0 at 0).

    Example:

        >>> mt.abs(mt.tensor([-1.5, 2.0])).tolist()
        [1.5, 2.0]
    """
    x = as_tensor(x, "abs")
    if x._data.dtype.kind == "b":  # as PyTorch (which raises NotImplementedError, a RuntimeError)
        raise RuntimeError(f"abs: not implemented for bool tensors (shape {x.shape}); convert with .int()")
    return Abs()(x)


def relu(x: Tensor) -> Tensor:
    """Elementwise max(x, 0), same shape and dtype; the gradient is 1 where x > 0, else 0.

    Example:

        >>> mt.relu(mt.tensor([-1., 0., 2.])).tolist()
        [0.0, 0.0, 2.0]
    """
    x = as_tensor(x, "relu")
    if x._data.dtype.kind == "b":  # as PyTorch
        raise RuntimeError(
            f"relu: bool inputs are not supported (shape {x.shape}); convert with .int() or .float()"
        )
    return Relu()(x)


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
    """Elementwise larger of a and b, broadcasting; a tie sends half the gradient to each.

    Example:

        >>> mt.maximum(mt.tensor([1., 5.]), mt.tensor([3., 2.])).tolist()
        [3.0, 5.0]
    """
    return Maximum()(*_operands(a, b, "maximum"))


def minimum(a, b) -> Tensor:
    """Elementwise smaller of a and b, broadcasting; a tie sends half the gradient to each.

    Example:

        >>> mt.minimum(mt.tensor([1., 5.]), mt.tensor([3., 2.])).tolist()
        [1.0, 2.0]
    """
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
    """A copy of x with its own storage, recorded in the graph (the gradient passes through).

    Example:

        >>> x = mt.tensor([1., 2.]); y = mt.clone(x); y.tolist() == x.tolist()
        True
    """
    return Clone()(x)


@_xp.on_tensor("where")
def _where_tensor(cond: np.ndarray, a, b) -> Tensor:
    """where on Tensors for derivative expressions (a constant condition; either side may be a number)."""
    return Where()(cond, *_operands(a, b, "where"))


# ------------------------------------------------- non-differentiable helpers
def compare(a: Tensor, b, ufunc, name: str) -> Tensor:
    """A comparison: a bool Tensor that never requires grad."""
    other = b._data if isinstance(b, Tensor) else b
    if not isinstance(other, _NUMBER + (np.ndarray, np.generic)):
        if name in ("eq", "ne"):
            return Tensor._wrap(np.full(a.shape, name == "ne"))  # like Python's == on unrelated types
        raise TypeError(f"{name}: cannot compare a Tensor with {type(b).__name__}")
    mine = a._data
    # As PyTorch, both sides are first converted to their common dtype (its promotion rules), so an
    # out-of-range integer wraps: uint8 >= -4 compares with 252. NumPy would compare the values.
    if isinstance(b, Tensor):
        if mine.dtype != other.dtype:
            dt = _dtypes.result_type(a, b)  # (a cast may overflow to inf, silently as in PyTorch)
            mine, other = call_quietly(_cast_both, (mine, other, dt))
    elif type(b) in _NUMBER and mine.dtype.kind != "f":
        dt = _dtypes.scalar_result_type(mine.dtype, b)
        mine, other = mine.astype(dt, copy=False), _int_scalar(b, dt, name)
    try:
        return Tensor._wrap(ufunc(mine, other))
    except ValueError as e:
        shape = getattr(other, "shape", ())
        raise RuntimeError(f"{name}: shapes {a.shape} and {shape} are not broadcastable: {e}") from e


def _cast_both(a: np.ndarray, b: np.ndarray, dt: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    return a.astype(dt, copy=False), b.astype(dt, copy=False)


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


class _DependsOn(Op):
    """g itself, recorded as a function of `deps` with zero derivative (the engine's, not users').

    Under create_graph=True a gradient is a function of what its rule reads, as PyTorch's
    double-backward nodes take those as inputs, even where the rule is piecewise constant in them:
    relu's `where(out <= 0, 0, grad)`. Differentiating it again then gives zeros, as in PyTorch,
    instead of "does not require grad".
    """

    derivatives = {"g": "grad", "deps": "zeros_of(deps[i])"}

    def __init__(self, source: str = ""):
        self.source = source  # the node whose rule made g: this one is its backward (PyTorch's naming)

    def name(self) -> str:
        return f"{self.source}Backward"

    def forward(self, g, *deps):
        return g.view()  # a view: the engine never accumulates into g's storage through it


@helper
def zeros_of(a):
    """Zeros of a's shape and dtype (a constant)."""
    z = np.zeros(a.shape, a.dtype)
    return Tensor._wrap(z) if isinstance(a, Tensor) else z


def depends_on(g: Tensor, deps: list[Tensor], source: str) -> Tensor:
    """g recorded as depending on deps (see _DependsOn); source: the name of the node that made g."""
    return _DependsOn(source)(g, *deps)
