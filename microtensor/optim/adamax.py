"""Adamax (Adam with the infinity norm) with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _check_betas, _step_counter
from .optimizer import Optimizer, _check, _lerp_


class Adamax(Optimizer):
    """Adamax, as torch.optim.Adamax.

    m = β1·m + (1−β1)·g; u = max(β2·u, |g| + eps); p −= lr/(1−β1ᵗ) · m/u, g including
    weight_decay·p. State: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

        >>> opt = mt.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        _check("Adamax", lr >= 0, f"Invalid learning rate: {lr}")
        _check("Adamax", eps >= 0, f"Invalid epsilon value: {eps}")
        _check_betas("Adamax", betas)
        _check("Adamax", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        maximize = group["maximize"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
                state["exp_inf"] = Tensor._wrap(np.zeros_like(p))
            if maximize:
                g = -g
            step_t = state["step"]._data_for_write()
            step_t += 1
            if wd != 0:
                g = g + wd * p
            exp_avg, exp_inf = state["exp_avg"]._data_for_write(), state["exp_inf"]._data_for_write()
            _lerp_(exp_avg, g, 1 - beta1)
            exp_inf *= beta2
            norm = np.abs(g, out=np.empty_like(p))  # out=: an array even for 0-d params
            norm += eps
            np.maximum(exp_inf, norm, out=exp_inf)
            clr = lr / (1 - beta1 ** float(step_t))
            np.divide(exp_avg, exp_inf, out=norm)
            norm *= -clr
            p += norm
