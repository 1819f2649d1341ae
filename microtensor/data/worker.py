"""DataLoader workers, run in the main process: `get_worker_info`, `WorkerInfo`, per-worker random state.

PyTorch's DataLoader with `num_workers > 0` loads batches in worker processes. Each worker
holds a copy of the dataset, seeds its own random generators (torch's with
`base_seed + worker_id`, Python's `random` alike, NumPy's legacy global one with a hash of
both), calls `worker_init_fn(worker_id)`, and then fetches the batches it is sent; the main
process hands out batches to workers in turn and returns them in order.

microtensor keeps all of that except the processes: a `_Worker` is a dataset copy, a fetcher
and saved random states, and fetching a batch "in" a worker swaps its random states in and
the main process's out, so that a dataset drawing random numbers (augmentation) sees the
numbers it would see in PyTorch's worker and leaves the main process's streams untouched.
"""

from __future__ import annotations

import copy
import random as _pyrandom
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info: WorkerInfo | None = None


@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a DataLoader worker.

    id: this worker's id (0 to num_workers - 1); num_workers: how many there are; seed: the
    seed its global generator was given (the pass's base seed + id); dataset: this worker's
    own copy of the dataset (a shallow copy: setting its attributes, as a sharding
    `worker_init_fn` does, affects only this worker).
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


def get_worker_info() -> WorkerInfo | None:
    """The current DataLoader worker's WorkerInfo while a worker fetches data; None in the main process.

    Use it in an IterableDataset's `__iter__` (or in `worker_init_fn`) to give each worker its
    own share of a stream; with `num_workers=0` it is None and the dataset yields everything.
    """
    return _worker_info


def _numpy_seed(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words PyTorch seeds a worker's NumPy global generator with.

    A small hash in the manner of NumPy's SeedSequence: the entropy words (worker id, the
    two halves of the base seed, 0) are hashed into a pool, every pool word is mixed into
    every other, and the pool is hashed once more into the output.
    """
    m32 = 0xFFFFFFFF
    mult = {"a": 0x931E8875, "b": 0x58F38DED}
    const = {"a": 0x43B0D7E5, "b": 0x8B51F9DD}

    def hashed(value: int, which: str) -> int:
        v = (value ^ const[which]) & m32
        const[which] = (const[which] * mult[which]) & m32
        v = (v * const[which]) & m32
        return v ^ (v >> 16)

    def mixed(x: int, y: int) -> int:
        r = ((0xCA01F9DD * x) - (0x4973F715 * y)) & m32
        return r ^ (r >> 16)

    pool = [hashed(e, "a") for e in (worker_id, base_seed & m32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mixed(pool[dst], hashed(pool[src], "a"))
    return [hashed(p, "b") for p in pool]


class _Worker:
    """One simulated worker: its dataset copy, its fetch function and its saved random states."""

    def __init__(self, worker_id: int, num_workers: int, base_seed: int, dataset: Any,
                 init_fn: Callable[[int], None] | None, make_fetch: Callable[[Any], Callable]):  # fmt: skip
        self.id = worker_id
        self.ended = False
        self.info = WorkerInfo(worker_id, num_workers, base_seed + worker_id, copy.copy(dataset))
        # the states a fresh worker process starts from: seeded as PyTorch seeds its workers
        self.generator = _random.Generator().manual_seed(self.info.seed)
        main = _save()
        _pyrandom.seed(self.info.seed)
        np.random.seed(_numpy_seed(base_seed, worker_id))
        self.states = _save()
        _restore(main)
        self.fetch = self.run(self._init, init_fn, make_fetch)

    def _init(self, init_fn: Callable[[int], None] | None, make_fetch: Callable[[Any], Callable]) -> Callable:
        if init_fn is not None:
            init_fn(self.id)
        return make_fetch(self.info.dataset)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` as this worker: its random states and WorkerInfo in place, the main process's after."""
        global _worker_info
        main = _save()
        _restore(self.states)
        _random.default_generator._swap(self.generator)  # the worker's stream becomes the global one
        _worker_info = self.info
        try:
            return fn(*args)
        finally:
            _worker_info = None
            _random.default_generator._swap(self.generator)
            self.states = _save()
            _restore(main)


def _save() -> tuple:
    """Python's and NumPy's global random states (microtensor's generator is swapped, not copied)."""
    return _pyrandom.getstate(), np.random.get_state()


def _restore(states: tuple) -> None:
    _pyrandom.setstate(states[0])
    np.random.set_state(states[1])
