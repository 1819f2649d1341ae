"""A softmax classifier on three deterministic clusters: cross_entropy, argmax accuracy, state_dict."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn
import torch.nn.functional as F

t = torch.linspace(-1, 1, 30)
centers = [(-2.0, 0.0), (2.0, 0.5), (0.0, 2.5)]
xs = [torch.stack([cx + 0.5 * t, cy - 0.4 * t], dim=1) for cx, cy in centers]
x = torch.cat(xs)
labels = torch.cat([torch.full((30,), k, dtype=torch.long) for k in range(3)])

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.tensor([((k * 0.7548776662 + 0.3 * i) % 1.0) - 0.5 for k in range(p.numel())]).reshape(
                p.shape
            )
        )
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 25 == 24:
        acc = (logits.argmax(dim=1) == labels).float().mean().item()
        print(f"epoch {epoch + 1} loss {loss.item():.5f} acc {acc:.3f}")
print(sorted(model.state_dict().keys()))
print([tuple(v.shape) for v in model.state_dict().values()])
probs = F.softmax(model(x[:3]), dim=1)
print("row sums", [f"{v:.6f}" for v in probs.sum(dim=1).tolist()])
