"""Padding ops (torch.nn.functional.pad): constant, reflect, replicate and circular.

ConstantPad crops (negative pads) and pads with a value; its gradient is the inner region of grad
(zero where the forward cropped). The other modes gather: every output position along a padded dim
reads one input position (its `index` there), so the forward is a `take` per padded dim and the
gradient scatter-adds grad back along each of those dims (repeated positions accumulate).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Op, helper


def _inner(widths) -> tuple:
    """The slices of an output that hold the (possibly cropped) input: positive pads removed."""
    return tuple(slice(max(b, 0), (-a if a > 0 else None)) for b, a in widths)


def _crop(widths) -> tuple:
    """The slices of an input that the output keeps: negative pads removed."""
    return tuple(slice(max(-b, 0), (a if a < 0 else None)) for b, a in widths)


class ConstantPad(Op):
    """x with `widths[d] = (before, after)` elements added (value) or removed (negative) per dim."""

    __slots__ = ("widths", "value")
    role = "shape"
    display = "Pad"
    public_name = "pad"
    derivatives = {"x": "unpad_constant(grad, self.widths)"}

    def __init__(self, widths, value: float):
        self.widths, self.value = tuple(widths), value

    def forward(self, x):
        x = x[_crop(self.widths)]
        pos = [(max(b, 0), max(a, 0)) for b, a in self.widths]
        if not any(b or a for b, a in pos):
            return x.copy()
        return np.pad(x, pos, constant_values=np.asarray(self.value, x.dtype))


@helper
def unpad_constant(g, widths):
    """ConstantPad's gradient: the inner region of g, zero-padded back where the forward cropped."""
    g = g[_inner(widths)]
    back = [(max(-b, 0), max(-a, 0)) for b, a in widths]
    if not any(b or a for b, a in back):
        return g
    if isinstance(g, Tensor):
        return ConstantPad(back, 0.0)(g)
    return np.pad(g, back)


class GatherPad(Op):
    """Reflect, replicate or circular padding: along each padded dim d, out[..., j, ...] =
    x[..., index[j], ...] (`plan`: (dim, index, input size) per padded dim)."""

    __slots__ = ("plan", "mode")
    role = "shape"
    display = "Pad"
    public_name = "pad"
    derivatives = {"x": "unpad_gather(grad, self.plan)"}

    def __init__(self, plan, mode: str):
        self.plan, self.mode = tuple(plan), mode

    def forward(self, x):
        for dim, index, _ in self.plan:
            x = np.take(x, index, axis=dim)
        return x


@helper
def unpad_gather(g, plan):
    """GatherPad's gradient: g scatter-added back to the input positions, one padded dim at a time."""
    for dim, index, n in reversed(plan):
        shape = tuple(g.shape[:dim]) + (n,) + tuple(g.shape[dim + 1 :])
        if isinstance(g, Tensor):
            from .index import index_add

            g = index_add(Tensor._wrap(np.zeros(shape, g.dtype)), dim, Tensor._wrap(index), g)
        else:
            out = np.zeros(shape, g.dtype)
            np.add.at(out, (slice(None),) * dim + (index,), g)
            g = out
    return g


def gather_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """The input position each output position reads along one dim of size n (see GatherPad)."""
    if mode == "circular":  # negative pads crop first; the rest wraps around the kept range
        lo, hi = max(-before, 0), n - max(-after, 0)
        j = np.arange(-max(before, 0), hi - lo + max(after, 0))
        return lo + np.mod(j, hi - lo)
    j = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    period = 2 * (n - 1)  # reflect: mirror at both ends without repeating the edge
    k = np.mod(j, period) if period else np.zeros_like(j)
    return np.where(k >= n, period - k, k)
