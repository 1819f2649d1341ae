"""MNIST from the original IDX files: a verifying IDX reader, the data set, and a checked download.

    ds = mnist("../shared/data/mnist", train=True)   # a TensorDataset
    x, y = ds[0]                 # x: float32 (784,) in [0, 1]; y: int64 label 0-9
    images, labels = ds.tensors  # (60000, 784) float32, (60000,) int64

Files are looked up as `<name>` or `<name>.gz` (gzip is detected by its magic bytes,
not by the file name). Every file is checked before use: magic number, number of
dimensions, and that the header's sizes match the payload exactly.

`download=True` fetches missing files from a mirror (the `mirror` argument, else the
environment variable MICROTENSOR_MNIST_MIRROR, else the public mirrors in MIRRORS),
checks each against its published SHA-256 and only then moves it into place, so an
interrupted or corrupt download never leaves a file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import math
import os
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dataset import TensorDataset

DIR_ENV = "MICROTENSOR_MNIST_DIR"
MIRROR_ENV = "MICROTENSOR_MNIST_MIRROR"

#: Public mirrors of the original files (the first is torchvision's), tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: File stems of the (split, kind) pairs; on disk as `<stem>` or `<stem>.gz`.
FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

#: Published SHA-256 sums of the four original gzip files (as in ../shared/data/mnist/SHA256SUMS).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension (count)

# IDX type codes (third magic byte); multi-byte types are big-endian in the file.
_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CHUNK = 1 << 20
_MAX_EXTRA_COUNTED = 256 << 20  # count at most this many surplus bytes for an error message
_MAX_DOWNLOAD = 64 << 20  # the largest original file is 9.9 MB


# ------------------------------------------------------------------------------------------ IDX


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a NumPy array of the shape its header gives.

    Raises ValueError naming the file when the magic number is not an IDX one (or not
    `magic`, when given), the header is cut short, or the payload is not exactly the
    size the header claims. Sizes are compared before any array of the claimed size is
    allocated, so a corrupt header claiming gigabytes fails fast and cheaply.
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not compressed:
            return _read_idx(raw, path, magic, file_size=os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _read_idx(f, path, magic, file_size=None)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise ValueError(f"{path}: corrupt or truncated gzip data: {e}") from e


def _describe(magic: int) -> str:
    dtype = _IDX_TYPES.get((magic >> 8) & 0xFF)
    kind = dtype.name if dtype is not None else "unknown type"
    return f"{kind}, {magic & 0xFF}-D"


def _read_idx(f, path: str, magic: int | None, file_size: int | None) -> np.ndarray:
    where = "the decompressed file" if file_size is None else "the file"
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(
            f"{path}: not an IDX file: {where} has {len(head)} bytes, fewer than its 4-byte magic number"
        )
    found = int.from_bytes(head, "big")
    if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES or head[3] == 0:
        want = f" (expected 0x{magic:08x}: {_describe(magic)})" if magic is not None else ""
        raise ValueError(
            f"{path}: not an IDX file: bad magic number 0x{found:08x}{want}; an IDX magic number is "
            "0x0000TTDD with type TT in 08 09 0b 0c 0d 0e and DD >= 1 dimensions"
        )
    if magic is not None and found != magic:
        raise ValueError(
            f"{path}: IDX magic number 0x{found:08x} ({_describe(found)}), "
            f"expected 0x{magic:08x} ({_describe(magic)})"
        )
    dtype, ndim = _IDX_TYPES[head[2]], head[3]
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(
            f"{path}: truncated IDX header: magic 0x{found:08x} announces {ndim} dimensions "
            f"({4 * ndim} bytes) but {where} ends after {len(raw_dims)} of them"
        )
    dims = struct.unpack(f">{ndim}I", raw_dims)
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    header = f"{path}: IDX header (magic 0x{found:08x}, shape {dims}) claims {expected} bytes of data"

    if file_size is not None:
        actual = file_size - 4 - 4 * ndim
        if actual != expected:
            problem = "truncated file" if actual < expected else "extra bytes after the data"
            raise ValueError(f"{header}, but {where} holds {actual} ({problem})")
        buf = np.empty(expected, dtype=np.uint8)
        got = f.readinto(memoryview(buf)) if expected else 0
        if got != expected:  # the file shrank while we read it
            raise ValueError(f"{header}, but only {got} could be read")
    else:
        # Grow the buffer only as data actually arrives, reading at most expected + 1 bytes.
        data = bytearray()
        while len(data) <= expected:
            chunk = f.read(min(_CHUNK, expected + 1 - len(data)))
            if not chunk:
                break
            data += chunk
        if len(data) != expected:
            actual, more = len(data), ""
            if actual > expected:  # count the surplus without keeping it
                while actual - expected <= _MAX_EXTRA_COUNTED and (chunk := f.read(_CHUNK)):
                    actual += len(chunk)
                if actual - expected > _MAX_EXTRA_COUNTED:
                    more = "more than "
            problem = "truncated file" if actual < expected else "extra bytes after the data"
            raise ValueError(f"{header}, but {where} holds {more}{actual} ({problem})")
        buf = np.frombuffer(data, dtype=np.uint8)
    arr = buf.view(dtype).reshape(dims)
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


# ------------------------------------------------------------------------------------ locating


def default_mnist_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for the MNIST files, in order, without duplicates.

    1. `data_dir`, when given;
    2. the environment variable MICROTENSOR_MNIST_DIR, when set;
    3. `../shared/data/mnist` next to the microtensor checkout, then next to the
       current directory, when they exist;
    4. `~/.microtensor/mnist` (also where `download=True` saves by default).
    """
    candidates: list[Path] = []
    if data_dir is not None:
        candidates.append(Path(data_dir).expanduser())
    if os.environ.get(DIR_ENV):
        candidates.append(Path(os.environ[DIR_ENV]).expanduser())
    repo = Path(__file__).resolve().parents[2]
    for base in (repo, Path.cwd()):
        shared = base.parent / "shared" / "data" / "mnist"
        if shared.is_dir():
            candidates.append(shared)
    candidates.append(Path.home() / ".microtensor" / "mnist")
    out, seen = [], set()
    for c in candidates:
        key = os.path.normcase(os.path.abspath(c))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def default_download_dir() -> Path:
    """Where `download=True` saves without a root: $MICROTENSOR_MNIST_DIR, else ~/.microtensor/mnist."""
    env = os.environ.get(DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".microtensor" / "mnist"


def _split(train: bool) -> str:
    return "train" if train else "test"


def _locate(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def _has_files(root: Path, train: bool | None) -> bool:
    splits = ("train", "test") if train is None else (_split(train),)
    return all(_locate(root, FILES[s, kind]) is not None for s in splits for kind in ("images", "labels"))


def find_mnist_dir(data_dir: str | os.PathLike | None = None, train: bool | None = None) -> Path | None:
    """The first of `default_mnist_dirs(data_dir)` holding the MNIST files (both splits when
    `train` is None, else that split's images and labels), or None."""
    for d in default_mnist_dirs(data_dir):
        if _has_files(d, train):
            return d
    return None


# ------------------------------------------------------------------------------------ download


class _ChecksumError(ValueError):
    pass


def _mirrors(mirror: str | Sequence[str] | None) -> list[str]:
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or MIRRORS
    if isinstance(mirror, str):
        mirror = [mirror]
    return [m if m.endswith("/") else m + "/" for m in mirror]


def download_mnist(
    root: str | os.PathLike | None = None,
    *,
    mirror: str | Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> list[Path]:
    """Fetch the MNIST files missing from `root` (default `default_download_dir()`).

    Each file is streamed to a temporary file in `root`, its SHA-256 compared with
    `checksums` (default: the published sums, SHA256), and only then renamed into
    place. On any failure the temporary file is removed and an error names the file
    (and, for a corrupt download, both hashes). Files already present (plain or .gz)
    are left alone. Returns the paths written.
    """
    root = Path(root).expanduser() if root is not None else default_download_dir()
    sums = dict(SHA256 if checksums is None else checksums)
    written = []
    for stem in FILES.values():
        if _locate(root, stem) is not None:
            continue
        name = stem + ".gz"
        if name not in sums:
            raise ValueError(f"download_mnist: no SHA-256 sum given for {name}")
        failures, corrupt = [], False
        for base in _mirrors(mirror):
            try:
                written.append(_fetch(base + name, root / name, sums[name].lower(), timeout))
                break
            except _ChecksumError as e:
                failures.append(str(e))
                corrupt = True
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                failures.append(f"could not fetch {base + name}: {e}")
        else:
            detail = "\n  ".join(failures)
            message = f"download_mnist: could not download {name} into {root}:\n  {detail}"
            raise ValueError(message) if corrupt else RuntimeError(message)
    return written


def _fetch(url: str, dest: Path, sha256: str, timeout: float) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "microtensor"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > _MAX_DOWNLOAD:
                        raise _ChecksumError(
                            f"{dest.name} from {url} is larger than {_MAX_DOWNLOAD} bytes; not an MNIST file"
                        )
                    digest.update(chunk)
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise _ChecksumError(
                f"{dest.name} from {url} is corrupt: its SHA-256 is {got} but the published sum is "
                f"{sha256} ({size} bytes received); the file was not saved"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where directories can be fsynced
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return dest


# ------------------------------------------------------------------------------------- dataset


class MNIST(TensorDataset):
    """The MNIST handwritten digits, read and verified from the original IDX files.

    MNIST(root=None, train=True, download=False, *, flatten=True, mirror=None, checksums=None)

    A TensorDataset of (image, label): images are float32 in [0, 1], of shape (N, 784)
    with `flatten=True` (ready for an MLP) or (N, 1, 28, 28) with `flatten=False` (as
    torchvision's ToTensor gives); labels are int64 in 0-9. `train` picks the 60,000
    training or the 10,000 test images. `data` (uint8, (N, 28, 28)) and `targets` are
    kept under torchvision's names.

    `root` is the directory holding the files; when None, `default_mnist_dirs()` are
    searched. With `download=True` missing files are fetched into `root` (default
    `default_download_dir()`) and checked; see `download_mnist`.
    """

    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        *,
        flatten: bool = True,
        mirror: str | Sequence[str] | None = None,
        checksums: Mapping[str, str] | None = None,
    ):
        split = _split(train)
        if root is not None:
            root = Path(root).expanduser()
        else:
            root = find_mnist_dir(None, train)
            if root is None and download:
                root = default_download_dir()
        if download:
            download_mnist(root, mirror=mirror, checksums=checksums)
        if root is None or not _has_files(root, train):
            searched = [root] if root is not None else default_mnist_dirs()
            names = ", ".join(f"{FILES[split, k]}[.gz]" for k in ("images", "labels"))
            raise FileNotFoundError(
                f"MNIST: {names} not found in {', '.join(str(d) for d in searched)}; pass the directory "
                f"holding them, set {DIR_ENV}, or use download=True"
            )
        images_path = _locate(root, FILES[split, "images"])
        labels_path = _locate(root, FILES[split, "labels"])
        images = read_idx(images_path, magic=IMAGES_MAGIC)
        labels = read_idx(labels_path, magic=LABELS_MAGIC)
        if len(images) != len(labels):
            raise ValueError(
                f"MNIST: {images_path} holds {len(images)} images "
                f"but {labels_path} holds {len(labels)} labels"
            )
        if labels.size and labels.max() > 9:
            raise ValueError(f"MNIST: {labels_path} has label {int(labels.max())}; MNIST labels are 0-9")
        x = images.astype(np.float32)
        np.divide(x, np.float32(255), out=x)
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
        targets = Tensor._wrap(labels.astype(np.int64))
        super().__init__(Tensor._wrap(x), targets)
        self.root, self.train, self.flatten = root, bool(train), bool(flatten)
        self.data = Tensor._wrap(images)
        self.targets = targets

    @property
    def images(self) -> Tensor:
        return self.tensors[0]

    @property
    def labels(self) -> Tensor:
        return self.tensors[1]

    def __repr__(self) -> str:
        return (
            f"MNIST(split={_split(self.train)!r}, root={str(self.root)!r}, images {tuple(self.images.shape)} "
            f"float32, labels {tuple(self.labels.shape)} int64)"
        )


def mnist(
    root: str | os.PathLike | None = None,
    train: bool = True,
    download: bool = False,
    *,
    flatten: bool = True,
    mirror: str | Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
) -> MNIST:
    """MNIST as a TensorDataset of (float32 image in [0, 1], int64 label); see `MNIST`."""
    return MNIST(root, train, download, flatten=flatten, mirror=mirror, checksums=checksums)
