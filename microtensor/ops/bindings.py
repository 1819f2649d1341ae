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

from collections.abc import Callable
from typing import NamedTuple

from . import elementwise as ew
from . import index, linalg, reduce, shape


class Binding(NamedTuple):
    """One row: `microtensor.<name>` (and `Tensor.<name>` when `method`) is `fn`, recording `ops`."""

    name: str  # the public name, as in torch
    fn: Callable  # fn(tensor, *args, **kwargs)
    method: bool  # also Tensor.name
    ops: tuple[str, ...]  # the registered Op classes it records


def _where_method(self, condition, other):
    """x.where(condition, y) is where(condition, x, y), as torch.Tensor.where."""
    return ew.where(condition, self, other)


BINDINGS: tuple[Binding, ...] = (
    # elementwise
    Binding("add", ew.add, True, ("Add",)),
    Binding("sub", ew.sub, True, ("Sub",)),
    Binding("subtract", ew.sub, True, ("Sub",)),
    Binding("mul", ew.mul, True, ("Mul",)),
    Binding("multiply", ew.mul, True, ("Mul",)),
    Binding("div", ew.div, True, ("Div",)),
    Binding("divide", ew.div, True, ("Div",)),
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
    Binding("where", ew.where, False, ("Where",)),
    Binding("where", _where_method, True, ("Where",)),
    Binding("clone", ew.clone, False, ("Clone",)),  # Tensor.clone is tensor.py's (a copy of the storage)
    # linear algebra
    Binding("matmul", linalg.matmul, True, ("MatMul",)),
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
    # indexing
    Binding("getitem", index.getitem, False, ("GetItem",)),
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
}


def functions() -> dict[str, Callable]:
    """The public functions, by name (what `microtensor/__init__.py` exports)."""
    return {b.name: b.fn for b in BINDINGS if not b.method or b.fn is not _where_method}


def methods() -> dict[str, Callable]:
    """The Tensor methods, by name (what tensor.py installs)."""
    return {b.name: b.fn for b in BINDINGS if b.method}


def install_methods(cls) -> None:
    """Bind methods() on the Tensor class (a method written in tensor.py itself takes precedence)."""
    for name, fn in methods().items():
        if name not in cls.__dict__:
            setattr(cls, name, fn)
