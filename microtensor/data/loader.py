"""DataLoader: mini-batches of Tensors from a Dataset, in a sampler's order, as torch.utils.data.

Also the collate functions: `default_collate`, which stacks samples into a batch, and
`default_convert`, which only turns NumPy arrays into Tensors. Workers live in worker.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.shape import stack
from ..tensor import Tensor, _to_array
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import _CHUNKED, BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import _Worker


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


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays and NumPy scalars inside `data` into Tensors, keeping its structure.

    The collate function of a DataLoader with `batch_size=None` (no batching): each sample
    goes through it alone. Tensors and everything that is not NumPy are returned as they
    are; mappings and lists are converted element by element into a copy of the same type;
    a namedtuple stays one, and a plain tuple becomes a list (as PyTorch). NumPy arrays of
    strings or objects are left alone.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray | np.generic) and not isinstance(data, np.str_ | np.bytes_):
        if isinstance(data, np.ndarray) and data.dtype.kind in "OSUV":
            return data
        return Tensor._wrap(_to_array(np.asarray(data)))
    if isinstance(data, Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, MutableMapping):
                clone = copy.copy(data)  # a copy keeps a subclass's extra attributes
                clone.update(converted)
                return clone
            return type(data)(converted)
        except TypeError:  # a mapping type that cannot be copied or built from a dict
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # as PyTorch, which kept this for compatibility
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, MutableSequence):
                clone = copy.copy(data)
                clone[:] = converted
                return clone
            return type(data)(converted)
        except TypeError:  # e.g. range, which cannot be built from a list
            return converted
    return data


def _check_shapes(shapes: list, what: str) -> None:
    for i, s in enumerate(shapes):
        if tuple(s) != tuple(shapes[0]):
            raise RuntimeError(
                f"default_collate: {what} in a batch must have equal shapes to be stacked, "
                f"got {tuple(shapes[0])} at sample 0 and {tuple(s)} at sample {i}"
            )


class _InfiniteConstantSampler(Sampler):
    """The index sampler for an IterableDataset: None, forever (the stream decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterate over `dataset` in mini-batches, in the order a sampler gives.

    DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
               collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
               multiprocessing_context=None, generator=None, *, prefetch_factor=None,
               persistent_workers=False, pin_memory_device="", in_order=True, seed=None)

    The order: `sampler` (any iterable of indices with a length), else a RandomSampler when
    `shuffle=True`, else a SequentialSampler; indices are grouped by
    `BatchSampler(sampler, batch_size, drop_last)`, or `batch_sampler` gives whole lists of
    indices (then batch_size, shuffle, sampler and drop_last must keep their defaults).
    `batch_size=None` turns batching off: each sample goes through `collate_fn` (default
    `default_convert`) alone. The errors for conflicting options are PyTorch's.

    Randomness is PyTorch's, draw for draw: every `iter(loader)` takes one 64-bit draw (the
    base seed PyTorch gives its workers) from `generator`, or the global generator; a
    shuffling RandomSampler then draws its permutation from `generator`, or from a new
    Generator seeded from the global one, when the first batch is asked for. So
    `mt.manual_seed(s)` or a Generator seeded alike gives torch's order, epoch after epoch.
    `seed=` (microtensor's shorthand) is a Generator seeded once with it; a
    `numpy.random.Generator` is also accepted (NumPy's own permutations).

    An IterableDataset is read as a stream: `batch_size` consecutive samples per batch (the
    last shorter unless `drop_last`); it takes no sampler, batch_sampler or shuffle=True.

    Batches are made by `collate_fn` (default: `default_collate`). For a `TensorDataset` (or
    a `Subset` of one) with the default collate, a batch is built by indexing the dataset's
    tensors with the batch's index array at once: `(t[idx] for t in tensors)`.

    `num_workers > 0` runs PyTorch's workers in the main process, one after the other (see
    worker.py): each has its own copy of the dataset and its own random streams seeded as
    PyTorch seeds them, `worker_init_fn(worker_id)` runs in it and `get_worker_info()` answers
    in it, batches go to the workers in turn and come back in order, and
    `persistent_workers=True` keeps them between passes; so a dataset that augments at random
    or shards a stream by worker gives PyTorch's batches. Loading is not parallel, and each
    batch pays for swapping Python's and NumPy's global random states in and out, so
    `num_workers=0` is the fast choice when worker-side randomness does not matter.
    `pin_memory`, `timeout`, `multiprocessing_context` and `in_order` are checked and otherwise
    change nothing (there is no GPU, and batches always come back in order).
    """

    _initialized = False

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: _random.Generator | np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ):
        if not isinstance(num_workers, int | np.integer) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers option should be a non-negative int, got {num_workers!r}; "
                "use num_workers=0 to disable multiprocessing"
            )
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None"
            )
        if prefetch_factor is not None and prefetch_factor <= 0:
            # PyTorch accepts 0 here and fails when the workers start; a pass needs one batch ahead
            raise ValueError(f"DataLoader: prefetch_factor option should be positive, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "DataLoader: multiprocessing_context can only be used with multi-process loading "
                f"(num_workers > 0), but got num_workers={num_workers}"
            )
        if batch_size is not None and (
            not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) or batch_size <= 0
        ):
            raise ValueError(
                "DataLoader: batch_size should be a positive integer value or None, "
                f"but got batch_size={batch_size!r}"
            )
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator or seed, not both")
        if generator is not None and not isinstance(generator, _random.Generator | np.random.Generator):
            raise TypeError(
                "DataLoader: generator must be a microtensor.Generator (or a numpy.random.Generator), "
                f"got {type(generator).__name__}"
            )
        if seed is not None:
            generator = _random.Generator().manual_seed(seed)

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    f"sampler, and drop_last (got batch_size={batch_size}, shuffle={shuffle}, "
                    f"sampler={sampler}, drop_last={drop_last})"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching "
                "and is mutually exclusive with drop_last"
            )

        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = int(num_workers)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.timeout = timeout
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._workers = None  # the simulated workers, kept between passes with persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        # the index sampler was built from these: changing one later would silently not apply
        if self._initialized and name in _FROZEN:
            raise ValueError(f"DataLoader: {name} attribute should not be set after the DataLoader is built")
        super().__setattr__(name, value)

    @property
    def _index_sampler(self) -> Sampler | Iterable:
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # a stream without a length raises TypeError, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        """A new pass over the data: draws the base seed now and the order at the first batch."""
        return _WorkersIter(self) if self.num_workers > 0 else _DataLoaderIter(self)

    def __repr__(self) -> str:
        size = "a stream" if isinstance(self.dataset, IterableDataset) else f"{len(self.dataset)}"
        return (
            f"DataLoader({type(self.dataset).__name__} of {size}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})"
        )


def _base_seed(gen: _random.Generator | np.random.Generator | None) -> int:
    """The pass's base seed, as PyTorch's `torch.empty((), dtype=torch.int64).random_(generator=gen)`."""
    if isinstance(gen, np.random.Generator):
        return int(gen.integers(0, 2**63))
    return int((gen if gen is not None else _random.default_generator)._u64(1)[0] % np.uint64(2**63))


def _index_iter(loader: DataLoader) -> Iterator[Any]:
    index_sampler = loader._index_sampler
    if type(index_sampler) is BatchSampler and type(index_sampler.sampler) in _CHUNKED:
        # the same batches at the same draws, as int64 arrays (no Python int per sample)
        return index_sampler._array_batches()
    return iter(index_sampler)


class _Fetcher:
    """Turns an index (a batch's indices, or one index without batching) into data from `dataset`.

    For an IterableDataset the index only says how many samples to take from the stream;
    calling it raises StopIteration when the stream has nothing (more) to give.
    """

    def __init__(self, loader: DataLoader, dataset: Any):
        self.dataset = dataset
        self.collate_fn = loader.collate_fn
        self.drop_last = loader.drop_last
        self.auto_collation = loader.batch_sampler is not None
        self.stream = iter(dataset) if isinstance(dataset, IterableDataset) else None
        self.ended = False
        self.fast = self._tensor_source() if self.auto_collation else None

    def __call__(self, index: Any) -> Any:
        if self.stream is not None:
            return self._from_stream(index)
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast is not None:
            tensors, base = self.fast
            idx = np.asarray(index, dtype=np.int64)
            rows = base[idx] if base is not None else idx
            return tuple(t[rows] if t.requires_grad else Tensor._wrap(t._data[rows]) for t in tensors)
        if isinstance(index, np.ndarray):
            index = index.tolist()  # a dataset gets Python ints, as from PyTorch's samplers
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(samples)

    def _from_stream(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.stream))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)

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


class _DataLoaderIter:
    """One pass of a DataLoader without workers: the index sampler's iterator and a fetcher."""

    def __init__(self, loader: DataLoader):
        self._loader = loader
        self._sampler_iter = _index_iter(loader)
        if not isinstance(loader.generator, np.random.Generator):
            # PyTorch draws its workers' base seed at every iter(), with workers or not
            _base_seed(loader.generator)
        self._fetch = _Fetcher(loader, loader.dataset)

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self) -> Any:
        index = next(self._sampler_iter)  # StopIteration ends the pass
        return self._fetch(index)


class _WorkersIter(_DataLoaderIter):
    """One pass of a DataLoader with `num_workers` workers, simulated in the main process.

    As PyTorch's in-order multi-process loader: `prefetch_factor * num_workers` batches of
    indices are handed out when the pass starts and one more each time a batch is returned,
    to the workers in turn (skipping those whose stream has ended); batches come back in the
    order they were handed out. A batch is fetched when it is returned, in its worker (see
    worker.py), which gives the same data as PyTorch's workers fetching ahead of time.
    """

    def __init__(self, loader: DataLoader):
        self._loader = loader
        n = loader.num_workers
        workers = loader._workers if loader.persistent_workers else None
        if workers is None:
            iter(loader._index_sampler)  # PyTorch builds (and drops) one sampler iterator more here
            base_seed = _base_seed(loader.generator)
            self._sampler_iter = _index_iter(loader)
            workers = [
                _Worker(
                    w, n, base_seed, loader.dataset, loader.worker_init_fn, lambda ds: _Fetcher(loader, ds)
                )
                for w in range(n)
            ]
            if loader.persistent_workers:
                loader._workers = workers
        else:  # persistent workers keep their random states and datasets; only the streams restart
            self._sampler_iter = _index_iter(loader)
            for worker in workers:
                worker.fetch = worker.run(_Fetcher, loader, worker.info.dataset)
        self._workers = workers
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._active = [True] * n
        self._turn = itertools.cycle(range(n))
        self._tasks: dict[int, tuple[int, Any]] = {}
        self._sent = self._received = 0
        for _ in range(loader.prefetch_factor * n):
            self._hand_out()

    def _hand_out(self) -> None:
        """Give the next batch of indices to the next active worker, as PyTorch's _try_put_index."""
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            w = next(self._turn)
            if self._active[w]:
                break
        else:  # no worker left: PyTorch drops the index too
            return
        self._tasks[self._sent] = (w, index)
        self._sent += 1

    def __next__(self) -> Any:
        while True:
            while self._received < self._sent and not self._active[self._tasks[self._received][0]]:
                del self._tasks[self._received]  # handed to a worker whose stream ended: never filled
                self._received += 1
            if self._received == self._sent:
                raise StopIteration
            w, index = self._tasks.pop(self._received)
            self._received += 1
            worker = self._workers[w]
            try:
                data = worker.run(worker.fetch, index)
            except StopIteration:
                if not self._iterable:
                    raise
                self._active[w] = False  # this worker's stream is done; the others go on
                self._hand_out()
                continue
            self._hand_out()
            return data
