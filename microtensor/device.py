"""Devices: microtensor computes on the CPU only, with PyTorch's device vocabulary.

`mt.device("cpu")`, `mt.device("cpu", 0)` and `mt.device("cpu:0")` name the one
device there is; code written for PyTorch that asks for it (or passes
`device=`) runs unchanged. Asking for "cuda", "mps" or another accelerator
raises an error saying microtensor runs on the CPU.

    dev = mt.device("cuda" if mt.cuda.is_available() else "cpu")   # device(type='cpu')
    x = mt.zeros(3, device=dev).to(dev)
"""

from __future__ import annotations

from typing import Any

# the device types PyTorch knows: naming one of them is a request we must refuse, anything else a typo
_KNOWN = ("cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "mtia", "hpu", "privateuseone", "vulkan")


class device:  # noqa: N801 - PyTorch's name
    """A device: only the CPU exists here.

    device("cpu"), device("cpu", 0), device("cpu:0"), device(other_device)

    `type` is "cpu"; `index` is None unless given. Compares equal to another device of the
    same type and index; as in PyTorch a device never equals a string (`device("cpu") == "cpu"`
    is False: compare `dev.type == "cpu"`). `str(dev)` is "cpu" or "cpu:0".
    """

    __slots__ = {  # a dict: its values are the attributes' docstrings
        "type": 'The device type, "cpu".',
        "index": "The device ordinal given (e.g. 0 for 'cpu:0'), or None.",
    }

    def __init__(self, type: Any, index: int | None = None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError(f"device(): an index cannot be given with a device object ({type!r})")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            _refuse(f"device ordinal {type}", "device")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {type.__class__.__name__}")
        kind, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise RuntimeError(
                    f"device(): type (string) must not include an index when index is given: {type!r}"
                )
            if not idx.isdigit():
                raise RuntimeError(
                    f"device(): invalid device string {type!r}; expected e.g. 'cpu' or 'cpu:0'"
                )
            index = int(idx)
        if kind != "cpu":
            if kind in _KNOWN:
                _refuse(repr(type), "device")
            raise RuntimeError(
                f"device(): expected a device type such as cpu, cuda or mps at the start of {type!r}"
            )
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device(): device index must be a non-negative int, got {index!r}")
        self.type, self.index = "cpu", index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # as PyTorch 2.13: only devices compare equal to devices; device("cpu") == "cpu" is False
        # (compare `dev.type == "cpu"` instead)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")

_default = [CPU]


def _refuse(what: str, op: str):
    raise RuntimeError(
        f"{op}: microtensor runs on the CPU only and has no {what} device; "
        "use 'cpu' (or device-agnostic code such as "
        "`device = 'cuda' if microtensor.cuda.is_available() else 'cpu'`)"
    )


def _check_device(dev: Any, op: str) -> None:
    """Accept None or anything naming the CPU; refuse other devices with an error naming `op`."""
    if dev is None or dev is CPU:
        return
    if isinstance(dev, device):
        return  # a device object can only be the CPU
    if isinstance(dev, str):
        kind = dev.partition(":")[0]
        if kind == "cpu":
            device(dev)  # validates the index part
            return
        if kind in _KNOWN:
            _refuse(repr(dev), op)
        raise RuntimeError(f"{op}: unknown device {dev!r}; microtensor runs on the CPU ('cpu')")
    if isinstance(dev, int) and not isinstance(dev, bool):
        _refuse(f"device ordinal {dev}", op)
    raise TypeError(f"{op}: device must be a string or a microtensor.device, got {type(dev).__name__}")


def _is_device(obj: Any) -> bool:
    """Whether a positional argument of .to() names a device (a device object or a device string)."""
    return isinstance(obj, device) or (isinstance(obj, str) and obj.partition(":")[0] in ("cpu", *_KNOWN))


def set_default_device(dev: Any) -> None:
    """Set the device factory functions use by default; only the CPU (or None) is accepted."""
    _check_device(dev, "set_default_device")
    _default[0] = CPU


def get_default_device() -> device:
    """The default device for new tensors: always device(type='cpu')."""
    return _default[0]


def _parse_to(args: tuple, kwargs: dict, op: str) -> tuple[Any, bool]:
    """The dtype (or None) and copy flag of a PyTorch-style `.to(...)` call, in any of its forms:
    to(dtype, non_blocking=False, copy=False), to(device=None, dtype=None, non_blocking=False,
    copy=False), to(other_tensor, non_blocking=False, copy=False); the device is checked."""
    kwargs = dict(kwargs)
    pos = list(args)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    if pos and hasattr(pos[0], "_data") and hasattr(pos[0], "dtype"):
        dtype = pos.pop(0).dtype
    else:
        first = pos[0] if pos else False
        if first is None or _is_device(first) or (isinstance(first, int) and not isinstance(first, bool)):
            dev = pos.pop(0)
        if pos and not isinstance(pos[0], bool):
            dtype = pos.pop(0)
    for name, value in zip(("non_blocking", "copy"), pos):
        kwargs[name] = value
    if len(pos) > 2:
        raise TypeError(f"{op}: too many positional arguments {args!r}")
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}")
    _check_device(dev, op)
    return dtype, copy
