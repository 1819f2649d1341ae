"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from _seq_parity import compare, load_mt_into_torch, load_torch_into_mt

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(mask, scale):
    q, k, v = (
        RNG.standard_normal((2, 3, 4, 8)),
        RNG.standard_normal((2, 3, 6, 8)),
        RNG.standard_normal((2, 3, 6, 5)),
    )
    if mask == "causal":
        k, v = k[:, :, :4], v[:, :, :4]
    m = {"bool": RNG.random((4, 6)) > 0.3, "float": RNG.standard_normal((4, 6))}.get(mask)
    if mask == "bool":
        m[:, 0] = True

    def run(lib, q, k, v):
        am = None if m is None else lib.tensor(m)
        return lib.nn.functional.scaled_dot_product_attention(
            q, k, v, am, is_causal=mask == "causal", scale=scale
        )

    mq, mk, mv = (mt.tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    mo, to = run(mt, mq, mk, mv), run(torch, tq, tk, tv)
    np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = RNG.standard_normal(to.shape)
    (mo * mt.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    for a, b in ((mq, tq), (mk, tk), (mv, tv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sdpa_dropout_is_seeded_and_scales_kept_weights():
    q = mt.randn(1, 5, 4)
    mt.manual_seed(3)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    mt.manual_seed(3)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, q, q).numpy())


MHA_OPTIONS = [
    {},
    {"bias": False},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"kdim": 6, "vdim": 5},
]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("opts", MHA_OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("masks", ["none", "bool", "float", "both"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, opts, masks, average):
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, **opts).double()
    mm = nn.MultiheadAttention(8, 2, batch_first=batch_first, **opts).double()
    load_torch_into_mt(tm, mm)
    q = RNG.standard_normal((3, 4, 8))
    k = RNG.standard_normal((3, 6, opts.get("kdim", 8)))
    v = RNG.standard_normal((3, 6, opts.get("vdim", 8)))
    if not batch_first:
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    kpm = np.zeros((3, 6), bool)
    kpm[0, 4:] = True
    am = np.triu(np.ones((4, 6), bool), 3)
    if masks == "float":
        kpm, am = np.where(kpm, -1.5, 0.0), RNG.standard_normal((4, 6))

    def call(m, q, k, v):
        kw = {}
        if masks in ("bool", "float", "both"):
            kw["key_padding_mask"] = (torch if isinstance(q, torch.Tensor) else mt).tensor(kpm)
        if masks in ("bool", "float"):
            kw["attn_mask"] = (torch if isinstance(q, torch.Tensor) else mt).tensor(am)
        return m(q, k, v, average_attn_weights=average, **kw)

    compare(torch, tm, mm, [q, k, v], call=call)


def test_self_attention_unbatched_and_need_weights_false():
    tm = torch.nn.MultiheadAttention(8, 4).double()
    mm = nn.MultiheadAttention(8, 4).double()
    load_torch_into_mt(tm, mm)
    x = RNG.standard_normal((5, 8))
    compare(torch, tm, mm, [x], call=lambda m, x: m(x, x, x))
    mo, mw = mm(mt.tensor(x), mt.tensor(x), mt.tensor(x), need_weights=False)
    assert mw is None and mo.shape == (5, 8)


def test_multihead_attention_errors():
    mha = nn.MultiheadAttention(8, 2)
    x = mt.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="attn_mask should have shape"):
        mha(x, x, x, attn_mask=mt.zeros(3, 3, dtype=mt.bool))
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(7, 2)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)


def _layer_pair(tcls, mcls, **kw):
    tm, mm = tcls(**kw).double(), mcls(**kw).double()
    load_torch_into_mt(tm, mm)
    return tm, mm


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_and_stack_match_torch(norm_first, batch_first, activation):
    if activation == "gelu" and not hasattr(F, "gelu"):
        pytest.skip("microtensor.nn.functional.gelu is added by the activations work")
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=batch_first)
    kw |= dict(norm_first=norm_first, activation=activation)
    tl, ml = _layer_pair(torch.nn.TransformerEncoderLayer, nn.TransformerEncoderLayer, **kw)
    x = RNG.standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True

    def call(m, x):
        lib = torch if isinstance(x, torch.Tensor) else mt
        return m(x, lib.tensor(mask), src_key_padding_mask=lib.tensor(kpm))

    compare(torch, tl, ml, [x], call=call)
    tl.zero_grad(set_to_none=True)  # the stacks deep-copy the layer: start them without gradients
    ml.zero_grad(set_to_none=True)
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8).double(), enable_nested_tensor=False)
    me = nn.TransformerEncoder(ml, 2, norm=nn.LayerNorm(8).double())
    load_torch_into_mt(te, me)
    compare(
        torch,
        te,
        me,
        [x],
        call=lambda m, x: m(x, torch.tensor(mask) if isinstance(x, torch.Tensor) else mt.tensor(mask)),
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_transformer_match_torch(norm_first):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=norm_first)
    tl, ml = _layer_pair(torch.nn.TransformerDecoderLayer, nn.TransformerDecoderLayer, **kw)
    tgt, mem = RNG.standard_normal((2, 4, 8)), RNG.standard_normal((2, 6, 8))
    tmask = nn.Transformer.generate_square_subsequent_mask(4, dtype=mt.float64)
    np.testing.assert_array_equal(
        tmask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    )
    mkpm = np.zeros((2, 6), bool)
    mkpm[0, 5] = True

    def call(m, t, s):
        lib = torch if isinstance(t, torch.Tensor) else mt
        return m(t, s, lib.tensor(tmask.numpy()), memory_key_padding_mask=lib.tensor(mkpm))

    compare(torch, tl, ml, [tgt, mem], call=call)
    tt = torch.nn.Transformer(8, 2, 1, 2, 16, 0.0, batch_first=True, norm_first=norm_first).double()
    mm = nn.Transformer(8, 2, 1, 2, 16, 0.0, batch_first=True, norm_first=norm_first).double()
    load_torch_into_mt(tt, mm)

    def call_model(m, s, t):
        lib = torch if isinstance(s, torch.Tensor) else mt
        return m(s, t, tgt_mask=lib.tensor(tmask.numpy()))

    compare(torch, tt, mm, [mem, tgt], call=call_model)


def test_transformer_state_dict_into_torch_gives_identical_outputs():
    mt.manual_seed(0)
    mm = nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True).double()
    tm = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True).double().eval()
    load_mt_into_torch(torch, mm, tm)
    x = RNG.standard_normal((2, 3, 8))
    np.testing.assert_allclose(
        mm(mt.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-9
    )


def test_dropout_only_while_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = mt.randn(3, 2, 8)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
