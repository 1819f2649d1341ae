"""Sequence-model workloads: one full training step of a small GPT and of a 2-layer LSTM.

Each has three peers as the other workloads: a hand-derived NumPy floor (forward and backward
written out below, nothing uses autograd), microtensor and PyTorch, the last two running the
very same model code (`_gpt` / `_lstm_model` take the library as an argument, as a user who
ports a script changes only the import). All peers start from the same float64 weights and
data (seed 0), cast to the timed dtype, so the equal-work check can compare them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SEED = 0


@dataclass(frozen=True)
class GPTStep:
    """A character GPT: token + position embeddings, pre-norm blocks (causal self-attention, ReLU
    MLP), final LayerNorm, linear head; cross-entropy over every position; AdamW."""

    vocab: int = 65
    block: int = 32
    batch: int = 16
    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.01


@dataclass(frozen=True)
class LSTMStep:
    """nn.LSTM(input, hidden, num_layers) over a (seq, batch, input) sequence, a linear head on
    every step's output, MSE against targets, SGD."""

    input_size: int = 32
    hidden: int = 128
    num_layers: int = 2
    seq: int = 50
    batch: int = 32
    lr: float = 0.1


# ---------------------------------------------------------------------------- shared problems
def gpt_problem(spec: GPTStep):
    """(idx (B, T) int64, targets (B, T) int64, params {state_dict name: float64 array})."""
    rng = np.random.default_rng(SEED)
    C, V = spec.n_embd, spec.vocab
    p = {
        "tok_emb.weight": rng.standard_normal((V, C)),
        "pos_emb.weight": rng.standard_normal((spec.block, C)),
    }

    def lin(name, n_out, n_in):
        bound = 1 / math.sqrt(n_in)
        p[f"{name}.weight"] = rng.uniform(-bound, bound, (n_out, n_in))
        p[f"{name}.bias"] = rng.uniform(-bound, bound, n_out)

    for i in range(spec.n_layer):
        b = f"blocks.{i}"
        p[f"{b}.ln1.weight"], p[f"{b}.ln1.bias"] = (
            1 + 0.1 * rng.standard_normal(C),
            0.1 * rng.standard_normal(C),
        )
        lin(f"{b}.qkv", 3 * C, C)
        lin(f"{b}.proj", C, C)
        p[f"{b}.ln2.weight"], p[f"{b}.ln2.bias"] = (
            1 + 0.1 * rng.standard_normal(C),
            0.1 * rng.standard_normal(C),
        )
        lin(f"{b}.fc", 4 * C, C)
        lin(f"{b}.fc2", C, 4 * C)
    p["ln_f.weight"], p["ln_f.bias"] = np.ones(C), np.zeros(C)
    lin("head", V, C)
    idx = rng.integers(0, V, (spec.batch, spec.block))
    targets = rng.integers(0, V, (spec.batch, spec.block))
    return idx, targets, p


def lstm_problem(spec: LSTMStep):
    """(x (T, B, input) float64, target (T, B, 1) float64, params {state_dict name: float64 array})."""
    rng = np.random.default_rng(SEED)
    H = spec.hidden
    bound = 1 / math.sqrt(H)
    p = {}
    for layer in range(spec.num_layers):
        n_in = spec.input_size if layer == 0 else H
        p[f"lstm.weight_ih_l{layer}"] = rng.uniform(-bound, bound, (4 * H, n_in))
        p[f"lstm.weight_hh_l{layer}"] = rng.uniform(-bound, bound, (4 * H, H))
        p[f"lstm.bias_ih_l{layer}"] = rng.uniform(-bound, bound, 4 * H)
        p[f"lstm.bias_hh_l{layer}"] = rng.uniform(-bound, bound, 4 * H)
    p["head.weight"] = rng.uniform(-bound, bound, (1, H))
    p["head.bias"] = rng.uniform(-bound, bound, 1)
    x = rng.standard_normal((spec.seq, spec.batch, spec.input_size))
    target = rng.standard_normal((spec.seq, spec.batch, 1))
    return x, target, p


# ------------------------------------------------------------------- the models, for either library
def _gpt(lib, spec: GPTStep):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            C = spec.n_embd
            self.ln1, self.qkv, self.proj = nn.LayerNorm(C), nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.ln2, self.fc, self.fc2 = nn.LayerNorm(C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, spec.n_head, C // spec.n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.fc2(F.relu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(spec.vocab, spec.n_embd)
            self.pos_emb = nn.Embedding(spec.block, spec.n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(spec.n_layer)])
            self.ln_f = nn.LayerNorm(spec.n_embd)
            self.head = nn.Linear(spec.n_embd, spec.vocab)

        def forward(self, idx, targets):
            B, T = idx.shape
            x = self.tok_emb(idx) + self.pos_emb(lib.arange(T))
            logits = self.head(self.ln_f(self.blocks(x)))
            return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

    return GPT()


def _lstm_model(lib, spec: LSTMStep):
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(spec.input_size, spec.hidden, spec.num_layers)
            self.head = nn.Linear(spec.hidden, 1)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    return Model()


# ---------------------------------------------------------------------- framework runners
def _np(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


class _Framework:
    prepare = None

    def state(self):
        from .workloads import StepState

        named = list(self.model.named_parameters())
        return StepState(
            _np(self.loss),
            {k: _np(p.grad) for k, p in named if p.grad is not None},
            {k: _np(p) for k, p in named},
        )


def _load(lib, model, params, dtype):
    if np.dtype(dtype) == np.float64:
        model.double()
    model.load_state_dict({k: lib.tensor(v.astype(dtype)) for k, v in params.items()})


def _lib(peer: str):
    if peer == "torch":
        import torch

        return torch
    import microtensor

    return microtensor


class FrameworkGPT(_Framework):
    def __init__(self, spec: GPTStep, dtype, peer: str):
        lib = _lib(peer)
        idx, targets, params = gpt_problem(spec)
        self.model = _gpt(lib, spec)
        _load(lib, self.model, params, dtype)
        self.idx, self.targets = lib.tensor(idx), lib.tensor(targets)
        self.opt = lib.optim.AdamW(self.model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
        self.loss = None

    def step(self) -> None:
        loss = self.model(self.idx, self.targets)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.loss = loss


class FrameworkLSTM(_Framework):
    def __init__(self, spec: LSTMStep, dtype, peer: str):
        lib = _lib(peer)
        x, target, params = lstm_problem(spec)
        self.model = _lstm_model(lib, spec)
        _load(lib, self.model, params, dtype)
        self.x, self.target = lib.tensor(x.astype(dtype)), lib.tensor(target.astype(dtype))
        self.loss_fn = lib.nn.functional.mse_loss
        self.opt = lib.optim.SGD(self.model.parameters(), lr=spec.lr)
        self.loss = None

    def step(self) -> None:
        loss = self.loss_fn(self.model(self.x), self.target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.loss = loss


# ------------------------------------------------------------------------ NumPy floors
def _ln(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    r = 1 / np.sqrt((xc * xc).mean(-1, keepdims=True) + eps)
    xhat = xc * r
    return xhat * g + b, (xhat, r)


def _ln_back(dy, g, cache):
    """LayerNorm's backward: dx = r (dx̂ − mean(dx̂) − x̂ mean(dx̂ x̂)), dx̂ = dy g."""
    xhat, r = cache
    dxh = dy * g
    dx = r * (dxh - dxh.mean(-1, keepdims=True) - xhat * (dxh * xhat).mean(-1, keepdims=True))
    return dx, (dy * xhat).reshape(-1, xhat.shape[-1]).sum(0), dy.reshape(-1, dy.shape[-1]).sum(0)


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def gpt_loss_and_grads(spec: GPTStep, idx, targets, p):
    """Forward and hand-derived backward of the GPT of `_gpt` (same names as its state_dict)."""
    B, T = idx.shape
    C, H = spec.n_embd, spec.n_head
    D = C // H
    dt = p["head.weight"].dtype
    scale = 1 / math.sqrt(D)
    future = np.triu(np.ones((T, T), bool), 1)
    x = p["tok_emb.weight"][idx] + p["pos_emb.weight"][:T]
    caches = []
    for i in range(spec.n_layer):
        b = f"blocks.{i}."
        h, c1 = _ln(x, p[b + "ln1.weight"], p[b + "ln1.bias"])
        qkv = h @ p[b + "qkv.weight"].T + p[b + "qkv.bias"]
        q, k, v = (qkv[..., j * C : (j + 1) * C].reshape(B, T, H, D).transpose(0, 2, 1, 3) for j in range(3))
        s = (q @ k.transpose(0, 1, 3, 2)) * scale
        s[..., future] = -np.inf
        s = np.exp(s - s.max(-1, keepdims=True))
        P = s / s.sum(-1, keepdims=True)
        y = (P @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x1 = x + y @ p[b + "proj.weight"].T + p[b + "proj.bias"]
        h2, c2 = _ln(x1, p[b + "ln2.weight"], p[b + "ln2.bias"])
        f = h2 @ p[b + "fc.weight"].T + p[b + "fc.bias"]
        r = np.maximum(f, 0)
        x2 = x1 + r @ p[b + "fc2.weight"].T + p[b + "fc2.bias"]
        caches.append((h, c1, q, k, v, P, y, h2, c2, f, r))
        x = x2
    hf, cf = _ln(x, p["ln_f.weight"], p["ln_f.bias"])
    logits = _rows(hf) @ p["head.weight"].T + p["head.bias"]
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    sm = e / e.sum(1, keepdims=True)
    t = targets.reshape(-1)
    n = t.size
    loss = (np.log(e.sum(1)) - z[np.arange(n), t]).mean()

    g = {}
    dlog = sm
    dlog[np.arange(n), t] -= 1
    dlog /= n  # dL/dlogits = (softmax − onehot) / N
    g["head.weight"] = dlog.T @ _rows(hf)
    g["head.bias"] = dlog.sum(0)
    dhf = (dlog @ p["head.weight"]).reshape(B, T, C)
    dx, g["ln_f.weight"], g["ln_f.bias"] = _ln_back(dhf, p["ln_f.weight"], cf)
    for i in reversed(range(spec.n_layer)):
        b = f"blocks.{i}."
        h, c1, q, k, v, P, y, h2, c2, f, r = caches[i]
        # MLP: x2 = x1 + relu(h2 W1ᵀ + b1) W2ᵀ + b2
        g[b + "fc2.weight"] = _rows(dx).T @ _rows(r)
        g[b + "fc2.bias"] = _rows(dx).sum(0)
        df = (dx @ p[b + "fc2.weight"]) * (f > 0)
        g[b + "fc.weight"] = _rows(df).T @ _rows(h2)
        g[b + "fc.bias"] = _rows(df).sum(0)
        dh2 = df @ p[b + "fc.weight"]
        dln2, g[b + "ln2.weight"], g[b + "ln2.bias"] = _ln_back(dh2, p[b + "ln2.weight"], c2)
        dx1 = dx + dln2
        # attention: x1 = x + y Wpᵀ + bp
        g[b + "proj.weight"] = _rows(dx1).T @ _rows(y)
        g[b + "proj.bias"] = _rows(dx1).sum(0)
        dy = (dx1 @ p[b + "proj.weight"]).reshape(B, T, H, D).transpose(0, 2, 1, 3)
        dv = P.transpose(0, 1, 3, 2) @ dy
        dP = dy @ v.transpose(0, 1, 3, 2)
        dS = P * (dP - (dP * P).sum(-1, keepdims=True)) * scale  # softmax's Jacobian, then the scale
        dq, dk = dS @ k, dS.transpose(0, 1, 3, 2) @ q
        dqkv = np.concatenate([a.transpose(0, 2, 1, 3).reshape(B, T, C) for a in (dq, dk, dv)], -1)
        g[b + "qkv.weight"] = _rows(dqkv).T @ _rows(h)
        g[b + "qkv.bias"] = _rows(dqkv).sum(0)
        dh = dqkv @ p[b + "qkv.weight"]
        dln1, g[b + "ln1.weight"], g[b + "ln1.bias"] = _ln_back(dh, p[b + "ln1.weight"], c1)
        dx = dx1 + dln1
    g["pos_emb.weight"] = np.zeros_like(p["pos_emb.weight"])
    g["pos_emb.weight"][:T] = dx.sum(0)
    g["tok_emb.weight"] = np.zeros_like(p["tok_emb.weight"])
    np.add.at(g["tok_emb.weight"], idx.reshape(-1), _rows(dx))  # repeated tokens accumulate
    return np.asarray(loss, dt), {k: v.astype(dt, copy=False) for k, v in g.items()}


def _sig(z):
    return 1 / (1 + np.exp(-z))


def lstm_loss_and_grads(spec: LSTMStep, x, target, p):
    """Forward and hand-derived backpropagation through time of `_lstm_model`."""
    T, B, _ = x.shape
    H = spec.hidden
    dt = x.dtype
    inp = x
    caches = []
    for layer in range(spec.num_layers):
        W_ih, W_hh = p[f"lstm.weight_ih_l{layer}"], p[f"lstm.weight_hh_l{layer}"]
        bias = p[f"lstm.bias_ih_l{layer}"] + p[f"lstm.bias_hh_l{layer}"]
        xw = inp @ W_ih.T + bias
        h, c = np.zeros((B, H), dt), np.zeros((B, H), dt)
        hs, cs, gates = np.empty((T, B, H), dt), np.empty((T, B, H), dt), []
        for t in range(T):
            a = xw[t] + h @ W_hh.T
            i, f, gg, o = (
                _sig(a[:, :H]),
                _sig(a[:, H : 2 * H]),
                np.tanh(a[:, 2 * H : 3 * H]),
                _sig(a[:, 3 * H :]),
            )
            c = f * c + i * gg
            h = o * np.tanh(c)
            hs[t], cs[t] = h, c
            gates.append((i, f, gg, o))
        caches.append((inp, hs, cs, gates))
        inp = hs
    out = inp @ p["head.weight"].T + p["head.bias"]
    diff = out - target
    loss = (diff * diff).mean()
    g = {}
    dout = 2 * diff / diff.size
    g["head.weight"] = _rows(dout).T @ _rows(inp)
    g["head.bias"] = _rows(dout).sum(0)
    dh_seq = dout @ p["head.weight"]  # (T, B, H): the gradient reaching each step's output
    for layer in reversed(range(spec.num_layers)):
        inp, hs, cs, gates = caches[layer]
        W_ih, W_hh = p[f"lstm.weight_ih_l{layer}"], p[f"lstm.weight_hh_l{layer}"]
        da = np.empty((T, B, 4 * H), dt)
        dh_next, dc_next = np.zeros((B, H), dt), np.zeros((B, H), dt)
        for t in reversed(range(T)):
            i, f, gg, o = gates[t]
            dh = dh_seq[t] + dh_next
            tc = np.tanh(cs[t])
            dc = dc_next + dh * o * (1 - tc * tc)
            c_prev = cs[t - 1] if t else np.zeros_like(cs[0])
            da[t, :, :H] = dc * gg * i * (1 - i)
            da[t, :, H : 2 * H] = dc * c_prev * f * (1 - f)
            da[t, :, 2 * H : 3 * H] = dc * i * (1 - gg * gg)
            da[t, :, 3 * H :] = dh * tc * o * (1 - o)
            dh_next = da[t] @ W_hh
            dc_next = dc * f
        h_prev = np.concatenate([np.zeros((1, B, H), dt), hs[:-1]])
        g[f"lstm.weight_ih_l{layer}"] = _rows(da).T @ _rows(inp)
        g[f"lstm.weight_hh_l{layer}"] = _rows(da).T @ _rows(h_prev)
        g[f"lstm.bias_ih_l{layer}"] = _rows(da).sum(0)
        g[f"lstm.bias_hh_l{layer}"] = g[f"lstm.bias_ih_l{layer}"].copy()
        dh_seq = da @ W_ih
    return np.asarray(loss, dt), g


class NumpyGPT:
    """The hand-derived GPT step with a hand-written AdamW (PyTorch's update, decoupled decay)."""

    peer = "numpy"
    prepare = None

    def __init__(self, spec: GPTStep, dtype, peer: str = "numpy"):
        self.spec = spec
        self.idx, self.targets, params = gpt_problem(spec)
        self.params = {k: v.astype(dtype) for k, v in params.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.t = 0
        self.loss = self.grads = None

    def step(self) -> None:
        self.loss = self.grads = None
        loss, grads = gpt_loss_and_grads(self.spec, self.idx, self.targets, self.params)
        self.t += 1
        lr, wd, b1, b2, eps = self.spec.lr, self.spec.weight_decay, 0.9, 0.999, 1e-8
        c1, c2 = 1 - b1**self.t, math.sqrt(1 - b2**self.t)
        for k, p in self.params.items():
            g = grads[k]
            p *= 1 - lr * wd
            m, v = self.m[k], self.v[k]
            m += (1 - b1) * (g - m)
            v *= b2
            v += (1 - b2) * g * g
            p -= (lr / c1) * m / (np.sqrt(v) / c2 + eps)
        self.loss, self.grads = loss, grads

    def state(self):
        from .workloads import StepState

        return StepState(
            np.array(self.loss),
            {k: g.copy() for k, g in self.grads.items()},
            {k: p.copy() for k, p in self.params.items()},
        )


class NumpyLSTM(NumpyGPT):
    """The hand-derived LSTM step (BPTT) with plain SGD."""

    def __init__(self, spec: LSTMStep, dtype, peer: str = "numpy"):
        self.spec = spec
        x, target, params = lstm_problem(spec)
        self.x, self.target = x.astype(dtype), target.astype(dtype)
        self.params = {k: v.astype(dtype) for k, v in params.items()}
        self.loss = self.grads = None

    def step(self) -> None:
        self.loss = self.grads = None
        loss, grads = lstm_loss_and_grads(self.spec, self.x, self.target, self.params)
        for k, p in self.params.items():
            p -= self.spec.lr * grads[k]
        self.loss, self.grads = loss, grads


class MicrotensorGPT(FrameworkGPT):
    peer = "microtensor"

    def __init__(self, spec: GPTStep, dtype):
        super().__init__(spec, dtype, "microtensor")


class TorchGPT(FrameworkGPT):
    peer = "torch"

    def __init__(self, spec: GPTStep, dtype):
        super().__init__(spec, dtype, "torch")


class MicrotensorLSTM(FrameworkLSTM):
    peer = "microtensor"

    def __init__(self, spec: LSTMStep, dtype):
        super().__init__(spec, dtype, "microtensor")


class TorchLSTM(FrameworkLSTM):
    peer = "torch"

    def __init__(self, spec: LSTMStep, dtype):
        super().__init__(spec, dtype, "torch")
