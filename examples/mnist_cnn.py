"""The convolutional chapter: a CNN on MNIST, the network of pytorch/examples' mnist/main.py.

The tutorials' story so far: one layer (softmax regression) gets about 92% of the MNIST test
digits right, an MLP with 1000 hidden units about 98%. A convolutional network looks at small
patches with shared weights and keeps the picture's layout; this one is the best-known PyTorch
MNIST program, ported by changing its imports:

    conv 1→32 3×3, ReLU, conv 32→64 3×3, ReLU, max-pool 2, dropout 0.25,
    fc 9216→128, ReLU, dropout 0.5, fc 128→10, log_softmax, NLL loss,
    Adadelta (lr 1.0), the learning rate ×0.7 after each epoch (StepLR), batches of 64.

Finds the MNIST files as examples/mnist_mlp.py does (--data DIR, $MICROTENSOR_DATA/mnist, the
per-user cache, or --download); without MNIST it uses scikit-learn's 8x8 digits (the network
then shrinks to fit the 8x8 images) and says so.

Prints the loss and accuracy per epoch, then saves the 32 learned first-layer filters and the
misclassified test digits to examples/out/<data set>/. Measured on the shared 2-core
development machine, one BLAS thread: 98.17%, 98.89%, 98.99% test accuracy after epochs 1-3
(3-7 minutes per epoch under load). The issue's goal of 99.2% within 3 epochs is not reached by
this recipe; a variant with batch norm after each convolution and Adam (lr 1e-3) reached 98.93%.

Run:  python examples/mnist_cnn.py [--data DIR] [--download] [--epochs N] [--limit N] [--steps N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import progress, pyplot, save

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor.data import DataLoader, TensorDataset, load_mnist_or_digits
from microtensor.data.dataset import Subset

TITLES = {"mnist": "MNIST", "digits": "8x8 digits (scikit-learn)"}


class Net(nn.Module):
    """pytorch/examples' MNIST CNN; `side` is the image side (28 for MNIST), which sets fc1's size."""

    def __init__(self, side: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        pooled = (side - 4) // 2  # two valid 3×3 convolutions, then 2×2 pooling
        self.fc1 = nn.Linear(64 * pooled * pooled, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = mt.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Mean NLL loss and accuracy on a data set, with all predictions and labels."""
    model.eval()
    preds, labels, total = [], [], 0.0
    with mt.no_grad():
        for x, y in loader:
            out = model(x)
            total += F.nll_loss(out, y, reduction="sum").item()
            preds.append(out.argmax(1).numpy())
            labels.append(y.numpy())
    model.train()
    preds, labels = np.concatenate(preds), np.concatenate(labels)
    return total / len(labels), float((preds == labels).mean()), preds, labels


def plots(model: Net, test_loader: DataLoader, images: np.ndarray, dataset: str, accuracy: float) -> None:
    plt = pyplot()
    if plt is None:
        return
    filters = model.conv1.weight.detach().numpy()[:, 0]  # (32, 3, 3)
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    lim = np.abs(filters).max()
    for ax, f in zip(axes.ravel(), filters):
        ax.imshow(f, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.axis("off")
    fig.suptitle(f"{TITLES[dataset]}: the 32 learned 3×3 filters of conv1 (red +, blue −)")
    save(fig, "cnn_filters.png", dataset)
    _, _, preds, labels = evaluate(model, test_loader)
    wrong = np.flatnonzero(preds != labels)[:40]
    fig, axes = plt.subplots(5, 8, figsize=(10, 7))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i, 0], cmap="gray_r")
        ax.set_title(f"{labels[i]}→{preds[i]}", fontsize=9)
    fig.suptitle(
        f"{TITLES[dataset]}: CNN, {accuracy:.2%} correct; {int((preds != labels).sum())} misclassified "
        f"test images, the first {len(wrong)} shown (true→predicted)"
    )
    save(fig, "cnn_misclassified.png", dataset)


class DataUnavailable(Exception):
    """The requested data could not be found or fetched (the message says what is missing)."""


def main(
    data: str | None = None,
    epochs: int = 3,
    lr: float = 1.0,
    gamma: float = 0.7,
    batch_size: int = 64,
    limit: int | None = None,
    steps: int | None = None,
    plot: bool = True,
    seed: int = 1,
    download: bool = False,
    dataset: str = "auto",
) -> dict:
    """Train and test the CNN; `limit` uses the first N train/test images, `steps` stops each epoch
    after N batches (both for quick runs)."""
    mt.manual_seed(seed)
    try:
        ds = load_mnist_or_digits(data, download=download, dataset=dataset)
    except (FileNotFoundError, RuntimeError, ImportError) as e:
        raise DataUnavailable(str(e)) from e
    side = ds.image_shape[0]
    # images as (N, 1, side, side), standardised with the training set's mean and spread
    x_train, y_train = ds.train.tensors
    mean, std = x_train.mean().item(), x_train.std().item()
    train_set = TensorDataset(((x_train - mean) / std).reshape(-1, 1, side, side), y_train)
    test_x = ((ds.test.tensors[0] - mean) / std).reshape(-1, 1, side, side)
    test_set = TensorDataset(test_x, ds.test.tensors[1])
    if limit:
        train_set = Subset(train_set, range(min(limit, len(train_set))))
        test_set = Subset(test_set, range(min(limit, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net(side)
    opt = mt.optim.Adadelta(model.parameters(), lr=lr)
    schedule = mt.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=gamma)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"CNN on {TITLES[ds.name]}: {n_params:,} parameters, Adadelta lr={lr} (×{gamma} per epoch)")
    print("epoch | train loss | test loss | test acc | seconds")
    test_acc = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        total, seen = 0.0, 0
        n_batches = len(train_loader) if steps is None else min(steps, len(train_loader))
        for i, (x, y) in enumerate(progress(train_loader, n_batches, f"epoch {epoch}")):
            if i == n_batches:
                break
            loss = F.nll_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            seen += len(y)
        seconds = time.perf_counter() - start
        schedule.step()
        test_loss, test_acc, _, _ = evaluate(model, test_loader)
        print(f"{epoch:5d} | {total / seen:10.4f} | {test_loss:9.4f} | {test_acc:7.2%} | {seconds:7.1f}")
    print(f"\ntest accuracy ({TITLES[ds.name]}): CNN {test_acc:.2%}")
    if ds.name == "digits":
        print("(the 8x8 digits set, not MNIST: run with --download, or --data DIR, to train on MNIST)")
    if plot:
        images = test_x.numpy() if not limit else test_x.numpy()[:limit]
        plots(model, test_loader, images, ds.name, test_acc)
    return {"dataset": ds.name, "cnn": test_acc}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=None, help="directory with the four MNIST IDX files (only place searched)"
    )
    parser.add_argument(
        "--download", action="store_true", help="fetch MNIST (11 MB, SHA-256 checked) if not found"
    )
    parser.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train/test images")
    parser.add_argument("--steps", type=int, default=None, help="stop each epoch after N batches")
    a = parser.parse_args()
    try:
        main(a.data, a.epochs, a.lr, limit=a.limit, steps=a.steps, download=a.download, dataset=a.dataset)
    except DataUnavailable as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
