"""A seeded train/validation split with SubsetRandomSampler, class balancing with WeightedRandomSampler."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, SubsetRandomSampler, WeightedRandomSampler


class Blobs(Dataset):
    """Three 2-D Gaussian blobs of unequal size; an item is (point, label, index)."""

    def __init__(self, sizes):
        centers = torch.tensor([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
        self.y = torch.cat([torch.full((k,), c, dtype=torch.long) for c, k in enumerate(sizes)])
        self.x = centers[self.y] + 1.4 * torch.randn(len(self.y), 2)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i], i


torch.manual_seed(0)
data = Blobs([120, 30, 10])
perm = torch.randperm(len(data)).tolist()
train_idx, val_idx = perm[:120], perm[120:]
train_set = Subset(data, train_idx)
counts = torch.bincount(data.y[train_idx], minlength=3)
print("train counts", counts.tolist())
sample_weights = 1.0 / counts[data.y[train_idx]].double()
sampler = WeightedRandomSampler(sample_weights, num_samples=len(train_idx), replacement=True)
train_loader = DataLoader(train_set, batch_size=16, sampler=sampler)
val_loader = DataLoader(
    data, batch_size=20, sampler=SubsetRandomSampler(val_idx, generator=torch.Generator().manual_seed(7))
)

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(6):
    seen = torch.zeros(3, dtype=torch.long)
    index_sums = []
    total = 0.0
    for xb, yb, ib in train_loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(yb)
        seen += torch.bincount(yb, minlength=3)
        index_sums.append(int(ib.sum()))
    with torch.no_grad():
        correct = 0
        val_sums = []
        for xb, yb, ib in val_loader:
            correct += int((model(xb).argmax(1) == yb).sum())
            val_sums.append(int(ib.sum()))
    mean_loss = total / len(sampler)
    print(f"epoch {epoch + 1} loss {mean_loss:.5f} classes {seen.tolist()} val acc {correct}/{len(val_idx)}")
    print("  train index sums", index_sums[:4], "val index sums", val_sums)
print("batches", len(train_loader), len(val_loader))
