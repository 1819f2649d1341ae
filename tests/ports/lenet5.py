"""LeNet-5 on arithmetic "digits": conv 1->6 5x5 pad 2, max-pool, conv 6->16 5x5, max-pool,
fc 400-120-84-10, cross-entropy, SGD with momentum. Weights are set from arithmetic, no files."""

# tolerance: rtol=1e-3 atol=1e-5
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
)  # fmt: skip
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        n = p.numel()
        fan_in = p.shape[1] * (p[0, 0].numel() if p.dim() == 4 else 1) if p.dim() > 1 else 10
        vals = [math.sin(1.7 * i + k) / math.sqrt(fan_in) for i in range(n)]
        p.copy_(torch.tensor(vals).reshape(p.shape))
x = torch.tensor(
    [[math.cos(0.3 * i * j + b) for i in range(28) for j in range(28)] for b in range(8)]
).reshape(8, 1, 28, 28)
y = torch.tensor([b % 10 for b in range(8)])
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for step in range(12):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 3 == 0:
        print(step, f"{loss.item():.5f}")
print("conv1 grad norm", f"{(model[0].weight.grad ** 2).sum().sqrt().item():.5f}")
with torch.no_grad():
    out = model(x)
print("logits[0]", [f"{v:.4f}" for v in out[0].tolist()])
print("pred", out.argmax(1).tolist())
print(model)
