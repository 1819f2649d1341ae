"""Variable-length batches for recurrent layers, as torch.nn.utils.rnn.

A PackedSequence stores the time steps of a batch of sequences one after another, each step
holding only the sequences still running (sorted longest first), so an RNN never computes on
padding:

>>> packed = pack_padded_sequence(padded, lengths=[3, 1], batch_first=True)
>>> out, h = lstm(packed)
>>> out, lengths = pad_packed_sequence(out, batch_first=True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import creation
from ...ops.shape import cat, stack
from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """data (sum of lengths, *), batch_sizes (T,) int64 (how many sequences run at each step),
    sorted_indices / unsorted_indices (the permutation to longest-first and back, or None)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with data converted (as Tensor.to)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def double(self) -> PackedSequence:
        """The same packed batch with its data cast to float64 (`batch_sizes` and indices unchanged)."""
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        """The same packed batch with its data cast to float32 (`batch_sizes` and indices unchanged)."""
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        """False: microtensor runs on the CPU."""
        return False


def _lengths(lengths, op: str) -> np.ndarray:
    arr = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    arr = arr.reshape(-1).astype(np.int64)
    if arr.size and arr.min() <= 0:
        raise RuntimeError(f"{op}: every length must be positive, got lengths {arr.tolist()}")
    return arr


def _invert(perm: np.ndarray) -> np.ndarray:
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return inv


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the given lengths.

    enforce_sorted=True requires lengths in decreasing order; otherwise the batch is sorted here
    and the permutation kept in the result (and undone by pad_packed_sequence and the RNNs' h_n).
    """
    op = "pack_padded_sequence"
    lens = _lengths(lengths, op)
    B = input.shape[0 if batch_first else 1]
    if lens.size != B:
        raise RuntimeError(f"{op}: expected {B} lengths (the batch size), got {lens.size}")
    T = input.shape[1 if batch_first else 0]
    if lens.size and lens.max() > T:
        raise RuntimeError(f"{op}: a length of {lens.max()} exceeds the {T} time steps of the input")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True, "
                f"got {lens.tolist()}; pass enforce_sorted=False to sort them here"
            )
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
    slens = lens if order is None else lens[order]
    batch_sizes = (slens[None, :] > np.arange(slens[0] if slens.size else 0)[:, None]).sum(1)
    t_idx = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    b_sorted = (
        np.concatenate([np.arange(n) for n in batch_sizes]) if batch_sizes.size else np.zeros(0, np.int64)
    )
    b_idx = b_sorted if order is None else order[b_sorted]
    data = input[b_idx, t_idx] if batch_first else input[t_idx, b_idx]
    sorted_t = unsorted_t = None
    if order is not None:
        sorted_t, unsorted_t = (
            Tensor._wrap(order.astype(np.int64)),
            Tensor._wrap(_invert(order).astype(np.int64)),
        )
    return PackedSequence(data, Tensor._wrap(batch_sizes.astype(np.int64)), sorted_t, unsorted_t)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
):
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths (B,) int64),
    in the batch's original order."""
    op = "pad_packed_sequence"
    data, bs = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    T, B = bs.size, int(bs[0]) if bs.size else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                f"{op}: total_length {total_length} is less than the longest sequence length {T}"
            )
        T = total_length
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(1)  # per sorted sequence
    # the row of data holding step t of sorted sequence b; padding points at one extra row
    starts = np.concatenate([[0], np.cumsum(bs)[:-1]]) if bs.size else np.zeros(0, np.int64)
    rows = np.full((T, B), data.shape[0], np.int64)
    for t in range(bs.size):
        rows[t, : bs[t]] = starts[t] + np.arange(bs[t])
    if sequence.unsorted_indices is not None:
        rows = rows[:, sequence.unsorted_indices._data]
        lens = lens[sequence.unsorted_indices._data]
    pad = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, pad], 0)[rows.T if batch_first else rows]
    return padded, Tensor._wrap(lens.astype(np.int64))


def pad_sequence(
    sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) ((B, max L, *) with batch_first),
    padding the short ones with padding_value on the right (or the left)."""
    op = "pad_sequence"
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    tail = tuple(seqs[0].shape[1:])
    for s in seqs:
        if tuple(s.shape[1:]) != tail:
            raise RuntimeError(f"{op}: every sequence must have trailing shape {tail}, got {tuple(s.shape)}")
    T = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        n = T - s.shape[0]
        if n:
            fill = creation.full((n, *tail), padding_value, dtype=s.dtype)
            s = cat([s, fill], 0) if padding_side == "right" else cat([fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly (pad_sequence then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences (L_i, *) inside a padded batch (the inverse of pad_sequence)."""
    lens = _lengths(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, : int(n)] for i, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences inside a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
