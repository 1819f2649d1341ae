"""Indexing ops against PyTorch: gather/scatter, index_*, masked_*, nonzero, take, in-place forms."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import check  # noqa: E402

import microtensor as mt  # noqa: E402

RNG = np.random.default_rng(5)
X = RNG.standard_normal((3, 4))
S = RNG.standard_normal((3, 5))
S3 = S[
    :, :3
]  # src of index's shape: PyTorch's backward rejects a larger src (its gradient has index's shape)
G = np.array([[0, 0, 3], [1, 2, 1], [3, 3, 0]])  # repeats along dim 1
P = np.array([[2, 0, 3], [1, 3, 0], [0, 1, 2]])  # distinct along dim 1
M = X > 0.2


def idx(t, a):
    return t.tensor(a)


PROGRAMS = {
    "gather": (lambda t, x: (t.gather(x, 1, idx(t, G)), x.gather(0, idx(t, G[:2] % 3))), X),
    "scatter_src": (lambda t, x, s: t.scatter(x, 1, idx(t, P), s), X, S3),
    "scatter_value": (
        lambda t, x: (x.scatter(1, idx(t, P), 2.5), t.scatter(x, 0, idx(t, P % 3), value=-1.0)),
        X,
    ),
    "scatter_add": (
        lambda t, x, s: (t.scatter_add(x, 1, idx(t, G), s), x.scatter_add(0, idx(t, G % 3), s)),
        X,
        S3,
    ),
    "scatter_reduce_sum_mean": (
        lambda t, x, s: [
            t.scatter_reduce(x, 1, idx(t, G), s, r, include_self=inc)
            for r in ("sum", "mean")
            for inc in (True, False)
        ],
        X,
        S3,
    ),
    "scatter_reduce_prod_amax_amin": (
        lambda t, x, s: [
            x.scatter_reduce(1, idx(t, G), s, r, include_self=inc)
            for r in ("prod", "amax", "amin")
            for inc in (True, False)
        ],
        X,
        S3,
    ),
    "index_select": (
        lambda t, x: (t.index_select(x, 1, idx(t, [3, 0, 0])), x.index_select(0, idx(t, [2]))),
        X,
    ),
    "index_add": (
        lambda t, x, s: (
            t.index_add(x, 1, idx(t, [0, 2, 0, 1, 3]), s),
            x.index_add(1, idx(t, [3, 3, 1, 0, 2]), s, alpha=2.0),
        ),
        X,
        S,
    ),
    "index_copy": (lambda t, x, s: t.index_copy(x, 1, idx(t, [3, 0, 1, 2]), s[:, :4]), X, S),
    "index_fill": (
        lambda t, x: (t.index_fill(x, 1, idx(t, [0, 2]), -1.0), x.index_fill(0, idx(t, [1]), 3.0)),
        X,
    ),
    "index_put": (
        lambda t, x, s: (
            x.index_put((idx(t, [0, 2]), idx(t, [1, 1])), s[0, :2]),
            t.index_put(x, (idx(t, [0, 0]), idx(t, [1, 1])), s[0, :2], accumulate=True),
        ),
        X,
        S,
    ),
    "masked_fill": (
        lambda t, x: (x.masked_fill(t.tensor(M), float("-inf")), t.masked_fill(x, t.tensor(M[0]), 0.5)),
        X,
    ),
    "masked_fill_tensor_value": (lambda t, x, v: x.masked_fill(t.tensor(M), v[0, 0]), X, S),
    "masked_select": (lambda t, x: (t.masked_select(x, t.tensor(M)), x.masked_select(t.tensor(M[1]))), X),
    "masked_scatter": (lambda t, x, s: x.masked_scatter(t.tensor(M), s), X, S),
    "take": (lambda t, x: (t.take(x, idx(t, [[0, 11], [5, -1]])), x.take(idx(t, [3]))), X),
    "put": (
        lambda t, x, s: (
            x.put(idx(t, [0, 5, -1]), s[0, :3]),
            t.put(x, idx(t, [1, 1]), s[1, :2], accumulate=True),
        ),
        X,
        S,
    ),
    "causal_attention": (
        lambda t, q: t.softmax((q @ q.T).masked_fill(t.tril(t.ones(3, 3)) == 0, float("-inf")), dim=-1),
        X,
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_index_ops_match_torch(name):
    fn, *arrays = PROGRAMS[name]
    check(torch, mt, fn, *arrays)


def test_scatter_reduce_argument_and_larger_src():
    # PyTorch has no derivative for scatter(reduce=...): values only
    check(
        torch,
        mt,
        lambda t, x, s: (
            x.scatter(1, idx(t, G), s, reduce="add"),
            x.scatter(1, idx(t, P), s, reduce="multiply"),
        ),
        X,
        S,
        grad=False,
    )
    # a src larger than index: only its leading corner is used, and only that corner gets gradient
    x, s = mt.tensor(X, requires_grad=True), mt.tensor(S, requires_grad=True)
    mt.scatter_add(x, 1, mt.tensor(G), s).sum().backward()
    assert s.grad.tolist() == [[1.0] * 3 + [0.0] * 2] * 3 and x.grad.tolist() == [[1.0] * 4] * 3


def test_nonzero_argwhere_where_match_torch():
    a = np.array([[0, 1, 0], [2, 0, 3]])
    m, t = mt.tensor(a), torch.tensor(a)
    assert mt.nonzero(m).tolist() == torch.nonzero(t).tolist() and m.nonzero().dtype == mt.int64
    for u, v in zip(m.nonzero(as_tuple=True), torch.nonzero(t, as_tuple=True), strict=True):
        assert u.tolist() == v.tolist()
    for u, v in zip(mt.where(m > 0), torch.where(t > 0), strict=True):
        assert u.tolist() == v.tolist()
    assert mt.argwhere(m).tolist() == torch.argwhere(t).tolist()
    assert mt.where(m > 0, m, -m).tolist() == torch.where(t > 0, t, -t).tolist()


def test_inplace_forms_write_into_self_and_record_the_graph():
    for lib in (mt, torch):
        x = lib.zeros(3, 4, dtype=lib.float64)
        x.masked_fill_(x == 0, 2.0).tril_()
        x.index_fill_(1, lib.tensor([3]), 5.0)
        assert x.tolist() == [[2, 0, 0, 5], [2, 2, 0, 5], [2, 2, 2, 5]]
    w = mt.ones(3, requires_grad=True)
    y = mt.zeros(2, 3, dtype=mt.float32)
    v0 = y._version
    y.index_add_(0, mt.tensor([1]), (w * 2).unsqueeze(0))
    assert y._version > v0 and y.grad_fn is not None
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.masked_fill_(mt.tensor([True, False, False]), 0.0)
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_errors_name_the_function_and_leave_input_unchanged():
    x = mt.zeros(3, 4)
    with pytest.raises(IndexError, match=r"gather\(\): index out of range"):
        x.gather(1, mt.tensor([[4]]))
    with pytest.raises(RuntimeError, match=r"gather\(\): index must have the same number of dims"):
        x.gather(1, mt.tensor([1]))
    with pytest.raises(RuntimeError, match=r"masked_fill\(\): expected a bool mask"):
        x.masked_fill(mt.tensor([1, 0, 1, 0]), 1.0)
    with pytest.raises(RuntimeError, match=r"scatter_add\(\): index of shape \(3, 5\)"):
        x.scatter_add(0, mt.zeros(3, 5, dtype=mt.int64), mt.ones(3, 5))
    with pytest.raises(RuntimeError, match=r"scatter_reduce\(\): reduce must be"):
        x.scatter_reduce(1, mt.zeros(3, 1, dtype=mt.int64), mt.ones(3, 1), "max")
    with pytest.raises(RuntimeError, match="masked_scatter"):
        x.masked_scatter_(x == 0, mt.ones(3))
    assert x.tolist() == [[0.0] * 4] * 3
