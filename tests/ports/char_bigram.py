"""A character bigram model of a few names: counts, a seeded Generator, multinomial sampling."""
# tolerance: rtol=1e-5 atol=1e-7
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
V = len(stoi)
N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    cs = ["."] + list(w) + ["."]
    for a, b in zip(cs, cs[1:]):
        N[stoi[a], stoi[b]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdim=True)
g = torch.Generator().manual_seed(2147483647)
for _ in range(5):
    out, ix = [], 0
    while True:
        ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(itos[ix])
    print("".join(out))
log_likelihood, n = 0.0, 0
for w in words:
    cs = ["."] + list(w) + ["."]
    for a, b in zip(cs, cs[1:]):
        log_likelihood += torch.log(P[stoi[a], stoi[b]]).item()
        n += 1
print(f"nll {-log_likelihood / n:.6f}")
xs = torch.tensor([stoi[c] for c in ".emma"])
W = torch.randn((V, V), generator=g, requires_grad=True)
for _ in range(20):
    logits = F.one_hot(xs, num_classes=V).float() @ W
    loss = F.cross_entropy(logits, torch.tensor([stoi[c] for c in "emma."])) + 0.01 * (W**2).mean()
    W.grad = None
    loss.backward()
    W.data += -10 * W.grad
print(f"loss {loss.item():.6f}")
