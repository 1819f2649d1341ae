"""ExponentialFamily: the base of distributions with density exp(<t(x), theta> - F(theta) + k(x))."""

from __future__ import annotations

from .. import autograd
from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions (Normal, Bernoulli, Exponential here).

    A subclass gives its natural parameters theta (`_natural_params`), its log
    normalizer F (`_log_normalizer`) and the expected carrier measure E[k(x)]
    (`_mean_carrier_measure`); entropy and KL divergence then follow from F and
    its gradient (Bregman divergences; Nielsen and Nock), computed by autograd.
    The closed forms the subclasses define are checked against these.
    """

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} does not define _natural_params")

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError(f"{type(self).__name__} does not define _log_normalizer")

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not define _mean_carrier_measure")

    def entropy(self) -> Tensor:
        """F(theta) - <theta, grad F(theta)> - E[k(x)], by autograd of the log normalizer."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
