"""Samplers, as torch.utils.data names them: the orders in which a DataLoader visits a dataset.

A sampler is an iterable of dataset indices (or, for a BatchSampler, of lists of indices).
The random ones draw exactly what PyTorch's draw, from the same MT19937 streams, so after
`mt.manual_seed(s)` (or with a Generator seeded alike) they give torch's indices:

- RandomSampler without a generator takes a 64-bit seed from the global generator (as
  `torch.empty((), dtype=torch.int64).random_()`) when its iteration starts, then draws
  from a new Generator seeded with it: `randperm(n)` per pass, or `randint(n)` in chunks
  of 32 with replacement.
- SubsetRandomSampler: `randperm(len(indices), generator=generator)` per pass.
- WeightedRandomSampler: `multinomial(weights as float64, num_samples, replacement)`.

Iteration is lazy, as PyTorch's generators: nothing is drawn until the first index is asked for.

The built-in samplers produce their indices as NumPy chunks (`_chunks`: one permutation, one
multinomial draw, ...), each drawn only when an index from it is first needed, exactly when
PyTorch's element-by-element generators draw it; `__iter__` flattens the chunks, and a
BatchSampler over such a sampler cuts batches straight from them (`_array_batches`), which the
DataLoader uses to index a TensorDataset without a Python int per sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from .. import random as _random
from ..creation import as_tensor
from ..tensor import Tensor

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _check_generator(generator: Any, who: str, numpy_ok: bool = False) -> None:
    kinds = (_random.Generator, np.random.Generator) if numpy_ok else (_random.Generator,)
    if generator is not None and not isinstance(generator, kinds):
        also = " (or a numpy.random.Generator)" if numpy_ok else ""
        raise TypeError(
            f"{who}: generator must be a microtensor.Generator{also}, got {type(generator).__name__}"
        )


class Sampler:
    """Base class of all samplers: an iterable of indices (or of lists of indices, for batches).

    A subclass defines `__iter__`, and `__len__` when the number of items it yields is known
    (the DataLoader's `len()` asks for it).
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _flatten(chunks: Iterator[np.ndarray]) -> Iterator[int]:
    for chunk in chunks:
        yield from chunk.tolist()


class SequentialSampler(Sampler):
    """The indices 0, 1, ..., len(data_source) - 1, in order, every pass."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def _chunks(self) -> Iterator[np.ndarray]:
        yield np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices of `data_source` in a random order: a new permutation every pass.

    RandomSampler(data_source, replacement=False, num_samples=None, generator=None)

    Without replacement it yields `num_samples` (default `len(data_source)`) indices taken
    from successive permutations; with replacement, `num_samples` uniform draws from
    `[0, len(data_source))`. Draws come from `generator`, or, when it is None, from a new
    Generator seeded from the global generator at the start of every pass, as PyTorch does,
    so `mt.manual_seed(s)` gives torch's order. A `numpy.random.Generator` is also accepted
    (NumPy's own `permutation` / `integers`; no PyTorch parity).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: _random.Generator | np.random.Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got replacement={replacement}"
            )
        _check_generator(generator, "RandomSampler", numpy_ok=True)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        n = self.num_samples
        if not _is_int(n) or n <= 0:
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got num_samples={n}"
            )

    @property
    def num_samples(self) -> int:
        """How many indices one pass yields: the `num_samples` given, else `len(data_source)`."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        return _flatten(self._chunks())

    def _chunks(self) -> Iterator[np.ndarray]:
        n = len(self.data_source)
        gen, private = self.generator, self.generator is None
        if isinstance(gen, np.random.Generator):
            yield from self._numpy_chunks(gen, n)
            return
        if private:  # PyTorch seeds a private generator from the global one, every pass
            seed = int(_random.default_generator._u64(1)[0] % np.uint64(2**63))
            gen = _random.Generator().manual_seed(seed)
        total = self.num_samples
        if self.replacement:
            # PyTorch draws in chunks of 32, then the remainder (a draw of zero takes nothing)
            for _ in range(total // 32):
                yield _random._random_from_to(gen, 32, np.dtype(np.int64), 0, n, "RandomSampler")
            yield _random._random_from_to(gen, total % 32, np.dtype(np.int64), 0, n, "RandomSampler")
        else:
            for _ in range(total // n):
                yield _random._permutation(gen, n)
            # PyTorch draws this last permutation even when it keeps none of it (total % n == 0),
            # so a shared generator's stream moves on as torch's does; a private one is thrown
            # away, so there the unseen draw is skipped (it costs as much as the epoch's own)
            if total % n or not private:
                yield _random._permutation(gen, n)[: total % n]

    def _numpy_chunks(self, gen: np.random.Generator, n: int) -> Iterator[np.ndarray]:
        total = self.num_samples
        if self.replacement:
            yield gen.integers(0, n, size=total)
        else:
            for _ in range(-(-total // n)):
                yield gen.permutation(n)[: min(n, total)]
                total -= n

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"RandomSampler(len(data_source)={len(self.data_source)}, replacement={self.replacement}, "
            f"num_samples={self.num_samples})"
        )


class SubsetRandomSampler(Sampler):
    """The given `indices`, in a new random order every pass (without replacement).

    SubsetRandomSampler(indices, generator=None)

    Each pass is `indices[i] for i in randperm(len(indices), generator=generator)`, drawn
    from the global generator when `generator` is None: PyTorch's order for the same seed.
    The typical use is a train/validation split of one dataset:

        perm = mt.randperm(len(ds)).tolist()
        train = DataLoader(ds, batch_size=32, sampler=SubsetRandomSampler(perm[:800]))
        val = DataLoader(ds, batch_size=32, sampler=SubsetRandomSampler(perm[800:]))
    """

    def __init__(self, indices: Sequence[int], generator: _random.Generator | None = None) -> None:
        _check_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        g = self.generator if self.generator is not None else _random.default_generator
        for i in _random._permutation(g, len(self.indices)).tolist():
            yield self.indices[i]

    def _chunks(self) -> Iterator[np.ndarray]:
        g = self.generator if self.generator is not None else _random.default_generator
        perm = _random._permutation(g, len(self.indices))
        idx = np.asarray(self.indices)
        if idx.ndim == 1 and idx.dtype.kind in "iu":
            yield idx.astype(np.int64, copy=False)[perm]
        else:  # indices NumPy cannot hold as ints (keys of a dict-like dataset, ...): kept as objects
            picked = np.empty(len(perm), dtype=object)
            picked[:] = [self.indices[i] for i in perm.tolist()]
            yield picked

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices of `[0, len(weights))` drawn with probabilities proportional to `weights`.

    WeightedRandomSampler(weights, num_samples, replacement=True, generator=None)

    Each pass is `multinomial(weights, num_samples, replacement, generator=generator)` with
    the weights as float64, as PyTorch: the same seed gives torch's indices. Without
    replacement an index appears at most once (so `num_samples <= len(weights)`). Weights
    need not sum to one; the classic use balances classes with `1 / count[label]` per sample.
    """

    def __init__(
        self,
        weights: Sequence[float] | Tensor | np.ndarray,
        num_samples: int,
        replacement: bool = True,
        generator: _random.Generator | None = None,
    ) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                "WeightedRandomSampler: num_samples should be a positive integer value, "
                f"but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                "WeightedRandomSampler: replacement should be a boolean value, "
                f"but got replacement={replacement}"
            )
        _check_generator(generator, "WeightedRandomSampler")
        w = as_tensor(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                "WeightedRandomSampler: weights should be a 1d sequence but given weights have shape "
                f"{tuple(w.shape)}"
            )
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        return _flatten(self._chunks())

    def _chunks(self) -> Iterator[np.ndarray]:
        # checked when the pass starts (PyTorch's multinomial complains then), before any draw
        self._check_weights()
        g = self.generator
        yield _random.multinomial(self.weights, self.num_samples, self.replacement, generator=g).numpy()

    def _check_weights(self) -> None:
        w = self.weights.numpy()
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise RuntimeError(
                "WeightedRandomSampler: weights must be finite and non-negative, "
                f"got {w[bad[0]]} at index {bad[0]}"
            )
        if not w.sum() > 0:
            raise RuntimeError(
                f"WeightedRandomSampler: weights sum to 0 ({w.size} weights); one must be positive"
            )
        if not self.replacement and self.num_samples > w.size:
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw num_samples={self.num_samples} without replacement "
                f"from {w.size} weights"
            )

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of `sampler` into lists of `batch_size`.

    BatchSampler(sampler, batch_size, drop_last)

    The last list is shorter when the sampler's length is not a multiple of `batch_size`,
    unless `drop_last=True` drops it. `sampler` may be any iterable of indices.

        >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                "BatchSampler: batch_size should be a positive integer value, "
                f"but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        if type(self.sampler) in _CHUNKED:
            for batch in self._array_batches():
                yield batch.tolist()
            return
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def _array_batches(self) -> Iterator[np.ndarray]:
        """The batches as int64 arrays, cut from the sampler's chunks.

        A chunk is asked for only when the batch being built needs more indices, which is
        when PyTorch's element-by-element BatchSampler would pull them, so draws happen at
        the same moments (the final, empty pull included).
        """
        bs, pending = self.batch_size, np.zeros(0, np.int64)
        for chunk in self.sampler._chunks():  # type: ignore[union-attr]
            pending = np.concatenate([pending, chunk]) if pending.size else chunk
            while pending.size >= bs:
                yield pending[:bs]
                pending = pending[bs:]
        if pending.size and not self.drop_last:
            yield pending

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# samplers whose indices come as lazily drawn NumPy chunks (exact types: a subclass may override __iter__)
_CHUNKED = (SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler)
