"""Losses: gradients against their hand-derived closed forms (Hypothesis, float64), finite
differences to second order, numerical stability, PyTorch's weighting rules, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def leaf(a) -> mt.Tensor:
    return mt.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def const(a) -> mt.Tensor:
    return mt.tensor(np.asarray(a, dtype=np.float64))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def backward_with(loss: mt.Tensor, reduction: str, per_shape, rng) -> np.ndarray:
    """Backpropagate (a random grad_output for 'none') and return the factor G of shape per_shape
    (the per-element loss's) such that the expected gradient is G · d(per-element loss):
    1/m for 'mean', 1 for 'sum', grad_output for 'none'."""
    if reduction == "none":
        g = rng.standard_normal(loss.shape)
        loss.backward(mt.tensor(g))
        return g
    loss.backward()
    m = int(np.prod(per_shape)) if reduction == "mean" else 1
    return np.full(per_shape, 1.0 / m)


def float_arrays(shape, lo, hi):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


@st.composite
def matrices(draw, lo=-4.0, hi=4.0, min_cols=1):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(min_cols, 5))
    return draw(float_arrays((n, c), lo, hi))


@st.composite
def class_problems(draw):
    """Logits (N, C) and integer targets (N,)."""
    logits = draw(matrices(-6.0, 6.0, min_cols=2))
    n, c = logits.shape
    target = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return logits, target


# ----------------------------------------------------- closed-form gradients
@given(matrices(0.02, 0.98), st.data(), st.sampled_from(REDUCTIONS))
def test_bce_gradient_is_p_minus_y_over_p_one_minus_p_over_m(p, data, reduction):
    y = data.draw(float_arrays(p.shape, 0.0, 1.0))
    rng = np.random.default_rng(p.size)
    x, t = leaf(p), leaf(y)
    loss = F.binary_cross_entropy(x, t, reduction=reduction)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    G = backward_with(loss, reduction, p.shape, rng)
    np.testing.assert_allclose(x.grad.numpy(), G * (p - y) / (p * (1 - p)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), G * (np.log(1 - p) - np.log(p)), rtol=1e-9, atol=1e-12)


@given(matrices(-30.0, 30.0), st.data(), st.sampled_from(REDUCTIONS))
def test_bce_with_logits_gradient_is_sigmoid_minus_y_over_m(z, data, reduction):
    y = data.draw(float_arrays(z.shape, 0.0, 1.0))
    rng = np.random.default_rng(z.size)
    x, t = leaf(z), leaf(y)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    per = np.logaddexp(0, z) - z * y  # log(1 + e^z) − z·y
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-12, atol=1e-13)
    G = backward_with(loss, reduction, z.shape, rng)
    np.testing.assert_allclose(x.grad.numpy(), G * (sigmoid(z) - y), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), -G * z, rtol=1e-12, atol=1e-14)


@given(class_problems(), st.sampled_from(REDUCTIONS))
def test_softmax_cross_entropy_gradient_is_p_minus_onehot_over_m(problem, reduction):
    z, target = problem
    n, c = z.shape
    rng = np.random.default_rng(z.size)
    x = leaf(z)
    loss = F.cross_entropy(x, mt.tensor(target), reduction=reduction)
    p = softmax(z)
    onehot = np.eye(c)[target]
    per = -np.log(p[np.arange(n), target])
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    G = backward_with(loss, reduction, (n,), rng)
    np.testing.assert_allclose(x.grad.numpy(), G[:, None] * (p - onehot), rtol=1e-10, atol=1e-13)


@given(matrices(-6.0, 6.0, min_cols=2), st.data(), st.sampled_from(REDUCTIONS))
def test_cross_entropy_with_probability_targets(z, data, reduction):
    y = data.draw(float_arrays(z.shape, 0.0, 1.0))  # not normalised: the general formula
    n = z.shape[0]
    rng = np.random.default_rng(z.size)
    x, t = leaf(z), leaf(y)
    loss = F.cross_entropy(x, t, reduction=reduction)
    p = softmax(z)
    per = -(y * np.log(p)).sum(1)
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    G = backward_with(loss, reduction, (n,), rng)[:, None]
    # d/dz of −Σ_c y_c log softmax(z)_c = softmax(z)·Σ_c y_c − y   (= p − y for rows summing to 1)
    np.testing.assert_allclose(x.grad.numpy(), G * (p * y.sum(1, keepdims=True) - y), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), -G * np.log(p), rtol=1e-10, atol=1e-12)


@given(class_problems(), st.sampled_from(REDUCTIONS))
def test_nll_loss_gradient_is_minus_onehot_over_m(problem, reduction):
    z, target = problem
    n, c = z.shape
    logp = np.log(softmax(z))
    rng = np.random.default_rng(z.size)
    x = leaf(logp)
    loss = F.nll_loss(x, mt.tensor(target), reduction=reduction)
    per = -logp[np.arange(n), target]
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-12)
    G = backward_with(loss, reduction, (n,), rng)
    np.testing.assert_allclose(x.grad.numpy(), -G[:, None] * np.eye(c)[target], rtol=1e-12)


@given(matrices(-5.0, 5.0), st.data(), st.sampled_from(REDUCTIONS))
def test_mse_gradient_is_two_diff_over_m(a, data, reduction):
    b = data.draw(float_arrays(a.shape, -5.0, 5.0))
    rng = np.random.default_rng(a.size)
    x, t = leaf(a), leaf(b)
    loss = F.mse_loss(x, t, reduction=reduction)
    per = (a - b) ** 2
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    G = backward_with(loss, reduction, a.shape, rng)
    np.testing.assert_allclose(x.grad.numpy(), 2 * G * (a - b), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), -2 * G * (a - b), rtol=1e-12, atol=1e-14)


# ------------------------------------------- finite differences, 1st and 2nd order
def _loss_cases():
    rng = np.random.default_rng(42)
    z = rng.standard_normal((3, 4))
    p = 0.1 + 0.8 * rng.random((3, 4))
    y = rng.random((3, 4))
    t = mt.tensor(np.array([0, 3, 1]))
    w = const([0.5, 1.0, 2.0, 1.5])
    t_ign = mt.tensor(np.array([0, -100, 2]))
    t_k = mt.tensor(rng.integers(0, 4, (3, 2)))
    zk = rng.standard_normal((3, 4, 2))
    logp = np.log(softmax(z))
    return {
        # name: (fn(reduction) -> f(*inputs), inputs, which inputs require grad)
        "mse": (lambda r: lambda a, b: F.mse_loss(a, b, reduction=r), [z, y], [True, True]),
        "bce": (lambda r: lambda a, b: F.binary_cross_entropy(a, b, reduction=r), [p, y], [True, True]),
        "bce_weight": (
            lambda r: lambda a, b: F.binary_cross_entropy(a, b, weight=const(y + 0.5), reduction=r),
            [p, y],
            [True, True],
        ),
        "bce_logits": (
            lambda r: lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=r),
            [z, y],
            [True, True],
        ),
        "bce_logits_pos_weight": (
            lambda r: lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=r, pos_weight=w),
            [z, y],
            [True, True],
        ),
        "cross_entropy": (lambda r: lambda a: F.cross_entropy(a, t, reduction=r), [z], [True]),
        "cross_entropy_weight_ignore": (
            lambda r: lambda a: F.cross_entropy(a, t_ign, weight=w, reduction=r),
            [z],
            [True],
        ),
        "cross_entropy_kdim": (lambda r: lambda a: F.cross_entropy(a, t_k, reduction=r), [zk], [True]),
        "cross_entropy_probs": (
            lambda r: lambda a, b: F.cross_entropy(a, b, reduction=r),
            [z, y],
            [True, True],
        ),
        "cross_entropy_smoothing": (
            lambda r: lambda a: F.cross_entropy(a, t_ign, weight=w, reduction=r, label_smoothing=0.2),
            [z],
            [True],
        ),
        "nll": (lambda r: lambda a: F.nll_loss(a, t_ign, weight=w, reduction=r), [logp], [True]),
    }


LOSS_CASES = _loss_cases()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_gradcheck_and_gradgradcheck(name, reduction):
    make, arrays, grads = LOSS_CASES[name]
    fn = make(reduction)
    inputs = [leaf(a) if g else const(a) for a, g in zip(arrays, grads)]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_gradcheck_really_checks_the_loss():
    """A sanity check on the checker itself: a wrong backward is caught."""

    class WrongBCE(mt.autograd.Function):
        @staticmethod
        def forward(ctx, p):
            ctx.save_for_backward(p)
            return F.binary_cross_entropy(p, mt.full(p.shape, 0.3, dtype=mt.float64))

        @staticmethod
        def backward(ctx, g):
            (p,) = ctx.saved_tensors
            return g * (p - 0.3)  # forgot the 1/(p(1−p)) and the 1/m

    p = leaf([0.2, 0.6, 0.9])
    with pytest.raises(mt.autograd.GradcheckError):
        gradcheck(WrongBCE.apply, [p])


# ---------------------------------------------------------------- stability
def test_bce_with_logits_is_finite_and_exact_for_huge_logits():
    z = leaf([[1e4, -1e4], [-1e4, 1e4], [1e4, -1e4]])
    y = const([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    # wrong-side logits cost |z|; right-side ones cost log(1 + e^−1e4) = 0
    np.testing.assert_array_equal(loss.detach().numpy(), [[1e4, 1e4], [1e4, 1e4], [0.0, 0.0]])
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[1.0, -1.0], [-1.0, 1.0], [0.0, 0.0]])
    z32 = mt.tensor([1e4, -1e4], requires_grad=True)
    out = F.binary_cross_entropy_with_logits(z32, mt.tensor([0.0, 0.0]), reduction="sum")
    out.backward()
    assert out.item() == 1e4 and np.all(np.isfinite(z32.grad.numpy()))
    zp = leaf([1e4, -1e4])
    out = F.binary_cross_entropy_with_logits(
        zp, const([0.0, 1.0]), pos_weight=const([2.0, 3.0]), reduction="none"
    )
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), [1e4, 3e4])
    np.testing.assert_array_equal(zp.grad.numpy(), [1.0, -3.0])


def test_cross_entropy_is_finite_and_exact_for_huge_logits():
    z = leaf([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4]])
    target = mt.tensor(np.array([1, 1, 2]))
    loss = F.cross_entropy(z, target, reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [2e4, 0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    zp = leaf([[1e4, -1e4, 0.0]])
    out = F.cross_entropy(zp, const([[0.0, 1.0, 0.0]]))
    out.backward()
    assert out.item() == 2e4
    np.testing.assert_array_equal(zp.grad.numpy(), [[1.0, -1.0, 0.0]])
    big = mt.tensor([[3e38, -3e38]], requires_grad=True)  # float32 near its max
    assert np.isfinite(F.cross_entropy(big, mt.tensor(np.array([0]))).item())


def test_bce_clamps_the_log_at_minus_100():
    p = leaf([0.0, 1.0, 0.0, 1.0, 1e-50])
    y = const([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0, 100.0])
    assert F.binary_cross_entropy(const([0.0, 0.0]), const([1.0, 1.0])).item() == 100.0
    loss.sum().backward()
    g = p.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[:4], [-1e12, 1e12, 0.0, 0.0])  # (p − y) / max(p(1 − p), 1e-12)


# ---------------------------------------------------- weights and ignore_index
def _weighted_nll(logp, target, weight, ignore_index, reduction):
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    w = np.where(keep, weight[safe], 0.0)
    per = -w * logp[np.arange(len(target)), safe]
    if reduction == "none":
        return per
    return per.sum() / w.sum() if reduction == "mean" else per.sum()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_weights_and_ignore_index_follow_pytorch(reduction, rng):
    z = rng.standard_normal((6, 4))
    logp = np.log(softmax(z))
    target = np.array([0, 3, -100, 2, 3, -100])
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    expected = _weighted_nll(logp, target, weight, -100, reduction)
    for fn, inp in ((F.cross_entropy, z), (F.nll_loss, logp)):
        x = leaf(inp)
        out = fn(x, mt.tensor(target), weight=const(weight), reduction=reduction)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
        out.sum().backward()
        assert np.all(x.grad.numpy()[target == -100] == 0)  # ignored rows get no gradient
    # 'mean' divides by the total weight of the non-ignored targets: 0.5 + 3 + 1 + 3 = 7.5
    if reduction == "mean":
        s = F.cross_entropy(const(z), mt.tensor(target), weight=const(weight), reduction="sum").item()
        m = F.cross_entropy(const(z), mt.tensor(target), weight=const(weight)).item()
        assert m == pytest.approx(s / 7.5, rel=1e-14)
    # a custom ignore_index, without weights: mean over the remaining rows
    t2 = np.array([1, 1, 0, 2, 1, 3])
    out = F.cross_entropy(const(z), mt.tensor(t2), ignore_index=1, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), _weighted_nll(logp, t2, np.ones(4), 1, reduction), rtol=1e-12)


def test_every_target_ignored_gives_nan_mean_and_zero_sum_as_pytorch():
    z = const(np.zeros((2, 3)))
    t = mt.tensor(np.array([-100, -100]))
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(F.cross_entropy(z, t).item())
    assert F.cross_entropy(z, t, reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_label_smoothing_matches_its_formula(reduction, rng):
    z = rng.standard_normal((5, 4))
    target = np.array([0, 3, 1, -100, 2])
    eps, c = 0.1, 4
    logp = np.log(softmax(z))
    keep = target != -100
    nll = _weighted_nll(logp, target, np.ones(c), -100, reduction)
    smooth = np.where(keep, -logp.sum(1), 0.0)
    smooth = {"mean": smooth.sum() / keep.sum(), "sum": smooth.sum(), "none": smooth}[reduction]
    out = F.cross_entropy(const(z), mt.tensor(target), reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(out.numpy(), (1 - eps) * nll + eps / c * smooth, rtol=1e-12)
    # with probability targets, smoothing mixes the target with the uniform distribution
    y = softmax(rng.standard_normal((5, 4)))
    out = F.cross_entropy(const(z), const(y), label_smoothing=eps)
    ys = y * (1 - eps) + eps / c
    assert out.item() == pytest.approx(-(ys * logp).sum(1).mean(), rel=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_k_dimensional_cross_entropy_equals_flattened_rows(reduction, rng):
    z = rng.standard_normal((3, 4, 5))  # (N, C, d1)
    target = rng.integers(0, 4, (3, 5))
    target[0, 2] = -100
    weight = np.array([1.0, 2.0, 0.5, 1.5])
    x = leaf(z)
    out = F.cross_entropy(x, mt.tensor(target), weight=const(weight), reduction=reduction)
    rows = z.transpose(0, 2, 1).reshape(-1, 4)
    expected = _weighted_nll(np.log(softmax(rows)), target.reshape(-1), weight, -100, reduction)
    if reduction == "none":
        assert out.shape == (3, 5)
        expected = expected.reshape(3, 5)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    out.sum().backward()
    assert x.grad.shape == (3, 4, 5) and np.all(x.grad.numpy()[0, :, 2] == 0)


def test_single_sample_1d_input():
    z = np.array([1.0, 2.0, 0.5])
    out = F.cross_entropy(const(z), mt.tensor(np.array(1)))
    assert out.shape == () and out.item() == pytest.approx(-np.log(softmax(z)[1]), rel=1e-14)


def test_bce_weight_and_pos_weight(rng):
    z = rng.standard_normal((4, 3))
    y = (rng.random((4, 3)) > 0.5).astype(np.float64)
    w = rng.random(3) + 0.5
    pw = np.array([1.0, 2.0, 4.0])
    out = F.binary_cross_entropy_with_logits(const(z), const(y), weight=const(w), pos_weight=const(pw))
    s = sigmoid(z)
    expected = (-w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))).mean()
    assert out.item() == pytest.approx(expected, rel=1e-12)
    out = F.binary_cross_entropy(const(s), const(y), weight=const(w), reduction="sum")
    assert out.item() == pytest.approx((-w * (y * np.log(s) + (1 - y) * np.log(1 - s))).sum(), rel=1e-12)


def test_mse_weight_mean_divides_by_total_weight(rng):
    a, b, w = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.random((3, 2))
    out = F.mse_loss(const(a), const(b), weight=const(w))
    assert out.item() == pytest.approx((w * (a - b) ** 2).sum() / w.sum(), rel=1e-13)


# -------------------------------------------------------------- modules
def test_loss_modules_equal_their_functions(rng):
    z = rng.standard_normal((4, 3))
    y = rng.random((4, 3))
    t = mt.tensor(np.array([0, 2, 1, 1]))
    w = const([1.0, 2.0, 0.5])
    pairs = [
        (nn.MSELoss(reduction="sum")(const(z), const(y)), F.mse_loss(const(z), const(y), reduction="sum")),
        (nn.BCELoss()(const(sigmoid(z)), const(y)), F.binary_cross_entropy(const(sigmoid(z)), const(y))),
        (
            nn.BCEWithLogitsLoss(pos_weight=w)(const(z), const(y)),
            F.binary_cross_entropy_with_logits(const(z), const(y), pos_weight=w),
        ),
        (
            nn.CrossEntropyLoss(weight=w, ignore_index=2, label_smoothing=0.1)(const(z), t),
            F.cross_entropy(const(z), t, weight=w, ignore_index=2, label_smoothing=0.1),
        ),
        (nn.NLLLoss(reduction="none")(const(z), t), F.nll_loss(const(z), t, reduction="none")),
    ]
    for a, b in pairs:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # class weights are buffers, so they appear in state_dict as in PyTorch
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


def test_deprecated_size_average_and_reduce_map_to_reduction():
    z, y = const([[1.0, 2.0], [3.0, 5.0]]), const([[0.0, 0.0], [0.0, 0.0]])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(z, y, False).item() == 39.0  # size_average=False, in PyTorch's position
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.mse_loss(z, y, reduce=False).shape == (2, 2)
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False)(z, y).item() == 39.0


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "fn",
    [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
    ids=["mse", "bce", "bce_logits"],
)
def test_target_shape_mismatch_is_an_error_not_a_broadcast(fn):
    x = const(np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        fn(x, const(np.zeros(4)))  # the (N,) vs (N, 1) trap would broadcast to (4, 4)
    with pytest.raises(ValueError, match="shape"):
        fn(const(np.full(4, 0.5)), const(np.zeros((4, 1))))


def test_class_target_shape_errors():
    z = const(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"expected target of shape \(4,\).*got \(4, 1\)"):
        F.cross_entropy(z, mt.tensor(np.zeros((4, 1), np.int64)))
    with pytest.raises(ValueError, match="shape"):
        F.nll_loss(z, mt.tensor(np.zeros(5, np.int64)))
    with pytest.raises(ValueError, match="probability targets"):
        F.cross_entropy(z, const(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(z, mt.tensor(np.zeros(4, np.int64)), weight=const([1.0, 2.0]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [3, 7, -1, -5])
def test_out_of_range_class_index_is_an_index_error(fn, bad):
    t = mt.tensor(np.array([0, bad, 1]))
    with pytest.raises(IndexError, match=f"target {bad} is out of bounds for 3 classes"):
        fn(const(np.zeros((3, 3))), t)


def test_float_class_indices_are_rejected_for_nll():
    with pytest.raises(RuntimeError, match="integer"):
        F.nll_loss(const(np.zeros((2, 3))), const([0.0, 1.0]))


@pytest.mark.parametrize("bad", [-0.01, 1.01, np.nan])
def test_bce_input_outside_unit_interval_is_an_error(bad):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(const([0.5, bad]), const([1.0, 0.0]))


@pytest.mark.parametrize(
    "call",
    [
        lambda r: F.mse_loss(const([1.0]), const([0.0]), reduction=r),
        lambda r: F.binary_cross_entropy(const([0.5]), const([0.0]), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(const([0.5]), const([0.0]), reduction=r),
        lambda r: F.cross_entropy(const([[0.5, 1.0]]), mt.tensor(np.array([1])), reduction=r),
        lambda r: F.cross_entropy(const([[0.5, 1.0]]), const([[0.5, 0.5]]), reduction=r),
        lambda r: F.nll_loss(const([[0.5, 1.0]]), mt.tensor(np.array([1])), reduction=r),
        lambda r: nn.MSELoss(reduction=r),
        lambda r: nn.CrossEntropyLoss(reduction=r),
    ],
)
def test_bad_reduction_string_is_a_value_error(call):
    with pytest.raises(ValueError, match="reduction.*'avg'"):
        call("avg")


def test_bad_label_smoothing_is_a_value_error():
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(const([[0.5, 1.0]]), mt.tensor(np.array([1])), label_smoothing=1.5)


def test_float32_inputs_give_float32_losses_whatever_the_weights_dtype():
    z = mt.tensor(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], np.float32), requires_grad=True)
    y = mt.tensor(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32))
    t = mt.tensor(np.array([2, 0]))
    w = const([1.0, 2.0, 3.0])  # float64
    losses = [
        F.mse_loss(z, y, weight=const(np.ones((2, 3)))),
        F.binary_cross_entropy(z.sigmoid(), y, weight=w),
        F.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=w),
        F.cross_entropy(z, t, weight=w, label_smoothing=0.1),
        F.cross_entropy(z, y, weight=w),
        F.nll_loss(z, t, weight=w),
    ]
    for loss in losses:
        assert loss.dtype == mt.float32
        z.grad = None
        loss.backward()
        assert z.grad.dtype == mt.float32


@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy])
@pytest.mark.parametrize(
    "target, weight",
    [([-100, -100, -100], None), ([0, 1, 1], [0.0, 0.0, 1.0, 1.0]), ([0, -100, 1], [0.0, 0.0, 1.0, 1.0])],
    ids=["all-ignored", "all-weighted-0", "mixed"],
)
def test_mean_over_zero_total_weight_is_nan_with_pytorchs_gradient_and_no_warnings(fn, target, weight):
    # PyTorch: loss 0/0 = nan; each counted target's gradient -w·g/0 = nan, ignored targets' 0.
    # (Was: nan gradients everywhere, from 0/0 on the summed loss, with NumPy RuntimeWarnings.)
    x = mt.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    kw = {} if weight is None else {"weight": mt.tensor(weight)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = fn(x, mt.tensor(target), **kw)
        loss.backward()
    assert np.isnan(loss.item())
    counted = np.array(target) != -100
    expected = np.zeros((3, 4), bool)  # where the gradient is nan
    for i, t in enumerate(target):
        if counted[i]:
            if fn is F.nll_loss:
                expected[i, t] = True
            else:
                expected[i] = True  # softmax spreads the row's nan over the row
    assert np.array_equal(np.isnan(x.grad.numpy()), expected)
    assert np.all(x.grad.numpy()[~expected] == 0)


def test_nll_loss_with_no_classes_and_every_target_ignored_matches_pytorch():
    """Found by the fuzz test: zero classes used to index column 0 of an empty array."""
    x = mt.tensor(np.zeros((1, 0), np.float32), requires_grad=True)
    target = mt.tensor([-100])
    assert np.isnan(F.nll_loss(x, target).item())  # torch: nan (0 / 0)
    assert F.nll_loss(x, target, reduction="sum").item() == 0.0
    with pytest.raises(IndexError, match="nll_loss"):
        F.nll_loss(x, mt.tensor([0]))
