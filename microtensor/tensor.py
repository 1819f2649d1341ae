"""Tensor: a NumPy array plus the autograd fields (requires_grad, grad, grad_fn).

A Tensor made by an op while gradients are being recorded remembers that op in
`grad_fn`; `backward()` walks those records in reverse (see autograd.py). The
arithmetic itself lives in ops/: the methods here only route to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _dtypes
from ._grad_mode import _EPOCH
from ._grad_mode import mode as _mode
from .size import Size

_SCALARS = (bool, int, float)


class Tensor:
    """An n-dimensional array that can record the ops applied to it for autodiff."""

    # _vc: the version counter: None while no in-place op has touched the storage (version 0), else
    # a list shared with detach()/.data (same storage): [version, epochs of the last few in-place ops
    # (at most _VC_KEEP, so it stays small however often a parameter is updated)], where the epoch is
    # the global _EPOCH at which the op ran. See "in-place ops" below.
    __slots__ = ("_data", "grad", "grad_fn", "_requires_grad", "_meta", "_vc", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False):
        arr = _to_array(data, dtype, copy=True)
        self._data = arr
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._requires_grad = False
        self._meta = None
        self._vc = None
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(data: np.ndarray, grad_fn=None) -> Tensor:
        """Fast constructor for op results: no checks, no copy."""
        return _wrap(data if type(data) is np.ndarray else np.asarray(data), grad_fn)

    # ---------------------------------------------------------------- fields
    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's storage, outside the graph (like torch's `.data`).

        Unlike PyTorch's `.data` (but like `detach()`), it shares the version counter too, so
        in-place changes made through it are still caught by backward.
        """
        return self.detach()

    @data.setter
    def data(self, value: Tensor | np.ndarray) -> None:
        new = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = new

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self.grad_fn is not None:
            if not flag:
                raise RuntimeError(
                    "requires_grad: you can only change requires_grad of leaf tensors; "
                    "use detach() to get a tensor that does not require grad"
                )
            return
        if flag and not _dtypes.is_floating(self._data.dtype):
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, "
                f"got dtype {self._data.dtype}; convert with .float() or .double() first"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape as a Size, or the size of one dim."""
        if dim is None:
            return Size(self._data.shape)
        from .ops.base import norm_dim

        return self._data.shape[norm_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy(): can't call numpy() on a Tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self) -> bool | int | float:
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self._data.size} elements (shape {self.shape}) "
                "cannot be converted to a Python scalar; only one-element tensors can"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if _dtypes.category(self.dtype) != 1:
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data.item())

    __hash__ = object.__hash__

    def detach(self) -> Tensor:
        """The same storage (and version counter), cut out of the graph."""
        t = _wrap(self._data)
        t._vc = self._shared_vc()
        return t

    def _shared_vc(self) -> list[int]:
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    def _bump_version(self) -> None:
        """Record an in-place modification: a new global epoch, appended to the version counter."""
        _EPOCH[0] += 1
        vc = self._shared_vc()
        vc[0] += 1
        vc.append(_EPOCH[0])
        if len(vc) > _VC_KEEP + 1:
            del vc[1]

    @property
    def _version(self) -> int:
        """How many in-place ops have modified this tensor's storage (as torch's `_version`)."""
        return 0 if self._vc is None else self._vc[0]

    def to(self, dtype) -> Tensor:
        return _ew.cast(self, np.dtype(dtype))

    def float(self) -> Tensor:
        return self.to(_dtypes.float32)

    def double(self) -> Tensor:
        return self.to(_dtypes.float64)

    def half(self) -> Tensor:
        return self.to(_dtypes.float16)

    def long(self) -> Tensor:
        return self.to(_dtypes.int64)

    def int(self) -> Tensor:
        return self.to(_dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(_dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def is_floating_point(self) -> bool:
        return _dtypes.is_floating(self.dtype)

    def clone(self) -> Tensor:
        return _ew.clone(self)

    def contiguous(self) -> Tensor:
        return self

    # ------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.backward)."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._get_meta()["retain"] = True

    @property
    def retains_grad(self) -> bool:
        return bool(self._meta and self._meta.get("retain"))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        hooks = self._get_meta().setdefault("hooks", [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def _get_meta(self) -> dict:
        if self._meta is None:
            self._meta = {}
        return self._meta

    # --------------------------------------------------------------- display
    def __repr__(self) -> str:
        arr = self._data
        extras = []
        if arr.dtype not in (_dtypes.get_default_dtype(), _dtypes.int64, _dtypes.bool_) or (
            arr.size == 0 and arr.dtype != _dtypes.get_default_dtype()
        ):
            extras.append(f"dtype=microtensor.{arr.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if arr.size == 0:
            body = f"[], size={arr.shape}" if arr.ndim > 1 else "[]"
        else:
            # as PyTorch: integral floats print as `1.`, others with 4 decimals (`0.9640`, `3.5000`),
            # and so does scientific notation, which integral floats need for a range over 1000 or 1e8
            fixed = False
            if arr.dtype.kind == "f":
                finite = arr[np.isfinite(arr)]
                fixed = not np.array_equal(finite, np.round(finite))
                big = np.abs(finite[finite != 0])
                fixed = fixed or (big.size > 0 and (big.max() > 1e8 or big.max() > 1000 * big.min()))
            body = np.array2string(
                arr,
                precision=4,
                separator=", ",
                prefix="tensor(",
                threshold=1000,
                edgeitems=3,
                floatmode="fixed" if fixed else "maxprec",
            )
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return repr(self)

    # --------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(other, self)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    # ------------------------------------------------------------- in-place ops
    # Every in-place op writes into the existing storage and bumps the version counter (shared with
    # detach()/.data, which share the storage; views made by reshape/indexing get their own counter).
    # A recorded op remembers the global epoch (_EPOCH: one counter bumped by every in-place op) at
    # which it was recorded, a single store; backward compares it with the current epoch (one check
    # per node) and only if an in-place op happened since does it look for an input (or the output)
    # modified after the op was recorded, and raises naming the versions then and now.
    # Under grad mode, when self or the operand requires grad, the op is recorded as in PyTorch:
    # self's grad_fn becomes the in-place op's node, whose input is (a copy of) the previous value.
    # A leaf that requires grad can only be modified under no_grad (e.g. parameter updates).
    def _apply_inplace(self, op: str, fn: Callable, other=None) -> Tensor:
        """self <- fn(self, other), computed out of place by differentiable ops, written in place."""
        if _mode.enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                    f"(tensor of shape {self.shape}); do it under `with microtensor.no_grad():` (as "
                    "optimizers do) or write it out of place (x = x + y)"
                )
            if self._data.base is not None and isinstance(self.grad_fn, _ViewOp):
                raise RuntimeError(
                    f"{op}: in-place operation on a view (the output of {self.grad_fn.name()}, sharing "
                    f"another tensor's storage, shape {self.shape}) while recording the graph is not "
                    "supported; write into the tensor it views, clone() the view first, or do it under "
                    "`with microtensor.no_grad():`"
                )
            old = _wrap(self._data.copy(), self.grad_fn)
            res = fn(old, old if other is self else other)
            self._write(res, op)
            if res.dtype != self._data.dtype:
                res = _ew.cast(res, self._data.dtype)
            node = res.grad_fn
            self.grad_fn = node
            self._requires_grad = node is not None
            self._bump_version()
            if node is not None:
                node.epoch = _EPOCH[0]  # its output (self) is now at this version
            return self
        self._write(fn(self, other), op)
        self._bump_version()
        return self

    def _write(self, result: Tensor, op: str) -> None:
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op}: output with shape {self.shape} doesn't match the broadcast shape {result.shape}"
            )
        try:
            np.copyto(self._data, result._data, casting="same_kind")
        except TypeError as e:
            raise RuntimeError(
                f"{op}: result type {result.dtype} can't be cast to the desired output type {self.dtype}"
            ) from e

    def add_(self, other, *, alpha=1) -> Tensor:
        """self += alpha * other, in place."""
        if alpha == 1:
            return self._apply_inplace("add_", _ew.add, other)
        return self._apply_inplace("add_", lambda s, o: s + o * alpha, other)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """self -= alpha * other, in place."""
        if alpha == 1:
            return self._apply_inplace("sub_", _ew.sub, other)
        return self._apply_inplace("sub_", lambda s, o: s - o * alpha, other)

    def mul_(self, other) -> Tensor:
        return self._apply_inplace("mul_", _ew.mul, other)

    def div_(self, other) -> Tensor:
        return self._apply_inplace("div_", _ew.div, other)

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._apply_inplace("clamp_", lambda s, _: _ew.clamp(s, min, max))

    clip_ = clamp_

    def fill_(self, value) -> Tensor:
        """Set every element to value (a number or a 0-d Tensor), in place."""
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(
                f"fill_: only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions"
            )
        return self._index_put(Ellipsis, value, "fill_")

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self._index_put(Ellipsis, 0, "zero_")

    def copy_(self, src) -> Tensor:
        """Copy src (broadcast to self's shape, cast to self's dtype) into self; differentiable in src."""
        return self._index_put(Ellipsis, src, "copy_")

    def __setitem__(self, index, value) -> None:
        self._index_put(index, value, "setitem")

    def _index_put(self, index, value, op: str) -> Tensor:
        if isinstance(value, list | tuple):
            value = Tensor(value, dtype=self.dtype)
        elif not isinstance(value, Tensor | bool | int | float | np.ndarray | np.generic):
            raise TypeError(f"{op}: value must be a Tensor or a number, got {type(value).__name__}")
        if not _mode.enabled or not (
            self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
        ):  # nothing to record: write straight into the storage
            _index.setitem_array(self._data, index, value, op)
            self._bump_version()
            return self
        return self._apply_inplace(op, lambda s, v: _index.setitem(s, index, v, op), value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # -------------------------------------------------------------- comparison
    def __eq__(self, other):  # type: ignore[override]
        return _ew.compare(self, other, np.equal, "eq")

    def __ne__(self, other):  # type: ignore[override]
        return _ew.compare(self, other, np.not_equal, "ne")

    def __lt__(self, other):
        return _ew.compare(self, other, np.less, "lt")

    def __le__(self, other):
        return _ew.compare(self, other, np.less_equal, "le")

    def __gt__(self, other):
        return _ew.compare(self, other, np.greater, "gt")

    def __ge__(self, other):
        return _ew.compare(self, other, np.greater_equal, "ge")

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def __and__(self, other):
        return _ew.logical(self, other, np.bitwise_and, "and")

    def __or__(self, other):
        return _ew.logical(self, other, np.bitwise_or, "or")

    def __xor__(self, other):
        return _ew.logical(self, other, np.bitwise_xor, "xor")

    def __invert__(self):
        return _ew.logical(self, None, None, "invert")

    def logical_not(self):
        return Tensor._wrap(np.logical_not(self._data))

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reduce.all_any(self, dim, keepdim, np.all, "all")

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reduce.all_any(self, dim, keepdim, np.any, "any")

    def isnan(self) -> Tensor:
        return Tensor._wrap(np.isnan(self._data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(np.isfinite(self._data))

    # ------------------------------------------------------ differentiable ops
    def add(self, other):
        return self + other

    def sub(self, other):
        return self - other

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self**exponent

    def neg(self):
        return -self

    def matmul(self, other):
        return self @ other

    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def abs(self):
        return _ew.abs(self)

    def tanh(self):
        return _ew.tanh(self)

    def sigmoid(self):
        return _ew.sigmoid(self)

    def relu(self):
        return _ew.relu(self)

    def clamp(self, min=None, max=None):
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def sum(self, dim=None, keepdim: bool = False):
        return _reduce.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        return _reduce.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim: bool = False):
        return _reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        return _reduce.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _reduce.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return _reduce.logsumexp(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def softmax(self, dim):
        return _reduce.softmax(self, dim)

    def log_softmax(self, dim):
        return _reduce.log_softmax(self, dim)

    def reshape(self, *shape):
        return _shape.reshape(self, *shape)

    def view(self, *shape):
        return _shape.reshape(self, *shape)

    def view_as(self, other: Tensor):
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other: Tensor):
        return _shape.reshape(self, other.shape)

    def transpose(self, dim0: int, dim1: int):
        return _shape.transpose(self, dim0, dim1)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t(): expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return _shape.transpose(self, 0, -1) if self.ndim == 2 else self

    @property
    def T(self):
        return _shape.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        if self.ndim < 2:
            raise RuntimeError(f"mT: tensor must have at least 2 dimensions, got shape {self.shape}")
        return _shape.transpose(self, -2, -1)

    def permute(self, *dims):
        return _shape.permute(self, *dims)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _shape.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _shape.flatten(self, start_dim, end_dim)

    def expand(self, *sizes):
        return _shape.expand(self, *sizes)

    def expand_as(self, other: Tensor):
        return _shape.expand(self, *other.shape)

    def __getitem__(self, index):
        return _index.getitem(self, index)


_VC_KEEP = 8  # epochs kept per version counter: enough to name the expected version exactly


class _HookHandle:
    """Returned by register_hook; `remove()` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _wrap(data: np.ndarray, grad_fn=None, _new=object.__new__) -> Tensor:
    """A Tensor around an ndarray (the hot path of every op: six stores, nothing else)."""
    t = _new(Tensor)
    t._data = data
    t.grad = None
    t.grad_fn = grad_fn
    t._requires_grad = grad_fn is not None
    t._meta = None
    t._vc = None
    return t


def _to_array(data: Any, dtype: Any = None, copy: bool = False) -> np.ndarray:
    """Turn user data into an array with PyTorch's dtype rules for Python values."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
    else:
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor: could not build a tensor from {type(data).__name__}: {e}") from e
        if arr.dtype == np.float64:
            arr = arr.astype(_dtypes.get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(_dtypes.int64, copy=False)
        copy = False
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor: unsupported data of dtype {arr.dtype} ({type(data).__name__}); "
            "expected numbers, nested lists of numbers, or a bool/int/float array"
        )
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt != arr.dtype:
            return arr.astype(dt)
    return arr.copy() if copy else arr


# Late imports: the op modules need Tensor defined first.
from . import autograd as _autograd  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import index as _index  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops.base import _ViewOp  # noqa: E402
