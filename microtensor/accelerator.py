"""microtensor.accelerator: no accelerator is available; the current device is the CPU.

dev = mt.accelerator.current_accelerator() if mt.accelerator.is_available() else mt.device("cpu")
"""

from __future__ import annotations


def is_available() -> bool:
    """False: microtensor computes on the CPU only."""
    return False


def device_count() -> int:
    """0: no accelerators."""
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (as torch.accelerator.current_accelerator without one)."""
    return None
