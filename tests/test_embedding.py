"""Embedding, EmbeddingBag, F.embedding, F.one_hot: values, gradients and state_dicts vs PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from _seq_parity import compare, load_mt_into_torch, load_torch_into_mt

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")


def _pair(tcls, mcls, *args, **kw):
    tm = tcls(*args, **kw).double()
    mm = mcls(*args, **kw).double()
    load_torch_into_mt(tm, mm)
    return tm, mm


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_values_and_gradient_accumulate_over_repeats(padding_idx):
    tm, mm = _pair(torch.nn.Embedding, nn.Embedding, 6, 4, padding_idx=padding_idx)
    idx = np.array([[1, 2, 1, 5], [0, 1, 1, 3]])
    compare(torch, tm, mm, [lambda lib: lib.tensor(idx)])
    if padding_idx is not None:  # the padding row: zero at construction, and no gradient
        assert not mm.weight.detach().numpy()[padding_idx % 6].any()
        assert not mm.weight.grad.numpy()[padding_idx % 6].any()
    assert np.allclose(mm.weight.grad.numpy()[1], tm.weight.grad.numpy()[1])  # used four times


def test_embedding_max_norm_renormalises_rows_in_place_like_torch():
    tm, mm = _pair(torch.nn.Embedding, nn.Embedding, 5, 3, max_norm=1.0)
    idx = np.array([0, 2, 2])
    compare(torch, tm, mm, [lambda lib: lib.tensor(idx)])
    np.testing.assert_allclose(mm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-12)
    assert np.linalg.norm(mm.weight.detach().numpy()[2]) <= 1 + 1e-6


def test_embedding_scale_grad_by_freq():
    tm, mm = _pair(torch.nn.Embedding, nn.Embedding, 5, 3, scale_grad_by_freq=True)
    compare(torch, tm, mm, [lambda lib: lib.tensor([[1, 1, 1, 4]])])


def test_from_pretrained_freeze_and_state_dict_both_ways():
    w = np.random.default_rng(0).standard_normal((4, 3))
    m = nn.Embedding.from_pretrained(mt.tensor(w))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert not m.weight.requires_grad and not t.weight.requires_grad
    assert nn.Embedding.from_pretrained(mt.tensor(w), freeze=False).weight.requires_grad
    m2 = nn.Embedding(4, 3).double()
    load_mt_into_torch(torch, m, t2 := torch.nn.Embedding(4, 3).double())
    np.testing.assert_array_equal(t2(torch.tensor([3, 0])).detach().numpy(), w[[3, 0]])
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m2(mt.tensor([3, 0])).detach().numpy(), w[[3, 0]])


def test_embedding_errors_name_the_problem():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="embedding: index out of range"):
        emb(mt.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="integer"):
        emb(mt.tensor([0.0, 1.0]))
    with pytest.raises(AssertionError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("form", ["2d", "offsets", "last_offset", "padding"])
def test_embedding_bag_matches_torch(mode, form):
    kw = {"padding_idx": 2} if form == "padding" else {}
    kw |= {"include_last_offset": True} if form == "last_offset" else {}
    tm, mm = _pair(torch.nn.EmbeddingBag, nn.EmbeddingBag, 7, 3, mode=mode, **kw)
    if form in ("2d", "padding"):
        idx = np.array([[1, 2, 4], [2, 2, 2], [6, 0, 6]])
        compare(torch, tm, mm, [lambda lib: lib.tensor(idx)])
    else:
        idx = np.array([1, 2, 4, 5, 6, 0, 3])
        offs = np.array([0, 3, 3, 5] + ([7] if form == "last_offset" else []))
        if mode == "max":  # an empty bag's max is zeros in both
            offs = np.array([0, 3, 5] + ([7] if form == "last_offset" else []))
        compare(torch, tm, mm, [lambda lib: lib.tensor(idx), lambda lib: lib.tensor(offs)])


def test_embedding_bag_per_sample_weights():
    tm, mm = _pair(torch.nn.EmbeddingBag, nn.EmbeddingBag, 5, 2, mode="sum")
    psw = np.array([0.5, 2.0, -1.0, 3.0])
    compare(
        torch, tm, mm,
        [lambda lib: lib.tensor([0, 1, 1, 4]), lambda lib: lib.tensor([0, 2]), psw],
        call=lambda m, i, o, w: m(i, o, per_sample_weights=w),
    )  # fmt: skip


def test_functional_embedding_and_one_hot_match_torch():
    w = np.random.default_rng(1).standard_normal((5, 3))
    idx = np.array([[4, 0], [0, 0]])
    out = F.embedding(mt.tensor(idx), mt.tensor(w), padding_idx=0)
    ref = torch.nn.functional.embedding(torch.tensor(idx), torch.tensor(w), padding_idx=0)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(
        F.one_hot(mt.tensor(idx), 6).numpy(), torch.nn.functional.one_hot(torch.tensor(idx), 6).numpy()
    )


def test_embedding_gradient_is_differentiable_again():
    w = mt.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    out = F.embedding(mt.tensor([1, 1, 3]), w)
    (g,) = mt.autograd.grad((out**2).sum(), w, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), w)
    expect = np.zeros((4, 3))
    expect[1], expect[3] = 4, 2  # d/dw of Σ 2·count·w
    np.testing.assert_allclose(gg.numpy(), expect)
