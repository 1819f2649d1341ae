"""ReduceLROnPlateau driven by a validation loss, with clip_grad_norm_ (its returned total norm
logged) and clip_grad_value_ in a noisy regression."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
from torch import nn
from torch.nn.utils import clip_grad_norm_, clip_grad_value_
from torch.optim.lr_scheduler import ReduceLROnPlateau

torch.manual_seed(7)
x = torch.rand(128, 3) * 4 - 2
y = (x[:, :1] * x[:, 1:2] - x[:, 2:]).clamp(-2, 2) + 0.1 * torch.randn(128, 1)
x_train, y_train, x_val, y_val = x[:96], y[:96], x[96:], y[96:]
model = nn.Sequential(nn.Linear(3, 24), nn.ReLU(), nn.Linear(24, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3, threshold=1e-3)
clipped = 0
for epoch in range(40):
    model.train()
    for xb, yb in zip(x_train.split(32), y_train.split(32)):
        opt.zero_grad()
        nn.functional.mse_loss(model(xb), yb).backward()
        total = clip_grad_norm_(model.parameters(), max_norm=1.0)
        clipped += int(total > 1.0)
        clip_grad_value_(model.parameters(), clip_value=0.5)
        opt.step()
    model.eval()
    with torch.no_grad():
        val = nn.functional.mse_loss(model(x_val), y_val).item()
    sched.step(val)
    if epoch % 8 == 7:
        lr = opt.param_groups[0]["lr"]
        print(f"epoch {epoch + 1} val {val:.5f} lr {lr:.4f} last norm {total.item():.4f}")
print("steps with clipped norm", clipped)
print("final lr", sched.get_last_lr())
