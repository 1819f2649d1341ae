"""Views and in-place ops against PyTorch: random short programs, run in both, must agree.

Hypothesis draws a program over a pool of non-leaf tensors: views of pool tensors (slices, integer
indices, transpose/permute/t/mT, reshape/view, squeeze/unsqueeze, expand, detach, views of views)
and in-place ops on them (add_, mul_, copy_, zero_, fill_, clamp_, x[i] = v, +=), with operands
that are numbers, fresh tensors computed from a leaf, or other pool tensors (aliasing the storage
being written); a few steps run under no_grad. The same program runs step by step in PyTorch and
in microtensor: a step PyTorch refuses must be refused (with the same reason), every pool tensor
must end with PyTorch's values, and a weighted sum of them must backpropagate to PyTorch's leaf
gradients (or be refused when PyTorch refuses it).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, note, reject, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import microtensor as mt  # noqa: E402

# Why PyTorch refuses a step, as a phrase both libraries' messages contain (lowercased).
REASONS = (
    "a view of a leaf variable that requires grad",
    "more than one element of the written-to tensor",
    "created in no_grad mode",
    "modified by an inplace operation",
    "a leaf variable that requires grad",
)


def _reason(err: Exception) -> str:
    msg = str(err).lower()
    return next((r for r in REASONS if r in msg), f"other: {type(err).__name__}")


class _Side:
    """One library's copy of the program state: the leaves and the pool of tensors."""

    def __init__(self, lib, a: np.ndarray, k: np.ndarray):
        self.lib = lib
        self.a = lib.tensor(a, requires_grad=True)
        self.k = lib.tensor(k, requires_grad=True)
        self.pool = [self.a * 1, self.k * 2]

    def operand(self, kind, shape, scale: float):
        """A number, or a fresh tensor of `shape` made from the leaf k (new history each time)."""
        if kind == "number":
            return scale
        n = int(np.prod(shape, dtype=np.int64))
        return (self.k.reshape(-1)[:n] * scale).reshape(shape) if n else self.k.reshape(-1)[:0].reshape(shape)


def _view(lib_t, spec):
    kind, arg = spec
    if kind == "slice":
        dim, start, stop = arg
        return lib_t[(slice(None),) * dim + (slice(start, stop),)]
    if kind == "int":
        dim, i = arg
        return lib_t[(slice(None),) * dim + (i,)]
    if kind == "transpose":
        return lib_t.transpose(*arg)
    if kind == "permute":
        return lib_t.permute(*arg)
    if kind == "t":
        return lib_t.t()
    if kind == "mT":
        return lib_t.mT
    if kind == "T":
        return lib_t.T
    if kind == "reshape":
        return lib_t.reshape(arg)
    if kind == "view":
        return lib_t.view(arg)
    if kind == "unsqueeze":
        return lib_t.unsqueeze(arg)
    if kind == "squeeze":
        return lib_t.squeeze(arg)
    if kind == "expand":
        return lib_t.unsqueeze(0).expand(arg, *lib_t.shape)
    if kind == "detach":
        return lib_t.detach()
    raise AssertionError(kind)


def _draw_view(data, shape: tuple[int, ...], contiguous: bool):
    # Only view ops that change the shape or the layout: microtensor returns the tensor itself for
    # an identity reshape/permute/transpose/t() (PyTorch a new view of it), which no program here
    # can tell apart except by a view made under no_grad or of a leaf being refused for a different
    # reason than the tensor itself.
    nd = len(shape)
    kinds = ["unsqueeze", "detach", "expand"]
    if nd:
        kinds += ["slice", "int"]
        if 1 in shape:
            kinds.append("squeeze")
    if nd >= 2:
        kinds += ["transpose", "permute", "reshape", "mT"] + (["view"] if contiguous else [])
    if nd == 2:
        kinds += ["t", "T"]
    kind = data.draw(st.sampled_from(kinds), label="view")
    if kind == "slice":
        dim = data.draw(st.integers(0, nd - 1))
        n = shape[dim]
        start = data.draw(st.integers(0, n))
        return kind, (dim, start, data.draw(st.integers(start, n)))
    if kind == "int":
        dim = data.draw(st.sampled_from([d for d in range(nd) if shape[d]] or [None]))
        if dim is None:
            return "detach", None
        return kind, (dim, data.draw(st.integers(-shape[dim], shape[dim] - 1)))
    if kind == "transpose":
        d0 = data.draw(st.integers(-nd, nd - 1))
        return kind, (d0, data.draw(st.integers(-nd, nd - 1).filter(lambda d: d % nd != d0 % nd)))
    if kind == "permute":
        return kind, tuple(data.draw(st.permutations(range(nd)).filter(lambda p: p != list(range(nd)))))
    if kind in ("reshape", "view"):
        return kind, (-1,)
    if kind == "unsqueeze":
        return kind, data.draw(st.integers(-nd - 1, nd))
    if kind == "squeeze":
        return kind, data.draw(st.sampled_from([d for d in range(nd) if shape[d] == 1]))
    if kind == "expand":
        return kind, data.draw(st.integers(1, 2))
    return kind, None


INPLACE = ["add_", "mul_", "copy_", "zero_", "fill_", "clamp_", "setitem", "iadd"]


def _draw_inplace(data, shapes: list[tuple[int, ...]], target: int):
    shape = shapes[target]
    op = data.draw(st.sampled_from(INPLACE), label="inplace")
    scale = data.draw(st.sampled_from([-1.5, 0.5, 2.0]))
    same = [i for i, s in enumerate(shapes) if s == shape]
    if op in ("zero_",):
        return op, None
    if op == "fill_":
        return op, ("number", scale)
    if op == "clamp_":
        return op, (
            data.draw(st.sampled_from([None, -1.0, 0.0])),
            data.draw(st.sampled_from([None, 1.0, 2.5])),
        )
    if op == "setitem":
        if not shape or shape[0] == 0:
            return op, ((), ("number", None, scale))
        i = data.draw(st.integers(0, shape[0] - 1))
        index = data.draw(st.sampled_from([i, slice(i, None), slice(None, i + 1)]))
        sub = np.empty(shape)[index].shape
        kind = data.draw(st.sampled_from(["number", "fresh"]))
        return op, (index, (kind, sub, scale))
    if op == "copy_":  # (x.copy_(x) is a no-op PyTorch records, then refuses to backward on expanded x)
        same.remove(target)
    kinds = (["number", "fresh"] if op != "copy_" else ["fresh"]) + (["pool"] if same else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "pool":  # another pool tensor of the same shape: often a view of the same storage
        return op, ("pool", data.draw(st.sampled_from(same)), scale)
    return op, (kind, shape, scale)


def _apply_inplace(side: _Side, target: int, op: str, arg):
    t = side.pool[target]
    if op == "zero_":
        t.zero_()
    elif op == "fill_":
        t.fill_(arg[1])
    elif op == "clamp_":
        t.clamp_(*arg)
    elif op == "setitem":
        index, (kind, sub, scale) = arg
        t[index] = side.operand(kind, sub, scale)
    else:
        kind, what, scale = arg
        other = side.pool[what] if kind == "pool" else side.operand(kind, what, scale)
        if op == "iadd":
            t += other
        else:
            getattr(t, op)(other)


def _run_step(side: _Side, step) -> str | None:
    """Run one step; the reason if the library refused it (then the program stops)."""
    kind, no_grad, payload = step
    ctx = side.lib.no_grad() if no_grad else _nullcontext()
    try:
        with ctx:
            if kind == "view":
                src, spec = payload
                side.pool.append(_view(side.pool[src], spec))
            else:
                target, op, arg = payload
                _apply_inplace(side, target, op, arg)
    except RuntimeError as e:
        return _reason(e)
    return None


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _finish(side: _Side, weights: list[np.ndarray]):
    """The pool's values and the leaves' gradients of the weighted sum of the pool tensors that are
    in the graph, or why the library refused to backpropagate it."""
    values = [np.array(t.detach().numpy(), dtype=np.float64) for t in side.pool]
    terms = [(t * side.lib.tensor(w)).sum() for t, w in zip(side.pool, weights) if t.grad_fn is not None]
    if not terms:
        return values, None, [np.zeros((3, 4)), np.zeros((3, 4))]
    loss = terms[0]
    for term in terms[1:]:
        loss = loss + term
    try:
        loss.backward()
    except RuntimeError as e:
        return values, _reason(e), None
    grads = [
        np.zeros(leaf.shape) if leaf.grad is None else np.array(leaf.grad.numpy(), dtype=np.float64)
        for leaf in (side.a, side.k)
    ]
    return values, None, grads


def _replay_loss(a: np.ndarray, k: np.ndarray, steps, in_loss: list[bool], weights) -> float:
    """The weighted sum of the chosen pool tensors after running the steps in microtensor."""
    side = _Side(mt, a, k)
    for step in steps:
        assert _run_step(side, step) is None
    return sum(
        float((t.detach().numpy() * w).sum()) for t, w, keep in zip(side.pool, weights, in_loss) if keep
    )


@settings(max_examples=4 * settings.default.max_examples)  # each program is a few small ops
@given(st.data())
def test_views_and_inplace_ops_match_pytorch(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    a = rng.normal(size=(3, 4))
    k = rng.normal(size=(3, 4))
    tside, mside = _Side(torch, a, k), _Side(mt, a, k)
    made_in_no_grad = [False, False]
    detached = [False, False]  # made by detach() (or a view of such): shares storage, not history
    # Writes after which microtensor may refuse a backward that PyTorch allows (see the end):
    # a write no graph recorded (under no_grad, through detach(), to a tensor off the graph), or a
    # write to storage that an earlier recorded op read (an in-place op's operand, a copying reshape).
    unrecorded_write = False
    operand_storages: set[int] = set()
    steps = []
    fully_recorded = True  # no step under no_grad, no write through detach()
    n_steps = data.draw(st.integers(1, 7), label="steps")
    for _ in range(n_steps):
        shapes = [tuple(t.shape) for t in tside.pool]
        no_grad = data.draw(st.sampled_from([False] * 5 + [True]), label="under no_grad")
        if data.draw(st.booleans(), label="make a view") or len(tside.pool) < 3:
            src = data.draw(st.integers(0, len(shapes) - 1))
            step = ("view", no_grad, (src, _draw_view(data, shapes[src], tside.pool[src].is_contiguous())))
        else:
            target = data.draw(st.integers(0, len(shapes) - 1))
            op, arg = _draw_inplace(data, shapes, target)
            step = ("inplace", no_grad, (target, op, arg))
        note(f"step {step}")
        steps.append(step)
        if step[0] == "inplace":
            fully_recorded = fully_recorded and not no_grad and not detached[step[2][0]]
        t_refused, m_refused = _run_step(tside, step), _run_step(mside, step)
        assert m_refused == t_refused, f"step {step}: PyTorch {t_refused!r}, microtensor {m_refused!r}"
        if t_refused:
            return
        if step[0] == "view":
            src, (kind, _) = step[2]
            source_storage = tside.pool[src].untyped_storage().data_ptr()
            if tside.pool[-1].untyped_storage().data_ptr() != source_storage:  # reshape copied
                operand_storages.add(source_storage)
            made_in_no_grad.append(no_grad or made_in_no_grad[src])
            detached.append(kind == "detach" or detached[src])
        else:
            target, _, arg = step[2]
            storage = tside.pool[target].untyped_storage().data_ptr()
            if no_grad or detached[target] or tside.pool[target].grad_fn is None:
                unrecorded_write = True
            if storage in operand_storages:
                unrecorded_write = True
            if isinstance(arg, tuple) and arg and arg[0] == "pool":
                operand_storages.add(tside.pool[arg[1]].untyped_storage().data_ptr())
    weights = [rng.normal(size=tuple(t.shape)) for t in tside.pool]
    try:
        t_values, t_refused, t_grads = _finish(tside, weights)
    except RuntimeError as e:
        # PyTorch refuses any use of a view made under no_grad once its base was modified in place
        # under grad mode (it checks whenever the view's grad_fn is read); microtensor does not
        # track this (such a view simply stays out of the graph): not compared
        assert "created in no_grad mode" in str(e).lower()
        reject()
    m_values, m_refused, m_grads = _finish(mside, weights)
    for i, (tv, mv) in enumerate(zip(t_values, m_values)):
        np.testing.assert_allclose(mv, tv, rtol=1e-12, atol=1e-12, err_msg=f"pool tensor {i}")
    for i, (tt, mt_, ng) in enumerate(zip(tside.pool, mside.pool, made_in_no_grad)):
        # (a view made under no_grad of a tensor that requires grad reports requires_grad=True in
        # PyTorch, though it is outside the graph; microtensor reports False)
        if not ng:
            assert mt_.requires_grad == tt.requires_grad, f"requires_grad of pool tensor {i}"
            assert (mt_.grad_fn is None) == (tt.grad_fn is None), f"grad_fn of pool tensor {i}"
    if t_refused is None and m_refused == "modified by an inplace operation" and unrecorded_write:
        # microtensor's engine checks the version of every input and output of a node, not only of
        # the tensors the node saved (its graph's edges lead to tensors, whose history an in-place op
        # replaces): after such writes it may refuse a backward that PyTorch allows (never the other
        # way round: a backward PyTorch refuses is always refused)
        note("microtensor refused conservatively")
        return
    permissive = ("modified by an inplace operation", "more than one element of the written-to tensor")
    if t_refused in permissive and m_refused is None and fully_recorded:
        # PyTorch refuses because a tensor an in-place op saved was overwritten later; microtensor's
        # in-place ops read a copy of the values they overwrite (and of operands aliasing them), so
        # it can differentiate such programs: its gradients must then be the derivative of the
        # program, checked by central differences (every step was recorded: no detach, no no_grad).
        # Likewise PyTorch records fill_/zero_ of an expanded view but then refuses its backward.
        note("PyTorch refused, microtensor differentiated: checked by finite differences")
        in_loss = [t.grad_fn is not None for t in mside.pool]
        for name, mg in zip("ak", m_grads):
            fd = np.zeros((3, 4))
            for idx in np.ndindex(3, 4):
                plus, minus = a.copy(), a.copy()
                if name == "k":
                    plus, minus = k.copy(), k.copy()
                plus[idx] += 1e-6
                minus[idx] -= 1e-6
                args = ((plus, k), (minus, k)) if name == "a" else ((a, plus), (a, minus))
                fd[idx] = (
                    _replay_loss(*args[0], steps, in_loss, weights)
                    - _replay_loss(*args[1], steps, in_loss, weights)
                ) / 2e-6
            np.testing.assert_allclose(mg, fd, rtol=1e-6, atol=1e-6, err_msg=f"grad of leaf {name}")
        return
    assert m_refused == t_refused, f"backward: PyTorch {t_refused!r}, microtensor {m_refused!r}"
    if t_grads is not None:
        for name, tg, mg in zip("ak", t_grads, m_grads):
            np.testing.assert_allclose(mg, tg, rtol=1e-10, atol=1e-12, err_msg=f"grad of leaf {name}")
