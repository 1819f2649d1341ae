"""Tensor methods that are not ops: the in-place variants of the shape/index/scan surface
(`masked_fill_`, `tril_`, `cumsum_`, ...), the facts a tensor reports about itself (`type()`,
`nelement()`, `element_size()`, ...) and the `new_*` factories. The ops themselves, as
`microtensor.X` and `Tensor.X`, are bound in one place: ops/bindings.py.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..tensor import Tensor
from . import shape as _shape
from .bindings import methods as _methods
from .bindings import with_numpy_names


def _inplace(fn):
    def method(self, *args, **kwargs):
        # the operand that may need a gradient (src, source, value): recorded like add_'s other
        other = next(
            (a for a in (*args, *kwargs.values()) if isinstance(a, Tensor) and a.requires_grad), None
        )
        return self._apply_inplace(f"{fn.__name__}_", lambda s, _o: fn(s, *args, **kwargs), other)

    method.__doc__ = f"In-place {fn.__name__}: writes the result into self (bumps its version)."
    return method


_METHODS = _methods()
INPLACE = {
    n + "_": _METHODS[n]
    for n in [
        "put",
        "tril",
        "triu",
        "scatter",
        "scatter_add",
        "scatter_reduce",
        "index_add",
        "index_copy",
        "index_fill",
        "index_put",
        "masked_fill",
        "masked_scatter",
        "cumsum",
        "cumprod",
        # elementwise and linear algebra (ops/elementwise.py, ops/linalg.py)
        "abs",
        "exp",
        "log",
        "neg",
        "sqrt",
        "sigmoid",
        "tanh",
        "relu",
        "pow",
        "multiply",
        "subtract",
        "divide",
        "addmm",
        "addmv",
        "addbmm",
        "baddbmm",
        # math (ops/math.py)
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "asinh",
        "acosh",
        "atanh",
        "arcsin",
        "arccos",
        "arctan",
        "arcsinh",
        "arccosh",
        "arctanh",
        "atan2",
        "arctan2",
        "exp2",
        "expm1",
        "log2",
        "log10",
        "log1p",
        "rsqrt",
        "reciprocal",
        "square",
        "sign",
        "sgn",
        "floor",
        "ceil",
        "round",
        "trunc",
        "fix",
        "frac",
        "erf",
        "erfc",
        "erfinv",
        "logit",
        "lerp",
        "hypot",
        "xlogy",
        "clamp_min",
        "clamp_max",
        "floor_divide",
        "remainder",
        "fmod",
        "true_divide",
        "nan_to_num",
        "logical_and",
        "logical_or",
        "logical_xor",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_not",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "absolute",
        "negative",
        "float_power",
        "copysign",
        "heaviside",
        "sinc",
        "deg2rad",
        "rad2deg",
    ]
}


# ------------------------------------------------------------ Tensor facts and new_* factories
_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
    "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
    "bool": "BoolTensor",
}  # fmt: skip
_BY_TYPE_NAME = {f"torch.{v}": k for k, v in _TYPE_NAMES.items()}


def type(self, dtype=None, non_blocking: bool = False, **kwargs):  # noqa: A001
    """No argument: the type name ('torch.FloatTensor', as PyTorch prints it). With a dtype (or a
    name such as 'torch.DoubleTensor'): self converted to it."""
    if dtype is None:
        return f"torch.{_TYPE_NAMES.get(str(self.dtype), str(self.dtype))}"
    if isinstance(dtype, str) and dtype in _BY_TYPE_NAME:
        dtype = np.dtype(_BY_TYPE_NAME[dtype])
    elif isinstance(dtype, builtins.type) and isinstance(getattr(dtype, "dtype", None), np.dtype):
        dtype = dtype.dtype  # a legacy type: mt.DoubleTensor
    return self.to(dtype)


def nelement(self) -> int:
    """numel(): the number of elements."""
    return self._data.size


def element_size(self) -> int:
    """Bytes per element."""
    return self._data.dtype.itemsize


def _itemsize(self) -> int:
    return self._data.dtype.itemsize


def _nbytes(self) -> int:
    return self._data.nbytes


def is_complex(self) -> bool:
    """Whether the dtype is complex (never, in microtensor)."""
    return self._data.dtype.kind == "c"


def ndimension(self) -> int:
    """dim(): the number of dims."""
    return self._data.ndim


def _new(self, data, dtype, requires_grad):
    t = Tensor._wrap(np.asarray(data, dtype=self.dtype if dtype is None else np.dtype(dtype)))
    if requires_grad:
        t.requires_grad = True
    return t


def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """zeros of `size` with self's dtype (unless dtype is given)."""
    return _new(self, np.zeros(_shape._shape_arg(size, "new_zeros")), dtype, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """ones of `size` with self's dtype (unless dtype is given)."""
    return _new(self, np.ones(_shape._shape_arg(size, "new_ones")), dtype, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """An uninitialised tensor of `size` with self's dtype (here: zeros)."""
    return _new(self, np.zeros(_shape._shape_arg(size, "new_empty")), dtype, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """fill_value everywhere in a tensor of `size` with self's dtype (unless dtype is given)."""
    return _new(self, np.full(_shape._shape_arg((size,), "new_full"), fill_value), dtype, requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """A copy of data with self's dtype (unless dtype is given)."""
    if isinstance(data, Tensor):
        data = data._data
    return _new(self, np.array(data), dtype, requires_grad)


def _clone(self, *, memory_format=None):
    """A differentiable copy (memory_format is accepted and has no effect: storage is dense)."""
    from .elementwise import clone

    return clone(self)


# Tensor methods written in tensor.py whose dim argument takes the same aliases
ALIASED = [
    "sum", "mean", "max", "min", "std", "var", "logsumexp", "softmax", "log_softmax", "squeeze", "unsqueeze",
    "cat", "concat", "stack", "all", "any", "flatten",
]  # fmt: skip


def install() -> None:
    """Attach INPLACE and the Tensor facts to Tensor; give tensor.py's dim arguments their aliases."""
    for name, fn in INPLACE.items():
        setattr(Tensor, name, _inplace(fn))
    for name in ALIASED:
        if hasattr(Tensor, name):
            setattr(Tensor, name, with_numpy_names(getattr(Tensor, name)))
    for fn in (type, nelement, element_size, is_complex, ndimension, new_zeros, new_ones, new_empty, new_full,
               new_tensor):  # fmt: skip
        setattr(Tensor, fn.__name__, fn)
    Tensor.itemsize = property(_itemsize, doc="Bytes per element.")
    Tensor.nbytes = property(_nbytes, doc="Bytes held by the elements.")
    Tensor.clone = _clone


install()
