"""Tensor: a NumPy array plus the autograd fields (requires_grad, grad, grad_fn).

A Tensor made by an op while gradients are being recorded remembers that op in
`grad_fn`; `backward()` walks those records in reverse (see autograd/). The
arithmetic itself lives in ops/: the methods here only route to it.
"""

from __future__ import annotations

import copy
import math
import sys
import weakref
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import numpy as np

from . import _dtypes
from ._grad_mode import _EPOCH
from ._grad_mode import mode as _mode
from ._tensor_str import PRINT_OPTIONS
from .size import Size

_SCALARS = (bool, int, float)


class Tensor:
    """An n-dimensional array that can record the ops applied to it for autodiff."""

    # _vc: the version counter: None while no in-place op has touched the storage (version 0), else
    # a list shared with detach()/.data (same storage): [version, epochs of the last few in-place ops
    # (at most _VC_KEEP, so it stays small however often a parameter is updated)], where the epoch is
    # the global _EPOCH at which the op ran. See "in-place ops" below.
    # a dict: its values are the slots' docstrings (help(), the API reference)
    __slots__ = {
        "_data": None,
        "_grad": None,
        "grad_fn": "The recorded op that produced this tensor (None for leaves and outside autograd).",
        "_requires_grad": None,
        "_meta": None,
        "_vc": None,
        "__weakref__": None,
    }
    __array_priority__ = 1000
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False):
        arr = _to_array(data, dtype, copy=True)
        self._data = arr
        self._grad: Tensor | None = None
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
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # checked as PyTorch does; the engine may store into `_grad` directly (its gradients already
        # have the right shape and dtype)
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"grad: assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__module__}.{type(value).__name__}".replace("builtins.", "")
                )
            if value is self:
                raise RuntimeError("grad: can't assign a tensor as its own grad")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"grad: attempting to assign a gradient of shape {value.shape} to a tensor of shape "
                    f"{self.shape}; the gradient and the tensor must have the same shape"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"grad: attempting to assign a gradient with dtype {value.dtype} to a tensor with "
                    f"dtype {self.dtype}; the gradient and the tensor must have the same dtype "
                    f"(convert it with .to(microtensor.{self.dtype}))"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor (settable on leaves; floating dtypes only).

        Example:

            >>> w = mt.zeros(3); w.requires_grad = True; (w * 2).requires_grad
            True
        """
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
        """Set `requires_grad` in place and return self (for chaining).

        Example:

            >>> mt.ones(2).requires_grad_().requires_grad
            True
        """
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a tensor not produced by a recorded op (user-created, or requires_grad=False);
        only leaves get `.grad` filled by backward unless `retain_grad()` is called.

            >>> w = mt.ones(2, requires_grad=True); w.is_leaf, (w * 2).is_leaf
            (True, False)
        """
        return self.grad_fn is None

    @property
    def shape(self) -> Size:
        """The dimensions as a Size (a tuple subclass), e.g. torch.Size([2, 3]); same as `size()`.

        Example:

            >>> mt.zeros(2, 3).shape == (2, 3)
            True
        """
        return Size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        """The element type, a NumPy dtype (`mt.float32`, `mt.int64`, ...).

        Example:

            >>> mt.tensor([1.0]).dtype == mt.float32, mt.tensor([1]).dtype == mt.int64
            (True, True)
        """
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions (0 for a scalar tensor); same as `dim()`."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions (0 for a scalar tensor).

        Example:

            >>> mt.zeros(2, 3).dim()
            2
        """
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape as a Size, or the size of one dim."""
        if dim is None:
            return Size(self._data.shape)
        from .ops.base import norm_dim

        return self._data.shape[norm_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        """The number of elements, the product of the shape.

        Example:

            >>> mt.zeros(2, 3).numel()
            6
        """
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
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The tensor's NumPy array itself: shared memory, so writes to one show in the other.

        As in PyTorch, refused for a tensor that requires grad (a write through the array would
        go unseen by autograd) unless `force=True`, which means `self.detach().numpy()`.

            t = mt.zeros(3); a = t.numpy(); a[0] = 1.0   # t is now [1, 0, 0]
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "numpy(): can't call numpy() on a Tensor that requires grad; "
                "use tensor.detach().numpy() (or numpy(force=True)) instead"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        """NumPy's conversion protocol: `np.asarray(t)` shares memory with `t`, `np.array(t)` copies.

        `copy=None` (np.asarray) returns the tensor's own array unless `dtype` asks for another
        dtype; `copy=True` (np.array) always returns a new array; `copy=False` never copies and
        raises ValueError when a dtype conversion would need one. A tensor that requires grad is
        refused, as by `numpy()`. Tensor deliberately has no `__array_interface__` (neither has
        torch.Tensor): NumPy would read the memory through it without that check.
        """
        arr = self.numpy()
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError(
                    f"__array__: converting a {arr.dtype} tensor to {np.dtype(dtype)} needs a copy, "
                    "but copy=False was requested"
                )
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export: `torch.from_dlpack(t)` or `np.from_dlpack(t)` share this tensor's memory.

        Keywords as in the array API standard; microtensor lives on the CPU, so `stream` must be
        None. A tensor that requires grad is refused with BufferError (as in PyTorch): detach it.
        """
        if self._requires_grad:
            raise BufferError("__dlpack__: can't export a tensor that requires grad; use tensor.detach()")
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy}
        # NumPy before 2.1 only knows `stream`: pass only what the caller set
        return self._data.__dlpack__(**{k: v for k, v in given.items() if v is not None})

    def __dlpack_device__(self) -> tuple[int, int]:
        """(1, 0): DLPack's code for CPU memory, device 0."""
        return self._data.__dlpack_device__()

    def item(self) -> bool | int | float:
        """The value of a one-element tensor as a Python number (bool, int or float).

        Example:

            >>> mt.tensor([[2.5]]).item()
            2.5
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self._data.size} elements (shape {self.shape}) "
                "cannot be converted to a Python scalar; only one-element tensors can"
            )
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number.

        Example:

            >>> mt.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
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
        meta = self._meta
        if meta is not None:  # a base or a view: its base's views get their grad_fn from the new history
            info = meta.get("view")
            (self if info is None else info.base)._refresh_views()

    def _data_for_write(self) -> np.ndarray:
        """The door for library code outside the op layer that writes a tensor's storage in place.

        Initialisers, load_state_dict, optimizer steps and the like call it right before each write:
        it bumps the version counter (shared with this tensor's views and detach()), so a graph that
        saved this tensor earlier refuses to backward through the new values (as PyTorch's in-place
        writes), then returns the storage array to write into, e.g.
        `np.copyto(p._data_for_write(), values)` or `a = p._data_for_write(); a -= lr * g`.
        Check everything first: a write that is then refused must leave the tensor unchanged.
        (`copy_`/`fill_`/`zero_` under `no_grad()` go through the same counter.)
        """
        self._bump_version()
        return self._data

    @property
    def _version(self) -> int:
        """How many in-place ops have modified this tensor's storage (as torch's `_version`)."""
        return 0 if self._vc is None else self._vc[0]

    # ------------------------------------------------- device (CPU only) and in-place random fills
    @property
    def device(self) -> _device.device:
        """Where the data lives: always device(type='cpu')."""
        return _device.CPU

    @property
    def is_cuda(self) -> bool:
        """False: microtensor tensors live on the CPU."""
        return False

    def to(self, *args, **kwargs) -> Tensor:
        """This tensor in another dtype (self if nothing changes and copy is False).

        to(dtype), to(device, dtype), to(other_tensor), to(dtype=..., device=..., copy=..., non_blocking=...)
        as PyTorch; the device must be the CPU ("cpu", "cpu:0", mt.device("cpu")). Differentiable
        between float dtypes.

            x.to("cpu") is x;  x.to(mt.float64);  x.to("cpu", mt.float64);  x.to(y)   # y's dtype
        """
        dtype, copy = _device._parse_to(args, kwargs, "to")
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return _ew.clone(self) if copy else self
        return _ew.cast(self, np.dtype(dtype))

    def cpu(self, memory_format=None) -> Tensor:
        """self: the data is already on the CPU."""
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """Refuse: microtensor has no CUDA device."""
        _device._refuse("CUDA", "cuda")

    def pin_memory(self, device=None) -> Tensor:
        """self: pinned memory only matters for copies to a GPU, which microtensor has not."""
        return self

    def is_pinned(self, device=None) -> bool:
        """False: no page-locked memory is used."""
        return False

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator=None) -> Tensor:
        """Fill with uniform samples on [from_, to), in place; PyTorch's numbers per seed (see mt.rand)."""
        return _random.uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
        """Fill with samples of N(mean, std**2), in place; PyTorch's numbers per seed (see mt.randn)."""
        return _random.normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
        """Fill with 0/1, 1 with probability p (a float or a broadcastable Tensor), in place."""
        return _random.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator=None) -> Tensor:
        """Fill with samples of Exp(lambd), in place."""
        return _random.exponential_(self, lambd, generator=generator)

    def random_(self, from_=0, to=None, *, generator=None) -> Tensor:
        """Fill with integers on [from_, to), in place (random_(to): from 0; random_(): the dtype's range)."""
        return _random.random_(self, from_, to, generator=generator)

    def geometric_(self, p: float, *, generator=None) -> Tensor:
        """Fill with Geometric(p) samples (1, 2, ...), in place."""
        return _random.geometric_(self, p, generator=generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
        """Fill with exp(N(mean, std**2)) samples, in place."""
        return _random.log_normal_(self, mean, std, generator=generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
        """Fill with Cauchy(median, sigma) samples, in place."""
        return _random.cauchy_(self, median, sigma, generator=generator)

    def float(self) -> Tensor:
        """A float32 copy (self when already float32); differentiable."""
        return self.to(_dtypes.float32)

    def double(self) -> Tensor:
        """A float64 copy (self when already float64); differentiable."""
        return self.to(_dtypes.float64)

    def half(self) -> Tensor:
        """A float16 copy (self when already float16); differentiable."""
        return self.to(_dtypes.float16)

    def long(self) -> Tensor:
        """An int64 copy (self when already int64); floating values are truncated toward zero."""
        return self.to(_dtypes.int64)

    def int(self) -> Tensor:
        """An int32 copy (self when already int32); floating values are truncated toward zero."""
        return self.to(_dtypes.int32)

    def bool(self) -> Tensor:
        """A bool copy: nonzero elements become True."""
        return self.to(_dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """self converted to `other`'s dtype (self when it already has it).

        Example:

            >>> mt.tensor([1, 2]).type_as(mt.zeros(1)).dtype == mt.float32
            True
        """
        return self.to(other.dtype)

    def is_floating_point(self) -> bool:
        """True for a floating dtype (float16/32/64)."""
        return _dtypes.is_floating(self.dtype)

    def clone(self) -> Tensor:
        return _ew.clone(self)

    def contiguous(self) -> Tensor:
        """self if its elements are laid out in row-major order, else a row-major copy (differentiable).

        `x.t().contiguous()` is a new tensor: writing into it leaves `x` alone, as in PyTorch.
        """
        if self._data.flags.c_contiguous:
            return self
        return _ew.clone(self)  # Clone copies in C order

    def is_contiguous(self) -> bool:
        """Whether the elements are laid out in row-major order (size-1 dims ignored, as PyTorch).

        `mt.ones(2, 3).is_contiguous()` is True; `mt.ones(2, 3).t().is_contiguous()` is False.
        """
        return self._data.flags.c_contiguous

    def stride(self, dim: int | None = None):
        """The step in elements between neighbours along each dim (`stride(dim)`: one dim's step).

        `mt.ones(2, 3).stride()` is `(3, 1)`; its transpose's is `(1, 3)`; an expanded dim's is 0.
        """
        size = self._data.itemsize
        if dim is None:
            return tuple(s // size for s in self._data.strides)
        from .ops.base import norm_dim

        if self._data.ndim == 0:
            raise IndexError(f"stride: a 0-d tensor has no dim {dim}")
        return self._data.strides[norm_dim(dim, self._data.ndim, "stride")] // size

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
        """True if `retain_grad()` was called on this non-leaf tensor (its `.grad` is kept)."""
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

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """Call `hook(self)` after backward() has accumulated a gradient into this leaf's `.grad`
        (e.g. to step an optimizer per parameter during backward). Leaves that require grad only."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that doesn't "
                "require gradient"
            )
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on "
                f"non-leaf tensors (this one was made by {self.grad_fn.name()})"
            )
        hooks = self._get_meta().setdefault("post_accumulate_hooks", [])
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
            opts = PRINT_OPTIONS
            fixed, sci, precision = False, opts["sci_mode"], opts["precision"]
            if arr.dtype.kind == "f":
                finite = arr[np.isfinite(arr)]
                fixed = not np.array_equal(finite, np.round(finite))
                big = np.abs(finite[finite != 0])
                fixed = fixed or (big.size > 0 and (big.max() > 1e8 or big.max() > 1000 * big.min()))
            threshold = opts["threshold"]
            body = np.array2string(
                arr,
                precision=precision,
                separator=", ",
                prefix="tensor(",
                threshold=sys.maxsize if threshold == math.inf else int(threshold),
                edgeitems=opts["edgeitems"],
                max_line_width=opts["linewidth"],
                floatmode="fixed" if fixed or sci is False else "maxprec",
                suppress_small=sci is False,
                formatter={"float_kind": _sci_formatter(arr, precision)} if sci else None,
            )
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __format__(self, spec: str) -> str:
        # as PyTorch: a 0-dim plain Tensor formats as its number (f"{t}" == "0.5"); others as repr
        if self._data.ndim == 0 and (spec or type(self) is Tensor):
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

    def __floordiv__(self, other):
        return _math.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _math.floor_divide(other, self)

    def __mod__(self, other):
        return _math.remainder(self, other)

    def __rmod__(self, other):
        return _math.remainder(other, self)

    def __lshift__(self, other):
        return _math.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return _math.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return _math.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return _math.bitwise_right_shift(other, self)

    # ------------------------------------------------------------- in-place ops
    # Every in-place op writes into the existing storage and bumps the version counter (shared with
    # detach()/.data and with views, which share the storage). A recorded op remembers the global
    # epoch (_EPOCH: one counter bumped by every in-place op) at which it was recorded, a single
    # store; backward compares it with the current epoch (one check per node) and only if an in-place
    # op happened since does it look for an input (or the output) modified after the op was
    # recorded, and raises naming the versions then and now.
    # Under grad mode, when self or the operand requires grad, the op is recorded as in PyTorch:
    # self's grad_fn becomes the in-place op's node, whose input is a copy of the previous value (so
    # the nodes recorded before read the values they saw). A leaf that requires grad (or a view of
    # one) can only be modified under no_grad (e.g. parameter updates).
    # Views (see _ViewOp) know their base (the tensor that owns the storage) and the view ops that
    # lead from it. An in-place op on a view is, for the base, "the base with that region replaced by
    # f(region)" (PyTorch's CopySlices): the base's grad_fn becomes a SetItem of the new region into
    # (a copy of) the old base. After any in-place op on a base or one of its views, every live view
    # of that base that is part of the graph gets a fresh grad_fn: its view ops replayed on the base's
    # new history (PyTorch regenerates a view's grad_fn the same way), so backward through a view
    # always reaches the base's latest history.
    def _apply_inplace(self, op: str, fn: Callable, other=None) -> Tensor:
        """self <- fn(self, other), computed out of place by differentiable ops, written in place."""
        info = self._meta.get("view") if self._meta is not None else None
        if _mode.enabled and (
            self._requires_grad
            or (isinstance(other, Tensor) and other._requires_grad)
            or (info is not None and info.base._requires_grad)
        ):
            return self._record_inplace(op, fn, other, info)
        if info is not None and op not in _OVERLAP_OK and _overlaps(self._data):
            raise RuntimeError(_overlap_message(op, self.shape))
        res = fn(self, other)
        if info is None or self._data.flags.writeable:
            self._write(res, op)
        else:  # a read-only (expanded) view: write the region through its base
            self._check_result(res, op)
            _write_region(info, Ellipsis, res, op)
        self._bump_version()
        return self

    def _record_inplace(self, op: str, fn, other, info: _ViewInfo | None, index=None) -> Tensor:
        """The recorded in-place op: self's (or, for a view, its base's) history gains fn's node.

        For a view, `index` (given by setitem/fill_/zero_/copy_, None for arithmetic) means: write
        `other` at self[index], i.e. at those positions of the base.
        """
        if info is None and self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                f"(tensor of shape {self.shape}); do it under `with microtensor.no_grad():` (as "
                "optimizers do) or write it out of place (x = x + y)"
            )
        base = self if info is None else info.base
        region = None
        if info is not None:
            if base.grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
                    f"operation (a view of shape {self.shape} of a leaf of shape {base.shape}); do it "
                    "under `with microtensor.no_grad():` or write into a clone()"
                )
            if info.stale():
                raise RuntimeError(_no_grad_view_message(op, self.shape))
            if not info.grad_mode:
                raise RuntimeError(
                    f"{op}: a view was created in no_grad mode and is being modified inplace with grad "
                    f"mode enabled (a view of shape {self.shape} of a tensor of shape {base.shape}); "
                    "this is ambiguous and forbidden: make both the view and the in-place op inside "
                    "no_grad, or both outside it, or write into a clone() of the view"
                )
            region = _region(info)
            if index is not None:
                # validate index and value on a stand-in of the view's shape: errors name the view
                _index.setitem_array(np.empty(self.shape, self.dtype), index, other, op)
                region = region[_index._normalize(index)]
            # several written positions sharing one memory location (an expanded view): PyTorch
            # refuses this while recording
            constant = index is not None and not (isinstance(other, Tensor) and other._requires_grad)
            if (
                not (op == "copy_" and other is self)  # (a no-op, which PyTorch allows)
                and not constant  # (writing a constant to a shared location is fine, as in PyTorch)
                and _overlaps(self._data)
                and np.unique(region).size < region.size
            ):
                raise RuntimeError(_overlap_message(op, self.shape))
        # The operation reads the values as they are now, with the history they have now: a copy of
        # the base (later writes cannot reach it) and, for a view, the view ops replayed on that copy.
        old_base = _wrap(base._data.copy(), base.grad_fn)
        # the copy keeps the version history up to now (not later writes): the node that made these
        # values still refuses backward if they were changed after it was recorded (a no_grad write,
        # a write through detach()), instead of reading the changed values from the copy
        old_base._vc = None if base._vc is None else list(base._vc)
        operand = _operand(other, base, old_base)
        aliased = isinstance(other, Tensor) and (
            other is base or (base._vc is not None and other._vc is base._vc)
        )  # the operand is the storage being written (the target, a view of it, a detach() of it)
        fn_node = None
        if region is not None and index is not None:  # the base with other written at the region
            res = _index.setitem(_shape.reshape(old_base, (-1,)), (region,), operand, op)
            res = _shape.reshape(res, base.shape)
        else:
            old = old_base if info is None else _replay(info.ops, old_base)
            res = fn(old, operand)
            fn_node = res.grad_fn
            self._check_result(res, op)
            if res.dtype != self._data.dtype:
                res = _ew.cast(res, self._data.dtype)
            if info is not None:  # the base with the view's region replaced by res (CopySlices)
                res = _index.setitem(_shape.reshape(old_base, (-1,)), (region,), res, op)
                res = _shape.reshape(res, base.shape)
        np.copyto(base._data, res._data, casting="unsafe")
        node = res.grad_fn
        if old_base.grad_fn is not None:
            _remember_history(base, old_base)
        base.grad_fn = node
        base._requires_grad = node is not None
        base._bump_version()  # also gives self (when a view) and every other view its new grad_fn
        if node is not None:
            node.epoch = _EPOCH[0]  # its output (the base) is now at this version
        if aliased and fn_node is not None:
            _overwritten_operand(fn_node, operand, base)
        return self

    def _check_result(self, result: Tensor, op: str) -> None:
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op}: output with shape {self.shape} doesn't match the broadcast shape {result.shape}"
            )
        if not _can_cast(result._data.dtype, self._data.dtype):
            raise RuntimeError(
                f"{op}: result type {result.dtype} can't be cast to the desired output type {self.dtype}"
            )

    def _write(self, result: Tensor, op: str) -> None:
        self._check_result(result, op)
        np.copyto(self._data, result._data, casting="unsafe")  # (allowed by _can_cast: PyTorch's rule)

    def _add_view(self, view: Tensor, op) -> None:
        """Make `view` (op's output, sharing self's storage) a view of self's base (see _ViewOp)."""
        info = self._meta.get("view") if self._meta is not None else None
        if info is None:
            base, ops, grad_mode = self, (op,), _mode.enabled
        elif _mode.enabled and info.stale():
            raise RuntimeError(_no_grad_view_message(op.op_name(), self.shape))
        else:  # a view of a view made under no_grad is one too (as PyTorch's creation_meta)
            base, ops, grad_mode = info.base, (*info.ops, op), _mode.enabled and info.grad_mode
        view._get_meta()["view"] = _ViewInfo(base, ops, grad_mode)
        views = base._get_meta().get("views")
        if views is None:
            views = base._meta["views"] = weakref.WeakSet()
        views.add(view)

    def _refresh_views(self) -> None:
        """Give each live view of self (a base) that is in the graph a grad_fn from self's history."""
        views = self._meta.get("views")
        if not views:
            return
        prev = _mode.enabled
        _mode.enabled = True  # a view's history is rebuilt even when the write ran under no_grad
        try:
            for v in list(views):
                info = v._meta["view"]
                if info.base is not self:  # a deep copy's views are the original's
                    continue
                if not info.grad_mode:  # views made under no_grad stay out of the graph
                    continue
                if v._requires_grad or self._requires_grad:
                    fresh = _replay(info.ops, self)
                    v.grad_fn = fresh.grad_fn
                    v._requires_grad = fresh._requires_grad
        finally:
            _mode.enabled = prev

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
        """self *= other, in place (broadcast to self's shape); returns self."""
        return self._apply_inplace("mul_", _ew.mul, other)

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        """self /= other, in place (broadcast to self's shape); returns self. rounding_mode as div's."""
        if rounding_mode is None:
            return self._apply_inplace("div_", _ew.div, other)
        return self._apply_inplace("div_", lambda s, o: _math.div(s, o, rounding_mode=rounding_mode), other)

    def clamp_(self, min=None, max=None) -> Tensor:
        """Clamp self to [min, max] in place (either bound may be None); returns self. `clip_` is the same."""
        if min is None and max is None:  # the arguments are checked before the write, as in PyTorch
            raise RuntimeError("clamp_: at least one of 'min' or 'max' must not be None")
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
        info = self._meta.get("view") if self._meta is not None else None
        if not _mode.enabled or not (
            self._requires_grad
            or (isinstance(value, Tensor) and value._requires_grad)
            or (info is not None and info.base._requires_grad)
        ):  # nothing to record: write straight into the storage
            if info is not None and op == "copy_" and value is not self and _overlaps(self._data):
                raise RuntimeError(_overlap_message(op, self.shape))
            if info is None or self._data.flags.writeable:
                _index.setitem_array(self._data, index, value, op)
            else:  # a read-only (expanded) view: write the indexed positions through its base
                _write_region(info, index, value, op)
            self._bump_version()
            return self
        if info is not None:  # recording a write into a view: a write of the same positions of its base
            return self._record_inplace(op, None, value, info, index)
        return self._apply_inplace(op, lambda s, v: _index.setitem(s, index, v, op), value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        return self.bitwise_right_shift_(other)

    # (no __imatmul__, as in PyTorch: `x @= y` rebinds x to the new tensor x @ y)

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
        """Elementwise self == other as a bool tensor (broadcasting); same as the `==` operator."""
        return self == other

    def ne(self, other):
        """Elementwise self != other as a bool tensor (broadcasting); same as the `!=` operator."""
        return self != other

    def lt(self, other):
        """Elementwise self < other as a bool tensor (broadcasting); same as the `<` operator."""
        return self < other

    def le(self, other):
        """Elementwise self <= other as a bool tensor (broadcasting); same as the `<=` operator."""
        return self <= other

    def gt(self, other):
        """Elementwise self > other as a bool tensor (broadcasting); same as the `>` operator."""
        return self > other

    def ge(self, other):
        """Elementwise self >= other as a bool tensor (broadcasting); same as the `>=` operator."""
        return self >= other

    def __and__(self, other):
        return _ew.logical(self, other, np.bitwise_and, "and")

    def __or__(self, other):
        return _ew.logical(self, other, np.bitwise_or, "or")

    def __xor__(self, other):
        return _ew.logical(self, other, np.bitwise_xor, "xor")

    # `number & tensor`: and, or and xor commute (the dtype promotion too)
    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __invert__(self):
        return _ew.logical(self, None, None, "invert")

    def logical_not(self):
        """Elementwise logical NOT as a bool tensor (zero -> True, nonzero -> False)."""
        return Tensor._wrap(np.logical_not(self._data))

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """True where all elements are nonzero: over the whole tensor, or along `dim` (bool tensor).

        Example:

            >>> mt.tensor([[1, 0], [1, 1]]).all(dim=1).tolist()
            [False, True]
        """
        return _reduce.all_any(self, dim, keepdim, np.all, "all")

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """True where any element is nonzero: over the whole tensor, or along `dim` (bool tensor).

        Example:

            >>> mt.tensor([[0, 0], [1, 0]]).any(dim=1).tolist()
            [False, True]
        """
        return _reduce.all_any(self, dim, keepdim, np.any, "any")

    def isnan(self) -> Tensor:
        """Elementwise test for NaN, as a bool tensor of self's shape."""
        return Tensor._wrap(np.isnan(self._data))

    def isfinite(self) -> Tensor:
        """Elementwise test for a finite value (not inf, -inf or NaN), as a bool tensor."""
        return Tensor._wrap(np.isfinite(self._data))

    # ------------------------------------------------------ differentiable ops
    # add, exp, sum, reshape, ... are bound from the table in ops/bindings.py (end of this module);
    # the methods below differ from their function's signature.
    def view(self, *shape):
        """The same storage seen with another shape; raises when the strides do not allow it (see reshape)."""
        return _shape.view(self, *shape)

    def view_as(self, other: Tensor):
        """A view of self with `other`'s shape (see `view`)."""
        return _shape.view(self, other.shape)

    def reshape_as(self, other: Tensor):
        """self reshaped to `other`'s shape (a view when possible, see `reshape`)."""
        return _shape.reshape(self, other.shape)

    def t(self):
        """The transpose of a tensor with at most 2 dims (0-D and 1-D are returned as they are).

        Example:

            >>> mt.zeros(2, 3).t().shape == (3, 2)
            True
        """
        if self.ndim > 2:
            raise RuntimeError(f"t(): expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return _shape.transpose(self, 0, -1) if self.ndim == 2 else self

    @property
    def T(self):
        """A view with all dims reversed (the matrix transpose for 2-D)."""
        return _shape.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        """A view with the last two dims swapped (the batched matrix transpose).

        Example:

            >>> mt.zeros(5, 2, 3).mT.shape == (5, 3, 2)
            True
        """
        if self.ndim < 2:
            raise RuntimeError(f"mT: tensor must have at least 2 dimensions, got shape {self.shape}")
        return _shape.transpose(self, -2, -1)

    def expand_as(self, other: Tensor):
        """A broadcast view of self with `other`'s shape (no copy; see `expand`)."""
        return _shape.expand(self, *other.shape)

    def __getitem__(self, index):
        return _index.getitem(self, index)


_VC_KEEP = 8  # epochs kept per version counter: enough to name the expected version exactly


class _ViewInfo:
    """What a view knows (in its _meta["view"]): the tensor owning the storage (`base`, never itself
    a view), the view ops that lead from base to the view, and whether grad mode was on when the
    view was made (views made under no_grad stay out of the graph, as in PyTorch)."""

    __slots__ = ("base", "ops", "grad_mode", "version")

    def __init__(self, base: Tensor, ops: tuple, grad_mode: bool):
        self.base, self.ops, self.grad_mode = base, ops, grad_mode
        self.version = base._version  # the storage's version when the view was made

    def stale(self) -> bool:
        """A view made under no_grad of a tensor that requires grad, whose storage was written
        since: PyTorch refuses to record anything with it (whether it should see the write's
        history is ambiguous); microtensor refuses views of it and in-place ops on it."""
        return not self.grad_mode and self.base._requires_grad and self.base._version != self.version


def _sci_formatter(arr: np.ndarray, precision: int):
    """Every element in scientific notation, right-aligned to the widest (for sci_mode=True)."""
    finite = np.abs(arr[np.isfinite(arr)])
    samples = [finite.max(), finite[finite > 0].min(initial=np.inf)] if finite.size else []
    width = max((len(f"{v:.{precision}e}") for v in samples if np.isfinite(v)), default=0)
    width += bool((arr < 0).any())
    return lambda v: f"{v:.{precision}e}".rjust(width)


def _remember_history(base: Tensor, old: Tensor) -> None:
    """Note that an in-place op replaced base's history, keeping `old` (its values and history then).

    Ops recorded earlier with base as input must send their gradient to the old history, as
    PyTorch's edges point at the node that made the values they saw; backward finds it here (see
    autograd._earlier_history). Held weakly: the new node keeps `old` alive while the graph lives.
    """
    kept = base._get_meta().setdefault("replaced", [])
    kept[:] = [(e, r) for e, r in kept if r() is not None]
    kept.append((_EPOCH[0] + 1, weakref.ref(old)))  # the epoch the write's version bump gets


def _no_grad_view_message(op: str, shape) -> str:
    return (
        f"{op}: a view was created in no_grad mode and its base or another view of its base has been "
        f"modified inplace with grad mode enabled (a view of shape {shape}); this is ambiguous and "
        "forbidden: make both the view and the in-place op inside no_grad, or both outside it"
    )


def _replay(ops: tuple, t: Tensor) -> Tensor:
    """The view ops applied again to t (recorded if t requires grad), without registering views."""
    for op in ops:
        t = _Op.__call__(copy.copy(op), t)
    return t


def _region(info: _ViewInfo) -> np.ndarray:
    """The flat (C-order) index into the base of each element of the view, in the view's shape."""
    a = np.arange(info.base._data.size).reshape(info.base.shape)
    for op in info.ops:
        a = op.forward(a)
    return a


def _write_region(info: _ViewInfo, index, value, op: str) -> None:
    """view[index] = value for a read-only (expanded) view, written into its base's storage."""
    region = _region(info)
    try:
        region = region[_index._normalize(index)]
        vals = value._data if isinstance(value, Tensor) else np.asarray(value)
        vals = np.broadcast_to(vals.astype(info.base.dtype, copy=False), region.shape)
    except (IndexError, ValueError, TypeError) as e:
        raise _index._setitem_error(region.shape, index, value, op, e) from e
    info.base._data.flat[region.ravel()] = vals.ravel()


def _overlaps(arr: np.ndarray) -> bool:
    """Whether several elements of arr share one memory location (an expanded view)."""
    return arr.size > 1 and any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape))


def _overlap_message(op: str, shape) -> str:
    return (
        f"{op}: unsupported operation: more than one element of the written-to tensor (shape "
        f"{shape}, an expanded view) refers to a single memory location; clone() the tensor "
        "before performing the operation"
    )


# fill_/zero_/setitem write one value per position, so PyTorch allows them on an expanded view
# (outside of recording); arithmetic and copy_ would read and write shared locations in turn.
_OVERLAP_OK = frozenset({"fill_", "zero_", "setitem"})


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """PyTorch's rule for writing a result into a tensor in place (c10::canCast): anything goes except
    floating into integral or bool, and non-bool into bool (so int64 into uint8 wraps, as in PyTorch,
    where NumPy's same_kind casting would refuse it)."""
    if src.kind == "f" and dst.kind in "iub":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def _overwritten_operand(node, operand: Tensor, base: Tensor) -> None:
    """An in-place op whose operand is the storage it writes (x.mul_(x), x.mul_(x.detach())): as
    PyTorch, whose node saved the operand before the write, backward refuses when the rule reads
    it. The operand's place in the node gets a stand-in whose version reads as changed since."""
    ks = [k for k, x in enumerate(node.inputs) if x is operand]
    if not set(ks) & set(node.read_by_backward()):
        return  # (x.add_(x): the rule reads neither, and PyTorch differentiates it)
    stand = _wrap(operand._data, operand.grad_fn)
    stand._requires_grad = operand._requires_grad
    stand._vc = [base._version, math.inf]  # written after the node was recorded, whatever the epoch
    node.inputs = tuple(stand if k in ks else x for k, x in enumerate(node.inputs))
    node.epoch = min(node.epoch, _EPOCH[0] - 1)  # so that backward checks this node's versions


def _operand(other, base: Tensor, old_base: Tensor):
    """The in-place op's operand as it is now: when it aliases the storage being written (the base
    or a view of it, the target itself included), its value and history from the copy taken
    before the write, so the recorded op does not depend on storage about to change."""
    if not isinstance(other, Tensor):
        return other
    if other is base:
        return old_base
    info = other._meta.get("view") if other._meta is not None else None
    if info is not None and info.base is base:
        return _replay(info.ops, old_base)
    return other


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
    t._grad = None
    t.grad_fn = grad_fn
    t._requires_grad = grad_fn is not None
    t._meta = None
    t._vc = None
    return t


def _to_array(data: Any, dtype: Any = None, copy: bool = False) -> np.ndarray:
    """Turn user data into an array with PyTorch's dtype rules.

    Tensors, NumPy arrays and NumPy scalars keep their dtype. Python data is read as PyTorch reads it
    (see `_from_python`). With `dtype=` the data is converted to it; array data as `Tensor.to` would
    (NaN to an integer type is unspecified, as in PyTorch, and raises no warning).
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        if dtype is not None and np.dtype(dtype).kind in "iu":
            return _from_python(data, dtype)  # a NumPy scalar is a number: range-checked as PyTorch does
        arr = np.asarray(data)
    else:
        return _from_python(data, dtype)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor: unsupported data of dtype {arr.dtype} ({type(data).__name__}); "
            "expected numbers, nested lists of numbers, or a bool/int/float array"
        )
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt != arr.dtype:
            with np.errstate(invalid="ignore", over="ignore"):  # 1e300 -> float32 is inf, silently
                return arr.astype(dt)
    return arr.copy() if copy else arr


_PY_SCALAR_DTYPES = {bool: _dtypes.bool_, int: _dtypes.int64}  # float: the default dtype, read per call


def _from_python(data: Any, dtype: Any) -> np.ndarray:
    """A new array from a Python number or a (nested) sequence, as torch.tensor reads them.

    Without `dtype`, each bool counts as bool, int as int64, float as the default dtype, and a NumPy
    scalar, array or Tensor inside the sequence as its own dtype; the result is PyTorch's promotion of
    them all (`[np.float64(0.7)]` is float64, `[np.int32(1), 2]` int64). Values go straight to the
    result dtype, never through float32 first, so float64 results are exact. Integers outside int64
    raise ValueError (as PyTorch); a value outside a narrower integer dtype asked for raises
    RuntimeError.
    """
    tp = type(data)
    inferred = _dtypes.get_default_dtype() if tp is float else _PY_SCALAR_DTYPES.get(tp)
    if inferred is None:
        inferred = _infer_dtype(data)
    dt = inferred if dtype is None else np.dtype(dtype)
    if dt.kind in "iu":
        return _python_to_int(data, inferred, dt)
    try:
        if dt.kind == "f" and dt.itemsize < 8 and not (tp is float and -65504.0 <= data <= 65504.0):
            with np.errstate(over="ignore"):  # 1e300 -> float32 is inf, silently (as PyTorch)
                return np.array(data, dtype=dt)
        return np.array(data, dtype=dt)
    except OverflowError as e:  # a Python int too large even for float64
        raise OverflowError(f"tensor: a value is too large for {dt}: {e}") from e
    except ValueError as e:
        raise ValueError(f"tensor: could not build a tensor from {type(data).__name__}: {e}") from e


def _python_to_int(data: Any, inferred: np.dtype, dt: np.dtype) -> np.ndarray:
    info = np.iinfo(dt)
    if inferred.kind == "f":
        vals = np.array(data, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~((vals >= info.min) & (vals <= info.max))  # NaN and inf are bad too
        if bad.any():  # PyTorch checks each element by its own kind: an int element may still wrap
            _check_elements(data, dt, info)
        if dt.itemsize == 8:
            return vals.astype(dt)
        # through int64: floats truncate toward zero, then ints wrap into an unsigned type (-8 -> 248)
        return vals.astype(np.int64).astype(dt)
    try:
        vals = np.array(data, dtype=_dtypes.int64)
    except OverflowError as e:
        raise ValueError(
            f"tensor: integer {_first_big_int(data)} is outside the int64 range [-2**63, 2**63 - 1]; "
            "pass dtype=microtensor.float64 to store it as a float"
        ) from e
    except ValueError as e:
        raise ValueError(f"tensor: could not build a tensor from {type(data).__name__}: {e}") from e
    if dt == _dtypes.int64 or dt.itemsize == 8 or vals.size == 0:
        return vals if dt == _dtypes.int64 else vals.astype(dt)
    # PyTorch lets a negative int wrap into an unsigned type (-1 -> 255) while its magnitude fits
    lo = -info.max if dt.kind == "u" else info.min
    if vals.min() < lo or vals.max() > info.max:
        v = vals[(vals < lo) | (vals > info.max)].flat[0]
        raise RuntimeError(f"tensor: value {v} cannot be converted to type {dt} without overflow")
    return vals.astype(dt)


def _check_elements(data: Any, dt: np.dtype, info: np.iinfo) -> None:
    """Raise for the first element PyTorch would refuse to convert to the integer dtype `dt`: a float
    outside [min, max] (NaN too), or an int outside it, except that a negative int may wrap into an
    unsigned dtype while its magnitude fits (-1 -> 255)."""
    if isinstance(data, bool | np.bool_ | Tensor | np.ndarray):
        return
    if isinstance(data, int | np.integer):
        lo = -info.max if dt.kind == "u" else info.min
        if not lo <= int(data) <= info.max:
            raise RuntimeError(f"tensor: value {data!r} cannot be converted to type {dt} without overflow")
    elif isinstance(data, float | np.floating):
        if not info.min <= data <= info.max:
            raise RuntimeError(f"tensor: value {data!r} cannot be converted to type {dt} without overflow")
    elif isinstance(data, Sequence):
        for e in data:
            _check_elements(e, dt, info)


def _first_big_int(data: Any) -> int | None:
    """The first int in (nested) data outside int64 (for the error message)."""
    if isinstance(data, int) and not -(2**63) <= data < 2**63:
        return data
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        for e in data:
            v = _first_big_int(e)
            if v is not None:
                return v
    return None


_LIST_TYPES = {list, tuple}


def _infer_dtype(data: Any) -> np.dtype:
    """PyTorch's dtype for Python data: the promotion of its elements' dtypes (default dtype if empty)."""
    found: set[np.dtype] = set()
    _collect_dtypes(data, found)
    if not found:
        return _dtypes.get_default_dtype()
    it = iter(found)
    dt = next(it)
    for other in it:
        dt = _dtypes.promote_types(dt, other)
    return dt


def _collect_dtypes(item: Any, found: set) -> None:
    """Add the dtypes of `item`'s elements to `found`.

    Lists and tuples are read a whole nesting level at a time: one type() per element (in C), one
    dtype per distinct type, then the next level is the concatenation of this level's lists, so a
    nested list of a million floats costs a few passes in C, not a Python call per row.
    """
    if isinstance(item, list | tuple):
        level = item
        while level:
            nested = False
            types = set(map(type, level))
            for tp in types:
                dt = _PY_SCALAR_DTYPES.get(tp)
                if dt is None and tp is float:
                    dt = _dtypes.get_default_dtype()
                if dt is None and issubclass(tp, np.generic):
                    dt = np.dtype(tp)
                if dt is not None:
                    _add_dtype(dt, tp, found)
                elif tp is list or tp is tuple:
                    nested = True
                else:  # arrays, Tensors, other sequences, subclasses of int/float
                    for e in level:
                        if type(e) is tp:
                            _collect_dtypes(e, found)
            if not nested:
                return
            if types <= _LIST_TYPES:  # only lists here: concatenate them in C
                level = list(chain.from_iterable(level))
            else:
                level = list(chain.from_iterable(e for e in level if type(e) in _LIST_TYPES))
        return
    if isinstance(item, Tensor | np.ndarray | np.generic):
        dt = item.dtype
    elif isinstance(item, bool):
        dt = _dtypes.bool_
    elif isinstance(item, int):
        dt = _dtypes.int64
    elif isinstance(item, float):
        dt = _dtypes.get_default_dtype()
    elif isinstance(item, Sequence) and not isinstance(item, str | bytes):
        _collect_dtypes(list(item), found)
        return
    else:  # anything else NumPy can read (a str, None, complex) is rejected below, naming its dtype
        dt = np.asarray(item).dtype
    _add_dtype(dt, type(item), found)


def _add_dtype(dt: np.dtype, tp: type, found: set) -> None:
    if dt.kind not in "biuf":
        raise TypeError(
            f"tensor: unsupported data of dtype {dt} ({tp.__name__}); "
            "expected numbers, nested lists of numbers, or a bool/int/float array"
        )
    found.add(dt)


# Late imports: the op modules need Tensor defined first.
from . import autograd as _autograd  # noqa: E402
from . import device as _device  # noqa: E402
from . import random as _random  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import index as _index  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import math as _math  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops.base import Op as _Op  # noqa: E402
from .ops.bindings import install_methods  # noqa: E402

install_methods(Tensor)
