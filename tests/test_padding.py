"""F.pad and the padding modules against PyTorch: every mode, 1-3 padded dims, with and without a
batch dim, negative (cropping) sizes, values and gradients; and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")

CASES = [
    # shape, pad, mode, value
    ((2, 3, 4), (1, 2), "constant", 1.5), ((2, 3, 4), (1, 2, 0, 1, 2, 0), "constant", None),
    ((5,), (3, 0), "constant", None), ((2, 3, 4), (-1, 2, 1, -2), "constant", 0.5),
    ((2, 3, 4, 5), (1, 1, 0, 2, 1, 0, 2, 2), "constant", -1.0), ((2, 0, 3), (1, 1, 2, 0), "constant", 2.0),
    ((3, 5), (2, 3), "reflect", None), ((2, 3, 5), (4, 1), "reflect", None),
    ((2, 3, 4), (1, 3, 2, 1), "reflect", None),
    ((1, 2, 3, 4), (2, 1, 0, 2), "reflect", None), ((1, 2, 3, 3, 4), (1, 2, 2, 1, 1, 0), "reflect", None),
    ((2, 3, 4), (-1, 2), "reflect", None),
    ((3, 5), (2, 4), "replicate", None), ((2, 3, 4), (3, 1, 0, 2), "replicate", None),
    ((2, 2, 3, 4), (1, 1, 2, 2, 1, 3), "replicate", None), ((2, 3, 4), (-1, 2), "replicate", None),
    ((3, 5), (2, 4), "circular", None), ((2, 3, 4), (3, 1, 0, 2), "circular", None),
    ((1, 2, 3, 4, 2), (1, 1, 2, 2, 1, 3), "circular", None), ((2, 3, 4), (-1, 2), "circular", None),
    ((2, 3, 4), (4, 4), "circular", None),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "pad", "mode", "value"), CASES, ids=[f"{c[2]}-{c[1]}" for c in CASES])
def test_pad_values_and_gradients_match_pytorch(shape, pad, mode, value):
    v = np.random.default_rng(0).normal(size=shape)
    x, tx = mt.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, ty = F.pad(x, pad, mode, value), torch.nn.functional.pad(tx, pad, mode, value)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    w = np.cos(np.arange(y.numel())).reshape(y.shape)
    y.backward(mt.tensor(w))
    ty.backward(torch.tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_pad_second_order_matches_pytorch():
    v = np.random.default_rng(1).normal(size=(2, 3, 4))
    for mode, pad in (("constant", (1, -1, 2, 0)), ("reflect", (2, 1)), ("replicate", (1, 2, 2, 1)),
                      ("circular", (2, 1))):  # fmt: skip
        x, tx = mt.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        (g,) = mt.autograd.grad((F.pad(x, pad, mode) ** 3).sum(), x, create_graph=True)
        ty = torch.nn.functional.pad(tx, pad, mode)
        (tg,) = torch.autograd.grad((ty**3).sum(), tx, create_graph=True)
        (gg,) = mt.autograd.grad((g * g).sum(), x)
        (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, err_msg=mode)


@pytest.mark.parametrize(
    "make",
    ["ZeroPad1d(2)", "ZeroPad2d((1, 0, 2, 1))", "ZeroPad3d(1)", "ConstantPad1d((1, 2), 3.5)",
     "ConstantPad2d(1, -1.0)", "ConstantPad3d((1, 0, 0, 1, 1, 1), 2.0)", "ReflectionPad1d(2)",
     "ReflectionPad2d((1, 2, 0, 1))", "ReflectionPad3d(1)", "ReplicationPad1d((0, 3))", "ReplicationPad2d(2)",
     "ReplicationPad3d((1, 0, 2, 0, 0, 1))",
     "CircularPad1d(1)", "CircularPad2d((1, 2, 2, 1))", "CircularPad3d(1)"],
)  # fmt: skip
def test_padding_modules_match_pytorch(make):
    mine, theirs = eval(f"nn.{make}"), eval(f"torch.nn.{make}")  # noqa: S307 - the literals above
    assert repr(mine) == repr(theirs) and mine.padding == theirs.padding
    v = np.random.default_rng(2).normal(size=(2, 3, 3, 4, 5)[5 - (mine._dims + 2) :])
    np.testing.assert_array_equal(mine(mt.tensor(v)).numpy(), theirs(torch.tensor(v)).numpy())


def test_pad_errors_name_the_problem():
    x = mt.zeros(2, 3)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(x, (1,) * 6)
    with pytest.raises(RuntimeError, match="should be less than the corresponding input dimension"):
        F.pad(mt.zeros(1, 2, 3), (3, 0), "reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(mt.zeros(1, 2, 3), (4, 0), "circular")
    with pytest.raises(NotImplementedError, match="Padding size 4 is not supported for 2D"):
        F.pad(x, (1, 1, 1, 1), "replicate")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(mt.zeros(1, 2, 3), (1, 1), "reflect", 1.0)
    with pytest.raises(NotImplementedError, match="unknown padding mode"):
        F.pad(x, (1, 1), "mirror")
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(x, (-2, -2))
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))
