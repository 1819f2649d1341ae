"""AND and OR are linearly separable; XOR is not.

A single layer (logistic regression: sigmoid(w·x + b), binary cross-entropy)
learns AND and OR perfectly: its decision boundary w1·x1 + w2·x2 + b = 0 is a
straight line, and one line splits those truth tables. No line splits XOR's
(0,1),(1,0) from (0,0),(1,1), so the same model is stuck at 3 of 4 correct at best.

Run:  python examples/logic_gates.py [--steps 3000]
"""

from __future__ import annotations

import argparse

from _common import GATES, boundary_panel, fit_logistic, gate_data, grid, pyplot, save

import microtensor as mt


def main(steps: int = 3000, plot: bool = True) -> dict[str, float]:
    results = {}
    layers = {}
    print("gate | accuracy | loss   | boundary w1·x1 + w2·x2 + b = 0")
    for name in GATES:
        layer, loss, acc = fit_logistic(*gate_data(name), steps)
        (w1, w2), b = layer.weight.detach().tolist()[0], layer.bias.item()
        print(f"{name:4} |   {acc:4.0%}   | {loss:.4f} | {w1:+.2f}·x1 {w2:+.2f}·x2 {b:+.2f} = 0")
        results[name] = acc
        layers[name] = layer
    print("\nAND and OR: solved by a straight line. XOR: no line separates it (at most 75%).")
    if plot and (plt := pyplot()):
        pts, axis = grid()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for i, (ax, (name, layer)) in enumerate(zip(axes, layers.items())):
            with mt.no_grad():
                z = layer(pts).sigmoid().reshape(len(axis), len(axis)).numpy()
            x, y = gate_data(name)
            boundary_panel(ax, fig, axis, z, x, y, f"{name}: one layer, accuracy {results[name]:.0%}", i == 2)
            if z.max() - z.min() < 0.2:
                # The best a line can do on XOR is to say 1/2 everywhere: explain the flat panel.
                ax.text(
                    0.5,
                    0.7,
                    f"P(y = 1) ≈ {z.mean():.2f} everywhere:\nno straight line splits XOR",
                    ha="center",
                    va="center",
                    fontsize=9,
                    bbox={"fc": "white", "ec": "gray"},
                    transform=ax.transAxes,
                )
        fig.suptitle("Logic gates (AND, OR, XOR truth tables): logistic regression, P(y = 1) over (x1, x2)")
        save(fig, "logic_gates.png", "logic_gates")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    main(parser.parse_args().steps)
