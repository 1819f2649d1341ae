"""mt.onnx.export of the sequence layers: embeddings, LayerNorm/RMSNorm, attention, transformer
layers and an unrolled LSTM run in onnxruntime with microtensor's outputs."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _check(model, example, tmp_path, names=None, rtol=1e-5):
    path = tmp_path / "model.onnx"
    model.eval()
    mt.onnx.export(model, example, path, input_names=names)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), example)}
    got = session.run(None, feeds)[0]
    with mt.no_grad():
        want = model(*example)
    want = want[0] if isinstance(want, tuple) else want
    np.testing.assert_allclose(got, want.numpy(), rtol=rtol, atol=1e-5)
    return session


class TokenModel(nn.Module):
    def __init__(self, rms=False):
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.pos = nn.Embedding(5, 8)
        self.norm = nn.RMSNorm(8) if rms else nn.LayerNorm(8)
        self.head = nn.Linear(8, 11)

    def forward(self, idx):
        x = self.emb(idx) + self.pos(mt.arange(idx.shape[1]))
        return self.head(self.norm(x))


@pytest.mark.parametrize("rms", [False, True])
def test_embedding_and_norms_export_with_the_indices_as_input(tmp_path, rms):
    mt.manual_seed(0)
    model = TokenModel(rms)
    session = _check(model, (mt.tensor([[1, 4, 4, 0, 10], [3, 3, 2, 9, 1]]),), tmp_path)
    other = np.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])  # other tokens: the export did not freeze them
    got = session.run(None, {session.get_inputs()[0].name: other})[0]
    with mt.no_grad():
        want = model(mt.tensor(other)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


class Attention(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def test_causal_attention_exports(tmp_path):
    mt.manual_seed(1)
    _check(Attention(), (mt.randn(2, 2, 4, 3), mt.randn(2, 2, 4, 3), mt.randn(2, 2, 4, 5)), tmp_path)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True),
        lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True),
    ],
    ids=["mha", "encoder-layer", "encoder-layer-norm-first"],
)
def test_attention_layers_export(tmp_path, make):
    mt.manual_seed(2)
    model = make()
    x = mt.randn(2, 3, 8)
    if isinstance(model, nn.MultiheadAttention):

        class SelfAttention(nn.Module):
            def __init__(self):
                super().__init__()
                self.mha = model

            def forward(self, x):
                return self.mha(x, x, x, need_weights=False)[0]

        model = SelfAttention()
    _check(model, (x,), tmp_path)


def test_unrolled_lstm_exports(tmp_path):
    mt.manual_seed(3)

    class Last(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[0][:, -1]

    _check(Last(), (mt.randn(2, 5, 3),), tmp_path)


def test_bidirectional_lstm_with_a_given_state_exports(tmp_path):
    """The fused layer (one LSTMLayer node per layer and direction) unrolls into ONNX, in either
    direction, from the caller's initial state."""
    mt.manual_seed(4)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)

        def forward(self, x, h, c):
            out, (h_n, c_n) = self.lstm(x, (h, c))
            return out.sum(0) + h_n.sum(0).repeat(1, 2) + c_n.sum(0).repeat(1, 2)

    _check(Both(), (mt.randn(5, 2, 3), mt.randn(4, 2, 4), mt.randn(4, 2, 4)), tmp_path)


@pytest.mark.parametrize("make", [
    lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, batch_first=True),
], ids=["gru", "rnn_tanh", "rnn_relu"])  # fmt: skip
def test_bidirectional_gru_and_rnn_export(tmp_path, make):
    mt.manual_seed(5)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = make()

        def forward(self, x):
            out, h_n = self.gru(x)
            return out[:, -1] + h_n.sum(0).repeat(1, 2)

    _check(Both(), (mt.randn(2, 5, 3),), tmp_path)


def test_the_tiny_gpt_example_model_exports_and_runs_in_onnxruntime(tmp_path):
    """The small GPT of examples/tiny_gpt.py (embeddings, causal attention blocks, LayerNorm, head)
    exports as it is and onnxruntime gives its logits (issue 18: the examples' models deploy)."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "tiny_gpt.py"
    spec = importlib.util.spec_from_file_location("tiny_gpt_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    mt.manual_seed(0)
    model = example.GPT(vocab_size=13, block_size=8, n_embd=16, n_head=2, n_layer=2)
    idx = mt.tensor(np.arange(16).reshape(2, 8) % 13)
    _check(model, (idx,), tmp_path, names=["idx"], rtol=1e-4)
