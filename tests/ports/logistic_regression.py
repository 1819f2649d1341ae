"""Logistic regression with BCEWithLogitsLoss and Adam on a deterministic two-cluster set."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn

t = torch.linspace(0, 1, 40)
x0 = torch.stack([t - 1.0, 0.5 * t], dim=1)
x1 = torch.stack([t, 1.0 - 0.5 * t], dim=1)
x = torch.cat([x0, x1])
y = torch.cat([torch.zeros(40), torch.ones(40)]).unsqueeze(1)

model = nn.Linear(2, 1)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.2, -0.1]]))
    model.bias.fill_(0.0)
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(200):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 49:
        with torch.no_grad():
            acc = ((model(x) > 0).float() == y).float().mean()
        print(f"epoch {epoch + 1} loss {loss.item():.6f} acc {acc.item():.4f}")
print("weights", [f"{v:.4f}" for v in model.weight.view(-1).tolist()], f"{model.bias.item():.4f}")
