"""Batch, group, instance and local response normalisation against PyTorch: outputs, gradients,
running statistics after training steps, eval mode, momentum=None, affine / track_running_stats off."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from tests._parity import check

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)


def _a(*shape):
    return RNG.standard_normal(shape)


def _pair(name, *args, **kw):
    """The same layer in both frameworks, in float64, with PyTorch's (random-valued) state."""
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape))))
    mine = getattr(nn, name)(*args, **kw).double()
    mine.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return mine, theirs


def _step_both(mine, theirs, x, g=None):
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = mine(xm), theirs(xt)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = _a(*yt.shape) if g is None else g
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (k, a), (_, b) in zip(mine.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=k)


def _same_state(mine, theirs):
    sd = theirs.state_dict()
    assert list(mine.state_dict()) == list(sd)
    for k, v in sd.items():
        np.testing.assert_allclose(mine.state_dict()[k].numpy(), v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize(
    "name, shape, kw",
    [
        ("BatchNorm2d", (4, 3, 5, 5), {}),
        ("BatchNorm2d", (4, 3, 5, 5), {"momentum": None}),
        ("BatchNorm2d", (4, 3, 5, 5), {"affine": False, "momentum": 0.3}),
        ("BatchNorm1d", (6, 3), {}),
        ("BatchNorm1d", (6, 3, 7), {"eps": 1e-3}),
        ("BatchNorm1d", (6, 3), {"track_running_stats": False}),
    ],
)
def test_batch_norm_training_steps_then_eval(name, shape, kw):
    mine, theirs = _pair(name, shape[1], **kw)
    for step in range(4):
        x = _a(*shape) * (1 + step) + step  # moving statistics: the running averages have work to do
        _step_both(mine, theirs, x)
    _same_state(mine, theirs)
    if "track_running_stats" not in kw:
        assert int(mine.num_batches_tracked) == 4
    mine.eval()
    theirs.eval()
    _step_both(mine, theirs, _a(*shape))  # eval: the running statistics normalise (and are not updated)
    _same_state(mine, theirs)


def test_batch_norm_functional_with_and_without_running_stats():
    x, w, b = _a(5, 3, 4), _a(3), _a(3)
    check(
        torch,
        mt,
        lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
        x,
        w,
        b,
    )
    rm, rv = _a(3), np.abs(_a(3)) + 0.5
    def evaluate(lib, x, w, b):
        return lib.nn.functional.batch_norm(x, lib.tensor(rm), lib.tensor(rv), w, b, training=False)

    check(torch, mt, evaluate, x, w, b)
    rm_m, rv_m = mt.tensor(rm.copy()), mt.tensor(rv.copy())
    rm_t, rv_t = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    F.batch_norm(mt.tensor(x), rm_m, rv_m, training=True, momentum=0.25)
    torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=0.25)
    np.testing.assert_allclose(rm_m.numpy(), rm_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv_m.numpy(), rv_t.numpy(), rtol=1e-12)  # unbiased running variance


def test_batch_norm_second_order():
    x0 = _a(4, 2, 3)
    res = []
    for lib in (mt, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.batch_norm(x, None, None, training=True)
        (gx,) = lib.autograd.grad((y**3).sum(), (x,), create_graph=True)
        (h,) = lib.autograd.grad((gx**2).sum(), (x,))
        res.append(h.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize(
    "groups, channels, shape, affine",
    [(2, 4, (3, 4, 5, 5), True), (1, 3, (2, 3, 7), False), (3, 3, (2, 3, 2, 2), True)],
)
def test_group_norm(groups, channels, shape, affine):
    mine, theirs = _pair("GroupNorm", groups, channels, affine=affine)
    _step_both(mine, theirs, _a(*shape))
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize(
    "name, shape, kw",
    [
        ("InstanceNorm2d", (3, 4, 5, 5), {}),
        ("InstanceNorm2d", (3, 4, 5, 5), {"affine": True, "track_running_stats": True}),
        ("InstanceNorm2d", (4, 5, 5), {"affine": True}),  # unbatched
        ("InstanceNorm1d", (3, 4, 6), {"track_running_stats": True, "momentum": 0.2}),
    ],
)
def test_instance_norm(name, shape, kw):
    mine, theirs = _pair(name, 4, **kw)
    for _ in range(2):
        _step_both(mine, theirs, _a(*shape) * 2 + 1)
    _same_state(mine, theirs)
    mine.eval()
    theirs.eval()
    _step_both(mine, theirs, _a(*shape))
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("shape, size", [((2, 5, 3, 3), 3), ((2, 6, 4), 2), ((1, 4, 2, 2), 5)])
def test_local_response_norm(shape, size):
    check(torch, mt, lambda lib, x: lib.nn.LocalResponseNorm(size, alpha=0.5, beta=0.6, k=1.5)(x), _a(*shape))


def test_batch_norm_state_dict_keys_and_reprs_match_pytorch():
    for name, args, kw in [
        ("BatchNorm2d", (8,), {}),
        ("BatchNorm1d", (3,), {"affine": False}),
        ("InstanceNorm2d", (3,), {}),
    ]:
        mine, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert [(k, tuple(v.shape), str(v.dtype)) for k, v in mine.state_dict().items()] == [
            (k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in theirs.state_dict().items()
        ]
        assert repr(mine) == repr(theirs)


def test_errors_name_the_problem_and_leave_the_statistics_unchanged():
    bn = nn.BatchNorm2d(3)
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(mt.randn(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mt.randn(1, 3, 1, 1))
    with pytest.raises(RuntimeError, match="expected 3 channels"):
        bn(mt.randn(2, 4, 3, 3))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(mt.randn(2, 3), None, None, training=False)
