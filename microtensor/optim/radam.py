"""RAdam (rectified Adam) with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _check_betas, _step_counter
from .optimizer import Optimizer, _check, _lerp_


class RAdam(Optimizer):
    """RAdam, as torch.optim.RAdam.

    m and v as Adam; ρ∞ = 2/(1−β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1−β2ᵗ). While ρₜ ≤ 5 the step is
    p −= lr·m/(1−β1ᵗ) (momentum only); after, it is scaled by the adaptive term
    √(1−β2ᵗ)/(√v + eps) and the rectification r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ)).
    ``weight_decay`` is L2 or, with ``decoupled_weight_decay``, p ← p·(1 − lr·wd).

        >>> opt = mt.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        _check("RAdam", lr >= 0, f"Invalid learning rate: {lr}")
        _check("RAdam", eps >= 0, f"Invalid epsilon value: {eps}")
        _check_betas("RAdam", betas)
        _check("RAdam", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
            if maximize:
                g = -g
            step_t = state["step"]._data_for_write()
            step_t += 1
            step = float(step_t)
            if wd != 0:
                if decoupled:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            exp_avg, exp_avg_sq = state["exp_avg"]._data_for_write(), state["exp_avg_sq"]._data_for_write()
            _lerp_(exp_avg, g, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += ((1 - beta2) * g) * g
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            update = np.divide(exp_avg, bias_correction1, out=np.empty_like(p))
            update *= lr
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:
                adaptive = np.sqrt(exp_avg_sq, out=np.empty_like(p))  # 0-d safe
                adaptive += eps
                np.divide(bias_correction2**0.5, adaptive, out=adaptive)
                update *= adaptive
                update *= (
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                ) ** 0.5
            p -= update
