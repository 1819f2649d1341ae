"""Gradient accumulation: four micro-batches per optimiser step equal one full batch."""

# tolerance: rtol=1e-5 atol=1e-7
import torch
from torch import nn

x = torch.linspace(-2, 2, 64).reshape(32, 2)
y = (x[:, :1] * 0.7 - x[:, 1:] * 1.3 + 0.2).tanh()


def make_model():
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.6, 0.6, p.numel()).reshape(p.shape) * (-1) ** i)
    return model


accum_steps = 4
micro = make_model()
opt = torch.optim.SGD(micro.parameters(), lr=0.05, momentum=0.9)
opt.zero_grad()
for step, (xb, yb) in enumerate(zip(x.chunk(8), y.chunk(8))):
    loss = nn.functional.mse_loss(micro(xb), yb) / accum_steps
    loss.backward()
    if (step + 1) % accum_steps == 0:
        gnorm = torch.sqrt(sum((p.grad**2).sum() for p in micro.parameters()))
        print(f"step after micro-batch {step + 1}: grad norm {gnorm.item():.6f}")
        opt.step()
        opt.zero_grad(set_to_none=True)

full = make_model()
opt_full = torch.optim.SGD(full.parameters(), lr=0.05, momentum=0.9)
for xb, yb in zip(x.chunk(2), y.chunk(2)):
    opt_full.zero_grad()
    nn.functional.mse_loss(full(xb), yb).backward()
    opt_full.step()
diff = max((a - b).abs().max().item() for a, b in zip(micro.parameters(), full.parameters()))
print("max weight difference below 1e-6:", diff < 1e-6)
print("grads cleared:", all(p.grad is None for p in micro.parameters()))
print("final loss", f"{nn.functional.mse_loss(micro(x), y).item():.6f}")
