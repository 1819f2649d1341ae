"""The MNIST network of the tutorials: 784 -> 1000 ReLU -> 10, softmax cross-entropy.

Loads the original MNIST IDX files from --data (default: ../shared/data/mnist
when it exists, then ~/.microtensor/mnist; see microtensor.data), or falls back
to scikit-learn's small 8x8 digits set with a message saying so. Trains with
mini-batch Adam (or SGD), prints a per-epoch table, then trains the
single-layer softmax regression for comparison, and saves a confusion matrix
and a grid of misclassified digits to examples/out/.

Inputs are standardised with the training set's mean and spread, and Adam's
learning rate decays by 0.6 per epoch. Measured on the 2-core development
machine: 98.3% test accuracy after 5 epochs (softmax regression: 92.0%),
2.7-4.7 s per MLP epoch when the machine is otherwise idle, so well under a
minute in all; --epochs 1 for a quick look.

Run:  python examples/mnist_mlp.py [--data DIR] [--epochs 5] [--optimizer adam|sgd] [--limit N]
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


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, np.ndarray, np.ndarray]:
    """Accuracy on a data set, with all predictions and labels."""
    model.eval()
    preds, labels = [], []
    with mt.no_grad():
        for x, y in loader:
            preds.append(model(x).argmax(1).numpy())
            labels.append(y.numpy())
    model.train()
    preds, labels = np.concatenate(preds), np.concatenate(labels)
    return float((preds == labels).mean()), preds, labels


def train(model, train_loader, test_loader, epochs: int, optimizer: str, lr: float, name: str) -> float:
    opt = (
        mt.optim.Adam(model.parameters(), lr=lr)
        if optimizer == "adam"
        else mt.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    )
    schedule = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.6)  # smaller steps as it converges
    n_params = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {n_params:,} parameters, {optimizer} lr={lr} (x0.6 per epoch)")
    print("epoch |   loss   | train acc | test acc | seconds")
    test_acc = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        for x, y in progress(train_loader, len(train_loader), f"epoch {epoch}"):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum().item())
            seen += len(y)
        seconds = time.perf_counter() - start
        schedule.step()
        test_acc, _, _ = evaluate(model, test_loader)
        print(
            f"{epoch:5d} | {total / seen:.5f} |  {correct / seen:6.2%}  | {test_acc:6.2%}  | {seconds:6.1f}"
        )
    return test_acc


def plots(model, test_loader, image_shape) -> None:
    plt = pyplot()
    if plt is None:
        return
    _, preds, labels = evaluate(model, test_loader)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, preds), 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    fig.colorbar(im)
    save(fig, "mnist_confusion.png")
    wrong = np.flatnonzero(preds != labels)[:32]
    images = test_loader.dataset.tensors[0].numpy() if hasattr(test_loader.dataset, "tensors") else None
    if images is not None and len(wrong):
        fig, axes = plt.subplots(4, 8, figsize=(10, 5.5))
        for ax in axes.ravel():
            ax.axis("off")
        for ax, i in zip(axes.ravel(), wrong):
            ax.imshow(images[i].reshape(image_shape), cmap="gray_r")
            ax.set_title(f"{labels[i]}→{preds[i]}", fontsize=9)
        save(fig, "mnist_misclassified.png")


def main(
    data: str | None = None,
    epochs: int = 5,
    optimizer: str = "adam",
    lr: float | None = None,
    hidden: int = 1000,
    batch_size: int = 128,
    limit: int | None = None,
    regression_epochs: int | None = None,
    plot: bool = True,
    seed: int = 0,
) -> dict[str, float]:
    mt.manual_seed(seed)
    ds = load_mnist_or_digits(data)
    # Standardise the pixels with the training set's mean and spread (as torchvision's Normalize).
    x_train, y_train = ds.train.tensors
    mean, std = x_train.mean().item(), x_train.std().item()
    train_set = TensorDataset((x_train - mean) / std, y_train)
    test_set = TensorDataset((ds.test.tensors[0] - mean) / std, ds.test.tensors[1])
    if limit:
        train_set = Subset(train_set, range(min(limit, len(train_set))))
        test_set = Subset(test_set, range(min(limit, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    lr = lr if lr is not None else (1e-3 if optimizer == "adam" else 0.05)

    mlp = nn.Sequential(nn.Linear(ds.num_features, hidden), nn.ReLU(), nn.Linear(hidden, ds.num_classes))
    mlp_acc = train(
        mlp, train_loader, test_loader, epochs, optimizer, lr, f"MLP {ds.num_features}-{hidden}-10"
    )
    regression = nn.Linear(ds.num_features, ds.num_classes)
    reg_epochs = regression_epochs if regression_epochs is not None else max(1, min(epochs, 3))
    reg_acc = train(regression, train_loader, test_loader, reg_epochs, optimizer, lr, "softmax regression")
    print(f"\ntest accuracy ({ds.name}): MLP {mlp_acc:.2%}, softmax regression {reg_acc:.2%}")
    if plot:
        plots(mlp, test_loader, ds.image_shape)
    return {"dataset": ds.name, "mlp": mlp_acc, "regression": reg_acc}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="directory with the MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--hidden", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train/test images")
    a = parser.parse_args()
    main(a.data, a.epochs, a.optimizer, a.lr, a.hidden, a.batch_size, a.limit)
