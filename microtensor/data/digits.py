"""The small 8x8 handwritten digits set shipped by scikit-learn, and MNIST-or-digits loading.

scikit-learn is an optional extra (`pip install 'microtensor[digits]'`); its
`load_digits` data (1,797 images, 8x8, 16 grey levels) lives inside the package, so
this works offline. `load_mnist_or_digits` prefers MNIST when its files can be found
and says which one it used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .dataset import TensorDataset
from .mnist import (
    DATA_ENV,
    MNIST,
    default_download_dir,
    default_mnist_dirs,
    download_mnist,
    find_mnist_dir,
    missing_mnist_files,
)

INSTALL_HINT = "pip install 'microtensor[digits]'"


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            f"the 8x8 digits data set comes with scikit-learn, which is not installed: {INSTALL_HINT}"
        ) from e
    bunch = load_digits()
    return bunch.data, bunch.target


def digits(
    train: bool | None = None, *, test_fraction: float = 0.2, seed: int = 0, flatten: bool = True
) -> tuple[Tensor, Tensor]:
    """(X, y): scikit-learn's 8x8 digits, X float32 in [0, 1], y int64 labels 0-9.

    X has shape (N, 64), or (N, 1, 8, 8) with `flatten=False`. With `train=None` all
    1,797 images; with `train=True` / `False` the training / test part of a fixed
    split: a permutation from `numpy.random.default_rng(seed)` puts
    round(test_fraction * 1797) images (359 by default) in the test part, the same on
    every call and independent of `mt.manual_seed`.
    """
    data, target = _load_digits()
    X = (data / 16.0).astype(np.float32)  # 16 grey levels: 0..16
    y = target.astype(np.int64)
    if train is not None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"digits: test_fraction must lie strictly between 0 and 1, got {test_fraction}")
        perm = np.random.default_rng(seed).permutation(len(y))
        n_test = int(round(test_fraction * len(y)))
        keep = np.sort(perm[n_test:] if train else perm[:n_test])
        X, y = X[keep], y[keep]
    if not flatten:
        X = X.reshape(len(X), 1, 8, 8)
    return Tensor._wrap(np.ascontiguousarray(X)), Tensor._wrap(y)


@dataclass(frozen=True)
class LoadedData:
    """What `load_mnist_or_digits` found: the two splits and how to build a model for them."""

    name: str  # "mnist" or "digits"
    train: TensorDataset
    test: TensorDataset
    num_features: int  # 784 or 64
    num_classes: int  # 10
    image_shape: tuple[int, int]  # (28, 28) or (8, 8)
    source: str  # the directory of the MNIST files, or "scikit-learn"
    message: str  # one line saying which data set is used and why


#: How to get MNIST, for the messages that fall back to digits.
MNIST_HINT = (
    f"to use MNIST, pass download=True (the examples' --download), pass the directory holding the "
    f"four IDX files (--data DIR), or set {DATA_ENV} to a data root with an mnist/ folder"
)


def _digits_data(flatten: bool, test_fraction: float, seed: int, message: str) -> LoadedData:
    Xtr, ytr = digits(True, test_fraction=test_fraction, seed=seed, flatten=flatten)
    Xte, yte = digits(False, test_fraction=test_fraction, seed=seed, flatten=flatten)
    message = f"{message}{len(ytr)} training and {len(yte)} test images (8x8)"
    return LoadedData(
        "digits", TensorDataset(Xtr, ytr), TensorDataset(Xte, yte), 64, 10, (8, 8), "scikit-learn", message
    )


def load_mnist_or_digits(
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = False,
    dataset: str = "auto",
    flatten: bool = True,
    test_fraction: float = 0.2,
    seed: int = 0,
    verbose: bool = True,
) -> LoadedData:
    """MNIST (both splits) when it can be found or downloaded, else scikit-learn's 8x8 digits.

    - `data_dir` given: MNIST must be there (or in its `mnist/` folder; with `download=True`
      missing files are fetched into it). Missing files raise FileNotFoundError naming
      them: an explicit path never falls back silently.
    - `data_dir` None: the directories of `default_mnist_dirs()` are searched
      (MICROTENSOR_DATA, then the per-user cache). With `download=True` MNIST is
      downloaded into `default_download_dir()` when not found. When it is still
      unavailable (`dataset="auto"`), the digits set is used and the message says why and
      how to get MNIST; with `dataset="mnist"` that is an error instead.
    - `dataset="digits"` uses the digits set without looking for MNIST.

    The digits set is split by `digits(train=..., test_fraction, seed)`. MNIST files that
    are found but corrupt raise an error rather than being replaced by digits. The
    returned `message` (printed when `verbose`) says which data set is used.

    Example:
        >>> data = load_mnist_or_digits(verbose=False)      # doctest: +SKIP
        >>> data.name, data.num_features, len(data.test)
        ('digits', 64, 359)
    """
    if dataset not in ("auto", "mnist", "digits"):
        raise ValueError(
            f"load_mnist_or_digits: dataset must be 'auto', 'mnist' or 'digits', got {dataset!r}"
        )
    if dataset == "digits" and data_dir is not None:
        raise ValueError(
            "load_mnist_or_digits: data_dir names MNIST files; it cannot be used with dataset='digits'"
        )
    if dataset == "digits":
        result = _digits_data(flatten, test_fraction, seed, "Using scikit-learn's 8x8 digits: ")
        if verbose:
            print(result.message)
        return result

    root = find_mnist_dir(data_dir)
    reason = None
    if root is None and data_dir is not None:
        explicit = Path(data_dir).expanduser()
        if download:
            download_mnist(explicit)
            root = explicit
        else:
            missing = ", ".join(missing_mnist_files(explicit))
            where = explicit if explicit.is_dir() else f"{explicit} (no such directory)"
            raise FileNotFoundError(
                f"MNIST: {missing} not found in {where} (nor in its mnist/ folder); "
                "pass the directory holding the four IDX files, or use download=True "
                "(the examples' --download) to fetch them there"
            )
    elif root is None and download:
        target = default_download_dir()
        try:
            download_mnist(target)
            root = target
        except (RuntimeError, ValueError, OSError) as e:
            if dataset == "mnist":
                raise
            reason = f"could not download MNIST into {target} ({str(e).splitlines()[-1].strip()})"
    if root is not None:
        train = MNIST(root, train=True, flatten=flatten)
        test = MNIST(root, train=False, flatten=flatten)
        h, w = train.data.shape[1:]
        message = f"Using MNIST from {root}: {len(train)} training and {len(test)} test images ({h}x{w})"
        result = LoadedData("mnist", train, test, h * w, 10, (h, w), str(root), message)
    else:
        searched = ", ".join(str(d) for d in default_mnist_dirs(data_dir))
        if reason is None:
            reason = f"MNIST files not found (searched {searched})"
        if dataset == "mnist":
            raise FileNotFoundError(f"MNIST: {reason}; {MNIST_HINT}")
        try:
            result = _digits_data(
                flatten,
                test_fraction,
                seed,
                f"{reason}; {MNIST_HINT}.\nUsing scikit-learn's 8x8 digits instead: ",
            )
        except ImportError as e:
            raise ImportError(
                f"{reason}, and the fallback 8x8 digits set needs scikit-learn: {INSTALL_HINT}; {MNIST_HINT}"
            ) from e
    if verbose:
        print(result.message)
    return result
