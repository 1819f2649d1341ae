"""Matrix multiplication: 1-D, 2-D, batched, with broadcast batch dims (as np.matmul)."""

from __future__ import annotations

from ..tensor import Tensor
from .base import Op, helper
from .elementwise import _operands


class MatMul(Op):
    role = "layer"
    public_name = "matmul"
    # a vector is a row (a) or a column (b) of a matrix, as matmul treats it; `unrow`/`uncol` drop that
    # axis again, and the engine sums the gradient over broadcast batch dims
    derivatives = {
        "a": "unrow(as_matrix(grad, a, b) @ mT(as_col(b)), a)",
        "b": "uncol(mT(as_row(a)) @ as_matrix(grad, a, b), b)",
    }

    def forward(self, a, b):
        return a @ b

    def error_message(self, arrays, err: Exception) -> str:
        a, b = arrays
        if a.ndim == 0 or b.ndim == 0:
            return f"matmul: both arguments need to be at least 1-D, got shapes {a.shape} and {b.shape}"
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            return (
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k_a} columns vs {k_b} rows)"
            )
        return f"matmul: batch dimensions of {a.shape} and {b.shape} are not broadcastable ({err})"


def matmul(a, b) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 2-D @ 2-D a matrix product,
    a 1-D operand is treated as a row/column vector (its dim removed afterwards), and leading
    batch dims broadcast. A shape mismatch names both shapes.

        >>> mt.matmul(mt.ones(4, 2, 3), mt.ones(3, 5)).shape
        torch.Size([4, 2, 5])
    """
    a, b = _operands(a, b, "matmul")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors, not Python scalars")
    return MatMul()(a, b)


@helper
def as_row(a):
    """A 1-D a as a (1, n) matrix; a matrix (or a batch of them) as it is."""
    return a.reshape((1,) + tuple(a.shape)) if a.ndim == 1 else a


@helper
def as_col(b):
    """A 1-D b as an (n, 1) matrix; a matrix (or a batch of them) as it is."""
    return b.reshape(tuple(b.shape) + (1,)) if b.ndim == 1 else b


@helper
def as_matrix(grad, a, b):
    """grad of a @ b with the axes that a vector a (a row) or b (a column) dropped restored as 1."""
    shape = tuple(grad.shape)
    if a.ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b.ndim > 1 else shape + (1,)
    if b.ndim == 1:
        shape = shape + (1,)
    return grad.reshape(shape) if shape != tuple(grad.shape) else grad


@helper
def unrow(g, a):
    """For a 1-D a: g (..., 1, n) without its row axis; else g."""
    return g.reshape(tuple(g.shape[:-2]) + tuple(g.shape[-1:])) if a.ndim == 1 else g


@helper
def uncol(g, b):
    """For a 1-D b: g (..., n, 1) without its column axis; else g."""
    return g.reshape(tuple(g.shape[:-1])) if b.ndim == 1 else g
