"""The one place that binds ops to the public surface: `microtensor.NAME` and `Tensor.NAME`.

Each row names a public function (PyTorch's name), its implementation in ops/, whether Tensor has
it as a method too (called with the tensor as the first argument, as `x.exp()` is `exp(x)`), and
the registered ops it records. `microtensor/__init__.py` exports `functions()`; tensor.py installs
`methods()` on Tensor. Ops that users reach another way (operators, indexing, `.to`, or
microtensor.nn.functional, which binds its own layer and loss functions) are listed in `REACHED`
with the way, so a test can check that every registered op is reachable as in PyTorch.

Adding an op: its class (ops/<family>.py), a row here, and one case in tests/op_cases.py.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import NamedTuple

from . import conv, index, linalg, pooling, reduce, scan, shape, sort, special, stats
from . import elementwise as ew
from . import math as mth
from . import pointwise as pw


class Binding(NamedTuple):
    """One row: `microtensor.<name>` (and `Tensor.<name>` when `method`) is `fn`, recording `ops`."""

    name: str  # the public name, as in torch
    fn: Callable  # fn(tensor, *args, **kwargs)
    method: bool  # also Tensor.name
    ops: tuple[str, ...]  # the registered Op classes it adds (beyond those of the rows it calls)
    function: bool = True  # also microtensor.name (False: a method PyTorch has only on Tensor)


def _where(condition, input=None, other=None):  # noqa: A002
    """where(cond, input, other) elementwise; where(cond) alone: nonzero(cond, as_tuple=True)."""
    if input is None and other is None:
        return index.nonzero(condition, as_tuple=True)
    return ew.where(condition, input, other)


def _where_method(self, condition, other):
    """x.where(condition, y) is where(condition, x, y), as torch.Tensor.where."""
    return ew.where(condition, self, other)


BINDINGS: tuple[Binding, ...] = (
    # elementwise
    Binding("add", pw.add, True, ("Add", "Mul")),  # Mul: other scaled by alpha=
    Binding("sub", pw.sub, True, ("Sub", "Mul")),
    Binding("subtract", pw.sub, True, ("Sub", "Mul")),
    Binding("mul", ew.mul, True, ("Mul",)),
    Binding("multiply", ew.mul, True, ("Mul",)),
    Binding("div", mth.div, True, ("Div", "DivRounded")),  # ew.div, or rounded (rounding_mode=)
    Binding("divide", mth.div, True, ("Div", "DivRounded")),
    Binding("pow", ew.pow, True, ("Pow",)),
    Binding("neg", ew.neg, True, ("Neg",)),
    Binding("exp", ew.exp, True, ("Exp",)),
    Binding("log", ew.log, True, ("Log",)),
    Binding("sqrt", ew.sqrt, True, ("Sqrt",)),
    Binding("abs", ew.abs, True, ("Abs",)),
    Binding("tanh", ew.tanh, True, ("Tanh",)),
    Binding("sigmoid", ew.sigmoid, True, ("Sigmoid",)),
    Binding("relu", ew.relu, True, ("Relu",)),
    Binding("clamp", ew.clamp, True, ("Clamp", "Where")),
    Binding("clip", ew.clamp, True, ("Clamp", "Where")),
    Binding("maximum", ew.maximum, True, ("Maximum",)),
    Binding("minimum", ew.minimum, True, ("Minimum",)),
    Binding("where", _where, False, ("Where",)),
    Binding("where", _where_method, True, ("Where",), function=False),
    Binding("clone", ew.clone, False, ("Clone",)),  # Tensor.clone is tensor.py's (a copy of the storage)
    # math: trigonometry, exponentials, rounding, remainders, predicates, logic (ops/math.py)
    Binding("sin", mth.sin, True, ("Sin",)),
    Binding("cos", mth.cos, True, ("Cos",)),
    Binding("tan", mth.tan, True, ("Tan",)),
    Binding("asin", mth.asin, True, ("Asin",)),
    Binding("acos", mth.acos, True, ("Acos",)),
    Binding("atan", mth.atan, True, ("Atan",)),
    Binding("sinh", mth.sinh, True, ("Sinh",)),
    Binding("cosh", mth.cosh, True, ("Cosh",)),
    Binding("asinh", mth.asinh, True, ("Asinh",)),
    Binding("acosh", mth.acosh, True, ("Acosh",)),
    Binding("atanh", mth.atanh, True, ("Atanh",)),
    Binding("arcsin", mth.asin, True, ("Asin",)),
    Binding("arccos", mth.acos, True, ("Acos",)),
    Binding("arctan", mth.atan, True, ("Atan",)),
    Binding("arcsinh", mth.asinh, True, ("Asinh",)),
    Binding("arccosh", mth.acosh, True, ("Acosh",)),
    Binding("arctanh", mth.atanh, True, ("Atanh",)),
    Binding("atan2", mth.atan2, True, ("Atan2",)),
    Binding("arctan2", mth.atan2, True, ("Atan2",)),
    Binding("hypot", mth.hypot, True, ("Hypot",)),
    Binding("sinc", mth.sinc, True, ("Sinc",)),
    Binding("deg2rad", mth.deg2rad, True, ("Deg2rad",)),
    Binding("rad2deg", mth.rad2deg, True, ("Rad2deg",)),
    Binding("exp2", mth.exp2, True, ("Exp2",)),
    Binding("expm1", mth.expm1, True, ("Expm1",)),
    Binding("log2", mth.log2, True, ("Log2",)),
    Binding("log10", mth.log10, True, ("Log10",)),
    Binding("log1p", mth.log1p, True, ("Log1p",)),
    Binding("rsqrt", mth.rsqrt, True, ("Rsqrt",)),
    Binding("reciprocal", mth.reciprocal, True, ("Reciprocal",)),
    Binding("square", mth.square, True, ("Square",)),
    Binding("logit", mth.logit, True, ("Logit",)),
    Binding("logaddexp", mth.logaddexp, True, ("LogAddExp",)),
    Binding("logaddexp2", mth.logaddexp2, True, ("LogAddExp2",)),
    Binding("xlogy", mth.xlogy, True, ("Xlogy",)),
    Binding("erf", mth.erf, True, ("Erf",)),
    Binding("erfc", mth.erfc, True, ("Erfc",)),
    Binding("erfinv", mth.erfinv, True, ("Erfinv",)),
    Binding("sign", mth.sign, True, ("Sign",)),
    Binding("sgn", mth.sgn, True, ("Sgn",)),
    Binding("floor", mth.floor, True, ("Floor",)),
    Binding("ceil", mth.ceil, True, ("Ceil",)),
    Binding("trunc", mth.trunc, True, ("Trunc",)),
    Binding("fix", mth.fix, True, ("Trunc",)),
    Binding("round", mth.round, True, ("Round",)),
    Binding("frac", mth.frac, True, ("Frac",)),
    Binding("angle", mth.angle, True, ("Angle",)),
    Binding("nan_to_num", mth.nan_to_num, True, ("NanToNum",)),
    Binding("copysign", mth.copysign, True, ("Copysign",)),
    Binding("fmod", mth.fmod, True, ("Fmod",)),
    Binding("remainder", mth.remainder, True, ("Remainder",)),
    Binding("lerp", mth.lerp, True, ("Lerp",)),
    Binding("float_power", mth.float_power, True, ("Cast", "Pow")),
    Binding("clamp_min", mth.clamp_min, True, ("Clamp", "Where")),
    Binding("clamp_max", mth.clamp_max, True, ("Clamp", "Where")),
    Binding("absolute", mth.absolute, True, ("Abs",)),
    Binding("negative", mth.negative, True, ("Neg",)),
    Binding("positive", mth.positive, True, ()),
    Binding("floor_divide", mth.floor_divide, True, ()),
    Binding("true_divide", mth.true_divide, True, ("Div",)),
    Binding("signbit", mth.signbit, True, ()),
    Binding("isinf", mth.isinf, True, ()),
    Binding("isposinf", mth.isposinf, True, ()),
    Binding("isneginf", mth.isneginf, True, ()),
    Binding("isreal", mth.isreal, True, ()),
    Binding("isclose", mth.isclose, True, ()),
    Binding("allclose", mth.allclose, True, ()),
    Binding("equal", mth.equal, True, ()),
    Binding("logical_and", mth.logical_and, True, ()),
    Binding("logical_or", mth.logical_or, True, ()),
    Binding("logical_xor", mth.logical_xor, True, ()),
    Binding("bitwise_and", mth.bitwise_and, True, ()),
    Binding("bitwise_or", mth.bitwise_or, True, ()),
    Binding("bitwise_xor", mth.bitwise_xor, True, ()),
    Binding("bitwise_not", mth.bitwise_not, True, ()),
    Binding("bitwise_left_shift", mth.bitwise_left_shift, True, ()),
    Binding("bitwise_right_shift", mth.bitwise_right_shift, True, ()),
    Binding("heaviside", mth.heaviside, True, ()),
    # Tensor has isnan, isfinite and logical_not as methods of its own (tensor.py)
    Binding("isnan", mth.isnan, False, ()),
    Binding("isfinite", mth.isfinite, False, ()),
    Binding("logical_not", mth.logical_not, False, ()),
    # pointwise (ops/pointwise.py): addcmul/addcdiv, NaN-ignoring max/min, comparisons, gcd/lcm, ldexp
    Binding("addcmul", pw.addcmul, True, ()),  # Mul and Add (rows above)
    Binding("addcdiv", pw.addcdiv, True, ()),  # Div, Mul and Add
    Binding("fmax", pw.fmax, True, ("Fmax",)),
    Binding("fmin", pw.fmin, True, ("Fmin",)),
    # (Tensor.eq ... ge are tensor.py's own methods, the operators' twins)
    Binding("eq", pw.eq, False, ()),
    Binding("ne", pw.ne, False, ()),
    Binding("lt", pw.lt, False, ()),
    Binding("le", pw.le, False, ()),
    Binding("gt", pw.gt, False, ()),
    Binding("ge", pw.ge, False, ()),
    Binding("not_equal", pw.not_equal, True, ()),
    Binding("less", pw.less, True, ()),
    Binding("less_equal", pw.less_equal, True, ()),
    Binding("greater", pw.greater, True, ()),
    Binding("greater_equal", pw.greater_equal, True, ()),
    Binding("gcd", pw.gcd, True, ()),
    Binding("lcm", pw.lcm, True, ()),
    Binding("ldexp", pw.ldexp, True, ()),  # Pow and Mul
    Binding("frexp", pw.frexp, True, ("Frexp",)),
    Binding("nextafter", pw.nextafter, True, ()),
    # statistics (ops/stats.py)
    Binding("dist", stats.dist, True, ()),  # Sub and VectorNorm
    Binding("cov", stats.cov, True, ()),
    Binding("corrcoef", stats.corrcoef, True, ()),
    Binding("histogram", stats.histogram, True, ()),
    Binding("quantile", stats.quantile, True, ()),  # sort, TakeAlongDim, Lerp
    Binding("nanquantile", stats.nanquantile, True, ()),
    Binding("renorm", stats.renorm, True, ()),  # VectorNorm, Where, Div, Mul
    # the gamma family (ops/special.py)
    Binding("lgamma", special.lgamma, True, ("Lgamma",)),
    Binding("digamma", special.digamma, True, ("Digamma",)),
    Binding("polygamma", special.polygamma, False, ("Digamma", "Polygamma")),
    Binding("polygamma", special.polygamma_method, True, ("Digamma", "Polygamma"), function=False),
    Binding("mvlgamma", special.mvlgamma, True, ("Lgamma",)),
    # linear algebra
    Binding("matmul", linalg.matmul, True, ("MatMul",)),
    Binding("mm", linalg.mm, True, ()),
    Binding("bmm", linalg.bmm, True, ()),
    Binding("mv", linalg.mv, True, ()),
    Binding("dot", linalg.dot, True, ()),
    Binding("vdot", linalg.vdot, True, ()),
    Binding("inner", linalg.inner, True, ()),
    Binding("outer", linalg.outer, True, ()),
    Binding("ger", linalg.ger, True, ()),
    Binding("addmm", linalg.addmm, True, ()),
    Binding("addmv", linalg.addmv, True, ()),
    Binding("addbmm", linalg.addbmm, True, ()),
    Binding("baddbmm", linalg.baddbmm, True, ()),
    Binding("addr", linalg.addr, True, ()),  # Mul and Add
    Binding("tensordot", linalg.tensordot, False, ()),
    Binding("kron", linalg.kron, True, ()),
    Binding("einsum", linalg.einsum, False, ("Einsum", "EinsumOne")),
    Binding("norm", linalg.norm, True, ("VectorNorm",)),
    Binding("det", linalg.det, True, ("Det",)),
    Binding("slogdet", linalg.slogdet, True, ("LogAbsDet",)),
    Binding("logdet", linalg.logdet, True, ()),
    Binding("inverse", linalg.inverse, True, ("Inv",)),
    Binding("pinverse", linalg.pinverse, True, ("SVD",)),
    Binding("matrix_power", linalg.matrix_power, True, ()),
    Binding("cholesky", linalg.cholesky_torch, True, ("Cholesky",)),
    Binding("qr", linalg.qr_torch, True, ("QR",)),
    Binding("svd", linalg.svd_torch, True, ("SVD",)),
    # reductions
    Binding("sum", reduce.sum, True, ("Sum",)),
    Binding("mean", reduce.mean, True, ("Mean",)),
    Binding("var", reduce.var, True, ("Var",)),
    Binding("std", reduce.std, True, ("Var", "Std")),
    Binding("max", reduce.max, True, ("Amax", "TakeAlongDim", "Maximum")),
    Binding("min", reduce.min, True, ("Amax", "TakeAlongDim", "Minimum")),
    Binding("argmax", reduce.argmax, True, ()),
    Binding("argmin", reduce.argmin, True, ()),
    Binding("logsumexp", reduce.logsumexp, True, ("LogSumExp",)),
    Binding("softmax", reduce.softmax, True, ("Softmax",)),
    Binding("log_softmax", reduce.log_softmax, True, ("LogSoftmax",)),
    Binding("take_along_dim", reduce.take_along_dim, True, ("TakeAlongDim",)),
    # scans, sorts and order statistics
    Binding("prod", scan.prod, True, ("Prod",)),
    Binding("cumsum", scan.cumsum, True, ("Cumsum",)),
    Binding("cumprod", scan.cumprod, True, ("Cumprod",)),
    Binding("logcumsumexp", scan.logcumsumexp, True, ("LogCumSumExp",)),
    Binding("sort", sort.sort, True, ()),
    Binding("argsort", sort.argsort, True, ()),
    Binding("msort", sort.msort, True, ()),
    Binding("topk", sort.topk, True, ()),
    Binding("median", sort.median, True, ("MedianAll", "TakeAlongDim")),
    Binding("nanmedian", sort.nanmedian, True, ("MedianAll", "TakeAlongDim")),
    Binding("kthvalue", sort.kthvalue, True, ()),
    Binding("mode", sort.mode, True, ()),
    Binding("cummax", sort.cummax, True, ()),
    Binding("cummin", sort.cummin, True, ()),
    Binding("amax", sort.amax, True, ("AmaxDim",)),
    Binding("amin", sort.amin, True, ("AmaxDim",)),
    Binding("aminmax", sort.aminmax, True, ()),
    Binding("count_nonzero", sort.count_nonzero, True, ()),
    Binding("nansum", sort.nansum, True, ()),
    Binding("nanmean", sort.nanmean, True, ()),
    Binding("diff", sort.diff, True, ()),
    Binding("unique", sort.unique, True, ()),
    Binding("bincount", sort.bincount, True, ()),
    Binding("histc", sort.histc, True, ()),
    Binding("isin", sort.isin, False, ()),
    Binding("var_mean", sort.var_mean, False, ()),
    Binding("std_mean", sort.std_mean, False, ()),
    Binding("searchsorted", sort.searchsorted, False, ()),
    Binding("bucketize", sort.bucketize, False, ()),
    Binding("all", sort.all, False, ()),
    Binding("any", sort.any, False, ()),
    # shape
    Binding("reshape", shape.reshape, True, ("Reshape",)),
    Binding("permute", shape.permute, True, ("Permute",)),
    Binding("transpose", shape.transpose, True, ("Permute",)),
    Binding("squeeze", shape.squeeze, True, ("Reshape",)),
    Binding("unsqueeze", shape.unsqueeze, True, ("Reshape",)),
    Binding("flatten", shape.flatten, True, ("Reshape",)),
    Binding("expand", shape.expand, True, ("Expand",)),
    Binding("cat", shape.cat, False, ("Cat",)),
    Binding("concat", shape.cat, False, ("Cat",)),
    Binding("stack", shape.stack, False, ("Stack",)),
    Binding("split", shape.split, True, ()),
    Binding("tensor_split", shape.tensor_split, True, ()),
    Binding("chunk", shape.chunk, True, ()),
    Binding("hsplit", shape.hsplit, True, ()),
    Binding("vsplit", shape.vsplit, True, ()),
    Binding("dsplit", shape.dsplit, True, ()),
    Binding("split_with_sizes", shape.split_with_sizes, True, ()),
    Binding("unsafe_split", shape.split, True, ()),  # (PyTorch's unsafe_*: the same pieces, unchecked views)
    Binding("unsafe_split_with_sizes", shape.split_with_sizes, True, ()),
    Binding("unsafe_chunk", shape.chunk, True, ()),
    Binding("narrow_copy", shape.narrow_copy, True, ()),
    Binding("unbind", shape.unbind, True, ()),
    Binding("flip", shape.flip, True, ()),
    Binding("fliplr", shape.fliplr, True, ()),
    Binding("flipud", shape.flipud, True, ()),
    Binding("roll", shape.roll, True, ()),
    Binding("rot90", shape.rot90, True, ()),
    Binding("tile", shape.tile, True, ()),
    Binding("repeat_interleave", shape.repeat_interleave, True, ()),
    Binding("narrow", shape.narrow, True, ()),
    Binding("select", shape.select, True, ()),
    Binding("movedim", shape.movedim, True, ()),
    Binding("moveaxis", shape.movedim, True, ()),
    Binding("swapaxes", shape.swapaxes, True, ()),
    Binding("swapdims", shape.swapaxes, True, ()),
    Binding("unflatten", shape.unflatten, True, ()),
    Binding("ravel", shape.ravel, True, ()),
    Binding("broadcast_to", shape.broadcast_to, True, ()),
    Binding("tril", shape.tril, True, ()),
    Binding("triu", shape.triu, True, ()),
    Binding("diagonal", shape.diagonal, True, ()),
    Binding("diag", shape.diag, True, ()),
    Binding("diagflat", shape.diagflat, True, ()),
    Binding("diag_embed", shape.diag_embed, True, ()),
    Binding("trace", shape.trace, True, ()),
    Binding("broadcast_tensors", shape.broadcast_tensors, False, ()),
    Binding("broadcast_shapes", shape.broadcast_shapes, False, ()),
    Binding("atleast_1d", shape.atleast_1d, False, ()),
    Binding("atleast_2d", shape.atleast_2d, False, ()),
    Binding("atleast_3d", shape.atleast_3d, False, ()),
    Binding("hstack", shape.hstack, False, ()),
    Binding("vstack", shape.vstack, False, ()),
    Binding("dstack", shape.dstack, False, ()),
    Binding("column_stack", shape.column_stack, False, ()),
    Binding("row_stack", shape.vstack, False, ()),
    Binding("meshgrid", shape.meshgrid, False, ()),
    Binding("cartesian_prod", shape.cartesian_prod, False, ()),
    Binding("tril_indices", shape.tril_indices, False, ()),
    Binding("triu_indices", shape.triu_indices, False, ()),
    Binding("block_diag", shape.block_diag, False, ()),
    Binding("cross", shape.cross, True, ()),
    Binding("combinations", shape.combinations, False, ()),
    Binding("cdist", shape.cdist, False, ()),
    Binding("repeat", shape.repeat, True, (), function=False),  # torch.repeat does not exist
    # indexing
    Binding("getitem", index.getitem, False, ("GetItem",)),
    Binding("gather", index.gather, True, ()),
    Binding("scatter", index.scatter, True, ("Scatter", "ScatterAdd")),
    Binding("scatter_add", index.scatter_add, True, ("ScatterAdd",)),
    Binding("scatter_reduce", index.scatter_reduce, True, ()),
    Binding("index_select", index.index_select, True, ()),
    Binding("index_add", index.index_add, True, ()),
    Binding("index_copy", index.index_copy, True, ()),
    Binding("index_fill", index.index_fill, True, ()),
    Binding("index_put", index.index_put, True, ()),
    Binding("masked_fill", index.masked_fill, True, ()),
    Binding("masked_scatter", index.masked_scatter, True, ()),
    Binding("masked_select", index.masked_select, True, ()),
    Binding("nonzero", index.nonzero, True, ()),
    Binding("argwhere", index.argwhere, True, ()),
    Binding("take", index.take, True, ()),
    Binding("put", index.put, True, ()),
    Binding("select_scatter", index.select_scatter, True, ()),  # SetItem
    Binding("slice_scatter", index.slice_scatter, True, ()),
    Binding("diagonal_scatter", index.diagonal_scatter, True, ()),
    Binding("index_reduce", index.index_reduce, True, ()),  # as scatter_reduce
    Binding("as_strided", shape.as_strided, True, ()),  # Reshape and GetItem
    # convolution and pooling (issue 14; nn.functional has these and the 2-D pooling functions)
    Binding("conv1d", conv.conv1d, False, ("Conv",)),
    Binding("conv2d", conv.conv2d, False, ("Conv",)),
    Binding("conv_transpose1d", conv.conv_transpose1d, False, ("ConvTranspose",)),
    Binding("conv_transpose2d", conv.conv_transpose2d, False, ("ConvTranspose",)),
    Binding("max_pool1d", pooling.max_pool1d, False, ("MaxPool",)),
    Binding("max_pool2d", pooling.max_pool2d, False, ("MaxPool",)),
    Binding("avg_pool1d", pooling.avg_pool1d, False, ("AvgPool",)),
    Binding("adaptive_avg_pool1d", pooling.adaptive_avg_pool1d, False, ("AdaptiveAvgPool",)),
    Binding("adaptive_max_pool1d", pooling.adaptive_max_pool1d_pair, False, ("AdaptiveMaxPool",)),
)


# activations (issue 13): the ones PyTorch also has as torch.X / Tensor.X; they call
# microtensor.nn.functional, imported when first called (it imports this package)
def _nn_functional(name: str, doc: str) -> Callable:
    def fn(input, *args, **kwargs):  # noqa: A002
        from ..nn import functional as F

        return getattr(F, name)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{doc} (microtensor.nn.functional.{name})."
    return fn


BINDINGS += (
    Binding("selu", _nn_functional("selu", "scale·elu(x, alpha), the self-normalising ELU"), False, ("Elu",)),
    Binding("celu", _nn_functional("celu", "x where x > 0, else alpha·(e^(x/alpha) − 1)"), False, ("Elu",)),
    Binding("threshold", _nn_functional("threshold", "x where x > threshold, else value"), False, ("Threshold",)),  # noqa: E501
    Binding("hardshrink", _nn_functional("hardshrink", "x where |x| > lambd, else 0"), True, ("Hardshrink",)),
    Binding("prelu", _nn_functional("prelu", "x where x > 0, else weight·x"), True, ("Prelu", "Reshape")),
    Binding("rrelu", _nn_functional("rrelu", "randomized leaky ReLU"), False, ("Where", "Mul", "Rrelu")),
)

# Registered ops reached other than through a row above: op -> how users reach it.
REACHED: dict[str, str] = {
    "GetItem": "Tensor.__getitem__",
    "SetItem": "Tensor.__setitem__",
    "IndexAdd": "recorded by the derivative of indexing (create_graph=True)",
    "Cast": "Tensor.to / float() / double() / half()",
    "Linear": "microtensor.nn.functional.linear",
    "SoftmaxCrossEntropy": "microtensor.nn.functional.cross_entropy",
    "BinaryCrossEntropy": "microtensor.nn.functional.binary_cross_entropy",
    "BCEWithLogits": "microtensor.nn.functional.binary_cross_entropy_with_logits",
    "MSELoss": "microtensor.nn.functional.mse_loss",
    # convolution and pooling (issue 14)
    "ConvWeight": "recorded by the derivative of a convolution (create_graph=True)",
    "WindowSpread": "recorded by the derivative of avg_pool (create_graph=True)",
    "WindowSum": "recorded by the derivative of avg_pool (create_graph=True)",
    "Unfold": "microtensor.nn.functional.unfold",
    "Fold": "microtensor.nn.functional.fold",
    "Interpolate": "microtensor.nn.functional.interpolate",
    "BatchNorm": "microtensor.nn.functional.batch_norm (training mode)",
    "GroupNorm": "microtensor.nn.functional.group_norm",
    "InstanceNorm": "microtensor.nn.functional.instance_norm",
    # sequence models
    "Embedding": "microtensor.nn.functional.embedding",
    "LayerNorm": "microtensor.nn.functional.layer_norm",
    "RMSNorm": "microtensor.nn.functional.rms_norm",
    "ScaledDotProductAttention": "microtensor.nn.functional.scaled_dot_product_attention",
    "LSTMGates": "microtensor.nn.LSTM / LSTMCell (one node per step)",
    "LSTMLayer": "microtensor.nn.LSTM (one node per layer and direction)",
    "GRULayer": "microtensor.nn.GRU (one node per layer and direction)",
    "RNNLayer": "microtensor.nn.RNN (one node per layer and direction)",
    "Eigh": "microtensor.linalg.eigh",
    "Solve": "microtensor.linalg.solve",
    # activations (issue 13)
    "Gelu": "microtensor.nn.functional.gelu",
    "GeluTanh": "microtensor.nn.functional.gelu(approximate='tanh')",
    "NormalCdf": "recorded by the derivative of gelu (create_graph=True)",
    "Silu": "microtensor.nn.functional.silu",
    "Mish": "microtensor.nn.functional.mish",
    "Hardtanh": "microtensor.nn.functional.hardtanh / relu6",
    "Hardsigmoid": "microtensor.nn.functional.hardsigmoid",
    "Hardswish": "microtensor.nn.functional.hardswish",
    "Softplus": "microtensor.nn.functional.softplus",
    "LogSigmoid": "microtensor.nn.functional.logsigmoid",
    "Softshrink": "microtensor.nn.functional.softshrink",
    # losses (issue 13)
    "L1Loss": "microtensor.nn.functional.l1_loss",
    "SmoothL1Loss": "microtensor.nn.functional.smooth_l1_loss",
    "HuberLoss": "microtensor.nn.functional.huber_loss",
    "KLDiv": "microtensor.nn.functional.kl_div",
    "GaussianNLL": "microtensor.nn.functional.gaussian_nll_loss",
    "ConstantPad": "microtensor.nn.functional.pad (mode='constant')",
    "GatherPad": "microtensor.nn.functional.pad (mode='reflect', 'replicate' or 'circular')",
}


@functools.cache  # one wrapper per function, so mt.X and Tensor.X stay the table's very objects
def with_numpy_names(fn):
    """fn also accepting NumPy's `axis=` for `dim=` and `keepdims=` for `keepdim=`, as PyTorch does
    for every dim argument (fn unchanged when it has no `dim` parameter)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    if "dim" not in params or getattr(fn, "_numpy_names", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            if "axis" in kwargs:
                if "dim" in kwargs:
                    raise TypeError(f"{fn.__name__}(): got both dim and its alias axis")
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    wrapper._numpy_names = True
    return wrapper


def functions() -> dict[str, Callable]:
    """The public functions, by name (what `microtensor/__init__.py` exports)."""
    return {b.name: with_numpy_names(b.fn) for b in BINDINGS if b.function}


def methods() -> dict[str, Callable]:
    """The Tensor methods, by name (what tensor.py installs)."""
    return {b.name: with_numpy_names(b.fn) for b in BINDINGS if b.method}


def install_methods(cls) -> None:
    """Bind methods() on the Tensor class (a method written in tensor.py itself takes precedence)."""
    for name, fn in methods().items():
        if name not in cls.__dict__:
            setattr(cls, name, fn)
