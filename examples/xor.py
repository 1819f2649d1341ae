"""XOR with one hidden layer, trained with raw microtensor Tensors.

The network of the tutorials: 2 inputs -> 4 tanh units -> 1 sigmoid output,
mean binary cross-entropy, plain gradient descent. No single straight line
separates XOR's classes; the hidden layer bends the space so one does.
Autograd derives what the tutorials derive by hand:
    dL/dW2 = (A2 - y)ᵀ A1 / m,   dL/dW1 = [((A2 - y) W2) ⊙ (1 - A1²)]ᵀ X / m

Run:  python examples/xor.py [--steps 2000] [--lr 0.5] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import microtensor as mt

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Y = [[0.0], [1.0], [1.0], [0.0]]


def init_linear(n_in: int, n_out: int) -> tuple[mt.Tensor, mt.Tensor]:
    """PyTorch's Linear initialisation: weight (out, in) and bias uniform in ±1/√in."""
    bound = 1 / math.sqrt(n_in)
    w = (mt.rand(n_out, n_in) * 2 - 1) * bound
    b = (mt.rand(n_out) * 2 - 1) * bound
    return w.requires_grad_(), b.requires_grad_()


def main(steps: int = 2000, lr: float = 0.5, seed: int = 0, hidden: int = 4, log_every: int = 200) -> dict:
    mt.manual_seed(seed)
    x, y = mt.tensor(X), mt.tensor(Y)
    W1, b1 = init_linear(2, hidden)
    W2, b2 = init_linear(hidden, 1)
    params = [W1, b1, W2, b2]
    start = time.perf_counter()
    for step in range(1, steps + 1):
        a1 = (x @ W1.T + b1).tanh()
        p = (a1 @ W2.T + b2).sigmoid()
        loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
        for t in params:
            t.grad = None
        loss.backward()
        with mt.no_grad():
            for t in params:
                t -= lr * t.grad
        if log_every and (step % log_every == 0 or step == 1):
            print(f"step {step:5d}   loss {loss.item():.6f}")
    seconds = time.perf_counter() - start
    with mt.no_grad():
        p = ((x @ W1.T + b1).tanh() @ W2.T + b2).sigmoid()
    probs = [row[0] for row in p.tolist()]
    print(f"\ntrained {steps} steps in {seconds:.2f} s ({1e6 * seconds / steps:.0f} µs/step)")
    print("\n x1  x2 | target | P(y=1)  predicted")
    for (x1, x2), (target,), prob in zip(X, Y, probs):
        print(f"  {x1:.0f}   {x2:.0f} |   {target:.0f}    | {prob:.4f}     {int(prob > 0.5)}")
    correct = sum(int(prob > 0.5) == target for prob, (target,) in zip(probs, Y))
    print(f"\naccuracy {correct}/4")
    return {"loss": loss.item(), "probs": probs, "accuracy": correct / 4}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.lr, args.seed)
