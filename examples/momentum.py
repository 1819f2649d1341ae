"""Momentum on the smallest XOR network: 2 inputs -> 2 tanh -> 1 tanh output, squared error.

The perceptron-to-MLP tutorial trains this 2-2-1 network by SGD and adds a
momentum term, v ← μ·v + g, w ← w − lr·v, which keeps moving along directions
where successive gradients agree: it crosses the plateaus of this tiny
network's loss surface faster. Reports steps until the squared error drops
below 0.01, over several seeds, for μ = 0 (plain SGD), 0.4 (the tutorial's)
and 0.9. Small networks like this one can also get stuck: those runs count as
not converged.

Run:  python examples/momentum.py [--steps 3000] [--seeds 8]
"""

from __future__ import annotations

import argparse
import statistics

from _common import gate_data, progress

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

MOMENTA = (0.0, 0.4, 0.9)


def steps_to_converge(
    momentum: float, seed: int, steps: int, lr: float = 0.1, tol: float = 0.01
) -> int | None:
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1), nn.Tanh())
    opt = mt.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    x, y = gate_data("XOR")
    for step in range(1, steps + 1):
        loss = F.mse_loss(model(x), y)
        if loss.item() < tol:
            return step
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None


def main(steps: int = 3000, seeds: int = 8) -> dict[float, list]:
    jobs = [(m, s) for m in MOMENTA for s in range(seeds)]
    results: dict[float, list] = {m: [] for m in MOMENTA}
    for m, s in progress(jobs, len(jobs), "training"):
        results[m].append(steps_to_converge(m, s, steps))
    print(f"steps until squared error < 0.01 (budget {steps}, lr 0.1; '-' = not converged)")
    print("seed | " + " | ".join(f"μ={m:<4}" for m in MOMENTA))
    for s in range(seeds):
        print(f"{s:4d} | " + " | ".join(f"{results[m][s] or '-':>6}" for m in MOMENTA))
    for m in MOMENTA:
        done = [r for r in results[m] if r]
        median = f"{statistics.median(done):.0f}" if done else "-"
        print(f"momentum {m}: converged {len(done)}/{seeds}, median {median} steps")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    main(args.steps, args.seeds)
