"""A tiny GPT-style transformer block: token + position embeddings, LayerNorm, causal self-attention
(tril + masked_fill, and F.scaled_dot_product_attention), an MLP, residuals; deterministic
weights, a few AdamW steps, and nn.TransformerEncoderLayer with a causal mask beside it."""

# tolerance: rtol=1e-4 atol=1e-5
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)  # only for the layers whose weights are then overwritten
V, T, C, NH = 10, 6, 8, 2


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.ReLU(), nn.Linear(4 * C, C))
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def attend(self, x, fused):
        B, L, _ = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, L, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        if fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.mask[:, :, :L, :L] == 0, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, L, C))

    def forward(self, x, fused=False):
        x = x + self.attend(self.ln1(x), fused)
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, C), nn.Embedding(T, C)
        self.block, self.ln_f, self.head = Block(), nn.LayerNorm(C), nn.Linear(C, V)

    def forward(self, idx, fused=False):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln_f(self.block(x, fused)))


model = TinyGPT()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.4, 0.4, p.numel()).reshape(p.shape) * (1 - 0.3 * (i % 3)))
idx = torch.tensor([[1, 2, 3, 4, 5, 6], [9, 5, 0, 3, 2, 1]])
targets = torch.cat([idx[:, 1:], idx[:, :1]], dim=1)
a, b = model(idx), model(idx, fused=True)
print("fused == masked_fill path:", bool(((a - b).abs() < 1e-5).all()), tuple(a.shape))
opt = torch.optim.AdamW(model.parameters(), lr=0.01)
for step in range(5):
    loss = F.cross_entropy(model(idx).view(-1, V), targets.view(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: loss {loss.item():.5f}")
print(f"ln1 weight grad {[round(v, 5) for v in model.block.ln1.weight.grad[:4].tolist()]}")

layer = nn.TransformerEncoderLayer(C, NH, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True)
with torch.no_grad():
    for i, p in enumerate(layer.parameters()):
        p.copy_(torch.linspace(0.3, -0.3, p.numel()).reshape(p.shape) * (1 + 0.2 * (i % 2)))
causal = nn.Transformer.generate_square_subsequent_mask(T)
print("mask row 1:", causal[1].tolist())
x = torch.linspace(-2.0, 2.0, 2 * T * C).reshape(2, T, C).requires_grad_()
out = layer(x, src_mask=causal)
out.pow(2).mean().backward()
print(f"encoder out {out.pow(2).sum().item():.4f}, x grad {x.grad.abs().sum().item():.4f}")
