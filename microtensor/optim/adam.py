"""Adam and AdamW with PyTorch's exact update rules (bias correction, amsgrad, decoupled decay)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_flags, _lerp_


def _check_betas(name: str, betas) -> None:
    _check(name, 0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(name, 0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")


def _step_counter() -> Tensor:
    """A fresh ``step`` state entry: a 0-d float32 tensor, as torch 2.13 keeps it."""
    return Tensor._wrap(np.zeros((), np.float32))


class Adam(Optimizer):
    """Adam, as torch.optim.Adam.

    m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps).
    ``weight_decay`` adds weight_decay·p to g (L2); with ``decoupled_weight_decay=True`` (AdamW)
    p is multiplied by 1 − lr·weight_decay instead. ``amsgrad`` uses the running maximum of v.
    State per parameter: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``
    (and ``max_exp_avg_sq``), as PyTorch's.

        >>> opt = mt.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ):
        name = type(self).__name__
        _check(name, lr >= 0, f"Invalid learning rate: {lr}")
        _check(name, eps >= 0, f"Invalid epsilon value: {eps}")
        _check_betas(name, betas)
        _check(name, weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        _check_flags(name, foreach, fused, differentiable)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        maximize, amsgrad, decoupled = group["maximize"], group["amsgrad"], group["decoupled_weight_decay"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if maximize:
                g = -g
            if not state:
                state["step"] = _step_counter()
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
            step_t = state["step"]._data_for_write()
            step_t += 1
            if wd:
                if decoupled:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            m, v = state["exp_avg"]._data_for_write(), state["exp_avg_sq"]._data_for_write()
            _lerp_(m, g, 1 - beta1)
            v *= beta2
            v += ((1 - beta2) * g) * g
            t = float(step_t)
            step_size = lr / (1 - beta1**t)
            bias_correction2_sqrt = (1 - beta2**t) ** 0.5
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data_for_write()
                np.maximum(vmax, v, out=vmax)
                v = vmax
            denom = np.sqrt(v, out=np.empty_like(v))  # out=: an array even for 0-d params
            denom /= bias_correction2_sqrt
            denom += eps
            np.divide(m, denom, out=denom)  # addcdiv: p + value·(m / denom)
            denom *= -step_size
            p += denom


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2), as torch.optim.AdamW:
    p ← p·(1 − lr·weight_decay) before the Adam step.

        >>> opt = mt.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
