"""microtensor.linalg: linear algebra with torch.linalg's names and semantics.

Every function works on a matrix or a batch of them (leading dims), and is differentiable where
PyTorch's is (decompositions: for distinct singular values / eigenvalues; see each docstring).

    import microtensor as mt
    A = mt.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
    x = mt.linalg.solve(A, mt.tensor([1.0, 2.0]))
    x.sum().backward()            # A.grad = −A⁻ᵀ 1 xᵀ
"""

from __future__ import annotations

from .ops import shape as _shape
from .ops.linalg import (
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)
from .ops.linalg import linalg_norm as norm

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm",
]  # fmt: skip


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The diagonal of each matrix in the last two dims (torch.linalg.diagonal's defaults).

    >>> mt.linalg.diagonal(mt.eye(3))   # tensor([1., 1., 1.])
    """
    return _shape.diagonal(A, offset, dim1, dim2)


def cross(input, other, *, dim: int = -1):  # noqa: A002
    """The cross product of 3-vectors along dim (default the last, as torch.linalg.cross).

    >>> mt.linalg.cross(mt.tensor([1.0, 0.0, 0.0]), mt.tensor([0.0, 1.0, 0.0]))   # [0., 0., 1.]
    """
    return _shape.cross(input, other, dim)
