"""Losses, distances and normalize (issue 13, item 3) against PyTorch: values and gradients for
every reduction, with weights, legacy size_average/reduce arguments and extreme values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(0)
X, Y, Z = (RNG.normal(size=(4, 5)) for _ in range(3))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
CLASSES = np.array([0, 3, 1, 4])
LABELS = np.array([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [-1, 2, 3, 0, 0], [0, 1, 2, 3, 4]])
P = np.abs(Y) / np.abs(Y).sum(1, keepdims=True)
LOGQ = np.log(np.abs(X) / np.abs(X).sum(1, keepdims=True))
W5 = np.array([0.5, 2.0, 1.0, 0.25, 3.0])


def _t(a):
    """The weight-like constants: mt and torch tensors of the same values."""
    return lambda lib: lib.tensor(a)


# name, inputs (arrays; float ones get gradients unless listed in no_grad), keyword arguments
CASES = [
    ("l1_loss", [X, Y], {}), ("l1_loss", [X, Y], {"weight": _t(np.abs(Y))}),
    ("smooth_l1_loss", [X, Y], {"beta": 0.5}), ("smooth_l1_loss", [X, Y], {}),
    ("smooth_l1_loss", [X, Y], {"beta": 0.0}),
    ("huber_loss", [X, Y], {"delta": 0.7}), ("huber_loss", [X, Y], {"weight": _t(np.abs(Y))}),
    ("kl_div", [LOGQ, P], {}), ("kl_div", [LOGQ, np.log(P)], {"log_target": True}),
    ("poisson_nll_loss", [X, np.abs(Y) * 3], {}),
    ("poisson_nll_loss", [np.abs(X), np.abs(Y) * 3 + 0.25], {"log_input": False, "full": True}),
    ("gaussian_nll_loss", [X, Y, np.abs(Z) + 0.1], {}),
    ("gaussian_nll_loss", [X, Y, np.abs(Z[:, 0])], {"full": True}),
    ("gaussian_nll_loss", [X, Y, np.abs(Z[:, :1])], {"eps": 0.5}),
    ("cosine_embedding_loss", [X, Y, SIGNS], {"margin": 0.2}),
    ("margin_ranking_loss", [X[:, 0], Y[:, 0], SIGNS], {"margin": 0.1}),
    ("hinge_embedding_loss", [X, np.sign(Y)], {}), ("hinge_embedding_loss", [X, np.sign(Y)], {"margin": 0.3}),
    ("multi_margin_loss", [X, CLASSES], {}), ("multi_margin_loss", [X, CLASSES], {"p": 2, "margin": 0.5}),
    ("multi_margin_loss", [X, CLASSES], {"weight": _t(W5)}), ("multi_margin_loss", [X[0], CLASSES[1]], {}),
    ("multilabel_margin_loss", [X, LABELS], {}), ("multilabel_margin_loss", [X[0], LABELS[0]], {}),
    ("multilabel_soft_margin_loss", [X, (Y > 0) * 1.0], {}),
    ("multilabel_soft_margin_loss", [X, (Y > 0) * 1.0], {"weight": _t(W5)}),
    ("soft_margin_loss", [X, np.sign(Y)], {}),
    ("triplet_margin_loss", [X, Y, Z], {}),
    ("triplet_margin_loss", [X, Y, Z], {"p": 1, "swap": True, "margin": 2.0}),
    ("triplet_margin_with_distance_loss", [X, Y, Z], {"swap": True}),
]  # fmt: skip
# targets that take no gradient here (PyTorch refuses one for some, or gives 0 for these ±1 labels)
NO_GRAD = {"hinge_embedding_loss": [1], "soft_margin_loss": [1], "multilabel_soft_margin_loss": [1],
           "cosine_embedding_loss": [2]}  # fmt: skip


def _run(name, arrays, kwargs, reduction, dtype):
    outs = []
    for lib, fn in ((mt, getattr(F, name)), (torch, getattr(TF, name))):
        xs = [
            lib.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=a.dtype.kind == "f"
                       and i not in NO_GRAD.get(name, []))
            for i, a in enumerate(arrays)
        ]  # fmt: skip
        kw = {k: (v(lib) if callable(v) else v) for k, v in kwargs.items()}
        kw = {k: (v.to(getattr(lib, dtype)) if k == "weight" else v) for k, v in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning, in both
            y = fn(*xs, reduction=reduction, **kw)
        g = np.cos(np.arange(max(y.numel(), 1))).reshape(tuple(y.shape)).astype(dtype)
        y.backward(lib.tensor(g))
        outs.append((y, [x.grad for x in xs if x.requires_grad]))
    return outs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "arrays", "kwargs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_values_and_gradients_match_pytorch(name, arrays, kwargs, reduction, dtype):
    (y, grads), (ty, tgrads) = _run(name, arrays, kwargs, reduction, dtype)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-11, "atol": 1e-12}
    assert tuple(y.shape) == tuple(ty.shape) and y.dtype == getattr(mt, dtype)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    assert len(grads) == len(tgrads)
    for g, tg in zip(grads, tgrads):
        assert g is not None and g.dtype == getattr(mt, dtype)
        np.testing.assert_allclose(g.numpy(), tg.numpy(), **tol)


def test_kl_div_batchmean_and_its_mean_warning():
    (y, grads), (ty, tgrads) = _run("kl_div", [LOGQ, P], {}, "batchmean", "float64")
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    for g, tg in zip(grads, tgrads, strict=True):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(mt.tensor(LOGQ), mt.tensor(P))
    m = nn.KLDivLoss(reduction="batchmean", log_target=True)
    np.testing.assert_allclose(
        m(mt.tensor(LOGQ), mt.tensor(np.log(P))).item(),
        torch.nn.KLDivLoss(reduction="batchmean", log_target=True)(
            torch.tensor(LOGQ), torch.tensor(np.log(P))
        ).item(),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("size_average", "reduce"), [(False, None), (None, False), (True, True), (False, True)]
)
def test_legacy_size_average_and_reduce(size_average, reduce):
    for name, arrays in (("l1_loss", [X, Y]), ("soft_margin_loss", [X, np.sign(Y)]),
                         ("multi_margin_loss", [X, CLASSES]),
                         ("poisson_nll_loss", [X, np.abs(Y)])):  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(F, name)(*[mt.tensor(a) for a in arrays], size_average=size_average, reduce=reduce)
            ty = getattr(TF, name)(
                *[torch.tensor(a) for a in arrays], size_average=size_average, reduce=reduce
            )
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, err_msg=name)


EXTREME = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_inputs_stay_finite_and_match_where_pytorch_is_finite(dtype):
    x = EXTREME.astype(dtype)
    t = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0], dtype)
    cases = [
        ("l1_loss", [x, x[::-1].copy()], {}), ("huber_loss", [x, x[::-1].copy()], {}),
        ("smooth_l1_loss", [x, x[::-1].copy()], {}), ("hinge_embedding_loss", [x, t], {}),
        ("multilabel_soft_margin_loss", [x.reshape(1, -1), (t.reshape(1, -1) > 0).astype(dtype)], {}),
        ("gaussian_nll_loss", [x, x * 0, np.full_like(x, 1e-9)], {}),
    ]  # fmt: skip
    for name, arrays, kw in cases:
        xs = [mt.tensor(a, requires_grad=i == 0) for i, a in enumerate(arrays)]
        txs = [torch.tensor(a, requires_grad=i == 0) for i, a in enumerate(arrays)]
        y, ty = getattr(F, name)(*xs, reduction="none", **kw), getattr(TF, name)(*txs, reduction="none", **kw)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, err_msg=name)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(xs[0].grad.numpy(), txs[0].grad.numpy(), rtol=1e-6, err_msg=name)
    # soft margin: log(1 + e^(−y·x)) computed stably, finite where PyTorch's direct formula overflows
    y = F.soft_margin_loss(mt.tensor(x, requires_grad=True), mt.tensor(-np.ones_like(x)), reduction="none")
    assert np.all(np.isfinite(y.detach().numpy()))
    np.testing.assert_allclose(
        y.detach().numpy(), np.logaddexp(0, x.astype(np.float64)), rtol=1e-6, atol=1e-40
    )


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cosine_similarity_pairwise_distance_and_normalize_match_pytorch(dim):
    zero = X.copy()
    zero[1] = 0.0  # a zero vector: the clamped norm (eps), gradients 0 not NaN, as PyTorch
    for (fn, tfn) in [
        (lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim)),
        (lambda a, b: F.cosine_similarity(a, b[:1], dim), lambda a, b: TF.cosine_similarity(a, b[:1], dim)),
        (lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b)),
        (lambda a, b: F.pairwise_distance(a, b, 1.0, 1e-3, True),
         lambda a, b: TF.pairwise_distance(a, b, 1.0, 1e-3, True)),
        (lambda a, b: F.pairwise_distance(a, b, float("inf")),
         lambda a, b: TF.pairwise_distance(a, b, float("inf"))),
        (lambda a, b: F.pairwise_distance(a, b, 3.0), lambda a, b: TF.pairwise_distance(a, b, 3.0)),
        (lambda a, b: F.normalize(a * b, dim=dim), lambda a, b: TF.normalize(a * b, dim=dim)),
        (lambda a, b: F.normalize(a, 1.0, dim), lambda a, b: TF.normalize(a, 1.0, dim)),
        (lambda a, b: nn.CosineSimilarity(dim)(a, b), lambda a, b: torch.nn.CosineSimilarity(dim)(a, b)),
        (lambda a, b: nn.PairwiseDistance(1.5)(a, b), lambda a, b: torch.nn.PairwiseDistance(1.5)(a, b)),
    ]:  # fmt: skip
        for a_np in (X, zero):
            a, b = mt.tensor(a_np, requires_grad=True), mt.tensor(Y, requires_grad=True)
            ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(Y, requires_grad=True)
            y, ty = fn(a, b), tfn(ta, tb)
            np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-14)
            w = np.cos(np.arange(y.numel())).reshape(y.shape)
            y.backward(mt.tensor(w))
            ty.backward(torch.tensor(w))
            np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
            assert (b.grad is None) == (tb.grad is None)
            if tb.grad is not None:
                np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_modules_match_their_functionals_and_hold_weights_as_buffers():
    x, y, z = mt.tensor(X), mt.tensor(Y), mt.tensor(Z)
    pairs = [
        (nn.L1Loss(), F.l1_loss(x, y)), (nn.SmoothL1Loss(beta=0.3), F.smooth_l1_loss(x, y, beta=0.3)),
        (nn.HuberLoss(delta=2.0), F.huber_loss(x, y, delta=2.0)),
        (nn.SoftMarginLoss(reduction="sum"), F.soft_margin_loss(x, y, reduction="sum")),
        (nn.TripletMarginLoss(swap=True), F.triplet_margin_loss(x, y, z, swap=True)),
        (nn.TripletMarginWithDistanceLoss(margin=0.5),
         F.triplet_margin_with_distance_loss(x, y, z, margin=0.5)),
    ]  # fmt: skip
    for m, want in pairs:
        got = m(x, y, z) if "Triplet" in type(m).__name__ else m(x, y)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    m = nn.MultiMarginLoss(p=2, weight=mt.tensor(W5))
    assert list(m.state_dict()) == ["weight"]
    np.testing.assert_allclose(
        m(x, mt.tensor(CLASSES)).item(),
        torch.nn.MultiMarginLoss(p=2, weight=torch.tensor(W5))(torch.tensor(X), torch.tensor(CLASSES)).item(),
        rtol=1e-12,
    )
    g = nn.GaussianNLLLoss(full=True)
    np.testing.assert_allclose(
        g(x, y, 0.5).item(),
        torch.nn.GaussianNLLLoss(full=True)(torch.tensor(X), torch.tensor(Y), 0.5).item(),
        rtol=1e-12,
    )


def test_bad_arguments_raise_library_errors_naming_the_function():
    x = mt.tensor(X)
    with pytest.raises(ValueError, match="l1_loss: target shape"):
        F.l1_loss(x, mt.zeros(4))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var is of incorrect size"):
        F.gaussian_nll_loss(x, x, mt.ones(3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, -mt.ones(4, 5))
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(x, mt.tensor(CLASSES), p=3)
    with pytest.raises(IndexError, match=r"multi_margin_loss: target values must be in \[0, 5\)"):
        F.multi_margin_loss(x, mt.tensor([0, 1, 2, 5]))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: expected input"):
        F.multilabel_margin_loss(x, mt.tensor(CLASSES))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss"):
        F.cosine_embedding_loss(x, x[:, :2], mt.tensor(SIGNS))
    with pytest.raises(ValueError, match="reduction"):
        F.huber_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0.0)
    with pytest.raises(RuntimeError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
