"""Datasets, as torch.utils.data names them.

Map-style: Dataset, TensorDataset, Subset, ConcatDataset (also `a + b`), StackDataset, random_split.
Iterable-style (a stream, no indices): IterableDataset, ChainDataset (also `a + b`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor, _to_array


class Dataset:
    """A map-style data set: `dataset[i]` is the i-th sample and `len(dataset)` the number of samples.

    Subclasses override `__getitem__` and `__len__` (the DataLoader needs both).
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        """`a + b`: the samples of `a`, then those of `b` (a ConcatDataset)."""
        return ConcatDataset([self, other])


class IterableDataset(Dataset, Iterable):
    """A stream of samples: subclasses define `__iter__` (and need no indices or length).

    A DataLoader over an IterableDataset takes the samples in the order the stream gives
    them, batching `batch_size` consecutive samples (the last batch shorter unless
    `drop_last`); it takes no sampler and no `shuffle=True`. `a + b` chains two streams
    (a ChainDataset).

        class Countdown(IterableDataset):
            def __init__(self, n):
                self.n = n
            def __iter__(self):
                return iter(range(self.n, 0, -1))
    """

    # __iter__ stays abstract (from Iterable): as in PyTorch, a subclass without one cannot be built

    def __len__(self) -> int:
        # as PyTorch, where an IterableDataset has no length unless a subclass gives one
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other: Dataset) -> ChainDataset:
        """`a + b`: the stream of `a`, then that of `b` (a ChainDataset)."""
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: `dataset[i] == (t[i] for t in tensors)`.

    All tensors must have the same size in their first dimension. NumPy arrays are
    accepted and wrapped without copying (keeping their dtype).
    """

    def __init__(self, *tensors: Tensor | np.ndarray):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        ts = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                if not isinstance(t, np.ndarray):
                    raise TypeError(
                        f"TensorDataset: argument {i} must be a Tensor or a NumPy array, "
                        f"got {type(t).__name__}"
                    )
                t = Tensor._wrap(_to_array(t))
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; each needs a first dimension")
            ts.append(t)
        n = ts[0].shape[0]
        for i, t in enumerate(ts):
            if t.shape[0] != n:
                raise ValueError(
                    "TensorDataset: size mismatch between tensors: tensor 0 has "
                    f"{n} samples (shape {tuple(ts[0].shape)}) but tensor {i} has "
                    f"{t.shape[0]} (shape {tuple(t.shape)})"
                )
        self.tensors: tuple[Tensor, ...] = tuple(ts)

    def __getitem__(self, index) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in self.tensors)
        return f"{type(self).__name__}({len(self)} samples: {shapes})"


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray):
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of ints, got {idx.dtype} of shape {idx.shape}"
            )
        self.dataset = dataset
        self.indices = idx.astype(np.int64, copy=False)

    def __getitem__(self, index: int):
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other: index i runs through them in order.

    ConcatDataset(datasets)

    `cumulative_sizes[k]` is the number of samples in datasets[0..k]. Negative indices
    count from the end, as for a list.
    """

    @staticmethod
    def cumsum(sequence: Iterable[Dataset]) -> list[int]:
        """The running totals of the lengths of `sequence`'s datasets."""
        totals, s = [], 0
        for d in sequence:
            s += len(d)
            totals.append(s)
        return totals

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise AssertionError(
                    f"ConcatDataset does not support IterableDataset (dataset {i} is a {type(d).__name__}); "
                    "use ChainDataset to join streams"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(
                    f"ConcatDataset: absolute value of index should not exceed dataset length ({idx} for {n})"
                )
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} samples")
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


class ChainDataset(IterableDataset):
    """Several IterableDatasets streamed one after the other, lazily.

    ChainDataset(datasets)
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            _check_iterable(d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            _check_iterable(d)
            total += len(d)
        return total


def _check_iterable(d: Any) -> None:
    if not isinstance(d, IterableDataset):
        raise AssertionError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")


class StackDataset(Dataset):
    """Several map-style datasets of equal length side by side: sample i holds each one's sample i.

    StackDataset(*datasets) gives tuples, StackDataset(**datasets) dicts:

        pairs = StackDataset(images, labels)        # pairs[i] == (images[i], labels[i])
        named = StackDataset(image=images, label=labels)  # named[i] == {"image": ..., "label": ...}
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: supported either tuple-like (via args) or dict-like (via kwargs) "
                "input/output, but both types are given"
            )
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        lengths = [len(d) for d in parts]
        if any(n != lengths[0] for n in lengths):
            names = [f"{i}" for i in range(len(args))] if args else list(kwargs)
            raise ValueError(
                "StackDataset: size mismatch between datasets: "
                + ", ".join(f"{k}: {n}" for k, n in zip(names, lengths))
            )
        self._length = lengths[0]
        self.datasets: tuple | dict = tuple(args) if args else dict(kwargs)

    def __getitem__(self, index: int) -> tuple | dict:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: _random.Generator | np.random.Generator | None = None,
) -> list[Subset]:
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    `lengths` are counts summing to `len(dataset)`, or fractions summing to 1 (the
    remainder after flooring is dealt one by one to the first subsets, as PyTorch does).
    The permutation is `randperm(len(dataset), generator=generator)`, from the global
    generator when none is given, so a seed gives PyTorch's split; a NumPy Generator is
    also accepted (its own permutation).

        >>> g = mt.Generator().manual_seed(42)
        >>> a, b = random_split(TensorDataset(mt.arange(10)), [7, 3], generator=g)
        >>> len(a), len(b)
        (7, 3)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        if any(not 0.0 <= x <= 1.0 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, int | np.integer) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset's length ({n}) "
            f"or fractions summing to 1, got {lengths}"
        )
    if isinstance(generator, np.random.Generator):
        perm = generator.permutation(n)
    elif generator is None or isinstance(generator, _random.Generator):
        perm = _random._permutation(generator if generator is not None else _random.default_generator, n)
    else:
        raise TypeError(
            "random_split: generator must be a microtensor.Generator (or a numpy.random.Generator), "
            f"got {type(generator).__name__}"
        )
    offsets = np.cumsum([0, *lengths])
    return [Subset(dataset, perm[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
