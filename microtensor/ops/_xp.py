"""Array functions that backward rules use, each working on NumPy arrays *and* Tensors.

On the fast path backward gets NumPy arrays and these are thin NumPy calls.
Under create_graph=True it gets Tensors and these call the differentiable
ops, so the gradient computation is recorded and can be differentiated again.
Python operators (+ - * / @, comparisons, indexing) already work on both.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def sum_to(g, shape: tuple[int, ...]):
    """Undo broadcasting: sum g over the axes that broadcasting added or stretched.

    The one place where every binary op's gradient is un-broadcast.
    """
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        from .shape import SumTo

        return SumTo(shape)(g)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    out = np.add.reduce(g, axis=axes) if axes else g
    return out if out.shape == shape else np.reshape(out, shape)


def expand(g, shape: tuple[int, ...]):
    """Broadcast g to shape (for arrays, a new array: faster than np.broadcast_to and writeable)."""
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        return g.expand(*shape)
    out = np.empty(shape, g.dtype)
    np.copyto(out, g)
    return out


def sum(g, axis=None, keepdims: bool = False):
    if isinstance(g, Tensor):
        return g.sum(axis, keepdim=keepdims)
    return np.add.reduce(g, axis=axis, keepdims=keepdims)


def permute(g, axes):
    if isinstance(g, Tensor):
        return g.permute(*axes)
    return np.transpose(g, axes)


def mT(a):
    """Swap the last two axes (matrix transpose of a batch)."""
    if isinstance(a, Tensor):
        return a.mT
    return np.swapaxes(a, -1, -2)


def where(cond, a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as t_where

        return t_where(cond, a, b)
    return np.where(cond, a, b)


def exp(a):
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def log(a):
    return a.log() if isinstance(a, Tensor) else np.log(a)


def sign(a):
    if isinstance(a, Tensor):
        return Tensor._wrap(np.sign(a._data))  # piecewise constant: no gradient
    return np.sign(a)


def cast(a, dtype):
    if isinstance(a, Tensor):
        return a.to(dtype)
    return a.astype(dtype, copy=False)


def index_add(g, index, shape: tuple[int, ...]):
    """zeros(shape) with g added at `index` (repeated indices accumulate)."""
    from .index import IndexAdd

    if isinstance(g, Tensor):
        return IndexAdd(index, shape)(g)
    return IndexAdd(index, shape).forward(g)


def constant(a):
    """A value that takes no part in differentiation (masks, counts)."""
    return a._data if isinstance(a, Tensor) else a


def clamp_min(a, lo: float):
    return a.clamp(min=lo) if isinstance(a, Tensor) else np.maximum(a, lo)


def sigmoid(a):
    if isinstance(a, Tensor):
        return a.sigmoid()
    from .elementwise import Sigmoid

    return Sigmoid.forward(None, a)


def softmax(a, axis: int):
    if isinstance(a, Tensor):
        return a.softmax(axis)
    from .reduce import Softmax

    return Softmax(axis).forward(a)
