"""Samplers, the sampler-driven DataLoader and the extra datasets (ConcatDataset, IterableDataset, ...).

The random samplers must give PyTorch's indices for the same seed, whether the seed comes from
`manual_seed` (the global generator) or a `generator=`, epoch after epoch, and must leave the
generators' streams where torch leaves them.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microtensor as mt
import microtensor.utils.data as md
from microtensor.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_convert,
    get_worker_info,
)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


SEEDS = st.integers(0, 2**64 - 1) | st.integers(0, 1000)
EPOCHS = 3


def run_both(torch, seed, use_generator, make, epochs=EPOCHS):
    """Seed each library alike, build with `make(lib, data_module, generator)` and run `epochs` passes.

    Returns the two runs: each pass's items (Tensors as lists), then the next global draws and, with
    a generator, its next draws, so a stream left in a different place than torch's fails too.
    """
    import torch.utils.data as td

    runs = []
    for lib, data in ((mt, md), (torch, td)):
        lib.manual_seed(seed)
        g = lib.Generator().manual_seed(seed ^ 0x5EED) if use_generator else None
        it = make(lib, data, g)
        passes = [[x.tolist() if hasattr(x, "tolist") else x for x in it] for _ in range(epochs)]
        tail = [lib.randint(0, 2**30, (3,)).tolist()]
        if g is not None:
            tail.append(lib.randint(0, 2**30, (3,), generator=g).tolist())
        runs.append((passes, tail))
    return runs


class _Epochs:
    """Iterating it runs one epoch of `loader`, each batch turned into plain lists by `show`."""

    def __init__(self, loader, show):
        self.loader, self.show = loader, show

    def __iter__(self):
        return (self.show(b) for b in self.loader)


def batches_of(loader):
    """A DataLoader over TensorDataset(arange) yields 1-tuples: each batch's index values."""
    return [b[0] for b in loader]


# ------------------------------------------------------------------ each sampler against torch


@settings(max_examples=15, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(1, 40),
    extra=st.none() | st.integers(1, 90),
    replacement=st.booleans(),
    use_generator=st.booleans(),
)
def test_random_sampler_matches_torch(torch, seed, n, extra, replacement, use_generator):
    ours, theirs = run_both(
        torch,
        seed,
        use_generator,
        lambda lib, data, g: data.RandomSampler(range(n), replacement, extra, generator=g),
    )
    assert ours == theirs
    passes = ours[0]
    assert all(len(p) == (extra or n) for p in passes)
    if not replacement and extra is None:
        assert all(sorted(p) == list(range(n)) for p in passes)


@settings(max_examples=15, deadline=None)
@given(
    seed=SEEDS,
    indices=st.lists(st.integers(0, 500), min_size=0, max_size=40),
    use_generator=st.booleans(),
)
def test_subset_random_sampler_matches_torch(torch, seed, indices, use_generator):
    ours, theirs = run_both(
        torch, seed, use_generator, lambda lib, data, g: data.SubsetRandomSampler(indices, generator=g)
    )
    assert ours == theirs
    assert all(sorted(p) == sorted(indices) for p in ours[0])


@settings(max_examples=15, deadline=None)
@given(
    seed=SEEDS,
    weights=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=30),
    frac=st.floats(0.05, 1.0),
    replacement=st.booleans(),
    use_generator=st.booleans(),
    as_tensor=st.booleans(),
)
def test_weighted_random_sampler_matches_torch(
    torch, seed, weights, frac, replacement, use_generator, as_tensor
):
    k = max(1, int(frac * len(weights)))
    num_samples = k if not replacement else 3 * k

    def make(lib, data, g):
        w = lib.tensor(weights, dtype=lib.float32) if as_tensor else weights
        return data.WeightedRandomSampler(w, num_samples, replacement=replacement, generator=g)

    ours, theirs = run_both(torch, seed, use_generator, make)
    assert ours == theirs
    if not replacement:
        assert all(len(set(p)) == len(p) == k for p in ours[0])


@settings(max_examples=15, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(1, 30),
    batch=st.integers(1, 8),
    drop_last=st.booleans(),
    use_generator=st.booleans(),
)
def test_batch_sampler_over_a_random_sampler_matches_torch(torch, seed, n, batch, drop_last, use_generator):
    def make(lib, data, g):
        return data.BatchSampler(data.RandomSampler(range(n), generator=g), batch, drop_last)

    ours, theirs = run_both(torch, seed, use_generator, make)
    assert ours == theirs
    sampler = BatchSampler(RandomSampler(range(n)), batch, drop_last)
    assert len(sampler) == len(ours[0][0]) == (n // batch if drop_last else -(-n // batch))


def test_sequential_and_batch_samplers():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4] == list(SequentialSampler(range(5)))
    assert len(SequentialSampler([7, 8, 9])) == 3
    seq = SequentialSampler(range(7))
    assert list(BatchSampler(seq, 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(seq, 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert list(BatchSampler([5, 1, 4], 2, False)) == [[5, 1], [4]]  # any iterable of indices
    assert len(BatchSampler(seq, 3, False)) == 3 and len(BatchSampler(seq, 3, True)) == 2


# ------------------------------------------------------------------ the DataLoader against torch


@settings(max_examples=12, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(1, 40),
    batch=st.integers(1, 9),
    drop_last=st.booleans(),
    use_generator=st.booleans(),
)
def test_dataloader_shuffle_matches_torch_over_epochs(torch, seed, n, batch, drop_last, use_generator):
    def make(lib, data, g):
        ds = data.TensorDataset(lib.arange(n) * 10, lib.arange(n).float())
        loader = data.DataLoader(ds, batch_size=batch, shuffle=True, drop_last=drop_last, generator=g)
        return _Epochs(loader, lambda b: [b[0].tolist(), b[1].tolist()])

    ours, theirs = run_both(torch, seed, use_generator, make)
    assert ours == theirs
    assert sum(len(b[0]) for b in ours[0][0]) == (n - n % batch if drop_last else n)
    assert all(sorted(x for b in p for x in b[0]) == list(range(0, 10 * n, 10)) for p in ours[0]) or drop_last


@settings(max_examples=12, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(2, 40),
    batch=st.integers(1, 6),
    drop_last=st.booleans(),
    use_generator=st.booleans(),
    kind=st.sampled_from(["subset", "weighted", "weighted-no-replacement", "random-replacement"]),
)
def test_dataloader_with_a_sampler_matches_torch(torch, seed, n, batch, drop_last, use_generator, kind):
    def make(lib, data, g):
        if kind == "subset":
            sampler = data.SubsetRandomSampler(list(range(0, n, 2)), generator=g)
        elif kind.startswith("weighted"):
            sampler = data.WeightedRandomSampler(
                (lib.arange(n) % 3 + 1).tolist(), n // 2 + 1, replacement=kind == "weighted", generator=g
            )
        else:
            sampler = data.RandomSampler(range(n), replacement=True, num_samples=2 * n, generator=g)
        ds = data.TensorDataset(lib.arange(n))
        return [
            b.tolist()
            for b in batches_of(data.DataLoader(ds, batch_size=batch, sampler=sampler, drop_last=drop_last))
        ]

    ours, theirs = run_both(torch, seed, use_generator, make, epochs=1)
    assert ours == theirs


@settings(max_examples=8, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 30), batch=st.integers(1, 6), use_generator=st.booleans())
def test_dataloader_with_a_batch_sampler_matches_torch(torch, seed, n, batch, use_generator):
    def make(lib, data, g):
        bs = data.BatchSampler(data.RandomSampler(range(n), generator=g), batch, drop_last=False)
        return _Epochs(
            data.DataLoader(data.TensorDataset(lib.arange(n)), batch_sampler=bs), lambda b: b[0].tolist()
        )

    ours, theirs = run_both(torch, seed, use_generator, make)
    assert ours == theirs


def test_dataloader_draws_the_order_at_the_first_batch_as_torch(torch):
    """iter() draws the base seed; the permutation is drawn when the first batch is asked for."""
    import torch.utils.data as td

    seen = []
    for lib, data in ((mt, md), (torch, td)):
        lib.manual_seed(3)
        loader = data.DataLoader(data.TensorDataset(lib.arange(12)), batch_size=5, shuffle=True)
        it = iter(loader)
        between = lib.rand(2).tolist()  # drawn after the base seed, before the sampler's seed
        first = next(it)[0].tolist()
        partial = lib.rand(1).tolist()  # an epoch left unfinished draws nothing more
        seen.append((between, first, partial, [b[0].tolist() for b in loader]))
    assert seen[0] == seen[1]


def test_dataloader_without_batching_matches_torch(torch):
    import torch.utils.data as td

    out = []
    for lib, data in ((mt, md), (torch, td)):
        lib.manual_seed(11)
        loader = data.DataLoader(data.TensorDataset(lib.arange(6)), batch_size=None, shuffle=True)
        samples = list(loader)
        assert len(loader) == 6
        assert all(isinstance(s, list) and len(s) == 1 for s in samples)  # default_convert: tuple -> list
        out.append([s[0].item() for s in samples])
    assert out[0] == out[1]


def test_sampler_and_batch_sampler_take_any_iterable():
    ds = TensorDataset(mt.arange(10) * 2)
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=[9, 0, 4])] == [[18, 0], [8]]
    loader = DataLoader(ds, batch_sampler=[[1, 2, 3], [7]])
    assert [b[0].tolist() for b in loader] == [[2, 4, 6], [14]] and len(loader) == 2
    assert loader.batch_size is None and loader.drop_last is False


def test_dataloader_len_follows_its_sampler():
    ds = TensorDataset(mt.arange(10))
    assert len(DataLoader(ds, batch_size=3, sampler=SubsetRandomSampler(range(7)))) == 3
    assert len(DataLoader(ds, batch_size=3, sampler=SubsetRandomSampler(range(7)), drop_last=True)) == 2
    weighted = WeightedRandomSampler([1.0] * 10, num_samples=25)
    assert len(DataLoader(ds, batch_size=4, sampler=weighted)) == 7
    assert len(DataLoader(ds, batch_size=None)) == 10


# ------------------------------------------------------------------ errors, as PyTorch's


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shuffle": True, "sampler": [0, 1]}, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
        ({"batch_size": 0}, "batch_size should be a positive integer value"),
        ({"batch_size": 2.0}, "batch_size should be a positive integer value"),
        ({"num_workers": -1}, "num_workers option should be a non-negative"),
        ({"timeout": -1}, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
        ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
        ({"num_workers": 2, "prefetch_factor": 0}, "prefetch_factor option should be positive, got 0"),
        ({"multiprocessing_context": "fork"}, "multiprocessing_context can only be used with multi-process"),
    ],
)
def test_dataloader_option_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(TensorDataset(mt.arange(4)), **kwargs)


def test_dataloader_options_are_frozen_after_construction():
    loader = DataLoader(TensorDataset(mt.arange(4)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    assert loader.batch_size == 2 and len(loader) == 2
    loader.collate_fn = len  # not frozen, as in PyTorch
    assert list(loader) == [2, 2]


@pytest.mark.parametrize(
    "build, exc, match",
    [
        (
            lambda: RandomSampler(range(3), num_samples=0),
            ValueError,
            "RandomSampler: num_samples should be a positive",
        ),
        (lambda: RandomSampler([]), ValueError, r"num_samples=0"),
        (lambda: RandomSampler(range(3), replacement=1), TypeError, "replacement should be a boolean value"),
        (lambda: RandomSampler(range(3), generator=7), TypeError, "RandomSampler: generator must be"),
        (lambda: SubsetRandomSampler([1], generator="g"), TypeError, "SubsetRandomSampler: generator"),
        (
            lambda: WeightedRandomSampler([1.0], 0),
            ValueError,
            "num_samples should be a positive integer value",
        ),
        (lambda: WeightedRandomSampler([1.0], True), ValueError, "num_samples=True"),
        (
            lambda: WeightedRandomSampler([1.0], 2, replacement=None),
            ValueError,
            "replacement should be a boolean",
        ),
        (lambda: WeightedRandomSampler([[1.0, 2.0]], 2), ValueError, r"1d sequence .* shape \(1, 2\)"),
        (
            lambda: BatchSampler(range(3), 0, False),
            ValueError,
            "BatchSampler: batch_size should be a positive",
        ),
        (lambda: BatchSampler(range(3), 2, None), ValueError, "drop_last should be a boolean value"),
    ],
)
def test_sampler_construction_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize(
    "weights, num_samples, replacement, match",
    [
        ([1.0, -0.5, 2.0], 2, True, r"non-negative, got -0.5 at index 1"),
        ([1.0, float("nan")], 2, True, r"got nan at index 1"),
        ([0.0, 0.0], 1, True, "weights sum to 0"),
        ([1.0, 2.0], 3, False, "cannot draw num_samples=3 without replacement from 2 weights"),
    ],
)
def test_weighted_sampler_bad_weights_raise_before_any_draw(weights, num_samples, replacement, match):
    g = mt.Generator().manual_seed(0)
    before = g.get_state().numpy().copy()
    sampler = WeightedRandomSampler(weights, num_samples, replacement=replacement, generator=g)
    with pytest.raises(RuntimeError, match="WeightedRandomSampler: .*" + match):
        list(sampler)
    np.testing.assert_array_equal(g.get_state().numpy(), before)


# ------------------------------------------------------------------ iterable-style datasets


class Stream(IterableDataset):
    """The numbers start, start+1, ..., stop-1 as a stream, with a length."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_dataloader_batches_a_stream():
    loader = DataLoader(Stream(0, 7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    dropped = DataLoader(Stream(0, 7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in dropped] == [[0, 1, 2], [3, 4, 5]] and len(dropped) == 2
    assert list(DataLoader(Stream(0, 3), batch_size=None)) == [0, 1, 2]  # default_convert leaves ints


def test_stream_errors_and_lengthless_streams():
    with pytest.raises(
        ValueError, match="IterableDataset: expected unspecified shuffle option, but got shuffle=True"
    ):
        DataLoader(Stream(0, 3), shuffle=True)
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified sampler option"):
        DataLoader(Stream(0, 3), sampler=[0])
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified batch_sampler option"):
        DataLoader(Stream(0, 3), batch_sampler=[[0]])
    assert list(DataLoader(Stream(0, 2), shuffle=False)) == [mt.tensor([0]), mt.tensor([1])]

    class NoLength(IterableDataset):
        def __iter__(self):
            yield from ({"x": np.float32(i)} for i in range(3))

    loader = DataLoader(NoLength(), batch_size=2)
    with pytest.raises(TypeError, match="has no len"):
        len(loader)
    batches = list(loader)
    assert [b["x"].tolist() for b in batches] == [[0.0, 1.0], [2.0]] and batches[0]["x"].dtype == mt.float32


def test_stream_draws_only_the_base_seed_as_torch(torch):
    import torch.utils.data as td

    class TorchStream(td.IterableDataset):
        def __iter__(self):
            return iter(range(5))

    mt.manual_seed(4)
    torch.manual_seed(4)
    assert [b.tolist() for b in DataLoader(Stream(0, 5), batch_size=2)] == [
        b.tolist() for b in td.DataLoader(TorchStream(), batch_size=2)
    ]
    assert mt.rand(3).tolist() == torch.rand(3).tolist()


def test_chain_and_concat_datasets():
    chained = Stream(0, 3) + Stream(10, 12)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 2, 10, 11] and len(chained) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Stream(0, 1), TensorDataset(mt.arange(2))]))

    a, b = TensorDataset(mt.arange(3)), TensorDataset(mt.arange(100, 102))
    both = a + b
    assert isinstance(both, ConcatDataset) and both.cumulative_sizes == [3, 5] and len(both) == 5
    assert [both[i][0].item() for i in range(5)] == [0, 1, 2, 100, 101]
    assert both[-1][0].item() == 101 and both[-5][0].item() == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        both[-6]
    with pytest.raises(IndexError, match="index 5 is out of range for 5 samples"):
        both[5]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([a, Stream(0, 2)])
    assert [t[0].tolist() for t in DataLoader(both, batch_size=2)] == [[0, 1], [2, 100], [101]]


def test_stack_dataset():
    xs, ys = TensorDataset(mt.arange(4)), TensorDataset(mt.arange(4) * 10)
    pairs = StackDataset(xs, ys)
    assert len(pairs) == 4 and pairs[2] == (xs[2], ys[2])
    named = StackDataset(x=xs, y=ys)
    batch = next(iter(DataLoader(named, batch_size=3)))
    assert batch["x"][0].tolist() == [0, 1, 2] and batch["y"][0].tolist() == [0, 10, 20]
    with pytest.raises(ValueError, match="size mismatch between datasets: x: 4, y: 3"):
        StackDataset(x=xs, y=TensorDataset(mt.arange(3)))
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(xs, y=ys)
    with pytest.raises(ValueError, match="at least one dataset"):
        StackDataset()


# ------------------------------------------------------------------ collate helpers, workers


def test_default_convert_matches_torch(torch):
    from torch.utils.data import default_convert as torch_convert

    Point = collections.namedtuple("Point", "x y")
    samples = [
        np.arange(3, dtype=np.float32),
        np.float64(2.5),
        (np.int16(1), "a"),
        {"a": np.ones(2), "b": [np.zeros(1, np.int64), 3]},
        Point(np.array(1), 2.0),
        np.array(["s"]),
        "text",
        7,
    ]

    def describe(v):
        if isinstance(v, mt.Tensor | torch.Tensor):
            return ("tensor", str(v.dtype).split(".")[-1], v.tolist())
        if isinstance(v, dict):
            return {k: describe(x) for k, x in v.items()}
        if isinstance(v, list | tuple) and not isinstance(v, str):
            return (type(v).__name__, [describe(x) for x in v])
        if isinstance(v, np.ndarray):
            return ("ndarray", v.tolist())
        return v

    for s in samples:
        assert describe(default_convert(s)) == describe(torch_convert(s)), s


def test_get_worker_info_is_none_in_the_main_process():
    seen = []

    class Sharded(IterableDataset):
        def __iter__(self):
            seen.append(get_worker_info())
            return iter(range(3))

    assert [b.tolist() for b in DataLoader(Sharded(), batch_size=2)] == [[0, 1], [2]]
    assert seen == [None] and get_worker_info() is None


def test_num_workers_gives_the_same_batches():
    ds = TensorDataset(mt.arange(9))
    mt.manual_seed(1)
    single = [b[0].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    mt.manual_seed(1)
    workers = [b[0].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, num_workers=3)]
    assert single == workers


def test_custom_samplers_and_public_names():
    class Reverse(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    loader = DataLoader(TensorDataset(mt.arange(5)), batch_size=2, sampler=Reverse(5))
    assert batches_of(loader)[0].tolist() == [4, 3] and len(loader) == 3
    with pytest.raises(NotImplementedError, match="must implement __iter__"):
        iter(Sampler())
    for name in md.__all__:
        assert getattr(md, name).__doc__, name
    assert issubclass(IterableDataset, Dataset)


@settings(max_examples=10, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(1, 25),
    extra=st.none() | st.integers(1, 60),
    batch=st.integers(1, 7),
    drop_last=st.booleans(),
    replacement=st.booleans(),
)
def test_array_batches_draw_as_the_element_by_element_path(seed, n, extra, batch, drop_last, replacement):
    """A BatchSampler cuts batches from the built-in samplers' chunks; a subclass goes element by element.

    Both must give the same batches and leave the global stream in the same place, also when a
    pass is left after its first batch."""

    class Plain(RandomSampler):  # not the exact type: BatchSampler takes the generic path
        pass

    runs = []
    for cls in (RandomSampler, Plain):
        mt.manual_seed(seed)
        g = mt.Generator().manual_seed(seed)
        sampler = BatchSampler(cls(range(n), replacement, extra, generator=g), batch, drop_last)
        full = [list(sampler), list(sampler)]
        it = iter(sampler)
        first = next(it, None)
        runs.append((full, first, g.get_state().numpy().tolist(), mt.rand(2).tolist()))
    assert runs[0] == runs[1]


def test_datasets_get_python_ints_and_any_index_objects():
    got = []

    class Recorder(Dataset):
        def __getitem__(self, i):
            got.append(type(i))
            return i

        def __len__(self):
            return 5

    mt.manual_seed(0)
    assert sorted(x for b in DataLoader(Recorder(), batch_size=2, shuffle=True) for x in b.tolist()) == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert set(got) == {int}
    keys = BatchSampler(SubsetRandomSampler(["a", "b", "c"]), 2, False)
    assert sorted(k for b in keys for k in b) == ["a", "b", "c"]
    assert all(isinstance(k, str) for b in keys for k in b)


# ------------------------------------------------------------------ workers, against torch's processes


def in_both(torch, build, seed=0, epochs=2):
    """Run `build(lib, data)` (an iterable of plain values per epoch) in microtensor and in torch.

    Also returns the main process's next draws (torch's, Python's, NumPy's), which workers must
    leave alone."""
    import random

    import torch.utils.data as td

    runs = []
    for lib, data in ((mt, md), (torch, td)):
        lib.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        loader = build(lib, data)
        passes = [[_plain(b) for b in loader] for _ in range(epochs)]
        runs.append((passes, lib.rand(2).tolist(), random.random(), np.random.rand()))
    return runs


def _plain(v):
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def augmenting(lib, data):
    """A map-style dataset whose samples carry draws from torch's, Python's and NumPy's global generators."""
    import random

    class Augmenting(data.Dataset):
        offset = 0

        def __len__(self):
            return 10

        def __getitem__(self, i):
            info = data.get_worker_info()
            who = -1 if info is None else info.id
            return i + self.offset, who, lib.rand(1), random.random(), np.random.rand()

    return Augmenting()


def shard_init(worker_id):
    """A worker_init_fn that configures the worker's own copy of the dataset, as PyTorch's docs do."""
    import microtensor.utils.data as mdata

    info = mdata.get_worker_info()
    if info is None:  # under torch, microtensor's get_worker_info is None: ask torch's
        import torch.utils.data as tdata

        info = tdata.get_worker_info()
    info.dataset.offset = 100 * (worker_id + 1)


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_workers_give_torchs_augmented_batches(torch, workers):
    def build(lib, data):
        return data.DataLoader(augmenting(lib, data), batch_size=3, shuffle=True, num_workers=workers)

    ours, theirs = in_both(torch, build)
    assert ours == theirs
    assert {who for p in ours[0] for b in p for who in b[1]} == set(range(workers))


def test_worker_init_fn_and_prefetch_factor_as_torch(torch):
    def build(lib, data):
        return data.DataLoader(
            augmenting(lib, data), batch_size=4, num_workers=2, worker_init_fn=shard_init, prefetch_factor=1
        )

    ours, theirs = in_both(torch, build, seed=5)
    assert ours == theirs
    assert ours[0][0][0][0] == [100, 101, 102, 103] and ours[0][0][1][0] == [204, 205, 206, 207]


def test_persistent_workers_keep_their_streams_as_torch(torch):
    def build(lib, data):
        ds = augmenting(lib, data)
        return data.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True)

    ours, theirs = in_both(torch, build, seed=2, epochs=3)
    assert ours == theirs


def stream(lib, data, stop, shard):
    class Numbers(data.IterableDataset):
        def __iter__(self):
            info = data.get_worker_info()
            if not shard or info is None:
                return iter(range(stop))
            per = -(-stop // info.num_workers)
            return iter(range(info.id * per, min(stop, (info.id + 1) * per)))

    return Numbers()


@pytest.mark.parametrize(
    "stop, shard, workers, batch, drop_last",
    [(4, True, 2, None, False), (11, True, 2, 2, False), (11, True, 2, 2, True), (9, True, 3, 2, False),
     (5, False, 2, 2, False), (7, True, 3, 3, False)],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_workers_over_a_stream_as_torch(torch, stop, shard, workers, batch, drop_last):
    def build(lib, data):
        ds = stream(lib, data, stop, shard)
        return data.DataLoader(ds, batch_size=batch, num_workers=workers, drop_last=drop_last)

    ours, theirs = in_both(torch, build)
    assert ours == theirs
    if shard and not drop_last:
        flat = [x for b in ours[0][0] for x in (b if isinstance(b, list) else [b])]
        assert sorted(flat) == list(range(stop))


def test_worker_numpy_seed_is_torchs(torch):
    from torch.utils.data._utils.worker import _generate_state

    from microtensor.data.worker import _numpy_seed

    for base in (0, 1, 2**32 + 5, 2**63 - 1, 123456789012345):
        for wid in range(4):
            assert _numpy_seed(base, wid) == _generate_state(base, wid)


def test_an_iterable_dataset_needs_iter():
    class Missing(IterableDataset):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Missing()
    assert not hasattr(md, "WorkerInfo")  # as torch.utils.data, which keeps it private


# ------------------------------------------------------------------ DistributedSampler


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(0, 30),
    replicas=st.integers(1, 5),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**31),
    drop_last=st.booleans(),
)
def test_distributed_sampler_matches_torch(torch, n, replicas, shuffle, seed, drop_last):
    import torch.utils.data as td

    shares = {}
    for lib, data in ((mt, md), (torch, td)):
        runs = []
        for rank in range(replicas):
            s = data.DistributedSampler(
                range(n), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last
            )
            epochs = []
            for epoch in range(2):
                s.set_epoch(epoch)
                epochs.append(list(s))
            runs.append((len(s), epochs))
        shares[lib.__name__] = runs
    assert shares["microtensor"] == shares["torch"]
    if not drop_last and n:
        assert sorted({i for _, e in shares["microtensor"] for i in e[0]}) == list(range(n))


def test_distributed_sampler_errors_and_loader():
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        md.DistributedSampler(range(4))
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        md.DistributedSampler(range(4), num_replicas=2, rank=2)
    sampler = md.DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(TensorDataset(mt.arange(10)), batch_size=2, sampler=sampler)
    assert [b.tolist() for b in batches_of(loader)] == [[1, 4], [7, 0]] and len(loader) == 2
