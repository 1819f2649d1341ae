"""Stateless layer and loss functions, as torch.nn.functional."""

from __future__ import annotations

import warnings

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
    """max(x, 0); `inplace` is accepted for PyTorch compatibility, the result is always new."""
    return _ew.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _ew.where(input > 0, input, input * negative_slope)


def tanh(input: Tensor) -> Tensor:
    return _ew.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
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
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _reduce.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _reduce.log_softmax(input, dim)


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
from ..ops import index as _index  # noqa: E402
from ..ops import normalization as _norm  # noqa: E402
from ..ops import pooling as _pool  # noqa: E402
from ..ops import shape as _shape  # noqa: E402

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


def _pad_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = np.abs(i)  # reflect: mirror at 0 and at n − 1, the edge itself not repeated
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last len(pad)/2 dims: pad = (left, right, top, bottom, ...) from the last dim back;
    mode 'constant' (with value, negative pads crop), 'reflect', 'replicate' or 'circular'.

    >>> F.pad(mt.tensor([[1., 2., 3.]]), (1, 2), mode="reflect")
    tensor([[2., 1., 2., 3., 2., 1.]])
    """
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    pads = tuple(pad)
    if len(pads) % 2 or len(pads) // 2 > input.ndim or not all(isinstance(p, int | np.integer) for p in pads):
        raise RuntimeError(
            f"{op}: pad must be an even number of ints, at most 2 per dim of input "
            f"{tuple(input.shape)}, got {pad}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(
            f"{op}: mode {mode!r} is not supported (constant, reflect, replicate, circular)"
        )
    if mode != "constant" and value:
        raise RuntimeError(f"{op}: padding mode {mode!r} doesn't take in value argument")
    x = input
    for k in range(len(pads) // 2):
        lo, hi = int(pads[2 * k]), int(pads[2 * k + 1])
        dim = x.ndim - 1 - k
        n = x.shape[dim]
        if mode == "constant":
            if lo < 0 or hi < 0:  # negative padding crops
                x = _shape.narrow(x, dim, max(-lo, 0), n - max(-lo, 0) - max(-hi, 0))
                lo, hi = max(lo, 0), max(hi, 0)
            if lo or hi:
                fill = 0 if value is None else value
                parts = []
                for m in (lo, 0, hi):
                    if m:
                        size = list(x.shape)
                        size[dim] = m
                        parts.append(Tensor._wrap(np.full(size, fill, x._data.dtype)))
                    else:
                        parts.append(None)
                x = _shape.cat([t for t in (parts[0], x, parts[2]) if t is not None], dim)
            continue
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"{op}: padding size should be less than the corresponding input dimension, but got "
                f"padding ({lo}, {hi}) at dimension {dim} of input {tuple(input.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"{op}: padding ({lo}, {hi}) is larger than dimension {dim} of size {n}")
        if min(lo, hi) < 0:
            raise RuntimeError(f"{op}: negative padding is only supported in constant mode, got {pad}")
        if lo or hi:
            x = _index.index_select(x, dim, Tensor._wrap(_pad_index(n, lo, hi, mode)))
    return x


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
