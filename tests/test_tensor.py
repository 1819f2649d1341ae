"""Behaviour of Tensor itself: creation and dtype rules, properties, conversion, repr, promotion, in-place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt


@pytest.fixture
def default_float64():
    """Switch the default dtype to float64 for one test, always restoring it."""
    before = mt.get_default_dtype()
    mt.set_default_dtype(mt.float64)
    try:
        yield
    finally:
        mt.set_default_dtype(before)


# ------------------------------------------------------------------ creation and dtype rules
@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, mt.float32),
        ([1.0, 2.0], mt.float32),
        ([[1, 2.5]], mt.float32),  # any float makes it float
        (3, mt.int64),
        ([1, 2], mt.int64),
        (True, mt.bool),
        ([True, False], mt.bool),
        (np.array([1, 2], dtype=np.int32), mt.int32),
        (np.array([1.0], dtype=np.float64), mt.float64),
        (np.array([1.0], dtype=np.float16), mt.float16),
        (np.float64(1.5), mt.float64),
        (np.array([True]), mt.bool),
    ],
)
def test_tensor_dtype_rules(data, dtype):
    t = mt.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_explicit_dtype_converts():
    t = mt.tensor([1, 2], dtype=mt.float64)
    assert t.dtype == mt.float64
    assert mt.tensor([1.7, -1.7], dtype=mt.int64).tolist() == [1, -1]


def test_tensor_copies_numpy_arrays_and_tensors():
    a = np.array([1.0, 2.0])
    t = mt.tensor(a)
    a[0] = 99.0
    assert t.tolist() == [1.0, 2.0]
    u = mt.tensor(t)
    t.numpy()[1] = 42.0
    assert u.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory_both_ways():
    a = np.array([1.0, 2.0, 3.0])
    t = mt.from_numpy(a)
    assert t.dtype == mt.float64
    a[0] = 10.0
    assert t.tolist() == [10.0, 2.0, 3.0]
    t.numpy()[2] = -1.0
    assert a[2] == -1.0
    with pytest.raises(TypeError, match="from_numpy"):
        mt.from_numpy([1.0, 2.0])


def test_from_numpy_keeps_integer_dtype():
    t = mt.from_numpy(np.arange(3, dtype=np.int16))
    assert t.dtype == mt.int16


@pytest.mark.parametrize("fn", [mt.zeros, mt.ones])
def test_zeros_ones(fn):
    t = fn(2, 3)
    assert t.shape == (2, 3) and t.dtype == mt.float32
    assert fn((2, 3)).shape == (2, 3)
    assert fn([4]).shape == (4,)
    assert fn(2, dtype=mt.int64).dtype == mt.int64
    assert fn(2, requires_grad=True).requires_grad
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 1.0 if fn is mt.ones else 0.0))
    assert fn().shape == ()


@pytest.mark.parametrize(
    # a NumPy float scalar counts as a Python float (default dtype), as in PyTorch
    ("value", "dtype"),
    [(3, mt.int64), (2.5, mt.float32), (True, mt.bool), (np.float64(1.0), mt.float32)],
)
def test_full_infers_dtype_from_fill_value(value, dtype):
    t = mt.full((2, 2), value)
    assert t.dtype == dtype and t.shape == (2, 2)
    assert t.tolist() == [[value, value], [value, value]]


def test_full_with_dtype_and_int_size():
    t = mt.full((3,), 7, dtype=mt.float64)
    assert t.dtype == mt.float64 and t.tolist() == [7.0, 7.0, 7.0]
    assert mt.full(3, 1.0).shape == (3,)


def test_zeros_like_ones_like_keep_shape_and_dtype():
    i = mt.tensor([[1, 2, 3]])
    f = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    assert mt.zeros_like(i).dtype == mt.int64 and mt.zeros_like(i).shape == (1, 3)
    o = mt.ones_like(f)
    assert o.dtype == mt.float64 and o.tolist() == [1.0, 1.0]
    assert not o.requires_grad  # like PyTorch: *_like does not copy requires_grad
    assert mt.zeros_like(i, dtype=mt.float32).dtype == mt.float32


def test_randn_rand_shapes_dtypes_and_ranges():
    mt.manual_seed(123)
    r = mt.rand(1000)
    assert r.dtype == mt.float32 and r.shape == (1000,)
    assert r.numpy().min() >= 0.0 and r.numpy().max() < 1.0
    n = mt.randn(200, 50, dtype=mt.float64)
    assert n.dtype == mt.float64
    assert abs(float(n.numpy().mean())) < 0.05 and abs(float(n.numpy().std()) - 1.0) < 0.05
    assert mt.randn(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproducibility():
    mt.manual_seed(7)
    a, b = mt.randn(5), mt.rand(3)
    c = mt.randn(5)
    mt.manual_seed(7)
    np.testing.assert_array_equal(mt.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(mt.rand(3).numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    mt.manual_seed(8)
    assert not np.array_equal(mt.randn(5).numpy(), a.numpy())


@pytest.mark.parametrize(
    ("args", "expected", "dtype"),
    [
        ((5,), [0, 1, 2, 3, 4], mt.int64),
        ((2, 8, 3), [2, 5], mt.int64),
        ((5.0,), [0.0, 1.0, 2.0, 3.0, 4.0], mt.float32),
        ((0, 1, 0.25), [0.0, 0.25, 0.5, 0.75], mt.float32),
        ((3, 0, -1), [3, 2, 1], mt.int64),
    ],
)
def test_arange_values_and_dtype(args, expected, dtype):
    t = mt.arange(*args)
    assert t.dtype == dtype
    np.testing.assert_allclose(t.numpy(), expected)


def test_arange_explicit_dtype_and_zero_step():
    assert mt.arange(3, dtype=mt.float64).dtype == mt.float64
    with pytest.raises(RuntimeError, match="arange"):
        mt.arange(0, 5, 0)


def test_eye():
    np.testing.assert_array_equal(mt.eye(3).numpy(), np.eye(3))
    assert mt.eye(3).dtype == mt.float32
    assert mt.eye(2, 4).shape == (2, 4)
    assert mt.eye(2, dtype=mt.float64).dtype == mt.float64


def test_default_dtype_is_float32_and_can_be_changed(default_float64):
    assert mt.get_default_dtype() == mt.float64
    for t in (
        mt.tensor([1.5]),
        mt.zeros(2),
        mt.ones(2),
        mt.randn(2),
        mt.rand(2),
        mt.eye(2),
        mt.arange(0.0, 2.0),
    ):
        assert t.dtype == mt.float64
    assert mt.tensor([1, 2]).dtype == mt.int64  # integers are unaffected
    assert (mt.tensor([1, 2]) * 0.5).dtype == mt.float64
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"  # float64 is now the one not shown
    assert "dtype=microtensor.float32" in repr(mt.tensor([1.0], dtype=mt.float32))


def test_default_dtype_restored_by_fixture():
    assert mt.get_default_dtype() == mt.float32


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError, match="float32 or float64"):
        mt.set_default_dtype(mt.int64)
    assert mt.get_default_dtype() == mt.float32


# ------------------------------------------------------------------ properties
def test_properties():
    t = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2 and t.dtype == mt.float32
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.numpy(), t.numpy().T)
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None and t.is_leaf
    x = mt.randn(2, 3, 4)
    assert x.T.shape == (4, 3, 2)  # reverses all dims


def test_T_is_differentiable():
    x = mt.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    (x.T * mt.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 2.0, 3.0]]


def test_grad_and_grad_fn_after_backward():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    assert y.grad_fn is not None and not y.is_leaf and y.requires_grad
    y.sum().backward()
    assert isinstance(x.grad, mt.Tensor) and x.grad.shape == x.shape


# ------------------------------------------------------------------ conversion
def test_numpy_shares_storage():
    t = mt.tensor([1.0, 2.0])
    t.numpy()[0] = 5.0
    assert t.tolist() == [5.0, 2.0]


def test_numpy_refuses_tensors_requiring_grad_and_suggests_detach():
    x = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(x)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0])


def test_array_protocol():
    t = mt.tensor([[1, 2], [3, 4]])
    a = np.asarray(t)
    assert a.dtype == np.int64 and a.shape == (2, 2)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.sum(np.asarray(t)) == 10


def test_item():
    assert mt.tensor(2.5).item() == 2.5 and isinstance(mt.tensor(2.5).item(), float)
    assert mt.tensor([[7]]).item() == 7 and isinstance(mt.tensor([[7]]).item(), int)
    assert mt.tensor(True).item() is True
    assert float(mt.tensor([1.5])) == 1.5 and int(mt.tensor(3)) == 3
    x = mt.tensor([3.0], requires_grad=True)
    assert (x * 2).item() == 6.0  # works on tensors that require grad
    with pytest.raises(RuntimeError, match="2 elements"):
        mt.tensor([1.0, 2.0]).item()


def test_tolist():
    assert mt.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert mt.tensor(1.5).tolist() == 1.5
    assert mt.tensor([1.0, 2.0], requires_grad=True).tolist() == [1.0, 2.0]


def test_size_numel_len():
    t = mt.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4)
    assert t.size(0) == 2 and t.size(-1) == 4 and t.size(1) == 3
    assert t.numel() == 24 and mt.numel(t) == 24
    assert len(t) == 2
    assert mt.tensor(1.0).numel() == 1
    with pytest.raises(TypeError, match="0-d"):
        len(mt.tensor(1.0))
    with pytest.raises(IndexError, match="size"):
        t.size(3)


def test_iteration_yields_rows_that_keep_the_graph():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    assert all(r.grad_fn is not None for r in rows)
    (rows[0] * 2 + rows[1] * 3).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]
    with pytest.raises(TypeError, match="0-d"):
        iter(mt.tensor(1.0))


def test_bool():
    assert bool(mt.tensor([1.0])) is True
    assert bool(mt.tensor(0)) is False
    assert bool(mt.tensor([[True]]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mt.tensor([1.0, 2.0]))


def test_index_conversion():
    assert [10, 20, 30][mt.tensor(1)] == 20
    with pytest.raises(TypeError, match="integer"):
        [10, 20][mt.tensor(1.0)]


# ------------------------------------------------------------------ repr
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: mt.tensor([1.0, 2.0]), "tensor([1., 2.])"),
        (lambda: mt.tensor(3.5), "tensor(3.5000)"),
        (lambda: mt.tensor([0.7616, 0.964]), "tensor([0.7616, 0.9640])"),
        (lambda: mt.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: mt.tensor([True, False]), "tensor([ True, False])"),
        (lambda: mt.tensor([1.0, 2.0], dtype=mt.float64), "tensor([1., 2.], dtype=microtensor.float64)"),
        (lambda: mt.tensor([1, 2], dtype=mt.int32), "tensor([1, 2], dtype=microtensor.int32)"),
        (lambda: mt.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (
            lambda: mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True),
            "tensor([1., 2.], dtype=microtensor.float64, requires_grad=True)",
        ),
        (lambda: mt.tensor([1.0, 2.0], requires_grad=True) * 2, "tensor([2., 4.], grad_fn=<MulBackward>)"),
        (
            lambda: mt.tensor([[1.0, 2.0]], requires_grad=True).tanh(),
            "tensor([[0.7616, 0.9640]], grad_fn=<TanhBackward>)",
        ),
        (lambda: mt.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
        (lambda: mt.zeros(0), "tensor([])"),
    ],
)
def test_repr_like_pytorch(make, expected):
    assert repr(make()) == expected


def test_repr_after_no_grad_has_no_grad_fn():
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        assert repr(x * 2) == "tensor([2.])"


def test_format_of_0d_tensor():
    assert f"{mt.tensor(0.123456):.3f}" == "0.123"


# ------------------------------------------------------------------ integer tensors and grad
@pytest.mark.parametrize("make", [lambda: mt.tensor([1, 2]), lambda: mt.arange(3), lambda: mt.tensor([True])])
def test_integer_and_bool_tensors_cannot_require_grad(make):
    t = make()
    with pytest.raises(RuntimeError, match=str(t.dtype)):
        t.requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad = True
    assert not t.requires_grad


def test_integer_creation_with_requires_grad_raises():
    with pytest.raises(RuntimeError, match="int64"):
        mt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="int64"):
        mt.zeros(2, dtype=mt.int64, requires_grad=True)


def test_casting_to_int_drops_out_of_the_graph():
    x = mt.tensor([1.7, 2.2], requires_grad=True)
    i = x.long()
    assert i.dtype == mt.int64 and not i.requires_grad and i.tolist() == [1, 2]
    d = x.double()
    assert d.dtype == mt.float64 and d.requires_grad
    d.sum().backward()
    assert x.grad.dtype == mt.float32 and x.grad.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ comparisons and argmax
@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge", "eq", "ne"])
def test_comparisons_return_bool_tensors_without_grad(op):
    a = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mt.tensor([3.0, 2.0, 1.0])
    out = getattr(a, op)(b)
    assert out.dtype == mt.bool and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(
        out.numpy(),
        getattr(
            np,
            {
                "lt": "less",
                "le": "less_equal",
                "gt": "greater",
                "ge": "greater_equal",
                "eq": "equal",
                "ne": "not_equal",
            }[op],
        )(a.detach().numpy(), b.numpy()),
    )


def test_comparison_operators_with_scalars_and_broadcasting():
    a = mt.tensor([[1.0], [2.0]])
    assert (a < 2).tolist() == [[True], [False]]
    assert (a == mt.tensor([1.0, 2.0])).tolist() == [[True, False], [False, True]]
    assert (2 > a).tolist() == [[True], [False]]  # noqa: SIM300 - the reflected operator is the point
    assert (a >= 2.0).dtype == mt.bool


def test_bool_tensor_as_mask_and_logic():
    x = mt.tensor([-1.0, 0.5, 2.0])
    m = (x > 0) & (x < 1)
    assert m.tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, True]
    assert x[m].tolist() == [0.5]


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(-100, 100, allow_nan=False),
    ),
    st.data(),
)
def test_argmax_argmin_match_numpy(a, data):
    t = mt.tensor(a)
    assert t.argmax().item() == int(np.argmax(a)) and t.argmax().shape == ()
    assert t.argmin().item() == int(np.argmin(a))
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    keepdim = data.draw(st.booleans())
    for name in ("argmax", "argmin"):
        out = getattr(t, name)(dim, keepdim)
        expected = getattr(np, name)(a, axis=dim, keepdims=keepdim)
        assert out.dtype == mt.int64
        assert out.shape == expected.shape
        np.testing.assert_array_equal(out.numpy(), expected)
        assert getattr(mt, name)(t, dim=dim).shape == getattr(np, name)(a, axis=dim).shape


def test_argmax_keepdim_without_dim_and_of_tensor_requiring_grad():
    x = mt.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 7.0]], requires_grad=True)
    assert x.argmax(keepdim=True).shape == (1, 1) and x.argmax(keepdim=True).item() == 3
    assert x.argmax(1).tolist() == [1, 0]  # ties: first occurrence
    assert not x.argmax().requires_grad


# ------------------------------------------------------------------ dtype promotion
@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda: mt.tensor([1, 2]) * 2.5, mt.float32),
        (lambda: 2.5 * mt.tensor([1, 2]), mt.float32),
        (lambda: mt.tensor([1, 2]) * 2, mt.int64),
        (lambda: mt.tensor([1, 2]) + mt.tensor([1.0, 2.0]), mt.float32),
        (lambda: mt.tensor([1, 2]) + mt.tensor([1.0], dtype=mt.float64), mt.float64),
        (lambda: mt.tensor([1.0, 2.0]) + mt.tensor(1.0, dtype=mt.float64), mt.float32),  # 0-d doesn't widen
        (lambda: mt.tensor([1.0, 2.0]) + mt.tensor([1.0], dtype=mt.float64), mt.float64),
        (lambda: mt.tensor(1.0, dtype=mt.float64) + mt.tensor(2.0), mt.float64),
        (lambda: mt.tensor([1, 2]) / mt.tensor([2, 2]), mt.float32),
        (lambda: mt.tensor([1, 2]) / 2, mt.float32),
        (lambda: 2 / mt.tensor([1, 2]), mt.float32),
        (lambda: mt.tensor([1, 2], dtype=mt.int32) + 2.5, mt.float32),
        (lambda: mt.tensor([1, 2], dtype=mt.int32) * 3, mt.int32),
        (lambda: mt.tensor([1, 2], dtype=mt.int32) + mt.tensor(5), mt.int32),
        (lambda: mt.tensor([1, 2], dtype=mt.int32) + mt.tensor([5]), mt.int64),
        (lambda: mt.tensor([1.0], dtype=mt.float64) * 2.5, mt.float64),
        (lambda: mt.tensor([1.0], dtype=mt.float16) * 3.5, mt.float16),
        (lambda: mt.tensor([True]) + mt.tensor([True]), mt.bool),
        (lambda: mt.tensor([True]) + 1, mt.int64),
        (lambda: mt.tensor([1, 2]) ** 0.5, mt.float32),
        (lambda: 2 ** mt.tensor([1, 2]), mt.int64),
        (lambda: mt.tensor([1, 2]).exp(), mt.float32),
    ],
)
def test_dtype_promotion_like_pytorch(make, dtype):
    assert make().dtype == dtype


def test_int_times_float_values():
    assert (mt.tensor([1, 2]) * 2.5).tolist() == [2.5, 5.0]
    assert (mt.tensor([1, 3]) / mt.tensor([2, 2])).tolist() == [0.5, 1.5]


@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(0.5, 4, allow_nan=False)
    ),
    st.floats(0.5, 4),
)
def test_python_scalars_on_either_side(a, s):
    x = mt.tensor(a)
    np.testing.assert_allclose((x + s).numpy(), a + s)
    np.testing.assert_allclose((s + x).numpy(), s + a)
    np.testing.assert_allclose((x - s).numpy(), a - s)
    np.testing.assert_allclose((s - x).numpy(), s - a)
    np.testing.assert_allclose((x * s).numpy(), a * s)
    np.testing.assert_allclose((s * x).numpy(), s * a)
    np.testing.assert_allclose((x / s).numpy(), a / s)
    np.testing.assert_allclose((s / x).numpy(), s / a)
    np.testing.assert_allclose((x**s).numpy(), a**s)
    np.testing.assert_allclose((s**x).numpy(), s**a)
    np.testing.assert_allclose((-x).numpy(), -a)
    assert (s - x).dtype == mt.float64  # a Python float never widens a float tensor


def test_scalar_on_the_left_gives_correct_gradients():
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    (3.0 - x + 2.0 / x + 2.0**x + 4.0 * x).sum().backward()
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), -1 - 2.0 / a**2 + np.log(2.0) * 2.0**a + 4.0)


def test_numpy_array_on_the_left_defers_to_tensor():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mt.Tensor) and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


# ------------------------------------------------------------------ in-place ops
def test_inplace_on_leaf_under_no_grad_updates_storage():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    storage = w.detach().numpy()
    with mt.no_grad():
        w -= 1.0
        w *= mt.tensor([2.0, 3.0])
        w += 0.5
        w /= 2.0
    assert w.tolist() == [0.25, 1.75]
    np.testing.assert_array_equal(storage, [0.25, 1.75])  # same storage, updated in place
    assert w.requires_grad and w.is_leaf and w.grad_fn is None


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (lambda t: t.__iadd__(1.0), "add_"),
        (lambda t: t.__isub__(1.0), "sub_"),
        (lambda t: t.__imul__(2.0), "mul_"),
        (lambda t: t.__itruediv__(2.0), "div_"),
        (lambda t: t.zero_(), "zero_"),
    ],
)
def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad(op, name):
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{name}.*no_grad"):
        op(w)
    assert w.tolist() == [1.0, 2.0]  # untouched


def test_inplace_on_non_leaf_in_graph_is_recorded():
    x = mt.tensor([1.0], requires_grad=True)
    y = x * 2
    y += 1  # as PyTorch: y's grad_fn becomes the in-place op's node (tests/test_inplace.py has more)
    assert y.grad_fn.name() == "AddBackward" and y._version == 1
    y.backward()
    assert y.tolist() == [3.0] and x.grad.tolist() == [2.0]


def test_inplace_on_plain_tensor_is_fine_and_checks_shape_and_dtype():
    t = mt.tensor([1.0, 2.0])
    t += 1
    assert t.tolist() == [2.0, 3.0]
    t.zero_()
    assert t.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match=r"add_.*\(2,\).*\(2, 2\)"):
        t += mt.ones(2, 2)
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="add_.*float32.*int64"):
        i += 1.5
    i *= 3
    assert i.tolist() == [3, 6] and i.dtype == mt.int64


def test_grad_zero_in_place():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ .data
def test_data_is_a_detached_tensor_sharing_storage():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, mt.Tensor) and not d.requires_grad and d.is_leaf and d.grad_fn is None
    d.numpy()[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    d -= 1.0  # allowed: d does not require grad
    assert x.tolist() == [4.0, 1.0]


def test_assigning_data_replaces_storage_and_keeps_requires_grad():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    new = mt.zeros(3)
    x.data = new
    assert x.shape == (3,) and x.requires_grad and x.is_leaf
    new.numpy()[0] = 7.0
    assert x.tolist() == [7.0, 0.0, 0.0]
    (x * 2).sum().backward()
    assert x.grad.shape == (3,)


def test_clone_copies_and_keeps_the_graph():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None
    c.detach().numpy()[0] = 9.0
    assert x.tolist() == [1.0, 2.0]
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ exact creation dtypes (issue 16)
@pytest.mark.parametrize(
    "make", [mt.tensor, mt.as_tensor, lambda v, dtype: mt.tensor(v, dtype=dtype, requires_grad=True)]
)
@pytest.mark.parametrize("value", [0.7, 1e300, [0.7, 1e-310], [[0.1], [1e300]]])
def test_float64_from_python_floats_is_exact(make, value):
    t = make(value, dtype=mt.float64)
    assert t.dtype == mt.float64
    assert t.tolist() == value  # no detour through float32 (0.7 -> 0.699999988..., 1e300 -> inf)


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([np.float64(0.7)], mt.float64),  # a NumPy scalar keeps its dtype inside a list
        ([1, np.float64(0.7)], mt.float64),
        ([np.float64(0.7), np.float32(0.5)], mt.float64),
        ([np.float32(0.5)], mt.float32),
        ([np.float16(1), 2.5], mt.float32),  # float16 meets a Python float (float32)
        ([np.float16(1), 2], mt.float16),  # int64 meets float16: the float wins, as PyTorch
        ([np.int32(1), 2], mt.int64),  # a Python int is int64 (NumPy 2 would say int32)
        ([np.int32(1), np.int32(2)], mt.int32),
        ([np.int8(1), np.uint8(2)], mt.int16),
        ([np.uint8(1), True], mt.uint8),
        ([True, 2], mt.int64),
        ([True, 2.5], mt.float32),
        ([[1], [2.5]], mt.float32),
        ([np.array([0.5]), np.array([1.5])], mt.float64),
        ([mt.tensor(1.0, dtype=mt.float64), 2.5], mt.float64),
        ([], mt.float32),
        (np.int32(3), mt.int32),
        (np.uint8(3), mt.uint8),
    ],
)
def test_tensor_infers_dtype_from_elements_as_pytorch(data, dtype):
    t = mt.tensor(data)
    assert t.dtype == dtype
    expected = np.array([np.asarray(e, dtype=np.float64) for e in data]) if isinstance(data, list) else data
    np.testing.assert_array_equal(t.numpy().astype(np.float64), np.asarray(expected, dtype=np.float64))


def test_tensor_with_float64_default_dtype_reads_python_floats_exactly(default_float64):
    assert mt.tensor([0.7]).dtype == mt.float64 and mt.tensor([0.7]).item() == 0.7
    assert mt.tensor([np.float32(0.5), 0.7]).dtype == mt.float64


@pytest.mark.parametrize("data", [2**63, [1, 2**63], [[0], [-(2**63) - 1]]])
def test_integers_outside_int64_raise_instead_of_becoming_floats(data):
    with pytest.raises(ValueError, match=r"tensor: integer -?\d+ is outside the int64 range"):
        mt.tensor(data)
    # asked for as floats they are fine
    assert mt.tensor(data, dtype=mt.float64).dtype == mt.float64


def test_int64_extremes_are_exact():
    assert mt.tensor([2**63 - 1, -(2**63)]).tolist() == [2**63 - 1, -(2**63)]


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([300], mt.uint8),
        ([-256], mt.uint8),
        (128, mt.int8),
        ([-129], mt.int8),
        ([2.0**31], mt.int32),
        ([float("nan")], mt.int64),
        (1e300, mt.int64),
        ([255.5], mt.uint8),
    ],
)
def test_values_outside_a_requested_integer_dtype_raise(data, dtype):
    with pytest.raises(RuntimeError, match=f"cannot be converted to type {dtype} without overflow"):
        mt.tensor(data, dtype=dtype)


def test_requested_integer_dtype_truncates_and_wraps_like_pytorch():
    assert mt.tensor([2.7, -2.7], dtype=mt.int64).tolist() == [2, -2]
    assert mt.tensor([-1, -200, 255], dtype=mt.uint8).tolist() == [255, 56, 255]
    assert mt.tensor([1, 2**63], dtype=mt.bool).tolist() == [True, True]


def test_array_conversion_to_a_narrower_float_is_silent():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mt.tensor(np.array([1e300]), dtype=mt.float32).item() == float("inf")


@pytest.mark.parametrize(
    ("make", "dtype", "value"),
    [
        (lambda: mt.full((2,), np.float64(0.5)), mt.float32, 0.5),  # NumPy scalars count as Python numbers
        (lambda: mt.full((2,), np.uint8(3)), mt.int64, 3),
        (lambda: mt.full((2,), 0.7, dtype=mt.float64), mt.float64, 0.7),
        (lambda: mt.full((2,), mt.tensor(2.5, dtype=mt.float64)), mt.float32, 2.5),
        (lambda: mt.full((2,), 2.5, dtype=mt.int64), mt.int64, 2),
        (lambda: mt.full_like(mt.zeros(2, dtype=mt.float64), 0.7), mt.float64, 0.7),
        (lambda: mt.full_like(mt.tensor([1, 2]), 2.5), mt.int64, 2),
        (lambda: mt.zeros_like(mt.tensor([1, 2]), dtype=mt.float64), mt.float64, 0.0),
        (lambda: mt.arange(np.float64(0.5), 2), mt.float32, None),
        (lambda: mt.arange(np.int32(2)), mt.int64, None),
        (lambda: mt.arange(mt.tensor(2)), mt.int64, None),
    ],
)
def test_filled_and_range_creation_dtypes(make, dtype, value):
    t = make()
    assert t.dtype == dtype
    if value is not None:
        assert t.tolist() == [value, value]


def test_arange_with_numpy_float_start_keeps_fractions():
    assert mt.arange(np.float64(0.5), 3).tolist() == [0.5, 1.5, 2.5]
    assert mt.arange(0, 1, 0.3, dtype=mt.float64).tolist() == [0.0, 0.3, 0.6, 0.8999999999999999]


@pytest.mark.parametrize(
    "make",
    [
        lambda: mt.full((1,), 300, dtype=mt.uint8),
        lambda: mt.full((1,), 2**63),
        lambda: mt.full_like(mt.tensor([1], dtype=mt.uint8), 300),
    ],
)
def test_full_value_outside_integer_dtype_raises(make):
    with pytest.raises(RuntimeError, match="without overflow"):
        make()


def test_creation_dtypes_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        0.7,
        1e300,
        [np.float64(0.7)],
        [np.float32(0.5), 2],
        [np.int16(1), np.int8(2)],
        [np.uint8(1), 2],
        [[True], [False]],
        [np.float16(1), 2],
        [1, 2.5],
        np.float64(0.25),
        np.array([1, 2], dtype=np.int16),
    ]
    for data in cases:
        for dtype in (None, "float64", "float32", "int64"):
            kw = {} if dtype is None else {"dtype": getattr(mt, dtype)}
            tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
            try:
                theirs = torch.tensor(data, **tkw)
            except (TypeError, RuntimeError):  # e.g. a NumPy float scalar into int64; ours converts
                continue
            ours = mt.tensor(data, **kw)
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (data, dtype)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{data!r} {dtype}")


@pytest.mark.parametrize("dtype", [mt.uint8, mt.int8, mt.int16, mt.int32, mt.int64, mt.bool])
def test_integer_and_bool_sums_are_int64(dtype):
    x = mt.tensor([[1, 0], [1, 1]], dtype=dtype)
    assert x.sum().dtype == mt.int64 and x.sum().item() == 3
    assert x.sum(0).dtype == mt.int64 and x.sum(0).tolist() == [2, 1]
    assert mt.tensor([200, 200], dtype=mt.uint8).sum().item() == 400  # no wrap-around


# ------------------------------------------------------------------ contiguity, view, stride (issue 16)
def test_contiguous_of_a_transpose_is_a_copy():
    x = mt.arange(6).reshape(2, 3)
    y = x.t().contiguous()
    assert y.is_contiguous() and not x.t().is_contiguous()
    y.add_(100)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]  # the copy does not write through
    assert y.tolist() == [[100, 103], [101, 104], [102, 105]]


def test_contiguous_returns_self_when_already_contiguous():
    x = mt.ones(2, 3)
    assert x.contiguous() is x and x.is_contiguous()
    assert mt.ones(2, 1, 3).permute(1, 0, 2).is_contiguous()  # size-1 dims do not count, as PyTorch


def test_contiguous_copy_is_differentiable():
    w = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = w.t().contiguous()
    assert y.grad_fn is not None
    (y * mt.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert w.grad.tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]


def test_view_of_a_non_contiguous_tensor_raises_and_suggests_reshape():
    x = mt.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"view: .*\(3, 2\).*\(6,\).*reshape"):
        x.t().view(6)
    with pytest.raises(RuntimeError, match="reshape"):
        x[:, :2].view(4)
    assert x.t().reshape(6).shape == (6,)  # reshape copies when it must


def test_view_is_a_true_view_both_ways():
    x = mt.zeros(2, 3)
    v = x.view(3, 2)
    v[0, 0] = 7.0
    assert x[0, 0].item() == 7.0
    x.add_(1)
    assert v[0, 0].item() == 8.0
    s = x[:, :2].view(2, 2, 1)  # a non-contiguous tensor can still be viewed when strides allow
    s.fill_(-1)
    assert x.tolist() == [[-1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]
    assert x.t().view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert mt.ones(2, 3).view_as(mt.zeros(6)).shape == (6,)
    with pytest.raises(RuntimeError, match="view: shape"):
        x.view(4)


def test_view_keeps_the_graph():
    w = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    (w.view(2, 2) * mt.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("make", "stride"),
    [
        (lambda: mt.ones(2, 3, 4), (12, 4, 1)),
        (lambda: mt.ones(2, 3).t(), (1, 3)),
        (lambda: mt.ones(6)[::2], (2,)),
        (lambda: mt.ones(3, 1).expand(3, 4), (1, 0)),
        (lambda: mt.ones(2, 1, 3), (3, 3, 1)),
        (lambda: mt.tensor(1.0), ()),
    ],
)
def test_stride_in_elements_as_pytorch(make, stride):
    t = make()
    assert t.stride() == stride
    for d in range(t.ndim):
        assert t.stride(d) == stride[d] and t.stride(d - t.ndim) == stride[d]
    assert t.is_contiguous() == (stride == tuple(int(np.prod(t.shape[i + 1 :])) for i in range(t.ndim)))


def test_stride_rejects_bad_dim():
    with pytest.raises(IndexError, match="stride"):
        mt.ones(2, 3).stride(2)


def test_contiguity_matches_pytorch():
    torch = pytest.importorskip("torch")
    ops = [
        lambda t: t,
        lambda t: t.t(),
        lambda t: t[:, ::2],
        lambda t: t[1:],
        lambda t: t.t().contiguous(),
        lambda t: t.unsqueeze(1).expand(4, 3, 6),
        lambda t: t.reshape(2, 2, 6).permute(2, 0, 1),
    ]
    for op in ops:
        ours, theirs = op(mt.ones(4, 6)), op(torch.ones(4, 6))
        assert ours.is_contiguous() == theirs.is_contiguous()
        assert ours.stride() == theirs.stride()
        for shape in [(-1,), (2, -1), (theirs.shape[0], -1)]:
            try:
                expected = theirs.view(*shape).shape
            except RuntimeError:
                with pytest.raises(RuntimeError, match="reshape"):
                    ours.view(*shape)
            else:
                assert ours.view(*shape).shape == tuple(expected)


# ------------------------------------------------------------ grad-mode decorators on generators (issue 16)
@pytest.mark.parametrize(
    ("decorate", "inside"),
    [
        (lambda f: mt.no_grad()(f), False),
        (lambda f: mt.no_grad(f), False),
        # built when used: set_grad_enabled(False) switches grad mode off as soon as it is constructed
        (lambda f: mt.set_grad_enabled(False)(f), False),
        (lambda f: mt.enable_grad()(f), True),
    ],
)
def test_grad_mode_decorator_covers_generator_bodies(decorate, inside):
    w = mt.ones(2, requires_grad=True)
    seen = []

    @decorate
    def gen(n):
        for _ in range(n):
            seen.append(mt.is_grad_enabled())
            got = yield w * 2
            seen.append((got, mt.is_grad_enabled()))
        return "done"

    outer = not inside
    with mt.set_grad_enabled(outer):
        g = gen(2)
        assert mt.is_grad_enabled() is outer
        first = next(g)
        assert first.requires_grad is inside and mt.is_grad_enabled() is outer  # restored around each yield
        second = g.send("hi")
        assert second.requires_grad is inside and mt.is_grad_enabled() is outer
        with pytest.raises(StopIteration) as stop:
            g.send("bye")
        assert stop.value.value == "done" and mt.is_grad_enabled() is outer
    assert seen == [inside, ("hi", inside), inside, ("bye", inside)]
    assert mt.is_grad_enabled()


def test_grad_mode_decorated_generator_sees_thrown_exceptions_and_close_under_its_mode():
    log = []

    @mt.no_grad()
    def gen():
        try:
            yield 1
        except KeyError:
            log.append(("caught", mt.is_grad_enabled()))
            yield 2
        finally:
            log.append(("finally", mt.is_grad_enabled()))

    g = gen()
    assert next(g) == 1
    assert g.throw(KeyError("k")) == 2 and mt.is_grad_enabled()
    g.close()
    assert log == [("caught", False), ("finally", False)] and mt.is_grad_enabled()
    with pytest.raises(ValueError, match="boom"):  # an exception it does not catch comes out
        h = gen()
        next(h)
        h.throw(ValueError("boom"))
    assert mt.is_grad_enabled()


def test_grad_mode_decorator_keeps_plain_functions_and_metadata():
    @mt.no_grad()
    def f(x):
        """doc"""
        return x * 2

    assert f.__name__ == "f" and f.__doc__ == "doc"
    assert not f(mt.ones(1, requires_grad=True)).requires_grad and mt.is_grad_enabled()


# ------------------------------------------------------------------ .grad assignment is checked (issue 16)
@pytest.mark.parametrize(
    ("make_grad", "error", "fragments"),
    [
        (lambda: mt.zeros(3), RuntimeError, ["shape (3,)", "shape (2,)"]),
        (lambda: mt.zeros(1, 2), RuntimeError, ["shape (1, 2)", "shape (2,)"]),
        (lambda: mt.zeros(2, dtype=mt.float32), RuntimeError, ["dtype float32", "dtype float64"]),
        (lambda: mt.zeros(2, dtype=mt.int64), RuntimeError, ["dtype int64", "dtype float64"]),
        (lambda: np.zeros(2), TypeError, ["numpy.ndarray"]),
        (lambda: [0.0, 0.0], TypeError, ["list"]),
        (lambda: 1.0, TypeError, ["float"]),
    ],
)
def test_bad_grad_assignment_raises_and_leaves_grad_alone(make_grad, error, fragments):
    x = mt.zeros(2, dtype=mt.float64, requires_grad=True)
    old = x.grad = mt.ones(2, dtype=mt.float64)
    with pytest.raises(error, match="^grad: ") as info:
        x.grad = make_grad()
    for f in fragments:
        assert f in str(info.value)
    assert x.grad is old


def test_grad_assignment_accepts_matching_tensors_and_none():
    x = mt.zeros(2, 3, requires_grad=True)
    g = mt.ones(2, 3)
    x.grad = g
    assert x.grad is g
    x.grad = None
    assert x.grad is None
    with pytest.raises(RuntimeError, match="own grad"):
        x.grad = x
    i = mt.tensor([1, 2])  # like PyTorch, any tensor may hold a grad of its own shape and dtype
    i.grad = mt.tensor([3, 4])
    assert i.grad.tolist() == [3, 4]
    y = x * 2  # and non-leaves too
    y.grad = mt.zeros(2, 3)
    assert y.grad.shape == (2, 3)


def test_grad_assignment_then_backward_accumulates():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    x.grad = mt.tensor([10.0, 10.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [12.0, 14.0]


# ------------------------------------------------------------------ silent at poles, as PyTorch (issue 16)
_POLES = {  # name: (fn(x, library), values); library is microtensor or torch
    "log(0)": (lambda x, m: x.log(), [0.0, 1.0]),
    "1/0": (lambda x, m: 1 / x, [0.0, 2.0]),
    "x/0": (lambda x, m: x / m.zeros(2), [1.0, -1.0]),
    "0/0": (lambda x, m: x / x, [0.0, 1.0]),
    "sqrt(-1)": (lambda x, m: x.sqrt(), [-1.0, 4.0]),
    "0**-1": (lambda x, m: x**-1.0, [0.0, 2.0]),
    "(-1)**0.5": (lambda x, m: x**0.5, [-1.0, 4.0]),
    "2**x": (lambda x, m: 2.0**x, [-1.0, 2000.0]),
    "exp(1000)": (lambda x, m: x.exp(), [1000.0, 0.0]),
    "x*x overflow": (lambda x, m: x * x, [1e200, 1.0]),
    "log(-1)": (lambda x, m: m.log(x), [-1.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(_POLES))
@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_ops_at_poles_give_ieee_results_without_numpy_warnings(name, dtype):
    import warnings

    fn, values = _POLES[name]
    with np.errstate(all="ignore"):
        expected = fn(mt.tensor(values, dtype=dtype), mt).numpy()  # the values themselves are NumPy's
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as `-W error::RuntimeWarning`
        got = fn(mt.tensor(values, dtype=dtype), mt).numpy()
    np.testing.assert_array_equal(got, expected)
    assert not np.isfinite(got).all()  # each case really hits a pole


def test_ops_at_poles_match_pytorch():
    import warnings

    torch = pytest.importorskip("torch")
    for name, (fn, values) in _POLES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = fn(mt.tensor(values), mt).numpy()
        theirs = fn(torch.tensor(values), torch).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
