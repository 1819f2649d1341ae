"""Stateless layer and loss functions, as torch.nn.functional."""

from __future__ import annotations

import numpy as np

from .. import creation
from ..ops import elementwise as _ew
from ..ops import fused as _fused
from ..ops import reduce as _reduce
from ..ops.base import as_tensor
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if weight.ndim != 2:
        raise RuntimeError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} features "
            f"but weight of shape {weight.shape} expects in_features={weight.shape[1]}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    for name, t in (("input", input), ("bias", bias)):
        if t is not None and t.dtype != weight.dtype:
            raise RuntimeError(
                f"linear: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert the "
                f"input with .to({weight.dtype}) or the model with .float()/.double()"
            )
    return _fused.Linear()(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    return _ew.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return _ew.where(input > 0, input, input * negative_slope)


def tanh(input: Tensor) -> Tensor:
    return _ew.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    return _ew.sigmoid(input)


def softmax(input: Tensor, dim: int) -> Tensor:
    return _reduce.softmax(input, dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return _reduce.log_softmax(input, dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = creation.generator().random(input.shape) >= p
    return input * Tensor._wrap((keep / (1 - p)).astype(input.dtype))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dim of size num_classes."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expected an integer (class index) tensor, got {tensor.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got [{idx.min()}, {idx.max()}]"
        )
    return Tensor._wrap((idx[..., None] == np.arange(num_classes)).astype(np.int64))


# ------------------------------------------------------------------ losses
def _reduce_loss(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(input: Tensor, target: Tensor, op: str) -> Tensor:
    target = as_tensor(target, op)
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; they must match "
            "(a (N,) target against an (N, 1) input would silently broadcast to (N, N))"
        )
    if target.dtype != input.dtype:
        target = _ew.cast(target, input.dtype)
    return target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    target = _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce_loss(diff * diff, reduction, "mse_loss")


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
):
    """BCE of probabilities; logs clamped at −100 like PyTorch, so p = 0 or 1 gives finite loss."""
    target = _same_shape(input, target, "binary_cross_entropy")
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise RuntimeError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1, got range "
            f"[{p.min()}, {p.max()}]; apply sigmoid first or use binary_cross_entropy_with_logits"
        )
    loss = _fused.BinaryCrossEntropy()(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce_loss(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(input), computed from logits without overflow for any magnitude."""
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = _fused.BCEWithLogits()(input, target)
    else:
        # (1 − y)·z + (1 + (w − 1)·y)·softplus(−z), softplus(−z) = log(1 + e^−|z|) + max(−z, 0)
        softplus = ((-input.abs()).exp() + 1).log() + (-input).relu()
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus
    if weight is not None:
        loss = loss * weight
    return _reduce_loss(loss, reduction, "binary_cross_entropy_with_logits")


def _class_targets(input: Tensor, target: Tensor, op: str) -> tuple[Tensor, np.ndarray]:
    """Flatten (N, C, d1, ...) scores and (N, d1, ...) targets to (M, C) and (M,)."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim == 1:
        input, t = input.reshape(1, -1), t.reshape(1)
    elif input.ndim > 2:
        c = input.shape[1]
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c)
        t = t.reshape(-1)
    if t.shape != input.shape[:1]:
        raise ValueError(
            f"{op}: expected target of shape {input.shape[:1]} for input {input.shape}, got {t.shape}"
        )
    return input, t


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (N, C)."""
    shape = target.shape
    scores, t = _class_targets(input, target, "nll_loss")
    picked = -_pick(scores, t, ignore_index, "nll_loss")
    return _weighted(picked, t, weight, ignore_index, reduction, shape, "nll_loss")


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy from logits, with class-index or class-probability targets."""
    target = as_tensor(target, "cross_entropy")
    if target.is_floating_point():
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                f"got {target.shape}"
            )
        dim = 0 if input.ndim == 1 else 1
        logp = _reduce.log_softmax(input, dim)
        terms = -(_ew.cast(target, input.dtype) * logp)
        if weight is not None:
            wshape = [1] * input.ndim
            wshape[dim] = -1
            terms = terms * weight.reshape(*wshape)
        loss = terms.sum(dim)
        if reduction == "mean":
            return loss.sum() / (loss.numel() or 1)
        return _reduce_loss(loss, reduction, "cross_entropy")
    shape = target.shape
    scores, t = _class_targets(input, target, "cross_entropy")
    _check_classes(t, scores.shape[1], ignore_index, "cross_entropy")
    safe_t = np.where(t == ignore_index, 0, t)
    loss = _fused.SoftmaxCrossEntropy()(scores, safe_t)
    return _weighted(loss, t, weight, ignore_index, reduction, shape, "cross_entropy")


def _check_classes(t: np.ndarray, n_classes: int, ignore_index: int, op: str) -> None:
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected class-index targets of an integer dtype, got {t.dtype}")
    valid = t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        bad = valid.max() if valid.max() >= n_classes else valid.min()
        raise IndexError(f"{op}: target {bad} is out of bounds for {n_classes} classes")


def _pick(scores: Tensor, t: np.ndarray, ignore_index: int, op: str) -> Tensor:
    _check_classes(t, scores.shape[1], ignore_index, op)
    safe_t = np.where(t == ignore_index, 0, t)
    return scores[np.arange(len(t)), safe_t]


def _weighted(loss, t, weight, ignore_index, reduction, shape, op) -> Tensor:
    """Apply class weights and ignore_index; 'mean' divides by the total weight (as PyTorch)."""
    keep = t != ignore_index
    if weight is None and keep.all():
        if reduction == "none":
            return loss.reshape(shape)
        return _reduce_loss(loss, reduction, op)
    w = (
        np.ones(len(t), loss.dtype)
        if weight is None
        else weight._data[np.where(keep, t, 0)].astype(loss.dtype)
    )
    w = np.where(keep, w, 0)
    loss = loss * Tensor._wrap(w)
    if reduction == "none":
        return loss.reshape(shape)
    if reduction == "mean":
        return loss.sum() / float(w.sum())
    return _reduce_loss(loss, reduction, op)
