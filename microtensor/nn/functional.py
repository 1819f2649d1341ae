"""Stateless layer and loss functions, as torch.nn.functional."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import creation
from .. import random as _random
from ..ops import activation as _act
from ..ops import elementwise as _ew
from ..ops import fused as _fused
from ..ops import loss as _loss
from ..ops import padding as _padding
from ..ops import reduce as _reduce
from ..ops import sort as _sort
from ..ops.base import as_tensor, norm_dim
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    x, w = input._data, weight._data
    if (
        w.ndim != 2
        or x.ndim == 0
        or x.shape[-1] != w.shape[1]
        or x.dtype != w.dtype
        or (bias is not None and (bias._data.shape != w.shape[:1] or bias._data.dtype != w.dtype))
    ):
        _linear_error(input, weight, bias)
    return _fused.Linear()(input, weight, bias)


def _linear_error(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """Raise the error that says what is wrong with linear's arguments."""
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


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise; with inplace=True x itself is overwritten and returned.

    F.relu(mt.tensor([-1.0, 2.0]))  # tensor([0., 2.])
    """
    return _activation(input, inplace, "relu", _ew.relu, integers=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope·x; inplace=True overwrites x.

    F.leaky_relu(mt.tensor([-1.0, 2.0]), 0.1)  # tensor([-0.1000,  2.0000])
    """
    return _activation(
        input, inplace, "leaky_relu", lambda x: _ew.where(x > 0, x, x * negative_slope), integers=True
    )


def tanh(input: Tensor) -> Tensor:
    """Elementwise tanh(x), any shape (see nn.Tanh)."""
    return _ew.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """Elementwise 1 / (1 + exp(-x)), any shape (see nn.Sigmoid)."""
    return _ew.sigmoid(input)


def _softmax_dim(name: str, ndim: int) -> int:
    """PyTorch's legacy choice when dim is omitted (0 for 0-, 1- and 3-D input, else 1), with its warning."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
        "as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """Softmax along `dim` (probabilities summing to 1 along it); `dtype` casts the input first.

    Example:

            >>> F.softmax(mt.zeros(2, 2), dim=1).tolist()
            [[0.5, 0.5], [0.5, 0.5]]
    """
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _reduce.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably; `dtype` casts the input first."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _reduce.log_softmax(input, dim)


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution over `dim`: softmax((logits + g) / tau)
    with g = -log(Exp(1) noise), drawn as PyTorch draws it (the same seed gives its numbers).
    hard=True returns one-hot vectors whose gradient is the soft sample's (straight-through).
    `eps` is unused, as in PyTorch.

        mt.manual_seed(0)
        y = F.gumbel_softmax(mt.randn(4, 3), tau=0.5, hard=True)   # rows are one-hot
    """
    gumbels = -creation.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
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
    idx = as_tensor(tensor, "one_hot")._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expected an integer (class index) tensor, got {idx.dtype}")
    if not isinstance(num_classes, int | np.integer) or isinstance(num_classes, bool):
        raise TypeError(f"one_hot: num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got [{idx.min()}, {idx.max()}]"
        )
    return Tensor._wrap((idx[..., None] == np.arange(num_classes)).astype(np.int64))


# ------------------------------------------------------------------ losses
# Signatures are PyTorch's, including the positions of the deprecated size_average/reduce arguments,
# so that positional calls written for PyTorch mean the same here.
def _reduction(size_average, reduce, reduction: str, op: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(
            f"{op}: size_average and reduce args will be deprecated, please use reduction='{reduction}' "
            "instead.",
            stacklevel=3,
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce_loss(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _float_loss_input(input, op: str) -> Tensor:
    """The input of an elementwise loss: a floating-point Tensor (PyTorch has no integer losses)."""
    input = as_tensor(input, op)
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: input must be a floating-point tensor, got {input.dtype}; use .float()")
    return input


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


def _elementwise_loss(op_cls, args: tuple, weight, reduction: str, op: str) -> Tensor:
    """A fused loss op reduced inside the op (one node), or weighted elementwise first and then reduced."""
    if weight is None:
        return op_cls(reduction)(*args)
    loss = op_cls()(*args) * _elementwise_weight(weight, args[0], op)
    return _reduce_loss(loss, reduction, op)


def _elementwise_weight(weight, input: Tensor, op: str, name: str = "weight") -> Tensor:
    """A weight that broadcasts to the input's shape (and does not enlarge it)."""
    weight = as_tensor(weight, op)
    try:
        ok = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {weight.shape} does not broadcast to the input's {input.shape}"
        )
    return _ew.cast(weight, input.dtype) if weight.dtype != input.dtype else weight


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error; with `weight` (input's shape), 'mean' divides by the total weight (as PyTorch)."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    input = _float_loss_input(input, "mse_loss")
    target = _same_shape(input, target, "mse_loss")
    if weight is None:
        return _fused.MSELoss(reduction)(input, target)
    weight = as_tensor(weight, "mse_loss")
    if weight.shape != input.shape:
        raise ValueError(
            f"mse_loss: weight of shape {weight.shape} must have the input's shape {input.shape}"
        )
    if weight.dtype != input.dtype:
        weight = _ew.cast(weight, input.dtype)
    loss = _fused.MSELoss()(input, target) * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce_loss(loss, reduction, "mse_loss")


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """BCE of probabilities; logs clamped at −100 like PyTorch, so p = 0 or 1 gives finite loss."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    input = _float_loss_input(input, "binary_cross_entropy")
    target = _same_shape(input, target, "binary_cross_entropy")
    op = _fused.BinaryCrossEntropy
    return _elementwise_loss(op, (input, target), weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(input), computed from logits without overflow for any magnitude."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    input = _float_loss_input(input, "binary_cross_entropy_with_logits")
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is not None:
        pos_weight = _elementwise_weight(pos_weight, input, "binary_cross_entropy_with_logits", "pos_weight")
    op, args = _fused.BCEWithLogits, (input, target, pos_weight)
    return _elementwise_loss(op, args, weight, reduction, "binary_cross_entropy_with_logits")


def _class_targets(input: Tensor, target, op: str) -> tuple[Tensor, np.ndarray]:
    """Flatten (N, C, d1, ...) scores and (N, d1, ...) targets to (M, C) and (M,)."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if t.shape != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} (one class index per sample) for input "
            f"{input.shape}, got {t.shape}"
        )
    if input.ndim == 1:
        input, t = input.reshape(1, -1), t.reshape(1)
    elif input.ndim > 2:
        c = input.shape[1]
        rows = t.size  # not -1: NumPy cannot infer it when a size is 0
        input = input.permute(0, *range(2, input.ndim), 1).reshape(rows, c)
        t = t.reshape(rows)
    return input, t


def _class_weight(weight, scores: Tensor, op: str) -> Tensor | None:
    if weight is None:
        return None
    weight = as_tensor(weight, op)
    if weight.shape != (scores.shape[1],):
        raise ValueError(
            f"{op}: weight must have one entry per class, shape ({scores.shape[1]},), got {weight.shape}"
        )
    return _ew.cast(weight, scores.dtype) if weight.dtype != scores.dtype else weight


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (N, C) or (N, C, d1, ...)."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    input = _float_loss_input(input, "nll_loss")
    scores, t = _class_targets(input, target, "nll_loss")
    weight = _class_weight(weight, scores, "nll_loss")
    picked = -_pick(scores, t, ignore_index, "nll_loss")
    return _weighted(picked, t, weight, ignore_index, reduction, _target_shape(input), "nll_loss")


def _target_shape(input: Tensor) -> tuple[int, ...]:
    return input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy from logits, with class-index or class-probability targets."""
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    input = _float_loss_input(input, op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    target = as_tensor(target, op)
    dim = 0 if input.ndim == 1 else 1
    if target.is_floating_point():
        if target.shape != input.shape:
            # The common mistake is float class labels (y.float()): name both accepted forms.
            raise ValueError(
                f"{op}: target must be integer class indices of shape {_target_shape(input)} (int64, "
                f"e.g. target.long()) or probability targets of the input's shape {input.shape}; got a "
                f"{target.dtype} target of shape {target.shape}"
            )
        target = _ew.cast(target, input.dtype)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[dim]
        logp = _reduce.log_softmax(input, dim)
        terms = -(target * logp)
        if weight is not None:
            w = _class_weight(weight, input if dim == 1 else input.reshape(1, -1), op)
            wshape = [1] * input.ndim
            wshape[dim] = -1
            terms = terms * w.reshape(*wshape)
        loss = terms.sum(dim)
        if reduction == "mean":
            return loss.sum() / (loss.numel() or 1)
        return _reduce_loss(loss, reduction, op)
    shape = _target_shape(input)
    scores, t = _class_targets(input, target, op)
    weight = _class_weight(weight, scores, op)
    if _check_classes(t, scores.shape[1], ignore_index, op) and weight is None and reduction != "none":
        loss = _fused.SoftmaxCrossEntropy(reduction)(scores, t)
    else:
        safe_t = np.where(t == ignore_index, 0, t)
        loss = _fused.SoftmaxCrossEntropy()(scores, safe_t)
        loss = _weighted(loss, t, weight, ignore_index, reduction, shape, op)
    if not label_smoothing:
        return loss
    # PyTorch: (1 − ε)·nll + ε/C · Σ_c −w_c·log p_c, with the same ignore mask and 'mean' denominator
    logp = _reduce.log_softmax(scores, 1)
    smooth = -((logp * weight) if weight is not None else logp).sum(1)
    keep = t != ignore_index
    if not keep.all():
        smooth = smooth * Tensor._wrap(keep.astype(smooth.dtype))
    if reduction == "none":
        smooth = smooth.reshape(shape)
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        denom = weight._data[t[keep]].sum() if weight is not None else keep.sum()
        smooth = smooth.sum() / float(denom)
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / scores.shape[1])


def _check_classes(t: np.ndarray, n_classes: int, ignore_index: int, op: str) -> bool:
    """Raise unless every target is a class index or ignore_index; return whether all are classes."""
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected class-index targets of an integer dtype, got {t.dtype}")
    if t.size and np.minimum.reduce(t, axis=None) >= 0 and np.maximum.reduce(t, axis=None) < n_classes:
        return not 0 <= ignore_index < n_classes or not (t == ignore_index).any()  # the common case
    keep = t != ignore_index
    valid = t[keep]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        bad = valid.max() if valid.max() >= n_classes else valid.min()
        raise IndexError(f"{op}: target {bad} is out of bounds for {n_classes} classes")
    return bool(keep.all())


def _pick(scores: Tensor, t: np.ndarray, ignore_index: int, op: str) -> Tensor:
    _check_classes(t, scores.shape[1], ignore_index, op)
    if scores.shape[1] == 0:  # no classes: every target was ignored (else _check_classes raised)
        return scores.sum(1)
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
    if reduction == "mean" and not w.sum():
        # Total weight 0 (every target ignored or weighted 0): PyTorch's 0/0 gives a nan loss, a nan
        # gradient for each target it counts and 0 for ignored ones. The same, without 0/0's warnings:
        counted = Tensor._wrap(np.where(keep, np.nan, 0).astype(loss.dtype))
        return (loss * counted).sum() + float("nan")
    loss = loss * Tensor._wrap(w)
    if reduction == "none":
        return loss.reshape(shape)
    if reduction == "mean":
        return loss.sum() / float(w.sum())
    return _reduce_loss(loss, reduction, op)


# ------------------------------------------------- vision: convolution, pooling, normalisation (issue 14)
from ..ops import conv as _conv  # noqa: E402 - the section's imports stay with it (others append too)
from ..ops import normalization as _norm  # noqa: E402
from ..ops import pooling as _pool  # noqa: E402

conv1d = _conv.conv1d
conv2d = _conv.conv2d
conv_transpose1d = _conv.conv_transpose1d
conv_transpose2d = _conv.conv_transpose2d
unfold = _conv.unfold
fold = _conv.fold
max_pool1d = _pool.max_pool1d
max_pool2d = _pool.max_pool2d
avg_pool1d = _pool.avg_pool1d
avg_pool2d = _pool.avg_pool2d
adaptive_avg_pool1d = _pool.adaptive_avg_pool1d
adaptive_avg_pool2d = _pool.adaptive_avg_pool2d
adaptive_max_pool1d = _pool.adaptive_max_pool1d
adaptive_max_pool2d = _pool.adaptive_max_pool2d
max_unpool2d = _pool.max_unpool2d
interpolate = _pool.interpolate
batch_norm = _norm.batch_norm
group_norm = _norm.group_norm
instance_norm = _norm.instance_norm


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """max_pool2d(..., return_indices=True): the pooled values and each maximum's flat index."""
    return _pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor:
    """Deprecated alias of interpolate (as in PyTorch)."""
    warnings.warn(
        "nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2
    )
    return _pool.interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r) (sub-pixel convolution's last step).

    >>> F.pixel_shuffle(mt.arange(8.).reshape(1, 4, 1, 2), 2)[0, 0]
    tensor([[0., 2., 1., 3.],
            [4., 6., 5., 7.]])
    """
    r = upscale_factor
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle: expected input of at least 3 dims, got {getattr(input, 'shape', input)}"
        )
    if not isinstance(r, int) or r < 1 or input.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle: the channels ({input.shape[-3]}) of input {tuple(input.shape)} must be "
            f"divisible by upscale_factor² ({r}² = {r * r if isinstance(r, int) else r})"
        )
    *lead, c, h, w = input.shape
    x = input.reshape(-1, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W): the inverse of pixel_shuffle.

    >>> F.pixel_unshuffle(mt.zeros(1, 1, 4, 4), 2).shape
    torch.Size([1, 4, 2, 2])
    """
    r = downscale_factor
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle: expected input of at least 3 dims, got {getattr(input, 'shape', input)}"
        )
    *lead, c, h, w = input.shape
    if not isinstance(r, int) or r < 1 or h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle: height {h} and width {w} of input {tuple(input.shape)} must be divisible "
            f"by downscale_factor={r}"
        )
    x = input.reshape(-1, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(*lead, c * r * r, h // r, w // r)


# pad: the single F.pad defined further down this file serves the vision layers too


def _channel_dropout(input: Tensor, p: float, training: bool, batched_ndim: int, op: str) -> Tensor:
    """Zero whole channels (all positions of one (sample, channel)) with probability p, scale by 1/(1−p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(
            f"{op}: expected {batched_ndim - 1}-D or {batched_ndim}-D input, got shape {tuple(input.shape)}"
        )
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    lead = 2 if input.ndim == batched_ndim else 1
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    keep = creation.generator().random(mask_shape) >= p
    return input * Tensor._wrap((keep / (1 - p)).astype(input.dtype))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of (N, C, L) (or (C, L)) with probability p while training.

    >>> F.dropout1d(mt.ones(2, 3, 4), 0.5, training=False).sum()
    tensor(24.)
    """
    return _channel_dropout(input, p, training, 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of (N, C, H, W) (or (C, H, W)) with probability p while training.

    >>> F.dropout2d(mt.ones(2, 3, 4, 4), 0.5, training=False).sum()
    tensor(96.)
    """
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L).",
            stacklevel=2,
        )
        return _channel_dropout(input, p, training, 3, "dropout2d")
    return _channel_dropout(input, p, training, 4, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of (N, C, D, H, W) (or (C, D, H, W)) with probability p while training.

    >>> F.dropout3d(mt.ones(1, 2, 2, 2, 2), 0.5, training=False).sum()
    tensor(16.)
    """
    return _channel_dropout(input, p, training, 5, "dropout3d")


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """x / (k + α/size · Σ x²)^β, Σ over the `size` channels around each one (zero beyond the edges).

    >>> F.local_response_norm(mt.ones(1, 3, 1, 1), 3, alpha=3.0, beta=1.0)[0, :, 0, 0]
    tensor([0.3333, 0.2500, 0.3333])
    """
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(
            "local_response_norm: expected 3D or higher dimensionality input, got "
            f"{getattr(input, 'shape', input)}"
        )
    if input.numel() == 0:
        return input
    n, c = input.shape[:2]
    sq = (input * input).reshape(n, 1, c, -1)  # the channels as the height of one image
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = _pool.avg_pool2d(sq, (size, 1), stride=1).reshape(tuple(input.shape))
    return input / (div * alpha + k) ** beta
# ------------------------------------------------------------------ sequence models
from ..ops.attention import scaled_dot_product_attention  # noqa: E402, F401  (public: F.scaled_dot_product_attention)
from ..ops.embedding import Embedding as _Embedding  # noqa: E402
from ..ops.layernorm import LayerNorm as _LayerNorm  # noqa: E402
from ..ops.layernorm import RMSNorm as _RMSNorm  # noqa: E402


def _index_array(input, op: str) -> np.ndarray:
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer (Long or Int) index tensor, got dtype {idx.dtype}")
    return idx


def _embedding_renorm(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale (in place, as PyTorch) the rows of weight that idx picks whose norm exceeds max_norm."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        data = weight._data_for_write()
        data[rows[big]] *= scale[:, None]


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of weight (num_embeddings, embedding_dim) picked by integer input (...) -> (..., embedding_dim).

    The gradient of a row used several times is the sum of its uses; the padding_idx row gets no
    gradient. max_norm renormalises the picked rows of weight in place first (as PyTorch).

    >>> F.embedding(mt.tensor([[0, 2]]), mt.randn(3, 4)).shape
    microtensor.Size([1, 2, 4])
    """
    op = "embedding"
    idx = _index_array(input, op)
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    n = weight.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}: index out of range: indices span [{idx.min()}, {idx.max()}], {n} rows")
    if idx.size and idx.min() < 0:
        raise IndexError(f"{op}: negative index {idx.min()} (indices must be in [0, {n}))")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within num_embeddings {n}")
        padding_idx %= n
    if sparse:
        raise RuntimeError(f"{op}: sparse gradients are not supported (microtensor has no sparse tensors)")
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    out = _Embedding(idx, padding_idx)(weight)
    if scale_grad_by_freq and out.requires_grad:
        # each row's gradient divided by how often its index occurs in this batch, as PyTorch
        counts = np.bincount(idx.reshape(-1), minlength=n)[idx]
        out = _embedding_freq_scale(out, (1.0 / counts).astype(weight.dtype)[..., None])
    return out


def _embedding_freq_scale(out: Tensor, inv: np.ndarray) -> Tensor:
    """out in the forward, grad · inv in the backward (scale_grad_by_freq)."""
    keep = out.detach()
    return keep + (out - keep) * Tensor._wrap(inv)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, means or maxes of bags of embeddings, as torch.nn.functional.embedding_bag.

    input (B, N) is B bags of N indices (offsets None), or a 1-d index list cut into bags at
    `offsets`. Returns (B, embedding_dim). padding_idx entries are left out of each bag (an empty
    bag gives zeros). per_sample_weights (same shape as input) scales each row (mode="sum" only).

    >>> F.embedding_bag(mt.tensor([[0, 1], [2, 2]]), mt.randn(3, 4), mode="sum").shape
    microtensor.Size([2, 4])
    """
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    idx = _index_array(input, op)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None when input is 2-D, got {offsets!r}")
        B, N = idx.shape
        offs = np.arange(0, B * N, N, dtype=np.int64) if N else np.zeros(B, np.int64)
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: offsets has to be a 1-D tensor when input is 1-D")
        offs = _index_array(offsets, op).reshape(-1).astype(np.int64)
        if include_last_offset:
            offs = offs[:-1]
        if offs.size and (offs[0] != 0 or np.any(np.diff(offs) < 0) or offs[-1] > idx.size):
            raise ValueError(f"{op}: offsets must start at 0 and not decrease up to {idx.size}, got {offs}")
    else:
        raise ValueError(f"{op}: input has to be 1-D or 2-D, got shape {tuple(idx.shape)}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights are only supported for mode='sum', got {mode!r}")
    n = weight.shape[0]
    if padding_idx is not None:
        padding_idx %= n
    rows = embedding(Tensor._wrap(idx), weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)
        if psw.shape[0] != idx.size:
            raise ValueError(f"{op}: per_sample_weights must have {idx.size} elements, got {psw.shape[0]}")
        rows = rows * psw.unsqueeze(1)
    B = offs.size
    bag = np.repeat(np.arange(B), np.diff(np.append(offs, idx.size)))  # the bag of each index
    valid = np.ones(idx.size, bool) if padding_idx is None else idx != padding_idx
    D = weight.shape[1]
    if mode == "max":
        outs = []
        for b in range(B):
            sel = np.nonzero((bag == b) & valid)[0]
            outs.append(rows[sel].amax(0) if sel.size else creation.zeros(D, dtype=weight.dtype))
        from ..ops.shape import stack

        return stack(outs) if outs else creation.zeros(0, D, dtype=weight.dtype)
    # sum / mean as one matrix product: (B, n_idx) bag membership @ rows
    member = np.zeros((B, idx.size), dtype=weight._data.dtype)
    member[bag[valid], np.nonzero(valid)[0]] = 1
    if mode == "mean":
        counts = member.sum(1, keepdims=True)
        member = member / np.maximum(counts, 1)
    return Tensor._wrap(member) @ rows


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing dims `normalized_shape` to zero mean and unit variance, then
    scale by weight and shift by bias (both of shape normalized_shape, optional).

    >>> F.layer_norm(mt.randn(2, 5), (5,)).mean(-1)  # ≈ 0
    """
    ns = _normalized_shape(input, normalized_shape, weight, bias, "layer_norm")
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    return _LayerNorm(axes, eps)(input, weight, bias)


def rms_norm(
    input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / √(mean(x²) + eps) · weight over the trailing dims `normalized_shape`; eps defaults to the
    dtype's machine epsilon (as PyTorch).

    >>> F.rms_norm(mt.randn(2, 5), (5,)).pow(2).mean(-1)  # ≈ 1
    """
    ns = _normalized_shape(input, normalized_shape, weight, None, "rms_norm")
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    return _RMSNorm(axes, eps)(input, weight)


def _normalized_shape(input, normalized_shape, weight, bias, op: str) -> tuple[int, ...]:
    ns = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) else tuple(normalized_shape)
    input = as_tensor(input, op)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if not ns or len(ns) > input.ndim or tuple(input.shape[input.ndim - len(ns) :]) != ns:
        raise RuntimeError(
            f"{op}: given normalized_shape={list(ns)}, expected input with shape [*, "
            f"{', '.join(map(str, ns))}], but got input of size {list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"{op}: {name} must have shape {ns} (normalized_shape), got {tuple(t.shape)}")
    return ns
# ------------------------------------------------------- activations (issue 13)
def _activation(input, inplace: bool, name: str, fn, integers: bool = False) -> Tensor:
    """fn(input), or with inplace=True written into input (bumping its version) and returned,
    as PyTorch's `inplace=` arguments do."""
    input = as_tensor(input, name)
    kind = input.dtype.kind
    if kind != "f" and not (integers and kind in "iu"):
        raise RuntimeError(f"{name}: expected a floating-point tensor, got {input.dtype}; use .float()")
    if inplace:
        return input._apply_inplace(f"{name}_", lambda s, _other: fn(s))
    return fn(input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) (Φ: the standard normal CDF); approximate='tanh' uses PyTorch's tanh formula.

    F.gelu(mt.tensor([-1.0, 0.0, 1.0]))  # tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    op = _act.Gelu if approximate == "none" else _act.GeluTanh
    return _activation(input, False, "gelu", lambda x: op()(x))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (swish), elementwise.

    F.silu(mt.tensor([0.0, 1.0]))  # tensor([0.0000, 0.7311])
    """
    return _activation(input, inplace, "silu", lambda x: _act.Silu()(x))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)), elementwise.

    F.mish(mt.tensor([0.0, 1.0]))  # tensor([0.0000, 0.8651])
    """
    return _activation(input, inplace, "mish", lambda x: _act.Mish()(x))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha·(eˣ − 1).

    F.elu(mt.tensor([-1.0, 2.0]))  # tensor([-0.6321,  2.0000])
    """
    return _activation(input, inplace, "elu", lambda x: _act.Elu(float(alpha))(x))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, alpha) with the self-normalising constants (alpha ≈ 1.6733, scale ≈ 1.0507).

    F.selu(mt.tensor([-1.0, 1.0]))  # tensor([-1.1113,  1.0507])
    """
    return _activation(input, inplace, "selu", lambda x: _act.Elu(_SELU_ALPHA, _SELU_SCALE)(x))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha·(e^(x/alpha) − 1); alpha must not be 0.

    F.celu(mt.tensor([-1.0, 1.0]), alpha=2.0)  # tensor([-0.7869,  1.0000])
    """
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError, alpha must not be 0 (celu divides x by alpha)")
    return _activation(input, inplace, "celu", lambda x: _act.Elu(float(alpha), 1.0, 1.0 / alpha)(x))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 0 at and beyond the bounds.

    F.hardtanh(mt.tensor([-2.0, 0.5, 2.0]))  # tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    op = _act.Hardtanh(min_val, max_val)
    return _activation(input, inplace, "hardtanh", lambda x: op(x), integers=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (hardtanh(x, 0, 6)).

    F.relu6(mt.tensor([-1.0, 3.0, 9.0]))  # tensor([0., 3., 6.])
    """
    return _activation(input, inplace, "relu6", lambda x: _act.Hardtanh(0.0, 6.0)(x), integers=True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below −3, 1 above 3.

    F.hardsigmoid(mt.tensor([-4.0, 0.0, 4.0]))  # tensor([0.0000, 0.5000, 1.0000])
    """
    return _activation(input, inplace, "hardsigmoid", lambda x: _act.Hardsigmoid()(x))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·relu6(x + 3) / 6.

    F.hardswish(mt.tensor([-4.0, 1.0, 4.0]))  # tensor([-0.0000,  0.6667,  4.0000])
    """
    return _activation(input, inplace, "hardswish", lambda x: _act.Hardswish()(x))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta·x)) / beta, and x where beta·x > threshold (no overflow for any x).

    F.softplus(mt.tensor([0.0, 30.0]))  # tensor([ 0.6931, 30.0000])
    """
    return _activation(input, False, "softplus", lambda x: _act.Softplus(beta, threshold)(x))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|), elementwise (built from abs, add and div, which are exact here).

    F.softsign(mt.tensor([-1.0, 3.0]))  # tensor([-0.5000,  0.7500])
    """
    input = _activation(input, False, "softsign", lambda x: x)
    return input / (input.abs() + 1)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x), computed without overflow (logsigmoid(−1e4) = −1e4).

    F.logsigmoid(mt.tensor([0.0]))  # tensor([-0.6931])
    """
    return _activation(input, False, "logsigmoid", lambda x: _act.LogSigmoid()(x))


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x).

    F.tanhshrink(mt.tensor([1.0]))  # tensor([0.2384])
    """
    input = _activation(input, False, "tanhshrink", lambda x: x)
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − lambd·sign(x) where |x| > lambd, else 0 (lambd ≥ 0).

    F.softshrink(mt.tensor([-1.0, 0.2, 2.0]))  # tensor([-0.5000,  0.0000,  1.5000])
    """
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return _activation(input, False, "softshrink", lambda x: _act.Softshrink(lambd)(x))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0.

    F.hardshrink(mt.tensor([-1.0, 0.2, 2.0]))  # tensor([-1.,  0.,  2.])
    """
    return _activation(input, False, "hardshrink", lambda x: _act.Hardshrink(lambd)(x))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value.

    F.threshold(mt.tensor([0.5, 2.0]), 1.0, -1.0)  # tensor([-1.,  2.])
    """
    op = _act.Threshold(threshold, value)
    return _activation(input, inplace, "threshold", lambda x: op(x), integers=True)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) along dim: weights that favour the smallest entries.

    F.softmin(mt.tensor([1.0, 2.0]), dim=0)  # tensor([0.7311, 0.2689])
    """
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return _reduce.softmax(-input, dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·σ(b), where a and b are the two halves of input along dim (its size must be even).

    F.glu(mt.tensor([1.0, 2.0, 0.0, 0.0]))  # tensor([0.5000, 1.0000])
    """
    input = as_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars because halving size must be even")
    d = norm_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight·x; weight has 1 or C entries (C: the size of dim 1 of input).

    F.prelu(mt.tensor([[-1.0, 2.0]]), mt.tensor([0.25]))  # tensor([[-0.2500,  2.0000]])
    """
    input, weight = as_tensor(input, "prelu"), as_tensor(weight, "prelu")
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: weight must be 0-D or 1-D, got shape {weight.shape}")
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if input.ndim == 0 or n != channels:
            raise RuntimeError(
                f"prelu: mismatch in parameter count: weight has {n} entries but input of shape "
                f"{input.shape} has {channels} channels (dim 1); give 1 or {channels} parameters"
            )
        weight = weight.reshape(n, *([1] * (input.ndim - 2)))
    elif weight.ndim:
        weight = weight.reshape(())
    if weight.dtype != input.dtype:
        weight = _ew.cast(weight, input.dtype)
    return _activation(input, False, "prelu", lambda x: _act.Prelu()(x, weight))


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: while training, each x ≤ 0 is scaled by a slope drawn uniformly from
    [lower, upper] (from the global generator: PyTorch's numbers for the same seed);
    otherwise the fixed slope (lower + upper) / 2.

        F.rrelu(mt.tensor([-1.0, 2.0]))  # tensor([-0.2292,  2.0000])
    """
    if lower > upper:
        raise ValueError(f"rrelu: lower bound ({lower}) must not exceed upper bound ({upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    x = as_tensor(input, "rrelu")
    if x.dtype.kind != "f":
        raise RuntimeError(f"rrelu: expected a floating-point tensor, got {x.dtype}; use .float()")
    slopes = np.ones(x.shape, x.dtype)
    neg = x._data <= 0  # PyTorch draws one number per element ≤ 0, in memory order
    u = _random._gen(None, "rrelu")._u64(int(np.count_nonzero(neg)))
    # PyTorch's uniform double (the low 53 bits of a 64-bit draw) scaled to [lower, upper) given in
    # x's dtype, then rounded to that dtype
    lo, hi = (float(np.asarray(v, x.dtype)) for v in (lower, upper))
    slopes[neg] = (u & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53 * (hi - lo) + lo
    return _activation(x, inplace, "rrelu", lambda s: _act.Rrelu(slopes)(s))


def relu_(input: Tensor) -> Tensor:
    """In-place relu: input overwritten with max(input, 0) and returned."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


# ------------------------------------------------------------ losses (issue 13)
def _loss_pair(input, target, op: str) -> tuple[Tensor, Tensor]:
    """A floating input and a target of the same shape and dtype (see _same_shape)."""
    input = _float_loss_input(input, op)
    return input, _same_shape(input, target, op)


def _weighted_elementwise(
    op_cls, input: Tensor, target: Tensor, weight, reduction: str, name: str, mean_by_weight: bool, **options
) -> Tensor:
    """A fused elementwise loss; with a weight of the input's shape, the weighted terms reduced
    ('mean' by the total weight where PyTorch does so, else by the number of terms)."""
    if weight is None:
        return op_cls(reduction, **options)(input, target)
    weight = as_tensor(weight, name)
    if weight.shape != input.shape:
        raise ValueError(f"{name}: weight of shape {weight.shape} must have the input's shape {input.shape}")
    if weight.dtype != input.dtype:
        weight = _ew.cast(weight, input.dtype)
    loss = op_cls("none", **options)(input, target) * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce_loss(loss, reduction, name)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error |input − target| (with `weight`, 'mean' divides by the total weight).

    F.l1_loss(mt.tensor([1.0, 4.0]), mt.tensor([2.0, 2.0]))  # tensor(1.5000)
    """
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    input, target = _loss_pair(input, target, "l1_loss")
    return _weighted_elementwise(_loss.L1Loss, input, target, weight, reduction, "l1_loss", True)


def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| − 0.5·beta (d = input − target); beta = 0 is l1_loss.

    F.smooth_l1_loss(mt.tensor([0.5, 3.0]), mt.tensor([0.0, 0.0]))  # tensor(1.3125)
    """
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _loss_pair(input, target, "smooth_l1_loss")
    if beta == 0:
        return _loss.L1Loss(reduction)(input, target)
    return _loss.SmoothL1Loss(reduction, float(beta))(input, target)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta) (d = input − target); delta > 0.

    F.huber_loss(mt.tensor([0.5, 3.0]), mt.tensor([0.0, 0.0]))  # tensor(1.3125)
    """
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _loss_pair(input, target, "huber_loss")
    # with a weight PyTorch's 'mean' divides by the number of terms, not the total weight
    return _weighted_elementwise(
        _loss.HuberLoss, input, target, weight, reduction, "huber_loss", False, delta=float(delta)
    )


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence of `target` from the distribution whose log-probabilities are `input`:
    Σ target·(log target − input) ('batchmean' divides by the batch size, the true KL per sample;
    'mean' by the number of elements, with PyTorch's warning). log_target: target is log-probabilities.

        logq = F.log_softmax(mt.tensor([[1.0, 2.0]]), dim=1)
        F.kl_div(logq, mt.tensor([[0.5, 0.5]]), reduction="batchmean")  # tensor(0.1201)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction, "kl_div")
    elif reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the support size; "
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition. "
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    elif reduction != "batchmean":
        reduction = _reduction(None, None, reduction, "kl_div")
    input, target = _loss_pair(input, target, "kl_div")
    return _loss.KLDiv(reduction, bool(log_target))(input, target)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson target: e^input − target·input (log_input), or
    input − target·log(input + eps); full adds Stirling's term for targets > 1.

        F.poisson_nll_loss(mt.tensor([0.0, 1.0]), mt.tensor([1.0, 2.0]))  # tensor(0.3591)
    """
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    input, target = _loss_pair(input, target, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:  # Stirling's approximation of log(target!), for targets > 1 only
        big = target._data > 1
        t = _ew.where(_mask(big, bool), target, 2.0)  # 2 where unused: no log(0) in any gradient
        stirling = t * t.log() - t + 0.5 * (t * (2 * math.pi)).log()
        loss = loss + stirling * _mask(big, input.dtype)
    return _reduce_loss(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(
    input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of target under N(input, var): 0.5·(log var + (input − target)²/var)
    (+ 0.5·log 2π when full), var clamped at eps. var has the input's shape, or one dim fewer
    (one variance per sample), or size 1 in exactly one dim; a float is one variance for all.

        F.gaussian_nll_loss(mt.tensor([1.0]), mt.tensor([2.0]), mt.tensor([1.0]))  # tensor(0.5000)
    """
    op = "gaussian_nll_loss"
    input = _float_loss_input(input, op)
    target = as_tensor(target, op)
    if target.dtype != input.dtype:
        target = _ew.cast(target, input.dtype)
    if isinstance(var, int | float) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (var={var})")
        var = Tensor._wrap(np.full(input.shape, var, input.dtype))
    var = as_tensor(var, op)
    if var.size and np.any(var._data < 0):
        raise ValueError(f"{op}: var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(
                f"{op}: var is of incorrect size {var.shape} for input {input.shape}: expected the input's "
                "shape, the input's shape without its last dim, or size 1 in one dim"
            )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction} is not valid (expected one of {_REDUCTIONS})")
    if var.dtype != input.dtype:
        var = _ew.cast(var, input.dtype)
    try:
        np.broadcast_shapes(input.shape, target.shape, var.shape)
    except ValueError:
        raise ValueError(
            f"{op}: input {input.shape}, target {target.shape} and var {var.shape} do not broadcast"
        ) from None
    return _loss.GaussianNLL(reduction, float(eps), bool(full))(input, target, var)


def _mask(values: np.ndarray, dtype) -> Tensor:
    """A constant Tensor (a 0/1 mask or a per-element factor) in the loss's dtype."""
    return Tensor._wrap(np.asarray(values, dtype))


def _sign_target(target, like: Tensor, op: str) -> np.ndarray:
    """A ±1 target's values, broadcastable to `like` (as an array in like's dtype)."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    try:
        np.broadcast_shapes(t.shape, like.shape)
    except ValueError:
        raise ValueError(
            f"{op}: target of shape {t.shape} does not broadcast to the input's {like.shape}"
        ) from None
    return t.astype(like.dtype, copy=False)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, −target·(input1 − input2) + margin), with target ±1 (which input should rank higher).

    F.margin_ranking_loss(mt.tensor([1.0]), mt.tensor([2.0]), mt.tensor([1.0]))  # tensor(1.)
    """
    op = "margin_ranking_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input1, input2 = _float_loss_input(input1, op), as_tensor(input2, op)
    if not (input1.ndim == input2.ndim == as_tensor(target, op).ndim):
        raise RuntimeError(
            f"{op}: All input tensors should have same dimension but got sizes: input1: {input1.shape}, "
            f"input2: {input2.shape}, target: {as_tensor(target, op).shape}"
        )
    t = as_tensor(target, op)
    t = t if t.dtype == input1.dtype else _ew.cast(t, input1.dtype)
    loss = _ew.clamp(-t * (input1 - input2) + margin, min=0)
    return _reduce_loss(loss, reduction, op)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """input where target = 1, max(0, margin − input) where target = −1 (summed where neither is).

    F.hinge_embedding_loss(mt.tensor([0.3, 2.0]), mt.tensor([1.0, -1.0]))  # tensor(0.1500)
    """
    op = "hinge_embedding_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input = _float_loss_input(input, op)
    t = _sign_target(target, input, op)
    margin_part = _ew.clamp(margin - input, min=0) * _mask(t != 1, input.dtype)
    self_part = input * _mask(t != -1, input.dtype)
    return _reduce_loss(margin_part + self_part, reduction, op)


def soft_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """log(1 + e^(−target·input)) for ±1 targets, computed as −logsigmoid(target·input) (finite for
    any input, where PyTorch's direct formula overflows to inf beyond about ±88 in float32).

        F.soft_margin_loss(mt.tensor([0.0]), mt.tensor([1.0]))  # tensor(0.6931)
    """
    op = "soft_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input = _float_loss_input(input, op)
    t = as_tensor(target, op)
    t = t if t.dtype == input.dtype else _ew.cast(t, input.dtype)
    return _reduce_loss(-_act.LogSigmoid()(input * t), reduction, op)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Per sample, the mean over classes of the binary cross-entropy of σ(input) against 0/1 targets
    (stable: logsigmoid); weight scales each class.

        F.multilabel_soft_margin_loss(mt.tensor([[0.0, 0.0]]), mt.tensor([[1.0, 0.0]]))  # tensor(0.6931)
    """
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input = _float_loss_input(input, op)
    t = as_tensor(target, op)
    t = t if t.dtype == input.dtype else _ew.cast(t, input.dtype)
    loss = -(t * _act.LogSigmoid()(input) + (1 - t) * _act.LogSigmoid()(-input))
    if weight is not None:
        loss = loss * _elementwise_weight(weight, input, op)
    c = input.shape[-1] if input.ndim else 1
    loss = loss.sum(input.ndim - 1 if input.ndim else None) / c
    return _reduce_loss(loss, reduction, op)


def _scores_and_classes(input, target, op: str) -> tuple[Tensor, np.ndarray]:
    """(C,) or (N, C) scores with () or (N,) class-index targets, as (N, C) and (N,)."""
    input = _float_loss_input(input, op)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim not in (1, 2) or t.shape != input.shape[:-1]:
        raise RuntimeError(
            f"{op}: expected input (C,) or (N, C) with target () or (N,) of class indices, got input "
            f"{input.shape} and target {t.shape}"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected class-index targets of an integer dtype, got {t.dtype}")
    c = input.shape[-1]
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"{op}: target values must be in [0, {c}), got [{t.min()}, {t.max()}]")
    return input.reshape(-1, c), t.reshape(-1)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: per sample, Σ_{i ≠ y} max(0, margin − x[y] + x[i])^p / C
    (p = 1 or 2), each term scaled by weight[y].

        F.multi_margin_loss(mt.tensor([[0.1, 0.8, 0.4]]), mt.tensor([1]))  # tensor(0.5333)
    """
    op = "multi_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    shape = input.shape[:-1] if isinstance(input, Tensor) else ()
    scores, t = _scores_and_classes(input, target, op)
    n, c = scores.shape
    picked = scores[np.arange(n), t].reshape(n, 1)
    z = (scores - picked + margin).relu()  # relu: no gradient where a margin is met exactly, as PyTorch
    if p == 2:
        z = z * z
    others = np.arange(c) != t[:, None]  # the target's own class is no violation
    factor = others.astype(scores.dtype)
    if weight is not None:
        w = _class_weight(weight, scores, op)
        z = z * w[Tensor._wrap(t)].reshape(n, 1)
    loss = (z * _mask(factor, scores.dtype)).sum(1) / c
    if reduction == "none":
        return loss.reshape(shape)
    return _reduce_loss(loss, reduction, op)


def multilabel_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """Multi-label hinge loss: target lists each sample's classes (indices, ended by the first −1);
    per sample, Σ over its classes j and the other classes i of max(0, 1 − (x[j] − x[i])) / C.

        x = mt.tensor([[0.1, 0.2, 0.4, 0.8]])
        F.multilabel_margin_loss(x, mt.tensor([[3, 0, -1, 1]]))  # tensor(0.8500)
    """
    op = "multilabel_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input = _float_loss_input(input, op)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim not in (1, 2) or t.shape != input.shape:
        raise RuntimeError(
            f"{op}: expected input (C,) or (N, C) and a target of the same shape, got input {input.shape} "
            f"and target {t.shape}"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer (class index) target, got {t.dtype}")
    shape = input.shape[:-1]
    c = input.shape[-1]
    x, t = input.reshape(-1, c), t.reshape(-1, c)
    # the target's classes are the entries before its first −1
    valid = np.cumprod(t >= 0, axis=1).astype(bool)
    if np.any(t[valid] >= c):
        raise IndexError(f"{op}: target values must be in [0, {c}) (or −1 to end the list), got {t.max()}")
    safe = np.where(valid, t, 0)
    is_target = np.zeros(x.shape, bool)
    r, k = np.nonzero(valid)
    is_target[r, t[r, k]] = True
    xj = x.gather(1, Tensor._wrap(safe))  # (N, C): the scores of the listed classes
    hinge = (1 - xj.unsqueeze(2) + x.unsqueeze(1)).relu()  # (N, j, i)
    pairs = valid[:, :, None] & ~is_target[:, None, :]
    loss = (hinge * _mask(pairs, x.dtype)).sum((1, 2)) / c
    if reduction == "none":
        return loss.reshape(shape)
    return _reduce_loss(loss, reduction, op)


# ------------------------------------------------------- distances (issue 13)
def _norm(x: Tensor, p: float, dim, keepdim: bool) -> Tensor:
    """The p-norm of x along dim, differentiable with PyTorch's gradient at 0 (0, not NaN)."""
    if p == 2:
        return _ew.Std()((x * x).sum(dim, keepdim=keepdim))  # sqrt whose gradient is 0 where it is 0
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if p == float("inf"):
        return _sort.amax(x.abs(), dim, keepdim)
    if p == -float("inf"):
        return _sort.amin(x.abs(), dim, keepdim)
    if p == 0:
        return Tensor._wrap((x._data != 0).sum(dim, keepdims=keepdim).astype(x.dtype))
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def _passing_clamp_min(x: Tensor, lo: float) -> Tensor:
    """max(x, lo) whose gradient passes to x unchanged (PyTorch clamps its norms under no_grad)."""
    lifted = np.maximum(x._data, lo) - x._data
    return x if not lifted.any() else x + Tensor._wrap(lifted)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """‖x1 − x2 + eps‖_p along the last dim (x1 and x2 broadcast).

    F.pairwise_distance(mt.tensor([[0.0, 0.0]]), mt.tensor([[3.0, 4.0]]))  # tensor([5.0000])
    """
    x1, x2 = _float_loss_input(x1, "pairwise_distance"), as_tensor(x2, "pairwise_distance")
    try:
        nd = len(np.broadcast_shapes(x1.shape, x2.shape))
    except ValueError:
        raise RuntimeError(f"pairwise_distance: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    d = x1 - x2 + eps
    return _norm(d, p, nd - 1 if nd else None, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along dim (x1 and x2 broadcast; dim removed).

    F.cosine_similarity(mt.tensor([[1.0, 0.0]]), mt.tensor([[1.0, 1.0]]))  # tensor([0.7071])
    """
    op = "cosine_similarity"
    x1, x2 = _float_loss_input(x1, op), as_tensor(x2, op)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"{op}: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    if x1.shape != shape:
        x1 = x1.expand(*shape)
    if x2.shape != shape:
        x2 = x2.expand(*shape)
    d = norm_dim(dim, len(shape), op)
    # each vector divided by its norm first (as PyTorch: the result stays within [−1, 1])
    n1 = _passing_clamp_min(_norm(x1, 2, d, True), eps)
    n2 = _passing_clamp_min(_norm(x2, 2, d, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(‖input‖_p, eps) along dim: unit vectors.

    F.normalize(mt.tensor([[3.0, 4.0]]))  # tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; assign the result instead")
    input = _float_loss_input(input, "normalize")
    d = norm_dim(dim, input.ndim, "normalize") if input.ndim else None
    return input / _ew.clamp(_norm(input, p, d, True), min=eps)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 − cos(x1, x2) where target = 1, max(0, cos(x1, x2) − margin) where target = −1; cos along
    dim 1 of (N, D) inputs (or of (D,) inputs with a 0-d target).

        a, b = mt.tensor([[1.0, 0.0]]), mt.tensor([[0.0, 1.0]])
        F.cosine_embedding_loss(a, b, mt.tensor([1.0]))  # tensor(1.)
    """
    op = "cosine_embedding_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    input1, input2 = _float_loss_input(input1, op), as_tensor(input2, op)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input1.ndim not in (1, 2) or input1.shape != input2.shape or t.shape != input1.shape[:-1]:
        raise RuntimeError(
            f"{op}: expected inputs (N, D) or (D,) of equal shapes and a target (N,) or (), got "
            f"{input1.shape}, {input2.shape} and {t.shape}"
        )
    dim = input1.ndim - 1
    eps = 1e-12  # PyTorch's: added to each squared magnitude
    prod = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod / mag.sqrt()
    pos = (1 - cos) * _mask(t == 1, input1.dtype)
    neg = _ew.clamp(cos - margin, min=0) * _mask(t == -1, input1.dtype)
    return _reduce_loss(pos + neg, reduction, op)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + d(anchor, positive) − d(anchor, negative)) with any distance function
    (pairwise_distance by default); swap also uses d(positive, negative) when smaller.

        a, p, n = mt.zeros(1, 2), mt.ones(1, 2), mt.ones(1, 2) * 2
        F.triplet_margin_with_distance_loss(a, p, n)  # tensor(0.)
    """
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(None, None, reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    ranks = [as_tensor(t, op).ndim for t in (anchor, positive, negative)]
    if len(set(ranks)) != 1:
        raise RuntimeError(
            f"{op}: the anchor, positive, and negative inputs must have the same number of dimensions, "
            f"got {ranks}"
        )
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _ew.minimum(d_neg, dist(positive, negative))
    return _reduce_loss(_ew.clamp(margin + d_pos - d_neg, min=0), reduction, op)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + ‖a − p‖ − ‖a − n‖) with pairwise_distance(·, ·, p, eps).

    a, p, n = mt.zeros(1, 2), mt.ones(1, 2), mt.ones(1, 2) * 2
    F.triplet_margin_loss(a, p, n)  # tensor(0.)
    """
    op = "triplet_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    shapes = [as_tensor(t, op).shape for t in (anchor, positive, negative)]
    if len({len(s) for s in shapes}) != 1:
        raise RuntimeError(
            f"{op}: the anchor, positive, and negative inputs must have the same number of dimensions, "
            f"got shapes {shapes}"
        )

    def dist(a, b):
        return pairwise_distance(a, b, p, eps)

    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _ew.minimum(d_neg, dist(positive, negative))
    return _reduce_loss(_ew.clamp(margin + d_pos - d_neg, min=0), reduction, op)


# ----------------------------------------------------------------- padding (issue 13)
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative sizes, crop) the last dims of input. `pad` lists (before, after) pairs
    starting from the last dim: (left, right) pads the last dim, (left, right, top, bottom) the last
    two, and so on. 'constant' fills with `value` (0) and pads any number of dims; 'reflect'
    (mirror, edge not repeated), 'replicate' (edge repeated) and 'circular' (wrap around) pad the
    last 1, 2 or 3 dims of an input with one or two more dims (batch and channels).

        F.pad(mt.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")  # tensor([[3., 2., 1., 2., 3., 2.]])
    """
    input = as_tensor(input, "pad")
    try:
        sizes = [int(p) for p in pad]
    except TypeError:
        raise TypeError(f"pad: pad must be a sequence of ints, got {type(pad).__name__}") from None
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unknown padding mode {mode!r}; expected one of {_PAD_MODES}")
    if len(sizes) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(sizes)} sizes")
    k = len(sizes) // 2  # the number of padded dims
    if k > input.ndim:
        raise RuntimeError(
            "pad: Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(sizes)} and input of dimension {input.ndim}"
        )
    pairs = [(sizes[2 * i], sizes[2 * i + 1]) for i in range(k)][::-1]  # first padded dim first
    first = input.ndim - k
    if mode == "constant":
        widths = [(0, 0)] * first + pairs
        for d, (b, a) in enumerate(widths):
            if input.shape[d] + b + a < 0:
                raise RuntimeError(
                    f"pad: the padding ({b}, {a}) at dim {d} would give a negative size for input of shape "
                    f"{input.shape}"
                )
        return _padding.ConstantPad(widths, 0.0 if value is None else value)(input)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: Padding size {len(sizes)} is not supported for {input.ndim}D input tensor in mode "
            f"{mode!r}: use padding size 2 for 2D or 3D input, 4 for 3D or 4D, 6 for 4D or 5D"
        )
    plan = []
    for d, (b, a) in zip(range(first, input.ndim), pairs):
        n = input.shape[d]
        if mode == "reflect" and (b >= n or a >= n):
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({b}, {a}) at dimension {d} of input {input.shape}"
            )
        if mode == "circular" and (b > n or a > n):
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once (padding ({b}, {a}) at dimension "
                f"{d} of input {input.shape})"
            )
        if n == 0 or n + b + a < 0:
            raise RuntimeError(f"pad: cannot {mode}-pad dimension {d} of input {input.shape} by ({b}, {a})")
        if (b, a) != (0, 0):
            plan.append((d, _padding.gather_index(mode, n, b, a), n))
    if not plan:
        return _padding.ConstantPad([(0, 0)] * input.ndim, 0.0)(input)  # a copy, as PyTorch
    return _padding.GatherPad(plan, mode)(input)
