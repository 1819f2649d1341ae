"""microtensor.backends.cudnn: NVIDIA's cuDNN is not available (microtensor runs on the CPU).

Seeding boilerplate sets `torch.backends.cudnn.deterministic = True` and
`torch.backends.cudnn.benchmark = False`; the flags are kept here with PyTorch's defaults so that
such code runs unchanged. They change nothing: no op here uses cuDNN.
"""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: microtensor has no cuDNN back end."""
    return False


def version() -> None:
    """None: no cuDNN library is loaded (as PyTorch without one)."""
    return None
