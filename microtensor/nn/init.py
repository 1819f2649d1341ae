"""Weight initialisation in place, as torch.nn.init: the same names, arguments and numbers.

Every initialiser fills its tensor under `no_grad` through the tensor's in-place
methods (`uniform_`, `normal_`, `fill_`, `copy_`, ...), which bump its version
counter: a graph recorded before the initialiser then refuses to backpropagate
through the old values, as in PyTorch. Each one draws from `generator` (or the
global generator) with the same calls in the same order as PyTorch, so under the
same seed it writes the same numbers (up to the last bit where PyTorch's own
arithmetic is LAPACK's or its erfinv's: `orthogonal_`, `trunc_normal_`).

    import microtensor.nn as nn
    w = mt.empty(3, 5)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))       # Linear's default
    nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh"))
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope**2))
    with slope `param` (default 0.01); selu: 3/4.

        calculate_gain("leaky_relu", 0.2)   # 1.3867...
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int | float):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in * prod(kernel), out * prod(kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            "init: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tuple(tensor.shape)})"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, op: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b), in place; returns tensor.

    uniform_(mt.empty(3, 5), -0.1, 0.1)
    """
    _check(tensor, "uniform_")
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std**2), in place; returns tensor.

    normal_(mt.empty(3, 5), 0.0, 0.02)
    """
    _check(tensor, "normal_")
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None
) -> Tensor:
    """Fill with samples of N(mean, std**2) truncated to [a, b], in place, as PyTorch 2.13 draws them.

    When [a, b] holds more than 30% of the mass: normal draws for the whole tensor, redrawn
    (a whole tensor's worth each round) where any value falls outside [a, b]. Otherwise
    rejection from U(a, b): a candidate is kept when log(u) <= its log density relative to the
    peak, for another uniform u; rejected places draw again. The draws are PyTorch's; the log
    is NumPy's, which may differ from PyTorch's in the last bit and so, very rarely, decide a
    candidate differently.

        trunc_normal_(mt.empty(3, 5), std=0.02)
    """
    _check(tensor, "trunc_normal_")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "trunc_normal_: mean is more than 2 std from [a, b]; the distribution of values may be incorrect",
            stacklevel=2,
        )

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    dt, shape = tensor.dtype, tensor.shape

    def draw(fill: str, *args) -> np.ndarray:
        return getattr(Tensor._wrap(np.empty(shape, dt)), fill)(*args, generator=generator)._data

    def log_density(x: np.ndarray) -> np.ndarray:  # relative to the peak, in the tensor's dtype
        return np.square((x - mean) / std) * -0.5 - log_peak

    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:
        lo, hi = float(dt.type(a)), float(dt.type(b))  # the bounds as the tensor's dtype holds them
        result = draw("normal_", mean, std)
        while True:
            outside = (result < lo) | (result > hi)
            if not outside.any():
                break
            result = np.where(outside, draw("normal_", mean, std), result)
    else:
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
        result = draw("uniform_", a, b)
        pending = np.log(draw("uniform_", 0.0, 1.0)) > log_density(result)
        while pending.any():
            candidates = draw("uniform_", a, b)
            result = np.where(pending, candidates, result)
            pending = np.where(pending, np.log(draw("uniform_", 0.0, 1.0)) > log_density(candidates), pending)
    with no_grad():
        return tensor.copy_(Tensor._wrap(result))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value val, in place; returns tensor."""
    _check(tensor, "constant_")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones, in place; returns tensor."""
    _check(tensor, "ones_")
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros, in place; returns tensor."""
    _check(tensor, "zeros_")
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal), in place: Linear layers pass inputs on.

    eye_(mt.empty(3, 5))
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(
            f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    with no_grad():
        return tensor.copy_(Tensor._wrap(np.eye(*tensor.shape, dtype=tensor.dtype)))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3, 4 or 5-D convolution weight with the Dirac delta (identity convolution), in place.

    With groups > 1 each group of out_channels // groups output channels keeps its own identity.

        dirac_(mt.empty(4, 2, 3, 3), groups=2)
    """
    _check(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    sizes = tensor.shape
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or sizes[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({sizes[0]}) must be divisible by groups, got groups={groups!r}")
    per_group = sizes[0] // groups
    values = np.zeros(sizes, tensor.dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min(per_group, sizes[1])):
            values[(g * per_group + d, d, *centre)] = 1
    with no_grad():
        return tensor.copy_(Tensor._wrap(values))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-s, s) with s = gain * sqrt(6 / (fan_in + fan_out)), in place.

    xavier_uniform_(mt.empty(3, 5), gain=calculate_gain("relu"))
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # computed as PyTorch does, so the bound rounds alike
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)), in place."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, op: str) -> float | None:
    _check(tensor, op)
    if 0 in tensor.shape:
        warnings.warn(f"{op}: initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), in place.

    fan is fan_in or fan_out (`mode`), gain = calculate_gain(nonlinearity, a) (`a`: the negative
    slope of leaky_relu). Linear's default is kaiming_uniform_(w, a=math.sqrt(5)).

        kaiming_uniform_(mt.empty(3, 5), mode="fan_out", nonlinearity="relu")
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
) -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan), in place (arguments as kaiming_uniform_)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times gain, in place; dimensions after the first are flattened.

    As PyTorch: the QR decomposition of a standard normal matrix (rows x rest, transposed when
    wider than tall), Q's columns signed by R's diagonal. The normal draws are PyTorch's; the
    QR is NumPy's LAPACK, so values may differ from PyTorch's in the last bits.

        orthogonal_(mt.empty(3, 5))     # rows orthonormal
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            "orthogonal_: only tensors with 2 or more dimensions are supported, "
            f"got shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = Tensor._wrap(np.empty((rows, cols), tensor.dtype)).normal_(0, 1, generator=generator)._data
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        tensor.copy_(Tensor._wrap(np.ascontiguousarray(q).reshape(tensor.shape)))
        return tensor.mul_(gain)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A 2-D tensor with N(0, std**2) values and, in each column, ceil(sparsity * rows) zeros, in place.

    As PyTorch, the zeroed rows of each column come from randperm on the global generator.

        sparse_(mt.empty(10, 4), sparsity=0.3)
    """
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(
            f"sparse_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        values = tensor._data.copy()
        for col in range(cols):
            values[_random.randperm(rows)._data[:num_zeros], col] = 0
        return tensor.copy_(Tensor._wrap(values))
