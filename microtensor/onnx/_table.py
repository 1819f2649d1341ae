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


def _separable(b, op, ins):
    """out = A_h · x · A_wᵀ (adaptive average pooling, interpolation) as two MatMuls of constants."""
    rows = b.node("MatMul", [b.const(np.ascontiguousarray(op.ah)), ins[0]])
    return b.node("MatMul", [rows, b.const(np.ascontiguousarray(op.aw.T))])


OPS.update(
    {
        "Conv": _conv,
        "MaxPool": _max_pool,
        "AdaptiveAvgPool": _separable,
        "Interpolate": _separable,
    }
)

# Modules exported as one node, whatever ops their forward records (class name -> emitter(builder,
# module, input name)): LeakyReLU's forward computes its condition outside the graph (see _where).
MODULES: dict[str, Callable[[Any, Any, str], str]] = {
    "LeakyReLU": lambda b, m, x: b.node("LeakyRelu", [x], alpha=float(m.negative_slope)),
}
