"""Loss modules: thin wrappers that hold the options of the functional losses.

Signatures are PyTorch's (including the deprecated size_average/reduce slots), and
class weights are registered as buffers, so they appear in state_dict as in PyTorch.
"""

from __future__ import annotations

from ..ops.base import as_tensor
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = F._reduction(size_average, reduce, reduction, type(self).__name__)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight, type(self).__name__))


class MSELoss(_Loss):
    """Mean squared error between input and target (same shape); reduction 'mean', 'sum' or 'none'.

    Example:

            >>> nn.MSELoss()(mt.tensor([1., 2.]), mt.tensor([1., 4.])).item()
            2.0
    """
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy between probabilities `input` (in [0, 1]) and targets of the same
    shape, optionally weighted per element; log terms are clamped at -100 as in PyTorch.

            >>> round(nn.BCELoss()(mt.tensor([0.5]), mt.tensor([1.])).item(), 4)
            0.6931
    """
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step, on raw scores (logits);
    `pos_weight` weights the positive term per class.

            >>> round(nn.BCEWithLogitsLoss()(mt.tensor([0.]), mt.tensor([1.])).item(), 4)
            0.6931
    """
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(size_average, reduce, reduction)
        name = type(self).__name__
        self.register_buffer("weight", None if weight is None else as_tensor(weight, name))
        self.register_buffer("pos_weight", None if pos_weight is None else as_tensor(pos_weight, name))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of integer class targets given log-probabilities.

        input (N, C) or (N, C, d1, ...), target (N,) or (N, d1, ...) of int64 class indices;
        targets equal to `ignore_index` are skipped; `weight` (C,) rescales classes.

            >>> nn.NLLLoss()(mt.tensor([[-1., -2.]]), mt.tensor([1])).item()
            2.0
    """
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of raw scores (logits) against class targets: log_softmax + NLLLoss.

        input (N, C) or (N, C, d1, ...); target int64 class indices (N,) / (N, d1, ...), or class
        probabilities of the input's shape. Supports `weight`, `ignore_index`, `label_smoothing`.

            >>> round(nn.CrossEntropyLoss()(mt.zeros(1, 4), mt.tensor([2])).item(), 4)
            1.3863
    """
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
