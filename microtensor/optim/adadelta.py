"""Adadelta with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _step_counter
from .optimizer import Optimizer, _check


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta (lr defaults to 1.0).

    v = ρ·v + (1−ρ)·g²; Δ = √(u + eps)/√(v + eps)·g; u = ρ·u + (1−ρ)·Δ²; p −= lr·Δ, g including
    weight_decay·p. State: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

        >>> opt = mt.optim.Adadelta(model.parameters(), rho=0.9)
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        _check("Adadelta", lr >= 0, f"Invalid learning rate: {lr}")
        _check("Adadelta", 0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check("Adadelta", eps >= 0, f"Invalid epsilon value: {eps}")
        _check("Adadelta", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, rho, eps, wd, maximize = (
            group["lr"],
            group["rho"],
            group["eps"],
            group["weight_decay"],
            group["maximize"],
        )
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["square_avg"] = Tensor._wrap(np.zeros_like(p))
                state["acc_delta"] = Tensor._wrap(np.zeros_like(p))
            state["step"]._data_for_write()[...] += 1
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            square_avg = state["square_avg"]._data_for_write()
            acc_delta = state["acc_delta"]._data_for_write()
            square_avg *= rho
            square_avg += ((1 - rho) * g) * g
            std = np.add(square_avg, eps, out=np.empty_like(p))  # out=: 0-d safe
            np.sqrt(std, out=std)
            delta = np.add(acc_delta, eps, out=np.empty_like(p))
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            acc_delta *= rho
            acc_delta += ((1 - rho) * delta) * delta
            delta *= -lr
            p += delta
