"""Activation ops (issue 13): one node each, with a closed-form derivative beside the forward.

Each forward follows PyTorch's formula at the edges as well as in the middle: which side of a kink
gets the gradient (hardtanh passes none at its bounds, elu takes its left branch at 0), what NaN and
±inf give, and overflow-free forms for the log-space ones (softplus, logsigmoid, mish). Activations
that are exact, equally fast compositions of existing ops (softsign, tanhshrink, softmin, glu) are
built in microtensor/nn/functional.py instead and record those ops.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import _xp
from .base import Op, helper

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_C = 0.044715  # the cubic coefficient of GELU's tanh approximation
# math.erf on every element: NumPy has no erf, and a polynomial fit would lose float64's last
# digits against PyTorch; frompyfunc keeps libm's correctly rounded values
_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    return _ERF(x).astype(x.dtype) if x.ndim else np.asarray(math.erf(x), x.dtype)


def _softplus(x):
    """log(1 + e^x) without overflow for any x (NaN stays NaN)."""
    return np.logaddexp(0, x)


# ------------------------------------------------------------------- GELU
class NormalCdf(Op):
    """Φ(x), the standard normal CDF: GELU's derivative records it under create_graph=True."""

    derivatives = {"x": "grad * exp(-(x * x) / 2) * 0.3989422804014327"}  # φ(x) = e^(−x²/2) / √(2π)

    def forward(self, x):
        return 0.5 * (1 + _erf(x * (1 / math.sqrt(2))))


class Gelu(Op):
    """x · Φ(x), with Φ the standard normal CDF (GELU, approximate='none')."""

    role = "activation"
    display = "GELU"
    public_name = "gelu"
    derivatives = {"x": "grad * gelu_grad(x)"}

    def forward(self, x):
        return x * (0.5 * (1 + _erf(x * (1 / math.sqrt(2)))))


@helper
def gelu_grad(x):
    """Φ(x) + x·φ(x)."""
    if isinstance(x, Tensor):
        return NormalCdf()(x) + x * (-(x * x) / 2).exp() * _INV_SQRT_2PI
    with np.errstate(all="ignore"):  # ±inf gives NaN (∞ · 0), as PyTorch, without a warning
        return 0.5 * (1 + _erf(x * (1 / math.sqrt(2)))) + x * np.exp(-(x * x) / 2) * _INV_SQRT_2PI


class GeluTanh(Op):
    """x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))) (GELU, approximate='tanh')."""

    role = "activation"
    display = "GELU(tanh)"
    public_name = "gelu"
    derivatives = {"x": "grad * gelu_tanh_grad(x)"}

    def forward(self, x):
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)))


@helper
def gelu_tanh_grad(x):
    """(1 + t)/2 + x/2·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), with t the tanh of the forward."""
    with np.errstate(all="ignore"):  # ±inf gives NaN (∞ · 0), as PyTorch, without a warning
        u = _SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)
        t = u.tanh() if isinstance(u, Tensor) else np.tanh(u)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x * x))


# ------------------------------------------------------------ SiLU, Mish
class Silu(Op):
    """x · σ(x) (SiLU, also called swish)."""

    role = "activation"
    display = "SiLU"
    derivatives = {"x": "grad * silu_grad(x)"}

    def forward(self, x):
        return x / (1 + np.exp(-x))  # PyTorch's form: silu(−inf) = nan, silu(inf) = inf


@helper
def silu_grad(x):
    """σ(x)·(1 + x·(1 − σ(x)))."""
    with np.errstate(all="ignore"):  # ±inf gives NaN (∞ · 0), as PyTorch, without a warning
        s = _xp.sigmoid(x)
        return s * (1 + x * (1 - s))


@helper
def softplus_pos(x):
    """log(1 + e^x) without overflow, on arrays and Tensors."""
    if isinstance(x, Tensor):  # the op (not abs and relu, whose kinks at 0 would spoil the next order)
        return Softplus()(x)
    return _softplus(x)


class Mish(Op):
    """x · tanh(softplus(x))."""

    role = "activation"
    derivatives = {"x": "grad * mish_grad(x)"}

    def forward(self, x):
        return x * np.tanh(_softplus(x))


@helper
def mish_grad(x):
    """tanh(sp) + x·σ(x)·(1 − tanh²(sp)), with sp = softplus(x)."""
    with np.errstate(all="ignore"):  # ±inf gives NaN (∞ · 0), as PyTorch, without a warning
        sp = softplus_pos(x)
        t = sp.tanh() if isinstance(sp, Tensor) else np.tanh(sp)
        return t + x * _xp.sigmoid(x) * (1 - t * t)


# --------------------------------------------------------- ELU, SELU, CELU
class Elu(Op):
    """scale · (x if x > 0 else alpha·(e^(x·input_scale) − 1)): elu, selu and celu in one op."""

    __slots__ = ("alpha", "scale", "input_scale")
    role = "activation"
    display = "ELU"
    # PyTorch takes the left branch at x = 0 (both give the same slope when alpha·input_scale = 1)
    derivatives = {"x": "elu_grad(grad, x, self.alpha, self.scale, self.input_scale)"}

    def __init__(self, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale

    def forward(self, x):
        neg = self.alpha * np.expm1(np.minimum(x, 0) * self.input_scale)
        out = np.where(x <= 0, neg, x)
        return out * self.scale if self.scale != 1 else out


@helper
def elu_grad(grad, x, alpha, scale, input_scale):
    """grad · scale where x > 0, else grad · scale·alpha·input_scale · e^(x·input_scale)."""
    # min(x, 0): the branch not taken must not overflow (0 · inf would leak NaN into second order)
    left = _xp.exp(-_xp.clamp_min(-x, 0) * input_scale) * (scale * alpha * input_scale)
    return _xp.where(x <= 0, grad * left, grad * scale)


# ------------------------------------------------ piecewise-linear family
class Hardtanh(Op):
    """x clamped to [min_val, max_val]; no gradient at or beyond the bounds (as PyTorch)."""

    __slots__ = ("min_val", "max_val")
    role = "activation"
    derivatives = {"x": "where((x <= self.min_val) | (x >= self.max_val), 0, grad)"}

    def __init__(self, min_val: float, max_val: float):
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return np.clip(x, self.min_val, self.max_val)


class Hardsigmoid(Op):
    """relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between."""

    role = "activation"
    derivatives = {"x": "where((x > -3) & (x < 3), grad / 6, 0)"}

    def forward(self, x):
        return np.clip(x + 3, 0, 6) / 6


class Hardswish(Op):
    """x · relu6(x + 3) / 6."""

    role = "activation"
    # PyTorch's sides: 0 up to and at −3, 1 from 3 on (and for NaN)
    derivatives = {"x": "where(x <= -3, 0, where(x < 3, grad * (2 * x + 3) / 6, grad))"}

    def forward(self, x):
        return x * np.clip(x + 3, 0, 6) / 6


class Softshrink(Op):
    """x − lambd·sign(x) where |x| > lambd, else 0."""

    __slots__ = ("lambd",)
    role = "activation"
    derivatives = {"x": "where((x >= -self.lambd) & (x <= self.lambd), 0, grad)"}

    def __init__(self, lambd: float):
        self.lambd = lambd

    def forward(self, x):
        return np.where((x >= -self.lambd) & (x <= self.lambd), 0, x - self.lambd * np.sign(x)).astype(
            x.dtype, copy=False
        )


class Hardshrink(Op):
    """x where |x| > lambd, else 0."""

    __slots__ = ("lambd",)
    role = "activation"
    derivatives = {"x": "where((x >= -self.lambd) & (x <= self.lambd), 0, grad)"}

    def __init__(self, lambd: float):
        self.lambd = lambd

    def forward(self, x):
        return np.where((x >= -self.lambd) & (x <= self.lambd), 0, x).astype(x.dtype, copy=False)


class Threshold(Op):
    """x where x > threshold, else value."""

    __slots__ = ("threshold", "value")
    role = "activation"
    derivatives = {"x": "where(x <= self.threshold, 0, grad)"}

    def __init__(self, threshold: float, value: float):
        self.threshold, self.value = threshold, value

    def forward(self, x):
        return np.where(x <= self.threshold, np.asarray(self.value, x.dtype), x)


class Prelu(Op):
    """x where x > 0, else weight·x (weight broadcast along the channel dim)."""

    role = "activation"
    display = "PReLU"
    derivatives = {"x": "where(x > 0, grad, grad * w)", "w": "where(x > 0, 0, grad * x)"}

    def forward(self, x, w):
        return np.where(x > 0, x, w * x)


# ------------------------------------------------------------ log-space
class Softplus(Op):
    """log(1 + e^(beta·x)) / beta, and x itself where beta·x > threshold (PyTorch's switch)."""

    __slots__ = ("beta", "threshold")
    role = "activation"
    derivatives = {"x": "where(x * self.beta > self.threshold, grad, grad * sigmoid(x * self.beta))"}

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        bx = x * self.beta if self.beta != 1 else x
        soft = np.log1p(np.exp(bx))
        if self.beta != 1:
            soft = soft / self.beta
        return np.where(bx > self.threshold, x, soft)


class LogSigmoid(Op):
    """log σ(x) = −softplus(−x), computed as min(x, 0) − log(1 + e^−|x|) (no overflow)."""

    role = "activation"
    display = "LogSigmoid"
    derivatives = {"x": "grad * sigmoid(-x)"}

    def forward(self, x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class Rrelu(Op):
    """x · slope, with one drawn slope per element (1 where x > 0): rrelu while training."""

    __slots__ = ("slopes",)
    role = "activation"
    display = "RReLU"
    derivatives = {"x": "grad * self.slopes"}

    def __init__(self, slopes: np.ndarray):
        self.slopes = slopes

    def forward(self, x):
        return x * self.slopes
