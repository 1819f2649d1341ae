"""The array namespace of derivative expressions: each function works on NumPy arrays *and* Tensors.

An op's derivatives (see ops/base.py) are Python expressions over `grad`, `out`, the op's inputs
and attributes, calling only the functions below (and helpers registered next to an op with
`base.helper`). On the fast path the engine evaluates them on NumPy arrays, and these are thin
NumPy calls; under create_graph=True it evaluates them on Tensors, and these call Tensor methods
(differentiable ops), so the gradient is recorded and can be differentiated again. Python operators
(+ - * / @ **, comparisons, indexing) already work on both.

Dependencies point one way: op modules import this module, never the reverse. The few Tensor
versions that have no Tensor method (index_add, where with an array condition) are plugged in by
the op modules that own them (`on_tensor`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..tensor import Tensor

__all__ = [
    "sum_to", "expand", "unreduce", "kept", "sum", "mean", "permute", "mT", "rows", "where", "exp", "log",
    "sgn", "cast", "index_add", "constant", "clamp_min", "sigmoid", "softmax", "narrow", "select",
    "onehot", "isnan",
]  # fmt: skip

_ON_TENSOR: dict[str, Callable] = {}


def on_tensor(name: str):
    """Decorator for an op module: fn is the Tensor version of the namespace function `name`."""

    def register(fn: Callable) -> Callable:
        _ON_TENSOR[name] = fn
        return fn

    return register


# ------------------------------------------------------------- broadcasting
def _sum_axes(gshape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )


def sum_to(g, shape: tuple[int, ...]):
    """Undo broadcasting: sum g over the axes that broadcasting added or stretched, down to `shape`.

    The engine applies it to every gradient whose shape differs from its input's (one place for
    every op), so derivative expressions may return a broadcast-shaped gradient.
    """
    if g.shape == shape:
        return g
    if type(g) is np.ndarray and g.shape[1:] == shape:  # the common case: one leading axis (a bias)
        return np.add.reduce(g, axis=0)
    axes = _sum_axes(tuple(g.shape), tuple(shape))
    if isinstance(g, Tensor):
        out = g.sum(axes, keepdim=True) if axes else g
        return out.reshape(shape)
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


def kept(g, shape: tuple[int, ...], axes, keepdim: bool):
    """g with the reduced `axes` of `shape` restored as size 1 (nothing to do when keepdim or all axes)."""
    if keepdim or axes is None:
        return g
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def unreduce(g, shape: tuple[int, ...], axes, keepdim: bool):
    """The gradient of a reduction over `axes` of an input of `shape`: g repeated over those axes."""
    return expand(kept(g, shape, axes, keepdim), shape)


def sum(g, axis=None, keepdims: bool = False):
    """Sum over `axis` (None: all)."""
    if isinstance(g, Tensor):
        return g.sum(axis, keepdim=keepdims)
    return np.add.reduce(g, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims: bool = False):
    """Mean over `axis` (None: all)."""
    if isinstance(a, Tensor):
        return a.mean(axis, keepdim=keepdims)
    return np.mean(a, axis=axis, keepdims=keepdims)


# ------------------------------------------------------------------ layout
def permute(g, axes):
    """g with its axes reordered."""
    if isinstance(g, Tensor):
        return g.permute(*axes)
    return np.transpose(g, axes)


def mT(a):
    """Swap the last two axes (matrix transpose of a batch); shown as aᵀ."""
    if isinstance(a, Tensor):
        return a.mT
    return a.T if a.ndim == 2 else np.swapaxes(a, -1, -2)


def rows(a):
    """a as a matrix of rows (..., n) -> (prod(...), n): a batch of any shape as one matrix."""
    if a.ndim == 2:
        return a
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])  # not -1: NumPy cannot infer it for size 0


def narrow(a, dim: int, start: int, length: int):
    """The slice start:start+length of a along dim."""
    return a[(slice(None),) * dim + (slice(start, start + length),)]


def select(a, dim: int, i: int):
    """Index i of a along dim (that dim removed)."""
    return a[(slice(None),) * dim + (i,)]


# -------------------------------------------------------------- elementwise
def where(cond, a, b):
    """Elementwise `a if cond else b`; cond takes no part in differentiation."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _ON_TENSOR["where"](constant(cond), a, b)
    if _plus_zero(a) and _maskable(cond, b):  # the gradient rules' "0 where ..., else grad"
        return _zero_where(cond, b)
    if _plus_zero(b) and _maskable(cond, a):
        return _zero_where(~cond, a)
    return np.where(cond, a, b)


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _plus_zero(v) -> bool:
    return type(v) in (int, float) and v == 0 and math.copysign(1.0, v) > 0


def _maskable(cond, x) -> bool:
    return (
        type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize in _UINT
        and type(cond) is np.ndarray and cond.dtype == np.bool_ and cond.shape == x.shape and x.ndim
    )  # fmt: skip


def _zero_where(cond, x):
    """np.where(cond, 0, x) as a bit mask: np.where branches per element, which costs ~20x more when
    the pattern is irregular (a ReLU's): x's bits AND (cond − 1), all ones where cond is False."""
    u = _UINT[x.dtype.itemsize]
    m = cond.astype(u)
    m -= 1
    m &= x.view(u)
    return m.view(x.dtype)


def exp(a):
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def log(a):
    return a.log() if isinstance(a, Tensor) else np.log(a)


def sgn(a):
    """The sign of a as a constant: 1, -1, or 0 at 0 and at NaN (PyTorch's convention in gradients)."""
    a = constant(a)
    return (a > 0).astype(a.dtype) - (a < 0)


def isnan(a):
    """Where a is NaN, as a constant mask."""
    return np.isnan(constant(a))


def cast(a, dtype):
    """a converted to dtype."""
    if isinstance(a, Tensor):
        return a.to(dtype)
    return a.astype(dtype, copy=False)


def constant(a):
    """A value that takes no part in differentiation (masks, counts): the array of a Tensor."""
    return a._data if isinstance(a, Tensor) else a


def clamp_min(a, lo: float):
    """max(a, lo) elementwise."""
    return a.clamp(min=lo) if isinstance(a, Tensor) else np.maximum(a, lo)


def sigmoid(a):
    """1 / (1 + e^−a), exact in both tails and never overflowing."""
    if isinstance(a, Tensor):
        return a.sigmoid()
    if a.ndim and a.dtype.itemsize >= 4 and a.size and np.minimum.reduce(a, axis=None) > -80:
        e = np.exp(-a)  # cannot overflow here: the short path
        e += 1
        return np.reciprocal(e, out=e)
    e = np.exp(-np.abs(a))  # never overflows; exact in both tails
    return np.where(a >= 0, 1, e) / (1 + e)


def softmax(a, axis: int):
    """exp(a) / Σ_axis exp(a), computed without overflow."""
    if isinstance(a, Tensor):
        return a.softmax(axis)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True, initial=-np.inf))  # initial: empty dims too
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def onehot(target, n: int):
    """Rows of n classes, 1 at each row's target index: a constant (N, n) bool array."""
    return np.arange(n) == constant(target)[:, None]


# ----------------------------------------------------------------- scatter
def index_add(g, index, shape: tuple[int, ...]):
    """zeros(shape) with g added at `index` (repeated indices accumulate)."""
    if isinstance(g, Tensor):
        return _ON_TENSOR["index_add"](g, index, shape)
    out = np.zeros(shape, dtype=g.dtype)
    if any(isinstance(i, np.ndarray) for i in index):
        np.add.at(out, index, g)
    else:
        out[index] = g  # basic indices never repeat: assignment is addition
    return out
