"""Indexing: x[index] with ints, slices, None, ..., integer arrays and boolean masks.

The derivative of indexing scatters the gradient into zeros (IndexAdd); the
derivative of that scatter is indexing again, so both are differentiable to any order.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, _ViewOp, helper


class GetItem(_ViewOp):
    role = "index"
    public_name = "getitem"
    __slots__ = ("index",)
    derivatives = {"x": "index_add(grad, self.index, x.shape)"}

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]


class IndexAdd(Op):
    """zeros(shape) with g added at `index`; repeated indices accumulate."""

    role = "index"
    __slots__ = ("index", "shape")
    derivatives = {"g": "grad[self.index]"}

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, g):
        return _xp.index_add(g, self.index, self.shape)


@_xp.on_tensor("index_add")
def _index_add_tensor(g: Tensor, index, shape) -> Tensor:
    return IndexAdd(index, shape)(g)


def _is_basic(index: tuple) -> bool:
    return not any(isinstance(i, np.ndarray) for i in index)


def _normalize(index) -> tuple:
    """A tuple index NumPy understands; Tensors become arrays, bool masks become int arrays."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item)
            if item.size == 0:
                item = item.astype(np.int64)
        if isinstance(item, np.ndarray):
            if item.dtype == np.bool_:
                if item.ndim:
                    out.extend(np.nonzero(item))
                else:  # np.nonzero refuses 0-d; NumPy indexes with a 0-d mask itself (a new axis of 1 or 0)
                    out.append(item)
                continue
            if item.dtype.kind not in "iu":
                raise IndexError(
                    f"getitem: tensors used as indices must be integer or bool, got dtype {item.dtype}"
                )
        elif isinstance(item, float):
            raise IndexError(
                f"getitem: only integers, slices, None, ..., and integer or bool tensors "
                f"are valid indices (got float {item})"
            )
        out.append(item)
    return tuple(out)


def _check_masks(shape: tuple[int, ...], index) -> None:
    """Boolean masks become integer indices, which NumPy no longer checks against the tensor's
    shape: let NumPy check the masks first, on a zero-stride stand-in of that shape."""
    items = index if isinstance(index, tuple) else (index,)
    raw = [i._data if isinstance(i, Tensor) else np.asarray(i) if isinstance(i, list) else i for i in items]
    if any(isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in raw):
        np.broadcast_to(np.zeros((), np.int8), shape)[tuple(raw)]


def getitem(x: Tensor, index) -> Tensor:
    idx = _normalize(index)
    try:
        _check_masks(x.shape, index)
        return GetItem(idx)(x)
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from e


class SetItem(Op):
    """x with `value` written at `index` (out of place; Tensor.__setitem__ copies it back in place)."""

    role = "index"
    public_name = "setitem"
    __slots__ = ("index",)
    derivatives = {"x": "zero_at(grad, self.index)", "value": "written(grad, self.index, value)"}

    def __init__(self, index):
        self.index = index

    def forward(self, x, value):
        out = x.copy()
        out[self.index] = value
        return out


@helper
def zero_at(grad, index):
    """grad with the positions at `index` set to 0 (what was overwritten gets no gradient)."""
    if isinstance(grad, Tensor):
        mask = np.ones(grad.shape, grad.dtype)
        mask[index] = 0
        return grad * Tensor._wrap(mask)
    out = grad.copy()
    out[index] = 0
    return out


@helper
def written(grad, index, value):
    """grad at `index`, with the leading 1-dims NumPy dropped from value when writing it restored."""
    r = grad[index]
    if value.ndim > r.ndim:
        r = r.reshape((1,) * (value.ndim - r.ndim) + tuple(r.shape))
    return r


def _setitem_error(x_shape, index, value, op: str, e: Exception) -> Exception:
    vshape = value.shape if isinstance(value, Tensor | np.ndarray) else ()
    if isinstance(e, IndexError):
        return IndexError(f"{op}: {e} (tensor of shape {x_shape})")
    return RuntimeError(
        f"{op}: can't write a value of shape {tuple(vshape)} into the positions {index!r} of a tensor "
        f"of shape {x_shape}: {e}"
    )


def setitem_array(x: np.ndarray, index, value, op: str = "setitem") -> None:
    """x[index] = value on the array itself (nothing recorded)."""
    try:
        _check_masks(x.shape, index)
        x[_normalize(index)] = value._data if isinstance(value, Tensor) else value
    except (IndexError, ValueError, TypeError) as e:
        raise _setitem_error(x.shape, index, value, op, e) from e


def setitem(x: Tensor, index, value, op: str = "setitem") -> Tensor:
    """x with value written at index, as a recorded op (differentiable in x and value)."""
    idx = _normalize(index)
    try:
        _check_masks(x.shape, index)
        if isinstance(value, Tensor) and value.dtype != x.dtype:
            value = value.to(x.dtype)
        return SetItem(idx)(x, value)
    except (IndexError, ValueError, TypeError) as e:
        raise _setitem_error(x.shape, index, value, op, e) from e
    except RuntimeError as e:  # Op.__call__ wraps NumPy's ValueError
        raise RuntimeError(f"{op}: {e} (tensor of shape {x.shape})") from e
