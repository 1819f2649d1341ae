"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (as torch.nn.modules.conv)."""

from __future__ import annotations

import math

from .. import creation
from ..device import _check_device
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(v, n: int, name: str, cls: str) -> tuple[int, ...]:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) * n
    if isinstance(v, tuple | list) and len(v) == n and all(isinstance(i, int) for i in v):
        return tuple(v)
    raise TypeError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {v!r}")


class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d/2d share: arguments, parameters, initialisation."""

    _nd = 2
    _transposed = False

    def __init__(
        self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
        padding_mode, output_padding=0, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        name, nd = type(self).__name__, self._nd
        _check_device(device, name)
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, but got {padding_mode!r}"
            )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported, got {padding_mode!r}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", name)
        self.stride = _tuple(stride, nd, "stride", name)
        self.dilation = _tuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of ['valid', 'same']"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, nd, "padding", name)
        self.output_padding = _tuple(output_padding, nd, "output_padding", name)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        # the padding F.pad applies for the non-zero padding modes: (left, right) per dim, last dim first
        if padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        elif padding == "valid":
            pairs = [(0, 0)] * nd
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pairs) for v in pair)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) for the weight (uniform in ±1/√fan_in), the bias
        uniform in ±1/√fan_in."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"  # PyTorch prints 'same' without quotes
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
        groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            device=device, dtype=dtype,
        )  # fmt: skip

    def _conv_forward(self, input: Tensor, weight: Tensor, bias) -> Tensor:
        fn = F.conv2d if self._nd == 2 else F.conv1d
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters
        return self._conv_forward(input, params["weight"], params["bias"])


class Conv2d(_Conv):
    """2-D convolution layer: (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight
    (out_channels, in_channels/groups, kH, kW), bias (out_channels,); padding an int, a pair,
    'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'.

    >>> conv = nn.Conv2d(1, 32, 3)
    >>> conv(mt.randn(64, 1, 28, 28)).shape
    torch.Size([64, 32, 26, 26])
    """

    _nd = 2


class Conv1d(_Conv):
    """1-D convolution layer: (N, C_in, L) -> (N, C_out, L_out); weight (out_channels,
    in_channels/groups, k).

    >>> nn.Conv1d(3, 4, 3, padding="same")(mt.randn(2, 3, 10)).shape
    torch.Size([2, 4, 10])
    """

    _nd = 1


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
        groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None,
    ):  # fmt: skip
        if isinstance(padding, str):
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}"
            )
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            output_padding, device=device, dtype=dtype,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, output_size) -> tuple[int, ...]:
        """The output_padding that makes the output `output_size` (PyTorch's rule), or the layer's."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = tuple(output_size)[-nd:]
        out = []
        for i in range(nd):
            n = input.shape[input.ndim - nd + i]
            least = (
                (n - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            extra = size[i] - least
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {size}, but valid sizes range from "
                    f"{least} to {least + max(self.stride[i], self.dilation[i]) - 1} (for an input of "
                    f"{tuple(input.shape)})"
                )
            out.append(extra)
        return tuple(out)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        fn = F.conv_transpose2d if self._nd == 2 else F.conv_transpose1d
        output_padding = self._output_padding(input, output_size)
        return fn(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out), H_out =
    (H − 1)·stride − 2·padding + dilation·(kH − 1) + output_padding + 1; weight
    (in_channels, out_channels/groups, kH, kW).

    >>> nn.ConvTranspose2d(16, 8, 3, stride=2)(mt.randn(1, 16, 5, 5)).shape
    torch.Size([1, 8, 11, 11])
    """

    _nd = 2


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out); weight (in_channels,
    out_channels/groups, k).

    >>> nn.ConvTranspose1d(2, 3, 3)(mt.randn(1, 2, 5)).shape
    torch.Size([1, 3, 7])
    """

    _nd = 1
