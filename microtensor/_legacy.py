"""The legacy tensor types of older PyTorch code: `mt.FloatTensor([1, 2])`, `mt.LongTensor(3, 4)`,
`isinstance(x, mt.FloatTensor)`, `x.type(mt.DoubleTensor)`.

Each is a constructor for one dtype (as torch.FloatTensor), and an isinstance test for Tensors
of that dtype; new code writes mt.tensor(data, dtype=...) and mt.empty(shape, dtype=...).
"""

from __future__ import annotations

import numpy as np

from . import _dtypes
from .size import Size
from .tensor import Tensor


class _LegacyType(type):
    dtype: np.dtype

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args) -> Tensor:
        name = cls.__name__
        if not args:
            return Tensor(np.empty(0, cls.dtype))
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)
        ):
            shape = tuple(args[0]) if isinstance(args[0], Size) else args
            if any(n < 0 for n in shape):
                raise RuntimeError(f"{name}: negative dimension in size {shape}")
            return Tensor(np.zeros(shape, cls.dtype))  # PyTorch leaves it uninitialized: any values
        if len(args) > 1:
            raise TypeError(f"{name}: expected a size (ints) or one sequence of data, got {args!r:.80}")
        (data,) = args
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:  # PyTorch refuses to convert here (use .type() or .to())
                raise TypeError(f"{name}: expected a tensor of dtype {cls.dtype}, got {data.dtype}")
            return data
        if cls.dtype.kind in "iub":  # PyTorch truncates floats here (LongTensor([1.7]) is [1])
            data = np.asarray(data).astype(cls.dtype)
        return Tensor(data, dtype=cls.dtype)


def _legacy(name: str, dtype: np.dtype) -> type:
    doc = f"""Tensors of dtype {dtype} (as torch.{name}): {name}(data), {name}(*size) or {name}().

        mt.{name}([1, 2])     # a {dtype} tensor
        mt.{name}(2, 3)       # shape (2, 3)
    """
    return _LegacyType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": "microtensor"})


FloatTensor = _legacy("FloatTensor", _dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", _dtypes.float64)
HalfTensor = _legacy("HalfTensor", _dtypes.float16)
LongTensor = _legacy("LongTensor", _dtypes.int64)
IntTensor = _legacy("IntTensor", _dtypes.int32)
ShortTensor = _legacy("ShortTensor", _dtypes.int16)
CharTensor = _legacy("CharTensor", _dtypes.int8)
ByteTensor = _legacy("ByteTensor", _dtypes.uint8)
BoolTensor = _legacy("BoolTensor", _dtypes.bool_)
