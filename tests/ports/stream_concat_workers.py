"""A stream sharded across DataLoader workers, a randomly augmented ConcatDataset, a ChainDataset."""

# tolerance: rtol=1e-4 atol=1e-6
import math

import torch
from torch import nn
from torch.utils.data import (
    ChainDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


class SineStream(IterableDataset):
    """Points (x, sin(3x)) for x on a grid; each worker streams its own contiguous share."""

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step

    def __iter__(self):
        n = int(round((self.stop - self.start) / self.step))
        lo, hi = 0, n
        info = get_worker_info()
        if info is not None:
            per = math.ceil(n / info.num_workers)
            lo, hi = info.id * per, min(n, (info.id + 1) * per)
        for k in range(lo, hi):
            x = self.start + k * self.step
            yield torch.tensor([x]), torch.tensor([math.sin(3 * x)])


class Jitter(Dataset):
    """Wraps a dataset and adds Gaussian noise to each input when it is fetched."""

    def __init__(self, base, scale):
        self.base, self.scale = base, scale

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        return x + self.scale * torch.randn(x.shape), y


torch.manual_seed(0)
left = TensorDataset(
    torch.linspace(-1, 0, 40).unsqueeze(1), torch.sin(3 * torch.linspace(-1, 0, 40)).unsqueeze(1)
)
right = TensorDataset(
    torch.linspace(0, 1, 40).unsqueeze(1), torch.sin(3 * torch.linspace(0, 1, 40)).unsqueeze(1)
)
both = left + right
print("concat", len(both), both.cumulative_sizes)
augmented = DataLoader(Jitter(both, 0.05), batch_size=16, shuffle=True, num_workers=2)
stream = DataLoader(SineStream(-1.0, 1.0, 0.05), batch_size=8, num_workers=2)
print("stream batches", [len(xb) for xb, _ in stream])
chained = ChainDataset([SineStream(-1.0, -0.8, 0.05), SineStream(0.8, 1.0, 0.05)])
print("chained xs", [round(x.item(), 2) for x, _ in chained])

model = nn.Sequential(nn.Linear(1, 24), nn.Tanh(), nn.Linear(24, 1))
opt = torch.optim.Adam(model.parameters(), lr=0.03)
loss_fn = nn.MSELoss()
for epoch in range(12):
    total, count = 0.0, 0
    for loader in (augmented, stream):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1} samples {count} mean loss {total / count:.6f}")
first_x, _ = next(iter(augmented))
print("first augmented inputs", [round(v, 4) for v in first_x[:3, 0].tolist()])
