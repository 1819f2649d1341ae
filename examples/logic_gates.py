"""AND and OR are linearly separable; XOR is not.

A single layer (logistic regression: sigmoid(w·x + b), binary cross-entropy)
learns AND and OR perfectly: its decision boundary w1·x1 + w2·x2 + b = 0 is a
straight line, and one line splits those truth tables. No line splits XOR's
(0,1),(1,0) from (0,0),(1,1), so the same model is stuck at 3 of 4 correct at best.

Run:  python examples/logic_gates.py [--steps 3000]
"""

from __future__ import annotations

import argparse

from _common import GATES, fit_logistic, gate_data, grid, pyplot, save

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
        fig, axes = plt.subplots(1, 3, figsize=(12, 4))
        for ax, (name, layer) in zip(axes, layers.items()):
            with mt.no_grad():
                z = layer(pts).sigmoid().reshape(len(axis), len(axis)).numpy()
            ax.contourf(axis, axis, z, levels=20, cmap="RdBu_r", alpha=0.7)
            ax.contour(axis, axis, z, levels=[0.5], colors="k")
            x, y = gate_data(name)
            ax.scatter(*x.numpy().T, c=y.numpy().ravel(), cmap="RdBu_r", edgecolors="k", s=120)
            ax.set_title(f"{name}: accuracy {results[name]:.0%}")
        save(fig, "logic_gates.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    main(parser.parse_args().steps)
