"""Copy weights between two models through state_dict; a frozen layer does not change."""

# tolerance: rtol=1e-6 atol=1e-8
import torch
import torch.nn as nn


def make():
    return nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), nn.Linear(5, 2))


src = make()
with torch.no_grad():
    for i, p in enumerate(src.parameters()):
        p.copy_(torch.arange(p.numel(), dtype=torch.float32).reshape(p.shape) * 0.05 - 0.1 * i)
dst = make()
result = dst.load_state_dict(src.state_dict())
x = torch.tensor([[0.1, 0.2, 0.3], [-1.0, 0.5, 2.0]])
print("same", bool((src(x) == dst(x)).all()))
print("keys", list(dst.state_dict().keys()))

for p in dst[0].parameters():
    p.requires_grad_(False)
frozen = dst[0].weight.detach().clone()
opt = torch.optim.SGD([p for p in dst.parameters() if p.requires_grad], lr=0.1)
for _ in range(10):
    loss = dst(x).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
print("frozen unchanged", bool((dst[0].weight == frozen).all()))
print("loss", f"{loss.item():.6f}")
print("grad of frozen", dst[0].weight.grad)
