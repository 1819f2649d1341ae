"""Gumbel: the extreme-value distribution with location `loc` and scale `scale`."""

from __future__ import annotations

import math

import numpy as np

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import _is_number, broadcast_all, euler_constant

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Gumbel(loc, scale, validate_args=None): loc - scale * log(-log(U)) for U uniform on (0, 1).

    Built as PyTorch builds it: a Uniform on [tiny, 1 - eps] pushed through
    log, negation, log and the affine map x -> loc - scale x. The uniforms are PyTorch's;
    PyTorch's float32 log can round the last bit differently from NumPy's.

        d = Gumbel(mt.tensor([0.0]), mt.tensor([1.0]))
        d.rsample((3,))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        import microtensor as mt

        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = np.finfo(self.loc.dtype)
        tiny, top = float(finfo.tiny), 1 - float(finfo.eps)
        if _is_number(loc) and _is_number(scale):
            base_dist = Uniform(tiny, top, validate_args=validate_args)
        else:
            base_dist = Uniform(
                mt.full_like(self.loc, tiny), mt.full_like(self.loc, top), validate_args=validate_args
            )
        transforms = [
            ExpTransform().inv,
            AffineTransform(loc=0, scale=-mt.ones_like(self.scale)),
            ExpTransform().inv,
            AffineTransform(loc=loc, scale=-self.scale),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with loc and scale expanded to batch_shape."""
        new = self._get_checked_instance(Gumbel, _instance)
        new.loc = self.loc.expand(tuple(Size(batch_shape)))
        new.scale = self.scale.expand(tuple(Size(batch_shape)))
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value) -> Tensor:
        """y - exp(y) - log(scale) with y = (loc - value) / scale."""
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> Tensor:
        """loc + scale * Euler's constant."""
        return self.loc + self.scale * euler_constant

    @property
    def mode(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def stddev(self) -> Tensor:
        """pi / sqrt(6) scale."""
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        """stddev squared."""
        return self.stddev.pow(2)

    def entropy(self) -> Tensor:
        """log(scale) + 1 + Euler's constant."""
        return self.scale.log() + (1 + euler_constant)
