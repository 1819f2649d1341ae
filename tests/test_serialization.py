"""mt.save / mt.load: safetensors round trips, atomic writes, interop with PyTorch files and shard
indexes, refusal of corrupt or hostile files, and the read-only legacy .npz reader."""

import errno
import io
import json
import math
import os
import pathlib
import pickle
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy as st_numpy

import microtensor as mt
from microtensor import serialization
from microtensor.serialization import CheckpointError

# ----------------------------------------------------------------- helpers


def assert_same(got, want, path="obj"):
    """Deep equality that also checks types, key order, dtypes, shapes and NaNs."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, mt.Tensor | np.ndarray):
        g = got.detach().numpy() if isinstance(got, mt.Tensor) else got
        w = want.detach().numpy() if isinstance(want, mt.Tensor) else want
        assert g.dtype == w.dtype, f"{path}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"{path}: shape {g.shape} != {w.shape}"
        np.testing.assert_array_equal(g, w, err_msg=path)
        if isinstance(got, mt.Tensor):
            assert got.requires_grad is False and got.grad is None and got.grad_fn is None
    elif isinstance(want, dict):
        assert list(got) == list(want), f"{path}: keys {list(got)} != {list(want)}"
        for (kg, vg), (kw, vw) in zip(got.items(), want.items()):
            assert type(kg) is type(kw), f"{path}: key {kg!r} type {type(kg)} != {type(kw)}"
            assert_same(vg, vw, f"{path}[{kw!r}]")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), path
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want), path
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def roundtrip(obj, tmp_path, name="ckpt.pt"):
    path = tmp_path / name
    mt.save(obj, path)
    return mt.load(path)


def leftovers(directory, keep):
    """Files in `directory` other than `keep` (e.g. temp files a failed save forgot)."""
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if p.name not in keep)


def structure_entry(doc):
    return np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)


def tensor_node(name, arr):
    return {"type": "tensor", "array": name, "dtype": arr.dtype.str, "shape": list(arr.shape)}


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def write_npz(path, **entries):
    with open(path, "wb") as fh:
        np.savez(fh, **entries)


# -------------------------------------------------------------- round trips


def test_nested_structure_round_trips_exactly(tmp_path):
    obj = {
        "floats": [0.1, -0.0, 1e300, float("inf"), float("-inf"), float("nan")],
        "ints": (0, -7, 2**70, True, False),
        "none": None,
        "text": ["", "héllo ✓", "line\nbreak", "\ud800"],
        7: {"nested": {3: ("a", ["b", ("c",)])}},
        -1: [],
        "empty": {},
        "unit": (),
        "tensors": [
            mt.tensor([[1.5, -2.0], [3.0, 4.0]]),
            mt.tensor(2.5, dtype=mt.float64),
            mt.tensor([1, 2, 3]),
            mt.tensor([[True, False]]),
            mt.zeros(0, 3),
            mt.zeros(2, 0, 4, dtype=mt.float64),
            mt.tensor(7),
            mt.tensor(np.arange(24, dtype=np.int32).reshape(2, 3, 4)),
        ],
        "arrays": (
            np.arange(6, dtype=np.uint8).reshape(2, 3),
            np.array(3.25),
            np.zeros((0,), np.int16),
            np.arange(12.0).reshape(3, 4).T,  # non-contiguous
        ),
        "numpy scalars": [np.float64(0.5), np.float32(1.25), np.int64(-3), np.bool_(True)],
    }
    got = roundtrip(obj, tmp_path)
    assert_same(got, obj)
    assert list(got) == ["floats", "ints", "none", "text", 7, -1, "empty", "unit", "tensors", "arrays"] + [
        "numpy scalars"
    ]


def test_tensor_that_requires_grad_loads_as_plain_values(tmp_path):
    w = mt.randn(3, 2, requires_grad=True)
    (w * 2).sum().backward()
    got = roundtrip({"w": w}, tmp_path)["w"]
    assert isinstance(got, mt.Tensor)
    assert got.requires_grad is False and got.grad is None
    np.testing.assert_array_equal(got.numpy(), w.detach().numpy())
    got.numpy()[0, 0] += 1.0  # a copy, not a view of the saved tensor
    assert got.numpy()[0, 0] != w.detach().numpy()[0, 0]


def test_model_like_state_dict(tmp_path):
    rng = np.random.default_rng(0)
    sd = OrderedDict(
        [
            ("0.weight", mt.tensor(rng.standard_normal((4, 2)).astype(np.float32))),
            ("0.bias", mt.tensor(rng.standard_normal(4).astype(np.float32))),
            ("2.weight", mt.tensor(rng.standard_normal((1, 4)))),
            ("2.bias", mt.tensor(rng.standard_normal(1))),
            ("10.running_mean", mt.zeros(4)),
            ("1.num_batches_tracked", mt.tensor(5)),
        ]
    )
    got = roundtrip(sd, tmp_path)
    assert type(got) is OrderedDict
    assert list(got) == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "10.running_mean",
        "1.num_batches_tracked",
    ]
    assert_same(got, sd)
    assert got["2.weight"].dtype == np.float64 and got["1.num_batches_tracked"].dtype == np.int64


def test_optimizer_like_state_dict_keeps_int_keys(tmp_path):
    sd = {
        "state": {0: {"momentum_buffer": mt.tensor([0.5, -0.25])}, 1: {"momentum_buffer": None, "step": 3}},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0, 1]}],
    }
    got = roundtrip(sd, tmp_path)
    assert_same(got, sd)
    assert list(got["state"]) == [0, 1] and all(type(k) is int for k in got["state"])
    assert got["param_groups"][0]["params"] == [0, 1]


def test_real_model_and_optimizer_resume_through_a_checkpoint(tmp_path):
    nn = mt.nn
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    mt.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "run.ckpt")

    ckpt = mt.load(tmp_path / "run.ckpt")
    clone = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    clone.load_state_dict(ckpt["model"])
    assert_same(ckpt["model"], model.state_dict())
    assert_same(ckpt["opt"], opt.state_dict())
    np.testing.assert_array_equal(clone(x).detach().numpy(), model(x).detach().numpy())


# ------------------------------------------------------- the safetensors file


def test_state_dict_is_written_with_its_keys_unchanged(tmp_path):
    model = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.Tanh(), mt.nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    mt.save(model.state_dict(), path)
    assert os.listdir(tmp_path) == ["model.safetensors"]  # exact name, no temp files left
    raw = st_numpy.load_file(path)
    assert sorted(raw) == sorted(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(raw[k], v.numpy())
        assert raw[k].dtype == v.dtype
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        meta = json.loads(fh.read(n))["__metadata__"]
    assert meta["format"] == "pt"
    doc = json.loads(meta["microtensor"])
    assert doc["format"] == "microtensor.checkpoint" and doc["version"] == 2


def test_nested_tensors_get_dotted_names(tmp_path):
    path = tmp_path / "run.pt"  # any suffix: still safetensors
    mt.save(
        {"model": {"0.weight": mt.ones(2)}, "opt": {"state": {0: {"m": mt.zeros(2)}}}, "l": [mt.ones(1)]},
        path,
    )
    assert sorted(st_numpy.load_file(path)) == ["l.0", "model.0.weight", "opt.state.0.m"]


def test_clashing_and_reserved_names_are_renamed_but_round_trip(tmp_path):
    obj = {"a.b": mt.tensor([1.0]), "a": {"b": mt.tensor([2.0])}, "__metadata__": mt.tensor([3.0])}
    got = roundtrip(obj, tmp_path)
    assert_same(got, obj)
    assert sorted(st_numpy.load_file(tmp_path / "ckpt.pt")) == ["__metadata__#1", "a.b", "a.b#1"]


def test_a_tensor_saved_twice_is_written_twice(tmp_path):
    w = mt.randn(3, 3)
    got = roundtrip({"encoder.weight": w, "decoder.weight": w}, tmp_path)
    assert got["encoder.weight"] is not got["decoder.weight"]  # as safetensors: no storage sharing
    np.testing.assert_array_equal(got["encoder.weight"].numpy(), got["decoder.weight"].numpy())
    assert sorted(st_numpy.load_file(tmp_path / "ckpt.pt")) == ["decoder.weight", "encoder.weight"]


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "bool", "uint8", "int8", "int16", "int32", "int64"]
)
def test_every_dtype_round_trips_with_0d_empty_and_non_contiguous_tensors(tmp_path, dtype):
    rng = np.random.default_rng(1)
    base = (rng.standard_normal((3, 4)) * 50).astype(dtype)
    obj = {
        "plain": mt.from_numpy(base.copy()),
        "0d": mt.from_numpy(np.array(base[1, 2])),
        "empty": mt.from_numpy(np.zeros((0, 5), dtype)),
        "empty3": mt.from_numpy(np.zeros((2, 0, 3), dtype)),
        "transposed": mt.from_numpy(base.T),
        "strided": mt.from_numpy(base[::2, 1::2]),
    }
    assert not obj["transposed"].numpy().flags.c_contiguous and not obj["strided"].numpy().flags.c_contiguous
    got = roundtrip(obj, tmp_path)
    assert_same(got, obj)
    assert all(got[k].numpy().flags.writeable for k in got)


def test_big_endian_array_loads_native_with_the_same_values(tmp_path):
    arr = np.arange(6, dtype=">f8").reshape(2, 3)
    got = roundtrip({"a": arr}, tmp_path)["a"]
    assert got.dtype == np.dtype("float64") and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_complex_and_other_unsupported_dtypes_are_refused_before_writing(tmp_path):
    for bad in (np.array([1 + 2j]), np.array(["text"]), np.array([1.0], np.longdouble)):
        with pytest.raises(TypeError, match=r"obj\['x'\].*dtype"):
            mt.save({"x": bad}, tmp_path / "x.pt")
    assert leftovers(tmp_path, set()) == []


def test_pytorch_reads_a_microtensor_state_dict_and_microtensor_reads_pytorch_s(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(3, 5), mt.nn.Tanh(), mt.nn.Linear(5, 2))
    mt.save(model.state_dict(), tmp_path / "mt.safetensors")
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    tmodel.load_state_dict(st_torch.load_file(tmp_path / "mt.safetensors"))  # strict: keys as they are
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        tmodel(torch.from_numpy(x)).detach().numpy(),
        model(mt.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )

    torch.manual_seed(1)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    st_torch.save_file(tmodel.state_dict(), tmp_path / "torch.safetensors")
    sd = mt.load(tmp_path / "torch.safetensors")
    assert type(sd) is dict and list(sd) == sorted(tmodel.state_dict())
    model.load_state_dict(sd)
    np.testing.assert_allclose(
        tmodel(torch.from_numpy(x)).detach().numpy(),
        model(mt.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


# ----------------------------------------------------------- shard indexes


def _write_shards(directory, tensors, split, weight_map=None):
    """Write `tensors` as HF-style shards: names in `split` go to shard 1, the rest to shard 2."""
    one = {k: v for k, v in tensors.items() if k in split}
    two = {k: v for k, v in tensors.items() if k not in split}
    st_numpy.save_file(one, directory / "model-00001-of-00002.safetensors", metadata={"format": "pt"})
    st_numpy.save_file(two, directory / "model-00002-of-00002.safetensors", metadata={"format": "pt"})
    if weight_map is None:
        weight_map = {
            k: "model-00001-of-00002.safetensors" if k in split else "model-00002-of-00002.safetensors"
            for k in tensors
        }
    index = directory / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 1}, "weight_map": weight_map}))
    return index


def test_sharded_checkpoint_loads_through_its_index(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "0.weight": rng.standard_normal((4, 3)).astype(np.float32),
        "0.bias": rng.standard_normal(4).astype(np.float32),
        "2.weight": rng.standard_normal((2, 4)).astype(np.float32),
        "2.bias": rng.standard_normal(2).astype(np.float32),
    }
    index = _write_shards(tmp_path, tensors, {"0.weight", "0.bias"})
    sd = mt.load(index)
    assert list(sd) == list(tensors)
    model = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.Tanh(), mt.nn.Linear(4, 2))
    model.load_state_dict(sd)
    for k, v in tensors.items():
        np.testing.assert_array_equal(model.state_dict()[k].numpy(), v)


@pytest.mark.parametrize(
    ("shard", "message"),
    [
        ("../outside.safetensors", "not a plain file name"),
        ("/etc/passwd", "not a plain file name"),
        ("sub/../../outside.safetensors", "not a plain file name"),
        ("..\\outside.safetensors", "not a plain file name"),
        ("link.safetensors", "outside the directory"),
    ],
)
def test_shard_names_outside_the_index_directory_are_refused(tmp_path, shard, message):
    inside = tmp_path / "model"
    inside.mkdir()
    st_numpy.save_file({"w": np.ones(2, np.float32)}, tmp_path / "outside.safetensors")
    (inside / "link.safetensors").symlink_to(tmp_path / "outside.safetensors")
    index = inside / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"w": shard}}))
    with pytest.raises(CheckpointError, match=message):
        mt.load(index)


def test_shard_index_that_disagrees_with_its_shards_is_refused(tmp_path):
    tensors = {"a": np.ones(2, np.float32), "b": np.zeros(3, np.float32)}
    index = _write_shards(
        tmp_path, tensors, {"a"}, weight_map={"a": "model-00002-of-00002.safetensors", "b": "x"}
    )
    with pytest.raises(CheckpointError):
        mt.load(index)
    index = _write_shards(tmp_path, tensors, {"a"}, weight_map={"a": "model-00002-of-00002.safetensors"})
    with pytest.raises(CheckpointError, match=r"does not hold them"):
        mt.load(index)
    index = _write_shards(tmp_path, tensors, {"a", "b"}, weight_map={"a": "model-00001-of-00002.safetensors"})
    with pytest.raises(CheckpointError, match=r"holds tensors the weight_map does not assign to it: \['b'\]"):
        mt.load(index)
    index.write_text('{"weight_map": {"a": "x", "a": "y"}}')
    with pytest.raises(CheckpointError, match="names 'a' twice"):
        mt.load(index)
    index.write_text('{"metadata": {}}')
    with pytest.raises(CheckpointError, match="weight_map"):
        mt.load(index)


# ----------------------------------------------------------- resuming training


def _train(model, opt, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = mt.tensor(rng.standard_normal((8, 3)).astype(np.float32))
        y = mt.tensor(rng.standard_normal((8, 2)).astype(np.float32))
        opt.zero_grad()
        mt.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda p: mt.optim.Adam(p, lr=0.01, betas=(0.8, 0.95), amsgrad=True),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_resumed_training_is_bit_identical_to_uninterrupted_training(tmp_path, make_opt):
    def fresh():
        mt.manual_seed(3)
        model = mt.nn.Sequential(mt.nn.Linear(3, 6), mt.nn.Tanh(), mt.nn.Linear(6, 2))
        return model, make_opt(model.parameters())

    model, opt = fresh()
    _train(model, opt, 4, seed=10)
    _train(model, opt, 5, seed=11)
    uninterrupted = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, opt = fresh()
    _train(model, opt, 4, seed=10)
    mt.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 4}, tmp_path / "ckpt.safetensors")
    saved_opt = opt.state_dict()
    del model, opt

    mt.manual_seed(99)  # different initial weights: everything must come from the checkpoint
    model = mt.nn.Sequential(mt.nn.Linear(3, 6), mt.nn.Tanh(), mt.nn.Linear(6, 2))
    opt = make_opt(model.parameters())
    ckpt = mt.load(tmp_path / "ckpt.safetensors")
    assert_same(ckpt["opt"], saved_opt)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["opt"])
    _train(model, opt, 5, seed=11)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), uninterrupted[k], err_msg=k)


def test_file_objects_and_pytorch_keywords(tmp_path):
    buf = io.BytesIO()
    mt.save({"x": mt.tensor([1, 2])}, buf)
    buf.seek(0)
    got = mt.load(buf, map_location="cpu", weights_only=True)
    assert_same(got, {"x": mt.tensor([1, 2])})
    got["x"].numpy()[0] = 5  # writable, like every loaded tensor
    mt.save([1], tmp_path / "a")
    assert mt.load(tmp_path / "a", map_location=lambda storage, loc: storage, weights_only=False) == [1]
    with pytest.raises(ValueError, match="map_location"):
        mt.load(tmp_path / "a", map_location="cuda:0")
    with pytest.raises(TypeError, match="weights_only"):
        mt.load(tmp_path / "a", weights_only="yes")
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "missing.pt")
    with pytest.raises(IsADirectoryError, match="directory"):
        mt.load(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_normal_permissions_and_existing_file_keeps_its_own(tmp_path):
    path = tmp_path / "ckpt.pt"
    old = os.umask(0o022)
    try:
        mt.save([1], path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0600 of a temporary file
    path.chmod(0o640)
    mt.save([2], path)
    assert path.stat().st_mode & 0o777 == 0o640


# -------------------------------------------------------- atomic and refusing saves


def _fail_inside_write(monkeypatch):
    def write(arrays, path, metadata):
        with open(path, "wb") as fh:
            fh.write(b"half a new checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization, "_write_safetensors", write)


def _fail_in_fsync(monkeypatch):
    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(serialization.os, "fsync", fsync)


def _fail_in_replace(monkeypatch):
    def replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(serialization.os, "replace", replace)


def _interrupt_mid_write(monkeypatch):
    real = serialization._write_safetensors

    def write(arrays, path, metadata):
        real(arrays, path, metadata)
        os.truncate(path, os.path.getsize(path) // 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_safetensors", write)


@pytest.mark.parametrize(
    "break_it",
    [_fail_inside_write, _fail_in_fsync, _fail_in_replace, _interrupt_mid_write],
    ids=["disk-full-in-write", "fsync-error", "replace-error", "ctrl-c-mid-write"],
)
def test_failed_save_keeps_previous_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch, break_it):
    path = tmp_path / "ckpt.pt"
    old = {"step": 1, "w": mt.tensor([1.0, 2.0, 3.0])}
    mt.save(old, path)
    before = path.read_bytes()

    break_it(monkeypatch)
    with pytest.raises((OSError, KeyboardInterrupt)):
        mt.save({"step": 2, "w": mt.randn(1000)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert_same(mt.load(path), old)
    assert leftovers(tmp_path, {"ckpt.pt"}) == []


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    _fail_in_replace(monkeypatch)
    with pytest.raises(PermissionError):
        mt.save({"w": mt.zeros(3)}, tmp_path / "new.pt")
    assert leftovers(tmp_path, set()) == []


@pytest.mark.parametrize(
    ("bad", "where", "what"),
    [
        ({"layers": [1, 2, {3}]}, r"obj\['layers'\]\[2\]", "set"),
        ({"layers": [1, 2, object()]}, r"obj\['layers'\]\[2\]", "object"),
        ({"opt": {0: {"f": lambda: 0}}}, r"obj\['opt'\]\[0\]\['f'\]", "function"),
        ({"a": {1.5: 0}}, r"obj\['a'\]", "key 1.5 of type float"),
        ({"a": {True: 0}}, r"obj\['a'\]", "key True of type bool"),
        ([np.array([{}, 1], dtype=object)], r"obj\[0\]", "dtype object"),
        ((np.ma.masked_array([1, 2], mask=[0, 1]),), r"obj\[0\]", "MaskedArray"),
        (b"bytes", r"obj", "bytes"),
    ],
)
def test_unsupported_value_raises_before_touching_the_file(tmp_path, bad, where, what):
    path = tmp_path / "ckpt.pt"
    mt.save({"good": mt.ones(2)}, path)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(TypeError, match=where) as info:
        mt.save(bad, path)
    assert what in str(info.value)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert leftovers(tmp_path, {"ckpt.pt"}) == []


def test_circular_structure_is_refused(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\].*circular"):
        mt.save(loop, tmp_path / "x.pt")
    assert leftovers(tmp_path, set()) == []


def test_save_into_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mt.save([1], tmp_path / "no" / "such" / "dir" / "x.pt")


# ---------------------------------------------------- hostile safetensors files


def st_bytes(header, data=b"", raw_header=None):
    """A safetensors file from a header dict (or raw header bytes) and the data bytes after it."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def _mt_meta(root):
    doc = {"format": "microtensor.checkpoint", "version": 2, "root": root}
    return {"format": "pt", "microtensor": json.dumps(doc)}


def _good_file():
    return mt_bytes({"0.weight": mt.ones(4, 2), "0.bias": mt.zeros(4)})


def mt_bytes(obj):
    buf = io.BytesIO()
    mt.save(obj, buf)
    return buf.getvalue()


HOSTILE = {
    "header-longer-than-file": (struct.pack("<Q", 10**6) + b'{"a": 1}', "header claims 1000000 bytes"),
    "absurd-header-size": (struct.pack("<Q", 2**62) + b"{}", "header claims"),
    "tensor-beyond-the-file": (
        st_bytes({"a": {"dtype": "F32", "shape": [10**6], "data_offsets": [0, 4 * 10**6]}}, b"\0" * 16),
        "corrupt or truncated",
    ),
    "huge-shape-small-range": (
        st_bytes({"a": {"dtype": "F64", "shape": [2**40, 2**20], "data_offsets": [0, 8]}}, b"\0" * 8),
        "corrupt or truncated",
    ),
    "overlapping-offsets": (
        st_bytes({"a": F32, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
        "corrupt or truncated",
    ),
    "out-of-range-offsets": (
        st_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 8),
        "corrupt or truncated",
    ),
    "duplicate-names": (
        st_bytes(
            None,
            b"\0" * 8,
            raw_header=b'{"a":' + json.dumps(F32).encode() + b',"a":' + json.dumps(F32).encode() + b"}",
        ),
        "names 'a' twice",
    ),
    "duplicate-metadata-keys": (
        st_bytes(
            None,
            b"\0" * 8,
            raw_header=b'{"__metadata__":{"x":"1","x":"2"},"a":' + json.dumps(F32).encode() + b"}",
        ),
        "names 'x' twice",
    ),
    "non-utf8-metadata": (
        st_bytes(
            None,
            b"\0" * 8,
            raw_header=b'{"__metadata__":{"x":"\xff\xfe"},"a":' + json.dumps(F32).encode() + b"}",
        ),
        "not valid UTF-8",
    ),
    "header-not-json": (st_bytes(None, b"", raw_header=b'{"a": {"dtype": "F3'), "not valid JSON"),
    "unsupported-dtype": (
        st_bytes({"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0" * 2),
        "dtype 'BF16'",
    ),
    "negative-shape": (
        st_bytes({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8),
        "invalid shape",
    ),
    "metadata-not-strings": (st_bytes({"__metadata__": {"x": 1}}), "map strings to strings"),
    "metadata-not-an-object": (st_bytes({"__metadata__": []}), "map strings to strings"),
    "structure-names-missing-tensor": (
        st_bytes(
            {"__metadata__": _mt_meta({"type": "tensor", "array": "w", "dtype": "<f4", "shape": [2]})},
        ),
        "names the tensor 'w', which is not in the file",
    ),
    "structure-skips-a-tensor": (
        st_bytes({"__metadata__": _mt_meta({"type": "none"}), "a": F32}, b"\0" * 8),
        "does not use",
    ),
    "structure-dtype-disagrees": (
        st_bytes(
            {
                "__metadata__": _mt_meta({"type": "tensor", "array": "a", "dtype": "<f8", "shape": [2]}),
                "a": F32,
            },
            b"\0" * 8,
        ),
        "structure says",
    ),
    "structure-newer-version": (
        st_bytes(
            {
                "__metadata__": {
                    "microtensor": json.dumps(
                        {"format": "microtensor.checkpoint", "version": 3, "root": {"type": "none"}}
                    )
                }
            }
        ),
        "version 3, newer",
    ),
    "structure-not-json": (st_bytes({"__metadata__": {"microtensor": "{not json"}}), "not valid JSON"),
    "structure-unknown-node": (
        st_bytes({"__metadata__": _mt_meta({"type": "pickle", "value": "x"})}),
        "unknown structure node",
    ),
    "truncated-1-byte": (lambda: _good_file()[:-1], "truncated"),
    "truncated-in-header": (lambda: _good_file()[:40], "truncated"),
    "truncated-in-length": (lambda: _good_file()[:5], "too short"),
    "trailing-garbage": (lambda: _good_file() + b"\0" * 8, "corrupt or truncated"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("source", ["path", "file-object"])
def test_hostile_safetensors_file_is_refused_quickly_with_bounded_memory(tmp_path, case, source):
    content, message = HOSTILE[case]
    content = content() if callable(content) else content
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    model = mt.nn.Sequential(mt.nn.Linear(2, 4))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CheckpointError, match=message) as info:
            if source == "path":
                model.load_state_dict(mt.load(path))
            else:
                with open(path, "rb") as fh:
                    model.load_state_dict(mt.load(fh))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0  # milliseconds in practice; generous for a loaded machine
    assert "bad.safetensors" in str(info.value)
    assert peak < 2**20 + 4 * len(content), f"peak {peak} bytes"  # nothing sized by the file's claims
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_truncated_file_at_any_length_raises_a_clear_error(tmp_path):
    data = mt_bytes({"w": mt.randn(64, 64), "b": mt.zeros(64), "meta": {"epoch": 3}})
    for cut in [1, 7, 8, 9, 50, len(data) // 3, len(data) // 2, len(data) - 100, len(data) - 1]:
        path = tmp_path / "cut.safetensors"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"cut\.safetensors.*(truncated|corrupt|too short)"):
            mt.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (np.random.default_rng(0).bytes(4096), "header claims"),
        (b"", "empty"),
        (b"PK\x03\x04" + np.random.default_rng(1).bytes(500), "corrupt"),
        (pickle.dumps({"w": [1.0]}), "pickle"),
        (_npy_bytes(np.ones(3)), "single .npy array"),
    ],
    ids=["random-bytes", "empty", "zip-magic-then-garbage", "plain-pickle", "bare-npy"],
)
def test_foreign_or_random_file_raises_a_clear_error(tmp_path, content, message):
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        mt.load(path)
    assert "junk.pt" in str(info.value)


class _TouchOnUnpickle:
    """A pickle payload: unpickling it calls Path.touch(marker), i.e. runs code from the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_malicious_pickle_file_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _TouchOnUnpickle(marker)}))
    with pytest.raises(CheckpointError, match="pickle"):
        mt.load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_pytorch_style_zip_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "torch.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        zf.writestr("archive/version", "3\n")
    with pytest.raises(CheckpointError, match="PyTorch checkpoint.*refused"):
        mt.load(path)


def test_real_torch_save_file_is_refused_without_unpickling(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    with pytest.raises(CheckpointError, match="PyTorch checkpoint.*refused"):
        mt.load(path)


# ------------------------------------------- legacy .npz checkpoints (read only)


def legacy_save(obj, path):
    """Write `obj` as microtensor 0.1 did: an uncompressed .npz with a0.npy, ... and __structure__.npy."""
    arrays = {}

    def node(x):
        if isinstance(x, mt.Tensor | np.ndarray):
            arr = x.numpy() if isinstance(x, mt.Tensor) else x
            name = f"a{len(arrays)}"
            arrays[name] = arr
            kind = "tensor" if isinstance(x, mt.Tensor) else "ndarray"
            return {"type": kind, "array": name, "dtype": arr.dtype.str, "shape": list(arr.shape)}
        if isinstance(x, dict):
            items = [
                {"key": k, "key_type": "int" if isinstance(k, int) else "str", "value": node(v)}
                for k, v in x.items()
            ]
            return {"type": "ordereddict" if isinstance(x, OrderedDict) else "dict", "items": items}
        if isinstance(x, list | tuple):
            return {"type": type(x).__name__, "items": [node(v) for v in x]}
        if x is None:
            return {"type": "none"}
        return {"type": type(x).__name__, "value": x}

    write_npz(path, __structure__=structure_entry(_doc(node(obj))), **arrays)


def _doc(root):
    return {"format": "microtensor.checkpoint", "version": 1, "root": root}


def test_legacy_npz_checkpoint_still_loads_with_a_deprecation_warning(tmp_path):
    model = mt.nn.Sequential(mt.nn.Linear(2, 3))
    obj = {"model": model.state_dict(), "opt": {"state": {0: {"step": 3}}, "lr": 0.1}, "a": np.arange(3)}
    legacy_save(obj, tmp_path / "old.pt")
    with pytest.warns(DeprecationWarning, match=r"old\.pt.*deprecated.*mt\.save"):
        got = mt.load(tmp_path / "old.pt")
    assert_same(got, obj)
    with open(tmp_path / "old.pt", "rb") as fh, pytest.warns(DeprecationWarning):
        assert_same(mt.load(fh), obj)
    mt.save(got, tmp_path / "new.pt")  # converting: the new file is safetensors and loads silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same(mt.load(tmp_path / "new.pt"), obj)


W = np.arange(6.0).reshape(2, 3)


def _tensor_doc(name, arr):
    return structure_entry(_doc(tensor_node(name, arr)))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"__structure__": _tensor_doc("a0", W)}, "names the tensor 'a0', which is not in the file"),
        ({"__structure__": structure_entry({**_doc({"type": "none"}), "version": 2}), "a0": W}, "version 2"),
        ({"__structure__": np.frombuffer(b'{"format": "microtensor.chec', np.uint8)}, "not valid JSON"),
        ({"__structure__": structure_entry({"something": "else"})}, "not a 'microtensor.checkpoint'"),
        (
            {"__structure__": structure_entry(_doc({"type": "pickle", "value": "x"}))},
            "unknown structure node",
        ),
        ({"__structure__": _tensor_doc("a0", W.astype(np.float32)), "a0": W}, "says"),
        ({"__structure__": structure_entry(_doc({"type": "none"})), "a0": W}, "does not use"),
        ({"__structure__": np.array([1.0, 2.0])}, "uint8"),
        (
            {
                "__structure__": structure_entry(
                    _doc({"type": "dict", "items": [{"key": 1, "key_type": "str"}]})
                )
            },
            "malformed dict item",
        ),
        ({"__structure__": structure_entry(_doc({"type": "int", "value": True}))}, "bad int value"),
        ({"weight": W}, "unexpected archive entry 'weight.npy'"),
    ],
    ids=[
        "missing-array",
        "newer-version",
        "bad-json",
        "wrong-format",
        "unknown-node",
        "dtype-mismatch",
        "extra-entry",
        "structure-not-uint8",
        "malformed-dict",
        "bool-as-int",
        "foreign-npz",
    ],
)
def test_inconsistent_legacy_archives_are_refused(tmp_path, entries, message):
    path = tmp_path / "bad.pt"
    write_npz(path, **entries)
    with pytest.raises(CheckpointError, match=message) as info:
        mt.load(path)
    assert "bad.pt" in str(info.value)


def test_legacy_entry_header_claiming_more_data_than_it_holds_is_refused(tmp_path):
    path = tmp_path / "liar.pt"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__structure__.npy", _npy_bytes(_tensor_doc("a0", np.zeros(0))))
        zf.writestr("a0.npy", header.getvalue() + b"\0" * 16)
    with pytest.raises(CheckpointError, match=r"'a0\.npy' is truncated or corrupt.*header describes"):
        mt.load(path)


def test_legacy_object_array_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.array([_TouchOnUnpickle(marker), 1], dtype=object)
    path = tmp_path / "evil.pt"
    doc = _doc(tensor_node("a0", evil))
    doc["root"]["type"] = "ndarray"
    write_npz(path, __structure__=structure_entry(doc), a0=evil)
    with pytest.raises(CheckpointError, match="pickle") as info:
        mt.load(path)
    assert "evil.pt" in str(info.value) and "refused" in str(info.value)
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as npz:  # the payload is live: an unsafe loader would run it
        npz["a0"]
    assert marker.exists()


def build_zip(members):
    """A zip archive from (name, payload, method, file_size, compress_size, crc) rows, with ZIP64 sizes,
    so that an entry can claim sizes its bytes do not have (what a hostile archive does)."""
    out, central = bytearray(), bytearray()
    for name, payload, method, file_size, compress_size, crc in members:
        nb, offset = name.encode(), len(out)
        extra = struct.pack("<HHQQ", 1, 16, file_size, compress_size)  # ZIP64: sizes in the extra field
        big = 0xFFFFFFFF
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, method, 0, 0x21, crc, big, big, len(nb), 20)
        out += nb + extra + payload
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            45,
            45,
            0,
            method,
            0,
            0x21,
            crc,
            big,
            big,
            len(nb),
            20,
            0,
            0,
            0,
            0,
            offset,
        )
        central += nb + extra
    n = len(members)
    return bytes(
        out + central + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0)
    )


def _stored(name, payload):
    return (name, payload, zipfile.ZIP_STORED, len(payload), len(payload), zlib.crc32(payload))


def _structure_member(name="a0", dtype="<f8", shape=(2**27,)):
    root = {"type": "tensor", "array": name, "dtype": dtype, "shape": list(shape)}
    return _stored("__structure__.npy", _npy_bytes(structure_entry(_doc(root))))


def _npy_header(dtype, shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.fixture(scope="module")
def deflate_bomb():
    """A ~1 MB zip entry that inflates to a 1 GiB float64 .npy array (a real, valid deflate stream).

    Each 16 MiB block of zeros is compressed after a full flush, so its deflate bytes are the same
    every time and the stream is built by repetition instead of compressing 1 GiB."""
    header, chunk, repeats = _npy_header("<f8", (2**27,)), bytes(2**24), 64
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    stream = first + block * repeats + c.flush()
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + len(chunk) * repeats
    return build_zip([_structure_member(), ("a0.npy", stream, zipfile.ZIP_DEFLATED, size, len(stream), crc)])


def _load_with_peak(path):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CheckpointError) as info:
            mt.load(path)
        assert time.perf_counter() - start < 2.0  # refused before reading the data
        return info, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_legacy_deflate_bomb_is_refused_before_inflating(tmp_path, deflate_bomb):
    assert len(deflate_bomb) < 1.1 * 2**20
    path = tmp_path / "bomb.pt"
    path.write_bytes(deflate_bomb)
    info, peak = _load_with_peak(path)
    assert "'a0.npy' is compressed" in str(info.value) and "bomb.pt" in str(info.value)
    assert peak < 4 * 2**20, f"peak {peak} bytes"


def test_legacy_entry_claiming_a_tebibyte_is_refused_with_the_library_error(tmp_path):
    header = _npy_header("<f8", (2**37,))  # 1 TiB of float64
    payload = header + b"\0" * 64
    claimed = len(header) + 2**40
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        body = payload if method == zipfile.ZIP_STORED else zlib.compress(payload, 9)[2:-4]
        size = claimed if method == zipfile.ZIP_STORED else len(body)
        entry = ("a0.npy", body, method, claimed, size, zlib.crc32(payload))
        path = tmp_path / "tebibyte.pt"
        path.write_bytes(build_zip([_structure_member(shape=(2**37,)), entry]))
        info, peak = _load_with_peak(path)
        assert "claim" in str(info.value) and "'a0.npy'" in str(info.value)
        assert peak < 2**20


def test_legacy_entry_named_outside_the_archive_namespace_is_refused(tmp_path):
    arr = np.arange(3.0)
    path = tmp_path / "escape.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__structure__.npy", _npy_bytes(_tensor_doc("../../x", arr)))
        zf.writestr("../../x.npy", _npy_bytes(arr))
    with pytest.raises(CheckpointError, match=r"unexpected archive entry '\.\./\.\./x\.npy'"):
        mt.load(path)


def test_every_header_length_is_read_as_safetensors():
    # The header length's first bytes can be anything, e.g. 0x80 (pickle's PROTO opcode) or "PK" (zip).
    starts = set()
    for pad in [*range(300), *range(18860, 18900)]:  # 400 + pad bytes of header: 0x4B50 is "PK"
        data = mt_bytes({"w": mt.ones(2), "pad": "x" * pad})
        starts.add(data[:2])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # not taken for a legacy .npz either
            got = mt.load(io.BytesIO(data))
        assert got["pad"] == "x" * pad and got["w"].tolist() == [1.0, 1.0]
    assert b"PK" in starts and any(s[0] == 0x80 for s in starts)
