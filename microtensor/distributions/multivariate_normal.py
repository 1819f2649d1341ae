"""MultivariateNormal: the Gaussian over vectors, by covariance, precision or Cholesky factor."""

from __future__ import annotations

import math

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat: Tensor, bvec: Tensor) -> Tensor:
    """bmat @ bvec for batches of matrices and vectors whose batch shapes broadcast."""
    return bmat.matmul(bvec.unsqueeze(-1)).squeeze(-1)


def _tril_solve(L: Tensor, B: Tensor) -> Tensor:
    """L^-1 B for lower-triangular L (batches broadcast).

    PyTorch calls a triangular solve, which reads only L's lower triangle; the
    general solve here is given L.tril() so that, as there, the upper triangle
    neither enters the result nor receives a gradient. Values agree to rounding.
    """
    import microtensor as mt

    batch = mt.broadcast_shapes(tuple(L.shape[:-2]), tuple(B.shape[:-2]))
    n = L.shape[-1]
    return mt.linalg.solve(
        L.tril().expand(tuple(batch) + (n, n)), B.expand(tuple(batch) + tuple(B.shape[-2:]))
    )


def _batch_mahalanobis(bL: Tensor, bx: Tensor) -> Tensor:
    """The squared Mahalanobis distance x^T (L L^T)^-1 x = |L^-1 x|^2 for batches of L and x."""
    return _tril_solve(bL, bx.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """The lower Cholesky factor L of P^-1 (L L^T = P^-1), without inverting P: flip P, factor it,
    and invert the (lower-triangular) flipped factor."""
    import microtensor as mt

    Lf = mt.linalg.cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    Id = mt.eye(P.shape[-1], dtype=P.dtype)
    return _tril_solve(L_inv, Id).tril()  # exactly triangular, as a triangular solve returns it


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
    validate_args=None).

    Give loc (..., n) and exactly one of a positive-definite covariance matrix,
    a positive-definite precision matrix, or the lower-triangular Cholesky factor
    of the covariance (scale_tril, positive diagonal). Everything is computed
    from the Cholesky factor; rsample is loc + L @ eps with eps standard normal
    (PyTorch's construction and stream: eps is PyTorch's exactly, the product L @ eps
    and a Cholesky factor computed here equal PyTorch's to rounding).

        d = MultivariateNormal(mt.zeros(2), covariance_matrix=mt.eye(2))
        x = d.rsample((5,))            # shape (5, 2)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args: bool | None = None) -> None:  # fmt: skip
        import microtensor as mt

        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a Tensor, got {type(loc).__name__}")
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
            )
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}  # fmt: skip
        name, matrix = next((k, v) for k, v in given.items() if v is not None)
        if not isinstance(matrix, Tensor):
            raise TypeError(f"MultivariateNormal: {name} must be a Tensor, got {type(matrix).__name__}")
        if matrix.dim() < 2:
            raise ValueError(
                f"{name} matrix must be at least two-dimensional, with optional leading batch dimensions"
            )
        if matrix.shape[-2:] != (loc.shape[-1], loc.shape[-1]):
            raise ValueError(
                f"MultivariateNormal: {name} of shape {tuple(matrix.shape)} does not match loc of shape "
                f"{tuple(loc.shape)}: expected (..., {loc.shape[-1]}, {loc.shape[-1]})"
            )
        batch_shape = tuple(mt.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = mt.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        """This distribution with loc and the matrix given expanded to batch_shape."""
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tuple(Size(batch_shape))
        loc_shape = batch_shape + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape) + tuple(self._event_shape) + tuple(self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """The lower Cholesky factor L of the covariance (L L^T = covariance)."""
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """L L^T."""
        L = self._unbroadcasted_scale_tril
        return L.matmul(L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """(L L^T)^-1 = L^-T L^-1."""
        import microtensor as mt

        L = self._unbroadcasted_scale_tril
        L_inv = _tril_solve(L, mt.eye(L.shape[-1], dtype=L.dtype))
        return L_inv.mT.matmul(L_inv).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        """loc."""
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The covariance's diagonal: the row sums of L squared."""
        return (
            self._unbroadcasted_scale_tril.pow(2)
            .sum(-1)
            .expand(tuple(self._batch_shape) + tuple(self._event_shape))
        )

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + L @ eps, eps standard normal of shape sample_shape + batch_shape + (n,)."""
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value) -> Tensor:
        """-(n log(2 pi) + |L^-1 (value - loc)|^2) / 2 - sum(log diag L)."""
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self) -> Tensor:
        """n (1 + log(2 pi)) / 2 + sum(log diag L)."""
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(tuple(self._batch_shape))
