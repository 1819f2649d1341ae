"""MultiheadAttention, as torch.nn.MultiheadAttention (same parameters, state_dict keys, masks)."""

from __future__ import annotations

import numpy as np

from .. import creation
from ..device import _check_device
from ..ops.shape import cat
from ..tensor import Tensor
from . import functional as F
from . import init
from .layers import Linear
from .module import Module
from .parameter import Parameter


def _additive(mask, dtype, name: str) -> np.ndarray | Tensor | None:
    """A mask as scores to add: bool True (hidden) -> −inf, False -> 0; a float mask as it is."""
    if mask is None:
        return None
    if isinstance(mask, Tensor) and mask._data.dtype != np.bool_:
        return mask.to(dtype) if mask.dtype != dtype else mask
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, -np.inf, 0.0).astype(dtype)
    if m.dtype.kind != "f":
        raise AssertionError(f"MultiheadAttention: only bool and float {name} are supported, got {m.dtype}")
    return m.astype(dtype, copy=False)


def _pad_last(mask, n: int = 1):
    """A mask with n columns of zeros (visible) appended to its last dim."""
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        return cat([mask, creation.zeros(*mask.shape[:-1], n, dtype=mask.dtype)], -1)
    return np.concatenate([mask, np.zeros((*mask.shape[:-1], n), mask.dtype)], -1)


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim // num_heads channels each.

    forward(query (L, N, E), key (S, N, kdim), value (S, N, vdim)) -> (attn_output (L, N, E),
    attn_weights (N, L, S) averaged over heads, or (N, num_heads, L, S), or None); (N, L, E) with
    batch_first=True; unbatched (L, E) inputs work too. key_padding_mask (N, S) and attn_mask (L, S)
    or (N·num_heads, L, S): bool True hides a position, a float mask is added to the scores.

    >>> mha = nn.MultiheadAttention(64, 4, batch_first=True)
    >>> out, w = mha(x, x, x)  # self-attention, x (N, L, 64)
    """

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
        add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
        vdim: int | None = None, batch_first: bool = False, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        _check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"MultiheadAttention: embed_dim and num_heads must be greater than 0, "
                f"got {embed_dim} and {num_heads}"
            )
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = (
            embed_dim,
            num_heads,
            dropout,
            batch_first,
        )
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(
                f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}"
            )
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * E, E, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty(E, E, dtype=dtype))
            self.k_proj_weight = Parameter(creation.empty(E, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(creation.empty(E, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, E, dtype=dtype))
            self.bias_v = Parameter(creation.empty(1, 1, E, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v (PyTorch's order)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one matrix product for q, k and v
                return F.linear(query, w, b).chunk(3, -1)
            return (
                F.linear(query, w[:E], bq),
                F.linear(key, w[E : 2 * E], bk),
                F.linear(value, w[2 * E :], bv),
            )
        return (
            F.linear(query, self.q_proj_weight, bq),
            F.linear(key, self.k_proj_weight, bk),
            F.linear(value, self.v_proj_weight, bv),
        )

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None, need_weights: bool = True,
        attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False,
    ):  # fmt: skip
        """Returns (attn_output, attn_weights or None); see the class docstring for shapes."""
        op = "MultiheadAttention"
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(
                f"{op}: query, key and value must all be 2-D (unbatched) or 3-D (batched), got "
                f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
            )
        same = query is key and key is value
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = (
                    key_padding_mask.reshape(1, -1)
                    if isinstance(key_padding_mask, Tensor)
                    else np.asarray(key_padding_mask)[None]
                )
        elif not self.batch_first:  # work batch-first: (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same:
            key = value = query
        N, L, E = query.shape
        S = key.shape[1]
        if self.embed_dim != E:
            raise AssertionError(f"{op}: was expecting embedding dimension of {self.embed_dim}, but got {E}")
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"{op}: key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        H, D = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        dt = q._data.dtype
        amask = _additive(attn_mask, dt, "attn_mask")
        kpm = _additive(key_padding_mask, dt, "key_padding_mask")
        if amask is not None:
            want = ((L, S), (N * H, L, S))
            if tuple(amask.shape) not in want:
                raise RuntimeError(
                    f"{op}: attn_mask should have shape {want[0]} or {want[1]}, got {tuple(amask.shape)}"
                )
            if amask.ndim == 3:
                amask = amask.reshape(N, H, L, S)
        if kpm is not None and tuple(kpm.shape) != (N, S):
            raise AssertionError(f"{op}: expected key_padding_mask of shape {(N, S)}, got {tuple(kpm.shape)}")
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(N, 1, E)], 1)
            v = cat([v, self.bias_v.expand(N, 1, E)], 1)
            amask, kpm, S = _pad_last(amask), _pad_last(kpm), S + 1
        q = q.reshape(N, L, H, D).transpose(1, 2)
        k = k.reshape(N, S, H, D).transpose(1, 2)
        v = v.reshape(N, S, H, D).transpose(1, 2)
        if self.add_zero_attn:
            k = cat([k, creation.zeros(N, H, 1, D, dtype=k.dtype)], 2)
            v = cat([v, creation.zeros(N, H, 1, D, dtype=v.dtype)], 2)
            amask, kpm, S = _pad_last(amask), _pad_last(kpm), S + 1
        mask = amask
        if kpm is not None:
            kpm = kpm.reshape(N, 1, 1, S) if isinstance(kpm, Tensor) else kpm.reshape(N, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
        if mask is not None and not isinstance(mask, Tensor):
            mask = Tensor._wrap(mask)
        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = F.scaled_dot_product_attention(q, k, v, mask, p, return_weights=True)
        else:  # the fused op (one graph node) when the weights are not wanted
            out = F.scaled_dot_product_attention(q, k, v, mask, p)
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
