"""A regression trained with TensorDataset + DataLoader batches, MSELoss and SGD with momentum."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

n = 96
features = torch.stack(
    [torch.linspace(-1, 1, n), torch.linspace(1, -1, n) ** 2, torch.linspace(0, 2, n)], dim=1
)
true_w = torch.tensor([[1.5], [-2.0], [0.7]])
labels = features @ true_w + 0.3

dataset = TensorDataset(features, labels)
loader = DataLoader(dataset, batch_size=16, shuffle=False)
model = nn.Sequential(nn.Linear(3, 1))
with torch.no_grad():
    model[0].weight.fill_(0.1)
    model[0].bias.zero_()
loss_fn = nn.MSELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
for epoch in range(15):
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1} loss {total / len(dataset):.6f}")
print("weight", [round(v, 4) for v in model[0].weight.detach().flatten().tolist()])
print("bias", round(model[0].bias.item(), 4))
print("batches", len(loader))
