"""Parameter: a Tensor that a Module registers as learnable."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad (by default) and is registered by Modules.

    Built from a Tensor or array, it shares that storage, as in PyTorch.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), np.float32)
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._meta = None
        self._vc = data._shared_vc() if isinstance(data, Tensor) else None  # same storage, same counter
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
