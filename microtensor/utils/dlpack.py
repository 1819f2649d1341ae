"""DLPack: exchange tensors with PyTorch, NumPy, JAX, CuPy, ... without copying (as torch.utils.dlpack).

t = mt.from_dlpack(torch_tensor)      # shares torch_tensor's memory
u = torch.from_dlpack(mt.ones(3))     # shares the microtensor tensor's memory
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


class _Capsule:
    """Presents a bare DLPack capsule through the protocol NumPy's from_dlpack accepts."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack__(self, **kwargs):
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # a capsule carries its device inside; NumPy checks it again and refuses non-CPU


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A Tensor sharing memory with `ext_tensor` (any object with `__dlpack__`, or a DLPack capsule).

    As `torch.from_dlpack`: no copy unless `copy=True` (with `copy=False` a copy is an error).
    A bare capsule in the old, unversioned DLPack format imports read-only (NumPy's rule: that
    format cannot say whether the memory may be written); pass the tensor itself to share it
    writably.
    Only CPU memory can be shared; the dtype must be bool, an integer or a float type that
    microtensor holds (bfloat16 and complex are refused). The result does not require grad.

        t = torch.arange(3.0)
        m = mt.from_dlpack(t); m.numpy()[0] = 5.0   # t is now [5., 1., 2.]
    """
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"from_dlpack: microtensor tensors live on the CPU, got device={device!r}")
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    kwargs = {} if copy is None else {"copy": copy}  # NumPy before 2.1 has no copy keyword
    try:
        arr = np.from_dlpack(source, **kwargs)
    except (BufferError, TypeError, RuntimeError) as e:
        raise TypeError(
            f"from_dlpack: cannot import {type(ext_tensor).__name__} without copying through NumPy: {e}"
        ) from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"from_dlpack: dtype {arr.dtype} is not supported; microtensor tensors hold bool, integer and "
            "float dtypes"
        )
    return Tensor._wrap(arr)


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of `tensor` (legacy API; prefer passing the tensor itself to `from_dlpack`)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__()
