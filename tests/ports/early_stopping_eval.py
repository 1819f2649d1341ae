"""A train/validation loop: model.eval(), torch.no_grad() accuracy, early stopping with patience,
the best weights restored from a deep-copied state_dict."""

# tolerance: rtol=1e-4 atol=1e-6
import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(3)
centers = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [0.0, -1.2]])
x = torch.cat([c + 0.8 * torch.randn(40, 2) for c in centers])
y = torch.arange(3).repeat_interleave(40)
perm = torch.randperm(len(x))
x, y = x[perm], y[perm]
x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.5)


@torch.no_grad()
def evaluate(model, xs, ys):
    model.eval()
    logits = model(xs)
    loss = F.cross_entropy(logits, ys).item()
    correct = (logits.argmax(dim=1) == ys).sum().item()
    return loss, correct / len(ys)


best_loss, best_state, patience, bad_epochs = float("inf"), None, 5, 0
for epoch in range(200):
    model.train()
    for xb, yb in zip(x_train.split(30), y_train.split(30)):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    val_loss, val_acc = evaluate(model, x_val, y_val)
    if epoch % 10 == 0:
        print(f"epoch {epoch:3d} val loss {val_loss:.4f} acc {val_acc:.3f}")
    if val_loss < best_loss - 1e-4:
        best_loss, best_state, bad_epochs = val_loss, copy.deepcopy(model.state_dict()), 0
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print(f"early stop at epoch {epoch}")
            break
model.load_state_dict(best_state)
loss, acc = evaluate(model, x_val, y_val)
print(f"restored best: val loss {loss:.4f} (best {best_loss:.4f}) acc {acc:.3f}")
print("grad enabled after eval:", torch.is_grad_enabled(), "training:", model.training)
