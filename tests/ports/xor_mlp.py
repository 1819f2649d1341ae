"""XOR with a 2-4-1 tanh/sigmoid network, binary cross-entropy and SGD with momentum."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.5, -0.4], [-0.3, 0.8], [0.9, 0.1], [-0.6, -0.7]]))
    model[0].bias.copy_(torch.tensor([0.1, -0.1, 0.05, 0.0]))
    model[2].weight.copy_(torch.tensor([[0.7, -0.5, 0.3, -0.8]]))
    model[2].bias.zero_()
x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.4)
for step in range(1500):
    loss = F.binary_cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 500 == 0:
        print(step, f"{loss.item():.6f}")
with torch.no_grad():
    p = model(x)
print("probs", [f"{v:.4f}" for v in p.view(-1).tolist()])
print("correct", int(((p > 0.5).float() == y).sum().item()))
print(model)
