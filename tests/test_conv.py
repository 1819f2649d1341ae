"""Convolutions against PyTorch: every option of F.conv1d/conv2d/conv_transpose1d/2d, unfold/fold,
the Conv layers (padding modes, 'same', groups, output_size), state_dict interchange of a CNN, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from tests._parity import check

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(14)


def _a(*shape):
    return RNG.standard_normal(shape)


CONV2D = [
    # (N, C, H, W), (O, K), stride, padding, dilation, groups, bias
    ((2, 3, 7, 6), (4, 3), 1, 0, 1, 1, True),
    ((2, 3, 7, 6), (4, 3), 2, 1, 1, 1, False),
    ((1, 4, 9, 8), (6, (3, 2)), (2, 1), (1, 2), (2, 1), 2, True),
    ((2, 4, 5, 5), (4, 3), 1, 1, 1, 4, True),  # depthwise
    ((2, 4, 5, 5), (8, 3), 1, "same", 1, 4, False),  # depthwise multiplier 2
    ((1, 2, 6, 6), (3, 4), 1, "same", 2, 1, True),  # even kernel: the odd pad goes right/bottom
    ((1, 2, 6, 6), (3, 3), 1, "valid", 1, 1, True),
    ((3, 1, 28, 28), (32, 3), 1, 0, 1, 1, True),  # the MNIST net's first layer
]


@pytest.mark.parametrize("xs, ok, stride, padding, dilation, groups, bias", CONV2D)
def test_conv2d_values_and_gradients(xs, ok, stride, padding, dilation, groups, bias):
    o, k = ok
    k = k if isinstance(k, tuple) else (k, k)
    arrays = [_a(*xs), _a(o, xs[1] // groups, *k)] + ([_a(o)] if bias else [])

    def fn(lib, x, w, b=None):
        f = lib.nn.functional
        return f.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    check(torch, mt, fn, *arrays)


@pytest.mark.parametrize("block_bytes", [1, 3000, 12000])
@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((1, 2), (2, 0), (2, 1))])
@pytest.mark.parametrize("channels", [2, 5])
def test_conv2d_blocked_kernels_cover_the_batch_exactly(
    monkeypatch, block_bytes, stride, padding, dilation, channels
):
    # blocks of one output row, of a few rows of one sample, and of several whole samples: each
    # must read (forward, weight gradient) and scatter (input gradient) exactly its own windows;
    # 2 channels gather the columns transposed (a window row, KW·C = 4, is shorter than an output
    # row), 5 channels as rows
    from microtensor.ops import conv as conv_ops

    monkeypatch.setattr(conv_ops, "BLOCK_BYTES", block_bytes)
    arrays = [_a(3, channels, 9, 8), _a(4, channels, 3, 2), _a(4)]

    def fn(lib, x, w, b):
        return lib.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)

    check(torch, mt, fn, *arrays)


def test_conv2d_and_max_pool2d_of_an_empty_batch():
    # no sample: no block of the batch to gather or scatter, zero weight and bias gradients
    def fn(lib, x, w, b):
        f = lib.nn.functional
        return f.max_pool2d(f.relu(f.conv2d(x, w, b, padding=1)), 2)

    check(torch, mt, fn, _a(0, 3, 6, 6), _a(4, 3, 3, 3), _a(4))


@pytest.mark.parametrize(
    "stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 3, 1), (3, 2, 2, 1)]
)
def test_conv1d_values_and_gradients(stride, padding, dilation, groups):
    arrays = [_a(2, 4, 11), _a(6, 4 // groups, 3), _a(6)]
    check(
        torch,
        mt,
        lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, stride, padding, dilation, groups),
        *arrays,
    )


def test_unbatched_conv_input():
    check(torch, mt, lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), _a(2, 5, 5), _a(3, 2, 3, 3))
    check(torch, mt, lambda lib, x, w: lib.nn.functional.conv1d(x, w), _a(2, 5), _a(3, 2, 3))


@pytest.mark.parametrize(
    "stride, padding, output_padding, groups, dilation",
    [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (3, 0, 2, 2, 1), (1, 1, 0, 2, 2), ((2, 1), (0, 1), (1, 0), 1, (1, 2))],
)
def test_conv_transpose2d_values_and_gradients(stride, padding, output_padding, groups, dilation):
    arrays = [_a(2, 4, 5, 4), _a(4, 3, 3, 2), _a(3 * groups)]

    def fn(lib, x, w, b):
        return lib.nn.functional.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)

    check(torch, mt, fn, *arrays)


def test_conv_transpose1d_values_and_gradients():
    def fn(lib, x, w, b):
        return lib.nn.functional.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)

    check(torch, mt, fn, _a(2, 4, 6), _a(4, 3, 3), _a(6))


@pytest.mark.parametrize(
    "kernel, dilation, padding, stride", [(2, 1, 0, 1), ((2, 3), (2, 1), (1, 0), (1, 2))]
)
def test_unfold_and_fold(kernel, dilation, padding, stride):
    check(
        torch,
        mt,
        lambda lib, x: lib.nn.functional.unfold(x, kernel, dilation, padding, stride),
        _a(2, 3, 6, 5),
    )
    cols = torch.nn.functional.unfold(torch.zeros(2, 3, 6, 5), kernel, dilation, padding, stride)
    check(
        torch,
        mt,
        lambda lib, c: lib.nn.functional.fold(c, (6, 5), kernel, dilation, padding, stride),
        _a(*cols.shape),
    )
    check(torch, mt, lambda lib, x: lib.nn.Unfold(kernel, dilation, padding, stride)(x), _a(1, 2, 6, 5))


def test_second_order_gradients_match_pytorch():
    """create_graph through a convolution: each derivative is again a convolution op."""
    x0, w0 = _a(2, 2, 6, 5), _a(3, 2, 3, 3)
    res = []
    for lib in (mt, torch):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        y = lib.nn.functional.conv2d(x, w, stride=2, padding=1, dilation=1)
        gx, gw = lib.autograd.grad((y**2).sum(), (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx**2).sum() + (gw * gw).sum(), (x, w))
        res.append((hx.detach().numpy(), hw.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


PADDING_MODES = list(itertools.product(["zeros", "reflect", "replicate", "circular"], [1, (2, 1), "same"]))


@pytest.mark.parametrize("mode, padding", PADDING_MODES)
def test_conv2d_layer_padding_modes(mode, padding):
    kwargs = {"padding": padding, "padding_mode": mode, "groups": 2, "bias": True}
    mine, theirs = nn.Conv2d(4, 6, 3, **kwargs).double(), torch.nn.Conv2d(4, 6, 3, **kwargs).double()
    mine.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = _a(2, 4, 7, 6)
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = mine(xm), theirs(xt)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = _a(*yt.shape)
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_layer_padding_modes(mode):
    mine, theirs = (
        nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode),
        torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode),
    )
    mine.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = _a(2, 2, 6).astype(np.float32)
    np.testing.assert_allclose(
        mine(mt.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("layer", ["ConvTranspose2d", "ConvTranspose1d"])
def test_conv_transpose_layer_with_output_size(layer):
    nd = 2 if layer.endswith("2d") else 1
    mine, theirs = (
        getattr(nn, layer)(4, 2, 3, stride=2, padding=1),
        getattr(torch.nn, layer)(4, 2, 3, stride=2, padding=1),
    )
    mine.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = _a(1, 4, *([5] * nd)).astype(np.float32)
    size = (10,) * nd
    got = mine(mt.tensor(x), output_size=size).detach().numpy()
    want = theirs(torch.tensor(x), output_size=size).detach().numpy()
    assert got.shape == want.shape == (1, 2, *size)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="output size"):
        mine(mt.tensor(x), output_size=(13,) * nd)


def test_layer_parameters_shapes_init_and_repr_match_pytorch():
    for args, kw in [
        ((3, 8, 5), {}),
        ((4, 8, (3, 2)), {"groups": 2, "bias": False, "stride": 2, "dilation": 2}),
    ]:
        mine, theirs = nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
        ]
        assert repr(mine) == repr(theirs)
        bound = 1 / np.sqrt(args[0] // kw.get("groups", 1) * np.prod(mine.kernel_size))
        w = mine.weight.detach().numpy()
        assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > bound / 2
    t_mine, t_theirs = nn.ConvTranspose2d(4, 6, 3, groups=2), torch.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(t_mine.weight.shape) == tuple(t_theirs.weight.shape) == (4, 3, 3, 3)
    assert repr(t_mine) == repr(t_theirs)


class _Net:
    """The pytorch/examples MNIST net, built in either framework."""

    @staticmethod
    def build(lib):
        n = lib.nn
        return n.Sequential(
            n.Conv2d(1, 8, 3), n.ReLU(), n.Conv2d(8, 16, 3), n.ReLU(), n.MaxPool2d(2), n.Dropout(0.25),
            n.Flatten(), n.Linear(16 * 12 * 12, 32), n.ReLU(), n.Linear(32, 10), n.LogSoftmax(dim=1),
        )  # fmt: skip


def test_cnn_state_dict_moves_both_ways_with_identical_outputs():
    mt.manual_seed(0)
    torch.manual_seed(0)
    mine, theirs = _Net.build(mt).eval(), _Net.build(torch).eval()
    x = RNG.standard_normal((3, 1, 28, 28)).astype(np.float32)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    np.testing.assert_allclose(
        mine(mt.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )
    torch.manual_seed(5)
    other = _Net.build(torch).eval()
    mine.load_state_dict({k: mt.tensor(v.numpy()) for k, v in other.state_dict().items()})
    np.testing.assert_allclose(
        mine(mt.tensor(x)).detach().numpy(), other(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )


def test_training_steps_match_pytorch():
    """Three Adadelta steps of a small CNN from the same weights end at the same weights."""
    mine, theirs = _Net.build(mt).double(), _Net.build(torch).double()
    for m in (mine, theirs):
        m[5].p = 0.0  # dropout off: the two random streams differ
    mine.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    om, ot = mt.optim.Adadelta(mine.parameters(), lr=1.0), torch.optim.Adadelta(theirs.parameters(), lr=1.0)
    x, y = RNG.standard_normal((8, 1, 28, 28)), RNG.integers(0, 10, 8)
    for _ in range(3):
        for model, opt, lib in ((mine, om, mt), (theirs, ot, torch)):
            opt.zero_grad()
            lib.nn.functional.nll_loss(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    for (k, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=k)


def test_float32_stays_float32_and_output_is_channels_last_view():
    x = mt.randn(2, 3, 8, 8)
    y = F.conv2d(x, mt.randn(5, 3, 3, 3), mt.randn(5))
    assert y.dtype == mt.float32 and tuple(y.shape) == (2, 5, 6, 6)
    # the GEMM's rows are the channels-last memory: no copy was made to present (N, O, OH, OW)
    assert y.numpy().transpose(0, 2, 3, 1).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 2, 3, 3)),
            r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels",
        ),
        (lambda: F.conv2d(mt.randn(1, 3, 2, 2), mt.randn(4, 3, 3, 3)), "smaller than the kernel"),
        (lambda: F.conv2d(mt.randn(3, 5), mt.randn(4, 3, 3, 3)), "expected 3-D .unbatched. or 4-D"),
        (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 3, 3, 3), stride=2, padding="same"), "strided"),
        (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 3, 3, 3).double()), "same dtype"),
        (
            lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 3, 3, 3), mt.randn(3)),
            r"bias must have shape \(4,\)",
        ),
        (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(4, 3, 3, 3), stride=0), "stride must be positive"),
        (lambda: F.conv_transpose2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3)), "expects in_channels=2"),
        (
            lambda: F.conv_transpose2d(mt.randn(1, 2, 5, 5), mt.randn(2, 3, 3, 3), output_padding=1),
            "output padding",
        ),
        (lambda: F.fold(mt.randn(1, 4, 5), (3, 3), 2), "does not match output_size"),
    ],
)
def test_bad_arguments_raise_errors_naming_the_problem(call, match):
    with pytest.raises((RuntimeError, TypeError, ValueError), match=match):
        call()


def test_layer_constructor_errors():
    with pytest.raises(ValueError, match="in_channels .3. must be divisible by groups .2."):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
