"""Sigmoid vs tanh hidden units on XOR: same network, same seeds, same step budget.

tanh is zero-centred and its slope at 0 is 1 (sigmoid's is 1/4), so the
gradients that reach the first layer are larger and learning is faster.
Prints the steps each needs to reach a loss of 0.01, per seed.

Run:  python examples/sigmoid_vs_tanh.py [--steps 5000] [--seeds 5]
"""

from __future__ import annotations

import argparse

from _common import gate_data, progress, pyplot, save

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def run(hidden: str, seed: int, steps: int, lr: float = 0.5, target: float = 0.01) -> tuple[int | None, list]:
    """Train 2-4-1 on XOR; return the first step with loss < target (None if never) and the curve."""
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), ACTIVATIONS[hidden](), nn.Linear(4, 1), nn.Sigmoid())
    opt = mt.optim.SGD(model.parameters(), lr=lr)
    x, y = gate_data("XOR")
    curve, reached = [], None
    for step in range(1, steps + 1):
        loss = F.binary_cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(loss.item())
        if reached is None and curve[-1] < target:
            reached = step
    return reached, curve


def main(steps: int = 5000, seeds: int = 5, plot: bool = True) -> dict[str, list]:
    reached = {name: [] for name in ACTIVATIONS}
    curves = {}
    jobs = [(name, seed) for seed in range(seeds) for name in ACTIVATIONS]
    for name, seed in progress(jobs, len(jobs), "training"):
        r, curve = run(name, seed, steps)
        reached[name].append(r)
        curves.setdefault(name, curve)
    print(f"steps to reach loss 0.01 (budget {steps}; '-' = not reached)")
    print("seed | " + " | ".join(f"{n:>7}" for n in ACTIVATIONS))
    for seed in range(seeds):
        print(f"{seed:4d} | " + " | ".join(f"{reached[n][seed] or '-':>7}" for n in ACTIVATIONS))
    for name, rs in reached.items():
        done = [r for r in rs if r]
        mean = f"{sum(done) / len(done):.0f}" if done else "-"
        print(f"{name}: reached in {len(done)}/{seeds} runs, mean {mean} steps")
    if plot and (plt := pyplot()):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, c in curves.items():
            ax.plot(range(1, len(c) + 1), c, label=f"{name} hidden (seed 0)")
        ax.axhline(0.01, ls="--", c="gray", label="target loss 0.01")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("binary cross-entropy")
        ax.set_title("XOR, 2-4-1: sigmoid vs tanh hidden units (SGD lr 0.5)")
        ax.legend()
        save(fig, "sigmoid_vs_tanh.png", "xor")
    return reached


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    main(args.steps, args.seeds)
