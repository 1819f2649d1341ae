"""Random numbers: the Generator and every random function, drawing PyTorch's CPU streams.

A `Generator` is a Mersenne Twister (MT19937) seeded as PyTorch seeds its CPU
generator, and every function here turns the generator's 32-bit outputs into
numbers by PyTorch's CPU transforms, so the same seed gives the same numbers:

    import microtensor as mt
    mt.manual_seed(0)
    mt.rand(3)        # tensor([0.4963, 0.7682, 0.0885]), as torch.rand(3) after torch.manual_seed(0)

The 32-bit words come from NumPy's MT19937 bit generator (seeded with the
reference 32-bit seeding, which is PyTorch's), many at a time; the transforms
are vectorised NumPy, rounding as PyTorch's compiled kernels do (fused
multiply-adds where the compiler fuses them). Where the result can still differ
from PyTorch's on some machine:

- float32 (and float16) `randn`/`normal_` of 16 or more elements reproduce PyTorch's AVX2
  kernel (its own log/sin/cos polynomials); PyTorch on a CPU without AVX2 runs a
  scalar kernel with the C library's functions instead.
- float64 transforms call the C library's log, log1p, tan and exp (as PyTorch's
  kernels do); another C library may round a last bit differently.
- `nn.init.orthogonal_` uses NumPy's QR (LAPACK), equal to PyTorch's to rounding.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any

import numpy as np

from . import _dtypes
from .device import _check_device
from .tensor import Tensor

__all__ = [
    "Generator",
    "bernoulli",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "multinomial",
    "normal",
    "poisson",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "seed",
    "set_rng_state",
]

_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator()
_N = 624  # MT19937 state words
_STATE_BYTES = 5056  # sizeof(CPUGeneratorImplState) in PyTorch: the layout get_state() writes
_MASK32 = 0xFFFFFFFF


class Generator:
    """A seedable source of random numbers (MT19937), as torch.Generator on the CPU.

    Generator(device="cpu")

    Pass it as `generator=` to any random function to draw from it instead of
    the global generator; seeded alike, it gives PyTorch's numbers.

        g = mt.Generator().manual_seed(42)
        a = mt.randn(2, 3, generator=g)       # torch.randn(2, 3, generator=torch.Generator().manual_seed(42))
        state = g.get_state()                 # a uint8 Tensor of 5056 bytes (PyTorch's layout)
        b = mt.randn(2, 3, generator=g)
        g.set_state(state)                    # replay: the next draw equals b
    """

    __slots__ = {  # a dict: its values are the public attributes' docstrings
        "_bg": None,
        "_seed": None,
        "_fresh": None,
        "_next_double": None,
        "_next_float": None,
        "device": "The device the generator draws for: always device('cpu').",
    }

    def __init__(self, device: Any = "cpu"):
        from .device import device as _device

        _check_device(device, "Generator")
        self.device = _device("cpu")
        self._bg = np.random.MT19937(0)
        self.manual_seed(_DEFAULT_SEED)

    # ------------------------------------------------------------- seeding
    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (an int in [-2**63, 2**64)); returns self."""
        seed = _as_seed(seed, "manual_seed")
        # PyTorch keeps the 64-bit seed but seeds MT19937 with its low 32 bits
        self._bg._legacy_seeding(seed & _MASK32)
        self._seed = seed
        self._fresh = True  # PyTorch's engine after seeding: next = 0, left = 1
        self._next_double = None  # the second value of a Box-Muller pair, kept for the next call
        self._next_float = None
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used (a 64-bit int)."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    # --------------------------------------------------------------- state
    def get_state(self) -> Tensor:
        """The full state as a uint8 Tensor laid out as PyTorch's CPU generator state (5056 bytes).

        It can be passed to `set_state` here or to torch's `Generator.set_state` (and back).
        """
        st = self._bg.state["state"]
        pos = int(st["pos"])
        buf = np.zeros(_STATE_BYTES, np.uint8)
        nxt = 0 if (self._fresh and pos == _N) else pos
        buf[0:8] = np.frombuffer(np.uint64(self._seed).tobytes(), np.uint8)
        buf[8:16] = np.frombuffer(np.array([_N + 1 - pos, 1], np.int32).tobytes(), np.uint8)
        buf[16:24] = np.frombuffer(np.uint64(nxt).tobytes(), np.uint8)
        buf[24 : 24 + 8 * _N] = np.frombuffer(st["key"].astype(np.uint64).tobytes(), np.uint8)
        tail = 24 + 8 * _N  # normal_x, normal_y, normal_rho (doubles), normal_is_valid (int)
        if self._next_double is not None:
            buf[tail + 8 : tail + 16] = np.frombuffer(np.float64(self._next_double).tobytes(), np.uint8)
            buf[tail + 24 : tail + 28] = np.frombuffer(np.int32(1).tobytes(), np.uint8)
        if self._next_float is not None:
            buf[tail + 32 : tail + 36] = np.frombuffer(np.float32(self._next_float).tobytes(), np.uint8)
            buf[tail + 36] = 1
        return Tensor._wrap(buf)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state returned by `get_state` (here or by torch); returns self."""
        arr = new_state._data if isinstance(new_state, Tensor) else None
        if arr is None or arr.dtype != np.uint8 or arr.ndim != 1 or arr.size != _STATE_BYTES:
            what = (
                f"a {arr.dtype} tensor of shape {arr.shape}" if arr is not None else type(new_state).__name__
            )
            raise RuntimeError(
                f"set_state: expected a uint8 Tensor of {_STATE_BYTES} bytes (from get_state), got {what}"
            )
        raw = np.ascontiguousarray(arr).tobytes()
        seed = int(np.frombuffer(raw[0:8], np.uint64)[0])
        left = int(np.frombuffer(raw[8:12], np.int32)[0])
        nxt = int(np.frombuffer(raw[16:24], np.uint64)[0])
        key = np.frombuffer(raw[24 : 24 + 8 * _N], np.uint64)
        if not (1 <= left <= _N + 1) or nxt > _N or (key > _MASK32).any() or not key.any():
            raise RuntimeError(
                f"set_state: invalid MT19937 state (left={left}, next={nxt}); pass a tensor from get_state"
            )
        tail = 24 + 8 * _N
        self._bg.state = {
            "bit_generator": "MT19937",
            "state": {"key": key.astype(np.uint32), "pos": _N + 1 - left},
        }
        self._seed = seed
        self._fresh = nxt == 0 and left == 1
        valid_d = int(np.frombuffer(raw[tail + 24 : tail + 28], np.int32)[0])
        self._next_double = (
            float(np.frombuffer(raw[tail + 8 : tail + 16], np.float64)[0]) if valid_d else None
        )
        self._next_float = (
            float(np.frombuffer(raw[tail + 32 : tail + 36], np.float32)[0]) if raw[tail + 36] else None
        )
        return self

    def _swap(self, other: Generator) -> None:
        """Exchange the whole state (stream, seed, cached normals) with `other`, in O(1).

        The DataLoader's simulated workers use it to put a worker's stream in place of the
        global one around each fetch (get_state/set_state would copy 5 KB each way).
        """
        for name in ("_bg", "_seed", "_fresh", "_next_double", "_next_float"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs)
            setattr(other, name, mine)

    def __repr__(self) -> str:
        return f"<microtensor.Generator object, device='cpu', initial_seed={self._seed}>"

    # --------------------------------------------------------------- words
    def _u32(self, n: int) -> np.ndarray:
        """The next n 32-bit outputs (as uint64 values below 2**32)."""
        if n <= 0:
            return np.zeros(0, np.uint64)
        self._fresh = False
        return self._bg.random_raw(n)

    def _u64(self, n: int) -> np.ndarray:
        """The next n 64-bit outputs, each two 32-bit words: (first << 32) | second, as PyTorch's random64."""
        w = self._u32(2 * n)
        return (w[0::2] << np.uint64(32)) | w[1::2]


def _as_seed(seed, op: str) -> int:
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"{op}: seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise RuntimeError(f"{op}: seed must be within [-2**63, 2**64), got {seed}")
    return seed % 2**64  # negative seeds wrap as PyTorch's (two's complement)


default_generator = Generator()
default_generator.seed()  # as PyTorch's process-wide generator: a fresh seed per process


def _gen(generator, op: str) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a microtensor.Generator, got {type(generator).__name__}")
    return generator


# ------------------------------------------------------------------- global seeding
def manual_seed(seed: int) -> Generator:
    """Seed the global generator (all random functions, initialisers, shuffling); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state as a uint8 Tensor (see Generator.get_state)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator's state from get_rng_state()."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str = "cuda"):  # fmt: skip
    """Context manager: random draws inside it leave the global generator as it was on entry.

    with mt.random.fork_rng():
        mt.manual_seed(0); noise = mt.randn(3)    # the global stream outside is untouched
    """
    # only the CPU generator exists: devices and device_type name accelerators there are none of
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# ------------------------------------------------------------------- transforms (PyTorch's)
def _uniform(g: Generator, n: int, dt: np.dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """n values uniform on [low, high): float64 from 53 bits of a 64-bit draw, float32 (and
    float16, rounded from it) from the low 24 bits of a 32-bit draw, scaled in float32."""
    if dt == np.float64:
        x = (g._u64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * (2.0**-53)
        acc = np.float64
    else:  # float16 too: PyTorch 2.13 draws it as float32 and rounds (measured)
        x = (g._u32(n) & np.uint64((1 << 24) - 1)).astype(np.float32) * np.float32(2.0**-24)
        acc = np.float32
    lo, hi = dt.type(low), dt.type(high)  # PyTorch casts the bounds to the tensor's dtype first
    if lo != 0 or hi != 1:  # x * (hi - lo) + lo, contracted to one fused multiply-add as compiled
        x = _fma(x, acc(hi - lo), acc(lo)) if acc is np.float32 else _fma64(x, float(hi - lo), float(lo))
    x = x.astype(dt, copy=False)
    hit = x == hi  # a value rounded up to `high` (float16, or by the bounds' rounding) becomes `low`
    if hit.any():
        x[hit] = lo
    return x


def _check_float(dt: np.dtype, op: str) -> None:
    if dt.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point dtype, got {dt}")


def _normal_scalar(g: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """PyTorch's scalar Box-Muller in float64, vectorised: each pair of uniform doubles (u1, u2)
    gives r*cos and r*sin (r = sqrt(-2 log1p(-u2)), angle 2*pi*u1); the generator keeps a pair's
    sine for the next call, so a value cached by an earlier call comes first and an odd count
    leaves one behind."""
    out = np.empty(n, np.float64)
    start = 0
    if n and g._next_double is not None:
        out[0], g._next_double, start = g._next_double, None, 1
    pairs = (n - start + 1) // 2
    if pairs:
        u = _uniform(g, 2 * pairs, _dtypes.float64)
        r = np.sqrt(-2.0 * _libm(math.log1p, -u[1::2]))
        theta = (2.0 * math.pi) * u[0::2]
        z = np.empty(2 * pairs, np.float64)
        z[0::2] = r * np.cos(theta)
        z[1::2] = r * np.sin(theta)
        out[start:] = z[: n - start]
        if (n - start) % 2:
            g._next_double = float(z[-1])
    return _fma64(out, std, mean)


def _libm(fn, x: np.ndarray) -> np.ndarray:
    """fn (a function of the math module, i.e. the C library, as PyTorch's kernels call it) over
    an array: NumPy's own log1p, tan and exp differ from the C library in the last bit."""
    return np.fromiter(map(fn, np.ravel(x).tolist()), np.float64, count=np.size(x)).reshape(np.shape(x))


def _log_f64(x: np.ndarray) -> np.ndarray:
    """log as the C library computes it (what PyTorch's kernel calls), vectorised: long-double log
    rounded to double, except where that rounding is close to a tie, where the C library decides."""
    ld = np.log(x.astype(np.longdouble))
    d = ld.astype(np.float64)
    frac = np.abs((ld - d) / np.spacing(np.abs(d)).astype(np.longdouble)).astype(np.float64)
    near = np.abs(frac - 0.5) < 0.05
    if near.any():
        d[near] = [math.log(v) for v in x[near].tolist()]
    return d


def _box_muller16(u: np.ndarray, mean, std, dt: np.dtype) -> np.ndarray:
    """PyTorch's normal_fill on blocks of 16 uniforms (rows of u): the first 8 feed the radius, the
    last 8 the angle; outputs cos values then sin values. float32 follows its AVX2 kernel."""
    if dt == np.float32:
        u1 = np.float32(1) - u[:, :8]
        radius = np.sqrt(np.float32(-2) * _log256_ps(u1))
        theta = np.float32(2.0 * math.pi) * u[:, 8:]
        s, c = _sincos256_ps(theta)
        return np.concatenate([_fma32(radius * c, std, mean), _fma32(radius * s, std, mean)], axis=1)
    u1 = 1.0 - u[:, :8]
    radius = np.sqrt(-2.0 * _log_f64(u1))
    theta = (2.0 * math.pi) * u[:, 8:]
    c = radius * np.cos(theta)
    s = radius * np.sin(theta)
    c, s = _fma64(c, std, mean), _fma64(s, std, mean)
    return np.concatenate([c, s], axis=1).astype(dt, copy=False)


def _normal(g: Generator, n: int, dt: np.dtype, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """n normal values as PyTorch's CPU normal_: below 16 elements the cached scalar Box-Muller in
    float64; from 16 on, uniforms for all n, transformed 16 at a time, and if n is not a multiple
    of 16 the last 16 positions are drawn again and transformed together."""
    if n < 16:
        return _normal_scalar(g, n, mean, std).astype(dt)
    fill = np.float32 if dt in (np.float32, np.float16) else np.float64
    m, s = fill(mean), fill(std)
    full = n - n % 16
    # float16 (as measured on PyTorch 2.13) draws uniforms for the whole blocks only, then
    # transforms in float32 as the float32 kernel does
    u = _uniform(g, full if dt == np.float16 else n, np.dtype(fill))
    out = np.empty(n, fill)
    out[:full] = _box_muller16(u[:full].reshape(-1, 16), m, s, np.dtype(fill)).reshape(-1)
    if n % 16:
        tail = _uniform(g, 16, np.dtype(fill)).reshape(1, 16)
        out[n - 16 :] = _box_muller16(tail, m, s, np.dtype(fill)).reshape(-1)
    return out.astype(dt, copy=False)


def _fma32(a: np.ndarray, b, c) -> np.ndarray:
    """a * b + c rounded once to float32 (the kernel's fused multiply-add)."""
    if b == 1 and c == 0:
        return a
    return (a.astype(np.float64) * np.float64(b) + np.float64(c)).astype(np.float32)


# The float32 kernel's log, sin and cos (Cephes polynomials, as in PyTorch's avx_mathfun.h), step by
# step in float32 so that every rounding is the kernel's.
_F = np.float32
_LOG_P = [_F(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                          3.3333331174e-1)]  # fmt: skip


def _fma(a, b, c) -> np.ndarray:
    """a * b + c for float32 arrays, rounded once, as the compiled kernel's fused multiply-adds.

    The product is exact in float64; the float64 sum rounds once more, which matters only when
    it lands exactly halfway between two float32 values: there the sum's own rounding error
    (TwoSum) says which way the exact value lies."""
    p = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    r = p + c
    out = r.astype(np.float32)
    z = r - p
    err = (p - (r - z)) + (c - z)  # p + c == r + err exactly
    if np.ndim(err) == 0 or not err.any():
        return out
    other = (2 * r - out.astype(np.float64)).astype(np.float32)  # the neighbour across r, if a tie
    tie = (err != 0) & (other != out) & ((out.astype(np.float64) + other.astype(np.float64)) / 2 == r)
    if tie.any():
        up = np.maximum(out, other)
        down = np.minimum(out, other)
        out = out.copy()
        out[tie] = np.where(err > 0, up, down)[tie]
    return out


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """a * b + c for float64, rounded once, as the compiled kernel's fused multiply-add (it
    contracts `x * std + mean`). Error-free transformations give the exact value as the sum
    s + u + v (Dekker's product, Knuth's TwoSum); s + u rounded is the answer unless v could tip
    a rounding tie, and those rare elements are computed exactly with fractions."""
    a = np.asarray(a, np.float64)
    if b == 1 and c == 0:
        return a

    def two_sum(x, y):
        r = x + y
        z = r - x
        return r, (x - (r - z)) + (y - z)

    split = 134217729.0  # 2**27 + 1
    t = split * a
    ahi = t - (t - a)
    alo = a - ahi
    t = split * b
    bhi = t - (t - b)
    blo = b - bhi
    p = a * b
    err = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo  # a * b == p + err exactly
    s, t = two_sum(p, c)  # p + c == s + t
    u, v = two_sum(t, err)  # t + err == u + v
    r, d = two_sum(s, u)  # s + u == r + d; the exact result is r + d + v
    with np.errstate(invalid="ignore"):
        near_tie = (v != 0) & (np.abs(np.abs(d) - np.spacing(np.abs(r)) / 2) <= np.abs(v))
    if near_tie.any():
        from fractions import Fraction

        r = r.copy()
        fb, fc = Fraction(b), Fraction(c)
        r[near_tie] = [float(Fraction(x) * fb + fc) for x in a[near_tie].tolist()]
    return r


def _log256_ps(x: np.ndarray) -> np.ndarray:
    invalid = x <= 0
    x = np.maximum(x, np.array(0x00800000, np.int32).view(np.float32))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _F(1)
    x = ((bits & ~0x7F800000) | np.array(0.5, np.float32).view(np.int32)).view(np.float32)
    mask = x < _F(0.707106781186547524)
    tmp = np.where(mask, x, _F(0))
    x = x - _F(1)
    e = e - np.where(mask, _F(1), _F(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma(y, x, p)
    y = _fma(y * x, z, e * _F(-2.12194440e-4))
    y = _fma(-z, _F(0.5), y)
    x = _fma(e, _F(0.693359375), x + y)
    x[invalid] = np.nan
    return x


def _sincos256_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _F(1.27323954473516)).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    swap_sin = (j & 4) != 0
    poly = (j & 2) == 0
    x = _fma(y, _F(-0.78515625), x)
    x = _fma(y, _F(-2.4187564849853515625e-4), x)
    x = _fma(y, _F(-3.77489497744594108e-8), x)
    sign_cos = (~(j - 2) & 4) != 0
    sign_sin = sign_sin ^ swap_sin
    z = x * x
    yc = _fma(
        _fma(np.full_like(z, _F(2.443315711809948e-005)), z, _F(-1.388731625493765e-003)),
        z,
        _F(4.166664568298827e-002),
    )
    yc = _fma(yc * z, z, -(z * _F(0.5))) + _F(1)
    ys = _fma(_fma(np.full_like(z, _F(-1.9515295891e-4)), z, _F(8.3321608736e-3)), z, _F(-1.6666654611e-1))
    ys = _fma(ys * z, x, x)
    sin = np.where(poly, ys, yc)
    cos = np.where(poly, yc, ys)
    return np.where(sign_sin, -sin, sin), np.where(sign_cos, -cos, cos)


# ------------------------------------------------------------------- argument handling
def _size(args: tuple, size, op: str) -> tuple[int, ...]:
    """The shape from varargs (`rand(2, 3)`), one sequence (`rand((2, 3))`) or `size=`."""
    if size is not None:
        if args:
            raise TypeError(f"{op}: got the size both positionally {args!r} and as size={size!r}")
        args = (size,)
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    for s in args:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {args!r}")
    return tuple(int(s) for s in args)


def _float_dtype(dtype, op: str) -> np.dtype:
    dt = _dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point dtype, got {dt} (use randint for integers)")
    return dt


def _make(data: np.ndarray, requires_grad: bool, op: str) -> Tensor:
    t = Tensor._wrap(data)
    if requires_grad:
        if data.dtype.kind != "f":
            raise RuntimeError(
                f"{op}: only floating point tensors can require gradients, got dtype {data.dtype}"
            )
        t.requires_grad = True
    return t


def _factory_checks(op: str, device, layout=None) -> None:
    _check_device(device, op)
    if layout not in (None, "strided") and getattr(layout, "__name__", None) != "strided":
        raise RuntimeError(f"{op}: only the strided layout is supported, got {layout!r}")


def _write(t: Tensor, values: np.ndarray, op: str) -> Tensor:
    """Write values (in draw order) into t through the in-place path (version counter bumped; a
    leaf that requires grad refuses under grad mode, as PyTorch's in-place random ops do).

    PyTorch fills a tensor in memory order, so a non-contiguous one (a transposed view, say)
    takes its draws along its strides, largest first, not in index order."""
    arr = t._data
    if arr.flags.c_contiguous or arr.ndim < 2:
        values = values.reshape(t.shape)
    else:
        order = sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]))
        values = values.reshape([arr.shape[d] for d in order]).transpose(np.argsort(order))
    t._index_put(Ellipsis, Tensor._wrap(values), op)
    return t


# ------------------------------------------------------------------- factories
def rand(
    *args,
    size=None,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
) -> Tensor:
    """Uniform samples on [0, 1): rand(2, 3), rand((2, 3)), rand(size=(2, 3)); PyTorch's numbers per seed.

    float32 values are k / 2**24 for the low 24 bits k of a 32-bit draw; float64 use 53 bits
    of a 64-bit draw. `generator=` draws from a Generator instead of the global one.

        mt.manual_seed(0); mt.rand(2)    # tensor([0.4963, 0.7682])
    """
    shape = _size(args, size, "rand")
    dt = _float_dtype(dtype, "rand")
    _factory_checks("rand", device, layout)
    data = _uniform(_gen(generator, "rand"), math.prod(shape), dt).reshape(shape)
    return _out(data, out, requires_grad, "rand")


def randn(
    *args,
    size=None,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
) -> Tensor:
    """Standard normal samples: randn(2, 3), randn((2, 3)); PyTorch's numbers per seed.

    Below 16 elements each value is a float64 Box-Muller draw (pairs share two uniforms and the
    generator keeps the second of a pair for the next call); from 16 elements uniforms are drawn
    for all of them and transformed 16 at a time (the last 16 redrawn when the count is not a
    multiple of 16). float32 with 16 or more elements reproduces PyTorch's AVX2 kernel (used on
    x86 machines with AVX2; a machine without AVX2 runs another kernel in PyTorch).

        mt.manual_seed(0); mt.randn(3)   # tensor([ 1.5410, -0.2934, -2.1788])
    """
    shape = _size(args, size, "randn")
    dt = _float_dtype(dtype, "randn")
    _factory_checks("randn", device, layout)
    data = _normal(_gen(generator, "randn"), math.prod(shape), dt).reshape(shape)
    return _out(data, out, requires_grad, "randn")


def _out(data: np.ndarray, out, requires_grad: bool, op: str) -> Tensor:
    if out is None:
        return _make(data, requires_grad, op)
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a Tensor, got {type(out).__name__}")
    if out.shape != data.shape:  # PyTorch resizes out to the result's shape; checked before any change
        if out._requires_grad:
            raise RuntimeError(
                f"{op}: cannot resize variables that require grad (out has shape {out.shape}, "
                f"the result {tuple(data.shape)})"
            )
        if out._meta is not None and out._meta.get("view") is not None:
            raise RuntimeError(
                f"{op}: out is a view of shape {out.shape} and the result has shape {tuple(data.shape)}; "
                "a view cannot be resized here: pass a tensor of the result's shape"
            )
        out.data = np.empty(data.shape, out.dtype)  # new storage, as `.data =`; _write bumps the version
    return _write(out, data, op)


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
    """Integers uniform on [low, high): randint(high, size) or randint(low, high, size).

    Each value is (w mod (high - low)) + low for a 32-bit draw w (a 64-bit draw when the range
    is 2**28 or more), as PyTorch 2.13. dtype defaults to int64.

        mt.manual_seed(0); mt.randint(0, 10, (4,))   # tensor([4, 9, 3, 0])
    """
    pos = list(args)
    if size is None and pos and isinstance(pos[-1], tuple | list):
        size = pos.pop()
    if len(pos) == 2:
        if low is not None or high is not None:
            raise TypeError("randint: low/high given both positionally and by keyword")
        low, high = pos
    elif len(pos) == 1:
        if high is not None:
            low, high = pos[0], high
        else:
            high = pos[0]
    elif pos:
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size), got {args!r}")
    if high is None or size is None:
        raise TypeError("randint: missing high or size; call randint(high, size) or randint(low, high, size)")
    low = 0 if low is None else low
    shape = _size((size,), None, "randint")
    dt = _dtypes.int64 if dtype is None else np.dtype(dtype)
    _factory_checks("randint", device, layout)
    data = _random_from_to(_gen(generator, "randint"), math.prod(shape), dt, low, high, "randint")
    return _out(data.reshape(shape), out, requires_grad, "randint")


def _int_bound(v, op: str, what: str) -> int:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise TypeError(f"{op}: {what} must be an int, got {v!r}")
    return int(v)


def _dtype_range(dt: np.dtype) -> tuple[int, int]:
    if dt.kind == "f":
        digits = {2: 11, 4: 24, 8: 53}[dt.itemsize]
        return -(2**digits), 2**digits
    if dt.kind == "b":
        return 0, 1
    info = np.iinfo(dt)
    return int(info.min), int(info.max)


def _random_from_to(g: Generator, n: int, dt: np.dtype, low, high, op: str) -> np.ndarray:
    low, high = _int_bound(low, op, "low"), _int_bound(high, op, "high")
    if low >= high:
        raise RuntimeError(f"{op}: expects 'from' to be less than 'to', but got from={low} >= to={high}")
    lo, hi = _dtype_range(dt)
    if low < lo or high - 1 > hi:
        raise RuntimeError(f"{op}: [{low}, {high}) is outside the range of dtype {dt} ([{lo}, {hi}])")
    rng = high - low
    wide = rng >= 2**28  # PyTorch 2.13 takes a 64-bit draw from a range of 2**28 on (measured)
    w = g._u64(n) if wide else g._u32(n)
    vals = (w % np.uint64(rng)).astype(np.int64) + np.int64(low) if rng < 2**63 else _wide_add(w, rng, low)
    return vals.astype(dt)


def _wide_add(w: np.ndarray, rng: int, low: int) -> np.ndarray:
    # a range over 2**63 (e.g. the full int64 range): the sum wraps as int64 arithmetic does in PyTorch
    return ((w % np.uint64(rng)) + np.uint64(low % 2**64)).view(np.int64)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:  # fmt: skip
    """A random permutation of 0..n-1 (int64 by default), PyTorch's per seed.

    PyTorch's Fisher-Yates: for i = 0..n-2 it swaps position i with i + (w_i mod (n - i)), w_i
    32-bit draws (taken here all at once; the swaps run in order). For n of 2**32/20 or more
    PyTorch uses 64-bit draws in an inside-out shuffle, and so does this.

        mt.manual_seed(0); mt.randperm(5)   # tensor([4, 0, 1, 3, 2])
    """
    n = _int_bound(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dt = _dtypes.int64 if dtype is None else np.dtype(dtype)
    _factory_checks("randperm", device, layout)
    g = _gen(generator, "randperm")
    if dt.kind == "f" and n > _dtype_range(dt)[1]:
        raise RuntimeError(f"randperm: n={n} is too large for dtype {dt}")
    return _out(_permutation(g, n).astype(dt), out, requires_grad, "randperm")


def _permutation(g: Generator, n: int) -> np.ndarray:
    if n < (2**32 - 1) // 20:
        perm = list(range(n))
        if n > 1:
            steps = (g._u32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
            for i, z in enumerate(steps):  # swaps depend on earlier ones: this loop is the algorithm
                j = i + z
                perm[i], perm[j] = perm[j], perm[i]
        return np.array(perm, np.int64)
    r = np.empty(n, np.int64)
    zs = (g._u64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
    for i, z in enumerate(zs):
        r[i] = r[z]
        r[z] = i
    return r


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:  # fmt: skip
    """rand() with input's shape and (unless given) dtype."""
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, layout=layout, device=device,
                requires_grad=requires_grad)  # fmt: skip


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:  # fmt: skip
    """randn() with input's shape and (unless given) dtype."""
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, layout=layout, device=device,
                 requires_grad=requires_grad)  # fmt: skip


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:  # fmt: skip
    """randint() with input's shape and (unless given) dtype: randint_like(x, high) or (x, low, high)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype, layout=layout,
                   device=device, requires_grad=requires_grad)  # fmt: skip


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False) -> Tensor:  # fmt: skip
    """Normal samples, in PyTorch's four forms:

    normal(mean_tensor, std_tensor), normal(mean_tensor, std=1.0), normal(mean=0.0, std=std_tensor)
    (the shape is the broadcast of mean and std), and normal(mean, std, size) with floats.
    Tensor forms draw standard normals for the output shape (as randn), then scale by std and
    add mean, as PyTorch does.

        mt.normal(mt.zeros(3), mt.tensor([1., 2., 3.]))
        mt.normal(2.0, 3.0, size=(2, 2))
    """
    g = _gen(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise TypeError("normal: size can only be given with float mean and std")
        mt = mean if isinstance(mean, Tensor) else None
        st = std if isinstance(std, Tensor) else None
        if st is not None and (st._data < 0).any():
            raise RuntimeError(f"normal: expects all elements of std >= 0.0, got min {st._data.min()}")
        if (mt is not None and mt.dtype.kind != "f") or (st is not None and st.dtype.kind != "f"):
            raise RuntimeError("normal: mean and std tensors must have a floating point dtype")
        dt = np.result_type(*[t.dtype for t in (mt, st) if t is not None])
        try:
            shape = np.broadcast_shapes(*[t.shape for t in (mt, st) if t is not None])
        except ValueError:
            raise RuntimeError(
                f"normal: mean of shape {getattr(mt, 'shape', ())} and std of shape "
                f"{getattr(st, 'shape', ())} "
                "are not broadcastable"
            ) from None
        z = _normal(g, math.prod(shape), dt).reshape(shape)
        m = mt._data if mt is not None else dt.type(mean)
        s = st._data if st is not None else dt.type(std)
        return _out((z * s + m).astype(dt, copy=False), out, requires_grad, "normal")
    if size is None:
        raise TypeError("normal: with float mean and std, give size (normal(mean, std, size))")
    _check_std(std, "normal")
    shape = _size((size,), None, "normal")
    dt = _float_dtype(dtype, "normal")
    _factory_checks("normal", device, layout)
    data = _normal(g, math.prod(shape), dt, float(mean), float(std)).reshape(shape)
    return _out(data, out, requires_grad, "normal")


def _check_std(std, op: str) -> None:
    if not std >= 0:
        raise RuntimeError(f"{op}: expects std >= 0.0, but found std {std}")


def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probabilities input (each in [0, 1]), in input's dtype: bernoulli(probs).

    bernoulli(input, p) with a float p ignores input's values and uses p everywhere. A value is 1
    when a uniform draw is below its p: a float64 uniform for float64 probabilities or a float p,
    a float32 uniform otherwise, as PyTorch's default CPU kernels.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    res = Tensor._wrap(np.empty(input.shape, input.dtype))
    res = bernoulli_(res, input if p is None else p, generator=generator)
    return res if out is None else _out(res._data, out, False, "bernoulli")


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator=None, out=None
) -> Tensor:
    """Indices drawn from the categories weighted by each row of input (1-D or 2-D, non-negative).

    With replacement: PyTorch's inverse-CDF search (one float64 uniform per sample against the
    row's normalised cumulative sum). Without replacement (or one sample): PyTorch's exponential
    race, the top `num_samples` of weight / Exp(1) draws. Returns int64 of shape (rows, num_samples).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    p = input._data
    if p.ndim not in (1, 2) or p.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial: prob_dist must be a 1 or 2 dim floating point tensor, got shape {p.shape} "
            f"dtype {p.dtype}"
        )
    num_samples = _int_bound(num_samples, "multinomial", "num_samples")
    ncat = p.shape[-1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {num_samples}")
    if not replacement and num_samples > ncat:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} > {ncat})"
        )
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    rows = p.reshape(-1, ncat)
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    g = _gen(generator, "multinomial")
    if not replacement or num_samples == 1:
        q = _exponential(g, rows.size, 1.0).astype(p.dtype).reshape(rows.shape)
        key = rows / q
        # top-k of key per row, largest first (ties: the lower index, as a stable sort)
        idx = np.argsort(-key, axis=1, kind="stable")[:, :num_samples]
    else:
        cum = np.cumsum(rows, axis=1, dtype=rows.dtype)
        cum = cum / cum[:, -1:]
        cum[:, -1] = 1  # the last bucket closes the search, as PyTorch
        idx = np.empty((rows.shape[0], num_samples), np.int64)
        for r in range(rows.shape[0]):  # one row's draws follow the previous row's, as PyTorch
            u = _uniform(g, num_samples, _dtypes.float64)
            idx[r] = np.searchsorted(cum[r].astype(np.float64), u, side="left")
    idx = idx.astype(np.int64).reshape(*p.shape[:-1], num_samples)
    return _out(idx, out, False, "multinomial")


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson samples with rates input (non-negative floats), in input's dtype.

    PyTorch's sampler per element, in order: for a rate of 10 or more Hörmann's transformed
    rejection (1993), below it the product of uniforms; each consumes float64 uniforms as it
    goes, so this runs element by element.
    """
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError("poisson: input must be a floating point Tensor of rates")
    lam = input._data
    if (lam < 0).any() or not np.isfinite(lam).all():
        raise RuntimeError("poisson: rates must be finite and non-negative")
    g = _gen(generator, "poisson")
    out = np.array([_poisson_one(g, v) for v in lam.ravel().tolist()], np.float64)
    return Tensor._wrap(out.astype(input.dtype).reshape(lam.shape))


def _poisson_one(g: Generator, lam: float) -> float:
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u, v = _uniform(g, 2, _dtypes.float64).tolist()
            u -= 0.5
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(invalpha) - math.log(
                a / (us * us) + b
            ) <= -lam + k * loglam - math.lgamma(k + 1):
                return k
    if lam == 0:
        return 0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= _uniform(g, 1, _dtypes.float64)[0]
        if prod > enlam:
            x += 1
        else:
            return x


# ------------------------------------------------------------------- in-place (Tensor methods)
def _n(t: Tensor) -> int:
    return t._data.size


def uniform_(t: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None) -> Tensor:
    """Fill t with uniform samples on [from, to), in place (Tensor.uniform_)."""
    _check_float(t.dtype, "uniform_")
    if not from_ <= to:
        raise RuntimeError(f"uniform_: expects from <= to, but got from={from_} > to={to}")
    return _write(t, _uniform(_gen(generator, "uniform_"), _n(t), t.dtype, from_, to), "uniform_")


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill t with normal samples, in place (Tensor.normal_; the draws of randn, see there)."""
    _check_float(t.dtype, "normal_")
    _check_std(std, "normal_")
    g = _gen(generator, "normal_")
    if not t._data.flags.c_contiguous:  # PyTorch's 16-at-a-time path needs contiguous storage
        return _write(t, _normal_scalar(g, _n(t), mean, std).astype(t.dtype), "normal_")
    return _write(t, _normal(g, _n(t), t.dtype, mean, std), "normal_")


def bernoulli_(t: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill t with 0/1 samples, 1 with probability p (a float or a Tensor broadcastable to t)."""
    g = _gen(generator, "bernoulli_")
    if isinstance(p, Tensor):
        pa = p._data
        if pa.dtype.kind != "f":
            raise RuntimeError(f"bernoulli_: probabilities must be floating point, got {pa.dtype}")
        if ((pa < 0) | (pa > 1)).any() or np.isnan(pa).any():
            raise RuntimeError("bernoulli_: expects all probabilities p to be in [0, 1]")
        try:
            pa = np.broadcast_to(pa, t.shape)
        except ValueError:
            raise RuntimeError(f"bernoulli_: p of shape {p.shape} does not broadcast to {t.shape}") from None
        u = _uniform(g, _n(t), _dtypes.float64 if pa.dtype == np.float64 else _dtypes.float32)
        vals = u.reshape(t.shape) < pa
    else:
        if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_: expects 0 <= p <= 1, but got p={p!r}")
        vals = _uniform(g, _n(t), _dtypes.float64) < p
    return _write(t, vals.astype(t.dtype), "bernoulli_")


def _exponential(g: Generator, n: int, lambd: float) -> np.ndarray:
    u = _uniform(g, n, _dtypes.float64)
    return (-1.0 / lambd) * _libm(math.log1p, -u)


def exponential_(t: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill t with Exp(lambd) samples, -log1p(-u) / lambd for float64 uniforms u (Tensor.exponential_)."""
    _check_float(t.dtype, "exponential_")
    if not lambd > 0 or math.isinf(lambd):
        raise RuntimeError(f"exponential_: expects lambda > 0.0 and finite, but found lambda={lambd}")
    return _write(t, _exponential(_gen(generator, "exponential_"), _n(t), lambd), "exponential_")


def geometric_(t: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill t with Geometric(p) samples (trials to the first success, from 1): ceil(log u / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    u = _uniform(_gen(generator, "geometric_"), _n(t), _dtypes.float64)
    with np.errstate(divide="ignore"):
        vals = np.ceil(_log_f64(u) / math.log(1.0 - p))
    return _write(t, vals, "geometric_")


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill t with exp(N(mean, std)) samples (float64 Box-Muller pairs, as PyTorch's scalar normal)."""
    _check_float(t.dtype, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_: expects std > 0.0, but found std={std}")
    z = _normal_scalar(_gen(generator, "log_normal_"), _n(t), mean, std)
    return _write(t, _libm(math.exp, z), "log_normal_")


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill t with Cauchy(median, sigma) samples: median + sigma * tan(pi * (u - 1/2))."""
    _check_float(t.dtype, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_: expects sigma > 0.0, but found sigma={sigma}")
    u = _uniform(_gen(generator, "cauchy_"), _n(t), _dtypes.float64)
    return _write(t, _fma64(_libm(math.tan, math.pi * (u - 0.5)), sigma, median), "cauchy_")


def random_(t: Tensor, from_=0, to=None, *, generator=None) -> Tensor:
    """Fill t with integers: random_(to) on [0, to), random_(from, to) on [from, to); random_() on
    [0, 2**mantissa] for floats and [0, max] for integer dtypes (bool: 0 or 1), as PyTorch."""
    g = _gen(generator, "random_")
    dt = t.dtype
    if to is None and from_ == 0 and not isinstance(from_, Tensor):
        w = g._u64(_n(t)) if dt in (_dtypes.int64, _dtypes.float64) else g._u32(_n(t))
        if dt.kind == "b":
            vals = (w & np.uint64(1)).astype(bool)
        elif dt.kind == "f":
            vals = w % np.uint64(2 ** {2: 11, 4: 24, 8: 53}[dt.itemsize] + 1)
        else:
            vals = w % np.uint64(int(np.iinfo(dt).max) + 1)
        return _write(t, vals.astype(dt), "random_")
    if to is None:
        from_, to = 0, from_
    return _write(t, _random_from_to(g, _n(t), dt, from_, to, "random_"), "random_")
