"""Data: datasets and the DataLoader (PyTorch's torch.utils.data), and the classic data sets.

from microtensor.data import DataLoader, TensorDataset, xor, mnist, load_mnist_or_digits

X, y = xor()                                   # the XOR truth table, (4, 2) and (4, 1) float32
loader = DataLoader(TensorDataset(X, y), batch_size=2, shuffle=True, seed=0)
for xb, yb in loader: ...

# PyTorch's samplers and datasets: a seeded train/validation split, class balancing, streams
perm = mt.randperm(len(ds)).tolist()
train_loader = DataLoader(ds, batch_size=32, sampler=SubsetRandomSampler(perm[:800]))
balanced = DataLoader(ds, batch_size=32, sampler=WeightedRandomSampler(weights, num_samples=len(ds)))
both = ds_a + ds_b                             # ConcatDataset; IterableDataset / ChainDataset for streams

train = mnist(download=True)                   # 60,000 x 784 float32 in [0, 1], int64 labels
data = load_mnist_or_digits()                  # MNIST if found, else scikit-learn's 8x8 digits

Data sets are found through the `root` argument, then the environment variable
MICROTENSOR_DATA (a data root with one folder per data set), then the per-user cache
~/.cache/microtensor (see `data_root`, `cache_dir`); `download=True` fetches into it.
"""

from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .digits import LoadedData, digits, load_mnist_or_digits
from .distributed import DistributedSampler
from .loader import DataLoader, default_collate, default_convert
from .logic import GATES, TRUTH_TABLES, and_, logic_dataset, logic_gate, nand, or_, xor
from .mnist import (
    MNIST,
    cache_dir,
    data_root,
    default_download_dir,
    default_mnist_dirs,
    download_mnist,
    find_mnist_dir,
    missing_mnist_files,
    mnist,
    read_idx,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "GATES",
    "MNIST",
    "TRUTH_TABLES",
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "LoadedData",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "and_",
    "cache_dir",
    "data_root",
    "default_collate",
    "default_convert",
    "default_download_dir",
    "default_mnist_dirs",
    "digits",
    "download_mnist",
    "find_mnist_dir",
    "get_worker_info",
    "load_mnist_or_digits",
    "logic_dataset",
    "logic_gate",
    "missing_mnist_files",
    "mnist",
    "nand",
    "or_",
    "random_split",
    "read_idx",
    "xor",
]
