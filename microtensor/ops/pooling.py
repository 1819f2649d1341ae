"""Pooling and resampling: max/avg pooling (1-D and 2-D), adaptive pooling, interpolation.

Like the convolutions (ops/conv.py) every pooling here is 2-D (1-D is height 1) and works on
strided views of the whole batch: one pass per kernel position, never a Python loop over pixels.
Max pooling routes each output's gradient to the first maximum of its window (PyTorch's choice on
ties); average pooling spreads it evenly over the window; adaptive average pooling and
interpolation are separable linear maps out = A_h · x · A_wᵀ, whose gradient is A_hᵀ · grad · A_w.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper


class PoolGeom(NamedTuple):
    """A 2-D pooling window: input size (H, W), kernel, stride, padding ((lo, hi), (lo, hi)) (hi
    includes ceil_mode's extra), dilation, and the output size."""

    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    out: tuple[int, int]

    def __repr__(self) -> str:
        return (
            f"geom(kernel={self.kernel}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation})"
        )

    def slices(self):
        """(k, rows, cols): for each kernel position k, the slices of the padded input it reads."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                yield i * kw + j, rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def _like(x: np.ndarray, shape, dtype, fill=None) -> np.ndarray:
    """A new (N, C, H, W) array in x's memory layout: channels-last when x is (the output of a
    convolution), so elementwise work on both runs over memory in order and the next convolution's
    gather needs no transposing copy."""
    cl = x.ndim == 4 and x.strides[1] < x.strides[3] and not x.flags.c_contiguous
    n, c, h, w = shape
    out = np.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2) if cl else np.empty(shape, dtype)
    if fill is not None:
        out.fill(fill)
    return out


def _pad(x: np.ndarray, geom: PoolGeom, value: float) -> np.ndarray:
    (p0, p1), (q0, q1) = geom.padding
    if not (p0 or p1 or q0 or q1):
        return x
    n, c, h, w = x.shape
    out = _like(x, (n, c, h + p0 + p1, w + q0 + q1), x.dtype, value)
    out[:, :, p0 : p0 + h, q0 : q0 + w] = x
    return out


def _crop(xp: np.ndarray, geom: PoolGeom) -> np.ndarray:
    (p0, _), (q0, _) = geom.padding
    h, w = geom.size
    return xp[:, :, p0 : p0 + h, q0 : q0 + w]


# ------------------------------------------------------------------ max pooling
def max_pool_forward(x: np.ndarray, geom: PoolGeom) -> np.ndarray:
    xp = _pad(x, geom, -np.inf)
    out = None
    for _, rows, cols in geom.slices():
        s = xp[:, :, rows, cols]
        if out is None:
            out = s.copy(order="K")  # keep the input's (channels-last) layout
        else:
            np.maximum(out, s, out=out)  # propagates NaN, as PyTorch
    return out


def _first_max_masks(x: np.ndarray, out: np.ndarray, geom: PoolGeom):
    """(k, rows, cols, mask) per kernel position: where the window's first maximum sits at k
    (ties go to the first position in the window, a NaN counts as the maximum, as PyTorch)."""
    xp = _pad(x, geom, -np.inf)
    nan = out != out
    any_nan = bool(nan.any())
    taken = None
    for k, rows, cols in geom.slices():
        s = xp[:, :, rows, cols]
        hit = np.equal(s, out)
        if any_nan:
            hit |= nan & (s != s)
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            taken |= hit
        yield k, rows, cols, hit


def max_pool_argmax(x: np.ndarray, out: np.ndarray, geom: PoolGeom) -> np.ndarray:
    """For each output, the kernel position of its window's first maximum."""
    k_of = np.zeros(out.shape, np.int32)
    for k, _, _, hit in _first_max_masks(x, out, geom):
        if k:
            k_of += hit * np.int32(k)
    return k_of


def max_pool_indices(k_of: np.ndarray, geom: PoolGeom) -> tuple[np.ndarray, np.ndarray]:
    """The input row and column of each output's maximum, from its kernel position."""
    (_, kw), (sh, sw), (dh, dw), (oh, ow) = geom.kernel, geom.stride, geom.dilation, geom.out
    (p0, _), (q0, _) = geom.padding
    rows = np.arange(oh)[:, None] * sh + (k_of // kw) * dh - p0
    cols = np.arange(ow) * sw + (k_of % kw) * dw - q0
    return rows, cols


class MaxPool(Op):
    """The maximum of each (dilated) window: x (N, C, H, W) -> (N, C, OH, OW)."""

    role = "layer"
    display = "MaxPool2d"
    public_name = "max_pool2d"
    __slots__ = ("geom",)
    meaning = (
        "each output's upstream gradient goes to the input position of its window's (first) maximum; "
        "the other positions of the window get 0 (where windows overlap, contributions add)"
    )
    derivatives = {"x": "route_to_window_max(grad, x, out, self.geom)"}

    def __init__(self, geom: PoolGeom):
        self.geom = geom

    def forward(self, x):
        return max_pool_forward(x, self.geom)


@helper
def route_to_window_max(g, x, out, geom):
    """g (N, C, OH, OW) added at the position of each window's first maximum of x -> x's shape."""
    x, out = _xp.constant(x), _xp.constant(out)
    if isinstance(g, Tensor):
        rows, cols = max_pool_indices(max_pool_argmax(x, out, geom), geom)
        n, c = x.shape[:2]
        index = (np.arange(n)[:, None, None, None], np.arange(c)[:, None, None], rows, cols)
        return _xp.index_add(g, index, x.shape)
    (p0, p1), (q0, q1) = geom.padding
    if geom.kernel == geom.stride and geom.dilation == (1, 1) and not (p0 or p1 or q0 or q1):
        return _route_tiles(g, x, out, geom)
    n, c, h, w = x.shape
    size = (h + p0 + p1, w + q0 + q1)
    disjoint = all(k <= s for k, s in zip(geom.kernel, geom.stride)) and geom.dilation == (1, 1)
    gx = _like(x, (n, c) + size, g.dtype, 0)
    for _, rows, cols, hit in _first_max_masks(x, out, geom):
        if disjoint:  # windows do not overlap: each input position is written once
            np.multiply(g, hit, out=gx[:, :, rows, cols])
        else:
            gx[:, :, rows, cols] += g * hit
    return _crop(gx, geom)


def _route_tiles(g, x, out, geom):
    """route_to_window_max when the windows tile the input (kernel == stride, no padding or
    dilation: max_pool2d(x, 2) and the like). Each window's gradient is carried as `rest` over
    its positions in order: the first position equal to the maximum takes it and `rest` drops to
    zero there, so ties go to the first, and the last position takes whatever is left (the
    maximum is there if it was nowhere before). Everything runs in out's memory layout, g brought
    to it once: a layout mismatch would make every pass a strided gather."""
    n, c, h, w = x.shape
    (oh, ow), (kh, kw) = geom.out, geom.kernel
    exact = (oh * kh, ow * kw) == (h, w)  # else the rows/columns beyond the last window get zeros
    gx = _like(x, x.shape, g.dtype, None if exact else 0)
    rest = _like(out, out.shape, g.dtype)
    np.copyto(rest, g)
    nan = out != out
    any_nan = bool(nan.any())
    positions = list(geom.slices())
    hit = _like(out, out.shape, bool)
    for _, rows, cols in positions[:-1]:
        s = x[:, :, rows, cols]
        np.equal(s, out, out=hit)
        if any_nan:  # a NaN is the maximum of its window: its first NaN takes the gradient
            hit |= nan & (s != s)
        np.multiply(rest, hit, out=gx[:, :, rows, cols])
        np.logical_not(hit, out=hit)  # (two passes, four times faster than copyto's where=)
        rest *= hit
    _, rows, cols = positions[-1]
    gx[:, :, rows, cols] = rest
    return gx


# ------------------------------------------------------------------ average pooling
class AvgPool(Op):
    """The mean of each window: x (N, C, H, W) -> (N, C, OH, OW), divided by `divisor` (OH, OW)."""

    role = "layer"
    display = "AvgPool2d"
    public_name = "avg_pool2d"
    __slots__ = ("geom", "divisor")
    meaning = (
        "each output's upstream gradient is divided by its window's size (divisor) and spread evenly "
        "over the window's input positions (where windows overlap, contributions add)"
    )
    derivatives = {"x": "spread_over_windows(grad / self.divisor, self.geom)"}

    def __init__(self, geom: PoolGeom, divisor: np.ndarray):
        self.geom, self.divisor = geom, divisor

    def forward(self, x):
        return window_sum(x, self.geom) / self.divisor


class WindowSpread(Op):
    """Each value of g (N, C, OH, OW) added to every input position of its window (the adjoint of a
    window sum); recorded by the derivative of avg_pool under create_graph=True."""

    role = "layer"
    __slots__ = ("geom",)
    meaning = "∂g sums the upstream gradient over each window (the adjoint of spreading)"
    derivatives = {"g": "sum_windows(grad, self.geom)"}

    def __init__(self, geom: PoolGeom):
        self.geom = geom

    def forward(self, g):
        return spread_forward(g, self.geom)


class WindowSum(Op):
    """The sum of each window (the adjoint of WindowSpread)."""

    role = "layer"
    __slots__ = ("geom",)
    meaning = "∂x copies each window's upstream gradient to every input position of the window"
    derivatives = {"x": "spread_over_windows(grad, self.geom)"}

    def __init__(self, geom: PoolGeom):
        self.geom = geom

    def forward(self, x):
        return window_sum(x, self.geom)


def window_sum(x: np.ndarray, geom: PoolGeom) -> np.ndarray:
    xp = _pad(x, geom, 0)
    out = None
    for _, rows, cols in geom.slices():
        s = xp[:, :, rows, cols]
        if out is None:
            out = s.copy()
        else:
            out += s
    return out


def spread_forward(g: np.ndarray, geom: PoolGeom) -> np.ndarray:
    (p0, p1), (q0, q1) = geom.padding
    n, c = g.shape[:2]
    h, w = geom.size
    gx = np.zeros((n, c, h + p0 + p1, w + q0 + q1), g.dtype)
    for _, rows, cols in geom.slices():
        gx[:, :, rows, cols] += g
    return np.ascontiguousarray(_crop(gx, geom))


@helper
def spread_over_windows(g, geom):
    """Add each output's gradient g to every input position of its window."""
    return WindowSpread(geom)(g) if isinstance(g, Tensor) else spread_forward(g, geom)


@helper
def sum_windows(g, geom):
    """The sum of g over each window."""
    return WindowSum(geom)(g) if isinstance(g, Tensor) else window_sum(g, geom)


# ------------------------------------------------------------------ separable linear maps
class _Separable(Op):
    """out = A_h · x · A_wᵀ over the last two axes, for constant matrices ah (OH, H) and aw (OW, W)."""

    role = "layer"
    meaning = (
        "linear in x: each output is a weighted sum of input samples (rows of ah and aw), so ∂x "
        "sends each upstream gradient back to those samples with the same weights (the transposes)"
    )
    __slots__ = ("ah", "aw")
    derivatives = {"x": "mT(self.ah) @ grad @ self.aw"}

    def __init__(self, ah: np.ndarray, aw: np.ndarray):
        self.ah, self.aw = ah, aw

    def forward(self, x):
        return self.ah @ x @ self.aw.T


class AdaptiveAvgPool(_Separable):
    """Average pooling to a fixed output size: the rows of ah and aw average each adaptive window."""

    display = "AdaptiveAvgPool2d"
    public_name = "adaptive_avg_pool2d"
    meaning = (
        "each output is the mean of its adaptive window, so ∂x spreads each upstream gradient evenly "
        "over the window's input positions (divided by its size): ahᵀ · grad · aw"
    )


class Interpolate(_Separable):
    """Nearest or (bi)linear resampling: each row of ah and aw holds the weights of the input
    samples that make one output sample."""

    public_name = "interpolate"


def adaptive_windows(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: output i covers [floor(i·n/out), ceil((i+1)·n/out))."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def adaptive_avg_matrix(n: int, out: int, dtype) -> np.ndarray:
    start, end = adaptive_windows(n, out)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveMaxPool(Op):
    """The maximum of each adaptive window (PyTorch's windows, see adaptive_windows)."""

    role = "layer"
    display = "AdaptiveMaxPool2d"
    public_name = "adaptive_max_pool2d"
    __slots__ = ("rows", "cols", "argmax")
    meaning = (
        "each output's upstream gradient goes to the input position of its window's maximum "
        "(argmax); the other positions get 0"
    )
    derivatives = {"x": "index_add(grad, self.argmax, x.shape)"}

    def __init__(self, rows: np.ndarray, cols: np.ndarray):
        self.rows, self.cols = rows, cols  # (OH, kh), (OW, kw) input indices of each window

    def forward(self, x):
        n, c = x.shape[:2]
        oh, kh = self.rows.shape
        ow, kw = self.cols.shape
        win = x[:, :, self.rows[:, :, None, None], self.cols[None, None, :, :]]  # (N, C, OH, kh, OW, kw)
        win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        k = np.argmax(win, axis=-1)  # the first maximum (NaN counts as the maximum, as PyTorch)
        out = np.take_along_axis(win, k[..., None], -1)[..., 0]
        r = self.rows[np.arange(oh)[:, None], k // kw]  # (N, C, OH, OW) input rows of the maxima
        cidx = self.cols[np.arange(ow), k % kw]
        self.argmax = (np.arange(n)[:, None, None, None], np.arange(c)[:, None, None], r, cidx)
        return out


def adaptive_max_index(n: int, out: int) -> np.ndarray:
    """(out, kmax) input indices of each adaptive window, the shorter ones padded with their last."""
    start, end = adaptive_windows(n, out)
    k = int((end - start).max()) if out else 0
    return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)


def pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size (ceil_mode: a last window may start in the padding's right half
    only if it starts inside the input or left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_geom(size, kernel, stride, padding, dilation, ceil_mode) -> PoolGeom:
    outs, pads = [], []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        o = pool_out(n, k, s, p, d, ceil_mode)
        need = (o - 1) * s + d * (k - 1) + 1  # the padded length the windows read
        outs.append(o)
        pads.append((p, max(need - n - p, p)))
    return PoolGeom(tuple(size), tuple(kernel), tuple(stride), tuple(pads), tuple(dilation), tuple(outs))


def avg_divisor(geom: PoolGeom, padding, count_include_pad: bool, divisor_override, dtype) -> np.ndarray:
    """(OH, OW) divisors: the window's size clipped to the padded input (count_include_pad) or to
    the input itself, as PyTorch's avg_pool; or divisor_override everywhere."""
    if divisor_override:
        return np.full(geom.out, divisor_override, dtype)
    counts = []
    for n, k, s, p, o in zip(geom.size, geom.kernel, geom.stride, padding, geom.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, n) - np.maximum(start, 0))
    return (counts[0][:, None] * counts[1][None, :]).astype(dtype)


# ------------------------------------------------------------------ public functions
def _ints(v, n: int, name: str, op: str) -> tuple[int, ...]:
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, tuple | list) and all(isinstance(i, int | np.integer) for i in v):
        if len(v) == n:
            return tuple(int(i) for i in v)
        if len(v) == 1:
            return (int(v[0]),) * n
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")


def _batched(input, nd: int, op: str) -> tuple[Tensor, bool]:
    """input as (N, C, H, W) (1-D: height 1) and whether it had no batch axis."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got shape {tuple(input.shape)}"
        )
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    return (x.unsqueeze(2) if nd == 1 else x), unbatched


def _unbatched(out: Tensor, nd: int, unbatched: bool) -> Tensor:
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, nd: int, op: str):
    k = _ints(kernel_size, nd, "kernel_size", op)
    s = (
        k
        if stride is None or (isinstance(stride, tuple | list) and not stride)
        else _ints(stride, nd, "stride", op)
    )
    p, d = _ints(padding, nd, "padding", op), _ints(dilation, nd, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise RuntimeError(
            f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, got "
            f"kernel_size={k}, stride={s}, dilation={d}, padding={p}"
        )
    if any(2 * pi > (ki - 1) * di + 1 for pi, ki, di in zip(p, k, d)):
        raise RuntimeError(
            f"{op}: pad should be at most half of effective kernel size, got padding={p}, kernel_size={k}"
        )
    if nd == 1:
        k, s, p, d = (1, *k), (1, *s), (0, *p), (1, *d)
    geom = pool_geom(tuple(x.shape[2:]), k, s, p, d, bool(ceil_mode))
    if min(geom.out) < 1:
        raise RuntimeError(
            f"{op}: input of spatial size {tuple(x.shape[2:])[-nd:]} is too small for kernel_size={k[-nd:]} "
            f"(dilation {d[-nd:]}, padding {p[-nd:]}): the output would be empty"
        )
    return geom, p


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, op):
    x, unbatched = _batched(input, nd, op)
    if x._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: unsupported dtype {input.dtype}")
    geom, _ = _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op)
    out = MaxPool(geom)(x)
    out = _unbatched(out, nd, unbatched)
    if not return_indices:
        return out
    rows, cols = max_pool_indices(
        max_pool_argmax(x._data, _xp.constant(out._data).reshape(x.shape[:2] + geom.out), geom), geom
    )
    flat = (rows * geom.size[1] + cols).astype(np.int64)
    return out, _unbatched(Tensor._wrap(flat), nd, unbatched)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum over each kernel_size window: (N, C, H, W) -> (N, C, OH, OW), stride defaulting
    to kernel_size; return_indices also gives each maximum's flat index h·W + w in its plane.

    >>> F.max_pool2d(mt.arange(16.).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d"
    )


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum over each window of the last axis: (N, C, L) -> (N, C, OL).

    >>> F.max_pool1d(mt.tensor([[[1., 3., 2., 0.]]]), 2)
    tensor([[[3., 2.]]])
    """
    return _max_pool(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d"
    )


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, op):
    x, unbatched = _batched(input, nd, op)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating input, got dtype {input.dtype}")
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override == 0):
        raise RuntimeError(f"{op}: divisor must be a non-zero int, got {divisor_override!r}")
    geom, p = _pool_args(x, kernel_size, stride, padding, 1, ceil_mode, nd, op)
    divisor = avg_divisor(geom, p, count_include_pad, divisor_override, x._data.dtype)
    return _unbatched(AvgPool(geom, divisor)(x), nd, unbatched)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """The mean over each kernel_size window: (N, C, H, W) -> (N, C, OH, OW). count_include_pad counts
    the zero padding in the divisor; divisor_override replaces the divisor.

    >>> F.avg_pool2d(mt.arange(16.).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2, "avg_pool2d"
    )


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean over each window of the last axis: (N, C, L) -> (N, C, OL).

    >>> F.avg_pool1d(mt.tensor([[[1., 3., 2., 0.]]]), 2)
    tensor([[[2., 1.]]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def _out_size(output_size, size, nd: int, op: str) -> tuple[int, ...]:
    if isinstance(output_size, int | np.integer):
        out = (int(output_size),) * nd
    elif isinstance(output_size, tuple | list) and len(output_size) == nd:
        out = tuple(n if o is None else int(o) for o, n in zip(output_size, size[-nd:]))
    else:
        raise TypeError(
            f"{op}: output_size must be an int or a tuple of {nd} ints (or None), got {output_size!r}"
        )
    if min(out) < 0 or (min(out) == 0 and min(size[-nd:]) > 0):
        raise RuntimeError(f"{op}: output_size must be positive, got {output_size}")
    return out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to output_size (H_out, W_out), whatever the input's size: output (i, j)
    averages rows [⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉) and the columns likewise.

    >>> F.adaptive_avg_pool2d(mt.ones(1, 2, 5, 7), (2, 3)).shape
    torch.Size([1, 2, 2, 3])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of the last axis to output_size: (N, C, L) -> (N, C, output_size).

    >>> F.adaptive_avg_pool1d(mt.tensor([[[1., 2., 3., 4.]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def _adaptive_avg(input, output_size, nd, op):
    x, unbatched = _batched(input, nd, op)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating input, got dtype {input.dtype}")
    out = _out_size(output_size, tuple(x.shape[2:]), nd, op)
    oh, ow = (1, *out) if nd == 1 else out
    h, w = x.shape[2:]
    dt = x._data.dtype
    return _unbatched(
        AdaptiveAvgPool(adaptive_avg_matrix(h, oh, dt), adaptive_avg_matrix(w, ow, dt))(x), nd, unbatched
    )


def _adaptive_max(input, output_size, return_indices, nd, op):
    x, unbatched = _batched(input, nd, op)
    out_size = _out_size(output_size, tuple(x.shape[2:]), nd, op)
    oh, ow = (1, *out_size) if nd == 1 else out_size
    h, w = x.shape[2:]
    node = AdaptiveMaxPool(adaptive_max_index(h, oh), adaptive_max_index(w, ow))
    out = _unbatched(node(x), nd, unbatched)
    if not return_indices:
        return out
    _, _, rows, cols = node.argmax
    flat = (rows * w + cols).astype(np.int64)
    return out, _unbatched(Tensor._wrap(flat), nd, unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to output_size (H_out, W_out) over PyTorch's adaptive windows.

    >>> F.adaptive_max_pool2d(mt.arange(16.).reshape(1, 1, 4, 4), 1)
    tensor([[[[15.]]]])
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of the last axis to output_size over PyTorch's adaptive windows.

    >>> F.adaptive_max_pool1d(mt.tensor([[[1., 5., 2., 0.]]]), 2)
    tensor([[[5., 2.]]])
    """
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool1d_pair(input, output_size):
    """torch.adaptive_max_pool1d: the pooled values and their indices, always both.

    >>> mt.adaptive_max_pool1d(mt.tensor([[[1., 5., 2., 0.]]]), 2)[1]
    tensor([[[1, 2]]])
    """
    return _adaptive_max(input, output_size, True, 1, "adaptive_max_pool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value of input is put at its flat index (from
    max_pool2d's return_indices) in a zero (N, C, H_out, W_out) plane.

    >>> y, i = F.max_pool2d(mt.arange(16.).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)[0, 0, 1]
    tensor([ 0.,  5.,  0.,  7.])
    """
    op = "max_unpool2d"
    x, unbatched = _batched(input, 2, op)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.shape != tuple(input.shape) or idx.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: indices must be an integer tensor of the input's shape {tuple(input.shape)}, got "
            f"{idx.dtype} {idx.shape}"
        )
    k = _ints(kernel_size, 2, "kernel_size", op)
    s = k if stride is None else _ints(stride, 2, "stride", op)
    p = _ints(padding, 2, "padding", op)
    if output_size is None:
        size = tuple((n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(x.shape[2:], s, p, k))
    else:
        size = tuple(int(v) for v in tuple(output_size)[-2:])
    n, c = x.shape[:2]
    plane = size[0] * size[1]
    flat = idx.reshape(n, c, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        raise RuntimeError(
            f"{op}: found an invalid max index {flat.max()} (output plane {size} has {plane} elements)"
        )
    from . import index as _index  # scatter is a differentiable op of the index family

    zeros = Tensor._wrap(np.zeros((n, c, plane), x._data.dtype))
    out = _index.scatter(zeros, 2, Tensor._wrap(flat.astype(np.int64)), x.reshape(n, c, -1)).reshape(
        n, c, *size
    )
    return out.squeeze(0) if unbatched else out


# ------------------------------------------------------------------ interpolation
def _resample_matrix(n: int, out: int, mode: str, align_corners, scale, dtype) -> np.ndarray:
    """(out, n) weights of the input samples that make each output sample, as PyTorch computes
    them: scale is the input/output ratio it uses (1/scale_factor when one was given)."""
    dst = np.arange(out, dtype=np.float64)
    a = np.zeros((out, n), np.float64)
    rows = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        src = np.floor((dst + 0.5) * scale if mode == "nearest-exact" else dst * scale).astype(np.int64)
        a[rows, np.minimum(src, n - 1)] = 1
        return a.astype(dtype)
    if align_corners:
        src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w1 = src - i0
    np.add.at(a, (rows, i0), 1 - w1)
    np.add.at(a, (rows, i1), w1)
    return a.astype(dtype)


def interpolate(
    input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
    antialias=False,
) -> Tensor:  # fmt: skip
    """Resample (N, C, L) or (N, C, H, W) to `size` or by `scale_factor`: mode 'nearest',
    'nearest-exact', 'linear' (3-D) or 'bilinear' (4-D), align_corners as PyTorch.

    >>> F.interpolate(mt.tensor([[[1., 2.]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    op = "interpolate"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise NotImplementedError(
            f"{op}: input of 3 (N, C, L) or 4 (N, C, H, W) dims is supported, got "
            f"{getattr(input, 'shape', input)}"
        )
    nd = input.ndim - 2
    linear = {3: "linear", 4: "bilinear"}[input.ndim]
    if mode not in ("nearest", "nearest-exact", linear):
        raise NotImplementedError(
            f"{op}: mode {mode!r} for {input.ndim}-D input is not supported (use 'nearest', "
            f"'nearest-exact' or {linear!r})"
        )
    if align_corners is not None and mode != linear:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear"
        )
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating input, got dtype {input.dtype}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    sizes = tuple(input.shape[2:])
    if size is not None:
        out = _ints(size, nd, "size", op)
        scales = [n / o for n, o in zip(sizes, out)]
    else:
        sf = (
            tuple(float(v) for v in scale_factor)
            if isinstance(scale_factor, tuple | list)
            else (float(scale_factor),) * nd
        )
        if len(sf) != nd or min(sf) <= 0:
            raise ValueError(f"{op}: scale_factor must be {nd} positive numbers, got {scale_factor!r}")
        out = tuple(int(np.floor(n * f)) for n, f in zip(sizes, sf))
        scales = [n / o for n, o in zip(sizes, out)] if recompute_scale_factor else [1 / f for f in sf]
    if min(out) < 1:
        raise ValueError(f"{op}: the output size {out} must be positive")
    dt = input._data.dtype
    mats = [_resample_matrix(n, o, mode, align_corners, s, dt) for n, o, s in zip(sizes, out, scales)]
    if nd == 1:
        return Interpolate(np.ones((1, 1), dt), mats[0])(input.unsqueeze(2)).squeeze(2)
    return Interpolate(mats[0], mats[1])(input)
