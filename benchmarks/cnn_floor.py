"""Hand-derived NumPy for the convolutional workloads: the floor of ``mnist-cnn`` and ``lenet5``.

Conventions as in ``floor.py``: PyTorch's layouts (conv weight ``(O, C, KH, KW)``, linear weight
``(out, in)``), grads keyed by the ``state_dict`` names of the equivalent model, dtype-preserving.
Every derivative is written out by hand; nothing here uses autograd or microtensor's ops.

A convolution is a GEMM over the input's windows: with the input in channels-last memory
``(N, H, W, C)``, the windows ``(N, OH, OW, KH, KW, C)`` are a strided view and gathering them as
rows ``(N·OH·OW, KH·KW·C)`` is one copy; ``Y = cols @ Wmat`` with ``Wmat = W`` as
``(KH·KW·C, O)``. Backward, by the chain rule on that GEMM: ``dWmat = colsᵀ dY``, ``db = Σ dY``,
``dcols = dY Wmatᵀ``, and ``dX`` sums the columns back into their windows (col2im).

The GEMMs run over blocks of about ``BLOCK_BYTES`` of columns (a few samples), one scratch buffer
for all, so that gathering a block and multiplying it (or computing a block's column gradient and
summing it back) meet in the L2 cache; the full column matrix of the MNIST net's second layer
would be 42 MB. Backward gathers the columns again rather than keeping them: a copy from cache is
cheaper than holding 42 MB between forward and backward.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

Grads = dict[str, np.ndarray]


BLOCK_BYTES = 1 << 20


def _windows(xp: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """(N, OH, OW, KH, KW, C) strided view of a channels-last (N, H, W, C) array (stride 1)."""
    n, h, w, c = xp.shape
    s = xp.strides
    return as_strided(xp, (n, h - kh + 1, w - kw + 1, kh, kw, c), (s[0], s[1], s[2], s[1], s[2], s[3]))


def _blocks(n: int, sample_bytes: int):
    """Sample ranges of about BLOCK_BYTES of columns (at least one sample)."""
    per = max(1, BLOCK_BYTES // sample_bytes)
    return [(s, min(n, s + per)) for s in range(0, n, per)]


def _gather(win: np.ndarray, s: int, e: int, buf: np.ndarray) -> np.ndarray:
    """The columns of samples s:e as an (M, KH·KW·C) matrix copied into buf: as rows when a window
    row (KW·C floats) is longer than an output row (OW), else transposed (K, M), whose copy runs
    over whole output rows (LeNet's first layer: C = 1, KW = 5, OW = 28), read as its (M, K) view."""
    _, oh, ow, kh, kw, c = win.shape
    m, k = (e - s) * oh * ow, kh * kw * c
    if kw * c >= ow:
        cols = buf[: m * k].reshape((e - s,) + win.shape[1:])
        np.copyto(cols, win[s:e])
        return cols.reshape(m, k)
    cols = buf[: m * k].reshape(kh, kw, c, e - s, oh, ow)
    np.copyto(cols, win[s:e].transpose(3, 4, 5, 0, 1, 2))
    return cols.reshape(k, m).T


def conv_forward(x_cl: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int):
    """x_cl (N, H, W, C) channels-last; returns (y_cl (N, OH, OW, O), cache)."""
    o, c, kh, kw = w.shape
    if pad:
        n, h, wd, _ = x_cl.shape
        xp = np.zeros((n, h + 2 * pad, wd + 2 * pad, c), x_cl.dtype)
        xp[:, pad : pad + h, pad : pad + wd] = x_cl
    else:
        xp = x_cl
    win = _windows(xp, kh, kw)
    n, oh, ow = win.shape[:3]
    k = kh * kw * c
    wmat = w.transpose(2, 3, 1, 0).reshape(k, o)
    y = np.empty((n, oh, ow, o), x_cl.dtype)
    blocks = _blocks(n, win[:1].size * x_cl.itemsize)
    buf = np.empty(blocks[0][1] * win[:1].size, x_cl.dtype)
    for s, e in blocks:
        ys = y[s:e]
        np.matmul(_gather(win, s, e, buf), wmat, out=ys.reshape(-1, o))
        ys += b
    return y, (xp, pad)


def conv_backward(dy_cl: np.ndarray, w: np.ndarray, cache, need_dx: bool = True):
    """dy_cl (N, OH, OW, O) -> (dx_cl (N, H, W, C) or None, dW (O, C, KH, KW), db (O,))."""
    xp, pad = cache
    o, c, kh, kw = w.shape
    n, oh, ow, _ = dy_cl.shape
    k = kh * kw * c
    win = _windows(xp, kh, kw)
    blocks = _blocks(n, win[:1].size * xp.itemsize)
    buf = np.empty(blocks[0][1] * win[:1].size, xp.dtype)
    dwt = np.zeros((o, k), xp.dtype)  # dWmatᵀ = Σ over blocks of dYᵀ cols
    part = np.empty((o, k), xp.dtype)
    for s, e in blocks:
        np.matmul(dy_cl[s:e].reshape(-1, o).T, _gather(win, s, e, buf), out=part)
        dwt += part
    dw = dwt.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)
    db = dy_cl.reshape(-1, o).sum(axis=0)
    if not need_dx:
        return None, np.ascontiguousarray(dw), db
    # dcols = dY Wmatᵀ, one GEMM per kernel position (batched) so that each position's columns are
    # contiguous; each block's columns are summed into their windows while in cache
    wk = w.transpose(2, 3, 0, 1).reshape(kh * kw, o, c)
    dxp = np.zeros(xp.shape, dy_cl.dtype)
    dbuf = np.empty((kh * kw, blocks[0][1] * oh * ow, c), dy_cl.dtype)
    for s, e in blocks:
        dcols = dbuf[:, : (e - s) * oh * ow]
        np.matmul(dy_cl[s:e].reshape(-1, o), wk, out=dcols)
        dcols = dcols.reshape(kh, kw, e - s, oh, ow, c)
        for i in range(kh):
            for j in range(kw):
                dxp[s:e, i : i + oh, j : j + ow] += dcols[i, j]
    h, wd = xp.shape[1] - 2 * pad, xp.shape[2] - 2 * pad
    dx = dxp[:, pad : pad + h, pad : pad + wd] if pad else dxp
    return dx, np.ascontiguousarray(dw), db


def maxpool2_forward(x_cl: np.ndarray):
    """2×2 max pooling, stride 2, of channels-last (N, H, W, C) (even H and W)."""
    n, h, w, c = x_cl.shape
    x6 = x_cl.reshape(n, h // 2, 2, w // 2, 2, c)
    y = np.maximum(x6[:, :, 0, :, 0], x6[:, :, 0, :, 1])
    np.maximum(y, x6[:, :, 1, :, 0], out=y)
    np.maximum(y, x6[:, :, 1, :, 1], out=y)
    return y, (x6, y)


def maxpool2_backward(dy: np.ndarray, cache) -> np.ndarray:
    """Each window's gradient to its first maximum (in window order (0,0), (0,1), (1,0), (1,1)):
    `rest` carries it over the positions and drops to 0 once a position equal to the maximum
    took it; the last position gets what is left. (No NaN here: the inputs are finite.)"""
    x6, y = cache
    dx = np.empty(x6.shape, dy.dtype)
    rest = np.array(dy, order="C")
    hit = np.empty(y.shape, bool)
    for i, j in ((0, 0), (0, 1), (1, 0)):
        np.equal(x6[:, :, i, :, j], y, out=hit)
        np.multiply(rest, hit, out=dx[:, :, i, :, j])
        np.logical_not(hit, out=hit)
        rest *= hit
    dx[:, :, 1, :, 1] = rest
    n, oh, _, ow, _, c = x6.shape
    return dx.reshape(n, 2 * oh, 2 * ow, c)


def log_softmax_nll(z: np.ndarray, target: np.ndarray):
    """Mean NLL of log_softmax(z): loss and dL/dz = (softmax(z) − onehot) / N."""
    m = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(m), target].mean()
    dz = np.exp(logp)
    dz[np.arange(m), target] -= 1
    dz /= m
    return loss, dz


def mnist_cnn(x_cl, target, p, masks) -> tuple[np.generic, Grads]:
    """pytorch/examples' MNIST net: conv1 (1→32, 3×3), ReLU, conv2 (32→64), ReLU, max-pool 2,
    dropout (masks[0], already scaled by 1/(1−p)), flatten in (C, H, W) order, fc1, ReLU,
    dropout (masks[1]), fc2, log_softmax + NLL."""
    a1, c1 = conv_forward(x_cl, p["conv1.weight"], p["conv1.bias"], 0)
    np.maximum(a1, 0, out=a1)
    z2, c2 = conv_forward(a1, p["conv2.weight"], p["conv2.bias"], 0)
    a2 = np.maximum(z2, 0)
    pooled, cp = maxpool2_forward(a2)
    d1 = pooled * masks[0]
    n = x_cl.shape[0]
    flat = d1.transpose(0, 3, 1, 2).reshape(n, -1)  # PyTorch's flatten order: (C, H, W)
    h = flat @ p["fc1.weight"].T + p["fc1.bias"]
    r = np.maximum(h, 0)
    d2 = r * masks[1]
    z = d2 @ p["fc2.weight"].T + p["fc2.bias"]
    loss, dz = log_softmax_nll(z, target)
    g: Grads = {"fc2.weight": dz.T @ d2, "fc2.bias": dz.sum(0)}
    dr = (dz @ p["fc2.weight"]) * masks[1]
    dh = dr * (h > 0)
    g["fc1.weight"], g["fc1.bias"] = dh.T @ flat, dh.sum(0)
    dflat = dh @ p["fc1.weight"]
    dpool = dflat.reshape(n, *pooled.shape[3:], *pooled.shape[1:3]).transpose(0, 2, 3, 1) * masks[0]
    da2 = maxpool2_backward(dpool, cp)
    da2 *= z2 > 0
    da1, g["conv2.weight"], g["conv2.bias"] = conv_backward(da2, p["conv2.weight"], c2)
    da1 *= a1 > 0
    _, g["conv1.weight"], g["conv1.bias"] = conv_backward(da1, p["conv1.weight"], c1, need_dx=False)
    return loss, g


def lenet5(x_cl, target, p, masks=None) -> tuple[np.generic, Grads]:
    """LeNet-5 (keys of nn.Sequential): 0 conv 1→6 5×5 pad 2, ReLU, max-pool 2, 3 conv 6→16 5×5,
    ReLU, max-pool 2, flatten, 7 fc 400→120, ReLU, 9 fc 120→84, ReLU, 11 fc 84→10; cross-entropy."""
    z1, c1 = conv_forward(x_cl, p["0.weight"], p["0.bias"], 2)
    a1 = np.maximum(z1, 0)
    p1, cp1 = maxpool2_forward(a1)
    z2, c2 = conv_forward(p1, p["3.weight"], p["3.bias"], 0)
    a2 = np.maximum(z2, 0)
    p2, cp2 = maxpool2_forward(a2)
    n = x_cl.shape[0]
    flat = p2.transpose(0, 3, 1, 2).reshape(n, -1)
    h1 = flat @ p["7.weight"].T + p["7.bias"]
    r1 = np.maximum(h1, 0)
    h2 = r1 @ p["9.weight"].T + p["9.bias"]
    r2 = np.maximum(h2, 0)
    z = r2 @ p["11.weight"].T + p["11.bias"]
    loss, dz = log_softmax_nll(z, target)
    g: Grads = {"11.weight": dz.T @ r2, "11.bias": dz.sum(0)}
    dh2 = (dz @ p["11.weight"]) * (h2 > 0)
    g["9.weight"], g["9.bias"] = dh2.T @ r1, dh2.sum(0)
    dh1 = (dh2 @ p["9.weight"]) * (h1 > 0)
    g["7.weight"], g["7.bias"] = dh1.T @ flat, dh1.sum(0)
    dflat = dh1 @ p["7.weight"]
    dp2 = dflat.reshape(n, p2.shape[3], *p2.shape[1:3]).transpose(0, 2, 3, 1)
    da2 = maxpool2_backward(dp2, cp2)
    da2 *= z2 > 0
    dp1, g["3.weight"], g["3.bias"] = conv_backward(da2, p["3.weight"], c2)
    da1 = maxpool2_backward(dp1, cp1)
    da1 *= z1 > 0
    _, g["0.weight"], g["0.bias"] = conv_backward(da1, p["0.weight"], c1, need_dx=False)
    return loss, g


def adadelta_step(params, grads, state, lr=1.0, rho=0.9, eps=1e-6) -> None:
    """torch.optim.Adadelta (no weight decay), in place: v ← ρv + (1−ρ)g²,
    Δ = √(u + ε)/√(v + ε) · g, u ← ρu + (1−ρ)Δ², p ← p − lr·Δ."""
    for name, p in params.items():
        g = grads[name]
        v, u = state.setdefault(name, (np.zeros_like(p), np.zeros_like(p)))
        v *= rho
        v += (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta
        p -= lr * delta
