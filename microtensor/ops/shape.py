"""Shape ops: reshape/view, permute/transpose, expand, cat, stack.

squeeze, unsqueeze and flatten are reshapes. Each derivative moves the gradient
back to the input's layout.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from .base import Op, _ViewOp, as_tensor, norm_dim


class Reshape(_ViewOp):
    role = "shape"
    __slots__ = ("shape",)
    derivatives = {"x": "grad.reshape(x.shape)"}

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return np.reshape(x, self.shape)

    def error_message(self, arrays, err: Exception) -> str:
        x = arrays[0]
        return f"reshape: shape {self.shape} is invalid for input of shape {x.shape} (size {x.size}): {err}"


class Permute(_ViewOp):
    role = "shape"
    __slots__ = ("axes", "inverse")
    derivatives = {"x": "permute(grad, self.inverse)"}

    def __init__(self, axes):
        self.axes = axes
        self.inverse = tuple(int(a) for a in np.argsort(axes))  # the permutation that undoes axes

    def forward(self, x):
        return np.transpose(x, self.axes)


class Expand(_ViewOp):
    role = "shape"
    __slots__ = ("shape",)
    derivatives = {"x": "grad"}  # the engine sums it over the expanded axes

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return np.broadcast_to(x, self.shape)


class Cat(Op):
    role = "shape"
    __slots__ = ("dim", "starts")
    derivatives = {"xs": "narrow(grad, self.dim, self.starts[i], xs[i].shape[self.dim])"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        out = np.concatenate(xs, axis=self.dim)  # first: NumPy names bad inputs
        self.starts = [0, *itertools.accumulate(x.shape[self.dim] for x in xs)]
        return out


class Stack(Op):
    role = "shape"
    __slots__ = ("dim",)
    derivatives = {"xs": "select(grad, self.dim, i)"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        return np.stack(xs, axis=self.dim)


# ----------------------------------------------------------- public functions
def _shape_arg(shape, op: str) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) like PyTorch."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, int | np.integer) or isinstance(s, bool):
            raise TypeError(f"{op}: sizes must be ints, got {shape!r}")
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (one dim may be -1: inferred); a view when the
    strides allow it, else a copy. The shape may be given as ints or as one tuple.

        >>> mt.reshape(mt.arange(6), (2, -1)).shape
        torch.Size([2, 3])
    """
    shape = _shape_arg(shape, "reshape")
    if shape == x.shape:
        return x
    if any(s < -1 for s in shape):  # NumPy would take any negative size as -1
        raise RuntimeError(
            f"reshape: invalid shape {shape} for input of shape {x.shape}: sizes must be >= -1"
        )
    return Reshape(shape)(x)


def view(x: Tensor, *shape) -> Tensor:
    """x's storage seen with `shape` (one size may be -1), never a copy, as torch's `Tensor.view`.

    Raises RuntimeError when x's strides cannot be read as the new shape without copying (e.g.
    `mt.ones(2, 3).t().view(6)`); `reshape` copies in that case. Writes through the view show in x.
    """
    shape = _shape_arg(shape, "view")
    if shape == x.shape:
        return x
    if any(s < -1 for s in shape):
        raise RuntimeError(f"view: invalid shape {shape} for input of shape {x.shape}: sizes must be >= -1")
    try:
        np.reshape(x._data, shape, copy=False)  # raises if NumPy would have to copy
    except ValueError as e:
        try:
            np.empty(x.shape, np.bool_).reshape(shape)
        except ValueError:  # the sizes themselves do not fit
            raise RuntimeError(
                f"view: shape {shape} is invalid for input of shape {x.shape} (size {x.numel()})"
            ) from e
        raise RuntimeError(
            f"view: view size is not compatible with input tensor's size and stride: a tensor of shape "
            f"{x.shape} with strides {x.stride()} cannot be seen as shape {shape} without a copy (at least "
            "one dimension spans across two contiguous subspaces); use .reshape(...) instead"
        ) from e
    return Reshape(shape)(x)


def permute(x: Tensor, *dims) -> Tensor:
    """A view with the dims reordered: result dim i is input dim `dims[i]`.

    Example:

        >>> mt.permute(mt.zeros(2, 3, 4), (2, 0, 1)).shape
        torch.Size([4, 2, 3])
    """
    dims = _shape_arg(dims, "permute")
    axes = tuple(norm_dim(d, x.ndim, "permute") for d in dims) if x.ndim else ()
    if sorted(axes) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: dims {dims} must be a permutation of the {x.ndim} dims of a tensor of shape {x.shape}"
        )
    if axes == tuple(range(x.ndim)):
        return x
    return Permute(axes)(x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims `dim0` and `dim1` swapped.

    Example:

        >>> mt.transpose(mt.zeros(2, 3, 4), 0, 2).shape
        torch.Size([4, 3, 2])
    """
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, *axes)


def squeeze(x: Tensor, dim=None) -> Tensor:
    """A view without size-1 dims: all of them, or only `dim` (an int or a tuple) when it has size 1.

    Example:

        >>> mt.squeeze(mt.zeros(2, 1, 3, 1)).shape, mt.squeeze(mt.zeros(2, 1, 3, 1), 1).shape
        (torch.Size([2, 3]), torch.Size([2, 3, 1]))
    """
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = dim if isinstance(dim, tuple | list) else (dim,)
        axes = {norm_dim(d, x.ndim, "squeeze") for d in dims} if x.ndim else set()
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A view with a new size-1 dim inserted at `dim` (negative counts from the end of the result).

    Example:

        >>> mt.unsqueeze(mt.zeros(2, 3), 0).shape, mt.unsqueeze(mt.zeros(2, 3), -1).shape
        (torch.Size([1, 2, 3]), torch.Size([2, 3, 1]))
    """
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims `start_dim` through `end_dim` merged into one (all dims by default).

    Example:

        >>> mt.flatten(mt.zeros(2, 3, 4), start_dim=1).shape
        torch.Size([2, 12])
    """
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = norm_dim(start_dim, x.ndim, "flatten"), norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    return reshape(x, x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :])


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast x to `sizes` without copying; -1 keeps a dim's size (as PyTorch)."""
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes))
    for i, n in enumerate(shape):
        old = x.shape[i - lead] if i >= lead else 1
        if n < 0 or (old != 1 and old != n):
            raise RuntimeError(
                f"expand: the expanded size {n} must match the existing size {old} at "
                f"dimension {i} (tensor shape {x.shape}, requested {sizes}); only size-1 dims expand"
            )
    if shape == x.shape:
        return x
    return Expand(shape)(x)


def _same_dtype(tensors, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, tuple | list):
        raise TypeError(f"{op}: expected a sequence of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    ts = [as_tensor(t, op) for t in tensors]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _dtypes.result_type(Tensor._wrap(np.empty((1,), dt)), t) if t.dtype != dt else dt
    from .elementwise import cast

    return [cast(t, dt) for t in ts]


def cat(tensors, dim: int = 0) -> Tensor:
    """Tensors joined along an existing `dim`; all other dims must agree (`concat` is the same).

    Example:

        >>> mt.cat([mt.zeros(2, 3), mt.ones(1, 3)]).shape
        torch.Size([3, 3])
    """
    ts = _same_dtype(tensors, "cat")
    axis = norm_dim(dim, ts[0].ndim, "cat")
    for i, t in enumerate(ts):
        if (
            t.ndim != ts[0].ndim
            or t.shape[:axis] + t.shape[axis + 1 :] != ts[0].shape[:axis] + ts[0].shape[axis + 1 :]
        ):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {axis}; tensor 0 has shape "
                f"{ts[0].shape} but tensor {i} has shape {t.shape}"
            )
    return Cat(axis)(*ts)


def stack(tensors, dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new `dim`.

    Example:

        >>> mt.stack([mt.zeros(2, 3), mt.ones(2, 3)], dim=1).shape
        torch.Size([2, 2, 3])
    """
    ts = _same_dtype(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {ts[0].shape} at entry 0 "
                f"and {t.shape} at entry {i}"
            )
    return Stack(norm_dim(dim, ts[0].ndim + 1, "stack"))(*ts)


# ------------------------------------------------- splitting, flipping, tiling (issue 12, step 2.4)
# These are compositions of recorded ops (basic indexing, reshape, expand, cat, where), so their
# gradients, and the gradients of those, come from the ops they are built from.
def _index_along(x: Tensor, dim: int, item) -> Tensor:
    """x[..., item, ...] with item at axis dim (a slice, an int or an integer array)."""
    from .index import getitem

    return getitem(x, (slice(None),) * dim + (item,))


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of x along dim: of `split_size` each (the last may be smaller), or of the given sizes.

    Example:

        >>> [p.shape for p in mt.arange(5).split(2)]
        [torch.Size([2]), torch.Size([2]), torch.Size([1])]
    """
    x = as_tensor(x, "split")
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise RuntimeError(f"split: split_size must be a positive int, got {size} for a dim of size {n}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split: split_sizes {sizes} must be non-negative and sum to the size {n} of dim {dim} "
                f"(tensor of shape {x.shape})"
            )
    starts = [0, *itertools.accumulate(sizes)]
    return tuple(_index_along(x, d, slice(starts[k], starts[k + 1])) for k in range(len(sizes)))


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """n nearly equal pieces (the first n % size one longer), or pieces cut at the given indices."""
    x = as_tensor(x, "tensor_split")
    d = norm_dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        cuts = list(itertools.accumulate(sizes))[:-1]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, n]
    return tuple(
        _index_along(x, d, slice(min(max(a, 0), n), max(min(b, n), min(max(a, 0), n))))
        for a, b in zip(bounds[:-1], bounds[1:])
    )


def _split_along(x, indices_or_sections, dim: int, least: int, name: str) -> tuple[Tensor, ...]:
    x = as_tensor(x, name)
    if x.ndim < least:
        raise RuntimeError(
            f"{name} requires a tensor with at least {least} dimension, but got a tensor with {x.ndim} "
            f"dimensions (shape {tuple(x.shape)})"
        )
    if isinstance(indices_or_sections, int | np.integer) and not isinstance(indices_or_sections, bool):
        k, n = int(indices_or_sections), x.shape[dim]
        if k <= 0 or n % k:
            raise RuntimeError(
                f"{name} attempted to split along dimension {dim}, but the size of the dimension {n} is "
                f"not divisible by the split_size {k}!"
            )
    return tensor_split(x, indices_or_sections, dim)


def hsplit(input, indices_or_sections) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 1 (dim 0 for a 1-D tensor); an int must divide that dim evenly.

    >>> [p.shape for p in mt.hsplit(mt.zeros(2, 6), 3)]   # three (2, 2) pieces
    """
    x = as_tensor(input, "hsplit")
    return _split_along(x, indices_or_sections, 0 if x.ndim == 1 else 1, 1, "hsplit")


def vsplit(input, indices_or_sections) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 0 of a tensor with at least 2 dims; an int must divide it evenly.

    >>> [p.shape for p in mt.vsplit(mt.zeros(4, 2), [1])]   # (1, 2) and (3, 2)
    """
    return _split_along(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input, indices_or_sections) -> tuple[Tensor, ...]:  # noqa: A002
    """tensor_split along dim 2 of a tensor with at least 3 dims; an int must divide it evenly.

    >>> [p.shape for p in mt.dsplit(mt.zeros(1, 2, 4), 2)]   # two (1, 2, 2) pieces
    """
    return _split_along(input, indices_or_sections, 2, 3, "dsplit")


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces of ceil(size / chunks) along dim (as torch.chunk)."""
    x = as_tensor(x, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    n = x.shape[norm_dim(dim, x.ndim, "chunk")]
    return split(x, -(-n // chunks), dim) if n else (x,)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along dim, that dim removed."""
    x = as_tensor(x, "unbind")
    d = norm_dim(dim, x.ndim, "unbind")
    return tuple(_index_along(x, d, i) for i in range(x.shape[d]))


def flip(x: Tensor, dims) -> Tensor:
    """x with the order of elements reversed along each of dims."""
    x = as_tensor(x, "flip")
    dims = dims if isinstance(dims, tuple | list) else (dims,)
    axes = {norm_dim(d, x.ndim, "flip") for d in dims}
    if not axes or x.ndim == 0:
        return x.clone()
    from .index import getitem

    return getitem(x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim)))


def fliplr(x: Tensor) -> Tensor:
    """flip(x, 1): needs at least 2 dims."""
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {x.shape}")
    return flip(x, 1)


def flipud(x: Tensor) -> Tensor:
    """flip(x, 0): needs at least 1 dim."""
    if x.ndim < 1:
        raise RuntimeError(f"flipud: input must be >= 1-d, got shape {x.shape}")
    return flip(x, 0)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """x with elements shifted along dims, wrapping around (dims=None: over the flattened tensor)."""
    x = as_tensor(x, "roll")
    if dims is None:
        if isinstance(shifts, tuple | list):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: with dims=None, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = tuple(shifts) if isinstance(shifts, tuple | list) else (shifts,)
    dims = tuple(dims) if isinstance(dims, tuple | list) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = x
    for s, d in zip(shifts, dims):
        a = norm_dim(d, x.ndim, "roll")
        n = x.shape[a]
        if n:
            out = _index_along(out, a, (np.arange(n) - int(s)) % n)
    return out


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """x rotated by 90° k times in the plane of dims (from the first towards the second)."""
    x = as_tensor(x, "rot90")
    if len(dims) != 2 or x.ndim < 2:
        raise RuntimeError(
            f"rot90: expected two dims of a tensor with >= 2 dims, got dims {dims}, shape {x.shape}"
        )
    a, b = (norm_dim(d, x.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 0:
        return x.clone()
    if k == 1:
        return transpose(flip(x, b), a, b)
    if k == 2:
        return flip(x, (a, b))
    return flip(transpose(x, a, b), b)


def repeat(x: Tensor, *sizes) -> Tensor:
    """x tiled `sizes[i]` times along each dim (sizes may add leading dims), as Tensor.repeat."""
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number of "
            f"dims of the tensor ({x.ndim})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    # (…, 1, n, …) expanded to (…, r, n, …), then merged: each dim's copies follow one another
    inter = tuple(v for n in shape for v in (1, n))
    big = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
    return reshape(expand(reshape(x, inter), big), tuple(r * n for r, n in zip(sizes, shape)))


def tile(x: Tensor, dims) -> Tensor:
    """repeat, where fewer dims than x has are padded with leading 1s (as torch.tile)."""
    dims = tuple(dims) if isinstance(dims, tuple | list) else (dims,)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(x, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element repeated `repeats` times (an int or one count per element) along dim
    (dim=None: over the flattened tensor). With only a Tensor of counts: the indices repeated."""
    if repeats is None:  # repeat_interleave(counts): arange(len(counts)) repeated by counts
        counts = as_tensor(x, "repeat_interleave")._data
        return Tensor._wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    x = as_tensor(x, "repeat_interleave")
    if dim is None:
        x, d = flatten(x), 0
    else:
        d = norm_dim(dim, x.ndim, "repeat_interleave")
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.dtype.kind not in "iu" or (reps < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative ints, got {repeats}")
    n = x.shape[d] if x.ndim else 1
    if reps.ndim and reps.size not in (1, n):
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim {d}, "
            f"got {reps.size} repeats for size {n}"
        )
    return _index_along(x, d, np.repeat(np.arange(n), reps.reshape(-1) if reps.ndim else int(reps)))


def narrow(x: Tensor, dim: int, start, length: int) -> Tensor:
    """The slice start:start+length of x along dim (a view)."""
    x = as_tensor(x, "narrow")
    d = norm_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    start = int(start)
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {dim}"
        )
    return _index_along(x, d, slice(start, start + length))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """x[..., index, ...] along dim, that dim removed."""
    x = as_tensor(x, "select")
    d = norm_dim(dim, x.ndim, "select")
    n = x.shape[d]
    if not -n <= int(index) < n:
        raise IndexError(f"select: index {index} out of range for dimension {dim} of size {n}")
    return _index_along(x, d, int(index) % n)


def movedim(x: Tensor, source, destination) -> Tensor:
    """x with dims moved from source to destination (ints or sequences), the others in order."""
    x = as_tensor(x, "movedim")
    src = tuple(source) if isinstance(source, tuple | list) else (source,)
    dst = tuple(destination) if isinstance(destination, tuple | list) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same number of dims")
    src = tuple(norm_dim(d, x.ndim, "movedim") for d in src)
    dst = tuple(norm_dim(d, x.ndim, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {source} or destination {destination}")
    rest = iter(a for a in range(x.ndim) if a not in src)
    where = dict(zip(dst, src))
    return permute(x, *[where[i] if i in where else next(rest) for i in range(x.ndim)])


moveaxis = movedim


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """transpose(x, axis0, axis1) under NumPy's name."""
    return transpose(x, axis0, axis1)


swapdims = swapaxes


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Dim `dim` of x split into `sizes` (one of them may be -1)."""
    x = as_tensor(x, "unflatten")
    d = norm_dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    if (
        sizes.count(-1) > 1
        or (-1 not in sizes and known != x.shape[d])
        or (-1 in sizes and (known == 0 or x.shape[d] % known))
    ):
        raise RuntimeError(
            f"unflatten: provided sizes {sizes} don't multiply up to the size of dim {dim} ({x.shape[d]}) "
            f"in the input tensor of shape {x.shape}"
        )
    sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])


def ravel(x: Tensor) -> Tensor:
    """x as one dimension."""
    return reshape(x, (-1,))


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The shape that tensors of `shapes` broadcast to."""
    from ..size import Size

    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError as e:
        raise RuntimeError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast: {e}") from e


def broadcast_to(x: Tensor, size) -> Tensor:
    """expand(x, size)."""
    return expand(as_tensor(x, "broadcast_to"), tuple(size))


def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape."""
    ts = [as_tensor(t, "broadcast_tensors") for t in tensors]
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(expand(t, shape) for t in ts)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (1-d (n,) becomes (1, n))."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(tensors, 3)


def _atleast(tensors, k: int):
    if len(tensors) == 1 and isinstance(tensors[0], tuple | list):
        return tuple(_atleast(tuple(tensors[0]), k))
    out = []
    for t in tensors:
        t = as_tensor(t, f"atleast_{k}d")
        s = tuple(t.shape)
        if len(s) < k:
            s = {0: (1,) * k, 1: ((1,) + s + (1,))[:k] if k == 3 else (1,) + s, 2: s + (1,)}[len(s)]
        out.append(reshape(t, s))
    return out[0] if len(out) == 1 else tuple(out)


def hstack(tensors) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = atleast_1d(*tensors) if len(tensors) != 1 else (atleast_1d(tensors[0]),)
    return cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate along dim 0, 1-d tensors as rows."""
    ts = atleast_2d(*tensors) if len(tensors) != 1 else (atleast_2d(tensors[0]),)
    return cat(list(ts), 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Concatenate along dim 2, after atleast_3d."""
    ts = atleast_3d(*tensors) if len(tensors) != 1 else (atleast_3d(tensors[0]),)
    return cat(list(ts), 2)


def column_stack(tensors) -> Tensor:
    """1-d (and 0-d) tensors as columns, then concatenate along dim 1."""
    ts = [as_tensor(t, "column_stack") for t in tensors]
    return hstack([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts])


def meshgrid(*tensors, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors; indexing 'ij' (the default, as PyTorch) or 'xy'."""
    if len(tensors) == 1 and isinstance(tensors[0], tuple | list):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor(t, "meshgrid") for t in tensors]
    if any(t.ndim > 1 for t in ts):
        raise RuntimeError(f"meshgrid: expects 0-d or 1-d tensors, got shapes {[t.shape for t in ts]}")
    ts = [reshape(t, (-1,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0, *range(2, len(ts))] if swap else list(range(len(ts)))
    shape = tuple(ts[i].shape[0] for i in order)
    out = []
    for k, t in enumerate(ts):
        pos = order.index(k)
        view = [1] * len(ts)
        view[pos] = t.shape[0]
        out.append(expand(reshape(t, tuple(view)), shape))
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of the elements of 1-d tensors, one per row (one tensor: itself)."""
    if len(tensors) == 1:
        return as_tensor(tensors[0], "cartesian_prod")
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


# ------------------------------------------------------------ triangles and diagonals
def _tri(x: Tensor, diagonal: int, lower: bool, op: str) -> Tensor:
    from .elementwise import Where

    x = as_tensor(x, op)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    r, c = x.shape[-2:]
    keep = (np.arange(c)[None, :] - np.arange(r)[:, None]) <= diagonal
    if not lower:
        keep = (np.arange(c)[None, :] - np.arange(r)[:, None]) >= diagonal
    return Where()(keep, x, np.zeros((), x.dtype))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (at and below the `diagonal`-th diagonal); 0 elsewhere.

    Example:

        >>> mt.tril(mt.ones(3, 3))  # the causal mask
    """
    return _tri(x, diagonal, True, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (at and above the `diagonal`-th diagonal); 0 elsewhere."""
    return _tri(x, diagonal, False, "triu")


def _tri_indices(row: int, col: int, offset: int, lower: bool, dtype) -> Tensor:
    r, c = np.indices((row, col))
    keep = (c - r <= offset) if lower else (c - r >= offset)
    return Tensor._wrap(np.stack([r[keep], c[keep]]).astype(np.dtype(dtype or np.int64)))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, True, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, False, dtype)


def _diag_index(shape, offset: int, d1: int, d2: int):
    """The integer index of diagonal `offset` of dims d1, d2 (and its length)."""
    n1, n2 = shape[d1], shape[d2]
    length = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
    i = np.arange(length)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    return rows, cols, length


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` of the matrices in dims dim1, dim2, as the last dim of the result."""
    x = as_tensor(x, "diagonal")
    d1, d2 = norm_dim(dim1, x.ndim, "diagonal"), norm_dim(dim2, x.ndim, "diagonal")
    if x.ndim < 2 or d1 == d2:
        raise RuntimeError(
            f"diagonal: dim1 ({dim1}) and dim2 ({dim2}) must be distinct dims of shape {x.shape}"
        )
    rows, cols, _ = _diag_index(x.shape, offset, d1, d2)
    rest = [a for a in range(x.ndim) if a not in (d1, d2)]
    moved = permute(x, *rest, d1, d2)
    from .index import getitem

    return getitem(moved, (Ellipsis, rows, cols))


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims dim1, dim2 of the result) with the last dim of x on diagonal `offset`."""
    from .index import IndexAdd

    x = as_tensor(x, "diag_embed")
    n = x.shape[-1] + abs(offset)
    nd = x.ndim + 1
    d1, d2 = norm_dim(dim1, nd, "diag_embed"), norm_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 ({dim1}) and dim2 ({dim2}) must differ")
    rows, cols, _ = _diag_index((n, n), offset, 0, 1)
    out = IndexAdd((Ellipsis, rows, cols), tuple(x.shape[:-1]) + (n, n))(x)
    rest = [a for a in range(nd) if a not in (d1, d2)]
    order = rest + [d1, d2]
    return permute(out, *[order.index(a) for a in range(nd)])


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """1-d input: a square matrix with x on the given diagonal; 2-d input: that diagonal of x."""
    x = as_tensor(x, "diag")
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    raise RuntimeError(f"diag: expects a 1-d or 2-d tensor, got shape {x.shape}")


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened x on diagonal `offset`."""
    return diag_embed(flatten(as_tensor(x, "diagflat")), offset, 0, 1)


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-d tensor."""
    x = as_tensor(x, "trace")
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {x.shape}")
    return diagonal(x).sum()


def block_diag(*tensors) -> Tensor:
    """The tensors (0-d, 1-d as a row, or 2-d) placed along the diagonal of one zero matrix."""
    from .elementwise import cast
    from .index import IndexAdd

    ts = [as_tensor(t, "block_diag") for t in tensors]
    mats = [reshape(t, (1, -1) if t.ndim == 1 else (1, 1)) if t.ndim < 2 else t for t in ts]
    if any(m.ndim != 2 for m in mats):
        raise RuntimeError(f"block_diag: inputs must have 2 or fewer dims, got {[t.shape for t in ts]}")
    if not mats:
        return Tensor._wrap(np.zeros((1, 0), np.float32))
    dt = _same_dtype(mats, "block_diag")[0].dtype
    r = sum(m.shape[0] for m in mats)
    c = sum(m.shape[1] for m in mats)
    out, i, j = None, 0, 0
    for m in mats:
        part = IndexAdd((slice(i, i + m.shape[0]), slice(j, j + m.shape[1])), (r, c))(cast(m, dt))
        out = part if out is None else out + part
        i, j = i + m.shape[0], j + m.shape[1]
    return out


def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along dim (None: the first dim of size 3, as torch.cross)."""
    from .index import getitem

    a, b = as_tensor(a, "cross"), as_tensor(b, "cross")
    a, b = (expand(t, *np.broadcast_shapes(a.shape, b.shape)) for t in (a, b))
    if dim is None:
        dim = next((i for i, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {a.shape}")
    d = norm_dim(dim, a.ndim, "cross")
    if a.shape[d] != 3:
        raise RuntimeError(f"cross: dimension {dim} does not have size 3 (shape {a.shape})")

    def c(t, i):
        return getitem(t, (slice(None),) * d + (slice(i, i + 1),))

    parts = [c(a, (i + 1) % 3) * c(b, (i + 2) % 3) - c(a, (i + 2) % 3) * c(b, (i + 1) % 3) for i in range(3)]
    return cat(parts, d)


def combinations(x: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-d tensor's elements, one per row (as itertools)."""
    from .index import getitem

    x = as_tensor(x, "combinations")
    if x.ndim != 1:
        raise RuntimeError(f"combinations: expects a 1-d tensor, got shape {x.shape}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(x.shape[0]), r)), np.int64).reshape(-1, r)
    return getitem(x, rows)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distances between the rows of x1 (…, P, M) and of x2 (…, R, M): shape (…, P, R)."""
    from . import reduce as _r
    from .elementwise import abs as _abs

    x1, x2 = as_tensor(x1, "cdist"), as_tensor(x2, "cdist")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: expected (…, P, M) and (…, R, M) inputs, got {x1.shape} and {x2.shape}")
    diff = _abs(unsqueeze(x1, -2) - unsqueeze(x2, -3))
    if p == 0:
        return _r.sum((diff != 0).to(x1.dtype), -1)
    if p == float("inf"):
        # as PyTorch: every coordinate tied for the largest gets the full gradient (not a share);
        # the value is the constant maximum plus terms that are 0 but carry that gradient
        from .elementwise import Where

        top = np.max(diff._data, axis=-1, keepdims=True)
        hit = diff._data == top
        moved = Where()(hit, diff - Tensor._wrap(diff._data), np.zeros((), diff.dtype))
        return _r.sum(moved, -1) + Tensor._wrap(top[..., 0])
    if p == 2:
        # the gradient at a zero distance is 0, as PyTorch's (not 0/0)
        from .elementwise import Std

        return Std()(_r.sum(diff * diff, -1))
    return _r.sum(diff**p, -1) ** (1.0 / p)


def as_strided(input, size, stride, storage_offset=None) -> Tensor:  # noqa: A002
    """The elements at storage_offset + Σ i_k · stride[k] of input's elements in row-major order, in
    a tensor of `size`: PyTorch's as_strided read from a contiguous tensor that owns its storage.

    Unlike PyTorch's, the result is a copy, not a view (writes to it do not reach input): read-only
    semantics. Differentiable: each input element gets the sum of the gradients of the positions
    that read it. Input must be contiguous; every position must lie inside its elements.

    >>> mt.arange(6.0).as_strided((2, 2), (1, 2))   # tensor([[0., 2.], [1., 3.]])
    """
    from .index import getitem

    x = as_tensor(input, "as_strided")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(
            f"as_strided: mismatch in length of strides and shape: {list(size)} and {list(stride)}"
        )
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}"
        )
    if any(s < 0 for s in size) or offset < 0:
        raise RuntimeError(f"as_strided: sizes {list(size)} and storage offset {offset} must be non-negative")
    if not x._data.flags.c_contiguous:
        raise RuntimeError(
            f"as_strided: input of shape {tuple(x.shape)} with strides {x.stride()} is not contiguous; "
            "call .contiguous() first (microtensor reads the elements in row-major order)"
        )
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > x.numel():
        raise RuntimeError(
            f"as_strided: sizes {list(size)}, strides {list(stride)}, storage offset {offset} require "
            f"{needed} elements, out of bounds for an input of {x.numel()} elements"
        )
    positions = np.full(size, offset, np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        positions = positions + (np.arange(n) * s).reshape((-1,) + (1,) * (len(size) - 1 - k))
    return getitem(reshape(x, (-1,)), (positions,))


def split_with_sizes(input, split_sizes, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Pieces of input along dim with the given sizes (which must sum to that dim's size): split
    with a list.

    >>> [p.shape for p in mt.zeros(5).split_with_sizes([2, 3])]   # (2,) and (3,)
    """
    if isinstance(split_sizes, int | np.integer):
        raise TypeError("split_with_sizes(): argument 'split_sizes' must be a sequence of ints, not int")
    return split(input, list(split_sizes), dim)


def narrow_copy(input, dim: int, start, length: int) -> Tensor:  # noqa: A002
    """narrow(input, dim, start, length) as a new tensor (its own storage), not a view.

    >>> mt.arange(5).narrow_copy(0, 1, 2)   # tensor([1, 2])
    """
    from .elementwise import clone

    return clone(narrow(input, dim, start, length))
