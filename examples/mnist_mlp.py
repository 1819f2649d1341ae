"""The MNIST network of the tutorials: 784 -> 1000 ReLU -> 10, softmax cross-entropy.

Finds the original MNIST IDX files as microtensor.data does: --data DIR when given
(then only there: a missing or incomplete directory is an error naming the missing
files), else $MICROTENSOR_DATA/mnist, else the per-user cache ~/.cache/microtensor/mnist.
--download fetches them (about 11 MB, checked against their published SHA-256) when
they are not found. Without MNIST it uses scikit-learn's small 8x8 digits set instead,
with hyperparameters tuned for it, and says so and how to get MNIST (--dataset mnist
makes that an error; --dataset digits skips MNIST).

Trains with mini-batch Adam (or SGD), prints a per-epoch table, then trains the
single-layer softmax regression for comparison, and saves a confusion matrix and a
grid of misclassified digits to examples/out/<data set>/.

MNIST: inputs standardised with the training set's mean and spread, Adam's learning
rate decays by 0.6 per epoch. Measured on the 2-core development machine: 98.3% test
accuracy after 5 epochs (softmax regression, 3 epochs: 92.2%), 2.7-4.7 s per MLP epoch when the
machine is otherwise idle; --quick trains one epoch of each.
Digits (1,438 training images): 64 -> 256 -> 10, batches of 64, lr 0.01 decaying by 0.9
per epoch, 10 epochs (softmax regression 20): about 98% (softmax regression about 96%)
in a few seconds.

Run:  python examples/mnist_mlp.py [--data DIR] [--download] [--dataset auto|mnist|digits]
                                   [--epochs N] [--optimizer adam|sgd] [--limit N] [--quick]
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


#: Defaults per data set. MNIST's are the tutorials'; the digits set is 40x smaller, so it
#: needs more, smaller steps per epoch and a larger learning rate to get anywhere in a few
#: seconds (with MNIST's settings softmax regression stays near chance after one epoch).
DEFAULTS = {
    "mnist": {
        "epochs": 5,
        "regression_epochs": 3,
        "hidden": 1000,
        "batch_size": 128,
        "gamma": 0.6,
        "lr": {"adam": 1e-3, "sgd": 0.05},
    },
    "digits": {
        "epochs": 10,
        "regression_epochs": 20,
        "hidden": 256,
        "batch_size": 64,
        "gamma": 0.9,
        "lr": {"adam": 1e-2, "sgd": 0.1},
    },
}


def train(
    model, train_loader, test_loader, epochs: int, optimizer: str, lr: float, name: str, gamma: float
) -> float:
    opt = (
        mt.optim.Adam(model.parameters(), lr=lr)
        if optimizer == "adam"
        else mt.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    )
    schedule = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)  # smaller steps as it converges
    n_params = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {n_params:,} parameters, {optimizer} lr={lr} (x{gamma} per epoch), {epochs} epochs")
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


def plots(model, test_loader, image_shape, dataset: str, accuracy: float) -> None:
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
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_title(f"{TITLES[dataset]} test set: MLP confusion matrix ({accuracy:.2%} correct)")
    fig.colorbar(im, label="number of test images")
    save(fig, "confusion.png", dataset)
    wrong = np.flatnonzero(preds != labels)[:32]
    images = test_loader.dataset.tensors[0].numpy() if hasattr(test_loader.dataset, "tensors") else None
    if images is not None and len(wrong):
        fig, axes = plt.subplots(4, 8, figsize=(10, 5.5))
        for ax in axes.ravel():
            ax.axis("off")
        for ax, i in zip(axes.ravel(), wrong):
            ax.imshow(images[i].reshape(image_shape), cmap="gray_r")
            ax.set_title(f"{labels[i]}→{preds[i]}", fontsize=9)
        fig.suptitle(f"{TITLES[dataset]}: the first {len(wrong)} misclassified test images (true→predicted)")
        save(fig, "misclassified.png", dataset)


class DataUnavailable(Exception):
    """The requested data could not be found or fetched (the message says what is missing)."""


TITLES = {"mnist": "MNIST", "digits": "8x8 digits (scikit-learn)"}


def main(
    data: str | None = None,
    epochs: int | None = None,
    optimizer: str = "adam",
    lr: float | None = None,
    hidden: int | None = None,
    batch_size: int | None = None,
    limit: int | None = None,
    regression_epochs: int | None = None,
    plot: bool = True,
    seed: int = 0,
    download: bool = False,
    dataset: str = "auto",
    quick: bool = False,
) -> dict[str, float]:
    mt.manual_seed(seed)
    try:
        ds = load_mnist_or_digits(data, download=download, dataset=dataset)
    except (FileNotFoundError, RuntimeError, ImportError) as e:
        raise DataUnavailable(str(e)) from e
    d = DEFAULTS[ds.name]
    if quick and ds.name == "mnist":  # one epoch of each on MNIST; the digits defaults are quick already
        epochs = epochs or 1
        regression_epochs = regression_epochs or 1
    epochs = epochs if epochs is not None else d["epochs"]
    regression_epochs = regression_epochs if regression_epochs is not None else d["regression_epochs"]
    hidden = hidden if hidden is not None else d["hidden"]
    batch_size = batch_size if batch_size is not None else d["batch_size"]
    lr = lr if lr is not None else d["lr"][optimizer]
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

    mlp = nn.Sequential(nn.Linear(ds.num_features, hidden), nn.ReLU(), nn.Linear(hidden, ds.num_classes))
    name = f"MLP {ds.num_features}-{hidden}-10 on {TITLES[ds.name]}"
    mlp_acc = train(mlp, train_loader, test_loader, epochs, optimizer, lr, name, d["gamma"])
    regression = nn.Linear(ds.num_features, ds.num_classes)
    reg_name = f"softmax regression on {TITLES[ds.name]}"
    reg_acc = train(
        regression, train_loader, test_loader, regression_epochs, optimizer, lr, reg_name, d["gamma"]
    )
    print(f"\ntest accuracy ({TITLES[ds.name]}): MLP {mlp_acc:.2%}, softmax regression {reg_acc:.2%}")
    if ds.name == "digits":
        print("(the 8x8 digits set, not MNIST: run with --download, or --data DIR, to train on MNIST)")
    if plot:
        plots(mlp, test_loader, ds.image_shape, ds.name, mlp_acc)
    return {"dataset": ds.name, "mlp": mlp_acc, "regression": reg_acc}


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
    parser.add_argument(
        "--dataset",
        choices=("auto", "mnist", "digits"),
        default="auto",
        help="auto: MNIST if available, else the 8x8 digits; mnist: MNIST or an error",
    )
    parser.add_argument("--epochs", type=int, default=None, help="default: 5 (MNIST) or 10 (digits)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--hidden", type=int, default=None, help="default: 1000 (MNIST) or 256 (digits)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train/test images")
    parser.add_argument("--quick", action="store_true", help="one epoch of each model on MNIST")
    a = parser.parse_args()
    try:
        main(
            a.data,
            a.epochs,
            a.optimizer,
            a.lr,
            a.hidden,
            a.batch_size,
            a.limit,
            download=a.download,
            dataset=a.dataset,
            quick=a.quick,
        )
    except DataUnavailable as e:
        # A user-facing error (a mistyped --data, no network): the message, not a traceback.
        parser.exit(2, f"{parser.prog}: error: {e}\n")
