"""Numerics at ±1e4 against PyTorch: what test_op_gradients.py and test_losses.py do not already cover.

Those check softmax, log_softmax, logsumexp, sigmoid and tanh (float32/64), cross_entropy with class
indices and BCE-with-logits at ±1e4, and BCE's −100 clamp against its formula; test_torch_parity.py
checks pow with a zero base and sqrt/log at 0. Here: float16 too, rows that are entirely ±1e4, the
loss options (label smoothing, probability targets, class weights, pos_weight), and the −100 clamp
(values and gradients) against PyTorch itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn.functional as F

X = np.array(
    [[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, 1e4, 1e4], [0.5, -1e4, 3.0, 1e4 - 1]]
)
TARGET = np.array([0, 1, 2, 1])
Y = (np.arange(16).reshape(4, 4) % 3 == 0).astype(np.float64)

CASES = {
    "softmax": lambda L, x: L.softmax(x, 1),
    "log_softmax": lambda L, x: L.log_softmax(x, 1),
    "logsumexp": lambda L, x: x.logsumexp(1),
    "sigmoid": lambda L, x: x.sigmoid(),
    "tanh": lambda L, x: x.tanh(),
    "cross_entropy": lambda L, x: L.cross_entropy(x, _t(L, TARGET), reduction="none"),
    "cross_entropy label_smoothing": lambda L, x: L.cross_entropy(
        x, _t(L, TARGET), label_smoothing=0.1, reduction="none"
    ),
    "cross_entropy probabilities": lambda L, x: L.cross_entropy(
        x, _t(L, np.full((4, 4), 0.25), x.dtype), reduction="none"
    ),
    "cross_entropy weight": lambda L, x: L.cross_entropy(
        x, _t(L, TARGET), weight=_t(L, np.array([1.0, 2.0, 3.0, 4.0]), x.dtype)
    ),
    "bce_with_logits": lambda L, x: L.binary_cross_entropy_with_logits(
        x, _t(L, Y, x.dtype), reduction="none"
    ),
    "bce_with_logits pos_weight": lambda L, x: L.binary_cross_entropy_with_logits(
        x, _t(L, Y, x.dtype), pos_weight=_t(L, np.array([1.0, 2.0, 3.0, 0.5]), x.dtype)
    ),
}


def _t(L, a, dtype=None):
    """A constant of library L (the module passed is torch.nn.functional or microtensor's F)."""
    if L is F:
        return mt.tensor(a) if dtype is None else mt.tensor(a, dtype=dtype)
    import torch

    t = torch.tensor(a)
    return t if dtype is None else t.to(dtype)


def _run(L, make, fn, x_np, dtype):
    x = make(x_np.astype(dtype))
    out = fn(L, x)
    w = np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)).astype(dtype)
    (out * make(w, grad=False)).sum().backward()
    return out.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=["float16", "float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_saturating_ops_and_losses_at_1e4_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    def mt_make(a, grad=True):
        return mt.tensor(a, requires_grad=grad)

    def torch_make(a, grad=True):
        return torch.tensor(a, requires_grad=grad)

    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, grad = _run(F, mt_make, CASES[name], X, dtype)
    ref_out, ref_grad = _run(TF, torch_make, CASES[name], X, dtype)
    assert np.isfinite(out).all() and np.isfinite(grad).all()
    tol = {np.float16: 2e-3, np.float32: 1e-5, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(out, ref_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_clamp_at_minus_100_matches_torch_values_and_gradients(dtype):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-7, 0.5], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.3], dtype)
    weight = np.linspace(0.5, 2.0, 7).astype(dtype)
    for reduction in ("none", "sum", "mean"):
        pm, pt = mt.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
        om = F.binary_cross_entropy(pm, mt.tensor(y), weight=mt.tensor(weight), reduction=reduction)
        ot = TF.binary_cross_entropy(pt, torch.tensor(y), weight=torch.tensor(weight), reduction=reduction)
        om.sum().backward()
        ot.sum().backward()
        np.testing.assert_allclose(om.detach().numpy(), ot.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-6)
        assert np.isfinite(pm.grad.numpy()).all()


def test_sigmoid_then_bce_at_1e4_is_finite_thanks_to_the_clamp():
    z = mt.tensor([1e4, -1e4, 1e4, -1e4], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([0.0, 1.0, 1.0, 0.0], dtype=mt.float64)
    loss = F.binary_cross_entropy(z.sigmoid(), y, reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(z.grad.numpy()).all()
