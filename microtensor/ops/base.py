"""The Op protocol: how every differentiable operation is written.

An op is a small class with two methods side by side:

    forward(self, *arrays) -> array
        NumPy arrays in, one NumPy array out. Non-tensor arguments (axis, shape,
        a Python scalar operand) are stored on `self` or passed through as-is.

    backward(self, g, out, *inputs) -> grad or tuple of grads (one per input)
        The vector-Jacobian product. `g` is dL/d(out). It is written with Python
        operators and the functions of `ops._xp`, which work on NumPy arrays
        *and* on Tensors: the engine calls it with arrays on the fast path, and
        with Tensors under `create_graph=True`, so every gradient is itself
        differentiable (higher-order gradients) without a second implementation.
        Return None for inputs that need no gradient (`self.needs[i]` is False).
        Arrays that forward computes only for backward go in `self.saved`,
        which the engine frees with `inputs` after backward.

`formula` holds the same rule as text, for people (explain / graph drawings).
Every concrete subclass registers itself in REGISTRY, which the test suite walks.
"""

from __future__ import annotations

import itertools
import re
from typing import ClassVar

import numpy as np

from .._anomaly import anomaly_forward
from .._grad_mode import _EPOCH
from .._grad_mode import anomaly as _anomaly
from .._grad_mode import mode as _mode
from ..tensor import Tensor, _wrap

REGISTRY: dict[str, type[Op]] = {}
_SEQ = itertools.count()  # recording numbers (next() is atomic under the GIL)


class Op:
    """A recorded operation: a node of the autograd graph."""

    # epoch: the global in-place epoch when recorded (backward checks versions against it; see
    # Tensor's in-place ops).
    # where: the user's code that created the op, captured only in anomaly mode.
    # seq: the recording number (ops recorded later have larger ones; backward visits them first).
    # arrays: the inputs' arrays as forward saw them (what backward gets on the fast path); a tuple,
    # which the cyclic GC stops tracking (a list it would traverse in every full collection).
    __slots__ = ("inputs", "arrays", "needs", "saved", "epoch", "seq", "where")
    formula: ClassVar[str] = ""
    public_name: ClassVar[str | None] = None  # the function users call, when not the class name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            REGISTRY[cls.__name__] = cls

    def __call__(self, *inputs) -> Tensor:
        """Run forward on the inputs' arrays; record self in the graph if a gradient is needed."""
        needs = None  # which inputs need a gradient; None: none do, or grad mode is off
        if len(inputs) == 1:  # the common case, without building lists
            x = inputs[0]
            if isinstance(x, Tensor):
                arrays = (x._data,)
                if x._requires_grad and _mode.enabled:
                    needs = (True,)
            else:
                arrays = (x,)
        else:
            arrays = tuple([t._data if isinstance(t, Tensor) else t for t in inputs])
            if _mode.enabled:
                needs = tuple([isinstance(t, Tensor) and t._requires_grad for t in inputs])
                if True not in needs:
                    needs = None
        try:
            out = self.forward(*arrays)
        except (ValueError, TypeError) as e:
            raise RuntimeError(self.error_message(arrays, e)) from e
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if _anomaly.enabled:
            anomaly_forward(self, out, arrays)
        if needs is None:
            return _wrap(out)
        self.record(inputs, arrays, needs)
        return _wrap(out, self)

    def record(self, inputs, arrays, needs) -> None:
        """Make self the graph node of an output computed from inputs (their arrays: `arrays`)."""
        self.inputs = inputs
        self.arrays = arrays
        self.needs = needs
        self.epoch = _EPOCH[0]
        self.seq = next(_SEQ)

    def name(self) -> str:
        return f"{type(self).__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """The ops (or None for leaves) that produced this op's inputs."""
        ins = self.inputs or ()
        return tuple(t.grad_fn if isinstance(t, Tensor) else None for t in ins)

    def error_message(self, arrays, err: Exception) -> str:
        """Name the op and its input shapes/dtypes when NumPy rejects the forward."""
        shapes = ", ".join(
            f"{tuple(a.shape)} {a.dtype}" if isinstance(a, np.ndarray) else repr(a) for a in arrays
        )
        return f"{self.op_name()}: invalid inputs [{shapes}]: {err}"

    @classmethod
    def op_name(cls) -> str:
        """The user-facing function name for messages: TakeAlongDim -> take_along_dim."""
        return cls.public_name or re.sub(r"(?<=[a-z])(?=[A-Z])", "_", cls.__name__).lower()


class _ViewOp(Op):
    """An op whose output may be a view of its first input's storage (reshape, permute, expand, basic
    indexing): such an output shares the input's version counter, so an in-place op through either
    one is seen by the graph nodes that saved the other (as PyTorch's views), and it remembers its
    base and this op (Tensor._add_view), so that an in-place op on the view rewrites the base's
    history and the view's grad_fn follows the base's (Tensor._record_inplace, _refresh_views).
    A view op's forward must be a pure function of its input array (it is replayed on the base)."""

    __slots__ = ()

    def __call__(self, x, *rest) -> Tensor:
        out = Op.__call__(self, x, *rest)
        o = out._data
        # (an empty result shares no memory, but is a view all the same, as in PyTorch)
        if o.base is not None and isinstance(x, Tensor) and (o.size == 0 or np.may_share_memory(o, x._data)):
            out._vc = x._shared_vc()
            x._add_view(out, self)
        return out


def norm_dim(dim, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) as a non-negative int, or an IndexError naming the op."""
    if isinstance(dim, Tensor):
        dim = int(dim)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n


def norm_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """dim=None, an int or a tuple of ints, as a sorted tuple of non-negative axes (None: all)."""
    if dim is None:
        return None
    dims = dim if isinstance(dim, tuple | list) else (dim,)
    axes = tuple(sorted(norm_dim(d, ndim, op) for d in dims))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
    return axes if ndim else None  # a 0-d tensor accepts dim 0 / -1 (as PyTorch): reduce its one element


def as_tensor(x, op: str) -> Tensor:
    """Accept a Tensor, a NumPy array or a Python number where an op needs a Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, bool | int | float | np.ndarray | np.generic):
        from ..tensor import _to_array

        return Tensor._wrap(_to_array(x))
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")
