"""Reductions, scans and sorting against PyTorch: values, dtypes, named tuples and gradients."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import check  # noqa: E402

import microtensor as mt  # noqa: E402

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 4))
Z = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [0.5, -2.0, 1.0, 4.0]])  # zeros
T = np.array([[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, -1.0, -1.0], [0.0, 5.0, 5.0, 5.0]])  # ties
N = np.array([[1.0, np.nan, 2.0, 0.5], [3.0, 1.0, np.nan, np.nan], [2.0, 2.0, 1.0, 0.0]])
I = np.array([[3, 1, 2], [0, 0, 5]])

PROGRAMS = {
    "prod": (lambda t, x: (x.prod(), t.prod(x, 1), x.prod(dim=0, keepdim=True)), X),
    "prod_zeros": (lambda t, x: (x.prod(), t.prod(x, 1), x.prod(0)), Z),
    "prod_int": (lambda t, x: (x.prod(), t.prod(x, 1)), I),
    "cumsum": (lambda t, x: (x.cumsum(1), t.cumsum(x, dim=0)), X),
    "cumsum_int": (lambda t, x: x.cumsum(1), I),
    "cumprod": (lambda t, x: (x.cumprod(1), t.cumprod(x, 0)), X),
    "cumprod_zeros": (lambda t, x: (x.cumprod(1), t.cumprod(x, 0)), Z),
    "cummax_cummin": (lambda t, x: (t.cummax(x, 1), x.cummin(0)), T),
    "amax_amin_ties": (lambda t, x: (x.amax(1), t.amin(x, (0, 1)), t.amax(x), x.amin(0, keepdim=True)), T),
    "max_min_dim": (lambda t, x: (t.max(x, 1), x.min(dim=0, keepdim=True), t.max(x, x.flip(0))), X),
    # ties: PyTorch's index among equal medians along a dim is its selection algorithm's; the median
    # of all elements shares the gradient among the ties
    "median": (lambda t, x: (x.median(), t.median(x, 1), x.median(0, keepdim=True)), X),
    "median_all_ties": (lambda t, x: t.median(x), T),
    "median_even": (lambda t, x: t.median(x), X),
    "nanmedian": (lambda t, x: (t.nanmedian(x), x.nanmedian(1)), np.where(np.isnan(N), N, X)),
    "nanmedian_all_ties": (lambda t, x: t.nanmedian(x), N),
    "mode": (lambda t, x: t.mode(x, 1), T),
    "kthvalue": (lambda t, x: (t.kthvalue(x, 2, 1), x.kthvalue(1, 0, True)), X),
    "sort": (
        lambda t, x: (x.sort(1), t.sort(x, 0, descending=True), x.sort(stable=True, dim=1, descending=True)),
        X,
    ),
    "sort_ties_stable": (
        lambda t, x: (t.sort(x, dim=1, stable=True), t.sort(x, dim=1, descending=True, stable=True)),
        T,
    ),
    "sort_nan": (lambda t, x: (t.sort(x, 1), t.sort(x, 1, descending=True)), N),
    "argsort_msort": (lambda t, x: (x.argsort(1), t.argsort(x, 0, descending=True), t.msort(x)), X),
    "topk": (lambda t, x: (x.topk(2), t.topk(x, 1, 0, largest=False), x.topk(3, dim=1, sorted=True)), X),
    "var_std": (
        lambda t, x: (
            x.var(1, correction=0),
            t.std(x, 0, unbiased=False),
            t.var_mean(x, 1),
            t.std_mean(x, (0, 1), correction=2),
        ),
        X,
    ),  # fmt: skip
    "nansum_nanmean": (lambda t, x: (t.nansum(x), x.nansum(1), t.nanmean(x, 1), x.nanmean()), N),
    "all_any_count": (
        lambda t, x: (t.all(x > 0, 1), (x > 0).any(dim=0), t.count_nonzero(x, 1), x.count_nonzero()),
        Z,
    ),
    "argmax_axis": (lambda t, x: (x.argmax(axis=1), t.argmin(x, axis=0), x.argmax(1, keepdim=True)), X),
    "aminmax": (lambda t, x: (t.aminmax(x), t.aminmax(x, dim=1)), T),
    "logcumsumexp": (lambda t, x: (t.logcumsumexp(x, 1), (x * 300).logcumsumexp(0)), X),
    "diff": (lambda t, x: (x.diff(), t.diff(x, 2, 0), t.diff(x, dim=1, prepend=x[:, :1], append=x)), X),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_reductions_match_torch(name):
    fn, *arrays = PROGRAMS[name]
    check(torch, mt, fn, *arrays)


def test_cumsum_and_prod_dtype_argument():
    def fn(t, x):
        return t.cumsum(x, 0, dtype=t.float32), x.prod(1, dtype=t.float32)

    check(torch, mt, fn, X, grad=False)


def test_named_tuples_have_fields_unpack_and_torch_repr():
    x = mt.tensor([[1.0, 3.0], [2.0, 0.0]])
    for res, tres in (
        (x.sort(1), torch.tensor(x.numpy()).sort(1)),
        (x.topk(1), torch.tensor(x.numpy()).topk(1)),
        (x.median(1), torch.tensor(x.numpy()).median(1)),
        (x.max(1), torch.tensor(x.numpy()).max(1)),
        (mt.min(x, 0, True), torch.min(torch.tensor(x.numpy()), 0, True)),
    ):
        values, indices = res
        assert values is res.values and indices is res.indices
        assert repr(res) == repr(tres)
    assert mt.return_types.sort is type(x.sort())
    mn, mx = mt.aminmax(x)
    assert (mn.item(), mx.item()) == (0.0, 3.0)


def test_counting_functions_match_torch():
    a = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])
    x, t = mt.tensor(a), torch.tensor(a)
    for m, r in (
        (mt.unique(x), torch.unique(t)),
        (
            mt.unique(x, return_inverse=True, return_counts=True),
            torch.unique(t, return_inverse=True, return_counts=True),
        ),
        (mt.bincount(x), torch.bincount(t)),
        (mt.bincount(x, minlength=12), torch.bincount(t, minlength=12)),
        (mt.bincount(x, mt.tensor(a * 0.5)), torch.bincount(t, torch.tensor(a * 0.5))),
        (mt.histc(mt.tensor(a * 1.0), 4), torch.histc(torch.tensor(a * 1.0), 4)),
        (mt.histc(mt.tensor(a * 1.0), 3, 1, 5), torch.histc(torch.tensor(a * 1.0), 3, 1, 5)),
        (mt.searchsorted(mt.tensor([1, 3, 5, 7]), mt.tensor([0, 3, 6, 9])),
         torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([0, 3, 6, 9]))),
        (mt.searchsorted(mt.tensor([1, 3, 5, 7]), mt.tensor([3, 7]), right=True),
         torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([3, 7]), right=True)),
        (
            mt.bucketize(mt.tensor([1, 4, 8]), mt.tensor([2, 4, 6])),
            torch.bucketize(torch.tensor([1, 4, 8]), torch.tensor([2, 4, 6])),
        ),
        (
            mt.unique(mt.tensor([[1, 2], [1, 2], [0, 1]]), dim=0),
            torch.unique(torch.tensor([[1, 2], [1, 2], [0, 1]]), dim=0),
        ),
    ):  # fmt: skip
        ms = m if isinstance(m, tuple) else (m,)
        ts = r if isinstance(r, tuple) else (r,)
        for u, v in zip(ms, ts, strict=True):
            assert u.tolist() == v.tolist() and str(u.dtype) == str(v.dtype).removeprefix("torch.")


def test_cumprod_and_prod_second_order_at_zeros_match_torch():
    for fn in (lambda t, x: t.cumprod(x, 1), lambda t, x: t.prod(x, 1), lambda t, x: t.prod(x)):
        outs = []
        for lib in (mt, torch):
            x = lib.tensor(Z, requires_grad=True)
            w = lib.tensor(np.linspace(-1, 1, fn(lib, x).numel()).reshape(tuple(fn(lib, x).shape)))
            (g,) = (mt if lib is mt else torch).autograd.grad((fn(lib, x) * w).sum(), x, create_graph=True)
            (h,) = (mt if lib is mt else torch).autograd.grad((g * g).sum(), x)
            outs.append((g.detach().numpy(), h.numpy()))
        np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12, atol=1e-12)


def test_errors_name_the_function():
    x = mt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"topk\(\): k \(5\) out of range"):
        x.topk(5)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): k \(0\)"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match="prod: dimension out of range"):
        x.prod(2)
    with pytest.raises(RuntimeError, match=r"amax\(\): cannot reduce an empty tensor"):
        mt.zeros(0).amax()
    with pytest.raises(RuntimeError, match=r"bincount\(\)"):
        mt.bincount(mt.tensor([-1, 2]))


def test_axis_and_keepdims_aliases_as_torch():
    def fn(t, x):
        return (
            x.sum(axis=1, keepdims=True), t.mean(x, axis=0), x.max(axis=1), t.min(x, axis=0, keepdims=True),
            x.std(axis=1), t.cat([x, x], axis=1), t.stack([x, x], axis=2), x.cumsum(axis=1),
            x.softmax(axis=1), x.argmax(axis=1), t.argmin(x, axis=0), x.amax(axis=1, keepdims=True),
            x.prod(axis=0), x.sort(axis=0), x.topk(2, axis=1), x.unsqueeze(axis=0), t.logsumexp(x, axis=1),
            x.gather(axis=1, index=t.tensor([[0], [3], [1]])), x.median(axis=0),
            x.index_select(axis=1, index=t.tensor([2])),
        )  # fmt: skip

    check(torch, mt, fn, X)
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        mt.ones(2).sum(dim=0, axis=0)
