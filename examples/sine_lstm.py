"""Predicting sine waves with two stacked LSTMCells trained by L-BFGS (the task of PyTorch's
time-sequence-prediction example).

Each of 100 training waves is sin((t + shift) / 20) over 1000 steps with a random shift. The model
reads a wave one value at a time and predicts the next; after the input ends it keeps going on
its own predictions (`future` steps). Trained on 97 waves, tested on 3; writes a plot of the
predictions per training step to examples/out/sine_lstm.png (when matplotlib is installed).

Run:  python examples/sine_lstm.py [--steps 6] [--future 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT, pyplot  # noqa: E402

import microtensor as mt  # noqa: E402
import microtensor.nn as nn  # noqa: E402


def sine_waves(n: int = 100, length: int = 1000, period: int = 20, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.arange(length)[None, :] + rng.integers(-4 * period, 4 * period, (n, 1))
    return np.sin(x / period)


class Sequence(nn.Module):
    def __init__(self, hidden: int = 51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future: int = 0):
        n = input.shape[0]
        h1 = c1 = mt.zeros(n, self.hidden, dtype=mt.float64)
        h2 = c2 = mt.zeros(n, self.hidden, dtype=mt.float64)
        outputs = []
        for x in input.split(1, dim=1):
            h1, c1 = self.lstm1(x, (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            outputs.append(self.linear(h2))
        out = outputs[-1]
        for _ in range(future):  # keep predicting from its own output
            h1, c1 = self.lstm1(out, (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            out = self.linear(h2)
            outputs.append(out)
        return mt.cat(outputs, dim=1)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6, help="L-BFGS steps (each up to 20 evaluations)")
    ap.add_argument("--future", type=int, default=1000)
    ap.add_argument("--length", type=int, default=1000, help="time steps per training wave")
    ap.add_argument("--plot", default=str(OUT / "sine_lstm.png"))
    args = ap.parse_args(argv)

    data = sine_waves(length=args.length)
    x_train, y_train = mt.tensor(data[3:, :-1]), mt.tensor(data[3:, 1:])
    x_test, y_test = mt.tensor(data[:3, :-1]), mt.tensor(data[:3, 1:])
    mt.manual_seed(0)
    model = Sequence().double()
    criterion = nn.MSELoss()
    opt = mt.optim.LBFGS(model.parameters(), lr=0.8)
    plt = pyplot()
    start = time.perf_counter()
    test_loss = float("nan")
    for step in range(args.steps):

        def closure():
            opt.zero_grad()
            loss = criterion(model(x_train), y_train)
            loss.backward()
            return loss

        loss = opt.step(closure)
        with mt.no_grad():
            pred = model(x_test, future=args.future)
            test_loss = criterion(pred[:, : -args.future or None], y_test).item()
        elapsed = time.perf_counter() - start
        print(f"step {step}: train loss {loss.item():.6f}, test loss {test_loss:.6f} ({elapsed:.0f} s)")
        if plt is not None and step == args.steps - 1:
            y = pred.numpy()
            n = x_test.shape[1]
            plt.figure(figsize=(12, 5))
            plt.title("Predict future values of sine waves (dashed: the model's own continuation)")
            for i, color in enumerate("rgb"):
                plt.plot(np.arange(n), y[i, :n], color, linewidth=2.0)
                plt.plot(np.arange(n, n + args.future), y[i, n:], color + ":", linewidth=2.0)
            Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
            plt.savefig(args.plot)
            plt.close()
            print(f"wrote {args.plot}")
    return {"train": loss.item(), "test": test_loss}


if __name__ == "__main__":
    main()
