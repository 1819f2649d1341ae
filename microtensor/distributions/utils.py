"""Helpers shared by the distributions, as torch.distributions.utils names them.

broadcast_all lines parameters up; logits_to_probs / probs_to_logits convert
between the two parameterisations (clamping probabilities away from 0 and 1 so
a logit is finite); lazy_property computes a derived parameter once, on first
use, and keeps it on the instance.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from .. import _dtypes
from ..autograd import enable_grad
from ..tensor import Tensor

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "euler_constant",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
]

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant

_Number = (numbers.Number,)  # what PyTorch accepts in place of a tensor parameter


def _is_number(v) -> bool:
    return isinstance(v, _Number) and not isinstance(v, Tensor)


def broadcast_all(*values):
    """The values broadcast to one shape, as tensors.

    Numbers become tensors of the first tensor's dtype (the default dtype if
    all are numbers); tensors are broadcast as in `broadcast_tensors`.

        loc, scale = broadcast_all(mt.zeros(3), 1.0)     # both of shape (3,)
    """
    import microtensor as mt

    if not all(isinstance(v, Tensor) or _is_number(v) for v in values):
        raise ValueError(
            "broadcast_all: input arguments must all be instances of Number or Tensor, got "
            + ", ".join(type(v).__name__ for v in values)
        )
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), _dtypes.get_default_dtype())
        values = tuple(v if isinstance(v, Tensor) else mt.tensor(v, dtype=dtype) for v in values)
    return mt.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None) -> Tensor:
    """Standard normal draws of `shape`, drawn as PyTorch's `empty(shape).normal_()` (same stream)."""
    import microtensor as mt

    return mt.empty(tuple(shape), dtype=dtype).normal_()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: sigmoid of log-odds (is_binary) or softmax over the last dimension."""
    import microtensor.nn.functional as F

    if is_binary:
        return logits.sigmoid()
    return F.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps] (eps of probs' dtype), so that their logs are finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities: log-odds (is_binary) or log-probabilities, of clamped probs."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """A property computed on first access and then stored on the instance (so computed once).

    The value is computed with gradients enabled, as PyTorch's, so a derived
    parameter first used under no_grad still connects to its source.
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
