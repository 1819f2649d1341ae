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
    shape = _shape_arg(shape, "reshape")
    if shape == x.shape:
        return x
    if any(s < -1 for s in shape):  # NumPy would take any negative size as -1
        raise RuntimeError(
            f"reshape: invalid shape {shape} for input of shape {x.shape}: sizes must be >= -1"
        )
    return Reshape(shape)(x)


def permute(x: Tensor, *dims) -> Tensor:
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
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, *axes)


def squeeze(x: Tensor, dim=None) -> Tensor:
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = dim if isinstance(dim, tuple | list) else (dim,)
        axes = {norm_dim(d, x.ndim, "squeeze") for d in dims} if x.ndim else set()
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
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
    ts = _same_dtype(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {ts[0].shape} at entry 0 "
                f"and {t.shape} at entry {i}"
            )
    return Stack(norm_dim(dim, ts[0].ndim + 1, "stack"))(*ts)
