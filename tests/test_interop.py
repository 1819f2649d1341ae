"""Interop with PyTorch and NumPy: state dicts both ways through safetensors, and arrays without copies.

The state-dict test walks every Module subclass that microtensor.nn exports: a layer added later is
covered automatically when its PyTorch constructor arguments below fit it, and fails loudly (asking
for an entry in LAYERS) when it cannot be built without arguments.
"""

import inspect

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as mnn

# ------------------------------------------------------- state dicts both ways

# name -> (constructor: (nn namespace, to_tensor) -> (args, kwargs), inputs: rng -> list of arrays).
# Names and arguments are PyTorch's, so the same entry builds the layer in both frameworks.
# Entries for layers microtensor does not have (yet) are simply unused.


def _f32(*shape):
    return lambda rng: [rng.standard_normal(shape).astype(np.float32)]


def _no_args(nn, T):
    return (), {}


def _loss_inputs(kind):
    def make(rng):
        logits = rng.standard_normal((4, 3)).astype(np.float32)
        if kind == "prob":
            return [1 / (1 + np.exp(-logits)), rng.random((4, 3)).astype(np.float32)]
        if kind == "logits":
            return [logits, rng.random((4, 3)).astype(np.float32)]
        if kind == "logprob":
            return [logits - np.log(np.exp(logits).sum(1, keepdims=True)), np.array([0, 2, 1, 2])]
        return [logits, np.array([0, 2, 1, 2])]

    return make


_W3 = np.array([0.5, 2.0, 1.25], np.float32)

LAYERS = {
    "Linear": (lambda nn, T: ((3, 5), {}), _f32(4, 3)),
    "Bilinear": (lambda nn, T: ((3, 2, 4), {}), lambda rng: [*_f32(4, 3)(rng), *_f32(4, 2)(rng)]),
    "Sequential": (lambda nn, T: ((nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), {}), _f32(5, 3)),
    "ModuleList": None,  # a container without forward: covered through Sequential
    "ModuleDict": None,
    "ParameterList": None,
    "ParameterDict": None,
    "Conv1d": (lambda nn, T: ((2, 3, 3), {"padding": 1}), _f32(2, 2, 7)),
    "Conv2d": (lambda nn, T: ((2, 3, 3), {"padding": 1, "stride": 2}), _f32(2, 2, 7, 6)),
    "ConvTranspose2d": (lambda nn, T: ((2, 3, 3), {"stride": 2}), _f32(2, 2, 4, 5)),
    "BatchNorm1d": (lambda nn, T: ((3,), {}), _f32(6, 3)),
    "BatchNorm2d": (lambda nn, T: ((3,), {}), _f32(2, 3, 4, 4)),
    "LayerNorm": (lambda nn, T: ((5,), {}), _f32(2, 3, 5)),
    "GroupNorm": (lambda nn, T: ((2, 4), {}), _f32(2, 4, 3)),
    "Embedding": (lambda nn, T: ((10, 4), {}), lambda rng: [rng.integers(0, 10, (3, 5))]),
    "RNN": (lambda nn, T: ((3, 4), {"batch_first": True}), _f32(2, 5, 3)),
    "GRU": (lambda nn, T: ((3, 4), {"batch_first": True}), _f32(2, 5, 3)),
    "LSTM": (lambda nn, T: ((3, 4), {"batch_first": True}), _f32(2, 5, 3)),
    "RNNCell": (lambda nn, T: ((3, 4), {}), _f32(2, 3)),
    "GRUCell": (lambda nn, T: ((3, 4), {}), _f32(2, 3)),
    "LSTMCell": (lambda nn, T: ((3, 4), {}), _f32(2, 3)),
    "MultiheadAttention": (
        lambda nn, T: ((8, 2), {"batch_first": True}),
        lambda rng: [rng.standard_normal((2, 3, 8)).astype(np.float32)] * 3,
    ),
    "TransformerEncoderLayer": (
        lambda nn, T: ((8, 2), {"dim_feedforward": 16, "dropout": 0.0, "batch_first": True}),
        _f32(2, 3, 8),
    ),
    "PReLU": (_no_args, _f32(4, 3)),
    "BCELoss": (lambda nn, T: ((), {"weight": T(_W3)}), _loss_inputs("prob")),
    "BCEWithLogitsLoss": (
        lambda nn, T: ((), {"weight": T(_W3), "pos_weight": T(_W3[::-1].copy())}),
        _loss_inputs("logits"),
    ),
    "CrossEntropyLoss": (lambda nn, T: ((), {"weight": T(_W3)}), _loss_inputs("class")),
    "NLLLoss": (lambda nn, T: ((), {"weight": T(_W3)}), _loss_inputs("logprob")),
    # activations (issue 13)
    "Threshold": (lambda nn, T: ((0.1, -1.0), {}), _f32(4, 3)),
}
for _kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):  # issue 13's padding layers
    for _d in (1, 2, 3):
        LAYERS[f"{_kind}Pad{_d}d"] = (
            (lambda nn, T: ((1, 2.0), {})) if _kind == "Constant" else (lambda nn, T: ((1,), {})),
            _f32(*(2, 3, 4, 5)[: _d + 1]),
        )


def _exported_modules():
    return sorted(
        name
        for name, obj in vars(mnn).items()
        if not name.startswith("_")
        and inspect.isclass(obj)
        and issubclass(obj, mnn.Module)
        and obj is not mnn.Module
    )


def _build(name, nn, T):
    entry = LAYERS.get(name)
    make = entry[0] if entry else _no_args
    args, kwargs = make(nn, T)
    try:
        return getattr(nn, name)(*args, **kwargs)
    except TypeError as e:
        if entry is None:
            pytest.fail(f"nn.{name} cannot be built without arguments ({e}); add it to LAYERS in {__file__}")
        raise


def _with_state(name):
    """The exported layers whose instance (built from LAYERS) has parameters or buffers."""
    m = _build(name, mnn, mt.tensor)
    return bool(m.state_dict())


def _to_numpy(out):
    if isinstance(out, tuple | list):
        return [_to_numpy(o) for o in out]
    if out is None:
        return None
    return out.detach().numpy()


def _assert_outputs_equal(got, want, name):
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), name
        for g, w in zip(got, want):
            _assert_outputs_equal(g, w, name)
        return
    if want is None:
        assert got is None, name
        return
    assert got.shape == want.shape and got.dtype == want.dtype, (name, got.shape, want.shape)
    # the same weights and inputs in float32: equal up to summation order in the BLAS kernels
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6, err_msg=name)


def test_every_exported_module_is_considered():
    names = _exported_modules()
    assert {"Linear", "Sequential", "BCELoss", "Tanh"} <= set(names)
    with_state = [n for n in names if _with_state(n)]
    assert {"Linear", "Sequential", "BCELoss", "CrossEntropyLoss"} <= set(with_state)


STATEFUL = [n for n in _exported_modules() if LAYERS.get(n, ()) is not None]


@pytest.mark.parametrize("direction", ["microtensor-to-torch", "torch-to-microtensor"])
@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_moves_between_microtensor_and_pytorch_with_identical_outputs(tmp_path, name, direction):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    if not _with_state(name):
        pytest.skip(f"nn.{name} has no parameters or buffers")
    assert hasattr(torch.nn, name), f"nn.{name} has no PyTorch counterpart to check its state_dict against"
    mt.manual_seed(0)
    torch.manual_seed(1)  # different initial weights: only the state dict can make them agree
    mine = _build(name, mnn, mt.tensor).eval()
    theirs = _build(name, torch.nn, torch.tensor).eval()
    path = tmp_path / "state.safetensors"
    if direction == "microtensor-to-torch":
        mt.save(mine.state_dict(), path)
        theirs.load_state_dict(st_torch.load_file(path))  # strict: same keys, shapes, dtypes
    else:
        sd = theirs.state_dict()
        st_torch.save_file({k: v.contiguous() for k, v in sd.items()}, path)
        loaded = mt.load(path)
        assert sorted(loaded) == sorted(sd)
        mine.load_state_dict(loaded)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[key].numpy(), value.numpy(), err_msg=key)

    inputs = LAYERS.get(name, (None, _f32(4, 3)))[1](np.random.default_rng(2))
    with torch.no_grad():
        want = _to_numpy(theirs(*[torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]))
    got = _to_numpy(mine(*[mt.tensor(x) for x in inputs]))
    _assert_outputs_equal(got, want, name)


# ------------------------------------------------------- arrays without copies

DTYPES = ["float16", "float32", "float64", "bool", "uint8", "int8", "int16", "int32", "int64"]


def _sample(dtype, shape=(3, 4)):
    return (np.arange(np.prod(shape)).reshape(shape) % 7).astype(dtype)


def _poke(arr):
    """Write a distinctive value through `arr` (any dtype) and return it."""
    value = np.array(True if arr.dtype == np.bool_ else 5).astype(arr.dtype)
    arr[(0,) * arr.ndim] = value
    return value


def test_numpy_shares_memory_and_force_detaches():
    t = mt.zeros(3)
    a = t.numpy()
    a[0] = 1.0
    assert t.tolist() == [1.0, 0.0, 0.0]
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad.*force=True"):
        w.numpy()
    forced = w.numpy(force=True)
    assert np.shares_memory(forced, w.detach().numpy())
    with pytest.raises(TypeError):
        w.numpy(True)  # keyword-only, as in PyTorch


def test_numpy_conversion_protocol_shares_or_copies_as_asked():
    t = mt.arange(6).reshape(2, 3).to(mt.float32)
    shared = np.asarray(t)
    assert np.shares_memory(shared, t.numpy())
    shared[0, 0] = 7.0
    assert t[0, 0].item() == 7.0
    assert np.shares_memory(np.asarray(t, copy=False), t.numpy())
    copied = np.array(t)
    assert not np.shares_memory(copied, t.numpy())
    np.testing.assert_array_equal(copied, t.numpy())
    converted = np.asarray(t, dtype=np.float64)
    assert converted.dtype == np.float64 and not np.shares_memory(converted, t.numpy())
    assert np.asarray(t, dtype=np.float32) is t.numpy()
    with pytest.raises(ValueError, match="needs a copy"):
        np.asarray(t, dtype=np.float64, copy=False)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(mt.ones(2, requires_grad=True))
    assert not hasattr(t, "__array_interface__")  # as torch.Tensor: NumPy goes through __array__


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_numpy_shares_memory_both_ways(dtype):
    for arr in (_sample(dtype), _sample(dtype).T, _sample(dtype)[::2, 1:], np.array(_sample(dtype)[1, 1])):
        t = mt.from_numpy(arr)
        assert t.dtype == arr.dtype and t.shape == arr.shape
        assert t.numpy() is arr or np.shares_memory(t.numpy(), arr)
        value = _poke(arr)
        assert t.numpy()[(0,) * arr.ndim] == value
    with pytest.raises(TypeError, match="from_numpy"):
        mt.from_numpy([1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_shares_memory_with_pytorch_both_ways(dtype):
    torch = pytest.importorskip("torch")
    for base in (_sample(dtype), _sample(dtype).T, _sample(dtype)[::2, 1:], np.array(_sample(dtype)[2, 3])):
        t = mt.from_numpy(base.copy() if base.ndim == 0 else base)
        theirs = torch.from_dlpack(t)
        assert theirs.data_ptr() == t.numpy().ctypes.data
        assert tuple(theirs.shape) == t.shape and str(theirs.dtype) == f"torch.{np.dtype(dtype).name}"
        np.testing.assert_array_equal(theirs.numpy(), t.numpy())
        value = _poke(t.numpy())
        assert theirs[(0,) * t.ndim].item() == value.item()

        back = mt.from_dlpack(theirs)
        assert back.numpy().ctypes.data == theirs.data_ptr() and back.dtype == t.dtype
        theirs[(0,) * t.ndim] = 0
        assert back.numpy()[(0,) * t.ndim] == 0
        assert np.from_dlpack(t).ctypes.data == t.numpy().ctypes.data


def test_from_dlpack_accepts_capsules_and_copies_only_when_asked():
    torch = pytest.importorskip("torch")
    theirs = torch.arange(6.0).reshape(2, 3)
    m = mt.from_dlpack(theirs)
    m.numpy()[0, 0] = 9.0
    assert theirs[0, 0].item() == 9.0
    legacy = mt.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))  # a bare (unversioned) capsule
    assert legacy.numpy().ctypes.data == theirs.data_ptr()
    assert not legacy.numpy().flags.writeable  # NumPy's rule for capsules that cannot say "writable"
    c = mt.from_dlpack(theirs, copy=True)
    c.numpy()[0, 1] = -1.0
    assert theirs[0, 1].item() == 1.0
    assert not m.requires_grad and isinstance(m, mt.Tensor)
    capsule = mt.utils.dlpack.to_dlpack(mt.ones(2))
    assert torch.utils.dlpack.from_dlpack(capsule).tolist() == [1.0, 1.0]


def test_dlpack_refusals_are_clear():
    torch = pytest.importorskip("torch")
    with pytest.raises(BufferError, match="requires grad"):
        torch.from_dlpack(mt.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="from_dlpack"):
        mt.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="from_dlpack.*complex"):
        mt.from_dlpack(torch.ones(2, dtype=torch.complex64))
    with pytest.raises(RuntimeError, match="CPU"):
        mt.from_dlpack(torch.ones(2), device="cuda")
    assert mt.ones(1).__dlpack_device__() == (1, 0)


def test_readme_moving_to_pytorch_snippet_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Moving to PyTorch / deploying", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    x = np.array([[0.0, 1.0], [1.0, 1.0]], np.float32)
    want = scope["twin"](scope["torch"].from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(scope["model"](mt.tensor(x)).detach().numpy(), want, rtol=1e-6)
    assert scope["shared"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twin.safetensors", "xor.onnx", "xor.safetensors"]
