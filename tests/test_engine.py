"""Behaviour of the autograd engine: graph shapes, accumulation, grad mode, freeing, hooks, grad()."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt

F64 = mt.float64


def leaf(values, dtype=F64) -> mt.Tensor:
    return mt.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)


SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)


def arrays(shape=SHAPES, lo=-3.0, hi=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


def numeric_jacobian(fn, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d fn(x) / d x by central differences; rows index the output, columns the input."""
    x = np.array(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += eps
        xm.flat[i] -= eps
        cols.append((np.asarray(fn(xp)) - np.asarray(fn(xm))).ravel() / (2 * eps))
    return np.stack(cols, axis=1)


# ------------------------------------------------------------------ graph shapes
@given(arrays())
def test_diamond_sums_both_branches(a):
    x = leaf(a)
    t = x.tanh()  # t feeds two branches that rejoin
    y = (t * x.exp() + t * t).sum()
    y.backward()
    th, e = np.tanh(a), np.exp(a)
    dt = 1 - th**2
    expected = dt * e + th * e + 2 * th * dt
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_diamond_where_a_leaf_reaches_the_output_by_two_paths_of_different_length():
    x = leaf([1.5, -2.0])
    a = x * 3.0
    b = (x * 2.0) * 5.0
    (a + b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [13.0, 13.0])


@given(arrays())
def test_reusing_one_node_many_times(a):
    x = leaf(a)
    (x * x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * a**2, rtol=1e-12, atol=1e-12)


def test_many_uses_of_one_intermediate_sum_their_gradients():
    x = leaf([2.0])
    h = x * 1.0
    total = h
    for _ in range(49):
        total = total + h
    total.sum().backward()
    assert x.grad.item() == pytest.approx(50.0)


def test_deep_diamond_chain_visits_each_node_once():
    # every step uses the previous value twice: a walk without memoisation would take 2**2000 steps
    x = leaf([1.0])
    y = x
    for _ in range(2000):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0)


def test_100000_op_chain_forward_and_backward_without_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)
    assert y.item() == pytest.approx(1.0000001**100_000, rel=1e-9)


def test_100000_op_chain_through_autograd_grad():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    (g,) = mt.autograd.grad(y, x)
    assert g.item() == 1.0


# ------------------------------------------------------------------ accumulation
def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_array_equal(first.numpy(), [2.0, 4.0, 6.0])
    (x * 10.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 14.0, 16.0])


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_grad_is_a_tensor_of_the_leafs_shape_and_dtype(dtype):
    W = mt.randn(3, 4, dtype=dtype, requires_grad=True)
    x = mt.randn(5, 3, dtype=dtype)
    (x @ W).tanh().sum().backward()
    assert isinstance(W.grad, mt.Tensor)
    assert W.grad.shape == (3, 4)
    assert W.grad.dtype == dtype
    assert not W.grad.requires_grad
    assert W.grad.grad_fn is None


def test_grad_of_a_float32_leaf_mixed_with_float64_stays_float32():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.tensor([3.0, 4.0], dtype=F64, requires_grad=True)
    z = x * y
    assert z.dtype == F64
    z.sum().backward()
    assert x.grad.dtype == mt.float32 and y.grad.dtype == F64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x, y: x + y, id="add"),
        pytest.param(lambda x, y: x - y, id="sub"),
        pytest.param(lambda x, y: x + y * 1.0, id="add-scaled"),
        pytest.param(lambda x, y: mt.stack([x, y]).sum(0), id="stack-sum"),
    ],
)
def test_leaf_grads_do_not_share_memory(build):
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    build(x, y).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    before = y.grad.numpy().copy()
    x.grad.numpy()[...] = 123.0
    np.testing.assert_array_equal(y.grad.numpy(), before)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: (x + mt.zeros(4, 3, dtype=F64)).sum(), id="broadcast-add"),
        pytest.param(lambda x: x.expand(4, 3).sum(), id="expand"),
        pytest.param(lambda x: x.sum(), id="sum"),
        pytest.param(lambda x: x.mean(), id="mean"),
        pytest.param(lambda x: x.reshape(3, 1).sum(), id="reshape"),
        pytest.param(lambda x: x[None].sum(), id="getitem"),
    ],
)
def test_leaf_grads_are_writeable_private_arrays(build):
    x = leaf([1.0, 2.0, 3.0])
    build(x).backward()
    g = x.grad.numpy()
    assert g.flags.writeable
    g += 1.0  # must not raise "assignment destination is read-only"
    build(x).backward()  # accumulation into the same storage keeps working
    assert x.grad.shape == (3,)


def test_leaf_grad_does_not_alias_the_gradient_argument():
    x = leaf([1.0, 2.0])
    v = mt.tensor([1.0, 1.0], dtype=F64)
    x.backward(v)
    x.backward(v)
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_create_graph_leaf_grads_are_independent_of_each_other():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    assert not np.shares_memory(x.grad.detach().numpy(), y.grad.detach().numpy())


# ------------------------------------------------------------------ grad mode
def test_no_grad_context_records_nothing():
    x = leaf([1.0])
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        y = x * 2
    assert mt.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_no_grad_and_enable_grad_nest():
    x = leaf([1.0])
    with mt.no_grad():
        with mt.enable_grad():
            assert mt.is_grad_enabled()
            y = x * 2
            with mt.no_grad():
                z = x * 2
        w = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad and not w.requires_grad


def test_grad_mode_is_restored_when_the_block_raises():
    with pytest.raises(ValueError), mt.no_grad():
        raise ValueError("boom")
    assert mt.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0])

    @mt.no_grad()
    def predict(t):
        return t * 2, mt.is_grad_enabled()

    @mt.enable_grad()
    def train(t):
        return t * 2

    y, enabled = predict(x)
    assert not enabled and y.grad_fn is None
    assert mt.is_grad_enabled()
    with mt.no_grad():
        z = train(x)
    assert z.grad_fn is not None


def test_no_grad_as_a_bare_decorator():
    @mt.no_grad
    def predict(t):
        return t * 2

    assert predict(leaf([1.0])).grad_fn is None
    assert mt.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context_manager():
    x = leaf([1.0])
    try:
        mt.set_grad_enabled(False)
        assert not mt.is_grad_enabled()
        assert (x * 2).grad_fn is None
    finally:
        mt.set_grad_enabled(True)
    assert mt.is_grad_enabled()
    with mt.set_grad_enabled(False):
        assert not mt.is_grad_enabled()
        with mt.set_grad_enabled(True):
            assert (x * 2).grad_fn is not None
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()


def test_set_grad_enabled_as_decorator_leaves_mode_unchanged_outside():
    @mt.set_grad_enabled(False)
    def f():
        return mt.is_grad_enabled()

    assert mt.is_grad_enabled()
    assert f() is False
    assert mt.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with mt.no_grad():
            seen["worker"] = mt.is_grad_enabled()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(5)
        assert mt.is_grad_enabled()  # the other thread's no_grad does not leak here
        assert (leaf([1.0]) * 2).grad_fn is not None
    finally:
        release.set()
        t.join()
    assert seen["worker"] is False


def test_new_thread_starts_with_grad_enabled_even_inside_no_grad():
    seen = {}

    def worker():
        seen["enabled"] = mt.is_grad_enabled()
        seen["recorded"] = (leaf([1.0]) * 2).grad_fn is not None

    with mt.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == {"enabled": True, "recorded": True}


# ------------------------------------------------------------------ freeing and retain_graph
def test_second_backward_raises_and_names_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates_double():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * once)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_autograd_grad_frees_the_graph_too():
    x = leaf([1.0])
    y = (x * x).sum()
    mt.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        mt.autograd.grad(y, x)


def test_intermediates_are_freed_by_backward_while_the_output_lives():
    x = leaf(np.ones(1000))
    h = x.exp()
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    assert ref() is not None  # still saved for backward
    loss.backward()
    assert ref() is None  # freed by backward, although `loss` is alive
    assert loss.grad_fn is not None


def test_dropped_graph_is_freed_by_reference_counting():
    x = leaf(np.ones(100))
    gc.disable()
    try:
        h = x.tanh()
        out = (h * 2.0).exp().sum()
        ref_h, ref_out = weakref.ref(h), weakref.ref(out)
        del h, out
        assert ref_h() is None and ref_out() is None
    finally:
        gc.enable()


def test_dropped_graph_with_a_custom_function_is_freed_by_reference_counting():
    class Square(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = leaf(np.ones(10))
    gc.disable()
    try:
        y = Square.apply(x)
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()
    y = Square.apply(x)
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def _xor_step(W1, b1, W2, b2, X, Y, lr=0.5):
    h = (X @ W1.T + b1).tanh()
    p = (h @ W2.T + b2).sigmoid()
    loss = -(Y * p.log() + (1 - Y) * (1 - p).log()).mean()
    loss.backward()
    with mt.no_grad():
        for w in (W1, b1, W2, b2):
            w -= lr * w.grad
            w.grad = None
    return loss.item()


def test_memory_does_not_grow_over_training_steps():
    mt.manual_seed(0)
    X = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    params = [
        mt.randn(4, 2, requires_grad=True),
        mt.zeros(4, requires_grad=True),
        mt.randn(1, 4, requires_grad=True),
        mt.zeros(1, requires_grad=True),
    ]
    for _ in range(20):  # warm up caches before measuring
        _xor_step(*params, X, Y)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(20):
            _xor_step(*params, X, Y)
        gc.collect()
        start, _ = tracemalloc.get_traced_memory()
        losses = [_xor_step(*params, X, Y) for _ in range(300)]
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 50_000, f"memory grew by {end - start} bytes over 300 steps"
    assert losses[-1] < losses[0]  # and it was really training


# ------------------------------------------------------------------ backward arguments
def test_non_scalar_backward_without_gradient_raises_naming_the_shape():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()


def test_one_element_non_0d_output_backward_is_implicit():
    x = leaf([[2.0]])
    (x * 3.0).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 3.0


def test_backward_with_gradient_is_a_vector_jacobian_product():
    a = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    v = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    x = leaf(a)
    (x * x).backward(gradient=mt.tensor(v))
    np.testing.assert_allclose(x.grad.numpy(), 2 * a * v)


def test_backward_gradient_as_keyword_and_positional_agree():
    x1, x2 = leaf([1.0, 2.0]), leaf([1.0, 2.0])
    v = mt.tensor([3.0, 4.0], dtype=F64)
    x1.exp().backward(v)
    x2.exp().backward(gradient=v)
    np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())


def test_backward_on_a_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.tensor([1.0, 2.0]).sum().backward()
    with mt.no_grad():
        y = (leaf([1.0]) * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_inputs_accumulates_only_into_those():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * y).sum().backward(inputs=[x])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert y.grad is None
    (x * y).sum().backward(inputs=[y])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_backward_inputs_may_name_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    assert x.grad is None


# ------------------------------------------------------------------ retain_grad, hooks, detach
def test_non_leaf_grad_is_none_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    k = x * 3.0
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad
    ((h + k) * 2.0).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 12.0])


def test_retained_non_leaf_grad_accumulates_like_a_leaf():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    z = (y * 3.0).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [6.0, 6.0])


def test_retain_grad_on_a_leaf_is_a_no_op():
    x = leaf([1.0])
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_hook_on_leaf_observes_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 40.0])


def test_hook_on_non_leaf_changes_what_flows_to_its_inputs():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    h.register_hook(lambda g: mt.zeros_like(g))
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_hook_handle_remove_stops_the_hook():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 0)
    (x * 2).sum().backward()
    handle.remove()
    handle.remove()  # idempotent
    (x * 2).sum().backward()
    assert calls == [1]
    assert x.grad.item() == 2.0  # first backward contributed 0, second 2


def test_hook_returned_tensor_is_not_mutated_by_accumulation():
    x = leaf([1.0, 1.0])
    replacement = mt.tensor([5.0, 5.0], dtype=F64)
    x.register_hook(lambda g: replacement)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])
    np.testing.assert_array_equal(replacement.numpy(), [5.0, 5.0])


def test_hook_returning_the_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: mt.zeros(3, dtype=F64))
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        (x * 2).sum().backward()


def test_register_hook_requires_grad():
    with pytest.raises(RuntimeError, match="requires? grad"):
        mt.tensor([1.0]).register_hook(lambda g: g)


def test_detach_shares_data_and_has_no_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    d = h.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d.numpy()[0] = 100.0
    assert h.detach().numpy()[0] == 100.0  # same storage
    (d * x).sum().backward()  # d is a constant for x
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 4.0])


def test_requires_grad_and_is_leaf():
    x = mt.tensor([1.0, 2.0])
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    x.requires_grad_(False)
    assert not x.requires_grad
    assert (x * 2).grad_fn is None
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_grad_fn_names_and_next_functions():
    x = leaf([0.5, 1.0])
    t = x.tanh()
    assert repr(t.grad_fn) == "<TanhBackward>"
    assert t.grad_fn.name() == "TanhBackward"
    y = t * x.exp()
    assert y.grad_fn.name() == "MulBackward"
    first, second = y.grad_fn.next_functions
    assert first is t.grad_fn
    assert second.name() == "ExpBackward"
    assert t.grad_fn.next_functions == (None,)  # x is a leaf
    assert (x @ x).grad_fn.name() == "MatMulBackward"
    assert x.sum().grad_fn.name() == "SumBackward"


# ------------------------------------------------------------------ autograd.grad
def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    res = mt.autograd.grad((x * y).sum(), [x, y])
    assert isinstance(res, tuple) and len(res) == 2
    np.testing.assert_array_equal(res[0].numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(res[1].numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None
    (gx,) = mt.autograd.grad((x * y).sum(), x)
    assert isinstance(gx, mt.Tensor) and not gx.requires_grad


def test_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        mt.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = mt.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * x, x.exp()
    (g,) = mt.autograd.grad([a, b], x, grad_outputs=[mt.tensor([1.0, 0.5], dtype=F64), mt.ones(2, dtype=F64)])
    np.testing.assert_allclose(g.numpy(), [2.0 * 1.0 + np.e, 4.0 * 0.5 + np.exp(2.0)])


def test_grad_results_do_not_share_memory():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = mt.autograd.grad((x + y).sum(), [x, y])
    assert not np.shares_memory(gx.numpy(), gy.numpy())


def test_grad_without_create_graph_is_constant():
    x = leaf([1.0])
    (g,) = mt.autograd.grad((x**3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def _first_derivative(fn, a):
    x = mt.tensor(a, dtype=F64, requires_grad=True)
    (g,) = mt.autograd.grad(fn(x), x)
    return g.numpy()


def _hessian_by_autograd(fn, a):
    """Hessian of scalar fn at a: each row a second autograd.grad through a create_graph first one."""
    x = mt.tensor(a, dtype=F64, requires_grad=True)
    (g,) = mt.autograd.grad(fn(x), x, create_graph=True)
    assert g.requires_grad
    rows = []
    for i in range(g.numel()):
        (h,) = mt.autograd.grad(g.reshape(-1)[i], x, retain_graph=True, allow_unused=True)
        rows.append(np.zeros(a.size) if h is None else h.numpy().ravel())
    return np.stack(rows)


SECOND_ORDER = {
    "tanh": lambda x: x.tanh().sum(),
    "cube": lambda x: (x**3).sum(),
    "softmax": lambda x: (x.softmax(-1) * mt.tensor([[1.0, -2.0, 0.5, 3.0]], dtype=F64)).sum(),
    "log_softmax": lambda x: (x.log_softmax(0) ** 2).sum(),
    "sigmoid_exp": lambda x: (x.sigmoid() * x.exp()).sum(),
    "div_sqrt": lambda x: ((x * x + 1.0).sqrt() / (x * x + 2.0)).sum(),
    "logsumexp": lambda x: x.logsumexp(dim=1).sum() ** 2,
    "var": lambda x: x.var(dim=1).sum(),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_finite_differences_of_first(name):
    fn = SECOND_ORDER[name]
    a = np.random.default_rng(1).uniform(-1.5, 1.5, size=(2, 4))
    hess = _hessian_by_autograd(fn, a)
    numeric = numeric_jacobian(lambda z: _first_derivative(fn, z), a)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6)


@given(arrays(lo=-2.0, hi=2.0))
def test_second_derivative_of_tanh_elementwise(a):
    x = mt.tensor(a, dtype=F64, requires_grad=True)
    (g,) = mt.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), x)
    t = np.tanh(a)
    np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t**2), rtol=1e-10, atol=1e-12)


def test_third_derivative_of_cube():
    x = leaf(1.5)
    (g,) = mt.autograd.grad(x**3, x, create_graph=True)
    (gg,) = mt.autograd.grad(g, x, create_graph=True)
    (ggg,) = mt.autograd.grad(gg, x)
    assert (g.item(), gg.item(), ggg.item()) == pytest.approx((3 * 1.5**2, 6 * 1.5, 6.0))


def test_second_derivative_of_a_matmul_chain_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = mt.tensor(rng.standard_normal((5, 3)), dtype=F64)
    W2 = mt.tensor(rng.standard_normal((2, 4)), dtype=F64)
    W1_0 = rng.standard_normal((4, 3)) * 0.5

    def loss(W1):
        h = (X @ W1.T).tanh()
        return ((h @ W2.T) ** 2).mean()

    hess = _hessian_by_autograd(loss, W1_0)
    numeric = numeric_jacobian(lambda w: _first_derivative(loss, w), W1_0)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-8, atol=1e-10)  # a Hessian is symmetric


def test_backward_with_create_graph_makes_grad_differentiable():
    x = leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


@pytest.mark.parametrize(
    "fn",
    [
        mt.relu,
        mt.nn.functional.hardtanh,
        mt.nn.functional.relu6,
        mt.nn.functional.hardsigmoid,
        mt.abs,
        lambda x: x.clamp(-1.0, 1.0),
        lambda x: mt.nn.functional.threshold(x, 0.1, 0.0),
    ],
    ids=["relu", "hardtanh", "relu6", "hardsigmoid", "abs", "clamp", "threshold"],
)
def test_second_derivative_of_a_piecewise_linear_function_is_zero(fn):
    # As PyTorch: the first derivative (0 or 1 by pieces) is recorded as a function of x, so
    # differentiating it again gives zeros rather than "does not require grad"
    x = mt.tensor([-2.5, 0.5, 1.5, 7.0], dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn.name().endswith("BackwardBackward")
    (h,) = mt.autograd.grad(g.sum(), x)
    assert h.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_gradient_that_reads_no_tensor_stays_unrecorded_under_create_graph():
    # As PyTorch: sign's derivative is zeros, a function of nothing, so it needs no graph
    x = mt.tensor([-2.0, 3.0], requires_grad=True)
    (g,) = mt.autograd.grad(x.sign().sum(), x, create_graph=True)
    assert not g.requires_grad and g.tolist() == [0.0, 0.0]
