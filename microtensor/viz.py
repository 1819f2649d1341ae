"""Draw the recorded autograd graph with Graphviz.

    loss = F.binary_cross_entropy(model(x), y)
    loss.backward(retain_graph=True)                  # optional: adds gradient norms
    print(mt.viz.to_dot(loss, model.named_parameters()))
    mt.viz.render(loss, "graph.svg", names=model.named_parameters())

`to_dot` returns Graphviz DOT source (standard library only): one box per op
(its backward node's name, the short name `explain` uses for its output and the
op that made it, as in "Z1 = Conv2d(X, W1, b1)", the output's shape and dtype;
the local derivative rule, and the rule in words where the op declares one, as
the tooltip), one
ellipse per leaf tensor (its name from `names`, else "leaf", with shape and
dtype; dashed when it needs no gradient) and an edge from every input to the
op that uses it. Once backward has run, each tensor that has a `.grad` shows
its gradient norm.

A block of ops applied again and again (a transformer's layers, a cell unrolled over time) is
drawn once, as a cluster "Block × 4 layers" / "LSTMCell × 20 time steps" (`collapse=False` draws
every op); `mt.explain` names the same blocks.

Draw before backward(), or after backward(retain_graph=True): a plain
backward() frees the graph, and drawing it then raises an error saying so
(nothing reliable is left to draw).
`render` runs Graphviz's `dot` program when it is installed; otherwise it
writes the DOT file and prints the command that renders it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

from ._repeats import Repeat, find_repeats
from .explain import RecordedGraph, formula_of, meaning_of, op_name
from .tensor import Tensor

__all__ = ["to_dot", "render"]

_MAX_EXPR = 48  # longer op expressions (a cat of many tensors) are shown as Op(…)


def _quote(text: str) -> str:
    """A DOT double-quoted string (newlines become DOT's \\n line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _grad_norm(t: Tensor) -> str | None:
    g = t.grad
    if g is None:
        return None
    norm = float(np.sqrt(np.sum(np.square(g._data, dtype=np.float64))))
    return f"‖grad‖ = {norm:.4g}"


def _attrs(**kw) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in kw.items()) + "]"


def _node(g: RecordedGraph, t: Tensor, output: Tensor, extra: list[str]) -> str:
    """One node's DOT line: an ellipse for a leaf, a box for an op output; extra: lines to add."""
    shape_dtype = f"{tuple(t.shape)} {t.dtype}"
    norm = _grad_norm(t)
    name = g.given.get(id(t))
    sym = g.sym[id(t)]
    if t.grad_fn is None:
        first = f"leaf {sym}" if not name else name if name == sym else f"{name} ({sym})"
        label = "\n".join(x for x in (first, shape_dtype, norm, *extra) if x)
        if t.requires_grad:
            style = {"style": "filled", "fillcolor": '"#dbe9f6"'}
        else:
            style = {"style": "dashed", "color": '"#888888"', "fontcolor": '"#555555"'}
        return f"{_attrs(label=_quote(label), shape='ellipse', **style)}"
    node = t.grad_fn
    second = f"{sym} ({name})" if name and name != sym else sym
    expr = g.expression(t)  # names the layer: Conv2d(X, W1, b1), MaxPool2d(A1), BatchNorm(Z2)
    if len(expr) > _MAX_EXPR:
        expr = f"{op_name(node)}(…)"
    label = "\n".join(x for x in (node.name(), f"{second} = {expr}  {shape_dtype}", norm, *extra) if x)
    rule = formula_of(node) or node.name()
    if meaning_of(node):
        rule += "\n" + meaning_of(node)
    more = {"penwidth": 2} if t is output else {}
    return _attrs(
        label=_quote(label),
        shape="box",
        style='"rounded,filled"',
        fillcolor='"#f3f3f3"' if t is not output else '"#fde8c8"',
        tooltip=_quote(rule),
        **more,
    )


class _Fold:
    """How repeated blocks are drawn once each: every tensor of instances 2…N is represented by the
    tensor of the first instance that plays its part (a leaf such as a layer's own weight by the
    first layer's), and edges between representatives are merged and labelled."""

    def __init__(self, g: RecordedGraph, reps: list[Repeat]):
        self.reps = reps
        self.block: dict[int, Repeat] = {}  # id(op output of any instance) -> its Repeat
        self.stands_for: dict[int, Tensor] = {}  # id(hidden tensor) -> its representative
        for rep in reps:
            for k, inst in enumerate(rep.instances):
                for t in inst:
                    self.block[id(t)] = rep
                    if k and t is not g.output:  # the output keeps its own node (it ends the drawing)
                        self.stands_for[id(t)] = rep.representative(t)
        hidden_ops = set(self.stands_for)
        self.reader: dict[int, Repeat] = {}  # id(leaf drawn for several) -> the Repeat reading it
        for t in g.order:  # leaves read only by hidden ops: a later layer's weights, step t's input
            uses = g.uses[id(t)]
            if t.grad_fn is not None or not uses or not all(id(c) in hidden_ops for c, _, _ in uses):
                continue
            c, j, _ = uses[0]
            rep = self.block[id(c)]
            twin = rep.representative(c).grad_fn.inputs[j]
            if isinstance(twin, Tensor) and twin.grad_fn is None and twin is not t:
                self.stands_for[id(t)] = twin
                self.reader[id(twin)] = rep
        self.copies: Counter = Counter(id(r) for r in self.stands_for.values())
        self.inside: dict[int, int] = {}  # id(tensor) -> the cluster (index into reps) drawn around it
        for i, rep in enumerate(reps):
            first = {id(t) for t in rep.instances[0]}
            self.inside.update(dict.fromkeys(first, i))
            for t in g.order:
                if (
                    t.grad_fn is None
                    and self.copies[id(t)]
                    and all(id(c) in first for c, _, _ in g.uses[id(t)])
                ):
                    self.inside[id(t)] = i

    def of(self, t: Tensor) -> Tensor:
        """The tensor drawn for t."""
        return self.stands_for.get(id(t), t)

    def extra(self, t: Tensor) -> list[str]:
        """Lines added to a node's label: how many tensors it stands for; for a weight every step
        reads, its gradient as the sum over the steps (backpropagation through time)."""
        lines = []
        if self.copies[id(t)] and id(t) in self.reader:
            lines.append(f"one per {self.reader[id(t)].step}: × {self.copies[id(t)] + 1}")
        rep = next((r for r in self.reps if any(t is x for x in r.shared)), None)
        if rep is not None:
            lines += [f"grad = Σ_t (grad at step t), t = 1…{rep.count}", "(backprop through time)"]
        return lines

    def edge_label(self, x: Tensor, t: Tensor, n: int) -> tuple[str, dict]:
        """The label and attributes of the merged edge x -> t standing for n edges."""
        rx, rt = self.block.get(id(x)), self.block.get(id(t))
        kx = rx.where[id(x)][0] if rx is not None else None
        kt = rt.where[id(t)][0] if rt is not None else None
        if rx is not None and rx is rt and kt == kx + 1 and id(t) in self.stands_for:
            var = "t" if rx.shared else "l"
            label = f"{rx.step} {var} → {var}+1"  # the state carried from one instance to the next
            return label, {"color": '"#b03a2e"', "fontcolor": '"#b03a2e"', "constraint": "false"}
        if n > 1:  # read by every instance (once per layer or step), unless inside the block
            cluster = self.inside.get(id(self.of(x)))
            return (
                "" if cluster is not None and cluster == self.inside.get(id(self.of(t))) else f"× {n}"
            ), {}
        if kx and id(x) in self.stands_for:
            return f"from {rx.step} {kx + 1}", {}
        if kt and id(t) in self.stands_for:
            return f"into {rt.step} {kt + 1}", {}
        return "", {}


def to_dot(output: Tensor, names=None, *, collapse: bool = True) -> str:
    """Graphviz DOT source for the graph that computed `output`.

    names: a dict name -> tensor, an iterable of (name, tensor) pairs such as
    model.named_parameters(), or a Module (its parameters; its submodules' class names then name a
    repeated block), used to label the tensors (parameters, inputs, ...).
    collapse: each block of ops applied several times (a stack of identical layers, a cell unrolled
    over time, each layer of a multi-layer LSTM: see microtensor._repeats) is drawn once, as a
    cluster labelled "Block × 4 layers" or "LSTMCell × 20 time steps", with the edges in and out of
    it ("× 20": one per step; "step t → t+1": the state carried to the next step) and each weight
    every step reads saying that its gradient is the sum over the time steps; collapse=False
    draws every op, as torchviz's make_dot does.
    Raises RuntimeError if backward() already freed the graph (use retain_graph=True).
    """
    g = RecordedGraph(output, names, what="to_dot", verb="draw")
    reps = find_repeats(g, op_name) if collapse else []
    fold = _Fold(g, reps) if reps else None
    ids = {id(t): f"t{i}" for i, t in enumerate(g.order)}
    lines = [
        "digraph microtensor {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7, fontname="Helvetica", fontsize=10];',
    ]
    shown = [t for t in g.order if fold is None or id(t) not in fold.stands_for]
    clusters: list[list[str]] = [[] for _ in reps]
    for t in shown:
        extra = fold.extra(t) if fold is not None else []
        line = f"{ids[id(t)]} {_node(g, t, output, extra)};"
        if fold is not None and id(t) in fold.inside:
            clusters[fold.inside[id(t)]].append(f"    {line}")
        else:
            lines.append(f"  {line}")
    for i, (rep, members) in enumerate(zip(reps, clusters), 1):
        title = _quote(rep.title + (f"\n{rep.span}" if rep.span else ""))
        lines += [
            f"  subgraph cluster_repeat{i} {{",
            f'    graph [label={title}, style="rounded,dashed", color="#b03a2e", fontcolor="#b03a2e"];',
            *members,
            "  }",
        ]
    # (id(input), id(op output), input position) -> [a, b, count, needs grad, first x, first t]: the
    # same edge of every instance is drawn once (x * x keeps its two edges: two positions)
    merged: dict[tuple[int, int, int], list] = {}
    for t in g.order:
        node = t.grad_fn
        if node is None:
            continue
        for j, (x, need) in enumerate(zip(node.inputs, node.needs)):
            if isinstance(x, Tensor):
                a, b = (fold.of(x), fold.of(t)) if fold is not None else (x, t)
                # into or out of a block, the edges of every instance merge whatever their position
                # (a Stack of every step's h); elsewhere each position keeps its edge
                across = fold is not None and (id(x) in fold.block) != (id(t) in fold.block)
                entry = merged.setdefault((id(a), id(b), -1 if across else j), [a, b, 0, False, x, t])
                entry[2] += 1
                entry[3] = entry[3] or bool(need)
    for a, b, n, need, x, t in merged.values():
        attrs = {} if need else {"style": "dashed"}
        if fold is not None:
            label, more = fold.edge_label(x, t, n)
            attrs.update(more)
            if label:
                attrs["label"] = _quote(label)
        lines.append(f"  {ids[id(a)]} -> {ids[id(b)]}{' ' + _attrs(**attrs) if attrs else ''};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(output: Tensor, path, format: str | None = None, names=None, *, collapse: bool = True) -> Path:
    """Draw output's graph to `path` with Graphviz's `dot`; returns the path written.

    format: any of dot's output formats ("svg", "png", "pdf", "dot", ...); by default the path's
    suffix, or "svg" for a path without one (which then gets ".svg"). names and collapse as for
    to_dot. Without `dot` on PATH, writes the DOT source next to it (same name, suffix ".dot"),
    prints how to render it, and returns that path.
    """
    path = Path(path)
    if format is None:
        format = path.suffix[1:] or "svg"  # noqa: A001 - the argument's name, as Graphviz's
    elif path.suffix and path.suffix[1:].lower() != format.lower():
        raise ValueError(f"render: the path {str(path)!r} says {path.suffix[1:]!r} but format={format!r}")
    source = to_dot(output, names, collapse=collapse)
    if not path.suffix:
        path = path.with_suffix(f".{format}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot" or path.suffix == ".dot":
        path.write_text(source, encoding="utf-8")
        return path
    dot = shutil.which("dot")
    if dot is None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(source, encoding="utf-8")
        print(
            f"Graphviz's `dot` program is not installed, so wrote the graph's DOT source to {dot_path}.\n"
            f"Render it with:  dot -T{format} {dot_path} -o {path}\n"
            "(Graphviz: apt-get install graphviz, brew install graphviz or https://graphviz.org/download;"
            " or paste the file into any online Graphviz viewer.)"
        )
        return dot_path
    result = subprocess.run(
        [dot, f"-T{format}", "-o", str(path)], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"render: `dot -T{format}` failed (exit code {result.returncode}): "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return path
