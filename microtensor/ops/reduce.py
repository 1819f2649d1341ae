"""Reductions (sum, mean, max, min, logsumexp, var) and softmax / log_softmax.

The derivative of a reduction repeats the incoming gradient over the reduced axes
(`unreduce`; `kept` restores those axes as size 1 when keepdim was False).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper, norm_dim, norm_dims


class ValuesIndices(NamedTuple):
    """What max/min return when given a dim (torch.return_types.max)."""

    values: Tensor
    indices: Tensor


def _printed_as(name: str) -> type:
    """A ValuesIndices printed as PyTorch prints torch.return_types.<name>."""

    def __repr__(self) -> str:
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(
        name, (ValuesIndices,), {"__slots__": (), "__repr__": __repr__, "__doc__": f"What {name} returns."}
    )


_RETURN_TYPES = {"max": _printed_as("max"), "min": _printed_as("min")}


class Sum(Op):
    role = "reduction"
    __slots__ = ("axes", "keepdim")
    derivatives = {"x": "unreduce(grad, x.shape, self.axes, self.keepdim)"}

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdim)


class Mean(Op):
    role = "reduction"
    __slots__ = ("axes", "keepdim", "n")
    derivatives = {"x": "unreduce(grad, x.shape, self.axes, self.keepdim) / self.n"}

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        if x.dtype.itemsize < 4 or x.size == 0:
            out = np.mean(x, axis=self.axes, keepdims=self.keepdim)  # float16 accumulates in float32
        else:
            total = np.add.reduce(x, axis=self.axes, keepdims=self.keepdim)
            out = total / (x.size // (total.size or 1))
        self.n = (x.size // (out.size or 1)) or 1  # elements averaged into each output
        return out


class Var(Op):
    """Variance over axes with `correction` (Bessel's: 1); dof = n − correction."""

    role = "reduction"
    __slots__ = ("axes", "keepdim", "correction", "dof")
    # as PyTorch's formula (not the chain through mean): an infinite element gives ±inf, not nan
    derivatives = {
        "x": "kept(grad, x.shape, self.axes, self.keepdim) * 2 * (x - mean(x, self.axes, True)) / self.dof"
    }

    def __init__(self, axes, keepdim, correction):
        self.axes, self.keepdim, self.correction = axes, keepdim, correction

    def forward(self, x):
        n = x.size if self.axes is None else math.prod(x.shape[a] for a in self.axes)
        self.dof = float(n - self.correction if n > self.correction else 0)
        centred = x - np.mean(x, axis=self.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # dof 0: inf or nan, as PyTorch
            return np.add.reduce(centred * centred, axis=self.axes, keepdims=self.keepdim) / self.dof


class Amax(Op):
    """max or min over all elements; ties share the gradient equally (as PyTorch)."""

    role = "reduction"
    public_name = "max"
    __slots__ = ("ufunc",)
    derivatives = {"x": "grad * ties(x, out)"}

    def __init__(self, ufunc):
        self.ufunc = ufunc

    def forward(self, x):
        return self.ufunc.reduce(x, axis=None)


@helper
def ties(x, out):
    """1/k at the k elements of x equal to out (a NaN out: at the NaNs, as PyTorch), 0 elsewhere."""
    x, out = _xp.constant(x), _xp.constant(out)
    hit = (x == out) | (np.isnan(x) & np.isnan(out))
    return hit / np.count_nonzero(hit)


class TakeAlongDim(Op):
    """Pick elements along `dim` at `indices` (take_along_dim; max/min with a dim); gradient goes to them."""

    role = "index"
    __slots__ = ("indices", "dim", "keepdim")
    derivatives = {"x": "scatter_along(grad, self.indices, self.dim, x.shape, self.keepdim)"}

    def __init__(self, indices: np.ndarray, dim: int, keepdim: bool = True):
        self.indices, self.dim, self.keepdim = indices, dim, keepdim

    def forward(self, x):
        out = np.take_along_axis(x, self.indices, axis=self.dim)
        return out if self.keepdim else np.squeeze(out, self.dim)


@helper
def scatter_along(grad, indices, dim: int, shape: tuple[int, ...], keepdim: bool = True):
    """zeros(shape) with grad added at `indices` along dim (repeated indices accumulate)."""
    gk = grad if keepdim else grad.reshape(indices.shape)
    ndim = len(shape)
    if indices.shape == shape[:dim] + (1,) + shape[dim + 1 :]:
        # one pick per position (max/min): a mask, no scatter needed
        positions = np.arange(shape[dim]).reshape((-1,) + (1,) * (ndim - 1 - dim))
        return _xp.where(positions == indices, _xp.expand(gk, shape), 0)
    # general indices may repeat: scatter-add through the equivalent integer-array index
    index = tuple(
        indices if a == dim else np.arange(n).reshape((-1,) + (1,) * (ndim - 1 - a))
        for a, n in enumerate(shape)
    )
    return _xp.index_add(gk, index, shape)


class LogSumExp(Op):
    role = "reduction"
    public_name = "logsumexp"
    __slots__ = ("axes", "keepdim")
    derivatives = {
        "x": "kept(grad, x.shape, self.axes, self.keepdim)"
        " * exp(x - kept(out, x.shape, self.axes, self.keepdim))"
    }

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        m = np.max(x, axis=self.axes, keepdims=True, initial=-np.inf)  # initial: an empty dim gives -inf
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # an empty dim: log(0) = -inf, as PyTorch
            s = np.log(np.sum(np.exp(x - m), axis=self.axes, keepdims=True)) + m
        return s if self.keepdim else np.squeeze(s, self.axes)


class Softmax(Op):
    role = "activation"
    __slots__ = ("dim",)
    derivatives = {"x": "out * (grad - sum(grad * out, self.dim, True))"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return _xp.softmax(x, self.dim)


class LogSoftmax(Op):
    role = "activation"
    __slots__ = ("dim",)
    derivatives = {"x": "grad - exp(out) * sum(grad, self.dim, True)"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        z = x - np.max(x, axis=self.dim, keepdims=True, initial=-np.inf)  # empty dims too
        with np.errstate(divide="ignore"):  # an empty dim: log(0), broadcast into an empty result
            z -= np.log(np.sum(np.exp(z), axis=self.dim, keepdims=True))
        return z


# ----------------------------------------------------------- public functions
def _float_input(x, op: str) -> Tensor:
    x = as_tensor(x, op)
    if not _dtypes.is_floating(x.dtype):
        raise RuntimeError(
            f"{op}(): input dtype must be floating point, got {x.dtype}; convert with .float()"
        )
    return x


def _cast_input(x: Tensor, dtype) -> Tensor:
    """x in dtype (the reductions' `dtype=`: a differentiable cast before reducing), or x."""
    if dtype is None or np.dtype(dtype) == x.dtype:
        return x
    from .elementwise import cast

    return cast(x, np.dtype(dtype))


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all elements (a 0-d tensor), or over `dim` (an int or a tuple); `keepdim` keeps
    the reduced dims with size 1. Integer and bool inputs sum to int64, as in PyTorch; `dtype`
    casts the input first.

        >>> x = mt.tensor([[1., 2.], [3., 4.]])
        >>> mt.sum(x).item(), mt.sum(x, dim=0).tolist(), mt.sum(x, 1, keepdim=True).shape
        (10.0, [4.0, 6.0], torch.Size([2, 1]))
    """
    x = _cast_input(as_tensor(x, "sum"), dtype)
    if x.dtype.kind == "u":  # PyTorch sums unsigned ints as int64 (NumPy: uint64); they never need grad
        x = Tensor._wrap(x._data.astype(np.int64))
    return Sum(norm_dims(dim, x.ndim, "sum"), keepdim)(x)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of all elements, or over `dim` (an int or a tuple), `keepdim` as in sum; floating input
    only, or `dtype` a floating dtype to cast the input to first.

    Example:

        >>> mt.mean(mt.tensor([[1., 2.], [3., 4.]]), dim=1).tolist()
        [1.5, 3.5]
    """
    x = _float_input(_cast_input(as_tensor(x, "mean"), dtype), "mean")
    return Mean(norm_dims(dim, x.ndim, "mean"), keepdim)(x)


def _extreme(x, dim, keepdim, ufunc, arg, op):
    x = as_tensor(x, op)
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return (maximum if op == "max" else minimum)(x, dim)
    if x.numel() == 0:
        raise RuntimeError(f"{op}(): cannot reduce an empty tensor of shape {x.shape} (no identity)")
    if dim is None:
        return Amax(ufunc)(x)
    axis = norm_dim(dim, x.ndim, op)
    data = x._data if x.ndim else x._data.reshape(1)
    idx = np.expand_dims(arg(data, axis=axis), axis)
    if x.ndim == 0:
        return _RETURN_TYPES[op](x, Tensor._wrap(np.zeros((), np.int64)))
    values = TakeAlongDim(idx, axis, keepdim)(x)
    return _RETURN_TYPES[op](values, Tensor._wrap(idx if keepdim else np.squeeze(idx, axis)))


def max(x: Tensor, dim=None, keepdim: bool = False):
    """Largest element; with dim, a (values, indices) pair; with a Tensor, elementwise maximum."""
    return _extreme(x, dim, keepdim, np.maximum, np.argmax, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):
    """Smallest element; with dim, a (values, indices) pair; with a Tensor, elementwise minimum."""
    return _extreme(x, dim, keepdim, np.minimum, np.argmin, "min")


def _arg(x, dim, keepdim, fn, op) -> Tensor:
    x = as_tensor(x, op)
    if x.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input (shape {x.shape}); convert with .int()")
    if x.numel() == 0:
        raise RuntimeError(f"{op}(): expected a non-empty tensor, got shape {x.shape}")
    if dim is None:
        out = fn(x._data.reshape(-1))
        return Tensor._wrap(np.full((1,) * x.ndim if keepdim else (), out, dtype=np.int64))
    axis = norm_dim(dim, x.ndim, op)
    data = x._data if x.ndim else x._data.reshape(1)
    return Tensor._wrap(fn(data, axis=axis, keepdims=keepdim and x.ndim > 0).astype(np.int64))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor, or along `dim`), as int64;
    the first one on ties. Not differentiable.

        >>> mt.argmax(mt.tensor([[1., 9.], [7., 3.]]), dim=1).tolist()
        [1, 0]
    """
    return _arg(x, dim, keepdim, np.argmax, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor, or along `dim`), as int64;
    the first one on ties. Not differentiable.

        >>> mt.argmin(mt.tensor([[1., 9.], [7., 3.]]), dim=1).tolist()
        [0, 1]
    """
    return _arg(x, dim, keepdim, np.argmin, "argmin")


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """Pick values along dim at `indices` (same rank as x), as torch.take_along_dim."""
    x = as_tensor(x, "take_along_dim")
    if x.ndim == 0:  # as PyTorch (norm_dim would accept dim 0 or -1 of a 0-d tensor)
        raise IndexError(f"take_along_dim: dimension specified as {dim} but the tensor has no dimensions")
    axis = norm_dim(dim, x.ndim, "take_along_dim")
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != x.ndim:
        raise RuntimeError(
            f"take_along_dim: indices must be an integer tensor with {x.ndim} dims, "
            f"got {idx.dtype} with shape {idx.shape}"
        )
    try:
        return TakeAlongDim(idx, axis)(x)
    except IndexError as e:
        raise IndexError(f"take_along_dim: {e} (input shape {x.shape}, indices shape {idx.shape})") from e
    except RuntimeError as e:  # Op.__call__ names the op's class; name the function and both shapes
        raise RuntimeError(
            f"take_along_dim: indices of shape {idx.shape} do not broadcast against the input's {x.shape} "
            f"outside dim {dim}: {e.__cause__ or e}"
        ) from e


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, computed stably (the maximum is subtracted first).

    Example:

        >>> round(mt.logsumexp(mt.tensor([0., 0.]), dim=0).item(), 6)
        0.693147
    """
    x = as_tensor(x, "logsumexp")
    if not _dtypes.is_floating(x.dtype):  # integers and bools: the default float dtype, as PyTorch
        x = Tensor._wrap(x._data.astype(_dtypes.get_default_dtype()))
    return LogSumExp(norm_dims(dim, x.ndim, "logsumexp"), keepdim)(x)


def softmax(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`: each slice along dim becomes probabilities summing to 1;
    `dtype` casts the input first.

    Example:

        >>> mt.softmax(mt.tensor([[0., 0.], [0., 1000.]]), dim=1).tolist()
        [[0.5, 0.5], [0.0, 1.0]]
    """
    x = _float_input(_cast_input(as_tensor(x, "softmax"), dtype), "softmax")
    return Softmax(norm_dim(dim, x.ndim, "softmax"))(x)


def log_softmax(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably as x - logsumexp(x, dim); `dtype` casts the
    input first.

    Example:

        >>> [round(v, 4) for v in mt.log_softmax(mt.tensor([0., 0.]), dim=0).tolist()]
        [-0.6931, -0.6931]
    """
    x = _float_input(_cast_input(as_tensor(x, "log_softmax"), dtype), "log_softmax")
    return LogSoftmax(norm_dim(dim, x.ndim, "log_softmax"))(x)


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (correction=1), as PyTorch."""
    return _var(x, dim, unbiased, keepdim, correction, "var")


def _var(x, dim, unbiased, keepdim, correction, op: str) -> Tensor:
    x = _float_input(x, op)
    if correction is None:
        correction = 0 if unbiased is False else 1
    return Var(norm_dims(dim, x.ndim, op), keepdim, correction)(x)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """sqrt(var); where the spread is 0 the gradient is 0 (not 0 · ∞ = nan), as PyTorch."""
    from .elementwise import Std

    return Std()(_var(x, dim, unbiased, keepdim, correction, "std"))


def all_any(x: Tensor, dim, keepdim: bool, fn, op: str) -> Tensor:
    axes = norm_dims(dim, x.ndim, op)
    return Tensor._wrap(np.asarray(fn(x._data, axis=axes, keepdims=keepdim)))
