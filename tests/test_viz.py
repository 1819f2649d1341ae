"""microtensor.viz: DOT source for the recorded graph, and rendering it."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from _dot import dot_texts, parse_dot, svg_texts

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor import viz

DOCS = Path(__file__).resolve().parent.parent / "docs"


def xor_setup():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()).double()
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=mt.float64)
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=mt.float64)
    loss = F.binary_cross_entropy(model(x), y)
    return model, x, y, loss


def labels(nodes) -> list[str]:
    return [a["label"] for a in nodes.values()]


def test_dot_parses_and_matches_the_graph():
    model, x, y, loss = xor_setup()
    nodes, edges = parse_dot(viz.to_dot(loss, model.named_parameters()))
    ops = [a for a in nodes.values() if a["shape"] == "box"]
    leaves = [a for a in nodes.values() if a["shape"] == "ellipse"]
    # Linear, Tanh, Linear, Sigmoid, BCE (with its mean); leaves x, 4 parameters, y
    assert sorted(a["label"].split("\n")[0] for a in ops) == sorted(
        ["LinearBackward", "TanhBackward", "LinearBackward", "SigmoidBackward"]
        + ["BinaryCrossEntropyBackward"]
    )
    assert len(leaves) == 6
    assert len(edges) == 3 + 1 + 3 + 1 + 2  # one per tensor input of each op
    # shapes and dtypes on op nodes
    assert any(lab.startswith("TanhBackward\n") and "(4, 4) float64" in lab for lab in labels(nodes))
    assert any(lab.startswith("BinaryCrossEntropy") and "() float64" in lab for lab in labels(nodes))
    # edges run input -> op: the loss node has two inputs and no consumer
    bce = next(k for k, a in nodes.items() if a["label"].startswith("BinaryCrossEntropyBackward"))
    assert len([a for a, b, _ in edges if b == bce]) == 2 and not [b for a, b, _ in edges if a == bce]
    # the data and the target need no grad: dashed
    dashed = [a for a, b, attrs in edges if "dashed" in attrs]
    assert sorted(nodes[a]["label"].split("\n")[1] for a in dashed) == ["(4, 1) float64", "(4, 2) float64"]
    # every op node carries its local derivative rule as a tooltip
    tanh = next(a for a in ops if a["label"].startswith("TanhBackward"))
    assert tanh["tooltip"] == "∂x = grad − grad · out · out" == mt.ops.elementwise.Tanh.formula


@pytest.mark.parametrize("as_dict", [False, True])
def test_dot_names_every_parameter(as_dict):
    model, x, y, loss = xor_setup()
    names = dict(model.named_parameters()) if as_dict else model.named_parameters()
    nodes, _ = parse_dot(viz.to_dot(loss, names))
    firsts = [lab.split("\n")[0] for lab in labels(nodes)]
    for name, p in model.named_parameters():
        hits = [lab for lab in labels(nodes) if lab.split("\n")[0].split(" ")[0] == name]
        assert len(hits) == 1, (name, firsts)
        assert f"{p.shape} {p.dtype}" in hits[0]
    # unnamed leaves say so, with their shape
    assert sum(f.startswith("leaf") for f in firsts) == 2


def test_dot_without_names_labels_leaves_by_shape():
    w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    out = (w * 3).sum()
    nodes, edges = parse_dot(viz.to_dot(out))
    leaf = next(a for a in nodes.values() if a["shape"] == "ellipse")
    assert leaf["label"].startswith("leaf") and "(1, 2) float32" in leaf["label"]
    assert len(edges) == 2


def test_dot_shows_gradient_norms_after_backward_with_retain_graph():
    model, x, y, loss = xor_setup()
    before = viz.to_dot(loss, model.named_parameters())
    assert "‖grad‖" not in before
    loss.backward(retain_graph=True)
    nodes, _ = parse_dot(viz.to_dot(loss, model.named_parameters()))
    for name, p in model.named_parameters():
        label = next(lab for lab in labels(nodes) if lab.split(" ")[0].split("\n")[0] == name)
        expected = float(np.linalg.norm(p.grad.numpy()))
        shown = float(re.search(r"‖grad‖ = (\S+)", label).group(1))
        assert shown == pytest.approx(expected, rel=1e-3)
    # the data and the target have no gradient
    assert sum("‖grad‖" in lab for lab in labels(nodes)) == 4


def test_dot_of_a_freed_graph_says_how_to_keep_it():
    _, _, _, loss = xor_setup()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"before backward\(\).*retain_graph=True"):
        viz.to_dot(loss)


def test_dot_of_shared_inputs_has_one_node_and_two_edges():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    out = (x * x).sum()
    nodes, edges = parse_dot(viz.to_dot(out, {"x": x}))
    xs = [k for k, a in nodes.items() if a["label"].split("\n")[0] == "x"]
    assert len(xs) == 1
    assert sum(a == xs[0] for a, _, _ in edges) == 2


def test_dot_escapes_quotes_in_names():
    w = mt.tensor([1.0], requires_grad=True)
    nodes, _ = parse_dot(viz.to_dot((w * 2).sum(), {'my "w"': w}))
    assert any(lab.startswith('my "w"') for lab in labels(nodes))


# ------------------------------------------------------------------ render
def test_render_without_dot_writes_the_dot_file(tmp_path, monkeypatch, capsys):
    model, x, y, loss = xor_setup()
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    path = viz.render(loss, tmp_path / "graph.svg", names=dict(model.named_parameters()))
    assert path == tmp_path / "graph.dot"
    assert path.read_text(encoding="utf-8") == viz.to_dot(loss, dict(model.named_parameters()))
    assert not (tmp_path / "graph.svg").exists()
    out = capsys.readouterr().out
    assert f"dot -Tsvg {path} -o {tmp_path / 'graph.svg'}" in out


def _fake_dot(tmp_path, body: str):
    exe = tmp_path / "dot"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


def test_render_with_dot_calls_it_with_the_source(tmp_path, monkeypatch):
    """A stand-in `dot` that records its arguments and copies stdin to the -o file."""
    _, _, _, loss = xor_setup()
    fake = _fake_dot(tmp_path, 'echo "$@" > "$(dirname "$0")/args"\ncat > "$3"\n')
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: fake if name == "dot" else None)
    path = viz.render(loss, tmp_path / "out" / "graph", format="png")
    assert path == tmp_path / "out" / "graph.png"
    assert path.read_text(encoding="utf-8") == viz.to_dot(loss)
    assert (tmp_path / "args").read_text().split() == ["-Tpng", "-o", str(path)]


def test_render_takes_the_format_from_the_path(tmp_path, monkeypatch):
    _, _, _, loss = xor_setup()
    fake = _fake_dot(tmp_path, 'echo "$@" > "$(dirname "$0")/args"\ncat > "$3"\n')
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: fake if name == "dot" else None)
    path = viz.render(loss, tmp_path / "graph.png")
    assert (tmp_path / "args").read_text().split() == ["-Tpng", "-o", str(path)]
    with pytest.raises(ValueError, match="'png' but format='svg'"):
        viz.render(loss, tmp_path / "graph.png", format="svg")


def test_render_reports_a_failing_dot(tmp_path, monkeypatch):
    _, _, _, loss = xor_setup()
    fake = _fake_dot(tmp_path, 'echo "Error: syntax error in line 1" >&2\nexit 1\n')
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: fake)
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        viz.render(loss, tmp_path / "graph.svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_real_graphviz(tmp_path):
    model, _, _, loss = xor_setup()
    path = viz.render(loss, tmp_path / "graph.svg", names=model.named_parameters())
    svg = path.read_text(encoding="utf-8")
    assert path.suffix == ".svg" and "<svg" in svg
    assert "2.weight" in svg and "TanhBackward" in svg


def test_the_docs_xor_graph_is_drawn_by_the_current_code(load_example):
    """docs/xor_graph.svg (shown in the README) has every label line the current code writes for
    the explain_xor example's graph, gradient norms included, and no other: a drawing left behind by
    a change in the model, the labels or the gradients fails here."""
    example = load_example("explain_xor")
    x, y = example.gate_data("XOR", dtype=mt.float64)
    model = example.make_model()
    loss = F.binary_cross_entropy(model(x), y)
    loss.backward(retain_graph=True)  # as the example draws it: with gradient norms
    expected = dot_texts(viz.to_dot(loss, {"X": x, "y": y, **dict(model.named_parameters())}))
    drawn = svg_texts((DOCS / "xor_graph.svg").read_text(encoding="utf-8"))
    assert drawn == expected, (
        "docs/xor_graph.svg is stale: run python examples/explain_xor.py (with Graphviz installed) and "
        "copy examples/out/xor/xor_graph.svg to docs/"
    )


# ------------------------------------------------------------------ a small CNN
def test_dot_names_the_conv_pooling_and_normalisation_layers():
    mt.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(18, 3)
    )
    loss = F.cross_entropy(model(mt.randn(4, 1, 8, 8)), mt.tensor([0, 1, 2, 1]))
    nodes, _ = parse_dot(viz.to_dot(loss, model.named_parameters()))
    ops = {a["label"].split("\n")[0]: a for a in nodes.values() if a["shape"] == "box"}
    # each box names the layer that made its output, with its inputs, as explain's forward listing
    assert ops["ConvBackward"]["label"].split("\n")[1] == "Z1 = Conv2d(X, W1, b1)  (4, 2, 6, 6) float32"
    assert ops["MaxPoolBackward"]["label"].split("\n")[1].startswith("Z2 = MaxPool2d(A1)  ")
    assert ops["BatchNormBackward"]["label"].split("\n")[1].startswith("Z3 = BatchNorm(Z2)  ")
    # the tooltip: the rule as the engine runs it, then in words
    conv_tip = ops["ConvBackward"]["tooltip"]
    assert conv_tip.startswith(mt.ops.conv.Conv.formula + "\n")
    assert "full correlation of the upstream gradient" in conv_tip and "transposed convolution" in conv_tip
    assert "window's (first) maximum" in ops["MaxPoolBackward"]["tooltip"]


def test_dot_shortens_a_long_expression():
    xs = [mt.ones(1, requires_grad=True) for _ in range(30)]
    nodes, _ = parse_dot(viz.to_dot(mt.cat(xs).sum()))
    cat = next(a for a in nodes.values() if a["label"].startswith("CatBackward"))
    assert cat["label"].split("\n")[1].startswith("cat1 = Cat(…)  (30,) float32")
