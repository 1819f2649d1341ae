"""Normalisation: batch, group and instance norm, one op each that standardises over its axes.

standardise(x) = (x − mean) / √(var + eps) over `axes` (the biased variance, as every PyTorch norm
uses in its forward). Its derivative is the textbook one of batch normalisation,

    ∂x = rstd · (grad − mean(grad) − x̂ · mean(grad · x̂)),   x̂ = (x − mean) · rstd,

written over the array namespace so that it is differentiable again. The affine scale and shift,
the running statistics and the reshapes of group norm are plain Tensor code around it.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper


class _Normalize(Op):
    """(x − mean) / √(var + eps) over `axes` (biased variance): the op of every norm below, which
    differ only in their axes (and so in their names and their rule in words)."""

    role = "layer"
    __slots__ = ("axes", "eps", "mean", "var")
    derivatives = {"x": "standardize_grad(grad, x, self.axes, self.eps)"}

    def __init__(self, axes: tuple[int, ...], eps: float):
        self.axes, self.eps = axes, eps

    def forward(self, x):
        self.mean = np.mean(x, axis=self.axes, keepdims=True)
        d = x - self.mean
        self.var = np.mean(np.square(d), axis=self.axes, keepdims=True)
        d *= 1 / np.sqrt(self.var + self.eps)
        return d


_RULE = (
    "x̂ = (x − μ) / √(σ² + eps) with μ and σ² the mean and (biased) variance {over}; as μ and σ² "
    "depend on every x they are taken over, ∂x = (grad − mean(grad) − x̂ · mean(grad · x̂)) / √(σ² + eps), "
    "the means over the same values. The scale (weight) and shift (bias) that follow are a Mul and an Add"
)


class BatchNorm(_Normalize):
    """Batch normalisation's standardisation (training mode): over the batch and all positions."""

    __slots__ = ()
    public_name = "batch_norm"
    meaning = _RULE.format(over="of each channel over the batch and all positions")


class GroupNorm(_Normalize):
    """Group normalisation's standardisation: over each sample's group of channels and positions."""

    __slots__ = ()
    public_name = "group_norm"
    meaning = _RULE.format(over="of each sample's group of channels, over the group's channels and positions")


class InstanceNorm(_Normalize):
    """Instance normalisation's standardisation: over the positions of each sample's channel."""

    __slots__ = ()
    public_name = "instance_norm"
    meaning = _RULE.format(over="of each channel of each sample, over its positions")


@helper
def standardize_grad(g, x, axes, eps):
    """rstd · (g − mean(g) − x̂ · mean(g · x̂)) with x̂ = (x − mean) · rstd over axes: ∂x of the
    norms' standardisation."""
    d = x - _xp.mean(x, axes, True)
    rstd = (_xp.mean(d * d, axes, True) + eps) ** -0.5
    xhat = d * rstd
    return rstd * (g - _xp.mean(g, axes, True) - xhat * _xp.mean(g * xhat, axes, True))


def _channel_view(t: Tensor | None, ndim: int) -> Tensor | None:
    """A per-channel (C,) tensor shaped (1, C, 1, ...) to broadcast over (N, C, *)."""
    return None if t is None else t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(out: Tensor, weight, bias) -> Tensor:
    if weight is not None:
        out = out * _channel_view(weight, out.ndim)
    if bias is not None:
        out = out + _channel_view(bias, out.ndim)
    return out


def _check_channels(input, name: str, t, op: str) -> None:
    if t is not None and tuple(t.shape) != (input.shape[1],):
        raise RuntimeError(
            f"{op}: {name} must have shape ({input.shape[1]},) for input of shape {tuple(input.shape)}, "
            f"got {tuple(t.shape)}"
        )


def _update_running(running: Tensor, batch: np.ndarray, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·batch."""
    r = running._data_for_write()
    r *= 1 - momentum
    r += momentum * batch.astype(r.dtype, copy=False)


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
) -> Tensor:
    """Batch normalisation of (N, C, *) over every axis but C: batch statistics when training (the
    running statistics, if given, move toward them by `momentum`, the variance unbiased), the
    running statistics otherwise; then weight·x̂ + bias per channel.

    >>> x = mt.randn(8, 3, 4, 4)
    >>> F.batch_norm(x, None, None, training=True).mean().abs() < 1e-6
    tensor(True)
    """
    op = "batch_norm"
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise RuntimeError(
            f"{op}: expected input of at least 2 dims (N, C, *), got {getattr(input, 'shape', input)}"
        )
    for name, t in (
        ("weight", weight),
        ("bias", bias),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        _check_channels(input, name, t, op)
    axes = (0, *range(2, input.ndim))
    if training:
        count = input.numel() // input.shape[1] if input.shape[1] else 0
        if count <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, "
                f"got input size {tuple(input.shape)}"
            )
        node = BatchNorm(axes, eps)
        out = node(input)
        if running_mean is not None or running_var is not None:
            if running_mean is not None:
                _update_running(running_mean, node.mean.reshape(-1), momentum)
            if running_var is not None:
                _update_running(running_var, node.var.reshape(-1) * (count / (count - 1)), momentum)
        return _affine(out, weight, bias)
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{op}: running_mean and running_var must be given when not training")
    shape = (1, -1) + (1,) * (input.ndim - 2)
    scale = Tensor._wrap((1 / np.sqrt(running_var._data + eps)).astype(input._data.dtype).reshape(shape))
    return _affine((input - running_mean._data.reshape(shape)) * scale, weight, bias)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) over each group of C/num_groups channels (and all positions), then
    weight·x̂ + bias per channel.

    >>> F.group_norm(mt.randn(2, 4, 3), 2).shape
    torch.Size([2, 4, 3])
    """
    op = "group_norm"
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise RuntimeError(
            f"{op}: expected input of at least 2 dims (N, C, *), got {getattr(input, 'shape', input)}"
        )
    c = input.shape[1]
    if num_groups < 1 or c % num_groups:
        raise RuntimeError(
            f"{op}: expected number of channels in input ({c}) to be divisible by num_groups ({num_groups})"
        )
    _check_channels(input, "weight", weight, op)
    _check_channels(input, "bias", bias, op)
    n = input.shape[0]
    out = GroupNorm((2,), eps)(input.reshape(n, num_groups, -1)).reshape(tuple(input.shape))
    return _affine(out, weight, bias)


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
    momentum=0.1, eps=1e-5,
) -> Tensor:  # fmt: skip
    """Normalise each (sample, channel) of (N, C, *) over its positions, then weight·x̂ + bias; with
    running statistics, use_input_stats=False normalises by them instead (and True updates them
    with the batch's mean of the instances' statistics).

    >>> F.instance_norm(mt.randn(2, 3, 4, 4)).shape
    torch.Size([2, 3, 4, 4])
    """
    op = "instance_norm"
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"{op}: expected input of at least 3 dims (N, C, *), got {getattr(input, 'shape', input)}"
        )
    for name, t in (
        ("weight", weight),
        ("bias", bias),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        _check_channels(input, name, t, op)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{op}: use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    axes = tuple(range(2, input.ndim))
    count = int(np.prod(input.shape[2:]))
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element when training, got input size {tuple(input.shape)}"
        )
    node = InstanceNorm(axes, eps)
    out = node(input)
    if running_mean is not None:
        _update_running(running_mean, node.mean.reshape(input.shape[:2]).mean(0), momentum)
    if running_var is not None:
        unbiased = node.var.reshape(input.shape[:2]) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(0), momentum)
    return _affine(out, weight, bias)
