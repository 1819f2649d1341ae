"""RNN, LSTM, GRU, their cells and nn.utils.rnn vs PyTorch: outputs, states, gradients, packing."""

from __future__ import annotations

import numpy as np
import pytest
from _seq_parity import compare, load_mt_into_torch, load_torch_into_mt

import microtensor as mt
import microtensor.nn as nn
from microtensor.nn.utils import rnn as U

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)

LAYERS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("RNN", {"bias": False}),
    ("LSTM", {}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "proj_size": 2, "bidirectional": True}),
    ("GRU", {}),
    ("GRU", {"num_layers": 3, "bias": False}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
]


def _pair(cls, kw, **extra):
    tm = getattr(torch.nn, cls)(4, 5, **kw, **extra).double()
    mm = getattr(nn, cls)(4, 5, **kw, **extra).double()
    load_torch_into_mt(tm, mm)
    return tm, mm


def _state(cls, kw, B, rng=RNG):
    n = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h = rng.standard_normal((n, B, kw.get("proj_size") or 5))
    if cls != "LSTM":
        return h
    return h, rng.standard_normal((n, B, 5))


@pytest.mark.parametrize("cls,kw", LAYERS, ids=lambda v: v if isinstance(v, str) else ",".join(v) or "-")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(cls, kw, batch_first, with_state):
    tm, mm = _pair(cls, kw, batch_first=batch_first)
    x = RNG.standard_normal((3, 6, 4) if batch_first else (6, 3, 4))
    if not with_state:
        compare(torch, tm, mm, [x])
    elif cls == "LSTM":
        h, c = _state(cls, kw, 3)
        compare(torch, tm, mm, [x, h, c], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        compare(torch, tm, mm, [x, _state(cls, kw, 3)])


@pytest.mark.parametrize("cls,kw", LAYERS[::2], ids=lambda v: v if isinstance(v, str) else ",".join(v) or "-")
def test_unbatched_input(cls, kw):
    tm, mm = _pair(cls, kw)
    compare(torch, tm, mm, [RNG.standard_normal((6, 4))])


@pytest.mark.parametrize("cls,kw", LAYERS, ids=lambda v: v if isinstance(v, str) else ",".join(v) or "-")
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_torch(cls, kw, enforce_sorted):
    tm, mm = _pair(cls, kw, batch_first=True)
    lengths = [6, 4, 4, 1] if enforce_sorted else [2, 6, 1, 4]
    x = RNG.standard_normal((4, 6, 4))
    state = _state(cls, kw, 4)

    def call(m, x, *hx):
        lib = torch if isinstance(x, torch.Tensor) else mt
        utils = torch.nn.utils.rnn if lib is torch else U
        packed = utils.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)
        out, h = m(packed, (hx[0], hx[1]) if len(hx) == 2 else hx[0])
        padded, lens = utils.pad_packed_sequence(out, batch_first=True, total_length=7)
        assert lens.tolist() == lengths
        return padded, h

    states = list(state) if isinstance(state, tuple) else [state]
    compare(torch, tm, mm, [x, *states], call=call)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(cell, bias, batched):
    tm, mm = getattr(torch.nn, cell)(4, 5, bias=bias).double(), getattr(nn, cell)(4, 5, bias=bias).double()
    load_torch_into_mt(tm, mm)
    x = RNG.standard_normal((3, 4) if batched else (4,))
    h = RNG.standard_normal((3, 5) if batched else (5,))
    if cell == "LSTMCell":
        c = RNG.standard_normal(h.shape)
        compare(torch, tm, mm, [x, h, c], call=lambda m, x, h, c: m(x, (h, c)))
        compare(torch, tm, mm, [x])
    else:
        compare(torch, tm, mm, [x, h])
    tm2 = torch.nn.RNNCell(4, 5, nonlinearity="relu").double()
    mm2 = nn.RNNCell(4, 5, nonlinearity="relu").double()
    load_torch_into_mt(tm2, mm2)
    compare(torch, tm2, mm2, [x])


def test_lstm_state_dict_into_torch_gives_identical_outputs():
    mm = nn.LSTM(4, 5, num_layers=2, bidirectional=True).double()
    tm = torch.nn.LSTM(4, 5, num_layers=2, bidirectional=True).double()
    load_mt_into_torch(torch, mm, tm)
    x = RNG.standard_normal((7, 2, 4))
    mo, (mh, mc) = mm(mt.tensor(x))
    to, (th, tc) = tm(torch.tensor(x))
    for a, b in ((mo, to), (mh, th), (mc, tc)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)


def test_seeded_initialisation_equals_torch():
    mt.manual_seed(7)
    torch.manual_seed(7)
    m, t = nn.LSTM(3, 4, num_layers=2), torch.nn.LSTM(3, 4, num_layers=2)
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy(), err_msg=k)


def test_dropout_between_layers_only_while_training():
    m = nn.GRU(4, 5, num_layers=2, dropout=0.5)
    x = mt.randn(6, 2, 4)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())


def test_backprop_through_hundreds_of_steps():
    m = nn.LSTM(2, 3)
    x = mt.randn(600, 1, 2, requires_grad=True)
    out, _ = m(x)
    out[-1].sum().backward()
    assert x.grad.shape == (600, 1, 2) and np.isfinite(x.grad.numpy()).all()
    assert np.abs(x.grad.numpy()[-1]).sum() > 0


def _nodes(t) -> list[str]:
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        stack.extend(node.next_functions)
    return names


def test_recurrent_layers_are_one_node_per_layer_and_direction():
    """The padded, projection-free LSTM runs each layer's time loop as one LSTMLayer node (GRU: one
    GRULayer node, RNN one RNNLayer); packed input and proj_size keep the unrolled per-step graph."""
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = _nodes(m(mt.randn(7, 2, 3))[0])
    assert names.count("LSTMLayer") == 4 and "LSTMGates" not in names
    packed = U.pack_sequence([mt.randn(3, 3), mt.randn(2, 3)])
    assert "LSTMGates" in _nodes(m(packed)[0].data)
    assert "LSTMGates" in _nodes(nn.LSTM(3, 4, proj_size=2)(mt.randn(5, 2, 3))[0])
    names = _nodes(nn.GRU(3, 4, num_layers=3)(mt.randn(7, 2, 3))[0])
    assert names.count("GRULayer") == 3 and "Sigmoid" not in names
    names = _nodes(nn.RNN(3, 4, bidirectional=True)(mt.randn(7, 2, 3))[0])
    assert names.count("RNNLayer") == 2 and "Tanh" not in names


FUSED = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"})]


@pytest.mark.parametrize("cls,kw", FUSED)
def test_second_order_through_the_fused_layers_matches_torch(cls, kw):
    """create_graph through the fused layers: the gradient of a gradient's norm, as PyTorch's."""
    tm, mm = _pair(cls, {"num_layers": 2, "bidirectional": True, **kw}, batch_first=True)
    x = RNG.standard_normal((2, 4, 4))
    results = []
    for lib, model in ((torch, tm), (mt, mm)):
        xt = lib.tensor(x, requires_grad=True)
        out, state = model(xt)
        h, c = state if cls == "LSTM" else (state, state)
        loss = (out**2).sum() + (c * h).sum()
        params = list(model.parameters())
        grads = lib.autograd.grad(loss, [xt, *params], create_graph=True)
        penalty = sum((g**2).sum() for g in grads)
        results.append([g.detach().numpy() for g in lib.autograd.grad(penalty, [xt, *params])])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_pad_sequence_and_pack_sequence_match_torch():
    seqs = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    for bf in (False, True):
        for side in ("right", "left"):
            a = U.pad_sequence(
                [mt.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0, padding_side=side
            )
            b = torch.nn.utils.rnn.pad_sequence(
                [torch.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0, padding_side=side
            )
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    mp = U.pack_sequence([mt.tensor(s) for s in seqs], enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(mp.data.numpy(), tp.data.numpy())
    np.testing.assert_array_equal(mp.batch_sizes.numpy(), tp.batch_sizes.numpy())
    np.testing.assert_array_equal(mp.sorted_indices.numpy(), tp.sorted_indices.numpy())
    back = U.unpack_sequence(mp)
    for s, b in zip(seqs, back):
        np.testing.assert_array_equal(b.numpy(), s)


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        U.pack_padded_sequence(mt.randn(4, 2, 3), [2, 4])
    with pytest.raises(RuntimeError, match="input_size. Expected 4, got 3"):
        nn.LSTM(4, 5)(mt.randn(2, 1, 3))
    with pytest.raises(RuntimeError, match="hidden state of size"):
        nn.GRU(4, 5)(mt.randn(2, 1, 4), mt.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 5, nonlinearity="sigmoid")
