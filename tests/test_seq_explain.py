"""explain() summarises repeated structure: an unrolled recurrence (the block × time steps, and each
weight's gradient as the sum of its per-step contributions) and a stack of transformer layers."""

from __future__ import annotations

import io

import numpy as np

import microtensor as mt
import microtensor.nn as nn


def _explain(out, inputs=None) -> str:
    return mt.explain(out, inputs, file=io.StringIO())


def test_unrolled_rnn_shows_the_block_and_backprop_through_time_as_a_sum():
    mt.manual_seed(0)
    cell = nn.RNNCell(2, 3)
    x = mt.randn(4, 1, 2)
    h = None
    for t in range(4):
        h = cell(x[t], h)
    text = _explain(h.sum(), cell.named_parameters())
    assert "[Linear → Add → Tanh] × 4" in text
    line = next(
        ln for ln in text.splitlines() if ln.strip().startswith("dL/dweight_hh = Σ of 4 contributions")
    )
    norms = [float(v) for v in line.split(":")[-1].split(",")]
    assert norms[0] == 0  # the first step sees h = 0: weight_hh contributes nothing there
    h.sum().backward()
    total = np.linalg.norm(cell.weight_hh.grad.numpy())
    assert total <= sum(norms) + 1e-4  # the gradient is the sum of the listed contributions


def test_transformer_stack_is_one_block_times_the_layers():
    mt.manual_seed(1)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 3)
    text = _explain(enc(mt.randn(2, 3, 8)).sum())
    block = next(ln for ln in text.splitlines() if "] × 3" in ln)
    assert "ScaledDotProductAttention" in block and block.count("LayerNorm") == 2


def test_nothing_repeated_says_nothing():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert "Repeated structure" not in _explain((x * 2).exp().sum())
