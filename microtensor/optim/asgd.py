"""Averaged SGD with PyTorch's exact update rule."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adam import _step_counter
from .optimizer import Optimizer, _check


class ASGD(Optimizer):
    """Averaged stochastic gradient descent, as torch.optim.ASGD.

    p ← p·(1 − lambd·η) − η·g; the average ax follows p (ax = p while μ = 1, else
    ax += μ·(p − ax)); then η = lr/(1 + lambd·lr·t)^alpha and μ = 1/max(1, t − t0). As in PyTorch,
    η and μ are 0-d float32 state tensors (float in the parameter's dtype after load_state_dict).

        >>> opt = mt.optim.ASGD(model.parameters(), lr=0.01, t0=100)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        _check("ASGD", lr >= 0, f"Invalid learning rate: {lr}")
        _check("ASGD", weight_decay >= 0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        wd, maximize, foreach = group["weight_decay"], group["maximize"], group["foreach"]
        for param, g in pairs:
            p, state = param._data_for_write(), self._state(param)
            if not state:
                state["step"] = _step_counter()
                state["eta"] = Tensor._wrap(np.array(lr, np.float32))
                state["mu"] = Tensor._wrap(np.ones((), np.float32))
                state["ax"] = Tensor._wrap(np.zeros_like(p))
            if maximize:
                g = -g
            step_t, eta, mu = (state[k]._data_for_write() for k in ("step", "eta", "mu"))
            step_t += 1
            if wd != 0:
                g = g + wd * p
            eta_value = float(eta)
            ax = state["ax"]._data_for_write()
            if foreach:  # PyTorch's foreach kernel groups the decay with g: p −= η·(g + lambd·p)
                p -= eta_value * (g + lambd * p)
                ax += (p - ax) * float(mu)
            else:
                p *= 1 - lambd * eta_value
                p += -eta_value * g
            if foreach:
                pass  # ax was updated above
            elif float(mu) != 1:
                diff = p - ax
                diff *= float(mu)
                ax += diff
            else:
                ax[...] = p
            step = float(step_t)
            if foreach:  # PyTorch's foreach kernel computes η from the float32 step tensor, in float32
                s32 = np.float32
                eta[...] = s32(lr) * (s32(1) / ((s32(1) + s32(lambd * lr) * step_t) ** s32(alpha)))
            else:
                # PyTorch builds the new η and μ as float32 tensors, then copies them into the state's
                # dtype (float64 once a state dict was loaded): round through float32 the same way
                eta[...] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
            mu[...] = np.float32(1 / max(1, step - t0))
