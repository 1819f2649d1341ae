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
}

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
