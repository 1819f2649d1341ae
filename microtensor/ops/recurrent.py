"""LSTM as fused ops with closed-form backwards: one step's pointwise math (LSTMGates), and a whole
layer over a whole sequence (LSTMLayer).

From the gate pre-activations a = [a_i, a_f, a_g, a_o] (…, 4H) and the previous cell state c:

    i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g);  c' = f·c + i·g;  h' = o·tanh(c')

The output is [h', c'] (…, 2H). With the incoming gradient [g_h, g_c] and δc = g_c + g_h·o·(1 − tanh²c'):

    ∂a_i = δc·g·i(1 − i),  ∂a_f = δc·c·f(1 − f),  ∂a_g = δc·i·(1 − g²),  ∂a_o = g_h·tanh(c')·o(1 − o)
    ∂c = δc·f

One node per time step instead of eleven (slices, three sigmoids, two tanh, products, sums): the
recurrence's cost is mostly per-node overhead at these sizes.

LSTMLayer goes further: one node for a layer's whole time loop, its forward and its backpropagation
through time written out in NumPy (the per-step graph nodes, their un-broadcasting and the
gradients' scatter into each step's slice are what made the unrolled layer slow).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper
from .fused import Linear


class LSTMGates(Op):
    """[h', c'] from the gate pre-activations a (…, 4H) and the cell state c (…, H)."""

    role = "layer"
    public_name = "lstm_cell"
    derivatives = {"a": "lstm_gates_backward(grad, a, c)[0]", "c": "lstm_gates_backward(grad, a, c)[1]"}

    def forward(self, a, c):
        i, f, g, o = _gates(a, c.shape[-1])
        cn = f * c + i * g
        return np.concatenate([o * np.tanh(cn), cn], -1)


def _gates(a, H: int):
    if isinstance(a, Tensor):
        i, f, g, o = a.split(H, -1)
        return i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    s = _xp.sigmoid(a)
    return s[..., :H], s[..., H : 2 * H], np.tanh(a[..., 2 * H : 3 * H]), s[..., 3 * H :]


_LAST: list = []  # within one node's backward: ∂a and ∂c share one computation


@helper
def lstm_gates_backward(grad, a, c):
    """(∂a, ∂c) of LSTMGates (see the module docstring); the gates are recomputed from a."""
    key = (grad, a, c)
    if _LAST and all(x is y for x, y in zip(_LAST[0], key)):
        return _LAST[1]
    H = c.shape[-1]
    i, f, g, o = _gates(a, H)
    cn = f * c + i * g
    tc = cn.tanh() if isinstance(cn, Tensor) else np.tanh(cn)
    gh, gc = grad[..., :H], grad[..., H:]
    dc = gc + gh * o * (1 - tc * tc)
    parts = [dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), gh * tc * o * (1 - o)]
    if isinstance(parts[0], Tensor) or any(isinstance(p, Tensor) for p in parts):
        from .shape import cat

        da = cat([p if isinstance(p, Tensor) else Tensor._wrap(p) for p in parts], -1)
    else:
        da = np.concatenate(parts, -1)
    out = (da, dc * f)
    _LAST[:] = [key, out]
    return out


def _vjp_sharing(compiled):
    def _vjp(self, *args):
        try:
            return compiled(self, *args)
        finally:
            _LAST.clear()

    return _vjp


LSTMGates._vjp = _vjp_sharing(LSTMGates._vjp)


# ------------------------------------------------------------------ a whole layer over a sequence
_LAYER_INPUTS = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")


class LSTMLayer(Op):
    """One LSTM layer in one direction over a whole sequence, as one node.

    x (T, B, I) the inputs, h0 and c0 (B, H) the initial state, w_ih (4H, I), w_hh (4H, H) and the
    optional biases (4H,), gate order i, f, g, o as PyTorch. For t = 1..T (T..1 when `reverse`):

        a_t = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh;  c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t)

    The output is every step's state, [h_1..h_T ; c_1..c_T] of shape (2, T, B, H), indexed by time
    (so output[0] is the layer's output sequence in either direction). Backward is backpropagation
    through time: the gate gradients ∂a_t of all steps (the same pointwise formulas as LSTMGates),
    then ∂W_ih = Σ_t ∂a_tᵀ x_t, ∂W_hh = Σ_t ∂a_tᵀ h_{t−1} and ∂x = ∂a W_ih as single products over
    the whole sequence. Under create_graph the backward is the unrolled recurrence's (LSTMGates
    steps), recorded so that it can be differentiated again.
    """

    role = "layer"
    public_name = "lstm"
    __slots__ = ("reverse",)
    derivatives = {
        n: f"lstm_layer_backward(grad, out, x, h0, c0, w_ih, w_hh, b_ih, b_hh, self.reverse)[{k}]"
        for k, n in enumerate(_LAYER_INPUTS)
    }

    def __init__(self, reverse: bool = False):
        self.reverse = bool(reverse)

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, B = x.shape[:2]
        H = h0.shape[-1]
        dt = np.result_type(x, h0, c0, w_ih, w_hh)
        out = np.empty((2, T, B, H), dt)
        # every step's input projection in one product; it then holds the gates, step by step
        act = (_xp.rows(x) @ w_ih.T).reshape(T, B, 4 * H)
        for bias in (b_ih, b_hh):
            if bias is not None:
                act += bias
        w_hh_t = np.ascontiguousarray(w_hh.T)  # (BLAS is faster on it than on the transposed view)
        tc = np.empty((T, B, H), dt)  # tanh(c_t), kept for backward
        h, c = h0, c0
        for t in _order(T, self.reverse):
            a = act[t]
            a += h @ w_hh_t
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            np.tanh(g, out=g)
            _sigmoid_(a[:, : 2 * H])
            _sigmoid_(o)
            h, c_new = out[0, t], out[1, t]
            np.multiply(f, c, out=c_new)
            c_new += i * g
            np.tanh(c_new, out=tc[t])
            np.multiply(o, tc[t], out=h)
            c = c_new
        self.saved = (act, tc)
        return out


def _sigmoid_(a) -> None:
    """a ← 1 / (1 + e^−a) in place (e^−a overflowing to inf gives 0, the limit: no branch needed)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _order(T: int, reverse: bool) -> range:
    """The steps in the order the recurrence visits them."""
    return range(T - 1, -1, -1) if reverse else range(T)


_CALL: list = []  # within one LSTMLayer node's backward: [saved arrays, needs, the gradients once computed]


@helper
def lstm_layer_backward(grad, out, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The gradients of LSTMLayer for (x, h0, c0, w_ih, w_hh, b_ih, b_hh), all from one pass of
    backpropagation through time (see LSTMLayer); the gates are recomputed from out when the
    forward's saved ones are not at hand."""
    if _CALL and _CALL[2] is not None:
        return _CALL[2]
    ins = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    if isinstance(grad, Tensor) or any(isinstance(v, Tensor) for v in ins):
        result = _unrolled_vjp(grad, ins, reverse)
    else:
        saved, needs = (_CALL[0], _CALL[1]) if _CALL else (None, (True,) * 7)
        result = _bptt(grad, out, ins, reverse, saved, needs)
    if _CALL:
        _CALL[2] = result
    return result


def _gates_from_out(out, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The activated gates of every step, recomputed at once from the layer's inputs and states."""
    T, B = x.shape[:2]
    H = h0.shape[-1]
    h_prev = _shifted(out[0], h0, reverse)
    a = _xp.rows(x) @ w_ih.T + _xp.rows(h_prev) @ w_hh.T
    for bias in (b_ih, b_hh):
        if bias is not None:
            a += bias
    a = a.reshape(T, B, 4 * H)
    g = np.tanh(a[..., 2 * H : 3 * H])
    act = _xp.sigmoid(a)
    act[..., 2 * H : 3 * H] = g
    return act, np.tanh(out[1])


def _shifted(states, first, reverse):
    """The state each step starts from: (first, s_1, .., s_{T−1}), or (s_2, .., s_T, first) reversed."""
    parts = [states[1:], first[None]] if reverse else [first[None], states[:-1]]
    return np.concatenate(parts, 0)


def _bptt(grad, out, ins, reverse, saved, needs):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = ins
    T, B = x.shape[:2]
    H = h0.shape[-1]
    act, tc = saved if saved is not None else _gates_from_out(out, x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
    cs = out[1]
    i, f, g, o = (act[..., k * H : (k + 1) * H] for k in range(4))
    c_prev = _shifted(cs, c0, reverse)
    # the step-independent factors of ∂a_t, for all steps at once: ∂a_t = [δc, δc, δc, δh] · coef_t
    coef = np.empty((T, B, 4, H), act.dtype)
    coef[:, :, 0] = g * i * (1 - i)
    coef[:, :, 1] = c_prev * f * (1 - f)
    coef[:, :, 2] = i * (1 - g * g)
    coef[:, :, 3] = tc * o * (1 - o)
    dtanh = o * (1 - tc * tc)  # ∂c_t/∂h_t through h_t = o·tanh(c_t)
    gh, gc = grad[0], grad[1]
    da = np.empty_like(coef)
    dh = np.zeros((B, H), act.dtype)  # the gradient reaching h_t from step t + 1 (through W_hh)
    dc = np.zeros((B, H), act.dtype)  # and reaching c_t (through f_{t+1})
    for t in _order(T, not reverse):
        dh += gh[t]
        dc_t = dh * dtanh[t]
        dc_t += dc
        dc_t += gc[t]
        np.multiply(coef[t, :, :3], dc_t[:, None], out=da[t, :, :3])
        np.multiply(coef[t, :, 3], dh, out=da[t, :, 3])
        dh = da[t].reshape(B, 4 * H) @ w_hh
        dc = dc_t * f[t]
    da = da.reshape(T * B, 4 * H)
    need = dict(zip(_LAYER_INPUTS, needs))
    dx = (da @ w_ih).reshape(x.shape) if need["x"] else None
    dw_ih = da.T @ _xp.rows(x) if need["w_ih"] else None
    dw_hh = da.T @ _xp.rows(_shifted(out[0], h0, reverse)) if need["w_hh"] else None
    db = np.add.reduce(da, axis=0) if need.get("b_ih") or need.get("b_hh") else None
    return dx, dh, dc, dw_ih, dw_hh, db, db


def _unrolled_vjp(grad, ins, reverse):
    """The gradients through the layer unrolled into LSTMGates steps: a differentiable graph (for
    create_graph=True), built from the layer's own inputs so that it can be differentiated again."""
    from ..autograd import grad as autograd_grad

    wrt = [k for k, v in enumerate(ins) if isinstance(v, Tensor) and v.requires_grad]
    if not wrt:
        return (None,) * 7
    y = lstm_unrolled(*ins, reverse=reverse)
    if not isinstance(grad, Tensor):
        grad = Tensor._wrap(grad)
    gs = autograd_grad(y, [ins[k] for k in wrt], grad, create_graph=True, allow_unused=True)
    result = [None] * 7
    for k, gk in zip(wrt, gs):
        result[k] = gk
    return tuple(result)


def lstm_unrolled(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
    """LSTMLayer's value built step by step from Linear and LSTMGates nodes (Tensors in, (2, T, B, H) out)."""
    from .shape import stack

    H = h0.shape[-1]
    xw = Linear()(x, w_ih, b_ih)
    h, c = h0, c0
    hs, cs = [None] * x.shape[0], [None] * x.shape[0]
    for t in _order(x.shape[0], reverse):
        hc = LSTMGates()(xw[t] + Linear()(h, w_hh, b_hh), c)
        h, c = hc[..., :H], hc[..., H:]
        hs[t], cs[t] = h, c
    return stack([stack(hs), stack(cs)])


def _layer_vjp(compiled):
    def _vjp(self, _need, grad, out, *args):
        outer = _CALL[:]  # (a nested backward, under create_graph, restores the outer one's)
        _CALL[:] = [self.saved, _need, None]
        try:
            return compiled(self, _need, grad, out, *args)
        finally:
            _CALL[:] = outer

    return _vjp


LSTMLayer._vjp = _layer_vjp(LSTMLayer._vjp)
