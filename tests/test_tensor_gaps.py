"""The everyday Tensor surface filled in against PyTorch: addcmul/addcdiv (and alpha= on add/sub),
fmax/fmin, the comparison functions and their aliases, the in-place variants, the gamma family,
gcd/lcm/ldexp/frexp, the predicates and conversions, H/mH/adjoint and the small writes
(fill_diagonal_, detach_, map_/apply_). Values, gradients, dtypes and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import check  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import microtensor as mt  # noqa: E402

RNG = np.random.default_rng(7)


def _r(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape)


def _same(m, t, rtol=1e-12, atol=1e-12):
    assert tuple(m.shape) == tuple(t.shape)
    assert str(m.dtype) == str(t.dtype).removeprefix("torch."), (m.dtype, t.dtype)
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------------------------------ addcmul / addcdiv
@pytest.mark.parametrize("value", [1, 0.5, -3])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (1, 4)), ((), (2, 3), (3,))])
def test_addcmul_addcdiv_values_and_gradients(value, shapes):
    x, a, b = (_r(*s) for s in shapes)
    b = np.where(np.abs(b) < 0.3, 0.7, b)
    check(torch, mt, lambda lib, x, a, b: lib.addcmul(x, a, b, value=value), x, a, b)
    check(torch, mt, lambda lib, x, a, b: lib.addcdiv(x, a, b, value=value), x, a, b)
    check(torch, mt, lambda lib, x, a, b: x.addcmul(a, b, value=value), x, a, b)
    check(torch, mt, lambda lib, x, a, b: x.addcdiv(a, b, value=value), x, a, b)


@pytest.mark.parametrize(
    "dtypes",
    [("int64", "int64", "int64"), ("int64", "float32", "int64"), ("float32", "float64", "float32"),
     ("int32", "int64", "int16"), ("float64", "float32", "float32")],
)  # fmt: skip
def test_addcmul_addcdiv_dtypes(dtypes):
    arrs = [np.array([[1, 2], [3, 4]]).astype(d) for d in dtypes]
    for value in (1, 2, 0.5):
        m = mt.addcmul(*(mt.tensor(a) for a in arrs), value=value)
        t = torch.addcmul(*(torch.tensor(a) for a in arrs), value=value)
        _same(m, t)
    if not all(np.dtype(d).kind == "i" for d in dtypes[1:]):
        _same(mt.addcdiv(*(mt.tensor(a) for a in arrs)), torch.addcdiv(*(torch.tensor(a) for a in arrs)))


def test_addcmul_addcdiv_errors():
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="addcdiv: integer division"):
        mt.addcdiv(mt.ones(2), i, i)
    with pytest.raises(RuntimeError, match=r"addcmul: the shapes .*\(2,\), \(3,\), \(2,\)"):
        mt.addcmul(mt.ones(2), mt.ones(3), mt.ones(2))
    with pytest.raises(TypeError, match="addcmul.*value"):
        mt.addcmul(mt.ones(2), mt.ones(2), mt.ones(2), value="2")
    with pytest.raises(RuntimeError, match="addcmul: not implemented for bool"):
        b = mt.tensor([True])
        mt.addcmul(b, b, b)


def test_addcmul_and_addcdiv_in_place_as_an_optimizer_uses_them():
    """Adam's update written by hand (exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2), p.addcdiv_)."""
    results = []
    for lib in (mt, torch):
        gen = np.random.default_rng(0)
        p = lib.tensor(gen.standard_normal((3, 2)))
        m, v = lib.zeros_like(p), lib.zeros_like(p)
        for _ in range(3):
            g = lib.tensor(gen.standard_normal((3, 2)))
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            p.addcdiv_(m, v.sqrt().add_(1e-8), value=-0.01)
        results.append(p.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_addcmul_in_place_records_the_gradient_and_refuses_a_bigger_result():
    x = mt.tensor(_r(2, 3), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    a = _r(2, 3)
    y, ty = x * 1.0, tx * 1.0
    y.addcmul_(x, mt.tensor(a), value=2)
    ty.addcmul_(tx, torch.tensor(a), value=2)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    z = mt.zeros(3)
    with pytest.raises(RuntimeError, match=r"addcmul_: output with shape \(3,\)"):
        z.addcmul_(mt.ones(2, 3), mt.ones(3))
    assert z.tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------------- add / sub with alpha
@pytest.mark.parametrize("alpha", [2, -0.5, 3.25])
def test_add_sub_alpha(alpha):
    a, b = _r(3, 2), _r(2)
    check(torch, mt, lambda lib, a, b: lib.add(a, b, alpha=alpha), a, b)
    check(torch, mt, lambda lib, a, b: a.sub(b, alpha=alpha), a, b)
    check(torch, mt, lambda lib, a, b: lib.subtract(a, 1.5, alpha=alpha), a, b)


def test_add_alpha_dtype_rules():
    i = mt.tensor([1, 2])
    assert (
        mt.add(i, i, alpha=3).tolist()
        == torch.add(torch.tensor([1, 2]), torch.tensor([1, 2]), alpha=3).tolist()
    )
    for alpha in (2.0, 2.5):
        with pytest.raises(RuntimeError, match="add: for integral input tensors, argument alpha"):
            mt.add(i, i, alpha=alpha)
    with pytest.raises(RuntimeError, match="sub: boolean alpha"):
        mt.sub(mt.ones(2), mt.ones(2), alpha=True)
    _same(mt.add(i, mt.ones(2), alpha=2.5), torch.add(torch.tensor([1, 2]), torch.ones(2), alpha=2.5))


# ---------------------------------------------------------------------------------- fmax / fmin
def test_fmax_fmin_nan_rules_values_and_gradients():
    nan = float("nan")
    a = np.array([1.0, nan, nan, 2.0, 3.0, -1.0])
    b = np.array([nan, 2.0, nan, 2.0, 1.0, 4.0])  # one NaN, the other, both, a tie, a > b, a < b
    for name in ("fmax", "fmin"):
        ma, mb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        mo, to = getattr(mt, name)(ma, mb), getattr(torch, name)(ta, tb)
        _same(mo.detach(), to.detach())
        w = np.arange(1.0, 7.0)
        (mo * mt.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        _same(ma.grad, ta.grad)
        _same(mb.grad, tb.grad)


def test_fmax_fmin_broadcast_dtypes_and_errors():
    check(torch, mt, lambda lib, a, b: lib.fmax(a, b), _r(3, 1), _r(4))
    check(torch, mt, lambda lib, a, b: a.fmin(b), _r(3, 4), _r(1, 4))
    _same(
        mt.fmax(mt.tensor([1, 5]), mt.tensor([3.0, 2.0])),
        torch.fmax(torch.tensor([1, 5]), torch.tensor([3.0, 2.0])),
    )
    _same(
        mt.fmin(mt.tensor([1, 5]), mt.tensor([3, 2])), torch.fmin(torch.tensor([1, 5]), torch.tensor([3, 2]))
    )
    with pytest.raises(TypeError, match=r"fmax\(\): argument 'other' must be Tensor, not float"):
        mt.fmax(mt.ones(2), 2.0)


# ------------------------------------------------------------------------------- comparisons
COMPARISONS = [
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_functions_methods_and_in_place(name):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    for other_m, other_t in ((mt.tensor(b), torch.tensor(b)), (2, 2), (2.5, 2.5)):
        _same(getattr(mt, name)(mt.tensor(a), other_m), getattr(torch, name)(torch.tensor(a), other_t))
        _same(getattr(mt.tensor(a), name)(other_m), getattr(torch.tensor(a), name)(other_t))
        m, t = mt.tensor(a), torch.tensor(a)
        assert getattr(m, name + "_")(other_m) is m
        getattr(t, name + "_")(other_t)
        _same(m, t)
    ints = mt.tensor([1, 5])
    getattr(ints, name + "_")(3)
    assert ints.tolist() == getattr(torch.tensor([1, 5]), name + "_")(3).tolist()


def test_comparison_errors_name_the_function():
    with pytest.raises(RuntimeError, match="less: shapes"):
        mt.less(mt.ones(2), mt.ones(3))
    with pytest.raises(TypeError, match=r"greater\(\): argument 'input' must be Tensor"):
        mt.greater(1, mt.ones(2))


# --------------------------------------------------------------------------- in-place variants
IN_PLACE = {
    "abs_": ((), -2, 2), "exp_": ((), -2, 2), "log_": ((), 0.1, 3), "sqrt_": ((), 0.1, 3),
    "tanh_": ((), -2, 2), "sigmoid_": ((), -2, 2), "relu_": ((), -2, 2), "neg_": ((), -2, 2),
    "pow_": ((2,), 0.1, 3), "multiply_": ((1.5,), -2, 2), "subtract_": ((0.25,), -2, 2),
    "divide_": ((4.0,), -2, 2), "lgamma_": ((), 0.1, 5), "digamma_": ((), 0.1, 5),
    "polygamma_": ((2,), 0.1, 5), "mvlgamma_": ((2,), 1.0, 5), "logical_not_": ((), -1, 1),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_variants_as_pytorch(name):
    args, lo, hi = IN_PLACE[name]
    a = _r(2, 3, lo=lo, hi=hi)
    m, t = mt.tensor(a), torch.tensor(a)
    assert getattr(m, name)(*args) is m
    getattr(t, name)(*args)
    _same(m, t, rtol=1e-9 if name == "digamma_" else 1e-12)
    assert m._version == 1
    # recorded in the graph when the tensor requires grad
    leaf_m, leaf_t = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ym, yt = leaf_m * 1.0, leaf_t * 1.0
    getattr(ym, name)(*args)
    getattr(yt, name)(*args)
    if yt.requires_grad and name != "logical_not_":
        ym.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(leaf_m.grad.numpy(), leaf_t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_in_place_variants_refuse_a_float_result_in_an_integer_tensor():
    x = mt.tensor([1, 4])
    with pytest.raises(RuntimeError, match="sqrt_: result type float32 can't be cast"):
        x.sqrt_()
    with pytest.raises(RuntimeError, match="lgamma_: result type"):
        x.lgamma_()
    assert x.tolist() == [1, 4] and x._version == 0


def test_in_place_functions_of_the_torch_namespace():
    m, t = mt.tensor([0.5, 1.5]), torch.tensor([0.5, 1.5])
    assert mt.exp_(m) is m
    torch.exp_(t)
    _same(m, t)
    mt.clamp_(m, max=2.0)
    torch.clamp_(t, max=2.0)
    _same(m, t)
    with pytest.raises(TypeError, match=r"sin_\(\): argument 'input' must be Tensor"):
        mt.sin_([1.0])


# ------------------------------------------------------------------------- the gamma family
def test_lgamma_digamma_polygamma_values_against_pytorch():
    x = np.concatenate([RNG.uniform(-10, 10, 400), RNG.uniform(0, 2, 200), 10 ** RNG.uniform(-8, 8, 100)])
    _same(mt.lgamma(mt.tensor(x)), torch.lgamma(torch.tensor(x)))
    _same(mt.digamma(mt.tensor(x)), torch.digamma(torch.tensor(x)), rtol=1e-12, atol=1e-12)
    for n in (2, 3, 4):
        _same(mt.polygamma(n, mt.tensor(x)), torch.polygamma(n, torch.tensor(x)), rtol=1e-11, atol=1e-12)
    # PyTorch's trigamma stops its series early (relative error up to ~5e-10); microtensor's is
    # accurate to float64 (the op table checks it to 1e-12 against an independent series)
    _same(mt.polygamma(1, mt.tensor(x)), torch.polygamma(1, torch.tensor(x)), rtol=1e-9, atol=1e-12)


def test_gamma_family_special_values_as_pytorch():
    x = np.array([0.0, -0.0, -1.0, -2.0, -1.5, 1e-300, np.inf, -np.inf, np.nan, 1.0, 2.0, 10.0])
    for fn in (
        lambda lib, t: lib.lgamma(t),
        lambda lib, t: lib.digamma(t),
        lambda lib, t: lib.polygamma(1, t),
    ):
        _same(fn(mt, mt.tensor(x)), fn(torch, torch.tensor(x)), rtol=1e-9)
    for n in (2, 3):  # ±inf at the poles and at −inf, as PyTorch (its Hurwitz zeta gives nan at +inf)
        _same(mt.polygamma(n, mt.tensor(x)), torch.polygamma(n, torch.tensor(x)), rtol=1e-11)


def test_gamma_family_gradients_and_dtypes():
    x = RNG.uniform(0.2, 4.0, (3, 2))
    check(torch, mt, lambda lib, x: lib.lgamma(x), x)
    check(torch, mt, lambda lib, x: x.digamma(), x, rtol=1e-9)  # the gradient is trigamma (see above)
    check(torch, mt, lambda lib, x: lib.polygamma(2, x), x, rtol=1e-11)
    check(torch, mt, lambda lib, x: x.polygamma(1), x, rtol=1e-9)
    check(torch, mt, lambda lib, x: lib.mvlgamma(x + 1, 3), x, rtol=1e-11)
    check(torch, mt, lambda lib, x: x.mvlgamma(1), x, rtol=1e-11)
    for fn in (
        lambda lib, t: lib.lgamma(t),
        lambda lib, t: lib.digamma(t),
        lambda lib, t: lib.polygamma(2, t),
    ):
        _same(fn(mt, mt.tensor([1, 2, 3])), fn(torch, torch.tensor([1, 2, 3])), rtol=1e-6)  # int → float32
        _same(fn(mt, mt.tensor([0.5, 2.5])), fn(torch, torch.tensor([0.5, 2.5])), rtol=1e-6)
    x64 = mt.tensor([0.7, 2.5], dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(mt.lgamma(x64).sum(), x64, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), x64)
    t64 = torch.tensor([0.7, 2.5], dtype=torch.float64)
    np.testing.assert_allclose(gg.numpy(), torch.polygamma(1, t64).numpy(), rtol=1e-9)


def test_gamma_family_errors():
    with pytest.raises(RuntimeError, match="polygamma.*negative n"):
        mt.polygamma(-1, mt.ones(2))
    with pytest.raises(TypeError, match="polygamma: n must be an int"):
        mt.polygamma(1.0, mt.ones(2))
    with pytest.raises(RuntimeError, match=r"mvlgamma: all elements must be greater than \(p-1\)/2 = 1.0"):
        mt.mvlgamma(mt.tensor([0.9, 3.0]), 3)
    with pytest.raises(RuntimeError, match="mvlgamma: p has to be greater than or equal to 1"):
        mt.mvlgamma(mt.ones(2), 0)


@given(st.floats(0.05, 50.0), st.integers(0, 4))
def test_polygamma_recurrence(x, n):
    """ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (−1)ⁿ n! / xⁿ⁺¹, across the shift and series boundaries."""
    t = mt.tensor([x, x + 1], dtype=mt.float64)
    lo, hi = mt.polygamma(n, t).tolist()
    expect = lo + (-1) ** n * math.factorial(n) / x ** (n + 1)
    assert hi == pytest.approx(expect, rel=1e-12, abs=1e-12 * abs(lo))


# ------------------------------------------------------------------ gcd, lcm, ldexp, frexp
def test_gcd_lcm_as_pytorch():
    a = np.array([12, -18, 0, 7, 0, -4])
    b = np.array([-8, 12, 5, 0, 0, -6])
    for name in ("gcd", "lcm"):
        _same(
            getattr(mt, name)(mt.tensor(a), mt.tensor(b)),
            getattr(torch, name)(torch.tensor(a), torch.tensor(b)),
        )
        m, t = mt.tensor(a), torch.tensor(a)
        getattr(m, name + "_")(mt.tensor(b))
        getattr(t, name + "_")(torch.tensor(b))
        _same(m, t)
        with pytest.raises(RuntimeError, match=f"{name}: not implemented for dtype float32"):
            getattr(mt, name)(mt.ones(2), mt.ones(2))


def test_ldexp_frexp_as_pytorch():
    x = np.array([1.0, -3.5, 0.3, 1e-3, 0.0, 7.0])
    e = np.array([3, 1, 0, 10, 2, 5])
    check(torch, mt, lambda lib, x, e: lib.ldexp(x, e), x, e)
    # negative exponents: PyTorch 2.13's gradient is 0 there (it takes 2^e in integers); the
    # derivative of x · 2^e in x is 2^e
    xm = mt.tensor(x, requires_grad=True)
    mt.ldexp(xm, mt.tensor(-e)).sum().backward()
    np.testing.assert_array_equal(xm.grad.numpy(), 2.0**-e)
    _same(mt.ldexp(mt.tensor(x), mt.tensor(-e)), torch.ldexp(torch.tensor(x), torch.tensor(-e)))
    check(torch, mt, lambda lib, x: lib.frexp(x), x)
    check(torch, mt, lambda lib, x: x.frexp(), np.array([[8.0, -0.3], [np.inf, np.nan]]), grad=False)
    _same(
        mt.ldexp(mt.tensor([1, 2]), mt.tensor([3, 4])),
        torch.ldexp(torch.tensor([1, 2]), torch.tensor([3, 4])),
    )
    big = mt.ldexp(mt.tensor([1.0], dtype=mt.float64), mt.tensor([1000]))
    assert big.item() == 2.0**1000
    with pytest.raises(RuntimeError, match="frexp: only supports floating-point dtypes"):
        mt.frexp(mt.tensor([1, 2]))


# ------------------------------------------------------------- predicates and conversions
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
def test_predicates_and_conversions_as_pytorch(dtype):
    a = np.array([1, 0, 3]).astype(dtype)
    m, t = mt.tensor(a), torch.tensor(a)
    for name in ("is_signed", "is_inference", "get_device", "is_conj", "is_neg", "is_floating_point"):
        assert getattr(m, name)() == getattr(t, name)(), name
    for name in ("is_cpu", "is_sparse", "is_quantized", "is_meta", "is_mkldnn", "is_nested", "is_cuda"):
        assert getattr(m, name) == getattr(t, name), name
    assert repr(m.layout) == repr(t.layout) == repr(mt.strided)
    for name in ("byte", "char", "short", "int", "long", "bool"):
        _same(getattr(m, name)(), getattr(t, name)())
    assert m.is_same_size(mt.zeros(3)) and not m.is_same_size(mt.zeros(3, 1))
    assert mt.is_signed(m) == torch.is_signed(t) and mt.get_device(m) == -1
    assert m.conj() is m and m.resolve_conj() is m and m.resolve_neg() is m and m.real is m


def test_is_nonzero_as_pytorch():
    for v in ([0.0], [2], [True], 0.0, [[-1.5]]):
        assert mt.tensor(v).is_nonzero() == torch.tensor(v).is_nonzero()
        assert mt.is_nonzero(mt.tensor(v)) == torch.is_nonzero(torch.tensor(v))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        mt.ones(2).is_nonzero()
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        mt.ones(0).is_nonzero()
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        mt.ones(2).imag  # noqa: B018


def test_H_mH_adjoint_as_pytorch():
    check(torch, mt, lambda lib, x: x.H, _r(2, 3))
    check(torch, mt, lambda lib, x: x.mH * 2, _r(4, 2, 3))
    check(torch, mt, lambda lib, x: x.adjoint(), _r(2, 3))
    check(torch, mt, lambda lib, x: lib.adjoint(x), _r(5, 2, 3))
    with pytest.raises(RuntimeError, match=r"tensor.H is only supported on matrices .*Got 3-D"):
        mt.ones(2, 2, 2).H  # noqa: B018
    with pytest.raises(RuntimeError, match=r"tensor.mH is only supported .*Got 1-D"):
        mt.ones(3).mH  # noqa: B018
    with pytest.raises(RuntimeError, match=r"tensor.adjoint\(\) is only supported"):
        mt.ones(3).adjoint()
    v = mt.ones(2, 3)
    v.H[0, 1] = 5.0  # a view, as PyTorch's
    assert v[1, 0].item() == 5.0


# ----------------------------------------------------------------------------- small writes
@pytest.mark.parametrize(
    "shape,wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False), ((2, 5), True), ((3, 3, 3), False)]
)
def test_fill_diagonal_as_pytorch(shape, wrap):
    m, t = mt.zeros(*shape), torch.zeros(*shape)
    assert m.fill_diagonal_(5.0, wrap=wrap) is m
    t.fill_diagonal_(5.0, wrap=wrap)
    _same(m, t)


def test_fill_diagonal_gradient_and_errors():
    x = mt.tensor(_r(3, 3), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    y, ty = x * 2, tx * 2
    y.fill_diagonal_(0.0)
    ty.fill_diagonal_(0.0)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _same(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match="fill_diagonal_: dimensions must be larger than 1"):
        mt.zeros(3).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match=r"fill_diagonal_: all dimensions .* \(2, 3, 2\)"):
        mt.zeros(2, 3, 2).fill_diagonal_(1)


def test_detach_in_place():
    x = mt.ones(2, 3, requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    z = x * 2
    with pytest.raises(RuntimeError, match="detach_: can't detach views in-place"):
        z[0].detach_()
    assert mt.detach(z).requires_grad is False


def test_sum_to_size_as_pytorch():
    check(torch, mt, lambda lib, x: x.sum_to_size(1, 3), _r(2, 3))
    check(torch, mt, lambda lib, x: x.sum_to_size((4, 1, 3)), _r(4, 2, 3))
    check(torch, mt, lambda lib, x: x.sum_to_size(3), _r(2, 3))
    with pytest.raises(RuntimeError, match=r"sum_to_size: size \[2\] is not expandable to size \[2, 3\]"):
        mt.ones(2, 3).sum_to_size(2)


def test_map_and_apply_as_pytorch():
    m, t = mt.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    m.map_(mt.tensor([10.0, 20.0, 30.0]), lambda a, b: a + b)
    t.map_(torch.tensor([10.0, 20.0, 30.0]), lambda a, b: a + b)
    _same(m, t)
    assert m.apply_(lambda a: a * 2) is m
    t.apply_(lambda a: a * 2)
    _same(m, t)
    mi, ti = mt.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 2], [3, 4]])
    mi.map_(mt.tensor([10, 20]), lambda a, b: a * b)
    ti.map_(torch.tensor([10, 20]), lambda a, b: a * b)
    _same(mi, ti)
    _same(mt.tensor([1, 3]).apply_(lambda a: a / 2), torch.tensor([1, 3]).apply_(lambda a: a / 2))
    with pytest.raises(RuntimeError, match="apply_: can't call apply_ on a tensor that requires grad"):
        mt.ones(2, requires_grad=True).apply_(abs)
    with pytest.raises(RuntimeError, match=r"map_: tensor of shape \(3,\) does not broadcast"):
        mt.ones(2).map_(mt.ones(3), max)


# ------------------------------------------------------------- cov, corrcoef, dist, histogram
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is:UserWarning")  # (2, 2), correction 2
@pytest.mark.parametrize("shape", [(3, 6), (1, 5), (6,), (2, 2)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_corrcoef_as_pytorch(shape, correction):
    x = _r(*shape)
    check(torch, mt, lambda lib, x: lib.cov(x, correction=correction), x)
    check(torch, mt, lambda lib, x: x.corrcoef(), x)
    fw, aw = RNG.integers(1, 4, shape[-1]), RNG.uniform(0.2, 2.0, shape[-1])
    check(
        torch, mt, lambda lib, x, f, a: lib.cov(x, correction=correction, fweights=f, aweights=a), x, fw, aw
    )
    check(torch, mt, lambda lib, x, f: lib.cov(x, fweights=f), x, fw)
    check(torch, mt, lambda lib, x, a: x.cov(aweights=a), x, aw)


def test_cov_dtypes_and_errors():
    ints = [[1, 2, 3], [2, 5, 4]]
    _same(mt.cov(mt.tensor(ints)), torch.cov(torch.tensor(ints)), rtol=1e-6)
    _same(mt.corrcoef(mt.tensor(ints)), torch.corrcoef(torch.tensor(ints)), rtol=1e-6)
    with pytest.raises(RuntimeError, match="cov\\(\\): expected input to have two or fewer dimensions"):
        mt.cov(mt.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="cov\\(\\): expected fweights to have integral dtype"):
        mt.cov(mt.ones(2, 3), fweights=mt.ones(3))
    with pytest.raises(
        RuntimeError, match="cov\\(\\): expected aweights to have the same numel .* \\(3\\), but got 2"
    ):
        mt.cov(mt.ones(2, 3), aweights=mt.ones(2))
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert mt.cov(mt.tensor([[1.0, 2.0], [3.0, 5.0]]), correction=2).isinf().all()
    with pytest.raises(RuntimeError, match="cov\\(\\): fweights cannot be negative"):
        mt.cov(mt.ones(2, 3), fweights=mt.tensor([1, -1, 1]))


def test_dist_as_pytorch():
    for p in (2, 1, 3, 0.5, 0, float("inf")):
        grad = p != 0  # (PyTorch's backward of the 0-"norm" fails; microtensor's gradient is 0)
        check(torch, mt, lambda lib, a, b, p=p: lib.dist(a, b, p), _r(3, 4), _r(4), grad=grad)
        check(torch, mt, lambda lib, a, b, p=p: a.dist(b, p=p), _r(2, 1), _r(1, 3), grad=grad)
    with pytest.raises(RuntimeError, match="dist: expected floating point tensors"):
        mt.dist(mt.tensor([1, 2]), mt.tensor([3, 5]))
    with pytest.raises(RuntimeError, match=r"dist: the shapes of input \(2,\) and other \(3,\)"):
        mt.dist(mt.ones(2), mt.ones(3))


@pytest.mark.parametrize(
    "kwargs",
    [{"bins": 4, "range": (0.0, 3.0)}, {"bins": 3}, {"bins": 5, "density": True}, {"bins": 3, "weight": True},
     {"bins": 3, "range": (0.0, 0.3)}, {"bins": 7, "range": (-1.0, 1.0), "density": True, "weight": True}],
)  # fmt: skip
def test_histogram_as_pytorch(kwargs):
    for data in (np.array([1.0, 2.0, 1.0, 5.0, -1.0, 3.0]), np.array([0.1, 0.2, 0.30000001]), _r(50)):
        for dtype in ("float32", "float64"):
            a = data.astype(dtype)
            kw = dict(kwargs)
            wm = wt = None
            if kw.pop("weight", False):
                w = RNG.uniform(0, 2, a.shape).astype(dtype)
                wm, wt = mt.tensor(w), torch.tensor(w)
            hm, em = mt.histogram(mt.tensor(a), weight=wm, **kw)
            ht, et = torch.histogram(torch.tensor(a), weight=wt, **kw)
            _same(em, et, rtol=1e-6)
            _same(hm, ht, rtol=1e-6)


def test_histogram_with_bin_edges_and_errors():
    x = mt.tensor([1.0, 2.0, 1.0, 5.0, -1.0, 1.5])
    edges = [0.0, 1.5, 2.0, 4.0]
    hm = mt.histogram(x, bins=mt.tensor(edges))
    ht = torch.histogram(torch.tensor(x.numpy()), bins=torch.tensor(edges))
    _same(hm.hist, ht.hist)
    _same(hm.bin_edges, ht.bin_edges)
    _same(x.histogram(2).hist, torch.tensor(x.numpy()).histogram(2).hist)
    with pytest.raises(
        RuntimeError, match="histogram: input tensor and bins tensors should have the same float"
    ):
        mt.histogram(mt.tensor([1, 2]), bins=3)
    with pytest.raises(RuntimeError, match="histogram: bins must be > 0"):
        mt.histogram(x, bins=0)
    with pytest.raises(RuntimeError, match="histogram: if weight tensor is provided"):
        mt.histogram(x, bins=2, weight=mt.ones(2))


# ---------------------------------------------------------------------- addr, split variants
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2), (0, 3)])
def test_addr_as_pytorch(beta, alpha):
    check(torch, mt, lambda lib, x, a, b: lib.addr(x, a, b, beta=beta, alpha=alpha), _r(3, 4), _r(3), _r(4))
    check(torch, mt, lambda lib, x, a, b: x.addr(a, b, beta=beta, alpha=alpha), _r(4), _r(3), _r(4))
    m, t = mt.tensor(_r(3, 4)), None
    t = torch.tensor(m.numpy())
    a, b = _r(3), _r(4)
    m.addr_(mt.tensor(a), mt.tensor(b), beta=beta, alpha=alpha)
    t.addr_(torch.tensor(a), torch.tensor(b), beta=beta, alpha=alpha)
    _same(m, t)
    with pytest.raises(RuntimeError, match="outer: vec2 must be a 1-D tensor"):
        mt.addr(mt.ones(3, 4), mt.ones(3), mt.ones(4, 1))


@pytest.mark.parametrize(
    "name,shape", [("hsplit", (6,)), ("hsplit", (2, 6, 1)), ("vsplit", (6, 2)), ("dsplit", (1, 2, 6))]
)
@pytest.mark.parametrize("cut", [2, 3, [1, 4], [2, 2, 5]])
def test_split_variants_as_pytorch(name, shape, cut):
    check(torch, mt, lambda lib, x: getattr(lib, name)(x, cut), _r(*shape))
    check(torch, mt, lambda lib, x: getattr(x, name)(cut), _r(*shape))


def test_split_variants_errors():
    with pytest.raises(
        RuntimeError, match="hsplit attempted to split along dimension 1, but the size of the dimension 4"
    ):
        mt.hsplit(mt.ones(2, 4), 3)
    with pytest.raises(RuntimeError, match="vsplit requires a tensor with at least 2 dimension"):
        mt.vsplit(mt.ones(4), 2)
    with pytest.raises(RuntimeError, match="dsplit requires a tensor with at least 3 dimension"):
        mt.dsplit(mt.ones(4, 2), 2)


# ------------------------------------------------------- *_scatter, index_reduce, as_strided
SCATTERS = [
    ("select_scatter", (3, 4), (4,), {"dim": 0, "index": -1}),
    ("select_scatter", (3, 4, 2), (3, 2), {"dim": 1, "index": 2}),
    ("slice_scatter", (3, 4), (3, 2), {"dim": 1, "start": 0, "end": 4, "step": 2}),
    ("slice_scatter", (5, 2), (2, 2), {"start": 3}),
    ("slice_scatter", (5, 2), (2, 2), {"start": -4, "end": -2}),
    ("diagonal_scatter", (3, 4), (3,), {"offset": 1}),
    ("diagonal_scatter", (4, 3), (2,), {"offset": -2}),
    ("diagonal_scatter", (2, 3, 3), (3, 2), {"offset": 0, "dim1": 0, "dim2": 2}),
]


@pytest.mark.parametrize("name,shape,src_shape,kw", SCATTERS)
def test_scatter_variants_as_pytorch(name, shape, src_shape, kw):
    check(torch, mt, lambda lib, x, s: getattr(lib, name)(x, s, **kw), _r(*shape), _r(*src_shape))
    check(torch, mt, lambda lib, x, s: getattr(x, name)(s, **kw), _r(*shape), _r(*src_shape))


def test_scatter_variants_dtypes_and_errors():
    x32 = np.zeros((3, 4), np.float32)
    _same(
        mt.select_scatter(mt.tensor(x32), mt.ones(3, dtype=mt.float64), 1, 0),
        torch.select_scatter(torch.tensor(x32), torch.ones(3, dtype=torch.float64), 1, 0),
    )
    with pytest.raises(
        RuntimeError, match=r"slice_scatter\(\): expected src to have a size equal to the slice"
    ):
        mt.slice_scatter(mt.zeros(3, 4), mt.ones(3, 1), 1, 0, 2)
    with pytest.raises(
        RuntimeError, match=r"diagonal_scatter\(\): expected src .* src size = \[2\], slice size = \[3\]"
    ):
        mt.diagonal_scatter(mt.zeros(3, 4), mt.ones(2))
    with pytest.raises(IndexError, match=r"select_scatter\(\): index 3 out of range"):
        mt.select_scatter(mt.zeros(3, 4), mt.ones(4), 0, 3)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_as_pytorch(reduce, include_self):
    idx = np.array([0, 4, 2, 0])
    x, src = _r(5, 3), _r(4, 3)
    check(
        torch,
        mt,
        lambda lib, x, i, s: x.index_reduce(0, i, s, reduce, include_self=include_self),
        x,
        idx,
        src,
    )
    check(
        torch,
        mt,
        lambda lib, x, i, s: lib.index_reduce(x, 1, i, s, reduce, include_self=include_self),
        x.T.copy(),
        idx,
        src.T.copy(),
    )
    m, t = mt.tensor(x), torch.tensor(x)
    m.index_reduce_(0, mt.tensor(idx), mt.tensor(src), reduce, include_self=include_self)
    t.index_reduce_(0, torch.tensor(idx), torch.tensor(src), reduce, include_self=include_self)
    _same(m, t)


def test_index_reduce_errors():
    with pytest.raises(
        RuntimeError,
        match="index_reduce\\(\\): Expected reduce to be one of prod, mean, amax or amin but got sum",
    ):
        mt.ones(3).index_reduce(0, mt.tensor([0]), mt.ones(1), "sum")
    with pytest.raises(RuntimeError, match="index_reduce\\(\\): index has 2 entries but source has 3 slices"):
        mt.ones(3, 2).index_reduce(0, mt.tensor([0, 1]), mt.ones(3, 2), "prod")


@pytest.mark.parametrize(
    "shape,size,stride,offset",
    [((6,), (2, 2), (1, 2), None), ((6,), (2,), (2,), 1), ((2, 3), (3, 2), (1, 3), 0),
     ((4, 4), (3, 3), (4, 1), 1), ((2, 3), (2, 2), (0, 1), 2), ((5,), (0, 3), (1, 1), None)],
)  # fmt: skip
def test_as_strided_as_pytorch(shape, size, stride, offset):
    check(torch, mt, lambda lib, x: x.as_strided(size, stride, offset), _r(*shape))
    check(torch, mt, lambda lib, x: lib.as_strided(x, size, stride, offset) * 2, _r(*shape))


def test_as_strided_errors_and_copy_semantics():
    x = mt.arange(6.0)
    with pytest.raises(
        RuntimeError, match=r"as_strided: sizes \[3, 3\], strides \[3, 1\], storage offset 0 require 9"
    ):
        x.as_strided((3, 3), (3, 1))
    with pytest.raises(RuntimeError, match="as_strided: Negative strides are not supported"):
        x.as_strided((2,), (-1,))
    with pytest.raises(RuntimeError, match="as_strided: input of shape \\(3, 2\\) .* is not contiguous"):
        x.reshape(2, 3).t().as_strided((2,), (1,))
    y = x.as_strided((2,), (2,))
    y[0] = 100.0  # a copy: input is left alone (microtensor's read-only semantics)
    assert x[0].item() == 0.0


# ---------------------------------------------------------------------- quantile, nanquantile
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_values_shapes_and_gradients(name, interpolation):
    a = RNG.permutation(60).reshape(3, 4, 5) / 7.0  # distinct values: no ties in the sort
    nan = a.copy()
    nan[0, 1, 2] = np.nan
    nan[1, 2, :] = np.nan
    for q in (0.3, [0.0, 0.25, 1.0]):
        for dim in (None, 0, -1):
            for keepdim in (False, True):

                def fn(lib, x, q=q, dim=dim, keepdim=keepdim):
                    qq = lib.tensor(q, dtype=x.dtype) if isinstance(q, list) else q
                    return getattr(lib, name)(x, qq, dim, keepdim, interpolation=interpolation)

                check(torch, mt, fn, a)
                check(torch, mt, fn, nan, grad=False)
    check(torch, mt, lambda lib, x: getattr(x, name)(0.75, dim=1, interpolation=interpolation), a)


def test_quantile_edge_cases_and_errors():
    for v in (3.0, [2.0], [[1.0, 2.0]]):
        _same(mt.quantile(mt.tensor(v), 0.5), torch.quantile(torch.tensor(v), 0.5))
        _same(mt.quantile(mt.tensor(v), 0.5, 0, True), torch.quantile(torch.tensor(v), 0.5, 0, True))
    _same(
        mt.nanquantile(mt.tensor([float("nan")] * 3), 0.5),
        torch.nanquantile(torch.tensor([float("nan")] * 3), 0.5),
    )
    with pytest.raises(RuntimeError, match="quantile\\(\\) input tensor must be either float or double"):
        mt.quantile(mt.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="quantile\\(\\) q values must be in the range \\[0, 1\\]"):
        mt.quantile(mt.tensor([1.0, 2.0]), 1.5)
    with pytest.raises(RuntimeError, match="nanquantile\\(\\) q tensor must be same dtype"):
        mt.nanquantile(mt.tensor([1.0, 2.0]), mt.tensor([0.5], dtype=mt.float64))
    with pytest.raises(RuntimeError, match="quantile\\(\\) interpolation must be one of"):
        mt.quantile(mt.tensor([1.0, 2.0]), 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="quantile\\(\\) input tensor must be non-empty"):
        mt.quantile(mt.ones(0), 0.5)


# ------------------------------------------- renorm, nextafter, split_with_sizes, unsafe_*, narrow_copy
@pytest.mark.parametrize("p", [2, 1, 3.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm_as_pytorch(p, dim):
    a = _r(3, 4, 2)
    check(torch, mt, lambda lib, x: x.renorm(p, dim, 1.0), a)
    check(torch, mt, lambda lib, x: lib.renorm(x, p, dim, 0.5), a)
    m, t = mt.tensor(a), torch.tensor(a)
    m.renorm_(p, dim, 1.0)
    t.renorm_(p, dim, 1.0)
    _same(m, t)


def test_renorm_errors():
    with pytest.raises(RuntimeError, match="renorm: non-positive-norm not supported"):
        mt.ones(2, 2).renorm(0, 0, 1.0)
    with pytest.raises(RuntimeError, match="renorm: expected maxnorm to be >= 0"):
        mt.ones(2, 2).renorm(2, 0, -1.0)
    with pytest.raises(RuntimeError, match="renorm: input needs at least 2 dimensions"):
        mt.ones(2).renorm(2, 0, 1.0)


def test_nextafter_as_pytorch():
    for dtype in ("float32", "float64"):
        a = np.array([1.0, 0.0, -1.0, 2.0]).astype(dtype)
        b = np.array([2.0, -1.0, -1.0, 0.0]).astype(dtype)
        _same(
            mt.nextafter(mt.tensor(a), mt.tensor(b)), torch.nextafter(torch.tensor(a), torch.tensor(b)), 0, 0
        )
        m, t = mt.tensor(a), torch.tensor(a)
        m.nextafter_(mt.tensor(b))
        t.nextafter_(torch.tensor(b))
        _same(m, t, 0, 0)
    with pytest.raises(RuntimeError, match="nextafter: expected both inputs to have the same floating dtype"):
        mt.nextafter(mt.ones(2), mt.ones(2, dtype=mt.float64))


def test_split_aliases_and_narrow_copy_as_pytorch():
    a = _r(5, 3)
    check(torch, mt, lambda lib, x: x.split_with_sizes([2, 3]), a)
    check(torch, mt, lambda lib, x: lib.split_with_sizes(x, [1, 2], dim=1), a)
    check(torch, mt, lambda lib, x: x.unsafe_split(2), a)
    check(torch, mt, lambda lib, x: lib.unsafe_split_with_sizes(x, [4, 1]), a)
    check(torch, mt, lambda lib, x: x.unsafe_chunk(3, 1), a)
    check(torch, mt, lambda lib, x: x.narrow_copy(1, 1, 2), a)
    check(torch, mt, lambda lib, x: lib.narrow_copy(x, 0, 2, 3), a)
    m = mt.arange(5.0)
    c = m.narrow_copy(0, 1, 2)
    c[0] = 100.0  # its own storage
    assert m[1].item() == 1.0
    with pytest.raises(
        RuntimeError, match="split: split_sizes \\[2, 2\\] must be non-negative and sum to the size 5"
    ):
        mt.ones(5).split_with_sizes([2, 2])


# ----------------------------------------------------------- in-place shape changes (squeeze_, ...)
SHAPE_IN_PLACE = [
    ("squeeze_", (2, 1, 3), ()),
    ("squeeze_", (2, 1, 3), (1,)),
    ("unsqueeze_", (2, 3), (-1,)),
    ("transpose_", (2, 3, 4), (0, 2)),
    ("swapaxes_", (2, 3), (0, 1)),
    ("swapdims_", (2, 3, 1), (1, 2)),
    ("t_", (2, 3), ()),
    ("t_", (3,), ()),
]


@pytest.mark.parametrize("name,shape,args", SHAPE_IN_PLACE)
def test_in_place_shape_changes_as_pytorch(name, shape, args):
    a = _r(*shape)
    m, t = mt.tensor(a), torch.tensor(a)
    assert getattr(m, name)(*args) is m
    getattr(t, name)(*args)
    _same(m, t)
    assert m.stride() == t.stride()
    # recorded on a non-leaf: the gradient flows back through the new shape
    lm, lt = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ym, yt = lm * 2, lt * 2
    getattr(ym, name)(*args)
    getattr(yt, name)(*args)
    w = _r(*yt.shape)
    (ym * mt.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _same(lm.grad, lt.grad)


def test_in_place_shape_changes_refusals():
    leaf = mt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="unsqueeze_: a leaf Variable that requires grad"):
        leaf.unsqueeze_(0)
    with mt.no_grad():
        leaf.unsqueeze_(0)  # as PyTorch: allowed without recording
    assert leaf.shape == (1, 2, 3)
    x = mt.ones(2, 3)
    v = x[0]
    with pytest.raises(
        RuntimeError, match="t_: not supported by microtensor on a view or on a tensor that has live views"
    ):
        x.t_()
    with pytest.raises(RuntimeError, match="squeeze_: not supported by microtensor on a view"):
        v.squeeze_()
    with pytest.raises(RuntimeError, match="t\\(\\): expects a tensor with <= 2 dimensions"):
        mt.ones(2, 3, 4).t_()


def test_bernoulli_and_multinomial_methods_draw_pytorchs_numbers():
    p = [[0.2, 0.7, 0.5], [0.9, 0.1, 0.4]]
    mt.manual_seed(3)
    torch.manual_seed(3)
    assert mt.tensor(p).bernoulli().tolist() == torch.tensor(p).bernoulli().tolist()
    assert mt.tensor(p).bernoulli(0.3).tolist() == torch.tensor(p).bernoulli(0.3).tolist()
    assert mt.tensor(p).multinomial(2).tolist() == torch.tensor(p).multinomial(2).tolist()
    assert mt.tensor(p).multinomial(4, True).tolist() == torch.tensor(p).multinomial(4, True).tolist()


def test_post_accumulate_grad_hook_steps_an_optimizer_in_backward_as_pytorch():
    """The optimizer-in-backward pattern: each parameter updates itself once its grad is in."""
    results = []
    for lib in (mt, torch):
        gen = np.random.default_rng(1)
        w = lib.tensor(gen.standard_normal((3, 2)), requires_grad=True)
        b = lib.tensor(gen.standard_normal(2), requires_grad=True)
        seen = []

        def step(p, lib=lib, seen=seen):
            seen.append(tuple(p.shape))
            with lib.no_grad():
                p.sub_(0.1 * p.grad)
            p.grad = None

        handles = [p.register_post_accumulate_grad_hook(step) for p in (w, b)]
        x = lib.tensor(gen.standard_normal((4, 3)))
        for _ in range(3):
            ((x @ w + b) ** 2).sum().backward()
        handles[1].remove()
        ((x @ w + b) ** 2).sum().backward()
        assert sorted(seen) == sorted([(3, 2), (2,)] * 3 + [(3, 2)])
        results.append((w.detach().numpy().copy(), b.detach().numpy().copy(), b.grad.numpy().copy()))
    for m, t in zip(*results):
        np.testing.assert_allclose(m, t, rtol=1e-12)


def test_post_accumulate_grad_hook_refusals():
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
        (mt.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.ones(2).register_post_accumulate_grad_hook(print)


def test_storage_facts_as_pytorch():
    m, t = mt.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for fn in (lambda x: x, lambda x: x[1:], lambda x: x[:, 2], lambda x: x.t(), lambda x: x[2, 1:]):
        assert fn(m).storage_offset() == fn(t).storage_offset()
        assert fn(m).data_ptr() - m.data_ptr() == fn(t).data_ptr() - t.data_ptr()
    for fn in (
        lambda x: x,
        lambda x: x.view(3, 4),
        lambda x: x[:],
        lambda x: x.t(),
        lambda x: x[1:],
        lambda x: x.clone(),
    ):
        assert m.is_set_to(fn(m)) == t.is_set_to(fn(t))
    assert m.is_shared() is False
