"""Sorting and order statistics, amax/amin, and the reductions built from other ops
(issue 12, step 2.3).

Values are picked with TakeAlongDim at indices NumPy computes, so their gradient flows to the
elements picked; functions that return (values, indices) return PyTorch's named tuples.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper, norm_dim, norm_dims
from .reduce import _RETURN_TYPES, TakeAlongDim, ties  # noqa: F401 - ties: MedianAll's rule


def _return_type(name: str, fields: str):
    """A named tuple printed as torch.return_types.<name>(values=..., indices=...)."""
    base = namedtuple(name, fields)

    def __repr__(self):
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{name}(\n{inner})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__doc__": f"What {name} returns."})


sort_t = _return_type("sort", "values indices")
topk_t = _return_type("topk", "values indices")
median_t = _return_type("median", "values indices")
nanmedian_t = _return_type("nanmedian", "values indices")
mode_t = _return_type("mode", "values indices")
kthvalue_t = _return_type("kthvalue", "values indices")
cummax_t = _return_type("cummax", "values indices")
cummin_t = _return_type("cummin", "values indices")
aminmax_t = _return_type("aminmax", "min max")


def _pick(x: Tensor, idx: np.ndarray, d: int, keepdim: bool = True) -> Tensor:
    return TakeAlongDim(idx, d, keepdim)(x)


def _argsort_stable(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    # a stable ascending sort of the reversed data, reversed: ties keep their order, NaN comes first
    n = a.shape[d]
    rev = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return np.flip(n - 1 - rev, d)


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) of x sorted along dim (stable; NaN sorts as the largest value).

    >>> mt.tensor([3., 1., 2.]).sort(descending=True).indices
    tensor([0, 2, 1])
    """
    x = as_tensor(x, "sort")
    if x.ndim == 0:
        return sort_t(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = norm_dim(dim, x.ndim, "sort")
    idx = _argsort_stable(x._data, d, descending)
    return sort_t(_pick(x, idx, d), Tensor._wrap(idx))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort x along dim."""
    return sort(x, dim, descending, stable=stable).indices


def msort(x: Tensor) -> Tensor:
    """x sorted along dim 0."""
    return sort(x, 0).values


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (largest=False: smallest) elements along dim and their indices."""
    x = as_tensor(x, "topk")
    d = norm_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): k ({k}) out of range for dim {dim} of size {n}")
    if x.ndim == 0:
        return topk_t(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    idx = _argsort_stable(x._data, d, largest)
    idx = np.take(idx, np.arange(k), axis=d)
    return topk_t(_pick(x, idx, d), Tensor._wrap(idx))


def _order_stat(x, dim, keepdim, op, pick_fn, rtype):
    """(values, indices) of the element pick_fn chooses from each slice along dim."""
    x = as_tensor(x, op)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}(): cannot compute on an empty tensor of shape {x.shape}")
        return MedianAll(pick_fn)(x)
    d = norm_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return rtype(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    if x.shape[d] == 0:
        raise IndexError(f"{op}(): cannot compute over dim {dim} of size 0 (shape {x.shape})")
    a = np.moveaxis(x._data, d, -1)
    i = np.expand_dims(np.moveaxis(pick_fn(a.reshape(-1, a.shape[-1]), 1).reshape(a.shape[:-1]), -1, -1), d)
    i = i.astype(np.int64)
    return rtype(_pick(x, i, d, keepdim), Tensor._wrap(i if keepdim else np.squeeze(i, d)))


class MedianAll(Op):
    """The median of all elements (nanmedian: of those not NaN); the elements equal to it share the
    gradient equally, as PyTorch's median() without a dim."""

    role = "reduction"
    public_name = "median"
    __slots__ = ("pick",)
    derivatives = {"x": "grad * ties(x, out)"}

    def __init__(self, pick):
        self.pick = pick

    def forward(self, x):
        flat = x.reshape(1, -1)
        return flat[0, self.pick(flat, 1)[0]]


def _lower_median(rows: np.ndarray, _axis) -> np.ndarray:
    """Per row, the index of the lower of the two middle values (NaN: the first NaN, as PyTorch)."""
    order = np.argsort(rows, axis=1, kind="stable")
    mid = np.take(order, [(rows.shape[1] - 1) // 2], axis=1)[:, 0]
    nan = np.isnan(rows)
    first_nan = np.argmax(nan, axis=1)
    return np.where(nan.any(1), first_nan, mid)


def _lower_nanmedian(rows: np.ndarray, _axis) -> np.ndarray:
    order = np.argsort(rows, axis=1, kind="stable")  # NaNs sort last
    k = np.maximum((rows.shape[1] - np.isnan(rows).sum(1) - 1) // 2, 0)
    return np.take_along_axis(order, k[:, None], 1)[:, 0]


def median(x: Tensor, dim=None, keepdim: bool = False):
    """The median (the lower of the two middle values for an even count); with dim, (values, indices)."""
    return _order_stat(x, dim, keepdim, "median", _lower_median, median_t)


def nanmedian(x: Tensor, dim=None, keepdim: bool = False):
    """median ignoring NaNs."""
    return _order_stat(x, dim, keepdim, "nanmedian", _lower_nanmedian, nanmedian_t)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest element along dim (k counts from 1)."""
    n = as_tensor(x, "kthvalue").shape[norm_dim(dim, max(x.ndim, 1), "kthvalue")] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): k ({k}) out of range for dim {dim} of size {n}")

    def pick(rows, _axis):
        return np.argsort(rows, axis=1, kind="stable")[:, k - 1]

    return _order_stat(x, dim, keepdim, "kthvalue", pick, kthvalue_t)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the most frequent value along dim (the smallest on ties; its last index)."""

    def pick(rows, _axis):
        out = np.empty(rows.shape[0], np.int64)
        for r, row in enumerate(rows):
            vals, counts = np.unique(row, return_counts=True)
            v = vals[np.argmax(counts)]
            out[r] = np.nonzero(row == v)[0][-1]
        return out

    return _order_stat(x, dim, keepdim, "mode", pick, mode_t)


def _cum_extreme(x, dim, better, rtype, op):
    x = as_tensor(x, op)
    if x.ndim == 0:
        return rtype(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = norm_dim(dim, x.ndim, op)
    a = np.moveaxis(x._data, d, 0)
    idx = np.zeros(a.shape, np.int64)
    best = a[0].copy() if a.shape[0] else a[:0]
    for i in range(1, a.shape[0]):  # ties move to the later index, as PyTorch
        take = better(a[i], best) | (a[i] == best) | np.isnan(a[i])
        take &= ~np.isnan(best) | np.isnan(a[i])
        best = np.where(take, a[i], best)
        idx[i] = np.where(take, i, idx[i - 1])
    idx = np.moveaxis(idx, 0, d)
    return rtype(_pick(x, idx, d), Tensor._wrap(idx))


def cummax(x: Tensor, dim: int):
    """Running maxima along dim and where they were found."""
    return _cum_extreme(x, dim, np.greater, cummax_t, "cummax")


def cummin(x: Tensor, dim: int):
    """Running minima along dim and where they were found."""
    return _cum_extreme(x, dim, np.less, cummin_t, "cummin")


# ---------------------------------------------------------------- amax / amin
class AmaxDim(Op):
    """max or min over dims; the elements tied for the extreme share the gradient equally."""

    role = "reduction"
    public_name = "amax"
    __slots__ = ("ufunc", "axes", "keepdim")
    derivatives = {
        "x": "kept(grad, x.shape, self.axes, self.keepdim) * ties_along(x, out, self.axes, self.keepdim)"
    }

    def __init__(self, ufunc, axes, keepdim):
        self.ufunc, self.axes, self.keepdim = ufunc, axes, keepdim

    def forward(self, x):
        return self.ufunc.reduce(x, axis=self.axes, keepdims=self.keepdim)


@helper
def ties_along(x, out, axes, keepdim):
    """1/k at the k elements of each reduced slice equal to its extreme, 0 elsewhere."""
    x = _xp.constant(x)
    o = _xp.kept(_xp.constant(out), x.shape, axes, keepdim)
    hit = (x == o) | (np.isnan(x) & np.isnan(o))
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _amaxmin(x, dim, keepdim, ufunc, op):
    x = as_tensor(x, op)
    axes = norm_dims(dim if dim != () else None, x.ndim, op)
    if x.numel() == 0:
        raise RuntimeError(f"{op}(): cannot reduce an empty tensor of shape {x.shape} (no identity)")
    return AmaxDim(ufunc, axes, keepdim)(x)


def amax(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest values over dim (an int or tuple; () or None: all); ties share the gradient."""
    return _amaxmin(x, dim, keepdim, np.maximum, "amax")


def amin(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The smallest values over dim (an int or tuple; () or None: all); ties share the gradient."""
    return _amaxmin(x, dim, keepdim, np.minimum, "amin")


def aminmax(x: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over dim (None: all elements)."""
    return aminmax_t(amin(x, dim, keepdim), amax(x, dim, keepdim))


# ----------------------------------------------------- reductions built from others
def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (along dim) is non-zero."""
    x = as_tensor(x, "all")
    return Tensor._wrap(np.asarray(np.all(x._data, axis=norm_dims(dim, x.ndim, "all"), keepdims=keepdim)))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element (along dim) is non-zero."""
    x = as_tensor(x, "any")
    return Tensor._wrap(np.asarray(np.any(x._data, axis=norm_dims(dim, x.ndim, "any"), keepdims=keepdim)))


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements (along dim), as int64."""
    x = as_tensor(x, "count_nonzero")
    axes = norm_dims(dim, x.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=axes)).astype(np.int64))


def nansum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """sum treating NaN as 0 (NaNs get gradient 0)."""
    from .elementwise import Where
    from .reduce import sum as _sum

    x = as_tensor(x, "nansum")
    if x.dtype.kind == "f":
        x = Where()(np.isnan(x._data), np.zeros((), x.dtype), x)
    out = _sum(x, dim, keepdim)
    return out.to(dtype) if dtype is not None else out


def nanmean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """mean over the elements that are not NaN."""
    x = as_tensor(x, "nanmean")
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected a floating point input, got {x.dtype}")
    n = np.sum(~np.isnan(x._data), axis=norm_dims(dim, x.ndim, "nanmean"), keepdims=keepdim)
    return nansum(x, dim, keepdim) / Tensor._wrap(np.asarray(n, x.dtype))


def var_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over dim, var with `correction` (default 1)."""
    from .reduce import mean, var

    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over dim, std with `correction` (default 1)."""
    from .reduce import mean, std

    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along dim (prepend/append are joined first)."""
    from .shape import _index_along, cat

    x = as_tensor(x, "diff")
    d = norm_dim(dim, x.ndim, "diff")
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = cat([as_tensor(p, "diff") for p in parts], d)
    for _ in range(n):
        m = x.shape[d]
        if x.dtype == np.bool_:
            x = Tensor._wrap(np.diff(x._data, axis=d))
            continue
        x = _index_along(x, d, slice(1, m)) - _index_along(x, d, slice(0, max(m - 1, 0)))
    return x


# ---------------------------------------------------------------- counting, not differentiable
def unique(
    x: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None
):  # noqa: A002
    """The distinct values (sorted), with the inverse indices and counts when asked."""
    x = as_tensor(x, "unique")
    d = None if dim is None else norm_dim(dim, x.ndim, "unique")
    vals, inv, counts = np.unique(x._data, return_inverse=True, return_counts=True, axis=d)
    out = [Tensor._wrap(vals)]
    if return_inverse:
        shape = x.shape if d is None else (x.shape[d],)
        out.append(Tensor._wrap(inv.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """How often each non-negative int occurs in a 1-d tensor (weighted: the weights' sums)."""
    a = as_tensor(x, "bincount")._data
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount(): expects a 1-d tensor of non-negative ints, got {a.dtype} {a.shape}")
    w = None if weights is None else as_tensor(weights, "bincount")._data
    out = np.bincount(a, w, minlength)
    if w is None:
        return Tensor._wrap(out.astype(np.int64))
    return Tensor._wrap(out.astype(w.dtype if w.dtype == np.float32 else np.float64))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of `elements` is in `test_elements` (bool, elements' shape); either may
    be a number. invert=True: whether it is not.

        >>> mt.isin(mt.tensor([1, 2, 3]), mt.tensor([2, 3])).tolist()
        [False, True, True]
    """
    a = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._wrap(np.isin(a, b, assume_unique=assume_unique, invert=invert))


def histc(x: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    """A histogram of `bins` equal bins over [min, max] (both 0: the data's range); outside: ignored."""
    a = as_tensor(x, "histc")._data
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(a.dtype))


def searchsorted(
    sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None, sorter=None
):
    """Where each value would go in the (innermost-dim) sorted sequence to keep it sorted."""
    seq = as_tensor(sorted_sequence, "searchsorted")._data
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    side = side or ("right" if right else "left")
    if sorter is not None:
        seq = np.take_along_axis(seq, as_tensor(sorter, "searchsorted")._data, -1)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, v, side=side)
    else:
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = v.reshape(flat_s.shape[0], -1)
        out = np.stack([np.searchsorted(s, w, side=side) for s, w in zip(flat_s, flat_v)]).reshape(v.shape)
    return Tensor._wrap(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(x, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element among sorted 1-d boundaries (right=True: boundaries[i-1] <= x < ...)."""
    return searchsorted(boundaries, x, out_int32=out_int32, right=right)


class return_types:  # noqa: N801 - PyTorch's name (torch.return_types)
    """The named tuples that (values, indices) functions return, under PyTorch's names."""

    sort = sort_t
    topk = topk_t
    median = median_t
    nanmedian = nanmedian_t
    mode = mode_t
    kthvalue = kthvalue_t
    cummax = cummax_t
    cummin = cummin_t
    aminmax = aminmax_t
    max = _RETURN_TYPES["max"]  # noqa: A003
    min = _RETURN_TYPES["min"]  # noqa: A003
