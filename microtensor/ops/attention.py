"""Scaled dot-product attention: one fused op with the closed-form backward.

    P = softmax(q kᵀ · scale + mask),  out = P v

    ∂v = Pᵀ g,   ∂S = P ⊙ (g vᵀ − rowsum(P ⊙ g vᵀ)),   ∂q = ∂S k · scale,   ∂k = ∂Sᵀ q · scale

One node instead of six (matmul, transpose, scale, mask, softmax, matmul): fewer temporaries on the
hot path of every transformer. The mask is a constant (bool masks become 0 / −inf scores). With
dropout, or a float mask that itself requires grad, the same formula is composed from the
elementary ops instead (their graph differentiates those too).
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import _xp, index, reduce
from .base import Op, as_tensor, helper

_CAUSAL_MASKS: dict[tuple[int, int], np.ndarray] = {}  # (L, S) -> bool mask, True above the diagonal


def causal_mask(L: int, S: int) -> np.ndarray:
    """The (L, S) bool mask that hides future positions (True where j > i), cached per size."""
    m = _CAUSAL_MASKS.get((L, S))
    if m is None:
        m = np.triu(np.ones((L, S), dtype=bool), 1)
        m.flags.writeable = False
        _CAUSAL_MASKS[(L, S)] = m
    return m


class ScaledDotProductAttention(Op):
    """softmax(q kᵀ · scale + mask) v over the last two dims; batch dims broadcast."""

    role = "layer"
    public_name = "scaled_dot_product_attention"
    __slots__ = ("mask", "scale")
    derivatives = {
        "q": "attention_backward(grad, q, k, v, self.mask, self.scale)[0]",
        "k": "attention_backward(grad, q, k, v, self.mask, self.scale)[1]",
        "v": "attention_backward(grad, q, k, v, self.mask, self.scale)[2]",
    }

    def __init__(self, mask: np.ndarray | None, scale: float):
        self.mask, self.scale = mask, scale  # mask: additive scores (0 or −inf, or floats), or None

    def forward(self, q, k, v):
        p = _probs(q, k, self.mask, self.scale)
        self.saved = p  # for backward (the scores' softmax costs about as much as the products)
        return p @ v


def _probs(q, k, mask, scale):
    s = q @ _xp.mT(k)
    if isinstance(s, np.ndarray) and s.flags.writeable and s.base is None:  # a fresh array: in place
        s *= scale
        if mask is not None:
            s += mask
    else:
        s = s * scale
        if mask is not None:
            s = s + mask
    return _xp.softmax(s, -1)


_LAST: list = []  # within one node's backward: q, k and v share one computation of P and ∂S
_SAVED: list = []  # within one node's backward: the P its forward saved


def _vjp_sharing(compiled):
    """The compiled derivatives, with attention_backward's result shared by the three inputs of one
    call and forgotten when the call returns (so nothing stale survives to another call); the
    forward's P is at hand for the call."""

    def _vjp(self, *args):
        _SAVED[:] = [self.saved]
        try:
            return compiled(self, *args)
        finally:
            _LAST.clear()
            _SAVED.clear()

    return _vjp


ScaledDotProductAttention._vjp = _vjp_sharing(ScaledDotProductAttention._vjp)


@helper
def attention_backward(grad, q, k, v, mask, scale):
    """(∂q, ∂k, ∂v) of attention (see the module docstring); P is the forward's on arrays (recomputed
    from q and k when it is not at hand, and under create_graph, where it must be differentiable)."""
    key = (grad, q, k, v, mask)
    if _LAST and all(a is b for a, b in zip(_LAST[0], key)):
        return _LAST[1]
    p = _SAVED[0] if _SAVED and _SAVED[0] is not None and isinstance(q, np.ndarray) else None
    if p is None:
        p = _probs(q, k, mask, scale)
    dv = _xp.mT(p) @ grad
    dp = grad @ _xp.mT(v)
    ds = p * (dp - _xp.sum(dp * p, -1, True))
    out = (ds @ k * scale, _xp.mT(ds) @ q * scale, dv)
    _LAST[:] = [key, out]
    return out


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    return_weights: bool = False,
):
    """softmax(query @ keyᵀ · scale + mask) @ value, as torch.nn.functional.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). attn_mask broadcasts to
    (..., L, S): a bool mask keeps the positions where it is True; a float mask is added to the
    scores. is_causal hides future keys (j > i). scale defaults to 1/√E. `return_weights` (not a
    PyTorch argument; used by MultiheadAttention) also returns the attention weights.

    >>> out = scaled_dot_product_attention(q, k, v, is_causal=True)
    """
    op = "scaled_dot_product_attention"
    q, k, v = (as_tensor(t, op) for t in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            f"{op}: query, key and value need at least 2 dims, got {q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"{op}: expected query (..., L, E), key (..., S, E), value (..., S, Ev), got "
            f"{q.shape}, {k.shape}, {v.shape}"
        )
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        rep = q.shape[-3] // k.shape[-3]
        k, v = k.repeat_interleave(rep, -3), v.repeat_interleave(rep, -3)
    L, S = q.shape[-2], k.shape[-2]
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: pass either attn_mask or is_causal=True, not both")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    fused = dropout_p == 0.0 and not return_weights
    if fused and (attn_mask is None or not (isinstance(attn_mask, Tensor) and attn_mask.requires_grad)):
        mask = None
        if is_causal:
            mask = _causal_scores(L, S, q._data.dtype)
        elif attn_mask is not None:
            m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
            _check_mask(m, q.shape[:-2] + (L, S), op)
            mask = (
                np.where(m, 0.0, -np.inf).astype(q._data.dtype)
                if m.dtype == np.bool_
                else m.astype(q._data.dtype)
            )
        return ScaledDotProductAttention(mask, s)(q, k, v)
    scores = (q @ k.mT) * s
    if is_causal:
        scores = index.masked_fill(scores, causal_mask(L, S), -math.inf)
    elif attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        _check_mask(m, scores.shape, op)
        if m.dtype == np.bool_:
            scores = index.masked_fill(scores, ~m, -math.inf)
        else:
            scores = scores + (
                attn_mask if isinstance(attn_mask, Tensor) else Tensor._wrap(m.astype(q.dtype))
            )
    weights = reduce.softmax(scores, -1)
    if dropout_p > 0.0:
        from ..nn import functional as F

        weights = F.dropout(weights, dropout_p, True)
    out = weights @ v
    return (out, weights) if return_weights else out


def _check_mask(m: np.ndarray, shape, op: str) -> None:
    try:
        np.broadcast_shapes(m.shape, tuple(shape))
    except ValueError as e:
        raise RuntimeError(
            f"{op}: attn_mask of shape {m.shape} does not broadcast to the scores' shape {shape}"
        ) from e


_CAUSAL_SCORES: dict = {}


def _causal_scores(L: int, S: int, dtype) -> np.ndarray:
    """The (L, S) additive causal mask (0 on and below the diagonal, −inf above), cached."""
    key = (L, S, np.dtype(dtype))
    m = _CAUSAL_SCORES.get(key)
    if m is None:
        m = np.where(causal_mask(L, S), -np.inf, 0.0).astype(dtype)
        m.flags.writeable = False
        _CAUSAL_SCORES[key] = m
    return m
