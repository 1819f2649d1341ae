"""XOR with one hidden layer: 2 inputs -> 4 tanh -> 1 sigmoid, binary cross-entropy, SGD.

No single straight line separates XOR's classes (see logic_gates.py); the
hidden layer bends the input space so that one does. Autograd derives what
the tutorials derive by hand:
    dL/dW2 = (A2 − y)ᵀ·A1 / m,    dL/dW1 = [((A2 − y)·W2) ⊙ (1 − A1²)]ᵀ·X / m
(hand_vs_autograd.py checks that they agree). Prints the loss as it trains and
the learned truth table; saves the loss curve and the decision boundary.

Run:  python examples/xor.py [--steps 2000] [--lr 0.5] [--momentum 0.4] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

from _common import boundary_panel, gate_data, grid, pyplot, save

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F


def main(
    steps: int = 2000,
    lr: float = 0.5,
    momentum: float = 0.4,
    seed: int = 0,
    log_every: int = 200,
    plot: bool = True,
) -> dict:
    mt.manual_seed(seed)
    x, y = gate_data("XOR")
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = mt.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    print(model)
    losses = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        loss = F.binary_cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == 1):
            print(f"step {step:5d}   loss {losses[-1]:.6f}")
    seconds = time.perf_counter() - start
    with mt.no_grad():
        probs = model(x).reshape(-1).tolist()
    print(f"\ntrained {steps} steps in {seconds:.2f} s ({1e6 * seconds / steps:.0f} µs/step)")
    print("\n x1  x2 | target | P(y=1)  predicted")
    for (x1, x2), target, prob in zip(x.tolist(), y.reshape(-1).tolist(), probs):
        print(f"  {x1:.0f}   {x2:.0f} |   {target:.0f}    | {prob:.4f}     {int(prob > 0.5)}")
    correct = sum(int(p > 0.5) == t for p, t in zip(probs, y.reshape(-1).tolist()))
    print(f"\naccuracy {correct}/4")
    if plot and (plt := pyplot()):
        pts, axis = grid()
        with mt.no_grad():
            z = model(pts).reshape(len(axis), len(axis)).numpy()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        ax1.plot(range(1, steps + 1), losses, label=f"SGD lr {lr}, momentum {momentum}")
        ax1.set_yscale("log")
        ax1.set_xlabel("step")
        ax1.set_ylabel("binary cross-entropy")
        ax1.set_title("XOR: training loss of 2-4-1 tanh/sigmoid")
        ax1.legend()
        boundary_panel(ax2, fig, axis, z, x, y, "XOR: P(y = 1) learned by the hidden layer")
        save(fig, "xor.png", "xor")
    return {"loss": losses[-1], "losses": losses, "probs": probs, "accuracy": correct / 4}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--momentum", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    main(a.steps, a.lr, a.momentum, a.seed)
