"""Rprop (resilient backpropagation) with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _step_counter
from .optimizer import Optimizer, _check


class Rprop(Optimizer):
    """Rprop, as torch.optim.Rprop: uses only the sign of each gradient entry.

    Where g·g_prev > 0 the entry's step size grows by etas[1], where < 0 it shrinks by etas[0]
    (and that entry's gradient counts as 0 this step), clipped to step_sizes = (min, max);
    then p −= sign(g)·step_size. State: ``step``, ``prev``, ``step_size`` (starts at lr).

        >>> opt = mt.optim.Rprop(model.parameters(), lr=0.01, etas=(0.5, 1.2))
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        _check("Rprop", lr >= 0, f"Invalid learning rate: {lr}")
        _check("Rprop", 0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(
            lr=lr,
            etas=tuple(etas),
            step_sizes=tuple(step_sizes),
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
        maximize = group["maximize"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["prev"] = Tensor._wrap(np.zeros_like(p))
                state["step_size"] = Tensor._wrap(np.full_like(g, group["lr"]))
            state["step"]._data_for_write()[...] += 1
            prev, step_size = state["prev"]._data_for_write(), state["step_size"]._data_for_write()
            # entries are zeroed below: never the caller's array (out=: an array even for 0-d params)
            g = np.negative(g, out=np.empty_like(p)) if maximize else g.copy()
            sign = np.multiply(g, prev, out=np.empty_like(p))
            np.sign(sign, out=sign)
            factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(
                p.dtype, copy=False
            )
            step_size *= factor
            np.clip(step_size, step_size_min, step_size_max, out=step_size)
            g[sign < 0] = 0
            np.sign(g, out=sign)
            sign *= step_size
            p -= sign
            prev[...] = g
