"""The gamma family: lgamma (log |Γ(x)|), digamma ψ = (log Γ)', polygamma ψ⁽ⁿ⁾ and the multivariate
log-gamma mvlgamma, with their derivatives (each is the next one up: lgamma' = ψ, ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾).

NumPy has none of them and scipy is not a dependency, so the kernels are written here, in float64
whatever the input dtype (the result is cast back):
- lgamma: `math.lgamma` per element (correctly rounded in practice; poles give inf, as PyTorch);
- digamma: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series
  ψ(x) ~ ln x − 1/(2x) − Σ B₂ₖ / (2k x²ᵏ); the reflection ψ(x) = ψ(1 − x) − π / tan(πx) below 0;
- ψ⁽ⁿ⁾ for n ≥ 1: (−1)ⁿ⁺¹ n! ζ(n + 1, x), the Hurwitz zeta function summed term by term up to
  x + k ≥ 10 + n and Euler–Maclaurin for the tail; for n = 1 the reflection
  ψ₁(x) = π² / sin²(πx) − ψ₁(1 − x) below 1/2 (as PyTorch's trigamma, so the poles match).
Special values follow PyTorch: ψ(±0) = ∓inf, ψ at negative integers is nan, lgamma at the poles inf.
"""

from __future__ import annotations

import math as _m

import numpy as np

from ..tensor import Tensor
from .base import Op, as_tensor, helper
from .elementwise import _floating

# Bernoulli numbers B₂, B₄, ..., B₁₆ (exact fractions as floats)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


# -------------------------------------------------------------------- kernels (float64)
def _lgamma_one(v: float) -> float:
    try:
        return _m.lgamma(v)
    except ValueError:  # a pole (0, −1, −2, ...): Γ is infinite there
        return _m.inf


def _lgamma(x: np.ndarray) -> np.ndarray:
    x64 = np.asarray(x, np.float64)
    out = np.fromiter(map(_lgamma_one, x64.ravel().tolist()), np.float64, x64.size)
    return out.reshape(x64.shape)


def _shift_up(x: np.ndarray, floor: float, term):
    """Σ term(x + k) over k = 0, 1, ... while x + k < floor, and x moved past floor (NaN stays)."""
    acc = np.zeros_like(x)
    x = x.copy()
    while True:
        low = (x < floor) & (x > -np.inf)  # (−inf + 1 is −inf: it would never get there)
        if not low.any():
            return acc, x
        acc[low] += term(x[low])
        x[low] += 1


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0 (and +inf, NaN)."""
    acc, y = _shift_up(x, 10.0, lambda v: -1 / v)
    z = 1 / (y * y)
    series = 0.0
    for k in range(len(_B2K) - 1, -1, -1):  # Σ B₂ₖ / (2k) · z^k, Horner in z
        series = z * (_B2K[k] / (2 * k + 2) + series)
    return acc + np.log(y) - 0.5 / y - series


def _digamma(x: np.ndarray) -> np.ndarray:
    x64 = np.array(x, np.float64, ndmin=1)
    with np.errstate(all="ignore"):
        neg = x64 < 0
        frac = x64 - np.trunc(x64)  # tan(π·frac) is more accurate than tan(π·x) for |x| > 1
        out = _digamma_positive(np.where(neg, 1 - x64, x64))
        out = np.where(neg, out - np.pi / np.tan(np.pi * frac), out)
        out = np.where(neg & (frac == 0), np.nan, out)
        out = np.where(x64 == 0, np.copysign(np.inf, -x64), out)
    return out.reshape(np.shape(x))


def _trigamma_positive(x: np.ndarray) -> np.ndarray:
    """ψ₁(x) = Σ 1/(x + k)² for x ≥ 1/2 (and +inf, NaN)."""
    acc, y = _shift_up(x, 10.0, lambda v: 1 / (v * v))
    z = 1 / (y * y)
    series = 0.0
    for k in range(len(_B2K) - 1, -1, -1):  # Σ B₂ₖ z^k
        series = z * (_B2K[k] + series)
    return acc + (1 + 0.5 / y + series) / y


def _trigamma(x: np.ndarray) -> np.ndarray:
    x64 = np.array(x, np.float64, ndmin=1)
    with np.errstate(all="ignore"):
        low = x64 < 0.5
        out = _trigamma_positive(np.where(low, 1 - x64, x64))
        s = np.sin(np.pi * x64)
        out = np.where(low, np.pi * np.pi / (s * s) - out, out)
    return out.reshape(np.shape(x))


def _hurwitz_zeta(s: int, q: np.ndarray) -> np.ndarray:
    """ζ(s, q) = Σₖ (q + k)^−s for an integer s ≥ 2 (any q off the poles 0, −1, −2, ...)."""
    floor = 10.0 + s  # far enough out that the Euler–Maclaurin terms fall fast
    acc, a = _shift_up(q, floor, lambda v: v**-s)
    tail = a ** (1 - s) / (s - 1) + 0.5 * a**-s
    rising = float(s)  # s (s + 1) ... (s + 2j − 2)
    power = a ** (-s - 1)  # a^(−s−2j+1)
    fact = 2.0  # (2j)!
    for j in range(1, len(_B2K) + 1):
        tail = tail + _B2K[j - 1] / fact * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power / (a * a)
        fact *= (2 * j + 1) * (2 * j + 2)
    out = acc + tail
    # as PyTorch (Cephes' zeta): +inf at the poles q = 0, −1, ... and at −inf; nan at +inf
    out[(q <= 0) & (q == np.floor(q))] = np.inf
    out[q == np.inf] = np.nan
    return out


def _polygamma(n: int, x: np.ndarray) -> np.ndarray:
    if n == 0:
        return _digamma(x)
    if n == 1:
        return _trigamma(x)
    x64 = np.array(x, np.float64, ndmin=1)
    with np.errstate(all="ignore"):
        out = (-1) ** (n + 1) * _m.factorial(n) * _hurwitz_zeta(n + 1, x64)
    return out.reshape(np.shape(x))


# -------------------------------------------------------------------------------- ops
class Lgamma(Op):
    derivatives = {"x": "grad * polygamma_of(0, x)"}

    def forward(self, x):
        return _lgamma(x).astype(x.dtype, copy=False)


class Digamma(Op):
    derivatives = {"x": "grad * polygamma_of(1, x)"}

    def forward(self, x):
        return _digamma(x).astype(x.dtype, copy=False)


class Polygamma(Op):
    __slots__ = ("n",)
    derivatives = {"x": "grad * polygamma_of(self.n + 1, x)"}

    def __init__(self, n: int):
        self.n = n

    def forward(self, x):
        return _polygamma(self.n, x).astype(x.dtype, copy=False)


@helper
def polygamma_of(n, x):
    """ψ⁽ⁿ⁾(x): on arrays the kernel, on Tensors the recorded op (so it differentiates again)."""
    if isinstance(x, Tensor):
        return Digamma()(x) if n == 0 else Polygamma(n)(x)
    return _polygamma(n, x).astype(x.dtype, copy=False)


# -------------------------------------------------------------------------- functions
def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported by microtensor; assign the result instead")


def lgamma(input, *, out=None) -> Tensor:  # noqa: A002
    """log |Γ(x)|, elementwise (integers give the default float dtype); inf at 0, −1, −2, ...

    Derivative: digamma(x).

    >>> mt.lgamma(mt.tensor([0.5, 3.0]))   # tensor([0.5724, 0.6931])
    """
    _no_out(out, "lgamma")
    return Lgamma()(_floating(as_tensor(input, "lgamma")))


def digamma(input, *, out=None) -> Tensor:  # noqa: A002
    """ψ(x) = d/dx log Γ(x), elementwise (integers give the default float dtype); ∓inf at ±0, nan
    at the negative integers.

    Derivative: polygamma(1, x).

    >>> mt.digamma(mt.tensor([1.0, 0.5]))   # tensor([-0.5772, -1.9635])
    """
    _no_out(out, "digamma")
    return Digamma()(_floating(as_tensor(input, "digamma")))


def _order(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{name}: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"{name}(n, x) does not support negative n, got n={n}")
    return int(n)


def polygamma(n, input, *, out=None) -> Tensor:  # noqa: A002
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma, elementwise (n ≥ 0; polygamma(0, x) is digamma).

    Derivative: polygamma(n + 1, x).

    >>> mt.polygamma(1, mt.tensor([1.0]))   # tensor([1.6449]) = π²/6
    """
    _no_out(out, "polygamma")
    n = _order(n, "polygamma")
    x = _floating(as_tensor(input, "polygamma"))
    return Digamma()(x) if n == 0 else Polygamma(n)(x)


def polygamma_method(self, n) -> Tensor:
    """self.polygamma(n) is polygamma(n, self) (the order comes first in the function)."""
    return polygamma(n, self)


def mvlgamma(input, p: int, *, out=None) -> Tensor:  # noqa: A002
    """The multivariate log-gamma of dimension p: Σᵢ₌₀..ₚ₋₁ lgamma(x − i/2) + p(p − 1)/4 · log π,
    elementwise. Every element must exceed (p − 1)/2.

    >>> mt.mvlgamma(mt.tensor([2.5]), 2)   # tensor([1.0150])
    """
    _no_out(out, "mvlgamma")
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got {p!r}")
    x = as_tensor(input, "mvlgamma")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"mvlgamma: expected a floating tensor, got {x.dtype}")
    if not bool(np.all(x._data > (p - 1) / 2)):
        raise RuntimeError(
            f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2} for p={p}, "
            f"got a minimum of {float(np.min(x._data)) if x.numel() else 'none'}"
        )
    shifts = Tensor._wrap(np.arange(-p / 2 + 0.5, 0.5, 0.5, dtype=x._data.dtype))  # −(p−1)/2 ... 0
    terms = Lgamma()(x.unsqueeze(-1) + shifts)
    return terms.sum(-1) + p * (p - 1) * _m.log(_m.pi) / 4
