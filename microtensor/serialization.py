"""Checkpoints: `save(obj, f)` and `load(f)`, like `torch.save` / `torch.load` for state dicts.

The file format is **safetensors** (https://github.com/huggingface/safetensors), written and
read through the `safetensors` package, whatever the file's suffix: `mt.save(obj, "x.pt")`
writes a safetensors file too (the suffix is the caller's choice; `.safetensors` is the
conventional one). A safetensors file is an 8-byte header length, a JSON header naming each
tensor with its dtype, shape and byte range, and the raw little-endian tensor bytes.

What can be saved: nested dicts (str or int keys, order kept; an OrderedDict stays one),
lists, tuples, Tensors, NumPy arrays and scalars (bool, integer and float dtypes), and
Python None, bool, int, float and str. That covers `model.state_dict()` and
`optimizer.state_dict()`. Anything else is refused with a TypeError naming where it sits,
e.g. `obj['layers'][2]: cannot save a set`, before any file is touched.

How objects map onto the file:

- every Tensor/array is one safetensors tensor, named by its place in `obj`, dotted: a
  plain `model.state_dict()` is written with its keys unchanged (`"0.weight"`, ...), so
  `safetensors.torch.load_file(path)` gives a dict PyTorch's `load_state_dict` accepts as
  is; `{"model": sd, "opt": opt.state_dict()}` gives `"model.0.weight"`,
  `"opt.state.0.momentum_buffer"`, ...;
- the structure (containers, key types and order, the scalars, which entries were Tensors
  and which NumPy arrays) is JSON in the header's metadata under the key `"microtensor"`;
  the metadata also says `"format": "pt"` (the tensors use PyTorch's layouts), which the
  Hugging Face tools expect;
- as in safetensors itself, storage sharing is not kept: a tensor that appears twice is
  written twice and loads as two tensors.

`load` reads microtensor files, any other safetensors file (e.g. `safetensors.torch.save_file`
of a PyTorch `state_dict`, loaded as `{name: Tensor}`), a Hugging Face shard index
(`model.safetensors.index.json`, loading the shards it names from its own directory), and,
with a DeprecationWarning, the `.npz` checkpoints of microtensor 0.1.

Why not pickle (what `torch.save` uses): unpickling runs code chosen by whoever wrote the
file, so loading a checkpoint from the internet would be running a program from the
internet. `load` has no mode that unpickles: it reads JSON and raw array bytes only. A
hostile or damaged file (a header claiming more bytes than the file has, overlapping or
out-of-range byte ranges, an absurd header size, duplicate names, invalid UTF-8, a
truncated file, a structure naming tensors that are not there) raises `CheckpointError` (a
RuntimeError) naming the file and the problem, before any tensor larger than the file could
be allocated; nothing is modified, so `model.load_state_dict(mt.load(bad))` leaves the model
as it was.

Why atomic: a crash, a full disk or Ctrl-C in the middle of a save must not destroy the
previous checkpoint. `save` writes to a temporary file in the same directory, fsyncs it,
then `os.replace`s it onto the target (atomic on POSIX and Windows); on any error the
temporary file is removed and the old checkpoint stays as it was.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np
import safetensors
import safetensors.numpy as st_numpy

from .tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "microtensor.checkpoint"
VERSION = 2  # 2: safetensors + JSON metadata; 1: the legacy .npz archive (read only)
_NPZ_VERSION = 1
_META_KEY = "microtensor"
_STRUCTURE = "__structure__"  # the legacy archive's structure entry
_MAX_HEADER = 100_000_000  # bytes; the safetensors package refuses larger headers too
_TENSOR_KINDS = "biuf"  # what a microtensor Tensor can hold
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# safetensors dtype names that NumPy (and so microtensor) can hold, as little-endian dtypes
_ST_DTYPES = {
    "BOOL": np.dtype("|b1"),
    "U8": np.dtype("|u1"),
    "I8": np.dtype("|i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_SAVABLE = {dt.newbyteorder("="): dt for dt in _ST_DTYPES.values()} | {
    dt.newbyteorder(">"): dt for dt in _ST_DTYPES.values()
}


class CheckpointError(RuntimeError):
    """A file given to `load` is not a valid checkpoint (corrupt, truncated, hostile or foreign)."""


# ====================================================================== save
def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Save `obj` (e.g. a model's or optimizer's state dict) to `f` as a safetensors file, atomically.

    `f` is a path (str or os.PathLike); the file is written under exactly that name, in the
    safetensors format whatever its suffix. A binary file object opened for writing is also
    accepted; it is written in place (atomicity is then the caller's business).

    The whole structure is checked first: an unsupported type raises TypeError naming its
    place in `obj` and nothing is written. The write goes to a temporary file in the
    target's directory which replaces the target only once it is complete and on disk, so a
    failure at any point leaves a previous checkpoint at `f` untouched.

    Tensors are saved as their values (dtype and shape kept); `requires_grad`, `.grad` and
    the graph are not saved.

    Example::

        mt.save(model.state_dict(), "model.safetensors")
        # in PyTorch: torch_model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
    """
    arrays, metadata = _encode_checkpoint(obj)
    if hasattr(f, "write"):
        f.write(st_numpy.save(arrays, metadata=metadata))
        return
    path = _fspath(f, "save")
    _atomic_write(path, lambda tmp_path: _write_safetensors(arrays, tmp_path, metadata))


def _write_safetensors(arrays: dict[str, np.ndarray], path: str, metadata: dict[str, str]) -> None:
    st_numpy.save_file(arrays, path, metadata=metadata)


def _encode_checkpoint(obj: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    encoder = _Encoder()
    root = encoder.encode(obj, "obj", ())
    doc = {"format": FORMAT, "version": VERSION, "root": root}
    text = json.dumps(doc, allow_nan=False, ensure_ascii=True, separators=(",", ":"))
    return encoder.arrays, {"format": "pt", _META_KEY: text}


class _Encoder:
    """Turns a Python structure into tagged JSON nodes plus a dict of named, contiguous arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._active: set[int] = set()  # containers on the current path, to catch cycles

    def _name(self, parts: tuple[str, ...]) -> str:
        # The dotted path is PyTorch's state_dict naming; a clash ({"a.b": x, "a": {"b": y}}) or
        # safetensors' reserved "__metadata__" gets a "#n" suffix, the structure records the real name.
        base = ".".join(parts) if parts else "tensor"
        name, n = base, 1
        while name in self.arrays or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def _array(self, arr: np.ndarray, kind: str, where: str, parts: tuple[str, ...]) -> dict:
        stored = _SAVABLE.get(arr.dtype) if arr.dtype.fields is None else None
        if stored is None:
            raise TypeError(
                f"save: {where}: cannot save an array of dtype {arr.dtype}; safetensors checkpoints hold "
                "bool, int8-int64, uint8-uint64 and float16/32/64 (object arrays would need pickle)"
            )
        if arr.dtype != stored:  # safetensors stores little-endian
            arr = arr.astype(stored)
        if not arr.flags.c_contiguous:  # the writer copies raw memory: it must be one C-ordered block
            arr = arr.copy(order="C")
        name = self._name(parts)
        self.arrays[name] = arr
        return {"type": kind, "array": name, "dtype": arr.dtype.str, "shape": list(arr.shape)}

    def encode(self, obj: Any, where: str, parts: tuple[str, ...]) -> dict:
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, Tensor):
            return self._array(obj._data, "tensor", where, parts)
        if isinstance(obj, np.ndarray):
            if type(obj) is not np.ndarray:  # np.matrix, masked arrays: would lose what makes them special
                raise TypeError(
                    f"save: {where}: cannot save a {type(obj).__name__}; convert it with np.asarray()"
                )
            return self._array(obj, "ndarray", where, parts)
        if isinstance(obj, np.generic):  # before float: np.float64 is a subclass of float
            return self._array(np.asarray(obj), "numpy_scalar", where, parts)
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
                raise ValueError(f"save: {where}: the structure contains itself (a circular reference)")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return self._dict(obj, where, parts)
                kind = "list" if isinstance(obj, list) else "tuple"
                items = [self.encode(v, f"{where}[{i}]", (*parts, str(i))) for i, v in enumerate(obj)]
                return {"type": kind, "items": items}
            finally:
                self._active.discard(id(obj))
        raise TypeError(
            f"save: {where}: cannot save an object of type {type(obj).__module__}.{type(obj).__qualname__}; "
            "checkpoints hold dicts (str/int keys), lists, tuples, Tensors, NumPy arrays, None, bool, int, "
            "float and str"
        )

    def _dict(self, obj: dict, where: str, parts: tuple[str, ...]) -> dict:
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, int | str):
                raise TypeError(
                    f"save: {where}: cannot save the dict key {k!r} of type {type(k).__name__}; "
                    "keys must be str or int"
                )
            key_type = "str" if isinstance(k, str) else "int"
            key = str(k) if key_type == "str" else int(k)
            value = self.encode(v, f"{where}[{key!r}]", (*parts, str(key)))
            items.append({"key": key, "key_type": key_type, "value": value})
        return {"type": "ordereddict" if isinstance(obj, OrderedDict) else "dict", "items": items}


def _fspath(f: Any, op: str) -> str:
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(
            f"{op}: expected a path (str or os.PathLike) or a binary file object, got {type(f).__name__}"
        ) from None


def _atomic_write(path: str, write) -> None:
    """Write a file via `write(temp_path)` so that `path` holds either the old or the complete new file."""
    target = os.path.realpath(path)  # write through a symlink, as open() would, rather than replacing it
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {path!r} is a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory {directory!r} of {path!r} does not exist")
    mode = _mode_for(target)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:  # the writer closed its handle: reopen to push the bytes to disk
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; give the file open()'s usual mode
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
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
    """Load a checkpoint from `f` (a path or a binary file object), without running any code.

    Reads what `save` wrote (the saved structure, with Tensors as microtensor Tensors with
    `requires_grad=False`, NumPy arrays as arrays, containers with their types and key
    order); any other safetensors file, as `{name: Tensor}` in name order (e.g. a PyTorch
    `state_dict` saved by `safetensors.torch.save_file`); a Hugging Face shard index
    `model.safetensors.index.json`, as `{name: Tensor}` gathered from the shard files it
    names (which must lie in the index's directory); and the `.npz` checkpoints of
    microtensor 0.1, with a DeprecationWarning (save them again to convert).

    A file that is truncated, corrupt, hostile or of another format (a pickle such as a
    `torch.save` file is refused, never unpickled) raises `CheckpointError` (a RuntimeError)
    naming the file and what is wrong, with memory bounded by the file's size.

    A path is read through a memory map, tensor by tensor; a file object is read whole into
    memory first.

    `map_location` and `weights_only` exist so PyTorch code ports unchanged: microtensor is
    CPU-only and never unpickles, so they change nothing, but they are checked (a CUDA
    `map_location` is an error, as on a machine without CUDA).

    Example::

        model.load_state_dict(mt.load("model.safetensors"))
    """
    _check_load_args(map_location, weights_only)
    if hasattr(f, "read"):
        where = repr(getattr(f, "name", "<file object>"))
        data = f.read()
        if not isinstance(data, bytes | bytearray):
            raise TypeError(f"load: the file object {where} must be opened in binary mode ('rb')")
        data = bytes(data)
        kind = _sniff(data[:9], where)
        if kind == "npz":
            obj = _load_npz(io.BytesIO(data), where)
            _warn_legacy(where)
            return obj
        if kind == "index":
            raise CheckpointError(
                f"load: {where} is JSON (a shard index?); pass its path, so the shards can be found beside it"
            )
        return _load_safetensors_bytes(data, where)
    path = _fspath(f, "load")
    where = repr(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"load: {where} is a directory; pass a checkpoint file or a model.safetensors.index.json"
        )
    with open(path, "rb") as fh:  # FileNotFoundError / PermissionError pass through as they are
        kind = _sniff(fh.read(9), where)
        if kind == "npz":
            fh.seek(0)
            obj = _load_npz(fh, where)
            _warn_legacy(where)
            return obj
        if kind == "index" or path.endswith(".json"):
            return _load_index(fh, path, where)
    return _load_safetensors_file(path, where)


def _warn_legacy(where: str) -> None:
    warnings.warn(  # once the file has loaded: a broken file gets its error, not a warning first
        f"load: {where} is a microtensor 0.1 checkpoint (.npz); this format is deprecated and read only. "
        "Save it again with mt.save to convert it to safetensors.",
        DeprecationWarning,
        stacklevel=3,  # the caller of load()
    )


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


def _sniff(head: bytes, where: str) -> str:
    """What a file is, from its first 9 bytes: 'safetensors', 'npz' (legacy), 'index' (JSON), or refused."""
    if not head:
        raise CheckpointError(f"load: {where} is empty, not a checkpoint")
    # safetensors: a little-endian length (so its high bytes are 0 for any real header), then '{'.
    # Checked first: a length such as 0x80 begins with pickle's PROTO opcode, 0x4B50 with "PK".
    if head[8:9] == b"{" and head[5:8] == b"\0\0\0":
        return "safetensors"
    if head.startswith(b"PK"):  # a zip's byte 8 is its compression method, never '{'
        return "npz"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise CheckpointError(
            f"load: {where} is not a checkpoint microtensor reads: it is a Python pickle (e.g. a torch.save "
            "file); it was refused because unpickling can run code. In PyTorch, save the state_dict with "
            "safetensors.torch.save_file instead"
        )
    if head.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"load: {where} is a single .npy array, not a checkpoint")
    if b"\0" not in head and head.lstrip()[:1] == b"{":  # a safetensors length field has NUL bytes
        return "index"
    return "safetensors"


def _no_duplicates(where: str, what: str):
    """A json object_pairs_hook that refuses a key given twice (JSON parsers silently keep one)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise CheckpointError(f"load: {where}: the {what} names {k!r} twice")
            out[k] = v
        return out

    return hook


def _parse_json(raw: bytes, where: str, what: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"load: {where}: the {what} is not valid UTF-8 ({e})") from e
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(where, what))
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"load: {where}: the {what} is not valid JSON ({type(e).__name__}: {e})") from e


# ----------------------------------------------------------- safetensors
def _read_header(head: bytes, read, size: int, where: str) -> tuple[dict, dict[str, str]]:
    """Parse and check a safetensors header, reading at most its declared (bounded) length.

    `head` is the file's first 8 bytes (the header length), `read(n)` returns the n bytes after
    them, `size` is the file's length. Returns {name: (dtype, shape)} in the header's order and
    the metadata. The byte ranges are checked by the safetensors package when the data is read.
    """
    if size < 8:
        raise CheckpointError(f"load: {where} is truncated: {size} bytes, too short for a safetensors header")
    n = struct.unpack("<Q", head)[0]
    if n > _MAX_HEADER:
        raise CheckpointError(
            f"load: {where} is not a valid safetensors file: its header claims {n} bytes "
            f"(the limit is {_MAX_HEADER})"
        )
    if 8 + n > size:
        raise CheckpointError(
            f"load: {where} is truncated or corrupt: its header claims {n} bytes but the file has only "
            f"{size - 8} after the length field"
        )
    header = _parse_json(read(n), where, "safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {where}: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"load: {where}: the header's __metadata__ must map strings to strings")
    entries: dict[str, tuple[np.dtype, tuple]] = {}
    for name, info in header.items():
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list):
            raise CheckpointError(f"load: {where}: malformed header entry for tensor {name!r}")
        dtype = _ST_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CheckpointError(
                f"load: {where}: tensor {name!r} has dtype {info.get('dtype')!r}, which NumPy cannot hold "
                f"(supported: {', '.join(_ST_DTYPES)}); convert it before saving, e.g. .float() in PyTorch"
            )
        shape = info["shape"]
        if not all(type(d) is int and d >= 0 for d in shape):
            raise CheckpointError(f"load: {where}: tensor {name!r} has an invalid shape {shape!r:.80}")
        entries[name] = (dtype, tuple(shape))
    return entries, metadata


def _safetensors_error(e: Exception, where: str) -> CheckpointError:
    return CheckpointError(f"load: {where} is corrupt or truncated: {e}")


def _open_safetensors(path: str, where: str):
    """Check the header of the safetensors file at `path`; return its entries, metadata and a reader."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        entries, metadata = _read_header(fh.read(8), fh.read, size, where)
    try:
        handle = safetensors.safe_open(path, framework="np")  # validates every byte range against the file
    except (safetensors.SafetensorError, OSError, ValueError) as e:
        raise _safetensors_error(e, where) from e
    return entries, metadata, handle


def _load_safetensors_file(path: str, where: str) -> Any:
    entries, metadata, handle = _open_safetensors(path, where)
    with handle:
        return _decode_safetensors(entries, metadata, lambda name: handle.get_tensor(name), where)


def _load_safetensors_bytes(data: bytes, where: str) -> Any:
    entries, metadata = _read_header(data[:8], lambda n: data[8 : 8 + n], len(data), where)
    try:
        arrays = st_numpy.load(data)  # validates every byte range against the data
    except (safetensors.SafetensorError, ValueError) as e:
        raise _safetensors_error(e, where) from e
    # The package returns read-only views of its own bytes; tensors must be writable (optimizers update them)
    return _decode_safetensors(entries, metadata, lambda name: np.array(arrays[name]), where)


def _decode_safetensors(entries: dict, metadata: dict[str, str], fetch, where: str) -> Any:
    if _META_KEY not in metadata:  # a plain safetensors file (PyTorch, Hugging Face): {name: Tensor}
        out = {}
        for name in sorted(entries):
            out[name] = _as_tensor(_fetch_checked(fetch, name, entries[name], where))
        return out
    doc = _parse_json(metadata[_META_KEY].encode("utf-8"), where, "structure description")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "root" not in doc:
        raise CheckpointError(f"load: {where}: the structure description is not a {FORMAT!r} document")
    _check_version(doc.get("version"), VERSION, where)
    decoder = _Decoder(entries, lambda name: _fetch_checked(fetch, name, entries[name], where), where)
    decoder.check_names(doc["root"])
    return decoder.decode(doc["root"], "obj")


def _fetch_checked(fetch, name: str, expected: tuple, where: str) -> np.ndarray:
    try:
        arr = fetch(name)
    except (safetensors.SafetensorError, ValueError, OSError) as e:
        raise _safetensors_error(e, where) from e
    if arr.dtype != expected[0] or arr.shape != expected[1]:
        raise CheckpointError(f"load: {where}: tensor {name!r} did not read back as its header says")
    return arr


def _as_tensor(arr: np.ndarray) -> Tensor:
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return Tensor._wrap(arr)


def _check_version(version: Any, newest: int, where: str) -> None:
    if type(version) is not int or version < 1:
        raise CheckpointError(f"load: {where}: bad format version {version!r}")
    if version > newest:
        raise CheckpointError(
            f"load: {where}: written in format version {version}, newer than this microtensor reads "
            f"({newest}); upgrade microtensor"
        )


# ------------------------------------------------------------ shard index
def _load_index(fh: BinaryIO, path: str, where: str) -> dict[str, Tensor]:
    """A Hugging Face shard index: {"metadata": ..., "weight_map": {tensor name: shard file name}}."""
    size = os.fstat(fh.fileno()).st_size
    if size > _MAX_HEADER:
        raise CheckpointError(
            f"load: {where}: a shard index of {size} bytes is too large (limit {_MAX_HEADER})"
        )
    fh.seek(0)
    doc = _parse_json(fh.read(size), where, "shard index")
    weight_map = doc.get("weight_map") if isinstance(doc, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise CheckpointError(
            f"load: {where} is not a safetensors shard index: it needs a 'weight_map' object mapping "
            "tensor names to shard file names"
        )
    base = os.path.dirname(os.path.abspath(path))
    real_base = os.path.realpath(base)
    by_shard: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        by_shard.setdefault(shard, []).append(name)
    opened = {}
    with contextlib.ExitStack() as stack:
        for shard, names in by_shard.items():  # check every shard's name and header before reading data
            shard_path = _shard_path(base, real_base, shard, where)
            shard_where = f"{shard_path!r} (shard of {where})"
            entries, _, handle = _open_safetensors(shard_path, shard_where)
            stack.enter_context(handle)
            opened[shard] = (entries, handle, shard_where)
            missing = [n for n in names if n not in entries]
            extra = sorted(set(entries) - set(names))
            if missing:
                raise CheckpointError(
                    f"load: {where}: the weight_map puts {missing[:5]} in {shard!r}, which does not hold them"
                )
            if extra:
                raise CheckpointError(
                    f"load: {where}: the shard {shard!r} holds tensors the weight_map does not assign to it: "
                    f"{extra[:5]}"
                )
        out = {}
        for name, shard in weight_map.items():
            entries, handle, shard_where = opened[shard]
            out[name] = _as_tensor(_fetch_checked(handle.get_tensor, name, entries[name], shard_where))
        return out


def _shard_path(base: str, real_base: str, shard: str, where: str) -> str:
    """The path of a shard named by an index, refusing any name that leaves the index's directory."""
    parts = re.split(r"[/\\]", shard)
    if not shard or "\0" in shard or os.path.isabs(shard) or any(p in ("", ".", "..") for p in parts):
        raise CheckpointError(
            f"load: {where}: the shard name {shard!r} is not a plain file name inside the index's directory"
        )
    path = os.path.join(base, *parts)
    real = os.path.realpath(path)
    if os.path.commonpath([real_base, real]) != real_base:  # e.g. a symlink pointing elsewhere
        raise CheckpointError(
            f"load: {where}: the shard {shard!r} resolves to {real!r}, outside the directory"
        )
    return path


# ------------------------------------------------- structure (both formats)
class _Decoder:
    """Rebuilds the saved structure from its JSON nodes, reading each named array on demand."""

    def __init__(self, headers: dict[str, tuple[np.dtype, tuple]], fetch, where: str) -> None:
        self.headers = headers
        self.fetch = fetch
        self.where = where
        self.loaded: dict[tuple[str, str], Any] = {}  # (name, kind) -> object built (shared references)

    def fail(self, msg: str) -> CheckpointError:
        return CheckpointError(f"load: {self.where}: {msg}")

    def check_names(self, root: Any) -> None:
        """Before reading any data: every array the structure names exists, and every array is named."""
        named, stack = set(), [root]
        while stack:  # iterative: a deeply nested hostile structure must not overflow the stack
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("type") in ("tensor", "ndarray", "numpy_scalar"):
                    name = node.get("array")
                    if not isinstance(name, str) or name not in self.headers:
                        raise self.fail(
                            f"the structure names the tensor {name!r:.80}, which is not in the file"
                        )
                    named.add(name)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        unused = sorted(set(self.headers) - named)
        if unused:
            raise self.fail(f"the file has tensors the structure does not use: {unused[:10]}")

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
            raise self.fail(f"{path}: the tensor {name!r} is missing from the file")
        dtype, shape = self.headers[name]
        if node.get("dtype") != dtype.str or node.get("shape") != list(shape):
            raise self.fail(
                f"{path}: entry {name!r} holds {dtype.str} {list(shape)}, but the structure says "
                f"{node.get('dtype')!r} {node.get('shape')!r}"
            )
        allowed = _TENSOR_KINDS if kind == "tensor" else "biufc"
        if dtype.kind not in allowed or dtype.fields is not None:
            raise self.fail(f"{path}: a {kind} cannot have dtype {dtype}")
        if kind == "numpy_scalar" and shape != ():
            raise self.fail(f"{path}: a NumPy scalar must be stored as a 0-d array, got shape {shape}")
        if (name, kind) in self.loaded:  # the same entry named twice: one shared object
            return self.loaded[name, kind]
        arr = self.fetch(name)
        if kind == "numpy_scalar":
            return arr[()]
        if kind == "tensor":
            arr = _as_tensor(arr)
        self.loaded[name, kind] = arr
        return arr


# ---------------------------------------------------- legacy .npz (read only)
# Entry names microtensor 0.1 wrote; anything else (e.g. "../../x.npy") is outside the format.
_NPZ_NAME = re.compile(r"(?:__structure__|a\d{1,9})\.npy")


def _load_npz(fh: BinaryIO, where: str) -> Any:
    """Read a microtensor 0.1 checkpoint (.npz + JSON), refusing anything that could exhaust memory.

    Only uncompressed (stored) entries with the names 0.1 wrote are accepted, and every entry's
    sizes must be backed by bytes of the archive, so nothing larger than the file is ever
    allocated: a compressed entry (a possible zip bomb) is refused before it is inflated.
    """
    fh.seek(0, os.SEEK_END)
    archive_size = fh.tell()
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            headers = _npz_headers(zf, archive_size, where)
            if _STRUCTURE not in headers:
                raise CheckpointError(f"load: {where}: not a microtensor checkpoint: no {_STRUCTURE!r} entry")
            dtype, shape = headers.pop(_STRUCTURE)
            if dtype != np.uint8 or len(shape) != 1:
                raise CheckpointError(
                    f"load: {where}: the {_STRUCTURE!r} entry must be a 1-d uint8 array, got {dtype} of "
                    f"shape {shape}"
                )
            raw = _read_npy(zf, _STRUCTURE, dtype, shape).tobytes()
            doc = _parse_json(raw, where, "structure description")
            if not isinstance(doc, dict) or doc.get("format") != FORMAT or "root" not in doc:
                raise CheckpointError(
                    f"load: {where}: the structure description is not a {FORMAT!r} document"
                )
            _check_version(doc.get("version"), _NPZ_VERSION, where)
            decoder = _Decoder(headers, lambda name: _read_npy(zf, name, *headers[name]), where)
            decoder.check_names(doc["root"])
            return decoder.decode(doc["root"], "obj")
    except CheckpointError:
        raise
    except zipfile.BadZipFile as e:
        if "not a zip file" in str(e):  # the zip directory lives at the end: the file was cut short
            raise CheckpointError(
                f"load: {where} is truncated or corrupt: the zip archive's directory at the end of the "
                f"file is missing (was the save interrupted, or the copy incomplete?) ({e})"
            ) from e
        raise CheckpointError(f"load: {where} is corrupt or truncated: {type(e).__name__}: {e}") from e
    except (ValueError, zipfile.LargeZipFile, zlib.error, EOFError, OSError, KeyError, struct.error) as e:
        raise CheckpointError(f"load: {where} is corrupt or truncated: {type(e).__name__}: {e}") from e
    except (NotImplementedError, UnicodeDecodeError, RecursionError) as e:
        raise CheckpointError(f"load: {where} is corrupt: {type(e).__name__}: {e}") from e


def _npz_headers(zf: zipfile.ZipFile, archive_size: int, where: str) -> dict[str, tuple[np.dtype, tuple]]:
    """Check every entry of a legacy archive before reading any data; return {name: (dtype, shape)}."""
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise CheckpointError(f"load: {where}: the archive is corrupt: it lists an entry twice")
    if any(n.endswith(".pkl") for n in names):
        raise CheckpointError(
            f"load: {where}: not a microtensor checkpoint: it looks like a PyTorch checkpoint, whose "
            "data.pkl is a pickle; it was refused because unpickling can run code"
        )
    headers = {}
    for info in infos:
        name = info.filename
        if not _NPZ_NAME.fullmatch(name):
            raise CheckpointError(
                f"load: {where}: unexpected archive entry {name!r}: a microtensor archive only holds "
                "'__structure__.npy' and 'a<N>.npy'"
            )
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"load: {where}: entry {name!r} is compressed (zip method {info.compress_type}, claiming "
                f"{info.file_size} bytes); microtensor never compressed checkpoints, and inflating an "
                "unknown entry could exhaust memory (a zip bomb), so it was refused"
            )
        if info.compress_size != info.file_size:
            raise CheckpointError(
                f"load: {where}: entry {name!r} is corrupt (stored size {info.compress_size} != "
                f"{info.file_size})"
            )
        if info.header_offset + info.compress_size > archive_size:
            raise CheckpointError(
                f"load: {where}: entry {name!r} claims {info.file_size} bytes at offset "
                f"{info.header_offset}, but the archive has only {archive_size} bytes"
            )
        with zf.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise CheckpointError(
                    f"load: {where}: entry {name!r} uses an unsupported .npy version {version}"
                )
            if dtype.hasobject:
                raise CheckpointError(
                    f"load: {where}: entry {name!r} holds Python objects (dtype {dtype}), which are stored "
                    "as pickles; the file was refused because unpickling can run code"
                )
            offset = fp.tell()
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise CheckpointError(
                f"load: {where}: entry {name!r} is truncated or corrupt: its header describes {shape} "
                f"{dtype} ({nbytes} bytes) but it holds {info.file_size - offset} bytes of data"
            )
        headers[name[: -len(".npy")]] = (dtype, tuple(shape))
    return headers


def _read_npy(zf: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple) -> np.ndarray:
    with zf.open(name + ".npy") as fp:  # CRC-checked by zipfile
        arr = np.lib.format.read_array(fp, allow_pickle=False)
    if arr.dtype != dtype or arr.shape != shape:
        raise CheckpointError(f"load: entry {name!r} did not read back as its header says")
    return arr
