"""Indexing: x[index] with ints, slices, None, ..., integer arrays and boolean masks.

The derivative of indexing scatters the gradient into zeros (IndexAdd); the
derivative of that scatter is indexing again, so both are differentiable to any order.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, _ViewOp, helper, norm_dim


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
    """x[index] (what `Tensor.__getitem__` does): basic slicing gives a view, integer/bool tensor
    indices a copy; differentiable in x.

        >>> mt.getitem(mt.arange(6).reshape(2, 3), (slice(None), 1)).tolist()
        [1, 4]
    """
    idx = _normalize(index)
    if _is_basic(idx) and not any(i is Ellipsis for i in idx):
        # as PyTorch, x[i, j] is a 0-d view of x, not a copy (NumPy returns a scalar without the `...`)
        idx = (*idx, Ellipsis)
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
    derivatives = {"x": "zero_at(grad, self.index)", "value": "written(grad, self.index, value.ndim)"}

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
    out = np.array(grad)  # a copy, and an array even when the gradient of a 0-dim result is a NumPy scalar
    out[index] = 0
    return out


@helper
def written(grad, index, ndim: int):
    """grad at `index`, with the leading 1-dims NumPy dropped from the written value (of `ndim`
    dims) restored."""
    r = grad[index]
    if ndim > r.ndim:
        r = r.reshape((1,) * (ndim - r.ndim) + tuple(r.shape))
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


# ------------------------------------------ gather / scatter / index_* / masked_* (issue 12, 2.4)
def _full_index(index: np.ndarray, dim: int) -> tuple:
    """The NumPy index of the positions `index` names along dim (all other dims: their position)."""
    nd = index.ndim
    return tuple(
        index if a == dim else np.arange(n).reshape((-1,) + (1,) * (nd - 1 - a))
        for a, n in enumerate(index.shape)
    )


def _int_index(index, op: str, ndim: int | None = None) -> np.ndarray:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu" and not (idx.size == 0 and idx.dtype.kind == "f"):
        raise RuntimeError(f"{op}(): expected an integer (int64) index, got dtype {idx.dtype}")
    if ndim is not None and idx.ndim != ndim and not (idx.ndim == 0 and ndim == 0):
        raise RuntimeError(
            f"{op}(): index must have the same number of dims as the input ({ndim}), got shape {idx.shape}"
        )
    return idx.astype(np.int64, copy=False)


def _check_scatter(op: str, x_shape, idx: np.ndarray, dim: int, src_shape=None) -> None:
    for a, n in enumerate(idx.shape):
        if (a != dim and n > x_shape[a]) or (src_shape is not None and n > src_shape[a]):
            raise RuntimeError(
                f"{op}(): index of shape {idx.shape} must not be larger than the input {x_shape}"
                + (f" or src {src_shape}" if src_shape is not None else "")
                + f" in any dim (dim {dim} excepted for the input)"
            )
    n = x_shape[dim] if x_shape else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(
            f"{op}(): index out of range: values must be in [{-n}, {n}) for dim {dim} of size {n}"
        )


def gather(x: Tensor, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """`out[i][j][k] = x[i][index[i][j][k]][k]` (dim=1): values picked along dim; out has index's shape.

    Example:

        >>> mt.gather(mt.tensor([[1., 2.], [3., 4.]]), 1, mt.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    from .reduce import TakeAlongDim

    x = _as(x, "gather")
    d = norm_dim(dim, x.ndim, "gather")
    idx = _int_index(index, "gather", x.ndim)
    if x.ndim == 0:
        return getitem(x, ...) if idx.size else x
    _check_scatter("gather", x.shape, idx, d)
    part = x
    if any(n != x.shape[a] for a, n in enumerate(idx.shape) if a != d):  # gather may use a corner
        part = getitem(x, tuple(slice(None) if a == d else slice(0, n) for a, n in enumerate(idx.shape)))
    return TakeAlongDim(idx % x.shape[d], d)(part)


def _as(x, op: str) -> Tensor:
    from .base import as_tensor

    return as_tensor(x, op)


class Scatter(Op):
    """x with src written at the positions `index` names along dim (src may be a number)."""

    role = "index"
    __slots__ = ("index", "region")
    derivatives = {
        "x": "zero_at(grad, self.index)",
        "src": "index_add(grad[self.index], self.region, src.shape)",
    }

    def __init__(self, index, region):
        self.index, self.region = index, region

    def forward(self, x, src):
        out = x.copy()
        out[self.index] = src[self.region] if np.ndim(src) else src
        return out


class ScatterAdd(Op):
    """x with src added at the positions `index` names along dim (repeated positions accumulate)."""

    role = "index"
    __slots__ = ("index", "region")
    derivatives = {"x": "grad", "src": "index_add(grad[self.index], self.region, src.shape)"}

    def __init__(self, index, region):
        self.index, self.region = index, region

    def forward(self, x, src):
        out = x.copy()
        np.add.at(out, self.index, src[self.region])
        return out


def _scatter_args(x, dim, index, src, op):
    from .elementwise import cast

    x = _as(x, op)
    d = norm_dim(dim, x.ndim, op)
    idx = _int_index(index, op, x.ndim)
    if x.ndim == 0:
        idx = idx.reshape(1)
    src_shape = src.shape if isinstance(src, Tensor) else None
    _check_scatter(op, x.shape or (1,), idx, d, src_shape if src_shape else None)
    full = _full_index(idx % (x.shape[d] if x.ndim else 1), d)
    if x.ndim == 0:
        full = (0,) if idx.size else (slice(0, 0),)
    region = tuple(slice(0, n) for n in idx.shape) if x.ndim else (slice(0, idx.size),)
    if isinstance(src, Tensor) and src.dtype != x.dtype:
        src = cast(src, x.dtype)
    return x, full, region, src


def scatter(x: Tensor, dim: int, index, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """x with src (a tensor, or the number `value`) written at the positions index names along dim:
    `out[i][index[i][j]] = src[i][j]` for dim=1. reduce='add' / 'multiply' combine instead of writing."""
    if src is None:
        src = value
    if isinstance(src, bool | int | float) and reduce is None:
        src = float(src) if _as(x, "scatter").dtype.kind == "f" else src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
        if reduce == "add":
            if not isinstance(src, Tensor):
                src = Tensor._wrap(
                    np.full(np.shape(_int_index(index, "scatter")), src, _as(x, "scatter").dtype)
                )
            return scatter_add(x, dim, index, src)
        return scatter_reduce(
            x,
            dim,
            index,
            src
            if isinstance(src, Tensor)
            else Tensor._wrap(np.full(np.shape(_int_index(index, "scatter")), src, _as(x, "scatter").dtype)),
            "prod",
        )
    x, full, region, src = _scatter_args(x, dim, index, src, "scatter")
    return Scatter(full, region)(x, src)


def scatter_add(x: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """x with src added at the positions index names along dim: `out[i][index[i][j]] += src[i][j]`."""
    x, full, region, src = _scatter_args(x, dim, index, _as(src, "scatter_add"), "scatter_add")
    return ScatterAdd(full, region)(x, src)


def scatter_reduce(
    x: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """Combine src into x at the positions index names along dim with reduce: 'sum', 'prod', 'mean',
    'amax' or 'amin' (include_self=False: the written positions start from src alone)."""
    from .elementwise import where

    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"scatter_reduce(): reduce must be sum, prod, mean, amax or amin, got {reduce!r}")
    x, full, region, src = _scatter_args(x, dim, index, _as(src, "scatter_reduce"), "scatter_reduce")
    hit = np.zeros(x.shape, bool)
    hit[full] = True
    vals = getitem(src, region)  # the src values that take part, shaped like index
    if reduce in ("sum", "mean"):
        base = x if include_self else where(Tensor._wrap(hit), 0.0 if x.dtype.kind == "f" else 0, x)
        out = ScatterAdd(full, tuple(slice(None) for _ in region))(base, vals)
        if reduce == "sum":
            return out
        count = np.zeros(x.shape, np.int64)
        np.add.at(count, full, 1)
        count = count + (1 if include_self else 0)
        count = np.where(hit, count, 1)
        if x.dtype.kind == "f":
            return out / Tensor._wrap(count.astype(x.dtype))
        return Tensor._wrap(np.floor_divide(out._data, count).astype(x.dtype))
    # prod / amax / amin: one column per index slot, then reduce those columns with the input
    # (a dense formulation, so each piece is a differentiable op with PyTorch's tie rule for max/min)
    from .scan import prod
    from .sort import amax, amin

    flat_pos = np.ravel_multi_index(tuple(np.broadcast_to(i, vals.shape) for i in full), x.shape)
    slots = np.zeros(vals.shape, np.int64)
    order = np.argsort(flat_pos.reshape(-1), kind="stable")
    sorted_pos = flat_pos.reshape(-1)[order]
    first = np.r_[True, sorted_pos[1:] != sorted_pos[:-1]]
    run = np.arange(sorted_pos.size) - np.maximum.accumulate(np.where(first, np.arange(sorted_pos.size), 0))
    slots.reshape(-1)[order] = run
    k = int(slots.max()) + 1 if slots.size else 0
    ident = {"prod": 1.0, "amax": -np.inf, "amin": np.inf}[reduce]
    if x.dtype.kind != "f":
        info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
        ident = {"prod": 1, "amax": info.min if info else False, "amin": info.max if info else True}[reduce]
    filler = Tensor._wrap(np.full((), ident, x.dtype))
    from .shape import reshape, stack

    flat_x = reshape(x, (-1,))
    cols = [flat_x if include_self else where(Tensor._wrap(hit.reshape(-1)), filler, flat_x)]
    flat_vals = reshape(vals, (-1,))
    fp, sl = flat_pos.reshape(-1), slots.reshape(-1)
    for s in range(k):
        pick = sl == s
        col = Tensor._wrap(np.full(x.numel(), ident, x.dtype))
        col = Scatter((fp[pick],), (np.nonzero(pick)[0],))(col, flat_vals)
        cols.append(col)
    table = stack(cols, 1)
    red = {"prod": prod, "amax": amax, "amin": amin}[reduce](table, 1)
    return reshape(red, x.shape)


def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The entries of x at `index` (a 1-d integer tensor) along dim."""
    x = _as(x, "index_select")
    d = norm_dim(dim, x.ndim, "index_select")
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select(): index must be 0-d or 1-d, got shape {idx.shape}")
    return getitem(x, (slice(None),) * d + (idx.reshape(-1),)) if x.ndim else getitem(x, idx.reshape(-1) * 0)


def _dim_index(x, dim, index, op):
    d = norm_dim(dim, x.ndim, op)
    idx = _int_index(index, op).reshape(-1)
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}(): index out of range for dim {dim} of size {n}: {idx.tolist()}")
    return (slice(None),) * d + (idx % n,) if x.ndim else (idx * 0,)


def index_add(x: Tensor, dim: int, index, source, *, alpha=1) -> Tensor:
    """x with alpha * source added at `index` along dim (repeated indices accumulate)."""
    from .elementwise import cast

    x = _as(x, "index_add")
    full = _dim_index(x, dim, index, "index_add")
    source = _as(source, "index_add")
    if source.dtype != x.dtype:
        source = cast(source, x.dtype)
    if alpha != 1:
        source = source * alpha
    try:
        return x + IndexAdd(full, tuple(x.shape))(source)
    except RuntimeError as e:
        raise RuntimeError(
            f"index_add(): source of shape {source.shape} does not fit input {x.shape}: {e}"
        ) from e


def index_copy(x: Tensor, dim: int, index, source) -> Tensor:
    """x with the slices of source written at `index` along dim."""
    x = _as(x, "index_copy")
    return setitem(x, _dim_index(x, dim, index, "index_copy"), source, "index_copy")


def index_fill(x: Tensor, dim: int, index, value) -> Tensor:
    """x with the slices at `index` along dim set to value (a number or a 0-d tensor)."""
    x = _as(x, "index_fill")
    return setitem(x, _dim_index(x, dim, index, "index_fill"), value, "index_fill")


def index_put(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """x with values written (or, accumulate=True, added) at the tuple of index tensors `indices`."""
    x = _as(x, "index_put")
    idx = _normalize(tuple(indices))
    if not accumulate:
        return setitem(x, tuple(indices), values, "index_put")
    from .elementwise import cast

    values = _as(values, "index_put")
    if values.dtype != x.dtype:
        values = cast(values, x.dtype)
    target = np.broadcast_to(np.zeros((), np.int8), x.shape)[idx].shape
    from .shape import expand

    return x + IndexAdd(idx, tuple(x.shape))(expand(values, target) if values.shape != target else values)


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """x with value (a number or a 0-d tensor) where the bool mask (broadcast to x) is True.

    Example:

        >>> scores.masked_fill(mask == 0, float('-inf'))  # the causal-attention idiom
    """
    from .elementwise import Where, cast

    x = _as(x, "masked_fill")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill(): expected a bool mask, got dtype {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, x.shape)
    except ValueError as e:
        raise RuntimeError(f"masked_fill(): mask of shape {m.shape} does not broadcast to {x.shape}") from e
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill(): value must be a 0-d tensor, got shape {value.shape}")
        value = cast(value, x.dtype) if value.dtype != x.dtype else value
    else:
        value = np.asarray(value).astype(x.dtype)
    out = Where()(m, value, x)
    if out.shape != x.shape:
        raise RuntimeError(
            f"masked_fill(): mask of shape {m.shape} would broadcast x {x.shape} to {out.shape}"
        )
    return out


def masked_select(x: Tensor, mask) -> Tensor:
    """The elements of x (broadcast with mask) where mask is True, as a 1-d tensor."""
    from .shape import expand

    x = _as(x, "masked_select")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select(): expected a bool mask, got dtype {m.dtype}")
    shape = np.broadcast_shapes(m.shape, x.shape)
    return getitem(expand(x, *shape) if x.shape != shape else x, np.nonzero(np.broadcast_to(m, shape)))


def masked_scatter(x: Tensor, mask, source) -> Tensor:
    """x with the first elements of source (in order) written where mask is True."""
    from .shape import reshape

    x = _as(x, "masked_scatter")
    m = np.broadcast_to(mask._data if isinstance(mask, Tensor) else np.asarray(mask), x.shape)
    pos = np.nonzero(m)
    n = pos[0].size if pos else 0
    source = _as(source, "masked_scatter")
    if source.numel() < n:
        raise RuntimeError(
            f"masked_scatter(): mask has {n} True elements but source has only {source.numel()}"
        )
    vals = getitem(reshape(source, (-1,)), slice(0, n))
    return setitem(x, pos if x.ndim else m, vals, "masked_scatter")


def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The indices of the non-zero elements: an (N, ndim) tensor, or one 1-d tensor per dim."""
    a = _as(x, "nonzero")._data
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._wrap(np.argwhere(a).astype(np.int64))


def argwhere(x: Tensor) -> Tensor:
    """nonzero(x): the (N, ndim) indices of the non-zero elements."""
    return nonzero(x)


def take(x: Tensor, index) -> Tensor:
    """The elements of x at `index` in x flattened; the result has index's shape."""
    from .shape import reshape

    x = _as(x, "take")
    idx = _int_index(index, "take")
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take(): index out of range for a tensor of {n} elements")
    return getitem(reshape(x, (-1,)), idx % max(n, 1))


def put(x: Tensor, index, source, accumulate: bool = False) -> Tensor:
    """x with source written (accumulate: added) at `index` of x flattened (out of place; put_ in place)."""
    from .shape import reshape

    x = _as(x, "put")
    idx = _int_index(index, "put").reshape(-1)
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"put(): index out of range for a tensor of {n} elements")
    flat = reshape(x, (-1,))
    src = reshape(_as(source, "put"), (-1,))
    out = index_put(flat, (idx % max(n, 1),), src, accumulate)
    return reshape(out, x.shape)


# ------------------------------------------- *_scatter: a copy with one slice replaced (as PyTorch)
def _embed(x, src, index, what: tuple, op: str) -> Tensor:
    """x with src written at index, where src must have exactly the shape of x[index]."""
    x, src = _as(x, op), _as(src, op)
    want = np.empty(x.shape, bool)[index].shape
    if tuple(src.shape) != want:
        raise RuntimeError(
            f"{op}(): expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(want)} (self of shape {tuple(x.shape)}, {what})"
        )
    return setitem(x, index, src, op)


def select_scatter(input, src, dim: int, index: int) -> Tensor:  # noqa: A002
    """A copy of input with input.select(dim, index) replaced by src (of exactly that shape).

    Differentiable in both: the replaced positions send their gradient to src, the rest to input.

    >>> mt.select_scatter(mt.zeros(2, 2), mt.ones(2), 0, 0)   # [[1., 1.], [0., 0.]]
    """
    x = _as(input, "select_scatter")
    d = norm_dim(dim, x.ndim, "select_scatter")
    n = x.shape[d]
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not -n <= index < n:
        raise IndexError(
            f"select_scatter(): index {index} out of range for tensor of size {list(x.shape)} "
            f"at dimension {dim}"
        )
    idx = (slice(None),) * d + (int(index) % n,)
    return _embed(x, src, idx, (f"dim={dim}", f"index={index}"), "select_scatter")


def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:  # noqa: A002
    """A copy of input with the slice start:end:step along dim replaced by src (of exactly its shape).

    >>> mt.slice_scatter(mt.zeros(2, 4), mt.ones(2, 2), 1, 0, 4, 2)   # [[1., 0., 1., 0.], ...]
    """
    x = _as(input, "slice_scatter")
    d = norm_dim(dim, x.ndim, "slice_scatter")
    if step is None:
        step = 1
    if step <= 0:
        raise RuntimeError(f"slice_scatter(): slice step must be positive, got {step}")
    idx = (slice(None),) * d + (slice(start, end, step),)
    return _embed(
        x, src, idx, (f"dim={dim}", f"start={start}", f"end={end}", f"step={step}"), "slice_scatter"
    )


def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """A copy of input with its diagonal (as input.diagonal(offset, dim1, dim2): the diagonal's axis
    last) replaced by src, which must have exactly that shape.

    >>> mt.diagonal_scatter(mt.zeros(2, 2), mt.tensor([1.0, 2.0]))   # [[1., 0.], [0., 2.]]
    """
    x = _as(input, "diagonal_scatter")
    d1 = norm_dim(dim1, x.ndim, "diagonal_scatter")
    d2 = norm_dim(dim2, x.ndim, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter(): dim1 and dim2 cannot be the same, got {dim1} and {dim2}")
    # the positions of the diagonal, one NumPy index array per dim, shaped like the diagonal
    positions = np.arange(x.numel()).reshape(x.shape).diagonal(offset, d1, d2)
    idx = np.unravel_index(positions, x.shape)
    return _embed(x, src, idx, (f"offset={offset}", f"dim1={dim1}", f"dim2={dim2}"), "diagonal_scatter")


def index_reduce(input, dim: int, index, source, reduce: str, *, include_self: bool = True) -> Tensor:  # noqa: A002
    """Reduce the slices of source into input at the positions index (1-D, one per slice of source
    along dim) names along dim: reduce 'prod', 'mean', 'amax' or 'amin' (include_self=False: those
    positions start from source alone). Differentiable as scatter_reduce.

    >>> mt.index_reduce(mt.ones(3), 0, mt.tensor([0, 0]), mt.tensor([2.0, 3.0]), "prod")   # [6., 1., 1.]
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}."
        )
    x, src = _as(input, "index_reduce"), _as(source, "index_reduce")
    d = norm_dim(dim, x.ndim, "index_reduce")
    idx = _int_index(index, "index_reduce")
    if idx.ndim > 1:
        raise RuntimeError(f"index_reduce(): index must be a vector (1-D), got shape {idx.shape}")
    idx = idx.reshape(-1)
    if src.ndim != x.ndim and not (src.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(
            f"index_reduce(): source of shape {tuple(src.shape)} must have as many dims as self "
            f"{tuple(x.shape)}"
        )
    if x.ndim == 0:
        x1 = x.reshape(1)
        return index_reduce(x1, 0, idx, src.reshape(-1), reduce, include_self=include_self).reshape(())
    sd = src.shape[d] if src.ndim else 1
    if idx.size != sd:
        raise RuntimeError(
            f"index_reduce(): index has {idx.size} entries but source has {sd} slices along dim {dim} "
            f"(source of shape {tuple(src.shape)})"
        )
    for a in range(x.ndim):
        if a != d and src.shape[a] != x.shape[a]:
            raise RuntimeError(
                f"index_reduce(): source of shape {tuple(src.shape)} must match self {tuple(x.shape)} "
                f"in every dim but {dim}"
            )
    n = x.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_reduce(): index out of range for dim {dim} of size {n}: {idx.tolist()}")
    shape = [1] * x.ndim
    shape[d] = -1
    full = np.broadcast_to((idx % n if n else idx).reshape(shape), tuple(src.shape))
    return scatter_reduce(
        x, d, Tensor._wrap(np.ascontiguousarray(full)), src, reduce, include_self=include_self
    )
