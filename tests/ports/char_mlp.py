"""A character MLP with an embedding table, seeded Generator, minibatches drawn by randint."""
# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
block = 3
X, Y = [], []
for w in words:
    context = [0] * block
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X, Y = torch.tensor(X), torch.tensor(Y)
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((len(stoi), 4), generator=g)
W1 = torch.randn((block * 4, 32), generator=g) * 0.3
b1 = torch.randn(32, generator=g) * 0.01
W2 = torch.randn((32, len(stoi)), generator=g) * 0.01
b2 = torch.zeros(len(stoi))
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True
print("params", sum(p.nelement() for p in parameters))
for i in range(200):
    ix = torch.randint(0, X.shape[0], (16,), generator=g)
    emb = C[X[ix]]
    h = torch.tanh(emb.view(-1, block * 4) @ W1 + b1)
    loss = F.cross_entropy(h @ W2 + b2, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 150 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    if i % 50 == 49:
        print(i + 1, f"{loss.item():.5f}")
with torch.no_grad():
    emb = C[X]
    full = F.cross_entropy(torch.tanh(emb.view(-1, block * 4) @ W1 + b1) @ W2 + b2, Y)
print(f"full loss {full.item():.5f}")
