"""Layer normalisation and RMS normalisation as fused ops with closed-form backward.

Both normalise over the trailing dims `axes` of x. With x̂ the normalised input, r = 1/σ (or
1/rms) and g = grad·w the gradient reaching x̂, the derivative is the textbook one:

    layer_norm:  ∂x = r · (g − mean(g) − x̂ · mean(g · x̂))
    rms_norm:    ∂x = r · (g − x̂ · mean(g · x̂))

Backward recomputes x̂ and r from x (two reductions: cheaper than keeping them alive), once per
node for ∂x and ∂w; under create_graph=True it does so with Tensor ops, so the gradient is
differentiable again. On arrays, a mean over the trailing dims is a matrix-vector product with a
vector of ones: for rows of tens to hundreds of elements BLAS does it ~5x faster than np.mean.
"""

from __future__ import annotations

import math

import numpy as np

from . import _xp
from .base import Op, helper


class LayerNorm(Op):
    """(x − mean) / √(var + eps) · w + b over the trailing `axes` (w, b optional)."""

    role = "layer"
    display = "LayerNorm"
    public_name = "layer_norm"
    meaning = (
        "x̂ = (x − μ) / √(σ² + eps) with μ and σ² the mean and (biased) variance of each sample over "
        "the trailing axes; with g = grad · w the gradient reaching x̂, ∂x = (g − mean(g) − x̂ · mean(g · x̂)) "
        "/ √(σ² + eps) (μ and σ² depend on every x of the sample); ∂w = grad · x̂, ∂b = grad"
    )
    __slots__ = ("axes", "eps")
    derivatives = {
        "x": "norm_backward(grad, x, w, self.axes, self.eps, True)",
        "w": "grad * norm_xhat(x, self.axes, self.eps, True)",
        "b": "grad",
    }

    def __init__(self, axes: tuple[int, ...], eps: float):
        self.axes, self.eps = axes, eps

    def forward(self, x, w=None, b=None):
        out = _stats(x, self.axes, self.eps, True)[0]
        if w is not None:
            out = out * w
        if b is not None:
            out = out + b
        return out


class RMSNorm(Op):
    """x / √(mean(x²) + eps) · w over the trailing `axes` (w optional)."""

    role = "layer"
    display = "RMSNorm"
    public_name = "rms_norm"
    meaning = (
        "x̂ = x / rms with rms = √(mean(x²) + eps) over the trailing axes; with g = grad · w the "
        "gradient reaching x̂, ∂x = (g − x̂ · mean(g · x̂)) / rms (rms depends on every x); ∂w = grad · x̂"
    )
    __slots__ = ("axes", "eps")
    derivatives = {
        "x": "norm_backward(grad, x, w, self.axes, self.eps, False)",
        "w": "grad * norm_xhat(x, self.axes, self.eps, False)",
    }

    def __init__(self, axes: tuple[int, ...], eps: float):
        self.axes, self.eps = axes, eps

    def forward(self, x, w=None):
        xhat = _stats(x, self.axes, self.eps, False)[0]
        return xhat if w is None else xhat * w


def _stats(x, axes, eps, center: bool):
    """(x̂, r) of the forward, recomputed from x (arrays, or Tensors under create_graph)."""
    if isinstance(x, np.ndarray):
        key = (x, axes, eps, center)
        if _LAST and _LAST[0] is not None and _LAST[0][0] is x and _LAST[0][1:] == key[1:]:
            return _LAST[1]  # ∂w of the same node: x̂ is already at hand
        out = _array_stats(x, axes, eps, center)
        if _LAST:  # inside a LayerNorm / RMSNorm node's backward
            _LAST[:] = [key, out]
        return out
    xc = x - _xp.mean(x, axes, True) if center else x
    r = (_xp.mean(xc * xc, axes, True) + eps) ** -0.5
    return xc * r, r


def _array_stats(x, axes, eps, center: bool):
    xc = x - _mean(x, axes) if center else x
    var = _mean(xc * xc, axes)
    var += eps
    r = 1.0 / np.sqrt(var)
    return xc * r, r


def _mean(a, axes):
    """The mean over `axes` (kept) of an array or Tensor; over the trailing dims of a float32/64
    array, as one matrix-vector product with ones."""
    k = len(axes)
    if (
        type(a) is not np.ndarray or a.dtype not in (np.float32, np.float64) or not a.size
        or axes != tuple(range(a.ndim - k, a.ndim))
    ):  # fmt: skip
        return _xp.mean(a, axes, True)
    n = math.prod(a.shape[a.ndim - k :])
    m = a.reshape(-1, n) @ np.ones(n, a.dtype)
    m /= n
    return m.reshape(a.shape[: a.ndim - k] + (1,) * k)


_LAST: list = []  # within one node's backward: [(x, axes, eps, center), (x̂, r)] shared by ∂x and ∂w


def _vjp_sharing(compiled):
    def _vjp(self, *args):
        _LAST[:] = [None, None]
        try:
            return compiled(self, *args)
        finally:
            _LAST.clear()

    return _vjp


LayerNorm._vjp = _vjp_sharing(LayerNorm._vjp)
RMSNorm._vjp = _vjp_sharing(RMSNorm._vjp)


@helper
def norm_xhat(x, axes, eps, center: bool):
    """The normalised input x̂ of layer_norm (center) or rms_norm."""
    return _stats(x, axes, eps, center)[0]


@helper
def norm_backward(grad, x, w, axes, eps, center: bool):
    """∂x of layer_norm (center) or rms_norm: r · (g − [mean(g)] − x̂ · mean(g · x̂)), g = grad · w."""
    xhat, r = _stats(x, axes, eps, center)
    g = grad if w is None else grad * w
    inner = g - xhat * _mean(g * xhat, axes)
    if center:
        inner = inner - _mean(g, axes)
    return inner * r
