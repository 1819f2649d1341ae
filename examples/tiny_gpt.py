"""A character-level GPT trained from scratch on tiny Shakespeare.

Token and position embeddings, n_layer blocks of causal multi-head self-attention and an MLP,
each with LayerNorm before it and a residual connection around it, then a linear head onto the
65 characters. Trained with AdamW on random 32-character windows; prints the train/val loss next
to the bigram model's (the best any model that looks only at the previous character can do) and
samples some text with a seeded Generator.

The text (tiny_shakespeare.txt, about 1 MB of Shakespeare's plays, public domain) is found via
--data DIR, else $MICROTENSOR_DATA/text, else ~/.cache/microtensor/text; --download fetches it
(SHA-256 checked).

Run:  python examples/tiny_gpt.py [--data DIR] [--download] [--steps 3000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _text import find_text  # noqa: E402

import microtensor as mt  # noqa: E402
import microtensor.nn as nn  # noqa: E402
import microtensor.nn.functional as F  # noqa: E402


class CausalSelfAttention(nn.Module):
    """n_head heads of causal attention: position t attends to positions ≤ t only."""

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_embd: int = 64, n_head: int = 4, n_layer: int = 4):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.tok_emb(idx) + self.pos_emb(mt.arange(T))
        logits = self.head(self.ln_f(self.blocks(x)))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

    @mt.no_grad()
    def generate(self, idx, n: int, generator):
        for _ in range(n):
            logits, _ = self(idx[:, -self.block_size :])
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = mt.cat([idx, mt.multinomial(probs, 1, generator=generator)], dim=1)
        return idx


def bigram_losses(train: np.ndarray, val: np.ndarray, vocab: int) -> tuple[float, float]:
    """Cross-entropy of the count-based bigram model fitted on train (the optimum of any
    model that sees only the previous character), on train and on val."""
    counts = np.zeros((vocab, vocab))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    logp = np.log((counts + 0.01) / (counts + 0.01).sum(1, keepdims=True))
    return float(-logp[train[:-1], train[1:]].mean()), float(-logp[val[:-1], val[1:]].mean())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", default=None, help="directory holding tiny_shakespeare.txt (only place searched)"
    )
    ap.add_argument(
        "--download", action="store_true", help="fetch the text (1.1 MB, SHA-256 checked) if missing"
    )
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--eval-iters", type=int, default=50)
    ap.add_argument("--sample", type=int, default=300, help="characters to generate at the end")
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args(argv)

    text = find_text("tiny_shakespeare.txt", args.data, args.download)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    bigram_train, bigram_val = bigram_losses(train, val, len(chars))

    mt.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = GPT(len(chars), args.block)
    n_params = sum(p.numel() for p in model.parameters())
    opt = mt.optim.AdamW(model.parameters(), lr=args.lr)
    sched = mt.optim.lr_scheduler.CosineAnnealingLR(opt, max(args.steps, 1), eta_min=args.lr / 10)

    def batch(split):
        d = train if split == "train" else val
        ix = rng.integers(0, len(d) - args.block - 1, args.batch)
        x = np.stack([d[i : i + args.block] for i in ix])
        y = np.stack([d[i + 1 : i + 1 + args.block] for i in ix])
        return mt.tensor(x), mt.tensor(y)

    def evaluate():
        model.eval()
        out = {}
        with mt.no_grad():
            for split in ("train", "val"):
                out[split] = float(np.mean([model(*batch(split))[1].item() for _ in range(args.eval_iters)]))
        model.train()
        return out

    print(f"tiny GPT: {n_params:,} parameters, vocabulary {len(chars)}, {len(train):,} training characters")
    print(f"bigram baseline: train {bigram_train:.4f}, val {bigram_val:.4f}")
    start = time.perf_counter()
    every = max(args.steps // 6, 1)
    for step in range(args.steps + 1):
        if step % every == 0 or step == args.steps:
            losses = evaluate()
            elapsed = time.perf_counter() - start
            print(f"step {step:5d}: train {losses['train']:.4f}, val {losses['val']:.4f} ({elapsed:.0f} s)")
        if step == args.steps:
            break
        _, loss = model(*batch("train"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    seconds = time.perf_counter() - start
    g = mt.Generator().manual_seed(args.seed)
    sample = model.generate(mt.zeros(1, 1, dtype=mt.int64), args.sample, g)[0].tolist()
    print("---\n" + "".join(chars[i] for i in sample) + "\n---")
    verdict = "below" if losses["val"] < bigram_val else "NOT below"
    print(
        f"val loss {losses['val']:.4f} vs bigram {bigram_val:.4f}: {verdict} the bigram model "
        f"({bigram_val - losses['val']:+.3f} nats) after {args.steps} steps, {seconds:.0f} s"
    )
    return {
        "val": losses["val"],
        "train": losses["train"],
        "bigram_val": bigram_val,
        "seconds": seconds,
        "ppl": math.exp(losses["val"]),
    }


if __name__ == "__main__":
    main()
