"""microtensor.data: Dataset/DataLoader, logic tables, the IDX reader, MNIST (files and download), digits."""

import gzip
import hashlib
import http.server
import importlib
import os
import struct
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import microtensor as mt
from microtensor.data import (
    MNIST,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    and_,
    default_collate,
    default_mnist_dirs,
    digits,
    download_mnist,
    find_mnist_dir,
    load_mnist_or_digits,
    logic_dataset,
    logic_gate,
    mnist,
    nand,
    or_,
    random_split,
    read_idx,
    xor,
)

# The functions mnist() and digits() shadow their submodules' names on the package; fetch the modules.
mnist_module = importlib.import_module("microtensor.data.mnist")
digits_module = importlib.import_module("microtensor.data.digits")

# The development copy of MNIST, found (as users' copies are) through the environment:
# .ci/run and `make test` set MICROTENSOR_DATA / MICROTENSOR_MNIST_DIR.
SHARED_MNIST = (
    Path(os.environ["MICROTENSOR_MNIST_DIR"])
    if os.environ.get("MICROTENSOR_MNIST_DIR")
    else Path(os.environ.get("MICROTENSOR_DATA") or "/nonexistent") / "mnist"
)


def xy(n=10, features=3):
    X = mt.tensor(np.arange(n * features, dtype=np.float32).reshape(n, features))
    y = mt.tensor(np.arange(n, dtype=np.int64))
    return X, y


def epoch_labels(loader):
    return np.concatenate([yb.numpy() for _, yb in loader])


# ---------------------------------------------------------------------------------- TensorDataset


def test_tensor_dataset_indexes_rows_of_every_tensor():
    X, y = xy(5)
    ds = TensorDataset(X, y)
    assert len(ds) == 5
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3.numpy(), [9, 10, 11])
    assert y3.item() == 3
    assert ds.tensors[0] is X


def test_tensor_dataset_accepts_numpy_and_keeps_dtype():
    ds = TensorDataset(np.zeros((4, 2), np.float64), np.arange(4, dtype=np.int32))
    assert ds.tensors[0].dtype == np.float64 and ds.tensors[1].dtype == np.int32


def test_tensor_dataset_size_mismatch_names_both_sizes():
    with pytest.raises(ValueError, match=r"size mismatch.*4 samples.*tensor 1 has 3"):
        TensorDataset(mt.zeros(4, 2), mt.zeros(3, 1))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(mt.tensor(1.0))
    with pytest.raises(TypeError, match="Tensor or a NumPy array"):
        TensorDataset([[1, 2]])


# ------------------------------------------------------------------------------------- DataLoader


def test_batches_in_order_with_a_short_last_batch():
    X, y = xy(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=3)
    batches = list(loader)
    assert len(loader) == 4 == len(batches)
    assert [len(yb) for _, yb in batches] == [3, 3, 3, 1]
    for i, (xb, yb) in enumerate(batches):
        assert isinstance(xb, mt.Tensor) and isinstance(yb, mt.Tensor)
        np.testing.assert_array_equal(xb.numpy(), X.numpy()[3 * i : 3 * i + 3])
        np.testing.assert_array_equal(yb.numpy(), np.arange(10)[3 * i : 3 * i + 3])
        assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(TensorDataset(*xy(10)), batch_size=3, drop_last=True)
    assert len(loader) == 3
    assert [len(yb) for _, yb in loader] == [3, 3, 3]
    exact = DataLoader(TensorDataset(*xy(9)), batch_size=3, drop_last=True)
    assert len(exact) == 3 and sum(len(yb) for _, yb in exact) == 9


def test_default_batch_size_is_one():
    loader = DataLoader(TensorDataset(*xy(4)))
    assert len(loader) == 4
    assert [tuple(xb.shape) for xb, _ in loader] == [(1, 3)] * 4


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(*xy(4)), batch_size=0)


def test_shuffle_visits_every_sample_once_per_epoch_in_a_new_order():
    loader = DataLoader(TensorDataset(*xy(100)), batch_size=7, shuffle=True, seed=3)
    first, second = epoch_labels(loader), epoch_labels(loader)
    assert sorted(first) == list(range(100)) == sorted(second)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(100))


def test_shuffle_with_seed_is_reproducible():
    def run(seed):
        loader = DataLoader(TensorDataset(*xy(50)), batch_size=8, shuffle=True, seed=seed)
        return [epoch_labels(loader) for _ in range(3)]

    a, b, c = run(11), run(11), run(12)
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], c[0])


def test_shuffle_follows_manual_seed():
    loader = DataLoader(TensorDataset(*xy(50)), batch_size=8, shuffle=True)
    mt.manual_seed(7)
    a = [epoch_labels(loader), epoch_labels(loader)]
    mt.manual_seed(7)
    b = [epoch_labels(loader), epoch_labels(loader)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])


def test_shuffle_with_a_numpy_generator():
    ds = TensorDataset(*xy(30))
    a = epoch_labels(DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(5)))
    b = epoch_labels(DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(5)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(5).permutation(30))
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(ds, shuffle=True, generator=np.random.default_rng(0), seed=0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, shuffle=True, generator=5)


class ListDataset(Dataset):
    """A plain map-style dataset (no fast path): samples built one at a time."""

    def __init__(self, samples):
        self.samples = samples

    def __getitem__(self, i):
        return self.samples[i]

    def __len__(self):
        return len(self.samples)


def test_vectorised_path_matches_per_sample_collation(monkeypatch):
    X, y = xy(23)
    slow = ListDataset([(X[i], y[i]) for i in range(23)])
    fast_batches = list(DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=1))
    slow_batches = list(DataLoader(slow, batch_size=5, shuffle=True, seed=1))
    assert len(fast_batches) == len(slow_batches) == 5
    for (fx, fy), (sx, sy) in zip(fast_batches, slow_batches):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype

    # The TensorDataset path indexes the arrays once per batch, never sample by sample.
    def per_sample(self, index):
        raise AssertionError("per-sample indexing on the TensorDataset fast path")

    monkeypatch.setattr(mt.Tensor, "__getitem__", per_sample)
    assert sum(len(yb) for _, yb in DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)) == 23


def test_batches_are_copies_not_views_of_the_dataset():
    X, y = xy(6)
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=2)))
    xb.numpy()[:] = -1
    assert X.numpy().min() == 0


def test_batches_of_tensors_that_require_grad_stay_in_the_graph():
    X = mt.randn(6, 2, requires_grad=True)
    y = mt.zeros(6, 1)
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert xb.requires_grad
    xb.sum().backward()
    np.testing.assert_array_equal(X.grad.numpy(), np.array([[1, 1]] * 4 + [[0, 0]] * 2, np.float32))


def test_default_collate_dtypes():
    samples = [
        (i, float(i), True, np.float64(i), np.full(2, i, np.int16), mt.tensor([i, i], dtype=mt.int32), "s")
        for i in range(3)
    ]
    b_int, b_float, b_bool, b_np, b_arr, b_tensor, b_str = default_collate(samples)
    assert b_int.dtype == np.int64 and b_int.tolist() == [0, 1, 2]
    assert b_float.dtype == np.float64 and b_float.tolist() == [0.0, 1.0, 2.0]  # as PyTorch
    assert b_bool.dtype == np.bool_
    assert b_np.dtype == np.float64
    assert b_arr.dtype == np.int16 and b_arr.shape == (3, 2)
    assert b_tensor.dtype == np.int32 and b_tensor.shape == (3, 2)
    assert b_str == ["s", "s", "s"]


def test_default_collate_makes_python_floats_float64_whatever_the_default_dtype():
    # PyTorch collates Python floats as float64 (they are doubles), not as the default dtype
    assert default_collate([0.7, 2.5]).dtype == np.float64 and default_collate([0.7]).tolist() == [0.7]
    try:
        mt.set_default_dtype(mt.float64)
        assert default_collate([1.5, 2.5]).dtype == np.float64
    finally:
        mt.set_default_dtype(mt.float32)
    nested = default_collate([{"a": (0.5, 1, True)}, {"a": (1.5, 2, False)}])
    assert [t.dtype for t in nested["a"]] == [np.float64, np.int64, np.bool_]


def test_default_collate_structures_and_errors():
    batch = default_collate([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 2}])
    assert set(batch) == {"x", "y"} and batch["x"].shape == (2, 2) and batch["y"].tolist() == [1, 2]
    assert isinstance(default_collate([[1, 2], [3, 4]]), list)
    with pytest.raises(RuntimeError, match=r"equal shapes.*\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object()])


def test_generic_dataset_and_custom_collate():
    ds = ListDataset([(np.full(3, i, np.float32), i) for i in range(7)])
    batches = list(DataLoader(ds, batch_size=3))
    assert [tuple(xb.shape) for xb, _ in batches] == [(3, 3), (3, 3), (1, 3)]
    assert batches[2][1].tolist() == [6] and batches[0][1].dtype == np.int64
    sizes = list(DataLoader(ds, batch_size=3, collate_fn=len))
    assert sizes == [3, 3, 1]


def test_random_split_and_subsets():
    X, y = xy(10)
    ds = TensorDataset(X, y)
    a, b = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert len(a) == 7 and len(b) == 3
    ids = sorted([a[i][1].item() for i in range(7)] + [b[i][1].item() for i in range(3)])
    assert ids == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="summing"):
        random_split(ds, [5, 4])
    # A Subset of a TensorDataset goes through the loader's vectorised path with the right rows.
    labels = epoch_labels(DataLoader(a, batch_size=3))
    np.testing.assert_array_equal(labels, a.indices)
    nested = Subset(a, [6, 0])
    np.testing.assert_array_equal(epoch_labels(DataLoader(nested, batch_size=2)), a.indices[[6, 0]])



def test_random_split_takes_a_microtensor_generator_and_draws_pytorchs_split():
    torch = pytest.importorskip("torch")
    import torch.utils.data as tud

    ds, tds = TensorDataset(mt.arange(50)), tud.TensorDataset(torch.arange(50))
    for seed in (0, 42):
        ours = random_split(ds, [30, 15, 5], generator=mt.Generator().manual_seed(seed))
        theirs = tud.random_split(tds, [30, 15, 5], generator=torch.Generator().manual_seed(seed))
        assert [list(map(int, s.indices)) for s in ours] == [list(s.indices) for s in theirs]
    mt.manual_seed(7)
    torch.manual_seed(7)
    ours, theirs = random_split(ds, [0.6, 0.4]), tud.random_split(tds, [0.6, 0.4])
    assert [list(map(int, s.indices)) for s in ours] == [list(s.indices) for s in theirs]
    # the global stream moved on as PyTorch's did
    assert mt.rand(3).tolist() == torch.rand(3).tolist()
    with pytest.raises(TypeError, match="random_split: generator must be"):
        random_split(ds, [25, 25], generator=7)


def test_utils_data_is_torch_utils_data():
    from microtensor.utils import data as utils_data
    from microtensor.utils.data import DataLoader as UtilsLoader

    assert UtilsLoader is DataLoader
    assert utils_data.TensorDataset is TensorDataset and utils_data.Dataset is Dataset


# ------------------------------------------------------------------------------------ logic tables

GATE_FUNCS = {"xor": (xor, lambda a, b: a ^ b), "and": (and_, lambda a, b: a & b)}
GATE_FUNCS |= {"or": (or_, lambda a, b: a | b), "nand": (nand, lambda a, b: 1 - (a & b))}


@pytest.mark.parametrize("name", sorted(GATE_FUNCS))
def test_logic_tables(name):
    func, rule = GATE_FUNCS[name]
    X, y = func()
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(X.numpy(), [[0, 0], [0, 1], [1, 0], [1, 1]])
    expected = [[rule(int(a), int(b))] for a, b in X.numpy()]
    np.testing.assert_array_equal(y.numpy(), expected)
    X2, y2 = logic_gate(name.upper())
    np.testing.assert_array_equal(y2.numpy(), y.numpy())
    ds = logic_dataset(name)
    assert isinstance(ds, TensorDataset) and len(ds) == 4
    np.testing.assert_array_equal(ds[3][1].numpy(), y.numpy()[3])


def test_logic_tables_values_and_options():
    assert xor()[1].numpy().ravel().tolist() == [0, 1, 1, 0]
    assert and_()[1].numpy().ravel().tolist() == [0, 0, 0, 1]
    assert or_()[1].numpy().ravel().tolist() == [0, 1, 1, 1]
    assert nand()[1].numpy().ravel().tolist() == [1, 1, 1, 0]
    X, y = xor(dtype=mt.float64)
    assert X.dtype == np.float64 and y.dtype == np.float64
    a, _ = xor()
    a.numpy()[0, 0] = 5  # every call gives fresh tensors
    assert xor()[0].numpy()[0, 0] == 0
    with pytest.raises(ValueError, match="unknown gate 'nor'"):
        logic_gate("nor")


# -------------------------------------------------------------------------------------- IDX files


def idx_bytes(arr: np.ndarray, type_code: int = 0x08, dims=None) -> bytes:
    dims = arr.shape if dims is None else dims
    header = bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path: Path, payload: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_labels_and_images(tmp_path, gz):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 17).astype(np.uint8)
    images = rng.integers(0, 256, (5, 4, 3)).astype(np.uint8)
    lab = read_idx(write(tmp_path / "labels.idx", idx_bytes(labels), gz))
    img = read_idx(write(tmp_path / "images.idx", idx_bytes(images), gz), magic=0x803)
    assert lab.dtype == np.uint8 and lab.shape == (17,)
    assert img.dtype == np.uint8 and img.shape == (5, 4, 3)
    np.testing.assert_array_equal(lab, labels)
    np.testing.assert_array_equal(img, images)


def test_read_idx_detects_gzip_by_magic_bytes_not_name(tmp_path):
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    plain_named_gz = write(tmp_path / "a.gz", idx_bytes(images), gz=False)
    gz_named_plain = write(tmp_path / "b", idx_bytes(images), gz=True)
    np.testing.assert_array_equal(read_idx(plain_named_gz), images)
    np.testing.assert_array_equal(read_idx(gz_named_plain), images)


@pytest.mark.parametrize(
    ("code", "dtype"), [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32)]
)
def test_read_idx_other_types_are_big_endian(tmp_path, code, dtype):
    arr = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    out = read_idx(write(tmp_path / "x.idx", idx_bytes(arr, code)))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"PK\x03\x04\x00\x00\x00\x01\x05", r"bad magic number 0x504b0304"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", r"bad magic number 0x00000701"),  # unknown type
        (b"\x00\x00\x08\x00\x05", r"bad magic number 0x00000800"),  # zero dimensions
        (b"\x00\x08", r"has 2 bytes, fewer than its 4-byte magic"),
    ],
)
def test_read_idx_rejects_bad_magic(tmp_path, gz, content, pattern):
    path = write(tmp_path / "bad.idx", content, gz)
    with pytest.raises(ValueError, match=pattern) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_rejects_a_different_idx_kind(tmp_path):
    path = write(tmp_path / "labels.idx", idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match=r"0x00000801 \(uint8, 1-D\), expected 0x00000803 \(uint8, 3-D\)"):
        read_idx(path, magic=0x803)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_truncated_payload(tmp_path, gz):
    payload = idx_bytes(np.zeros((4, 5, 5), np.uint8))[:-7]
    path = write(tmp_path / "short.idx", payload, gz)
    with pytest.raises(
        ValueError, match=r"shape \(4, 5, 5\)\) claims 100 bytes.*holds 93 \(truncated file\)"
    ) as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_extra_bytes(tmp_path, gz):
    payload = idx_bytes(np.zeros(10, np.uint8)) + b"\x01\x02\x03"
    path = write(tmp_path / "long.idx", payload, gz)
    with pytest.raises(ValueError, match=r"claims 10 bytes.*holds 13 \(extra bytes after the data\)") as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_truncated_header(tmp_path, gz):
    path = write(tmp_path / "head.idx", b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", gz)
    with pytest.raises(ValueError, match="truncated IDX header: .* 3 dimensions"):
        read_idx(path)


def test_read_idx_rejects_a_cut_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10)))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as e:
        read_idx(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dims", [(2**31,), (2**31, 28, 28), (2**32 - 1, 2**32 - 1, 2**32 - 1)])
def test_read_idx_huge_claim_in_a_tiny_file_fails_fast_without_allocating(tmp_path, gz, dims):
    header = bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    path = write(tmp_path / "huge.idx", header + bytes(100), gz)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(
            ValueError, match=r"claims \d+ bytes of data, but .* holds 100 \(truncated file\)"
        ):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 8 * 2**20, f"peak allocation {peak} bytes"


# ------------------------------------------------------------------------------- MNIST (small files)


def make_mnist(root: Path, n_train=6, n_test=4, gz=True, seed=0) -> dict:
    """Small MNIST-format files (28x28 uint8 images, labels 0-9); returns the arrays written."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        images[0, 0, :2] = (0, 255)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for kind, arr in (("images", images), ("labels", labels)):
            stem = mnist_module.FILES[split, kind]
            write(root / (stem + (".gz" if gz else "")), idx_bytes(arr), gz)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_small_files(tmp_path, gz):
    arrays = make_mnist(tmp_path, gz=gz)
    train = mnist(tmp_path)
    assert isinstance(train, TensorDataset) and isinstance(train, MNIST) and len(train) == 6
    images, labels = train.tensors
    assert images.shape == (6, 784) and images.dtype == np.float32
    assert labels.shape == (6,) and labels.dtype == np.int64
    np.testing.assert_allclose(images.numpy(), arrays["train"][0].reshape(6, 784) / 255, rtol=1e-6)
    assert images.numpy()[0, 0] == 0.0 and images.numpy()[0, 1] == 1.0
    np.testing.assert_array_equal(labels.numpy(), arrays["train"][1])
    np.testing.assert_array_equal(train.data.numpy(), arrays["train"][0])
    test = mnist(tmp_path, train=False, flatten=False)
    assert test.images.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(test.targets.numpy(), arrays["test"][1])
    xb, yb = next(iter(DataLoader(train, batch_size=4, shuffle=True, seed=0)))
    assert xb.shape == (4, 784) and yb.dtype == np.int64


def test_mnist_count_mismatch_is_an_error(tmp_path):
    make_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5, np.uint8)), gz=True)
    with pytest.raises(ValueError, match=r"holds 6 images but .*train-labels-idx1-ubyte.gz holds 5 labels"):
        mnist(tmp_path)


def test_mnist_checks_magic_and_label_range(tmp_path):
    make_mnist(tmp_path)
    labels_file = tmp_path / "train-labels-idx1-ubyte.gz"
    images_file = tmp_path / "train-images-idx3-ubyte.gz"
    write(labels_file, idx_bytes(np.array([0, 1, 2, 3, 4, 10], np.uint8)), gz=True)
    with pytest.raises(ValueError, match="label 10; MNIST labels are 0-9"):
        mnist(tmp_path)
    images_file.write_bytes(labels_file.read_bytes())  # a labels file where the images belong
    with pytest.raises(ValueError, match="expected 0x00000803"):
        mnist(tmp_path)


def test_mnist_missing_files_name_what_was_searched(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[\.gz\].*" + str(tmp_path)):
        mnist(tmp_path)


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No data variables set and the per-user cache under tmp_path/'cache'; returns that cache."""
    for var in (
        "MICROTENSOR_DATA",
        "MICROTENSOR_MNIST_DIR",
        "MICROTENSOR_MNIST_MIRRORS",
        "MICROTENSOR_MNIST_MIRROR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "microtensor"


def test_default_mnist_dirs_order(tmp_path, monkeypatch, clean_env):
    cache = clean_env
    assert default_mnist_dirs() == [cache / "mnist"]
    assert mt.data.cache_dir() == cache and mt.data.data_root() == cache
    monkeypatch.setenv("MICROTENSOR_MNIST_DIR", str(tmp_path / "alias"))
    monkeypatch.setenv("MICROTENSOR_DATA", str(tmp_path / "root"))
    assert mt.data.data_root() == tmp_path / "root"
    assert default_mnist_dirs() == [tmp_path / "root" / "mnist", tmp_path / "alias", cache / "mnist"]
    assert mnist_module.default_download_dir() == tmp_path / "root" / "mnist"
    # An explicit directory is the only place searched (itself, or a data root's mnist/ folder).
    assert default_mnist_dirs(tmp_path / "explicit") == [
        tmp_path / "explicit",
        tmp_path / "explicit" / "mnist",
    ]
    make_mnist(cache / "mnist")
    assert find_mnist_dir() == cache / "mnist" and mnist().root == cache / "mnist"
    make_mnist(tmp_path / "alias")
    assert find_mnist_dir() == tmp_path / "alias"
    make_mnist(tmp_path / "root" / "mnist")
    assert find_mnist_dir() == tmp_path / "root" / "mnist"
    assert mnist(tmp_path / "root").root == tmp_path / "root" / "mnist"  # a data root as root
    assert find_mnist_dir(tmp_path / "explicit") is None  # never falls through to the others
    with pytest.raises(FileNotFoundError, match="explicit"):
        mnist(tmp_path / "explicit")


def test_cache_dir_without_xdg_is_under_home(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert mt.data.cache_dir() == Path.home() / ".cache" / "microtensor"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec says to ignore relative paths
    assert mt.data.cache_dir() == Path.home() / ".cache" / "microtensor"


def test_library_code_names_no_workspace_path():
    root = Path(mt.__file__).parent
    offenders = [p for p in root.rglob("*.py") if "shared/data" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_missing_mnist_files(tmp_path):
    assert len(mt.data.missing_mnist_files(tmp_path)) == 4
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    assert mt.data.missing_mnist_files(tmp_path) == ["t10k-labels-idx1-ubyte[.gz]"]
    assert mt.data.missing_mnist_files(tmp_path, train=True) == []


# ---------------------------------------------------------------------------- MNIST (real files)


@pytest.fixture(scope="module")
def real_mnist():
    if not all((SHARED_MNIST / (stem + ".gz")).is_file() for stem in mnist_module.FILES.values()):
        pytest.skip(f"original MNIST files not found in {SHARED_MNIST}")
    return mnist(SHARED_MNIST, train=True), mnist(SHARED_MNIST, train=False)


def test_real_mnist(real_mnist):
    train, test = real_mnist
    for ds, n in ((train, 60000), (test, 10000)):
        images, labels = ds.tensors
        assert images.shape == (n, 784) and images.dtype == np.float32
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert images.numpy().min() == 0.0 and images.numpy().max() == 1.0
        assert set(np.unique(labels.numpy())) == set(range(10))
        assert ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
    assert test.targets.numpy()[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert train.targets.numpy()[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(train.targets.numpy()).tolist()[1] == 6742  # the well-known count of ones


def test_published_sums_match_the_shared_files():
    sums_file = SHARED_MNIST / "SHA256SUMS"
    if not sums_file.is_file():
        pytest.skip("no SHA256SUMS")
    published = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line.strip())
    assert published == mnist_module.SHA256


# ----------------------------------------------------------------------------------- MNIST download


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local HTTP server on 127.0.0.1 serving tmp_path/'mirror'; yields (dir, url, requested paths)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "mirror"
    served.mkdir()
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/mnist", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def served_files(served: Path) -> tuple[dict, dict]:
    """Small MNIST files under served/mnist, and their SHA-256 sums."""
    arrays = make_mnist(served / "mnist", n_train=5, n_test=3, seed=1)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (served / "mnist").iterdir()}
    return arrays, sums


def test_download_fetches_verifies_and_loads(tmp_path, mirror):
    served, url, requested = mirror
    arrays, sums = served_files(served)
    target = tmp_path / "data"
    train = mnist(target, train=True, download=True, mirror=url, checksums=sums)
    assert sorted(p.name for p in target.iterdir()) == sorted(sums)  # all four, no temp files
    for name, digest in sums.items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    np.testing.assert_array_equal(train.targets.numpy(), arrays["train"][1])
    assert len(requested) == 4
    test = mnist(target, train=False, download=True, mirror=url, checksums=sums)
    assert len(test) == 3 and len(requested) == 4  # present files are not fetched again


def test_download_mirror_from_environment(tmp_path, mirror, monkeypatch):
    served, url, requested = mirror
    _, sums = served_files(served)
    monkeypatch.setenv("MICROTENSOR_MNIST_MIRROR", url)
    written = download_mnist(tmp_path / "data", checksums=sums)
    assert len(written) == 4 and all(p.is_file() for p in written)
    assert sorted(requested) == sorted(f"/mnist/{name}" for name in sums)


def test_download_rejects_a_corrupt_file_and_leaves_nothing(tmp_path, mirror):
    served, url, _ = mirror
    _, sums = served_files(served)
    bad = served / "mnist" / "train-labels-idx1-ubyte.gz"
    good_sum = sums[bad.name]
    blob = bytearray(bad.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one byte changed
    bad.write_bytes(bytes(blob))
    bad_sum = hashlib.sha256(bad.read_bytes()).hexdigest()
    assert bad_sum != good_sum
    target = tmp_path / "data"
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz") as e:
        download_mnist(target, mirror=url, checksums=sums)
    assert bad_sum in str(e.value) and good_sum in str(e.value)
    assert not (target / bad.name).exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".") or p.suffix == ".part"]
    with pytest.raises(ValueError, match="is corrupt"):
        mnist(target, download=True, mirror=url, checksums=sums)
    assert not (target / bad.name).exists()


def test_download_against_the_published_sums_rejects_other_files(tmp_path, mirror):
    served, url, _ = mirror
    served_files(served)  # small files: not the originals, so the real sums cannot match
    with pytest.raises(ValueError, match=mnist_module.SHA256["train-images-idx3-ubyte.gz"]):
        download_mnist(tmp_path / "data", mirror=url)
    assert list((tmp_path / "data").iterdir()) == []


def test_download_missing_file_is_a_clear_error(tmp_path, mirror):
    served, url, _ = mirror
    _, sums = served_files(served)
    (served / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    target = tmp_path / "data"
    with pytest.raises(
        RuntimeError, match=r"(?s)could not download t10k-images-idx3-ubyte.gz.*HTTP Error 404"
    ):
        download_mnist(target, mirror=url, checksums=sums)
    assert not (target / "t10k-images-idx3-ubyte.gz").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist"


def test_download_skips_a_dead_mirror(tmp_path, mirror, capsys):
    served, url, requested = mirror
    _, sums = served_files(served)
    written = download_mnist(tmp_path / "data", mirror=[dead_url(), url], checksums=sums)
    assert len(written) == 4 and len(requested) == 4
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(sums)


def test_download_all_mirrors_dead_names_each(tmp_path, clean_env):
    first, second = dead_url(), dead_url() + "2"
    with pytest.raises(RuntimeError, match="(?s)could not download train-images.*" + first + ".*" + second):
        download_mnist(tmp_path / "data", mirror=[first, second], checksums={"x": "0"} | mnist_module.SHA256)
    assert list((tmp_path / "data").iterdir()) == []


def test_download_mirror_list_from_environment(tmp_path, mirror, monkeypatch, clean_env):
    served, url, requested = mirror
    _, sums = served_files(served)
    monkeypatch.setenv("MICROTENSOR_MNIST_MIRRORS", f"{dead_url()}, {url}")
    assert len(download_mnist(tmp_path / "data", checksums=sums)) == 4


@pytest.fixture
def truncating_server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 that announces N bytes and sends N // 2, then closes."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    payload = b"\x1f\x8b" + bytes(range(256)) * 40

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mnist", payload
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_truncated_transfer_is_reported_and_leaves_nothing(tmp_path, truncating_server):
    url, payload = truncating_server
    sums = {stem + ".gz": hashlib.sha256(payload).hexdigest() for stem in mnist_module.FILES.values()}
    target = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"(?s)train-images-idx3-ubyte.gz.*truncated transfer"):
        download_mnist(target, mirror=url, checksums=sums, progress=False)
    assert list(target.iterdir()) == []


def test_download_progress_off_a_terminal_is_one_line_per_file(tmp_path, mirror, capsys):
    served, url, _ = mirror
    _, sums = served_files(served)
    download_mnist(tmp_path / "data", mirror=url, checksums=sums)  # stderr is captured: not a tty
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 4 and all(
        line.startswith("downloading ") and line.endswith("done") for line in lines
    )
    download_mnist(tmp_path / "quiet", mirror=url, checksums=sums, progress=False)
    assert capsys.readouterr().err == ""


def test_download_progress_on_a_terminal_redraws_a_bar(tmp_path, mirror, monkeypatch, capsys):
    served, url, _ = mirror
    _, sums = served_files(served)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    download_mnist(tmp_path / "data", mirror=url, checksums=sums)
    err = capsys.readouterr().err
    assert err.count("\r") >= 8 and "100%" in err and err.count("\n") == 4


# ------------------------------------------------------------------------------------------ digits


def test_digits():
    pytest.importorskip("sklearn")
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.numpy().min() == 0.0 and X.numpy().max() == 1.0
    assert set(np.unique(y.numpy())) == set(range(10))
    Xtr, ytr = digits(train=True)
    Xte, yte = digits(train=False, flatten=False)
    assert len(ytr) == 1438 and len(yte) == 359 and Xte.shape == (359, 1, 8, 8)
    rows = {r.tobytes() + bytes([int(c)]) for r, c in zip(X.numpy(), y.numpy())}
    split = {r.tobytes() + bytes([int(c)]) for r, c in zip(Xtr.numpy(), ytr.numpy())}
    split |= {r.reshape(-1).tobytes() + bytes([int(c)]) for r, c in zip(Xte.numpy(), yte.numpy())}
    assert split == rows
    np.testing.assert_array_equal(digits(train=True)[1].numpy(), ytr.numpy())  # a fixed split


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'microtensor\[digits\]'"):
        digits()


@pytest.fixture
def no_mnist_anywhere(clean_env):
    """No data variables and an empty per-user cache: MNIST cannot be found."""
    return clean_env / "mnist"


def test_load_mnist_or_digits_falls_back_to_digits(no_mnist_anywhere, capsys):
    pytest.importorskip("sklearn")
    data = load_mnist_or_digits()
    assert data.name == "digits" and data.num_features == 64 and data.num_classes == 10
    assert len(data.train) == 1438 and len(data.test) == 359
    xb, yb = next(iter(DataLoader(data.train, batch_size=32, shuffle=True, seed=0)))
    assert xb.shape == (32, 64) and yb.dtype == np.int64
    out = capsys.readouterr().out
    assert "Using scikit-learn's 8x8 digits instead" in out and str(no_mnist_anywhere) in out
    assert "download=True" in out and "MICROTENSOR_DATA" in out  # says how to get MNIST
    assert data.message in out


def test_load_mnist_or_digits_explicit_dir_never_falls_back(tmp_path, no_mnist_anywhere):
    with pytest.raises(FileNotFoundError, match=r"(?s)train-images-idx3-ubyte\[\.gz\].*no such directory"):
        load_mnist_or_digits(tmp_path / "typo", verbose=False)
    make_mnist(tmp_path / "partial")
    (tmp_path / "partial" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as e:
        load_mnist_or_digits(tmp_path / "partial", verbose=False)
    assert "t10k-images-idx3-ubyte[.gz] not found" in str(e.value)
    assert "train-images" not in str(e.value)  # names only what is missing


def test_load_mnist_or_digits_mnist_required(no_mnist_anywhere):
    with pytest.raises(FileNotFoundError, match="MNIST files not found.*download=True"):
        load_mnist_or_digits(dataset="mnist", verbose=False)
    with pytest.raises(ValueError, match="'auto', 'mnist' or 'digits'"):
        load_mnist_or_digits(dataset="cifar", verbose=False)


def test_load_mnist_or_digits_digits_on_request(tmp_path, capsys):
    pytest.importorskip("sklearn")
    make_mnist(tmp_path)
    assert load_mnist_or_digits(dataset="digits").name == "digits"
    with pytest.raises(ValueError, match="data_dir"):
        load_mnist_or_digits(tmp_path, dataset="digits")


def test_load_mnist_or_digits_without_either(no_mnist_anywhere, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"MNIST files not found.*pip install 'microtensor\[digits\]'"):
        load_mnist_or_digits(verbose=False)


def test_load_mnist_or_digits_prefers_mnist(tmp_path, capsys):
    make_mnist(tmp_path, n_train=6, n_test=4)
    data = load_mnist_or_digits(tmp_path)
    assert data.name == "mnist" and data.num_features == 784 and data.image_shape == (28, 28)
    assert len(data.train) == 6 and len(data.test) == 4 and data.source == str(tmp_path)
    assert f"Using MNIST from {tmp_path}" in capsys.readouterr().out


def test_load_mnist_or_digits_can_download(tmp_path, mirror, monkeypatch, no_mnist_anywhere):
    served, url, _ = mirror
    _, sums = served_files(served)
    monkeypatch.setattr(mnist_module, "SHA256", sums)
    monkeypatch.setenv("MICROTENSOR_MNIST_MIRRORS", url)
    data = load_mnist_or_digits(download=True, verbose=False)  # into the per-user cache
    assert data.name == "mnist" and len(data.train) == 5 and len(data.test) == 3
    assert sorted(os.listdir(no_mnist_anywhere)) == sorted(sums)
    target = tmp_path / "dl"
    data = load_mnist_or_digits(target, download=True, verbose=False)  # into an explicit directory
    assert sorted(os.listdir(target)) == sorted(sums)


def test_load_mnist_or_digits_failed_download_falls_back_and_says_why(no_mnist_anywhere, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    monkeypatch.setenv("MICROTENSOR_MNIST_MIRRORS", dead_url())
    data = load_mnist_or_digits(download=True)
    assert data.name == "digits"
    out = capsys.readouterr().out
    assert f"could not download MNIST into {no_mnist_anywhere}" in out and "digits instead" in out
    with pytest.raises(RuntimeError, match="could not download"):
        load_mnist_or_digits(download=True, dataset="mnist", verbose=False)
