"""Higher-level autograd: Jacobians, Hessians and their products with vectors.

As `torch.autograd.functional`: each function takes `func` (Tensors in, a Tensor
or a tuple of Tensors out) and `inputs` (a Tensor or a tuple of Tensors), runs
`func` on copies of the inputs that require grad, and differentiates it with
`autograd.grad`. With `create_graph=False` the results are detached; with
`create_graph=True` they stay differentiable with respect to the original inputs.
With `strict=True` an output that does not depend on an input raises; otherwise
its derivative is zeros.

    def f(x):
        return (x ** 3).sum()
    x = mt.tensor([1.0, 2.0])
    hessian(f, x)            # tensor([[ 6.,  0.], [ 0., 12.]])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from . import grad as _grad

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was it a tuple?, the Tensors as a tuple), checking every element is a Tensor."""
    is_tuple = isinstance(x, tuple | list)
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{arg}[{i}]" if is_tuple else arg
            raise TypeError(f"{fn}: the {where} given must be a Tensor, got {type(t).__name__}")
    return is_tuple, items


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs func is run on: leaves requiring grad, or (create_graph) differentiable copies."""
    if create_graph:
        return tuple(x if x.requires_grad else x.detach().requires_grad_() for x in inputs)
    return tuple(x.detach().requires_grad_() for x in inputs)


def _finish(ts, create_graph: bool):
    """Detach results unless the caller wants to differentiate them further."""
    if create_graph:
        return ts
    return tuple(None if t is None else t.detach() for t in ts)


def _validate_v(v, outputs: tuple[Tensor, ...], what: str, fn: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                f"{fn}: the vector v can only be None if the {what} is a single Tensor with a single "
                f"element; got shapes {[tuple(o.shape) for o in outputs]}"
            )
        return (Tensor._wrap(outputs[0]._data * 0 + 1),)
    _, vs = _as_tuple(v, "v", fn)
    if len(vs) != len(outputs):
        raise RuntimeError(f"{fn}: v has {len(vs)} elements but the {what} has {len(outputs)}")
    for i, (a, b) in enumerate(zip(vs, outputs)):
        if a.shape != b.shape:
            raise RuntimeError(
                f"{fn}: entry {i} of v has shape {tuple(a.shape)}, the {what}'s entry has shape "
                f"{tuple(b.shape)}; they must match"
            )
    return vs


def _grads(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, fn: str, what: str):
    """d(outputs)/d(inputs) · grad_outputs, zeros (or an error when strict) for unrelated inputs."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        os_, gs = zip(*pairs)
        res = _grad(os_, inputs, gs, retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    out = []
    for i, (r, x) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(
                    f"{fn}: the output of the user-provided function is independent of input {i}. "
                    f"This is not allowed in strict mode ({what})."
                )
            r = Tensor._wrap(x._data * 0)
        out.append(r)
    return tuple(out)


def _call(func: Callable, inputs: tuple[Tensor, ...], fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    return _as_tuple(func(*inputs), "outputs of the user-provided function", fn)


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product at inputs.

    v has the shape of func's output (may be None for a one-element output); the product has
    the shape of inputs (a tuple when inputs is a tuple).

        vjp(lambda x: x ** 2, mt.tensor([1.0, 2.0]), mt.tensor([1.0, 1.0]))
        # (tensor([1., 4.]), tensor([2., 4.]))
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    vs = _validate_v(v, outs, "output of the user-provided function", "vjp")
    res = _grads(outs, xs, vs, create_graph, strict, "vjp", "vjp")
    outs, res = _finish(outs, create_graph), _finish(res, create_graph)
    return (outs if out_tuple else outs[0]), (res if in_tuple else res[0])


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J·v): the Jacobian-vector product at inputs (v has the shape of inputs).

    Computed by the double-backward trick: the vjp u ↦ uᵀJ is linear in u, so differentiating
    it with respect to u in the direction v gives J·v.

        jvp(lambda x: x ** 2, mt.tensor([1.0, 2.0]), mt.tensor([1.0, 0.0]))
        # (tensor([1., 4.]), tensor([2., 0.]))
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _validate_v(v, xs, "input", "jvp")
    out_tuple, outs = _call(func, xs, "jvp")
    dummies = tuple(Tensor._wrap(o._data * 0).requires_grad_() for o in outs)
    g = _grads(outs, xs, dummies, True, strict, "jvp", "jvp")
    used = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
    if used:
        gs, vv = zip(*used)
        res = _grad(gs, dummies, vv, retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        res = (None,) * len(outs)
    res = tuple(Tensor._wrap(o._data * 0) if r is None else r for r, o in zip(res, outs))
    outs, res = _finish(outs, create_graph), _finish(res, create_graph)
    return (outs if out_tuple else outs[0]), (res if out_tuple else res[0])


def jacobian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
):
    """The Jacobian of func at inputs: one backward pass per output element.

    For one input and one output, a Tensor of shape output.shape + input.shape; for tuples,
    a tuple (over outputs) of tuples (over inputs) of such blocks, as PyTorch nests them.
    `vectorize` and `strategy="forward-mode"` only change how PyTorch computes it; the result
    is the same.

        jacobian(lambda x: x ** 2, mt.tensor([1.0, 2.0]))   # tensor([[2., 0.], [0., 4.]])
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            f'jacobian: expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}'
        )
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    from .. import stack  # late: the top-level package imports this module

    blocks = []
    for o in outs:
        rows = [[] for _ in xs]
        flat = o.reshape(-1)
        for j in range(flat.numel()):
            onehot = np.zeros_like(flat._data)  # a new array: the one-hot seed of output element j
            onehot[j] = 1
            seed = Tensor._wrap(onehot)
            gs = _grads((flat,), xs, (seed,), create_graph, strict, "jacobian", "jacobian")
            for k, g in enumerate(gs):
                rows[k].append(g)
        per_input = []
        for k, x in enumerate(xs):
            if rows[k]:
                block = stack(rows[k]).reshape(tuple(o.shape) + tuple(x.shape))
            else:  # an empty output: an empty Jacobian
                block = Tensor._wrap(x._data.reshape(-1)[:0].reshape(tuple(o.shape) + tuple(x.shape)))
            per_input.append(block if create_graph else block.detach())
        blocks.append(tuple(per_input) if in_tuple else per_input[0])
    return tuple(blocks) if out_tuple else blocks[0]


def hessian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
):
    """The Hessian of a scalar func at inputs: shape input.shape + input.shape.

    For a tuple of inputs, a tuple of tuples: entry [i][j] holds ∂²f/∂xᵢ∂xⱼ.

        hessian(lambda x: (x ** 3).sum(), mt.tensor([1.0, 2.0]))   # tensor([[ 6., 0.], [ 0., 12.]])
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def first_derivative(*args):
        out_tuple, outs = _call(func, args, "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(
                "hessian: the function given to hessian should return a single Tensor with one element, "
                f"got {'a tuple' if out_tuple else f'shape {tuple(outs[0].shape)}'}"
            )
        gs = _grads(outs, args, (Tensor._wrap(outs[0]._data * 0 + 1),), True, strict, "hessian", "hessian")
        return gs

    res = jacobian(first_derivative, tuple(xs), create_graph=create_graph, strict=strict)
    if not in_tuple:
        return res[0][0]
    return res


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), vᵀ·H): the vector-Hessian product of a scalar func at inputs (v: inputs' shape).

    vhp(lambda x: (x ** 3).sum(), mt.tensor([1.0, 2.0]), mt.tensor([1.0, 1.0]))
    # (tensor(9.), tensor([ 6., 12.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H·v): the Hessian-vector product (equal to vhp, as the Hessian is symmetric).

    hvp(lambda x: (x ** 3).sum(), mt.tensor([1.0, 2.0]), mt.tensor([1.0, 0.0]))
    # (tensor(9.), tensor([6., 0.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn):
    in_tuple, xs = _as_tuple(inputs, "inputs", fn)
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, fn)
    if out_tuple or outs[0].numel() != 1:
        raise RuntimeError(
            f"{fn}: the function given to {fn} should return a single Tensor with one element, got "
            f"{'a tuple' if out_tuple else f'shape {tuple(outs[0].shape)}'}"
        )
    vs = _validate_v(v, xs, "input", fn)
    one = (Tensor._wrap(outs[0]._data * 0 + 1),)
    g = _grads(outs, xs, one, True, strict, fn, fn)
    used = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
    if used:
        gs, vv = zip(*used)
        res = _grads(gs, xs, vv, create_graph, strict, fn, fn)
    else:
        if strict:
            raise RuntimeError(
                f"{fn}: the output of the user-provided function is independent of the inputs (strict mode)"
            )
        res = tuple(Tensor._wrap(x._data * 0) for x in xs)
    outs, res = _finish(outs, create_graph), _finish(res, create_graph)
    return outs[0], (res if in_tuple else res[0])
