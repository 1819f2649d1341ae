"""microtensor.testing works for users: strategies draw what they promise, and
assert_gradients_match passes on correct code and fails on wrong gradients."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import microtensor as mt
import microtensor.nn as nn
from microtensor.testing import (
    DOMAINS,
    arrays,
    assert_gradients_match,
    broadcastable_shapes,
    dtypes,
    shapes,
    tensors,
)


def test_import_microtensor_does_not_import_hypothesis():
    code = "import sys, microtensor; assert 'hypothesis' not in sys.modules, 'hypothesis was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- strategies
@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
def test_shapes_respect_their_bounds(shape):
    assert isinstance(shape, tuple) and 1 <= len(shape) <= 3
    assert all(isinstance(n, int) and 2 <= n <= 3 for n in shape)


@given(broadcastable_shapes(n=3, max_dims=3, max_side=4))
def test_broadcastable_shapes_broadcast_together(shape_list):
    assert len(shape_list) == 3
    out = np.broadcast_shapes(*shape_list)  # raises if they do not broadcast
    assert len(out) <= 3
    for s in shape_list:
        assert len(s) <= 3 and all(1 <= n <= 4 for n in s)


def test_broadcastable_shapes_really_broadcast():
    """Not just equal shapes: some draws differ, and still broadcast together."""
    a, b = find(broadcastable_shapes(2), lambda ss: ss[0] != ss[1])
    assert a != b
    np.broadcast_shapes(a, b)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@given(data=st.data())
def test_tensors_stay_inside_their_domain(domain, data):
    x = data.draw(tensors(shape=shapes(max_side=3), elements=domain))
    lo, hi, signed = DOMAINS[domain]
    v = x.numpy()
    assert x.dtype == mt.float64 and not x.requires_grad
    assert np.isfinite(v).all()
    mag = np.abs(v) if signed else v
    assert (mag >= lo).all() and (mag <= hi).all(), (domain, v)


def test_named_domains_keep_away_from_kinks_and_poles():
    assert DOMAINS["positive"][0] > 0
    assert DOMAINS["away_from_zero"][0] >= 1e-3 and DOMAINS["away_from_zero"][2]
    assert DOMAINS["nonzero"][0] > 0 and DOMAINS["nonzero"][2]
    assert DOMAINS["unit"][0] > -1 and DOMAINS["unit"][1] < 1


@given(data=st.data())
def test_tensors_with_an_interval_shape_dtype_and_requires_grad(data):
    shape = data.draw(shapes(max_dims=2))
    dtype = data.draw(dtypes())
    x = data.draw(tensors(shape, dtype=dtype, elements=(-0.25, 0.5), requires_grad=True))
    assert x.shape == shape and x.dtype == dtype and x.requires_grad and x.is_leaf
    assert ((x.detach().numpy() >= -0.25) & (x.detach().numpy() <= 0.5)).all()


@given(arrays(shapes(min_dims=1, max_side=4), elements="real", min_gap=1e-2))
def test_min_gap_draws_pairwise_distinct_values(a):
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    gaps = np.diff(np.sort(a.ravel()))
    assert (gaps >= 1e-2 - 1e-12).all()
    assert (np.abs(a) <= 3).all()


@given(arrays((), elements="away_from_zero", min_gap=1e-2))
def test_zero_dim_draws_are_arrays_not_scalars(a):
    assert isinstance(a, np.ndarray) and a.shape == () and abs(a) >= 1e-2


def test_dtypes_draws_both_float_dtypes_and_nothing_else():
    seen = set()

    @given(dtypes())
    @settings(max_examples=30, database=None)
    def collect(dt):
        assert dt in (mt.float32, mt.float64)
        seen.add(dt)

    collect()
    assert seen == {mt.float32, mt.float64}


def test_strategy_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown domain"):
        tensors((2,), elements="negative").example()
    with pytest.raises(ValueError, match="floating"):
        tensors((2,), dtype=mt.int64, requires_grad=True)
    with pytest.raises(ValueError, match="lo <= hi"):
        arrays((2,), elements=(1.0, -1.0)).example()


# --------------------------------------------------- assert_gradients_match
class GoodExp(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class WrongExp(GoodExp):
    """A deliberate bug: twice the true gradient."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return 2 * grad * y


class FirstOrderOnlyExp(GoodExp):
    """Right gradient, but built from a detached value: its own derivative is wrong."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y.detach()


@given(tensors(shapes(max_side=3), elements="real", requires_grad=True))
@settings(max_examples=10)
def test_passes_on_a_correct_custom_function(x):
    assert_gradients_match(GoodExp.apply, x, second_order=True)
    assert_gradients_match(lambda t: (GoodExp.apply(t) * t).sum(), x, second_order=True)


def test_passes_on_plain_functions_of_several_inputs_with_broadcasting():
    a = mt.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mt.float64, requires_grad=True)
    b = mt.tensor([0.5, -1.5, 2.0], dtype=mt.float64, requires_grad=True)
    assert_gradients_match(lambda a, b: (a * b).tanh() + a / (b * b + 1), a, b, second_order=True)


@given(tensors(shapes(max_side=3), elements="real", requires_grad=True))
@settings(max_examples=10)
def test_fails_on_a_wrong_custom_function(x):
    with pytest.raises(AssertionError, match="argument 0") as info:
        assert_gradients_match(WrongExp.apply, x)
    assert "finite differences" in str(info.value)


def test_second_order_catches_a_backward_that_is_not_differentiable():
    x = mt.tensor([0.3, -1.2, 2.0], dtype=mt.float64, requires_grad=True)
    assert_gradients_match(FirstOrderOnlyExp.apply, x)  # first order is right
    with pytest.raises(AssertionError, match="second derivatives"):
        assert_gradients_match(FirstOrderOnlyExp.apply, x, second_order=True)


def test_without_requires_grad_every_float_input_is_checked():
    x = mt.tensor([0.5, -1.0])  # float32, no requires_grad
    assert_gradients_match(GoodExp.apply, x)
    with pytest.raises(AssertionError):
        assert_gradients_match(WrongExp.apply, x)


def test_only_inputs_that_require_grad_are_checked_when_some_do():
    x = mt.tensor([0.5, -1.0], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([1.5, 2.0], dtype=mt.float64)  # a constant: WrongExp on it is not examined
    assert_gradients_match(lambda x, y: x * 3 + WrongExp.apply(y), x, y)
    with pytest.raises(AssertionError):
        assert_gradients_match(lambda x, y: WrongExp.apply(x) + y, x, y)


def test_the_callers_tensors_are_left_alone():
    x = mt.tensor([0.5, -1.0], requires_grad=True)  # float32
    before = x.detach().numpy().copy()
    assert_gradients_match(lambda t: (t * t).sum(), x, second_order=True)
    assert x.dtype == mt.float32 and x.grad is None
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="nothing to check"):
        assert_gradients_match(lambda n: mt.tensor([1.0, 2.0]) * n, 3)


# ------------------------------------------------------------------ modules
class Affine:
    """Module-like: anything callable with parameters()."""

    def __init__(self, w: mt.Tensor, b: mt.Tensor, mul=mt.mul):
        self.w, self.b, self.mul = w, b, mul

    def parameters(self):
        return [self.w, self.b]

    def __call__(self, x):
        return (self.mul(x, self.w) + self.b).tanh()


class WrongMul(mt.autograd.Function):
    """Right gradient for the first factor, wrong (negated) for the second."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, -(grad * a)


def test_module_like_object_with_correct_gradients_passes():
    w = mt.tensor([0.5, -0.25, 1.0], requires_grad=True)
    b = mt.tensor([0.1, 0.2, -0.3], requires_grad=True)
    assert_gradients_match(Affine(w, b), mt.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]), second_order=True)
    assert w.dtype == mt.float32 and b.dtype == mt.float32  # restored after the float64 check


def test_module_parameters_are_checked_and_named():
    w = mt.tensor([0.5, -0.25, 1.0], requires_grad=True)
    b = mt.tensor([0.1, 0.2, -0.3], requires_grad=True)
    model = Affine(w, b, mul=WrongMul.apply)  # input gradient right, parameter gradient wrong
    x = mt.tensor([1.0, 2.0, -1.0], dtype=mt.float64, requires_grad=True)
    assert_gradients_match(lambda x: WrongMul.apply(x, w.detach()), x)  # the input side is right
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(model, x)
    msg = str(info.value)
    assert "with respect to input 1:" in msg and "input 1 = parameter '0'" in msg  # w, not x or b
    np.testing.assert_array_equal(w.detach().numpy(), np.float32([0.5, -0.25, 1.0]))


def test_real_nn_module_passes_and_is_restored():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert_gradients_match(model, mt.randn(5, 3), second_order=True)
    for name, p in model.named_parameters():
        assert p.dtype == mt.float32 and p.grad is None
        np.testing.assert_array_equal(p.detach().numpy(), before[name])


def test_real_nn_module_with_a_wrong_layer_fails():
    class BadScale(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.scale = nn.Parameter(mt.tensor([[1.5, -0.5], [0.5, 1.0], [2.0, -1.0]]))

        def forward(self, x):
            return WrongMul.apply(self.lin(x), self.scale)

    mt.manual_seed(1)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(BadScale(), mt.randn(3, 2))
    msg = str(info.value)
    assert "with respect to input 1:" in msg and "input 1 = parameter 'scale'" in msg  # own params first
