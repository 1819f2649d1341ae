"""Matrix multiplication: 1-D, 2-D, batched, with broadcast batch dims (as np.matmul)."""

from __future__ import annotations

from ..tensor import Tensor
from . import _xp
from .base import Op
from .elementwise import _operands


class MatMul(Op):
    public_name = "matmul"
    formula = "∂a = grad @ bᵀ, ∂b = aᵀ @ grad"

    def forward(self, a, b):
        return a @ b

    def backward(self, g, out, a, b):
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return (g * b if self.needs[0] else None, g * a if self.needs[1] else None)
        # Treat vectors as matrices (a row for a, a column for b), as matmul does.
        a2, b2, g2 = a, b, g
        if a.ndim == 1:
            a2 = a.reshape((1,) + a.shape)
            g2 = g2.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            b2 = b.reshape(b.shape + (1,))
            g2 = g2.reshape(g2.shape + (1,))
        ga = gb = None
        if self.needs[0]:
            ga = _xp.sum_to(g2 @ _xp.mT(b2), a2.shape)
            ga = ga.reshape(a.shape) if a.ndim == 1 else ga
        if self.needs[1]:
            gb = _xp.sum_to(_xp.mT(a2) @ g2, b2.shape)
            gb = gb.reshape(b.shape) if b.ndim == 1 else gb
        return ga, gb

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
    a, b = _operands(a, b, "matmul")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors, not Python scalars")
    return MatMul()(a, b)
