"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_flags


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    buf = momentum·buf + (1 − dampening)·g (buf = g on the first step); p −= lr·buf
    (with Nesterov, p −= lr·(g + momentum·buf)); g includes weight_decay·p, and is negated
    when ``maximize``. ``foreach``/``fused`` are accepted and change nothing here.

        >>> opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        _check("SGD", lr >= 0, f"Invalid learning rate: {lr}")
        _check("SGD", momentum >= 0, f"Invalid momentum value: {momentum}")
        _check("SGD", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        _check_flags("SGD", foreach, fused, differentiable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        lrs: dict = {}  # lr as a 0-d array per dtype: NumPy multiplies by that twice as fast as by a float
        for param, g in pairs:
            p = param._data_for_write()
            if maximize:
                g = -g
            if weight_decay:
                g = g + weight_decay * p
            if momentum:
                state = self._state(param)
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = Tensor._wrap(np.array(g))
                    step = g
                else:
                    b = buf._data_for_write()
                    b *= momentum
                    b += (1 - dampening) * g
                    step = b
                g = g + momentum * step if nesterov else step
            rate = lrs.get(p.dtype)
            if rate is None:
                rate = lrs[p.dtype] = np.array(lr, p.dtype)
            p -= rate * g
