"""Random numbers: the same seed gives PyTorch's numbers, bit for bit (where torch is installed),
and the Generator's state, seeding and independence behave as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microtensor as mt
from microtensor.data import DataLoader, TensorDataset


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


SEEDS = st.integers(0, 2**64 - 1) | st.integers(-(2**63), -1) | st.integers(0, 1000)
# sizes around the thresholds of PyTorch's kernels (16: vectorised normal; 624: MT19937 regeneration)
SIZES = st.sampled_from([0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 311, 312, 313, 623, 624, 625]) | st.integers(
    0, 200
)
FLOATS = st.sampled_from(["float32", "float64"])


def shapes(n: int):
    return st.sampled_from([(n,), (1, n), (n, 1)])


def pair(torch, seed: int):
    """A microtensor Generator and a torch Generator seeded alike."""
    return mt.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def same(a, b) -> None:
    """Same dtype, shape and bits (nan where nan)."""
    x, y = a.numpy(), b.numpy()
    assert x.dtype == np.dtype(str(b.dtype).removeprefix("torch.")), (x.dtype, b.dtype)
    assert x.shape == tuple(b.shape)
    np.testing.assert_array_equal(x, y)


def tdt(torch, name: str):
    return getattr(torch, name)


# ------------------------------------------------------------------ factories against torch
@given(seed=SEEDS, n=SIZES, dtype=FLOATS)
def test_rand_and_randn_match_torch(torch, seed, n, dtype):
    g, tg = pair(torch, seed)
    for _ in range(2):  # a second call continues the stream (and the cached normal) alike
        same(
            mt.rand(n, generator=g, dtype=getattr(mt, dtype)),
            torch.rand(n, generator=tg, dtype=tdt(torch, dtype)),
        )
        same(
            mt.randn(2, n, generator=g, dtype=getattr(mt, dtype)),
            torch.randn(2, n, generator=tg, dtype=tdt(torch, dtype)),
        )
        same(
            mt.randn(n, generator=g, dtype=getattr(mt, dtype)),
            torch.randn(n, generator=tg, dtype=tdt(torch, dtype)),
        )
    same(g.get_state(), tg.get_state())


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), dtype=FLOATS)
def test_large_randn_matches_torch(torch, seed, dtype):
    g, tg = pair(torch, seed)
    same(
        mt.randn(5003, generator=g, dtype=getattr(mt, dtype)),
        torch.randn(5003, generator=tg, dtype=tdt(torch, dtype)),
    )


def test_global_generator_matches_torch_and_linear_init(torch):
    mt.manual_seed(0)
    torch.manual_seed(0)
    same(mt.rand(3), torch.rand(3))
    same(mt.randn(4, 5), torch.randn(4, 5))
    same(mt.randint(0, 10, (7,)), torch.randint(0, 10, (7,)))
    same(mt.randperm(9), torch.randperm(9))
    same(mt.get_rng_state(), torch.get_rng_state())


@given(seed=SEEDS, n=SIZES, dtype=FLOATS, mean=st.floats(-5, 5), std=st.floats(0, 5))
def test_normal_inplace_matches_torch(torch, seed, n, dtype, mean, std):
    g, tg = pair(torch, seed)
    a = mt.empty(n, dtype=getattr(mt, dtype)).normal_(mean, std, generator=g)
    b = torch.empty(n, dtype=tdt(torch, dtype)).normal_(mean, std, generator=tg)
    same(a, b)


@given(seed=SEEDS, n=SIZES, dtype=FLOATS, lo=st.floats(-5, 5), width=st.floats(0, 10))
def test_uniform_inplace_matches_torch(torch, seed, n, dtype, lo, width):
    g, tg = pair(torch, seed)
    a = mt.empty(n, dtype=getattr(mt, dtype)).uniform_(lo, lo + width, generator=g)
    b = torch.empty(n, dtype=tdt(torch, dtype)).uniform_(lo, lo + width, generator=tg)
    same(a, b)


@given(
    seed=SEEDS,
    n=SIZES,
    low=st.integers(-(2**40), 2**40),
    span=st.integers(1, 100) | st.integers(1, 2**33) | st.sampled_from([2**28 - 1, 2**28, 2**32 - 1, 2**32]),
    dtype=st.sampled_from(["int64", "float64", "float32", "int32"]),
)
def test_randint_matches_torch(torch, seed, n, low, span, dtype):
    if dtype in ("int32", "float32"):  # keep the bounds representable in the dtype
        low, span = low % 1000, min(span, (2**24 if dtype == "float32" else 2**31) - 1000)
    g, tg = pair(torch, seed)
    a = mt.randint(low, low + span, (n,), generator=g, dtype=getattr(mt, dtype))
    b = torch.randint(low, low + span, (n,), generator=tg, dtype=tdt(torch, dtype))
    same(a, b)


def test_randint_argument_forms_match_torch(torch):
    for args, kwargs in (
        ((5, (3, 2)), {}),
        ((2, 9, (4,)), {}),
        ((10,), {"size": (2, 2)}),
        ((), {"low": 3, "high": 7, "size": [5]}),
        ((6, (2,)), {"dtype": "float64"}),
    ):
        g, tg = pair(torch, 11)
        t_kwargs = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
        m_kwargs = {k: (getattr(mt, v) if k == "dtype" else v) for k, v in kwargs.items()}
        same(mt.randint(*args, generator=g, **m_kwargs), torch.randint(*args, generator=tg, **t_kwargs))


@given(seed=SEEDS, n=SIZES)
def test_randperm_matches_torch(torch, seed, n):
    g, tg = pair(torch, seed)
    same(mt.randperm(n, generator=g), torch.randperm(n, generator=tg))
    same(mt.randperm(n, generator=g, dtype=mt.int32), torch.randperm(n, generator=tg, dtype=torch.int32))


@given(seed=SEEDS, n=SIZES, pdt=FLOATS, dtype=st.sampled_from(["float32", "float64", "int64", "bool"]))
def test_bernoulli_matches_torch(torch, seed, n, pdt, dtype):
    g, tg = pair(torch, seed)
    p = torch.rand(n, dtype=tdt(torch, pdt), generator=torch.Generator().manual_seed(seed % 97))
    same(mt.bernoulli(mt.tensor(p.numpy()), generator=g), torch.bernoulli(p, generator=tg))
    a = mt.zeros(n, dtype=getattr(mt, dtype)).bernoulli_(mt.tensor(p.numpy()), generator=g)
    same(a, torch.zeros(n, dtype=tdt(torch, dtype)).bernoulli_(p, generator=tg))
    same(mt.bernoulli(mt.zeros(n), 0.3, generator=g), torch.bernoulli(torch.zeros(n), 0.3, generator=tg))
    same(
        a.bernoulli_(0.7, generator=g), torch.zeros(n, dtype=tdt(torch, dtype)).bernoulli_(0.7, generator=tg)
    )


@given(
    seed=SEEDS,
    rows=st.sampled_from([None, 1, 3]),
    k=st.integers(1, 12),
    samples=st.integers(1, 12),
    replacement=st.booleans(),
    dtype=FLOATS,
)
def test_multinomial_matches_torch(torch, seed, rows, k, samples, replacement, dtype):
    if not replacement:
        samples = min(samples, k)
    shape = (k,) if rows is None else (rows, k)
    w = torch.rand(shape, dtype=tdt(torch, dtype), generator=torch.Generator().manual_seed(seed % 89)) + 0.01
    g, tg = pair(torch, seed)
    same(
        mt.multinomial(mt.tensor(w.numpy()), samples, replacement, generator=g),
        torch.multinomial(w, samples, replacement, generator=tg),
    )


@given(seed=SEEDS, n=SIZES, dtype=FLOATS)
def test_other_inplace_fills_match_torch(torch, seed, n, dtype):
    g, tg = pair(torch, seed)
    m, t = getattr(mt, dtype), tdt(torch, dtype)
    same(
        mt.empty(n, dtype=m).exponential_(2.5, generator=g),
        torch.empty(n, dtype=t).exponential_(2.5, generator=tg),
    )
    same(
        mt.empty(n, dtype=m).geometric_(0.3, generator=g),
        torch.empty(n, dtype=t).geometric_(0.3, generator=tg),
    )
    same(
        mt.empty(n, dtype=m).log_normal_(0.5, 0.75, generator=g),
        torch.empty(n, dtype=t).log_normal_(0.5, 0.75, generator=tg),
    )
    same(
        mt.empty(n, dtype=m).cauchy_(1.0, 2.0, generator=g),
        torch.empty(n, dtype=t).cauchy_(1.0, 2.0, generator=tg),
    )
    same(mt.empty(n, dtype=m).random_(generator=g), torch.empty(n, dtype=t).random_(generator=tg))
    same(mt.empty(n, dtype=m).random_(7, generator=g), torch.empty(n, dtype=t).random_(7, generator=tg))
    same(
        mt.empty(n, dtype=m).random_(-3, 9, generator=g), torch.empty(n, dtype=t).random_(-3, 9, generator=tg)
    )
    same(g.get_state(), tg.get_state())


@given(seed=SEEDS, dtype=st.sampled_from(["int64", "int32", "int16", "int8", "uint8", "bool"]))
def test_random_inplace_on_integer_dtypes_matches_torch(torch, seed, dtype):
    g, tg = pair(torch, seed)
    same(
        mt.zeros(40, dtype=getattr(mt, dtype)).random_(generator=g),
        torch.zeros(40, dtype=tdt(torch, dtype)).random_(generator=tg),
    )


@settings(max_examples=10)
@given(seed=SEEDS, dtype=FLOATS)
def test_poisson_matches_torch(torch, seed, dtype):
    rates = torch.tensor([0.0, 0.5, 3.0, 9.99, 10.0, 25.0, 400.0], dtype=tdt(torch, dtype))
    g, tg = pair(torch, seed)
    same(mt.poisson(mt.tensor(rates.numpy()), g), torch.poisson(rates, tg))


@given(seed=SEEDS, n=SIZES, dtype=FLOATS)
def test_normal_overloads_match_torch(torch, seed, n, dtype):
    g, tg = pair(torch, seed)
    tm = torch.linspace(-2, 2, n, dtype=tdt(torch, dtype))
    ts = torch.linspace(0, 3, n, dtype=tdt(torch, dtype))
    m, s = mt.tensor(tm.numpy()), mt.tensor(ts.numpy())
    same(mt.normal(m, s, generator=g), torch.normal(tm, ts, generator=tg))
    same(mt.normal(m, 2.0, generator=g), torch.normal(tm, 2.0, generator=tg))
    same(mt.normal(1.5, s, generator=g), torch.normal(1.5, ts, generator=tg))
    same(
        mt.normal(1.5, 0.5, (2, n), generator=g, dtype=getattr(mt, dtype)),
        torch.normal(1.5, 0.5, (2, n), generator=tg, dtype=tdt(torch, dtype)),
    )


def test_like_functions_match_torch(torch):
    g, tg = pair(torch, 5)
    x, tx = mt.zeros(3, 17, dtype=mt.float64), torch.zeros(3, 17, dtype=torch.float64)
    same(mt.rand_like(x, generator=g), torch.rand_like(tx, generator=tg))
    same(mt.randn_like(x, generator=g), torch.randn_like(tx, generator=tg))
    same(mt.randint_like(x, 10, generator=g), torch.randint_like(tx, 10, generator=tg))
    same(mt.randint_like(x, 3, 10, generator=g), torch.randint_like(tx, 3, 10, generator=tg))
    same(
        mt.rand_like(x, dtype=mt.float32, generator=g), torch.rand_like(tx, dtype=torch.float32, generator=tg)
    )


@settings(max_examples=10)
@given(seed=SEEDS, n=st.integers(1, 40), batch=st.integers(1, 7), use_generator=st.booleans())
def test_dataloader_shuffle_matches_torch(torch, seed, n, batch, use_generator):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    if use_generator:
        g, tg = pair(torch, seed)
    else:
        g = tg = None
        mt.manual_seed(seed)
        torch.manual_seed(seed)
    ours = DataLoader(TensorDataset(mt.arange(n)), batch_size=batch, shuffle=True, generator=g)
    theirs = TorchLoader(TorchDataset(torch.arange(n)), batch_size=batch, shuffle=True, generator=tg)
    for _ in range(2):  # two epochs: each draws its own order
        assert [b[0].tolist() for b in ours] == [b[0].tolist() for b in theirs]
    same(mt.get_rng_state(), torch.get_rng_state()) if not use_generator else same(
        g.get_state(), tg.get_state()
    )


# ------------------------------------------------------------------ state and seeding
def test_state_round_trips_with_torch(torch):
    g, tg = pair(torch, 123)
    mt.randn(7, generator=g)  # leaves a cached normal in the state
    torch.randn(7, generator=tg)
    same(g.get_state(), tg.get_state())
    # torch's state bytes restore into a microtensor Generator and continue its stream
    tg2 = torch.Generator().manual_seed(9)
    torch.rand(1000, generator=tg2)
    g.set_state(mt.tensor(tg2.get_state().numpy()))
    same(mt.randn(5, generator=g), torch.randn(5, generator=tg2))
    same(mt.rand(700, generator=g), torch.rand(700, generator=tg2))


def test_state_save_restore_replays_the_stream():
    g = mt.Generator().manual_seed(4)
    mt.randn(3, generator=g)
    state = g.get_state()
    assert state.dtype == mt.uint8 and state.shape == (5056,)
    first = [mt.randn(5, generator=g).tolist(), mt.randint(0, 100, (4,), generator=g).tolist()]
    g.set_state(state)
    again = [mt.randn(5, generator=g).tolist(), mt.randint(0, 100, (4,), generator=g).tolist()]
    assert first == again
    state[0] = 1  # the returned tensor is a copy: changing it leaves the generator alone
    g.set_state(g.get_state())


def test_global_state_save_restore_and_seed_functions():
    mt.manual_seed(42)
    assert mt.initial_seed() == 42
    state = mt.get_rng_state()
    a = mt.rand(4).tolist()
    mt.set_rng_state(state)
    assert mt.rand(4).tolist() == a
    s = mt.seed()
    assert isinstance(s, int) and mt.initial_seed() == s and 0 <= s < 2**64
    assert mt.random.manual_seed(42) is mt.default_generator
    assert mt.rand(4).tolist() == a
    mt.random.seed()
    assert mt.random.initial_seed() == mt.initial_seed()


def test_generator_is_independent_of_the_global_one():
    mt.manual_seed(1)
    expected = mt.rand(6).tolist()
    mt.manual_seed(1)
    g = mt.Generator().manual_seed(1)
    from_g = mt.randn(50, generator=g).tolist()
    assert mt.rand(6).tolist() == expected  # the global stream did not move
    assert from_g == mt.randn(50, generator=mt.Generator().manual_seed(1)).tolist()
    assert mt.Generator().initial_seed() == 67280421310721  # PyTorch's seed for a new Generator
    assert mt.Generator().manual_seed(5).device == mt.device("cpu")


def test_seed_wraps_and_negative_seeds_as_torch(torch):
    for seed in (-1, -(2**63), 2**40 + 5, 2**64 - 1):
        g, tg = pair(torch, seed)
        assert g.initial_seed() == tg.initial_seed()
        same(mt.rand(3, generator=g), torch.rand(3, generator=tg))


def test_bad_arguments_raise_clear_errors():
    g = mt.Generator()
    with pytest.raises(TypeError, match="manual_seed: seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(RuntimeError, match="manual_seed: seed must be within"):
        g.manual_seed(2**64)
    before = g.get_state().tolist()
    with pytest.raises(RuntimeError, match="set_state: expected a uint8 Tensor of 5056 bytes"):
        g.set_state(mt.zeros(10))
    with pytest.raises(RuntimeError, match="set_state: invalid MT19937 state"):
        g.set_state(mt.tensor(np.zeros(5056, np.uint8)))
    assert g.get_state().tolist() == before  # unchanged by the failed calls
    with pytest.raises(TypeError, match="rand: generator must be a microtensor.Generator"):
        mt.rand(3, generator=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="rand: expected a floating point dtype"):
        mt.rand(3, dtype=mt.int64)
    with pytest.raises(RuntimeError, match="randint: expects 'from' to be less than 'to'"):
        mt.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="randint: missing high or size"):
        mt.randint(5)
    with pytest.raises(RuntimeError, match="normal_: expects std >= 0.0"):
        mt.empty(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="bernoulli_: expects 0 <= p <= 1"):
        mt.empty(3).bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="multinomial: cannot sample n_sample > prob_dist"):
        mt.multinomial(mt.ones(3), 4)
    with pytest.raises(RuntimeError, match="multinomial: probability tensor contains"):
        mt.multinomial(mt.tensor([0.5, -1.0]), 1)
    with pytest.raises(RuntimeError, match="rand: microtensor runs on the CPU only"):
        mt.rand(3, device="cuda")


# ------------------------------------------------------------------ forms and in-place semantics
def test_size_forms_dtype_requires_grad_and_device():
    for make in (mt.rand, mt.randn):
        mt.manual_seed(3)
        a = make(2, 3)
        mt.manual_seed(3)
        b = make((2, 3), device="cpu")
        mt.manual_seed(3)
        c = make(size=[2, 3], device=mt.device("cpu"), pin_memory=False)
        assert a.tolist() == b.tolist() == c.tolist() and a.shape == (2, 3) and a.dtype == mt.float32
        r = make(4, dtype=mt.float64, requires_grad=True)
        assert r.requires_grad and r.is_leaf and r.dtype == mt.float64
    with pytest.raises(RuntimeError, match="randint: only floating point tensors can require gradients"):
        mt.randint(0, 3, (2,), requires_grad=True)
    assert mt.randperm(4, dtype=mt.float32).dtype == mt.float32


def test_inplace_fills_bump_the_version_and_refuse_leaves_that_require_grad():
    w = mt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: a leaf Variable that requires grad"):
        w.normal_()
    with mt.no_grad():
        w.uniform_(-1, 1)
    assert w._version == 1 and w.requires_grad
    x = mt.ones(3, requires_grad=True)
    y = x * 2
    loss = (y * x).sum()  # Mul saved x
    with mt.no_grad():
        x.normal_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    # a non-leaf filled in place keeps a graph whose gradient to the old values is zero, as PyTorch
    z = x * 1.0
    z.uniform_()
    z.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@given(seed=SEEDS, rows=st.integers(1, 9), cols=st.integers(2, 9))
def test_non_contiguous_tensors_fill_in_memory_order_as_torch(torch, seed, rows, cols):
    g, tg = pair(torch, seed)
    for fill, args in (("normal_", (0.5, 2.0)), ("uniform_", (-1.0, 1.0)), ("exponential_", (1.0,))):
        a = mt.zeros(rows, cols, dtype=mt.float64)
        b = torch.zeros(rows, cols, dtype=torch.float64)
        with mt.no_grad():
            getattr(a.T, fill)(*args, generator=g)  # a transposed view writes through to a
        getattr(b.t(), fill)(*args, generator=tg)
        same(a, b)


def test_fork_rng_restores_the_global_stream():
    mt.manual_seed(8)
    expected = mt.rand(3).tolist()
    mt.manual_seed(8)
    with mt.random.fork_rng():
        mt.randn(100)
        mt.manual_seed(123)
    assert mt.rand(3).tolist() == expected and mt.initial_seed() == 8
    with mt.random.fork_rng(enabled=False):
        mt.rand(1)
    assert mt.rand(3).tolist() != expected


def test_docstring_examples_hold():
    mt.manual_seed(0)
    assert [round(v, 4) for v in mt.rand(2).tolist()] == [0.4963, 0.7682]
    mt.manual_seed(0)
    assert [round(v, 4) for v in mt.randn(3).tolist()] == [1.541, -0.2934, -2.1788]
    mt.manual_seed(0)
    assert mt.randint(0, 10, (4,)).tolist() == [4, 9, 3, 0]
    mt.manual_seed(0)
    assert mt.randperm(5).tolist() == [4, 0, 1, 3, 2]


@given(seed=SEEDS, n=SIZES)
def test_float16_draws_match_torch(torch, seed, n):
    g, tg = pair(torch, seed)
    same(mt.rand(n, generator=g, dtype=mt.float16), torch.rand(n, generator=tg, dtype=torch.float16))
    same(mt.randn(n, generator=g, dtype=mt.float16), torch.randn(n, generator=tg, dtype=torch.float16))
    same(
        mt.empty(n, dtype=mt.float16).normal_(0.5, 2.0, generator=g),
        torch.empty(n, dtype=torch.float16).normal_(0.5, 2.0, generator=tg),
    )
    same(
        mt.empty(n, dtype=mt.float16).uniform_(-1.0, 2.5, generator=g),
        torch.empty(n, dtype=torch.float16).uniform_(-1.0, 2.5, generator=tg),
    )
    same(g.get_state(), tg.get_state())


def test_out_argument_receives_the_draws(torch):
    g, tg = pair(torch, 21)
    out, tout = mt.empty(2, 3), torch.empty(2, 3)
    version = out._version
    assert mt.rand(2, 3, generator=g, out=out) is out and out._version > version
    torch.rand(2, 3, generator=tg, out=tout)
    same(out, tout)
    resized, tresized = mt.empty(1), torch.empty(1)
    mt.randn(4, 5, generator=g, out=resized)  # out takes the result's shape, as in PyTorch
    torch.randn(4, 5, generator=tg, out=tresized)
    same(resized, tresized)


def test_numpy_generator_for_legacy_callers_follows_the_seed():
    from microtensor import creation

    mt.manual_seed(5)
    a = creation.generator().random(4)
    mt.manual_seed(5)
    assert np.array_equal(creation.generator().random(4), a)
    assert not np.array_equal(creation.generator().random(4), a)  # each call takes a fresh draw
