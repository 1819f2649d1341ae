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

Draw before backward(), or after backward(retain_graph=True): a plain
backward() frees the graph, and drawing it then raises an error saying so
(nothing reliable is left to draw).
`render` runs Graphviz's `dot` program when it is installed; otherwise it
writes the DOT file and prints the command that renders it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

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


def to_dot(output: Tensor, names=None) -> str:
    """Graphviz DOT source for the graph that computed `output`.

    names: a dict name -> tensor, or an iterable of (name, tensor) pairs such as
    model.named_parameters(), used to label the tensors (parameters, inputs, ...).
    Raises RuntimeError if backward() already freed the graph (use retain_graph=True).
    """
    g = RecordedGraph(output, names, what="to_dot", verb="draw")
    ids = {id(t): f"t{i}" for i, t in enumerate(g.order)}
    lines = [
        "digraph microtensor {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    for t in g.order:
        shape_dtype = f"{tuple(t.shape)} {t.dtype}"
        norm = _grad_norm(t)
        name = g.given.get(id(t))
        sym = g.sym[id(t)]
        if t.grad_fn is None:
            first = f"leaf {sym}" if not name else name if name == sym else f"{name} ({sym})"
            label = "\n".join(x for x in (first, shape_dtype, norm) if x)
            if t.requires_grad:
                style = {"style": "filled", "fillcolor": '"#dbe9f6"'}
            else:
                style = {"style": "dashed", "color": '"#888888"', "fontcolor": '"#555555"'}
            lines.append(f"  {ids[id(t)]} {_attrs(label=_quote(label), shape='ellipse', **style)};")
        else:
            node = t.grad_fn
            second = f"{sym} ({name})" if name and name != sym else sym
            expr = g.expression(t)  # names the layer: Conv2d(X, W1, b1), MaxPool2d(A1), BatchNorm(Z2)
            if len(expr) > _MAX_EXPR:
                expr = f"{op_name(node)}(…)"
            label = "\n".join(x for x in (node.name(), f"{second} = {expr}  {shape_dtype}", norm) if x)
            rule = formula_of(node) or node.name()
            if meaning_of(node):
                rule += "\n" + meaning_of(node)
            extra = {"penwidth": 2} if t is output else {}
            attrs = _attrs(
                label=_quote(label),
                shape="box",
                style='"rounded,filled"',
                fillcolor='"#f3f3f3"' if t is not output else '"#fde8c8"',
                tooltip=_quote(rule),
                **extra,
            )
            lines.append(f"  {ids[id(t)]} {attrs};")
    for t in g.order:
        node = t.grad_fn
        if node is None:
            continue
        for x, need in zip(node.inputs, node.needs):
            if isinstance(x, Tensor):
                style = "" if need else " [style=dashed]"
                lines.append(f"  {ids[id(x)]} -> {ids[id(t)]}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(output: Tensor, path, format: str = "svg", names=None) -> Path:
    """Draw output's graph to `path` with Graphviz's `dot`; returns the path written.

    A path without a suffix gets ".{format}". Without `dot` on PATH, writes the DOT source
    next to it (same name, suffix ".dot"), prints how to render it, and returns that path.
    """
    source = to_dot(output, names)
    path = Path(path)
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
