"""Padding modules, as torch.nn.modules.padding: each holds its `padding` (an int for every side, or
(left, right[, top, bottom[, front, back]]), last dim first) and calls F.pad.

    nn.ZeroPad2d((1, 0, 0, 2))(mt.ones(1, 2, 2)).shape  # (1, 4, 3)
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _PadNd(Module):
    _dims = 1  # how many trailing dims the class pads
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints, got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input: Tensor) -> Tensor:
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class _GatherPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding)


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""

    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""

    _dims = 3


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with `value`."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with `value`."""

    _dims = 3


class ReflectionPad1d(_GatherPadNd):
    """Mirrors the last dim at its edges (the edge itself not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Mirrors the last 2 dims at their edges."""

    _dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Mirrors the last 3 dims at their edges."""

    _dims = 3


class ReplicationPad1d(_GatherPadNd):
    """Repeats the last dim's edge values."""

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Repeats the edge values of the last 2 dims."""

    _dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Repeats the edge values of the last 3 dims."""

    _dims = 3


class CircularPad1d(_GatherPadNd):
    """Wraps the last dim around."""

    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Wraps the last 2 dims around."""

    _dims = 2


class CircularPad3d(CircularPad1d):
    """Wraps the last 3 dims around."""

    _dims = 3
