"""A map-style Dataset subclass, a shuffling DataLoader driven by a seeded Generator, random_split."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class Parabola(Dataset):
    """Points (x, x^2 - 0.5) on [-1, 1]; each item is an (input, target) pair."""

    def __init__(self, n):
        self.x = torch.linspace(-1, 1, n).unsqueeze(1)
        self.y = self.x**2 - 0.5

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


torch.manual_seed(0)
data = Parabola(120)
train_set, val_set = random_split(data, [100, 20], generator=torch.Generator().manual_seed(42))
print("split", len(train_set), len(val_set), "first val index", val_set.indices[0])
loader = DataLoader(train_set, batch_size=25, shuffle=True, generator=torch.Generator().manual_seed(1))
first_x, first_y = next(iter(loader))
print("first batch", tuple(first_x.shape), [round(v, 4) for v in first_x[:4, 0].tolist()])
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.Adam(model.parameters(), lr=0.02)
loss_fn = nn.MSELoss()
for epoch in range(30):
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    if epoch % 10 == 9:
        with torch.no_grad():
            vx = torch.stack([val_set[i][0] for i in range(len(val_set))])
            vy = torch.stack([val_set[i][1] for i in range(len(val_set))])
            print(f"epoch {epoch + 1} val mse {loss_fn(model(vx), vy).item():.6f}")
