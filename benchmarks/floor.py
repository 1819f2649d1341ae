"""Hand-derived NumPy for the workloads that ``microtensor.reference`` does not cover.

Same conventions as ``microtensor.reference``: ``nn.Linear`` layout (``W`` is ``(out, in)``,
``Z = X W^T + b``), losses with reduction ``'mean'`` over all output elements, grads keyed by the
``state_dict`` names of the equivalent ``nn.Sequential``, dtype-preserving (only Python scalars
are mixed in). Every derivative below is written out by hand; nothing here uses autograd.
"""

from __future__ import annotations

import numpy as np

from microtensor.reference import linear

Grads = dict[str, np.ndarray]


def tanh_mlp_mse(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> tuple[np.generic, Grads]:
    """Deep MLP with tanh hidden layers and a linear output, MSE loss (the ``small-mlp`` floor).

    Layers l = 1..L are ``nn.Sequential(Linear, Tanh, Linear, Tanh, ..., Linear)``, so layer l's
    parameters are ``f"{2(l-1)}.weight"`` / ``.bias``. With A_0 = X:

        Z_l = A_{l-1} W_l^T + b_l,   A_l = tanh(Z_l) for l < L,   Yhat = Z_L,
        L   = mean (Yhat - y)^2                             (over all m*out elements)

    Backward, by the chain rule (tanh' = 1 - tanh^2, written with the saved output A_l):

        dZ_L     = 2 (Yhat - y) / (m*out)
        dW_l     = dZ_l^T A_{l-1},        db_l = sum_rows dZ_l
        dZ_{l-1} = (dZ_l W_l) * (1 - A_{l-1}^2)
    """
    n_layers = len(params) // 2
    layers = [(params[f"{2 * i}.weight"], params[f"{2 * i}.bias"]) for i in range(n_layers)]
    acts = [X]  # A_0 .. A_{L-1}: the inputs of each layer
    A = X
    for W, b in layers[:-1]:
        Z = linear(A, W, b)
        A = np.tanh(Z, out=Z)  # Z is a fresh temporary
        acts.append(A)
    W_L, b_L = layers[-1]
    diff = linear(A, W_L, b_L)
    diff -= y  # Yhat - y, in Yhat's buffer
    loss = np.mean(diff * diff)
    dZ = diff
    dZ *= 2 / diff.size
    grads: Grads = {}
    for l in range(n_layers - 1, -1, -1):
        W = layers[l][0]
        A_in = acts[l]
        grads[f"{2 * l}.weight"] = dZ.T @ A_in
        grads[f"{2 * l}.bias"] = dZ.sum(axis=0)
        if l:
            dA = dZ @ W
            dA *= 1 - A_in * A_in
            dZ = dA
    return loss, grads


def tanh_mul_chain(x0: np.ndarray, n: int, c: float) -> tuple[np.generic, np.ndarray]:
    """The ``deep-chain`` floor: n elementwise ops alternating x <- c*x (even steps) and x <- tanh(x)
    (odd steps), L = sum(x_n); returns (L, dL/dx0).

    Forward keeps the tanh outputs (the only values the backward needs). Backward, from
    dL/dx_n = 1 and walking the ops in reverse:  mul: g <- c*g;  tanh (output y): g <- g*(1 - y^2).
    """
    saved = []
    x = x0
    for i in range(n):
        if i % 2 == 0:
            x = x * c
        else:
            x = np.tanh(x)
            saved.append(x)
    loss = x.sum()
    g = np.ones_like(x)
    for i in range(n - 1, -1, -1):
        if i % 2 == 0:
            g *= c
        else:
            y = saved.pop()
            g *= 1 - y * y
    return loss, g


def add_chain_backward(n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Hand backward of x_{k+1} = x_k + b (k < n), L = sum(x_n), for 1-element x_0 and b:
    each add node passes g = dL/dx_{k+1} = 1 to x_k unchanged and accumulates it into dL/db,
    so dL/dx_0 = 1 and dL/db = n. The floor's cost of ``backward`` per graph node: one in-place add.
    Returns (dL/dx_0, dL/db)."""
    g = np.ones(1, dtype=dtype)
    gb = np.zeros(1, dtype=dtype)
    for _ in range(n):
        gb += g
    return g, gb
