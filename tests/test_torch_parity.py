"""Differential tests against PyTorch: the same program, the same float64 inputs,
the same values and gradients (first and second order); plus targeted checks of
the conventions at kinks and poles, dtype promotion and repr.

Skipped when torch is not installed (`make torch` installs the pinned release).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import microtensor as mt  # noqa: E402

RTOL, ATOL = 1e-10, 1e-12
MAX_NUMEL = 48  # keeps every intermediate small


# ------------------------------------------------------------------ helpers
def _np(x) -> np.ndarray:
    """The values of a microtensor or torch tensor as a NumPy array."""
    if isinstance(x, torch.Tensor) and x._is_zerotensor():  # torch's lazily-zero gradient: no storage
        return np.zeros(tuple(x.shape), dtype=str(x.dtype).removeprefix("torch."))
    return x.detach().numpy()


def assert_same(m, t, what: str = "") -> None:
    """Same shape, same dtype name, same values (inf/nan patterns included)."""
    assert m is not None and t is not None, what
    a, b = _np(m), _np(t)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert str(a.dtype) == str(b.dtype), f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


class Val:
    """One value of the program, computed in both frameworks."""

    __slots__ = ("m", "t")

    def __init__(self, m, t):
        self.m, self.t = m, t

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.t.shape)

    def __repr__(self) -> str:
        return f"Val(shape={self.shape})"

    @property
    def a(self) -> np.ndarray:
        return _np(self.t)

    @property
    def bitwise_equal(self) -> bool:
        """Both frameworks hold exactly the same numbers (safe to place ties on them)."""
        return np.array_equal(_np(self.m), self.a)


def both(fn, *vals: Val) -> Val:
    """Apply fn(lib, *tensors) with lib = microtensor and lib = torch."""
    return Val(fn(mt, *[v.m for v in vals]), fn(torch, *[v.t for v in vals]))


def _floats(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


class Program:
    """A random program grown op by op from Hypothesis draws, run in both frameworks in lockstep."""

    def __init__(self, data):
        self.data = data
        self.leaves: list[Val] = []
        self.pool: list[Val] = []
        self.log: list[str] = []

    def draw(self, strategy, label: str | None = None):
        return self.data.draw(strategy, label=label)

    # -------------------------------------------------------------- inputs
    def leaf(self, shape, away_from_zero: bool = False, requires_grad: bool = True) -> Val:
        shape = tuple(shape)
        if away_from_zero:  # |x| in [0.5, 2]: a safe denominator
            mag = self.draw(hnp.arrays(np.float64, shape, elements=_floats(0.5, 2.0)))
            sign = self.draw(hnp.arrays(np.bool_, shape))
            arr = np.where(sign, mag, -mag)
        else:
            arr = self.draw(hnp.arrays(np.float64, shape, elements=_floats(-2.0, 2.0)))
        v = Val(
            mt.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, dtype=torch.float64, requires_grad=requires_grad),
        )
        if requires_grad:
            self.leaves.append(v)
        self.pool.append(v)
        self.log.append(f"x{len(self.pool) - 1} = leaf{shape}{'' if requires_grad else ' const'}")
        note(self.log[-1])
        return v

    def record(self, v: Val, text: str) -> Val:
        self.pool.append(v)
        self.log.append(f"x{len(self.pool) - 1} = {text}")
        note(self.log[-1])
        assert_same(v.m, v.t, self.log[-1])
        assert v.m.requires_grad == v.t.requires_grad, self.log[-1]
        return v

    def name(self, v: Val) -> str:
        return f"x{next(i for i, p in enumerate(self.pool) if p is v)}"

    # ------------------------------------------------------- operand shapes
    def partner_shape(self, shape) -> tuple[int, ...]:
        """A shape that broadcasts with `shape` (either may be the bigger one)."""
        nd = len(shape)
        drop = self.draw(st.integers(0, nd))
        out = [1 if self.draw(st.booleans()) else n for n in shape[drop:]]
        if drop == 0 and self.draw(st.booleans()):  # the partner is the bigger one
            out = [self.draw(st.integers(1, 3)) if n == 1 else m for n, m in zip(shape, out)]
            if nd < 3 and self.draw(st.booleans()):
                out = [self.draw(st.integers(1, 3))] + out
        return tuple(out)

    def operand(self, x: Val, away_from_zero: bool = False) -> Val:
        """The other operand of a binary op: a new leaf, an earlier value, or x itself."""
        ok = [
            v
            for v in self.pool
            if _broadcastable(v.shape, x.shape) and (not away_from_zero or np.all(np.abs(v.a) >= 0.5))
        ]
        kind = self.draw(st.sampled_from(["leaf", "leaf", "const", "pool"] if ok else ["leaf", "const"]))
        if kind == "pool":
            return self.draw(st.sampled_from(ok))
        shape = self.partner_shape(x.shape)
        if math.prod(np.broadcast_shapes(shape, x.shape)) > MAX_NUMEL:
            shape = x.shape
        return self.leaf(shape, away_from_zero, requires_grad=kind == "leaf")


def _broadcastable(a, b) -> bool:
    try:
        return math.prod(np.broadcast_shapes(a, b)) <= MAX_NUMEL
    except ValueError:
        return False


# -------------------------------------------------------------------- ops
# Each op variant is one entry of OPS, drawn uniformly: op(program, x) returns the new Val,
# or None when it does not apply to x (another op is drawn then).
UNARY = ("tanh", "sigmoid", "relu", "abs", "neg", "exp", "log", "sqrt")


def op_unary(p: Program, x: Val, name: str):
    a = x.a
    if name == "exp" and a.max() > 5:
        return None
    if name in ("log", "sqrt") and not a.min() > 0.1:
        # keep the argument positive: log(x*x + 1), sqrt(x*x + 0.5)
        c = 1.0 if name == "log" else 0.5
        return p.record(both(lambda L, u: getattr(u * u + c, name)(), x), f"({p.name(x)}**2+{c}).{name}()")
    if name == "neg":
        return p.record(both(lambda L, u: -u, x), f"-{p.name(x)}")
    if p.draw(st.booleans()):  # the module-level spelling: mt.exp(x)
        return p.record(both(lambda L, u: getattr(L, name)(u), x), f"lib.{name}({p.name(x)})")
    return p.record(both(lambda L, u: getattr(u, name)(), x), f"{p.name(x)}.{name}()")


def op_pow(p: Program, x: Val):
    a = np.abs(x.a)
    exps = [2, 3, 2.0, 1, 0]
    if a.min() > 0.1 and a.max() < 20:
        exps += [-1, -2.0]
    if x.a.min() > 0.1:
        exps += [0.5, 1.5, -0.5]
    if a.max() > 20:
        exps = [1, 0.5] if x.a.min() > 0.1 else [1]
    e = p.draw(st.sampled_from(exps))
    return p.record(both(lambda L, u: u**e, x), f"{p.name(x)} ** {e!r}")


def op_rpow(p: Program, x: Val):
    if np.abs(x.a).max() > 10:
        return None
    base = p.draw(st.sampled_from([2, 0.5, math.e, 3.0]))
    return p.record(both(lambda L, u: base**u, x), f"{base!r} ** {p.name(x)}")


def op_scalar(p: Program, x: Val):
    s = p.draw(st.sampled_from([2.0, -0.5, 3, 1.5, -1]))
    kinds = ["x+s", "s+x", "x-s", "s-x", "x*s", "s*x", "x/s"]
    if np.all(np.abs(x.a) > 0.1):
        kinds.append("s/x")
    k = p.draw(st.sampled_from(kinds))
    fns = {
        "x+s": lambda L, u: u + s,
        "s+x": lambda L, u: s + u,
        "x-s": lambda L, u: u - s,
        "s-x": lambda L, u: s - u,
        "x*s": lambda L, u: u * s,
        "s*x": lambda L, u: s * u,
        "x/s": lambda L, u: u / s,
        "s/x": lambda L, u: s / u,
    }
    return p.record(both(fns[k], x), k.replace("x", p.name(x)).replace("s", repr(s)))


BINARY = {
    "add": lambda L, u, v: u + v,
    "sub": lambda L, u, v: u - v,
    "mul": lambda L, u, v: L.mul(u, v),
    "div": lambda L, u, v: u / v,
    "maximum": lambda L, u, v: L.maximum(u, v),
    "minimum": lambda L, u, v: L.minimum(u, v),
}


def op_binary(p: Program, x: Val, name: str):
    y = p.operand(x, away_from_zero=name == "div")
    a, b = (y, x) if name != "div" and p.draw(st.booleans()) else (x, y)
    return p.record(both(BINARY[name], a, b), f"{name}({p.name(a)}, {p.name(b)})")


def op_where(p: Program, x: Val):
    if p.draw(st.booleans()):  # a number on one side
        cond = p.draw(hnp.arrays(np.bool_, x.shape))
        s = p.draw(st.sampled_from([0.0, 1.5, -2.0]))
        if p.draw(st.booleans()):
            return p.record(
                both(lambda L, u: L.where(L.tensor(cond), s, u), x), f"where(c, {s}, {p.name(x)})"
            )
        return p.record(both(lambda L, u: L.where(L.tensor(cond), u, s), x), f"where(c, {p.name(x)}, {s})")
    y = p.operand(x)
    cshape = p.partner_shape(np.broadcast_shapes(x.shape, y.shape))
    if math.prod(np.broadcast_shapes(cshape, x.shape, y.shape)) > MAX_NUMEL:
        cshape = ()
    cond = p.draw(hnp.arrays(np.bool_, cshape))
    res = both(lambda L, u, v: L.where(L.tensor(cond), u, v), x, y)
    return p.record(res, f"where(cond{cshape}, {p.name(x)}, {p.name(y)})")


def op_clamp(p: Program, x: Val):
    a = x.a
    if x.bitwise_equal:  # bounds placed exactly on values: ties at the boundary
        cands = sorted(set(a.ravel().tolist()))
    else:  # between values: no tie can depend on last-bit rounding differences
        vals = np.unique(a)
        cands = ((vals[1:] + vals[:-1]) / 2).tolist() or [float(vals[0]) + 0.5]
    lo = p.draw(st.sampled_from([None, *cands]))
    hi = p.draw(st.sampled_from([None, *[c for c in cands if lo is None or c >= lo]]))
    if lo is None and hi is None:
        hi = cands[-1]
    return p.record(both(lambda L, u: u.clamp(min=lo, max=hi), x), f"{p.name(x)}.clamp({lo!r}, {hi!r})")


def op_matmul(p: Program, x: Val, kind: str):
    shape = x.shape
    nd = len(shape)
    n = p.draw(st.integers(1, 3))
    if nd == 0 or (kind in ("left_mat", "right_batched") and nd < 2) or (kind == "vec_left" and nd != 1):
        return None
    if kind == "right_vec":
        w = p.leaf((shape[-1],))
        res, text = both(lambda L, u, v: u @ v, x, w), f"{p.name(x)} @ {p.name(w)}"
    elif kind == "right_mat":
        w = p.leaf((shape[-1], n))
        res, text = both(lambda L, u, v: L.matmul(u, v), x, w), f"matmul({p.name(x)}, {p.name(w)})"
    elif kind == "right_batched":
        batch = p.draw(st.integers(1, 2)) if nd == 2 else p.draw(st.sampled_from([1, shape[-3]]))
        w = p.leaf((batch, shape[-1], n))
        res, text = both(lambda L, u, v: u @ v, x, w), f"{p.name(x)} @ {p.name(w)}"
    elif kind == "left_mat":
        w = p.leaf((n, shape[-2]))
        res, text = both(lambda L, u, v: v @ u, x, w), f"{p.name(w)} @ {p.name(x)}"
    else:  # vec_left: (k,) @ (k, n)
        w = p.leaf((n, shape[0]))
        res, text = both(lambda L, u, v: u @ v.T, x, w), f"{p.name(x)} @ {p.name(w)}.T"
    if math.prod(res.shape) > MAX_NUMEL:
        return None
    return p.record(res, text)


def op_reduce(p: Program, x: Val, name: str):
    nd = len(x.shape)
    if nd == 0:
        return None
    dim = p.draw(st.integers(-nd, nd - 1))
    keep = p.draw(st.booleans())
    if name in ("sum", "mean", "logsumexp"):
        res = both(lambda L, u: getattr(u, name)(dim, keepdim=keep), x)
    elif name in ("max", "min"):
        res = both(lambda L, u: getattr(u, name)(dim, keepdim=keep).values, x)
        idx_m, idx_t = (getattr(v, name)(dim, keepdim=keep).indices for v in (x.m, x.t))
        np.testing.assert_array_equal(_np(idx_m), _np(idx_t), err_msg=f"{name} indices")
    elif name == "var":
        if x.shape[dim] < 2:
            return None
        corr = p.draw(st.sampled_from([1, 0]))
        res = both(lambda L, u: u.var(dim, keepdim=keep, correction=corr), x)
        return p.record(res, f"{p.name(x)}.var({dim}, keepdim={keep}, correction={corr})")
    else:  # softmax, log_softmax
        return p.record(both(lambda L, u: getattr(u, name)(dim), x), f"{p.name(x)}.{name}({dim})")
    return p.record(res, f"{p.name(x)}.{name}({dim}, keepdim={keep})")


def op_full_reduce(p: Program, x: Val, name: str):
    return p.record(both(lambda L, u: getattr(u, name)(), x), f"{p.name(x)}.{name}()")


def op_reduce_dims(p: Program, x: Val):
    nd = len(x.shape)
    if nd < 2:
        return None
    dims = tuple(
        p.draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=nd, unique_by=lambda d: d % nd))
    )
    keep = p.draw(st.booleans())
    f = p.draw(st.sampled_from(["sum", "mean", "logsumexp"]))
    return p.record(both(lambda L, u: getattr(u, f)(dims, keepdim=keep), x), f"{p.name(x)}.{f}({dims})")


def _divisor_shapes(n: int) -> list[tuple[int, ...]]:
    shapes = [(n,), (-1,), (1, n), (n, 1)]
    for a in range(2, n):
        if n % a == 0:
            shapes.append((a, n // a))
            shapes.append((a, -1))
            for b in range(2, n // a):
                if (n // a) % b == 0:
                    shapes.append((a, b, n // a // b))
    return shapes


def op_shape(p: Program, x: Val, kind: str):
    nd = len(x.shape)
    if kind == "reshape":
        shape = p.draw(st.sampled_from(_divisor_shapes(math.prod(x.shape))))
        return p.record(both(lambda L, u: u.reshape(*shape), x), f"{p.name(x)}.reshape{shape}")
    if kind == "flatten":
        return p.record(both(lambda L, u: u.flatten(), x), f"{p.name(x)}.flatten()")
    if kind == "unsqueeze":
        d = p.draw(st.integers(-nd - 1, nd))
        return p.record(both(lambda L, u: u.unsqueeze(d), x), f"{p.name(x)}.unsqueeze({d})")
    if nd == 0:
        return None
    if kind == "squeeze":
        d = p.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
        fn = (lambda L, u: u.squeeze()) if d is None else (lambda L, u: u.squeeze(d))
        return p.record(both(fn, x), f"{p.name(x)}.squeeze({d})")
    if kind == "transpose":
        d0, d1 = p.draw(st.integers(-nd, nd - 1)), p.draw(st.integers(-nd, nd - 1))
        if p.draw(st.booleans()):
            return p.record(
                both(lambda L, u: L.transpose(u, d0, d1), x), f"transpose({p.name(x)}, {d0}, {d1})"
            )
        return p.record(both(lambda L, u: u.transpose(d0, d1), x), f"{p.name(x)}.transpose({d0}, {d1})")
    if kind == "T":
        if nd != 2:
            return None
        return p.record(both(lambda L, u: u.T, x), f"{p.name(x)}.T")
    if kind == "permute":
        perm = tuple(p.draw(st.permutations(range(nd))))
        return p.record(both(lambda L, u: u.permute(*perm), x), f"{p.name(x)}.permute{perm}")
    # expand: size-1 dims grow, others keep their size (given as is or as -1), maybe a new leading dim
    sizes = [p.draw(st.integers(1, 3)) if n == 1 else p.draw(st.sampled_from([n, -1])) for n in x.shape]
    if nd < 3 and p.draw(st.booleans()):
        sizes = [p.draw(st.integers(1, 3))] + sizes
    full = [n if s == -1 else s for s, n in zip(sizes[::-1], x.shape[::-1])] + sizes[: len(sizes) - nd]
    if math.prod(full) > MAX_NUMEL:
        return None
    return p.record(both(lambda L, u: u.expand(*sizes), x), f"{p.name(x)}.expand{tuple(sizes)}")


def op_cat(p: Program, x: Val):
    nd = len(x.shape)
    if nd == 0:
        return None
    d = p.draw(st.integers(-nd, nd - 1))
    dn = d % nd
    others = [
        v
        for v in p.pool
        if len(v.shape) == nd and v.shape[:dn] == x.shape[:dn] and v.shape[dn + 1 :] == x.shape[dn + 1 :]
    ]
    if p.draw(st.booleans()):
        y = p.draw(st.sampled_from(others))  # x itself is among them
    else:
        shape = list(x.shape)
        shape[d] = p.draw(st.integers(1, 2))
        y = p.leaf(shape)
    parts = p.draw(st.sampled_from([(x, y), (y, x), (x, y, x)]))
    if sum(math.prod(v.shape) for v in parts) > MAX_NUMEL:
        return None
    res = both(lambda L, *ts: L.cat(list(ts), dim=d), *parts)
    return p.record(res, f"cat([{', '.join(p.name(v) for v in parts)}], {d})")


def op_stack(p: Program, x: Val):
    nd = len(x.shape)
    if 2 * math.prod(x.shape) > MAX_NUMEL:
        return None
    d = p.draw(st.integers(-nd - 1, nd))
    same = [v for v in p.pool if v.shape == x.shape]
    y = p.draw(st.sampled_from(same)) if p.draw(st.booleans()) else p.leaf(x.shape)
    res = both(lambda L, u, v: L.stack([u, v], dim=d), x, y)
    return p.record(res, f"stack([{p.name(x)}, {p.name(y)}], {d})")


def op_index(p: Program, x: Val, kind: str):
    shape = x.shape
    nd = len(shape)
    if nd == 0 or (kind == "two_arrays" and nd < 2):
        return None
    if kind == "basic":
        index = []
        for n in shape:
            k = p.draw(st.sampled_from(["all", "int", "slice"]))
            if k == "all":
                index.append(slice(None))
            elif k == "int":
                index.append(p.draw(st.integers(-n, n - 1)))
            else:
                start = p.draw(st.integers(0, n - 1))
                stop = p.draw(st.integers(start + 1, n))
                index.append(slice(start, stop, p.draw(st.integers(1, 2))))
        if p.draw(st.booleans()):
            index.insert(p.draw(st.integers(0, len(index))), None)
        index = tuple(index)
        return p.record(both(lambda L, u: u[index], x), f"{p.name(x)}[{index}]")
    if kind == "int_array":
        d = p.draw(st.integers(0, nd - 1))
        idx = p.draw(st.lists(st.integers(-shape[d], shape[d] - 1), min_size=1, max_size=5))
        key = (slice(None),) * d
        res = both(lambda L, u: u[key + (L.tensor(idx),)], x)
        return p.record(res, f"{p.name(x)}[{':, ' * d}{idx}]  (repeats accumulate)")
    if kind == "two_arrays":
        k = p.draw(st.integers(1, 4))
        i0 = p.draw(st.lists(st.integers(0, shape[0] - 1), min_size=k, max_size=k))
        i1 = p.draw(st.lists(st.integers(0, shape[1] - 1), min_size=k, max_size=k))
        res = both(lambda L, u: u[L.tensor(i0), L.tensor(i1)], x)
        return p.record(res, f"{p.name(x)}[{i0}, {i1}]")
    mshape = shape if kind == "mask" else shape[:1]
    mask = p.draw(hnp.arrays(np.bool_, mshape))
    mask.flat[p.draw(st.integers(0, mask.size - 1))] = True  # never empty
    res = both(lambda L, u: u[L.tensor(mask)], x)
    return p.record(res, f"{p.name(x)}[mask{mshape}]")


OPS = {
    **{f"unary:{n}": functools.partial(op_unary, name=n) for n in UNARY},
    "pow": op_pow,
    "rpow": op_rpow,
    "scalar": op_scalar,
    **{f"binary:{n}": functools.partial(op_binary, name=n) for n in BINARY},
    "where": op_where,
    "clamp": op_clamp,
    **{
        f"matmul:{k}": functools.partial(op_matmul, kind=k)
        for k in ("right_vec", "right_mat", "right_batched", "left_mat", "vec_left")
    },
    **{
        f"reduce:{n}": functools.partial(op_reduce, name=n)
        for n in ("sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax", "var")
    },
    **{f"full:{n}": functools.partial(op_full_reduce, name=n) for n in ("sum", "mean", "max", "min")},
    "reduce_dims": op_reduce_dims,
    **{
        f"shape:{k}": functools.partial(op_shape, kind=k)
        for k in ("reshape", "flatten", "unsqueeze", "squeeze", "transpose", "T", "permute", "expand")
    },
    "cat": op_cat,
    "stack": op_stack,
    **{
        f"index:{k}": functools.partial(op_index, kind=k)
        for k in ("basic", "int_array", "two_arrays", "mask", "row_mask")
    },
}


FALLBACK_SHAPES = [(2, 3), (3,), (2, 2, 3), (3, 1)]  # every op applies to one of them


def build_program(data, forced: str | None = None) -> tuple[Program, Val]:
    """3-8 random ops (or 1-2 around a `forced` one) on one or two float64 inputs.

    Every step is checked for equal values, shapes, dtypes and requires_grad as it is built.
    """
    p = Program(data)
    shape = p.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="input shape")
    x = p.leaf(shape)
    if p.draw(st.booleans()):
        p.leaf(p.partner_shape(shape))
    n_before = p.draw(st.integers(0, 1)) if forced else 0
    n_ops = p.draw(st.integers(0, 1) if forced else st.integers(3, 8), label="n_ops") + n_before
    done = retries = 0
    while done < n_ops + (forced is not None):
        if len(p.pool) > 1 and not retries and p.draw(st.integers(0, 3)) == 3:
            # 1 in 4: branch from an earlier value, so the program is a DAG, not a chain
            x = p.draw(st.sampled_from([v for v in p.pool if v.t.requires_grad]))
        if forced and done == n_before:
            y = OPS[forced](p, x)
            if y is None:  # not applicable to this x: apply it to a fresh leaf of another shape
                x = p.leaf(FALLBACK_SHAPES[retries % len(FALLBACK_SHAPES)])
                retries += 1
                continue
        else:
            y = OPS[p.draw(st.sampled_from(sorted(OPS)), label="op")](p, x)
        if y is not None:
            x, done = y, done + 1
    return p, x


def check_program(p: Program, out: Val) -> None:
    """backward() (the NumPy fast path) and autograd.grad(create_graph=True) (the recorded path)
    give torch's gradients; then so does d/dx of a scalar function of the first gradient."""
    seed = p.draw(hnp.arrays(np.float64, out.shape, elements=_floats(-1.0, 1.0)), label="grad_output")
    leaves_m, leaves_t = [v.m for v in p.leaves], [v.t for v in p.leaves]
    out.m.backward(mt.tensor(seed), retain_graph=True)
    out.t.backward(torch.tensor(seed), retain_graph=True)
    for i, leaf in enumerate(p.leaves):
        if leaf.t.grad is None:
            assert leaf.m.grad is None, f"leaf {i}: torch has no gradient but microtensor does"
        else:
            assert_same(leaf.m.grad, leaf.t.grad, f"grad of leaf {i}")

    gm = mt.autograd.grad(out.m, leaves_m, mt.tensor(seed), create_graph=True, allow_unused=True)
    gt = torch.autograd.grad(out.t, leaves_t, torch.tensor(seed), create_graph=True, allow_unused=True)
    used = [i for i, g in enumerate(gt) if g is not None]
    assert [i for i, g in enumerate(gm) if g is not None] == used
    for i in used:
        assert_same(gm[i], gt[i], f"create_graph grad of leaf {i}")
    if not used:
        return
    weights = [p.draw(hnp.arrays(np.float64, gt[i].shape, elements=_floats(-1, 1))) for i in used]

    def h(lib, grads):
        total = 0
        for w, g in zip(weights, grads):
            total = total + (g * lib.tensor(w)).sum() + (g * g).sum() * 0.5
        return total

    hm, ht = h(mt, [gm[i] for i in used]), h(torch, [gt[i] for i in used])
    assert_same(hm, ht, "h")
    # torch records the backward of piecewise-linear ops (relu, abs, max, clamp) even though their
    # derivative is 0, so its h can require grad where microtensor's graph rightly has no path
    none = [None] * len(p.leaves)
    ggm = mt.autograd.grad(hm, leaves_m, allow_unused=True) if hm.requires_grad else none
    ggt = torch.autograd.grad(ht, leaves_t, allow_unused=True) if ht.requires_grad else none
    for i, (a, b) in enumerate(zip(ggm, ggt)):
        # None (no path in the graph) counts as a zero gradient on either side
        a = np.zeros(p.leaves[i].shape) if a is None else _np(a)
        b = np.zeros(p.leaves[i].shape) if b is None else _np(b)
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"second-order grad of leaf {i}")


# ----------------------------------------------------- differential tests
# The programs stay inside every op's domain, so microtensor must not make an inf or nan anywhere.
_STRICT = {"divide": "raise", "over": "raise", "invalid": "raise"}


@settings(max_examples=4 * settings.default.max_examples)  # 4x the profile: programs are cheap
@given(st.data())
def test_random_programs_match_torch(data):
    with np.errstate(**_STRICT):
        check_program(*build_program(data))


@pytest.mark.parametrize("op", sorted(OPS))
@given(data=st.data())
def test_every_op_in_a_random_program(op, data):
    """Each op variant of the table, between random ops, so that none depends on luck to be drawn."""
    with np.errstate(**_STRICT):
        check_program(*build_program(data, forced=op))


# ------------------------------------------------- targeted semantics checks
def run_both(fn, *inputs, grad: bool = True):
    """fn(lib, *leaves) in both frameworks on float64 leaves, backward with the same seed; asserts the
    values and all gradients agree and returns microtensor's (output, [input grads]).

    NumPy's divide/overflow warnings are silenced: these checks go to poles on purpose.
    """
    ms = [mt.tensor(np.array(a, dtype=np.float64), requires_grad=grad) for a in inputs]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in inputs]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's var() degrees-of-freedom warning
        om, ot = fn(mt, *ms), fn(torch, *ts)
        if grad:
            seed = np.linspace(1.0, 2.0, math.prod(om.shape)).reshape(om.shape)
            om.backward(mt.tensor(seed))
            ot.backward(torch.tensor(seed))
    assert_same(om, ot, "value")
    if grad:
        for i, (a, b) in enumerate(zip(ms, ts)):
            assert_same(a.grad, b.grad, f"grad of input {i}")
    return om, [a.grad for a in ms]


def _arr(t) -> np.ndarray:
    return t.detach().numpy()


def test_max_full_reduction_ties_share_the_gradient():
    x = [[1.0, 3.0, -2.0], [3.0, 0.5, 3.0]]
    _, (g,) = run_both(lambda L, u: u.max(), x)
    np.testing.assert_array_equal(_arr(g), [[0, 1 / 3, 0], [1 / 3, 0, 1 / 3]])
    _, (g,) = run_both(lambda L, u: L.max(u * 2), x)
    np.testing.assert_array_equal(_arr(g), [[0, 2 / 3, 0], [2 / 3, 0, 2 / 3]])
    _, (g,) = run_both(lambda L, u: u.min(), [[2.0, 2.0], [5.0, 2.0]])
    np.testing.assert_array_equal(_arr(g), [[1 / 3, 1 / 3], [0, 1 / 3]])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_ties_go_to_the_first_index(name, keepdim):
    """torch (CPU) returns the first index among ties and routes the whole gradient there."""
    x = [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.0, -1.0, 0.0]]
    for dim in (0, 1, -1):
        res_m = mt.tensor(x).max(dim, keepdim) if name == "max" else mt.tensor(x).min(dim, keepdim)
        res_t = getattr(torch.tensor(x), name)(dim, keepdim)
        np.testing.assert_array_equal(res_m.indices.numpy(), res_t.indices.numpy())
        assert res_m.indices.dtype == np.int64
        run_both(lambda L, u, dim=dim: getattr(u, name)(dim, keepdim=keepdim).values, x)
    _, (g,) = run_both(lambda L, u: getattr(u, name)(1).values, x)
    first = [3, 0, 0] if name == "min" else [1, 0, 1]  # per row, the first index of the extreme
    expected = np.zeros((3, 4))
    expected[[0, 1, 2], first] = [1.0, 1.5, 2.0]  # seed is linspace(1, 2, 3)
    np.testing.assert_array_equal(_arr(g), expected)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient(name):
    a, b = [1.0, 2.0, 3.0, -0.0], [1.0, 1.0, 4.0, 0.0]
    _, (ga, gb) = run_both(lambda L, u, v: getattr(L, name)(u, v), a, b)
    seed = np.linspace(1.0, 2.0, 4)
    bigger = name == "maximum"
    np.testing.assert_array_equal(_arr(ga), seed * [0.5, bigger, not bigger, 0.5])
    np.testing.assert_array_equal(_arr(ga) + _arr(gb), seed)
    # broadcasting a tie against a row: halves are summed back per input
    run_both(lambda L, u, v: getattr(L, name)(u, v), [[0.0, 1.0], [1.0, 1.0]], [1.0])


def test_clamp_at_the_boundary_passes_the_gradient():
    x = [-1.0, 0.0, 0.25, 1.0, 2.0]
    _, (g,) = run_both(lambda L, u: u.clamp(0.0, 1.0), x)
    np.testing.assert_array_equal(_arr(g), np.linspace(1, 2, 5) * [0, 1, 1, 1, 0])
    run_both(lambda L, u: u.clamp(min=0.0), x)
    run_both(lambda L, u: u.clamp(max=0.25), x)
    run_both(lambda L, u: u.clamp(1.0, 0.0), x)  # min > max: everything becomes max, no gradient
    run_both(lambda L, u: L.clamp(u, -1, 1), x)


def test_clamp_with_tensor_bounds_at_the_boundary():
    """At x == bound the whole gradient goes to x (as with number bounds), none to the bound."""
    x, lo, hi = [-1.0, 0.0, 0.5, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.25, 1.0, 1.5]
    _, (gx, glo, ghi) = run_both(lambda L, u, a, b: L.clamp(u, a, b), x, lo, hi)
    seed = np.linspace(1, 2, 5)
    np.testing.assert_array_equal(_arr(gx), seed * [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(_arr(glo), seed * [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(_arr(ghi), seed * [0, 0, 1, 0, 1])
    run_both(lambda L, u, a: u.clamp(min=a), x, lo)
    run_both(lambda L, u, b: u.clamp(max=b), x, hi)
    # bounds broadcast against x (torch's backward cannot broadcast x up to bigger bounds)
    run_both(lambda L, u, a, b: u.clamp(a, b), [x, x[::-1]], [[0.5], [0.0]], [1.0])
    run_both(lambda L, u, a, b: L.clamp(u, a, b), x, [0.5] * 5, [0.0] * 5)  # min > max: max wins
    # NaN in x or in a bound gives NaN, as torch (the gradients at NaN are not compared: torch drops
    # them everywhere, microtensor routes them to the NaN operand)
    nan = math.nan
    out, _ = run_both(
        lambda L, u, a, b: u.clamp(a, b),
        [0.5, nan, 2.0, 0.5],
        [nan, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, nan],
        grad=False,
    )
    assert np.isnan(_arr(out)).tolist() == [True, True, False, True]


KINKS = {
    "abs at 0": (lambda L, u: u.abs(), [-1.0, -0.0, 0.0, 2.0]),
    "relu at 0": (lambda L, u: u.relu(), [-1.0, -0.0, 0.0, 2.0]),
    "relu function": (lambda L, u: L.relu(u), [-1.0, 0.0, 2.0]),
    "sqrt at 0 and below": (lambda L, u: u.sqrt(), [0.0, -0.0, 4.0, -1.0]),
    "log at 0 and below": (lambda L, u: u.log(), [0.0, -0.0, 1.0, -1.0]),
    "exp overflow": (lambda L, u: u.exp(), [-800.0, 0.0, 800.0]),
    "sigmoid tails": (lambda L, u: u.sigmoid(), [-800.0, -40.0, 0.0, 40.0, 800.0]),
    "tanh tails": (lambda L, u: u.tanh(), [-800.0, 0.0, 800.0]),
    "1 / x at 0": (lambda L, u: 1.0 / u, [0.0, -0.0, 2.0]),
    "x / 0": (lambda L, u: u / 0.0, [0.0, -1.0, 2.0]),
    "x ** 0": (lambda L, u: u**0, [0.0, -1.0, 2.0]),
    "x ** 0.5": (lambda L, u: u**0.5, [0.0, -1.0, 4.0]),
    "x ** 1": (lambda L, u: u**1, [0.0, -1.0, 2.0]),
    "x ** 2": (lambda L, u: u**2, [0.0, -1.0, 2.0]),
    "x ** 3": (lambda L, u: u**3, [0.0, -1.0, 2.0]),
    "x ** -1": (lambda L, u: u**-1, [0.0, -0.0, -1.0, 2.0]),
    "x ** -0.5": (lambda L, u: u**-0.5, [0.0, 1.0, 4.0]),
    "x ** 2.5": (lambda L, u: u**2.5, [0.0, 1.0, -1.0]),
    "0 ** x": (lambda L, u: 0.0**u, [-2.0, -0.0, 0.0, 1.5]),
    "2 ** x": (lambda L, u: 2**u, [-2.0, 0.0, 1.5]),
    "logsumexp all -inf": (lambda L, u: u.logsumexp(0), [-math.inf, -math.inf]),
    "logsumexp with +inf": (lambda L, u: u.logsumexp(0), [math.inf, 1.0]),
    "softmax with -inf": (lambda L, u: u.softmax(0), [-math.inf, 1.0, 2.0]),
    "log_softmax with -inf": (lambda L, u: u.log_softmax(0), [-math.inf, 1.0, 2.0]),
    "var of one element": (lambda L, u: u.var(0), [[1.0, 2.0]]),
    "std of constant rows": (lambda L, u: u.std(1), [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]),
    "std of everything constant": (lambda L, u: u.std(), [3.0, 3.0]),
    "mean of x * 0 * inf": (lambda L, u: (u * math.inf).mean(), [0.0, 1.0]),
}


@pytest.mark.parametrize("name", list(KINKS))
def test_kinks_and_poles_match_torch(name):
    """Values and gradients at kinks, poles and outside domains: the same inf/nan patterns as torch."""
    fn, x = KINKS[name]
    run_both(fn, x)


@pytest.mark.parametrize("exponent", [[-1.0, 0.0, 0.5, 2.0], [0.0, 0.0, 0.0, 0.0]])
def test_pow_tensor_exponent_with_zero_base(exponent):
    """d(a**b)/db at a == 0 is 0 for b >= 0 and a**b ln a (= -inf) for b < 0; d/da masks b == 0."""
    run_both(lambda L, a, b: a**b, [0.0, 0.0, 0.0, 2.0], exponent)
    run_both(lambda L, a, b: L.pow(a, b), [[0.0], [-1.0]], exponent)


def test_second_order_at_kinks_and_ties():
    """create_graph through max ties, clamp, abs and relu at 0: the same second derivatives as torch."""
    x0 = np.array([[0.0, 1.0, 1.0], [-1.0, 2.0, 0.5]])
    progs = [
        lambda L, u: (u.max() * u).sum() + (u.abs() * u).sum(),
        lambda L, u: (u.clamp(0.0, 1.0) ** 2).sum() + u.max(1).values.pow(3).sum(),
        lambda L, u: L.maximum(u, u.flip(1) if L is torch else u[:, ::-1]).pow(2).sum(),
        lambda L, u: (u.relu() * u.sigmoid()).sum() + u.logsumexp(1).sum(),
    ]
    for prog in progs:
        um = mt.tensor(x0, requires_grad=True)
        ut = torch.tensor(x0, requires_grad=True)
        (gm,) = mt.autograd.grad(prog(mt, um), um, create_graph=True)
        (gt,) = torch.autograd.grad(prog(torch, ut), ut, create_graph=True)
        assert_same(gm, gt, "first order")
        (hm,) = mt.autograd.grad((gm * gm).sum(), um)
        (ht,) = torch.autograd.grad((gt * gt).sum(), ut)
        assert_same(hm, ht, "second order")


# --------------------------------------------------------------- dtypes
PROMOTION = {
    "int tensor + float scalar": lambda L: L.tensor([1, 2]) + 1.5,
    "float scalar * int tensor": lambda L: 2.0 * L.tensor([1, 2]),
    "int tensor + int scalar": lambda L: L.tensor([1, 2]) + 3,
    "int tensor + bool scalar": lambda L: L.tensor([1, 2]) + True,
    "int64 + float32": lambda L: L.tensor([1, 2]) + L.tensor([0.5, 1.5]),
    "int32 + float64 0-d": lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor(0.5, dtype=L.float64),
    "float32 + float64 0-d": lambda L: L.tensor([1.0, 2.0]) + L.tensor(0.5, dtype=L.float64),
    "float32 0-d + float64 0-d": lambda L: L.tensor(1.0) + L.tensor(0.5, dtype=L.float64),
    "float32 0-d + float64": lambda L: L.tensor(1.0) * L.tensor([0.5], dtype=L.float64),
    "int64 0-d + float32": lambda L: L.tensor(3) - L.tensor([0.5]),
    "float16 + float32 0-d": lambda L: L.tensor([1.0], dtype=L.float16) + L.tensor(0.5),
    "int32 + int64 0-d": lambda L: L.tensor([1], dtype=L.int32) + L.tensor(7),
    "uint8 + int8": lambda L: L.tensor([1], dtype=L.uint8) + L.tensor([-1], dtype=L.int8),
    "bool + int": lambda L: L.tensor([True, False]) + L.tensor([1, 2]),
    "bool + int scalar": lambda L: L.tensor([True, False]) + 1,
    "bool + float scalar": lambda L: L.tensor([True, False]) * 1.5,
    "bool * bool": lambda L: L.tensor([True, False]) * L.tensor([True, True]),
    "bool + bool scalar": lambda L: L.tensor([True, False]) + True,
    "int / int": lambda L: L.tensor([1, 3]) / L.tensor([2, 2]),
    "int / int scalar": lambda L: L.tensor([1, 3]) / 2,
    "int scalar / int": lambda L: 3 / L.tensor([1, 2]),
    "int32 / int32": lambda L: L.tensor([1], dtype=L.int32) / L.tensor([4], dtype=L.int32),
    "float64 / int": lambda L: L.tensor([1.0], dtype=L.float64) / L.tensor([4]),
    "bool / bool": lambda L: L.tensor([True]) / L.tensor([True]),
    "int ** int scalar": lambda L: L.tensor([1, 3]) ** 2,
    "int ** float scalar": lambda L: L.tensor([1, 4]) ** 0.5,
    "int scalar ** int": lambda L: 2 ** L.tensor([1, 3]),
    "float scalar ** int": lambda L: 2.0 ** L.tensor([1, 3]),
    "exp of int": lambda L: L.tensor([0, 1]).exp(),
    "sigmoid of int": lambda L: L.tensor([0, 1]).sigmoid(),
    "abs of int": lambda L: L.tensor([-3, 1]).abs(),
    "relu of int": lambda L: L.tensor([-3, 1]).relu(),
    "sum of int": lambda L: L.tensor([-3, 1]).sum(),
    "sum of bool": lambda L: L.tensor([True, True, False]).sum(),
    "max of int": lambda L: L.tensor([-3, 1]).max(),
    "int clamp float": lambda L: L.tensor([-3, 1]).clamp(0.5),
    "int clamp int": lambda L: L.tensor([-3, 1]).clamp(0),
    "maximum(int, float)": lambda L: L.maximum(L.tensor([-3, 1]), L.tensor([0.5, 0.5])),
    "where(int, float)": lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), L.tensor([0.5, 1.5])),
    "where(int, float scalar)": lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0.5),
    "where(float64, float scalar)": lambda L: L.where(
        L.tensor([True, False]), L.tensor([1.0, 2.0], dtype=L.float64), 0.5
    ),
    "cat(int, float)": lambda L: L.cat([L.tensor([1, 2]), L.tensor([0.5])]),
    "stack(float32, float64)": lambda L: L.stack([L.tensor([1.0]), L.tensor([0.5], dtype=L.float64)]),
    "float32 + numpy float64 scalar": lambda L: L.tensor([1.0]) + np.float64(0.5),
    "tensor of Python floats": lambda L: L.tensor([1.0, 2.5]),
    "tensor of Python ints and floats": lambda L: L.tensor([1, 2.5]),
    "tensor of Python ints": lambda L: L.tensor([[1, 2]]),
    "tensor of Python bools": lambda L: L.tensor([True, False]),
    "tensor of a float64 array": lambda L: L.tensor(np.array([1.0, 2.0])),
    "tensor of an int32 array": lambda L: L.tensor(np.array([1, 2], dtype=np.int32)),
    "comparison": lambda L: L.tensor([1.0, 2.0]) > 1.5,
}


@pytest.mark.parametrize("name", list(PROMOTION))
def test_dtype_promotion_matches_torch(name):
    fn = PROMOTION[name]
    m, t = fn(mt), fn(torch)
    assert str(m.dtype) == str(t.dtype).removeprefix("torch."), name
    np.testing.assert_allclose(m.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-6)
    assert m.shape == tuple(t.shape)


def test_float_leaves_keep_their_dtype_through_ops_and_gradients():
    for dtype in ("float32", "float64"):
        um = mt.tensor([0.5, 1.5], dtype=getattr(mt, dtype), requires_grad=True)
        ut = torch.tensor([0.5, 1.5], dtype=getattr(torch, dtype), requires_grad=True)
        om = (um * 2 + 1.5).exp().sum() / 3
        ot = (ut * 2 + 1.5).exp().sum() / 3
        om.backward()
        ot.backward()
        assert str(om.dtype) == str(ot.dtype).removeprefix("torch.") == dtype
        assert str(um.grad.dtype) == dtype
        np.testing.assert_allclose(
            um.grad.numpy(), ut.grad.numpy(), rtol=1e-6 if dtype == "float32" else 1e-13
        )


# ----------------------------------------------------------------- repr
REPRS = {
    "integral floats": lambda L: L.tensor([1.0, 2.0, 3.0]),
    "4 decimals": lambda L: L.tensor([1.5, 2.25, -3.0]),
    "matrix": lambda L: L.tensor([[1.5, 2.25], [-3.0, 4.0]]),
    "rounded": lambda L: L.tensor([1 / 3, 2 / 3]),
    "scientific": lambda L: L.tensor([1e-5, 1.0]),
    "large": lambda L: L.tensor([123456.789, 1.0]),
    "integral, range over 1000": lambda L: L.tensor([[1.0, 2000.0], [0.0, -3.0]]),
    "integral, over 1e8": lambda L: L.tensor([1e10, 1.0]),
    "integral, range 1000": lambda L: L.tensor([1.0, 1000.0]),
    "0-d float": lambda L: L.tensor(2.5),
    "0-d int": lambda L: L.tensor(3),
    "ints": lambda L: L.tensor([[1, 2], [30, 4]]),
    "bools": lambda L: L.tensor([True, False]),
    "nan and inf": lambda L: L.tensor([math.nan, math.inf, 1.5]),
    "float64": lambda L: L.tensor([1.0, 2.5], dtype=L.float64),
    "int32": lambda L: L.tensor([1, 2], dtype=L.int32),
    "empty": lambda L: L.tensor([]),
    "empty 2-d": lambda L: L.zeros(2, 0),
    "requires grad": lambda L: L.tensor([1.0, 2.0], requires_grad=True),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    fn = REPRS[name]
    assert repr(fn(mt)) == repr(fn(torch)).replace("torch.", "microtensor.")


def test_repr_of_a_result_names_its_grad_fn_like_torch():
    """grad_fn names differ only by torch's overload suffix (MulBackward0 vs MulBackward)."""
    x_m, x_t = mt.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for f in (lambda u: u * 2, lambda u: u.sum(), lambda u: u.exp()):
        rm, rt = repr(f(x_m)), repr(f(x_t))
        assert rm.split(", grad_fn=")[0] == rt.split(", grad_fn=")[0]
        name_m = rm.split("grad_fn=<")[1].rstrip(">)")
        name_t = rt.split("grad_fn=<")[1].rstrip(">)")
        assert name_t.rstrip("0123456789") == name_m
