"""The binding table of the shape, index, reduction and scan surface (issue 12, step 2.3-2.4):
each public function and the Tensor method of the same name, in one place.

`FUNCTIONS` lists what microtensor exports (`mt.X`); `METHODS` maps Tensor method names to the
function they call with the tensor first. `install()` attaches the methods once, on import.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import index as _index
from . import reduce as _reduce
from . import scan as _scan
from . import shape as _shape
from . import sort as _sort

_SHAPE = [
    "split",
    "tensor_split",
    "chunk",
    "unbind",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "rot90",
    "tile",
    "repeat_interleave",
    "narrow",
    "select",
    "movedim",
    "moveaxis",
    "swapaxes",
    "swapdims",
    "unflatten",
    "ravel",
    "broadcast_to",
    "tril",
    "triu",
    "diagonal",
    "diag",
    "diagflat",
    "diag_embed",
    "trace",
]
_SHAPE_FN_ONLY = [
    "broadcast_tensors",
    "broadcast_shapes",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "hstack",
    "vstack",
    "dstack",
    "column_stack",
    "row_stack",
    "meshgrid",
    "cartesian_prod",
    "tril_indices",
    "triu_indices",
    "block_diag",
]
_INDEX = [
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "index_select",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "masked_fill",
    "masked_scatter",
    "masked_select",
    "nonzero",
    "argwhere",
    "take",
]
_SCAN = ["prod", "cumsum", "cumprod"]
_SORT = [
    "sort",
    "argsort",
    "msort",
    "topk",
    "median",
    "nanmedian",
    "kthvalue",
    "mode",
    "cummax",
    "cummin",
    "amax",
    "amin",
    "aminmax",
    "count_nonzero",
    "nansum",
    "nanmean",
    "diff",
    "unique",
    "bincount",
    "histc",
]
_SORT_FN_ONLY = ["var_mean", "std_mean", "searchsorted", "bucketize", "all", "any"]

FUNCTIONS: dict = {}
for _mod, _names in (
    (_shape, _SHAPE + _SHAPE_FN_ONLY),
    (_index, _INDEX),
    (_scan, _SCAN),
    (_sort, _SORT + _SORT_FN_ONLY),
):
    for _n in _names:
        FUNCTIONS[_n] = getattr(_mod, _n)

METHODS: dict = {n: FUNCTIONS[n] for n in _SHAPE + _INDEX + _SCAN + _SORT}
for _mod, _names, _method in (
    (_scan, ["logcumsumexp"], True),
    (_shape, ["cross"], True),
    (_shape, ["combinations", "cdist"], False),
    (_index, ["put"], True),
):
    for _n in _names:
        FUNCTIONS[_n] = getattr(_mod, _n)
        if _method:
            METHODS[_n] = FUNCTIONS[_n]
METHODS["repeat"] = _shape.repeat
del METHODS["histc"]
METHODS["histc"] = _sort.histc


def _argmax(self_or_x, dim=None, keepdim: bool = False, *, axis=None):
    """argmax with PyTorch's `axis=` alias for dim."""
    return _reduce.argmax(self_or_x, dim if axis is None else axis, keepdim)


def _argmin(self_or_x, dim=None, keepdim: bool = False, *, axis=None):
    """argmin with PyTorch's `axis=` alias for dim."""
    return _reduce.argmin(self_or_x, dim if axis is None else axis, keepdim)


FUNCTIONS["argmax"], FUNCTIONS["argmin"] = _argmax, _argmin
METHODS["argmax"], METHODS["argmin"] = _argmax, _argmin


def _where(condition, input=None, other=None):  # noqa: A002
    """where(cond, input, other) elementwise; where(cond) alone: nonzero(cond, as_tuple=True)."""
    from .elementwise import where

    if input is None and other is None:
        return _index.nonzero(condition, as_tuple=True)
    return where(condition, input, other)


FUNCTIONS["where"] = _where


def _inplace(fn):
    def method(self, *args, **kwargs):
        # the operand that may need a gradient (src, source, value): recorded like add_'s other
        other = next(
            (a for a in (*args, *kwargs.values()) if isinstance(a, Tensor) and a.requires_grad), None
        )
        return self._apply_inplace(f"{fn.__name__}_", lambda s, _o: fn(s, *args, **kwargs), other)

    method.__doc__ = f"In-place {fn.__name__}: writes the result into self (bumps its version)."
    return method


INPLACE = {
    n + "_": METHODS[n]
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
    ]
}


def empty_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """A tensor of x's shape and dtype (unless dtype is given); its values are unspecified (here 0)."""
    t = Tensor._wrap(np.zeros(x.shape, x.dtype if dtype is None else np.dtype(dtype)))
    if requires_grad:
        t.requires_grad = True
    return t


FUNCTIONS["empty_like"] = empty_like


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


def with_numpy_names(fn):
    """fn also accepting NumPy's `axis=` for `dim=` and `keepdims=` for `keepdim=`, as PyTorch does
    for every dim argument (fn unchanged when it has no `dim` parameter)."""
    import functools
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    if "dim" not in params or getattr(fn, "_numpy_names", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            if "axis" in kwargs:
                if "dim" in kwargs:
                    raise TypeError(f"{fn.__name__}(): got both dim and its alias axis")
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    wrapper._numpy_names = True
    return wrapper


# functions and methods defined elsewhere whose dim argument takes the same aliases
ALIASED = [
    "sum", "mean", "max", "min", "std", "var", "logsumexp", "softmax", "log_softmax", "squeeze", "unsqueeze",
    "cat", "concat", "stack", "all", "any", "flatten",
]  # fmt: skip


def install() -> None:
    """Attach METHODS, INPLACE and the Tensor facts to Tensor; give every dim argument its aliases."""
    for name in list(FUNCTIONS):
        FUNCTIONS[name] = with_numpy_names(FUNCTIONS[name])
    for name, fn in METHODS.items():
        setattr(Tensor, name, with_numpy_names(fn))
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
