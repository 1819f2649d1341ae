"""Causal self-attention scores on a fixed sequence: tril + masked_fill + softmax, split heads,
gather the attended positions, and backpropagate through it all."""

# tolerance: rtol=1e-5 atol=1e-6
import torch

T, C, H = 5, 8, 2
x = torch.linspace(-1.0, 1.0, T * C).reshape(T, C)
Wq = torch.linspace(-0.5, 0.5, C * C).reshape(C, C).requires_grad_()
Wk = torch.linspace(0.4, -0.4, C * C).reshape(C, C).T.contiguous().requires_grad_()
q, k = x @ Wq, x @ Wk
qs, ks = q.split(C // H, dim=1), k.chunk(H, dim=-1)
mask = torch.tril(torch.ones(T, T))
outs = []
for h, (qh, kh) in enumerate(zip(qs, ks)):
    scores = qh @ kh.transpose(0, 1) / (C // H) ** 0.5
    scores = scores.masked_fill(mask == 0, float("-inf"))
    att = torch.softmax(scores, dim=-1)
    print(f"head {h}: first row {att[0].tolist()}")
    print(f"head {h}: last row {[round(v, 5) for v in att[-1].tolist()]}")
    outs.append(att)
att = torch.stack(outs)
print("shape", att.shape, "size", att.size(), "numel", att.size().numel(), att.nelement())
print("upper triangle all zero:", bool((torch.triu(att, diagonal=1) == 0).all()))
best = torch.tensor([[0, 1, 1, 2, 4], [0, 0, 2, 3, 1]])  # fixed positions (argmax could tie)
print("attended to the diagonal:", att.argmax(axis=-1)[1].tolist())
picked = torch.gather(att, 2, best.unsqueeze(-1)).squeeze(-1)
print("their weights:", [[round(v, 5) for v in row] for row in picked.tolist()])
loss = (att * torch.arange(T, dtype=torch.float32)).sum() + picked.sum()
loss.backward()
print(f"loss {loss.item():.5f}")
print(f"grad Wq norm {Wq.grad.pow(2).sum().sqrt().item():.5f}, grad Wk sum {Wk.grad.sum().item():.5f}")
print("type", att.type(), "dims", att.dim(), att.ndimension())
