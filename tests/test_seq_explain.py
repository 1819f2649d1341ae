"""explain() summarises repeated structure (found by microtensor._repeats, which viz draws as one
cluster): an unrolled recurrence (the block × time steps, and each weight's gradient as the sum of
its per-step contributions) and a stack of transformer layers."""

from __future__ import annotations

import io

import numpy as np

import microtensor as mt
import microtensor.nn as nn


def _explain(out, inputs=None, **kw) -> str:
    return mt.explain(out, inputs, file=io.StringIO(), **kw)


def test_unrolled_rnn_shows_the_block_and_backprop_through_time_as_a_sum():
    mt.manual_seed(0)
    cell = nn.RNNCell(2, 3)
    x = mt.randn(4, 1, 2)
    h = None
    for t in range(4):
        h = cell(x[t], h)
    text = _explain(h.sum(), cell.named_parameters())
    # one step, in the order the program ran it: W_ih x_t + b_ih, W_hh h + b_hh, their sum, tanh
    assert "[Linear → Linear → Add → Tanh] × 4  (block × 4 time steps:" in text
    assert "the sum over the 4 time steps of its gradient at step t" in text
    line = next(
        ln
        for ln in text.splitlines()
        if ln.strip().startswith("dL/dweight_hh = Σ of 4 contributions, one per time step, t = 1…4;")
    )
    norms = [float(v) for v in line.split(":")[-1].split(",")]
    assert norms[0] == 0  # the first step sees h = 0: weight_hh contributes nothing there
    h.sum().backward()
    total = np.linalg.norm(cell.weight_hh.grad.numpy())
    assert total <= sum(norms) + 1e-4  # the gradient is the sum of the listed contributions


def test_lstm_cell_over_20_steps_names_the_module_and_the_sum_over_time_steps():
    mt.manual_seed(0)
    cell = nn.LSTMCell(3, 5)
    x = mt.randn(20, 2, 3)
    hc = None
    for t in range(20):
        hc = cell(x[t], hc)
    text = _explain(hc[0].sum(), cell, max_steps=6)
    # the last step lacks c_20 (the loss reads h_20 only): still 20 steps, not 19
    assert "[Linear → Linear → Add → LSTMGates → GetItem → GetItem] × 20  (LSTMCell × 20 time steps:" in text
    assert "the sum over the 20 time steps of its gradient at step t" in text
    for name, _ in cell.named_parameters():
        assert f"dL/d{name} = Σ of 20 contributions, one per time step, t = 1…20;" in text


def test_gpt_blocks_are_named_by_their_module(load_example):
    tiny_gpt = load_example("tiny_gpt")
    mt.manual_seed(0)
    gpt = tiny_gpt.GPT(11, 8, n_embd=8, n_head=2, n_layer=4)
    idx = mt.randint(0, 11, (2, 8))
    _, loss = gpt(idx, idx)
    text = _explain(loss, gpt, max_steps=4)
    block = next(ln for ln in text.splitlines() if "] × 4" in ln)
    assert block.strip().startswith("[LayerNorm → Linear →") and "→ Relu → Linear → Add] × 4" in block
    assert "(Block × 4 layers, blocks.0 … blocks.3:" in block
    assert "time steps" not in text.split("Repeated structure:")[1]  # no weights shared across layers


def test_transformer_stack_is_one_block_times_the_layers():
    mt.manual_seed(1)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 3)
    text = _explain(enc(mt.randn(2, 3, 8)).sum())
    block = next(ln for ln in text.splitlines() if "] × 3" in ln)
    assert "ScaledDotProductAttention" in block and block.count("LayerNorm") == 2


def test_nothing_repeated_says_nothing():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert "Repeated structure" not in _explain((x * 2).exp().sum())
