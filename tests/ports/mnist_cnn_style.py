"""The pytorch/examples MNIST program's shape: Conv2d, F.max_pool2d, Dropout (eval for the
check), log_softmax + nll_loss, Adadelta and StepLR, plus BatchNorm2d and a state_dict round trip.
Weights and data come from arithmetic, no files."""

# tolerance: rtol=1e-3 atol=1e-5
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(16 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


model = Net()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        vals = [math.cos(0.7 * i + 3 * k) * 0.3 for i in range(p.numel())]
        p.copy_(torch.tensor(vals).reshape(p.shape))
model.dropout1.p = 0.0  # random masks differ between frameworks: keep the comparison exact
x = torch.tensor(
    [[math.sin(0.2 * i + 0.5 * j * b) for i in range(16) for j in range(16)] for b in range(6)]
).reshape(6, 1, 16, 16)
y = torch.tensor([(3 * b) % 10 for b in range(6)])
opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
sched = StepLR(opt, step_size=2, gamma=0.7)
for epoch in range(4):
    for _ in range(3):
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
    sched.step()
    print(epoch, f"{loss.item():.5f}", f"lr={sched.get_last_lr()[0]:.4f}")
print("running_mean", [f"{v:.5f}" for v in model.bn.running_mean.tolist()])
print("batches tracked", int(model.bn.num_batches_tracked))
model.eval()
with torch.no_grad():
    out = model(x)
print("eval pred", out.argmax(1).tolist(), f"{out.sum().item():.4f}")
copy = Net()
copy.load_state_dict(model.state_dict())
copy.eval()
with torch.no_grad():
    print("copy agrees", (copy(x) - out).abs().max().item() < 1e-6)
print(sorted(model.state_dict().keys()))
