"""Gradient clipping, as torch.nn.utils.clip_grad: by total norm or by value.

The norms are computed on the gradients' arrays (nothing is recorded); the gradients are rescaled
or clamped through the tensors' in-place ops under no_grad, which bump their version counters.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor

_TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: _TensorOrTensors, fn: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        return [tensors]
    is_generator = isinstance(tensors, types.GeneratorType)
    out = list(tensors)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: expected Tensors, but item {i} is a {type(t).__name__}")
    if is_generator and not out and fn.startswith("clip_grad_norm"):
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return out


def _vector_norm(a: np.ndarray, p: float) -> np.ndarray:
    """‖a‖_p of all entries, as torch.linalg.vector_norm (inf: max |a|, -inf: min |a|, 0: count ≠ 0)."""
    a = np.abs(a)
    if a.size == 0:
        return np.zeros((), a.dtype)
    if p == math.inf:
        return a.max()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return np.asarray(np.count_nonzero(a), a.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return np.sqrt(np.vdot(a, a))  # vdot: one BLAS pass, no temporary
    return (a**p).sum() ** (1.0 / p)


def _total_norm(tensors: list[Tensor], norm_type: float, error_if_nonfinite: bool, fn: str) -> Tensor:
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.zeros((), np.float32))
    for t in tensors:
        if t._data.dtype.kind not in "fc":
            raise RuntimeError(f"{fn}: gradients must be floating point, got dtype {t.dtype}")
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    total = _vector_norm(np.stack(norms), norm_type)  # stack promotes mixed dtypes, as torch.stack
    total = np.asarray(total, dtype=np.result_type(*norms))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"{fn}: the total norm of order {norm_type} for gradients from `parameters` is non-finite "
            f"({float(total)}), so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)


def get_total_norm(
    tensors: _TensorOrTensors,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The norm of all the given tensors' entries, as if concatenated into one vector (a 0-d Tensor).

    ``norm_type`` is any p (``float("inf")`` for the largest magnitude); raises RuntimeError when the
    norm is nan/inf and ``error_if_nonfinite``. ``foreach`` is accepted and changes nothing.

        >>> get_total_norm([p.grad for p in model.parameters()])   # tensor(0.93...)
    """
    return _total_norm(_as_list(tensors, "get_total_norm"), norm_type, error_if_nonfinite, "get_total_norm")


def clip_grads_with_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Scale every gradient in place by min(max_norm / (total_norm + 1e-6), 1), given the total norm.

    >>> norm = get_total_norm([p.grad for p in params])
    >>> clip_grads_with_norm_(params, max_norm=1.0, total_norm=norm)
    """
    params = _as_list(parameters, "clip_grads_with_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(float(total_norm))
    # PyTorch computes max_norm / (total + 1e-6) as reciprocal(total + 1e-6) · max_norm, in total's dtype
    denom = np.asarray(total + 1e-6, total.dtype)
    coef = np.minimum(np.asarray(np.reciprocal(denom) * max_norm, total.dtype), 1.0)
    scale = Tensor._wrap(np.asarray(coef, total.dtype))
    # a non-finite total gives a 0 scale and inf·0 = nan, as PyTorch (which does not warn either)
    with no_grad(), np.errstate(invalid="ignore"):
        for g in grads:
            g.mul_(scale)


def clip_grad_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients in place so that their total norm is at most max_norm; returns the
    total norm before clipping (a 0-d Tensor), as torch.nn.utils.clip_grad_norm_.

    The total norm is that of all gradients concatenated into one vector (``norm_type`` p, inf
    allowed); gradients are multiplied by min(max_norm / (total + 1e-6), 1). Parameters without a
    gradient are skipped. ``foreach`` is accepted and changes nothing.

        >>> loss.backward()
        >>> norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    params = _as_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    total = _total_norm(grads, norm_type, error_if_nonfinite, "clip_grad_norm_")
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_` (warns with FutureWarning, as PyTorch)."""
    warnings.warn(
        "`microtensor.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`microtensor.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient in place to [−clip_value, clip_value], as torch.nn.utils.clip_grad_value_.

    >>> clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    params = _as_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    with no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
