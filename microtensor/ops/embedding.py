"""Embedding lookup: rows of a weight table picked by integer indices.

The forward is a gather (weight[indices]); its derivative scatters the incoming rows back into a
zero table, adding where an index repeats (the same row used twice receives both gradients), and
leaving the padding row's gradient at zero, as PyTorch's embedding_backward does.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper


class Embedding(Op):
    """weight[indices]: indices of any shape (...) pick rows of weight (num, dim) -> (..., dim)."""

    role = "layer"
    __slots__ = ("indices", "padding_idx")
    derivatives = {"weight": "embedding_backward(grad, self.indices, weight.shape, self.padding_idx)"}

    def __init__(self, indices: np.ndarray, padding_idx: int | None = None):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        return weight[self.indices]


@helper
def embedding_backward(grad, indices, shape, padding_idx):
    """Rows of grad (..., dim) added into zeros(shape) at `indices`; the padding row gets none."""
    flat = indices.reshape(-1)
    rows = grad.reshape(flat.shape[0], shape[1])
    if padding_idx is not None:
        keep = (flat != padding_idx)[:, None]
        rows = _xp.where(keep, rows, 0.0 * rows) if isinstance(rows, Tensor) else rows * keep
    if isinstance(rows, Tensor):
        return _xp.index_add(rows, (flat,), tuple(shape))
    out = np.zeros(shape, dtype=grad.dtype)
    if flat.size == 0:
        return out
    # repeated indices accumulate: the rows grouped by index (a sort), each group summed by one
    # reduceat; ~10x faster than np.add.at for a batch of tokens, equal up to the summation order.
    # (indices are in [0, num): embedding() checks them)
    order = np.argsort(flat, kind="stable")
    keys = flat[order]
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    out[keys[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out
