"""The pointwise part of an LSTM step as one fused op with its closed-form backward.

From the gate pre-activations a = [a_i, a_f, a_g, a_o] (…, 4H) and the previous cell state c:

    i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g);  c' = f·c + i·g;  h' = o·tanh(c')

The output is [h', c'] (…, 2H). With the incoming gradient [g_h, g_c] and δc = g_c + g_h·o·(1 − tanh²c'):

    ∂a_i = δc·g·i(1 − i),  ∂a_f = δc·c·f(1 − f),  ∂a_g = δc·i·(1 − g²),  ∂a_o = g_h·tanh(c')·o(1 − o)
    ∂c = δc·f

One node per time step instead of eleven (slices, three sigmoids, two tanh, products, sums): the
recurrence's cost is mostly per-node overhead at these sizes.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper


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
