"""Pooling, interpolation, pixel shuffle, channel dropout and Unflatten against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from tests._parity import check

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _a(*shape):
    return RNG.standard_normal(shape)


MAX2D = [
    # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, True),
    (3, 2, 1, 2, False),
    (2, 3, 1, 1, True),
    ((2, 3), (1, 2), (1, 0), (2, 1), True),
    (3, 1, 0, 1, False),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX2D)
def test_max_pool2d_values_indices_gradients(kernel, stride, padding, dilation, ceil_mode):
    def fn(lib, x):
        return lib.nn.functional.max_pool2d(
            x, kernel, stride, padding, dilation, ceil_mode, return_indices=True
        )

    check(torch, mt, fn, _a(2, 3, 7, 8))
    check(
        torch,
        mt,
        lambda lib, x: lib.nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)(x),
        _a(3, 7, 8),
    )


def test_max_pool_ties_and_nan_follow_pytorch():
    x = np.array(
        [[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0], [np.nan, 0.0, 3.0, 3.0], [0.0, 0.0, 3.0, 3.0]]]]
    )
    check(torch, mt, lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True), x, grad=False)
    t = x.copy()
    t[0, 0, 2, 0] = 0.0
    check(
        torch, mt, lambda lib, x: lib.nn.functional.max_pool2d(x, 2), t
    )  # ties: the first one gets the gradient


@pytest.mark.parametrize("kernel, size", [(2, (8, 6)), (2, (7, 9)), (3, (9, 6)), ((2, 3), (6, 7))])
@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool2d_tiling_windows_route_ties_to_the_first(kernel, size, channels_last):
    # kernel == stride without padding: the windows tile the input (the fast path); ReLU's zeros
    # make whole windows of ties, a NaN takes its window's gradient, and rows or columns beyond
    # the last window (7 = 3·2 + 1) get none
    x = np.round(_a(2, 3, *size), 1)
    x[0, 0, 1, 1] = np.nan

    def fn(lib, x):
        x = lib.relu(x)
        if channels_last:  # the memory layout a convolution's output has
            x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        return lib.nn.functional.max_pool2d(x, kernel)

    check(torch, mt, fn, x)


@pytest.mark.parametrize(
    "kernel, stride, padding, dilation, ceil_mode", [(2, None, 0, 1, False), (3, 2, 1, 2, True)]
)
def test_max_pool1d(kernel, stride, padding, dilation, ceil_mode):
    def fn(lib, x):
        return lib.nn.functional.max_pool1d(
            x, kernel, stride, padding, dilation, ceil_mode, return_indices=True
        )

    check(torch, mt, fn, _a(2, 3, 11))
    check(
        torch,
        mt,
        lambda lib, x: lib.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode),
        _a(2, 3, 11),
    )


AVG2D = [
    # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None),
    (3, 2, 1, True, False, None),
    (3, 2, 1, True, True, None),
    (2, 3, 1, True, True, 5),
    ((3, 2), (2, 1), (1, 1), False, False, None),
]


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad, divisor_override", AVG2D)
def test_avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    def fn(lib, x):
        return lib.nn.functional.avg_pool2d(
            x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
        )

    check(torch, mt, fn, _a(2, 3, 7, 8))
    layer = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    check(torch, mt, lambda lib, x: lib.nn.AvgPool2d(*layer)(x), _a(2, 3, 7, 8))


@pytest.mark.parametrize("ceil_mode, count_include_pad", [(False, True), (True, False)])
def test_avg_pool1d(ceil_mode, count_include_pad):
    check(
        torch,
        mt,
        lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode, count_include_pad),
        _a(2, 3, 10),
    )
    check(torch, mt, lambda lib, x: lib.nn.AvgPool1d(3, 2, 1, ceil_mode, count_include_pad)(x), _a(3, 10))


@pytest.mark.parametrize("size", [(3, 5), (2, 2), (7, 8), 1, (None, 3), (4, 1)])
def test_adaptive_pool2d(size):
    x = _a(2, 3, 7, 8)
    check(torch, mt, lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size), x)
    check(torch, mt, lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, size, return_indices=True), x)
    check(torch, mt, lambda lib, x: lib.nn.AdaptiveAvgPool2d(size)(x), x[0])
    check(torch, mt, lambda lib, x: lib.nn.AdaptiveMaxPool2d(size)(x), x)


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_pool1d(size):
    x = _a(2, 3, 9)
    check(torch, mt, lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, size), x)
    check(torch, mt, lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, size, return_indices=True), x)
    check(torch, mt, lambda lib, x: lib.adaptive_max_pool1d(x, size), x)  # torch's returns both
    check(torch, mt, lambda lib, x: lib.nn.AdaptiveMaxPool1d(size)(x), x)


@pytest.mark.parametrize(
    "kernel, stride, padding, output_size", [(2, None, 0, None), (3, 2, 1, (9, 8)), (2, 2, 0, (9, 9))]
)
def test_max_unpool2d_inverts_max_pool2d(kernel, stride, padding, output_size):
    x = _a(2, 3, 9, 8)
    _, idx = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    pooled = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding).numpy()

    def fn(lib, y):
        i = lib.tensor(idx.numpy())
        return lib.nn.MaxUnpool2d(kernel, stride, padding)(y, i, output_size=output_size)

    check(torch, mt, fn, pooled)


INTERP = [
    ({"scale_factor": 2}, "nearest", None),
    ({"size": (5, 7)}, "nearest", None),
    ({"scale_factor": 0.6}, "nearest-exact", None),
    ({"size": (5, 9)}, "bilinear", False),
    ({"size": (5, 9)}, "bilinear", True),
    ({"scale_factor": (1.5, 2.5)}, "bilinear", False),
    ({"scale_factor": 3}, "bilinear", True),
    ({"size": (2, 3)}, "bilinear", None),
]


@pytest.mark.parametrize("how, mode, align_corners", INTERP)
def test_interpolate_2d(how, mode, align_corners):
    check(
        torch,
        mt,
        lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **how),
        _a(2, 3, 4, 6),
    )


@pytest.mark.parametrize(
    "how, mode, align_corners",
    [({"scale_factor": 2}, "linear", False), ({"size": 7}, "linear", True), ({"size": 3}, "nearest", None)],
)
def test_interpolate_1d(how, mode, align_corners):
    check(
        torch,
        mt,
        lambda lib, x: lib.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **how),
        _a(2, 3, 5),
    )


def test_upsample_layers():
    x = _a(1, 2, 3, 4)
    check(torch, mt, lambda lib, x: lib.nn.Upsample(scale_factor=2, mode="bilinear")(x), x)
    check(torch, mt, lambda lib, x: lib.nn.UpsamplingNearest2d(size=(6, 5))(x), x)
    check(torch, mt, lambda lib, x: lib.nn.UpsamplingBilinear2d(scale_factor=2)(x), x)
    assert repr(nn.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))


def test_pixel_shuffle_and_unshuffle():
    check(torch, mt, lambda lib, x: lib.nn.PixelShuffle(2)(x), _a(2, 8, 3, 4))
    check(torch, mt, lambda lib, x: lib.nn.functional.pixel_shuffle(x, 3), _a(9, 2, 2))
    check(torch, mt, lambda lib, x: lib.nn.PixelUnshuffle(2)(x), _a(2, 2, 4, 6))
    x = mt.tensor(_a(1, 3, 4, 4))
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(x, 2), 2).numpy(), x.numpy())


def test_unflatten():
    check(torch, mt, lambda lib, x: lib.nn.Unflatten(1, (2, 3))(x), _a(4, 6, 2))
    check(torch, mt, lambda lib, x: lib.nn.Unflatten(-1, (3, 2))(x), _a(4, 6))


@pytest.mark.parametrize(
    "mode, pads",
    [
        ("constant", (1, 2, 0, 1)),
        ("constant", (-1, 2)),
        ("reflect", (2, 1, 1, 2)),
        ("replicate", (3, 0, 1, 1)),
        ("circular", (2, 1, 1, 2)),
    ],
)
def test_pad(mode, pads):
    check(torch, mt, lambda lib, x: lib.nn.functional.pad(x, pads, mode=mode), _a(2, 3, 4, 5))
    if mode == "constant":
        check(torch, mt, lambda lib, x: lib.nn.functional.pad(x, pads, value=2.5), _a(2, 3, 4, 5))


@pytest.mark.parametrize(
    "layer, shape",
    [("Dropout1d", (40, 30, 5)), ("Dropout2d", (40, 30, 3, 3)), ("Dropout3d", (20, 30, 2, 2, 2))],
)
def test_channel_dropout_zeroes_whole_channels(layer, shape):
    mt.manual_seed(0)
    drop = getattr(nn, layer)(0.4)
    x = mt.ones(*shape)
    y = drop(x).numpy()
    per_channel = y.reshape(shape[0], shape[1], -1)
    # every channel is entirely 0 or entirely 1/(1 − p): whole feature maps are dropped
    assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.6).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert 0.3 < frac < 0.5
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    assert repr(drop) == repr(getattr(torch.nn, layer)(0.4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        getattr(nn, layer)(1.5)


def test_pooling_reprs_match_pytorch():
    for name, args in [
        ("MaxPool2d", (3, 2, 1)),
        ("AvgPool2d", (2,)),
        ("AdaptiveAvgPool2d", ((1, 1),)),
        ("MaxPool1d", (2,)),
    ]:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args)), name


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.max_pool2d(mt.randn(1, 1, 4, 4), 2, padding=2), "pad should be at most half"),
        (lambda: F.max_pool2d(mt.randn(1, 1, 2, 2), 3), "too small"),
        (lambda: F.max_pool2d(mt.randn(4, 4), 2), "expected 3-D .unbatched. or 4-D"),
        (lambda: F.avg_pool2d(mt.randn(1, 1, 4, 4), 2, divisor_override=0), "divisor"),
        (
            lambda: F.interpolate(mt.randn(1, 1, 4, 4), size=3, scale_factor=2),
            "only one of size or scale_factor",
        ),
        (lambda: F.interpolate(mt.randn(1, 1, 4, 4), size=3, mode="bicubic"), "not supported"),
        (lambda: F.interpolate(mt.randn(1, 1, 4, 4), size=3, align_corners=True), "align_corners"),
        (lambda: F.pixel_shuffle(mt.randn(1, 3, 2, 2), 2), "divisible"),
        (lambda: F.pad(mt.randn(1, 2, 3), (3, 3), mode="reflect"), "[Pp]adding size should be less"),
        (
            lambda: F.max_unpool2d(mt.randn(1, 1, 2, 2), mt.tensor([[[[0, 1], [99, 3]]]]), 2),
            "invalid max index",
        ),
    ],
)
def test_bad_arguments_raise_errors_naming_the_problem(call, match):
    with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError), match=match):
        call()
