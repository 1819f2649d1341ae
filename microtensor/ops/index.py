"""Indexing: x[index] with ints, slices, None, ..., integer arrays and boolean masks.

The backward of indexing scatters the gradient into zeros (IndexAdd); the
backward of that scatter is indexing again, so both are differentiable to any order.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op


class GetItem(Op):
    __slots__ = ("index",)
    formula = "∂x = zeros with grad added at the indexed positions"

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, g, out, x):
        return _xp.index_add(g, self.index, x.shape)


class IndexAdd(Op):
    """zeros(shape) with g added at `index`; repeated indices accumulate."""

    __slots__ = ("index", "shape")
    formula = "∂g = grad[index]"

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g  # basic indices never repeat: assignment is addition
        else:
            np.add.at(out, self.index, g)
        return out

    def backward(self, gg, out, g):
        return gg[self.index]


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
                out.extend(np.nonzero(item))
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
