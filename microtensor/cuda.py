"""microtensor.cuda: there is no GPU here; device-agnostic PyTorch code sees "not available".

device = "cuda" if mt.cuda.is_available() else "cpu"    # "cpu"
"""

from __future__ import annotations


def is_available() -> bool:
    """False: microtensor computes on the CPU only."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def manual_seed(seed: int) -> None:
    """No-op (there is no CUDA generator to seed), as torch.cuda.manual_seed without a GPU."""


def manual_seed_all(seed: int) -> None:
    """No-op (there are no CUDA generators to seed), as torch.cuda.manual_seed_all without a GPU."""


def synchronize(device=None) -> None:
    """Refuse: there is no CUDA device to wait for."""
    _no_cuda("synchronize")


def current_device() -> int:
    """Refuse: there is no current CUDA device."""
    _no_cuda("current_device")


def _no_cuda(op: str):
    raise RuntimeError(f"cuda.{op}: microtensor runs on the CPU only; no CUDA device is available")
