"""Matrix multiplication: 1-D, 2-D, batched, with broadcast batch dims (as np.matmul)."""

from __future__ import annotations

from ..tensor import Tensor
from .base import Op, helper
from .elementwise import _operands


class MatMul(Op):
    role = "layer"
    public_name = "matmul"
    # a vector is a row (a) or a column (b) of a matrix, as matmul treats it; `unrow`/`uncol` drop that
    # axis again, and the engine sums the gradient over broadcast batch dims
    derivatives = {
        "a": "unrow(as_matrix(grad, a, b) @ mT(as_col(b)), a)",
        "b": "uncol(mT(as_row(a)) @ as_matrix(grad, a, b), b)",
    }

    def forward(self, a, b):
        return a @ b

    def error_message(self, arrays, err: Exception) -> str:
        a, b = arrays
        if a.ndim == 0 or b.ndim == 0:
            return f"matmul: both arguments need to be at least 1-D, got shapes {a.shape} and {b.shape}"
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            return (
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k_a} columns vs {k_b} rows)"
            )
        return f"matmul: batch dimensions of {a.shape} and {b.shape} are not broadcastable ({err})"


def matmul(a, b) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 2-D @ 2-D a matrix product,
    a 1-D operand is treated as a row/column vector (its dim removed afterwards), and leading
    batch dims broadcast. A shape mismatch names both shapes.

        >>> mt.matmul(mt.ones(4, 2, 3), mt.ones(3, 5)).shape
        torch.Size([4, 2, 5])
    """
    a, b = _operands(a, b, "matmul")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors, not Python scalars")
    return MatMul()(a, b)


@helper
def as_row(a):
    """A 1-D a as a (1, n) matrix; a matrix (or a batch of them) as it is."""
    return a.reshape((1,) + tuple(a.shape)) if a.ndim == 1 else a


@helper
def as_col(b):
    """A 1-D b as an (n, 1) matrix; a matrix (or a batch of them) as it is."""
    return b.reshape(tuple(b.shape) + (1,)) if b.ndim == 1 else b


@helper
def as_matrix(grad, a, b):
    """grad of a @ b with the axes that a vector a (a row) or b (a column) dropped restored as 1."""
    shape = tuple(grad.shape)
    if a.ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b.ndim > 1 else shape + (1,)
    if b.ndim == 1:
        shape = shape + (1,)
    return grad.reshape(shape) if shape != tuple(grad.shape) else grad


@helper
def unrow(g, a):
    """For a 1-D a: g (..., 1, n) without its row axis; else g."""
    return g.reshape(tuple(g.shape[:-2]) + tuple(g.shape[-1:])) if a.ndim == 1 else g


@helper
def uncol(g, b):
    """For a 1-D b: g (..., n, 1) without its column axis; else g."""
    return g.reshape(tuple(g.shape[:-1])) if b.ndim == 1 else g


# =====================================================================================================
# Linear algebra beyond matmul (issue 12 step 2.2): products built on MatMul, einsum, norms, and the
# decompositions. Batched over leading dims as PyTorch. Ops whose results are several tensors (QR,
# SVD, eigh) return them packed in one array, which the public function slices apart (GetItem): the
# gradient of the packed output is then one array, and each rule reads its parts.
# =====================================================================================================
import string as _string  # noqa: E402

import numpy as np  # noqa: E402

from . import _xp  # noqa: E402
from .base import as_tensor, norm_dims  # noqa: E402
from .sort import _return_type  # noqa: E402

mT = _xp.mT  # (the helpers below call it on arrays and Tensors)

slogdet_t = _return_type("slogdet", ["sign", "logabsdet"])
qr_t = _return_type("qr", ["Q", "R"])
svd_t = _return_type("svd", ["U", "S", "Vh"])
eigh_t = _return_type("eigh", ["eigenvalues", "eigenvectors"])


def _t(x, op: str) -> Tensor:
    return as_tensor(x, op)


def _floats(op: str, *xs) -> list[Tensor]:
    """The operands as Tensors, which must share one float32/float64 dtype: PyTorch's linalg
    functions do not promote, and refuse integer and half-precision input."""
    ts = [_t(x, op) for x in xs]
    for t in ts:
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"{op}: expected a floating point tensor as input, got {t.dtype}")
        if t._data.dtype.itemsize < 4:
            raise RuntimeError(f"{op}: low precision dtypes are not supported, got {t.dtype}")
    if len({t._data.dtype for t in ts}) > 1:
        raise RuntimeError(
            f"{op}: expected the operands to have the same dtype, got {', '.join(str(t.dtype) for t in ts)}"
        )
    return ts


def _need_dims(op: str, **named) -> None:
    for name, (t, want) in named.items():
        if t.ndim not in (want if isinstance(want, tuple) else (want,)):
            raise RuntimeError(f"{op}: {name} must be a {want}-D tensor, got shape {tuple(t.shape)}")


def _same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}"
        )


# ------------------------------------------------------------------ products
def mm(input, mat2, *, out=None) -> Tensor:  # noqa: A002
    """Matrix product of (n, k) and (k, m): (n, m). No broadcasting (use matmul for batches).

    >>> mt.mm(mt.ones(2, 3), mt.ones(3, 4)).shape   # (2, 4)
    """
    a, b = _t(input, "mm"), _t(mat2, "mm")
    _need_dims("mm", input=(a, 2), mat2=(b, 2))
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied "
            f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    _same_dtype("mm", a, b)
    return matmul(a, b)


def bmm(input, mat2, *, out=None) -> Tensor:  # noqa: A002
    """Batched matrix product of (b, n, k) and (b, k, m): (b, n, m); the batch sizes must match.

    >>> mt.bmm(mt.ones(5, 2, 3), mt.ones(5, 3, 4)).shape   # (5, 2, 4)
    """
    a, b = _t(input, "bmm"), _t(mat2, "bmm")
    _need_dims("bmm", input=(a, 3), mat2=(b, 3))
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"bmm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied batch-wise"
        )
    _same_dtype("bmm", a, b)
    return matmul(a, b)


def mv(input, vec, *, out=None) -> Tensor:  # noqa: A002
    """Matrix (n, m) times vector (m,): (n,).

    >>> mt.mv(mt.ones(2, 3), mt.ones(3))   # tensor([3., 3.])
    """
    a, v = _t(input, "mv"), _t(vec, "mv")
    _need_dims("mv", input=(a, 2), vec=(v, 1))
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({a.shape[0]}x{a.shape[1]}) and vec ({v.shape[0]})")
    _same_dtype("mv", a, v)
    return matmul(a, v)


def dot(input, tensor, *, out=None) -> Tensor:  # noqa: A002
    """The dot product of two 1-D tensors of the same size and dtype: a 0-d tensor.

    >>> mt.dot(mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))   # tensor(11.)
    """
    a, b = _t(input, "dot"), _t(tensor, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            "to have the "
            "same number of elements"
        )
    _same_dtype("dot", a, b)
    return matmul(a, b)


def vdot(input, other, *, out=None) -> Tensor:  # noqa: A002
    """dot with the first argument conjugated: for real tensors, dot.

    >>> mt.vdot(mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))   # tensor(11.)
    """
    return dot(input, other)


def inner(input, other, *, out=None) -> Tensor:  # noqa: A002
    """Sum over the last dims of both: shape input.shape[:-1] + other.shape[:-1] (a 0-d operand scales).

    >>> mt.inner(mt.ones(2, 3), mt.ones(4, 3)).shape   # (2, 4)
    """
    a, b = _t(input, "inner"), _t(other, "inner")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: last dims must match, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 1]))


def outer(input, vec2, *, out=None) -> Tensor:  # noqa: A002
    """The outer product of two 1-D tensors: (n,) and (m,) give (n, m).

    >>> mt.outer(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 10.0, 100.0])).shape   # (2, 3)
    """
    a, b = _t(input, "outer"), _t(vec2, "outer")
    _need_dims("outer", input=(a, 1), vec2=(b, 1))
    return a.reshape(-1, 1) * b.reshape(1, -1)


def ger(input, vec2, *, out=None) -> Tensor:  # noqa: A002
    """outer's old name.

    >>> mt.ger(mt.tensor([1.0, 2.0]), mt.tensor([3.0])).shape   # (2, 1)
    """
    return outer(input, vec2)


def _add_scaled(input, prod, beta, alpha, op: str) -> Tensor:
    """beta · input + alpha · prod; beta = 0 ignores input (nan and inf in it too), as PyTorch."""
    inp = _t(input, op)
    try:
        np.broadcast_shapes(tuple(inp.shape), tuple(prod.shape))
    except ValueError:
        raise RuntimeError(
            f"{op}: input of shape {tuple(inp.shape)} cannot broadcast to {tuple(prod.shape)}"
        ) from None
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        if inp.requires_grad:  # input stays in the graph with a zero gradient (as PyTorch's); its
            # values (nan and inf too) are never read
            from .elementwise import where

            return prod + where(Tensor._wrap(np.zeros((), bool)), inp, 0.0)
        return prod
    return (inp if beta == 1 else inp * beta) + prod


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """beta · input + alpha · (mat1 @ mat2), input broadcast to (n, m).

    >>> mt.addmm(mt.zeros(2), mt.ones(2, 3), mt.ones(3, 2))   # [[3., 3.], [3., 3.]]
    """
    return _add_scaled(input, mm(mat1, mat2), beta, alpha, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """beta · input + alpha · (mat @ vec).

    >>> mt.addmv(mt.ones(2), mt.ones(2, 3), mt.ones(3))   # tensor([4., 4.])
    """
    return _add_scaled(input, mv(mat, vec), beta, alpha, "addmv")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """beta · input + alpha · bmm(batch1, batch2).

    >>> mt.baddbmm(mt.zeros(2, 2), mt.ones(4, 2, 3), mt.ones(4, 3, 2)).shape   # (4, 2, 2)
    """
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """beta · input + alpha · Σ_b batch1[b] @ batch2[b].

    >>> mt.addbmm(mt.zeros(2, 2), mt.ones(4, 2, 3), mt.ones(4, 3, 2))   # 12 everywhere
    """
    return _add_scaled(input, bmm(batch1, batch2).sum(0), beta, alpha, "addbmm")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None) -> Tensor:  # noqa: A002
    """beta · input + alpha · outer(vec1, vec2), input broadcast to (n, m).

    >>> mt.addr(mt.zeros(2, 3), mt.tensor([1.0, 2.0]), mt.ones(3))   # [[1., 1., 1.], [2., 2., 2.]]
    """
    return _add_scaled(input, outer(vec1, vec2), beta, alpha, "addr")


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Contract dims of a with dims of b: dims an int n (the last n of a with the first n of b) or a
    pair of lists ([dims of a], [dims of b]).

    >>> mt.tensordot(mt.ones(2, 3, 4), mt.ones(3, 4, 5), dims=2).shape   # (2, 5)
    """
    a, b = _t(a, "tensordot"), _t(b, "tensordot")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot: dims={dims} is out of range for shapes {tuple(a.shape)}, {tuple(b.shape)}"
            )
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
    da = [d % max(a.ndim, 1) for d in da]
    db = [d % max(b.ndim, 1) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                f"and second has size {b.shape[y]} in dim {y}"
            )
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da]))
    am = a.permute(*free_a, *da).reshape(int(np.prod([a.shape[d] for d in free_a])), k)
    bm = b.permute(*db, *free_b).reshape(k, int(np.prod([b.shape[d] for d in free_b])))
    return matmul(am, bm).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


def kron(input, other, *, out=None) -> Tensor:  # noqa: A002
    """The Kronecker product: blocks input[i, j] · other (dims aligned from the right).

    >>> mt.kron(mt.eye(2), mt.ones(2, 2)).shape   # (4, 4)
    """
    a, b = _t(input, "kron"), _t(other, "kron")
    n = max(a.ndim, b.ndim)
    a = a.reshape(*([1] * (n - a.ndim)), *a.shape)
    b = b.reshape(*([1] * (n - b.ndim)), *b.shape)
    # a[..., i, 1, j, 1] · b[..., 1, k, 1, l] interleaved, then merged pairwise
    ia = a.reshape(*[s for d in a.shape for s in (d, 1)])
    ib = b.reshape(*[s for d in b.shape for s in (1, d)])
    return (ia * ib).reshape(*[x * y for x, y in zip(a.shape, b.shape)])


# ------------------------------------------------------------------ einsum
class Einsum(Op):
    """np.einsum of two operands over explicit subscripts (one letter per dim, sizes already
    broadcast); the gradient of each operand is again an einsum: of grad with the other operand."""

    role = "layer"
    __slots__ = ("subs", "to")
    derivatives = {
        "a": "einsum_vjp(grad, (a, b), 0, self.subs, self.to)",
        "b": "einsum_vjp(grad, (a, b), 1, self.subs, self.to)",
    }

    def __init__(self, subs: tuple[str, ...], to: str):
        self.subs, self.to = subs, to

    def forward(self, a, b):
        return np.einsum(f"{self.subs[0]},{self.subs[1]}->{self.to}", a, b)


class EinsumOne(Op):
    """np.einsum of one operand (a sum over letters, a diagonal, a permutation)."""

    public_name = "einsum"
    __slots__ = ("subs", "to")
    derivatives = {"x": "einsum_vjp(grad, (x,), 0, self.subs, self.to)"}

    def __init__(self, subs: tuple[str, ...], to: str):
        self.subs, self.to = subs, to

    def forward(self, x):
        return np.einsum(f"{self.subs[0]}->{self.to}", x)


def _einsum_any(subs, to, operands):
    """einsum on arrays, or (any operand a Tensor) recorded Einsum ops, two operands at a time."""
    if any(isinstance(o, Tensor) for o in operands):
        ts = [o if isinstance(o, Tensor) else Tensor._wrap(np.asarray(o)) for o in operands]
        return _einsum_pairwise(list(subs), to, ts)
    return np.einsum(f"{','.join(subs)}->{to}", *operands, optimize=len(operands) > 2)


def _einsum_pairwise(subs: list[str], to: str, ts: list[Tensor]) -> Tensor:
    """Contract the operands left to right, each step keeping the letters still needed later."""
    cur, cur_s = ts[0], subs[0]
    if len(ts) == 1:
        return EinsumOne((cur_s,), to)(cur)
    for k in range(1, len(ts)):
        if k == len(ts) - 1:
            keep = to
        else:
            later = set(to) | set("".join(subs[k + 1 :]))
            keep = "".join(c for c in dict.fromkeys(cur_s + subs[k]) if c in later)
        cur = Einsum((cur_s, subs[k]), keep)(cur, ts[k])
        cur_s = keep
    return cur


@helper
def einsum_vjp(grad, xs, i, subs, to):
    """∂ of operand i: einsum of grad (subscripts `to`) with the other operand, into operand i's
    subscripts; a letter only operand i has is spread with ones, a repeated one put on a diagonal."""
    target, shape = subs[i], tuple(xs[i].shape)
    size = dict(zip(target, shape))
    used = set("".join(subs)) | set(to)
    fresh = iter(c for c in _string.ascii_letters if c not in used)
    ins, ops = (
        [to, *(s for j, s in enumerate(subs) if j != i)],
        [grad, *(x for j, x in enumerate(xs) if j != i)],
    )
    dtype = _xp.constant(grad).dtype
    have, out = set("".join(ins)), ""
    for c in target:
        if c in out:  # a repeated letter: a fresh one, tied to c by an identity matrix
            f = next(fresh)
            ins.append(c + f)
            ops.append(np.eye(size[c], dtype=dtype))
            out += f
            continue
        if c not in have:  # summed in operand i alone: its gradient is the same along c
            ins.append(c)
            ops.append(np.ones(size[c], dtype=dtype))
            have.add(c)
        out += c
    return _einsum_any(ins, out, ops)


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit one-letter-per-dim subscripts for each operand and the output (ellipses expanded)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    parts = lhs.split(",")
    if len(parts) != len(shapes):
        raise RuntimeError(
            f"einsum(): {len(parts)} operands in the equation '{equation}', but {len(shapes)} given"
        )
    letters = set(eq) - set(".,->")
    bad = [c for c in letters if c not in _string.ascii_letters]
    if bad:
        raise RuntimeError(f"einsum(): invalid subscript {bad[0]!r} in '{equation}' (letters a-z, A-Z only)")
    spare = iter(c for c in _string.ascii_letters[::-1] if c not in letters)
    n_ell = 0
    for p, s in zip(parts, shapes):
        n_fixed = len(p.replace("...", ""))
        if "..." in p:
            n_ell = max(n_ell, len(s) - n_fixed)
        elif len(s) != n_fixed:
            raise RuntimeError(
                f"einsum(): the subscript '{p}' has {n_fixed} dims, but the operand has shape {tuple(s)}"
            )
    ell = "".join(next(spare) for _ in range(n_ell))
    subs = []
    for p, s in zip(parts, shapes):
        if "..." in p:
            k = len(s) - len(p.replace("...", ""))
            if k < 0:
                raise RuntimeError(
                    f"einsum(): the subscript '{p}' has more dims than the operand's shape {tuple(s)}"
                )
            p = p.replace("...", ell[n_ell - k :])
        subs.append(p)
    if arrow:
        to = rhs.replace("...", ell)
        missing = set(to) - set("".join(subs))
        if missing:
            raise RuntimeError(f"einsum(): output subscript {sorted(missing)[0]!r} appears in no operand")
        if len(set(to)) != len(to):
            raise RuntimeError(f"einsum(): an output subscript appears more than once in '{equation}'")
    else:
        counts = {}
        for c in "".join(p.replace("...", "") for p in parts):
            counts[c] = counts.get(c, 0) + 1
        to = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    return subs, to


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the letters of an Einstein-summation equation, e.g. "ij,jk->ik" (matmul),
    "bi,bi->b" (batched dot), "ii->i" (diagonal), "...ij->...ji"; without "->" the output is the
    ellipsis dims, then the letters that appear once, in alphabetical order. Dims with the same letter
    broadcast (size 1 stretches). Operands may also be given as one list.

    >>> mt.einsum("ij,jk->ik", mt.ones(2, 3), mt.ones(3, 4)).shape   # (2, 4)
    """
    if not isinstance(equation, str):
        raise TypeError(
            "einsum(): the first argument must be the equation string (the sublist form is not supported)"
        )
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = [_t(o, "einsum") for o in operands]
    if len({t._data.dtype for t in ts}) > 1:  # PyTorch does not promote here
        raise RuntimeError(
            f"einsum(): expected the operands to have one dtype, got {', '.join(str(t.dtype) for t in ts)}"
        )
    subs, to = _parse_einsum(equation, [tuple(t.shape) for t in ts])
    size: dict[str, int] = {}
    for s, t in zip(subs, ts):
        for c, n in zip(s, t.shape):
            if size.get(c, 1) != 1 and n not in (1, size[c]):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast: subscript {c!r} has size {size[c]} and {n} "
                    f"in '{equation}'"
                )
            size[c] = max(size.get(c, 1), n)
    for k, (s, t) in enumerate(zip(subs, ts)):
        want = tuple(size[c] for c in s)
        if tuple(t.shape) != want:
            ts[k] = t.expand(*want)  # a size-1 dim broadcast against the others (the engine sums it back)
    return _einsum_pairwise(subs, to, ts)


# ------------------------------------------------------------------ norms
class VectorNorm(Op):
    """(Σ |x|^ord)^(1/ord) over dims (ord inf: max |x|, −inf: min |x|, 0: the count of nonzeros)."""

    role = "reduction"
    public_name = "vector_norm"
    __slots__ = ("ord", "dims", "keepdim")
    derivatives = {"x": "norm_vjp(grad, x, out, self.ord, self.dims, self.keepdim)"}

    def __init__(self, ord, dims, keepdim):  # noqa: A002
        self.ord, self.dims, self.keepdim = ord, dims, keepdim

    def forward(self, x):
        a, p, kw = np.abs(x), self.ord, {"axis": self.dims, "keepdims": self.keepdim}
        if p == np.inf:
            return (
                np.max(a, initial=0, **kw)
                if x.size
                else np.zeros(_reduced(x.shape, self.dims, self.keepdim), x.dtype)
            )
        if p == -np.inf:
            return np.min(a, **kw)
        if p == 0:
            return np.sum(a != 0, **kw).astype(x.dtype)
        if p == 1:
            return np.sum(a, **kw)
        if p == 2:
            return np.sqrt(np.sum(x * x, **kw))
        return np.sum(a**p, **kw) ** (1.0 / p)


def _reduced(shape, dims, keepdim):
    axes = range(len(shape)) if dims is None else dims
    return tuple(1 if i in axes else n for i, n in enumerate(shape) if keepdim or i not in axes)


@helper
def norm_vjp(grad, x, out, p, dims, keepdim):
    """∂‖x‖_p: sgn(x)·|x|^(p−1) / ‖x‖^(p−1) (0 where the norm is 0); for ±inf the gradient is shared by
    the elements at the extreme; for p = 0 it is 0 (as PyTorch)."""
    g = _xp.kept(grad, tuple(x.shape), dims, keepdim)
    o = _xp.kept(out, tuple(x.shape), dims, keepdim)
    if p == 0:  # no gradient at all (PyTorch's is undefined: a leaf reached only here keeps grad None)
        return None
    if p == 1:
        return g * _xp.sgn(x)
    if p in (np.inf, -np.inf):
        hit = np.abs(_xp.constant(x)) == _xp.constant(o)
        share = hit / np.sum(hit, axis=dims, keepdims=True)
        return g * _xp.sgn(x) * share
    zero = _xp.constant(o) == 0
    safe = _xp.where(zero, 1, o)
    if p == 2:
        return _xp.where(zero, 0, g * x / safe)
    return _xp.where(zero, 0, g * x * abs(x) ** (p - 2) / safe ** (p - 1))


def _norm_dims(dim, ndim: int, op: str):
    if isinstance(dim, list):
        dim = tuple(dim)
    return norm_dims(dim, ndim, op)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:  # noqa: A002
    """The vector ord-norm over dim (None: all elements, flattened): (Σ|x|^ord)^(1/ord); ord inf: max
    |x|, −inf: min |x|, 0: the number of nonzero elements. Integer input is refused (as PyTorch).

    >>> mt.linalg.vector_norm(mt.tensor([3.0, 4.0]))   # tensor(5.)
    """
    x = _t(x, "linalg.vector_norm")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: expected a floating point input, got {x.dtype}")
    if dtype is not None:
        from .elementwise import cast

        x = cast(x, dtype)
    if isinstance(ord, Tensor):
        ord = float(ord)  # noqa: A001
    if not isinstance(ord, int | float) or isinstance(ord, bool):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = _norm_dims(dim, x.ndim, "linalg.vector_norm")
    if ord == -np.inf and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm: cannot compute the -inf norm of an empty tensor")
    return VectorNorm(float(ord), dims, bool(keepdim))(x)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None) -> Tensor:  # noqa: A002
    """The matrix norm over the two dims `dim`: 'fro' (Frobenius), 'nuc' (sum of singular values), 2 / −2
    (largest / smallest singular value), 1 / −1 (max / min column sum of |A|), inf / −inf (rows).

    >>> mt.linalg.matrix_norm(mt.eye(3))   # tensor(1.7321)
    """
    A = _t(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError(
            f"linalg.matrix_norm: the input tensor A must have at least 2 dimensions, got {A.shape}"
        )
    if dtype is not None:
        from .elementwise import cast

        A = cast(A, dtype)
    d = tuple(int(v) % A.ndim for v in dim)
    if len(d) != 2 or d[0] == d[1]:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of different dims, got {dim}")
    if ord == "fro":
        return vector_norm(A, 2, d, keepdim)
    if ord in ("nuc", 2, -2):
        from .shape import movedim

        M = movedim(A, d, (-2, -1))
        s = svdvals(M)
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for k in sorted(d):
                r = r.unsqueeze(k)
        return r
    if ord in (1, -1, np.inf, -np.inf):
        inner_dim, outer_dim = (d[0], d[1]) if ord in (1, -1) else (d[1], d[0])
        sums = A.abs().sum(inner_dim, keepdim=True)
        r = sums.amax(outer_dim, keepdim=True) if ord > 0 else sums.amin(outer_dim, keepdim=True)
        return r if keepdim else r.squeeze(max(d)).squeeze(min(d))
    raise RuntimeError(f"linalg.matrix_norm: order {ord!r} not supported ('fro', 'nuc', ±1, ±2, ±inf)")


def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, out=None, dtype=None) -> Tensor:  # noqa: A002
    """torch.linalg.norm: ord None gives the 2-norm of the flattened input (dim None) or the
    Frobenius norm (two dims); a vector norm for one dim (or a 1-D input), a matrix norm for two.

    >>> mt.linalg.norm(mt.tensor([[3.0, 4.0]]))   # tensor(5.)
    """
    A = _t(A, "linalg.norm")
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is None or len(dim) == 1:
            return vector_norm(A, 2, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(
            f"linalg.norm: with ord={ord!r} and dim=None, input must be 1-D or 2-D, got {A.ndim}-D"
        )
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:  # noqa: A002
    """torch.norm / Tensor.norm: p 'fro' or a number is a vector norm over dim (None: all elements,
    flattened; 'fro' over two dims is the Frobenius norm); p 'nuc' is the nuclear matrix norm.

    >>> mt.tensor([[3.0, 4.0]]).norm(2, dim=1)   # tensor([5.])
    """
    x = _t(input, "norm")
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------ decompositions and solvers
def _square(A: Tensor, op: str) -> None:
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {tuple(A.shape)}")


def _lin_error(op: str):
    def message(self, arrays, err):
        shapes = ", ".join(str(tuple(a.shape)) for a in arrays if isinstance(a, np.ndarray))
        return f"{op}: {err} (input shapes {shapes})"

    return message


@helper
def inv_(a):
    """The inverse of (a batch of) square matrices, on arrays and Tensors."""
    return inv(a) if isinstance(a, Tensor) else np.linalg.inv(a)


@helper
def bmat(g):
    """A per-matrix scalar (...,) as (..., 1, 1), to scale whole matrices."""
    return g.reshape(tuple(g.shape) + (1, 1))


class Inv(Op):
    role = "math"
    public_name = "linalg.inv"
    derivatives = {"a": "-mT(out) @ grad @ mT(out)"}
    error_message = _lin_error("linalg.inv")

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError as e:
            raise ValueError("the input matrix is singular (not invertible)") from e


class Det(Op):
    public_name = "linalg.det"
    # defined where A is invertible (PyTorch also extends it to singular A via an SVD)
    derivatives = {"a": "bmat(grad * out) * mT(inv_(a))"}

    def forward(self, a):
        return np.linalg.det(a)


class LogAbsDet(Op):
    public_name = "linalg.slogdet"
    derivatives = {"a": "bmat(grad) * mT(inv_(a))"}

    def forward(self, a):
        return np.linalg.slogdet(a)[1]


class _SlogdetSign(Op):
    """slogdet's sign: in the graph when A requires grad, as PyTorch's, but with no gradient (PyTorch's
    is undefined: a leaf reached only through it keeps grad None). Unregistered: nothing to check."""

    public_name = "linalg.slogdet"
    derivatives = {"a": "None"}

    def forward(self, a):
        return np.linalg.slogdet(a)[0]

    def name(self) -> str:
        return "SlogdetSignBackward"


class Solve(Op):
    """X with A X = B for square A (..., n, n) and B (..., n, k); batch dims broadcast."""

    public_name = "linalg.solve"
    derivatives = {"a": "-solve_(mT(a), grad) @ mT(out)", "b": "solve_(mT(a), grad)"}
    error_message = _lin_error("linalg.solve")

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError as e:
            raise ValueError("the solver failed because the input matrix is singular") from e


@helper
def solve_(a, b):
    """A⁻¹ B, on arrays and Tensors."""
    return Solve()(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else np.linalg.solve(a, b)


def inv(A, *, out=None) -> Tensor:
    """The inverse of a square matrix (or of each in a batch (..., n, n)); singular input raises.
    Gradient: −A⁻ᵀ grad A⁻ᵀ.

    >>> mt.linalg.inv(mt.tensor([[2.0, 0.0], [0.0, 4.0]]))   # [[0.5, 0.], [0., 0.25]]
    """
    (A,) = _floats("linalg.inv", A)
    _square(A, "linalg.inv")
    return Inv()(A)


def det(A, *, out=None) -> Tensor:
    """The determinant of a square matrix (or of each in a batch): shape A.shape[:-2].
    Gradient det(A) · A⁻ᵀ (defined where A is invertible).

    >>> mt.linalg.det(mt.tensor([[2.0, 1.0], [1.0, 2.0]]))   # tensor(3.)
    """
    (A,) = _floats("linalg.det", A)
    _square(A, "linalg.det")
    return Det()(A)


def slogdet(A, *, out=None):
    """(sign, logabsdet) of det(A), as the named tuple slogdet: det = sign · exp(logabsdet).
    Gradient of logabsdet: A⁻ᵀ; sign has none.

    >>> mt.linalg.slogdet(mt.tensor([[-2.0, 0.0], [0.0, 3.0]]))   # sign -1, logabsdet log 6
    """
    (A,) = _floats("linalg.slogdet", A)
    _square(A, "linalg.slogdet")
    return slogdet_t(_SlogdetSign()(A), LogAbsDet()(A))


def logdet(A) -> Tensor:
    """log det(A): nan where det < 0, −inf where it is 0.

    >>> mt.logdet(mt.tensor([[2.0, 0.0], [0.0, 3.0]]))   # tensor(1.7918)
    """
    from .elementwise import where

    sign, logabs = slogdet(A)
    # as PyTorch: nan where det < 0 (a constant there, so no gradient), logabsdet elsewhere
    return where(Tensor._wrap(sign._data < 0), float("nan"), logabs)


def solve(A, B, *, left: bool = True, out=None) -> Tensor:
    """X with A X = B (left=False: X A = B). B is a matrix (..., n, k) or, when B.ndim == 1 or its
    shape is A.shape[:-1], a vector (..., n); batch dims broadcast. Gradients: ∂B = A⁻ᵀ grad,
    ∂A = −∂B Xᵀ.

    >>> mt.linalg.solve(mt.tensor([[2.0, 0.0], [0.0, 4.0]]), mt.tensor([2.0, 2.0]))   # [1., 0.5]
    """
    A, B = _floats("linalg.solve", A, B)
    _square(A, "linalg.solve")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or tuple(B.shape) == tuple(A.shape[:-1])
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: incompatible shapes A {tuple(A.shape)} and B {tuple(B.shape)}")
    X = Solve()(A, Bm)
    return X.squeeze(-1) if vector else X


def matrix_power(A, n: int) -> Tensor:
    """A multiplied by itself n times (n = 0: the identity; n < 0: powers of the inverse).

    >>> mt.linalg.matrix_power(mt.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)   # [[1., 3.], [0., 1.]]
    """
    A = _t(A, "linalg.matrix_power")
    _square(A, "linalg.matrix_power")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        return Tensor._wrap(np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy())
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:  # binary powering: log2(n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


class Cholesky(Op):
    """L lower-triangular with L Lᵀ = A (A symmetric positive-definite; its lower triangle is read)."""

    public_name = "linalg.cholesky"
    derivatives = {"a": "cholesky_vjp(grad, out)"}
    error_message = _lin_error("linalg.cholesky")

    def forward(self, a):
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError as e:
            raise ValueError("the input is not positive-definite") from e


def _const(a, like):
    """A constant NumPy array in the dtype of `like`."""
    return np.asarray(a, dtype=_xp.constant(like).dtype)


@helper
def cholesky_vjp(gL, L):
    """PyTorch's rule: Φ(Lᵀ gL) with Φ the lower triangle, diagonal halved; then L⁻ᵀ Φ L⁻¹, symmetrised."""
    n = L.shape[-1]
    phi = _const(np.tril(np.ones((n, n))) - np.eye(n) / 2, L)
    P = (mT(L) @ gL) * phi
    Linv = inv_(L)
    gA = mT(Linv) @ P @ Linv
    return (gA + mT(gA)) * 0.5


def cholesky(A, *, upper: bool = False, out=None) -> Tensor:
    """The Cholesky factor of symmetric positive-definite A (or a batch): L lower-triangular with
    A = L Lᵀ (upper=True: U = Lᵀ, A = Uᵀ U). Non positive-definite input raises.

    >>> mt.linalg.cholesky(mt.tensor([[4.0, 2.0], [2.0, 5.0]]))   # [[2., 0.], [1., 2.]]
    """
    (A,) = _floats("linalg.cholesky", A)
    _square(A, "linalg.cholesky")
    L = Cholesky()(A)
    return L.mT if upper else L


def _eye(n, like):
    return _const(np.eye(n), like)


class QR(Op):
    """Q (..., m, k) and R (..., k, n), k = min(m, n) (reduced) or m (complete), packed as one
    array (..., m + k, max(k, n)): Q in the first m rows (k columns), R below."""

    public_name = "linalg.qr"
    __slots__ = ("mode",)
    derivatives = {"a": "qr_vjp(grad, out, a)"}

    def __init__(self, mode):
        self.mode = mode

    def forward(self, a):
        q, r = np.linalg.qr(a, mode=self.mode)
        m, k, n = q.shape[-1 - 1], q.shape[-1], r.shape[-1]
        w = max(k, n)
        packed = np.zeros(a.shape[:-2] + (m + k, w), dtype=a.dtype)
        packed[..., :m, :k] = q
        packed[..., m:, :n] = r
        return packed


@helper
def qr_vjp(grad, out, a):
    """For m ≥ n: gA = (gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ − gQᵀ Q and copyltu(M) the symmetric
    matrix with M's lower triangle (the rule of PyTorch and JAX). For m < n, A = [X | Y] and
    R = [U | V] with X = Q U square: gY = Q gV, and gX is the square rule with gQ + Y gVᵀ."""
    m, n = a.shape[-2], a.shape[-1]
    if m >= n:
        return _qr_square_vjp(out[..., :m, :n], out[..., m:, :n], grad[..., :m, :n], grad[..., m:, :n], a)
    Q, R, gQ, gR = out[..., :m, :m], out[..., m:, :n], grad[..., :m, :m], grad[..., m:, :n]
    gV = gR[..., m:]
    gX = _qr_square_vjp(Q, R[..., :m], gQ + a[..., m:] @ mT(gV), gR[..., :m], a)
    # [gX | gY] without a concatenation (which the derivative namespace lacks): two placements
    left, right = _const(np.eye(m, n), a), _const(np.eye(n - m, n, m), a)
    return gX @ left + (Q @ gV) @ right


def _qr_square_vjp(Q, R, gQ, gR, a):
    n = R.shape[-1]
    M = R @ mT(gR) - mT(gQ) @ Q
    low = _const(np.tril(np.ones((n, n)), -1), a)
    M = M * (low + _eye(n, a)) + mT(M * low)  # copyltu(M)
    return mT(solve_(R, mT(gQ + Q @ M)))


def qr(A, mode: str = "reduced", *, out=None):
    """A = Q R with Q orthonormal columns and R upper-triangular, as the named tuple (Q, R); mode
    'reduced' (k = min(m, n)), 'complete' (Q is m × m) or 'r' (Q empty). Differentiable as PyTorch's:
    not with 'complete' when m > n, nor with 'r' (backward raises: the rule needs Q).

    >>> Q, R = mt.linalg.qr(mt.tensor([[1.0, 2.0], [3.0, 4.0]]))
    """
    (A,) = _floats("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.qr: A must have at least 2 dimensions, got {tuple(A.shape)}")
    m, n = A.shape[-2], A.shape[-1]
    if mode == "complete" and m > n and A.requires_grad:
        raise RuntimeError(
            "linalg.qr: the QR decomposition is not differentiable when mode='complete' and m > n"
        )
    packed = QR("complete" if mode == "complete" else "reduced")(A)
    k = m if mode == "complete" else min(m, n)
    Q, R = packed[..., :m, :k], packed[..., m:, :n]
    if mode == "r":
        if R.requires_grad:  # in the graph, as PyTorch's, but its backward raises (it needs Q)
            from .math import _NotDifferentiable

            R = _NotDifferentiable(
                _r_factor, "linalg.qr with mode='r'", "use mode='reduced' to differentiate through qr"
            )(A)
        return qr_t(Tensor._wrap(np.zeros(0, A._data.dtype)), R)
    return qr_t(Q, R)


def _r_factor(a):
    return np.linalg.qr(a, mode="r")


class SVD(Op):
    """U (..., m, k), S (..., k), V = Vhᵀ (..., n, k), k = min(m, n), packed as (..., m + 1 + n, k)."""

    public_name = "linalg.svd"
    derivatives = {"a": "svd_vjp(grad, out, a)"}

    def forward(self, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return np.concatenate([u, s[..., None, :], np.swapaxes(vh, -1, -2)], axis=-2)


@helper
def svd_vjp(grad, out, a):
    """PyTorch's svd_backward (real, reduced), defined for distinct nonzero singular values:
    gA = U [(skew(UᵀgU) S + S skew(VᵀgV)) / E + diag(gS)] Vᵀ (E_jk = s_k² − s_j², skew X = X − Xᵀ),
    plus the parts of gU (gV) outside U's (V's) span when m > k (n > k)."""
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    U, S, V = out[..., :m, :], out[..., m, :], out[..., m + 1 :, :]
    gU, gS, gV = grad[..., :m, :], grad[..., m, :], grad[..., m + 1 :, :]
    Sr, Sc = S.reshape(tuple(S.shape[:-1]) + (1, k)), S.reshape(tuple(S.shape[:-1]) + (k, 1))
    S2 = S * S
    E = S2.reshape(tuple(S.shape[:-1]) + (1, k)) - S2.reshape(tuple(S.shape[:-1]) + (k, 1))
    eye = _eye(k, a)
    E = E + eye  # the diagonal (0) is masked below; 1 keeps it finite
    UhgU, VhgV = mT(U) @ gU, mT(V) @ gV
    UhgU, VhgV = UhgU - mT(UhgU), VhgV - mT(VhgV)
    gA = (UhgU * Sr + Sc * VhgV) / E * (1 - eye) + gS.reshape(tuple(gS.shape[:-1]) + (1, k)) * eye
    if m > k:
        gUS = gU / Sr
        gA = U @ gA + gUS - U @ (mT(U) @ gUS)
        return gA @ mT(V)
    if n > k:
        gVS = gV / Sr
        gA = gA @ mT(V) + mT(gVS - V @ (mT(V) @ gVS))
        return U @ gA
    return U @ gA @ mT(V)


def svd(A, full_matrices: bool = True, *, driver=None, out=None):
    """A = U diag(S) Vh, as the named tuple (U, S, Vh), S descending. Differentiable with
    full_matrices=False (PyTorch's formula; defined for distinct singular values, and U and Vh only up
    to a sign per singular vector, so a loss should not depend on those signs).

    >>> U, S, Vh = mt.linalg.svd(mt.tensor([[3.0, 0.0], [0.0, 4.0]]), full_matrices=False)
    """
    (A,) = _floats("linalg.svd", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svd: A must have at least 2 dimensions, got {tuple(A.shape)}")
    m, n = A.shape[-2], A.shape[-1]
    if full_matrices and m != n:
        if A.requires_grad:
            raise RuntimeError(
                "linalg.svd: the derivative with full_matrices=True is not defined for non-square A; "
                "use full_matrices=False"
            )
        u, s, vh = np.linalg.svd(A._data, full_matrices=True)
        return svd_t(Tensor._wrap(u), Tensor._wrap(s), Tensor._wrap(vh))
    packed = SVD()(A)
    return svd_t(packed[..., :m, :], packed[..., m, :], packed[..., m + 1 :, :].mT)


def svdvals(A, *, driver=None, out=None) -> Tensor:
    """The singular values of A (or of each in a batch), descending: shape (..., min(m, n)).

    >>> mt.linalg.svdvals(mt.tensor([[3.0, 0.0], [0.0, 4.0]]))   # tensor([4., 3.])
    """
    return svd(A, full_matrices=False).S


class Eigh(Op):
    """Eigenvalues L (ascending) and eigenvectors V of symmetric A (its lower triangle is read), packed
    as (..., 1 + n, n): L in row 0, V below."""

    public_name = "linalg.eigh"
    __slots__ = ("uplo",)
    derivatives = {"a": "eigh_vjp(grad, out)"}

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        w, v = np.linalg.eigh(a, UPLO=self.uplo)
        return np.concatenate([w[..., None, :], v], axis=-2)


@helper
def eigh_vjp(grad, out):
    """PyTorch's rule for distinct eigenvalues: gA = V (diag(gL) + skew(VᵀgV) / 2 / E) Vᵀ,
    E_jk = L_k − L_j."""
    n = out.shape[-1]
    L, V = out[..., 0, :], out[..., 1:, :]
    gL, gV = grad[..., 0, :], grad[..., 1:, :]
    eye = _eye(n, out)
    E = L.reshape(tuple(L.shape[:-1]) + (1, n)) - L.reshape(tuple(L.shape[:-1]) + (n, 1)) + eye
    VhgV = mT(V) @ gV
    inner_ = (VhgV - mT(VhgV)) * 0.5 / E * (1 - eye) + gL.reshape(tuple(gL.shape[:-1]) + (1, n)) * eye
    return V @ inner_ @ mT(V)


def eigh(A, UPLO: str = "L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric A, as the named tuple
    (eigenvalues, eigenvectors); only the UPLO ('L' or 'U') triangle is read. Differentiable for
    distinct eigenvalues (eigenvectors only up to sign: a loss should not depend on it).

    >>> L, V = mt.linalg.eigh(mt.tensor([[2.0, 1.0], [1.0, 2.0]]))   # L = [1., 3.]
    """
    (A,) = _floats("linalg.eigh", A)
    _square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = Eigh(UPLO)(A)
    return eigh_t(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(A, UPLO: str = "L", *, out=None) -> Tensor:
    """The eigenvalues of symmetric A, ascending.

    >>> mt.linalg.eigvalsh(mt.tensor([[2.0, 1.0], [1.0, 2.0]]))   # tensor([1., 3.])
    """
    return eigh(A, UPLO).eigenvalues


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, from the SVD: singular values at or below
    max(atol, rtol · s_max) (rtol default: eps · max(m, n)) are treated as 0. Differentiable where
    the rank is constant (through the SVD).

    >>> mt.linalg.pinv(mt.tensor([[1.0, 0.0], [0.0, 0.0]]))   # [[1., 0.], [0., 0.]]
    """
    (A,) = _floats("linalg.pinv", A)
    U, S, Vh = svd(A, full_matrices=False)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(A.shape[-2:])
    smax = S._data.max(axis=-1, keepdims=True) if S.shape[-1] else np.zeros(S.shape[:-1] + (1,))
    tol = np.maximum(0.0 if atol is None else atol, rtol * smax)
    keep = S._data > tol
    from .elementwise import where

    Sinv = where(Tensor._wrap(keep), 1 / where(Tensor._wrap(keep), S, 1.0), 0.0)
    return matmul(Vh.mT * Sinv.unsqueeze(-2), U.mT)


def pinverse(input, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """The pseudo-inverse with singular values below rcond · s_max treated as 0 (torch.pinverse).

    >>> mt.pinverse(mt.tensor([[2.0]]))   # tensor([[0.5]])
    """
    return pinv(input, rtol=rcond)


def inverse(input, *, out=None) -> Tensor:  # noqa: A002
    """linalg.inv under its older name.

    >>> mt.inverse(mt.tensor([[2.0]]))   # tensor([[0.5]])
    """
    return inv(input)


def svd_torch(input, some: bool = True, compute_uv: bool = True, *, out=None):  # noqa: A002
    """torch.svd (deprecated in PyTorch for linalg.svd): (U, S, V) with V, not Vh; some=True is the
    reduced decomposition. compute_uv=False gives zero-filled U and V.

    >>> U, S, V = mt.svd(mt.tensor([[3.0, 0.0], [0.0, 4.0]]))
    """
    U, S, Vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return svd_t(
            Tensor._wrap(np.zeros(U.shape, U._data.dtype)),
            S,
            Tensor._wrap(np.zeros(Vh.shape, Vh._data.dtype)),
        )
    return svd_t(U, S, Vh.mT)


def qr_torch(input, some: bool = True, *, out=None):  # noqa: A002
    """torch.qr: linalg.qr with mode 'reduced' (some=True) or 'complete'.

    >>> Q, R = mt.qr(mt.tensor([[1.0, 2.0], [3.0, 4.0]]))
    """
    return qr(input, "reduced" if some else "complete")


def cholesky_torch(input, upper: bool = False, *, out=None) -> Tensor:  # noqa: A002
    """torch.cholesky (deprecated in PyTorch for linalg.cholesky).

    >>> mt.cholesky(mt.tensor([[4.0, 2.0], [2.0, 5.0]]))   # [[2., 0.], [1., 2.]]
    """
    return cholesky(input, upper=upper)


def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of a chain of matrices (the first may be 1-D: a row; the last 1-D: a column).

    >>> mt.linalg.multi_dot([mt.ones(2, 3), mt.ones(3, 4), mt.ones(4)]).shape   # (2,)
    """
    ts = [_t(t, "linalg.multi_dot") for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors but got {len(ts)}")
    out_ = ts[0]
    for t in ts[1:]:
        out_ = matmul(out_, t)
    return out_


def vecdot(x, y, *, dim: int = -1, out=None) -> Tensor:
    """Σ x · y over dim (broadcasting x and y).

    >>> mt.linalg.vecdot(mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))   # tensor(11.)
    """
    return (_t(x, "linalg.vecdot") * y).sum(dim)
