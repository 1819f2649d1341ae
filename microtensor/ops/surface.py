"""Tensor methods that are not ops: the in-place variants of the shape/index/scan surface
(`masked_fill_`, `tril_`, `cumsum_`, ...), the facts a tensor reports about itself (`type()`,
`nelement()`, `element_size()`, ...) and the `new_*` factories. The ops themselves, as
`microtensor.X` and `Tensor.X`, are bound in one place: ops/bindings.py.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..tensor import Tensor
from . import math as _math
from . import pointwise as _pointwise
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
_logical_not = _math.logical_not  # (Tensor.logical_not is tensor.py's own method)
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
        "index_reduce",
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
        # everyday math and the comparisons (writing a comparison stores 1/0 in self's dtype)
        "abs",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "relu",
        "neg",
        "pow",
        "multiply",
        "subtract",
        "divide",
        "addcmul",
        "addcdiv",
        "addmm",
        "addmv",
        "addbmm",
        "baddbmm",
        "addr",
        "renorm",
        "nextafter",
        "lgamma",
        "digamma",
        "polygamma",
        "mvlgamma",
        "gcd",
        "lcm",
        "ldexp",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
    ]
}
INPLACE["logical_not_"] = _logical_not
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):  # (Tensor.eq ... are tensor.py's own methods)
    INPLACE[_name + "_"] = getattr(_pointwise, _name)


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


# ---------------------------------------------- conversions, predicates, transposes, small writes
def byte(self, memory_format=None) -> Tensor:
    """A uint8 copy (self when already uint8)."""
    return self.to(np.uint8)


def char(self, memory_format=None) -> Tensor:
    """An int8 copy (self when already int8)."""
    return self.to(np.int8)


def short(self, memory_format=None) -> Tensor:
    """An int16 copy (self when already int16)."""
    return self.to(np.int16)


def is_signed(self) -> bool:
    """Whether the dtype holds negative numbers (floats and signed integers; not uint8 or bool)."""
    return self._data.dtype.kind in "if"


def is_nonzero(self) -> bool:
    """Whether the one element is nonzero; more or fewer elements raise (as bool(tensor))."""
    n = self._data.size
    if n != 1:
        raise RuntimeError(
            f"is_nonzero: Boolean value of Tensor with {'no values' if n == 0 else 'more than one value'} "
            f"is ambiguous (shape {tuple(self.shape)})"
        )
    return bool(self._data.item())


def is_same_size(self, other) -> bool:
    """Whether other has self's shape."""
    return tuple(self.shape) == tuple(other.shape)


def is_inference(self) -> bool:
    """False: microtensor's inference_mode does not mark tensors (it turns recording off)."""
    return False


def get_device(self) -> int:
    """The device index: -1, which PyTorch returns for CPU tensors."""
    return -1


def _false(self) -> bool:
    """False (microtensor has no complex dtypes, lazy conjugation or negation bits)."""
    return False


def _self(self) -> Tensor:
    """self: a real tensor has nothing to conjugate or negate."""
    return self


class layout:
    """How a tensor's elements are stored; microtensor has one layout, `strided` (dense)."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"  # as PyTorch prints it (as Tensor.type() names the type)


strided = layout("strided")


def _layout(self) -> layout:
    return strided


def _H(self) -> Tensor:
    if self.ndim == 0:  # (PyTorch warns here, and returns the tensor)
        return self
    if self.ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor of shape "
            f"{tuple(self.shape)}; for batches of matrices use tensor.mH"
        )
    return _shape.transpose(self, 0, 1)


def _mH(self, what: str = "tensor.mH") -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(
            f"{what} is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor "
            f"of shape {tuple(self.shape)}"
        )
    return _shape.transpose(self, -2, -1)


def adjoint(self) -> Tensor:
    """The conjugate transpose of the last two dims: for real tensors, a view swapping them (mT)."""
    return _mH(self, "tensor.adjoint()")


def imag(self):
    raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes (got {self.dtype})")


def detach_(self) -> Tensor:
    """Cut self out of the graph in place: it becomes a leaf that does not require grad."""
    if self._meta is not None and self._meta.get("view") is not None:
        raise RuntimeError(
            f"detach_: can't detach views in-place (a view of shape {tuple(self.shape)}); "
            "use detach() instead"
        )
    self.grad_fn = None
    self._requires_grad = False
    return self


def fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """Write fill_value on the main diagonal, in place (all dims equal when more than 2; a tall
    matrix with wrap=True starts the diagonal again N+1 rows down, as NumPy's fill_diagonal)."""
    if self.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must be larger than 1, got shape {tuple(self.shape)}")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError(
            f"fill_diagonal_: all dimensions of input must be of equal length, got shape {tuple(self.shape)}"
        )
    mask = np.zeros(self.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self._index_put(Tensor._wrap(mask), fill_value, "fill_diagonal_")


def sum_to_size(self, *size) -> Tensor:
    """self summed down to `size` (which must broadcast to self's shape): the reverse of expand."""
    size = _shape._shape_arg(size, "sum_to_size")
    try:
        fits = len(size) <= self.ndim and np.broadcast_shapes(size, tuple(self.shape)) == tuple(self.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size {list(self.shape)}")
    from ._xp import sum_to

    return sum_to(self, tuple(size))


def _python_values(self, name: str) -> np.ndarray:
    if self._requires_grad:
        raise RuntimeError(
            f"{name}: can't call {name} on a tensor that requires grad (shape {tuple(self.shape)}); "
            f"use x.detach().{name}(...) instead"
        )
    return self._data


def apply_(self, callable) -> Tensor:  # noqa: A002
    """self[i] = callable(self[i]) for every element, in place, in Python (slow; CPU only, as PyTorch)."""
    data = _python_values(self, "apply_")
    values = [callable(v) for v in data.ravel().tolist()]
    out = np.array(values, dtype=object).astype(data.dtype).reshape(data.shape)
    return self._index_put(Ellipsis, Tensor._wrap(out), "apply_")


def map_(self, tensor, callable) -> Tensor:  # noqa: A002
    """self[i] = callable(self[i], tensor[i]) for every element (tensor broadcast to self), in place."""
    data = _python_values(self, "map_")
    other = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    try:
        other = np.broadcast_to(other, data.shape)
    except ValueError:
        raise RuntimeError(
            f"map_: tensor of shape {other.shape} does not broadcast to self's shape {data.shape}"
        ) from None
    values = [callable(a, b) for a, b in zip(data.ravel().tolist(), other.ravel().tolist())]
    out = np.array(values, dtype=object).astype(data.dtype).reshape(data.shape)
    return self._index_put(Ellipsis, Tensor._wrap(out), "map_")


# --------------------------------------------------------------------- storage facts
def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def data_ptr(self) -> int:
    """The address of the first element (tensors that share storage differ by their offsets)."""
    return self._data.__array_interface__["data"][0]


def storage_offset(self) -> int:
    """How many elements into its storage this tensor starts (0 unless it is a view that skips some);
    the storage is the NumPy array that owns the memory (from_numpy of a slice counts from its base)."""
    root = _root(self._data)
    return (data_ptr(self) - root.__array_interface__["data"][0]) // self._data.dtype.itemsize


def is_set_to(self, tensor) -> bool:
    """Whether both tensors see the same storage the same way: address, dtype, shape and strides."""
    return (
        isinstance(tensor, Tensor)
        and data_ptr(self) == data_ptr(tensor)
        and self._data.dtype == tensor._data.dtype
        and self._data.shape == tensor._data.shape
        and self._data.strides == tensor._data.strides
    )


# ------------------------------------------------ in-place shape changes (squeeze_, t_, ...)
def _reshaped_in_place(name: str, view_fn):
    """self given view_fn's shape and strides in place (its storage unchanged), recorded in the graph
    as the view op on self's previous history (as PyTorch's squeeze_, t_, ...)."""

    def method(self, *args, **kwargs):
        from .._grad_mode import mode
        from ..tensor import _wrap

        meta = self._meta or {}
        if meta.get("view") is not None or meta.get("views"):
            # a view replays its base's view ops, and a base's views replay theirs: changing either's
            # shape under them would break that link
            raise RuntimeError(
                f"{name}: not supported by microtensor on a view or on a tensor that has live views "
                f"(shape {tuple(self.shape)}); use the out-of-place {name[:-1]}(...) instead"
            )
        if mode.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
                f"(tensor of shape {tuple(self.shape)}); do it under `with microtensor.no_grad():` or "
                f"write it out of place (x = x.{name[:-1]}(...))"
            )
        old = _wrap(self._data, self.grad_fn)  # self's values and history, as the view op's input
        new = view_fn(old, *args, **kwargs)
        self._data = new._data
        if new.grad_fn is not None:
            self.grad_fn = new.grad_fn
        return self

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place {name[:-1]}: self takes the new shape (same storage); returns self."
    return method


_SHAPE_IN_PLACE = {
    "squeeze_": _shape.squeeze,
    "unsqueeze_": _shape.unsqueeze,
    "transpose_": _shape.transpose,
    "swapaxes_": _shape.swapaxes,
    "swapdims_": _shape.swapaxes,
    "t_": lambda x: x.t(),
}


_ALWAYS_FALSE = (
    "is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested", "is_xpu", "is_mps",
    "is_ipu", "is_xla", "is_vulkan", "is_maia", "is_mtia",
)  # fmt: skip


# Tensor methods written in tensor.py whose dim argument takes the same aliases
ALIASED = [
    "sum", "mean", "max", "min", "std", "var", "logsumexp", "softmax", "log_softmax", "squeeze", "unsqueeze",
    "cat", "concat", "stack", "all", "any", "flatten",
]  # fmt: skip


# microtensor.X(input, ...) for the Tensor methods PyTorch also has as functions
_AS_FUNCTIONS = (
    "detach", "detach_", "get_device", "is_nonzero", "is_same_size", "is_signed", "is_inference", "is_conj",
    "is_neg", "conj", "resolve_conj", "resolve_neg", "adjoint", "fill_", "zero_", "index_put_", "abs_",
    "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "lcm_",
    "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
    "tan_", "tanh_", "trunc_", "xlogy_", "t", "is_floating_point", "is_complex",
)  # fmt: skip


def _as_function(name: str):
    def fn(input, *args, **kwargs):  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {builtins.type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"input.{name}(...): see Tensor.{name}."
    return fn


def functions() -> dict:
    """The functions microtensor exports besides the op table: Tensor methods as `microtensor.X`."""
    out = {name: _as_function(name) for name in _AS_FUNCTIONS}
    out["strided"] = strided
    out["layout"] = layout
    return out


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
    for fn in (byte, char, short, is_signed, is_nonzero, is_same_size, is_inference, get_device, adjoint,
               detach_, fill_diagonal_, sum_to_size, apply_, map_):  # fmt: skip
        setattr(Tensor, fn.__name__, fn)
    from .. import random as _random

    Tensor.bernoulli = _random.bernoulli  # self.bernoulli(p=None, *, generator=None)
    Tensor.multinomial = _random.multinomial  # self.multinomial(num_samples, replacement=False, ...)
    for name, fn in _SHAPE_IN_PLACE.items():
        setattr(Tensor, name, _reshaped_in_place(name, with_numpy_names(fn)))
    for name in _ALWAYS_FALSE:  # storage kinds and devices microtensor has not
        doc = f"False: microtensor tensors are dense and on the CPU ({name})."
        setattr(Tensor, name, property(_false, doc=doc))
    for fn in (data_ptr, storage_offset, is_set_to):
        setattr(Tensor, fn.__name__, fn)
    for name in ("is_conj", "is_neg", "is_shared"):
        setattr(Tensor, name, _false)
    for name in ("conj", "resolve_conj", "resolve_neg"):  # real tensors: nothing to conjugate or negate
        setattr(Tensor, name, _self)
    Tensor.is_cpu = property(lambda self: True, doc="True: microtensor tensors live on the CPU.")
    Tensor.layout = property(_layout, doc="The memory layout: always microtensor.strided (dense).")
    Tensor.real = property(_self, doc="The real part: the tensor itself (microtensor has no complex dtypes).")
    Tensor.imag = property(imag, doc="Raises: the imaginary part exists only for complex dtypes.")
    Tensor.H = property(_H, doc="The conjugate transpose of a matrix: for real 2-D tensors, the transpose.")
    Tensor.mH = property(_mH, doc="The conjugate transpose of the last two dims: for real tensors, mT.")
    Tensor.itemsize = property(_itemsize, doc="Bytes per element.")
    Tensor.nbytes = property(_nbytes, doc="Bytes held by the elements.")
    Tensor.clone = _clone


install()
