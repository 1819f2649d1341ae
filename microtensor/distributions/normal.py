"""Normal: the Gaussian distribution with mean `loc` and standard deviation `scale`."""

from __future__ import annotations

import math

from .. import autograd
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _is_number, _standard_normal, broadcast_all

__all__ = ["Normal"]


class Normal(ExponentialFamily):
    """The normal (Gaussian) distribution: Normal(loc, scale, validate_args=None).

    loc and scale are floats or tensors (broadcast together; the batch shape is
    their broadcast shape, () if both are floats). sample() draws as
    `normal(loc.expand(shape), scale.expand(shape))`; rsample() as
    loc + eps * scale with eps standard normal, so it carries gradients to loc
    and scale. Both draw PyTorch's numbers after the same manual_seed.

        d = Normal(mt.tensor([0.0]), mt.tensor([1.0]))
        x = d.rsample((4,))          # shape (4, 1), differentiable in loc and scale
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = Size() if _is_number(loc) and _is_number(scale) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with loc and scale expanded to batch_shape."""
        return self._expanded(Normal, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def stddev(self) -> Tensor:
        """scale."""
        return self.scale

    @property
    def variance(self) -> Tensor:
        """scale squared."""
        return self.stddev.pow(2)

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape sample_shape + batch_shape, outside the graph."""
        import microtensor as mt

        shape = self._extended_shape(sample_shape)
        with autograd.no_grad():
            return mt.normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + eps * scale with eps standard normal: differentiable in loc and scale."""
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        """-(value - loc)**2 / (2 scale**2) - log(scale) - log(sqrt(2 pi))."""
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        log_scale = math.log(self.scale) if _is_number(self.scale) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value) -> Tensor:
        """0.5 * (1 + erf((value - loc) / (scale sqrt 2)))."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value) -> Tensor:
        """loc + scale * sqrt(2) * erfinv(2 value - 1)."""
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        """0.5 + 0.5 log(2 pi) + log(scale)."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self) -> tuple:
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
