"""LayerNorm, RMSNorm, F.layer_norm, F.rms_norm: values, gradients and state_dicts vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from _seq_parity import compare, load_torch_into_mt

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(5,), (3, 5), (3, 4)])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
def test_layer_norm_module_matches_torch(shape, affine):
    kw = {"elementwise_affine": affine[0], "bias": affine[1], "eps": 1e-3}
    tm, mm = torch.nn.LayerNorm(shape, **kw).double(), nn.LayerNorm(shape, **kw).double()
    for p in tm.parameters():  # not the trivial ones and zeros
        p.data.normal_()
    load_torch_into_mt(tm, mm)
    compare(torch, tm, mm, [RNG.standard_normal((2, 3) + shape)])


@pytest.mark.parametrize("eps", [None, 1e-2])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_module_matches_torch(eps, affine):
    tm = torch.nn.RMSNorm((3, 4), eps=eps, elementwise_affine=affine).double()
    mm = nn.RMSNorm((3, 4), eps=eps, elementwise_affine=affine).double()
    for p in tm.parameters():
        p.data.normal_()
    load_torch_into_mt(tm, mm)
    compare(torch, tm, mm, [RNG.standard_normal((2, 3, 4))])


def test_float32_layer_norm_is_close_to_torch():
    x = RNG.standard_normal((4, 8)).astype(np.float32) * 10 + 3
    out = F.layer_norm(mt.tensor(x), (8,))
    ref = torch.nn.functional.layer_norm(torch.tensor(x), (8,))
    assert out.dtype == mt.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=2e-6)
    out = F.rms_norm(mt.tensor(x), (8,))
    np.testing.assert_allclose(
        out.numpy(), torch.nn.functional.rms_norm(torch.tensor(x), (8,)).numpy(), atol=2e-6
    )


def test_layer_norm_second_order_matches_torch():
    x = RNG.standard_normal((3, 5))
    w = RNG.standard_normal(5)
    mx, mw = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (gm,) = mt.autograd.grad((F.layer_norm(mx, (5,), mw) ** 3).sum(), mx, create_graph=True)
    (gt,) = torch.autograd.grad(
        (torch.nn.functional.layer_norm(tx, (5,), tw) ** 3).sum(), tx, create_graph=True
    )
    (gm * gm).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-9)


def test_layer_norm_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"layer_norm: given normalized_shape=\[4\].*\[2, 5\]"):
        F.layer_norm(mt.randn(2, 5), (4,))
    with pytest.raises(RuntimeError, match="weight must have shape"):
        F.layer_norm(mt.randn(2, 5), (5,), mt.ones(4))


def test_state_dict_keys_match_torch():
    assert sorted(nn.LayerNorm(4).state_dict()) == sorted(torch.nn.LayerNorm(4).state_dict())
    assert sorted(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert sorted(nn.RMSNorm(4).state_dict()) == sorted(torch.nn.RMSNorm(4).state_dict())
