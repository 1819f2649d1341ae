"""Channel dropout: Dropout1d, Dropout2d, Dropout3d (whole channels zeroed, as torch.nn)."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero each channel of (N, C, L) entirely with probability p while training (scaling the rest
    by 1/(1 − p)); the identity in eval mode.

    >>> nn.Dropout1d(0.5).eval()(mt.ones(2, 3, 4)).sum()
    tensor(24.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero each channel (feature map) of (N, C, H, W) entirely with probability p while training.

    >>> nn.Dropout2d(0.5).eval()(mt.ones(2, 3, 4, 4)).sum()
    tensor(96.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero each channel of (N, C, D, H, W) entirely with probability p while training.

    >>> nn.Dropout3d(0.5).eval()(mt.ones(1, 2, 2, 2, 2)).sum()
    tensor(16.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training)
