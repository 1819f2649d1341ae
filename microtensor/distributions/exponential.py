"""Exponential: waiting times with rate `rate` (mean 1 / rate)."""

from __future__ import annotations

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _is_number, broadcast_all

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Exponential(rate, validate_args=None): density rate * exp(-rate x) on x >= 0.

    rsample() is Exp(1) draws divided by rate (PyTorch's `exponential_()` stream),
    differentiable in rate.

        d = Exponential(mt.tensor([1.0, 2.0]))
        d.rsample((3,))                # shape (3, 2)
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if _is_number(rate) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with rate expanded to batch_shape."""
        return self._expanded(Exponential, batch_shape, _instance, "rate")

    @property
    def mean(self) -> Tensor:
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        """0."""
        import microtensor as mt

        return mt.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        """rate ** -2."""
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()) -> Tensor:
        """Exp(1) draws / rate: differentiable in rate."""
        import microtensor as mt

        shape = tuple(self._extended_shape(sample_shape))
        return mt.empty(shape, dtype=self.rate.dtype).exponential_() / self.rate

    def log_prob(self, value) -> Tensor:
        """log(rate) - rate * value."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        """1 - exp(-rate * value)."""
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value) -> Tensor:
        """-log1p(-value) / rate."""
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        """1 - log(rate)."""
        return 1.0 - self.rate.log()

    @property
    def _natural_params(self) -> tuple:
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()
