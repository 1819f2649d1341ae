"""DataLoader: mini-batches of Tensors from a Dataset, shuffled reproducibly, as torch.utils.data."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.shape import stack
from ..tensor import Tensor, _to_array
from .dataset import Dataset, Subset, TensorDataset


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, keeping the samples' structure.

    Tensors and NumPy arrays are stacked along a new first dimension (keeping their
    dtype); Python ints become int64, floats float64 (as PyTorch), bools bool; NumPy
    scalars keep their dtype; tuples, lists and dicts are collated field by field;
    strings are gathered into a list.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_shapes([s.shape for s in batch], "Tensors")
        if any(s.requires_grad for s in batch):
            return stack(list(batch))  # keep the graph, as torch.stack does
        return Tensor._wrap(np.stack([s._data for s in batch]))
    if isinstance(elem, np.ndarray):
        _check_shapes([np.shape(s) for s in batch], "arrays")
        return Tensor._wrap(_to_array(np.stack(batch)))
    if isinstance(elem, np.generic):
        return Tensor._wrap(_to_array(np.asarray(batch)))
    if isinstance(elem, float):  # as PyTorch: Python floats are double precision, so the batch is float64
        return Tensor._wrap(_to_array(list(batch), np.float64))
    if isinstance(elem, bool | int):
        return Tensor._wrap(_to_array(list(batch)))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([s[key] for s in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(s) for s in batch}
        if len(sizes) != 1:
            raise RuntimeError(f"default_collate: samples in a batch have different lengths {sorted(sizes)}")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        "default_collate: samples must contain Tensors, NumPy arrays, numbers, strings, "
        f"dicts, tuples or lists; got {type(elem).__name__}"
    )


def _check_shapes(shapes: list, what: str) -> None:
    for i, s in enumerate(shapes):
        if tuple(s) != tuple(shapes[0]):
            raise RuntimeError(
                f"default_collate: {what} in a batch must have equal shapes to be stacked, "
                f"got {tuple(shapes[0])} at sample 0 and {tuple(s)} at sample {i}"
            )


class DataLoader:
    """Iterate over `dataset` in mini-batches.

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, seed=None,
               collate_fn=None, pin_memory=False)

    With `shuffle=True` every epoch (every `iter(loader)`) visits each sample exactly
    once in a new random order drawn from `generator` (a `microtensor.Generator`, or a
    `numpy.random.Generator` for NumPy's own permutation), or from a Generator seeded once
    with `seed`, else from microtensor's global generator, so `mt.manual_seed(s)` makes a
    run reproducible. The draws are PyTorch's: each epoch takes one 64-bit draw (the base
    seed PyTorch gives its workers) from `generator` or the global generator, then the
    order is `randperm(n)` from `generator`, or, without one, from a new Generator seeded
    by a second draw from the global generator; so a seed gives torch's DataLoader order.
    `drop_last=True` drops a final batch smaller than `batch_size`. `pin_memory` is
    accepted and does nothing (there is no GPU to copy to).

    Batches are made by `collate_fn` (default: `default_collate`). For a `TensorDataset`
    (or a `Subset` of one) with the default collate, a batch is built by indexing the
    dataset's tensors with the batch's index array at once: `(t[idx] for t in tensors)`.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: _random.Generator | np.random.Generator | None = None,
        seed: int | None = None,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
    ):
        if not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator or seed, not both")
        if generator is not None and not isinstance(generator, _random.Generator | np.random.Generator):
            raise TypeError(
                "DataLoader: generator must be a microtensor.Generator (or a numpy.random.Generator), "
                f"got {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = _random.Generator().manual_seed(seed) if seed is not None else generator
        self.pin_memory = bool(pin_memory)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        gen = self.generator
        if isinstance(gen, np.random.Generator):
            return gen.permutation(n) if self.shuffle else np.arange(n)
        # PyTorch draws its workers' base seed at every iter(), shuffled or not
        (gen if gen is not None else _random.default_generator)._u64(1)
        if not self.shuffle:
            return np.arange(n)
        if gen is None:  # RandomSampler without a generator: a new one, seeded from the global one
            seed = int(_random.default_generator._u64(1)[0] % np.uint64(2**63))
            gen = _random.Generator().manual_seed(seed)
        return _random._permutation(gen, n)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, when the epoch starts, not at the first next().
        batches = self._batches(self._order())
        if self.shuffle and isinstance(self.generator, _random.Generator):
            return self._then_trailing_draw(batches, self.generator, len(self.dataset))
        return batches

    @staticmethod
    def _then_trailing_draw(batches: Iterator[Any], gen: _random.Generator, n: int) -> Iterator[Any]:
        yield from batches
        # PyTorch's RandomSampler, run to its end, draws one more permutation (of which it keeps
        # nothing) from the generator it was given; a shared generator's stream moves on alike
        _random._permutation(gen, n)

    def _batches(self, order: np.ndarray) -> Iterator[Any]:
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        fast = self._tensor_source()
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if fast is not None:
                tensors, base = fast
                rows = base[idx] if base is not None else idx
                yield tuple(t[rows] if t.requires_grad else Tensor._wrap(t._data[rows]) for t in tensors)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])

    def _tensor_source(self) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
        """The tensors behind a TensorDataset (through any Subsets) for the vectorised path."""
        if self.collate_fn is not default_collate:
            return None
        ds, base = self.dataset, None
        while type(ds) is Subset:
            base = ds.indices if base is None else ds.indices[base]
            ds = ds.dataset
        if not isinstance(ds, TensorDataset) or type(ds).__getitem__ is not TensorDataset.__getitem__:
            return None
        return ds.tensors, base

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
