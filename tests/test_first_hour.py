"""Names that small PyTorch programs use in their first lines (print options, dtype limits,
inference_mode, legacy tensor types, `dtype=` on reductions, isin, ...), against PyTorch where it
is installed and against their documented meaning otherwise."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import microtensor as mt

HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="needs torch")


@pytest.fixture
def default_print():
    yield
    mt.set_printoptions(profile="default")


def test_print_options(default_print):
    mt.set_printoptions(precision=2)
    assert repr(mt.tensor([1.2345, 2.0])) == "tensor([1.23, 2.00])"
    assert repr(mt.tensor([1e-5, 1.0])) == "tensor([1.00e-05, 1.00e+00])"
    mt.set_printoptions(sci_mode=False)
    assert repr(mt.tensor([1e-5, 1.0])) == "tensor([0.00, 1.00])"
    mt.set_printoptions(profile="default", sci_mode=True)
    assert repr(mt.tensor([1.5, 2.0])) == "tensor([1.5000e+00, 2.0000e+00])"
    mt.set_printoptions(profile="default", threshold=5, edgeitems=1)
    assert repr(mt.arange(10.0)).startswith("tensor([0., ") and repr(mt.arange(10.0)).endswith("9.])")
    mt.set_printoptions(profile="full")
    assert "..." not in repr(mt.arange(2000.0))
    mt.set_printoptions(profile="default")
    assert "..." in repr(mt.arange(2000.0)) and repr(mt.tensor([1.2345])) == "tensor([1.2345])"
    with pytest.raises(ValueError, match="profile"):
        mt.set_printoptions(profile="long")


@needs_torch
@pytest.mark.parametrize(
    "opts",
    [{"precision": 2}, {"precision": 6}, {"sci_mode": False}, {"sci_mode": True}, {"profile": "short"}],
)
def test_print_options_as_pytorch(opts, default_print):
    import torch

    values = [[1.23456789, -2.5], [1e-5, 3.0]]
    try:
        torch.set_printoptions(**opts)
        mt.set_printoptions(**opts)
        for v in (values, values[0], [0.5, 2.0]):
            assert repr(mt.tensor(v)) == repr(torch.tensor(v))
    finally:
        torch.set_printoptions(profile="default")


@pytest.mark.parametrize("dt", [mt.float16, mt.float32, mt.float64])
def test_finfo(dt):
    f, n = mt.finfo(dt), np.finfo(dt)
    assert (f.bits, f.eps, f.max, f.min, f.tiny, f.resolution) == (
        n.bits, float(n.eps), float(n.max), float(n.min), float(n.smallest_normal), 10.0**-n.precision
    )  # fmt: skip
    assert f.dtype == str(dt) and mt.finfo().dtype == "float32"
    with pytest.raises(TypeError, match="finfo.*int64"):
        mt.finfo(mt.int64)


@needs_torch
def test_finfo_iinfo_as_pytorch():
    import torch

    for name in ("float16", "float32", "float64"):
        a, b = mt.finfo(getattr(mt, name)), torch.finfo(getattr(torch, name))
        assert (a.bits, a.eps, a.max, a.min, a.tiny, a.smallest_normal, a.resolution, a.dtype) == (
            b.bits, b.eps, b.max, b.min, b.tiny, b.smallest_normal, b.resolution, b.dtype
        )  # fmt: skip
        assert repr(a) == repr(b)
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        a, b = mt.iinfo(getattr(mt, name)), torch.iinfo(getattr(torch, name))
        assert (a.bits, a.max, a.min, a.dtype) == (b.bits, b.max, b.min, b.dtype) and repr(a) == repr(b)


def test_int_is_int32():
    assert mt.int == mt.int32 and mt.tensor([1.7]).to(mt.int).tolist() == [1]


def test_reductions_take_dtype():
    x = mt.tensor([[1, 2], [3, 4]], dtype=mt.int32)
    assert x.sum(dtype=mt.int64).dtype == mt.int64
    assert mt.sum(x, 1, dtype=mt.float64).tolist() == [3.0, 7.0]
    assert x.mean(dtype=mt.float32).item() == 2.5
    f = mt.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    y = mt.softmax(f, 1, dtype=mt.float64)
    assert y.dtype == mt.float64
    (y[:, 0] * mt.tensor([1.0, 2.0], dtype=mt.float64)).sum().backward()
    s = 1 / (1 + np.exp([1.0, 2.0]))  # softmax(f)[:, 0]
    want = np.stack([s * (1 - s), -s * (1 - s)], 1) * np.array([[1.0], [2.0]])
    assert f.grad.dtype == mt.float32
    np.testing.assert_allclose(f.grad.numpy(), want, rtol=1e-6)
    assert f.log_softmax(0, dtype=mt.float64).dtype == mt.float64


@needs_torch
def test_reductions_with_dtype_as_pytorch():
    import torch

    data = np.array([[1.5, -2.0, 0.25], [3.0, 4.0, -1.0]], np.float32)
    cases = (("sum", {"dim": 1}), ("mean", {"dim": 0}), ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}))
    for name, kw in cases:
        a = mt.tensor(data, requires_grad=True)
        b = torch.tensor(data, requires_grad=True)
        ya, yb = getattr(a, name)(dtype=mt.float64, **kw), getattr(b, name)(dtype=torch.float64, **kw)
        assert str(ya.dtype) == str(yb.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-12)
        w = np.arange(ya.numel(), dtype=np.float64).reshape(ya.shape)
        (ya * mt.tensor(w)).sum().backward()
        (yb * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


@needs_torch
def test_isin_as_pytorch():
    import torch

    cases = [
        (([1, 2, 3, 4], [2, 4]), {}),
        (([[1.0, 2.0], [3.0, 2.0]], [2.0]), {"invert": True}),
        (([5, 6], [6, 5]), {"assume_unique": True}),
    ]
    for (a, b), kw in cases:
        got = mt.isin(mt.tensor(a), mt.tensor(b), **kw)
        want = torch.isin(torch.tensor(a), torch.tensor(b), **kw)
        assert got.dtype == mt.bool and got.tolist() == want.tolist()
    assert mt.isin(mt.tensor([1.0, 2.0]), 2.0).tolist() == [False, True]
    assert mt.isin(3, mt.tensor([3])).item() is True


def test_inference_mode():
    w = mt.ones(2, requires_grad=True)
    with mt.inference_mode():
        assert not (w * 2).requires_grad and mt.is_inference_mode_enabled() and not mt.is_grad_enabled()
    assert not mt.is_inference_mode_enabled() and mt.is_grad_enabled()

    @mt.inference_mode
    def bare():
        return (w * 2).requires_grad

    @mt.inference_mode(False)
    def off():
        return (w * 2).requires_grad

    @mt.inference_mode()
    def on():
        return (w * 2).requires_grad

    assert (bare(), off(), on()) == (False, True, False)
    with mt.no_grad(), mt.inference_mode(False):
        assert not mt.is_grad_enabled()  # False: leaves the modes as they are


def test_deterministic_algorithms_flag():
    try:
        mt.use_deterministic_algorithms(True, warn_only=True)
        assert mt.are_deterministic_algorithms_enabled()
        assert mt.is_deterministic_algorithms_warn_only_enabled()
    finally:
        mt.use_deterministic_algorithms(False)
    assert not mt.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError, match="bools"):
        mt.use_deterministic_algorithms(1)


def test_legacy_tensor_types():
    assert mt.FloatTensor(2, 3).shape == (2, 3) and mt.FloatTensor(2, 3).dtype == mt.float32
    assert mt.FloatTensor([1, 2]).tolist() == [1.0, 2.0] and mt.FloatTensor((2, 3)).tolist() == [2.0, 3.0]
    assert mt.FloatTensor(mt.Size([4])).shape == (4,) and mt.FloatTensor().shape == (0,)
    assert mt.LongTensor([1.7, 2]).tolist() == [1, 2] and mt.LongTensor([1]).dtype == mt.int64
    assert mt.BoolTensor([1, 0]).tolist() == [True, False] and mt.ByteTensor([1]).dtype == mt.uint8
    assert (mt.IntTensor([1]).dtype, mt.DoubleTensor([1]).dtype) == (mt.int32, mt.float64)
    t = mt.ones(2)
    assert isinstance(t, mt.FloatTensor) and not isinstance(t, mt.DoubleTensor)
    assert t.type(mt.DoubleTensor).dtype == mt.float64 and t.type() == "torch.FloatTensor"
    with pytest.raises(TypeError, match="FloatTensor.*int64"):
        mt.FloatTensor(mt.ones(2, dtype=mt.int64))
    with pytest.raises(TypeError, match="FloatTensor"):
        mt.FloatTensor(2, [1])


def test_variable_is_the_tensor_api():
    x = mt.ones(2)
    v = mt.autograd.Variable(x, requires_grad=True)
    assert isinstance(v, mt.autograd.Variable) and isinstance(x, mt.autograd.Variable)
    assert v.requires_grad and v.is_leaf
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    y = mt.ones(2, requires_grad=True) * 2
    assert mt.autograd.Variable(y).grad_fn is None  # as PyTorch: the data, cut from the graph


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("tau", "hard", "dim"), [(1.0, False, -1), (0.5, False, 0), (2.0, True, -1), (0.3, True, 0)]
)
def test_gumbel_softmax_as_pytorch(dtype, tau, hard, dim):
    import torch

    results = []
    for lib in (mt, torch):
        lib.manual_seed(3)
        x = lib.randn(5, 4, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)
        (y * lib.arange(4.0, dtype=getattr(lib, dtype))).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    (y, g), (ty, tg) = results
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y, ty, rtol=tol, atol=tol)
    np.testing.assert_allclose(g, tg, rtol=10 * tol, atol=10 * tol)
    if hard:
        assert set(np.unique(y)) <= {0.0, 1.0} and (y.sum(dim) == 1).all()


def test_cudnn_flags_exist_and_say_no_cudnn():
    assert not mt.backends.cudnn.is_available() and mt.backends.cudnn.version() is None
    assert (mt.backends.cudnn.enabled, mt.backends.cudnn.benchmark, mt.backends.cudnn.deterministic) == (
        True,
        False,
        False,
    )
