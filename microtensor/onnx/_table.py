"""The export table: how each recorded op (by class name) and each traced module becomes ONNX nodes.

This is the only place that knows op class names and their public attributes (`dim`, `axes`,
`keepdim`, `shape`, `min`/`max`, `dtype`). An emitter gets the builder, the recorded op (or module),
and its inputs as ONNX value names (Python scalars and constant tensors already turned into
initializers, None for an absent optional input), and returns the name of its output.
"""

from __future__ import annotations

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
    H = b.shape(op.inputs[1])[-1]
    sizes = b.const(np.asarray([H] * 4, np.int64))
    parts = b.onnx.helper.make_node("Split", [a, sizes], [f"{a}_gate{k}" for k in range(4)], axis=-1)
    b.nodes.append(parts)
    i, f, g, o = (f"{a}_gate{k}" for k in range(4))
    i, f, o = (b.node("Sigmoid", [t]) for t in (i, f, o))
    cn = b.node("Add", [b.node("Mul", [f, c]), b.node("Mul", [i, b.node("Tanh", [g])])])
    return b.node("Concat", [b.node("Mul", [o, b.node("Tanh", [cn])]), cn], axis=-1)


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
    """A scalar constant of the op's input dtype."""
    return b.const(np.asarray(value, b.dtype(op.inputs[0])))


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
