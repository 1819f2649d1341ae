"""Statistics of whole tensors: dist (the p-norm of a difference), cov and corrcoef (the covariance
and correlation matrices of variables in rows, observations in columns, as NumPy's cov and
corrcoef), and histogram. dist, cov and corrcoef are compositions of recorded ops, so their
gradients are those ops' rules (as PyTorch's, which are composite too).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from .base import as_tensor, norm_dim
from .elementwise import _floating, cast, clamp, sqrt
from .linalg import matmul, vector_norm
from .sort import _return_type


def dist(input, other, p=2) -> Tensor:  # noqa: A002
    """The p-norm of input − other (broadcast): ‖input − other‖_p over all elements (p inf: the
    largest |difference|, 0: the number of differing elements). Floating tensors only.

    >>> mt.dist(mt.tensor([0.0, 0.0]), mt.tensor([3.0, 4.0]))   # tensor(5.)
    """
    a, b = as_tensor(input, "dist"), as_tensor(other, "dist")
    for t in (a, b):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"dist: expected floating point tensors, got {a.dtype} and {b.dtype}")
    try:
        np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(
            f"dist: the shapes of input {tuple(a.shape)} and other {tuple(b.shape)} do not broadcast"
        ) from None
    if isinstance(p, Tensor):
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise TypeError(f"dist: p must be a number, got {type(p).__name__}")
    return vector_norm(a - b, p)


def _variables(input, op: str) -> Tensor:
    x = as_tensor(input, op)
    if x.ndim > 2:
        raise RuntimeError(
            f"{op}(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
            f"dimensions (shape {tuple(x.shape)})"
        )
    return _floating(x)


def _weights(w, name: str, n: int, integral: bool) -> Tensor | None:
    if w is None:
        return None
    w = as_tensor(w, "cov")
    if w.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions, got shape {tuple(w.shape)}"
        )
    if w.numel() != n:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input "
            f"({n}), but got {w.numel()}"
        )
    kind = w._data.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype, got {w.dtype}")
    if not integral and kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype, got {w.dtype}")
    if (w._data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative, got a minimum of {w._data.min()}")
    return w


def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:  # noqa: A002
    """The covariance matrix of the variables in input's rows (observations in its columns; a 1-D
    input, or one row, is one variable: the result is 0-d). correction=1 is the unbiased estimate (N − 1),
    0 the maximum-likelihood one; fweights (integer repeat counts) and aweights (float importance
    weights) weight the observations, as NumPy's cov. Integers give the default float dtype.

    >>> mt.cov(mt.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))   # [[1., -1.], [-1., 1.]]
    """
    x = _variables(input, "cov")
    if isinstance(correction, bool) or not isinstance(correction, int | float):
        raise TypeError(f"cov(): correction must be a number, got {type(correction).__name__}")
    if x.ndim < 2:
        x = x.reshape(1, -1)
    n = x.shape[1]
    fw = _weights(fweights, "fweights", n, integral=True)
    aw = _weights(aweights, "aweights", n, integral=False)
    w = None
    if fw is not None:
        w = cast(fw, x.dtype)
    if aw is not None:
        w = cast(aw, x.dtype) if w is None else w * cast(aw, x.dtype)
    if w is None:
        avg = x.mean(1)
        norm = n - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aw is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * cast(aw, x.dtype)).sum() / w_sum
    if float(norm._data if isinstance(norm, Tensor) else norm) <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0; the result is inf or nan", UserWarning, stacklevel=2
        )
        norm = norm * 0 if isinstance(norm, Tensor) else 0
    xm = x - avg.reshape(-1, 1)
    c = matmul(xm if w is None else xm * w, xm.mT) / norm
    return c.reshape(()) if x.shape[0] == 1 else c  # one variable: 0-d (as PyTorch's squeeze)


def corrcoef(input) -> Tensor:  # noqa: A002
    """The Pearson correlation coefficients of the variables in input's rows (see cov), clamped to
    [−1, 1]; a 1-D input gives a 0-d 1 (nan for a constant row, as NumPy and PyTorch).

    >>> mt.corrcoef(mt.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))   # [[1., -1.], [-1., 1.]]
    """
    c = cov(_variables(input, "corrcoef"))
    if c.ndim == 0:
        return c / c
    std = sqrt(c.diagonal())
    c = c / std.reshape(-1, 1)
    c = c / std.reshape(1, -1)
    return clamp(c, -1, 1)


# ------------------------------------------------------------------------------- histogram
def _edges(lo: float, hi: float, n: int, dtype: np.dtype) -> np.ndarray:
    """n equally spaced edges computed in dtype as PyTorch's linspace does (the first half counted up
    from lo, the second down from hi), so elements on an edge fall in the same bin as in PyTorch."""
    lo_, hi_ = np.asarray(lo, dtype), np.asarray(hi, dtype)
    step = (hi_ - lo_) / np.asarray(n - 1, dtype)
    i = np.arange(n).astype(dtype)
    half = n // 2
    return np.where(np.arange(n) < half, lo_ + i * step, hi_ - (np.asarray(n - 1, dtype) - i) * step).astype(
        dtype
    )


histogram_t = _return_type("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False, out=None):  # noqa: A002
    """Counts of input's elements in bins: `bins` equal-width bins over `range` (default: the
    elements' min to max), or the given increasing bin edges (a 1-D tensor). The last bin includes
    its right edge; elements outside are not counted. weight: one weight per element (summed
    instead of counted); density: normalised so the histogram integrates to 1. Float input only.
    Not differentiable (as PyTorch). Returns (hist, bin_edges).

    >>> mt.histogram(mt.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0))   # hist [0., 2., 1., 1.]
    """
    x = as_tensor(input, "histogram")
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"histogram: input tensor and bins tensors should have the same float dtype, got {x.dtype}"
        )
    if out is not None:
        raise TypeError("histogram: out= is not supported by microtensor; assign the result instead")
    data = x._data.ravel()
    w = None
    if weight is not None:
        w = as_tensor(weight, "histogram")
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError(
                f"histogram: if weight tensor is provided, it should have the same shape as the input "
                f"tensor ({tuple(x.shape)}), got {tuple(w.shape)}"
            )
        w = w._data.ravel()
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError(
                "histogram: bins tensor should have one dimension and at least 1 element, "
                f"got shape {edges.shape}"
            )
        if range is not None:
            raise RuntimeError("histogram: range is not used with a bins tensor; leave it None")
        if (np.diff(edges) < 0).any():
            raise RuntimeError("histogram: bin edges must be increasing")
    else:
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins <= 0:
            raise RuntimeError(f"histogram: bins must be > 0, got {bins!r}")
        if range is None:
            lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
        else:
            lo, hi = (float(v) for v in range)
            if lo > hi:
                raise RuntimeError(f"histogram: min should not exceed max, got min {lo} max {hi}")
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"histogram: range of [{lo}, {hi}] is not finite")
        if lo == hi:  # as PyTorch (and NumPy): a degenerate range is widened by 0.5 either side
            lo, hi = lo - 0.5, hi + 0.5
        edges = _edges(lo, hi, int(bins) + 1, x._data.dtype)
    # the bin of each element, by comparisons in input's dtype against the edges (the last bin
    # takes its right edge); elements outside the edges (and NaN) are not counted
    pos = np.searchsorted(edges, data, side="right") - 1
    pos[data == edges[-1]] = edges.size - 2
    inside = (pos >= 0) & (pos < edges.size - 1) & ~np.isnan(data)
    hist = np.bincount(pos[inside], weights=None if w is None else w[inside], minlength=edges.size - 1)
    hist = hist.astype(x._data.dtype)
    if density:
        widths = np.diff(edges).astype(x._data.dtype)
        total = hist.sum()
        hist = hist / (total * widths)
    dt = x._data.dtype if x._data.dtype.kind == "f" else _dtypes.get_default_dtype()
    return histogram_t(Tensor._wrap(hist.astype(dt)), Tensor._wrap(edges.astype(dt, copy=True)))


# ------------------------------------------------------------------------ quantile, nanquantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim: bool, interpolation: str, name: str, ignore_nan: bool) -> Tensor:  # noqa: A002
    """The q-th quantiles along dim (None: of all elements), as PyTorch computes them: sort, take
    the ranks q · (n − 1) (n: the count of non-NaN values for nanquantile), and interpolate between
    the neighbouring values. Differentiable through the sort, the picks and the interpolation."""
    from .math import lerp
    from .reduce import take_along_dim
    from .shape import expand, movedim, reshape, unsqueeze
    from .sort import sort

    x = as_tensor(input, name)
    if x._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {x.dtype}")
    if isinstance(q, Tensor):
        if q.dtype != x.dtype:
            raise RuntimeError(
                f"{name}() q tensor must be same dtype as the input tensor ({x.dtype}), got {q.dtype}"
            )
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
        qs = q._data
    elif isinstance(q, int | float) and not isinstance(q, bool):
        qs = np.asarray(q, x._data.dtype)
    else:
        raise TypeError(f"{name}(): q must be a float or a Tensor, got {type(q).__name__}")
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1], got {qs.tolist()}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
            f"Got {interpolation}"
        )
    if x.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if dim is None:
        xs, d = reshape(x, (-1,)), 0
    else:
        d = norm_dim(dim, x.ndim, name)
        xs = x if x.ndim else reshape(x, (1,))
    rows = movedim(xs, d, -1) if xs.ndim > 1 else xs
    srt = sort(rows, -1).values
    data, n = srt._data, srt.shape[-1]
    nan = np.isnan(data)
    dt = data.dtype
    qv = qs.reshape(qs.shape + (1,) * srt.ndim)  # (Q?, 1, ..., 1): one rank per q and per row
    if ignore_nan:
        valid = (~nan).sum(-1, keepdims=True)
        ranks = qv * (valid - 1).astype(dt)
        ranks = np.where(valid == 0, np.asarray(0, dt), ranks)  # all NaN: rank 0 (a NaN)
    else:
        ranks = qv * np.asarray(n - 1, dt)
        ranks = np.where(nan.any(-1, keepdims=True), np.asarray(n - 1, dt), ranks)  # any NaN: a NaN
    ranks = np.asarray(ranks, dt)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)  # half to even, as PyTorch
    below = ranks.astype(np.int64)
    values = srt if qs.ndim == 0 else expand(unsqueeze(srt, 0), *below.shape[:-1], n)
    out = take_along_dim(values, Tensor._wrap(below), -1)
    if interpolation in ("linear", "midpoint"):
        weights = np.full(ranks.shape, 0.5, dt) if interpolation == "midpoint" else (ranks - below).astype(dt)
        above = take_along_dim(values, Tensor._wrap(np.ceil(ranks).astype(np.int64)), -1)
        out = lerp(out, above, Tensor._wrap(weights))
    out = reshape(out, tuple(out.shape[:-1]))  # (Q?, rows...)
    if keepdim:
        lead = tuple(out.shape[:1]) if qs.ndim else ()
        if dim is None:
            return reshape(out, lead + (1,) * x.ndim)
        if x.ndim:
            out = unsqueeze(out, d + len(lead))
    elif dim is not None and x.ndim == 0:
        out = reshape(out, tuple(out.shape[:-1]))  # a 0-d input: the (1,) it was viewed as goes
    return out


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None) -> Tensor:  # noqa: A002
    """The q-th quantiles of input along dim (None: of all elements), q a float or a 1-D tensor in
    [0, 1] (then the result gains a leading dim, one entry per q). interpolation: 'linear',
    'lower', 'higher', 'midpoint' or 'nearest' between the two neighbouring sorted values. A NaN
    in a reduced row makes that row's quantiles NaN. Float tensors only; differentiable.

    >>> mt.quantile(mt.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)   # tensor(2.5000)
    """
    if out is not None:
        raise TypeError("quantile: out= is not supported by microtensor; assign the result instead")
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", ignore_nan=False)


def nanquantile(
    input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None
) -> Tensor:  # noqa: A002
    """quantile ignoring NaN: each row's quantiles come from its non-NaN values (NaN if it has none).

    >>> mt.nanquantile(mt.tensor([1.0, float('nan'), 3.0]), 0.5)   # tensor(2.)
    """
    if out is not None:
        raise TypeError("nanquantile: out= is not supported by microtensor; assign the result instead")
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", ignore_nan=True)


def renorm(input, p, dim: int, maxnorm) -> Tensor:  # noqa: A002
    """input with each slice along dim (input.select(dim, i)) whose p-norm exceeds maxnorm scaled
    down to norm maxnorm (by maxnorm / (norm + 1e-7), as PyTorch); the other slices unchanged.
    Differentiable, the scale factor included.

    >>> mt.renorm(mt.tensor([[1.0, 2.0], [3.0, 4.0]]), 2, 0, 2.5)   # [[1., 2.], [1.5, 2.]]
    """
    from .elementwise import where

    x = as_tensor(input, "renorm")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point tensor, got {x.dtype}")
    if isinstance(p, bool) or not isinstance(p, int | float) or p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p!r}")
    if isinstance(maxnorm, bool) or not isinstance(maxnorm, int | float) or maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm!r}")
    if x.ndim <= 1:
        raise RuntimeError(
            f"renorm: input needs at least 2 dimensions, got {x.ndim} (shape {tuple(x.shape)})"
        )
    d = norm_dim(dim, x.ndim, "renorm")
    others = tuple(a for a in range(x.ndim) if a != d)
    norms = vector_norm(x, p, others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return x * factor
