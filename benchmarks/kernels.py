"""The kernels behind the convolutional workloads, each against its straightforward NumPy form.

    python -m benchmarks.kernels            # CPU time of this process, median of 15 runs each

Each row times one kernel of ``microtensor.ops`` on the shapes of the MNIST CNN and LeNet-5 at
batch 64 (float32), next to the one-call NumPy it replaced: the whole im2col matrix and one GEMM
for a convolution, ``np.where`` for a masked gradient, ``np.add.reduce`` for a bias gradient, the
mask-per-position max-pool backward. Both columns compute the same array (checked here). The
figures back the speed notes in the kernels' docstrings and docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
import time

from ._threads import set_thread_env

if __name__ == "__main__":  # one BLAS thread, set before NumPy loads (not when a test imports this)
    set_thread_env(1)

import numpy as np  # noqa: E402 - after the thread variables

from microtensor.ops import _xp, conv, pooling  # noqa: E402


def _time(fn, repeats: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def _im2col_conv(x, w, b, geom):
    """The whole column matrix, then one GEMM (what conv_forward did before it blocked)."""
    cols = conv._windows(conv._padded_channels_last(x, geom), geom)
    n, oh, ow, kh, kw, c = cols.shape
    out = cols.reshape(n * oh * ow, kh * kw * c) @ conv._weight_matrix(w, 1)
    out += b
    return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)


def _im2col_weight_grad(x, g, geom):
    cols = conv._windows(conv._padded_channels_last(x, geom), geom)
    n, oh, ow, kh, kw, c = cols.shape
    dw = cols.reshape(n * oh * ow, -1).T @ conv._grad_rows(g, 1)
    return dw.reshape(kh, kw, c, -1).transpose(3, 2, 0, 1)


def _im2col_input_grad(g, w, geom):
    n, o, oh, ow = g.shape
    _, c, kh, kw = w.shape
    cols = np.matmul(conv._grad_rows(g, 1), w.transpose(2, 3, 0, 1).reshape(kh * kw, o, c))
    return conv.col2im(cols.reshape(kh, kw, n, oh, ow, c), geom, g.dtype)


def _mask_per_position_pool_grad(g, x, out, geom):
    """The general max-pool backward (one first-maximum mask per kernel position)."""
    n, c, h, w = x.shape
    gx = pooling._like(x, x.shape, g.dtype, 0)
    for _, rows, cols, hit in pooling._first_max_masks(x, out, geom):
        np.multiply(g, hit, out=gx[:, :, rows, cols])
    return gx


def _conv_rows(name: str, x, w, b, pad: int) -> list:
    geom = conv.ConvGeom(x.shape[2:], w.shape[2:], (1, 1), ((pad, pad),) * 2, (1, 1), 1)
    n, c = x.shape[:2]
    g = _channels_last(np.random.default_rng(1), n, w.shape[0], *geom.out_size())
    out = [
        (f"{name}: forward", lambda: conv.conv_forward(x, w, b, geom), lambda: _im2col_conv(x, w, b, geom)),
        (
            f"{name}: weight grad",
            lambda: conv.conv_weight_grad(x, g, geom),
            lambda: _im2col_weight_grad(x, g, geom),
        ),
        (
            f"{name}: bias grad",
            lambda: conv.sum_over_batch_and_positions(g),
            lambda: np.add.reduce(g, (0, 2, 3)),
        ),
    ]
    if c > 1:
        out.append(
            (
                f"{name}: input grad",
                lambda: conv.conv_input_grad(g, w, geom),
                lambda: _im2col_input_grad(g, w, geom),
            )
        )
    return out


def _channels_last(rng, n, c, h, w):
    """A random (N, C, H, W) float32 array in channels-last memory, as a convolution's output."""
    return rng.standard_normal((n, h, w, c), dtype=np.float32).transpose(0, 3, 1, 2)


def rows() -> list[tuple[str, object, object]]:
    """(name, microtensor's kernel, the plain NumPy form) for every timed kernel."""
    rng = np.random.default_rng(0)
    out = []
    for name, x, shape, pad in (
        ("mnist conv2 32->64 3x3 on 26x26", _channels_last(rng, 64, 32, 26, 26), (64, 32, 3, 3), 0),
        ("lenet conv1 1->6 5x5 pad 2 on 28x28", _channels_last(rng, 64, 1, 28, 28), (6, 1, 5, 5), 2),
    ):
        w = rng.standard_normal(shape, dtype=np.float32)
        out += _conv_rows(name, x, w, rng.standard_normal(shape[0], dtype=np.float32), pad)
    a = np.maximum(_channels_last(rng, 64, 64, 24, 24), 0)
    grad = _channels_last(rng, 64, 64, 24, 24)
    out.append(
        (
            "relu backward where(out <= 0, 0, grad), 2.4M",
            lambda: _xp.where(a <= 0, 0, grad),
            lambda: np.where(a <= 0, 0, grad),
        )
    )
    pgeom = pooling.pool_geom((24, 24), (2, 2), (2, 2), (0, 0), (1, 1), False)
    pooled = pooling.max_pool_forward(a, pgeom)
    gp = rng.standard_normal(pooled.shape, dtype=np.float32)  # (N, C, H, W) memory, as from flatten
    out.append(
        (
            "max_pool2d(2) backward, 64x64x24x24",
            lambda: pooling.route_to_window_max(gp, a, pooled, pgeom),
            lambda: _mask_per_position_pool_grad(gp, a, pooled, pgeom),
        )
    )
    return out


def main() -> int:
    print(f"{'kernel':<52} {'microtensor':>12} {'plain NumPy':>12} {'speed-up':>9}")
    for name, new, old in rows():
        a, b = new(), old()
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if np.linalg.norm(a - b) > 1e-5 * np.linalg.norm(b):  # float32 sums in another order
            print(f"{name}: the two forms disagree", file=sys.stderr)
            return 1
        t_new, t_old = _time(new), _time(old)
        print(f"{name:<52} {t_new * 1e3:>9.2f} ms {t_old * 1e3:>9.2f} ms {t_old / t_new:>8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
