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


# ------------------------------------------------------------------ sequence models
from ..ops.attention import scaled_dot_product_attention  # noqa: E402, F401  (public: F.scaled_dot_product_attention)
from ..ops.embedding import Embedding as _Embedding  # noqa: E402
from ..ops.normalization import LayerNorm as _LayerNorm  # noqa: E402
from ..ops.normalization import RMSNorm as _RMSNorm  # noqa: E402


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
