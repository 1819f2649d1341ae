"""Layer normalisation and RMS normalisation as fused ops with closed-form backward.

Both normalise over the trailing dims `axes` of x. With x̂ the normalised input, r = 1/σ (or
1/rms) and g = grad·w the gradient reaching x̂, the derivative is the textbook one:

    layer_norm:  ∂x = r · (g − mean(g) − x̂ · mean(g · x̂))
    rms_norm:    ∂x = r · (g − x̂ · mean(g · x̂))

Backward recomputes x̂ and r from x (two reductions: cheaper than keeping them alive); under
create_graph=True it does so with Tensor ops, so the gradient is differentiable again.
"""

from __future__ import annotations

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
        mu = np.mean(x, axis=self.axes, keepdims=True)
        xc = x - mu
        var = np.mean(xc * xc, axis=self.axes, keepdims=True)
        r = 1.0 / np.sqrt(var + self.eps)
        xhat = xc * r
        out = xhat
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
        r = 1.0 / np.sqrt(np.mean(x * x, axis=self.axes, keepdims=True) + self.eps)
        xhat = x * r
        return xhat if w is None else xhat * w


def _stats(x, axes, eps, center: bool):
    """(x̂, r) of the forward, recomputed from x (arrays, or Tensors under create_graph)."""
    xc = x - _xp.mean(x, axes, True) if center else x
    var = _xp.mean(xc * xc, axes, True) + eps
    r = 1.0 / np.sqrt(var) if isinstance(var, np.ndarray) else var**-0.5
    return xc * r, r


@helper
def norm_xhat(x, axes, eps, center: bool):
    """The normalised input x̂ of layer_norm (center) or rms_norm."""
    return _stats(x, axes, eps, center)[0]


@helper
def norm_backward(grad, x, w, axes, eps, center: bool):
    """∂x of layer_norm (center) or rms_norm: r · (g − [mean(g)] − x̂ · mean(g · x̂)), g = grad · w."""
    xhat, r = _stats(x, axes, eps, center)
    g = grad if w is None else grad * w
    inner = g - xhat * _xp.mean(g * xhat, axes, True)
    if center:
        inner = inner - _xp.mean(g, axes, True)
    return inner * r
