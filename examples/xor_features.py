"""Making XOR linearly separable without a hidden layer, by choosing features.

One layer draws one straight boundary, which cannot split XOR in the raw
inputs (see logic_gates.py). Give it better features and it can:
  (a) logic features  x1·(1−x2) = "x1 AND NOT x2"  and  (1−x1)·x2 = "NOT x1 AND x2":
      XOR is their OR, which a line separates — 2 features;
  (b) polynomial features  x1, x2, x1², x1·x2, x2²: XOR = x1 + x2 − 2·x1·x2 is linear
      in them — 5 features (x1·x2 together with x1 and x2 is what matters).

Run:  python examples/xor_features.py [--steps 3000]
"""

from __future__ import annotations

import argparse

from _common import boundary_panel, fit_logistic, gate_data, grid, pyplot, save

import microtensor as mt


def logic_features(x: mt.Tensor) -> mt.Tensor:
    x1, x2 = x[:, 0:1], x[:, 1:2]
    return mt.cat([x1 * (1 - x2), (1 - x1) * x2], dim=1)


def polynomial_features(x: mt.Tensor) -> mt.Tensor:
    x1, x2 = x[:, 0:1], x[:, 1:2]
    return mt.cat([x1, x2, x1 * x1, x1 * x2, x2 * x2], dim=1)


FEATURES = {
    "raw inputs": lambda x: x,
    "logic features": logic_features,
    "polynomial features": polynomial_features,
}


def main(steps: int = 3000, plot: bool = True) -> dict[str, dict]:
    results = {}
    print("features            | count | accuracy | loss")
    for name, transform in FEATURES.items():
        x, y = gate_data("XOR")
        layer, loss, acc = fit_logistic(transform(x), y, steps)
        results[name] = {"features": layer.in_features, "accuracy": acc, "loss": loss, "layer": layer}
        print(f"{name:19} |   {layer.in_features}   |   {acc:4.0%}   | {loss:.4f}")
    print("\nWith the right features a single straight boundary (in feature space) solves XOR.")
    if plot and (plt := pyplot()):
        pts, axis = grid()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        x, y = gate_data("XOR")
        for i, (ax, (name, transform)) in enumerate(zip(axes, FEATURES.items())):
            with mt.no_grad():
                z = results[name]["layer"](transform(pts)).sigmoid().reshape(len(axis), len(axis)).numpy()
            title = f"{name} ({results[name]['features']}): accuracy {results[name]['accuracy']:.0%}"
            boundary_panel(ax, fig, axis, z, x, y, title, i == 2)
        fig.suptitle("XOR truth table: one layer on raw inputs vs on chosen features, P(y = 1) over (x1, x2)")
        save(fig, "xor_features.png", "xor")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    main(parser.parse_args().steps)
