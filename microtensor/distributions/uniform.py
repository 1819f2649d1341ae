"""Uniform: the continuous uniform distribution on the half-open interval [low, high)."""

from __future__ import annotations

import math

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """Uniform draws from [low, high): Uniform(low, high, validate_args=None).

    rsample() is low + rand * (high - low) (PyTorch's construction and stream),
    differentiable in low and high; log_prob is -log(high - low) inside the
    interval and -inf outside.

        d = Uniform(mt.tensor([0.0]), mt.tensor([5.0]))
        d.sample()                      # in [0, 5)
    """

    has_rsample = True

    @property
    def arg_constraints(self) -> dict:
        """low below high, high above low."""
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        batch_shape = Size() if _is_number(low) and _is_number(high) else self.low.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with low and high expanded to batch_shape."""
        return self._expanded(Uniform, batch_shape, _instance, "low", "high")

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        """The interval [low, high]."""
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        """(high + low) / 2."""
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        """NaN (every point of the interval is a mode), of high's shape."""
        return math.nan * self.high

    @property
    def stddev(self) -> Tensor:
        """(high - low) / sqrt(12)."""
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self) -> Tensor:
        """(high - low)**2 / 12."""
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()) -> Tensor:
        """low + rand * (high - low): differentiable in low and high."""
        import microtensor as mt

        shape = self._extended_shape(sample_shape)
        rand = mt.rand(tuple(shape), dtype=self.low.dtype)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        """-log(high - low) where low <= value < high, -inf elsewhere."""
        if self._validate_args:
            self._validate_sample(value)
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return lb.mul(ub).log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        """(value - low) / (high - low), clamped to [0, 1]."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        """value * (high - low) + low."""
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        """log(high - low)."""
        return (self.high - self.low).log()
