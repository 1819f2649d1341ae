"""Convolutions: conv1d/2d, their transposes, unfold/fold. Forward and derivatives side by side.

Every convolution here is a 2-D one (a 1-D convolution is a 2-D one of height 1), computed as one
GEMM over the windows of the input ("im2col"), without Python loops over pixels or samples:

* the input is brought to channels-last memory (N, H, W, C), zero-padded, and its windows are read
  as a strided view (N, OH, OW, KH, KW, C) whose last axis is contiguous: gathering the columns
  (N·OH·OW, KH·KW·C) is then a fast copy;
* the GEMM's output (N·OH·OW, O) *is* channels-last, so it is returned as the transposed view
  (N, O, OH, OW) without a copy, and the next layer's gather reads it at full speed;
* the input gradient scatters the GEMM's (N, OH, OW, KH, KW, C) columns back with one strided add
  per kernel position (KH·KW adds);
* all of it runs over blocks of the batch of about BLOCK_BYTES of columns, so that the gather and
  the GEMM (or the GEMM and the scatter) meet in cache and no column matrix of the whole batch is
  ever allocated or kept (the weight gradient gathers its block's columns again).

The three linear maps of a convolution y = x ⋆ w are adjoint to one another, so their derivatives
are each other:

    Conv(x, w)            y    = x ⋆ w                     (cross-correlation, PyTorch's conv)
    ConvTranspose(g, w)   ∂x   = g ⋆ flip(w)  (full)       (the correlation with the flipped kernel)
    ConvWeight(x, g)      ∂w   = x ⋆ g                     (the input correlated with the gradient)

and every derivative is again one of these ops, so gradients of any order are convolutions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor
from . import _xp
from .base import Op, helper


class ConvGeom(NamedTuple):
    """The shape of a 2-D convolution: what its three ops (and fold/unfold) share.

    size is the spatial size (H, W) of the convolution's input (the output of its transpose),
    padding is ((top, bottom), (left, right)) of zeros.
    """

    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int
    out: tuple[int, int] | None = None  # set for a transpose: its input size (output_padding adds rows)

    def out_size(self) -> tuple[int, int]:
        """(OH, OW): the convolution's output size."""
        if self.out is not None:
            return self.out
        return tuple(
            (n + p0 + p1 - d * (k - 1) - 1) // s + 1
            for n, (p0, p1), d, k, s in zip(self.size, self.padding, self.dilation, self.kernel, self.stride)
        )

    def __repr__(self) -> str:
        return (
            f"geom(kernel={self.kernel}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, groups={self.groups})"
        )


# ------------------------------------------------------------------ NumPy kernels
def _padded_channels_last(x: np.ndarray, geom: ConvGeom) -> np.ndarray:
    """x (N, C, H, W) as a C-contiguous zero-padded (N, Hp, Wp, C) array (one copy, none if x already
    is the transposed view of such an array and needs no padding)."""
    (p0, p1), (q0, q1) = geom.padding
    xt = x.transpose(0, 2, 3, 1)
    if not (p0 or p1 or q0 or q1):
        return np.ascontiguousarray(xt)
    n, h, w, c = xt.shape
    out = np.zeros((n, h + p0 + p1, w + q0 + q1, c), x.dtype)
    out[:, p0 : p0 + h, q0 : q0 + w] = xt
    return out


def _windows(xp: np.ndarray, geom: ConvGeom) -> np.ndarray:
    """The (N, OH, OW, KH, KW, C) strided view of the windows of a padded channels-last input."""
    oh, ow = geom.out_size()
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    n, _, _, c = xp.shape
    s_n, s_h, s_w, s_c = xp.strides
    return as_strided(
        xp, (n, oh, ow, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c), writeable=False
    )


def _columns(x: np.ndarray, geom: ConvGeom) -> np.ndarray:
    """im2col: (N·OH·OW, KH·KW·C) for one group, (G, N·OH·OW, KH·KW·C/G) for several."""
    win = _windows(_padded_channels_last(x, geom), geom)
    n, oh, ow, kh, kw, c = win.shape
    g = geom.groups
    if g == 1:
        return win.reshape(n * oh * ow, kh * kw * c)
    win = win.reshape(n, oh, ow, kh, kw, g, c // g).transpose(5, 0, 1, 2, 3, 4, 6)
    return win.reshape(g, n * oh * ow, kh * kw * (c // g))


def _weight_matrix(w: np.ndarray, g: int) -> np.ndarray:
    """w (O, C/G, KH, KW) as (KH·KW·C, O), or (G, KH·KW·C/G, O/G) for several groups."""
    o, cg, kh, kw = w.shape
    if g == 1:
        return w.transpose(2, 3, 1, 0).reshape(kh * kw * cg, o)
    return w.reshape(g, o // g, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, kh * kw * cg, o // g)


def _grad_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """The output gradient (N, O, OH, OW) as rows (N·OH·OW, O), or (G, N·OH·OW, O/G)."""
    n, o, oh, ow = g.shape
    rows = g.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)  # free when g is channels-last
    if groups == 1:
        return rows
    return rows.reshape(n * oh * ow, groups, o // groups).transpose(1, 0, 2)


def _channels_first(out: np.ndarray, n: int, oh: int, ow: int) -> np.ndarray:
    """GEMM rows (N·OH·OW, O) as the (N, O, OH, OW) view of channels-last memory."""
    return out.reshape(n, oh, ow, out.shape[-1]).transpose(0, 3, 1, 2)


# The batch is cut into blocks whose columns take about BLOCK_BYTES, so that gathering a block's
# columns and the GEMM that reads them (or the GEMM that writes them and the adds that scatter
# them back) meet in the core's L2 cache instead of streaming a (N·OH·OW, KH·KW·C) matrix through
# memory: one scratch buffer of the block's size serves every block. For the 64×32×26×26 input of
# the MNIST CNN's second convolution the columns are 42 MB, the block about 1 MB; see
# docs/benchmarks.md for the measured gain.
BLOCK_BYTES = 1 << 20


def _blocks(n: int, oh: int, row_bytes: int):
    """(n0, n1, r0, r1): samples n0:n1, output rows r0:r1 of a block of about BLOCK_BYTES of
    columns (row_bytes per output row): whole samples when one fits, else rows of one sample."""
    rows = max(1, BLOCK_BYTES // max(row_bytes, 1))
    if rows >= oh:
        per = rows // oh
        for n0 in range(0, n, per):
            yield n0, min(n, n0 + per), 0, oh
    else:
        for s in range(n):
            for r0 in range(0, oh, rows):
                yield s, s + 1, r0, min(oh, r0 + rows)


def _block_rows(n: int, oh: int, row_bytes: int) -> int:
    """The most output rows (of all samples) that one block of _blocks holds."""
    rows = max(1, BLOCK_BYTES // max(row_bytes, 1))
    return min(n, rows // oh) * oh if rows >= oh else rows


def _channels_last(g: np.ndarray) -> np.ndarray:
    """g (N, O, OH, OW) as C-contiguous (N, OH, OW, O) (free when g is a convolution's output)."""
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1))


def _gather(win: np.ndarray, n0: int, n1: int, r0: int, r1: int, buf: np.ndarray) -> np.ndarray:
    """The columns of samples n0:n1, output rows r0:r1 as an (M, KH·KW·C) matrix copied into buf.

    The copy's inner loop runs over the longer of the two contiguous runs: a window row (KW·C
    floats of the channels-last input) when it is longer than an output row (OW), else an output
    row of one (kernel position, channel). The latter lays the columns out transposed (K, M),
    which the GEMMs read as the transposed (M, K) view: for LeNet's first layer (C = 1, KW = 5,
    OW = 28) the gather then makes 25 copies of whole rows instead of 50,176 copies of 5 floats."""
    nb, rb, ow, kh, kw, c = (n1 - n0, r1 - r0) + win.shape[2:]
    m, k = nb * rb * ow, kh * kw * c
    part = win[n0:n1, r0:r1]
    if kw * c >= ow:
        cols = buf[: m * k].reshape(part.shape)
        np.copyto(cols, part)
        return cols.reshape(m, k)
    cols = buf[: m * k].reshape(kh, kw, c, nb, rb, ow)
    np.copyto(cols, part.transpose(3, 4, 5, 0, 1, 2))
    return cols.reshape(k, m).T


def conv_forward(x: np.ndarray, w: np.ndarray, b, geom: ConvGeom) -> np.ndarray:
    """y = x ⋆ w + b on arrays: x (N, C, H, W), w (O, C/G, KH, KW) -> (N, O, OH, OW), the view of
    channels-last memory."""
    n = x.shape[0]
    oh, ow = geom.out_size()
    o = w.shape[0]
    if geom.groups > 1:  # one batched GEMM over the groups, then the groups' channels side by side
        cols = _columns(x, geom)
        out = np.matmul(cols, _weight_matrix(w, geom.groups))
        out = out.transpose(1, 0, 2).reshape(cols.shape[1], o)
        if b is not None:
            out += b
        return _channels_first(out, n, oh, ow)
    win = _windows(_padded_channels_last(x, geom), geom)
    k = w.shape[1] * w.shape[2] * w.shape[3]  # KH·KW·C
    wm = _weight_matrix(w, 1)
    dtype = np.result_type(x.dtype, w.dtype)
    out = np.empty((n, oh, ow, o), dtype)
    buf = np.empty(_block_rows(n, oh, ow * k * dtype.itemsize) * ow * k, dtype)
    for n0, n1, r0, r1 in _blocks(n, oh, ow * k * dtype.itemsize):
        cols = _gather(win, n0, n1, r0, r1, buf)
        y = out[n0:n1, r0:r1]  # contiguous: whole samples, or whole rows of one sample
        np.matmul(cols, wm, out=y.reshape(-1, o))
        if b is not None:
            y += b  # while the block is in cache
    return out.transpose(0, 3, 1, 2)


def col2im(cols: np.ndarray, geom: ConvGeom, dtype) -> np.ndarray:
    """Sum windows back into an image: cols (KH, KW, N, OH, OW, C) -> (N, C, H, W) (the adjoint of
    reading the windows), one strided add per kernel position."""
    kh, kw, n, oh, ow, c = cols.shape
    (p0, p1), (q0, q1) = geom.padding
    h, w = geom.size
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    xp = np.zeros((n, h + p0 + p1, w + q0 + q1, c), dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            xp[:, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[i, j]
    return xp[:, p0 : p0 + h, q0 : q0 + w].transpose(0, 3, 1, 2)


def conv_input_grad(g: np.ndarray, w: np.ndarray, geom: ConvGeom) -> np.ndarray:
    """∂x of y = x ⋆ w for output gradient g (N, O, OH, OW): the full correlation of g with the
    flipped kernel, as GEMM + col2im -> (N, C, H, W)."""
    n, o, oh, ow = g.shape
    _, cg, kh, kw = w.shape
    groups = geom.groups
    dtype = np.result_type(g.dtype, w.dtype)
    if groups > 1:  # one GEMM per kernel position and group, batched, then col2im
        rows = g.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)  # free when g is channels-last
        og = o // groups
        wk = w.reshape(groups, og, cg, kh, kw).transpose(3, 4, 0, 1, 2).reshape(kh * kw, groups, og, cg)
        r = rows.reshape(n * oh * ow, groups, og).transpose(1, 0, 2)  # (G, M, Og)
        cols = np.matmul(r[None], wk).transpose(0, 2, 1, 3)  # (KK, M, G, Cg)
        return col2im(cols.reshape(kh, kw, n, oh, ow, groups * cg), geom, dtype)
    # per block: its columns' gradient, one GEMM per kernel position (batched) so that each
    # position's (rows, C) columns are contiguous and its strided add into the padded
    # channels-last image runs over whole image rows; all while the block is in cache. (One GEMM
    # (rows, O)·(O, KH·KW·C) is a little faster, but its adds then run 32 floats at a time.)
    dy = _channels_last(g)
    wk = w.transpose(2, 3, 0, 1).reshape(kh * kw, o, cg)
    (p0, p1), (q0, q1) = geom.padding
    h, wd = geom.size
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    xp = np.zeros((n, h + p0 + p1, wd + q0 + q1, cg), dtype)
    row_bytes = ow * kh * kw * cg * dtype.itemsize
    buf = np.empty(_block_rows(n, oh, row_bytes) * ow * kh * kw * cg, dtype)
    for n0, n1, r0, r1 in _blocks(n, oh, row_bytes):
        m = (n1 - n0) * (r1 - r0) * ow
        cols = buf[: m * kh * kw * cg].reshape(kh * kw, m, cg)
        np.matmul(dy[n0:n1, r0:r1].reshape(m, o), wk, out=cols)
        cols = cols.reshape(kh, kw, n1 - n0, r1 - r0, ow, cg)
        dst = xp[n0:n1]
        for i in range(kh):
            rows = slice(r0 * sh + i * dh, (r1 - 1) * sh + i * dh + 1, sh)
            for j in range(kw):
                dst[:, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[i, j]
    return xp[:, p0 : p0 + h, q0 : q0 + wd].transpose(0, 3, 1, 2)


def conv_weight_grad(x: np.ndarray, g: np.ndarray, geom: ConvGeom) -> np.ndarray:
    """∂w of y = x ⋆ w for output gradient g: the input correlated with g -> (O, C/G, KH, KW)."""
    groups = geom.groups
    kh, kw = geom.kernel
    c, o = x.shape[1], g.shape[1]
    if groups > 1:
        cols = _columns(x, geom)
        rows = _grad_rows(g, groups)
        dw = np.matmul(cols.transpose(0, 2, 1), rows).reshape(groups, kh, kw, c // groups, o // groups)
        return np.ascontiguousarray(dw.transpose(0, 4, 3, 1, 2).reshape(o, c // groups, kh, kw))
    # dWᵀ = Σ over blocks of dYᵀ·cols: (O, KH·KW·C), each block's columns gathered in cache
    win = _windows(_padded_channels_last(x, geom), geom)
    n, oh, ow = win.shape[:3]
    k = kh * kw * c
    dy = _channels_last(g)
    dtype = np.result_type(x.dtype, g.dtype)
    dw = np.zeros((o, k), dtype)
    part = np.empty((o, k), dtype)
    row_bytes = ow * k * dtype.itemsize
    buf = np.empty(_block_rows(n, oh, row_bytes) * ow * k, dtype)
    for n0, n1, r0, r1 in _blocks(n, oh, row_bytes):
        cols = _gather(win, n0, n1, r0, r1, buf)
        np.matmul(dy[n0:n1, r0:r1].reshape(-1, o).T, cols, out=part)
        dw += part
    return np.ascontiguousarray(dw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2))


# ------------------------------------------------------------------ ops
class Conv(Op):
    """y = x ⋆ w + b: the 2-D cross-correlation PyTorch calls conv2d (N, C, H, W) -> (N, O, OH, OW)."""

    role = "layer"
    display = "Conv2d"
    public_name = "conv2d"
    meaning = (
        "∂x is the full correlation of the upstream gradient (zero-padded; with stride s, its values "
        "spread s apart) with the flipped kernel, rotated 180° in space with its input and output "
        "channels swapped: a transposed convolution. ∂w is the correlation of the input with the "
        "upstream gradient: each weight sums input · gradient over every window it was applied to. "
        "∂b sums the upstream gradient over the batch and all positions"
    )
    __slots__ = ("geom",)
    derivatives = {
        "x": "correlate_with_flipped_kernel(grad, w, self.geom)",
        "w": "correlate_input_with_grad(x, grad, self.geom)",
        "b": "sum_over_batch_and_positions(grad)",
    }

    def __init__(self, geom: ConvGeom):
        self.geom = geom

    def forward(self, x, w, b=None):
        return conv_forward(x, w, b, self.geom)


@helper
def sum_over_batch_and_positions(g):
    """Σ of g (N, O, OH, OW) over its batch and positions -> (O,): a convolution bias's gradient.

    g is usually a view of channels-last memory, rows (M, O) = (N·OH·OW, O), which NumPy's reduce
    adds one row of O floats at a time. Viewed as (M/k, k·O), k rows side by side (k a power of 2
    dividing M, k·O ≤ 512), each add runs over k·O floats, then the k partial sums are added (and
    each lane sums fewer terms): LeNet's first layer (O = 6) 1.17 -> 0.07 ms, the MNIST net's
    second (O = 64) 1.19 -> 0.53 ms."""
    if isinstance(g, Tensor) or not g.transpose(0, 2, 3, 1).flags.c_contiguous:
        return _xp.sum(g, (0, 2, 3))
    o = g.shape[1]
    rows = g.transpose(0, 2, 3, 1).reshape(-1, o)
    m, k = rows.shape[0], 1
    while 2 * k * o <= 512 and m % (2 * k) == 0:
        k *= 2
    return np.add.reduce(rows.reshape(m // k, k * o), axis=0).reshape(k, o).sum(axis=0)


class ConvTranspose(Op):
    """The adjoint of Conv in its input: g (N, O, OH, OW) correlated with the flipped kernel w
    (O, C/G, KH, KW) -> (N, C, H, W); PyTorch's conv_transpose2d (without its bias)."""

    role = "layer"
    display = "ConvTranspose2d"
    public_name = "conv_transpose2d"
    meaning = (
        "a transposed convolution is a convolution's input gradient, so its own rules are the "
        "convolution's: ∂g is the (plain) correlation of the upstream gradient with the kernel, "
        "∂w the correlation of the upstream gradient with the input g"
    )
    __slots__ = ("geom",)
    derivatives = {
        "g": "correlate(grad, w, self.geom)",
        "w": "correlate_input_with_grad(grad, g, self.geom)",
    }

    def __init__(self, geom: ConvGeom):
        self.geom = geom

    def forward(self, g, w):
        return conv_input_grad(g, w, self.geom)


class ConvWeight(Op):
    """The adjoint of Conv in its kernel: x (N, C, H, W) correlated with g (N, O, OH, OW) ->
    (O, C/G, KH, KW). Recorded by the derivative of a convolution under create_graph=True."""

    role = "layer"
    display = "ConvWeightGrad"
    meaning = (
        "a convolution's weight gradient (x correlated with g); ∂x is the full correlation of g with "
        "the flipped upstream gradient, ∂g the correlation of x with the upstream gradient"
    )
    __slots__ = ("geom",)
    derivatives = {
        "x": "correlate_with_flipped_kernel(g, grad, self.geom)",
        "g": "correlate(x, grad, self.geom)",
    }

    def __init__(self, geom: ConvGeom):
        self.geom = geom

    def forward(self, x, g):
        return conv_weight_grad(x, g, self.geom)


def _any_tensor(*xs) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


@helper
def correlate(x, w, geom):
    """x ⋆ w: the convolution itself (without bias)."""
    return Conv(geom)(x, w) if _any_tensor(x, w) else conv_forward(x, w, None, geom)


@helper
def correlate_with_flipped_kernel(g, w, geom):
    """The full correlation of g with the kernel w flipped in space (channels swapped): ∂x of x ⋆ w."""
    return ConvTranspose(geom)(g, w) if _any_tensor(g, w) else conv_input_grad(g, w, geom)


@helper
def correlate_input_with_grad(x, g, geom):
    """x correlated with the output gradient g: ∂w of x ⋆ w."""
    return ConvWeight(geom)(x, g) if _any_tensor(x, g) else conv_weight_grad(x, g, geom)


# ------------------------------------------------------------------ unfold / fold
class Unfold(Op):
    """im2col: x (N, C, H, W) -> (N, C·KH·KW, L), L = OH·OW, channel-major as PyTorch's unfold."""

    role = "shape"
    public_name = "unfold"
    __slots__ = ("geom",)
    meaning = "∂x adds each column of the upstream gradient back into the window it was read from (fold)"
    derivatives = {"x": "fold_windows(grad, self.geom)"}

    def __init__(self, geom: ConvGeom):
        self.geom = geom

    def forward(self, x):
        return unfold_forward(x, self.geom)


class Fold(Op):
    """col2im: cols (N, C·KH·KW, L) summed back into (N, C, H, W), the adjoint of unfold."""

    role = "shape"
    public_name = "fold"
    __slots__ = ("geom",)
    meaning = "∂cols reads the windows of the upstream gradient as columns (unfold)"
    derivatives = {"cols": "unfold_windows(grad, self.geom)"}

    def __init__(self, geom: ConvGeom):
        self.geom = geom

    def forward(self, cols):
        return fold_forward(cols, self.geom)


def unfold_forward(x: np.ndarray, geom: ConvGeom) -> np.ndarray:
    win = _windows(_padded_channels_last(x, geom), geom)  # (N, OH, OW, KH, KW, C)
    n, oh, ow, kh, kw, c = win.shape
    return np.ascontiguousarray(win.transpose(0, 5, 3, 4, 1, 2)).reshape(n, c * kh * kw, oh * ow)


def fold_forward(cols: np.ndarray, geom: ConvGeom) -> np.ndarray:
    (kh, kw), (oh, ow) = geom.kernel, geom.out_size()
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    six = cols.reshape(n, c, kh, kw, oh, ow).transpose(2, 3, 0, 4, 5, 1)
    return np.ascontiguousarray(col2im(six, geom, cols.dtype))


@helper
def fold_windows(g, geom):
    """Sum the window columns g (N, C·KH·KW, L) back into the image (fold): ∂x of unfold."""
    return Fold(geom)(g) if isinstance(g, Tensor) else fold_forward(g, geom)


@helper
def unfold_windows(g, geom):
    """Read the windows of g (N, C, H, W) as columns (unfold): ∂cols of fold."""
    return Unfold(geom)(g) if isinstance(g, Tensor) else unfold_forward(g, geom)


# ------------------------------------------------------------------ public functions
def _pair(v, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of n ints, as a tuple of n ints."""
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, tuple | list) and len(v) == n and all(isinstance(i, int | np.integer) for i in v):
        return tuple(int(i) for i in v)
    if isinstance(v, tuple | list) and len(v) == 1 and n > 1 and isinstance(v[0], int | np.integer):
        return (int(v[0]),) * n
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")


def _check_float(t, name: str, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: {name} must be a floating tensor, got dtype {t.dtype}")


def _conv_padding(padding, n: int, kernel, dilation, stride, op: str):
    """Padding as ((lo, hi), ...): an int/tuple, 'valid' (none) or 'same' (output size = input size,
    the odd extra on the high side as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    p = _pair(padding, n, "padding", op)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got {padding}")
    return tuple((v, v) for v in p)


def _geom(x: Tensor, w_shape, stride, padding, dilation, groups: int, op: str, transposed=False):
    """Check a convolution's arguments and build its ConvGeom (for 4-D input and weight)."""
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive int, got {groups!r}")
    stride, dilation = _pair(stride, 2, "stride", op), _pair(dilation, 2, "dilation", op)
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{op}: stride must be positive, got {stride}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: dilation must be positive, got {dilation}")
    kernel = tuple(w_shape[2:])
    pad = _conv_padding(padding, 2, kernel, dilation, stride, op)
    return stride, pad, dilation, kernel


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd: int, op: str) -> Tensor:
    _check_float(input, "input", op)
    _check_float(weight, "weight", op)
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected weight of {nd + 2} dims (out_channels, in_channels/groups, kernel), "
            f"got shape {tuple(weight.shape)}"
        )
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got shape {tuple(input.shape)}"
        )
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    w = weight
    if nd == 1:  # a 1-D convolution is a 2-D one of height 1
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        stride, dilation = (1, _pair(stride, 1, "stride", op)[0]), (1, _pair(dilation, 1, "dilation", op)[0])
        if not isinstance(padding, str):
            padding = (0, _pair(padding, 1, "padding", op)[0])
    stride, pad, dilation, kernel = _geom(x, w.shape, stride, padding, dilation, groups, op)
    n, c, h, wd = x.shape
    o = w.shape[0]
    if c != w.shape[1] * groups or o % groups:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} has {c} channels but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {w.shape[1] * groups} "
            f"(and out_channels divisible by groups)"
        )
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"{op}: input ({input.dtype}), weight ({weight.dtype})"
            + (f" and bias ({bias.dtype})" if bias is not None else "")
            + " must have the same dtype"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    geom = ConvGeom((h, wd), kernel, stride, pad, dilation, int(groups))
    oh, ow = geom.out_size()
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} (padded by {pad}) is smaller than the "
            f"kernel {tuple(weight.shape[2:])} with dilation {dilation}: the output would be empty"
        )
    out = Conv(geom)(x, w, bias)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation) of input (N, C, H, W) with weight (O, C/groups, KH, KW)
    -> (N, O, OH, OW), OH = (H + 2·padding − dilation·(KH − 1) − 1) // stride + 1.

    padding may be an int, a pair, 'valid' or 'same'. An unbatched (C, H, W) input is accepted.

    >>> x = mt.randn(1, 1, 5, 5); w = mt.randn(2, 1, 3, 3)
    >>> F.conv2d(x, w, padding=1).shape
    torch.Size([1, 2, 5, 5])
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution of input (N, C, L) with weight (O, C/groups, K) -> (N, O, OL).

    >>> F.conv1d(mt.randn(2, 3, 10), mt.randn(4, 3, 3)).shape
    torch.Size([2, 4, 8])
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, op):
    _check_float(input, "input", op)
    _check_float(weight, "weight", op)
    if weight.ndim != nd + 2 or input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: expected weight (in_channels, out_channels/groups, kernel) of {nd + 2} dims and "
            f"{nd + 1}- or {nd + 2}-D input, got weight {tuple(weight.shape)} and input {tuple(input.shape)}"
        )
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    w = weight
    stride = _pair(stride, nd, "stride", op)
    padding = _pair(padding, nd, "padding", op)
    output_padding = _pair(output_padding, nd, "output_padding", op)
    dilation = _pair(dilation, nd, "dilation", op)
    if nd == 1:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        stride, padding, output_padding, dilation = (
            (1, *stride), (0, *padding), (0, *output_padding), (1, *dilation),
        )  # fmt: skip
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation) or any(p < 0 for p in padding):
        raise RuntimeError(
            f"{op}: stride and dilation must be positive and padding non-negative, got "
            f"stride={stride}, dilation={dilation}, padding={padding}"
        )
    for op_, s, d in zip(output_padding, stride, dilation):
        if not (0 <= op_ < s or 0 <= op_ < d):
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    n, c, h, wd = x.shape
    if c != w.shape[0]:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} has {c} channels but weight of shape "
            f"{tuple(weight.shape)} expects in_channels={w.shape[0]}"
        )
    if c % groups:
        raise RuntimeError(f"{op}: in_channels={c} is not divisible by groups={groups}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(f"{op}: input, weight and bias must have the same dtype")
    kernel = tuple(w.shape[2:])
    size = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for i, s, p, d, k, op_ in zip((h, wd), stride, padding, dilation, kernel, output_padding)
    )
    if min(size) < 1:
        raise RuntimeError(
            f"{op}: the output size {size[-nd:]} would be empty for input {tuple(input.shape)}"
        )
    geom = ConvGeom(size, kernel, stride, tuple((p, p) for p in padding), dilation, int(groups), (h, wd))
    out = ConvTranspose(geom)(x, w)
    c_out = w.shape[1] * groups
    if bias is not None:
        if tuple(bias.shape) != (c_out,):
            raise RuntimeError(f"{op}: bias must have shape ({c_out},), got {tuple(bias.shape)}")
        out = out + bias.reshape(1, c_out, 1, 1)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its
    input. input (N, C_in, H, W), weight (C_in, C_out/groups, KH, KW) -> (N, C_out, H_out, W_out),
    H_out = (H − 1)·stride − 2·padding + dilation·(KH − 1) + output_padding + 1.

    >>> F.conv_transpose2d(mt.randn(1, 2, 3, 3), mt.randn(2, 4, 3, 3), stride=2).shape
    torch.Size([1, 4, 7, 7])
    """
    return _conv_transpose_nd(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2, "conv_transpose2d"
    )


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """1-D transposed convolution: input (N, C_in, L), weight (C_in, C_out/groups, K) -> (N, C_out, L_out).

    >>> F.conv_transpose1d(mt.randn(1, 2, 5), mt.randn(2, 3, 3)).shape
    torch.Size([1, 3, 7])
    """
    return _conv_transpose_nd(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1, "conv_transpose1d"
    )


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding windows: input (N, C, H, W) -> (N, C·KH·KW, L), L the number of windows.

    >>> F.unfold(mt.randn(1, 2, 4, 4), 2).shape
    torch.Size([1, 8, 9])
    """
    op = "unfold"
    _check_float(input, "input", op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected 3-D or 4-D input (N, C, H, W), got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    kernel = _pair(kernel_size, 2, "kernel_size", op)
    stride, dilation = _pair(stride, 2, "stride", op), _pair(dilation, 2, "dilation", op)
    pad = _pair(padding, 2, "padding", op)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(pad) < 0:
        raise RuntimeError(
            f"{op}: kernel_size, stride, dilation must be positive and padding non-negative, got "
            f"{kernel}, {stride}, {dilation}, {pad}"
        )
    geom = ConvGeom(tuple(x.shape[2:]), kernel, stride, tuple((p, p) for p in pad), dilation, 1)
    if min(geom.out_size()) < 1:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} is smaller than the kernel {kernel}")
    out = Unfold(geom)(x)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding windows back into an image (the adjoint of unfold): input (N, C·KH·KW, L) ->
    (N, C, H, W) for output_size (H, W); overlapping windows add up.

    >>> F.fold(mt.ones(1, 4, 4), (3, 3), 2)[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    op = "fold"
    _check_float(input, "input", op)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected 2-D or 3-D input (N, C·KH·KW, L), got shape {tuple(input.shape)}")
    cols = input.unsqueeze(0) if input.ndim == 2 else input
    size = _pair(output_size, 2, "output_size", op)
    kernel = _pair(kernel_size, 2, "kernel_size", op)
    stride, dilation = _pair(stride, 2, "stride", op), _pair(dilation, 2, "dilation", op)
    pad = _pair(padding, 2, "padding", op)
    geom = ConvGeom(size, kernel, stride, tuple((p, p) for p in pad), dilation, 1)
    k = kernel[0] * kernel[1]
    oh, ow = geom.out_size()
    if cols.shape[1] % k or cols.shape[2] != oh * ow or oh < 1 or ow < 1:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} does not match output_size={size}, "
            f"kernel_size={kernel}: expected (N, C·{k}, {max(oh, 0) * max(ow, 0)})"
        )
    out = Fold(geom)(cols)
    return out.squeeze(0) if input.ndim == 2 else out
