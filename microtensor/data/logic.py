"""The truth tables of the two-input logic gates: the classic first problems for a neural network.

    X, y = xor()                 # X (4, 2), y (4, 1), float32
    X, y = logic_gate("nand")
    ds = logic_dataset("or")     # the same as a TensorDataset

The rows are always in the order (0,0), (0,1), (1,0), (1,1). AND, OR and NAND are
linearly separable (one layer solves them); XOR is not.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from .dataset import TensorDataset

INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))

TRUTH_TABLES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}

GATES = tuple(TRUTH_TABLES)


def logic_gate(name: str, dtype=_dtypes.float32) -> tuple[Tensor, Tensor]:
    """(X, y) for the gate `name` ("and", "or", "nand" or "xor", any case): X (4, 2), y (4, 1).

    Fresh tensors on every call, of `dtype` (float32 unless given).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in TRUTH_TABLES:
        raise ValueError(f"logic_gate: unknown gate {name!r}; choose one of {', '.join(GATES)}")
    dt = np.dtype(dtype)
    X = np.array(INPUTS, dtype=dt)
    y = np.array(TRUTH_TABLES[key], dtype=dt).reshape(4, 1)
    return Tensor._wrap(X), Tensor._wrap(y)


def logic_dataset(name: str, dtype=_dtypes.float32) -> TensorDataset:
    """The truth table of gate `name` as a TensorDataset of 4 samples (x (2,), y (1,))."""
    return TensorDataset(*logic_gate(name, dtype))


def xor(dtype=_dtypes.float32) -> tuple[Tensor, Tensor]:
    """XOR: y = 1 when exactly one input is 1. Not linearly separable."""
    return logic_gate("xor", dtype)


def and_(dtype=_dtypes.float32) -> tuple[Tensor, Tensor]:
    """AND: y = 1 when both inputs are 1 (`and` is a Python keyword, hence the underscore)."""
    return logic_gate("and", dtype)


def or_(dtype=_dtypes.float32) -> tuple[Tensor, Tensor]:
    """OR: y = 1 when either input is 1 (`or` is a Python keyword, hence the underscore)."""
    return logic_gate("or", dtype)


def nand(dtype=_dtypes.float32) -> tuple[Tensor, Tensor]:
    """NAND: y = 0 only when both inputs are 1."""
    return logic_gate("nand", dtype)
