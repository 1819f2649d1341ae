"""Momentum on the smallest XOR network: 2 inputs -> 2 tanh -> 1 tanh output, squared error.

The perceptron-to-MLP tutorial trains this 2-2-1 network by SGD and adds a
momentum term, v ← μ·v + g, w ← w − lr·v, which keeps moving along directions
where successive gradients agree: it crosses the plateaus of this tiny
network's loss surface faster. Reports steps until the squared error drops
below 0.01, over several seeds, for μ = 0 (plain SGD), 0.4 (the tutorial's)
and 0.9. Small networks like this one can also get stuck: those runs count as
not converged. Saves the loss curves of seed 0 and the steps per seed to
examples/out/xor/momentum.png.

Run:  python examples/momentum.py [--steps 3000] [--seeds 8]
"""

from __future__ import annotations

import argparse
import statistics

from _common import gate_data, progress, pyplot, save

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

MOMENTA = (0.0, 0.4, 0.9)


def steps_to_converge(
    momentum: float, seed: int, steps: int, lr: float = 0.1, tol: float = 0.01, curve: list | None = None
) -> int | None:
    """Train the 2-2-1 network; the first step whose squared error is below `tol` (None if
    never). The loss of every step is appended to `curve` when one is given."""
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1), nn.Tanh())
    opt = mt.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    x, y = gate_data("XOR")
    for step in range(1, steps + 1):
        loss = F.mse_loss(model(x), y)
        if curve is not None:
            curve.append(loss.item())
        if loss.item() < tol:
            return step
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None


def main(steps: int = 3000, seeds: int = 8, plot: bool = True) -> dict[float, list]:
    jobs = [(m, s) for m in MOMENTA for s in range(seeds)]
    results: dict[float, list] = {m: [] for m in MOMENTA}
    curves: dict[float, list] = {m: [] for m in MOMENTA}
    for m, s in progress(jobs, len(jobs), "training"):
        results[m].append(steps_to_converge(m, s, steps, curve=curves[m] if s == 0 else None))
    print(f"steps until squared error < 0.01 (budget {steps}, lr 0.1; '-' = not converged)")
    print("seed | " + " | ".join(f"μ={m:<4}" for m in MOMENTA))
    for s in range(seeds):
        print(f"{s:4d} | " + " | ".join(f"{results[m][s] or '-':>6}" for m in MOMENTA))
    for m in MOMENTA:
        done = [r for r in results[m] if r]
        median = f"{statistics.median(done):.0f}" if done else "-"
        print(f"momentum {m}: converged {len(done)}/{seeds}, median {median} steps")
    if plot and (plt := pyplot()):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        for m in MOMENTA:
            ax1.plot(range(1, len(curves[m]) + 1), curves[m], label=f"momentum {m}")
        ax1.axhline(0.01, ls="--", c="gray", label="stop at 0.01")
        ax1.set_yscale("log")
        ax1.set_xlabel("step")
        ax1.set_ylabel("squared error (mean)")
        ax1.set_title("XOR, 2-2-1 tanh: loss of seed 0 (SGD lr 0.1)")
        ax1.legend()
        width = 0.8 / len(MOMENTA)
        for k, m in enumerate(MOMENTA):
            # Runs that never converge are drawn at the budget, hatched.
            heights = [r or steps for r in results[m]]
            bars = ax2.bar([s + (k - 1) * width for s in range(seeds)], heights, width, label=f"momentum {m}")
            for bar, r in zip(bars, results[m]):
                if r is None:
                    bar.set_hatch("//")
        ax2.axhline(steps, ls=":", c="gray", label=f"budget {steps} (hatched: not converged)")
        ax2.set_xlabel("seed")
        ax2.set_ylabel("steps until squared error < 0.01")
        ax2.set_title("XOR, 2-2-1 tanh: steps to converge per seed")
        ax2.set_xticks(range(seeds))
        ax2.set_ylim(0, steps * 1.4)  # room for the legend above the budget line
        ax2.legend(fontsize=8)
        save(fig, "momentum.png", "xor")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    main(args.steps, args.seeds)
