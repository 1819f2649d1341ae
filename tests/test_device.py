"""The CPU-only device model: device objects, device= on factories, .to()/.cpu()/.cuda(), the
cuda/mps/accelerator queries, and clear errors for any other device."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import microtensor as mt
from microtensor.data import DataLoader, TensorDataset


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def test_device_objects_match_torch(torch):
    for args in (("cpu",), ("cpu", 0), ("cpu:0",), ("cpu:3",)):
        d, td = mt.device(*args), torch.device(*args)
        assert (d.type, d.index, repr(d), str(d)) == (td.type, td.index, repr(td), str(td))
    assert mt.device("cpu") == mt.device("cpu") and mt.device("cpu", 0) == mt.device("cpu:0")
    assert mt.device("cpu") != mt.device("cpu:0")  # index None is not index 0, as torch
    assert (mt.device("cpu") == "cpu") is (torch.device("cpu") == "cpu")  # False in both
    assert mt.device(mt.device("cpu:1")) == mt.device("cpu", 1)
    assert hash(mt.device("cpu")) == hash(mt.device("cpu")) and len({mt.device("cpu"), mt.device("cpu")}) == 1
    assert pickle.loads(pickle.dumps(mt.device("cpu:2"))) == mt.device("cpu:2")


def test_tensor_device_fields():
    x = mt.zeros(2)
    assert x.device == mt.device("cpu") and x.device.type == "cpu" and x.is_cuda is False
    assert x.cpu() is x and x.pin_memory() is x and x.is_pinned() is False
    assert mt.get_default_device() == mt.device("cpu")
    mt.set_default_device("cpu")
    mt.set_default_device(None)
    with pytest.raises(RuntimeError, match="set_default_device: microtensor runs on the CPU only"):
        mt.set_default_device("cuda")


@pytest.mark.parametrize("bad", ["cuda", "cuda:0", "mps", "xpu", 0])
def test_other_devices_raise_a_clear_error_everywhere(bad):
    x = mt.ones(2)
    for call in (
        lambda: mt.zeros(2, device=bad),
        lambda: mt.tensor([1.0], device=bad),
        lambda: mt.arange(3, device=bad),
        lambda: mt.randn(2, device=bad),
        lambda: mt.randint(0, 3, (2,), device=bad),
        lambda: mt.randperm(3, device=bad),
        lambda: x.to(bad),
        lambda: x.to(device=bad, dtype=mt.float64),
        lambda: mt.nn.Linear(2, 2).to(bad),
        lambda: mt.Generator(device=bad),
    ):
        with pytest.raises(RuntimeError, match="microtensor runs on the CPU only"):
            call()
    assert x.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="cuda: microtensor runs on the CPU only"):
        x.cuda()
    with pytest.raises(RuntimeError, match="unknown device 'gpu'"):
        mt.ones(2, device="gpu")


def test_every_factory_accepts_the_cpu_device():
    cpu = mt.device("cpu")
    made = [
        mt.tensor([1.0, 2.0], device="cpu"),
        mt.as_tensor([1.0], device=cpu),
        mt.zeros(2, device="cpu:0"),
        mt.ones(2, device=cpu, pin_memory=True),
        mt.empty(2, device=cpu),
        mt.full((2,), 3.0, device=cpu),
        mt.zeros_like(mt.ones(2), device=cpu),
        mt.ones_like(mt.ones(2), device=cpu),
        mt.full_like(mt.ones(2), 2.0, device=cpu),
        mt.arange(3, device=cpu),
        mt.linspace(0, 1, 3, device=cpu),
        mt.eye(2, device=cpu),
        mt.rand(2, device=cpu, pin_memory=True),
        mt.randn(2, device=cpu),
        mt.randint(3, (2,), device=cpu),
        mt.randperm(3, device=cpu),
        mt.rand_like(mt.ones(2), device=cpu),
        mt.randn_like(mt.ones(2), device=cpu),
        mt.randint_like(mt.ones(2), 4, device=cpu),
        mt.normal(0.0, 1.0, (2,), device=cpu),
    ]
    assert all(t.device == cpu for t in made)


def test_to_forms_match_torch(torch):
    x, tx = mt.tensor([1.5, -2.0]), torch.tensor([1.5, -2.0])
    assert x.to("cpu") is x and tx.to("cpu") is tx
    assert x.to(mt.device("cpu")) is x
    assert x.to(mt.float32) is x
    for m_args, m_kwargs, t_args, t_kwargs in (
        ((mt.float64,), {}, (torch.float64,), {}),
        (("cpu", mt.float64), {}, ("cpu", torch.float64), {}),
        ((), {"device": "cpu", "dtype": mt.int64}, (), {"device": "cpu", "dtype": torch.int64}),
        ((mt.zeros(1, dtype=mt.float64),), {}, (torch.zeros(1, dtype=torch.float64),), {}),
        ((mt.float16,), {"non_blocking": True}, (torch.float16,), {"non_blocking": True}),
    ):
        a, b = x.to(*m_args, **m_kwargs), tx.to(*t_args, **t_kwargs)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.") and a.tolist() == b.tolist()
    y = x.to("cpu", copy=True)
    assert y is not x and y.tolist() == x.tolist()
    y[0] = 9.0
    assert x.tolist() == [1.5, -2.0]  # a real copy
    z = x.to(mt.float32, False, True)  # to(dtype, non_blocking, copy) positionally
    assert z is not x


def test_to_is_differentiable_and_keeps_the_graph():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    (w.to("cpu", mt.float64) * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0] and w.grad.dtype == mt.float32
    v = mt.tensor([1.0], requires_grad=True)
    (v.to(copy=True) * 2).sum().backward()
    assert v.grad.tolist() == [2.0]


def test_module_to_device_and_dtype():
    model = mt.nn.Linear(2, 3)
    w = model.weight
    assert model.to("cpu") is model and model.to(mt.device("cpu")) is model
    assert model.to("cpu", mt.float64).weight is w and w.dtype == mt.float64
    assert model.to(device="cpu:0", dtype=mt.float32).weight.dtype == mt.float32
    assert model.to(mt.zeros(1, dtype=mt.float64)).weight.dtype == mt.float64
    with pytest.raises(TypeError, match="only accepts floating point"):
        model.to(mt.int64)
    assert w.dtype == mt.float64  # unchanged by the refused call


def test_accelerator_queries():
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0
    assert mt.cuda.manual_seed(3) is None and mt.cuda.manual_seed_all(3) is None
    assert mt.backends.mps.is_available() is False and mt.backends.mps.is_built() is False
    assert mt.accelerator.is_available() is False and mt.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mt.cuda.current_device()
    # the usual device-agnostic idiom runs unchanged
    device = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    assert mt.randn(2, 2, device=device).to(device).device == mt.device("cpu")


def test_dataloader_accepts_pin_memory():
    ds = TensorDataset(mt.arange(6).float(), mt.arange(6))
    batches = list(DataLoader(ds, batch_size=4, pin_memory=True))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5]]
    assert np.array_equal(batches[0][0].numpy(), [0.0, 1.0, 2.0, 3.0])


def test_layers_accept_device_objects():
    dev = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    layer = mt.nn.Linear(2, 3, device=dev)
    assert layer.weight.device == dev and layer(mt.ones(1, 2, device=dev)).shape == (1, 3)
    with pytest.raises(RuntimeError, match="Linear: microtensor runs on the CPU only"):
        mt.nn.Linear(2, 3, device="cuda")
