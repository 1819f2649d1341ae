"""MNIST from the original IDX files: a verifying IDX reader, the data set, and a checked download.

    ds = mnist(train=True)       # a TensorDataset; see "Where the files are found" below
    x, y = ds[0]                 # x: float32 (784,) in [0, 1]; y: int64 label 0-9
    images, labels = ds.tensors  # (60000, 784) float32, (60000,) int64

Where the files are found, in this order (the first directory holding them wins):

1. the `root` argument: the directory holding the files, or a data root whose `mnist/`
   subdirectory holds them; an explicit root is the only place searched;
2. `$MICROTENSOR_DATA/mnist` when the environment variable MICROTENSOR_DATA (a data root)
   is set, then `$MICROTENSOR_MNIST_DIR` (the MNIST directory itself; the older name);
3. the per-user cache `~/.cache/microtensor/mnist` (`$XDG_CACHE_HOME/microtensor/mnist`
   when XDG_CACHE_HOME is set).

Files are looked up as `<name>` or `<name>.gz` (gzip is detected by its magic bytes,
not by the file name). Every file is checked before use: magic number, number of
dimensions, and that the header's sizes match the payload exactly.

`download=True` fetches missing files (into `root`, else the first directory of step 2,
else the cache) from a mirror (the `mirror` argument, else the environment variable
MICROTENSOR_MNIST_MIRRORS, else the public mirrors in MIRRORS, tried in order), checks
each against its published SHA-256 and only then moves it into place, so an
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
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dataset import TensorDataset

DATA_ENV = "MICROTENSOR_DATA"  # a data root: MNIST is read from (and downloaded to) its mnist/ folder
DIR_ENV = "MICROTENSOR_MNIST_DIR"  # the MNIST folder itself (older name, still honoured)
MIRROR_ENV = "MICROTENSOR_MNIST_MIRRORS"  # mirror URLs separated by commas or spaces
LEGACY_MIRROR_ENV = "MICROTENSOR_MNIST_MIRROR"

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

#: Published SHA-256 sums of the four original gzip files.
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


def cache_dir() -> Path:
    """The per-user cache directory of microtensor: `$XDG_CACHE_HOME/microtensor`, else
    `~/.cache/microtensor`. Downloads land in its subdirectories (`mnist/`, ...)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = (
        Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else Path.home() / ".cache"
    )
    return base / "microtensor"


def data_root() -> Path:
    """The data root: the environment variable MICROTENSOR_DATA when set, else `cache_dir()`.

    Each data set lives in a subdirectory named after it, e.g. `data_root() / "mnist"`.
    """
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else cache_dir()


def _explicit_dirs(root: Path) -> list[Path]:
    # An explicit root may hold the files or be a data root with an mnist/ subdirectory.
    return [root, root / "mnist"]


def default_mnist_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for the MNIST files, in order, without duplicates.

    1. `data_dir` (and `data_dir/mnist`), when given; nothing else is searched then;
    2. `$MICROTENSOR_DATA/mnist`, when MICROTENSOR_DATA is set;
    3. `$MICROTENSOR_MNIST_DIR` (the directory of the files itself), when set;
    4. `cache_dir()/mnist` (`~/.cache/microtensor/mnist`), where `download=True` saves by default.

    Example:
        >>> default_mnist_dirs("~/data")[0]          # doctest: +SKIP
        PosixPath('/home/me/data')
    """
    if data_dir is not None:
        candidates = _explicit_dirs(Path(data_dir).expanduser())
    else:
        candidates = []
        if os.environ.get(DATA_ENV):
            candidates.append(Path(os.environ[DATA_ENV]).expanduser() / "mnist")
        if os.environ.get(DIR_ENV):
            candidates.append(Path(os.environ[DIR_ENV]).expanduser())
        candidates.append(cache_dir() / "mnist")
    out, seen = [], set()
    for c in candidates:
        key = os.path.normcase(os.path.abspath(c))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def default_download_dir() -> Path:
    """Where `download=True` saves without a root: the first of `default_mnist_dirs()`
    ($MICROTENSOR_DATA/mnist, else $MICROTENSOR_MNIST_DIR, else ~/.cache/microtensor/mnist)."""
    return default_mnist_dirs()[0]


def _split(train: bool) -> str:
    return "train" if train else "test"


def _locate(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def missing_mnist_files(root: str | os.PathLike, train: bool | None = None) -> list[str]:
    """The MNIST file names (`<stem>[.gz]`) absent from `root`: both splits when `train`
    is None, else that split's images and labels. Empty when everything is there."""
    root = Path(root).expanduser()
    splits = ("train", "test") if train is None else (_split(train),)
    return [
        f"{FILES[s, kind]}[.gz]"
        for s in splits
        for kind in ("images", "labels")
        if _locate(root, FILES[s, kind]) is None
    ]


def _has_files(root: Path, train: bool | None) -> bool:
    return not missing_mnist_files(root, train)


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
        env = os.environ.get(MIRROR_ENV) or os.environ.get(LEGACY_MIRROR_ENV)
        # The variable holds one URL or several separated by commas or whitespace.
        mirror = env.replace(",", " ").split() if env else MIRRORS
    if isinstance(mirror, str):
        mirror = [mirror]
    return [m if m.endswith("/") else m + "/" for m in mirror]


class _Progress:
    """Download progress on stderr: a redrawn bar on a terminal, one line per file otherwise
    (so logs and CI output get no carriage-return updates)."""

    def __init__(self, name: str, total: int | None, enabled: bool | None):
        self.name, self.total, self.done = name, total, 0
        self.enabled = enabled if enabled is not None else True
        self.tty = self.enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self, n: int) -> None:
        self.done += n
        if self.tty:
            if self.total:
                filled = int(30 * self.done / self.total)
                bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done / self.total:4.0%}"
            else:
                bar = f"{self.done / 1e6:.1f} MB"
            sys.stderr.write(f"\rdownloading {self.name} {bar}")
            sys.stderr.flush()

    def close(self, ok: bool) -> None:
        if not self.enabled:
            return
        seconds = time.perf_counter() - self.start
        status = "done" if ok else "failed"
        line = f"downloading {self.name}: {self.done / 1e6:.1f} MB in {seconds:.1f} s, {status}"
        # On a terminal the summary overwrites the bar (padded to erase its tail).
        sys.stderr.write(("\r" + line.ljust(72) if self.tty else line) + "\n")
        sys.stderr.flush()


def download_mnist(
    root: str | os.PathLike | None = None,
    *,
    mirror: str | Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    progress: bool | None = None,
) -> list[Path]:
    """Fetch the MNIST files missing from `root` (default `default_download_dir()`).

    Mirrors are tried in order for each file: `mirror` (a URL or a list of URLs), else the
    environment variable MICROTENSOR_MNIST_MIRRORS (URLs separated by commas or spaces),
    else `MIRRORS`. Each file is streamed to a temporary file in `root`, checked against
    the size the server announced and its SHA-256 against `checksums` (default: the
    published sums, SHA256), and only then renamed into place. On any failure the
    temporary file is removed, the next mirror is tried, and if all fail an error names
    the file and every mirror's reason (both hashes for a corrupt download). Files
    already present (plain or .gz) are left alone. `progress` draws a bar on stderr when
    it is a terminal and writes one line per file otherwise (False: silent). Returns the
    paths written.

    Example:
        >>> download_mnist()                 # doctest: +SKIP
        [PosixPath('/home/me/.cache/microtensor/mnist/train-images-idx3-ubyte.gz'), ...]
    """
    root = Path(root).expanduser() if root is not None else default_download_dir()
    sums = dict(SHA256 if checksums is None else checksums)
    mirrors = _mirrors(mirror)
    if not mirrors:
        raise ValueError("download_mnist: no mirror given (an empty list)")
    written = []
    for stem in FILES.values():
        if _locate(root, stem) is not None:
            continue
        name = stem + ".gz"
        if name not in sums:
            raise ValueError(f"download_mnist: no SHA-256 sum given for {name}")
        failures, corrupt = [], False
        for base in mirrors:
            try:
                written.append(_fetch(base + name, root / name, sums[name].lower(), timeout, progress))
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


def _fetch(url: str, dest: Path, sha256: str, timeout: float, progress: bool | None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    bar = None
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "microtensor"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                bar = _Progress(dest.name, expected, progress)
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > _MAX_DOWNLOAD:
                        raise _ChecksumError(
                            f"{dest.name} from {url} is larger than {_MAX_DOWNLOAD} bytes; not an MNIST file"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            if expected is not None and size != expected:
                # A connection cut short: say so rather than report a checksum mismatch.
                raise http.client.IncompleteRead(b"", expected - size)
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
    except http.client.IncompleteRead as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if bar is not None:
            bar.close(False)
        raise http.client.HTTPException(
            f"truncated transfer: received {size} bytes, {e.expected} fewer than announced"
        ) from e
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if bar is not None:
            bar.close(False)
        raise
    bar.close(True)
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

    `root` is the directory holding the files (or a data root with an `mnist/` folder);
    when None, `default_mnist_dirs()` are searched (MICROTENSOR_DATA, then the per-user
    cache). With `download=True` files not found are fetched into `root` (default
    `default_download_dir()`) and checked; see `download_mnist`.

    Example:
        >>> train = MNIST(download=True)            # doctest: +SKIP
        >>> train.images.shape, train.labels[:3].tolist()
        ((60000, 784), [5, 0, 4])
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
            explicit = Path(root).expanduser()
            found = find_mnist_dir(explicit, train)
            if found is None and download:
                download_mnist(explicit, mirror=mirror, checksums=checksums)
                found = explicit
            searched = _explicit_dirs(explicit)
        else:
            found = find_mnist_dir(None, train)
            if found is None and download:
                found = default_download_dir()
                download_mnist(found, mirror=mirror, checksums=checksums)
            searched = default_mnist_dirs()
        if found is None or not _has_files(found, train):
            names = ", ".join(f"{FILES[split, k]}[.gz]" for k in ("images", "labels"))
            raise FileNotFoundError(
                f"MNIST: {names} not found in {', '.join(str(d) for d in searched)}; pass the directory "
                f"holding them as root, set {DATA_ENV} to a data root with an mnist/ folder, "
                "or use download=True"
            )
        root = found
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
        """The images as one float32 tensor, (N, 784) flattened or (N, 1, 28, 28), scaled to [0, 1]."""
        return self.tensors[0]

    @property
    def labels(self) -> Tensor:
        """The digit labels, an int64 tensor of shape (N,)."""
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
