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


# tolerances per result dtype (assert_same): NumPy's and PyTorch's float32 kernels differ by a few ulps
TOL = {"float32": (2e-5, 2e-6), "float64": (1e-10, 1e-12)}


def assert_same(fn, arrays_, grad: bool = True, *, tol=None, note_text: str = ""):
    """fn(lib, *tensors) in both libraries: outputs (shape, dtype, values, requires_grad), then the
    gradients of a fixed random weighting of the floating outputs with respect to every input;
    tolerances by dtype (TOL), or `tol` = (rtol, atol) for values and ten times that for gradients."""
    import torch  # (here: the callers have skipped already when torch is missing)

    import microtensor as mt

    mts = [mt.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays_]
    tts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays_]
    to, mo = fn(torch, *tts), fn(mt, *mts)
    tf, mf = _flat(to), _flat(mo)
    assert len(mf) == len(tf), note_text
    floats = []
    for a, b in zip(mf, tf):
        if not isinstance(b, torch.Tensor):  # a Python bool / number (allclose, equal)
            assert type(a) is type(b) and a == b, (a, b, note_text)
            continue
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape, note_text)
        dt = str(b.dtype).removeprefix("torch.")
        assert str(a.dtype) == dt, (a.dtype, b.dtype, note_text)
        assert a.requires_grad == b.requires_grad, ("requires_grad", a.requires_grad, note_text)
        rtol, atol = tol or TOL.get(dt, (0, 0))
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, equal_nan=True, err_msg=note_text)
        if b.requires_grad:
            floats.append((a, b, dt))
    if not floats:
        return
    rng = np.random.default_rng(0)
    lm = lt = 0
    for a, b, dt in floats:
        w = rng.standard_normal(tuple(b.shape)).astype(dt)
        lm = lm + (a * mt.tensor(w)).sum()
        lt = lt + (b * torch.tensor(w)).sum()
    lm.backward()
    lt.backward()
    for x, y in zip(mts, tts):
        if not y.requires_grad:
            continue
        assert (x.grad is None) == (y.grad is None), ("grad is None", x.grad, y.grad, note_text)
        if y.grad is not None:
            rtol, atol = tol or TOL[str(y.dtype).removeprefix("torch.")]
            np.testing.assert_allclose(
                x.grad.numpy(),
                y.grad.numpy(force=True),
                rtol=rtol * 10,
                atol=atol * 10,
                err_msg=f"grad {note_text}",
            )
