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


def save(fig, name: str, dataset: str) -> Path:
    """Save a figure as examples/out/<dataset>/<name>: one folder per data set, so a run on
    one data set never overwrites another's figures."""
    folder = OUT / dataset
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"saved {path}")
    return path


def grid(n: int = 101) -> tuple[mt.Tensor, list[float]]:
    """Points covering [-0.25, 1.25]² (for drawing decision boundaries) and the axis values."""
    axis = [-0.25 + 1.5 * i / (n - 1) for i in range(n)]
    pts = [[a, b] for b in axis for a in axis]
    return mt.tensor(pts), axis


def boundary_panel(ax, fig, axis, z, x, y, title: str, colorbar: bool = True) -> None:
    """Draw P(y = 1) over the input square on a fixed 0-1 colour scale, the P = 0.5 boundary,
    and the four data points coloured by their target, with labelled axes and a legend."""
    import numpy as np

    levels = np.linspace(0.0, 1.0, 21)  # fixed scale: a flat P = 0.5 model shows as one band
    filled = ax.contourf(axis, axis, z, levels=levels, cmap="RdBu_r", vmin=0.0, vmax=1.0)
    if z.min() < 0.5 < z.max():
        ax.contour(axis, axis, z, levels=[0.5], colors="k", linewidths=1.5)
    points, targets = x.numpy(), y.numpy().ravel()
    for value, colour in ((0, "#2166ac"), (1, "#b2182b")):
        sel = targets == value
        ax.scatter(*points[sel].T, c=colour, edgecolors="k", s=140, label=f"target {value}", zorder=3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)
    ax.legend(loc="center", fontsize=8, framealpha=0.9)
    if colorbar:
        fig.colorbar(filled, ax=ax, label="P(y = 1)  (black line: P = 0.5)", ticks=[0, 0.25, 0.5, 0.75, 1])


def progress(items: Iterable, total: int, desc: str = "", every: float = 0.2, stream=None) -> Iterator:
    """A minimal progress bar (tqdm's look without the dependency).

    On a terminal the bar is redrawn in place; otherwise (a log file, CI, a pipe) nothing
    is drawn while it runs and one summary line is written at the end, so logs get one
    line per loop (per epoch) instead of carriage-return updates.
    """
    stream = stream if stream is not None else sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    start = last = time.perf_counter()
    i = 0
    for i, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        if tty and (now - last >= every or i == total):
            last = now
            done = int(30 * i / total) if total else 30
            rate = i / (now - start) if now > start else 0.0
            stream.write(f"\r{desc} [{'#' * done}{'.' * (30 - done)}] {i}/{total} {rate:.0f} it/s")
            if i == total:
                stream.write("\n")
            stream.flush()
    if not tty:
        seconds = time.perf_counter() - start
        stream.write(f"{desc}: {i}/{total} in {seconds:.1f} s\n")
        stream.flush()
