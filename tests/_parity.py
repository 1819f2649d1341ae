"""Shared helper of the surface parity tests: run one program on microtensor and on PyTorch."""

from __future__ import annotations

import numpy as np


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _flat(out):
    """The tensors of an output (a tensor, a tuple, a named tuple or a list of them), in order."""
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flat(o)]
    return [out]


def check(torch, mt, fn, *arrays, grad: bool = True, rtol=1e-10, atol=1e-12):
    """fn(lib, *tensors) on both libraries: same structure (named-tuple fields too), shapes, dtypes,
    values; and, when grad, the same gradients of a fixed weighted sum of the floating outputs."""
    mts = [mt.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    tts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    mo, to = fn(mt, *mts), fn(torch, *tts)
    if hasattr(to, "_fields") or type(to).__module__ == "torch.return_types":
        fields = [f for f in dir(to) if f in ("values", "indices", "min", "max")]
        for f in fields:
            assert getattr(mo, f) is not None, f
    mf, tf = _flat(mo), _flat(to)
    assert len(mf) == len(tf), (len(mf), len(tf))
    for a, b in zip(mf, tf):
        if isinstance(b, int | float | bool | tuple):
            assert a == b or np.allclose(a, b), (a, b)
            continue
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch."), (a.dtype, b.dtype)
        loose = str(b.dtype) in ("torch.float32", "torch.float16")  # NumPy and PyTorch round differently
        np.testing.assert_allclose(
            _np(a), _np(b), rtol=1e-6 if loose else rtol, atol=1e-6 if loose else atol, equal_nan=True
        )
    if not grad:
        return
    floats = [
        (a, b)
        for a, b in zip(mf, tf)
        if hasattr(b, "dtype") and b.dtype.is_floating_point and b.requires_grad
    ]
    if not floats:
        return
    rng = np.random.default_rng(0)
    lm = lt = 0
    for a, b in floats:
        w = rng.standard_normal(tuple(b.shape))
        keep = np.isfinite(_np(b))  # -inf fills (the causal mask) take no part in the loss
        lm = lm + mt.where(mt.tensor(keep), a * mt.tensor(w), 0.0).sum()
        lt = lt + torch.where(torch.tensor(keep), b * torch.tensor(w), 0.0).sum()
    lm.backward()
    lt.backward()
    for x, y in zip(mts, tts):
        if y.requires_grad:
            gy = np.zeros(y.shape) if y.grad is None else y.grad.numpy()
            gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
            np.testing.assert_allclose(gx, gy, rtol=rtol, atol=atol)
