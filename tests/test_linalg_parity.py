"""Linear algebra against PyTorch: products, einsum, norms and the decompositions, over
Hypothesis-drawn shapes (batches and broadcasting included) in float32 and float64: values, dtypes,
requires_grad and the gradient of every input.

Matrices for inv / det / solve / cholesky are drawn well conditioned (a small random part plus a
multiple of the identity), QR and SVD inputs with well separated singular values, so that the
comparison measures the two libraries and not the conditioning. The SVD is compared through
quantities that do not depend on the sign of each singular-vector pair.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import assert_same  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import microtensor as mt  # noqa: E402
from microtensor.testing import arrays  # noqa: E402

# LAPACK (NumPy) and PyTorch's kernels take different paths: float32 results differ by more ulps
TOL32 = (1e-4, 1e-5)


def tol(dtype: str):
    return TOL32 if dtype == "float32" else (1e-9, 1e-11)


FLOAT = st.sampled_from(["float32", "float64"])
SIDE = st.integers(1, 4)
BATCH = st.sampled_from([(), (2,), (1,), (2, 1)])


def real(draw, shape, dtype, lo=-2.0, hi=2.0):
    return draw(arrays(tuple(shape), np.float64, (lo, hi))).astype(dtype)


def well_conditioned(draw, batch, n, dtype):
    """A random part in [-0.5, 0.5] plus n·I: eigenvalues away from 0, any sign pattern."""
    a = real(draw, (*batch, n, n), "float64", -0.5, 0.5) + n * np.eye(n) * draw(st.sampled_from([1, -1]))
    return a.astype(dtype)


def spd(draw, batch, n, dtype):
    a = real(draw, (*batch, n, n), "float64", -1.0, 1.0)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def separated(draw, batch, m, n, dtype):
    """An m × n matrix whose singular values are near 3, 2, 1, 0.5 (well apart), no exact zeros."""
    k = min(m, n)
    d = np.zeros((m, n))
    d[range(k), range(k)] = [3.0, 2.0, 1.0, 0.5][:k]
    signs = np.where(draw(arrays((*batch, m, n), np.float64, (-1.0, 1.0))) < 0, -1, 1)
    return (real(draw, (*batch, m, n), "float64", 0.02, 0.15) * signs + d).astype(dtype)


# ---------------------------------------------------------------- products
@given(data=st.data(), dtype=FLOAT, n=SIDE, k=SIDE, m=SIDE)
@settings(max_examples=25)
def test_matrix_products_match_torch(data, dtype, n, k, m):
    a, b = real(data.draw, (n, k), dtype), real(data.draw, (k, m), dtype)
    v, w = real(data.draw, (k,), dtype), real(data.draw, (n,), dtype)
    kind = data.draw(st.sampled_from(["mm", "mm_method", "mv", "dot", "outer", "ger", "matmul"]))
    fns = {
        "mm": (lambda L, x, y: L.mm(x, y), [a, b]),
        "mm_method": (lambda L, x, y: x.mm(y), [a, b]),
        "mv": (lambda L, x, y: (L.mv(x, y), x.mv(y)), [a, v]),
        "dot": (lambda L, x, y: (L.dot(x, y), x.dot(y)), [v, v[::-1].copy()]),
        "outer": (lambda L, x, y: (L.outer(x, y), x.outer(y)), [v, w]),
        "ger": (lambda L, x, y: L.ger(x, y), [w, v]),
        "matmul": (lambda L, x, y: x @ y, [a, b]),
    }
    fn, inputs = fns[kind]
    assert_same(fn, inputs, tol=tol(dtype), note_text=kind)


@given(data=st.data(), dtype=FLOAT, batch=st.integers(1, 3), n=SIDE, k=SIDE, m=SIDE)
@settings(max_examples=20)
def test_bmm_matches_torch(data, dtype, batch, n, k, m):
    a, b = real(data.draw, (batch, n, k), dtype), real(data.draw, (batch, k, m), dtype)
    assert_same(lambda L, x, y: (L.bmm(x, y), x.bmm(y)), [a, b], tol=tol(dtype))


@given(
    data=st.data(),
    dtype=FLOAT,
    n=SIDE,
    k=SIDE,
    m=SIDE,
    input_shape=st.sampled_from(["full", "row", "column", "scalar"]),
    beta=st.sampled_from([1, 0.5, 0, -2.0]),
    alpha=st.sampled_from([1, 2.5, -1.0, 0]),
)
@settings(max_examples=40)
def test_addmm_family_matches_torch(data, dtype, n, k, m, input_shape, beta, alpha):
    """addmm / addmv / baddbmm / addbmm with an input broadcast to the product, beta and alpha
    (beta = 0: input takes no part in the values, yet stays in the graph with a zero gradient)."""
    shape = {"full": (n, m), "row": (m,), "column": (n, 1), "scalar": ()}[input_shape]
    c = real(data.draw, shape, dtype)
    a, b = real(data.draw, (n, k), dtype), real(data.draw, (k, m), dtype)
    v = real(data.draw, (k,), dtype)
    c1 = real(data.draw, (n,) if input_shape != "scalar" else (), dtype)
    ba, bb = real(data.draw, (2, n, k), dtype), real(data.draw, (2, k, m), dtype)
    assert_same(lambda L, c, a, b: L.addmm(c, a, b, beta=beta, alpha=alpha), [c, a, b], tol=tol(dtype))
    full = np.broadcast_to(c, (n, m)).copy()
    assert_same(lambda L, c, a, b: c.addmm(a, b, beta=beta, alpha=alpha), [full, a, b], tol=tol(dtype))
    assert_same(lambda L, c, a, v: L.addmv(c, a, v, beta=beta, alpha=alpha), [c1, a, v], tol=tol(dtype))
    assert_same(lambda L, c, a, b: L.baddbmm(c, a, b, beta=beta, alpha=alpha), [c, ba, bb], tol=tol(dtype))
    assert_same(lambda L, c, a, b: L.addbmm(c, a, b, beta=beta, alpha=alpha), [c, ba, bb], tol=tol(dtype))


EINSUM = {
    # equation: operand shapes
    "ij,jk->ik": [(3, 4), (4, 2)],
    "ij,jk": [(2, 3), (3, 2)],
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 2)],
    "ii": [(3, 3)],
    "ii->i": [(3, 3)],
    "ij->ji": [(2, 3)],
    "ij->": [(2, 3)],
    "i,i->": [(4,), (4,)],
    "i,j->ij": [(3,), (2,)],
    "i,j,k->ijk": [(2,), (3,), (2,)],
    "...ij,jk->...ik": [(2, 2, 3), (3, 4)],
    "...ij,...jk": [(2, 1, 2, 3), (3, 3, 2)],
    "bn,anm,bm->ba": [(2, 3), (4, 3, 2), (2, 2)],
    "ijk,ikl->jl": [(2, 3, 4), (2, 4, 3)],
    "ij,ij->i": [(3, 4), (3, 4)],
    "i...->...": [(2, 3, 4)],
    "iij->j": [(3, 3, 2)],
    "ij,kj->ik": [(1, 3), (4, 3)],
}


@pytest.mark.parametrize("equation", list(EINSUM))
@given(data=st.data(), dtype=FLOAT, as_list=st.booleans())
@settings(max_examples=6)
def test_einsum_matches_torch(equation, data, dtype, as_list):
    ops = [real(data.draw, s, dtype) for s in EINSUM[equation]]
    if as_list:  # einsum(eq, [a, b]) as well as einsum(eq, a, b)
        assert_same(lambda L, *xs: L.einsum(equation, list(xs)), ops, tol=tol(dtype), note_text=equation)
    else:
        assert_same(lambda L, *xs: L.einsum(equation, *xs), ops, tol=tol(dtype), note_text=equation)


# ---------------------------------------------------------------- norms
@st.composite
def norm_input(draw, min_dims=1):
    dtype = draw(FLOAT)
    shape = draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=3).map(tuple))
    # no ties in |x| (the inf-norms share the gradient among ties, a kink) and no zeros (|x|^(p-1))
    flat = draw(arrays((int(np.prod(shape)),), np.float64, (0.1, 2.0), min_gap=0.02))
    signs = np.where(draw(arrays((flat.size,), np.float64, (-1.0, 1.0))) < 0, -1, 1)
    return dtype, (flat * signs).reshape(shape).astype(dtype)


def dims_of(draw, ndim):
    return draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
        )
    )


P_VALUES = [2, 1, 3, 0.5, 0, float("inf"), -float("inf"), -1, 1.5]


@given(inp=norm_input(), data=st.data(), p=st.sampled_from(P_VALUES), keepdim=st.booleans())
@settings(max_examples=60)
def test_vector_norms_match_torch(inp, data, p, keepdim):
    dtype, x = inp
    dim = dims_of(data.draw, x.ndim)
    spelling = data.draw(st.sampled_from(["norm", "method", "vector_norm", "linalg.norm"]))
    if spelling == "norm":
        fn = lambda L, t: L.norm(t, p=p, dim=dim, keepdim=keepdim)  # noqa: E731
    elif spelling == "method":
        fn = lambda L, t: t.norm(p, dim, keepdim)  # noqa: E731
    elif spelling == "vector_norm":
        fn = lambda L, t: L.linalg.vector_norm(t, ord=p, dim=dim, keepdim=keepdim)  # noqa: E731
    else:  # linalg.norm with an int dim (or none on a vector) is a vector norm
        if not (isinstance(dim, int) or (dim is None and x.ndim == 1)):
            dim = -1
        fn = lambda L, t: L.linalg.norm(t, ord=p, dim=dim, keepdim=keepdim)  # noqa: E731
    assert_same(fn, [x], tol=tol(dtype), note_text=f"{spelling} p={p} dim={dim}")


def test_norm_default_and_fro_spellings_match_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    for dtype in ("float32", "float64"):
        a = x.astype(dtype)
        assert_same(
            lambda L, t: (L.norm(t), t.norm(), t.norm(dim=1), L.norm(t, "fro"), L.norm(t, "fro", (0, 2))), [a]
        )
        assert_same(lambda L, t: (L.norm(t, dim=(1, 2), p="nuc"), L.linalg.norm(t)), [a], tol=tol(dtype))


MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")]


@given(data=st.data(), dtype=FLOAT, ord_=st.sampled_from(MATRIX_ORDS), keepdim=st.booleans(), batch=BATCH)
@settings(max_examples=40)
def test_matrix_norms_match_torch(data, dtype, ord_, keepdim, batch):
    m, n = data.draw(SIDE), data.draw(SIDE)
    if ord_ in (2, -2, "nuc"):  # through the SVD: well separated singular values
        a = separated(data.draw, batch, m, n, dtype)
    else:  # sums of |a|: no zeros (a kink); distinct values make tied row / column sums unlikely
        flat = data.draw(arrays((int(np.prod((*batch, m, n))),), np.float64, (0.1, 2.0), min_gap=0.013))
        a = (flat * np.resize([1, -1, -1], flat.size)).reshape((*batch, m, n)).astype(dtype)
    dim = data.draw(st.sampled_from([(-2, -1), (-1, -2)])) if a.ndim == 2 else (-2, -1)
    assert_same(lambda L, t: L.linalg.matrix_norm(t, ord=ord_, dim=dim, keepdim=keepdim), [a], tol=tol(dtype))
    if a.ndim == 2:
        assert_same(
            lambda L, t: L.linalg.norm(t, ord=ord_), [a], tol=tol(dtype), note_text=f"linalg.norm {ord_}"
        )


# ---------------------------------------------------------------- inverse, determinant, solve
@given(data=st.data(), dtype=FLOAT, n=SIDE, batch=BATCH)
@settings(max_examples=30)
def test_inverse_determinant_and_solve_match_torch(data, dtype, n, batch):
    a = well_conditioned(data.draw, batch, n, dtype)
    k = data.draw(SIDE)
    b = real(data.draw, (*batch, n, k), dtype)
    v = real(data.draw, (n,), dtype)
    t = tol(dtype)
    assert_same(lambda L, x: (L.linalg.inv(x), L.inverse(x), x.inverse()), [a], tol=t)
    assert_same(lambda L, x: (L.linalg.det(x), L.det(x), x.det()), [a], tol=t)
    assert_same(lambda L, x: tuple(L.linalg.slogdet(x)) + tuple(L.slogdet(x)), [a], tol=t)
    assert_same(lambda L, x, y: L.linalg.solve(x, y), [a, b], tol=t)
    assert_same(lambda L, x, y: L.linalg.solve(x, y), [a, v], tol=t)  # a vector right-hand side
    bt = np.swapaxes(b, -1, -2).copy()
    assert_same(lambda L, x, y: L.linalg.solve(x, y, left=False), [a, bt], tol=t)


def test_slogdet_named_fields_and_logdet_match_torch():
    a = np.array([[2.0, 1.0], [1.0, -3.0]])  # negative determinant: sign -1, logdet nan
    for L in (torch, mt):
        r = L.linalg.slogdet(L.tensor(a))
        assert float(r.sign) == -1.0 and abs(float(r.logabsdet) - np.log(7.0)) < 1e-12
    assert_same(lambda L, x: (L.logdet(x), L.logdet(x @ x.mT)), [a])


@given(data=st.data(), dtype=FLOAT, n=SIDE, batch=BATCH, upper=st.booleans())
@settings(max_examples=25)
def test_cholesky_matches_torch(data, dtype, n, batch, upper):
    a = spd(data.draw, batch, n, dtype)
    # the gradient of a symmetric input is taken as PyTorch does (its rule symmetrises)
    assert_same(lambda L, x: L.linalg.cholesky(x, upper=upper), [a], tol=tol(dtype))


# ---------------------------------------------------------------- QR and SVD
@given(data=st.data(), dtype=FLOAT, batch=BATCH, mode=st.sampled_from(["reduced", "complete", "r"]))
@settings(max_examples=40)
def test_qr_matches_torch(data, dtype, batch, mode):
    m, n = data.draw(SIDE), data.draw(SIDE)
    if mode == "complete" and m > n:  # not differentiable (both raise): the values alone
        a = separated(data.draw, batch, m, n, dtype)
        assert_same(lambda L, x: tuple(L.linalg.qr(x, mode="complete")), [a], grad=False, tol=tol(dtype))
        return
    a = separated(data.draw, batch, m, n, dtype)
    if mode == "r":  # R only (Q empty); in the graph, but backward raises in both
        assert_same(lambda L, x: tuple(L.linalg.qr(x, mode="r")), [a], grad=False, tol=tol(dtype))
        for L in (torch, mt):
            r = L.linalg.qr(L.tensor(a, requires_grad=True), mode="r").R
            assert r.requires_grad
            with pytest.raises(RuntimeError, match="mode='r'"):
                r.sum().backward()
        return
    assert_same(
        lambda L, x: tuple(L.linalg.qr(x, mode=mode)), [a], tol=tol(dtype), note_text=f"{m}x{n} {mode}"
    )


def test_qr_complete_tall_is_not_differentiable_in_either():
    for L in (torch, mt):
        x = L.tensor(np.arange(6.0).reshape(3, 2) + np.eye(3, 2), requires_grad=True)
        with pytest.raises(RuntimeError, match="complete"):
            q, r = L.linalg.qr(x, mode="complete")
            (q.sum() + r.sum()).backward()


@given(data=st.data(), dtype=FLOAT, batch=BATCH)
@settings(max_examples=30)
def test_svd_matches_torch(data, dtype, batch):
    m, n = data.draw(SIDE), data.draw(SIDE)
    a = separated(data.draw, batch, m, n, dtype)

    def invariants(L, x):
        U, S, Vh = L.linalg.svd(x, full_matrices=False)
        # singular values, the reconstruction and the projectors onto the singular subspaces do not
        # depend on each vector pair's sign, which LAPACK and PyTorch may choose differently
        return S, (U * S.unsqueeze(-2)) @ Vh, U @ U.mT, Vh.mT @ Vh, L.linalg.svdvals(x)

    assert_same(invariants, [a], tol=tol(dtype))

    def legacy(L, x):  # torch.svd: V (not Vh), reduced by default
        U, S, V = L.svd(x)
        return S, U @ L.diag_embed(S) @ V.mT

    assert_same(legacy, [a], tol=tol(dtype))


def test_linalg_errors_match_torch():
    """Where PyTorch raises, microtensor raises a RuntimeError too."""
    bad = {
        "inv of a singular matrix": lambda L: L.linalg.inv(L.tensor([[1.0, 2.0], [2.0, 4.0]])),
        "inv of a non-square matrix": lambda L: L.linalg.inv(L.ones(2, 3)),
        "cholesky of an indefinite matrix": lambda L: L.linalg.cholesky(L.tensor([[1.0, 2.0], [2.0, 1.0]])),
        "solve with mismatched shapes": lambda L: L.linalg.solve(L.eye(3), L.ones(2, 1)),
        "mm with mismatched shapes": lambda L: L.mm(L.ones(2, 3), L.ones(2, 3)),
        "mm of a vector": lambda L: L.mm(L.ones(3), L.ones(3, 2)),
        "bmm of matrices": lambda L: L.bmm(L.ones(2, 3), L.ones(3, 2)),
        "dot of matrices": lambda L: L.dot(L.ones(2, 2), L.ones(2, 2)),
        "dot of mixed dtypes": lambda L: L.dot(L.ones(2), L.ones(2, dtype=L.float64)),
        "mv with mismatched shapes": lambda L: L.mv(L.ones(2, 3), L.ones(2)),
        "det of an integer matrix": lambda L: L.det(L.ones(2, 2, dtype=L.int64)),
        "inv in half precision": lambda L: L.linalg.inv(L.eye(2, dtype=L.float16)),
        "solve of mixed dtypes": lambda L: L.linalg.solve(L.eye(2), L.ones(2, 1, dtype=L.float64)),
        "einsum of mixed dtypes": lambda L: L.einsum("i,i->", L.ones(2), L.ones(2, dtype=L.int64)),
        "qr of integers": lambda L: L.linalg.qr(L.ones(2, 2, dtype=L.int64)),
        "cholesky of integers": lambda L: L.linalg.cholesky(L.eye(2, dtype=L.int64)),
        "vector_norm of integers": lambda L: L.linalg.vector_norm(L.ones(2, dtype=L.int64)),
        "matrix_norm of a vector": lambda L: L.linalg.matrix_norm(L.ones(3)),
        "matrix_norm with a bad ord": lambda L: L.linalg.matrix_norm(L.ones(2, 2), ord=3),
        "einsum with a bad equation": lambda L: L.einsum("ij,jk->il", L.ones(2, 2), L.ones(2, 2)),
        "einsum with too few operands": lambda L: L.einsum("ij,jk->ik", L.ones(2, 2)),
        "addmm with an unbroadcastable input": lambda L: L.addmm(L.ones(3), L.ones(2, 2), L.ones(2, 2)),
    }
    for what, fn in bad.items():
        with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
            fn(torch)
        with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)) as err:
            fn(mt)
        assert str(err.value), what
