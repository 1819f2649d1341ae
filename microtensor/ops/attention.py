"""Scaled dot-product attention, built from matmul, softmax and masking ops.

    attention(q, k, v) = softmax(q kᵀ · scale + mask) v

Composed rather than fused: each piece already has an exact, twice-differentiable backward, and
the graph shows the familiar steps (scores, mask, softmax, weighted sum) to explain and viz.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import index, reduce
from .base import as_tensor

_CAUSAL_MASKS: dict[tuple[int, int], np.ndarray] = {}  # (L, S) -> bool mask, True above the diagonal


def causal_mask(L: int, S: int) -> np.ndarray:
    """The (L, S) bool mask that hides future positions (True where j > i), cached per size."""
    m = _CAUSAL_MASKS.get((L, S))
    if m is None:
        m = np.triu(np.ones((L, S), dtype=bool), 1)
        m.flags.writeable = False
        _CAUSAL_MASKS[(L, S)] = m
    return m


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
    scores = (q @ k.mT) * s
    if is_causal:
        scores = index.masked_fill(scores, causal_mask(L, S), -math.inf)
    elif attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        try:
            np.broadcast_shapes(m.shape, scores.shape)
        except ValueError as e:
            raise RuntimeError(
                f"{op}: attn_mask of shape {m.shape} does not broadcast to the scores' shape {scores.shape}"
            ) from e
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
