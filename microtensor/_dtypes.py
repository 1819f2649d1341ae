"""dtypes: NumPy's dtype objects under PyTorch's names, the default float dtype,
and PyTorch's type-promotion rules (which differ from NumPy's in two places:
an integer tensor meeting a float promotes to the *float's* dtype, and a 0-d
tensor does not widen a dimensioned tensor of the same category)."""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_default = [float32]


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats become (float32 unless changed)."""
    return _default[0]


def set_default_dtype(dtype) -> None:
    """Set the dtype Python floats become; only float32 and float64 are allowed."""
    dt = np.dtype(dtype)
    if dt not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 are supported, got {dt}")
    _default[0] = dt


def is_floating(dt: np.dtype) -> bool:
    return dt.kind == "f"


def category(dt: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats (PyTorch's promotion categories)."""
    return 2 if dt.kind == "f" else (0 if dt.kind == "b" else 1)


def result_type(a, b) -> np.dtype:
    """PyTorch's result dtype for a binary op between two Tensors."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = category(da), category(db)
    if ca != cb:
        return da if ca > cb else db
    if a.ndim == 0 and b.ndim > 0:
        return db
    if b.ndim == 0 and a.ndim > 0:
        return da
    return np.promote_types(da, db)


def scalar_result_type(dt: np.dtype, scalar) -> np.dtype:
    """PyTorch's result dtype for a Tensor of dtype `dt` combined with a Python scalar."""
    if isinstance(scalar, bool) or category(dt) >= (2 if isinstance(scalar, float) else 1):
        return dt
    return get_default_dtype() if isinstance(scalar, float) else int64


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's `promote_types`: the higher category wins outright (int64 with float16 is float16,
    where NumPy says float64); within a category, the smallest type holding both (NumPy's lattice)."""
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


class finfo:
    """The limits of a floating dtype, as torch.finfo: bits, eps, max, min, tiny (=
    smallest_normal), resolution and dtype (its name). No argument: the default dtype.

        mt.finfo(mt.float32).eps    # 1.1920928955078125e-07
    """

    def __init__(self, type=None):  # noqa: A002 - PyTorch's name
        dt = get_default_dtype() if type is None else np.dtype(type)
        if dt.kind != "f":
            raise TypeError(f"finfo: expected a floating point dtype, got {dt}")
        info = np.finfo(dt)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # (NumPy's is rounded to the dtype: 0.0010004 for half)
        self.dtype = dt.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """The limits of an integer dtype, as torch.iinfo: bits, max, min and dtype (its name).

        mt.iinfo(mt.int64).max     # 9223372036854775807
    """

    def __init__(self, type):  # noqa: A002 - PyTorch's name
        dt = np.dtype(type)
        if dt.kind not in "iu":
            raise TypeError(f"iinfo: expected an integer dtype, got {dt}")
        info = np.iinfo(dt)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), dt.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
