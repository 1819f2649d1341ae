"""Hand-derived backpropagation for classic small networks, in plain NumPy.

This module does not use microtensor at all. It writes out, formula by formula,
the gradients that a textbook (or the original backprop papers) derives by hand
for a few small networks: logistic regression, softmax regression and one-hidden-
layer MLPs. It serves two purposes:

* **Oracle for tests.** The autograd engine must reproduce these closed-form
  gradients, so a bug in a backward rule shows up as a mismatch here.
* **Baseline for benchmarks.** ``mlp_softmax_ce`` is the "hand-written NumPy"
  floor that the framework's MNIST MLP step is timed against.

Conventions (matching PyTorch):

* Weights use ``nn.Linear`` layout: ``W`` has shape ``(out, in)`` and a layer
  computes ``Z = X @ W.T + b``. ``m`` is the batch size (rows of ``X``).
* Losses use reduction ``'mean'`` over *all* elements of the output, so the
  upstream gradient carries a factor ``1 / (m * out)``.
* Every function returns ``(loss, grads)``. ``loss`` is a NumPy scalar of
  ``X.dtype``; ``grads`` maps parameter names (the ``state_dict`` names of the
  equivalent ``nn.Sequential``) to arrays shaped like the parameters.
* Dtype-preserving: float32 in gives float32 out. Only Python scalars are mixed
  in, so NumPy 2's weak-scalar rules never upcast to float64.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sigmoid",
    "softmax",
    "log_softmax",
    "one_hot",
    "linear",
    "logistic_mse",
    "logistic_bce",
    "mlp_bce",
    "mlp_tanh_mse",
    "softmax_cross_entropy",
    "mlp_softmax_ce",
    "sgd_step",
]

Grads = dict[str, np.ndarray]


# ----------------------------------------------------------------- forward pieces
def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), computed stably as
    1/(1+e) for z >= 0 and e/(1+e) for z < 0, with e = exp(-|z|) <= 1 (never overflows)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z)_k = (z_k - max z) - log sum_j exp(z_j - max z)  (log-sum-exp)."""
    s = z - z.max(axis=axis, keepdims=True)
    s -= np.log(np.exp(s).sum(axis=axis, keepdims=True))
    return s


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float32) -> np.ndarray:
    """Y[i, labels[i]] = 1, zeros elsewhere; shape (m, n_classes)."""
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def linear(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Z = X W^T + b   (W: (out, in), b: (out,))."""
    Z = X @ W.T
    Z += b
    return Z


def _bce(A: np.ndarray, y: np.ndarray) -> np.generic:
    """-mean(y log A + (1 - y) log(1 - A)), each log clamped at -100 as in torch."""
    with np.errstate(divide="ignore"):
        logA = np.maximum(np.log(A), -100)
        log1mA = np.maximum(np.log(1 - A), -100)
    return -np.mean(y * logA + (1 - y) * log1mA)


def _activate(Z: np.ndarray, kind: str) -> np.ndarray:
    """Hidden activation; relu/tanh overwrite Z in place (Z is a fresh temporary)."""
    if kind == "relu":
        return np.maximum(Z, 0, out=Z)
    if kind == "tanh":
        return np.tanh(Z, out=Z)
    if kind == "sigmoid":
        return sigmoid(Z)
    raise ValueError(f"unknown activation {kind!r}")


def _activation_backward(dA: np.ndarray, A: np.ndarray, kind: str) -> np.ndarray:
    """dZ from dA, written in terms of the activation output A (in place on dA):
    relu: dA * [A > 0];  tanh: dA * (1 - A^2);  sigmoid: dA * A (1 - A)."""
    if kind == "relu":
        dA *= A > 0
    elif kind == "tanh":
        dA *= 1 - A * A
    elif kind == "sigmoid":
        dA *= A * (1 - A)
    else:
        raise ValueError(f"unknown activation {kind!r}")
    return dA


def _two_layer_backward(X, A1, W2, dZ2, hidden) -> Grads:
    """dW2 = dZ2^T A1, db2 = sum_rows dZ2, dA1 = dZ2 W2, dZ1 = dA1 * f'(Z1),
    dW1 = dZ1^T X, db1 = sum_rows dZ1."""
    dW2 = dZ2.T @ A1
    db2 = dZ2.sum(axis=0)
    dZ1 = _activation_backward(dZ2 @ W2, A1, hidden)
    return {"0.weight": dZ1.T @ X, "0.bias": dZ1.sum(axis=0), "2.weight": dW2, "2.bias": db2}


# ------------------------------------------------------------- single-layer models
def logistic_mse(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.generic, Grads]:
    """A = sigma(X W^T + b),  L = mean (y - A)^2.
    dZ = -2 (y - A) A (1 - A) / (m*out),  dW = dZ^T X,  db = sum_rows dZ."""
    y = np.asarray(y, dtype=X.dtype)
    A = sigmoid(linear(X, W, b))
    diff = A - y
    loss = np.mean(diff * diff)
    dZ = diff * A * (1 - A) * (2 / A.size)
    return loss, {"weight": dZ.T @ X, "bias": dZ.sum(axis=0)}


def logistic_bce(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.generic, Grads]:
    """A = sigma(X W^T + b),  L = -mean(y log A + (1-y) log(1-A)).
    dZ = (A - y) / (m*out)  (sigma' cancels the BCE denominator),
    dW = dZ^T X,  db = sum_rows dZ."""
    y = np.asarray(y, dtype=X.dtype)
    A = sigmoid(linear(X, W, b))
    loss = _bce(A, y)
    dZ = (A - y) * (1 / A.size)
    return loss, {"weight": dZ.T @ X, "bias": dZ.sum(axis=0)}


def softmax_cross_entropy(
    X: np.ndarray, labels: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.generic, Grads]:
    """Softmax regression. Z = X W^T + b, P = softmax(Z),
    L = -mean_i log P[i, labels_i]  (via log-sum-exp),
    dZ = (P - onehot(labels)) / m,  dW = dZ^T X,  db = sum_rows dZ."""
    m = X.shape[0]
    rows = np.arange(m)
    logP = log_softmax(linear(X, W, b))
    loss = -np.mean(logP[rows, labels])
    dZ = np.exp(logP, out=logP)  # P, reusing the buffer
    dZ[rows, labels] -= 1  # P - onehot, without building onehot
    dZ *= 1 / m
    return loss, {"weight": dZ.T @ X, "bias": dZ.sum(axis=0)}


# ---------------------------------------------------------- one-hidden-layer MLPs
# Grad keys are the state_dict names of nn.Sequential(Linear, Act, Linear, ...).
def mlp_bce(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    hidden: str = "tanh",
) -> tuple[np.generic, Grads]:
    """Z1 = X W1^T + b1, A1 = tanh(Z1) | sigma(Z1), Z2 = A1 W2^T + b2, A2 = sigma(Z2),
    L = mean BCE(A2, y).  dZ2 = (A2 - y)/(m*out), dW2 = dZ2^T A1, db2 = sum_rows dZ2,
    dA1 = dZ2 W2, dZ1 = dA1 (1 - A1^2) | dA1 A1 (1 - A1), dW1 = dZ1^T X, db1 = sum_rows dZ1."""
    if hidden not in ("tanh", "sigmoid"):
        raise ValueError("hidden must be 'tanh' or 'sigmoid'")
    y = np.asarray(y, dtype=X.dtype)
    A1 = _activate(linear(X, W1, b1), hidden)
    A2 = sigmoid(linear(A1, W2, b2))
    loss = _bce(A2, y)
    dZ2 = (A2 - y) * (1 / A2.size)
    return loss, _two_layer_backward(X, A1, W2, dZ2, hidden)


def mlp_tanh_mse(
    X: np.ndarray, y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[np.generic, Grads]:
    """A1 = tanh(X W1^T + b1), A2 = tanh(A1 W2^T + b2), L = mean (A2 - y)^2.
    dZ2 = 2 (A2 - y)(1 - A2^2)/(m*out); dA1 = dZ2 W2, dZ1 = dA1 (1 - A1^2);
    dW = dZ^T (layer input), db = sum_rows dZ."""
    y = np.asarray(y, dtype=X.dtype)
    A1 = np.tanh(linear(X, W1, b1))
    A2 = np.tanh(linear(A1, W2, b2))
    diff = A2 - y
    loss = np.mean(diff * diff)
    dZ2 = diff * (1 - A2 * A2) * (2 / A2.size)
    return loss, _two_layer_backward(X, A1, W2, dZ2, "tanh")


def mlp_softmax_ce(
    X: np.ndarray,
    labels: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    hidden: str = "relu",
) -> tuple[np.generic, Grads]:
    """MNIST-style MLP (e.g. 784-1000-10): A1 = f(X W1^T + b1), f in {relu, tanh, sigmoid},
    Z2 = A1 W2^T + b2, L = -mean_i log softmax(Z2)[i, labels_i].
    dZ2 = (softmax(Z2) - onehot)/m, dW2 = dZ2^T A1, db2 = sum_rows dZ2, dA1 = dZ2 W2,
    dZ1 = dA1 * f'(Z1)  (relu: [Z1 > 0]), dW1 = dZ1^T X, db1 = sum_rows dZ1.
    Benchmark floor: temporaries are reused in place wherever possible."""
    m = X.shape[0]
    rows = np.arange(m)
    A1 = _activate(linear(X, W1, b1), hidden)
    logP = log_softmax(linear(A1, W2, b2))
    loss = -np.mean(logP[rows, labels])
    dZ2 = np.exp(logP, out=logP)
    dZ2[rows, labels] -= 1
    dZ2 *= 1 / m
    return loss, _two_layer_backward(X, A1, W2, dZ2, hidden)


# ----------------------------------------------------------------------- optimiser
def sgd_step(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    lr: float,
    momentum: float = 0.0,
    buffers: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """torch.optim.SGD (no dampening / nesterov / weight decay), in place on params:
    buf = g on the first step, else buf = momentum * buf + g;  p -= lr * buf
    (with momentum == 0 simply p -= lr * g). Returns the momentum buffers."""
    if buffers is None:
        buffers = {}
    for name, p in params.items():
        g = grads[name]
        if momentum != 0:
            buf = buffers.get(name)
            if buf is None:
                buf = buffers[name] = g.copy()
            else:
                buf *= momentum
                buf += g
            g = buf
        p -= lr * g
    return buffers
