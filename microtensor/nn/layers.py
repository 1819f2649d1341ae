"""Layers: Linear, activations, Flatten, Dropout, Identity (Sequential is in container.py)."""

from __future__ import annotations

import math

from .. import creation
from ..device import _check_device
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features), PyTorch's default init."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        _check_device(device, "Linear")  # "cpu", "cpu:0" or mt.device("cpu"); others refused
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ±1/√in_features for weight and bias (what kaiming_uniform_(a=√5) gives)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # direct lookup: Module.__getattr__ is slow on the hot path
        return F.linear(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input; accepts (and ignores) any constructor arguments, as PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims `start_dim`..`end_dim` of its input (by default all but the batch dim).

        (N, *dims) -> (N, prod(dims)):

            >>> nn.Flatten()(mt.zeros(4, 2, 3)).shape == (4, 6)
            True
    """
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Tanh(Module):
    """Elementwise tanh(x); output in (-1, 1), any shape.

    Example:

            >>> nn.Tanh()(mt.zeros(2)).tolist()
            [0.0, 0.0]
    """
    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Sigmoid(Module):
    """Elementwise logistic sigmoid 1 / (1 + exp(-x)); output in (0, 1), any shape.

    Example:

            >>> nn.Sigmoid()(mt.zeros(2)).tolist()
            [0.5, 0.5]
    """
    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class ReLU(Module):
    """max(x, 0). inplace is accepted for PyTorch compatibility; the result is always a new Tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """Elementwise x for x > 0, else negative_slope * x (default 0.01); any shape.

    Example:

            >>> nn.LeakyReLU(0.1)(mt.tensor([-2., 3.])).tolist()
            [-0.20000000298023224, 3.0]
    """
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softmax(Module):
    """Softmax along `dim`: each slice along dim becomes probabilities summing to 1.

    Example:

            >>> nn.Softmax(dim=1)(mt.zeros(2, 4)).tolist()[0]
            [0.25, 0.25, 0.25, 0.25]
    """
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed stably; pairs with NLLLoss.

    Example:

            >>> nn.LogSoftmax(dim=1)(mt.zeros(1, 2)).exp().tolist()
            [[0.5, 0.5]]
    """
    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


class Dropout(Module):
    """Randomly zero elements with probability p while training; identity in eval mode.

    inplace is accepted for PyTorch compatibility; the result is always a new Tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
