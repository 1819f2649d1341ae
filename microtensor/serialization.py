"""Checkpoints: `save(obj, f)` and `load(f)`, like `torch.save` / `torch.load` for state dicts.

What can be saved: nested dicts (str or int keys, order kept; an OrderedDict stays
one), lists, tuples, Tensors, NumPy arrays and scalars, and Python None, bool,
int, float and str. That covers `model.state_dict()` and `optimizer.state_dict()`.
Anything else is refused with a TypeError naming where it sits, e.g.
`obj['layers'][2]: cannot save a set`, before any file is touched.

The file is an ordinary NumPy `.npz` (zip) archive:

- one `.npy` entry per array (`a0.npy`, `a1.npy`, ...), written by NumPy with its dtype and shape;
- an entry `__structure__.npy`, a uint8 array holding UTF-8 JSON: `{"format": "microtensor.checkpoint",
  "version": 1, "root": node}`, where every node is tagged (`dict`/`ordereddict` with `key_type` per key,
  `list`/`tuple`, `tensor`/`ndarray`/`numpy_scalar` naming its array entry, dtype and shape, and the scalars).

Why not pickle (what `torch.save` uses): unpickling runs code chosen by whoever wrote the
file, so loading a checkpoint from the internet would be running a program from the
internet. Here `load` reads JSON and raw array bytes only (`np.load(allow_pickle=False)`),
refuses any entry holding Python objects before reading its data, and checks every array
header against the entry's size before allocating, so a hostile or damaged file can only
produce a clear error (`CheckpointError`, a RuntimeError) naming the file and the problem.

Why atomic: a crash, a full disk or Ctrl-C in the middle of a save must not destroy the
previous checkpoint. `save` writes to a temporary file in the same directory, flushes and
fsyncs it, then `os.replace`s it onto the target (atomic on POSIX and Windows); on any error
the temporary file is removed and the old checkpoint stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "microtensor.checkpoint"
VERSION = 1
_STRUCTURE = "__structure__"
_ARRAY_KINDS = "biufc"  # bool, signed/unsigned int, float, complex: no objects, no strings
_TENSOR_KINDS = "biuf"  # what a microtensor Tensor can hold
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class CheckpointError(RuntimeError):
    """A file given to `load` is not a valid microtensor checkpoint (corrupt, truncated, unsafe)."""


# ====================================================================== save
def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Save `obj` (e.g. a model's or optimizer's state dict) to the file `f`, atomically.

    `f` is a path (str or os.PathLike); the file is written under exactly that name (no
    `.npz` suffix is added). A binary file object opened for writing is also accepted; it
    is written in place (atomicity is then the caller's business).

    The whole structure is checked first: an unsupported type raises TypeError naming its
    place in `obj` and nothing is written. The write itself goes to a temporary file in the
    target's directory which replaces the target only once it is complete and on disk, so a
    failure at any point leaves a previous checkpoint at `f` untouched.

    Tensors are saved as their values (dtype and shape kept); `requires_grad`, `.grad` and
    the graph are not saved. A Tensor or array that appears several times (tied weights) is
    stored once and loads as one shared object.
    """
    entries = _encode_checkpoint(obj)
    if hasattr(f, "write"):
        np.savez(f, **entries)
        return
    path = _fspath(f, "save")
    _atomic_write(path, lambda fh: np.savez(fh, **entries))


def _encode_checkpoint(obj: Any) -> dict[str, np.ndarray]:
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    doc = {"format": FORMAT, "version": VERSION, "root": root}
    text = json.dumps(doc, allow_nan=False, ensure_ascii=True, separators=(",", ":"))
    header = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return {_STRUCTURE: header, **encoder.arrays}


class _Encoder:
    """Turns a Python structure into tagged JSON nodes plus a dict of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._seen: dict[int, str] = {}  # id(Tensor or ndarray) -> entry name, to store shared ones once
        self._active: set[int] = set()  # containers on the current path, to catch cycles

    def _array(self, key_obj: Any, arr: np.ndarray, kind: str) -> dict:
        name = self._seen.get(id(key_obj))
        if name is None:
            name = f"a{len(self.arrays)}"
            self.arrays[name] = arr
            self._seen[id(key_obj)] = name
        return {"type": kind, "array": name, "dtype": arr.dtype.str, "shape": list(arr.shape)}

    def encode(self, obj: Any, path: str) -> dict:
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, Tensor):
            return self._array(obj, obj.detach().numpy(), "tensor")
        if isinstance(obj, np.ndarray):
            if type(obj) is not np.ndarray:  # np.matrix, masked arrays: would lose what makes them special
                raise TypeError(
                    f"save: {path}: cannot save a {type(obj).__name__}; convert it with np.asarray()"
                )
            if obj.dtype.kind not in _ARRAY_KINDS or obj.dtype.fields is not None:
                raise TypeError(
                    f"save: {path}: cannot save an array of dtype {obj.dtype}; only bool, integer, float "
                    "and complex arrays are supported (object arrays would need pickle)"
                )
            return self._array(obj, obj, "ndarray")
        if isinstance(obj, np.generic):  # before float: np.float64 is a subclass of float
            if obj.dtype.kind not in _ARRAY_KINDS:
                raise TypeError(f"save: {path}: cannot save a NumPy scalar of dtype {obj.dtype}")
            arr = np.asarray(obj)
            name = f"a{len(self.arrays)}"
            self.arrays[name] = arr
            return {"type": "numpy_scalar", "array": name, "dtype": arr.dtype.str, "shape": []}
        if isinstance(obj, bool):
            return {"type": "bool", "value": bool(obj)}
        if isinstance(obj, int):
            return {"type": "int", "value": int(obj)}
        if isinstance(obj, float):
            v = float(obj)
            return {"type": "float", "value": v if math.isfinite(v) else repr(v)}
        if isinstance(obj, str):
            return {"type": "str", "value": str(obj)}
        if isinstance(obj, dict | list | tuple):
            if id(obj) in self._active:
                raise ValueError(f"save: {path}: the structure contains itself (a circular reference)")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return self._dict(obj, path)
                kind = "list" if isinstance(obj, list) else "tuple"
                return {"type": kind, "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
            finally:
                self._active.discard(id(obj))
        raise TypeError(
            f"save: {path}: cannot save an object of type {type(obj).__module__}.{type(obj).__qualname__}; "
            "checkpoints hold dicts (str/int keys), lists, tuples, Tensors, NumPy arrays, None, bool, int, "
            "float and str"
        )

    def _dict(self, obj: dict, path: str) -> dict:
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, int | str):
                raise TypeError(
                    f"save: {path}: cannot save the dict key {k!r} of type {type(k).__name__}; "
                    "keys must be str or int"
                )
            key_type = "str" if isinstance(k, str) else "int"
            key = str(k) if key_type == "str" else int(k)
            items.append({"key": key, "key_type": key_type, "value": self.encode(v, f"{path}[{key!r}]")})
        return {"type": "ordereddict" if isinstance(obj, OrderedDict) else "dict", "items": items}


def _fspath(f: Any, op: str) -> str:
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(
            f"{op}: expected a path (str or os.PathLike) or a binary file object, got {type(f).__name__}"
        ) from None


def _atomic_write(path: str, write) -> None:
    """Write a file via `write(fileobj)` so that `path` holds either the old or the complete new file."""
    target = os.path.realpath(path)  # write through a symlink, as open() would, rather than replacing it
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {path!r} is a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory {directory!r} of {path!r} does not exist")
    mode = _mode_for(target)
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed on any error
        delete=False, dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
    )
    try:
        with tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)  # NamedTemporaryFile makes 0600; give the file open()'s usual mode
        os.replace(tmp.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_directory(directory)


def _mode_for(target: str) -> int:
    """The permission bits the checkpoint should get: the old file's, else 0o666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        pass
    umask = None
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        m = re.search(r"^Umask:\s*([0-7]+)", fh.read(), re.M)  # Linux: the umask, without changing it
        umask = int(m.group(1), 8) if m else None
    if umask is None:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ====================================================================== load
def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool = True) -> Any:
    """Load what `save` wrote to `f` (a path or a binary file object), without running any code.

    Tensors come back as microtensor Tensors with `requires_grad=False` (as `torch.load` of a
    state dict gives), NumPy arrays as arrays, and containers with their types and key order.

    The file is read with `np.load(allow_pickle=False)` plus a JSON description, so loading
    an untrusted file cannot execute code: a file holding pickled Python objects (object
    arrays, or a pickle such as a `torch.save` file) is refused. A truncated, corrupt or
    foreign file raises `CheckpointError` (a RuntimeError) naming the file and what is wrong.

    `map_location` and `weights_only` exist so PyTorch code ports unchanged: microtensor is
    CPU-only and never unpickles, so they change nothing, but they are checked (a CUDA
    `map_location` is an error, as on a machine without CUDA).
    """
    _check_load_args(map_location, weights_only)
    if hasattr(f, "read"):
        return _load_from(f, repr(getattr(f, "name", "<file object>")))
    path = _fspath(f, "load")
    with open(path, "rb") as fh:  # FileNotFoundError / PermissionError pass through as they are
        return _load_from(fh, repr(path))


def _check_load_args(map_location: Any, weights_only: Any) -> None:
    if not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be a bool, got {type(weights_only).__name__}")
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return
    if str(map_location) != "cpu":
        raise ValueError(
            f"load: map_location={map_location!r} is not supported: microtensor tensors live on the CPU; "
            "pass None or 'cpu'"
        )


def _load_from(fh: BinaryIO, where: str) -> Any:
    head = fh.read(8)
    fh.seek(-len(head), os.SEEK_CUR)
    if not head:
        raise CheckpointError(f"load: {where} is empty, not a checkpoint")
    if not head.startswith(b"PK"):
        if head[:1] == b"\x80":
            what = "a Python pickle (e.g. a torch.save file); it was refused because unpickling can run code"
        elif head.startswith(b"\x93NUMPY"):
            what = "a single .npy array, not a microtensor checkpoint archive"
        else:
            what = f"not a zip (.npz) archive: it starts with {head!r}"
        raise CheckpointError(f"load: {where} is not a microtensor checkpoint: {what}")
    try:
        with np.load(fh, allow_pickle=False) as npz:
            return _Decoder(npz, where).decode_file()
    except CheckpointError:
        raise
    except ValueError as e:
        if "pickle" in str(e):  # np.load's refusal of object arrays or pickled data
            raise CheckpointError(
                f"load: {where} contains pickled Python objects; it was refused because unpickling can "
                f"run code ({e})"
            ) from e
        raise CheckpointError(f"load: {where} is corrupt or truncated: {e}") from e
    except zipfile.BadZipFile as e:
        if "not a zip file" in str(e):  # the zip directory lives at the end: the file was cut short
            raise CheckpointError(
                f"load: {where} is truncated or corrupt: the zip archive's directory at the end of the "
                f"file is missing (was the save interrupted, or the copy incomplete?) ({e})"
            ) from e
        raise CheckpointError(f"load: {where} is corrupt or truncated: {type(e).__name__}: {e}") from e
    except (zipfile.LargeZipFile, zlib.error, EOFError, OSError, KeyError) as e:
        raise CheckpointError(f"load: {where} is corrupt or truncated: {type(e).__name__}: {e}") from e
    except (struct.error, NotImplementedError, UnicodeDecodeError, RecursionError) as e:
        raise CheckpointError(f"load: {where} is corrupt: {type(e).__name__}: {e}") from e


class _Decoder:
    """Validates an opened .npz archive and rebuilds the saved structure from it."""

    def __init__(self, npz, where: str) -> None:
        self.npz = npz
        self.where = where
        self.headers: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        self.loaded: dict[
            tuple[str, str], Any
        ] = {}  # entry name -> Tensor/array already built (shared references)
        self.used: set[str] = set()

    def fail(self, msg: str) -> CheckpointError:
        return CheckpointError(f"load: {self.where}: {msg}")

    def decode_file(self) -> Any:
        zf: zipfile.ZipFile = self.npz.zip
        names = zf.namelist()
        if len(set(names)) != len(names):
            raise self.fail("the archive is corrupt: it lists an entry twice")
        if any(n.endswith(".pkl") for n in names):
            raise self.fail(
                "not a microtensor checkpoint: it looks like a PyTorch checkpoint, whose data.pkl is a "
                "pickle; it was refused because unpickling can run code"
            )
        for info in zf.infolist():
            self._check_entry(zf, info)
        if _STRUCTURE not in self.headers:
            raise self.fail(f"not a microtensor checkpoint: the archive has no {_STRUCTURE!r} entry")
        dtype, shape = self.headers[_STRUCTURE]
        if dtype != np.uint8 or len(shape) != 1:
            raise self.fail(
                f"the {_STRUCTURE!r} entry must be a 1-d uint8 array, got {dtype} of shape {shape}"
            )
        try:
            doc = json.loads(self.npz[_STRUCTURE].tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise self.fail(f"the structure description is not valid JSON: {e}") from e
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or "root" not in doc:
            raise self.fail(f"the structure description is not a {FORMAT!r} document")
        version = doc.get("version")
        if type(version) is not int or version < 1:
            raise self.fail(f"bad format version {version!r}")
        if version > VERSION:
            raise self.fail(
                f"written in format version {version}, newer than this microtensor reads ({VERSION}); "
                "upgrade microtensor"
            )
        obj = self.decode(doc["root"], "obj")
        unused = sorted(set(self.headers) - self.used - {_STRUCTURE})
        if unused:
            raise self.fail(f"the archive has entries the structure does not use: {unused}")
        return obj

    def _check_entry(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Read one entry's .npy header: refuse object dtypes and sizes the data does not back."""
        name = info.filename
        if not name.endswith(".npy"):
            raise self.fail(f"unexpected archive entry {name!r} (not a .npy array)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.fail(f"entry {name!r} uses an unsupported zip compression ({info.compress_type})")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise self.fail(
                f"entry {name!r} is corrupt (stored size {info.compress_size} != {info.file_size})"
            )
        with zf.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise self.fail(f"entry {name!r} uses an unsupported .npy format version {version}")
            if dtype.hasobject:
                raise self.fail(
                    f"entry {name!r} holds Python objects (dtype {dtype}), which are stored as pickles; "
                    "the file was refused because unpickling can run code"
                )
            offset = fp.tell()
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise self.fail(
                f"entry {name!r} is truncated or corrupt: its header describes {shape} {dtype} "
                f"({nbytes} bytes) but it holds {info.file_size - offset} bytes of data"
            )
        self.headers[name[: -len(".npy")]] = (dtype, tuple(shape))

    def decode(self, node: Any, path: str) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise self.fail(f"{path}: malformed structure node {node!r:.80}")
        kind = node["type"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str", "float"):
            value = node.get("value")
            if kind == "float":
                if isinstance(value, str) and value in _FLOAT_WORDS:
                    return _FLOAT_WORDS[value]
                if type(value) in (int, float):
                    return float(value)
            elif type(value) is {"bool": bool, "int": int, "str": str}[kind]:
                return value
            raise self.fail(f"{path}: bad {kind} value {value!r:.80}")
        if kind in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise self.fail(f"{path}: malformed {kind} node")
            out = [self.decode(v, f"{path}[{i}]") for i, v in enumerate(items)]
            return out if kind == "list" else tuple(out)
        if kind in ("dict", "ordereddict"):
            return self._decode_dict(node, path, OrderedDict if kind == "ordereddict" else dict)
        if kind in ("tensor", "ndarray", "numpy_scalar"):
            return self._decode_array(node, path, kind)
        raise self.fail(f"{path}: unknown structure node type {kind!r}")

    def _decode_dict(self, node: dict, path: str, cls: type) -> dict:
        items = node.get("items")
        if not isinstance(items, list):
            raise self.fail(f"{path}: malformed dict node")
        out = cls()
        for item in items:
            if not isinstance(item, dict) or "value" not in item:
                raise self.fail(f"{path}: malformed dict item {item!r:.80}")
            key, key_type = item.get("key"), item.get("key_type")
            if key_type not in ("str", "int") or type(key) is not {"str": str, "int": int}[key_type]:
                raise self.fail(f"{path}: bad dict key {key!r:.80} (key_type {key_type!r})")
            if key in out:
                raise self.fail(f"{path}: duplicate dict key {key!r}")
            out[key] = self.decode(item["value"], f"{path}[{key!r}]")
        return out

    def _decode_array(self, node: dict, path: str, kind: str) -> Any:
        name = node.get("array")
        if not isinstance(name, str) or name == _STRUCTURE:
            raise self.fail(f"{path}: malformed {kind} node")
        if name not in self.headers:
            raise self.fail(f"{path}: the array entry {name + '.npy'!r} is missing from the archive")
        dtype, shape = self.headers[name]
        if node.get("dtype") != dtype.str or node.get("shape") != list(shape):
            raise self.fail(
                f"{path}: entry {name!r} holds {dtype.str} {list(shape)}, but the structure says "
                f"{node.get('dtype')!r} {node.get('shape')!r}"
            )
        allowed = _TENSOR_KINDS if kind == "tensor" else _ARRAY_KINDS
        if dtype.kind not in allowed or dtype.fields is not None:
            raise self.fail(f"{path}: a {kind} cannot have dtype {dtype}")
        if kind == "numpy_scalar" and shape != ():
            raise self.fail(f"{path}: a NumPy scalar must be stored as a 0-d array, got shape {shape}")
        self.used.add(name)
        if (name, kind) in self.loaded:  # the same Tensor/array saved twice: one shared object, as saved
            return self.loaded[name, kind]
        arr = self.npz[name]  # read_array with allow_pickle=False; CRC-checked by zipfile
        if arr.dtype != dtype or arr.shape != shape:
            raise self.fail(f"{path}: entry {name!r} did not read back as its header says")
        if kind == "numpy_scalar":
            return arr[()]
        if kind == "tensor":
            if not arr.dtype.isnative:
                arr = arr.astype(arr.dtype.newbyteorder("="))
            arr = Tensor._wrap(arr)
        self.loaded[name, kind] = arr
        return arr
