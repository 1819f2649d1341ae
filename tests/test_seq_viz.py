"""viz draws a repeated block once: a tiny GPT's blocks and an LSTMCell unrolled over time become one
cluster ("Block × 4 layers", "LSTMCell × 20 time steps") whose drawing does not grow with the number
of layers or steps; collapse=False draws every op."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from _dot import dot_texts, parse_dot, svg_texts

import microtensor as mt
import microtensor.nn as nn
from microtensor import viz
from microtensor.explain import RecordedGraph

DOCS = Path(__file__).resolve().parent.parent / "docs"


def gpt_loss(load_example, n_layer: int):
    tiny_gpt = load_example("tiny_gpt")
    mt.manual_seed(0)
    gpt = tiny_gpt.GPT(11, 8, n_embd=8, n_head=2, n_layer=n_layer)
    idx = mt.randint(0, 11, (2, 8))
    _, loss = gpt(idx, idx)
    return gpt, loss


def lstm_loss(steps: int):
    mt.manual_seed(0)
    cell = nn.LSTMCell(3, 5)
    x = mt.randn(steps, 2, 3)
    hc = None
    for t in range(steps):
        hc = cell(x[t], hc)
    return cell, hc[0].sum()


def clusters(nodes) -> dict[str, list[dict]]:
    """cluster label -> the nodes drawn inside it."""
    found: dict[str, list[dict]] = {}
    for attrs in nodes.values():
        if "_cluster" in attrs:
            found.setdefault(attrs["_cluster_label"], []).append(attrs)
    return found


def first_line(attrs) -> str:
    return attrs["label"].split("\n")[0]


def edge_labels(nodes, edges) -> list[tuple[str, str, str]]:
    """(from node's first label line, to node's first label line, edge label) for labelled edges."""
    out = []
    for a, b, attrs in edges:
        m = re.search(r'label="([^"]*)"', attrs)
        if m:
            out.append((first_line(nodes[a]), first_line(nodes[b]), m.group(1)))
    return out


def test_gpt_blocks_are_one_cluster_whatever_the_depth(load_example):
    sizes = set()
    for n in (2, 4, 6):
        gpt, loss = gpt_loss(load_example, n)
        nodes, edges = parse_dot(viz.to_dot(loss, gpt))
        found = clusters(nodes)
        assert list(found) == [f"Block × {n} layers\nblocks.0 … blocks.{n - 1}"]
        inside = found[f"Block × {n} layers\nblocks.0 … blocks.{n - 1}"]
        ops = [first_line(a) for a in inside if a["shape"] == "box"]
        # one block: ln1, qkv, attention, proj, residual, ln2, mlp (2 Linear + ReLU), residual
        assert ops.count("ScaledDotProductAttentionBackward") == 1
        assert ops.count("LayerNormBackward") == 2 and ops.count("LinearBackward") == 4
        assert ops.count("AddBackward") == 2 and ops.count("ReluBackward") == 1
        # the embedding sum before the blocks and ln_f after them stay outside
        outside = [first_line(a) for a in nodes.values() if "_cluster" not in a and a["shape"] == "box"]
        assert outside.count("LayerNormBackward") == 1 and outside.count("AddBackward") == 1
        # each layer's own parameters: the first layer's, drawn once, standing for n
        params = [a for a in inside if a["shape"] == "ellipse"]
        assert len(params) == 12 and all(a["label"].startswith("blocks.0.") for a in params)
        assert all(f"one per layer: × {n}" in a["label"] for a in params)
        labelled = edge_labels(nodes, edges)
        # the residual stream carried from layer l to l + 1 (into ln1 and into the first residual add)
        carried = sorted(b for a, b, lab in labelled if lab == "layer l → l+1")
        assert carried == ["AddBackward", "LayerNormBackward"]
        assert ("AddBackward", "LayerNormBackward", f"from layer {n}") in labelled
        sizes.add((len(nodes), len(edges)))
    assert len(sizes) == 1, f"the collapsed drawing grew with the depth: {sizes}"

    full_nodes, full_edges = parse_dot(viz.to_dot(loss, gpt, collapse=False))
    assert not clusters(full_nodes)
    assert len(full_nodes) == len(RecordedGraph(loss).order)  # every tensor of the 6-layer graph
    assert len(full_nodes) > 3 * min(sizes)[0]


def test_lstm_cell_unrolled_is_one_cluster_and_its_weights_sum_over_time():
    sizes = set()
    for steps in (5, 20, 40):
        cell, loss = lstm_loss(steps)
        nodes, edges = parse_dot(viz.to_dot(loss, cell))
        found = clusters(nodes)
        assert list(found) == [f"LSTMCell × {steps} time steps"]
        ops = [first_line(a) for a in found[f"LSTMCell × {steps} time steps"] if a["shape"] == "box"]
        assert sorted(ops) == sorted(
            ["LinearBackward", "LinearBackward", "AddBackward", "LSTMGatesBackward"] + ["GetItemBackward"] * 2
        )
        # the weights every step reads stay outside, each with its gradient as the sum over the steps
        weights = {first_line(a): a["label"] for a in nodes.values() if "_cluster" not in a}
        for name, _ in cell.named_parameters():
            assert f"grad = Σ_t (grad at step t), t = 1…{steps}" in weights[name]
            assert "backprop through time" in weights[name]
        labelled = edge_labels(nodes, edges)
        assert sorted(a for a, b, lab in labelled if lab == f"× {steps}") == sorted(
            name for name, _ in cell.named_parameters()
        )
        # h and c carried from step t to t + 1; the loss reads h of the last step
        carried = sorted((a, b) for a, b, lab in labelled if lab == "step t → t+1")
        assert carried == [("GetItemBackward", "LSTMGatesBackward"), ("GetItemBackward", "LinearBackward")]
        assert ("GetItemBackward", "SumBackward", f"from step {steps}") in labelled
        sizes.add((len(nodes), len(edges)))
    assert len(sizes) == 1, f"the collapsed drawing grew with the steps: {sizes}"
    full_nodes, _ = parse_dot(viz.to_dot(loss, cell, collapse=False))
    assert len(full_nodes) == len(RecordedGraph(loss).order) > 5 * min(sizes)[0]


def test_without_a_module_the_block_is_named_by_its_structure():
    cell, loss = lstm_loss(20)
    for names in (None, cell.named_parameters()):
        nodes, _ = parse_dot(viz.to_dot(loss, names))
        assert list(clusters(nodes)) == ["block × 20 time steps"]


def test_gradient_norms_are_the_whole_gradients_after_backward():
    cell, loss = lstm_loss(20)
    loss.backward(retain_graph=True)
    nodes, _ = parse_dot(viz.to_dot(loss, cell))
    for name, p in cell.named_parameters():
        label = next(a["label"] for a in nodes.values() if first_line(a) == name)
        shown = float(re.search(r"‖grad‖ = (\S+)", label).group(1))
        assert shown == pytest.approx(float((p.grad * p.grad).sum().sqrt()), rel=1e-3)


def test_render_passes_collapse_on(tmp_path):
    cell, loss = lstm_loss(20)
    path = viz.render(loss, tmp_path / "lstm.dot", names=cell, collapse=False)
    assert path.read_text(encoding="utf-8") == viz.to_dot(loss, cell, collapse=False)
    assert "cluster" not in path.read_text(encoding="utf-8")
    path = viz.render(loss, tmp_path / "lstm2.dot", names=cell)
    assert "LSTMCell × 20 time steps" in path.read_text(encoding="utf-8")


def test_the_docs_lstm_drawing_is_drawn_by_the_current_code():
    """docs/lstm_cell_graph.svg (docs/gradients.md) shows exactly the text the current code writes
    for its graph: the cluster, the BPTT sums, the edge labels. Regenerate it after a change with
    mt.viz.render(loss, "docs/lstm_cell_graph.svg", names=cell) on lstm_loss(20)'s graph."""
    cell, loss = lstm_loss(20)
    svg = (DOCS / "lstm_cell_graph.svg").read_text(encoding="utf-8")
    assert svg_texts(svg) == dot_texts(viz.to_dot(loss, cell)), "docs/lstm_cell_graph.svg is stale"


def test_a_short_coincidence_in_a_large_graph_is_not_a_block():
    x = mt.randn(2, 3, 4, 5, requires_grad=True)

    def pattern(t):  # four ops, applied twice below
        return t.exp().sin().tanh().sigmoid()

    y = pattern(pattern(x))
    assert clusters(parse_dot(viz.to_dot(y.sum()))[0])  # on its own, the pattern is the graph: a block
    for perm in itertools.permutations(range(4)):  # 23 ops (not the identity), no two alike
        y = y.permute(*perm)
    y = y.reshape(6, 20).t().reshape(-1)  # 35 ops in all: the 8 repeated are under a quarter
    nodes, _ = parse_dot(viz.to_dot(y.sum()))
    assert not clusters(nodes) and len(nodes) == len(RecordedGraph(y.sum()).order)
    assert "Repeated structure" not in mt.explain(y.sum(), file=io.StringIO())


def test_a_two_layer_lstm_is_one_node_per_layer_whatever_the_length():
    """nn.LSTM(num_layers=2) runs each layer's loop over time inside one op (LSTMLayer): the
    drawing has one node per layer, the same for 6 steps as for 12, and the local rule shown for
    it (tooltip and explain) is backpropagation through time, the sum over the time steps."""
    sizes = set()
    for steps in (6, 12):
        mt.manual_seed(0)
        lstm = nn.LSTM(3, 4, num_layers=2)
        out, _ = lstm(mt.randn(steps, 2, 3))
        loss = out.sum()
        nodes, edges = parse_dot(viz.to_dot(loss, lstm))
        layers = [a for a in nodes.values() if first_line(a) == "LSTMLayerBackward"]
        assert len(layers) == 2
        for a in layers:
            assert "backpropagation through time" in a["tooltip"] and "Σ_t ∂a_tᵀ·h_{t−1}" in a["tooltip"]
        sizes.add((len(nodes), len(edges)))
        text = mt.explain(loss, lstm, file=io.StringIO())
        assert text.count("in words    backpropagation through time") == 2
    assert len(sizes) == 1
