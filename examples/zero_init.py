"""The zero-initialisation trap: a network whose weights all start at zero never learns XOR.

With every weight and bias zero, each hidden unit computes tanh(0) = 0, the
output is sigmoid(0) = 1/2 and the loss is ln 2 = 0.6931… . Backpropagation
gives dW2 = dZ2ᵀ·A1 = 0 (A1 is 0) and dW1 ∝ W2 = 0, and db2 = mean(A2 − y) = 0
because XOR is balanced: no gradient, nothing moves. Even when a gradient does
flow, identical hidden units get identical updates (symmetry) and stay
identical. Small random weights break the symmetry and the same network learns.

Run:  python examples/zero_init.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import math

from _common import gate_data, pyplot, save

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F


def xor_net(zero: bool, seed: int = 0) -> nn.Sequential:
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    if zero:
        for p in model.parameters():
            nn.init.zeros_(p)
    return model


def train(model: nn.Sequential, steps: int, lr: float = 0.5) -> list[float]:
    x, y = gate_data("XOR")
    opt = mt.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.binary_cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main(steps: int = 2000, plot: bool = True) -> dict:
    curves = {"zero init": train(zero := xor_net(True), steps), "random init": train(xor_net(False), steps)}
    print(f"ln 2 = {math.log(2):.6f}")
    print("step  | zero init | random init")
    for i in sorted({0, steps // 10, steps // 2, steps - 1}):
        print(f"{i + 1:5d} | {curves['zero init'][i]:.6f}  | {curves['random init'][i]:.6f}")
    w1 = zero[0].weight.detach().numpy()
    print("\nhidden units' weights after training from zero (one row per unit):")
    print(w1)
    identical = bool((w1 == w1[0]).all())
    print(f"all hidden units identical: {identical}")
    if plot and (plt := pyplot()):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, c in curves.items():
            ax.plot(range(1, steps + 1), c, label=name)
        ax.axhline(math.log(2), ls="--", c="gray", label="ln 2")
        ax.set_xlabel("step")
        ax.set_ylabel("binary cross-entropy")
        ax.set_yscale("log")
        ax.set_title("XOR, 2-4-1 tanh/sigmoid: all-zero vs random initial weights")
        ax.legend()
        save(fig, "zero_init.png", "xor")
    return {"curves": curves, "hidden_weights": w1, "identical": identical}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=2000)
    main(parser.parse_args().steps)
