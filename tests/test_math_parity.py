"""The math surface against PyTorch: values, dtypes, requires_grad and gradients.

Hypothesis draws shapes (broadcastable pairs and triples), the float dtype (float32 or float64) and
values inside each function's domain; the same call runs in microtensor and in PyTorch, and must give
the same shape, dtype, values and `requires_grad`, and - for a fixed random weighting of the outputs -
the same gradient for every input. Integer dtypes and Python-number operands (division, remainders,
rounding, promotion) are swept exhaustively over small tables, errors included: where PyTorch
raises, microtensor must raise too.

Under CI=1 the derandomized 'ci' profile fixes the examples (each test sets its own small budget).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import _flat, assert_same  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import microtensor as mt  # noqa: E402
from microtensor.testing import arrays, broadcastable_shapes, shapes  # noqa: E402

# value domains: (lo, hi) for plain intervals; "nonzero" draws |x| in [0.5, 2] with either sign
DOMAIN = {
    "real": (-2.0, 2.0),
    "unit": (-0.9, 0.9),
    "above1": (1.1, 3.0),
    "positive": (0.2, 3.0),
    "open01": (0.05, 0.95),
    "wide": (-6.0, 6.0),
    "nonzero": "nonzero",
}


def values(shape, domain: str, dtype: str):
    d = DOMAIN[domain]
    return arrays(tuple(shape), np.float64, d).map(lambda a: a.astype(dtype))


# ---------------------------------------------------------------- one-input functions
def _m(name, *args, **kw):
    """The function spelling lib.name(x, ...) and the method spelling x.name(...), as a pair."""
    return (lambda L, x: getattr(L, name)(x, *args, **kw), lambda L, x: getattr(x, name)(*args, **kw))


UNARY = {
    # name: (domain, (function form, method form))
    "sin": ("wide", _m("sin")),
    "cos": ("wide", _m("cos")),
    "tan": ("real", _m("tan")),
    "asin": ("unit", _m("asin")),
    "acos": ("unit", _m("acos")),
    "atan": ("wide", _m("atan")),
    "arcsin": ("unit", _m("arcsin")),
    "arctan": ("wide", _m("arctan")),
    "sinh": ("real", _m("sinh")),
    "cosh": ("real", _m("cosh")),
    "tanh": ("real", _m("tanh")),
    "asinh": ("wide", _m("asinh")),
    "acosh": ("above1", _m("acosh")),
    "atanh": ("unit", _m("atanh")),
    "exp2": ("real", _m("exp2")),
    "expm1": ("real", _m("expm1")),
    "log2": ("positive", _m("log2")),
    "log10": ("positive", _m("log10")),
    "log1p": ("open01", _m("log1p")),
    "rsqrt": ("positive", _m("rsqrt")),
    "reciprocal": ("nonzero", _m("reciprocal")),
    "square": ("real", _m("square")),
    "sign": ("real", _m("sign")),
    "sgn": ("real", _m("sgn")),
    "floor": ("wide", _m("floor")),
    "ceil": ("wide", _m("ceil")),
    "round": ("wide", _m("round")),
    "round_decimals": ("wide", _m("round", decimals=2)),
    "round_negative_decimals": ("wide", (lambda L, x: L.round(x * 40, decimals=-1), None)),
    "trunc": ("wide", _m("trunc")),
    "fix": ("wide", _m("fix")),
    "frac": ("wide", _m("frac")),
    "erf": ("real", _m("erf")),
    "erfc": ("real", _m("erfc")),
    "erfinv": ("unit", _m("erfinv")),
    "logit": ("open01", _m("logit")),
    "logit_eps": ("open01", _m("logit", eps=0.2)),
    "logit_eps_positional": ("open01", (lambda L, x: L.logit(x, 0.1), lambda L, x: x.logit(0.1))),
    "deg2rad": ("wide", _m("deg2rad")),
    "rad2deg": ("real", _m("rad2deg")),
    # away from 0: both libraries' sinc gradient, (πx cos πx − sin πx) / (πx²), cancels there, and
    # their last-bit differences in sin grow to ~1e-3 relative at |x| ~ 1e-7
    "sinc": ("nonzero", _m("sinc")),
    "nan_to_num": ("real", _m("nan_to_num")),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
@settings(max_examples=10)
def test_unary_math_matches_torch(name, data):
    domain, (function, method) = UNARY[name]
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    x = data.draw(shapes(0, 3, 1, 4).flatmap(lambda s: values(s, domain, dtype)), label="x")
    fn = function if method is None or data.draw(st.booleans(), label="function form") else method
    assert_same(fn, [x], note_text=name)


def test_nan_to_num_replacements_match_torch():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0, 0.0])
    for dtype in ("float32", "float64"):
        a = x.astype(dtype)
        assert_same(lambda L, t: L.nan_to_num(t), [a])
        assert_same(lambda L, t: L.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0), [a])
        assert_same(lambda L, t: t.nan_to_num(0.5, neginf=7.0), [a])


def test_rounding_at_halves_and_integer_dtypes_matches_torch():
    """round() is half-to-even; the rounding functions and sign keep integer dtypes."""
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, 1.005, -0.0])
    for dtype in ("float32", "float64"):
        for name in ("round", "floor", "ceil", "trunc", "frac", "sign"):
            assert_same(lambda L, t, n=name: getattr(L, n)(t), [x.astype(dtype)], note_text=name)
        assert_same(lambda L, t: L.round(t, decimals=1), [x.astype(dtype)])
    i = np.array([-3, 0, 4], dtype=np.int64)
    for name in ("round", "floor", "ceil", "trunc", "sign", "square", "abs"):
        assert_same(lambda L, t, n=name: getattr(L, n)(t), [i], note_text=name)
    for name in ("sin", "exp2", "erf", "sqrt", "log1p", "reciprocal", "rsqrt", "atan"):
        # floating functions of integers give the default float dtype
        assert_same(lambda L, t, n=name: getattr(L, n)(t), [np.abs(i) + 1], note_text=name)


# ---------------------------------------------------------------- two- and three-input functions
BINARY = {
    # name: (domain of a, domain of b, fn(L, a, b))
    "atan2": ("real", "real", lambda L, a, b: L.atan2(a, b)),
    "atan2_method": ("real", "nonzero", lambda L, a, b: a.atan2(b)),
    "arctan2": ("real", "nonzero", lambda L, a, b: L.arctan2(a, b)),
    "hypot": ("real", "nonzero", lambda L, a, b: L.hypot(a, b)),
    "lerp_scalar_weight": ("real", "real", lambda L, a, b: L.lerp(a, b, 0.3)),
    "lerp_weight_above_half": ("real", "real", lambda L, a, b: a.lerp(b, 0.75)),
    "div": ("real", "nonzero", lambda L, a, b: L.div(a, b)),
    "div_none": ("real", "nonzero", lambda L, a, b: a.div(b, rounding_mode=None)),
    "div_trunc": ("wide", "nonzero", lambda L, a, b: L.div(a, b, rounding_mode="trunc")),
    "div_floor": ("wide", "nonzero", lambda L, a, b: a.div(b, rounding_mode="floor")),
    "divide_floor": ("wide", "nonzero", lambda L, a, b: L.divide(a, b, rounding_mode="floor")),
    "true_divide": ("real", "nonzero", lambda L, a, b: L.true_divide(a, b)),
    "remainder": ("wide", "nonzero", lambda L, a, b: L.remainder(a, b)),
    "remainder_operator": ("wide", "nonzero", lambda L, a, b: a % b),
    "fmod": ("wide", "nonzero", lambda L, a, b: L.fmod(a, b)),
    "fmod_method": ("wide", "nonzero", lambda L, a, b: a.fmod(b)),
    "copysign": ("real", "nonzero", lambda L, a, b: L.copysign(a, b)),
    "logaddexp": ("real", "real", lambda L, a, b: L.logaddexp(a, b)),
    "xlogy": ("real", "positive", lambda L, a, b: L.xlogy(a, b)),
}
# no derivative in PyTorch: the result requires grad, and backward raises (checked separately)
NO_GRAD = {
    "floor_divide": ("wide", "nonzero", lambda L, a, b: L.floor_divide(a, b)),
    "floordiv_operator": ("wide", "nonzero", lambda L, a, b: a // b),
    "isclose": ("real", "real", lambda L, a, b: L.isclose(a, b, rtol=0.1, atol=0.3)),
    "isclose_self": ("real", "real", lambda L, a, b: (L.isclose(a, a), a.isclose(a + 1e-3, atol=1e-2))),
}


def _binary_inputs(data, da, db, dtype, n=2):
    ss = data.draw(broadcastable_shapes(n, 0, 3, 1, 4), label="shapes")
    doms = [da, db, "open01"][:n]
    return [data.draw(values(s, d, dtype), label=f"input {k}") for k, (s, d) in enumerate(zip(ss, doms))]


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
@settings(max_examples=10)
def test_binary_math_matches_torch(name, data):
    da, db, fn = BINARY[name]
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    assert_same(fn, _binary_inputs(data, da, db, dtype), note_text=name)


@pytest.mark.parametrize("name", list(NO_GRAD))
@given(data=st.data())
@settings(max_examples=10)
def test_nondifferentiable_math_matches_torch(name, data):
    da, db, fn = NO_GRAD[name]
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    a, b = _binary_inputs(data, da, db, dtype)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ma, mb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    for m, t in zip(_flat(fn(mt, ma, mb)), _flat(fn(torch, ta, tb))):
        assert str(m.dtype) == str(t.dtype).removeprefix("torch.")
        assert m.requires_grad == t.requires_grad
        np.testing.assert_array_equal(m.detach().numpy(), t.detach().numpy())


@given(data=st.data())
@settings(max_examples=25)
def test_lerp_with_a_tensor_weight_matches_torch(data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    a, b, w = _binary_inputs(data, "real", "real", dtype, n=3)
    w = w * 1.6 - 0.3  # weights in (-0.22, 1.22): both branches of the two-sided formula, and beyond
    method = data.draw(st.booleans())
    assert_same(
        (lambda L, x, y, z: x.lerp(y, z)) if method else (lambda L, x, y, z: L.lerp(x, y, z)), [a, b, w]
    )


@st.composite
def clamp_inputs(draw):
    """x and tensor bounds with pairwise distinct values (no tie at a bound: a kink), lo < hi."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    sx, slo, shi = draw(broadcastable_shapes(3, 0, 3, 1, 3))
    # x as big as the result (PyTorch 2.13 refuses some smaller x: clamp(x (), min (1,), max ()) raises)
    sx = np.broadcast_shapes(sx, slo, shi)
    n = [math.prod(s) for s in (sx, slo, shi)]
    flat = draw(arrays((sum(n),), np.float64, (-2.0, 2.0), min_gap=0.05))
    x = flat[: n[0]].reshape(sx)
    lo = flat[n[0] : n[0] + n[1]].reshape(slo) - 2.5  # the bounds apart: lo < hi everywhere
    hi = flat[n[0] + n[1] :].reshape(shi) + 2.5
    lo, hi = lo / 2, hi / 2
    return dtype, *(np.asarray(v, dtype) for v in (x, lo, hi))


@given(inputs=clamp_inputs(), kind=st.sampled_from(["both", "min", "max", "clip", "method", "clamp_min"]))
@settings(max_examples=40)
def test_clamp_with_tensor_bounds_matches_torch(inputs, kind):
    _, x, lo, hi = inputs
    fns = {
        "both": lambda L, a, b, c: L.clamp(a, b, c),
        "min": lambda L, a, b, c: L.clamp(a, min=b),
        "max": lambda L, a, b, c: a.clamp(max=c),
        "clip": lambda L, a, b, c: L.clip(a, b, c),
        "method": lambda L, a, b, c: a.clip(min=b, max=c),
        "clamp_min": lambda L, a, b, c: L.clamp_min(a, b) + L.clamp_max(a, c),
    }
    assert_same(fns[kind], [x, lo, hi], note_text=kind)


def test_clamp_with_crossed_tensor_bounds_matches_torch():
    """min > max: every element becomes max (PyTorch's rule), and the gradient goes to max."""
    x = np.array([-1.0, 0.5, 2.0])
    assert_same(
        lambda L, a, b, c: L.clamp(a, b, c), [x, np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.2, 0.4])]
    )


# ---------------------------------------------------------------- Python numbers as operands
SCALAR_OPS = {
    "add": lambda L, x, s: (x + s, s + x),
    "sub": lambda L, x, s: (x - s, s - x),
    "mul": lambda L, x, s: (x * s, s * x),
    "div": lambda L, x, s: (x / s, L.div(x, s)),
    "pow": lambda L, x, s: x**s,
    "remainder": lambda L, x, s: (x % s, L.remainder(x, s)),
    "fmod": lambda L, x, s: L.fmod(x, s),
    "atan2": lambda L, x, s: L.atan2(x, L.tensor(s)),
    "lerp": lambda L, x, s: L.lerp(x, x * 2, s),
    "clamp": lambda L, x, s: L.clamp(x, min=-s, max=s),
    "div_trunc": lambda L, x, s: L.div(x, s, rounding_mode="trunc"),
    "hypot": lambda L, x, s: L.hypot(x, L.full_like(x, s)),
}


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@given(data=st.data())
@settings(max_examples=10)
def test_python_number_operands_match_torch(name, data):
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    x = data.draw(shapes(0, 2, 1, 3).flatmap(lambda s: values(s, "positive", dtype)), label="x")
    s = data.draw(st.sampled_from([2, 3, 1.5, 0.75, -2, -1.25]), label="number")
    assert_same(lambda L, t: SCALAR_OPS[name](L, t, s), [x], note_text=f"{name} {s!r}")


def test_reflected_number_division_and_remainder_match_torch():
    """number // x and number % x: values and dtypes as PyTorch, and (PyTorch has no derivative for
    either) the result requires grad but backward raises."""
    for dtype in ("float32", "float64"):
        x = np.array([1.5, -2.5, 0.75, -1.0], dtype=dtype)
        for fn in (lambda L, t: 2.5 // t, lambda L, t: 2.5 % t, lambda L, t: 3 // t, lambda L, t: -3 % t):
            assert_same(fn, [x], grad=False)
            for L in (torch, mt):
                t = L.tensor(x, requires_grad=True)
                out = fn(L, t)
                assert out.requires_grad
                with pytest.raises(RuntimeError, match="derivative for .* not implemented"):
                    out.sum().backward()


def test_floor_divide_backward_raises_as_torch():
    for L in (torch, mt):
        a = L.tensor([3.5, -2.0], requires_grad=True)
        b = L.tensor([2.0, 3.0])
        for out in (L.floor_divide(a, b), a // b, a // 2, L.floor_divide(b, a)):
            assert out.requires_grad and out.grad_fn is not None
            with pytest.raises(RuntimeError, match="derivative for .*floor_divide.* not implemented"):
                out.sum().backward()
        # the same values with a zero gradient: div(rounding_mode="floor")
        a.grad = None
        L.div(a, b, rounding_mode="floor").sum().backward()
        assert a.grad.abs().sum().item() == 0


def test_remainder_zeros_keep_the_sign_of_the_dividend():
    """PyTorch corrects fmod by the divisor: a zero remainder has the dividend's sign (NumPy's has
    the divisor's); visible through copysign / 1 / x."""
    a = np.array([2.5, -2.5, 0.0, -0.0, 3.0, -3.0])
    for b in (2.5, -2.5, 1.5, -1.5):
        t = torch.remainder(torch.tensor(a), b).numpy()
        m = mt.remainder(mt.tensor(a), b).numpy()
        np.testing.assert_array_equal(np.signbit(m), np.signbit(t))
        np.testing.assert_array_equal(m, t)


def test_isclose_allclose_equal_match_torch():
    x = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 0.0])
    y = np.array([1.0 + 1e-9, 2.1, np.nan, np.inf, np.inf, 1e-9])
    for dtype in ("float32", "float64"):
        a, b = x.astype(dtype), y.astype(dtype)
        assert_same(lambda L, p, q: L.isclose(p, q), [a, b], grad=False)
        assert_same(lambda L, p, q: L.isclose(p, q, equal_nan=True), [a, b], grad=False)
        assert_same(lambda L, p, q: p.isclose(q, rtol=0.1, atol=0.0), [a, b], grad=False)
        assert_same(
            lambda L, p, q: (L.allclose(p, p), L.allclose(p, q), L.allclose(p, p, equal_nan=True)), [a, b]
        )
        assert_same(lambda L, p, q: (L.equal(p, p), L.equal(p, q), p.equal(p[:3])), [a, b])
    i = np.array([1, 2, 3])
    assert_same(lambda L, p: (L.isclose(p, p + 1, atol=1), L.equal(p, p)), [i])
    assert_same(lambda L, p, q: L.equal(p, q), [i, i.astype(np.float32)])  # equal compares values
    for fn in (
        lambda L: L.allclose(L.tensor(i), L.tensor(i * 1.0)),
        lambda L: L.isclose(L.tensor(i * 1.0), L.tensor(i)),
    ):
        _same_or_both_raise(fn, "isclose / allclose need one dtype")


# ---------------------------------------------------------------- integer dtypes, swept
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NUMBERS = [2, -3, 2.5, -1.5, True]
DIVISIONS = {
    "floor_divide": lambda L, a, b: L.floor_divide(a, b),
    "//": lambda L, a, b: a // b,
    "remainder": lambda L, a, b: L.remainder(a, b),
    "%": lambda L, a, b: a % b,
    "fmod": lambda L, a, b: L.fmod(a, b),
    "div": lambda L, a, b: L.div(a, b),
    "div_trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
}


def _int_data(dtype: str, shape_kind: str) -> np.ndarray:
    base = np.array([[-7, 7, -3], [3, 1, 5]]) if shape_kind == "a" else np.array([2, -3, 4])
    if dtype == "bool":
        return base > 0 if shape_kind == "a" else np.ones(3, bool)
    if dtype == "uint8":
        return np.abs(base).astype(dtype)
    return base.astype(dtype)


def _same_or_both_raise(fn, note_text):
    try:
        t = fn(torch)
    except Exception as e:  # noqa: BLE001 - any PyTorch error: microtensor must raise too
        with pytest.raises((RuntimeError, TypeError, ValueError, NotImplementedError)):
            fn(mt)
        assert e is not None
        return
    m = fn(mt)
    assert str(m.dtype) == str(t.dtype).removeprefix("torch."), (note_text, m.dtype, t.dtype)
    tn, mn = t.numpy(), m.numpy()
    if tn.dtype.kind == "f":
        np.testing.assert_allclose(mn, tn, rtol=1e-3 if tn.dtype == np.float16 else 1e-6, err_msg=note_text)
        np.testing.assert_array_equal(np.signbit(mn), np.signbit(tn), err_msg=f"sign of zero {note_text}")
    else:
        np.testing.assert_array_equal(mn, tn, err_msg=note_text)


@pytest.mark.parametrize("name", list(DIVISIONS))
def test_division_and_remainders_over_all_dtype_pairs_match_torch(name):
    """Tensor ∘ tensor over every dtype pair, tensor ∘ number and number ∘ tensor: the result dtype
    (promotion), the values (integer division rounds, remainder takes the divisor's sign, fmod the
    dividend's) and the errors (bool / bool, number as fmod's input) as PyTorch's."""
    fn = DIVISIONS[name]
    for da in DTYPES:
        a = _int_data(da, "a")
        for db in DTYPES:
            b = _int_data(db, "b")
            _same_or_both_raise(lambda L, a=a, b=b: fn(L, L.tensor(a), L.tensor(b)), f"{name} {da} {db}")
        for s in NUMBERS:
            _same_or_both_raise(lambda L, a=a, s=s: fn(L, L.tensor(a), s), f"{name} {da} tensor, {s!r}")
            nz = np.where(a == 0, 1, a).astype(a.dtype)
            _same_or_both_raise(lambda L, s=s, nz=nz: fn(L, s, L.tensor(nz)), f"{name} {s!r}, {da} tensor")


def test_integer_division_by_zero_raises_like_torch():
    for name in ("floor_divide", "remainder", "fmod", "div_trunc", "div_floor"):
        fn = DIVISIONS[name]
        for L in (torch, mt):
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn(L, L.tensor([1, 2]), L.tensor([1, 0]))
    # floats divide by zero into inf / nan, as PyTorch
    _same_or_both_raise(lambda L: L.tensor([1.0, -1.0, 0.0]) // 0.0, "float // 0")
    _same_or_both_raise(lambda L: L.remainder(L.tensor([1.0, -1.0]), 0.0), "float % 0")


@pytest.mark.parametrize("name", ["atan2", "hypot", "copysign", "logaddexp", "xlogy", "lerp"])
def test_integer_and_mixed_operands_promote_like_torch(name):
    fns = {
        "atan2": lambda L, a, b: L.atan2(a, b),
        "hypot": lambda L, a, b: L.hypot(a, b),
        "copysign": lambda L, a, b: L.copysign(a, b),
        "logaddexp": lambda L, a, b: L.logaddexp(a, b),
        "xlogy": lambda L, a, b: L.xlogy(a, b),
        "lerp": lambda L, a, b: L.lerp(a, b, 0.25),
    }
    for da in ("int64", "int32", "float32", "float64", "float16"):
        for db in ("int64", "float32", "float64"):
            a, b = _int_data(da, "a"), np.abs(_int_data(db, "b")) + 1
            _same_or_both_raise(
                lambda L, a=a, b=b: fns[name](L, L.tensor(a), L.tensor(b)), f"{name} {da} {db}"
            )


# ---------------------------------------------------------------- bit-for-bit: linspace and powers
@given(
    start=st.floats(-1e4, 1e4, allow_subnormal=False),
    end=st.floats(-1e4, 1e4, allow_subnormal=False),
    steps=st.integers(0, 3000),
    dtype=st.sampled_from(["float32", "float64", "int64", "int32"]),
)
@settings(max_examples=60)
def test_linspace_is_torch_to_the_bit(start, end, steps, dtype):
    t = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
    m = mt.linspace(start, end, steps, dtype=getattr(mt, dtype)).numpy()
    assert m.dtype == t.dtype
    np.testing.assert_array_equal(m, t)


def test_linspace_of_the_sine_fit_port_is_torch_to_the_bit():
    t = torch.linspace(-math.pi, math.pi, 2000).numpy()
    np.testing.assert_array_equal(mt.linspace(-math.pi, math.pi, 2000).numpy(), t)


@pytest.mark.parametrize("exponent", [2, 3, -1, -2, -0.5, 2.0, 3.0])
def test_small_integer_powers_are_torch_to_the_bit(exponent):
    x = np.random.default_rng(1).uniform(0.1, 3.0, 20000)
    for dtype in ("float32", "float64"):
        a = x.astype(dtype)
        np.testing.assert_array_equal(
            (mt.tensor(a) ** exponent).numpy(), (torch.tensor(a) ** exponent).numpy()
        )
