"""The Op contract: how every differentiable operation is written.

An op is a small class whose forward and derivatives sit side by side:

    class Mul(Op):
        derivatives = {"a": "grad * b", "b": "grad * a"}

        def forward(self, a, b):
            return a * b

forward(self, *arrays) -> array
    NumPy arrays in, one NumPy array out. Non-tensor arguments (axis, shape, a Python scalar
    operand) are stored on `self` or passed through as-is. Arrays that forward computes only for
    the derivatives go in `self.saved` (freed with the inputs after backward).

derivatives: {input name: Python expression}
    One vector-Jacobian product per differentiable input, as in PyTorch's derivatives.yaml, over
    the names `grad` (dL/d out), `out`, the forward's input names and the op's attributes
    (`self.dim`, ...), calling only the functions of the array namespace `ops/_xp.py` (they work on
    NumPy arrays and on Tensors: the engine evaluates the same expression on arrays on the fast
    path, and on Tensors under create_graph=True, so every gradient is differentiable again).
    Where one expression would be unreadable, it calls a named function registered with `@helper`
    next to the op. A variadic input (`*xs`) has one expression for every element, in which `i` is
    the element's position. Inputs listed in `nondifferentiable` (conditions, class indices) have
    none.

The engine, not the rule, owns each edge: it evaluates only the expressions of inputs that need a
gradient, then reduces each result to its input's shape (summing broadcast axes) and dtype. The
expressions are compiled once, when the class is created (`__init_subclass__`), into one function
per op (`_vjp`) that the engine calls once per node.

What people read is rendered from the same strings (`formula`: `*` shown as `·`, `**2` as `²`,
`mT(a)` as `aᵀ`, ...), so text and code cannot drift; `role` ("activation", "loss", "layer",
"reduction", "shape", "index" or "math"), `display` (the name shown) and `meaning` (the rule in
words, for ops whose formula calls a named helper) are data that explain and viz read. Every
concrete subclass registers itself in REGISTRY, which the test suite walks.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
from typing import ClassVar

import numpy as np

from .._anomaly import anomaly_forward
from .._grad_mode import _EPOCH
from .._grad_mode import anomaly as _anomaly
from .._grad_mode import mode as _mode
from .._quiet import call_quietly
from ..tensor import Tensor, _wrap
from . import _xp

REGISTRY: dict[str, type[Op]] = {}
_SEQ = itertools.count()  # recording numbers (next() is atomic under the GIL)

# The names a derivative expression may call: the array namespace, then the @helper functions.
# Compiled expressions look names up here when they run, so a helper may be defined after its op.
NAMESPACE: dict = {name: getattr(_xp, name) for name in _xp.__all__}
ROLES = ("activation", "loss", "layer", "reduction", "shape", "index", "math")


def helper(fn):
    """Register fn for derivative expressions (define it next to the op whose rule calls it)."""
    if NAMESPACE.get(fn.__name__, fn) is not fn:
        raise ValueError(f"helper: the name {fn.__name__!r} is already taken in the derivative namespace")
    NAMESPACE[fn.__name__] = fn
    return fn


# --------------------------------------------------------------- rendering
_SUPERSCRIPT_2 = re.compile(r"(?<=[\w)\]]) \*\* 2(?![\d.])")


def render(expr) -> str:
    """An expression (source text or an ast tree) as people read it: `grad * (1 - out ** 2)` ->
    `grad · (1 − out²)`.

    Inverted by `unrender` (a test evaluates explain's text through it).
    """
    tree = ast.parse(expr, mode="eval") if isinstance(expr, str) else expr
    text = ast.unparse(_Transposes().visit(tree))
    text = text.replace("self.", "")
    text = _SUPERSCRIPT_2.sub("²", text)
    text = text.replace(" ** ", "^").replace(" * ", " · ").replace("<=", "≤").replace(">=", "≥")
    text = text.replace("!=", "≠")
    return re.sub(r"(?<![0-9]e)-", "−", text).replace("mT⁽", "").replace("⁾ᵀ", "ᵀ")


class _Transposes(ast.NodeTransformer):
    """mT(a) is shown as aᵀ: marked here (a name, attribute or call needs no brackets)."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "mT" and len(node.args) == 1:
            arg = node.args[0]
            text = ast.unparse(arg)
            if not isinstance(arg, ast.Name | ast.Attribute | ast.Call | ast.Subscript):
                text = f"({text})"
            return ast.Name(id=f"mT⁽{text}⁾ᵀ")
        return node


def unrender(text: str) -> str:
    """The Python expression behind a rendered one (the inverse of `render`)."""
    text = text.replace("−", "-").replace("·", "*").replace("≤", "<=").replace("≥", ">=")
    text = text.replace("≠", "!=").replace("²", " ** 2").replace("^", " ** ")
    while "ᵀ" in text:  # aᵀ -> mT(a): the operand is the bracket or the name (call) just before
        k = text.index("ᵀ")
        j = k
        if text[j - 1] == ")":
            depth = 0
            while True:
                j -= 1
                depth += {")": 1, "(": -1}.get(text[j], 0)
                if depth == 0:
                    break
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_."):
            j -= 1
        text = f"{text[:j]}mT({text[j:k]}){text[k + 1 :]}"
    return text


# --------------------------------------------------------------- compiling
def _compile(cls) -> None:
    """Read forward's inputs and compile the derivative expressions into cls._vjp."""
    params = list(inspect.signature(cls.forward).parameters.values())[1:]
    fixed = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    names = tuple(p.name for p in fixed)
    derivs = cls.__dict__.get("derivatives", cls.derivatives)
    nondiff = cls.nondifferentiable
    where = f"{cls.__name__}.derivatives"
    unknown = set(derivs) - set(names) - {var}
    if unknown:
        raise TypeError(f"{where}: {sorted(unknown)} are not inputs of forward{(*names, var)}")
    missing = [n for n in (*names, *([var] if var else [])) if n not in derivs and n not in nondiff]
    if missing:
        raise TypeError(
            f"{where}: no derivative for the inputs {missing} (or list them in nondifferentiable)"
        )
    for key, expr in derivs.items():
        tree = ast.parse(expr, mode="eval")  # a SyntaxError here names the expression
        attrs = {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "self"
        }
        clash = attrs & {*names, var, "grad", "out", "i"}
        if clash:
            raise TypeError(
                f"{where}[{key!r}]: attributes {sorted(clash)} would read like inputs in the text"
            )
    sig = ", ".join(p.name + ("=None" if p.default is not p.empty else "") for p in fixed)  # see below
    items = []
    for k, n in enumerate(names):
        if n not in derivs:
            items.append("None")
        elif len(names) == 1 and var is None:
            items.append(f"({derivs[n]})")  # one input: it is recorded only when it needs a gradient
        elif fixed[k].default is not fixed[k].empty:  # an optional input may be left out
            items.append(f"({derivs[n]}) if len(_need) > {k} and _need[{k}] else None")
        else:
            items.append(f"({derivs[n]}) if _need[{k}] else None")
    if var is not None:
        sig += (", " if sig else "") + f"*{var}"
        item = f"({derivs[var]}) if _n else None" if var in derivs else "None"
        items.append(f"*[{item} for i, _n in enumerate(_need[{len(names)}:])]")
    src = f"def _vjp(self, _need, grad, out, {sig}):\n    return ({', '.join(items)},)\n"
    scope: dict = {}
    exec(compile(src, f"<{where}>", "exec"), NAMESPACE, scope)  # noqa: S102 - the class's own strings
    defaults = tuple(p.default for p in fixed if p.default is not p.empty)
    scope["_vjp"].__defaults__ = defaults or None  # an optional input left out gets forward's default
    cls._vjp = scope["_vjp"]
    cls.input_defaults = {p.name: p.default for p in fixed if p.default is not p.empty}
    cls.input_names = (*names, var) if var else names
    cls.variadic = var is not None
    cls.reads = _reads(derivs, names, var)
    cls.formulas = {n: render(e) for n, e in derivs.items()}
    cls.formula = ", ".join(f"∂{n} = {t}" for n, t in cls.formulas.items())


def _names_read(node: ast.AST) -> set[str]:
    """The names whose values an expression reads: `x.shape`, `xs[i].ndim`, ... read only metadata,
    which in-place ops never change."""
    if isinstance(node, ast.Attribute) and node.attr in ("shape", "ndim", "dtype"):
        inner = node.value.value if isinstance(node.value, ast.Subscript) else node.value
        if isinstance(inner, ast.Name):
            return _names_read(node.value.slice) if isinstance(node.value, ast.Subscript) else set()
    if isinstance(node, ast.Name):
        return {node.id}
    return set().union(*map(_names_read, ast.iter_child_nodes(node)))


def _reads(derivs: dict[str, str], names: tuple[str, ...], var: str | None) -> tuple:
    """Per input (in forward's order, the variadic last): what its derivative reads.

    A tuple of frozensets holding the positions of the fixed inputs the expression names, "*" for
    the variadic inputs and "out" for the output. Backward checks the versions of only these (as
    PyTorch checks only its saved tensors): an input that no needed derivative reads may be
    modified in place after the op ran, e.g. a bias zeroed between forward and backward.
    """
    reads = []
    for n in (*names, *([var] if var else [])):
        if n not in derivs:
            reads.append(frozenset())
            continue
        used = _names_read(ast.parse(derivs[n], mode="eval"))
        reads.append(
            frozenset(
                [k for k, m in enumerate(names) if m in used]
                + (["*"] if var in used else [])
                + (["out"] if "out" in used else [])
            )
        )
    return tuple(reads)


class Op:
    """A recorded operation: a node of the autograd graph (see the module docstring)."""

    # epoch: the global in-place epoch when recorded (backward checks versions against it; see
    # Tensor's in-place ops).
    # where: the user's code that created the op, captured only in anomaly mode.
    # seq: the recording number (ops recorded later have larger ones; backward visits them first).
    # arrays: the inputs' arrays as forward saw them (what backward gets on the fast path); a tuple,
    # which the cyclic GC stops tracking (a list it would traverse in every full collection).
    __slots__ = ("inputs", "arrays", "needs", "saved", "epoch", "seq", "where")
    derivatives: ClassVar[dict[str, str]] = {}
    nondifferentiable: ClassVar[tuple[str, ...]] = ()
    role: ClassVar[str] = "math"
    display: ClassVar[str | None] = None  # the name shown in explain / viz (default: the class name)
    public_name: ClassVar[str | None] = None  # the function users call, when not derived from the class name
    # the local rule in words, where the formula calls a named helper whose name cannot say it all
    # (a convolution's "correlate with the flipped kernel", a fused recurrent layer's
    # backpropagation through time); explain prints it, viz shows it
    meaning: ClassVar[str] = ""
    # set by _compile:
    formula: ClassVar[str] = ""
    formulas: ClassVar[dict[str, str]] = {}
    input_names: ClassVar[tuple[str, ...]] = ()
    input_defaults: ClassVar[dict] = {}  # optional inputs: what forward uses when one is left out
    variadic: ClassVar[bool] = False
    reads: ClassVar[tuple | None] = None  # what each input's derivative reads (None: all of them)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.role not in ROLES:
            raise TypeError(f"{cls.__name__}.role must be one of {ROLES}, got {cls.role!r}")
        if "forward" in cls.__dict__ or "derivatives" in cls.__dict__:
            _compile(cls)
        if not cls.__name__.startswith("_"):
            REGISTRY[cls.__name__] = cls

    def _vjp(self, _need, grad, out, *inputs) -> tuple:
        """The gradients for the inputs (None where `_need` is False); compiled from `derivatives`."""
        raise NotImplementedError

    def __call__(self, *inputs) -> Tensor:
        """Run forward on the inputs' arrays; record self in the graph if a gradient is needed."""
        needs = None  # which inputs need a gradient; None: none do, or grad mode is off
        if len(inputs) == 1:  # the common case, without building lists
            x = inputs[0]
            if isinstance(x, Tensor):
                arrays = (x._data,)
                if x._requires_grad and _mode.enabled:
                    needs = (True,)
            else:
                arrays = (x,)
        else:
            arrays = tuple([t._data if isinstance(t, Tensor) else t for t in inputs])
            if _mode.enabled:
                needs = tuple([isinstance(t, Tensor) and t._requires_grad for t in inputs])
                if True not in needs:
                    needs = None
        try:
            out = call_quietly(self.forward, arrays)  # no NumPy warnings at poles, as PyTorch
        except (ValueError, TypeError) as e:
            raise RuntimeError(self.error_message(arrays, e)) from e
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if _anomaly.enabled:
            anomaly_forward(self, out, arrays)
        if needs is None:
            return _wrap(out)
        self.record(inputs, arrays, needs)
        return _wrap(out, self)

    def record(self, inputs, arrays, needs) -> None:
        """Make self the graph node of an output computed from inputs (their arrays: `arrays`)."""
        self.inputs = inputs
        self.arrays = arrays
        self.needs = needs
        self.epoch = _EPOCH[0]
        self.seq = next(_SEQ)

    def name(self) -> str:
        return f"{type(self).__name__}Backward"

    def read_by_backward(self) -> list[int]:
        """Positions of the inputs whose values the needed derivatives read; -1 is the output."""
        reads, n = self.reads, len(self.inputs)
        if reads is None:
            return [*range(n), -1]
        nfixed = len(reads) - self.variadic
        used: set = set()
        for k, need in enumerate(self.needs):
            if need:
                used |= reads[min(k, nfixed)]
        picked = [k for k in range(n) if (k in used if k < nfixed else "*" in used)]
        return picked + [-1] if "out" in used else picked

    @classmethod
    def display_name(cls) -> str:
        """The op's name in explain's listings and viz's boxes."""
        return cls.display or cls.__name__

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """The ops (or None for leaves) that produced this op's inputs."""
        ins = self.inputs or ()
        return tuple(t.grad_fn if isinstance(t, Tensor) else None for t in ins)

    def error_message(self, arrays, err: Exception) -> str:
        """Name the op and its input shapes/dtypes when NumPy rejects the forward."""
        shapes = ", ".join(
            f"{tuple(a.shape)} {a.dtype}" if isinstance(a, np.ndarray) else repr(a) for a in arrays
        )
        return f"{self.op_name()}: invalid inputs [{shapes}]: {err}"

    @classmethod
    def op_name(cls) -> str:
        """The user-facing function name for messages: TakeAlongDim -> take_along_dim."""
        return cls.public_name or re.sub(r"(?<=[a-z])(?=[A-Z])", "_", cls.__name__).lower()


class _ViewOp(Op):
    """An op whose output may be a view of its first input's storage (reshape, permute, expand, basic
    indexing): such an output shares the input's version counter, so an in-place op through either
    one is seen by the graph nodes that saved the other (as PyTorch's views), and it remembers its
    base and this op (Tensor._add_view), so that an in-place op on the view rewrites the base's
    history and the view's grad_fn follows the base's (Tensor._record_inplace, _refresh_views).
    A view op's forward must be a pure function of its input array (it is replayed on the base)."""

    __slots__ = ()

    def __call__(self, x, *rest) -> Tensor:
        out = Op.__call__(self, x, *rest)
        o = out._data
        # (an empty result shares no memory, but is a view all the same, as in PyTorch)
        if o.base is not None and isinstance(x, Tensor) and (o.size == 0 or np.may_share_memory(o, x._data)):
            out._vc = x._shared_vc()
            x._add_view(out, self)
        return out


def norm_dim(dim, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) as a non-negative int, or an IndexError naming the op."""
    if isinstance(dim, Tensor):
        dim = int(dim)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n


def norm_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """dim=None, an int or a tuple of ints, as a sorted tuple of non-negative axes (None: all)."""
    if dim is None:
        return None
    dims = dim if isinstance(dim, tuple | list) else (dim,)
    axes = tuple(sorted(norm_dim(d, ndim, op) for d in dims))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
    return axes if ndim else None  # a 0-d tensor accepts dim 0 / -1 (as PyTorch): reduce its one element


def as_tensor(x, op: str) -> Tensor:
    """Accept a Tensor, a NumPy array or a Python number where an op needs a Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, bool | int | float | np.ndarray | np.generic):
        from ..tensor import _to_array

        return Tensor._wrap(_to_array(x))
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")
