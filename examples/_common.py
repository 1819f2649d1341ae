"""Small helpers shared by the examples: optional plotting, a progress bar, the XOR data."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import microtensor as mt

OUT = Path(__file__).resolve().parent / "out"

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
GATES = {"AND": [0.0, 0.0, 0.0, 1.0], "OR": [0.0, 1.0, 1.0, 1.0], "XOR": [0.0, 1.0, 1.0, 0.0]}


def gate_data(name: str, dtype=None) -> tuple[mt.Tensor, mt.Tensor]:
    """The four input rows of a 2-input logic gate and its (4, 1) targets."""
    x = mt.tensor(XOR_X, dtype=dtype)
    y = mt.tensor([[v] for v in GATES[name]], dtype=dtype)
    return x, y


def fit_logistic(features: mt.Tensor, y: mt.Tensor, steps: int, lr: float = 1.0, seed: int = 0):
    """One layer, sigmoid(w·x + b), trained by SGD on binary cross-entropy (from logits).

    Returns the layer, the final loss and the accuracy (a logit > 0 predicts 1).
    """
    import microtensor.nn as nn
    import microtensor.nn.functional as F

    mt.manual_seed(seed)
    layer = nn.Linear(features.shape[1], 1)
    opt = mt.optim.SGD(layer.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(layer(features), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with mt.no_grad():
        accuracy = ((layer(features) > 0).float() == y).float().mean().item()
    return layer, loss.item(), accuracy


def pyplot():
    """matplotlib.pyplot with a file-only backend, or None (plots are an optional extra)."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: skipped the plots (pip install 'microtensor[plot]')")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"saved {path}")
    return path


def grid(n: int = 101) -> tuple[mt.Tensor, list[float]]:
    """Points covering [-0.25, 1.25]² (for drawing decision boundaries) and the axis values."""
    axis = [-0.25 + 1.5 * i / (n - 1) for i in range(n)]
    pts = [[a, b] for b in axis for a in axis]
    return mt.tensor(pts), axis


def progress(items: Iterable, total: int, desc: str = "", every: float = 0.2) -> Iterator:
    """A minimal text progress bar on stderr (tqdm's look without the dependency)."""
    start = last = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if now - last >= every or i == total:
            last = now
            done = int(30 * i / total)
            rate = i / (now - start) if now > start else 0.0
            sys.stderr.write(f"\r{desc} [{'#' * done}{'.' * (30 - done)}] {i}/{total} {rate:.0f} it/s")
            if i == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
