"""microtensor.backends: the accelerator back ends PyTorch code queries (none are available)."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
