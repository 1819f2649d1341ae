"""A learning-rate range test: LambdaLR grows the rate exponentially, the loss is smoothed and the
steepest-descent rate picked; then a OneCycle-like warmup/decay schedule with LambdaLR."""

# tolerance: rtol=1e-4 atol=1e-7
import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

x = torch.linspace(-3, 3, 200).unsqueeze(1)
y = 0.5 * x - 0.2 * x**2


def fresh():
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.8, 0.8, p.numel()).reshape(p.shape) * (1 + i) / 2)
    return model


start_lr, end_lr, steps = 1e-4, 1.0, 40
model = fresh()
opt = torch.optim.SGD(model.parameters(), lr=start_lr)
gamma = (end_lr / start_lr) ** (1 / (steps - 1))
sched = LambdaLR(opt, lr_lambda=lambda step: gamma**step)
lrs, losses, avg = [], [], 0.0
for step in range(steps):
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    avg = 0.9 * avg + 0.1 * loss.item()
    smoothed = avg / (1 - 0.9 ** (step + 1))
    lrs.append(sched.get_last_lr()[0])
    losses.append(smoothed)
    sched.step()
    if not math.isfinite(smoothed) or smoothed > 4 * min(losses):
        break
drops = [losses[i + 1] - losses[i] for i in range(len(losses) - 1)]
best = min(range(len(drops)), key=drops.__getitem__)
print(f"tried {len(lrs)} rates from {lrs[0]:.2e} to {lrs[-1]:.2e}")
print(f"steepest drop at lr {lrs[best]:.3e}, smoothed loss {losses[best]:.5f}")

model = fresh()
opt = torch.optim.SGD(model.parameters(), lr=lrs[best], momentum=0.9)
warmup, total = 10, 100
sched = LambdaLR(opt, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * s / total)))
for step in range(total):
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 25 == 24:
        print(f"step {step + 1} lr {opt.param_groups[0]['lr']:.5f} loss {loss.item():.5f}")
print("last_epoch", sched.last_epoch, "base_lrs", [f"{v:.4e}" for v in sched.base_lrs])
