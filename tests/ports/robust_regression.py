"""Robust regression with outliers: a GELU/SiLU/Mish MLP trained with Huber and smooth-L1 losses,
compared by their L1 error; deterministic weights, no random numbers."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn
import torch.nn.functional as F

x = torch.linspace(-3, 3, 64).unsqueeze(1)
y = torch.tanh(1.5 * x) + 0.1 * x
y[::9] += 3.0  # outliers every ninth point


def make(act):
    model = nn.Sequential(nn.Linear(1, 16), act, nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = [((k * 0.6180339887 + 0.37 * i) % 1.0) - 0.5 for k in range(p.numel())]
            p.copy_(torch.tensor(values).reshape(p.shape))
    return model


for name, act, loss_fn in [
    ("gelu+huber", nn.GELU(), nn.HuberLoss(delta=0.5)),
    ("gelu_tanh+smoothl1", nn.GELU(approximate="tanh"), nn.SmoothL1Loss(beta=0.5)),
    ("mish+l1", nn.Mish(), nn.L1Loss()),
]:
    model = make(act)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(300):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 99:
            print(f"{name} step {step + 1} loss {loss.item():.5f}")
    with torch.no_grad():
        clean = torch.ones(64, dtype=torch.bool)
        clean[::9] = False
        err = F.l1_loss(model(x)[clean], y[clean]).item()
        mse = F.mse_loss(model(x), y, reduction="sum").item()
    print(f"{name} clean L1 {err:.4f} sum sq {mse:.3f}")
