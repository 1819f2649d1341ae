"""A two-layer regression with AdamW (weight decay) and a StepLR schedule."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn

x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = torch.cat([x**2, x.abs(), x.clamp(min=0)], dim=1)
model = nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 3))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.tensor([((k * 0.4142135623 + 0.17 * i) % 1.0) - 0.5 for k in range(p.numel())]).reshape(
                p.shape
            )
        )
opt = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.05)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
loss_fn = nn.MSELoss()
for step in range(200):
    loss = loss_fn(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 50 == 49:
        print(step + 1, f"{loss.item():.6f}", f"lr {sched.get_last_lr()[0]:.5f}")
