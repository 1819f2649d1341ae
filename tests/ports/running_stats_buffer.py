"""A Module with register_buffer: a running mean/variance normaliser, train vs eval mode, state_dict."""

# tolerance: rtol=1e-5 atol=1e-7
import torch
from torch import nn


class RunningNorm(nn.Module):
    def __init__(self, features, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))
        self.register_buffer("num_batches", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        if self.training:
            mean = x.mean(dim=0)
            var = x.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
                self.num_batches += 1
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + 1e-5)


norm = RunningNorm(3)
model = nn.Sequential(norm, nn.Linear(3, 1))
with torch.no_grad():
    model[1].weight.copy_(torch.tensor([[0.5, -0.25, 1.0]]))
    model[1].bias.fill_(0.1)
base = torch.arange(24, dtype=torch.float32).reshape(8, 3)
for step in range(5):
    batch = base * (1 + 0.1 * step) - step
    out = model(batch)
print("buffers", [name for name, _ in model.named_buffers()])
print("params", [name for name, _ in model.named_parameters()])
print("running_mean", [round(v, 5) for v in norm.running_mean.tolist()])
print("running_var", [round(v, 4) for v in norm.running_var.tolist()])
print("batches seen", norm.num_batches.item(), "requires_grad", norm.running_mean.requires_grad)
model.eval()
with torch.no_grad():
    print("eval out", [round(v, 5) for v in model(base[:3]).flatten().tolist()])
state = model.state_dict()
print("state keys", list(state))
fresh = nn.Sequential(RunningNorm(3), nn.Linear(3, 1))
fresh.load_state_dict(state)
fresh.eval()
print("same after load", bool((fresh(base) == model(base)).all()))
print("training flags", model.training, norm.training, fresh[0].training)
