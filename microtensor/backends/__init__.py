"""microtensor.backends: the accelerator back ends PyTorch code queries (none are available)."""

from . import mps

__all__ = ["mps"]
