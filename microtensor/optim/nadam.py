"""NAdam (Adam with Nesterov momentum) with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _check_betas, _step_counter
from .optimizer import Optimizer, _check, _lerp_


class NAdam(Optimizer):
    """NAdam, as torch.optim.NAdam.

    μₜ = β1·(1 − ½·0.96^(t·momentum_decay)); m and v as Adam; with Πₜ = μ1⋯μₜ and
    d = √(v/(1−β2ᵗ)) + eps: p −= lr·(1−μₜ)/(1−Πₜ) · g/d + lr·μₜ₊₁/(1−Πₜ·μₜ₊₁) · m/d.
    ``weight_decay`` is L2 (added to g) or, with ``decoupled_weight_decay``, p ← p·(1 − lr·wd).
    State: ``step``, ``mu_product`` (0-d float32, as PyTorch), ``exp_avg``, ``exp_avg_sq``.

        >>> opt = mt.optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        _check("NAdam", lr >= 0, f"Invalid learning rate: {lr}")
        _check("NAdam", eps >= 0, f"Invalid epsilon value: {eps}")
        _check_betas("NAdam", betas)
        _check("NAdam", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        _check("NAdam", momentum_decay >= 0, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        momentum_decay, decoupled, maximize = (
            group["momentum_decay"],
            group["decoupled_weight_decay"],
            group["maximize"],
        )
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["mu_product"] = Tensor._wrap(np.ones((), np.float32))
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
            if maximize:
                g = -g
            step_t = state["step"]._data_for_write()
            step_t += 1
            step = float(step_t)
            bias_correction2 = 1 - beta2**step
            if wd != 0:
                if decoupled:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            mu_product = state["mu_product"]._data_for_write()
            mu_product *= mu  # in the product's own dtype (float32 unless loaded from a state dict)
            mu_product_value = float(mu_product)
            mu_product_next = mu_product_value * mu_next
            exp_avg, exp_avg_sq = state["exp_avg"]._data_for_write(), state["exp_avg_sq"]._data_for_write()
            _lerp_(exp_avg, g, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += ((1 - beta2) * g) * g
            denom = np.divide(exp_avg_sq, bias_correction2, out=np.empty_like(p))  # 0-d safe
            np.sqrt(denom, out=denom)
            denom += eps
            p += (-lr * (1.0 - mu) / (1.0 - mu_product_value)) * (g / denom)
            p += ((-lr * mu_next) / (1.0 - mu_product_next)) * (exp_avg / denom)
