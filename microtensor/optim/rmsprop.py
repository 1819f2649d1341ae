"""RMSprop with PyTorch's exact update rule (centered, momentum, weight decay)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _step_counter
from .optimizer import Optimizer, _check, _lerp_


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    v = α·v + (1−α)·g²; with ``centered``, ḡ = α·ḡ + (1−α)·g and the denominator is
    √(v − ḡ²) + eps, else √v + eps; with ``momentum`` b = momentum·b + g/denom and p −= lr·b,
    else p −= lr·g/denom. g includes weight_decay·p. State: ``step``, ``square_avg``
    (and ``momentum_buffer``, ``grad_avg``), as PyTorch's.

        >>> opt = mt.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99, momentum=0.9)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        _check("RMSprop", lr >= 0, f"Invalid learning rate: {lr}")
        _check("RMSprop", eps >= 0, f"Invalid epsilon value: {eps}")
        _check("RMSprop", momentum >= 0, f"Invalid momentum value: {momentum}")
        _check("RMSprop", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        _check("RMSprop", alpha >= 0, f"Invalid alpha value: {alpha}")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["square_avg"] = Tensor._wrap(np.zeros_like(p))
                if momentum > 0:
                    state["momentum_buffer"] = Tensor._wrap(np.zeros_like(p))
                if centered:
                    state["grad_avg"] = Tensor._wrap(np.zeros_like(p))
            if maximize:
                g = -g
            state["step"]._data_for_write()[...] += 1
            if wd != 0:
                g = g + wd * p
            square_avg = state["square_avg"]._data_for_write()
            square_avg *= alpha
            square_avg += ((1 - alpha) * g) * g
            if centered:
                grad_avg = state["grad_avg"]._data_for_write()
                _lerp_(grad_avg, g, 1 - alpha)
                avg = np.subtract(square_avg, grad_avg * grad_avg, out=np.empty_like(p))  # 0-d safe
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg, out=np.empty_like(p))
            avg += eps
            if momentum > 0:
                buf = state["momentum_buffer"]._data_for_write()
                buf *= momentum
                buf += g / avg
                p += -lr * buf
            else:
                np.divide(g, avg, out=avg)
                avg *= -lr
                p += avg
