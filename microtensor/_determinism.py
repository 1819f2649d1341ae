"""Deterministic algorithms, as torch.use_deterministic_algorithms.

Every microtensor op runs the same NumPy computation on the CPU each time (no atomics, no
autotuned kernels), so its results are always reproducible: the flag is kept for the programs
that set and read it, and changes no result.
"""

from __future__ import annotations

_STATE = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms (microtensor's always are; see the module docstring).

        mt.use_deterministic_algorithms(True)
        mt.are_deterministic_algorithms_enabled()   # True
    """
    if not isinstance(mode, bool) or not isinstance(warn_only, bool):
        raise TypeError(
            f"use_deterministic_algorithms: mode and warn_only must be bools, got {mode!r}, {warn_only!r}"
        )
    _STATE.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether use_deterministic_algorithms(True) is in effect."""
    return _STATE["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether use_deterministic_algorithms(True, warn_only=True) is in effect."""
    return _STATE["warn_only"]
