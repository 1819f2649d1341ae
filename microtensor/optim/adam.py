"""Adam and AdamW with PyTorch's exact update rules (bias correction, amsgrad)."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    """m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps).

    weight_decay adds weight_decay·p to g (L2); AdamW decays p directly instead.
    """

    _decoupled = False

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        name = type(self).__name__
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(
                f"{name}: invalid lr {lr}, eps {eps} or weight_decay {weight_decay} (must be >= 0)"
            )
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{name}: invalid beta parameters {betas}; each must be in [0, 1)")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        maximize, amsgrad = group["maximize"], group["amsgrad"]
        for param, g in pairs:
            p, state = param._data, self._state(param)
            if maximize:
                g = -g
            if wd:
                if self._decoupled:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            if not state:
                state["step"] = Tensor._wrap(np.array(0.0, np.float32))
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
            state["step"]._data += 1
            t = float(state["step"]._data)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            m += (g - m) * (1 - beta1)
            v *= beta2
            v += (1 - beta2) * g * g
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                v = vmax
            denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
            p -= (lr / (1 - beta1**t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 − lr·weight_decay) before the Adam step."""

    _decoupled = True

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
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
