"""Parsing the DOT source that microtensor.viz writes (shared by the viz tests)."""

from __future__ import annotations

import html
import re

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NODE = re.compile(r"^\s*(\w+)\s*\[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+)\s*->\s*(\w+)(?:\s*\[(.*)\])?;$")


def parse_dot(src: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, str]]]:
    """A small parser for the DOT subset to_dot writes: nodes with attributes, edges, and
    `subgraph cluster_NAME { graph [label=...]; nodes }` blocks (a node declared in one gets the
    attributes "_cluster" = NAME and "_cluster_label" = its label).

    Fails on anything else, on unbalanced braces/brackets (outside quoted strings) and on
    edges that name undeclared nodes.
    """
    bare = _QUOTED.sub('""', src)
    n_sub = len(re.findall(r"^\s*subgraph cluster_\w+ \{$", bare, flags=re.MULTILINE))
    assert bare.count("{") == bare.count("}") == 1 + n_sub, "balanced digraph { ... } and subgraph blocks"
    assert bare.count("[") == bare.count("]")
    lines = src.strip().splitlines()
    assert re.fullmatch(r"digraph \w+ \{", lines[0]) and lines[-1] == "}"
    nodes: dict[str, dict[str, str]] = {}
    edges = []
    cluster: dict[str, str] | None = None
    for line in lines[1:-1]:
        if m := re.match(r"^\s*subgraph (cluster_\w+) \{$", line):
            assert cluster is None, "clusters are not nested"
            cluster = {"_cluster": m.group(1)}
            continue
        if cluster is not None and line.strip() == "}":
            cluster = None
            continue
        if m := re.match(r"^\s*(graph|node|edge) \[(.*)\];$", line):
            if cluster is not None and m.group(1) == "graph":
                cluster["_cluster_label"] = _attributes(m.group(2)).get("label", "")
            continue
        if m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
        elif m := _NODE.match(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = {**_attributes(m.group(2)), **(cluster or {})}
        else:
            raise AssertionError(f"unparsed DOT line: {line!r}")
    assert cluster is None, "an unclosed subgraph"
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} names an undeclared node"
    return nodes, edges


def _attributes(text: str) -> dict[str, str]:
    attrs = {}
    for key, value in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', text):
        attrs[key] = value[1:-1].replace("\\n", "\n").replace('\\"', '"') if value[0] == '"' else value
    return attrs


def dot_texts(src: str) -> list[str]:
    """Every line of text a drawing of the DOT source shows: node, cluster and edge labels, sorted."""
    nodes, edges = parse_dot(src)
    lines = [line for a in nodes.values() for line in a["label"].split("\n")]
    for label in {a["_cluster_label"] for a in nodes.values() if "_cluster_label" in a}:
        lines += label.split("\n")
    lines += [_attributes(attrs)["label"] for _, _, attrs in edges if "label=" in attrs]
    return sorted(lines)


def svg_texts(svg: str) -> list[str]:
    """Every line of text in an SVG that Graphviz drew, sorted (it draws "  " as " &#160;")."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return sorted(html.unescape(t).replace("\xa0", " ") for t in texts)
