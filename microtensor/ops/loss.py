"""Fused loss ops (issue 13): one node per loss, reduced inside the op, with the closed-form
gradient beside the forward (see fused._Loss: in the derivatives `self.n` is the number of terms a
'mean' divides by, 1 for 'sum' and 'none').

Losses that are exact compositions of existing ops (margin losses, Poisson NLL, the cosine and
triplet losses) are built in microtensor/nn/functional.py and record those ops.
"""

from __future__ import annotations

import numpy as np

from . import _xp
from .base import helper
from .fused import _Loss


class L1Loss(_Loss):
    """|a − b| per element; then reduced. The gradient at a = b is 0 (sign(0), as PyTorch)."""

    public_name = "l1_loss"
    derivatives = {"a": "grad * sgn(a - b) / self.n", "b": "-grad * sgn(a - b) / self.n"}

    def forward(self, a, b):
        return self.reduce(np.abs(a - b))


class SmoothL1Loss(_Loss):
    """0.5·d²/beta where |d| < beta, else |d| − 0.5·beta (d = a − b); then reduced (beta > 0)."""

    __slots__ = ("beta",)
    public_name = "smooth_l1_loss"
    derivatives = {
        "a": "grad * where(abs_lt(a - b, self.beta), (a - b) / self.beta, sgn(a - b)) / self.n",
        "b": "-grad * where(abs_lt(a - b, self.beta), (a - b) / self.beta, sgn(a - b)) / self.n",
    }

    def __init__(self, reduction: str = "none", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, a, b):
        z = np.abs(a - b)
        return self.reduce(np.where(z < self.beta, 0.5 * z * z / self.beta, z - 0.5 * self.beta))


class HuberLoss(_Loss):
    """0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta) (d = a − b); then reduced."""

    __slots__ = ("delta",)
    public_name = "huber_loss"
    derivatives = {
        "a": "grad * where(abs_lt(a - b, self.delta), a - b, self.delta * sgn(a - b)) / self.n",
        "b": "-grad * where(abs_lt(a - b, self.delta), a - b, self.delta * sgn(a - b)) / self.n",
    }

    def __init__(self, reduction: str = "none", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, a, b):
        z = np.abs(a - b)
        return self.reduce(np.where(z < self.delta, 0.5 * z * z, self.delta * (z - 0.5 * self.delta)))


@helper
def abs_lt(d, bound):
    """The constant mask |d| < bound."""
    return np.abs(_xp.constant(d)) < bound


class KLDiv(_Loss):
    """Pointwise KL divergence t·(log t − x) (0 where t = 0) for log-probabilities x and
    probabilities t, or e^t·(t − x) for log-probability targets (log_target); then reduced, where
    'batchmean' divides the sum by the batch size x.shape[0]."""

    __slots__ = ("log_target", "_batchmean")
    public_name = "kl_div"
    derivatives = {
        "x": "-grad * (exp(t) if self.log_target else t) / self.n",
        "t": "grad * (exp(t) * (t + 1 - x) if self.log_target else log(t) + 1 - x) / self.n",
    }

    def __init__(self, reduction: str = "none", log_target: bool = False):
        super().__init__("sum" if reduction == "batchmean" else reduction)
        self.log_target = log_target
        self._batchmean = reduction == "batchmean"

    def forward(self, x, t):
        # xlogy(t, t): 0·log 0 = 0; a negative t gives NaN
        loss = np.exp(t) * (t - x) if self.log_target else np.where(t == 0, 0, t * np.log(t)) - t * x
        out = self.reduce(loss)
        if self._batchmean and x.ndim:
            self.n = x.shape[0]
            out = out / x.shape[0]
        return out


class GaussianNLL(_Loss):
    """0.5·(log v + (x − t)²/v) per element, v = max(var, eps) (the clamp passes the gradient on
    unchanged, as PyTorch's no_grad clamp); plus 0.5·log 2π when full; then reduced."""

    __slots__ = ("eps", "full")
    public_name = "gaussian_nll_loss"
    derivatives = {
        "x": "grad * (x - t) / clamp_min(v, self.eps) / self.n",
        "t": "-grad * (x - t) / clamp_min(v, self.eps) / self.n",
        "v": "grad * (0.5 - 0.5 * (x - t) * (x - t) / clamp_min(v, self.eps)) / clamp_min(v, self.eps) "
        "/ self.n",
    }

    def __init__(self, reduction: str = "none", eps: float = 1e-6, full: bool = False):
        super().__init__(reduction)
        self.eps, self.full = eps, full

    def forward(self, x, t, v):
        v = np.maximum(v, self.eps)
        d = x - t
        loss = 0.5 * (np.log(v) + d * d / v)
        if self.full:
            loss = loss + 0.5 * np.log(2 * np.pi)
        return self.reduce(loss.astype(x.dtype, copy=False))
