"""mt.testing.assert_close decides and says what torch.testing.assert_close does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt

torch = pytest.importorskip("torch")


def _outcome(lib, actual, expected, **kw):
    try:
        lib.testing.assert_close(actual, expected, **kw)
    except (AssertionError, TypeError, ValueError) as e:
        return type(e).__name__, str(e).replace("torch.", "microtensor.")
    return "ok", ""


def _both(make, **kw):
    """The outcome in microtensor and in PyTorch of the pair `make(lib)` builds."""
    ours = _outcome(mt, *make(mt), **kw)
    theirs = _outcome(torch, *make(torch), **kw)
    return ours, theirs


CASES = {
    "close floats": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0 + 1e-6])),
    "one far": lambda L: (L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.5, 3.0])),
    "2-d": lambda L: (L.tensor([[1.0, 2.0], [3.0, 4.0]]), L.tensor([[1.0, 2.0], [3.0, 4.1]])),
    "ints": lambda L: (L.tensor([1, 2]), L.tensor([1, 3])),
    "bools": lambda L: (L.tensor([True, False]), L.tensor([True, True])),
    "python floats": lambda L: (1.0, 1.5),
    "python ints": lambda L: (1, 2),
    "0-d": lambda L: (L.tensor(1.0), L.tensor(2.0)),
    "shape": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])),
    "dtype": lambda L: (L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64)),
    "nan": lambda L: (L.tensor([1.0, float("nan")]), L.tensor([1.0, float("nan")])),
    "inf": lambda L: (L.tensor([float("inf")]), L.tensor([float("inf")])),
    "near zero float32": lambda L: (L.tensor([0.0, 1.0]), L.tensor([1e-6, 1.0])),
    "near zero float64": lambda L: (
        L.tensor([0.0, 1.0], dtype=L.float64),
        L.tensor([1e-6, 1.0], dtype=L.float64),
    ),
    "sequence": lambda L: ([L.tensor([1.0]), L.tensor([2.0])], [L.tensor([1.0]), L.tensor([2.5])]),
    "mapping": lambda L: ({"a": L.tensor([1.0])}, {"a": L.tensor([1.5])}),
    "nested": lambda L: ([{"w": L.tensor([1.0, 2.0])}], [{"w": L.tensor([1.0, 3.0])}]),
    "lengths": lambda L: ([L.tensor(1.0)], [L.tensor(1.0), L.tensor(2.0)]),
    "tensor vs list": lambda L: (L.tensor([1.0, 2.0]), [1.0, 2.0]),
}


@pytest.mark.parametrize("name", CASES)
def test_as_pytorch(name):
    ours, theirs = _both(CASES[name])
    assert ours[0] == theirs[0]
    if name != "tensor vs list":  # (the message names the classes, which differ)
        assert ours == theirs


@pytest.mark.parametrize(
    "kw",
    [
        {"rtol": 0.1, "atol": 0.0},
        {"rtol": 0.0, "atol": 0.6},
        {"rtol": 0.0, "atol": 0.0},
        {"equal_nan": True},
        {"check_dtype": False},
        {"msg": "custom"},
        {"rtol": 1e-3},
    ],
)
def test_options_as_pytorch(kw):
    for make in CASES.values():
        ours, theirs = _both(make, **kw)
        assert ours[0] == theirs[0]


def test_msg_may_be_a_callable():
    with pytest.raises(AssertionError, match="^prefix: Tensor-likes are not close!"):
        mt.testing.assert_close(mt.tensor([1.0]), mt.tensor([2.0]), msg=lambda m: "prefix: " + m)


@given(
    data=hnp.arrays(
        np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.floats(-3, 3, width=32)
    ),
    noise=st.floats(0, 1e-3),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_random_pairs_as_pytorch(data, noise, dtype):
    other = data + noise * np.sign(np.sin(np.arange(data.size))).reshape(data.shape)
    ours, theirs = _both(
        lambda L: (L.tensor(data, dtype=getattr(L, dtype)), L.tensor(other, dtype=getattr(L, dtype)))
    )
    assert ours == theirs
