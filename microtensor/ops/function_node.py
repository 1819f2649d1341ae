"""The graph node behind a user-defined `autograd.Function` (see autograd.Function)."""

from __future__ import annotations

import weakref

import numpy as np

from .. import autograd
from .._quiet import call_loudly
from ..tensor import Tensor
from .base import Op


class _UserFunction(Op):
    """Runs a Function's static forward/backward on Tensors; also serves as its `ctx`."""

    # No __slots__ here: user code stores arbitrary attributes on ctx.
    save_for_backward = autograd.FunctionCtx.save_for_backward
    saved_tensors = autograd.FunctionCtx.saved_tensors

    def __init__(self, fn_cls):
        self.fn_cls = fn_cls
        self._originals: dict[int, Tensor] = {}

    def name(self) -> str:
        return f"{self.fn_cls.__name__}Backward"

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return self.needs

    def __call__(self, *args):
        self.needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
        # saved_tensors hands back the originals, so create_graph reaches the real inputs
        self._originals = {id(d): a for d, a in zip(detached, args) if isinstance(a, Tensor)}
        with autograd.no_grad():
            out = self.fn_cls.forward(self, *detached)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{self.fn_cls.__name__}.forward must return a single Tensor, got {type(out).__name__}"
            )
        if autograd.is_grad_enabled() and any(self.needs):
            self.record(args, tuple([a._data if isinstance(a, Tensor) else a for a in args]), self.needs)
            result = Tensor._wrap(out._data, self)
            self._originals[id(out)] = weakref.ref(result)  # weak: result.grad_fn is self
            return result
        return out

    def read_by_backward(self) -> list[int]:
        """Positions of the inputs saved with save_for_backward (-1: the output), as PyTorch checks."""
        picked = []
        for s in getattr(self, "_to_save", None) or ():
            o = self._originals.get(id(s), s)
            if isinstance(o, weakref.ref):
                picked.append(-1)
            else:
                picked += [k for k, x in enumerate(self.inputs) if x is o]
        return picked

    def _vjp(self, _need, grad, out, *inputs) -> tuple:
        """The user's backward stands in for compiled derivatives (its code is opaque to explain)."""
        create_graph = isinstance(grad, Tensor)
        # user code: NumPy warns in it as outside backward (the engine runs quietly)
        res = call_loudly(self.fn_cls.backward, (self, grad if create_graph else Tensor._wrap(grad)))
        res = res if isinstance(res, tuple) else (res,)
        if len(res) != len(inputs):
            raise RuntimeError(
                f"{self.fn_cls.__name__}.backward returned {len(res)} gradients but forward "
                f"took {len(inputs)} arguments; return one gradient (or None) per argument"
            )
        grads = []
        for i, (r, need) in enumerate(zip(res, _need)):
            if r is None or not need:
                grads.append(None)
            elif not isinstance(r, Tensor):
                raise TypeError(
                    f"{self.fn_cls.__name__}.backward: gradient {i} must be a Tensor or None, "
                    f"got {type(r).__name__}"
                )
            elif r.shape != inputs[i].shape and not _reducible(tuple(r.shape), tuple(inputs[i].shape)):
                raise RuntimeError(
                    f"{self.name()}: backward returned a gradient of shape {tuple(r.shape)} for input {i} "
                    f"of shape {tuple(inputs[i].shape)}; return one of the input's shape (or one that "
                    "broadcasting it gives, which is summed down to it)"
                )
            else:
                grads.append(r if create_graph else np.array(r._data))
        return tuple(grads)


def _reducible(gshape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether shape broadcasts to gshape (so the engine can sum a gradient of gshape down to it)."""
    try:
        return np.broadcast_shapes(shape, gshape) == gshape
    except ValueError:
        return False
