"""Recurrent layers as fused ops with closed-form backwards: one LSTM step's pointwise math
(LSTMGates), and a whole layer over a whole sequence (LSTMLayer, GRULayer, RNNLayer).

From the gate pre-activations a = [a_i, a_f, a_g, a_o] (…, 4H) and the previous cell state c:

    i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g);  c' = f·c + i·g;  h' = o·tanh(c')

The output is [h', c'] (…, 2H). With the incoming gradient [g_h, g_c] and δc = g_c + g_h·o·(1 − tanh²c'):

    ∂a_i = δc·g·i(1 − i),  ∂a_f = δc·c·f(1 − f),  ∂a_g = δc·i·(1 − g²),  ∂a_o = g_h·tanh(c')·o(1 − o)
    ∂c = δc·f

One node per time step instead of eleven (slices, three sigmoids, two tanh, products, sums): the
recurrence's cost is mostly per-node overhead at these sizes.

The layer ops go further: one node for a layer's whole time loop, its forward and its
backpropagation through time written out in NumPy (the per-step graph nodes, their un-broadcasting
and the gradients' scatter into each step's slice are what made the unrolled layer slow). Their
derivatives are one helper each that computes every input's gradient in one pass (shared by the
inputs of one node through _CALL, with the gates the forward saved); under create_graph the helper
differentiates the unrolled recurrence built from the same inputs instead, so that the gradient
is a graph again.
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
    meaning = (
        "backpropagation through time, from the last step to the first: with ∂a_t the gradient of "
        "the gates' pre-activations at step t, ∂W_ih = Σ_t ∂a_tᵀ·x_t, ∂W_hh = Σ_t ∂a_tᵀ·h_{t−1}, "
        "∂b_ih = ∂b_hh = Σ_t ∂a_t, ∂x_t = ∂a_t·W_ih, ∂h0 = ∂a_1·W_hh, ∂c0 = ∂c_1·f_1 (the sum over "
        "the time steps)"
    )
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


_CALL: list = []  # within one layer node's backward: [saved arrays, needs, the gradients once computed]


@helper
def lstm_layer_backward(grad, out, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The gradients of LSTMLayer for (x, h0, c0, w_ih, w_hh, b_ih, b_hh), all from one pass of
    backpropagation through time (see LSTMLayer); the gates are recomputed from out when the
    forward's saved ones are not at hand."""
    return _layer_backward(
        grad,
        (x, h0, c0, w_ih, w_hh, b_ih, b_hh),
        lambda *ts: lstm_unrolled(*ts, reverse=reverse),
        lambda ins, saved, needs: _bptt(grad, out, ins, reverse, saved, needs),
    )


def _layer_backward(grad, ins, unrolled, bptt):
    """A layer node's gradients for all its inputs, computed once per node (the helper is called
    once per input's expression; _CALL keeps the first call's result): on arrays by bptt(ins,
    saved, needs), under create_graph by differentiating the unrolled recurrence."""
    if _CALL and _CALL[2] is not None:
        return _CALL[2]
    if isinstance(grad, Tensor) or any(isinstance(v, Tensor) for v in ins):
        result = _unrolled_vjp(grad, ins, unrolled)
    else:
        saved, needs = (_CALL[0], _CALL[1]) if _CALL else (None, (True,) * len(ins))
        result = bptt(ins, saved, needs)
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
    # the step-independent factors of ∂a_t, for all steps at once: ∂a_t = [δc, δc, δc, δh] · coef_t,
    # coef = [g·i(1 − i), c_{t−1}·f(1 − f), i(1 − g²), tanh(c_t)·o(1 − o)] (in place: a few full
    # passes instead of a temporary per product, ~3x faster at this workload's sizes)
    coef = np.subtract(1, act)
    coef *= act
    coef = coef.reshape(T, B, 4, H)
    coef[:, :, 0] *= g
    c_prev = coef[:, :, 1]
    if reverse:
        c_prev[:-1] *= cs[1:]
        c_prev[-1] *= c0
    else:
        c_prev[1:] *= cs[:-1]
        c_prev[0] *= c0
    gg = coef[:, :, 2]
    np.multiply(g, g, out=gg)
    np.subtract(1, gg, out=gg)
    gg *= i
    coef[:, :, 3] *= tc
    dtanh = tc * tc  # ∂c_t/∂h_t through h_t = o·tanh(c_t): o(1 − tanh²c_t)
    np.subtract(1, dtanh, out=dtanh)
    dtanh *= o
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


def _unrolled_vjp(grad, ins, unrolled):
    """The gradients through the layer unrolled step by step (`unrolled(*ins)`): a differentiable
    graph (for create_graph=True), built from the layer's own inputs so that it can be
    differentiated again."""
    from ..autograd import grad as autograd_grad

    wrt = [k for k, v in enumerate(ins) if isinstance(v, Tensor) and v.requires_grad]
    if not wrt:
        return (None,) * len(ins)
    y = unrolled(*ins)
    if not isinstance(grad, Tensor):
        grad = Tensor._wrap(grad)
    gs = autograd_grad(y, [ins[k] for k in wrt], grad, create_graph=True, allow_unused=True)
    result = [None] * len(ins)
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


# ------------------------------------------------------------------ GRU
_GRU_INPUTS = ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")


class GRULayer(Op):
    """One GRU layer in one direction over a whole sequence, as one node.

    x (T, B, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H), optional biases (3H,), gate order r, z, n
    as PyTorch. With x_t W_ihᵀ + b_ih = [x_r, x_z, x_n] and h_{t−1} W_hhᵀ + b_hh = [h_r, h_z, h_n]:

        r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r·h_n);  h_t = n + z·(h_{t−1} − n)

    The output is every step's h, (T, B, H), indexed by time. Backward through time, with δh the
    gradient reaching h_t: ∂n-pre = δh·(1 − z)(1 − n²), ∂z-pre = δh·(h_{t−1} − n)·z(1 − z),
    ∂r-pre = ∂n-pre·h_n·r(1 − r); the hidden projection gets [∂r-pre, ∂z-pre, ∂n-pre·r], the input
    projection [∂r-pre, ∂z-pre, ∂n-pre], and δh_{t−1} = ∂(hidden projection) W_hh + δh·z. The weights'
    gradients are then single products over the whole sequence; under create_graph the backward is
    the unrolled recurrence's, recorded so that it can be differentiated again.
    """

    role = "layer"
    meaning = (
        "backpropagation through time, from the last step to the first: with ∂a_t and ∂â_t the "
        "gradients of the input and hidden projections at step t, ∂W_ih = Σ_t ∂a_tᵀ·x_t, ∂W_hh = "
        "Σ_t ∂â_tᵀ·h_{t−1}, ∂b_ih = Σ_t ∂a_t, ∂b_hh = Σ_t ∂â_t, ∂x_t = ∂a_t·W_ih, ∂h0 = ∂â_1·W_hh +"
        " ∂h_1·z_1 (the sum over the time steps)"
    )
    public_name = "gru"
    __slots__ = ("reverse",)
    derivatives = {
        n: f"gru_layer_backward(grad, out, x, h0, w_ih, w_hh, b_ih, b_hh, self.reverse)[{k}]"
        for k, n in enumerate(_GRU_INPUTS)
    }

    def __init__(self, reverse: bool = False):
        self.reverse = bool(reverse)

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, B = x.shape[:2]
        H = h0.shape[-1]
        dt = np.result_type(x, h0, w_ih, w_hh)
        out = np.empty((T, B, H), dt)
        act = (_xp.rows(x) @ w_ih.T).reshape(T, B, 3 * H)  # every step's input projection; then r, z, n
        if b_ih is not None:
            act += b_ih
        hn = np.empty((T, B, H), dt)  # h_n of every step, kept for backward
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h = h0
        for t in _order(T, self.reverse):
            a, gh = act[t], h @ w_hh_t
            if b_hh is not None:
                gh += b_hh
            a[:, : 2 * H] += gh[:, : 2 * H]
            _sigmoid_(a[:, : 2 * H])
            r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
            hn[t] = gh[:, 2 * H :]
            n += r * hn[t]
            np.tanh(n, out=n)
            h_new = out[t]
            np.subtract(h, n, out=h_new)
            h_new *= z
            h_new += n
            h = h_new
        self.saved = (act, hn)
        return out


@helper
def gru_layer_backward(grad, out, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The gradients of GRULayer for (x, h0, w_ih, w_hh, b_ih, b_hh), all from one pass of
    backpropagation through time (see GRULayer); the gates are recomputed from out when the
    forward's saved ones are not at hand."""
    return _layer_backward(
        grad,
        (x, h0, w_ih, w_hh, b_ih, b_hh),
        lambda *ts: gru_unrolled(*ts, reverse=reverse),
        lambda ins, saved, needs: _gru_bptt(grad, out, ins, reverse, saved, needs),
    )


def _gru_gates(out, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """(r, z, n of every step, h_n of every step), recomputed at once from the inputs and states."""
    T, B = x.shape[:2]
    H = h0.shape[-1]
    xw = _xp.rows(x) @ w_ih.T
    gh = _xp.rows(_shifted(out, h0, reverse)) @ w_hh.T
    if b_ih is not None:
        xw += b_ih
    if b_hh is not None:
        gh += b_hh
    xw, gh = xw.reshape(T, B, 3 * H), gh.reshape(T, B, 3 * H)
    act = np.empty_like(xw)
    act[..., : 2 * H] = _xp.sigmoid(xw[..., : 2 * H] + gh[..., : 2 * H])
    act[..., 2 * H :] = np.tanh(xw[..., 2 * H :] + act[..., :H] * gh[..., 2 * H :])
    return act, gh[..., 2 * H :]


def _gru_bptt(grad, out, ins, reverse, saved, needs):
    x, h0, w_ih, w_hh, b_ih, b_hh = ins
    T, B = x.shape[:2]
    H = h0.shape[-1]
    act, hn = saved if saved is not None else _gru_gates(out, *ins, reverse)
    r, z, n = act[..., :H], act[..., H : 2 * H], act[..., 2 * H :]
    h_prev = _shifted(out, h0, reverse)
    # the step-independent factors, for all steps at once
    c_n = (1 - z) * (1 - n * n)  # ∂n-pre / ∂h_t
    c_z = (h_prev - n) * z * (1 - z)  # ∂z-pre / ∂h_t
    c_r = hn * r * (1 - r)  # ∂r-pre / ∂n-pre
    dgh = np.empty((T, B, 3 * H), act.dtype)  # the gradient of each step's hidden projection
    dn = np.empty((T, B, H), act.dtype)  # and of its n pre-activation
    dh = np.zeros((B, H), act.dtype)
    for t in _order(T, not reverse):
        dh += grad[t]
        np.multiply(dh, c_n[t], out=dn[t])
        np.multiply(dn[t], c_r[t], out=dgh[t, :, :H])
        np.multiply(dh, c_z[t], out=dgh[t, :, H : 2 * H])
        np.multiply(dn[t], r[t], out=dgh[t, :, 2 * H :])
        dh_next = dgh[t] @ w_hh
        dh *= z[t]
        dh += dh_next
    dxw = dgh.copy()
    dxw[..., 2 * H :] = dn
    dxw, dgh = dxw.reshape(T * B, 3 * H), dgh.reshape(T * B, 3 * H)
    need = dict(zip(_GRU_INPUTS, needs))
    return (
        (dxw @ w_ih).reshape(x.shape) if need["x"] else None,
        dh,
        dxw.T @ _xp.rows(x) if need["w_ih"] else None,
        dgh.T @ _xp.rows(h_prev) if need["w_hh"] else None,
        np.add.reduce(dxw, axis=0) if need.get("b_ih") else None,
        np.add.reduce(dgh, axis=0) if need.get("b_hh") else None,
    )


def gru_unrolled(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
    """GRULayer's value built step by step from Linear and elementwise nodes (Tensors in, (T, B, H) out)."""
    from .shape import stack

    H = h0.shape[-1]
    xw = Linear()(x, w_ih, b_ih)
    h = h0
    hs = [None] * x.shape[0]
    for t in _order(x.shape[0], reverse):
        gh = Linear()(h, w_hh, b_hh)
        xt = xw[t]
        r = (xt[:, :H] + gh[:, :H]).sigmoid()
        z = (xt[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
        n = (xt[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
        h = n + z * (h - n)
        hs[t] = h
    return stack(hs)


GRULayer._vjp = _layer_vjp(GRULayer._vjp)


# ------------------------------------------------------------------ Elman RNN
class RNNLayer(Op):
    """One Elman RNN layer (tanh, or relu) in one direction over a whole sequence, as one node.

    x (T, B, I), h0 (B, H), w_ih (H, I), w_hh (H, H), optional biases (H,):
    h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh). The output is every step's h, (T, B, H),
    indexed by time. Backward through time needs only the output: with δh the gradient reaching
    h_t, ∂a_t = δh·act′ (1 − h_t² for tanh, [h_t > 0] for relu) and δh_{t−1} = ∂a_t W_hh; the
    weights' gradients are single products over the whole sequence. Under create_graph the
    backward is the unrolled recurrence's, recorded so that it can be differentiated again.
    """

    role = "layer"
    meaning = (
        "backpropagation through time, from the last step to the first: ∂a_t = ∂h_t·act′(a_t), "
        "∂W_ih = Σ_t ∂a_tᵀ·x_t, ∂W_hh = Σ_t ∂a_tᵀ·h_{t−1}, ∂b_ih = ∂b_hh = Σ_t ∂a_t, ∂x_t = "
        "∂a_t·W_ih, ∂h0 = ∂a_1·W_hh (the sum over the time steps)"
    )
    public_name = "rnn"
    __slots__ = ("reverse", "relu")
    derivatives = {
        n: f"rnn_layer_backward(grad, out, x, h0, w_ih, w_hh, b_ih, b_hh, self.reverse, self.relu)[{k}]"
        for k, n in enumerate(_GRU_INPUTS)
    }

    def __init__(self, reverse: bool = False, relu: bool = False):
        self.reverse, self.relu = bool(reverse), bool(relu)

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, B = x.shape[:2]
        out = (_xp.rows(x) @ w_ih.T).reshape(T, B, h0.shape[-1])  # every step's input projection
        for bias in (b_ih, b_hh):
            if bias is not None:
                out += bias
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h = h0
        for t in _order(T, self.reverse):
            a = out[t]
            a += h @ w_hh_t
            if self.relu:
                np.maximum(a, 0, out=a)
            else:
                np.tanh(a, out=a)
            h = a
        self.saved = None  # backward needs only the output
        return out


@helper
def rnn_layer_backward(grad, out, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
    """The gradients of RNNLayer for (x, h0, w_ih, w_hh, b_ih, b_hh), all from one pass of
    backpropagation through time (see RNNLayer)."""
    return _layer_backward(
        grad,
        (x, h0, w_ih, w_hh, b_ih, b_hh),
        lambda *ts: rnn_unrolled(*ts, reverse=reverse, relu=relu),
        lambda ins, saved, needs: _rnn_bptt(grad, out, ins, reverse, relu, needs),  # (needs no saved)
    )


def _rnn_bptt(grad, out, ins, reverse, relu, needs):
    x, h0, w_ih, w_hh, b_ih, b_hh = ins
    T, B, H = out.shape
    da = np.empty_like(out)
    off = out <= 0 if relu else None  # relu passes no gradient where its output is ≤ 0 (NaN passes)
    slope = None if relu else 1 - out * out  # tanh′ = 1 − h²
    dh = np.zeros((B, H), out.dtype)
    for t in _order(T, not reverse):
        dh += grad[t]
        if relu:
            da[t] = _xp.where(off[t], 0, dh)
        else:
            np.multiply(dh, slope[t], out=da[t])
        dh = da[t] @ w_hh
    da = da.reshape(T * B, H)
    need = dict(zip(_GRU_INPUTS, needs))
    db = np.add.reduce(da, axis=0) if need.get("b_ih") or need.get("b_hh") else None
    return (
        (da @ w_ih).reshape(x.shape) if need["x"] else None,
        dh,
        da.T @ _xp.rows(x) if need["w_ih"] else None,
        da.T @ _xp.rows(_shifted(out, h0, reverse)) if need["w_hh"] else None,
        db,
        db,
    )


def rnn_unrolled(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False, relu=False):
    """RNNLayer's value built step by step from Linear and activation nodes (Tensors in, (T, B, H) out)."""
    from .shape import stack

    xw = Linear()(x, w_ih, b_ih)
    h = h0
    hs = [None] * x.shape[0]
    for t in _order(x.shape[0], reverse):
        a = xw[t] + Linear()(h, w_hh, b_hh)
        h = a.relu() if relu else a.tanh()
        hs[t] = h
    return stack(hs)


RNNLayer._vjp = _layer_vjp(RNNLayer._vjp)
