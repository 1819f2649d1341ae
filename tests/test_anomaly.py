"""Anomaly mode: mt.autograd.detect_anomaly() / set_detect_anomaly(bool)."""

from __future__ import annotations

import inspect
import os
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor.ops.base import Op

HERE = os.path.basename(__file__)


def _line() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
    assert not mt.autograd.is_anomaly_enabled()  # every test leaves the mode off


def test_forward_nan_raises_naming_the_op_and_the_user_line():
    x = mt.tensor([1.0, -1.0], requires_grad=True)
    with mt.autograd.detect_anomaly(), pytest.raises(RuntimeError) as info:
        line = _line() + 1
        x.log()
    msg = str(info.value)
    assert "log" in msg and "LogBackward" in msg and "nan" in msg
    assert f'{HERE}", line {line}' in msg and "x.log()" in msg


def test_forward_inf_raises_also_without_grad():
    match = rf"(?s)exp \(ExpBackward\) produced inf.*{HERE}"
    with mt.autograd.detect_anomaly(), mt.no_grad(), pytest.raises(RuntimeError, match=match):
        mt.tensor([1000.0]).exp()


def test_nan_already_in_the_inputs_is_not_blamed_on_the_op():
    with mt.autograd.detect_anomaly():
        y = mt.tensor([float("nan"), 1.0]) * 2  # the NaN was not produced here
    assert np.isnan(y.numpy()[0])


def test_backward_nan_raises_naming_the_backward_op_and_where_it_was_created():
    x = mt.tensor([0.0, 4.0], requires_grad=True)
    with mt.autograd.detect_anomaly():
        line = _line() + 1
        y = x.sqrt() * mt.tensor([0.0, 1.0])  # forward finite; backward of sqrt at 0: 0 / 0 = nan
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "SqrtBackward" in msg and "nan" in msg and "0th output" in msg
    assert f'{HERE}", line {line}' in msg


def test_backward_inf_raises():
    x = mt.tensor([0.0], requires_grad=True)
    with mt.autograd.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(RuntimeError, match=rf"(?s)SqrtBackward.*inf.*{HERE}"):
            y.backward()


def test_outside_the_mode_nothing_raises():
    assert not mt.autograd.is_anomaly_enabled()
    x = mt.tensor([0.0, -1.0], requires_grad=True)
    y = x.log()  # nan and -inf, silently, as PyTorch
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(y.detach().numpy()[1]) and np.isnan(x.grad.numpy()[0])


def test_flag_restored_after_the_with_block_even_on_error():
    assert not mt.autograd.is_anomaly_enabled()
    with mt.autograd.detect_anomaly():
        assert mt.autograd.is_anomaly_enabled()
        with mt.autograd.detect_anomaly(check_nan=False):
            assert not mt.autograd.is_anomaly_enabled()
            mt.tensor([-1.0]).log()  # check_nan=False: off inside
        assert mt.autograd.is_anomaly_enabled()
    assert not mt.autograd.is_anomaly_enabled()
    with pytest.raises(RuntimeError, match="log"), mt.autograd.detect_anomaly():
        mt.tensor([-1.0]).log()
    assert not mt.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_as_function_and_context_manager():
    mt.autograd.set_detect_anomaly(True)
    try:
        assert mt.autograd.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="SqrtBackward"):
            mt.tensor([-1.0]).sqrt()
    finally:
        mt.autograd.set_detect_anomaly(False)
    assert not mt.autograd.is_anomaly_enabled()
    with mt.autograd.set_detect_anomaly(True):
        assert mt.autograd.is_anomaly_enabled()
    assert not mt.autograd.is_anomaly_enabled()


def test_finite_training_step_is_unaffected():
    mt.manual_seed(0)
    model = mt.nn.Linear(3, 1)
    x = mt.randn(4, 3)
    with mt.autograd.detect_anomaly():
        loss = model(x).pow(2).mean()
        loss.backward()
    ref = mt.nn.Linear(3, 1)
    ref.load_state_dict(model.state_dict())
    loss2 = ref(x).pow(2).mean()
    loss2.backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), ref.weight.grad.numpy())


class _SumsTooMuch(Op):
    """A buggy op (not registered: leading underscore) whose derivative loses x's shape."""

    derivatives = {"x": "sum(grad * 2)"}

    def forward(self, x):
        return x * 2


def test_a_wrong_gradient_shape_from_an_op_is_caught_in_anomaly_mode():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with mt.autograd.detect_anomaly():
        y = _SumsTooMuch()(x).sum()
        match = r"_SumsTooMuchBackward' returned a gradient of shape \(\) for its input 0 of shape \(2,\)"
        with pytest.raises(RuntimeError, match=match):
            y.backward()
