"""ONNX export, as `torch.onnx.export`: run a model once, write the recorded graph as an ONNX model.

    import microtensor as mt
    model = mt.nn.Sequential(mt.nn.Linear(2, 4), mt.nn.Tanh(), mt.nn.Linear(4, 1), mt.nn.Sigmoid())
    mt.onnx.export(model, (mt.zeros(1, 2),), "xor.onnx", input_names=["x"], output_names=["p"],
                   dynamic_axes={"x": {0: "batch"}, "p": {0: "batch"}})
    # onnxruntime.InferenceSession("xor.onnx").run(None, {"x": np.ones((5, 2), np.float32)})

Needs the `onnx` package (`pip install 'microtensor[onnx]'`). The export traces: it runs a copy
of the model in eval mode on the example inputs with gradients recorded and walks the graph back
from the outputs (`grad_fn`), so what becomes ONNX is exactly the ops the example run recorded.
As with any tracer, Python control flow is frozen at the branch the example took, and values
computed outside the graph (a comparison, `.item()`, NumPy) would be frozen too: where that would
make the exported model wrong (a `where` on such a condition) the export refuses.

Covered: Linear, the activations (ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax), Flatten,
Dropout and Identity in eval mode, matmul, the elementwise ops (+, −, ·, /, **, neg, exp, log,
sqrt, abs, clamp, maximum, minimum, where, casts), sum/mean, reshape/permute/expand/cat/stack;
also GELU (both forms), SiLU, Mish, ELU/SELU/CELU, Hardtanh/ReLU6, Hardsigmoid, Hardswish,
Softplus, LogSigmoid, Soft/Hardshrink, Threshold, PReLU, RReLU (eval), GLU, Softmin, Softmax2d and
F.pad / the padding layers in every mode; and the vision layers Conv1d/2d, BatchNorm (eval mode:
its running statistics become constants), MaxPool1d/2d, AvgPool1d/2d (every divisor rule),
AdaptiveAvgPool2d and bilinear/nearest Upsample.
Any other op raises `UnsupportedOperatorError` naming it. The table in `microtensor/onnx/_table.py`
says how each op is written.
"""

from __future__ import annotations

import copy
import os
from typing import Any, BinaryIO

import numpy as np

from .. import autograd
from ..nn.module import Module
from ..tensor import Tensor
from ._table import MODULES, OPS

__all__ = ["UnsupportedOperatorError", "export"]

OPSET = 17
_IR_VERSION = 8  # the IR version of opset 17: readable by every onnxruntime since 1.10


class UnsupportedOperatorError(RuntimeError):
    """The model uses an op that has no ONNX export (or cannot be exported faithfully)."""


def export(
    model: Module,
    args: Tensor | tuple,
    f: str | os.PathLike | BinaryIO,
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_axes: dict[str, dict[int, str] | list[int]] | None = None,
    opset_version: int | None = None,
) -> None:
    """Export `model` to the ONNX file `f` by tracing one run on the example inputs `args`.

    `args` is one Tensor or a tuple of Tensors (the positional inputs of `model`). Inputs and
    outputs are named `input_names`/`output_names` (default `input`, `input_1`, ... and
    `output`, ...). `dynamic_axes` maps an input or output name to the axes whose size may
    change, as `{axis: name}` or a list of axes (e.g. `{"x": {0: "batch"}}`); every other axis
    keeps its size from the example. The model itself is not changed: the trace runs on a deep
    copy in eval mode. `opset_version` must be None or 17 (the opset the table writes).

    Raises `UnsupportedOperatorError` naming the first op without an export, ValueError for bad
    names or axes, and ImportError when the `onnx` package is missing.
    """
    try:
        import onnx
    except ImportError as e:  # the optional dependency
        raise ImportError("onnx.export needs the 'onnx' package: pip install 'microtensor[onnx]'") from e
    if opset_version not in (None, OPSET):
        raise ValueError(f"onnx.export: opset_version={opset_version!r} is not supported; use {OPSET}")
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: expected a microtensor.nn.Module, got {type(model).__name__}")
    inputs = args if isinstance(args, tuple) else (args,)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"onnx.export: example input {i} must be a Tensor, got {type(x).__name__}")
    input_names = _names(input_names, len(inputs), "input", "input_names")

    traced, marks = _prepare(model)
    example = [x.detach().clone().requires_grad_(True) if x.is_floating_point() else x for x in inputs]
    with autograd.enable_grad():
        result = traced(*example)
    outputs = result if isinstance(result, tuple | list) else (result,)
    # None outputs (e.g. `return logits, None` when no targets are given) are dropped, as torch.onnx does
    outputs = tuple(out for out in outputs if out is not None)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"onnx.export: the model's output {i} is a {type(out).__name__}, not a Tensor")
    output_names = _names(output_names, len(outputs), "output", "output_names")
    dynamic_axes = dict(dynamic_axes or {})
    unknown = sorted(set(dynamic_axes) - set(input_names) - set(output_names))
    if unknown:
        raise ValueError(
            f"onnx.export: dynamic_axes names {unknown}, which are neither input_names {input_names} "
            f"nor output_names {output_names}"
        )

    builder = _Builder(onnx, traced, example, input_names, marks)
    for name, out in zip(output_names, outputs):
        builder.output(out, name)
    graph = onnx.helper.make_graph(
        builder.nodes,
        "microtensor",
        [_value_info(onnx, name, x, dynamic_axes.get(name)) for name, x in zip(input_names, example)],
        [_value_info(onnx, name, out, dynamic_axes.get(name)) for name, out in zip(output_names, outputs)],
        builder.initializers,
    )
    proto = onnx.helper.make_model(
        graph,
        producer_name="microtensor",
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        ir_version=_IR_VERSION,
    )
    onnx.checker.check_model(proto)
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save_model(proto, os.fspath(f))


def _names(given: list[str] | None, n: int, stem: str, what: str) -> list[str]:
    default = [stem if i == 0 else f"{stem}_{i}" for i in range(n)]
    if given is None:
        return default
    given = list(given)
    if len(given) > n or len(set(given)) != len(given) or not all(isinstance(s, str) and s for s in given):
        raise ValueError(f"onnx.export: {what} must be at most {n} distinct non-empty strings, got {given!r}")
    return given + default[len(given) :]


def _prepare(model: Module) -> tuple[Module, dict[int, tuple]]:
    """A deep copy in eval mode whose modules in MODULES note (module, input, output) when called."""
    try:
        traced = copy.deepcopy(model).eval()
    except Exception as e:  # e.g. an attribute holding an open file or a lock
        raise TypeError(
            f"onnx.export: the model must be deep-copyable (the trace runs on a copy, leaving the model "
            f"as it is), but copying {type(model).__name__} failed: {type(e).__name__}: {e}"
        ) from e
    marks: dict[int, tuple] = {}
    for m in traced.modules():
        if type(m).__name__ in MODULES:
            forward = m.forward

            def noting(x, *rest, _m=m, _forward=forward):
                out = _forward(x, *rest)
                marks[id(out)] = (_m, x, out)  # keeps out alive, so its id stays unique
                return out

            object.__setattr__(m, "forward", noting)
    return traced, marks


def _value_info(onnx, name: str, t: Tensor, spec):
    dims: list[Any] = list(t.shape)
    if spec is not None:
        axes = (
            spec
            if isinstance(spec, dict)
            else {a: f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}
        )
        for axis, label in axes.items():
            if not isinstance(axis, int) or not -len(dims) <= axis < len(dims):
                raise ValueError(
                    f"onnx.export: dynamic_axes[{name!r}] names axis {axis!r}, but {name!r} has shape "
                    f"{tuple(t.shape)}"
                )
            dims[axis] = str(label)
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(t.dtype), dims)


class _Builder:
    """Walks the recorded graph from the outputs (iteratively) and collects ONNX nodes/initializers."""

    def __init__(self, onnx, model: Module, example: list[Tensor], input_names: list[str], marks: dict):
        self.onnx = onnx
        self.nodes: list = []
        self.initializers: list = []
        self.marks = marks
        self.count = 0
        self.names: dict[tuple[str, int], str] = {}
        self.inputs = {id(x): name for x, name in zip(example, input_names)}
        # some ops take an input's array rather than the Tensor (where's condition): known by identity
        self.input_arrays = {id(x._data): name for x, name in zip(example, input_names)}
        self.state = {id(t): name for name, t in model.named_parameters()}
        self.state.update((id(t), name) for name, t in model.named_buffers())

    # -------------------------------------------------------- used by the table
    def node(self, op_type: str, inputs: list, **attrs) -> str:
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(
            self.onnx.helper.make_node(
                op_type,
                ["" if i is None else i for i in inputs],
                [out],
                name=f"{op_type}_{self.count}",
                **attrs,
            )
        )
        return out

    def const(self, value: np.ndarray, name: str | None = None) -> str:
        if name is None:
            self.count += 1
            name = f"const_{self.count}"
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    @staticmethod
    def rank(t) -> int:
        return np.ndim(t._data if isinstance(t, Tensor) else t)

    @staticmethod
    def shape(t) -> tuple[int, ...]:
        return np.shape(t._data if isinstance(t, Tensor) else t)

    @staticmethod
    def dtype(t) -> np.dtype:
        return t.dtype if isinstance(t, Tensor) else np.asarray(t).dtype

    def onnx_dtype(self, dtype: np.dtype) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(dtype)

    def is_graph_value(self, t) -> bool:
        """Whether t is an input, a parameter/buffer, or computed by recorded ops from them."""
        if isinstance(t, np.ndarray):
            return id(t) in self.input_arrays
        return isinstance(t, Tensor) and (
            t.grad_fn is not None or id(t) in self.marks or id(t) in self.inputs or id(t) in self.state
        )

    def unsupported(self, op, reason: str):
        raise UnsupportedOperatorError(
            f"onnx.export: the op {type(op).__name__} cannot be exported: {reason}"
        )

    # ------------------------------------------------------------ the walk
    def _key(self, t: Tensor) -> tuple[str, int]:
        if id(t) in self.marks:
            return ("module", id(t))
        if t.grad_fn is not None:
            return ("op", id(t.grad_fn))
        return ("leaf", id(t))

    def _deps(self, t: Tensor) -> list[Tensor]:
        if id(t) in self.marks:
            return [self.marks[id(t)][1]]
        if t.grad_fn is not None:
            return [x for x in t.grad_fn.inputs if isinstance(x, Tensor)]
        return []

    def output(self, out: Tensor, name: str) -> None:
        if not self.is_graph_value(out):
            raise ValueError(
                f"onnx.export: the output {name!r} does not depend on the inputs through recorded ops "
                "(was it computed under no_grad, or from .detach()/.numpy()?)"
            )
        self.node_for_output(self.resolve(out), name)

    def node_for_output(self, value: str, name: str) -> None:
        self.nodes.append(self.onnx.helper.make_node("Identity", [value], [name], name=f"output_{name}"))

    def resolve(self, root: Tensor) -> str:
        """The ONNX name of `root`'s value, emitting whatever it depends on first (post-order)."""
        stack = [(root, False)]
        while stack:
            t, ready = stack.pop()
            key = self._key(t)
            if key in self.names:
                continue
            pending = [d for d in self._deps(t) if self._key(d) not in self.names]
            if pending and not ready:
                stack.append((t, True))
                stack.extend((d, False) for d in pending)
                continue
            self.names[key] = self._emit(t)
        return self.names[self._key(root)]

    def _emit(self, t: Tensor) -> str:
        if id(t) in self.marks:
            module, x, _ = self.marks[id(t)]
            return MODULES[type(module).__name__](self, module, self.names[self._key(x)])
        op = t.grad_fn
        if op is None:
            if id(t) in self.inputs:
                return self.inputs[id(t)]
            if id(t) in self.state:
                return self.const(t._data, self.state[id(t)])
            return self.const(t._data)  # a constant tensor the forward made (frozen, as in any trace)
        emitter = OPS.get(type(op).__name__)
        if emitter is None:
            raise UnsupportedOperatorError(
                f"onnx.export: the op {type(op).__name__} ({op.op_name()}) has no ONNX export; "
                f"supported ops: {', '.join(sorted(OPS))}"
            )
        tensors = [x for x in op.inputs if isinstance(x, Tensor)]
        scalar_dtype = next((x.dtype for x in tensors if x.dtype.kind != "b"), np.dtype(np.float32))
        ins = []
        for x in op.inputs:
            if isinstance(x, Tensor):
                ins.append(self.names[self._key(x)])
            elif x is None:
                ins.append(None)
            elif isinstance(x, np.ndarray) and id(x) in self.input_arrays:
                ins.append(self.input_arrays[id(x)])
            elif isinstance(x, np.ndarray):  # an array the forward made: frozen, as in any trace
                ins.append(self.const(x))
            else:  # a Python number operand: a constant of the tensor operands' dtype
                ins.append(self.const(np.asarray(x, scalar_dtype)))
        return emitter(self, op, ins)
