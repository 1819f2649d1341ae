"""Geometric: the number of failures before the first success in Bernoulli(probs) trials."""

from __future__ import annotations

import numpy as np

from .. import autograd
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Geometric"]


class Geometric(Distribution):
    """Geometric(probs=None, logits=None, validate_args=None): P(k) = (1 - p)^k p for k = 0, 1, ...

    Give exactly one of probs (in (0, 1]) or logits. sample() is
    floor(log(u) / log1p(-p)) for u uniform on [tiny, 1) (PyTorch's construction and stream).

        d = Geometric(mt.tensor([0.3]))
        d.sample((4,))                 # failures before the first success
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        given = probs if probs is not None else logits
        batch_shape = Size() if _is_number(given) else given.size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            valid = self.probs > 0  # beyond unit_interval: p = 0 never succeeds
            if not bool(valid.all()):
                value = self.probs
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} to be positive but found invalid values:\n{value[~valid]}"
                )

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameter expanded to batch_shape."""
        new = self._expanded(Geometric, batch_shape, _instance, "probs", "logits")
        return new

    @property
    def mean(self) -> Tensor:
        """1 / probs - 1."""
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        """0."""
        import microtensor as mt

        return mt.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        """(1 / probs - 1) / probs."""
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self) -> Tensor:
        """Log-odds of the clamped probs (when built from probs)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """sigmoid(logits) (when built from logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=()) -> Tensor:
        """floor(log(u) / log1p(-probs)) for u uniform on [tiny, 1), in probs' dtype."""
        import microtensor as mt

        shape = tuple(self._extended_shape(sample_shape))
        tiny = float(np.finfo(self.probs.dtype).tiny)  # u > 0, so log(u) is finite
        with autograd.no_grad():
            u = mt.empty(shape, dtype=self.probs.dtype).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value) -> Tensor:
        """value * log1p(-probs) + log(probs) (0 at probs = 1, value = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone()
        probs[(probs == 1) & (value == 0)] = 0  # 0 * log(0) counts as 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        """binary_cross_entropy_with_logits(logits, probs) / probs."""
        import microtensor.nn.functional as F

        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
