"""Products and scans: prod, cumsum, cumprod (issue 12, step 2.3).

The derivatives stay correct where inputs are 0: they never divide by an element that is 0
(the product of the others is formed instead), as PyTorch's.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from . import _xp
from .base import Op, as_tensor, helper, norm_dim


def _acc_dtype(x: Tensor, dtype) -> np.dtype:
    """PyTorch's result dtype of sum-like ops: integers and bools accumulate in int64."""
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype


class Prod(Op):
    """The product over all elements or along one dim."""

    role = "reduction"
    __slots__ = ("axis", "keepdim")
    derivatives = {"x": "prod_grad(grad, x, out, self.axis, self.keepdim)"}

    def __init__(self, axis, keepdim):
        self.axis, self.keepdim = axis, keepdim

    def forward(self, x):
        return np.multiply.reduce(x, axis=self.axis, keepdims=self.keepdim)


@helper
def prod_grad(grad, x, out, axis, keepdim):
    """∂prod/∂x_i · grad = the product of the others: out / x_i where no factor is 0; at a single 0,
    the product of the rest; with two or more 0s, 0."""
    axes = None if axis is None else (axis,)
    g, o = _xp.kept(grad, x.shape, axes, keepdim), _xp.kept(out, x.shape, axes, keepdim)
    zero = _xp.constant(x) == 0
    if not zero.any():
        return g * o / x
    if isinstance(x, Tensor):  # create_graph: a polynomial form, differentiable again at the zeros
        return g * _others_product(x, axis)
    zeros = np.sum(zero, axis=axis, keepdims=True)
    safe = _xp.where(zero, 1.0, x)
    others = (
        safe.prod(axis, keepdim=True) if isinstance(safe, Tensor) else np.prod(safe, axis=axis, keepdims=True)
    )
    return _xp.where(zeros == 0, g * o / safe, _xp.where(zero & (zeros == 1), g * others, 0.0))


class Cumsum(Op):
    """Running sums along dim."""

    role = "reduction"
    __slots__ = ("dim",)
    derivatives = {"x": "revcumsum(grad, self.dim)"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return np.cumsum(x, axis=self.dim)


@helper
def revcumsum(a, dim: int):
    """Sums from each position to the end along dim (the adjoint of cumsum)."""
    if isinstance(a, Tensor):
        return a.flip(dim).cumsum(dim).flip(dim)
    return np.flip(np.cumsum(np.flip(a, dim), axis=dim), dim)


class Cumprod(Op):
    """Running products along dim."""

    role = "reduction"
    __slots__ = ("dim",)
    derivatives = {"x": "cumprod_grad(grad, x, out, self.dim)"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return np.cumprod(x, axis=self.dim)


@helper
def cumprod_grad(grad, x, out, dim: int):
    """Σ_{j≥i} grad_j · Π_{k≤j, k≠i} x_k. Before the first 0 along dim that is revcumsum(grad·out)/x;
    at the first 0 it is revcumsum(grad·out') with that 0 replaced by 1 in out'; after it, 0."""
    zero = _xp.constant(x) == 0
    if not zero.any():
        return revcumsum(grad * out, dim) / x
    if isinstance(x, Tensor):  # create_graph: a polynomial form, differentiable again at the zeros
        return _cumprod_grad_poly(grad, x, dim)
    seen = np.cumsum(zero, axis=dim)
    before, first = seen == 0, zero & (seen == 1)
    safe = _xp.where(zero, 1.0, x)
    part = revcumsum(grad * out, dim) / safe
    x1 = _xp.where(first, 1.0, x)
    out1 = x1.cumprod(dim) if isinstance(x1, Tensor) else np.cumprod(x1, axis=dim)
    at_zero = revcumsum(grad * out1, dim)
    return _xp.where(before, part, _xp.where(first, at_zero, 0.0))


def _exclusive_cumprod(xm: Tensor) -> Tensor:
    """Along the last dim: Π_{k<i} x_k (1 at i = 0), without division (exact with zeros)."""
    from .shape import cat

    n = xm.shape[-1]
    ones = Tensor._wrap(np.ones((*xm.shape[:-1], 1), xm.dtype))
    return cat([ones, xm[..., : n - 1]], -1).cumprod(-1)


def _others_product(x: Tensor, axis) -> Tensor:
    """Π_{k≠i} x_k over axis (None: all elements), as (left product) · (right product)."""
    xm = x.reshape(-1) if axis is None else x.movedim(axis, -1)
    both = _exclusive_cumprod(xm) * _exclusive_cumprod(xm.flip(-1)).flip(-1)
    return both.reshape(x.shape) if axis is None else both.movedim(-1, axis)


def _cumprod_grad_poly(grad: Tensor, x: Tensor, dim: int) -> Tensor:
    """Σ_{j≥i} grad_j · (Π_{k<i} x_k) · (Π_{i<k≤j} x_k), with the last factor as the running product
    of an (n, n) table per slice: O(n²), used only when differentiating through zeros."""
    xm, gm = x.movedim(dim, -1), grad.movedim(dim, -1)
    n = xm.shape[-1]
    i, k = np.arange(n)[:, None], np.arange(n)[None, :]
    table = _xp.where(k > i, xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n), 1.0).cumprod(-1)
    s = _xp.where(k >= i, gm.unsqueeze(-2) * table, 0.0).sum(-1)
    return (_exclusive_cumprod(xm) * s).movedim(-1, dim)


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of all elements, or along dim (integers give int64, as PyTorch).

    >>> mt.tensor([[1., 2.], [3., 4.]]).prod(1)
    tensor([ 2., 12.])
    """
    from .elementwise import cast

    x = as_tensor(x, "prod")
    x = cast(x, _acc_dtype(x, dtype))
    axis = None if dim is None else (norm_dim(dim, x.ndim, "prod") if x.ndim else None)
    return Prod(axis, keepdim if axis is not None else False)(x)


def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along dim: out[i] = x[0] + ... + x[i]."""
    from .elementwise import cast

    x = as_tensor(x, "cumsum")
    x = cast(x, _acc_dtype(x, dtype))
    d = norm_dim(dim, x.ndim, "cumsum")
    return Cumsum(d)(x) if x.ndim else x.clone()


def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along dim: out[i] = x[0] · ... · x[i] (gradient exact at zeros)."""
    from .elementwise import cast

    x = as_tensor(x, "cumprod")
    x = cast(x, _acc_dtype(x, dtype))
    d = norm_dim(dim, x.ndim, "cumprod")
    return Cumprod(d)(x) if x.ndim else x.clone()


def _check_float(x, op):
    if not _dtypes.is_floating(x.dtype):
        raise RuntimeError(f"{op}(): expected a floating point input, got {x.dtype}")


class LogCumSumExp(Op):
    """log Σ_{k≤i} exp(x_k) along dim."""

    role = "reduction"
    public_name = "logcumsumexp"
    __slots__ = ("dim",)
    # ∂out_j/∂x_i = exp(x_i − out_j) for i ≤ j
    derivatives = {"x": "logcumsumexp_grad(grad, x, out, self.dim)"}

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return np.logaddexp.accumulate(x, axis=self.dim)  # a running log-sum: stable at any scale


@helper
def logcumsumexp_grad(grad, x, out, dim: int):
    """Σ_{j≥i} grad_j · exp(x_i − out_j). On arrays it is summed in log space, the positive and the
    negative parts of grad apart (as PyTorch), so no exponential overflows at any scale; on Tensors
    (create_graph) it is shifted by each slice's last (largest) out."""
    if not isinstance(x, Tensor):
        total = np.zeros_like(x)
        with np.errstate(divide="ignore"):
            for sign in (1, -1):
                part = np.where(sign * grad > 0, np.log(np.abs(grad)), -np.inf) - out
                rev = np.flip(np.logaddexp.accumulate(np.flip(part, dim), axis=dim), dim)
                total += sign * np.exp(x + rev)
        return total
    last = _xp.constant(out)
    last = np.take(last, [last.shape[dim] - 1], axis=dim)
    return _xp.exp(x - last) * revcumsum(grad * _xp.exp(last - out), dim)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x), dim)), computed without overflow."""
    x = as_tensor(x, "logcumsumexp")
    _check_float(x, "logcumsumexp")
    d = norm_dim(dim, x.ndim, "logcumsumexp")
    return LogCumSumExp(d)(x) if x.ndim else x.clone()
