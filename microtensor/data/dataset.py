"""Datasets, as torch.utils.data names them: Dataset, TensorDataset, Subset, random_split."""

from __future__ import annotations

import math
from collections.abc import Sequence
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
