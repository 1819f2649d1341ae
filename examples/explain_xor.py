"""The chain rule of the tutorials, written out by microtensor for the XOR network.

The tutorials derive by hand, for 2 -> 4 tanh -> 1 sigmoid with mean binary cross-entropy:
    dZ2 = (A2 − y)/m      dW2 = dZ2ᵀ·A1      dZ1 = (dZ2·W2) ⊙ (1 − A1²)      dW1 = dZ1ᵀ·X
This script builds that network (nn.Sequential, float64) and

1. prints `mt.explain(loss, ...)` for W2 ("2.weight") and W1 ("0.weight"): the backward
   pass step by step, then each weight's gradient as a product of local derivatives
   with every op's rule substituted;
2. evaluates the chain explain printed, line by line in NumPy on the values recorded in
   the graph, and checks it against the hand-derived closed form
   (microtensor.reference.mlp_bce) and against autograd, to 1e-10;
3. draws the graph: examples/out/xor/xor_graph.svg (xor_graph.dot without Graphviz).

Run:  python examples/explain_xor.py
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from _common import OUT, gate_data

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor import reference
from microtensor.explain import symbols

# The lines explain prints for dL/dW1 (they include those for dL/dW2), each with the same
# rule in NumPy. v maps the printed names to arrays: recorded values (X, A1, ...) and the
# gradients computed by the lines above it (dL/dA2, ...).
CHAIN = [
    (
        "dL/dA2",
        "1 · (A2 − y) / clamp_min(A2 − A2 · A2, 1e-12) / n   (n = 4)",
        lambda v: (v["A2"] - v["y"]) / np.maximum(v["A2"] * (1 - v["A2"]), 1e-12) / v["A2"].size,
    ),
    ("dL/dZ2", "dL/dA2 · (A2 − A2 · A2)", lambda v: v["dL/dA2"] * v["A2"] * (1 - v["A2"])),
    ("dL/dW2", "rows(dL/dZ2)ᵀ @ rows(A1)", lambda v: v["dL/dZ2"].T @ v["A1"]),
    ("dL/dA1", "dL/dZ2 @ W2", lambda v: v["dL/dZ2"] @ v["W2"]),
    ("dL/dZ1", "dL/dA1 − dL/dA1 · A1 · A1", lambda v: v["dL/dA1"] * (1 - v["A1"] ** 2)),
    ("dL/dW1", "rows(dL/dZ1)ᵀ @ rows(X)", lambda v: v["dL/dZ1"].T @ v["X"]),
]


def make_model(seed: int = 0) -> nn.Sequential:
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()).double()


def evaluate_chain(text: str, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Find each CHAIN line in explain's text and compute it; returns the gradients by name."""
    v = dict(values)
    for lhs, rhs, rule in CHAIN:
        pattern = re.escape(lhs) + r"\s+= " + re.escape(rhs) + r"\s*$"
        if not re.search(pattern, text, flags=re.MULTILINE):
            raise AssertionError(f"explain did not print the line: {lhs} = {rhs}")
        v[lhs] = rule(v)
    return v


def main(out_dir: Path = OUT / "xor") -> dict:
    x, y = gate_data("XOR", dtype=mt.float64)
    model = make_model()
    params = dict(model.named_parameters())
    W1, W2 = params["0.weight"], params["2.weight"]

    loss = F.binary_cross_entropy(model(x), y)
    text = mt.explain(loss, {"2.weight": W2, "0.weight": W1})
    untouched = all(p.grad is None for p in model.parameters())

    # The chain as printed, evaluated on the values the graph recorded (X, A1, A2, y, W2, ...).
    recorded = {name: t.detach().numpy() for name, t in symbols(loss).items()}
    chain = evaluate_chain(text, recorded)
    w = {k: v.numpy() for k, v in model.state_dict().items()}
    _, hand = reference.mlp_bce(x.numpy(), y.numpy(), w["0.weight"], w["0.bias"], w["2.weight"], w["2.bias"])
    auto = dict(zip(("2.weight", "0.weight"), mt.autograd.grad(loss, [W2, W1], retain_graph=True)))
    m = recorded["A2"].size
    tutorial_dZ2 = (recorded["A2"] - recorded["y"]) / m  # σ'(Z2) cancels BCE's denominator

    print("\nThe chain above, evaluated line by line in NumPy on the recorded values:")
    worst_ref = worst_auto = 0.0
    for name, sym in (("2.weight", "dL/dW2"), ("0.weight", "dL/dW1")):
        d_ref = float(np.max(np.abs(chain[sym] - hand[name])))
        d_auto = float(np.max(np.abs(chain[sym] - auto[name].numpy())))
        worst_ref, worst_auto = max(worst_ref, d_ref), max(worst_auto, d_auto)
        print(
            f"  {sym} ({name}): max |chain − hand-derived (reference.mlp_bce)| = {d_ref:.1e}, "
            f"max |chain − autograd| = {d_auto:.1e}"
        )
    d_z2 = float(np.max(np.abs(chain["dL/dZ2"] - tutorial_dZ2)))
    print(f"  dL/dZ2 = dL/dA2 · A2 · (1 − A2) equals the tutorials' (A2 − y)/m: max difference {d_z2:.1e}")
    ok = max(worst_ref, worst_auto, d_z2) <= 1e-10
    print("  the printed chain is the hand derivation" if ok else "  MISMATCH (> 1e-10)")

    loss.backward(retain_graph=True)  # the drawing then shows each parameter's gradient norm
    graph = mt.viz.render(loss, Path(out_dir) / "xor_graph.svg", names={"X": x, "y": y, **params})
    print(f"saved {graph}")
    return {
        "text": text,
        "lines_checked": len(CHAIN),
        "grads_untouched_by_explain": untouched,
        "max_chain_vs_reference": worst_ref,
        "max_chain_vs_autograd": worst_auto,
        "max_dZ2_vs_tutorial": d_z2,
        "graph": graph,
    }


if __name__ == "__main__":
    main()
