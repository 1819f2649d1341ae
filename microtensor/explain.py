"""Backward as a derivation a learner can read: `mt.explain(loss)`.

    loss = F.binary_cross_entropy(model(x), y)
    mt.explain(loss, model.named_parameters())

prints, and returns as a string:

1. the forward pass as recorded, with a short name for every tensor (Z1 for the
   output of the first Linear, A1 for the activation after it, ℓ for the
   per-element loss, L for the output, W1/b1 for that Linear's parameters, X and
   y for its input and target ...);
2. the backward pass in the order the engine runs it (reverse topological
   order): for each op its local derivative rule (the op's `formula`, and the
   rule in words where the op declares a `meaning`, as a convolution does),
   the gradient it receives and the gradients it passes on, with the rule's
   variables replaced by the tensors' names, their shapes and a short summary
   of their values;
3. for each parameter, the chain rule written out: the product of the local
   derivatives along every path from the output to it (a sum of products where
   paths meet), then each factor's rule substituted, from the output down.

It does not call backward and leaves every `.grad` as it was: the values come
from `autograd.grad(..., retain_graph=True)`, so the graph stays usable (any
hooks registered on tensors of the graph run, as they would in backward).
Long graphs are summarised (`max_steps`). A graph already freed by backward()
cannot be explained: call explain before backward, or backward(retain_graph=True).
"""

from __future__ import annotations

import ast
import copy
import sys
import textwrap
from collections import Counter
from typing import IO, Any

import numpy as np

from . import autograd
from .ops.base import render
from .tensor import Tensor

__all__ = ["explain", "symbols", "RecordedGraph"]

_MAX_PATHS = 8  # products written out per parameter; the rest are counted

_FREED = (
    "{what}: the graph behind this tensor was freed by backward() (it drops the saved inputs to save "
    "memory), so there is nothing left to {verb}. Call {what}(...) before backward(), or run "
    "backward(retain_graph=True) to keep the graph."
)


# ------------------------------------------------------------------ the graph
def _is_module(names) -> bool:
    """Whether names is an nn.Module (duck-typed: explain does not import nn)."""
    return callable(getattr(names, "named_parameters", None)) and callable(
        getattr(names, "named_modules", None)
    )


def named_tensors(names, what: str) -> list[tuple[str, Tensor]]:
    """(name, tensor) pairs from a dict, an iterable of pairs (named_parameters()), tensors, or a
    Module (its named parameters)."""
    if names is None:
        return []
    if _is_module(names):
        names = names.named_parameters()
    if isinstance(names, Tensor):
        names = [names]
    items = list(names.items()) if isinstance(names, dict) else list(names)
    pairs = []
    for i, item in enumerate(items):
        if isinstance(item, Tensor):
            pairs.append((f"input {i}", item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor):
            pairs.append((str(item[0]), item[1]))
        else:
            raise TypeError(
                f"{what}: expected a dict of name -> Tensor, an iterable of (name, Tensor) pairs such as "
                f"model.named_parameters(), Tensors or a Module; got an item {item!r:.60}"
            )
    return pairs


def op_name(node) -> str:
    """The name an op is shown by: its declared display name ('Tanh'); a user Function's class name."""
    fn_cls = getattr(node, "fn_cls", None)
    return fn_cls.__name__ if fn_cls is not None else type(node).display_name()


def role_of(node) -> str:
    """The op's declared role: "layer", "activation", "loss", ... (a user Function may set `role`)."""
    return getattr(getattr(node, "fn_cls", None), "role", None) or getattr(type(node), "role", "math")


def formula_of(node) -> str:
    """The op's derivatives as text, rendered from the expressions the engine runs (a user Function
    may set `formula` on its class: its backward is code explain cannot read)."""
    fn_cls = getattr(node, "fn_cls", None)
    text = getattr(fn_cls, "formula", "") if fn_cls is not None else type(node).formula
    return text.strip()


def meaning_of(node) -> str:
    """The op's local rule in words, where it declares one (a user Function may set `meaning`)."""
    fn_cls = getattr(node, "fn_cls", None)
    return (getattr(fn_cls if fn_cls is not None else type(node), "meaning", "") or "").strip()


def input_key(node, j: int) -> str | None:
    """The name of the node's input number j in its derivatives (a variadic input's for every element)."""
    names = getattr(type(node), "input_names", ())
    if getattr(node, "fn_cls", None) is not None or not names:
        return None
    if j < len(names) - type(node).variadic:
        return names[j]
    return names[-1] if type(node).variadic else None


class _Substitute(ast.NodeTransformer):
    """Names of a derivative expression -> the symbols of the tensors of one graph edge."""

    def __init__(self, mapping: dict[str, str], var: str | None, element: int | None):
        self.mapping, self.var, self.element = mapping, var, element

    def visit_Subscript(self, node):
        element = isinstance(node.slice, ast.Name) and node.slice.id == "i"  # xs[i]: this edge's input
        if self.var and element and isinstance(node.value, ast.Name) and node.value.id == self.var:
            return ast.Name(id=self.mapping[self.var])
        return self.generic_visit(node)

    def visit(self, node):
        for child in ast.iter_child_nodes(node):
            child._parent = node  # visit_Name looks at its context
        return super().visit(node)

    def visit_Name(self, node):
        if node.id == "i" and self.element is not None:
            return ast.Constant(self.element)
        symbol = self.mapping.get(node.id, node.id)
        if not (symbol.isidentifier() or symbol.replace(".", "").isdigit()) and _tight(node):
            symbol = f"({symbol})"  # dL/dZ1 is one operand: bracket it where an operator binds tighter
        return ast.Name(id=symbol)


def _tight(node) -> bool:
    """Whether node sits where a symbol with a '/' in it would not read as one operand."""
    parent = getattr(node, "_parent", None)
    if isinstance(parent, ast.Attribute | ast.Subscript | ast.UnaryOp):
        return True
    if isinstance(parent, ast.BinOp):
        return isinstance(parent.op, ast.Pow) or (node is parent.right and isinstance(parent.op, ast.Div))
    return isinstance(parent, ast.Call) and getattr(parent.func, "id", "") == "mT"


def walk(output: Tensor, what: str = "explain", verb: str = "explain") -> list[Tensor]:
    """Every Tensor of the graph behind output (inputs that need no grad too), inputs before outputs.

    Iterative (no recursion limit). Raises a RuntimeError naming the fix if backward freed the graph.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(output).__name__}")
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(output, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        node = t.grad_fn
        if node is not None:
            if node.inputs is None:
                raise RuntimeError(_FREED.format(what=what, verb=verb))
            for x in reversed(node.inputs):
                if isinstance(x, Tensor) and id(x) not in seen:
                    stack.append((x, False))
    return order


class RecordedGraph:
    """The recorded graph behind a tensor, with a short readable name (symbol) for every tensor.

    order      all tensors, inputs before outputs (forward order)
    uses       id(tensor) -> [(consumer tensor, input position, needs grad)]
    given      id(tensor) -> the name the caller gave it (e.g. "0.weight")
    sym        id(tensor) -> symbol used in formulas ("W1", "Z1", "A1", "L", ...)
    modules    module path -> class name ("blocks.0" -> "Block"), when names is a Module
    """

    def __init__(self, output: Tensor, names=None, what: str = "explain", verb: str = "explain"):
        self.output = output
        self.order = walk(output, what, verb)
        self.pos = {id(t): i for i, t in enumerate(self.order)}
        self.uses: dict[int, list[tuple[Tensor, int, bool]]] = {id(t): [] for t in self.order}
        for t in self.order:
            node = t.grad_fn
            if node is not None:
                for j, (x, need) in enumerate(zip(node.inputs, node.needs)):
                    if isinstance(x, Tensor):
                        self.uses[id(x)].append((t, j, bool(need)))
        self.given: dict[int, str] = {}
        for name, t in named_tensors(names, what):
            self.given.setdefault(id(t), name)
        self.modules = (
            {path: type(m).__name__ for path, m in names.named_modules()} if _is_module(names) else {}
        )
        self.layer: dict[int, int] = {}
        self.sym = self._symbols()

    # ---------------------------------------------------------------- naming
    def _symbols(self) -> dict[int, str]:
        sym: dict[int, str] = {}
        taken: set[str] = set()

        def claim(t: Tensor, s: str) -> None:
            base, k = s, 1
            while s in taken:
                k += 1
                s = f"{base}_{k}"
            taken.add(s)
            sym[id(t)] = s

        for t in self.order:  # names the caller chose, when they are usable as symbols
            name = self.given.get(id(t))
            if name and name.isidentifier():
                claim(t, name)
        layer, counts = 0, Counter()
        for t in self.order:  # op outputs
            node = t.grad_fn
            if node is None:
                continue
            op, role = op_name(node), role_of(node)
            if role == "layer":
                layer += 1
                self.layer[id(t)] = layer
            if id(t) in sym:
                continue
            first = next((x for x in node.inputs if isinstance(x, Tensor)), None)
            k = self.layer.get(id(first)) if first is not None else None
            if t is self.output:
                s = "L" if t.numel() == 1 else "out"
            elif role == "layer":
                s = f"Z{layer}"
            elif role == "activation" and k is not None and f"A{k}" not in taken:
                s = f"A{k}"
            elif role == "loss" and "ℓ" not in taken:
                s = "ℓ"
            else:
                counts[op] += 1
                s = f"{op.lower()}{counts[op]}"
            claim(t, s)
        n_param = n_const = 0
        for t in self.order:  # leaves, named after the op that uses them
            if id(t) in sym:
                continue
            s = None
            for c, j, _ in self.uses[id(t)]:
                role, k = role_of(c.grad_fn), self.layer.get(id(c))
                if role == "layer" and j < 3:  # a layer's inputs: the data, the weight, the bias
                    s = ("X", f"W{k}", f"b{k}")[j]
                elif role == "loss" and j == 1:  # a loss's second input: the target
                    s = "y"
                if s:
                    break
            if s is None:
                if t.requires_grad:
                    n_param += 1
                    s = f"P{n_param}"
                else:
                    n_const += 1
                    s = f"C{n_const}"
            claim(t, s)
        return sym

    def grad_symbol(self, t: Tensor) -> str:
        """dL/dT for the tensor T (the output's own gradient is the seed 1)."""
        if t is self.output:
            return "1"
        return f"d{self.sym[id(self.output)]}/d{self.sym[id(t)]}"

    def label(self, t: Tensor) -> str:
        """'W1 (0.weight)' or just 'W1'."""
        s, name = self.sym[id(t)], self.given.get(id(t))
        return s if not name or name == s else f"{s} ({name})"

    def expression(self, t: Tensor) -> str:
        """'Linear(X, W1, b1)' for an op output; the symbol for a leaf."""
        node = t.grad_fn
        if node is None:
            return self.sym[id(t)]
        args = ", ".join(self._arg(x) for x in node.inputs)
        return f"{op_name(node)}({args})"

    def _arg(self, x: Any) -> str:
        if isinstance(x, Tensor):
            return self.sym[id(x)]
        if isinstance(x, np.ndarray):
            return f"array{tuple(x.shape)}"
        return repr(x)

    # ------------------------------------------------------------- the rules
    def rule(self, t: Tensor, j: int) -> str:
        """The gradient that op output t passes to its input j: the op's derivative expression for
        that input, rendered with its names (grad, out, the inputs) replaced by the tensors' symbols.
        The engine sums it over broadcast axes down to the input's shape."""
        node = t.grad_fn
        key = input_key(node, j)
        expr = node.derivatives.get(key) if key is not None else None
        if expr is None:
            text = formula_of(node)
            how = f"by {node.name()}'s rule: {text}" if text else f"by {node.name()}.backward"
            return f"(input {j} of {op_name(node)}({self.grad_symbol(t)}), {how})"
        return render(self.substituted(t, j))

    def substituted(self, t: Tensor, j: int) -> ast.Expression:
        """The derivative expression of edge (t, j) as a tree, its names replaced by symbols."""
        node = t.grad_fn
        names = type(node).input_names
        mapping = {"grad": self.grad_symbol(t), "out": self.sym[id(t)]}
        n_fixed = len(names) - type(node).variadic
        for i, name in enumerate(names[:n_fixed]):
            if i < len(node.inputs):
                mapping[name] = self._operand(node.inputs[i], name)
            elif name in type(node).input_defaults:  # an optional input left out: forward's default
                mapping[name] = self._operand(type(node).input_defaults[name], name)
        var = names[-1] if type(node).variadic else None
        if var is not None:
            mapping[var] = self._operand(node.inputs[j], var) if j >= n_fixed else var
        element = j - n_fixed if var is not None and j >= n_fixed else None
        tree = ast.parse(node.derivatives[input_key(node, j)], mode="eval")
        return ast.fix_missing_locations(_Substitute(mapping, var, element).visit(copy.deepcopy(tree)))

    def _operand(self, x: Any, name: str) -> str:
        """A tensor's symbol, a number's value; anything else (a constant array such as where's
        condition) keeps the input's name."""
        if isinstance(x, Tensor):
            return self.sym[id(x)]
        if isinstance(x, int | float) and not isinstance(x, bool):
            return repr(x) if x >= 0 else f"({x!r})"
        return name

    def note(self, t: Tensor, j: int | None = None) -> str:
        """The values of the op's attributes that its rules name (n, dim, axes, ...), when short."""
        node = t.grad_fn
        if node is None or getattr(node, "fn_cls", None) is not None:
            return ""
        keys = [input_key(node, j)] if j is not None else list(node.derivatives)
        attrs: list[str] = []
        for key in keys:
            expr = node.derivatives.get(key)
            if expr is None:
                continue
            for n in ast.walk(ast.parse(expr, mode="eval")):
                is_attr = isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "self"
                if is_attr and n.attr not in attrs:
                    attrs.append(n.attr)
        shown = []
        for a in attrs:
            v = getattr(node, a, None)
            if (
                v is None
                or isinstance(v, bool | int | float | str)
                or (isinstance(v, tuple) and len(v) <= 4 and all(isinstance(e, int) for e in v))
            ):
                shown.append(f"{a} = {v!r}")
        return ", ".join(shown)

    def factor(self, c: Tensor, j: int) -> str:
        """The Leibniz factor dC/dX for the edge from input j of op output c."""
        node = c.grad_fn
        x = node.inputs[j]
        f = f"d{self.sym[id(c)]}/d{self.sym[id(x)]}"
        if sum(1 for y in node.inputs if y is x) > 1:
            key = input_key(node, j)
            shared = sum(1 for i in range(len(node.inputs)) if input_key(node, i) == key) > 1
            f += f"[{j if key is None or shared else key}]"
        return f

    # -------------------------------------------------------------- values
    def gradients(self) -> dict[int, np.ndarray]:
        """dL/dT for every tensor T of the graph that requires grad, leaving every .grad untouched."""
        wrt = [t for t in self.order if t.requires_grad]
        if not wrt:
            return {}
        seed = None if self.output.numel() == 1 else Tensor._wrap(np.ones_like(self.output._data))
        before = [(t, t.grad) for t in self.order]  # retain_grad() tensors would accumulate: restore
        try:
            grads = autograd.grad(self.output, wrt, seed, retain_graph=True, allow_unused=True)
        finally:
            for t, g in before:
                t.grad = g
        return {id(t): g._data for t, g in zip(wrt, grads) if g is not None}


def symbols(output: Tensor, inputs=None) -> dict[str, Tensor]:
    """The names explain() uses for the tensors of output's graph: {"X": ..., "Z1": ..., "L": ...}."""
    g = RecordedGraph(output, inputs, "symbols")
    return {g.sym[id(t)]: t for t in g.order}


# -------------------------------------------------------------- formatting
def _shape(t) -> str:
    return str(tuple(t.shape))


def _summary(a: np.ndarray | None, values: bool = True) -> str:
    if a is None:
        return ""
    a = np.asarray(a)
    if a.size == 1:
        return f"= {float(a.reshape(())):.6g}"
    norm = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
    text = f"‖·‖ = {norm:.4g}"
    if values and a.size <= 4:
        text += "  [" + ", ".join(f"{float(v):.4g}" for v in a.ravel()) + "]"
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _elide(items: list, limit: int) -> tuple[list, list, int]:
    """(head, tail, omitted): keep at most `limit` items, from both ends."""
    limit = max(limit, 2)
    if len(items) <= limit:
        return items, [], 0
    head = limit // 2
    tail = limit - head
    return items[:head], items[-tail:], len(items) - limit


def _table(rows: list[tuple[str, ...]], indent: str) -> list[str]:
    """Rows of cells as lines, every column but the last padded to a common width."""
    if not rows:
        return []
    n = max(len(r) for r in rows)
    rows = [tuple(r) + ("",) * (n - len(r)) for r in rows]
    widths = [max(len(r[c]) for r in rows) for c in range(n - 1)]
    return [
        (indent + "  ".join([r[c].ljust(widths[c]) for c in range(n - 1)] + [r[-1]])).rstrip() for r in rows
    ]


# -------------------------------------------------------------------- explain
def explain(output: Tensor, inputs=None, *, max_steps: int = 40, file: IO[str] | None = None) -> str:
    """Print (to `file`, default stdout) and return backward of `output` written as a derivation.

    inputs: the tensors to derive the gradient for, as a dict name -> tensor, an iterable of
    (name, tensor) pairs such as model.named_parameters(), tensors, or a Module (its parameters;
    its submodules' class names then name a repeated block: "Block × 4 layers"); default every
    leaf that requires grad. A block of ops applied several times (a stack of identical layers, a
    cell unrolled over time) is summarised once at the end. max_steps bounds each listing: longer
    graphs are summarised, not dumped.
    Nothing is accumulated into any .grad, and the graph is not freed.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise RuntimeError(
            "explain: this tensor was not computed by recorded ops (it has no grad_fn), so backward has "
            "nothing to do; make sure a leaf it depends on has requires_grad=True and that it was not "
            "computed under no_grad()"
        )
    named = named_tensors(inputs, "explain")
    g = RecordedGraph(output, inputs if _is_module(inputs) else named)
    if inputs is None:  # every leaf that requires grad, named by its symbol
        targets: list[tuple[str | None, Tensor]] = [
            (None, t) for t in g.order if t.grad_fn is None and t.requires_grad
        ]
    else:
        targets = list(named)
    grads = g.gradients()
    lines: list[str] = []
    L = g.sym[id(output)]
    ops = [t for t in g.order if t.grad_fn is not None]
    seed = "" if output.numel() == 1 else f" (a non-scalar output: the seed is ones{_shape(output)})"
    lines.append(
        f"explain: backward of {L} = {g.expression(output)}, shape {_shape(output)} {output.dtype}"
        f" — {_count(len(ops), 'op')}{seed}"
    )

    # 1. the forward pass and its names
    lines += ["", "Forward pass as recorded (the names used below):"]
    rows = []
    for t in g.order:
        if t.grad_fn is None:
            name = g.given.get(id(t))
            what = f"leaf {name}" if name and name != g.sym[id(t)] else "leaf"
            role = "requires grad" if t.requires_grad else "no grad"
            rows.append((g.sym[id(t)], what, f"{_shape(t)} {t.dtype}", role))
        else:
            rows.append((g.sym[id(t)], f"= {g.expression(t)}", f"{_shape(t)} {t.dtype}"))
    head, tail, skipped = _elide(_table(rows, "  "), max_steps)
    lines += head
    if skipped:
        lines.append(f"  … {skipped} more tensors …")
        lines += tail

    # 2. the backward pass, step by step, in the engine's order
    steps = [t for t in reversed(autograd._topo_order([output])) if t.grad_fn is not None]
    lines += [
        "",
        f"Backward pass: {_count(len(steps), 'step')}, in reverse topological order (backward()'s order).",
        f"d{L}/dT is the gradient of {L} with respect to T (same shape as T); it starts at 1 for {L}.",
    ]
    n_uses = {id(t): sum(need for _, _, need in g.uses[id(t)]) for t in g.order}
    received: Counter = Counter()
    blocks = []
    for i, t in enumerate(steps, 1):
        node = t.grad_fn
        block = [
            f"  {i}. {node.name()}: {g.sym[id(t)]} = {g.expression(t)} → {_shape(t)} {t.dtype}",
            f"       local rule  {formula_of(node) or '(none given: see its backward)'}",
        ]
        words = textwrap.wrap(meaning_of(node), 96)  # prose: wrapped, unlike the formulas
        block += [f"       {'in words' if k == 0 else '':<12}{line}" for k, line in enumerate(words)]
        if t is output:
            rows = [("receives  ", f"d{L}/d{L} = 1", _shape(t), "(the seed)")]
        else:
            rows = [("receives  ", g.grad_symbol(t), _shape(t), _summary(grads.get(id(t)), values=False))]
        passes = "passes"
        for j, (x, need) in enumerate(zip(node.inputs, node.needs)):
            if not need:
                continue
            received[id(x)] += 1
            complete = received[id(x)] == n_uses[id(x)]
            op = "=" if received[id(x)] == 1 else "+="
            note = g.note(t, j)
            rule = g.rule(t, j) + (f"   ({note})" if note else "")
            value = _summary(grads.get(id(x)), values=False) if complete else "(partial: more arrives later)"
            rows.append((passes, f"{g.grad_symbol(x)} {op} {rule}", _shape(x), value))
            passes = ""
        block += _table(rows, "       ")
        blocks.append((node.name(), block))
    head, tail, skipped = _elide(blocks, max_steps)
    for _, block in head:
        lines += block
    if skipped:
        kinds = Counter(name for name, _ in blocks[len(head) : len(blocks) - len(tail)])
        what = ", ".join(f"{n} × {k}" for k, n in kinds.most_common())
        lines.append(f"  … {skipped} steps omitted ({what}) …")
        for _, block in tail:
            lines += block

    # 3. the chain rule for each parameter
    lines += ["", f"Chain rule for each parameter (products of local derivatives along every path from {L}):"]
    shown = targets
    if inputs is None and len(targets) > max(1, max_steps // 4):  # every leaf by default: a summary
        shown = targets[: max(1, max_steps // 4)]
    for name, p in shown:
        lines.append("")
        lines += _derivation(g, p, name, grads, max_steps)
    if len(shown) < len(targets):
        rest = ", ".join(g.label(t) for _, t in targets[len(shown) :])
        lines += ["", f"… and {len(targets) - len(shown)} more leaves ({rest}): pass inputs= to choose"]

    lines += _repeated_structure(g, grads, targets)

    text = "\n".join(lines)
    print(text, file=file if file is not None else sys.stdout)
    return text


def _repeated_structure(g: RecordedGraph, grads, targets) -> list[str]:
    """Section 4: the repeated blocks of the forward pass (found by _repeats.find_repeats, which viz
    draws as one cluster each), and each parameter's gradient as the sum of one contribution per use
    (through an unrolled recurrence: backpropagation through time, the sum over the time steps)."""
    from ._repeats import find_repeats
    from .ops._xp import sum_to

    lines = []
    per_step: set[int] = set()
    for i, rep in enumerate(find_repeats(g, op_name)):
        block = " → ".join(op_name(t.grad_fn) for t in rep.instances[0])
        first, last = g.sym[id(rep.instances[0][0])], g.sym[id(rep.instances[-1][-1])]
        span = f", {rep.span}" if rep.span else ""
        lines += ["", "Repeated structure:"] if i == 0 else []
        lines.append(
            f"  [{block}] × {rep.count}  ({rep.title}{span}: the same block of ops applied {rep.count} "
            f"times, {first} … {last}; drawn once by mt.viz)"
        )
        if rep.shared:
            weights = ", ".join(g.label(x) for x in rep.shared)
            lines.append(
                f"  Every step reads the same {weights}: backpropagation through time makes each one's "
                f"gradient the sum over the {rep.count} time steps of its gradient at step t, "
                f"dL/dW = Σ_t dL/dW|step t, t = 1…{rep.count}."
            )
            for x in rep.shared:
                uses = [c for c, _, need in g.uses[id(x)] if need]
                steps = {rep.where.get(id(c), (-1,))[0] for c in uses}
                if len(uses) == rep.count and steps == set(range(rep.count)):  # once per step
                    per_step.add(id(x))
    shared = []
    for name, p in targets:
        uses = [(c, j) for c, j, need in g.uses.get(id(p), ()) if need]  # an input outside the graph: none
        if len(uses) < 2:
            continue
        uses.sort(key=lambda use: use[0].grad_fn.seq)  # in the order the program ran: t = 1, 2, ...
        norms = []
        for c, j in uses:
            node = c.grad_fn
            gc = grads.get(id(c))
            if gc is None or node.arrays is None:
                continue
            part = node._vjp(node.needs, gc, c._data, *node.arrays)[j]
            norms.append(float(np.linalg.norm(np.asarray(sum_to(part, p.shape), np.float64))))
        label = g.label(p) if name is None else name
        shared.append((label, len(uses), norms, id(p) in per_step))
    if shared:
        lines += [
            "",
            "Parameters used more than once: the gradient is the sum of one contribution per use "
            "(through an unrolled recurrence: backpropagation through time, summed over the time steps):",
        ]
        for label, n, norms, step in shared:
            shown = ", ".join(f"{v:.4g}" for v in norms[:8]) + (", …" if len(norms) > 8 else "")
            each = "one per time step, t = 1…" + str(n) if step else "one per use"
            lines.append(f"  dL/d{label} = Σ of {n} contributions, {each}; their ‖·‖: {shown}")
    return lines


def _paths(g: RecordedGraph, p: Tensor, limit: int) -> list[list[tuple[Tensor, int]]]:
    """Up to `limit` paths from the output down to p, each a list of edges (op output, input index)."""
    found: list[list[tuple[Tensor, int]]] = []
    # each entry: (tensor, edge into it from its consumer, parent entry): a linked list, no copying
    stack: list[tuple[Tensor, tuple[Tensor, int] | None, Any]] = [(p, None, None)]
    while stack and len(found) < limit:
        entry = stack.pop()
        t = entry[0]
        if t is g.output:
            edges, e = [], entry
            while e[1] is not None:
                edges.append(e[1])
                e = e[2]
            found.append(edges)
            continue
        for c, j, need in reversed(g.uses[id(t)]):
            if need:
                stack.append((c, (c, j), entry))
    return found


def _derivation(g: RecordedGraph, p: Tensor, name: str | None, grads, max_steps: int) -> list[str]:
    L = g.sym[id(g.output)]
    lines = []
    if id(p) not in g.pos:
        label = name or f"a tensor of shape {_shape(p)}"
        return [f"{label}: not used to compute {L} (no path from {L} to it; its gradient is None)"]
    s = g.sym[id(p)]
    title = f"d{L}/d{s}" + (f"  ({name})" if name and name != s else "")
    if not p.requires_grad:
        return [f"{title}: {s} does not require grad, so no gradient flows to it"]
    if p is g.output:
        return [f"{title} = 1"]
    # how many paths reach each tensor (counted, not listed: their number can grow exponentially)
    count: dict[int, int] = {id(g.output): 1}
    for t in reversed(g.order):
        node = t.grad_fn
        if node is None or id(t) not in count:
            continue
        for x, need in zip(node.inputs, node.needs):
            if need:
                count[id(x)] = count.get(id(x), 0) + count[id(t)]
    n_paths = count.get(id(p), 0)
    paths = _paths(g, p, _MAX_PATHS)
    meet = " (they meet: the contributions add up)" if n_paths > 1 else ""
    lines.append(f"{title}, shape {_shape(p)}: {_count(n_paths, 'path')} from {L}{meet}")
    if n_paths == 1:
        chain = [g.sym[id(g.output)]] + [g.sym[id(c.grad_fn.inputs[j])] for c, j in paths[0]]
        head, tail, skipped = _elide(chain, max_steps)
        lines.append("  path: " + " ← ".join(head + ([f"… {skipped} more …"] if skipped else []) + tail))
    products = []
    for edges in paths:
        factors = [g.factor(c, j) for c, j in edges]
        head, tail, skipped = _elide(factors, max_steps)
        products.append(" · ".join(head + ([f"… ({skipped} more factors) …"] if skipped else []) + tail))
    lhs = f"  d{L}/d{s} = "
    lines.append(lhs + products[0])
    for prod in products[1:]:
        lines.append(" " * (len(lhs) - 2) + "+ " + prod)
    if n_paths > len(paths):
        lines.append(" " * (len(lhs) - 2) + f"+ … ({n_paths - len(paths)} more paths)")

    # each factor's rule, from the output down; where paths meet, the sum
    on_path = {id(p)}
    for t in g.order[g.pos[id(p)] :]:
        if any(id(x) in on_path for x, need in _inputs(t) if need):
            on_path.add(id(t))
    rows = []
    for t in reversed(g.order):
        if id(t) not in on_path or t is g.output:
            continue
        terms = []
        for c, j, need in g.uses[id(t)]:
            if need and id(c) in on_path:
                note = g.note(c, j)
                terms.append(g.rule(c, j) + (f"   ({note})" if note else ""))
        rows.append((f"d{L}/d{g.sym[id(t)]}", "= " + " + ".join(terms)))
    lines.append("  with each op's local rule substituted, from the output down:")
    head, tail, skipped = _elide(_table(rows, "    "), max_steps)
    lines += head
    if skipped:
        lines.append(f"    … {skipped} more lines …")
        lines += tail
    lines.append(f"  value: {_shape(p)} {_summary(grads.get(id(p)))}".rstrip())
    return lines


def _inputs(t: Tensor):
    node = t.grad_fn
    if node is None:
        return []
    return [(x, need) for x, need in zip(node.inputs, node.needs) if isinstance(x, Tensor)]
