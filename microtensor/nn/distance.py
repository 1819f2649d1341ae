"""CosineSimilarity and PairwiseDistance, as torch.nn.modules.distance."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along dim (F.cosine_similarity).

    nn.CosineSimilarity()(mt.tensor([[1.0, 0.0]]), mt.tensor([[1.0, 1.0]]))  # tensor([0.7071])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 − x2 + eps‖_p along the last dim (F.pairwise_distance).

    nn.PairwiseDistance()(mt.tensor([[0.0, 0.0]]), mt.tensor([[3.0, 4.0]]))  # tensor([5.0000])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
