"""Normalisation layers: BatchNorm1d/2d, GroupNorm, InstanceNorm1d/2d, LocalResponseNorm."""

from __future__ import annotations

import numpy as np

from .. import creation
from ..device import _check_device
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _NormBase(Module):
    """Parameters (weight = 1, bias = 0 when affine) and running statistics (buffers running_mean,
    running_var, num_batches_tracked when track_running_stats), with PyTorch's names and shapes."""

    _default_affine = True
    _default_track = True

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
        track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True,
    ):  # fmt: skip
        super().__init__()
        _check_device(device, type(self).__name__)
        if not isinstance(num_features, int) or num_features < 0:
            raise ValueError(
                f"{type(self).__name__}: num_features must be a non-negative int, got {num_features!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:  # bias=False (keyword, PyTorch 2.13): scale only
            self.bias = Parameter(creation.empty(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean._data_for_write()[...] = 0
            self.running_var._data_for_write()[...] = 1
            self.num_batches_tracked._data_for_write()[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics, weight ← 1, bias ← 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        # abstract: each concrete layer (BatchNorm1d, BatchNorm2d, ...) says which dims it takes
        raise NotImplementedError(f"{type(self).__name__} must define _check_input_dim (the dims it accepts)")

    def _momentum(self) -> float:
        """This step's averaging factor (PyTorch's): momentum, or 1/num_batches_tracked when None
        (a cumulative average); counts the batch when training with running statistics."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data_for_write()[...] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        return factor

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.ndim >= 2 and input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{type(self).__name__}: expected {self.num_features} channels (dim 1) but input of shape "
                f"{tuple(input.shape)} has {input.shape[1]}"
            )
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if bn_training and input.numel() // max(input.shape[1], 1) <= 1:  # checked before counting the batch
            raise ValueError(
                f"{type(self).__name__}: expected more than 1 value per channel when training, "
                f"got input size {tuple(input.shape)}"
            )
        factor = self._momentum()
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel: x̂ = (x − mean)/√(var + eps) over the
    batch (and L) while training, over the running statistics in eval mode; then weight·x̂ + bias.

    >>> bn = nn.BatchNorm1d(3)
    >>> bn(mt.randn(8, 3)).shape, bn.running_mean.shape
    (torch.Size([8, 3]), torch.Size([3]))
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel (statistics over N, H and W).

    >>> nn.BatchNorm2d(16)(mt.randn(4, 16, 8, 8)).shape
    torch.Size([4, 16, 8, 8])
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (got {input.ndim}D input)")


class _InstanceNorm(_NormBase):
    _batched_ndim = 4

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
        track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True,
    ):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name, nd = type(self).__name__, self._batched_ndim
        if input.ndim not in (nd - 1, nd):
            raise ValueError(f"{name}: expected {nd - 1}D or {nd}D input (got {input.ndim}D input)")
        unbatched = input.ndim == nd - 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(
                f"{name}: expected input's size at dim=1 to match num_features ({self.num_features}), "
                f"but got: {x.shape[1]}."
            )
        factor = self.momentum if self.momentum is not None else 0.0  # (PyTorch counts no batches here)
        out = F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training or not self.track_running_stats, factor, self.eps,
        )  # fmt: skip
        return out.squeeze(0) if unbatched else out


class InstanceNorm2d(_InstanceNorm):
    """Normalise each (sample, channel) of (N, C, H, W) over H and W; affine and running statistics
    off by default, as PyTorch.

    >>> nn.InstanceNorm2d(3)(mt.randn(2, 3, 4, 4)).shape
    torch.Size([2, 3, 4, 4])
    """

    _batched_ndim = 4


class InstanceNorm1d(_InstanceNorm):
    """Normalise each (sample, channel) of (N, C, L) over L.

    >>> nn.InstanceNorm1d(3)(mt.randn(2, 3, 5)).shape
    torch.Size([2, 3, 5])
    """

    _batched_ndim = 3


class GroupNorm(Module):
    """Normalise (N, C, *) over groups of C/num_groups channels, then a per-channel affine map.

    >>> nn.GroupNorm(2, 4)(mt.randn(3, 4, 5, 5)).shape
    torch.Size([3, 4, 5, 5])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        _check_device(device, "GroupNorm")
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(creation.zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """weight ← 1, bias ← 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LocalResponseNorm(Module):
    """x / (k + α/n · Σ x²)^β, the sum over n neighbouring channels (AlexNet's normalisation).

    >>> nn.LocalResponseNorm(2)(mt.ones(1, 4, 2, 2)).shape
    torch.Size([1, 4, 2, 2])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
