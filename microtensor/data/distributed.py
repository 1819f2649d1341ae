"""DistributedSampler, as torch.utils.data names it: one replica's share of a dataset per epoch."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from .. import random as _random
from .sampler import Sampler, _is_int

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices replica `rank` of `num_replicas` works on: every num_replicas-th index from `rank`.

    DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False)

    With `shuffle=True` the order is `randperm(len(dataset))` from a Generator seeded with
    `seed + epoch`, the same in every replica, so the replicas' shares never overlap and a
    seed gives PyTorch's shares; call `set_epoch(epoch)` before each epoch for a new order.
    The list is padded by repeating its start until every replica gets the same number of
    indices, or, with `drop_last=True`, cut to a multiple of num_replicas.

    microtensor has no process groups, so `num_replicas` and `rank` must be given (PyTorch
    reads them from torch.distributed when they are None).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            raise RuntimeError(
                "DistributedSampler: requires distributed package to be available; microtensor has no "
                "torch.distributed, so pass num_replicas and rank "
                f"(got num_replicas={num_replicas}, rank={rank})"
            )
        if not _is_int(num_replicas) or num_replicas <= 0:
            raise ValueError(
                f"DistributedSampler: num_replicas should be a positive int, got {num_replicas!r}"
            )
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank}, "
                f"rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            # the largest share that every replica can fill without repeating an index
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = _random.Generator().manual_seed(self.seed + self.epoch)
            indices = _random._permutation(g, n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        elif n:
            # pad with the list's own start, repeated as often as needed, to total_size
            pad = self.total_size - n
            indices += (indices * math.ceil(pad / n))[:pad]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with shuffle=True the next pass's order is drawn with seed + epoch."""
        self.epoch = epoch
