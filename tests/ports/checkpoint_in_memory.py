"""Checkpoint and resume in memory: model and optimiser state_dicts deep-copied mid-training,
training continued, then restored into fresh objects that continue identically."""

# tolerance: rtol=1e-5 atol=1e-7
import copy

import torch
from torch import nn

torch.manual_seed(11)
x = torch.randn(48, 4)
y = x @ torch.tensor([[0.5], [-1.0], [0.25], [2.0]]) + 0.3


def build():
    model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.03, betas=(0.8, 0.95), weight_decay=1e-3)
    return model, opt


def train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


model, opt = build()
print(f"after 20 steps {train(model, opt, 20):.6f}")
checkpoint = {
    "epoch": 20,
    "model": copy.deepcopy(model.state_dict()),
    "optimizer": copy.deepcopy(opt.state_dict()),
}
step = checkpoint["optimizer"]["state"][0]["step"]
print("optimizer state keys", sorted(checkpoint["optimizer"]), "step", step.item())
print(f"continued to 40 steps {train(model, opt, 20):.6f}")
reference = [p.detach().clone() for p in model.parameters()]

torch.manual_seed(999)  # different fresh weights: all that matters comes from the checkpoint
model2, opt2 = build()
model2.load_state_dict(checkpoint["model"])
opt2.load_state_dict(checkpoint["optimizer"])
group = opt2.param_groups[0]
print("resumed from epoch", checkpoint["epoch"], "lr", group["lr"], "betas", group["betas"])
print(f"resumed to 40 steps {train(model2, opt2, 20):.6f}")
diff = max((a - b).abs().max().item() for a, b in zip(reference, model2.parameters()))
print("resumed weights equal the uninterrupted run:", diff == 0.0)
checkpoint["model"]["0.bias"].zero_()
print("checkpoint was a copy:", model2[0].bias.abs().sum().item() > 0)
