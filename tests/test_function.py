"""User-defined ops (mt.autograd.Function) and the gradcheck / gradgradcheck API."""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt
from microtensor.autograd import Function, GradcheckError, gradcheck, gradgradcheck

F64 = mt.float64


def leaf(values) -> mt.Tensor:
    return mt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ScaledMul(Function):
    """alpha * a * b: two tensor inputs and a Python number."""

    seen_needs: list = []

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.save_for_backward(a, b)
        ctx.alpha = alpha
        return a * b * alpha

    @staticmethod
    def backward(ctx, grad):
        ScaledMul.seen_needs.append(ctx.needs_input_grad)
        a, b = ctx.saved_tensors
        ga = grad * b * ctx.alpha if ctx.needs_input_grad[0] else None
        gb = grad * a * ctx.alpha if ctx.needs_input_grad[1] else None
        return ga, gb, None


class Cube(Function):
    """Backward written with Tensor ops, so it is differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class WrongCube(Cube):
    """Deliberately wrong: claims d(x³)/dx = 2x²."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x


class SlightlyWrongCube(Cube):
    """Wrong by 1%: claims d(x³)/dx = 3.03x² (a checker 100x looser than the default would pass it)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.03 * x * x


class OpaqueCube(Cube):
    """Right first derivative, but computed outside the graph: its second derivative is wrong."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * mt.tensor(3 * x.detach().numpy() ** 2)


# ------------------------------------------------------------------ Function
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.floats(-5, 5)))
def test_custom_exp_matches_builtin(a):
    x1, x2 = leaf(a), leaf(a)
    y1, y2 = MyExp.apply(x1), x2.exp()
    np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy())
    (y1 * y1).sum().backward()
    (y2 * y2).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-12)


def test_function_output_records_the_graph():
    x = leaf([0.0, 1.0])
    y = MyExp.apply(x)
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "MyExpBackward"
    assert repr(y.grad_fn) == "<MyExpBackward>"
    assert "grad_fn=<MyExpBackward>" in repr(y)
    with mt.no_grad():
        z = MyExp.apply(x)
    assert z.grad_fn is None and not z.requires_grad
    w = MyExp.apply(mt.tensor([1.0], dtype=F64))
    assert w.grad_fn is None and not w.requires_grad


def test_forward_runs_without_recording():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["enabled"] = mt.is_grad_enabled()
            y = x * 2
            seen["inner_grad_fn"] = y.grad_fn
            return y

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = leaf([1.0])
    Probe.apply(x).sum().backward()
    assert seen == {"enabled": False, "inner_grad_fn": None}
    assert x.grad.item() == 2.0


def test_two_inputs_and_a_non_tensor_argument():
    ScaledMul.seen_needs.clear()
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = ScaledMul.apply(a, b, 0.5)
    np.testing.assert_allclose(y.detach().numpy(), [1.5, 4.0])
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.5, 2.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0])
    assert ScaledMul.seen_needs == [(True, True, False)]


def test_needs_input_grad_reflects_which_inputs_require_grad():
    ScaledMul.seen_needs.clear()
    a, b = leaf([1.0, 2.0]), mt.tensor([3.0, 4.0], dtype=F64)
    ScaledMul.apply(a, b, 2.0).sum().backward()
    assert ScaledMul.seen_needs == [(True, False, False)]
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 8.0])
    assert b.grad is None


def test_returning_none_for_an_input_means_no_gradient():
    class FirstOnly(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    a, b = leaf([1.0]), leaf([2.0])
    FirstOnly.apply(a, b).sum().backward()
    assert a.grad.item() == 1.0
    assert b.grad is None


def test_gradient_for_an_input_not_requiring_grad_is_ignored():
    class Both(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad * 3  # computed for both, only a needs it

    a, b = leaf([1.0]), mt.tensor([2.0], dtype=F64)
    Both.apply(a, b).sum().backward()
    assert a.grad.item() == 2.0 and b.grad is None


def test_wrong_number_of_gradients_raises():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match=r"TooFew\.backward returned 1 gradients?.*2"):
        TooFew.apply(a, b).sum().backward()


def test_wrong_gradient_shape_raises_naming_the_function():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    with pytest.raises(RuntimeError, match=r"BadShapeBackward.*\(\).*\(3,\)"):
        BadShape.apply(leaf([1.0, 2.0, 3.0])).sum().backward()


def test_non_tensor_gradient_raises():
    class ReturnsFloat(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return 2.0

    with pytest.raises(TypeError, match="ReturnsFloat.backward.*float"):
        ReturnsFloat.apply(leaf([1.0])).sum().backward()


def test_forward_must_return_a_tensor():
    class ReturnsArray(Function):
        @staticmethod
        def forward(ctx, x):
            return x.detach().numpy() * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="ReturnsArray.forward.*ndarray"):
        ReturnsArray.apply(leaf([1.0]))


def test_function_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = MyExp.apply(x)
    loss = (y * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_function_with_retain_graph_backwards_twice():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3 * np.array([1.0, 4.0]))


def test_second_order_through_a_function_written_with_tensor_ops():
    x = leaf([0.5, -1.5, 2.0])
    (g,) = mt.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.25, 2.25, 4.0]))
    assert g.requires_grad
    (gg,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * np.array([0.5, -1.5, 2.0]))


def test_second_order_through_a_saved_output():
    x = leaf([0.0, 1.0])
    (g,) = mt.autograd.grad(MyExp.apply(x).sum(), x, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.exp([0.0, 1.0]))


def test_function_is_composable_with_builtin_ops():
    x = leaf([0.3, -0.7])
    y = (MyExp.apply(x.tanh()) * Cube.apply(x)).sum()
    y.backward()
    a = np.array([0.3, -0.7])
    t = np.tanh(a)
    expected = np.exp(t) * (1 - t**2) * a**3 + np.exp(t) * 3 * a**2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_function_node_is_collected_once_the_output_dies():
    import weakref

    x = leaf([1.0])
    y = MyExp.apply(x)
    node = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert node() is None


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_true_for_builtin_ops_and_correct_functions():
    a = leaf(np.random.default_rng(0).standard_normal((3, 2)))
    b = leaf(np.random.default_rng(1).standard_normal((2, 4)))
    assert gradcheck(lambda p, q: (p @ q).tanh(), (a, b)) is True
    assert gradcheck(Cube.apply, (leaf([0.5, -1.0, 2.0]),)) is True
    assert gradcheck(MyExp.apply, leaf([0.5, -1.0])) is True  # a single tensor is accepted too
    assert gradcheck(lambda p, q: ScaledMul.apply(p, q, 0.25), (leaf([1.0, 2.0]), leaf([3.0, 4.0])))


def test_gradcheck_is_exposed_at_mt_autograd():
    assert mt.autograd.gradcheck is gradcheck and mt.autograd.gradgradcheck is gradgradcheck
    assert issubclass(mt.autograd.GradcheckError, RuntimeError)


def test_gradcheck_with_non_differentiable_extra_inputs():
    x = leaf([1.0, 2.0])
    c = mt.tensor([3.0, 4.0], dtype=F64)
    assert gradcheck(lambda p, q, k: p * q * k, (x, c, 2.0))


def test_gradcheck_raises_naming_the_worst_element():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(WrongCube.apply, (x,))
    msg = str(excinfo.value)
    # analytic 2·x² vs numeric 3·x²: the worst element is x=3 (index 2): 18 by backward, 27 numerically
    assert "in[2]" in msg and "out[2]" in msg
    numbers = [float(v) for v in re.findall(r"(-?\d+\.\d+(?:e[-+]?\d+)?) by", msg)]
    assert numbers[0] == pytest.approx(18.0)
    assert numbers[1] == pytest.approx(27.0, rel=1e-6)
    assert "backward" in msg and "finite differences" in msg


def test_gradcheck_catches_a_one_percent_error():
    x = leaf([0.5, 1.0, -2.0, 3.0])
    with pytest.raises(GradcheckError, match=r"in\[3\]"):  # the largest absolute error: x = 3
        gradcheck(SlightlyWrongCube.apply, (x,))
    assert gradcheck(Cube.apply, (x,))  # and the right rule passes at the same points
    # with tolerances 100 times the default the same error would pass: the defaults are what catch it
    assert gradcheck(SlightlyWrongCube.apply, (x,), atol=1e-3, rtol=1e-1)


def test_gradcheck_names_the_input():
    good, bad = leaf([1.0]), leaf([2.0])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda p, q: p * 2 + WrongCube.apply(q), (good, bad))


def test_gradcheck_raise_exception_false_returns_false():
    assert gradcheck(WrongCube.apply, (leaf([1.0, 2.0]),), raise_exception=False) is False
    assert gradcheck(Cube.apply, (leaf([1.0, 2.0]),), raise_exception=False) is True


def test_gradcheck_tolerances_are_respected():
    # 2x² vs 3x² at x=0.01 differs by 1e-4: within atol=1e-3, outside the default atol=1e-5
    x = leaf([0.01])
    assert gradcheck(WrongCube.apply, (x,), atol=1e-3, rtol=0.0)
    assert not gradcheck(WrongCube.apply, (x,), raise_exception=False)


def test_gradcheck_rejects_float32_inputs():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradcheck.*float32.*float64"):
        gradcheck(lambda t: t * 2, (x,))


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda t: t * 2, (mt.tensor([1.0], dtype=F64),))


def test_gradcheck_leaves_inputs_and_grads_untouched():
    x = leaf([0.5, 1.5])
    gradcheck(lambda t: (t * t).sum(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), [0.5, 1.5])
    assert x.grad is None


def test_gradcheck_several_outputs():
    x = leaf([0.5, 1.5])
    assert gradcheck(lambda t: (t.exp(), t * t), (x,))
    with pytest.raises(GradcheckError, match="output 1"):
        gradcheck(lambda t: (t.exp(), WrongCube.apply(t)), (x,))


# ------------------------------------------------------------------ gradgradcheck
def test_gradgradcheck_true_for_differentiable_backward():
    assert gradgradcheck(Cube.apply, (leaf([0.5, -1.0, 2.0]),)) is True
    assert gradgradcheck(MyExp.apply, (leaf([0.5, -1.0]),)) is True
    a = leaf(np.random.default_rng(3).standard_normal((2, 3)))
    b = leaf(np.random.default_rng(4).standard_normal((3, 2)))
    assert gradgradcheck(lambda p, q: (p @ q).softmax(-1), (a, b))


def test_gradgradcheck_catches_a_backward_computed_outside_the_graph():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(OpaqueCube.apply, (x,))  # the first derivative is right
    with pytest.raises(GradcheckError):
        gradgradcheck(OpaqueCube.apply, (x,))
    assert gradgradcheck(OpaqueCube.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_with_given_grad_outputs():
    x = leaf([0.5, 1.0])
    v = mt.tensor([1.0, -2.0], dtype=F64, requires_grad=True)
    assert gradgradcheck(lambda t: t.tanh(), (x,), (v,))
