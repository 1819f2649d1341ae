"""Laplace: the double-exponential distribution with location `loc` and scale `scale`."""

from __future__ import annotations

import math

import numpy as np

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace(loc, scale, validate_args=None): density exp(-|x - loc| / scale) / (2 scale).

    rsample() inverts the CDF at uniforms drawn on [eps - 1, 1) (PyTorch's
    construction and stream): loc - scale * sign(u) * log1p(-|u|), differentiable
    in loc and scale. The uniforms are PyTorch's; on 16 or more elements PyTorch's
    vectorised log1p can round the last bit differently from NumPy's.

        d = Laplace(mt.tensor([0.0]), mt.tensor([1.0]))
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
        return self._expanded(Laplace, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def variance(self) -> Tensor:
        """2 scale**2."""
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        """sqrt(2) scale."""
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        """loc - scale * sign(u) * log1p(-|u|) for u uniform on [eps - 1, 1): differentiable in loc, scale."""
        import microtensor as mt

        shape = tuple(self._extended_shape(sample_shape))
        eps = float(np.finfo(self.loc.dtype).eps)
        # the lower bound eps - 1 keeps |u| < 1, so log1p(-|u|) is finite
        u = mt.empty(shape, dtype=self.loc.dtype).uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value) -> Tensor:
        """-log(2 scale) - |value - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        """0.5 - 0.5 sign(value - loc) expm1(-|value - loc| / scale)."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value) -> Tensor:
        """loc - scale sign(value - 0.5) log1p(-2 |value - 0.5|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
