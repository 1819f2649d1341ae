"""microtensor.nn.utils: gradient clipping and parameter/vector conversion, against PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor.nn import utils

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), ()]


def _pair(seed=0, scale=3.0, dtypes=(np.float64, np.float64, np.float64), missing=()):
    """The same parameters and gradients in both frameworks (params listed in `missing` have none)."""
    rng = np.random.default_rng(seed)
    mine, theirs = [], []
    for i, (s, dt) in enumerate(zip(SHAPES, dtypes)):
        w = rng.standard_normal(s).astype(dt)
        g = (rng.standard_normal(s) * scale).astype(dt)
        p, q = mt.nn.Parameter(mt.tensor(w)), torch.nn.Parameter(torch.tensor(w))
        if i not in missing:
            p.grad, q.grad = mt.tensor(g.copy()), torch.tensor(g.copy())
        mine.append(p)
        theirs.append(q)
    return mine, theirs


def _grads(ps):
    return [None if p.grad is None else p.grad.detach().numpy() for p in ps]


def _same_grads(mine, theirs, tol=1e-13):
    for a, b in zip(_grads(mine), _grads(theirs)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, -math.inf, 0, 3.0, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipped, and left alone (the coefficient caps at 1)
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    mine, theirs = _pair(missing=(1,))
    p = float(norm_type)
    got = utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(got, mt.Tensor) and got.shape == () and got.dtype == mt.float64
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-13)
    _same_grads(mine, theirs)
    if max_norm < 1 and p not in (0, -math.inf):
        assert utils.get_total_norm([q.grad for q in mine if q.grad is not None], p).item() < got.item()


def test_clip_grad_norm_float32_and_mixed_dtypes_match_pytorch():
    for dtypes in [(np.float32,) * 3, (np.float32, np.float64, np.float32)]:
        mine, theirs = _pair(dtypes=dtypes)
        got = utils.clip_grad_norm_(iter(mine), 1.0)
        want = torch.nn.utils.clip_grad_norm_(iter(theirs), 1.0)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
        _same_grads(mine, theirs, tol=1e-6)


def test_clip_grad_norm_writes_through_the_in_place_path():
    mine, _ = _pair()
    grads = [p.grad for p in mine]
    versions = [g._version for g in grads]
    utils.clip_grad_norm_(mine, 0.1)
    assert all(p.grad is g for p, g in zip(mine, grads))  # the same gradient tensors, rescaled in place
    assert [g._version for g in grads] == [v + 1 for v in versions]


def test_get_total_norm_and_clip_grads_with_norm_match_pytorch():
    mine, theirs = _pair(seed=3)
    got = utils.get_total_norm([p.grad for p in mine], norm_type=3.0)
    want = torch.nn.utils.get_total_norm([p.grad for p in theirs], norm_type=3.0)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-13)
    utils.clip_grads_with_norm_(mine, 2.0, got, foreach=True)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, want)
    _same_grads(mine, theirs)
    assert utils.get_total_norm(mine[0].grad).item() == pytest.approx(np.linalg.norm(mine[0].grad.numpy()))


def test_clip_grad_norm_nonfinite():
    mine, theirs = _pair()
    mine[1].grad = mt.tensor(np.array([1.0, np.inf, 0, 0, 0]))
    before = _grads(mine)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 .* non-finite"):
        utils.clip_grad_norm_(mine, 1.0, error_if_nonfinite=True)
    for a, b in zip(_grads(mine), before):
        np.testing.assert_array_equal(a, b)  # nothing was scaled
    theirs[1].grad = torch.tensor([1.0, np.inf, 0, 0, 0], dtype=torch.float64)
    got = utils.clip_grad_norm_(mine, 1.0)  # without the flag: scaled by the non-finite norm, as PyTorch
    want = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isinf(got.item()) and math.isinf(want.item())
    _same_grads(mine, theirs)


def test_clip_grad_norm_with_nothing_to_clip():
    assert utils.clip_grad_norm_([], 1.0).dtype == mt.float32
    with pytest.warns(UserWarning, match="empty generator"):
        total = utils.clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0
    p = mt.nn.Parameter(mt.ones(2))
    assert utils.clip_grad_norm_(p, 1.0).item() == 0.0 and p.grad is None  # a lone tensor, no grad
    with pytest.warns(FutureWarning, match="deprecated"):
        utils.clip_grad_norm([p], 1.0)
    with pytest.raises(TypeError, match="clip_grad_norm_: expected Tensors, but item 0 is a float"):
        utils.clip_grad_norm_([1.0], 1.0)


def test_clip_grad_value_matches_pytorch():
    mine, theirs = _pair(missing=(0,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert utils.clip_grad_value_(mine, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    _same_grads(mine, theirs)
    assert np.abs(mine[1].grad.numpy()).max() == 0.7


def test_parameters_to_vector_is_differentiable_and_vector_to_parameters_writes_in_place():
    model = mt.nn.Sequential(mt.nn.Linear(3, 2), mt.nn.Tanh(), mt.nn.Linear(2, 1)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)).double()
    with torch.no_grad():
        for q, p in zip(tmodel.parameters(), model.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    vec = utils.parameters_to_vector(model.parameters())
    tvec = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    (vec * mt.arange(vec.shape[0], dtype=mt.float64)).sum().backward()  # the gradient reaches each param
    flat = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(flat, np.arange(vec.shape[0]))

    new = np.linspace(-1, 1, vec.shape[0])
    arrays = [p._data for p in model.parameters()]
    versions = [p._version for p in model.parameters()]
    utils.vector_to_parameters(mt.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tmodel.parameters())
    for p, q, a, v in zip(model.parameters(), tmodel.parameters(), arrays, versions):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert p._data is a and p._version == v + 1  # same storage, written through the in-place path


def test_vector_to_parameters_rejects_bad_input_and_changes_nothing():
    params = [mt.nn.Parameter(mt.zeros(2, 3)), mt.nn.Parameter(mt.zeros(4))]
    with pytest.raises(RuntimeError, match=r"vector_to_parameters: vec of shape \(9,\) .* 10 entries"):
        utils.vector_to_parameters(mt.ones(9), params)
    with pytest.raises(TypeError, match="expected a microtensor Tensor"):
        utils.vector_to_parameters(np.ones(10), params)
    assert all(not p.detach().numpy().any() and p._version == 0 for p in params)
