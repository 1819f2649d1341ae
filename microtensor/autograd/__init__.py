"""The backward engine, gradient mode, `grad`, user-defined `Function`s and `gradcheck`
(and, in `autograd.functional`, Jacobians, Hessians and their products with vectors).

backward() visits each tensor after all the tensors computed from it, latest
recorded op first (a heap keyed by the op's recording number: one pass, no
recursion, so a 100,000-op chain is fine), calling its op's compiled derivatives
(`Op._vjp`, see ops/base.py) with the summed incoming gradient, for the inputs that need one.
The engine owns each edge: it sums every gradient down to its input's shape (un-broadcasting)
and casts it to the input's dtype. On the fast path gradients are NumPy arrays; with
create_graph=True they are Tensors and the derivative expressions themselves are recorded.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import warnings
import weakref
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .._anomaly import anomaly_backward
from .._grad_mode import _EPOCH
from .._grad_mode import anomaly as _anomaly
from .._grad_mode import mode as _mode
from .._quiet import call_loudly, quiet_region
from ..tensor import _VC_KEEP, Tensor, _wrap


# ---------------------------------------------------------------- grad mode
def is_grad_enabled() -> bool:
    """Whether ops record the graph (per thread, like PyTorch)."""
    return _mode.enabled


def _set_enabled(flag: bool) -> None:
    _mode.enabled = flag


class _GradMode:
    """Context manager and decorator (`@no_grad()` or bare `@no_grad`) that sets grad mode."""

    _flag = True

    def __new__(cls, fn: Callable | None = None):
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _set_enabled(self._flag)

    def __exit__(self, *exc) -> None:
        _set_enabled(self._prev)

    def __call__(self, fn: Callable) -> Callable:
        return _decorate(fn, type(self))


def _decorate(fn: Callable, make_context: Callable) -> Callable:
    """Run fn under a fresh `make_context()`; for a generator function, run each step of its body
    under it (grad mode is the decorator's while the body runs, the caller's between yields)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            # drive the inner generator by hand so each resumption (next/send/throw/close) is
            # wrapped, not the whole lifetime: the caller's code between yields keeps its own mode
            step, value = gen.send, None
            while True:
                try:
                    with make_context():
                        out = step(value)
                except StopIteration as stop:
                    return stop.value
                try:
                    value = yield out
                    step = gen.send
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException as e:  # thrown in by the caller: deliver it to the body
                    step, value = gen.throw, e

        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


class no_grad(_GradMode):
    """Disable graph recording: `with mt.no_grad(): ...` or `@mt.no_grad()`."""

    _flag = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a no_grad block."""

    _flag = True


class set_grad_enabled(_GradMode):
    """Set grad mode now (as a function) or for a block (as a context manager)."""

    def __new__(cls, mode: bool):
        return object.__new__(cls)

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._flag = bool(mode)
        _set_enabled(self._flag)

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        _set_enabled(self._prev)  # as a decorator it changes nothing until fn runs
        flag = self._flag
        return _decorate(fn, lambda: set_grad_enabled(flag))


class _VariableType(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data must be a Tensor, got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad) if requires_grad else data.detach()


class Variable(metaclass=_VariableType):
    """The pre-2018 wrapper `Variable(tensor, requires_grad=True)`, which PyTorch merged into
    Tensor: it returns the tensor's data as a Tensor (requiring grad if asked); every Tensor is
    a Variable.

        w = mt.autograd.Variable(mt.zeros(3), requires_grad=True)   # as mt.zeros(3, requires_grad=True)
    """


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside inference_mode."""
    return _mode.inference


class inference_mode(_GradMode):
    """no_grad for code that only evaluates: `with mt.inference_mode():`, `@mt.inference_mode()`
    or bare `@mt.inference_mode`; inference_mode(False) leaves the modes as they are.

    As torch.inference_mode, nothing inside records a graph. PyTorch also marks the tensors made
    inside as inference tensors, which autograd later refuses to save; here they are ordinary
    tensors, so every program PyTorch runs computes the same values here.

        with mt.inference_mode():
            predictions = model(x).argmax(1)
    """

    def __new__(cls, mode: bool | Callable = True):
        self = object.__new__(cls)
        if callable(mode):  # bare @inference_mode
            self._on = True
            return self(mode)
        return self

    def __init__(self, mode: bool = True):
        self._on = bool(mode)

    def __enter__(self) -> None:
        self._prev, self._prev_inference = is_grad_enabled(), _mode.inference
        if self._on:
            _set_enabled(False)
            _mode.inference = True

    def __exit__(self, *exc) -> None:
        _set_enabled(self._prev)
        _mode.inference = self._prev_inference

    def __call__(self, fn: Callable) -> Callable:
        on = self._on
        return _decorate(fn, lambda: inference_mode(on))


# ------------------------------------------------------------- anomaly mode
def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on (see detect_anomaly)."""
    return _anomaly.enabled


class detect_anomaly:
    """Context manager (or decorator) for anomaly mode, as torch.autograd.detect_anomaly.

    While it is on, an op whose forward produces NaN or Inf from finite inputs, or whose backward
    returns a NaN or Inf gradient, raises RuntimeError naming the op and the user's code that created
    it (captured at record time, so ops run slower). Off, it costs one flag check per op.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)

    def __enter__(self) -> None:
        self._prev = _anomaly.enabled
        _anomaly.enabled = self.check_nan

    def __exit__(self, *exc) -> None:
        _anomaly.enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly mode on or off now (as a function) or for a block (as a context manager)."""

    def __init__(self, mode: bool):
        self._prev = _anomaly.enabled
        _anomaly.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _anomaly.enabled = self._prev


# ------------------------------------------------------------------- engine
_FREED = (
    "backward: trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph are "
    "freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
    "to backward through the graph a second time."
)


def _topo_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Tensors reachable from roots through ops that need grad, inputs before outputs.

    Leaves first, then the computed tensors in recording order (`Op.seq`): the reverse of the
    order in which backward() visits them.
    """
    leaves: list[Tensor] = []
    found: dict[int, Tensor] = {}  # seq -> tensor
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = t.grad_fn
        if node is None:
            leaves.append(t)
            continue
        if node.inputs is None:
            raise RuntimeError(_FREED)
        found[node.seq] = t
        stack += [x for x, need in zip(node.inputs, node.needs) if need]
    return leaves + [found[s] for s in sorted(found)]


def _check_versions(node, t: Tensor, inputs) -> tuple:
    """The inputs to send gradients to; raise if backward needs one that changed since node ran."""
    epoch = node.epoch
    read = node.read_by_backward()
    for i in range(-1, len(inputs)):
        x = t if i < 0 else inputs[i]
        vc = x._vc if isinstance(x, Tensor) else None
        if vc is None or len(vc) == 1 or vc[-1] <= epoch:
            continue
        # A changed value matters only where backward reads it (PyTorch checks only saved tensors);
        # but an input whose history an in-place op replaced since would route the gradient through
        # the new history, so that too is refused (PyTorch's edges keep the old history).
        replaced = i >= 0 and x.grad_fn is not None and x.grad_fn.seq > node.seq
        if replaced and i not in read:
            old = _earlier_history(x, node)
            if old is not None:  # route the gradient to the history node saw
                inputs = (*inputs[:i], old, *inputs[i + 1 :])
                continue
        if replaced or i in read:
            after = len(vc) - bisect.bisect_right(vc, epoch, 1)  # in-place ops since the record
            expected = f"{vc[0] - after}" + (" or earlier" if after == _VC_KEEP else "")
            what = "its output" if i < 0 else f"its input {i}"
            raise RuntimeError(
                f"{node.name()}: one of the variables needed for gradient computation has been "
                f"modified by an inplace operation: [{x.dtype} {tuple(x.shape)}] ({what}) is at "
                f"version {vc[0]}; expected version {expected} instead. Hint: find the in-place "
                "op (add_, mul_, x[i] = ..., +=, ...) applied to it after it was used, and make it "
                "out of place (x = x + y) or apply it to a clone()."
            )
    return inputs


def _depending(node, grads: tuple, g: Tensor, t: Tensor, xs) -> tuple:
    """Under create_graph: each gradient as a function of what the rule read (see _DependsOn)."""
    if all(gx is None or (isinstance(gx, Tensor) and gx._requires_grad) for gx in grads):
        return grads
    deps = [g] + [t if i < 0 else xs[i] for i in node.read_by_backward()]
    deps = [d for d in deps if isinstance(d, Tensor) and d._requires_grad]
    if not deps:
        return grads
    from ..ops.elementwise import depends_on

    out = []
    for gx in grads:
        if gx is not None and not (isinstance(gx, Tensor) and gx._requires_grad):
            gx = depends_on(gx if isinstance(gx, Tensor) else Tensor._wrap(np.asarray(gx)), deps, node.name())
        out.append(gx)
    return tuple(out)


def _earlier_history(x: Tensor, node) -> Tensor | None:
    """x as node saw it (its values and history then), if an in-place op has since replaced them."""
    replaced = x._meta.get("replaced") if x._meta is not None else None
    for epoch, ref in replaced or ():
        if epoch > node.epoch:  # the first replacement after node was recorded
            old = ref()
            if old is not None and old.grad_fn is not None and old.grad_fn.seq < node.seq:
                # the storage holding these values has been written since: a node that reads its
                # output (old) must see that, as PyTorch's saved-result check
                old._vc = x._vc
                return old
            return None
    return None


def _owned(g: np.ndarray, handed_out: set[int]) -> np.ndarray:
    """`g` if nothing else can see it, else a private copy (so leaf grads can accumulate in place)."""
    if g.base is None and type(g) is np.ndarray and id(g) not in handed_out and g.flags.writeable:
        handed_out.add(id(g))
        return g
    g = np.array(g)
    handed_out.add(id(g))
    return g


def _run_hooks(t: Tensor, g, create_graph: bool):
    meta = t._meta
    hooks = meta.get("hooks")
    if hooks:
        for hook in list(hooks):  # user code: NumPy warns in it as outside backward
            res = call_loudly(hook, (g if create_graph else Tensor._wrap(g),))
            if res is not None:
                if not isinstance(res, Tensor) or res.shape != t.shape:
                    raise RuntimeError(
                        f"hook {getattr(hook, '__name__', hook)!r} must return None or a Tensor of shape "
                        f"{t.shape}, got {res!r:.80}"
                    )
                g = res if create_graph else res._data
        if not create_graph:
            g = np.array(g)  # hooks may keep what they saw or returned: pass on a private copy
    if meta.get("retain"):  # accumulates across backward calls, like a leaf's grad
        if create_graph:
            t.grad = g.clone() if t.grad is None else t.grad + g
        else:
            t.grad = Tensor._wrap(np.array(g) if t.grad is None else t.grad._data + g)
    return g


def _run(roots, seeds, retain_graph: bool, create_graph: bool, capture: set[int] | None):
    """Propagate seeds back through the graph.

    One pass, no separate sort: a heap of pending tensors keyed by their op's recording order
    (`Op.seq`, larger = later) always yields the latest-recorded tensor next. A tensor's op is
    recorded after the ops of all its inputs, so by the time it is popped every gradient flowing
    into it has been summed. Leaf gradients are summed too and returned at the end.

    Returns (leaf_grads, captured): leaf_grads lists (leaf, grad) pairs to accumulate
    (only when capture is None); captured maps id(tensor) -> grad for tensors in capture.
    """
    from ..ops._xp import sum_to  # here: ops/ imports tensor.py, which this module's importers load first

    heap: list[int] = []  # -seq of each tensor with a pending gradient
    pending: dict[int, list] = {}  # seq -> [tensor, summed grad]
    leaves: dict[Tensor, list] = {}  # leaf -> [leaf, summed grad] (Tensors hash by identity)
    captured: dict[int, Any] = {}
    epoch = _EPOCH
    grad_mode = _mode.enabled
    _mode.enabled = create_graph  # so that create_graph records the backward rules, and only then
    quiet = quiet_region().__enter__()  # no NumPy warnings at poles, as PyTorch (once, not per node)
    try:
        xs, grads, needs = roots, seeds, (True,) * len(roots)
        while True:
            for x, gx, need in zip(xs, grads, needs):  # add each gradient to its tensor's pending sum
                if not need or gx is None:
                    continue
                # The engine owns the edge: a rule's gradient may have the broadcast shape of the
                # op's output; it is summed down to the input's shape here, and cast to its dtype.
                xd = x._data
                if gx.shape != xd.shape:
                    gx = sum_to(gx, xd.shape)
                dt = xd.dtype
                if gx.dtype is not dt and gx.dtype != dt:
                    gx = gx.to(dt) if create_graph else gx.astype(dt)
                xn = x.grad_fn
                if xn is None:
                    entry = leaves.get(x)
                    if entry is None:
                        leaves[x] = [x, gx]
                    else:
                        entry[1] = entry[1] + gx
                    continue
                entry = pending.get(xn.seq)
                if entry is None:
                    pending[xn.seq] = [x, gx]
                    heappush(heap, -xn.seq)
                else:
                    entry[1] = entry[1] + gx
            if not heap:
                break
            t, g = pending.pop(-heappop(heap))
            if t._meta is not None:
                g = _run_hooks(t, g, create_graph)
            if capture is not None and id(t) in capture:
                captured[id(t)] = g
            node = t.grad_fn
            arrays = node.arrays
            if arrays is None:
                raise RuntimeError(_FREED)
            xs, needs = node.inputs, node.needs
            if node.epoch != epoch[0]:  # an in-place op ran since node was recorded: was it on ours?
                xs = _check_versions(node, t, xs)
            # one call per node: the op's compiled derivatives, only for the inputs in `needs`
            if create_graph:
                grads = _depending(node, node._vjp(needs, g, t, *xs), g, t, xs)
            else:
                grads = node._vjp(needs, g, t._data, *arrays)
            if _anomaly.enabled:
                anomaly_backward(node, grads, xs)
            if not retain_graph:
                node.inputs = node.arrays = node.saved = None
        leaf_grads = []
        for t, g in leaves.values():
            if t._meta is not None:
                g = _run_hooks(t, g, create_graph)
            if capture is None:
                leaf_grads.append((t, g))
            elif id(t) in capture:
                captured[id(t)] = g
    finally:
        quiet.__exit__()
        _mode.enabled = grad_mode
    return leaf_grads, captured


def _roots_and_seeds(outputs, grad_outputs, create_graph: bool, op: str):
    outputs = _as_tuple(outputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    seeds = []
    for i, (out, go) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: outputs must be Tensors, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(
                f"{op}: element {i} of tensors does not require grad and does not have a grad_fn; "
                "make sure a leaf it depends on has requires_grad=True and that it was not computed "
                "under no_grad()"
            )
        if go is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but the output "
                    f"has shape {out.shape}; pass gradient= (a Tensor of that shape) explicitly"
                )
            seed = np.empty_like(out._data)
            seed.fill(1)
            seeds.append(Tensor._wrap(seed) if create_graph else seed)
        else:
            go = go if isinstance(go, Tensor) else Tensor(go, dtype=out.dtype)
            if go.shape != out.shape:
                raise RuntimeError(
                    f"{op}: mismatch in shape: gradient has shape {go.shape} but the output "
                    f"has shape {out.shape}"
                )
            seeds.append(go if create_graph else go._data.astype(out.dtype, copy=False))
    return outputs, seeds


def backward(
    tensors,
    grad_tensors=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves (or of `inputs`)."""
    roots, seeds = _roots_and_seeds(tensors, grad_tensors, create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    handed_out = {id(s) for s in seeds}
    if inputs is None:
        leaf_grads, _ = _run(roots, seeds, retain_graph, create_graph, None)
    else:
        inputs = _as_tuple(inputs)
        _, captured = _run(roots, seeds, retain_graph, create_graph, {id(x) for x in inputs})
        leaf_grads = [(x, captured[id(x)]) for x in inputs if id(x) in captured]
    with quiet_region():  # inf + -inf accumulates to nan silently, as PyTorch
        for t, g in leaf_grads:
            if create_graph:  # a copy, so that leaves never share one gradient Tensor (as PyTorch)
                t.grad = g.clone() if t.grad is None else t.grad + g
            elif t.grad is None:
                t.grad = _wrap(_owned(g, handed_out))
            elif t.grad._requires_grad:
                t.grad = _wrap(t.grad._data + g)
            else:  # in place, through the write door: bumps the grad's version, as PyTorch's accumulation
                acc = t.grad._data_for_write()
                acc += g
    for t, _ in leaf_grads:  # then the leaves' post-accumulate hooks (user code, outside the quiet region)
        hooks = t._meta.get("post_accumulate_hooks") if t._meta is not None else None
        if hooks:
            for hook in list(hooks):
                call_loudly(hook, (t,))


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any `.grad` (like torch.autograd.grad).

    `only_inputs` is accepted and ignored, as in PyTorch (False warns that it is deprecated;
    use `backward()` to accumulate into other leaves).

        x = mt.tensor([1.0, 2.0], requires_grad=True)
        mt.autograd.grad((x ** 2).sum(), x)   # (tensor([2., 4.]),)
    """
    if not only_inputs:
        warnings.warn(
            "grad: the only_inputs argument is deprecated and ignored (it defaults to True); to "
            "accumulate gradients into other parts of the graph use microtensor.autograd.backward",
            FutureWarning,
            stacklevel=2,
        )
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, create_graph, "grad")
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (or is not a Tensor)")
    if retain_graph is None:
        retain_graph = create_graph
    _, captured = _run(roots, seeds, retain_graph, create_graph, {id(x) for x in inputs})
    handed_out = {id(s) for s in seeds}
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {x.shape}) appears not to have been used in the graph; "
                    "set allow_unused=True if this is the desired behavior"
                )
            result.append(None)
        else:
            result.append(g if create_graph else Tensor._wrap(_owned(g, handed_out)))
    return tuple(result)


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


# ------------------------------------------------------ user-defined ops
class FunctionCtx:
    """What `Function.forward` gets as `ctx`: save tensors and attributes for backward."""

    def save_for_backward(self, *tensors: Tensor) -> None:
        """Keep tensors for backward (read them back as `ctx.saved_tensors`)."""
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        """The tensors given to `save_for_backward`, in order; raises once backward has freed them."""
        saved = getattr(self, "_to_save", None)
        if saved is None:
            raise RuntimeError(_FREED)
        result = []
        for s in saved:
            o = self._originals.get(id(s), s)
            if isinstance(o, weakref.ref):  # the Function's own output, held weakly (no cycle)
                o = o()
            result.append(s if o is None else o)
        return tuple(result)


class Function:
    """Base class for a user-defined differentiable op, as torch.autograd.Function.

        class Exp(mt.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    forward runs under no_grad and returns one Tensor; backward returns one
    gradient (or None) per forward argument. Written with Tensor ops, backward
    is differentiable too, so create_graph=True works through it.
    """

    @classmethod
    def apply(cls, *args):
        """Run the Function on `args` and record it in the graph: call `MyFunction.apply(x, ...)`,
        never `forward` directly.
        """
        from ..ops.function_node import _UserFunction

        return _UserFunction(cls)(*args)


# ------------------------------------------------------------- gradcheck
class GradcheckError(RuntimeError):
    """Analytic and finite-difference gradients disagree."""


def _jacobians(fn, inputs, wrt, outputs):
    """Analytic (by backward) and numeric (central differences) Jacobians, output-major."""
    analytic, numeric = [], []
    for o, out in enumerate(outputs):
        n_out = out.numel()
        for i in wrt:
            x = inputs[i]
            a = np.zeros((n_out, x.numel()))
            nmat = np.zeros((n_out, x.numel()))
            analytic.append((o, i, a))
            numeric.append((o, i, nmat))
        if out.requires_grad:
            diff = [inputs[i] for i in wrt]
            for j in range(n_out):
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed.flat[j] = 1
                gs = grad(out, diff, Tensor._wrap(seed), retain_graph=True, allow_unused=True)
                for k, g in enumerate(gs):
                    if g is not None:
                        analytic[o * len(wrt) + k][2][j] = g._data.ravel()
    return analytic, numeric


def _eval(fn, inputs):
    """fn's float outputs as float64 arrays (grad mode stays on: fn may call autograd.grad)."""
    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]
    return [np.array(o._data, dtype=np.float64) for o in outs]


def gradcheck(
    fn: Callable,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check fn's backward against central finite differences, in float64.

    Returns True, or raises GradcheckError naming the worst element with its
    analytic and numeric values (returns False if raise_exception=False).
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: at least one input must be a Tensor with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs (use .double())"
            )
    outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]
    analytic, numeric = _jacobians(fn, inputs, wrt, outputs)
    for k, i in enumerate(wrt):
        flat = inputs[i]._data.reshape(-1)
        if flat.size and not np.shares_memory(flat, inputs[i]._data):  # (empty inputs share nothing)
            raise ValueError(f"gradcheck: input {i} must be contiguous")
        for e in range(flat.size):
            orig = flat[e]
            flat[e] = orig + eps
            plus = _eval(fn, inputs)
            flat[e] = orig - eps
            minus = _eval(fn, inputs)
            flat[e] = orig
            for o in range(len(outputs)):
                numeric[o * len(wrt) + k][2][:, e] = ((plus[o] - minus[o]) / (2 * eps)).ravel()
    worst = None
    for (o, i, a), (_, _, n) in zip(analytic, numeric):
        bad = np.abs(a - n) - (atol + rtol * np.abs(n))
        bad = np.where(np.isnan(a) != np.isnan(n), np.inf, np.nan_to_num(bad, nan=-1.0))
        if bad.size and bad.max() > 0:
            j, e = np.unravel_index(np.argmax(bad), bad.shape)
            if worst is None or bad[j, e] > worst[0]:
                worst = (bad[j, e], o, i, j, e, a[j, e], n[j, e])
    if worst is None:
        return True
    _, o, i, j, e, av, nv = worst
    msg = (
        f"gradcheck: Jacobian mismatch for output {o} with respect to input {i}: "
        f"d out[{j}] / d in[{e}] (flat indices) is {float(av)!r} by backward but {float(nv)!r} by finite "
        f"differences (eps={eps}, atol={atol}, rtol={rtol})"
    )
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product built with create_graph."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor(rng.standard_normal(o.shape), dtype=np.float64, requires_grad=True) for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def vjp(*args):
        xs, gos = args[:n], args[n:]
        outs = _as_tuple(fn(*xs))
        gs = grad(outs, [xs[i] for i in wrt], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(
        vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception
    )


from . import functional  # noqa: E402, F401 - a submodule using grad (above), as torch.autograd.functional
