"""The export table: how each recorded op (by class name) and each traced module becomes ONNX nodes.

This is the only place that knows op class names and their public attributes (`dim`, `axes`,
`keepdim`, `shape`, `min`/`max`, `dtype`). An emitter gets the builder, the recorded op (or module),
and its inputs as ONNX value names (Python scalars and constant tensors already turned into
initializers, None for an absent optional input), and returns the name of its output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _same(onnx_type: str) -> Callable:
    def emit(b, op, ins):
        return b.node(onnx_type, ins)

    return emit


def _linear(b, op, ins):
    x, w, bias = ins
    if b.rank(op.inputs[0]) == 2:  # Gemm: y = x · Wᵀ + b in one node
        return b.node("Gemm", [x, w] + ([bias] if bias is not None else []), transB=1)
    y = b.node("MatMul", [x, b.node("Transpose", [w], perm=[1, 0])])
    return y if bias is None else b.node("Add", [y, bias])


def _clamp(b, op, ins):
    dtype = b.dtype(op.inputs[0])
    lo = "" if op.min is None else b.const(np.asarray(op.min, dtype))
    hi = "" if op.max is None else b.const(np.asarray(op.max, dtype))
    return b.node("Clip", [ins[0], lo, hi])


def _reduce(onnx_type: str) -> Callable:
    def emit(b, op, ins):
        axes = op.axes
        keep = int(bool(op.keepdim))
        if axes is None:  # every axis
            axes = list(range(b.rank(op.inputs[0])))
        if onnx_type == "ReduceSum":  # opset 13+: axes is an input
            return b.node(onnx_type, [ins[0], b.const(np.asarray(list(axes), np.int64))], keepdims=keep)
        return b.node(onnx_type, [ins[0]], axes=list(axes), keepdims=keep)

    return emit


def _reshape(b, op, ins):
    # Dims equal to the input's leading dims are written 0 ("copy from the input"), so a batch
    # axis left untouched (Flatten) stays dynamic; the rest are the traced sizes.
    src, dst = b.shape(op.inputs[0]), tuple(op.shape)
    target, same = [], True
    for i, d in enumerate(dst):
        same = same and i < len(src) and src[i] == d
        target.append(0 if same and d != 0 else int(d))
    return b.node("Reshape", [ins[0], b.const(np.asarray(target, np.int64))])


def _where(b, op, ins):
    if not b.is_graph_value(op.inputs[0]):
        b.unsupported(
            op,
            "its condition was computed outside the recorded graph (a comparison such as x > 0 records "
            "nothing), so the exported model would reuse the example's condition for every input",
        )
    return b.node("Where", ins)


def _cast(b, op, ins):
    return b.node("Cast", ins, to=b.onnx_dtype(np.dtype(op.dtype)))


def _stack(b, op, ins):
    axes = b.const(np.asarray([op.dim], np.int64))
    return b.node("Concat", [b.node("Unsqueeze", [x, axes]) for x in ins], axis=op.dim)


# ------------------------------------------------------------------ sequence models
def _embedding(b, op, ins):
    # the indices are the op's attribute (an integer array): a model input when the caller passed it,
    # otherwise an array the forward made (positions): frozen, as in any trace
    idx = op.indices
    name = b.input_arrays.get(id(idx)) or b.const(np.asarray(idx, np.int64))
    return b.node("Gather", [ins[0], name], axis=0)


def _layer_norm(b, op, ins):
    x, w, bias = ins
    dtype = b.dtype(op.inputs[0])
    rank = b.rank(op.inputs[0])
    if w is None:  # LayerNormalization requires a scale
        w = b.const(np.ones(b.shape(op.inputs[0])[rank - len(op.axes) :], dtype))
    return b.node(
        "LayerNormalization",
        [x, w] + ([bias] if bias is not None else []),
        axis=op.axes[0],
        epsilon=float(op.eps),
    )


def _rms_norm(b, op, ins):
    # opset 17 has no RMSNormalization: x / √(mean(x²) + eps) · w from elementary nodes
    x, w = ins
    dtype = b.dtype(op.inputs[0])
    ms = b.node("ReduceMean", [b.node("Mul", [x, x])], axes=list(op.axes), keepdims=1)
    r = b.node("Sqrt", [b.node("Add", [ms, b.const(np.asarray(op.eps, dtype))])])
    y = b.node("Div", [x, r])
    return y if w is None else b.node("Mul", [y, w])


def _attention(b, op, ins):
    q, k, v = ins
    rank = b.rank(op.inputs[1])
    dtype = b.dtype(op.inputs[0])
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    s = b.node("MatMul", [q, b.node("Transpose", [k], perm=perm)])
    s = b.node("Mul", [s, b.const(np.asarray(op.scale, dtype))])
    if op.mask is not None:
        s = b.node("Add", [s, b.const(np.asarray(op.mask, dtype))])
    return b.node("MatMul", [b.node("Softmax", [s], axis=-1), v])


def _getitem(b, op, ins):
    """Basic indexing (ints, slices, None, ...) as Slice, Squeeze and Unsqueeze; array indices refused."""
    shape = b.shape(op.inputs[0])
    items = list(op.index) if isinstance(op.index, tuple) else [op.index]
    if any(not (isinstance(i, int | np.integer | slice) or i is None or i is Ellipsis) for i in items):
        b.unsupported(
            op, "only basic indexing (ints, slices, None, ...) is exported, not integer or bool arrays"
        )
    if Ellipsis in items:
        k = items.index(Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        items[k : k + 1] = [slice(None)] * (len(shape) - used)
    starts, ends, axes, steps, drop, out_dims, d = [], [], [], [], [], [], 0
    for i in items:
        if i is None:
            out_dims.append(None)
            continue
        if isinstance(i, slice):
            start, stop, step = i.indices(shape[d])
            if step < 0 and stop < 0:
                stop = -(2**63)  # "before the first element" (−1 would mean the last one)
            if (start, stop, step) != (0, shape[d], 1):
                starts.append(start), ends.append(stop), axes.append(d), steps.append(step)
            out_dims.append(d)
        else:
            j = int(i) % shape[d]
            starts.append(j), ends.append(j + 1), axes.append(d), steps.append(1)
            drop.append(d)
        d += 1
    out = ins[0]
    if axes:
        consts = [b.const(np.asarray(v, np.int64)) for v in (starts, ends, axes, steps)]
        out = b.node("Slice", [out, *consts])
    if drop:
        out = b.node("Squeeze", [out, b.const(np.asarray(drop, np.int64))])
    new = [p for p, dim in enumerate(out_dims + [0] * (len(shape) - d)) if dim is None]
    if new:
        out = b.node("Unsqueeze", [out, b.const(np.asarray(new, np.int64))])
    return out


def _lstm_gates(b, op, ins):
    """[h', c'] from the gate pre-activations and c: Split, Sigmoid/Tanh, Mul/Add, Concat."""
    a, c = ins
    h, c = _lstm_pointwise(b, a, c, b.shape(op.inputs[1])[-1])
    return b.node("Concat", [h, c], axis=-1)


def _lstm_pointwise(b, a, c, H: int):
    """(h', c') of one LSTM step from its gate pre-activations a and the cell state c."""
    sizes = b.const(np.asarray([H] * 4, np.int64))
    parts = b.onnx.helper.make_node("Split", [a, sizes], [f"{a}_gate{k}" for k in range(4)], axis=-1)
    b.nodes.append(parts)
    i, f, g, o = (f"{a}_gate{k}" for k in range(4))
    i, f, o = (b.node("Sigmoid", [t]) for t in (i, f, o))
    cn = b.node("Add", [b.node("Mul", [f, c]), b.node("Mul", [i, b.node("Tanh", [g])])])
    return b.node("Mul", [o, b.node("Tanh", [cn])]), cn


def _lstm_layer(b, op, ins):
    """A whole LSTM layer, unrolled over its traced length: the input projection of every step, then
    per step a Gather of it plus h·W_hhᵀ and the pointwise gates; each step's h and c stacked into
    (2, T, B, H) in time order."""
    x, h, c, w_ih, w_hh, b_ih, b_hh = ins
    T = b.shape(op.inputs[0])[0]
    H = b.shape(op.inputs[1])[-1]
    xw = b.node("MatMul", [x, b.node("Transpose", [w_ih], perm=[1, 0])])
    for bias in (b_ih, b_hh):
        if bias is not None:
            xw = b.node("Add", [xw, bias])
    w_hh_t = b.node("Transpose", [w_hh], perm=[1, 0])
    hs, cs = [None] * T, [None] * T
    zero = b.const(np.asarray([0], np.int64))
    for t in range(T - 1, -1, -1) if op.reverse else range(T):
        xt = b.node("Squeeze", [b.node("Gather", [xw, b.const(np.asarray([t], np.int64))], axis=0), zero])
        h, c = _lstm_pointwise(b, b.node("Add", [xt, b.node("MatMul", [h, w_hh_t])]), c, H)
        hs[t], cs[t] = h, c
    seqs = [b.node("Concat", [b.node("Unsqueeze", [s, zero]) for s in states], axis=0) for states in (hs, cs)]
    return b.node("Concat", [b.node("Unsqueeze", [s, zero]) for s in seqs], axis=0)


def _gru_layer(b, op, ins):
    """A whole GRU layer, unrolled over its traced length as _lstm_layer: per step the hidden
    projection, σ of the r and z pre-activations, n = tanh(x_n + r·h_n), h = n + z·(h − n)."""
    x, h, w_ih, w_hh, b_ih, b_hh = ins
    T = b.shape(op.inputs[0])[0]
    H = b.shape(op.inputs[1])[-1]
    xw = b.node("MatMul", [x, b.node("Transpose", [w_ih], perm=[1, 0])])
    if b_ih is not None:
        xw = b.node("Add", [xw, b_ih])
    w_hh_t = b.node("Transpose", [w_hh], perm=[1, 0])
    sizes = b.const(np.asarray([H] * 3, np.int64))
    zero = b.const(np.asarray([0], np.int64))
    hs = [None] * T
    for t in range(T - 1, -1, -1) if op.reverse else range(T):
        xt = b.node("Squeeze", [b.node("Gather", [xw, b.const(np.asarray([t], np.int64))], axis=0), zero])
        gh = b.node("MatMul", [h, w_hh_t])
        if b_hh is not None:
            gh = b.node("Add", [gh, b_hh])
        parts = []
        for name in (xt, gh):
            outs = [f"{name}_gate{k}" for k in range(3)]
            b.nodes.append(b.onnx.helper.make_node("Split", [name, sizes], outs, axis=-1))
            parts.append(outs)
        (xr, xz, xn), (hr, hz, hn) = parts
        r = b.node("Sigmoid", [b.node("Add", [xr, hr])])
        z = b.node("Sigmoid", [b.node("Add", [xz, hz])])
        n = b.node("Tanh", [b.node("Add", [xn, b.node("Mul", [r, hn])])])
        h = b.node("Add", [n, b.node("Mul", [z, b.node("Sub", [h, n])])])
        hs[t] = h
    return b.node("Concat", [b.node("Unsqueeze", [s, zero]) for s in hs], axis=0)


def _rnn_layer(b, op, ins):
    """A whole Elman RNN layer, unrolled over its traced length as _lstm_layer: per step
    h = act(x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act Tanh or Relu."""
    x, h, w_ih, w_hh, b_ih, b_hh = ins
    T = b.shape(op.inputs[0])[0]
    xw = b.node("MatMul", [x, b.node("Transpose", [w_ih], perm=[1, 0])])
    for bias in (b_ih, b_hh):
        if bias is not None:
            xw = b.node("Add", [xw, bias])
    w_hh_t = b.node("Transpose", [w_hh], perm=[1, 0])
    zero = b.const(np.asarray([0], np.int64))
    hs = [None] * T
    for t in range(T - 1, -1, -1) if op.reverse else range(T):
        xt = b.node("Squeeze", [b.node("Gather", [xw, b.const(np.asarray([t], np.int64))], axis=0), zero])
        h = b.node("Relu" if op.relu else "Tanh", [b.node("Add", [xt, b.node("MatMul", [h, w_hh_t])])])
        hs[t] = h
    return b.node("Concat", [b.node("Unsqueeze", [s, zero]) for s in hs], axis=0)


# op class name -> emitter(builder, op, input names) -> output name
OPS: dict[str, Callable[[Any, Any, list], str]] = {
    "Add": _same("Add"),
    "Sub": _same("Sub"),
    "Mul": _same("Mul"),
    "Div": _same("Div"),
    "Pow": _same("Pow"),
    "Neg": _same("Neg"),
    "Exp": _same("Exp"),
    "Log": _same("Log"),
    "Sqrt": _same("Sqrt"),
    "Abs": _same("Abs"),
    "Tanh": _same("Tanh"),
    "Sigmoid": _same("Sigmoid"),
    "Relu": _same("Relu"),
    "Maximum": _same("Max"),
    "Minimum": _same("Min"),
    "Clone": _same("Identity"),
    "MatMul": _same("MatMul"),
    "Where": _where,
    "Clamp": _clamp,
    "Cast": _cast,
    "Linear": _linear,
    "Softmax": lambda b, op, ins: b.node("Softmax", ins, axis=op.dim),
    "LogSoftmax": lambda b, op, ins: b.node("LogSoftmax", ins, axis=op.dim),
    "Sum": _reduce("ReduceSum"),
    "Mean": _reduce("ReduceMean"),
    "Reshape": _reshape,
    "Permute": lambda b, op, ins: b.node("Transpose", ins, perm=list(op.axes)),
    "Expand": lambda b, op, ins: b.node("Expand", [ins[0], b.const(np.asarray(op.shape, np.int64))]),
    "Cat": lambda b, op, ins: b.node("Concat", ins, axis=op.dim),
    "Stack": _stack,
    # sequence models
    "Embedding": _embedding,
    "LayerNorm": _layer_norm,
    "RMSNorm": _rms_norm,
    "ScaledDotProductAttention": _attention,
    "GetItem": _getitem,
    "LSTMGates": _lstm_gates,
    "LSTMLayer": _lstm_layer,
    "GRULayer": _gru_layer,
    "RNNLayer": _rnn_layer,
}


# ------------------------------------------------------------- vision layers (issue 14)
def _conv(b, op, ins):
    x, w, bias = (list(ins) + [None])[:3]
    g = op.geom
    (p0, p1), (q0, q1) = g.padding
    attrs = dict(
        kernel_shape=list(g.kernel), strides=list(g.stride), dilations=list(g.dilation),
        pads=[p0, q0, p1, q1], group=int(g.groups),
    )  # fmt: skip
    return b.node("Conv", [x, w] + ([bias] if bias is not None else []), **attrs)


def _max_pool(b, op, ins):
    g = op.geom
    (p0, p1), (q0, q1) = g.padding  # the high pads include ceil_mode's extra: ONNX pads with −∞ too
    attrs = dict(kernel_shape=list(g.kernel), strides=list(g.stride), dilations=list(g.dilation))
    return b.node("MaxPool", ins[:1], pads=[p0, q0, p1, q1], **attrs)


def _avg_pool(b, op, ins):
    """Zero padding (with ceil_mode's extra) as an explicit Pad, so that every window lies inside the
    padded input and AveragePool divides each window's sum by the kernel's area; a Mul by
    area / divisor then gives PyTorch's divisors (count_include_pad, clipped windows, divisor_override),
    which ONNX runtimes do not all agree on at the edges."""
    g = op.geom
    (p0, p1), (q0, q1) = g.padding
    x = ins[0]
    if p0 or p1 or q0 or q1:
        pads = b.const(np.asarray([0, 0, p0, q0, 0, 0, p1, q1], np.int64))
        x = b.node("Pad", [x, pads, _c(b, op, 0.0)], mode="constant")
    y = b.node("AveragePool", [x], kernel_shape=list(g.kernel), strides=list(g.stride))
    scale = g.kernel[0] * g.kernel[1] / np.asarray(op.divisor, np.float64)
    if np.all(scale == 1):
        return y
    return b.node("Mul", [y, b.const(scale.astype(b.dtype(op.inputs[0])))])


def _separable(b, op, ins):
    """out = A_h · x · A_wᵀ (adaptive average pooling, interpolation) as two MatMuls of constants."""
    rows = b.node("MatMul", [b.const(np.ascontiguousarray(op.ah)), ins[0]])
    return b.node("MatMul", [rows, b.const(np.ascontiguousarray(op.aw.T))])


OPS.update(
    {
        "Conv": _conv,
        "MaxPool": _max_pool,
        "AvgPool": _avg_pool,
        "AdaptiveAvgPool": _separable,
        "Interpolate": _separable,
    }
)

# Modules exported as one node, whatever ops their forward records (class name -> emitter(builder,
# module, input name)): LeakyReLU's forward computes its condition outside the graph (see _where).
MODULES: dict[str, Callable[[Any, Any, str], str]] = {
    "LeakyReLU": lambda b, m, x: b.node("LeakyRelu", [x], alpha=float(m.negative_slope)),
}


# ------------------------------------------------ activations and padding (issue 13)
def _c(b, op, value) -> str:
    """A scalar constant of the op's input dtype (its first tensor input's: a Python number operand,
    as in atan2(2.0, x), has been given that dtype too)."""
    first = next((x for x in op.inputs if not isinstance(x, int | float)), op.inputs[0])
    return b.const(np.asarray(value, b.dtype(first)))


def _gelu(b, op, ins):  # opset 17 has no Gelu: x · (1 + erf(x/√2)) / 2
    x = ins[0]
    erf = b.node("Erf", [b.node("Mul", [x, _c(b, op, 1 / np.sqrt(2))])])
    return b.node("Mul", [b.node("Mul", [x, b.node("Add", [erf, _c(b, op, 1.0)])]), _c(b, op, 0.5)])


def _gelu_tanh(b, op, ins):
    x = ins[0]
    cube = b.node("Mul", [b.node("Mul", [x, x]), x])
    inner = b.node("Add", [x, b.node("Mul", [cube, _c(b, op, 0.044715)])])
    t = b.node("Tanh", [b.node("Mul", [inner, _c(b, op, np.sqrt(2 / np.pi))])])
    return b.node("Mul", [b.node("Mul", [x, b.node("Add", [t, _c(b, op, 1.0)])]), _c(b, op, 0.5)])


def _elu(b, op, ins):  # one op for elu, celu and selu: the matching ONNX node
    alpha, scale, input_scale = float(op.alpha), float(op.scale), float(op.input_scale)
    if scale == 1 and input_scale == 1:
        return b.node("Elu", ins, alpha=alpha)
    if scale == 1 and np.isclose(input_scale * alpha, 1, rtol=1e-15):
        return b.node("Celu", ins, alpha=alpha)
    if input_scale == 1:
        return b.node("Selu", ins, alpha=alpha, gamma=scale)
    b.unsupported(op, f"no ONNX node has scale={scale} with input_scale={input_scale}")
    return ""


def _softplus(b, op, ins):  # log(1 + e^(beta·x)) / beta, and x where beta·x > threshold
    x, beta = ins[0], float(op.beta)
    bx = x if beta == 1 else b.node("Mul", [x, _c(b, op, beta)])
    soft = b.node("Softplus", [bx])
    if beta != 1:
        soft = b.node("Div", [soft, _c(b, op, beta)])
    return b.node("Where", [b.node("Greater", [bx, _c(b, op, op.threshold)]), x, soft])


def _gather_pad(b, op, ins):  # reflect / replicate / circular: one Gather per padded dim
    x = ins[0]
    for dim, index, _ in op.plan:
        x = b.node("Gather", [x, b.const(np.asarray(index, np.int64))], axis=int(dim))
    return x


def _constant_pad(b, op, ins):
    pads = [int(p) for p in [w[0] for w in op.widths] + [w[1] for w in op.widths]]
    return b.node("Pad", [ins[0], b.const(np.asarray(pads, np.int64)), _c(b, op, op.value)], mode="constant")


def _glu(b, m, x):  # the two halves along dim: Slice twice, a · σ(b)
    shape = next(b.shape(xt) for mm, xt, _ in b.marks.values() if mm is m)  # the traced input's
    dim = m.dim % len(shape)
    half = shape[dim] // 2

    def part(lo, hi):
        return b.node("Slice", [x, *(b.const(np.asarray([v], np.int64)) for v in (lo, hi, dim))])

    return b.node("Mul", [part(0, half), b.node("Sigmoid", [part(half, 2 * half)])])


OPS.update({
    "Gelu": _gelu,
    "GeluTanh": _gelu_tanh,
    "Silu": lambda b, op, ins: b.node("Mul", [ins[0], b.node("Sigmoid", ins)]),
    "Mish": lambda b, op, ins: b.node("Mul", [ins[0], b.node("Tanh", [b.node("Softplus", ins)])]),
    "Elu": _elu,
    "Hardtanh": lambda b, op, ins: b.node("Clip", [ins[0], _c(b, op, op.min_val), _c(b, op, op.max_val)]),
    "Hardsigmoid": lambda b, op, ins: b.node("HardSigmoid", ins, alpha=1 / 6, beta=0.5),
    "Hardswish": lambda b, op, ins: b.node("HardSwish", ins),
    "Softshrink": lambda b, op, ins: b.node("Shrink", ins, lambd=float(op.lambd), bias=float(op.lambd)),
    "Hardshrink": lambda b, op, ins: b.node("Shrink", ins, lambd=float(op.lambd), bias=0.0),
    "Threshold": lambda b, op, ins: b.node(
        "Where", [b.node("Greater", [ins[0], _c(b, op, op.threshold)]), ins[0], _c(b, op, op.value)]
    ),
    "Prelu": lambda b, op, ins: b.node("PRelu", ins),
    "Softplus": _softplus,
    "LogSigmoid": lambda b, op, ins: b.node("Neg", [b.node("Softplus", [b.node("Neg", ins)])]),
    "ConstantPad": _constant_pad,
    "GatherPad": _gather_pad,
})  # fmt: skip
MODULES.update({
    # eval-mode RReLU is leaky_relu with the mean slope (whose condition is computed outside the graph)
    "RReLU": lambda b, m, x: b.node("LeakyRelu", [x], alpha=float((m.lower + m.upper) / 2)),
    "GLU": _glu,
})  # fmt: skip


# ----------------------------------------------------- math and linear algebra (issue 12)
def _chain(*steps: str) -> Callable:
    """Unary ops as a chain of one-input ONNX nodes (e.g. rsqrt = Reciprocal(Sqrt(x)))."""

    def emit(b, op, ins):
        x = ins[0]
        for s in steps:
            x = b.node(s, [x])
        return x

    return emit


def _scaled(onnx_type: str, attr: str, divide: bool = False) -> Callable:
    """onnx_type(x) times (or divided by) the op's constant attribute (log2 = Log(x) / ln 2)."""

    def emit(b, op, ins):
        y = ins[0] if onnx_type == "Identity" else b.node(onnx_type, ins)
        return b.node("Div" if divide else "Mul", [y, _c(b, op, getattr(op, attr))])

    return emit


def _trunc(b, op, ins):  # opset 17 has no Trunc: sign(x) · floor(|x|)
    return b.node("Mul", [b.node("Sign", ins), b.node("Floor", [b.node("Abs", ins)])])


def _round(b, op, ins):  # ONNX Round is half to even, as PyTorch's; decimals scale by 10^d first
    d = int(op.decimals)
    if d == 0:
        return b.node("Round", ins)
    if d > 0:
        ten = _c(b, op, 10.0**d)
        return b.node("Div", [b.node("Round", [b.node("Mul", [ins[0], ten])]), ten])
    ten = _c(b, op, 10.0**-d)
    return b.node("Mul", [b.node("Round", [b.node("Div", [ins[0], ten])]), ten])


def _kind(b, op) -> str:
    """The dtype kind of the op's tensor operands (a Python number operand takes theirs)."""
    return b.dtype(next(x for x in op.inputs if not isinstance(x, int | float))).kind




def _remainder(b, op, ins):
    """Python's % : for floats C's fmod plus the divisor where the signs differ (a nonzero fmod)."""
    a, d = ins
    if _kind(b, op) != "f":
        return b.node("Mod", [a, d], fmod=0)  # integer Mod takes the divisor's sign already
    m, zero = b.node("Mod", [a, d], fmod=1), _c(b, op, 0)
    differ = b.node("Xor", [b.node("Less", [m, zero]), b.node("Less", [d, zero])])
    fix = b.node("And", [b.node("Not", [b.node("Equal", [m, zero])]), differ])
    return b.node("Where", [fix, b.node("Add", [m, d]), m])


def _fmod(b, op, ins):
    return b.node("Mod", ins, fmod=1 if _kind(b, op) == "f" else 0)


def _div_rounded(b, op, ins):
    if _kind(b, op) != "f":
        from . import UnsupportedOperatorError

        raise UnsupportedOperatorError(
            "onnx.export: DivRounded (div with rounding_mode) is exported for floating tensors only"
        )
    q = b.node("Div", ins)
    return b.node("Floor", [q]) if op.mode == "floor" else _trunc(b, op, [q])


def _lerp(b, op, ins):  # the two-sided form, as the op computes it
    start, end, w = ins
    diff = b.node("Sub", [end, start])
    one, half = _c(b, op, 1.0), _c(b, op, 0.5)
    low = b.node("Add", [start, b.node("Mul", [w, diff])])
    high = b.node("Sub", [end, b.node("Mul", [diff, b.node("Sub", [one, w])])])
    return b.node("Where", [b.node("Less", [b.node("Abs", [w]), half]), low, high])


def _logit(b, op, ins):
    x = ins[0]
    if op.eps is not None:
        x = b.node("Clip", [x, _c(b, op, op.eps), _c(b, op, 1 - op.eps)])
    return b.node("Log", [b.node("Div", [x, b.node("Sub", [_c(b, op, 1.0), x])])])


def _einsum(b, op, ins):
    return b.node("Einsum", ins, equation=f"{','.join(op.subs)}->{op.to}")


OPS.update({
    **{n: _same(n) for n in ("Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
                             "Atanh", "Erf", "Floor", "Ceil", "Sign", "Reciprocal")},
    "Sgn": _same("Sign"),
    "Erfc": lambda b, op, ins: b.node("Sub", [_c(b, op, 1.0), b.node("Erf", ins)]),
    "Rsqrt": _chain("Sqrt", "Reciprocal"),
    "Square": lambda b, op, ins: b.node("Mul", [ins[0], ins[0]]),
    "Expm1": lambda b, op, ins: b.node("Sub", [b.node("Exp", ins), _c(b, op, 1.0)]),
    "Log1p": lambda b, op, ins: b.node("Log", [b.node("Add", [ins[0], _c(b, op, 1.0)])]),
    "Exp2": lambda b, op, ins: b.node("Pow", [_c(b, op, 2.0), ins[0]]),
    "Log2": _scaled("Log", "ln2", divide=True),
    "Log10": _scaled("Log", "ln10", divide=True),
    "Deg2rad": _scaled("Identity", "factor"),
    "Rad2deg": _scaled("Identity", "factor"),
    "Trunc": _trunc,
    "Frac": lambda b, op, ins: b.node("Sub", [ins[0], _trunc(b, op, ins)]),
    "Round": _round,
    "Hypot": lambda b, op, ins: b.node(
        "Sqrt", [b.node("Add", [b.node("Mul", [ins[0], ins[0]]), b.node("Mul", [ins[1], ins[1]])])]
    ),
    "Fmod": _fmod,
    "Remainder": _remainder,
    "DivRounded": _div_rounded,
    "Lerp": _lerp,
    "Logit": _logit,
    "Einsum": _einsum,
    "EinsumOne": _einsum,
})  # fmt: skip


def _atan2(b, op, ins):
    """atan(a / b) moved to the right quadrant (opset 17 has no Atan2): +π where b < 0 ≤ a, −π where
    b < 0 and a < 0, ±π/2 on the vertical axis, 0 at the origin (as np.arctan2 for finite input)."""
    a, d = ins
    zero = _c(b, op, 0.0)
    base = b.node("Atan", [b.node("Div", [a, d])])
    a_neg = b.node("Less", [a, zero])
    pi = b.node("Where", [a_neg, _c(b, op, -math.pi), _c(b, op, math.pi)])
    left = b.node("Add", [base, pi])
    axis = b.node("Where", [a_neg, _c(b, op, -math.pi / 2), _c(b, op, math.pi / 2)])
    axis = b.node("Where", [b.node("Equal", [a, zero]), zero, axis])
    right_or_left = b.node("Where", [b.node("Less", [d, zero]), left, base])
    return b.node("Where", [b.node("Equal", [d, zero]), axis, right_or_left])


def _log_add_exp(scale: float) -> Callable:
    """max + log(1 + e^(−|a − b|)) (in base e, or base 2 with scale ln 2), without overflow."""

    def emit(b, op, ins):
        a, d = ins
        gap = b.node("Neg", [b.node("Abs", [b.node("Sub", [a, d])])])
        if scale != 1.0:
            gap = b.node("Mul", [gap, _c(b, op, scale)])
        tail = b.node("Log", [b.node("Add", [_c(b, op, 1.0), b.node("Exp", [gap])])])
        if scale != 1.0:
            tail = b.node("Div", [tail, _c(b, op, scale)])
        return b.node("Add", [b.node("Max", [a, d]), tail])

    return emit


def _xlogy(b, op, ins):  # x · log y, and 0 where x == 0 (unless y is nan)
    x, y = ins
    keep = b.node("Or", [b.node("Not", [b.node("Equal", [x, _c(b, op, 0.0)])]), b.node("IsNaN", [y])])
    return b.node("Where", [keep, b.node("Mul", [x, b.node("Log", [y])]), _c(b, op, 0.0)])


def _sinc(b, op, ins):  # sin(πx) / (πx), 1 at 0
    x = ins[0]
    zero = b.node("Equal", [x, _c(b, op, 0.0)])
    px = b.node("Mul", [b.node("Where", [zero, _c(b, op, 1.0), x]), _c(b, op, math.pi)])
    return b.node("Where", [zero, _c(b, op, 1.0), b.node("Div", [b.node("Sin", [px]), px])])


def _nan_to_num(b, op, ins):
    x = ins[0]
    nan, pos, neg = np.nan_to_num(
        np.array([np.nan, np.inf, -np.inf], b.dtype(op.inputs[0])),
        nan=op.nan,
        posinf=op.posinf,
        neginf=op.neginf,
    )
    y = b.node("Where", [b.node("IsInf", [x], detect_negative=0), _c(b, op, pos), x])
    y = b.node("Where", [b.node("IsInf", [x], detect_positive=0), _c(b, op, neg), y])
    return b.node("Where", [b.node("IsNaN", [x]), _c(b, op, nan), y])


OPS.update({
    "Atan2": _atan2,
    "LogAddExp": _log_add_exp(1.0),
    "LogAddExp2": _log_add_exp(math.log(2)),
    "Xlogy": _xlogy,
    "Sinc": _sinc,
    "NanToNum": _nan_to_num,
})  # fmt: skip
