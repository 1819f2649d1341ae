"""Bernoulli: draws 1 with probability p and 0 otherwise, from probs or logits (log-odds)."""

from __future__ import annotations

import math

from .. import autograd
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _is_number, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(ExponentialFamily):
    """Bernoulli(probs=None, logits=None, validate_args=None): 0/1 draws in the parameter's dtype.

    Give exactly one of probs (in [0, 1]) or logits (log-odds); the other is
    derived on first use. log_prob and entropy are binary cross-entropies with
    logits, so they stay finite and differentiable.

        d = Bernoulli(logits=mt.tensor([0.3, -1.2]))
        x = d.sample()                 # as torch.bernoulli(probs), PyTorch's stream
        d.log_prob(x)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = _is_number(probs)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = _is_number(logits)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameter expanded to batch_shape."""
        new = self._expanded(Bernoulli, batch_shape, _instance, "probs", "logits")
        new._param = new.logits if "logits" in self.__dict__ else new.probs
        return new

    @property
    def mean(self) -> Tensor:
        """probs."""
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where probs > 0.5, 0 where below, NaN where exactly 0.5 (no single mode)."""
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        mode[self.probs == 0.5] = math.nan
        return mode

    @property
    def variance(self) -> Tensor:
        """probs * (1 - probs)."""
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self) -> Tensor:
        """Log-odds log(p) - log(1 - p) of the clamped probs (when built from probs)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """sigmoid(logits) (when built from logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given."""
        return self._param.size()

    def sample(self, sample_shape=()) -> Tensor:
        """0/1 draws of shape sample_shape + batch_shape: bernoulli(probs.expand(shape)), as PyTorch."""
        import microtensor as mt

        shape = self._extended_shape(sample_shape)
        with autograd.no_grad():
            return mt.bernoulli(self.probs.expand(shape))

    def log_prob(self, value) -> Tensor:
        """-binary_cross_entropy_with_logits(logits, value)."""
        import microtensor.nn.functional as F

        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        """binary_cross_entropy_with_logits(logits, probs)."""
        import microtensor.nn.functional as F

        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """[0, 1] in the parameter's dtype along dimension 0, shaped (2,) + (1,)*len(batch)."""
        import microtensor as mt

        values = mt.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self) -> tuple:
        return (self.probs.logit(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
