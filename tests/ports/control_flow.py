"""A Module whose forward reuses one layer a data-dependent number of times."""

# tolerance: rtol=1e-5 atol=1e-7
import torch
import torch.nn as nn


def fill_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            vals = [((k * 0.6180339887 + i * 0.1) % 1.0) - 0.5 for k in range(p.numel())]
            p.copy_(torch.tensor(vals).reshape(p.shape))


class DynamicNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_linear = nn.Linear(1, 8)
        self.middle_linear = nn.Linear(8, 8)
        self.output_linear = nn.Linear(8, 1)

    def forward(self, x, repeats):
        h = self.input_linear(x).clamp(min=0)
        for _ in range(repeats):
            h = self.middle_linear(h).clamp(min=0)
        return self.output_linear(h)


model = DynamicNet()
fill_(model)
x = torch.linspace(-1, 1, 32).unsqueeze(1)
y = 0.5 * x**2 - 0.25
criterion = nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
for t in range(300):
    repeats = t % 3
    loss = criterion(model(x, repeats), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if t % 60 == 59:
        print(t, repeats, f"{loss.item():.6f}")
print("params", sum(p.numel() for p in model.parameters()))
