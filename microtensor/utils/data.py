"""`torch.utils.data`'s names, so `from microtensor.utils.data import DataLoader` works as in PyTorch.

The implementation lives in `microtensor.data`.
"""

from ..data.dataset import Dataset, Subset, TensorDataset, random_split
from ..data.loader import DataLoader, default_collate

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
