"""Adagrad with PyTorch's exact update rule (lr decay, initial accumulator value)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_flags


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad.

    s += g²; p −= lr/(1 + (t−1)·lr_decay) · g / (√s + eps), g including weight_decay·p. As in
    PyTorch, the state (``step``, ``sum`` filled with ``initial_accumulator_value``) is created for
    every parameter when the optimizer is built.

        >>> opt = mt.optim.Adagrad(model.parameters(), lr=0.01, initial_accumulator_value=0.1)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        _check("Adagrad", lr >= 0, f"Invalid learning rate: {lr}")
        _check("Adagrad", lr_decay >= 0, f"Invalid lr_decay value: {lr_decay}")
        _check("Adagrad", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        _check(
            "Adagrad",
            initial_accumulator_value >= 0,
            f"Invalid initial_accumulator_value value: {initial_accumulator_value}",
        )
        _check("Adagrad", eps >= 0, f"Invalid epsilon value: {eps}")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        _check_flags("Adagrad", foreach, fused, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p: Tensor, value: float) -> dict:
        state = self._state(p)
        state["step"] = Tensor._wrap(np.zeros((), np.float32))
        state["sum"] = Tensor._wrap(np.full_like(p._data, value))
        return state

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        maximize = group["maximize"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:  # a parameter added by add_param_group: PyTorch reads the constructor's value
                state = self._init_state(param, self.defaults["initial_accumulator_value"])
            step_t = state["step"]._data_for_write()
            step_t += 1
            step = float(step_t)
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]._data_for_write()
            s += g * g
            std = np.sqrt(s, out=np.empty_like(p))  # out=: an array even for 0-d params
            std += eps
            np.divide(g, std, out=std)
            std *= -clr
            p += std
