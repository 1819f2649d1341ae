"""Utilities, under PyTorch's names: `microtensor.utils.data` is `torch.utils.data`."""

from . import data, dlpack

__all__ = ["data", "dlpack"]
