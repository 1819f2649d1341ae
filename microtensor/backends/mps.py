"""microtensor.backends.mps: Apple's Metal back end is not available (microtensor runs on the CPU)."""

from __future__ import annotations


def is_available() -> bool:
    """False: microtensor has no MPS back end."""
    return False


def is_built() -> bool:
    """False: microtensor is not built with MPS."""
    return False
