"""A character-level MLP language model over names ("makemore" style): an embedding table, a tanh
hidden layer and a softmax over the next character.

Each name is read one character at a time; the model sees the previous `block` characters (as
rows of the embedding table C, concatenated) and predicts the next one, with '.' marking the start
and the end of a name. Prints the train/dev loss (next to the bigram model's) and samples new
names with a seeded Generator.

The names (names.txt: 32,033 first names from the US Social Security Administration's public
baby-name records) are found via --data DIR, else $MICROTENSOR_DATA/text, else
~/.cache/microtensor/text; --download fetches them (SHA-256 checked).

Run:  python examples/char_mlp.py [--data DIR] [--download] [--steps 30000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _text import find_text  # noqa: E402

import microtensor as mt  # noqa: E402
import microtensor.nn as nn  # noqa: E402
import microtensor.nn.functional as F  # noqa: E402


def build_dataset(words: list[str], stoi: dict[str, int], block: int) -> tuple[np.ndarray, np.ndarray]:
    """(contexts (N, block), next characters (N,)) for every position of every word."""
    xs, ys = [], []
    for w in words:
        context = [0] * block
        for ch in w + ".":
            xs.append(context)
            ys.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


class CharMLP(nn.Module):
    def __init__(self, vocab: int, block: int, n_embd: int = 10, n_hidden: int = 200):
        super().__init__()
        self.C = nn.Embedding(vocab, n_embd)
        self.hidden = nn.Linear(block * n_embd, n_hidden)
        self.out = nn.Linear(n_hidden, vocab)

    def forward(self, x):
        emb = self.C(x)  # (B, block, n_embd)
        return self.out(self.hidden(emb.view(emb.shape[0], -1)).tanh())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="directory holding names.txt (only place searched)")
    ap.add_argument("--download", action="store_true", help="fetch names.txt (228 KB, SHA-256 checked)")
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--block", type=int, default=3)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2147483647)
    args = ap.parse_args(argv)

    words = find_text("names.txt", args.data, args.download).split()
    chars = sorted(set("".join(words)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    stoi["."] = 0
    itos = {i: c for c, i in stoi.items()}
    rng = np.random.default_rng(42)
    order = rng.permutation(len(words))
    words = [words[i] for i in order]
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    Xtr, Ytr = build_dataset(words[:n1], stoi, args.block)
    Xdev, Ydev = build_dataset(words[n1:n2], stoi, args.block)

    # the bigram model's dev loss: counts of (previous, next) character pairs on the training words
    counts = np.ones((len(stoi), len(stoi)))
    np.add.at(counts, (Xtr[:, -1], Ytr), 1)
    logp = np.log(counts / counts.sum(1, keepdims=True))
    bigram_dev = float(-logp[Xdev[:, -1], Ydev].mean())

    mt.manual_seed(args.seed)
    model = CharMLP(len(stoi), args.block)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    sched = mt.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(args.steps * 0.75)], gamma=0.1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(words)} names, {len(Xtr):,} training examples, {n_params:,} parameters")

    def loss_on(X, Y) -> float:
        with mt.no_grad():
            return F.cross_entropy(model(mt.tensor(X)), mt.tensor(Y)).item()

    start = time.perf_counter()
    for step in range(args.steps):
        ix = rng.integers(0, len(Xtr), args.batch)
        loss = F.cross_entropy(model(mt.tensor(Xtr[ix])), mt.tensor(Ytr[ix]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % max(args.steps // 5, 1) == 0:
            print(f"step {step:6d}: minibatch loss {loss.item():.4f}")
    train, dev = loss_on(Xtr, Ytr), loss_on(Xdev, Ydev)
    seconds = time.perf_counter() - start
    print(f"train loss {train:.4f}, dev loss {dev:.4f} (bigram dev loss {bigram_dev:.4f}) in {seconds:.0f} s")

    g = mt.Generator().manual_seed(args.seed + 10)
    names = []
    with mt.no_grad():
        for _ in range(args.samples):
            context, out = [0] * args.block, []
            while True:
                probs = F.softmax(model(mt.tensor([context])), dim=1)
                ix = mt.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                if ix == 0 or len(out) > 30:
                    break
                out.append(itos[ix])
            names.append("".join(out))
    print("samples:", ", ".join(names))
    return {"train": train, "dev": dev, "bigram_dev": bigram_dev, "names": names}


if __name__ == "__main__":
    main()
