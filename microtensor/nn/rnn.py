"""Recurrent layers, as torch.nn: RNN (tanh/relu), LSTM, GRU and their cells.

Same parameter names and shapes (weight_ih_l0, weight_hh_l0_reverse, ..., weight_hr_l0 for LSTM's
proj_size), gate order (LSTM: input, forget, cell, output; GRU: reset, update, new) and initial
values (uniform in ±1/√hidden_size, drawn in PyTorch's order), so state_dicts interchange.

An RNN, LSTM or GRU layer over a padded sequence (no proj_size) is one graph node per direction
(RNNLayer, LSTMLayer, GRULayer: the time loop and backpropagation through time in NumPy). Otherwise the time
loop is unrolled into the graph step by step: backward through time is the engine's ordinary
iterative walk (no recursion), and each weight's gradient is the sum of its uses over the steps.
The input projection of all steps is one matrix product before the loop.
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..device import _check_device
from ..ops.recurrent import GRULayer as _GRULayer
from ..ops.recurrent import LSTMGates as _LSTMGates
from ..ops.recurrent import LSTMLayer as _LSTMLayer
from ..ops.recurrent import RNNLayer as _RNNLayer
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------ one step of each cell
def _rnn_step(xw, h, w_hh, b_hh, relu: bool):
    pre = xw + F.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _lstm_step(xw, h, c, w_hh, b_hh, w_hr):
    gates = xw + F.linear(h, w_hh, b_hh)
    H = c.shape[-1]
    hc = _LSTMGates()(gates, c)  # the gates' pointwise math as one node: [h', c']
    h, c = hc[..., :H], hc[..., H:]
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse: bool):
    """A whole LSTM layer in one direction as one node: (output (T, B, H), h_last, c_last)."""
    y = _LSTMLayer(reverse)(x, h, c, w_ih, w_hh, b_ih, b_hh)
    last = 0 if reverse else x.shape[0] - 1
    return y[0], y[0, last], y[1, last]


def _gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse: bool):
    """A whole GRU layer in one direction as one node: (output (T, B, H), h_last)."""
    y = _GRULayer(reverse)(x, h, w_ih, w_hh, b_ih, b_hh)
    return y, y[0 if reverse else x.shape[0] - 1]


def _rnn_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse: bool, relu: bool):
    """A whole Elman RNN layer in one direction as one node: (output (T, B, H), h_last)."""
    y = _RNNLayer(reverse, relu)(x, h, w_ih, w_hh, b_ih, b_hh)
    return y, y[0 if reverse else x.shape[0] - 1]


def _gru_step(xw, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    xr, xz, xn = xw.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (PyTorch's RNNBase)."""

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
        device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        name = type(self).__name__
        _check_device(device, name)
        if not isinstance(dropout, int | float) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1], got {dropout}")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if proj_size < 0 or (proj_size and mode != "LSTM"):
            raise ValueError(f"{name}: proj_size must be a non-negative int, and is only supported by LSTM")
        if proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                layer_in = input_size if layer == 0 else real_hidden * dirs
                params = {
                    f"weight_ih{sfx}": (gate, layer_in),
                    f"weight_hh{sfx}": (gate, real_hidden),
                }
                if bias:
                    params |= {f"bias_ih{sfx}": (gate,), f"bias_hh{sfx}": (gate,)}
                if proj_size:
                    params[f"weight_hr{sfx}"] = (proj_size, hidden_size)
                for pname, shape in params.items():
                    setattr(self, pname, Parameter(creation.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter uniform in ±1/√hidden_size (PyTorch's order, so seeds give its values)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        p = self._parameters
        return (p[f"weight_ih{sfx}"], p[f"weight_hh{sfx}"], p.get(f"bias_ih{sfx}"), p.get(f"bias_hh{sfx}"),
                p.get(f"weight_hr{sfx}"))  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # -------------------------------------------------------------- forward
    def forward(self, input, hx=None):
        """input (T, B, input_size) ((B, T, ·) with batch_first; (T, ·) unbatched) or a PackedSequence;
        hx the initial state (num_layers·num_directions, B, hidden), for LSTM a pair (h_0, c_0).
        Returns (output, h_n), for LSTM (output, (h_n, c_n))."""
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        H_out = self.proj_size or self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            data, bs = input.data, input.batch_sizes._data.astype(np.int64)
            B = int(bs[0]) if bs.size else 0
            batched = True
        else:
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: expected input to be 2-D or 3-D, got {input.ndim}-D of shape {input.shape}"
                )
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            B = x.shape[1]
            bs = None
            data = x
        if data.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {data.shape[-1]}"
            )
        n_states = self.num_layers * dirs
        h0, c0 = self._initial_state(hx, is_lstm, batched, n_states, B, H_out, data, name)
        if (
            packed and input.sorted_indices is not None and hx is not None
        ):  # the user's state is in batch order
            idx = input.sorted_indices._data
            h0 = h0[:, idx]
            c0 = c0[:, idx] if c0 is not None else None
        h_n, c_n = [], []
        layer_in = data
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = self._run_direction(layer_in, bs, h0[k], None if c0 is None else c0[k], layer, d)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_in = outs[0] if dirs == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if is_lstm else None
        if packed:
            if input.unsorted_indices is not None:
                idx = input.unsorted_indices._data
                h_n = h_n[:, idx]
                c_n = c_n[:, idx] if c_n is not None else None
            output = PackedSequence(layer_in, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        else:
            output = layer_in
            if self.batch_first and batched:
                output = output.transpose(0, 1)
            if not batched:
                output, h_n = output.squeeze(1), h_n.squeeze(1)
                c_n = c_n.squeeze(1) if c_n is not None else None
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def _initial_state(self, hx, is_lstm, batched, n_states, B, H_out, data, name):
        dt = data.dtype
        if hx is None:
            h0 = creation.zeros(n_states, B, H_out, dtype=dt)
            c0 = creation.zeros(n_states, B, self.hidden_size, dtype=dt) if is_lstm else None
            return h0, c0
        if is_lstm:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise RuntimeError(f"{name}: hx must be a tuple (h_0, c_0) for LSTM")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = c0.unsqueeze(1) if c0 is not None else None
        for t, size, label in ((h0, H_out, "hidden"), (c0, self.hidden_size, "cell")):
            if t is not None and tuple(t.shape) != (n_states, B, size):
                raise RuntimeError(
                    f"{name}: expected {label} state of size {(n_states, B, size)}, got {tuple(t.shape)}"
                )
        return h0, c0

    def _run_direction(self, x, bs, h, c, layer: int, d: int):
        """One layer in one direction over the sequence: (output, h_last, c_last).

        x is (T, B, ·) padded, or the packed data (Σ lengths, ·) with batch sizes bs."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
        if bs is None and w_hr is None and x.shape[0] and _one_dtype(x, h, w_ih, w_hh):
            if self.mode == "LSTM" and c.dtype == x.dtype:
                return _lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, bool(d))
            if self.mode == "GRU":
                return (*_gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, bool(d)), None)
            if self.mode in ("RNN_TANH", "RNN_RELU"):
                return (*_rnn_layer(x, h, w_ih, w_hh, b_ih, b_hh, bool(d), self.mode == "RNN_RELU"), None)
        xw = F.linear(x, w_ih, b_ih)  # every step's input projection in one product
        mode = self.mode
        if bs is None:
            T = x.shape[0]
            steps = [(t, None, xw[t]) for t in range(T)]
        else:
            starts = np.concatenate([[0], np.cumsum(bs)[:-1]])
            steps = [(t, int(bs[t]), xw[int(starts[t]) : int(starts[t] + bs[t])]) for t in range(bs.size)]
        if d:
            steps = steps[::-1]
        outs = [None] * len(steps)
        B = h.shape[0]
        for t, n, xt in steps:
            # packed: only the first n sequences run at step t; the others keep their state
            hp, cp = (h, c) if n is None or n == B else (h[:n], None if c is None else c[:n])
            if mode == "LSTM":
                hn, cn = _lstm_step(xt, hp, cp, w_hh, b_hh, w_hr)
            elif mode == "GRU":
                hn, cn = _gru_step(xt, hp, w_hh, b_hh), None
            else:
                hn, cn = _rnn_step(xt, hp, w_hh, b_hh, mode == "RNN_RELU"), None
            outs[t] = hn
            if n is None or n == B:
                h, c = hn, cn
            else:
                h = cat([hn, h[n:]], 0)
                c = None if c is None else cat([cn, c[n:]], 0)
        out = stack(outs, 0) if bs is None else cat(outs, 0)
        return out, h, c


def _one_dtype(*tensors) -> bool:
    """All of one dtype (else the unrolled path, whose ops promote as PyTorch's)."""
    return len({t.dtype for t in tensors}) == 1


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or relu).

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> out, h_n = rnn(mt.randn(5, 3, 10))  # out (5, 3, 20), h_n (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity '{nonlinearity}'; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)  # fmt: skip


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o from x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh;
    c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t) (then h_t W_hrᵀ when proj_size > 0).

    >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(mt.randn(3, 5, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit: r, z gates and the candidate n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
    h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.

    >>> gru = nn.GRU(10, 20)
    >>> out, h_n = gru(mt.randn(5, 3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):  # fmt: skip
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip


# ------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """weight_ih (gates·hidden, input), weight_hh (gates·hidden, hidden), bias_ih, bias_hh."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None
    ):
        super().__init__()
        _check_device(device, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter uniform in ±1/√hidden_size."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _prepare(self, input: Tensor, hx, n_states: int):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected input to be 1-D or 2-D, got {input.ndim}-D of shape {input.shape}"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has {input.shape[-1]} features, expected input_size={self.input_size}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            states = [creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype) for _ in range(n_states)]
        else:
            states = list(hx) if n_states == 2 else [hx]
            states = [s if batched else s.unsqueeze(0) for s in states]
            for s in states:
                if tuple(s.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(
                        f"{name}: hidden state has shape {tuple(s.shape)}, "
                        f"expected {(x.shape[0], self.hidden_size)}"
                    )
        return x, states, batched


class RNNCell(RNNCellBase):
    """One step of RNN: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu).

    >>> cell = nn.RNNCell(10, 20)
    >>> h = cell(mt.randn(3, 10))  # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity '{nonlinearity}'; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, hx, 1)
        h = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity == "relu")  # fmt: skip
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of LSTM: (h', c') from input (B, input_size) and (h, c) (zeros when not given).

    >>> cell = nn.LSTMCell(1, 51)
    >>> h, c = cell(mt.randn(97, 1))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of GRU.

    >>> cell = nn.GRUCell(10, 20)
    >>> h = cell(mt.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, hx, 1)
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
