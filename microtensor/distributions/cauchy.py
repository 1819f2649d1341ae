"""Cauchy: the Lorentz distribution with median `loc` and half-width `scale`."""

from __future__ import annotations

import math

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Cauchy(loc, scale, validate_args=None): density 1 / (pi scale (1 + ((x - loc) / scale)^2)).

    It has no mean (NaN) and infinite variance. rsample() is loc + eps * scale
    with eps from PyTorch's `cauchy_()` stream, differentiable in loc and scale.

        d = Cauchy(mt.tensor([0.0]), mt.tensor([1.0]))
        d.sample()
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = Size() if _is_number(loc) and _is_number(scale) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with loc and scale expanded to batch_shape."""
        return self._expanded(Cauchy, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        """NaN: the Cauchy distribution has no mean."""
        import microtensor as mt

        return mt.full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def variance(self) -> Tensor:
        """inf."""
        import microtensor as mt

        return mt.full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + eps * scale, eps standard Cauchy: differentiable in loc and scale."""
        import microtensor as mt

        eps = mt.empty(tuple(self._extended_shape(sample_shape)), dtype=self.loc.dtype).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        """-log(pi) - log(scale) - log1p(((value - loc) / scale)^2)."""
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value) -> Tensor:
        """atan((value - loc) / scale) / pi + 0.5."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        """tan(pi (value - 0.5)) scale + loc."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        """log(4 pi) + log(scale)."""
        return math.log(4 * math.pi) + self.scale.log()
