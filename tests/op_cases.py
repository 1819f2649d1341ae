"""THE OP TABLE: one entry per way of reaching a differentiable op through the public API.

Each `OpCase` names the registered Op classes (`microtensor.ops.base.REGISTRY`)
its call builds, the public call itself, a Hypothesis strategy drawing the
differentiable inputs (float64 arrays, inside the op's domain) together with
the non-differentiable parameters (dims, keepdim, indices, scalars, ...), and
a NumPy reference for the forward value.

tests/test_op_gradients.py walks this table: forward vs NumPy, gradcheck and
gradgradcheck for every case, and a test fails when a registered op has no case.

Conventions: `strategy` draws `(arrays, params)`; the case is run as
`fn(*tensors, **params)` and checked against `ref(*arrays, **params)`. Either
may return a tuple (e.g. max's values and indices); only floating outputs are
differentiated. Values that meet a kink or a tie (abs, relu, clamp, max, ...)
are drawn on a grid with a gap of `GAP`, far wider than finite differences' eps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt
import microtensor.nn.functional as F
from microtensor.ops.index import IndexAdd
from microtensor.testing import DEFAULT_MIN_GAP, arrays, broadcastable_shapes, shapes

MAX_DIMS = 3
MAX_SIDE = 4
MAX_NUMEL = 64  # keeps finite differences (2 evaluations per element, per order) cheap
GAP = DEFAULT_MIN_GAP  # distance between distinct values / from kinks
CAST_EPS = 2.0**-10  # exact in float32, see the "cast" case


@dataclass(frozen=True)
class OpCase:
    name: str
    ops: tuple[str, ...]  # the registered Op classes that `fn` builds (exactly these, no others)
    fn: Callable[..., Any]  # fn(*tensors, **params): the public call
    ref: Callable[..., Any]  # ref(*arrays, **params): NumPy forward reference
    strategy: st.SearchStrategy  # draws (tuple of float64 arrays, dict of params)
    eps: float = 1e-6  # finite-difference step for gradcheck
    grid: float | None = None  # if set, gradgradcheck's grad_outputs are drawn on this grid
    second_order: bool = True  # False only where the first derivative jumps at the drawn points


# ----------------------------------------------------------------- strategies
def small_shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1) -> st.SearchStrategy:
    return shapes(min_dims, max_dims, min_side, MAX_SIDE).filter(lambda s: math.prod(s) <= MAX_NUMEL)


def small_broadcastable(n: int = 2, min_dims: int = 0) -> st.SearchStrategy:
    return broadcastable_shapes(n, min_dims, MAX_DIMS, 1, MAX_SIDE).filter(
        lambda ss: all(math.prod(s) <= MAX_NUMEL for s in ss)
    )


def draw_array(draw, shape, domain="real", gap=None) -> np.ndarray:
    return draw(arrays(tuple(shape), np.float64, domain, gap))


def draw_joint(draw, shape_list, domain="real", gap=GAP) -> tuple[np.ndarray, ...]:
    """Arrays whose values are pairwise distinct across *all* of them (no ties between inputs)."""
    sizes = [math.prod(s) for s in shape_list]
    flat = draw_array(draw, (sum(sizes),), domain, gap)
    out, start = [], 0
    for s, n in zip(shape_list, sizes):
        out.append(flat[start : start + n].reshape(s))
        start += n
    return tuple(out)


def draw_dim(draw, ndim: int) -> int:
    """One valid dim, positive or negative (a 0-d tensor accepts 0 and -1, as PyTorch)."""
    n = max(ndim, 1)
    return draw(st.integers(-n, n - 1))


def draw_dims(draw, ndim: int, allow_none: bool = True):
    """None (all), an int (maybe negative) or a tuple of distinct dims (mixed signs)."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int" or ndim == 0:
        return draw_dim(draw, ndim)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def np_axes(dim, ndim: int):
    """A microtensor dim as a NumPy axis argument (0-d tensors: dim 0 means "the element")."""
    if ndim == 0:
        return None
    return dim


def number(draw, domain="real"):
    """A Python scalar operand: an int or a float inside the domain."""
    lo, hi, signed = {
        "real": (-3.0, 3.0, False),
        "nonzero": (0.5, 3.0, True),
        "positive": (0.5, 3.0, False),
    }[domain]
    if draw(st.booleans()):
        ints = [k for k in range(-3, 4) if lo <= abs(k) <= hi] if signed else range(math.ceil(lo), 4)
        v = draw(st.sampled_from(list(ints)))
        return -v if signed and draw(st.booleans()) else v
    v = draw(st.floats(lo, hi, allow_nan=False, allow_subnormal=False))
    return -v if signed and draw(st.booleans()) else v


# ------------------------------------------------------- table building helpers
CASES: list[OpCase] = []


def case(name: str, ops, fn, ref, strategy, **kw) -> None:
    CASES.append(
        OpCase(name, tuple(ops) if isinstance(ops, tuple | list) else (ops,), fn, ref, strategy, **kw)
    )


def unary_strategy(domain="real", gap=None, min_dims=0):
    @st.composite
    def strat(draw):
        shape = draw(small_shapes(min_dims))
        return (draw_array(draw, shape, domain, gap),), {"how": draw(st.sampled_from(["function", "method"]))}

    return strat()


def binary_strategy(domain_a="real", domain_b="real", joint=False):
    @st.composite
    def strat(draw):
        sa, sb = draw(small_broadcastable(2))
        if joint:
            a, b = draw_joint(draw, [sa, sb], domain_a)
        else:
            a, b = draw_array(draw, sa, domain_a), draw_array(draw, sb, domain_b)
        return (a, b), {"how": draw(st.sampled_from(["operator", "function", "method"]))}

    return strat()


def scalar_strategy(domain_x="real", domain_s="real"):
    @st.composite
    def strat(draw):
        return (draw_array(draw, draw(small_shapes()), domain_x),), {"s": number(draw, domain_s)}

    return strat()


# ------------------------------------------------------------------- arithmetic
BINARY = {
    # name: (op, operator, mt function, method name, numpy, domain of a, domain of b)
    "add": ("Add", lambda a, b: a + b, mt.add, "add", np.add, "real", "real"),
    "sub": ("Sub", lambda a, b: a - b, mt.sub, "sub", np.subtract, "real", "real"),
    "mul": ("Mul", lambda a, b: a * b, mt.mul, "mul", np.multiply, "real", "real"),
    "div": ("Div", lambda a, b: a / b, mt.div, "div", np.divide, "real", "nonzero"),
    "pow": ("Pow", lambda a, b: a**b, mt.pow, "pow", np.power, "positive", "real"),
}


def _binary_fn(operator, function, method):
    def fn(a, b, how):
        if how == "operator":
            return operator(a, b)
        if how == "function":
            return function(a, b)
        return getattr(a, method)(b)

    return fn


for _name, (_op, _operator, _function, _method, _np, _da, _db) in BINARY.items():
    case(
        _name,
        _op,
        _binary_fn(_operator, _function, _method),
        lambda a, b, how, _np=_np: _np(a, b),
        binary_strategy(_da, _db),
    )
    # tensor ⊕ Python scalar and Python scalar ⊕ tensor (the scalar gets no gradient)
    _ds = "nonzero" if _name == "div" else "real"
    if _name == "pow":  # positive base ** any real scalar exponent
        case(
            "pow_scalar_exponent",
            _op,
            lambda x, s: x**s,
            lambda x, s: np.power(x, s),
            scalar_strategy("positive", "real"),
        )
        case(
            "pow_int_exponent_real_base",
            _op,
            lambda x, s: x**s,
            lambda x, s: np.power(x, float(s)),
            st.tuples(small_shapes(), st.sampled_from([0, 1, 2, 3])).flatmap(
                lambda sh_s: st.tuples(
                    arrays(sh_s[0], np.float64, "real").map(lambda a: (a,)), st.just({"s": sh_s[1]})
                )
            ),
        )
        case(
            "rpow_scalar_base",
            _op,
            lambda x, s: s**x,
            lambda x, s: np.power(float(s), x),
            scalar_strategy("real", "positive"),
        )
        continue
    case(
        f"{_name}_scalar",
        _op,
        lambda x, s, _f=_operator: _f(x, s),
        lambda x, s, _n=_np: _n(x, s),
        scalar_strategy("real", _ds),
    )
    case(
        f"r{_name}_scalar",
        _op,
        lambda x, s, _f=_operator: _f(s, x),
        lambda x, s, _n=_np: _n(s, x),
        scalar_strategy("nonzero" if _name == "div" else "real", "real"),
    )

case(
    "neg",
    "Neg",
    lambda x, how: -x if how == "method" else mt.neg(x),
    lambda x, how: -x,
    unary_strategy(),
)


# ----------------------------------------------------------------------- matmul
@st.composite
def matmul_strategy(draw, kind: str):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    if kind == "1d_1d":
        sa, sb = (k,), (k,)
    elif kind == "1d_nd":
        batch = draw(small_shapes(0, 1, 1).filter(lambda s: math.prod(s) <= 3))
        sa, sb = (k,), batch + (k, m)
    elif kind == "nd_1d":
        batch = draw(small_shapes(0, 1, 1).filter(lambda s: math.prod(s) <= 3))
        sa, sb = batch + (n, k), (k,)
    elif kind == "2d":
        sa, sb = (n, k), (k, m)
    else:  # batched, with broadcast batch dims (either side may have fewer / size-1 batch dims)
        ba, bb = draw(broadcastable_shapes(2, 1, 2, 1, 3).filter(lambda s: max(map(math.prod, s)) <= 3))
        sa, sb = ba + (n, k), bb + (k, m)
    a, b = draw_array(draw, sa), draw_array(draw, sb)
    return (a, b), {"how": draw(st.sampled_from(["operator", "function", "method"]))}


def _matmul(a, b, how):
    if how == "operator":
        return a @ b
    return mt.matmul(a, b) if how == "function" else a.matmul(b)


for _kind in ("1d_1d", "1d_nd", "nd_1d", "2d", "batched_broadcast"):
    case(f"matmul_{_kind}", "MatMul", _matmul, lambda a, b, how: np.matmul(a, b), matmul_strategy(_kind))


# ------------------------------------------------------------ unary elementwise
def _unary_fn(name):
    def fn(x, how):
        return getattr(mt, name)(x) if how == "function" else getattr(x, name)()

    return fn


def _np_sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


UNARY = {
    # name: (op, numpy, domain, gap)
    "exp": ("Exp", np.exp, "real", None),
    "log": ("Log", np.log, "positive", None),
    "sqrt": ("Sqrt", np.sqrt, "positive", None),
    "abs": ("Abs", np.abs, "away_from_zero", None),
    "tanh": ("Tanh", np.tanh, "real", None),
    "sigmoid": ("Sigmoid", _np_sigmoid, "logits", None),
    "relu": ("Relu", lambda x: np.maximum(x, 0), "away_from_zero", None),
}
for _name, (_op, _np, _dom, _gap) in UNARY.items():
    case(_name, _op, _unary_fn(_name), lambda x, how, _np=_np: _np(x), unary_strategy(_dom, _gap))


# ----------------------------------------------------------- clamp / max / where
@st.composite
def clamp_strategy(draw, which: str):
    x = draw_array(draw, draw(small_shapes()), "real", GAP)
    # bounds sit half-way between grid points: never within GAP / 2 of a value
    lo_k = draw(st.integers(-150, 100))
    lo = (lo_k + 0.5) * GAP
    hi = (draw(st.integers(lo_k + 1, 150)) + 0.5) * GAP
    params = {"min": lo if which != "max" else None, "max": hi if which != "min" else None}
    params["how"] = draw(st.sampled_from(["function", "method", "clip"]))
    return (x,), params


def _clamp(x, min, max, how):
    if how == "function":
        return mt.clamp(x, min=min, max=max)
    return x.clamp(min, max) if how == "method" else x.clip(min=min, max=max)


for _which in ("min", "max", "both"):
    case(
        f"clamp_{_which}",
        "Clamp",
        _clamp,
        lambda x, min, max, how: np.clip(x, min, max),
        clamp_strategy(_which),
    )


@st.composite
def clamp_tensor_strategy(draw):
    sx, slo, shi = draw(small_broadcastable(3))
    x, lo = draw_joint(draw, [sx, slo])
    hi = lo + draw_array(draw, shi, (0.5, 2.0))  # hi > lo where both bite
    hi = np.asarray(hi + 0.5 * GAP)  # off the grid of x and lo
    return (x, lo, hi), {}


case(
    "clamp_tensor_bounds",
    "Where",
    lambda x, lo, hi: mt.clamp(x, lo, hi),
    lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    clamp_tensor_strategy(),
)


def _maxmin_fn(name):
    def fn(a, b, how):
        if how == "function":
            return getattr(mt, name)(a, b)
        if how == "method":
            return getattr(a, name)(b)
        return (mt.max if name == "maximum" else mt.min)(a, b)  # torch.max(a, b) is maximum

    return fn


for _name, _np in (("maximum", np.maximum), ("minimum", np.minimum)):
    _op = _name.capitalize()
    case(_name, _op, _maxmin_fn(_name), lambda a, b, how, _n=_np: _n(a, b), binary_strategy(joint=True))

    @st.composite
    def _ties(draw):
        a = draw_array(draw, draw(small_shapes()))
        return (a, a.copy()), {}

    # Exact ties: the gradient is split ½ / ½ (PyTorch's convention) and central differences agree.
    # The first derivative jumps there, so finite differences of it (second order) are meaningless.
    case(
        f"{_name}_ties",
        _op,
        lambda a, b, _n=_name: getattr(mt, _n)(a, b),
        lambda a, b, _n=_np: _n(a, b),
        _ties(),
        second_order=False,
    )


@st.composite
def where_strategy(draw, scalar: bool):
    sc, sa, sb = draw(small_broadcastable(3))
    cond = draw(hnp.arrays(np.bool_, sc))
    a = draw_array(draw, sa)
    if scalar:
        return (a,), {"cond": cond, "other": number(draw), "as_tensor": draw(st.booleans())}
    return (a, draw_array(draw, sb)), {"cond": cond, "as_tensor": draw(st.booleans())}


def _where(a, b=None, *, cond, as_tensor, other=None):
    c = mt.tensor(cond) if as_tensor else cond
    return mt.where(c, a, other if b is None else b)


case(
    "where",
    "Where",
    _where,
    lambda a, b, cond, as_tensor: np.where(cond, a, b),
    where_strategy(False),
)
case(
    "where_scalar_other",
    "Where",
    _where,
    lambda a, cond, as_tensor, other: np.where(cond, a, other),
    where_strategy(True),
)


# ------------------------------------------------------------------ reductions
@st.composite
def reduce_strategy(draw, gap=None, allow_none=True, min_dims=0):
    shape = draw(small_shapes(min_dims))
    x = draw_array(draw, shape, "real", gap)
    return (x,), {
        "dim": draw_dims(draw, len(shape), allow_none),
        "keepdim": draw(st.booleans()),
        "how": draw(st.sampled_from(["function", "method"])),
    }


def _reduce_fn(name):
    def fn(x, dim, keepdim, how):
        f = getattr(mt, name) if how == "function" else getattr(type(x), name)
        if dim is None and not keepdim:
            return f(x)  # no arguments at all: reduce everything
        return f(x, dim, keepdim=keepdim)

    return fn


case(
    "sum",
    "Sum",
    _reduce_fn("sum"),
    lambda x, dim, keepdim, how: np.sum(x, axis=np_axes(dim, x.ndim), keepdims=keepdim),
    reduce_strategy(),
)
case(
    "mean",
    "Mean",
    _reduce_fn("mean"),
    lambda x, dim, keepdim, how: np.mean(x, axis=np_axes(dim, x.ndim), keepdims=keepdim),
    reduce_strategy(),
)


def _np_logsumexp(x, dim, keepdim, how):
    axis = np_axes(dim, x.ndim)
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=axis)


case("logsumexp", "LogSumExp", _reduce_fn("logsumexp"), _np_logsumexp, reduce_strategy(allow_none=False))


@st.composite
def extreme_all_strategy(draw):
    return (draw_array(draw, draw(small_shapes()), "real", GAP),), {
        "how": draw(st.sampled_from(["function", "method"]))
    }


for _name, _np in (("max", np.max), ("min", np.min)):
    case(
        f"{_name}_all",
        "Amax",
        lambda x, how, _n=_name: getattr(mt, _n)(x) if how == "function" else getattr(x, _n)(),
        lambda x, how, _np=_np: _np(x),
        extreme_all_strategy(),
    )


@st.composite
def extreme_dim_strategy(draw):
    shape = draw(small_shapes())
    return (draw_array(draw, shape, "real", GAP),), {
        "dim": draw_dim(draw, len(shape)),
        "keepdim": draw(st.booleans()),
        "how": draw(st.sampled_from(["function", "method", "keyword"])),
    }


def _extreme_dim_fn(name):
    def fn(x, dim, keepdim, how):
        if how == "function":
            res = getattr(mt, name)(x, dim, keepdim)
        elif how == "method":
            res = getattr(x, name)(dim, keepdim=keepdim)
        else:
            res = getattr(x, name)(dim=dim, keepdim=keepdim)
        values, indices = res  # a (values, indices) named tuple
        assert res.values is values and res.indices is indices
        return values, indices

    return fn


def _np_extreme_dim(npf, argf):
    def ref(x, dim, keepdim, how):
        if x.ndim == 0:
            return x, np.zeros((), np.int64)
        return npf(x, axis=dim, keepdims=keepdim), argf(x, axis=dim, keepdims=keepdim)

    return ref


for _name, _npf, _argf in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
    # ops: values come from TakeAlongDim (none at all for a 0-d input, which is returned as is)
    case(
        f"{_name}_dim",
        "TakeAlongDim",
        _extreme_dim_fn(_name),
        _np_extreme_dim(_npf, _argf),
        extreme_dim_strategy(),
    )


@st.composite
def take_along_dim_strategy(draw):
    shape = draw(small_shapes(1))
    dim = draw_dim(draw, len(shape))
    d = dim % len(shape)
    ishape = tuple(
        draw(st.integers(1, 4)) if a == d else (1 if draw(st.booleans()) else n) for a, n in enumerate(shape)
    )
    # indices repeat (a small range, drawn independently), and may broadcast over the other dims
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    return (draw_array(draw, shape),), {"indices": idx, "dim": dim, "as_tensor": draw(st.booleans())}


case(
    "take_along_dim",
    "TakeAlongDim",
    lambda x, indices, dim, as_tensor: mt.take_along_dim(
        x, mt.tensor(indices) if as_tensor else indices, dim
    ),
    lambda x, indices, dim, as_tensor: np.take_along_axis(x, indices, axis=dim),
    take_along_dim_strategy(),
)


@st.composite
def var_strategy(draw, gap):
    shape = list(draw(small_shapes(1, min_side=1).filter(lambda s: math.prod(s) <= MAX_NUMEL // 2)))
    dim = draw_dims(draw, len(shape))
    axes = range(len(shape)) if dim is None else [d % len(shape) for d in np.atleast_1d(dim)]
    if math.prod(shape[a] for a in axes) < 2:  # at least two values to spread: never 0 / 0
        shape[min(axes)] = 2
    x = draw_array(draw, shape, "real", gap)
    how = draw(st.sampled_from(["correction", "unbiased", "default", "function"]))
    return (x,), {
        "dim": dim,
        "keepdim": draw(st.booleans()),
        "correction": draw(st.sampled_from([0, 1])),
        "how": how,
    }


def _var_fn(name):
    def fn(x, dim, keepdim, correction, how):
        if how == "correction":
            return getattr(x, name)(dim, keepdim=keepdim, correction=correction)
        if how == "unbiased":
            return getattr(x, name)(dim, bool(correction), keepdim)
        if how == "default":  # Bessel's correction by default, as PyTorch
            return (
                getattr(x, name)(dim, keepdim=keepdim)
                if correction
                else getattr(x, name)(dim, correction=0, keepdim=keepdim)
            )
        return getattr(mt, name)(x, dim, keepdim=keepdim, correction=correction)

    return fn


def _np_var(x, dim, keepdim, correction, how):
    return np.var(x, axis=dim, ddof=correction, keepdims=keepdim)


case("var", "Var", _var_fn("var"), _np_var, var_strategy(None))
# std: distinct values keep the variance (and so sqrt's derivative) well away from 0
case(
    "std",
    ("Var", "Std"),
    _var_fn("std"),
    lambda *a, **k: np.sqrt(_np_var(*a, **k)),
    var_strategy(GAP),
)


@st.composite
def softmax_strategy(draw):
    shape = draw(small_shapes())
    return (draw_array(draw, shape, "logits"),), {
        "dim": draw_dim(draw, len(shape)),
        "how": draw(st.sampled_from(["function", "method"])),
    }


def _np_softmax(x, dim):
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _np_log_softmax(x, dim):
    if x.ndim == 0:
        return np.zeros_like(x)
    z = x - np.max(x, axis=dim, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=dim, keepdims=True))


for _name, _op, _np in (("softmax", "Softmax", _np_softmax), ("log_softmax", "LogSoftmax", _np_log_softmax)):
    case(
        _name,
        _op,
        lambda x, dim, how, _n=_name: getattr(mt, _n)(x, dim) if how == "function" else getattr(x, _n)(dim),
        lambda x, dim, how, _np=_np: _np(x, dim),
        softmax_strategy(),
    )


# ------------------------------------------------------------------ shape ops
@st.composite
def reshape_strategy(draw):
    shape = draw(small_shapes())
    rest, target = math.prod(shape), []
    for _ in range(draw(st.integers(0, 3))):
        f = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        target.append(f)
        rest //= f
    target.append(rest)  # the last factor takes what is left
    target = draw(st.permutations(target))
    if draw(st.booleans()):  # let reshape infer one size
        target[draw(st.integers(0, len(target) - 1))] = -1
    return (draw_array(draw, shape),), {
        "target": tuple(target),
        "how": draw(st.sampled_from(["reshape", "reshape_tuple", "view", "function"])),
    }


def _reshape(x, target, how):
    if how == "reshape":
        return x.reshape(*target)
    if how == "reshape_tuple":
        return x.reshape(target)
    return x.view(*target) if how == "view" else mt.reshape(x, target)


case("reshape_view", "Reshape", _reshape, lambda x, target, how: np.reshape(x, target), reshape_strategy())


@st.composite
def transpose_strategy(draw):
    shape = draw(small_shapes(1))
    n = len(shape)
    hows = ["method", "function", "T"] + (["mT"] if n >= 2 else []) + (["t"] if n <= 2 else [])
    return (draw_array(draw, shape),), {
        "d0": draw_dim(draw, n),
        "d1": draw_dim(draw, n),
        "how": draw(st.sampled_from(hows)),
    }


def _transpose(x, d0, d1, how):
    if how == "method":
        return x.transpose(d0, d1)
    if how == "function":
        return mt.transpose(x, d0, d1)
    if how == "T":
        return x.T
    return x.mT if how == "mT" else x.t()


def _np_transpose(x, d0, d1, how):
    if how == "T" or how == "t":
        return x.T
    if how == "mT":
        return np.swapaxes(x, -1, -2)
    return np.swapaxes(x, d0, d1)


case("transpose", "Permute", _transpose, _np_transpose, transpose_strategy())


@st.composite
def permute_strategy(draw):
    shape = draw(small_shapes(1))
    n = len(shape)
    perm = [d - n if draw(st.booleans()) else d for d in draw(st.permutations(range(n)))]
    return (draw_array(draw, shape),), {
        "dims": tuple(perm),
        "how": draw(st.sampled_from(["args", "tuple", "fn"])),
    }


def _permute(x, dims, how):
    if how == "args":
        return x.permute(*dims)
    return x.permute(dims) if how == "tuple" else mt.permute(x, dims)


case(
    "permute",
    "Permute",
    _permute,
    lambda x, dims, how: np.transpose(x, [d % x.ndim for d in dims]),
    permute_strategy(),
)


@st.composite
def squeeze_strategy(draw):
    shape = draw(shapes(0, MAX_DIMS, 1, 2))  # plenty of size-1 dims
    return (draw_array(draw, shape),), {"dim": draw_dims(draw, len(shape)), "how": draw(st.booleans())}


def _np_squeeze(x, dim, how):
    if dim is None:
        return np.squeeze(x)
    if x.ndim == 0:
        return x
    dims = dim if isinstance(dim, tuple) else (dim,)
    return np.squeeze(x, axis=tuple(d % x.ndim for d in dims if x.shape[d] == 1))


case(
    "squeeze",
    "Reshape",
    lambda x, dim, how: (x.squeeze(dim) if dim is not None else x.squeeze()) if how else mt.squeeze(x, dim),
    _np_squeeze,
    squeeze_strategy(),
)


@st.composite
def unsqueeze_strategy(draw):
    shape = draw(small_shapes())
    n = len(shape)
    return (draw_array(draw, shape),), {"dim": draw(st.integers(-n - 1, n)), "how": draw(st.booleans())}


case(
    "unsqueeze",
    "Reshape",
    lambda x, dim, how: x.unsqueeze(dim) if how else mt.unsqueeze(x, dim),
    lambda x, dim, how: np.expand_dims(x, dim),
    unsqueeze_strategy(),
)


@st.composite
def flatten_strategy(draw):
    shape = draw(small_shapes())
    n = len(shape)
    s, e = sorted((draw_dim(draw, n) % max(n, 1), draw_dim(draw, n) % max(n, 1)))
    s = s - max(n, 1) if draw(st.booleans()) else s
    e = e - max(n, 1) if draw(st.booleans()) else e
    return (draw_array(draw, shape),), {
        "start": s,
        "end": e,
        "how": draw(st.sampled_from(["method", "fn", "default"])),
    }


def _flatten(x, start, end, how):
    if how == "default":
        return x.flatten()
    return x.flatten(start, end) if how == "method" else mt.flatten(x, start_dim=start, end_dim=end)


def _np_flatten(x, start, end, how):
    if x.ndim == 0:
        return x.reshape(1)
    if how == "default":
        return x.reshape(-1)
    s, e = start % x.ndim, end % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1 :])


case("flatten", "Reshape", _flatten, _np_flatten, flatten_strategy())


@st.composite
def expand_strategy(draw):
    target = draw(small_shapes())
    lead = draw(st.integers(0, len(target)))
    shape = tuple(1 if draw(st.booleans()) else n for n in target[lead:])
    sizes = tuple(
        -1 if i >= lead and shape[i - lead] == n and draw(st.booleans()) else n for i, n in enumerate(target)
    )
    return (draw_array(draw, shape),), {
        "sizes": sizes,
        "target": target,
        "how": draw(st.sampled_from(["args", "tuple", "fn", "as"])),
    }


def _expand(x, sizes, target, how):
    if how == "args":
        return x.expand(*sizes)
    if how == "tuple":
        return x.expand(sizes)
    return mt.expand(x, *sizes) if how == "fn" else x.expand_as(mt.zeros(target))


case(
    "expand",
    "Expand",
    _expand,
    lambda x, sizes, target, how: np.broadcast_to(x, target),
    expand_strategy(),
)


@st.composite
def cat_strategy(draw):
    base = list(draw(small_shapes(1).filter(lambda s: math.prod(s) <= MAX_NUMEL // 3)))
    dim = draw_dim(draw, len(base))
    k = draw(st.integers(1, 3))
    xs = []
    for _ in range(k):
        s = list(base)
        s[dim] = draw(st.integers(1, 3))
        xs.append(draw_array(draw, s))
    return tuple(xs), {"dim": dim, "how": draw(st.sampled_from(["cat", "concat", "tuple"]))}


def _cat(*xs, dim, how):
    if how == "cat":
        return mt.cat(list(xs), dim)
    return mt.concat(list(xs), dim=dim) if how == "concat" else mt.cat(xs, dim=dim)


case("cat", "Cat", _cat, lambda *xs, dim, how: np.concatenate(xs, axis=dim), cat_strategy())


@st.composite
def stack_strategy(draw):
    shape = draw(small_shapes().filter(lambda s: math.prod(s) <= MAX_NUMEL // 3))
    k = draw(st.integers(1, 3))
    xs = tuple(draw_array(draw, shape) for _ in range(k))
    return xs, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))}


case(
    "stack",
    "Stack",
    lambda *xs, dim: mt.stack(list(xs), dim),
    lambda *xs, dim: np.stack(xs, axis=dim),
    stack_strategy(),
)

case(
    "clone",
    "Clone",
    lambda x, how: x.clone() if how == "method" else mt.clone(x),
    lambda x, how: x.copy(),
    unary_strategy(),
)

# float64 -> float32 -> float64. Values and eps are multiples of 2**-10, exact in float32, so finite
# differences stay exact through the rounding; the gradient is cast back to each input's dtype.
case(
    "cast",
    "Cast",
    lambda x, how: x.float().double() if how == "float" else x.to(mt.float32).to(mt.float64),
    lambda x, how: x.astype(np.float32).astype(np.float64),
    st.tuples(
        small_shapes().flatmap(lambda s: arrays(s, np.float64, "real", 2.0**-6)).map(lambda a: (a,)),
        st.fixed_dictionaries({"how": st.sampled_from(["float", "to"])}),
    ),
    eps=CAST_EPS,
    grid=2.0**-6,
)


# -------------------------------------------------------------------- indexing
def _int_or_slice(draw, n: int):
    kind = draw(st.sampled_from(["int", "slice", "full"]))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "full":
        return slice(None)
    step = draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
    start = draw(st.none() | st.integers(-n - 1, n + 1))
    stop = draw(st.none() | st.integers(-n - 1, n + 1))
    return slice(start, stop, step)


@st.composite
def basic_index_strategy(draw):
    """ints (negative too), slices with steps (negative too, possibly empty), None and Ellipsis."""
    shape = draw(small_shapes())
    n = len(shape)
    p = draw(st.integers(0, n))
    items = [_int_or_slice(draw, shape[d]) for d in range(p)]
    if draw(st.booleans()):  # Ellipsis over the middle dims, then explicit trailing dims
        q = draw(st.integers(p, n))
        items += [Ellipsis] + [_int_or_slice(draw, shape[d]) for d in range(q, n)]
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    index = items[0] if len(items) == 1 and draw(st.booleans()) else tuple(items)
    return (draw_array(draw, shape),), {"index": index}


@st.composite
def int_array_index_strategy(draw):
    """Integer arrays (repeated and negative indices) broadcast together, mixed with slices.

    Arrays separated by a slice or Ellipsis move their result dims to the front (NumPy's rule).
    """
    shape = draw(small_shapes(1))
    n = len(shape)
    ishape = draw(shapes(1, 2, 1, 3))
    kinds = draw(
        st.lists(st.sampled_from(["array", "slice"]), min_size=n, max_size=n).filter(lambda k: "array" in k)
    )
    items: list[Any] = [
        draw(hnp.arrays(np.int64, ishape, elements=st.integers(-shape[d], shape[d] - 1)))
        if kind == "array"
        else slice(None, None, draw(st.sampled_from([None, 2, -1])))
        for d, kind in enumerate(kinds)
    ]
    if draw(st.booleans()):  # trailing full slices may be left out
        while isinstance(items[-1], slice) and items[-1] == slice(None):
            items.pop()
    full = [i for i, it in enumerate(items) if isinstance(it, slice) and it == slice(None)]
    if full and len(items) == n and draw(st.booleans()):  # an Ellipsis standing for one full slice
        items[draw(st.sampled_from(full))] = Ellipsis
    form = draw(st.sampled_from(["ndarray", "tensor", "list"]))
    if form == "tensor":
        items = [mt.tensor(it) if isinstance(it, np.ndarray) else it for it in items]
    elif form == "list":
        items = [it.tolist() if isinstance(it, np.ndarray) else it for it in items]
    index = items[0] if len(items) == 1 else tuple(items)
    return (draw_array(draw, shape),), {"index": index}


@st.composite
def bool_mask_index_strategy(draw):
    """Boolean masks over the leading dims (or after a slice / Ellipsis), as array or tensor."""
    shape = draw(small_shapes(1))
    n = len(shape)
    form = draw(st.sampled_from(["lead", "after_slice", "after_ellipsis"]))
    if form == "lead" or n == 1:
        k = draw(st.integers(1, n))
        mask = draw(hnp.arrays(np.bool_, shape[:k]))
        items = [mask]
    elif form == "after_slice":
        mask = draw(hnp.arrays(np.bool_, shape[1:2]))
        items = [slice(None), mask]
    else:
        mask = draw(hnp.arrays(np.bool_, shape[-1:]))
        items = [Ellipsis, mask]
    if draw(st.booleans()):
        items = [mt.tensor(m) if isinstance(m, np.ndarray) else m for m in items]
    return (draw_array(draw, shape),), {"index": items[0] if len(items) == 1 else tuple(items)}


def _np_index(index):
    if isinstance(index, tuple):
        return tuple(_np_index(i) for i in index)
    if isinstance(index, mt.Tensor):
        return index.numpy()
    if isinstance(index, list):
        return np.asarray(index)
    return index


for _name, _strat in (
    ("getitem_basic", basic_index_strategy()),
    ("getitem_int_array", int_array_index_strategy()),
    ("getitem_bool_mask", bool_mask_index_strategy()),
):
    case(_name, "GetItem", lambda x, index: x[index], lambda x, index: x[_np_index(index)], _strat)


@st.composite
def setitem_strategy(draw, index_strategy):
    """x and an index (basic or bool mask: no repeated positions), and a value for x[index]."""
    (x,), params = draw(index_strategy)
    region = x[_np_index(params["index"])].shape
    vshape = region[draw(st.integers(0, len(region))) :]  # the value may broadcast over leading dims
    return (x, draw_array(draw, vshape)), params


def _setitem(x, value, index):
    y = x.clone()
    y[index] = value  # recorded: y's grad_fn becomes SetItemBackward, whose input is the clone
    return y


def _np_setitem(x, value, index):
    y = x.copy()
    y[_np_index(index)] = value
    return y


for _name, _strat in (
    ("setitem_basic", basic_index_strategy()),
    ("setitem_bool_mask", bool_mask_index_strategy()),
):
    case(_name, ("Clone", "SetItem"), _setitem, _np_setitem, setitem_strategy(_strat))


# ------------------------------------ fused layer / loss ops (nn.functional)
@st.composite
def linear_strategy(draw):
    batch = draw(shapes(0, 2, 1, 3))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    xs = (draw_array(draw, batch + (n_in,)), draw_array(draw, (n_out, n_in)))
    if draw(st.booleans()):
        xs += (draw_array(draw, (n_out,)),)
    return xs, {}


case(
    "linear",
    "Linear",
    lambda x, w, b=None: F.linear(x, w, b),
    lambda x, w, b=None: x @ w.T + (0.0 if b is None else b),
    linear_strategy(),
)


@st.composite
def cross_entropy_strategy(draw):
    c = draw(st.integers(1, 4))
    rank = draw(st.sampled_from([1, 2, 3]))  # (C,), (N, C), (N, C, d)
    lead = tuple(draw(st.integers(1, 3)) for _ in range(min(rank - 1, 1)))
    tail = tuple(draw(st.integers(1, 2)) for _ in range(rank - 2))
    target = draw(hnp.arrays(np.int64, lead + tail, elements=st.integers(0, c - 1)))
    return (draw_array(draw, lead + (c,) + tail, "logits"),), {
        "target": target,
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "as_tensor": draw(st.booleans()),
    }


def _np_reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _np_cross_entropy(x, target, reduction, as_tensor):
    dim = 0 if x.ndim == 1 else 1
    z = x - x.max(axis=dim, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=dim, keepdims=True))
    picked = np.take_along_axis(logp, np.expand_dims(target, dim), axis=dim).squeeze(dim)
    return _np_reduce(-picked, reduction)


case(
    "cross_entropy",
    ("SoftmaxCrossEntropy", "Reshape", "Permute"),
    lambda x, target, reduction, as_tensor: F.cross_entropy(
        x, mt.tensor(target) if as_tensor else target, reduction=reduction
    ),
    _np_cross_entropy,
    cross_entropy_strategy(),
)


@st.composite
def bce_strategy(draw, logits: bool, pos_weight: bool = False):
    shape = draw(small_shapes())
    # probabilities away from 0 and 1; logits away from relu/abs's kink when pos_weight takes that path
    x = draw_array(draw, shape, ("away_from_zero" if pos_weight else "logits") if logits else (0.05, 0.95))
    xs = (x, draw_array(draw, shape, (0.0, 1.0)))  # soft targets: the target's gradient is checked too
    if pos_weight:
        xs += (draw_array(draw, shape[len(shape) - draw(st.integers(0, len(shape))) :], (0.2, 3.0)),)
    return xs, {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _np_bce_logits(z, y, w=None, *, reduction):
    softplus_neg = np.log1p(np.exp(-np.abs(z))) + np.maximum(-z, 0)  # log(1 + e^−z)
    loss = (1 - y) * z + (1 if w is None else 1 + (w - 1) * y) * softplus_neg
    return _np_reduce(loss, reduction)


@st.composite
def mse_strategy(draw):
    shape = draw(small_shapes())
    xs = (draw_array(draw, shape), draw_array(draw, shape))
    return xs, {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


case(
    "mse_loss",
    "MSELoss",
    lambda a, b, reduction: F.mse_loss(a, b, reduction=reduction),
    lambda a, b, reduction: _np_reduce((a - b) ** 2, reduction),
    mse_strategy(),
)
case(
    "binary_cross_entropy",
    "BinaryCrossEntropy",
    lambda p, y, reduction: F.binary_cross_entropy(p, y, reduction=reduction),
    lambda p, y, reduction: _np_reduce(-(y * np.log(p) + (1 - y) * np.log(1 - p)), reduction),
    bce_strategy(logits=False),
)
case(
    "bce_with_logits",
    "BCEWithLogits",
    lambda z, y, reduction: F.binary_cross_entropy_with_logits(z, y, reduction=reduction),
    _np_bce_logits,
    bce_strategy(logits=True),
)
case(
    "bce_with_logits_pos_weight",
    "BCEWithLogits",
    lambda z, y, w, reduction: F.binary_cross_entropy_with_logits(z, y, pos_weight=w, reduction=reduction),
    _np_bce_logits,
    bce_strategy(logits=True, pos_weight=True),
)


# ------------------------------------------- internal ops (reached by backward)
@st.composite
def index_add_case_strategy(draw):
    kind = draw(st.sampled_from(["basic", "int_array"]))
    (x,), params = draw(basic_index_strategy() if kind == "basic" else int_array_index_strategy())
    index = params["index"] if isinstance(params["index"], tuple) else (params["index"],)
    index = tuple(_np_index(i) for i in index)
    out_shape = np.zeros(x.shape)[index].shape
    return (draw_array(draw, out_shape),), {"index": index, "shape": x.shape}


def _np_index_add(g, index, shape):
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


case(
    "index_add",
    "IndexAdd",
    lambda g, index, shape: IndexAdd(index, shape)(g),
    _np_index_add,
    index_add_case_strategy(),
)

CASES_BY_NAME: dict[str, OpCase] = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"


# ------------------------------------------- products, scans, amax/amin, scatter (issue 12, 2.3-2.4)
@st.composite
def prod_strategy(draw, zeros=False):
    shape = draw(small_shapes().filter(lambda s: math.prod(s) <= 16))
    x = draw_array(draw, shape, "nonzero")
    if zeros and x.size:  # zeros: one or two of them, where out / x would be 0 / 0
        flat = x.reshape(-1)
        flat[draw(st.integers(0, x.size - 1))] = 0.0
        if draw(st.booleans()):
            flat[draw(st.integers(0, x.size - 1))] = 0.0
    dim = None if draw(st.booleans()) else draw_dim(draw, len(shape))
    return (x,), {
        "dim": dim,
        "keepdim": draw(st.booleans()),
        "how": draw(st.sampled_from(["function", "method"])),
    }


def _prod_fn(x, dim, keepdim, how):
    if dim is None:
        return mt.prod(x) if how == "function" else x.prod()
    return mt.prod(x, dim, keepdim=keepdim) if how == "function" else x.prod(dim=dim, keepdim=keepdim)


case(
    "prod",
    "Prod",
    _prod_fn,
    lambda x, dim, keepdim, how: (
        np.prod(x) if dim is None else np.prod(x, axis=np_axes(dim, x.ndim), keepdims=keepdim and x.ndim > 0)
    ),
    prod_strategy(),
)
# with zeros: the product of the others, never 0 / 0; under create_graph a division-free form
case(
    "prod_zeros",
    "Prod",
    _prod_fn,
    lambda x, dim, keepdim, how: (
        np.prod(x) if dim is None else np.prod(x, axis=np_axes(dim, x.ndim), keepdims=keepdim and x.ndim > 0)
    ),
    prod_strategy(zeros=True),
)


@st.composite
def scan_strategy(draw, zeros=False):
    shape = draw(small_shapes(1).filter(lambda s: math.prod(s) <= 16))
    x = draw_array(draw, shape, "nonzero")
    if zeros:
        flat = x.reshape(-1)
        for _ in range(draw(st.integers(1, 2))):
            flat[draw(st.integers(0, x.size - 1))] = 0.0
    return (x,), {"dim": draw_dim(draw, len(shape)), "how": draw(st.sampled_from(["function", "method"]))}


case(
    "cumsum",
    "Cumsum",
    lambda x, dim, how: mt.cumsum(x, dim) if how == "function" else x.cumsum(dim=dim),
    lambda x, dim, how: np.cumsum(x, axis=dim),
    scan_strategy(),
)
case(
    "cumprod",
    "Cumprod",
    lambda x, dim, how: mt.cumprod(x, dim) if how == "function" else x.cumprod(dim),
    lambda x, dim, how: np.cumprod(x, axis=dim),
    scan_strategy(),
)
case(  # with zeros, as prod_zeros
    "cumprod_zeros",
    "Cumprod",
    lambda x, dim, how: mt.cumprod(x, dim) if how == "function" else x.cumprod(dim),
    lambda x, dim, how: np.cumprod(x, axis=dim),
    scan_strategy(zeros=True),
)


@st.composite
def amax_strategy(draw):
    shape = draw(small_shapes(1))
    # distinct values (a tie is a kink finite differences cannot see; tie sharing is checked
    # against PyTorch in tests/test_reduce_parity.py)
    x = draw_array(draw, shape, "real", GAP)
    return (x,), {
        "dim": draw_dims(draw, len(shape)),
        "keepdim": draw(st.booleans()),
        "how": draw(st.sampled_from(["function", "method"])),
    }


for _name, _npf in (("amax", np.max), ("amin", np.min)):
    case(
        _name,
        "AmaxDim",
        lambda x, dim, keepdim, how, _n=_name: (
            getattr(mt, _n)(x, dim, keepdim)
            if how == "function"
            else getattr(x, _n)(dim=dim, keepdim=keepdim)
        ),
        lambda x, dim, keepdim, how, _npf=_npf: _npf(x, axis=dim, keepdims=keepdim),
        amax_strategy(),
        second_order=True,
    )


@st.composite
def scatter_strategy(draw):
    shape = draw(small_shapes(1).filter(lambda s: math.prod(s) <= 16))
    dim = draw_dim(draw, len(shape))
    d = dim % len(shape)
    ishape = tuple(
        draw(st.integers(1, n)) if a != d else draw(st.integers(1, 3)) for a, n in enumerate(shape)
    )
    if draw(st.booleans()):  # unique positions along dim, so the written value is well defined
        ishape = tuple(min(n, shape[d]) if a == d else n for a, n in enumerate(ishape))
        perm = np.stack(
            [draw(st.permutations(range(shape[d]))) for _ in range(math.prod(ishape) // ishape[d])]
        )
        idx = perm[:, : ishape[d]].reshape(ishape[:d] + ishape[d + 1 :] + (ishape[d],))
        idx = np.moveaxis(idx, -1, d).copy()
        kind = "scatter"
    else:
        idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
        kind = "scatter_add"
    sshape = tuple(n + draw(st.integers(0, 1)) for n in ishape)
    x, src = draw_array(draw, shape), draw_array(draw, sshape)
    return (x, src), {
        "dim": dim,
        "index": idx,
        "kind": kind,
        "how": draw(st.sampled_from(["function", "method"])),
    }


def _np_scatter(x, src, dim, index, kind, how):
    out = x.copy()
    full = tuple(index if a == dim % x.ndim else np.indices(index.shape)[a] for a in range(x.ndim))
    region = src[tuple(slice(0, n) for n in index.shape)]
    if kind == "scatter":
        out[full] = region
    else:
        np.add.at(out, full, region)
    return out


def _scatter_fn(x, src, dim, index, kind, how):
    if how == "function":
        return getattr(mt, kind)(x, dim, mt.tensor(index), src)
    return getattr(x, kind)(dim, mt.tensor(index), src)


@st.composite
def scatter_only(draw, kind):
    return draw(scatter_strategy().filter(lambda s: s[1]["kind"] == kind))


case("scatter", "Scatter", _scatter_fn, _np_scatter, scatter_only("scatter"))
case("scatter_add", "ScatterAdd", _scatter_fn, _np_scatter, scatter_only("scatter_add"))


@st.composite
def median_all_strategy(draw):
    x = draw_array(draw, draw(small_shapes(0)), "real", GAP)  # distinct: a tie is a kink
    return (x,), {
        "name": draw(st.sampled_from(["median", "nanmedian"])),
        "how": draw(st.sampled_from(["function", "method"])),
    }


case(
    "median_all",
    "MedianAll",
    lambda x, name, how: getattr(mt, name)(x) if how == "function" else getattr(x, name)(),
    lambda x, name, how: np.sort(x.reshape(-1))[(x.size - 1) // 2],
    median_all_strategy(),
)
case(
    "logcumsumexp",
    "LogCumSumExp",
    lambda x, dim, how: mt.logcumsumexp(x, dim) if how == "function" else x.logcumsumexp(dim),
    lambda x, dim, how: np.log(np.cumsum(np.exp(x), axis=dim)),
    scan_strategy(),
)


# ------------------------------- shape and index functions built from other ops (issue 12, 2.4)
@st.composite
def matrix_strategy(draw, min_dims=2):
    shape = draw(small_shapes(min_dims))
    return (draw_array(draw, shape),), {
        "diagonal": draw(st.integers(-2, 2)),
        "how": draw(st.sampled_from(["function", "method"])),
    }


for _name, _npf in (("tril", np.tril), ("triu", np.triu)):
    case(
        _name,
        "Where",
        lambda x, diagonal, how, _n=_name: (
            getattr(mt, _n)(x, diagonal) if how == "function" else getattr(x, _n)(diagonal=diagonal)
        ),
        lambda x, diagonal, how, _npf=_npf: _npf(x, diagonal),
        matrix_strategy(),
    )


@st.composite
def masked_fill_strategy(draw):
    shape = draw(small_shapes(1))
    mshape = tuple(n if draw(st.booleans()) else 1 for n in shape)[draw(st.integers(0, len(shape))) :]
    mask = draw(hnp.arrays(np.bool_, mshape))
    value = draw(st.sampled_from([0.0, -1.5, 2]))  # -inf (the causal mask): tests/test_index_parity.py
    return (draw_array(draw, shape),), {"mask": mask, "value": value}


case(
    "masked_fill",
    "Where",
    lambda x, mask, value: x.masked_fill(mt.tensor(mask), value),
    lambda x, mask, value: np.where(mask, value, x),
    masked_fill_strategy(),
)


@st.composite
def gather_strategy(draw):
    shape = draw(small_shapes(1))
    d = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(
        draw(st.integers(1, 3)) if a == d else draw(st.integers(1, n)) for a, n in enumerate(shape)
    )
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    dim = d - len(shape) if draw(st.booleans()) else d
    return (draw_array(draw, shape),), {"dim": dim, "index": idx}


def _np_gather(x, dim, index):
    d = dim % x.ndim
    corner = x[tuple(slice(None) if a == d else slice(0, n) for a, n in enumerate(index.shape))]
    return np.take_along_axis(corner, index, axis=d)


case(
    "gather",
    ("TakeAlongDim", "GetItem"),
    lambda x, dim, index: mt.gather(x, dim, mt.tensor(index)),
    _np_gather,
    gather_strategy(),
)


@st.composite
def along_dim_strategy(draw):
    shape = draw(small_shapes(1))
    d = draw(st.integers(0, len(shape) - 1))
    return (draw_array(draw, shape),), {
        "dim": d,
        "k": draw(st.integers(-3, 3)),
        "index": draw(hnp.arrays(np.int64, draw(st.integers(0, 4)), elements=st.integers(0, shape[d] - 1))),
    }


case(
    "flip",
    "GetItem",
    lambda x, dim, k, index: x.flip(dim),
    lambda x, dim, k, index: np.flip(x, dim),
    along_dim_strategy(),
)
case(
    "roll",
    "GetItem",
    lambda x, dim, k, index: mt.roll(x, k, dim),
    lambda x, dim, k, index: np.roll(x, k, dim),
    along_dim_strategy(),
)
case(
    "index_select",
    "GetItem",
    lambda x, dim, k, index: x.index_select(dim, mt.tensor(index)),
    lambda x, dim, k, index: np.take(x, index, axis=dim),
    along_dim_strategy(),
)
case(
    "split",
    "GetItem",
    lambda x, dim, k, index: x.split(abs(k) + 1, dim),
    lambda x, dim, k, index: tuple(np.split(x, range(abs(k) + 1, x.shape[dim], abs(k) + 1), axis=dim)),
    along_dim_strategy(),
)


@st.composite
def repeat_strategy(draw):
    shape = draw(small_shapes(0, 2))
    reps = tuple(draw(st.integers(0, 2)) for _ in range(len(shape) + draw(st.integers(0, 1))))
    return (draw_array(draw, shape),), {"reps": reps}


case(
    "repeat",
    ("Reshape", "Expand"),
    lambda x, reps: x.repeat(*reps),
    lambda x, reps: np.tile(x, reps),
    repeat_strategy(),
)


@st.composite
def diagonal_strategy(draw):
    shape = draw(small_shapes(2))
    d1, d2 = draw(st.permutations(range(len(shape))))[:2]
    return (draw_array(draw, shape),), {"offset": draw(st.integers(-2, 2)), "d1": d1, "d2": d2}


case(
    "diagonal",
    ("Permute", "GetItem"),
    lambda x, offset, d1, d2: mt.diagonal(x, offset, d1, d2),
    lambda x, offset, d1, d2: np.diagonal(x, offset, d1, d2),
    diagonal_strategy(),
)


# ------------------------------------------------------------- activations (issue 13)
def _away_from(x: np.ndarray, kinks) -> np.ndarray:
    """x with every value within 0.02 of a kink moved 0.05 off it (finite differences must not
    straddle a jump of the derivative)."""
    x = np.array(x, dtype=np.float64)
    for k in kinks:
        near = np.abs(x - k) < 0.02
        x[near] = k + 0.05
    return x


def activation_strategy(kinks=(), domain="real", params=None):
    @st.composite
    def strat(draw):
        shape = draw(small_shapes())
        p = {k: draw(v) for k, v in (params or {}).items()}
        ks = kinks(p) if callable(kinks) else kinks
        return (_away_from(draw_array(draw, shape, domain), ks),), p

    return strat()


def _np_erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _np_elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return scale * np.where(x <= 0, alpha * np.expm1(np.minimum(x, 0) * input_scale), x)


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
case(
    "gelu",
    "Gelu",
    lambda x: F.gelu(x),
    lambda x: x * 0.5 * (1 + _np_erf(x / math.sqrt(2))),
    activation_strategy(),
)
case(
    "gelu_tanh",
    "GeluTanh",
    lambda x: F.gelu(x, approximate="tanh"),
    lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    activation_strategy(),
)
case(
    "normal_cdf",
    "NormalCdf",
    lambda x: __import__("microtensor.ops.activation", fromlist=["NormalCdf"]).NormalCdf()(x),
    lambda x: 0.5 * (1 + _np_erf(x / math.sqrt(2))),
    activation_strategy(),
)
case("silu", "Silu", lambda x: F.silu(x), lambda x: x / (1 + np.exp(-x)), activation_strategy())
case("mish", "Mish", lambda x: F.mish(x), lambda x: x * np.tanh(np.logaddexp(0, x)), activation_strategy())
case(
    "elu",
    "Elu",
    lambda x, alpha, how: {"elu": F.elu, "celu": F.celu}[how](x, alpha) if how != "selu" else F.selu(x),
    lambda x, alpha, how: (
        _np_elu(x, alpha)
        if how == "elu"
        else _np_elu(x, alpha, 1.0, 1 / alpha)
        if how == "celu"
        else _np_elu(x, *_SELU)
    ),  # fmt: skip
    activation_strategy(
        (0.0,),
        params={"alpha": st.sampled_from([0.5, 1.0, 2.0]), "how": st.sampled_from(["elu", "celu", "selu"])},
    ),  # fmt: skip
)
case(
    "hardtanh",
    "Hardtanh",
    lambda x, lo, hi: F.hardtanh(x, lo, hi) if (lo, hi) != (0.0, 6.0) else F.relu6(x),
    lambda x, lo, hi: np.clip(x, lo, hi),
    activation_strategy(
        lambda p: (p["lo"], p["hi"]),
        params={"lo": st.sampled_from([-1.0, 0.0, -2.0]), "hi": st.sampled_from([1.0, 6.0, 0.5])},
    ),  # fmt: skip
)
case(
    "hardsigmoid",
    "Hardsigmoid",
    lambda x: F.hardsigmoid(x),
    lambda x: np.clip(x + 3, 0, 6) / 6,
    activation_strategy((-3.0, 3.0), (-4.0, 4.0)),
)
case(
    "hardswish",
    "Hardswish",
    lambda x: F.hardswish(x),
    lambda x: x * np.clip(x + 3, 0, 6) / 6,
    activation_strategy((-3.0, 3.0), (-4.0, 4.0)),
)
case(
    "softshrink",
    "Softshrink",
    lambda x, lambd: F.softshrink(x, lambd),
    lambda x, lambd: np.where(np.abs(x) <= lambd, 0, x - lambd * np.sign(x)),
    activation_strategy(lambda p: (-p["lambd"], p["lambd"]), params={"lambd": st.sampled_from([0, 0.5, 1])}),
)
case(
    "hardshrink",
    "Hardshrink",
    lambda x, lambd, how: F.hardshrink(x, lambd) if how == "function" else x.hardshrink(lambd),
    lambda x, lambd, how: np.where(np.abs(x) <= lambd, 0, x),
    activation_strategy(
        lambda p: (-p["lambd"], p["lambd"]),
        params={
            "lambd": st.sampled_from([0.0, 0.5, 1.0]),
            "how": st.sampled_from(["function", "method"]),
        },
    ),  # fmt: skip
)
case(
    "threshold",
    "Threshold",
    lambda x, th, value: mt.threshold(x, th, value),
    lambda x, th, value: np.where(x <= th, value, x),
    activation_strategy(
        lambda p: (p["th"],),
        params={"th": st.sampled_from([-1.0, 0.0, 0.5]), "value": st.sampled_from([-2.0, 0.0, 3.0])},
    ),  # fmt: skip
)
case(
    "softplus",
    "Softplus",
    lambda x, beta, threshold: F.softplus(x, beta, threshold),
    lambda x, beta, threshold: np.where(x * beta > threshold, x, np.log1p(np.exp(beta * x)) / beta),
    activation_strategy(
        lambda p: (p["threshold"] / p["beta"],),
        params={"beta": st.sampled_from([0.5, 1.0, 2.0]), "threshold": st.sampled_from([1.0, 20.0])},
    ),  # fmt: skip
)
case(
    "logsigmoid",
    "LogSigmoid",
    lambda x: F.logsigmoid(x),
    lambda x: -np.logaddexp(0, -x),
    activation_strategy(domain="logits"),
)


@st.composite
def prelu_strategy(draw):
    shape = draw(small_shapes())
    channels = shape[1] if len(shape) >= 2 else 1
    n = draw(st.sampled_from(sorted({1, channels})))
    x = _away_from(draw_array(draw, shape), (0.0,))
    return (x, draw_array(draw, (n,), (0.05, 0.9))), {"how": draw(st.sampled_from(["function", "method"]))}


def _np_prelu(x, w, how):
    wb = w.reshape((-1,) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
    return np.where(x > 0, x, wb * x)


case(
    "prelu",
    ("Prelu", "Reshape"),
    lambda x, w, how: mt.prelu(x, w) if how == "function" else x.prelu(w),
    _np_prelu,
    prelu_strategy(),
)


@st.composite
def rrelu_strategy(draw):
    (x,), _ = draw(activation_strategy((0.0,)))
    return (x,), {"seed": draw(st.integers(0, 2**32 - 1))}


def _rrelu(x, seed):
    mt.manual_seed(seed)
    return F.rrelu(x, 0.1, 0.3, training=True)


def _np_rrelu(x, seed):
    mt.manual_seed(seed)
    u = mt.random.default_generator._u64(int(np.count_nonzero(x <= 0)))
    slopes = np.ones_like(x)
    slopes[x <= 0] = (u & np.uint64(2**53 - 1)).astype(np.float64) * 2.0**-53 * (0.3 - 0.1) + 0.1
    return x * slopes


case("rrelu_training", "Rrelu", _rrelu, _np_rrelu, rrelu_strategy())


# ------------------------------------------------------------------ losses (issue 13)
def _np_reduce13(loss, reduction, batch=None):
    if reduction == "batchmean":
        return loss.sum() / (batch if batch else 1)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


@st.composite
def pair_loss_strategy(draw, kink=None):
    shape = draw(small_shapes())
    a, b = draw_joint(draw, [shape, shape])  # a ≠ b everywhere: |a − b| has its kink at 0
    p = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if kink is not None:
        p[kink] = draw(st.sampled_from([0.5, 1.0, 2.0]))
        d = a - b
        near = np.abs(np.abs(d) - p[kink]) < 0.02  # away from the switch between the two pieces
        b = np.where(near, b + 0.05, b)
    return (a, b), p


case(
    "l1_loss",
    "L1Loss",
    lambda a, b, reduction: F.l1_loss(a, b, reduction=reduction),
    lambda a, b, reduction: _np_reduce13(np.abs(a - b), reduction),
    pair_loss_strategy(),
)
case(
    "smooth_l1_loss",
    "SmoothL1Loss",
    lambda a, b, reduction, beta: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
    lambda a, b, reduction, beta: _np_reduce13(
        np.where(np.abs(a - b) < beta, 0.5 * (a - b) ** 2 / beta, np.abs(a - b) - 0.5 * beta), reduction
    ),
    pair_loss_strategy("beta"),
)
case(
    "huber_loss",
    "HuberLoss",
    lambda a, b, reduction, delta: F.huber_loss(a, b, reduction=reduction, delta=delta),
    lambda a, b, reduction, delta: _np_reduce13(
        np.where(np.abs(a - b) < delta, 0.5 * (a - b) ** 2, delta * (np.abs(a - b) - 0.5 * delta)), reduction
    ),
    pair_loss_strategy("delta"),
)


@st.composite
def kl_div_strategy(draw):
    shape = draw(small_shapes(1))
    log_target = draw(st.booleans())
    x = draw_array(draw, shape, (-3.0, -0.1))
    t = draw_array(draw, shape, (-3.0, 0.0) if log_target else (0.05, 1.0))
    reduction = draw(st.sampled_from(["mean", "sum", "none", "batchmean"]))
    return (x, t), {"reduction": reduction, "log_target": log_target}


def _kl_div(x, t, reduction, log_target):
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")  # 'mean' warns, as in PyTorch
        return F.kl_div(x, t, reduction=reduction, log_target=log_target)


case(
    "kl_div",
    "KLDiv",
    _kl_div,
    lambda x, t, reduction, log_target: _np_reduce13(
        np.exp(t) * (t - x) if log_target else t * (np.log(t) - x), reduction, x.shape[0]
    ),
    kl_div_strategy(),
)


@st.composite
def gaussian_nll_strategy(draw):
    shape = draw(small_shapes(1))
    x, t = draw_array(draw, shape), draw_array(draw, shape)
    kind = draw(st.sampled_from(["same", "fewer", "one"]))
    vshape = shape if kind == "same" else shape[:-1] if kind == "fewer" else shape[:-1] + (1,)
    v = draw_array(draw, vshape, (0.2, 3.0))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return (x, t, v), {"reduction": reduction, "full": draw(st.booleans())}


def _np_gaussian_nll(x, t, v, reduction, full):
    v = v[..., None] if v.ndim < x.ndim else v
    loss = 0.5 * (np.log(v) + (x - t) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0)
    return _np_reduce13(loss, reduction)


case(
    "gaussian_nll_loss",
    ("GaussianNLL", "Reshape"),
    lambda x, t, v, reduction, full: F.gaussian_nll_loss(x, t, v, full=full, reduction=reduction),
    _np_gaussian_nll,
    gaussian_nll_strategy(),
)


# ------------------------------------------------------------------ padding (issue 13)
@st.composite
def pad_strategy(draw, mode):
    if mode == "constant":
        shape = draw(small_shapes(1).filter(lambda s: math.prod(s) <= 24))
        k = draw(st.integers(1, len(shape)))
        # negative sizes crop, but never below an empty dim
        pad = []
        for n in shape[::-1][:k]:
            b = draw(st.integers(-min(n, 1), 2))
            pad += [b, draw(st.integers(max(-1, -(n + b)), 2))]
        value = draw(st.sampled_from([0, 1.5]))
        return (draw_array(draw, shape),), {"pad": tuple(pad), "mode": mode, "value": value}
    k = draw(st.integers(1, 3))
    lead = draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(1, 2)) for _ in range(lead))
    shape += tuple(draw(st.integers(2, 3)) for _ in range(k))
    pad = []
    for i, n in enumerate(shape[::-1][:k]):
        hi = n - 1 if mode == "reflect" else n
        pad += [draw(st.integers(1 if i == 0 else 0, hi)), draw(st.integers(0, hi))]  # not all 0: a copy
    return (draw_array(draw, shape),), {"pad": tuple(pad), "mode": mode, "value": None}


def _np_pad(x, pad, mode, value):
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs
    x = x[tuple(slice(max(-b, 0), x.shape[d] - max(-a, 0)) for d, (b, a) in enumerate(widths))]
    pos = [(max(b, 0), max(a, 0)) for b, a in widths]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    if mode == "constant":
        return np.pad(x, pos, constant_values=value or 0)
    return np.pad(x, pos, mode=np_mode)


case("pad_constant", "ConstantPad", lambda x, pad, mode, value: F.pad(x, pad, mode, value), _np_pad,
     pad_strategy("constant"))  # fmt: skip
for _mode in ("reflect", "replicate", "circular"):
    case(f"pad_{_mode}", "GatherPad", lambda x, pad, mode, value: F.pad(x, pad, mode, value), _np_pad,
         pad_strategy(_mode))  # fmt: skip


# ------------------------------------------- convolution, pooling, normalisation (issue 14)
from microtensor.ops import conv as _conv  # noqa: E402
from microtensor.ops import pooling as _pool  # noqa: E402


def _np_conv2d(x, w, b, stride, pads, dilation, groups):
    """Direct correlation: a sum over kernel positions of shifted input slices times kernel taps."""
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    n, c, hp, wp = xp.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg : (g + 1) * cg, i * dh : i * dh + sh * (oh - 1) + 1 : sh]
                patch = patch[..., j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                out[:, g * og : (g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", patch, w[g * og : (g + 1) * og, :, i, j]
                )
    return out if b is None else out + b[:, None, None]


def _np_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Scatter form: each input pixel adds its kernel-weighted footprint to the (padded) output."""
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    full = (
        (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0],
        (wd - 1) * sw + dw * (kw - 1) + 1 + output_padding[1],
    )
    out = np.zeros((n, cog * groups) + full)
    cig = cin // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum(
                    "nchw,co->nohw", x[:, g * cig : (g + 1) * cig], w[g * cig : (g + 1) * cig, :, i, j]
                )
                out[:, g * cog : (g + 1) * cog, i * dh : i * dh + sh * (h - 1) + 1 : sh,
                    j * dw : j * dw + sw * (wd - 1) + 1 : sw] += contrib  # fmt: skip
    out = out[:, :, ph : full[0] - ph, pw : full[1] - pw]
    return out if b is None else out + b[:, None, None]


@st.composite
def conv2d_strategy(draw, nd=2):
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dilation = (1 if nd == 1 else draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    k = tuple(
        1 if i == 0 and nd == 1 else draw(st.integers(1, 3 if d == 1 else 2)) for i, d in enumerate(dilation)
    )
    padding = draw(st.sampled_from(["int", "same", "valid"]))
    stride = (
        (1, 1) if padding == "same" else (1 if nd == 1 else draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    )
    if padding == "int":
        padding = (0 if nd == 1 else draw(st.integers(0, 1)), draw(st.integers(0, 1)))
        pads = tuple((p, p) for p in padding)
    else:
        pads = _conv._conv_padding(padding, 2, k, dilation, stride, "test")
    # each side at least the dilated kernel minus the padding: the output is never empty
    least = [max(1, d * (kk - 1) + 1 - p0 - p1) for d, kk, (p0, p1) in zip(dilation, k, pads)]
    h = 1 if nd == 1 else draw(st.integers(least[0], least[0] + 1))
    w = draw(st.integers(least[1], least[1] + 2))
    n = draw(st.integers(1, 2))
    if n * cg * groups * h * w > 48:
        n = 1
    xs = (draw_array(draw, (n, cg * groups, h, w)), draw_array(draw, (og * groups, cg) + k))
    if draw(st.booleans()):
        xs += (draw_array(draw, (og * groups,)),)
    if nd == 1:
        xs = (xs[0][:, :, 0], xs[1][:, :, 0], *xs[2:])
        padding = padding if isinstance(padding, str) else padding[1]
        return xs, {
            "stride": stride[1],
            "padding": padding,
            "dilation": dilation[1],
            "groups": groups,
            "pads": pads,
        }
    return xs, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups, "pads": pads}


def _np_conv_case(x, w, b=None, *, stride, padding, dilation, groups, pads):
    return _np_conv2d(x, w, b, stride, pads, dilation, groups)


def _np_conv1d_case(x, w, b=None, *, stride, padding, dilation, groups, pads):
    out = _np_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pads, (1, dilation), groups)
    return out[:, :, 0]


case(
    "conv2d",
    "Conv",
    lambda x, w, b=None, *, stride, padding, dilation, groups, pads: F.conv2d(
        x, w, b, stride, padding, dilation, groups
    ),
    _np_conv_case,
    conv2d_strategy(),
)
case(
    "conv1d",
    ("Conv", "Reshape"),
    lambda x, w, b=None, *, stride, padding, dilation, groups, pads: F.conv1d(
        x, w, b, stride, padding, dilation, groups
    ),
    _np_conv1d_case,
    conv2d_strategy(nd=1),
)


@st.composite
def conv_transpose_strategy(draw):
    groups = draw(st.integers(1, 2))
    cig, cog = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, max(0, (d * (kk - 1)) // 2))) for d, kk in zip(dilation, k))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    xs = (draw_array(draw, (n, cig * groups, h, w)), draw_array(draw, (cig * groups, cog) + k))
    if draw(st.booleans()):
        xs += (draw_array(draw, (cog * groups,)),)
    return xs, {
        "stride": stride, "padding": padding, "output_padding": output_padding, "dilation": dilation,
        "groups": groups,
    }  # fmt: skip


def _np_conv_transpose_case(x, w, b=None, *, stride, padding, output_padding, dilation, groups):
    return _np_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups)


case(
    "conv_transpose2d",
    ("ConvTranspose", "Reshape", "Add"),
    lambda x, w, b=None, **kw: F.conv_transpose2d(
        x, w, b, kw["stride"], kw["padding"], kw["output_padding"], kw["groups"], kw["dilation"]
    ),
    _np_conv_transpose_case,
    conv_transpose_strategy(),
)


@st.composite
def conv_weight_strategy(draw):
    (x, w, *_), p = draw(conv2d_strategy())
    geom = _conv.ConvGeom(x.shape[2:], w.shape[2:], p["stride"], p["pads"], p["dilation"], p["groups"])
    g = draw_array(draw, (x.shape[0], w.shape[0]) + geom.out_size())
    return (x, g), {"geom": geom}


def _np_conv_weight(x, g, geom):
    # ∂w of Σ g · conv(x, w) is linear in w: read it off the conv of x with each unit kernel
    o, cg = g.shape[1], x.shape[1] // geom.groups
    out = np.zeros((o, cg) + tuple(geom.kernel))
    for idx in np.ndindex(out.shape):
        e = np.zeros(out.shape)
        e[idx] = 1
        out[idx] = np.sum(g * _np_conv2d(x, e, None, geom.stride, geom.padding, geom.dilation, geom.groups))
    return out


case(
    "conv_weight",
    "ConvWeight",
    lambda x, g, geom: _conv.ConvWeight(geom)(x, g),
    _np_conv_weight,
    conv_weight_strategy(),
)


@st.composite
def unfold_strategy(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dh = draw(st.integers(1, 2))
    h, w = draw(st.integers(dh * (k[0] - 1) + 1, 4)), draw(st.integers(max(2, k[1]), 4))
    params = {
        "kernel_size": k, "dilation": (dh, 1), "padding": (draw(st.integers(0, 1)), 0),
        "stride": (1, draw(st.integers(1, 2))),
    }  # fmt: skip
    return (draw_array(draw, (n, c, h, w)),), params


def _np_unfold(x, kernel_size, dilation, padding, stride):
    n, c = x.shape[:2]
    kh, kw = kernel_size
    cols = []
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                e = np.zeros((1, c, kh, kw))
                e[0, ci, i, j] = 1
                pads = tuple((p, p) for p in padding)
                cols.append(_np_conv2d(x, e, None, stride, pads, dilation, 1).reshape(n, -1))
    return np.stack(cols, axis=1)


case("unfold", "Unfold", lambda x, **kw: F.unfold(x, **kw), _np_unfold, unfold_strategy())


@st.composite
def fold_strategy(draw):
    (x,), params = draw(unfold_strategy())
    cols = _np_unfold(x, **params)
    return (draw_array(draw, cols.shape),), {**params, "output_size": x.shape[2:]}


def _np_fold(cols, output_size, kernel_size, dilation, padding, stride):
    # fold is unfold's adjoint: ⟨fold(cols), e⟩ = ⟨cols, unfold(e)⟩ for each unit image e
    n = cols.shape[0]
    c = cols.shape[1] // (kernel_size[0] * kernel_size[1])
    out = np.zeros((n, c) + tuple(output_size))
    for idx in np.ndindex((1, c) + tuple(output_size)):
        e = np.zeros((1, c) + tuple(output_size))
        e[idx] = 1
        out[(slice(None),) + idx[1:]] = np.sum(
            cols * _np_unfold(e, kernel_size, dilation, padding, stride), axis=(1, 2)
        )
    return out


case("fold", "Fold", lambda x, **kw: F.fold(x, **kw), _np_fold, fold_strategy())


@st.composite
def pool_strategy(draw, gap=None, dilation=True):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    k = (draw(st.integers(1, min(h, 2))), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)) if dilation else 1, 1)
    if (k[0] - 1) * d[0] + 1 > h:
        d = (1, 1)
    k = (k[0], min(k[1], w))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, ((kk - 1) * dd + 1) // 2)) for kk, dd in zip(k, d))
    params = {"kernel_size": k, "stride": stride, "padding": padding, "ceil_mode": draw(st.booleans())}
    if dilation:
        params["dilation"] = d
    return (draw_array(draw, (n, c, h, w), "real", gap),), params


def _np_pool(x, kernel_size, stride, padding, dilation=(1, 1), ceil_mode=False, reduce=np.max, fill=-np.inf):
    """Every window gathered explicitly (indices clipped into a padded copy), then reduced."""
    h, w = x.shape[2:]
    outs = [
        _pool.pool_out(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip((h, w), kernel_size, stride, padding, dilation)
    ]
    margin = [2 * p + 2 * s + 4 * k * d for p, s, k, d in zip(padding, stride, kernel_size, dilation)]
    big = np.full(x.shape[:2] + (h + margin[0], w + margin[1]), fill)
    big[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = x
    out = np.zeros(x.shape[:2] + tuple(outs))
    for i in range(outs[0]):
        for j in range(outs[1]):
            rows = i * stride[0] + dilation[0] * np.arange(kernel_size[0])
            cols = j * stride[1] + dilation[1] * np.arange(kernel_size[1])
            out[:, :, i, j] = reduce(big[:, :, rows][:, :, :, cols], axis=(2, 3))
    return out


case("max_pool2d", "MaxPool", lambda x, **kw: F.max_pool2d(x, **kw), _np_pool, pool_strategy(gap=GAP))


@st.composite
def avg_pool_strategy(draw):
    (x,), params = draw(pool_strategy(dilation=False))
    params["count_include_pad"] = draw(st.booleans())
    params["divisor_override"] = draw(st.sampled_from([None, 3]))
    return (x,), params


def _np_avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    total = _np_pool(x, kernel_size, stride, padding, (1, 1), ceil_mode, np.sum, 0.0)
    if divisor_override:
        return total / divisor_override
    h, w = x.shape[2:]
    ones = np.ones((1, 1, h, w))
    if count_include_pad:  # window sizes clipped to the padded input (not to ceil_mode's extension)
        padded = np.ones((1, 1, h + 2 * padding[0], w + 2 * padding[1]))
        count = _np_pool(padded, kernel_size, stride, (0, 0), (1, 1), ceil_mode, np.sum, 0.0)
        count = count[:, :, : total.shape[2], : total.shape[3]]
    else:
        count = _np_pool(ones, kernel_size, stride, padding, (1, 1), ceil_mode, np.sum, 0.0)
    return total / count


case("avg_pool2d", "AvgPool", lambda x, **kw: F.avg_pool2d(x, **kw), _np_avg_pool, avg_pool_strategy())


@st.composite
def window_strategy(draw, spread: bool):
    (x,), p = draw(pool_strategy(dilation=False))
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    geom = _pool.pool_geom(x.shape[2:], k, s, pad, (1, 1), p["ceil_mode"])
    if spread:
        return (draw_array(draw, x.shape[:2] + geom.out),), {"geom": geom, "p": p}
    return (x,), {"geom": geom, "p": p}


def _np_window_spread(g, geom, p):
    out = np.zeros(g.shape[:2] + tuple(geom.size))
    for idx in np.ndindex((1, 1) + tuple(geom.size)):
        e = np.zeros((1, 1) + tuple(geom.size))
        e[idx] = 1
        sums = _np_pool(e, p["kernel_size"], p["stride"], p["padding"], (1, 1), p["ceil_mode"], np.sum, 0.0)
        out[:, :, idx[2], idx[3]] = np.sum(g * sums, axis=(2, 3))
    return out


case(
    "window_spread",
    "WindowSpread",
    lambda g, geom, p: _pool.WindowSpread(geom)(g),
    _np_window_spread,
    window_strategy(spread=True),
)
case(
    "window_sum",
    "WindowSum",
    lambda x, geom, p: _pool.WindowSum(geom)(x),
    lambda x, geom, p: _np_pool(
        x, p["kernel_size"], p["stride"], p["padding"], (1, 1), p["ceil_mode"], np.sum, 0.0
    ),
    window_strategy(spread=False),
)


@st.composite
def adaptive_strategy(draw, gap=None):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    out = (draw(st.integers(1, 4)), draw(st.one_of(st.none(), st.integers(1, 4))))
    return (draw_array(draw, (n, c, h, w), "real", gap),), {"output_size": out}


def _np_adaptive(x, output_size, reduce):
    h, w = x.shape[2:]
    oh, ow = output_size[0], w if output_size[1] is None else output_size[1]
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, -((-(i + 1) * h) // oh)
            c0, c1 = (j * w) // ow, -((-(j + 1) * w) // ow)
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return out


case(
    "adaptive_avg_pool2d",
    "AdaptiveAvgPool",
    lambda x, output_size: F.adaptive_avg_pool2d(x, output_size),
    lambda x, output_size: _np_adaptive(x, output_size, np.mean),
    adaptive_strategy(),
)
case(
    "adaptive_max_pool2d",
    "AdaptiveMaxPool",
    lambda x, output_size: F.adaptive_max_pool2d(x, output_size),
    lambda x, output_size: _np_adaptive(x, output_size, np.max),
    adaptive_strategy(gap=GAP),
)


@st.composite
def interpolate_strategy(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear"]))
    align = draw(st.sampled_from([None, False, True])) if mode == "bilinear" else None
    if draw(st.booleans()):
        params = {"size": (draw(st.integers(1, 5)), draw(st.integers(1, 5))), "scale_factor": None}
    else:
        params = {"size": None, "scale_factor": draw(st.sampled_from([1.5, 2, 0.7, (2, 0.5)]))}
        sf = (
            params["scale_factor"]
            if isinstance(params["scale_factor"], tuple)
            else (params["scale_factor"],) * 2
        )
        if int(h * sf[0]) < 1 or int(w * sf[1]) < 1:
            params = {"size": (2, 2), "scale_factor": None}
    return (draw_array(draw, (n, c, h, w)),), {**params, "mode": mode, "align_corners": align}


def _np_interpolate(x, size, scale_factor, mode, align_corners):
    """Each output sample computed from PyTorch's source coordinate, one at a time."""
    h, w = x.shape[2:]
    if size is not None:
        out, scales = size, (h / size[0], w / size[1])
    else:
        sf = scale_factor if isinstance(scale_factor, tuple) else (scale_factor,) * 2
        out = (int(np.floor(h * sf[0])), int(np.floor(w * sf[1])))
        scales = (1 / sf[0], 1 / sf[1])

    def taps(n, o, s):
        rows = []
        for dst in range(o):
            if mode == "nearest":
                rows.append([(min(int(np.floor(dst * s)), n - 1), 1.0)])
            elif mode == "nearest-exact":
                rows.append([(min(int(np.floor((dst + 0.5) * s)), n - 1), 1.0)])
            else:
                src = (
                    dst * (n - 1) / (o - 1)
                    if align_corners and o > 1
                    else 0.0
                    if align_corners
                    else max((dst + 0.5) * s - 0.5, 0)
                )
                i0 = min(int(np.floor(src)), n - 1)
                i1, lam = min(i0 + 1, n - 1), src - i0
                rows.append([(i0, 1 - lam), (i1, lam)])
        return rows

    th, tw = taps(h, out[0], scales[0]), taps(w, out[1], scales[1])
    res = np.zeros(x.shape[:2] + tuple(out))
    for i, ri in enumerate(th):
        for j, cj in enumerate(tw):
            res[:, :, i, j] = sum(a * b * x[:, :, r, cc] for r, a in ri for cc, b in cj)
    return res


case(
    "interpolate",
    "Interpolate",
    lambda x, **kw: F.interpolate(x, **kw),
    _np_interpolate,
    interpolate_strategy(),
)


@st.composite
def norm_strategy(draw, kind: str):
    n, c = draw(st.integers(2 if kind == "batch" else 1, 3)), draw(st.integers(1, 4))
    groups = draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0]))
    spatial = tuple(
        draw(st.integers(1 if kind != "instance" else 2, 3))
        for _ in range(draw(st.integers(1 if kind == "instance" else 0, 2)))
    )
    x = draw_array(draw, (n, c) + spatial, "real")
    xs = (x,)
    if draw(st.booleans()):
        xs += (draw_array(draw, (c,)), draw_array(draw, (c,)))
    return xs, {"groups": groups}


def _np_normalize(x, axes, eps=1e-5):
    mu = x.mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _np_affine(out, w=None, b=None):
    shape = (1, -1) + (1,) * (out.ndim - 2)
    return out if w is None else out * w.reshape(shape) + b.reshape(shape)


case(
    "batch_norm",
    ("BatchNorm", "Reshape", "Mul", "Add"),
    lambda x, w=None, b=None, groups=1: F.batch_norm(x, None, None, w, b, training=True),
    lambda x, w=None, b=None, groups=1: _np_affine(_np_normalize(x, (0, *range(2, x.ndim))), w, b),
    norm_strategy("batch"),
)
case(
    "group_norm",
    ("GroupNorm", "Reshape", "Mul", "Add"),
    lambda x, w=None, b=None, groups=1: F.group_norm(x, groups, w, b),
    lambda x, w=None, b=None, groups=1: _np_affine(
        _np_normalize(x.reshape(x.shape[0], groups, -1), (2,)).reshape(x.shape), w, b
    ),
    norm_strategy("group"),
)
case(
    "instance_norm",
    ("InstanceNorm", "Reshape", "Mul", "Add"),
    lambda x, w=None, b=None, groups=1: F.instance_norm(x, weight=w, bias=b),
    lambda x, w=None, b=None, groups=1: _np_affine(_np_normalize(x, tuple(range(2, x.ndim))), w, b),
    norm_strategy("instance"),
)


# ------------------------------------------------------------------ sequence models
@st.composite
def embedding_strategy(draw):
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    ishape = draw(small_shapes(0, 2))
    idx = np.asarray(draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, n - 1))))  # repeats likely
    # no padding_idx here: its row's gradient is zero by definition, not the finite difference
    # (tests/test_embedding.py checks it against PyTorch)
    return (draw_array(draw, (n, d)),), {"idx": idx, "padding_idx": None}


case(
    "embedding",
    "Embedding",
    lambda w, idx, padding_idx: F.embedding(mt.tensor(idx), w, padding_idx),
    lambda w, idx, padding_idx: w[idx],
    embedding_strategy(),
)


@st.composite
def norm_strategy(draw, center: bool):
    shape = draw(small_shapes(1))
    k = draw(st.integers(1, len(shape)))
    ns = shape[len(shape) - k :]
    x = draw_array(draw, shape)
    if math.prod(ns) == 1 or np.ptp(x.reshape(-1, math.prod(ns)), axis=1).min() < 0.5:
        x = x + np.arange(x.size).reshape(shape) % math.prod(ns)  # spread: a flat row's σ is ~0
    affine = draw(st.sampled_from(["none", "weight", "both"] if center else ["none", "weight"]))
    arrs = (x,) + tuple(draw_array(draw, ns) for _ in range({"none": 0, "weight": 1, "both": 2}[affine]))
    return arrs, {"ns": ns, "eps": draw(st.sampled_from([1e-5, 0.1]))}


def _np_layer_norm(x, w=None, b=None, *, ns, eps, center=True):
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    xc = x - x.mean(axes, keepdims=True) if center else x
    y = xc / np.sqrt((xc * xc).mean(axes, keepdims=True) + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


case(
    "layer_norm",
    "LayerNorm",
    lambda x, w=None, b=None, *, ns, eps: F.layer_norm(x, ns, w, b, eps),
    _np_layer_norm,
    norm_strategy(True),
)
case(
    "rms_norm",
    "RMSNorm",
    lambda x, w=None, *, ns, eps: F.rms_norm(x, ns, w, eps),
    lambda x, w=None, *, ns, eps: _np_layer_norm(x, w, ns=ns, eps=eps, center=False),
    norm_strategy(False),
)


@st.composite
def sdpa_strategy(draw):
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    L, S, E, Ev = (draw(st.integers(1, 3)) for _ in range(4))
    mask = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    arrs = tuple(draw_array(draw, batch + s) for s in ((L, E), (S, E), (S, Ev)))
    m = None
    if mask == "bool":
        m = np.asarray(draw(hnp.arrays(np.bool_, (L, S))))
        m[:, 0] = True  # every query sees at least one key
    elif mask == "float":
        m = draw_array(draw, (L, S))
    scale = draw(st.sampled_from([None, 0.5]))
    return arrs, {"mask": mask, "m": m, "scale": scale}


def _sdpa(q, k, v, *, mask, m, scale):
    am = None if m is None else mt.tensor(m)
    return F.scaled_dot_product_attention(q, k, v, am, is_causal=mask == "causal", scale=scale)


def _np_sdpa(q, k, v, *, mask, m, scale):
    s = (q @ np.swapaxes(k, -1, -2)) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if mask == "causal":
        s = np.where(np.triu(np.ones(s.shape[-2:], bool), 1), -np.inf, s)
    elif mask == "bool":
        s = np.where(m, s, -np.inf)
    elif mask == "float":
        s = s + m
    return _np_softmax(s, -1) @ v


case("scaled_dot_product_attention", "ScaledDotProductAttention", _sdpa, _np_sdpa, sdpa_strategy())


def _sdpa_composed(q, k, v, *, mask, m, scale):
    """The composed path (a float mask that requires grad): the same formula from elementary ops."""
    am = mt.tensor(np.zeros(q.shape[-2:][:1] + k.shape[-2:][:1]) if m is None or mask != "float" else m)
    return F.scaled_dot_product_attention(q, k, v, am.requires_grad_(), scale=scale)


def _np_sdpa_float(q, k, v, *, mask, m, scale):
    m = np.zeros((q.shape[-2], k.shape[-2])) if m is None or mask != "float" else m
    return _np_sdpa(q, k, v, mask="float", m=m, scale=scale)


case(
    "scaled_dot_product_attention_composed",
    ("MatMul", "Permute", "Mul", "Softmax", "Add"),
    _sdpa_composed,
    _np_sdpa_float,
    sdpa_strategy(),
)


@st.composite
def cell_strategy(draw, gates: int):
    B, n_in, H = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    shapes_ = [(B, n_in), (B, H), (gates * H, n_in), (gates * H, H), (gates * H,), (gates * H,)]
    if gates == 4:
        shapes_.append((B, H))  # the cell state
    return tuple(draw_array(draw, s) for s in shapes_), {}


def _np_sig(z):
    return 1 / (1 + np.exp(-z))


def _lstm_cell(x, h, w_ih, w_hh, b_ih, b_hh, c):
    from microtensor.nn import rnn

    return rnn._lstm_step(F.linear(x, w_ih, b_ih), h, c, w_hh, b_hh, None)


def _np_lstm_cell(x, h, w_ih, w_hh, b_ih, b_hh, c):
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, -1)
    c = _np_sig(f) * c + _np_sig(i) * np.tanh(g)
    return _np_sig(o) * np.tanh(c), c


@st.composite
def lstm_layer_strategy(draw):
    T, B, H = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n_in = 1  # (gradgradcheck's cost grows with every weight; one input feature exercises the same paths)
    shapes_ = [(T, B, n_in), (B, H), (B, H), (4 * H, n_in), (4 * H, H)]
    bias = draw(st.booleans())
    if bias:
        shapes_ += [(4 * H,), (4 * H,)]
    return tuple(draw_array(draw, s) for s in shapes_), {"reverse": draw(st.booleans())}


def _lstm_layer(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
    from microtensor.nn import rnn

    return rnn._lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)


def _np_lstm_layer(x, h, c, w_ih, w_hh, b_ih=0.0, b_hh=0.0, *, reverse):
    outs = [None] * len(x)
    for t in range(len(x) - 1, -1, -1) if reverse else range(len(x)):
        h, c = _np_lstm_cell(x[t], h, w_ih, w_hh, b_ih, b_hh, c)
        outs[t] = h
    return np.stack(outs), h, c


@st.composite
def gru_layer_strategy(draw):
    T, B, H = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n_in = 1  # (gradgradcheck's cost grows with every weight; one input feature exercises the same paths)
    shapes_ = [(T, B, n_in), (B, H), (3 * H, n_in), (3 * H, H)]
    if draw(st.booleans()):
        shapes_ += [(3 * H,), (3 * H,)]
    return tuple(draw_array(draw, s) for s in shapes_), {"reverse": draw(st.booleans())}


def _gru_layer(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
    from microtensor.nn import rnn

    return rnn._gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse)


def _np_gru_layer(x, h, w_ih, w_hh, b_ih=0.0, b_hh=0.0, *, reverse):
    outs = [None] * len(x)
    for t in range(len(x) - 1, -1, -1) if reverse else range(len(x)):
        h = _np_gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outs[t] = h
    return np.stack(outs), h


@st.composite
def rnn_layer_strategy(draw):
    T, B, n_in, H = draw(st.integers(1, 4)), *(draw(st.integers(1, 2)) for _ in range(3))
    shapes_ = [(T, B, n_in), (B, H), (H, n_in), (H, H)]
    if draw(st.booleans()):
        shapes_ += [(H,), (H,)]
    arrs = tuple(draw_array(draw, s) for s in shapes_)
    reverse = draw(st.booleans())
    # relu only where no pre-activation sits within finite differences' reach of its kink
    pre = _np_rnn_layer(*arrs, reverse=reverse, relu=True, pre=True)
    relu = draw(st.booleans()) and np.abs(pre).min() > 0.01
    return arrs, {"reverse": reverse, "relu": bool(relu)}


def _rnn_layer(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse, relu):
    from microtensor.nn import rnn

    return rnn._rnn_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse, relu)


def _np_rnn_layer(x, h, w_ih, w_hh, b_ih=0.0, b_hh=0.0, *, reverse, relu, pre=False):
    outs, pres = [None] * len(x), [None] * len(x)
    for t in range(len(x) - 1, -1, -1) if reverse else range(len(x)):
        a = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        h = np.maximum(a, 0) if relu else np.tanh(a)
        outs[t], pres[t] = h, a
    return np.stack(pres) if pre else (np.stack(outs), h)


def _gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    from microtensor.nn import rnn

    return rnn._gru_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh)


def _np_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, -1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, -1)
    r, z = _np_sig(xr + hr), _np_sig(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    from microtensor.nn import rnn

    return rnn._rnn_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh, False)


_GATES = ("Linear", "Add", "GetItem", "Sigmoid", "Tanh", "Mul")
case("lstm_cell", ("Linear", "Add", "LSTMGates", "GetItem"), _lstm_cell, _np_lstm_cell, cell_strategy(4))
case("lstm_layer", ("LSTMLayer", "GetItem"), _lstm_layer, _np_lstm_layer, lstm_layer_strategy())
case("gru_layer", ("GRULayer", "GetItem"), _gru_layer, _np_gru_layer, gru_layer_strategy())
case("rnn_layer", ("RNNLayer", "GetItem"), _rnn_layer, _np_rnn_layer, rnn_layer_strategy())
case("gru_cell", (*_GATES, "Sub"), _gru_cell, _np_gru_cell, cell_strategy(3))
case(
    "rnn_cell",
    ("Linear", "Add", "Tanh"),
    _rnn_cell,
    lambda x, h, w_ih, w_hh, b_ih, b_hh: np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh),
    cell_strategy(1),
)


# ------------------------------------------------- math: trigonometry, logs, erf (ops/math.py)
_np_erf = np.vectorize(math.erf, otypes=[np.float64])
_np_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _np_erfinv(y):
    """erfinv by bisection on math.erf (an implementation independent of microtensor's)."""
    lo, hi = np.full(np.shape(y), -7.0), np.full(np.shape(y), 7.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        below = _np_erf(mid) < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _np_sinc(x):
    return np.sinc(x)


MATH_UNARY = {
    # name: (op, numpy, domain)
    "sin": ("Sin", np.sin, "real"),
    "cos": ("Cos", np.cos, "real"),
    "tan": ("Tan", np.tan, (-1.2, 1.2)),
    "asin": ("Asin", np.arcsin, "unit"),
    "acos": ("Acos", np.arccos, "unit"),
    "atan": ("Atan", np.arctan, "real"),
    "arcsin": ("Asin", np.arcsin, "unit"),
    "sinh": ("Sinh", np.sinh, "real"),
    "cosh": ("Cosh", np.cosh, "real"),
    "asinh": ("Asinh", np.arcsinh, "real"),
    "acosh": ("Acosh", np.arccosh, (1.1, 3.0)),
    "atanh": ("Atanh", np.arctanh, "unit"),
    "sinc": ("Sinc", _np_sinc, "away_from_zero"),
    "deg2rad": ("Deg2rad", np.deg2rad, "real"),
    "rad2deg": ("Rad2deg", np.rad2deg, "real"),
    "exp2": ("Exp2", np.exp2, "real"),
    "expm1": ("Expm1", np.expm1, "real"),
    "log2": ("Log2", np.log2, "positive"),
    "log10": ("Log10", np.log10, "positive"),
    "log1p": ("Log1p", np.log1p, (-0.9, 3.0)),
    "rsqrt": ("Rsqrt", lambda x: 1 / np.sqrt(x), "positive"),
    "reciprocal": ("Reciprocal", np.reciprocal, "nonzero"),
    "square": ("Square", np.square, "real"),
    "erf": ("Erf", _np_erf, "real"),
    "erfc": ("Erfc", _np_erfc, "real"),
    "erfinv": ("Erfinv", _np_erfinv, "unit"),
    "logit": ("Logit", lambda x: np.log(x / (1 - x)), (0.05, 0.95)),
    "nan_to_num": ("NanToNum", lambda x: x, "real"),
}
for _name, (_op, _np, _dom) in MATH_UNARY.items():
    case(_name, _op, _unary_fn(_name), lambda x, how, _np=_np: _np(x), unary_strategy(_dom))


@st.composite
def off_grid_strategy(draw, decimals=False):
    """Values k·GAP + GAP/4: never on a jump of floor, round (any decimals ≥ 0 up to 2), sign, frac."""
    x = draw_array(draw, draw(small_shapes()), "real", GAP) + GAP / 4
    params = {"how": draw(st.sampled_from(["function", "method"]))}
    if decimals:
        params["decimals"] = draw(st.integers(-1, 2))
    return (x,), params


MATH_STEP = {
    "sign": ("Sign", np.sign),
    "sgn": ("Sgn", np.sign),
    "floor": ("Floor", np.floor),
    "ceil": ("Ceil", np.ceil),
    "trunc": ("Trunc", np.trunc),
    "fix": ("Trunc", np.trunc),
    "frac": ("Frac", lambda x: x - np.trunc(x)),
    "angle": ("Angle", lambda x: np.where(x < 0, np.pi, 0.0)),
}
for _name, (_op, _np) in MATH_STEP.items():
    case(_name, _op, _unary_fn(_name), lambda x, how, _np=_np: _np(x), off_grid_strategy())


def _np_round(x, decimals, how):
    if decimals >= 0:
        return np.rint(x * 10.0**decimals) / 10.0**decimals
    return np.rint(x / 10.0**-decimals) * 10.0**-decimals


case(
    "round_decimals",
    "Round",
    lambda x, decimals, how: (
        mt.round(x, decimals=decimals) if how == "function" else x.round(decimals=decimals)
    ),
    _np_round,
    off_grid_strategy(decimals=True),
)


@st.composite
def logit_eps_strategy(draw):
    x = draw_array(draw, draw(small_shapes()), (0.0, 1.0), GAP)
    return (x,), {"eps": draw(st.sampled_from([0.105, 0.255]))}  # bounds between grid points


case(
    "logit_eps",
    "Logit",
    lambda x, eps: mt.logit(x, eps=eps),
    lambda x, eps: (lambda c: np.log(c / (1 - c)))(np.clip(x, eps, 1 - eps)),
    logit_eps_strategy(),
)

MATH_BINARY = {
    # name: (op, numpy, domain a, domain b)
    "atan2": ("Atan2", np.arctan2, "nonzero", "nonzero"),  # away from the branch cut
    "arctan2": ("Atan2", np.arctan2, "nonzero", "nonzero"),
    "hypot": ("Hypot", np.hypot, "nonzero", "nonzero"),
    "logaddexp": ("LogAddExp", np.logaddexp, "real", "real"),
    "logaddexp2": ("LogAddExp2", np.logaddexp2, "real", "real"),
    "xlogy": ("Xlogy", lambda a, b: a * np.log(b), "real", "positive"),
    "copysign": ("Copysign", np.copysign, "away_from_zero", "away_from_zero"),
    "float_power": ("Pow", np.power, "positive", "real"),
}


def _math_binary_fn(name):
    def fn(a, b, how):
        return getattr(mt, name)(a, b) if how in ("function", "operator") else getattr(a, name)(b)

    return fn


for _name, (_op, _np, _da, _db) in MATH_BINARY.items():
    case(_name, _op, _math_binary_fn(_name), lambda a, b, how, _np=_np: _np(a, b), binary_strategy(_da, _db))


@st.composite
def quotient_strategy(draw, scalar: bool):
    """a, b with a / b at least 0.1 from an integer (floor/trunc of it is locally constant)."""
    shape = draw(small_shapes())
    q = draw_array(draw, shape, (0.1, 0.9)) + draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    if scalar:
        b = draw(st.sampled_from([2, -2, 1.5, -0.75]))
        return (q * b,), {"b": b, "how": draw(st.sampled_from(["operator", "function", "method"]))}
    b = draw_array(draw, shape, "nonzero")
    return (q * b, b), {"how": draw(st.sampled_from(["operator", "function", "method"]))}


def _rem_fn(name, operator):
    def fn(a, b=None, *, how, **kw):
        other = kw.get("b", b)
        if how == "operator":
            return operator(a, other)
        return getattr(mt, name)(a, other) if how == "function" else getattr(a, name)(other)

    return fn


_REM_FNS = {"remainder": _rem_fn("remainder", lambda a, b: a % b), "fmod": _rem_fn("fmod", mt.fmod)}
for _name, _op, _operator, _np in (
    ("remainder", "Remainder", lambda a, b: a % b, np.remainder),
    ("fmod", "Fmod", lambda a, b: mt.fmod(a, b), np.fmod),
):
    case(_name, _op, _REM_FNS[_name], lambda a, b, how, _np=_np: _np(a, b), quotient_strategy(False))
    case(
        f"{_name}_scalar",
        _op,
        lambda a, b, how, _f=_name: _REM_FNS[_f](a, how=how, b=b),
        lambda a, b, how, _np=_np: _np(a, b),
        quotient_strategy(True),
    )

for _mode, _np in (("floor", np.floor), ("trunc", np.trunc)):
    case(
        f"div_{_mode}",
        "DivRounded",
        lambda a, b, how, _m=_mode: (
            mt.div(a, b, rounding_mode=_m) if how != "method" else a.div(b, rounding_mode=_m)
        ),
        lambda a, b, how, _np=_np: _np(a / b),
        quotient_strategy(False),
    )


@st.composite
def lerp_strategy(draw, scalar: bool):
    if scalar:
        s, e = draw(small_broadcastable(2))
        return (draw_array(draw, s), draw_array(draw, e)), {"weight": draw(st.floats(-1.0, 2.0))}
    s, e, w = draw(small_broadcastable(3))
    return (draw_array(draw, s), draw_array(draw, e), draw_array(draw, w, (-1.0, 2.0))), {}


case(
    "lerp",
    "Lerp",
    lambda s, e, w: s.lerp(e, w),
    lambda s, e, w: s + w * (e - s),
    lerp_strategy(False),
)
case(
    "lerp_scalar_weight",
    "Lerp",
    lambda s, e, weight: mt.lerp(s, e, weight),
    lambda s, e, weight: s + weight * (e - s),
    lerp_strategy(True),
)


# ------------------------------------------------- linear algebra (ops/linalg.py, microtensor.linalg)
EINSUMS = {
    # equation: operand shapes from sizes i, j, k, b
    "ij,jk->ik": lambda i, j, k, b: [(i, j), (j, k)],
    "bi,bi->b": lambda i, j, k, b: [(b, i), (b, i)],
    "ii->i": lambda i, j, k, b: [(i, i)],
    "ij->": lambda i, j, k, b: [(i, j)],
    "i,j": lambda i, j, k, b: [(i,), (j,)],
    "...ij,...jk->...ik": lambda i, j, k, b: [(b, i, j), (j, k)],
    "ij,jk,kl->il": lambda i, j, k, b: [(i, j), (j, k), (k, 2)],
    "iij->j": lambda i, j, k, b: [(i, i, j)],
    "ij,ik->i": lambda i, j, k, b: [(i, j), (i, k)],
}


@st.composite
def einsum_strategy(draw, broadcast=False):
    sizes = [draw(st.integers(1, 3)) for _ in range(4)]
    if broadcast:  # a size-1 dim stretched against the other operand's
        i, j = sizes[:2]
        return (draw_array(draw, (i, 1)), draw_array(draw, (1, j))), {"eq": "ij,ij->ij"}
    eq = draw(st.sampled_from(sorted(EINSUMS)))
    return tuple(draw_array(draw, s) for s in EINSUMS[eq](*sizes)), {"eq": eq}


case(
    "einsum",
    ("Einsum", "EinsumOne"),
    lambda *xs, eq: mt.einsum(eq, *xs),
    lambda *xs, eq: np.einsum(eq, *xs),
    einsum_strategy(),
)
case(
    "einsum_broadcast",
    ("Einsum", "Expand"),
    lambda *xs, eq: mt.einsum(eq, *xs),
    lambda *xs, eq: np.einsum("ij,ij->ij", *np.broadcast_arrays(*xs)),
    einsum_strategy(True),
)


@st.composite
def vector_norm_strategy(draw, ords):
    shape = draw(small_shapes(1))
    ord_ = draw(st.sampled_from(ords))
    if ord_ in (math.inf, -math.inf):  # distinct magnitudes: no ties for the max
        x = draw_array(draw, shape, (0.1, 3.0), GAP)
        x = x * np.where(draw(hnp.arrays(np.bool_, shape)), -1, 1)
    else:
        x = draw_array(draw, shape, "away_from_zero")
    return (x,), {"ord": ord_, "dim": draw_dims(draw, len(shape)), "keepdim": draw(st.booleans())}


def _np_vector_norm(x, ord, dim, keepdim):
    axes = None if dim is None else tuple(d % x.ndim for d in (dim if isinstance(dim, tuple) else (dim,)))
    a = np.abs(x)
    if ord == math.inf:
        return np.max(a, axis=axes, keepdims=keepdim)
    if ord == -math.inf:
        return np.min(a, axis=axes, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    return np.sum(a**ord, axis=axes, keepdims=keepdim) ** (1 / ord)


case(
    "vector_norm",
    "VectorNorm",
    lambda x, ord, dim, keepdim: mt.linalg.vector_norm(x, ord, dim, keepdim),
    _np_vector_norm,
    vector_norm_strategy([1, 2, 3, 0, math.inf, -math.inf]),
)
case(
    "tensor_norm",
    "VectorNorm",
    lambda x, ord, dim, keepdim: x.norm(ord, dim=dim, keepdim=keepdim),
    _np_vector_norm,
    vector_norm_strategy([2, 1.5, 4]),
)


@st.composite
def square_strategy(draw, rhs=False):
    """Diagonally dominant matrices (well conditioned, positive determinant), maybe batched."""
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)]))
    a = draw_array(draw, batch + (n, n), (-0.4, 0.4)) + 2 * np.eye(n)
    if not rhs:
        return (a,), {}
    vector = draw(st.booleans())
    b = draw_array(draw, (n,) if vector else batch + (n, draw(st.integers(1, 2))))
    return (a, b), {}


def _np_slogdet(a):
    return np.linalg.slogdet(a)[1]


case("inv", "Inv", lambda a: mt.linalg.inv(a), np.linalg.inv, square_strategy())
case("det", "Det", lambda a: mt.linalg.det(a), np.linalg.det, square_strategy())
case(
    "slogdet",
    "LogAbsDet",
    lambda a: mt.linalg.slogdet(a).logabsdet,
    lambda a: np.linalg.slogdet(a)[1],
    square_strategy(),
)


def _np_solve(a, b):
    if b.ndim == 1:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


case("solve", ("Solve", "Reshape"), lambda a, b: mt.linalg.solve(a, b), _np_solve, square_strategy(True))


def _spd(a):
    return a @ a.mT + a.shape[-1] * mt.eye(a.shape[-1], dtype=a.dtype)


case(
    "cholesky",
    ("Cholesky", "MatMul", "Add", "Permute"),
    lambda a: mt.linalg.cholesky(_spd(a)),
    lambda a: np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1])),
    square_strategy(),
)


@st.composite
def tall_strategy(draw, square=False):
    """Matrices with well-separated, nonzero singular values: a small perturbation of diag(3, 2, 1)."""
    n = draw(st.integers(1, 3))
    m = n if square else draw(st.integers(n, 4))
    d = np.zeros((m, n))
    d[range(n), range(n)] = [3.0, 2.0, 1.0][:n]
    batch = draw(st.sampled_from([(), (2,)]))
    # no exact zeros: LAPACK's QR skips a reflection whose column is already reduced (R's sign jumps)
    signs = np.where(draw(hnp.arrays(np.bool_, batch + (m, n))), -1, 1)
    x = draw_array(draw, batch + (m, n), (0.02, 0.2)) * signs
    return (x + d,), {"wide": draw(st.booleans()) and not square}


case(
    "qr",
    ("QR", "GetItem", "Permute"),
    lambda a, wide: tuple(mt.linalg.qr(a.mT if wide else a)),  # wide: PyTorch's m < n rule
    lambda a, wide: tuple(np.linalg.qr(np.swapaxes(a, -1, -2) if wide else a)),
    tall_strategy(),
)


def _svd_invariants(a, wide):
    U, S, Vh = mt.linalg.svd(a.mT if wide else a, full_matrices=False)
    return S, U @ Vh, U * U  # independent of the sign of each singular vector pair


def _np_svd_invariants(a, wide):
    U, S, Vh = np.linalg.svd(np.swapaxes(a, -1, -2) if wide else a, full_matrices=False)
    return S, U @ Vh, U * U


case(
    "svd",
    ("SVD", "GetItem", "Permute", "MatMul", "Mul"),
    _svd_invariants,
    _np_svd_invariants,
    tall_strategy(),
)


def _eigh_invariants(a, wide):
    L, V = mt.linalg.eigh(a + a.mT)
    return L, V * V


def _np_eigh_invariants(a, wide):
    L, V = np.linalg.eigh(a + np.swapaxes(a, -1, -2))
    return L, V * V


case(
    "eigh",
    ("Eigh", "GetItem", "Permute", "Add", "Mul"),
    _eigh_invariants,
    _np_eigh_invariants,
    tall_strategy(square=True),
)


# ------------------------------------ pointwise (ops/pointwise.py): addcmul/addcdiv, fmax/fmin, alpha=
@st.composite
def addc_strategy(draw, divide: bool):
    sx, sa, sb = draw(small_broadcastable(3))
    x, a = draw_array(draw, sx), draw_array(draw, sa)
    b = draw_array(draw, sb, "nonzero" if divide else "real")
    value = draw(st.sampled_from([1, 0.5, -2]))
    return (x, a, b), {"value": value, "how": draw(st.sampled_from(["function", "method"]))}


case(
    "addcmul",
    ("Mul", "Add"),
    lambda x, a, b, value, how: (
        mt.addcmul(x, a, b, value=value) if how == "function" else x.addcmul(a, b, value=value)
    ),
    lambda x, a, b, value, how: x + value * (a * b),
    addc_strategy(False),
)
case(
    "addcdiv",
    ("Div", "Mul", "Add"),
    lambda x, a, b, value, how: (
        mt.addcdiv(x, a, b, value=value) if how == "function" else x.addcdiv(a, b, value=value)
    ),
    lambda x, a, b, value, how: x + value * (a / b),
    addc_strategy(True),
)
for _name, _op, _np in (("fmax", "Fmax", np.fmax), ("fmin", "Fmin", np.fmin)):
    case(
        _name, _op, _math_binary_fn(_name), lambda a, b, how, _np=_np: _np(a, b), binary_strategy(joint=True)
    )


@st.composite
def alpha_strategy(draw):
    sa, sb = draw(small_broadcastable(2))
    alpha = draw(st.sampled_from([2, -0.5, 3.25]))
    how = draw(st.sampled_from(["f", "m"]))
    return (draw_array(draw, sa), draw_array(draw, sb)), {"alpha": alpha, "how": how}


for _name, _op, _sign in (("add", "Add", 1), ("sub", "Sub", -1)):
    case(
        f"{_name}_alpha",
        (_op, "Mul"),
        lambda a, b, alpha, how, _n=_name: (
            getattr(mt, _n)(a, b, alpha=alpha) if how == "f" else getattr(a, _n)(b, alpha=alpha)
        ),
        lambda a, b, alpha, how, _s=_sign: a + _s * (alpha * b),
        alpha_strategy(),
    )


@st.composite
def ldexp_strategy(draw):
    sx, se = draw(small_broadcastable(2))
    e = draw(hnp.arrays(np.int64, se, elements=st.integers(-4, 4)))
    return (draw_array(draw, sx),), {"e": e}


case(
    "ldexp",
    "Mul",
    lambda x, e: mt.ldexp(x, mt.tensor(e)),
    lambda x, e: np.ldexp(x, e),
    ldexp_strategy(),
)
@st.composite
def frexp_strategy(draw):
    """±2^(k + f) with f in [0.1, 0.9]: away from the powers of two, where the mantissa jumps."""
    shape = draw(small_shapes())
    k = draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    f = draw_array(draw, shape, (0.1, 0.9))
    sign = draw(hnp.arrays(np.int64, shape, elements=st.sampled_from([-1, 1])))
    return (sign * np.exp2(k + f),), {"how": draw(st.sampled_from(["function", "method"]))}


case(
    "frexp",
    "Frexp",
    lambda x, how: tuple(mt.frexp(x) if how == "function" else x.frexp()),
    lambda x, how: np.frexp(x),
    frexp_strategy(),
)


# --------------------------------------------- the gamma family (ops/special.py), NumPy references
# written independently of the kernels: far larger shifts and different series lengths
def _np_lgamma(x):
    return np.vectorize(math.lgamma, otypes=[np.float64])(x)


def _np_hurwitz(s, q, shift=60):
    """ζ(s, q) = Σₖ (q + k)^−s: 60 terms, then the integral and two Euler–Maclaurin terms."""
    q = np.asarray(q, np.float64)
    head = sum((q + k) ** -s for k in range(shift))
    a = q + shift
    tail = a ** (1 - s) / (s - 1) + a**-s / 2
    return head + tail + s * a ** (-s - 1) / 12 - s * (s + 1) * (s + 2) * a ** (-s - 3) / 720


def _np_digamma(x, shift=60):
    x = np.asarray(x, np.float64)
    head = sum(1 / (x + k) for k in range(shift))
    a = x + shift
    return np.log(a) - 1 / (2 * a) - 1 / (12 * a**2) + 1 / (120 * a**4) - 1 / (252 * a**6) - head


def _np_polygamma(n, x):
    if n == 0:
        return _np_digamma(x)
    return (-1) ** (n + 1) * math.factorial(n) * _np_hurwitz(n + 1, x)


@st.composite
def gamma_strategy(draw, negative=False):
    shape = draw(small_shapes())
    x = draw_array(draw, shape, (-2.9, -2.1) if negative else (0.2, 6.0))
    return (x,), {"how": draw(st.sampled_from(["function", "method"]))}


case("lgamma", "Lgamma", _unary_fn("lgamma"), lambda x, how: _np_lgamma(x), gamma_strategy())
case("lgamma_negative", "Lgamma", _unary_fn("lgamma"), lambda x, how: _np_lgamma(x), gamma_strategy(True))
case("digamma", "Digamma", _unary_fn("digamma"), lambda x, how: _np_digamma(x), gamma_strategy())
case(
    "digamma_negative",
    "Digamma",
    _unary_fn("digamma"),
    lambda x, how: _np_digamma(1 - x) - np.pi / np.tan(np.pi * x),  # the reflection formula
    gamma_strategy(True),
)


@st.composite
def polygamma_strategy(draw):
    (x,), params = draw(gamma_strategy())
    return (x,), {**params, "n": draw(st.integers(0, 3))}


case(
    "polygamma",
    ("Digamma", "Polygamma"),
    lambda x, n, how: mt.polygamma(n, x) if how == "function" else x.polygamma(n),
    lambda x, n, how: _np_polygamma(n, x),
    polygamma_strategy(),
)


@st.composite
def mvlgamma_strategy(draw):
    p = draw(st.integers(1, 3))
    x = draw_array(draw, draw(small_shapes()), ((p - 1) / 2 + 0.2, 5.0))
    return (x,), {"p": p, "how": draw(st.sampled_from(["function", "method"]))}


case(
    "mvlgamma",
    ("Reshape", "Add", "Lgamma", "Sum"),
    lambda x, p, how: mt.mvlgamma(x, p) if how == "function" else x.mvlgamma(p),
    lambda x, p, how: sum(_np_lgamma(x - i / 2) for i in range(p)) + p * (p - 1) / 4 * math.log(math.pi),
    mvlgamma_strategy(),
)


# ------------------------------------------------ statistics (ops/stats.py) and addr, split variants
@st.composite
def cov_strategy(draw, weights: bool):
    v, n = draw(st.integers(1, 3)), draw(st.integers(3, 6))
    x = draw_array(draw, (v, n) if draw(st.booleans()) else (n,))
    params = {"correction": draw(st.sampled_from([0, 1, 2]))}
    if weights:
        params["fw"] = draw(hnp.arrays(np.int64, (n,), elements=st.integers(1, 3)))
        params["aw"] = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0.5, 2.0)))
    return (x,), params


def _np_cov(x, correction, fw=None, aw=None):
    return np.cov(x, ddof=correction, fweights=fw, aweights=aw)


case(
    "cov",
    ("Mean", "Reshape", "Sub", "Permute", "MatMul", "Div"),
    lambda x, correction: mt.cov(x, correction=correction),
    _np_cov,
    cov_strategy(False),
)
case(
    "cov_weights",
    ("Mul", "Sum", "Div", "Reshape", "Sub", "Permute", "MatMul"),
    lambda x, correction, fw, aw: x.cov(
        correction=correction, fweights=mt.tensor(fw), aweights=mt.tensor(aw)
    ),
    _np_cov,
    cov_strategy(True),
)


@st.composite
def corrcoef_strategy(draw):
    v, n = draw(st.integers(2, 3)), draw(st.integers(3, 6))
    return draw_joint(draw, [(v, n)]), {}  # distinct values: no constant row (its correlation is nan)


case(
    "corrcoef",
    ("Mean", "Reshape", "Sub", "Permute", "MatMul", "Div", "Sqrt", "GetItem", "Clamp"),
    lambda x: mt.corrcoef(x),
    lambda x: np.clip(np.corrcoef(x), -1, 1),
    corrcoef_strategy(),
    second_order=False,  # the clamp at ±1 of the (constant) diagonal: its derivative jumps there
)


@st.composite
def dist_strategy(draw):
    sa, sb = draw(small_broadcastable(2, min_dims=1))
    a, b = draw_joint(draw, [sa, sb])  # no zero differences: |x| has a kink there
    return (a, b), {"p": draw(st.sampled_from([1, 2, 3, 1.5]))}


case(
    "dist",
    ("Sub", "VectorNorm"),
    lambda a, b, p: mt.dist(a, b, p) if p != 3 else a.dist(b, p=p),
    lambda a, b, p: np.sum(np.abs(a - b) ** p) ** (1 / p),
    dist_strategy(),
)


@st.composite
def addr_strategy(draw):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(n, m), (m,), (n, 1), ()]))
    arrs = (draw_array(draw, shape), draw_array(draw, (n,)), draw_array(draw, (m,)))
    return arrs, {"beta": draw(st.sampled_from([1, 0.5])), "alpha": draw(st.sampled_from([1, -2]))}


case(
    "addr",
    ("Reshape", "Mul", "Add"),
    lambda x, a, b, beta, alpha: mt.addr(x, a, b, beta=beta, alpha=alpha),
    lambda x, a, b, beta, alpha: beta * x + alpha * np.outer(a, b),
    addr_strategy(),
)


@st.composite
def hsplit_strategy(draw):
    name = draw(st.sampled_from(["hsplit", "vsplit", "dsplit"]))
    least = {"hsplit": 1, "vsplit": 2, "dsplit": 3}[name]
    shape = [draw(st.integers(1, 3)) for _ in range(least)]
    dim = {"hsplit": 0 if least == 1 else 1, "vsplit": 0, "dsplit": 2}[name]
    shape[dim] = draw(st.sampled_from([2, 4]))
    cut = draw(st.sampled_from([2, [1], [1, 3]]))
    return (draw_array(draw, tuple(shape)),), {"name": name, "cut": cut, "dim": dim}


case(
    "hsplit_vsplit_dsplit",
    ("GetItem",),
    lambda x, name, cut, dim: getattr(mt, name)(x, cut),
    lambda x, name, cut, dim: tuple(np.array_split(x, cut, axis=dim)),
    hsplit_strategy(),
)


# ------------------------------------------- *_scatter, index_reduce (ops/index.py), as_strided (shape.py)
@st.composite
def embed_strategy(draw):
    kind = draw(st.sampled_from(["select", "slice", "diagonal"]))
    shape = tuple(draw(st.integers(2, 4)) for _ in range(draw(st.integers(2, 3))))
    x = draw_array(draw, shape)
    if kind == "select":
        dim = draw(st.integers(0, len(shape) - 1))
        params = {"dim": dim, "index": draw(st.integers(-shape[dim], shape[dim] - 1))}
        region = np.take(x, params["index"], axis=dim)
    elif kind == "slice":
        dim = draw(st.integers(0, len(shape) - 1))
        start, step = draw(st.sampled_from([None, 0, 1])), draw(st.integers(1, 2))
        params = {"dim": dim, "start": start, "end": None, "step": step}
        region = x[(slice(None),) * dim + (slice(params["start"], None, params["step"]),)]
    else:
        params = {"offset": draw(st.integers(-1, 1)), "dim1": 0, "dim2": -1}
        region = np.diagonal(x, params["offset"], 0, len(shape) - 1)
    return (x, draw_array(draw, region.shape)), {"kind": kind, **params}


def _np_embed(x, src, kind, **p):
    out = x.copy()
    if kind == "select":
        idx = (slice(None),) * p["dim"] + (p["index"],)
        out[idx] = src
    elif kind == "slice":
        out[(slice(None),) * p["dim"] + (slice(p["start"], p["end"], p["step"]),)] = src
    else:
        positions = np.arange(x.size).reshape(x.shape).diagonal(p["offset"], p["dim1"], p["dim2"])
        out[np.unravel_index(positions, x.shape)] = src
    return out


case(
    "select_slice_diagonal_scatter",
    "SetItem",
    lambda x, src, kind, **p: getattr(mt, f"{kind}_scatter")(x, src, **p),
    _np_embed,
    embed_strategy(),
)


@st.composite
def index_reduce_strategy(draw):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    idx = draw(hnp.arrays(np.int64, (k,), elements=st.integers(0, n - 1)))
    x, src = draw_array(draw, (n, m)), draw_array(draw, (k, m))
    return (x, src), {"idx": idx, "include_self": draw(st.booleans())}


def _np_index_mean(x, src, idx, include_self):
    total = x * include_self
    count = np.full(x.shape[0], float(include_self))
    total = total.copy()
    for j, i in enumerate(idx):
        total[i] += src[j]
        count[i] += 1
    hit = np.isin(np.arange(x.shape[0]), idx)
    return np.where(hit[:, None], total / np.maximum(count, 1)[:, None], x)


case(
    "index_reduce_mean",
    ("Where", "ScatterAdd", "GetItem", "Div"),
    lambda x, src, idx, include_self: x.index_reduce(
        0, mt.tensor(idx), src, "mean", include_self=include_self
    ),
    _np_index_mean,
    index_reduce_strategy(),
)


@st.composite
def as_strided_strategy(draw):
    n = draw(st.integers(4, 12))
    size = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2))))
    stride = tuple(draw(st.integers(0, 2)) for _ in size)
    span = 1 + sum((a - 1) * b for a, b in zip(size, stride))
    offset = draw(st.integers(0, max(n - span, 0)))
    n = max(n, offset + span)
    return (draw_array(draw, (n,)),), {"size": size, "stride": stride, "offset": offset}


case(
    "as_strided",
    ("Reshape", "GetItem"),
    lambda x, size, stride, offset: x.as_strided(size, stride, offset),
    lambda x, size, stride, offset: np.lib.stride_tricks.as_strided(
        x[offset:], size, tuple(s * x.itemsize for s in stride)
    ).copy(),
    as_strided_strategy(),
)


@st.composite
def quantile_strategy(draw):
    shape = draw(small_shapes(min_dims=1))
    (x,) = draw_joint(draw, [shape])  # distinct values: the sort has no ties
    dim = draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    q = draw(st.sampled_from([0.5, 0.3, [0.1, 0.9]]))
    interp = draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    return (x,), {"q": q, "dim": dim, "keepdim": draw(st.booleans()), "interpolation": interp}


def _quantile_call(x, q, dim, keepdim, interpolation):
    qt = mt.tensor(q, dtype=x.dtype) if isinstance(q, list) else q
    return mt.quantile(x, qt, dim, keepdim, interpolation=interpolation)


case(
    "quantile",
    ("Reshape", "Permute", "TakeAlongDim", "Expand", "Lerp"),
    _quantile_call,
    lambda x, q, dim, keepdim, interpolation: np.quantile(
        x, q, axis=dim, keepdims=keepdim, method=interpolation
    ),
    quantile_strategy(),
)


@st.composite
def renorm_strategy(draw):
    shape = draw(small_shapes(min_dims=2))
    (x,) = draw_joint(draw, [shape], "away_from_zero")  # no zeros: |x| has a kink there
    p, dim = draw(st.sampled_from([1, 2, 3.0])), draw_dim(draw, len(shape))
    return (x,), {"p": p, "dim": dim, "maxnorm": 0.7051}  # (a norm never lands on maxnorm)


def _np_renorm(x, p, dim, maxnorm):
    axes = tuple(a for a in range(x.ndim) if a != dim % x.ndim)
    norms = np.sum(np.abs(x) ** p, axis=axes, keepdims=True) ** (1 / p)
    return x * np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


case(
    "renorm",
    ("VectorNorm", "Add", "Div", "Where", "Mul"),
    lambda x, p, dim, maxnorm: x.renorm(p, dim, maxnorm),
    _np_renorm,
    renorm_strategy(),
)


@st.composite
def narrow_copy_strategy(draw):
    shape = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    start = draw(st.integers(0, shape[dim] - 1))
    length = draw(st.integers(0, shape[dim] - start))
    return (draw_array(draw, shape),), {"dim": dim, "start": start, "length": length}


case(
    "narrow_copy",
    ("GetItem", "Clone"),
    lambda x, dim, start, length: mt.narrow_copy(x, dim, start, length),
    lambda x, dim, start, length: np.take(x, range(start, start + length), axis=dim),
    narrow_copy_strategy(),
)
