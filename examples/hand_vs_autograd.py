"""Hand-derived backpropagation and autograd, side by side.

The tutorials derive, for 2 -> 4 tanh -> 1 sigmoid with mean binary cross-entropy:
    dZ2 = (A2 − y)/m      dW2 = dZ2ᵀ·A1       db2 = Σ dZ2
    dZ1 = (dZ2·W2) ⊙ (1 − A1²)      dW1 = dZ1ᵀ·X      db1 = Σ dZ1
microtensor.reference implements exactly those lines in NumPy. This script
prints them next to what autograd computes for the same nn.Sequential model
(float64), parameter by parameter, then trains the model both ways with the
same SGD rule and shows that they end at the same weights.

Run:  python examples/hand_vs_autograd.py [--steps 500]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import gate_data

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor import reference


def make_model(seed: int = 0) -> nn.Sequential:
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()).double()


def hand_grads(model: nn.Sequential, x: np.ndarray, y: np.ndarray):
    w = {k: v.numpy() for k, v in model.state_dict().items()}
    return reference.mlp_bce(x, y, w["0.weight"], w["0.bias"], w["2.weight"], w["2.bias"], hidden="tanh")


def main(steps: int = 500, lr: float = 0.5) -> dict[str, float]:
    x, y = gate_data("XOR", dtype=mt.float64)
    model = make_model()

    loss = F.binary_cross_entropy(model(x), y)
    loss.backward()
    hand_loss, hand = hand_grads(model, x.numpy(), y.numpy())
    print(f"loss: autograd {loss.item():.15f}   by hand {float(hand_loss):.15f}\n")
    worst = 0.0
    for name, p in model.named_parameters():
        diff = float(np.max(np.abs(p.grad.numpy() - hand[name])))
        worst = max(worst, diff)
        print(f"d loss / d {name}  (shape {p.shape}), max |autograd − hand| = {diff:.1e}")
        for a, h in zip(p.grad.numpy().ravel(), hand[name].ravel()):
            print(f"    {a:+.12f}   {h:+.12f}")

    # Train the same model both ways: autograd + optim.SGD, and reference grads + reference.sgd_step.
    auto = make_model()
    opt = mt.optim.SGD(auto.parameters(), lr=lr)
    by_hand = {k: v.numpy().copy() for k, v in make_model().state_dict().items()}
    for _ in range(steps):
        opt.zero_grad()
        F.binary_cross_entropy(auto(x), y).backward()
        opt.step()
        _, grads = reference.mlp_bce(
            x.numpy(),
            y.numpy(),
            by_hand["0.weight"],
            by_hand["0.bias"],
            by_hand["2.weight"],
            by_hand["2.bias"],
        )
        reference.sgd_step(by_hand, grads, lr)
    final = max(float(np.max(np.abs(v.numpy() - by_hand[k]))) for k, v in auto.state_dict().items())
    print(f"\nafter {steps} SGD steps both ways: max |weight difference| = {final:.1e}")
    with mt.no_grad():
        print("predictions:", auto(x).numpy().ravel().round(4))
    return {"max_grad_diff": worst, "max_weight_diff": final}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=500)
    main(parser.parse_args().steps)
