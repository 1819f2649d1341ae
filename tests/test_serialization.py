"""mt.save / mt.load: exact round trips, atomic writes, and refusal of corrupt or hostile files."""

import errno
import io
import json
import math
import os
import pathlib
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

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
            np.array([1 + 2j]),
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


def test_shared_tensor_is_stored_once_and_loads_shared(tmp_path):
    w = mt.randn(3, 3)
    got = roundtrip({"encoder.weight": w, "decoder.weight": w, "other": mt.randn(3, 3)}, tmp_path)
    assert got["encoder.weight"] is got["decoder.weight"]
    assert got["other"] is not got["encoder.weight"]
    with zipfile.ZipFile(tmp_path / "ckpt.pt") as zf:
        assert sorted(zf.namelist()) == ["__structure__.npy", "a0.npy", "a1.npy"]


def test_file_is_a_plain_npz_under_the_exact_name(tmp_path):
    path = tmp_path / "model.pt"
    mt.save({"w": mt.tensor([1.0, 2.0])}, str(path))
    assert os.listdir(tmp_path) == ["model.pt"]  # no ".npz" appended, no temp files left
    with np.load(path, allow_pickle=False) as npz:
        doc = json.loads(npz["__structure__"].tobytes())
        assert doc["format"] == "microtensor.checkpoint" and doc["version"] == 1
        np.testing.assert_array_equal(npz["a0"], np.array([1.0, 2.0], np.float32))


def test_file_objects_and_pytorch_keywords(tmp_path):
    buf = io.BytesIO()
    mt.save({"x": mt.tensor([1, 2])}, buf)
    buf.seek(0)
    assert_same(mt.load(buf, map_location="cpu", weights_only=True), {"x": mt.tensor([1, 2])})
    mt.save([1], tmp_path / "a")
    assert mt.load(tmp_path / "a", map_location=lambda storage, loc: storage, weights_only=False) == [1]
    with pytest.raises(ValueError, match="map_location"):
        mt.load(tmp_path / "a", map_location="cuda:0")
    with pytest.raises(TypeError, match="weights_only"):
        mt.load(tmp_path / "a", weights_only="yes")
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "missing.pt")


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


def _fail_inside_savez(real_savez):
    def savez(fh, **entries):
        fh.write(b"PK\x03\x04 half a new checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    return savez


def _fail_in_fsync(monkeypatch):
    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(serialization.os, "fsync", fsync)


def _fail_in_replace(monkeypatch):
    def replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(serialization.os, "replace", replace)


def _interrupt_mid_write(monkeypatch):
    real = np.savez

    def savez(fh, **entries):
        real(fh, **entries)
        fh.truncate(fh.tell() // 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.np, "savez", savez)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda mp: mp.setattr(serialization.np, "savez", _fail_inside_savez(np.savez)),
        _fail_in_fsync,
        _fail_in_replace,
        _interrupt_mid_write,
    ],
    ids=["disk-full-in-savez", "fsync-error", "replace-error", "ctrl-c-mid-write"],
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


# ---------------------------------------------------- corrupt and hostile files


@pytest.fixture
def good_checkpoint(tmp_path):
    path = tmp_path / "good.pt"
    mt.save({"w": mt.randn(64, 64), "b": mt.zeros(64), "meta": {"epoch": 3}}, path)
    return path


@pytest.mark.parametrize("fraction", [0.5, 0.02, 0.3, 0.9, 0.999])
def test_truncated_file_raises_a_clear_error(tmp_path, good_checkpoint, fraction):
    data = good_checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(CheckpointError, match=r"cut\.pt.*(truncated|corrupt)"):
        mt.load(cut)


def test_flipped_byte_in_the_data_is_detected(tmp_path, good_checkpoint):
    data = bytearray(good_checkpoint.read_bytes())
    with zipfile.ZipFile(good_checkpoint) as zf:
        info = zf.getinfo("a0.npy")
    data[info.header_offset + 200] ^= 0xFF  # inside a0's array bytes
    bad = tmp_path / "flipped.pt"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"flipped\.pt.*(CRC|corrupt)"):
        mt.load(bad)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (np.random.default_rng(0).bytes(4096), "not a zip"),
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


def test_malicious_object_array_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.array([_TouchOnUnpickle(marker), 1], dtype=object)
    path = tmp_path / "evil.pt"
    doc = {"format": "microtensor.checkpoint", "version": 1, "root": tensor_node("a0", evil)}
    doc["root"]["type"] = "ndarray"
    write_npz(path, __structure__=structure_entry(doc), a0=evil)
    assert not marker.exists()

    with pytest.raises(CheckpointError, match="pickle") as info:
        mt.load(path)
    assert "evil.pt" in str(info.value) and "refused" in str(info.value)
    assert not marker.exists()

    # The payload is live: an unsafe loader really would have run it.
    with np.load(path, allow_pickle=True) as npz:
        npz["a0"]
    assert marker.exists()


def test_malicious_pickle_file_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _TouchOnUnpickle(marker)}))
    with pytest.raises(CheckpointError, match="pickle"):
        mt.load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_file_without_structure_entry_is_refused(tmp_path):
    path = tmp_path / "plain.npz"
    write_npz(path, weight=np.ones((2, 2)))
    with pytest.raises(CheckpointError, match="no '__structure__' entry"):
        mt.load(path)


def _doc(root):
    return {"format": "microtensor.checkpoint", "version": 1, "root": root}


W = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"__structure__": structure_entry(_doc(tensor_node("a0", W)))}, "'a0.npy' is missing"),
        (
            {"__structure__": structure_entry({**_doc({"type": "none"}), "version": 2}), "a0": W},
            "version 2, newer",
        ),
        ({"__structure__": np.frombuffer(b'{"format": "microtensor.chec', np.uint8)}, "not valid JSON"),
        ({"__structure__": structure_entry({"something": "else"})}, "not a 'microtensor.checkpoint'"),
        (
            {"__structure__": structure_entry(_doc({"type": "pickle", "value": "x"}))},
            "unknown structure node",
        ),
        ({"__structure__": structure_entry(_doc(tensor_node("a0", W.astype(np.float32)))), "a0": W}, "says"),
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
        (
            {
                "__structure__": structure_entry(
                    _doc({"type": "tensor", "array": "a0", "dtype": "<c16", "shape": [1]})
                ),
                "a0": np.array([1j]),
            },
            "tensor cannot have dtype complex128",
        ),
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
        "complex-tensor",
    ],
)
def test_inconsistent_archives_are_refused(tmp_path, entries, message):
    path = tmp_path / "bad.pt"
    write_npz(path, **entries)
    with pytest.raises(CheckpointError, match=message) as info:
        mt.load(path)
    assert "bad.pt" in str(info.value)


def test_header_claiming_more_data_than_the_entry_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "liar.pt"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )  # 8 TB claimed, 16 bytes present
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__structure__.npy", _npy_bytes(structure_entry(_doc(tensor_node("a0", np.zeros(0))))))
        zf.writestr("a0.npy", header.getvalue() + b"\0" * 16)
    with pytest.raises(CheckpointError, match=r"'a0\.npy' is truncated or corrupt.*header describes"):
        mt.load(path)


def test_pytorch_style_zip_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "torch.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        zf.writestr("archive/version", "3\n")
    with pytest.raises(CheckpointError, match="PyTorch checkpoint.*refused"):
        mt.load(path)
