"""Creating tensors: from data, filled, ranges (the random ones live in random.py, re-exported here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtypes
from .device import _check_device
from .random import default_generator as _default_generator
from .random import (  # noqa: F401 - re-exported: the random factories' old home
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
)
from .tensor import Tensor, _to_array


def generator() -> np.random.Generator:
    """A NumPy Generator seeded by one 64-bit draw from microtensor's global generator.

    For code that needs NumPy's sampling API: after `mt.manual_seed(s)` the same calls give
    the same NumPy generator. microtensor's own random functions draw PyTorch's streams instead.
    """
    return np.random.default_rng(int(_default_generator._u64(1)[0]))


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad = True
    return t


def _size(size, op: str) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int | np.integer) or isinstance(s, bool) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {size!r}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype, op: str) -> np.dtype:
    dt = _dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    return dt


def tensor(data: Any, dtype=None, requires_grad: bool = False, device=None, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of `data`: a number, a (nested) list, a NumPy array or a Tensor.

    dtypes as PyTorch: arrays, NumPy scalars and Tensors keep theirs; in Python data a bool is bool,
    an int int64 (outside int64: ValueError), a float the default dtype, and a list is the promotion of
    its elements (`[1, np.float64(0.5)]` is float64). With `dtype=` the values go straight to it:
    `mt.tensor(0.7, dtype=mt.float64).item() == 0.7`. Shape: data's nesting, e.g. (2, 3) for
    `[[1, 2, 3], [4, 5, 6]]`.
    """
    _check_device(device, "tensor")
    return _new(_to_array(data, dtype, copy=True), requires_grad)


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """Like tensor() (same dtype rules), but shares memory with a NumPy array or Tensor when no
    conversion is needed: `mt.as_tensor(a)[0] = 1` writes into `a`."""
    _check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor._wrap(_to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor._wrap(_to_array(array))


def zeros(
    *size, dtype=None, requires_grad: bool = False, device=None, layout=None, pin_memory=False
) -> Tensor:
    """A tensor of zeros; `size` as ints or one tuple; float32 unless `dtype` says otherwise.

    Example:

        >>> mt.zeros(2, 3).shape, mt.zeros((2,), dtype=mt.int64).tolist()
        (torch.Size([2, 3]), [0, 0])
    """
    _check_device(device, "zeros")
    return _new(np.zeros(_size(size, "zeros"), _float_dtype(dtype, "zeros")), requires_grad)


def ones(
    *size, dtype=None, requires_grad: bool = False, device=None, layout=None, pin_memory=False
) -> Tensor:
    """A tensor of ones; `size` as ints or one tuple; float32 unless `dtype` says otherwise.

    Example:

        >>> mt.ones(3).tolist()
        [1.0, 1.0, 1.0]
    """
    _check_device(device, "ones")
    return _new(np.ones(_size(size, "ones"), _float_dtype(dtype, "ones")), requires_grad)


def empty(
    *size, dtype=None, requires_grad: bool = False, device=None, layout=None, pin_memory=False
) -> Tensor:
    """An uninitialised tensor of the given size (its values are whatever memory held: fill it).

    Example:

        >>> mt.empty(2, 3).shape
        torch.Size([2, 3])
    """
    _check_device(device, "empty")
    return _new(np.empty(_size(size, "empty"), _float_dtype(dtype, "empty")), requires_grad)


def _number(value, op: str):
    """A fill value or range bound as a Python number (a 0-d Tensor or NumPy scalar gives its item)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"{op}: expected a number or a one-element tensor, got shape {value.shape}")
        return value.item()
    if isinstance(value, np.generic | np.ndarray) and np.ndim(value) == 0 and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, bool | int | float):
        return value
    raise TypeError(f"{op}: expected a number, got {type(value).__name__}")


def _number_dtype(value) -> np.dtype:
    """PyTorch's dtype for a Python number: bool, int64, or the default float dtype."""
    if isinstance(value, bool):
        return _dtypes.bool_
    return _dtypes.int64 if isinstance(value, int) else _dtypes.get_default_dtype()


def _fill(shape: tuple[int, ...], value, dtype, op: str) -> np.ndarray:
    """np.full with PyTorch's checks: a value outside an integer dtype's range raises."""
    dt = _number_dtype(value) if dtype is None else np.dtype(dtype)
    if dt.kind in "iu" and not isinstance(value, bool):
        info = np.iinfo(dt)
        # PyTorch lets a negative int wrap into an unsigned type (-1 -> 255) while its magnitude fits
        lo = -info.max if dt.kind == "u" and isinstance(value, int) else info.min
        if not lo <= value <= info.max:  # False for NaN too
            raise RuntimeError(f"{op}: value {value!r} cannot be converted to type {dt} without overflow")
        value = np.array(value, dtype=np.int64 if isinstance(value, int) else np.float64).astype(dt)
    return np.full(shape, value, dtype=dt)


def empty_like(
    t: Tensor, dtype=None, requires_grad: bool = False, device=None, layout=None, memory_format=None
) -> Tensor:
    """A tensor of `t`'s shape and dtype (or `dtype`); its values are unspecified (here zeros)."""
    _check_device(device, "empty_like")
    return _new(np.zeros(t.shape, t.dtype if dtype is None else np.dtype(dtype)), requires_grad)


def full(
    size, fill_value, dtype=None, requires_grad: bool = False, device=None, layout=None, pin_memory=False
) -> Tensor:
    """A tensor of `size` filled with `fill_value`.

    Without `dtype`, the dtype follows the kind of number, as PyTorch: bool, int64 for ints, the
    default dtype for floats (NumPy scalars too). `mt.full((2, 3), 0.5)` is a 2x3 float32 tensor.
    """
    _check_device(device, "full")
    value = _number(fill_value, "full")
    return _new(_fill(_size((size,), "full"), value, dtype, "full"), requires_grad)


def zeros_like(
    t: Tensor, dtype=None, requires_grad: bool = False, device=None, layout=None, memory_format=None
) -> Tensor:
    """Zeros of `t`'s shape and dtype (or `dtype`)."""
    _check_device(device, "zeros_like")
    return _new(np.zeros(t.shape, t.dtype if dtype is None else np.dtype(dtype)), requires_grad)


def ones_like(
    t: Tensor, dtype=None, requires_grad: bool = False, device=None, layout=None, memory_format=None
) -> Tensor:
    """Ones of `t`'s shape and dtype (or `dtype`)."""
    _check_device(device, "ones_like")
    return _new(np.ones(t.shape, t.dtype if dtype is None else np.dtype(dtype)), requires_grad)


def full_like(
    t: Tensor,
    fill_value,
    dtype=None,
    requires_grad: bool = False,
    device=None,
    layout=None,
    memory_format=None,
) -> Tensor:
    """`fill_value` in `t`'s shape and dtype (or `dtype`): `full_like(ints, 2.5)` is all 2s, as PyTorch."""
    _check_device(device, "full_like")
    value = _number(fill_value, "full_like")
    return _new(_fill(t.shape, value, t.dtype if dtype is None else dtype, "full_like"), requires_grad)


def arange(
    start,
    end=None,
    step=1,
    dtype=None,
    requires_grad: bool = False,
    device=None,
    layout=None,
    pin_memory=False,
) -> Tensor:
    """Values from start to end (exclusive) by step; integer unless any argument is a float."""
    _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange") for v in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:  # NumPy float scalars count as floats (default dtype), as in PyTorch
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtypes.get_default_dtype() if is_float else _dtypes.int64
    return _new(np.arange(start, end, step).astype(dtype, copy=False), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype=None, requires_grad: bool = False, device=None, layout=None
) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included; the default float dtype
    unless `dtype=` says otherwise (integer dtypes truncate toward zero).

    The values are PyTorch's to the last bit: step = (end − start) / (steps − 1) in the dtype, the
    first half counted up from start (start + step·i) and the second half down from end
    (end − step·(steps − 1 − i)), each a fused multiply-add rounded once, as PyTorch's CPU kernel is
    compiled. (NumPy's linspace rounds differently: about a third of float32 values differed by an ulp.)

    Example:

        >>> mt.linspace(0, 1, 5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    _check_device(device, "linspace")
    dt = _float_dtype(dtype, "linspace")
    start, end = (_number(v, "linspace") for v in (start, end))
    if not isinstance(steps, int | np.integer) or isinstance(steps, bool) or steps < 0:
        raise RuntimeError(f"linspace: number of steps must be a non-negative int, got {steps!r}")
    return _new(_linspace(start, end, int(steps), dt), requires_grad)


def _linspace(start, end, steps: int, dt: np.dtype) -> np.ndarray:
    # integer dtypes: start and end cast to the dtype, the step and the arithmetic in float64
    work = np.dtype(np.float64) if dt.kind != "f" or dt.itemsize < 4 else dt
    if dt.kind in "iu":
        info = np.iinfo(dt)
        for v in (start, end):
            if not info.min <= v <= info.max:
                raise RuntimeError(f"linspace: value {v} cannot be converted to type {dt} without overflow")
    if dt.kind in "iub":
        start, end = np.asarray(start).astype(dt), np.asarray(end).astype(dt)
    s, e = work.type(start), work.type(end)
    if steps <= 1:
        return np.full(steps, s).astype(dt)
    with np.errstate(all="ignore"):
        step = (e - s) / work.type(steps - 1)
        i = np.arange(steps)
        half = steps // 2
        n = steps - half
        up = _fma(np.full(half, step), i[:half].astype(work), np.full(half, s))
        down = _fma(np.full(n, -step), (steps - 1 - i[half:]).astype(work), np.full(n, e))
    return np.concatenate([up, down]).astype(dt)


def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a·b + c rounded once (a fused multiply-add), elementwise, for float32 or float64 arrays: the
    exact product and sum carried in two parts, and the last addition made round-to-odd so that the
    final rounding is the only one that counts (Boldo and Melquiond, "Emulation of FMA and correctly
    rounded sums: proved algorithms using rounding to odd", 2008)."""
    if a.dtype == np.float32:
        # the product of two float32 is exact in float64; the float64 sum made round-to-odd then
        # rounds to float32 as the exact value would
        return _sum_to_odd(a.astype(np.float64) * b.astype(np.float64), c.astype(np.float64)).astype(
            np.float32
        )
    hi = a * b
    lo = _two_product_error(a, b, hi)  # a·b = hi + lo exactly
    th, tl = _two_sum(c, hi)  # c + hi = th + tl exactly
    return th + _sum_to_odd(tl, lo)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, e) with s = fl(a + b) and a + b = s + e exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _sum_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b rounded to odd: when inexact, the neighbour whose last mantissa bit is 1 (float64)."""
    s, e = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    return np.where((e != 0) & even, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)


def _two_product_error(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The exact rounding error a·b − p of the float64 product p = fl(a·b) (Veltkamp-Dekker)."""
    split = 134217729.0  # 2**27 + 1
    ta = split * a
    a_hi = ta - (ta - a)
    a_lo = a - a_hi
    tb = split * b
    b_hi = tb - (tb - b)
    b_lo = b - b_hi
    return ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def eye(
    n: int,
    m: int | None = None,
    dtype=None,
    requires_grad: bool = False,
    device=None,
    layout=None,
    pin_memory=False,
) -> Tensor:
    """The n x m identity matrix (m defaults to n); float32 by default.

    Example:

        >>> mt.eye(2, 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check_device(device, "eye")
    n, m = _size((n, n if m is None else m), "eye")
    return _new(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), requires_grad)


def is_tensor(obj: Any) -> bool:
    """True if `obj` is a microtensor Tensor (a NumPy array is not).

    Example:

        >>> mt.is_tensor(mt.zeros(1)), mt.is_tensor([0.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of elements of a tensor (the product of its shape).

    Example:

        >>> mt.numel(mt.zeros(2, 3))
        6
    """
    return t.numel()
