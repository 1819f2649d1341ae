"""Module: the base class of every layer and model, as torch.nn.Module.

Assigning a Parameter or a Module to an attribute registers it, so
`parameters()`, `state_dict()` and `zero_grad()` find it by its dotted name.
Hooks (forward pre/post, full backward pre/post, state-dict hooks) follow
PyTorch's signatures, order and return-value rules.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .parameter import Parameter

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"
# local_metadata key through which load_state_dict hands _load_from_state_dict the list of
# deferred writes (so that nothing is written until every key has been checked).
_PENDING_KEY = "_microtensor_pending_writes"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: (missing_keys, unexpected_keys), as PyTorch's."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys


class RemovableHandle:
    """Returned by every `register_*_hook`; `remove()` unregisters the hook (also on `with` exit).

    handle = model.register_forward_hook(lambda m, args, out: print(out.shape))
    model(x)
    handle.remove()
    """

    next_id = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        """Unregister the hook (a no-op if it is already gone)."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


# Global hooks: run for every module, before the module's own (as torch's register_module_*_hook).
_global_forward_pre_hooks: dict[int, Callable] = OrderedDict()
_global_forward_hooks: dict[int, Callable] = OrderedDict()
_global_forward_hooks_with_kwargs: dict[int, bool] = OrderedDict()
_global_forward_hooks_always_called: dict[int, bool] = OrderedDict()
_global_backward_pre_hooks: dict[int, Callable] = OrderedDict()
_global_backward_hooks: dict[int, Callable] = OrderedDict()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, args)` before every module's forward (before the module's own pre-hooks)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Call `hook(module, args, output)` after every module's forward (before the module's own hooks)."""
    handle = RemovableHandle(
        _global_forward_hooks,
        extra_dict=[_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called],
    )
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, grad_output)` for every module, before the module's own backward pre-hooks."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(module, grad_input, grad_output)` for every module, before its own backward hooks."""
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def _addindent(s: str, num_spaces: int) -> str:
    """Indent every line but the first (blank lines stay empty), as PyTorch's reprs do."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    rest = [" " * num_spaces + ln if ln.strip() else "" for ln in lines[1:]]
    return "\n".join([lines[0], *rest])


def _typename(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"microtensor.{type(value).__name__}"
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _is_tensor_like(v: Any) -> bool:
    return isinstance(v, Tensor | np.ndarray | np.generic) or (
        hasattr(v, "__array__") and hasattr(v, "shape") and not isinstance(v, list | tuple)
    )


# ---------------------------------------------------------------- full backward hooks
class _BackwardHookFunction(autograd.Function):
    """Identity on the module's tensors that require grad; its backward sees all their grads at once.

    One tensor passes through without a copy. Several are joined into one flat tensor
    that the caller slices back apart: the joined tensor's gradient is complete only once
    every part's is, so the hooks get every gradient of the group in one call, as
    PyTorch's one multi-output node gives them.
    """

    @staticmethod
    def forward(ctx, state, side, *tensors):
        ctx.state, ctx.side = state, side
        ctx.parts = [(t.shape, t.dtype) for t in tensors]
        if len(tensors) == 1:
            return tensors[0]
        dt = np.result_type(*[t.dtype for t in tensors])
        return Tensor._wrap(np.concatenate([t._data.reshape(-1).astype(dt, copy=False) for t in tensors]))

    @staticmethod
    def backward(ctx, grad):
        if len(ctx.parts) == 1:
            grads = [grad]
        else:
            grads, start = [], 0
            for shape, dtype in ctx.parts:
                n = int(np.prod(shape, dtype=np.int64))
                grads.append(grad[start : start + n].reshape(shape).to(dtype))
                start += n
        return (None, None, *ctx.state.on_grads(ctx.side, grads))


class _BackwardHook:
    """Links one call's output gradients to its input gradients and runs the module's backward hooks.

    As PyTorch's: grad_input / grad_output have one entry per positional input / output, None
    for non-tensors, zeros for tensors that do not require grad (PyTorch materialises them).
    """

    def __init__(self, module: Module, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index: list[int] | None = None  # positions of the tensors
        self.output_index: list[int] | None = None
        self.plan: dict[str, tuple] = {}  # side -> (positions requiring grad, {position: (shape, dtype)})

    def _wrap(self, args: tuple, side: str):
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        grad_index = [i for i in index if args[i].requires_grad]
        if not (grad_index and autograd.is_grad_enabled()):
            return args, None
        others = {i: (args[i].shape, args[i].dtype) for i in index if i not in grad_index}
        self.plan[side] = (grad_index, others)
        tensors = [args[i] for i in grad_index]
        joined = _BackwardHookFunction.apply(self, side, *tensors)
        if len(tensors) == 1:
            new = [joined]
        else:
            new, start = [], 0
            for t in tensors:
                part = joined[start : start + t.numel()].reshape(t.shape)
                new.append(part if part.dtype == t.dtype else part.to(t.dtype))
                start += t.numel()
        out = list(args)
        for i, t in zip(grad_index, new):
            out[i] = t
        return tuple(out), index

    def _pack(self, side: str, grads: list, size: int) -> tuple:
        grad_index, others = self.plan[side]
        res: list = [None] * size
        for i, g in zip(grad_index, grads):
            res[i] = g
        for i, (shape, dtype) in others.items():
            res[i] = Tensor._wrap(np.zeros(shape, dtype))
        return tuple(res)

    def setup_input_hook(self, args: tuple) -> tuple:
        res, self.input_index = self._wrap(args, "input")
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        args = result if is_tuple else (result,)
        res, self.output_index = self._wrap(args, "output")
        self.n_outputs = len(args)
        return res if is_tuple else res[0]

    def on_grads(self, side: str, grads: list) -> list:
        module = self.module
        if side == "output":
            self.grad_outputs = self._pack("output", grads, self.n_outputs)
            for hook in self.pre_hooks:
                new = hook(module, self.grad_outputs)
                if new is None:
                    continue
                if len(new) != len(self.grad_outputs):
                    raise RuntimeError(
                        "Backward pre hook returned an invalid number of grad_output, "
                        f"got {len(new)}, but expected {len(self.grad_outputs)}"
                    )
                self.grad_outputs = tuple(new)
            local = self.grad_outputs
            if self.input_index is None:  # no input requires grad: the hooks fire now
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to module "
                    "outputs since no inputs require gradients.",
                    stacklevel=2,
                )
                grad_inputs = (None,) * self.n_inputs
                for hook in self.hooks:
                    res = hook(module, grad_inputs, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                        raise RuntimeError(
                            "Backward hook for Modules where no input requires gradient should always "
                            "return None or None for all gradients."
                        )
                self.grad_outputs = None
            return [local[i] for i in self.plan["output"][0]]
        if self.grad_outputs is None:  # the outputs' gradients never came through
            return grads
        res = self._pack("input", grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                    f"but expected {len(res)}"
                )
            res = tuple(out)
        self.grad_outputs = None
        return [res[i] for i in self.plan["input"][0]]


# ----------------------------------------------------------------------- Module
class Module:
    """Base class for models: holds parameters, buffers and sub-modules by name.

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)          # registered as "fc"
            self.register_buffer("scale", mt.ones(3))

        def forward(self, x):
            return self.fc(x) * self.scale

    Net().state_dict().keys()   # fc.weight, fc.bias, scale
    """

    training: bool
    _version: int = 1  # stored in state_dict metadata, for version-aware _load_from_state_dict overrides

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())
        setattr_(self, "_modules", OrderedDict())

    def __setstate__(self, state: dict) -> None:
        # pickles made before a hook store existed get empty ones
        self.__dict__.update(state)
        for name in (
            "_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
            "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
            "_load_state_dict_post_hooks",
        ):  # fmt: skip
            self.__dict__.setdefault(name, OrderedDict())
        if "_non_persistent_buffers_set" not in self.__dict__:
            self.__dict__["_non_persistent_buffers_set"] = set(
                self.__dict__.pop("_non_persistent_buffers", ())
            )

    # ----------------------------------------------------------- registration
    def _check_member_name(self, name: Any, store: dict, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{what} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{what} name can\'t be empty string ""')
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is module state but not a parameter (e.g. running statistics).

        It is in `state_dict()` unless `persistent=False`; `None` registers the name without a
        value (left out of state_dict). Example: `self.register_buffer("mask", mt.ones(3))`.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_member_name(name, self._buffers, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                "(microtensor Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter under `name` (`None` registers the name with no value, as `Linear(bias=False)`).

        Example: `self.register_parameter("scale", nn.Parameter(mt.ones(3)))`.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_member_name(name, self._parameters, "parameter")
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(microtensor.nn.Parameter or None required)"
            )
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                "the value in the forward() method."
            )
        else:
            self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (also reachable as the attribute `self.<name>`).

        Example: `seq.add_module("act", nn.ReLU())`.
        """
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_member_name(name, self._modules, "module")
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias for `add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path `target` ("" is self), e.g. `net.get_submodule("enc.0")`."""
        if target == "":
            return self
        mod: Module = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Replace (or, unless strict, add) the sub-module at the dotted path `target`."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        *path, last = target.split(".")
        parent = self.get_submodule(".".join(path))
        if strict and not hasattr(parent, last):
            raise AttributeError(parent._get_name() + " has no attribute `" + last + "`")
        if hasattr(parent, last) and not isinstance(getattr(parent, last), Module):
            raise AttributeError("`" + last + "` is not an nn.Module")
        setattr(parent, last, module)

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at the dotted path `target`, e.g. `net.get_parameter("0.weight")`."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path `target`, e.g. `net.get_buffer("bn.running_mean")`."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(mod, name)

    def get_extra_state(self) -> Any:
        """Override (with `set_extra_state`) to store non-tensor state under `<prefix>_extra_state`."""
        raise RuntimeError(
            "Module.get_extra_state() was called but is not implemented; override it together "
            "with set_extra_state()"
        )

    def set_extra_state(self, state: Any) -> None:
        """Override (with `get_extra_state`) to restore what get_extra_state returned."""
        raise RuntimeError(
            "Module.set_extra_state() was called but is not implemented; override it together "
            "with get_extra_state()"
        )

    # ------------------------------------------------------ attribute access
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        """As PyTorch: a Parameter or Module registers; a registered name keeps its kind."""
        d = self.__dict__

        def remove_from(*stores) -> None:
            for s in stores:
                if name in s:
                    if isinstance(s, dict):
                        del s[name]
                    else:
                        s.discard(name)

        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(microtensor.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(
                        f"cannot assign '{_typename(value)}' as child module '{name}' "
                        "(microtensor.nn.Module or None expected)"
                    )
                modules[name] = value
            else:
                buffers = d.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(
                            f"cannot assign '{_typename(value)}' as buffer '{name}' "
                            "(microtensor Tensor or None expected)"
                        )
                    self.register_buffer(name, value, name not in self._non_persistent_buffers_set)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = [
            *dir(self.__class__),
            *self.__dict__,
            *self._parameters,
            *self._modules,
            *self._buffers,
        ]
        return sorted(k for k in keys if not k[0].isdigit())  # only names usable as attributes

    # -------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for self ("") and every sub-module, depth first.

        A module reachable under several names is yielded once (its first name) unless
        remove_duplicate=False. Example: `dict(net.named_modules())["0"]`.
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        """Self and every sub-module, each once (see named_modules)."""
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child, each module once."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct child module, once."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, get_members: Callable, prefix: str, recurse: bool, remove_duplicate: bool):
        memo = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield module_prefix + ("." if module_prefix else "") + k, v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) in registration order; a shared Parameter once unless
        remove_duplicate=False. Example: `[n for n, _ in nn.Linear(2, 3).named_parameters()]`
        is `["weight", "bias"]`."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter once (what an optimizer takes): `SGD(model.parameters(), lr=0.1)`."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer, persistent or not (see named_parameters)."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode on self and every sub-module (Dropout, BatchNorm read it); returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """`train(False)`: evaluation mode; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter (e.g. to freeze a layer); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's grad (set_to_none=True) or zero it in place."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    else:
                        p.grad.requires_grad_(False)
                    with autograd.no_grad():
                        p.grad.zero_()

    def share_memory(self) -> Module:
        """No-op returning self (NumPy arrays need no shared-memory move)."""
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every sub-module (children first) and on self, e.g. for custom init; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------- dtype / device
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Replace each parameter's and buffer's value by fn(value), as PyTorch's `_apply`.

        Parameters stay the same Parameter objects (their storage is replaced) and keep
        their grads (converted by fn too); buffers are replaced by fn's result.
        """
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with autograd.no_grad():
                applied = fn(param)
            if applied is not param:
                param.data = applied
            grad = param.grad
            if grad is not None:
                with autograd.no_grad():
                    grad_applied = fn(grad)
                if grad_applied is not grad:
                    grad.data = grad_applied
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    @staticmethod
    def _caster(dtype, floating_only: bool = True) -> Callable[[Tensor], Tensor]:
        dtype = np.dtype(dtype)

        def convert(t: Tensor) -> Tensor:
            if t.dtype == dtype or (floating_only and not t.is_floating_point()):
                return t
            return t.to(dtype)

        return convert

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32; returns self."""
        return self._apply(self._caster(np.float32))

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64; returns self."""
        return self._apply(self._caster(np.float64))

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16; returns self."""
        return self._apply(self._caster(np.float16))

    def type(self, dst_type) -> Module:
        """Cast every parameter and buffer (integer ones too) to dst_type; returns self."""
        if isinstance(dst_type, str):
            raise TypeError(f"Module.type: expected a dtype such as microtensor.float64, got {dst_type!r}")
        return self._apply(self._caster(dst_type, floating_only=False))

    def cpu(self) -> Module:
        """Parameters and buffers already live on the CPU: returns self."""
        return self

    def cuda(self, device=None) -> Module:
        """Raises: microtensor runs on the CPU only."""
        raise RuntimeError("Module.cuda: microtensor runs on the CPU only (no CUDA device)")

    @staticmethod
    def _parse_to(args: tuple, kwargs: dict):
        """(device, dtype, non_blocking) from PyTorch's `to` argument forms."""
        unknown = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
        if unknown:
            raise TypeError(f"Module.to: got unexpected keyword argument(s) {sorted(unknown)}")
        device, dtype = kwargs.get("device"), kwargs.get("dtype")
        non_blocking = kwargs.get("non_blocking", False)
        args = list(args)
        if args and isinstance(args[0], Tensor):
            t = args.pop(0)
            dtype, device = t.dtype, getattr(t, "device", "cpu")
        elif args and (
            isinstance(args[0], np.dtype) or (isinstance(args[0], type) and issubclass(args[0], np.generic))
        ):
            dtype = args.pop(0)
        elif args and (args[0] is None or isinstance(args[0], str | int) or hasattr(args[0], "type")):
            device = args.pop(0)
            if args and not isinstance(args[0], bool):
                dtype = args.pop(0)
        elif args and not isinstance(args[0], bool):
            dtype = args.pop(0)
        if args:
            non_blocking = args.pop(0)
        if args:
            raise TypeError(f"Module.to: too many positional arguments ({len(args)} left over)")
        if device is not None:
            kind = getattr(device, "type", device)
            if not (isinstance(kind, str) and kind.split(":")[0] == "cpu"):
                raise RuntimeError(
                    f"Module.to: microtensor runs on the CPU only, got device {device!r} (use 'cpu')"
                )
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError as e:
                raise TypeError(f"Module.to: {dtype!r} is not a dtype") from e
        return device, dtype, non_blocking

    def to(self, *args, **kwargs) -> Module:
        """Cast (and "move") parameters and buffers, as PyTorch's `Module.to`; returns self.

        Forms: `to(device=None, dtype=None, non_blocking=False)`, `to(dtype)`, `to(tensor)`,
        `to("cpu")`. Only floating-point tensors change dtype; the dtype must be floating.
        Example: `model.to(mt.float64)`.
        """
        _device, dtype, _ = self._parse_to(args, kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )
        return self._apply(self._caster(dtype))

    # ---------------------------------------------------------------- hooks
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args)` before forward; a non-None result replaces args (a non-tuple
        is wrapped in one). With with_kwargs=True: `hook(module, args, kwargs)` returning None or
        (args, kwargs). prepend=True runs it before the hooks already registered."""
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args, output)` after forward; a non-None result replaces the output.

        with_kwargs=True: `hook(module, args, kwargs, output)`. always_call=True: also called
        (with output None) when forward raises. prepend=True: before the hooks already registered.
        """
        handle = RemovableHandle(
            self._forward_hooks,
            extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called],
        )
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_output)` when the gradients of the module's outputs are known;
        a non-None result (a tuple as long as grad_output) replaces them."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` once the gradients of the module's positional
        tensor inputs are computed (None for inputs without one); a non-None result replaces
        grad_input. If no input requires grad it fires with grad_input all None when the output
        gradients are known."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, prefix, keep_vars)` before this module's entries are saved."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, state_dict, prefix, local_metadata)` (returning None) after saving;
        it may edit state_dict in place."""
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = (hook, True)
        return handle

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """As register_state_dict_post_hook, but a returned dict replaces the state dict."""
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = (hook, False)
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before this module's entries are matched."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = (hook, True)
        return handle

    def _register_load_state_dict_pre_hook(
        self, hook: Callable, with_module: bool = False
    ) -> RemovableHandle:
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = (hook, with_module)
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, incompatible_keys)` once keys are matched; it may clear
        incompatible_keys.missing_keys / unexpected_keys in place to accept them. It runs before
        values are written (a load either writes everything or nothing)."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it. Call the module (`model(x)`), not forward."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _global_forward_pre_hooks
            or _global_forward_hooks
            or _global_backward_hooks
            or _global_backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    _call_impl = __call__  # PyTorch's name for the call path, which some code calls directly

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        result = None
        called_always = set()
        try:
            for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if isinstance(res, tuple) and len(res) == 2:
                            args, kwargs = res
                        else:
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                f"but got {res}."
                            )
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            bw_hook = None
            hooks = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
            pre_hooks = [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]
            if hooks or pre_hooks:
                bw_hook = _BackwardHook(self, hooks, pre_hooks)
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if (
                    hook_id in self._forward_hooks_always_called
                    or hook_id in _global_forward_hooks_always_called
                ):
                    called_always.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
            if bw_hook is not None:
                if not isinstance(result, Tensor | tuple):
                    warnings.warn(
                        "For backward hooks to be called, module output should be a Tensor or a tuple "
                        f"of Tensors but received {type(result)}",
                        stacklevel=2,
                    )
                else:
                    result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            # always_call hooks that have not run yet run now, their own errors silenced
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                always = (
                    hook_id in self._forward_hooks_always_called
                    or hook_id in _global_forward_hooks_always_called
                )
                if not always or hook_id in called_always:
                    continue
                try:
                    if (
                        hook_id in self._forward_hooks_with_kwargs
                        or hook_id in _global_forward_hooks_with_kwargs
                    ):
                        res = hook(self, args, kwargs, result)
                    else:
                        res = hook(self, args, result)
                    if res is not None:
                        result = res
                except Exception as e:
                    warnings.warn(
                        "module forward hook with ``always_call=True`` raised an exception that was "
                        f"silenced as another error was raised in forward: {e}",
                        stacklevel=2,
                    )
            raise

    # ------------------------------------------------------------ state dicts
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters, persistent buffers and extra state into destination."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name (PyTorch's keys and order).

        Values share storage with the model and are detached (keep_vars=True keeps the
        Parameters themselves). A module or Parameter registered under several names appears
        under each. Example: `list(nn.Linear(2, 3).state_dict())` is `["weight", "bias"]`.
        """
        if args:
            warnings.warn(
                "state_dict: positional args are being deprecated, use keyword arguments instead",
                FutureWarning,
                stacklevel=2,
            )
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook, public in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if res is not None:
                if public:
                    raise RuntimeError("state_dict post-hook must return None")
                destination = res
        return destination

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        """Match this module's own entries (not its children's) against state_dict.

        Problems go to missing_keys / unexpected_keys / error_msgs. Values are written through
        the in-place path (copy_ under no_grad, which bumps the version counter), or assigned
        when local_metadata["assign_to_params_buffers"]; called from load_state_dict, the
        writes are deferred until every module has been checked.
        """
        for hook, with_module in self._load_state_dict_pre_hooks.values():
            if with_module:
                hook(
                    self,
                    state_dict,
                    prefix,
                    local_metadata,
                    strict,
                    missing_keys,
                    unexpected_keys,
                    error_msgs,
                )
            else:
                hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        pending = local_metadata.get(_PENDING_KEY)
        assign = local_metadata.get("assign_to_params_buffers", False)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {
            k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None
        }
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not _is_tensor_like(value):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected microtensor.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(value)}"
                )
                continue
            try:
                arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            except Exception as e:  # e.g. an array-like that refuses conversion
                error_msgs.append(f'While copying the parameter named "{key}", an exception occurred : {e}.')
                continue
            if param.ndim == 0 and arr.shape == (1,):  # PyTorch's compatibility rule for old checkpoints
                arr = arr.reshape(())
            if arr.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {param.shape}."
                )
                continue
            if arr.dtype.kind not in "biuf":
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{param.shape} and whose dimensions in the checkpoint are {arr.shape}, an exception "
                    f"occurred : unsupported dtype {arr.dtype}."
                )
                continue
            write = self._assign_writer(name, param, value, arr) if assign else self._copy_writer(param, arr)
            if pending is None:
                write()
            else:
                pending.append(write)
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                state = state_dict[extra_key]
                if pending is None:
                    self.set_extra_state(state)
                else:
                    pending.append(lambda: self.set_extra_state(state))
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    first, *rest = key[len(prefix) :].split(".", 1)
                    if rest:
                        if first not in self._modules:
                            unexpected_keys.append(key)
                    elif first not in local_state:
                        unexpected_keys.append(key)

    @staticmethod
    def _copy_writer(param: Tensor, arr: np.ndarray) -> Callable[[], None]:
        def write() -> None:
            with autograd.no_grad():
                param.copy_(arr)  # the in-place path: bumps the version, so stale graphs raise

        return write

    def _assign_writer(self, name: str, param: Tensor, value: Any, arr: np.ndarray) -> Callable[[], None]:
        def write() -> None:
            new = value if isinstance(value, Tensor) else Tensor._wrap(arr)
            if arr.shape != new.shape:  # the 0-d compatibility reshape
                new = Tensor._wrap(arr)
            if isinstance(param, Parameter):
                if isinstance(new, Parameter):
                    new.requires_grad_(param.requires_grad)
                else:
                    new = Parameter(new, requires_grad=param.requires_grad)
            setattr(self, name, new)

        return write

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """Copy values from state_dict into this module's parameters and buffers; all or nothing.

        Every key, shape and dtype is checked before anything is written, so a failed load
        leaves the model unchanged. strict=True: missing or unexpected keys raise, with
        PyTorch's message. assign=True: the state dict's tensors become the model's (Parameters
        keep their requires_grad) instead of being copied in. Returns
        `_IncompatibleKeys(missing_keys, unexpected_keys)`.
        Example: `model.load_state_dict(other.state_dict())`.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        pending: list[Callable[[], None]] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # _load_from_state_dict overrides may edit their copy
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module: Module, local_state: dict, prefix: str = "") -> None:
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            local_metadata[_PENDING_KEY] = pending
            module._load_from_state_dict(
                local_state, prefix, local_metadata, True, missing_keys, unexpected_keys, error_msgs
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(
                        child,
                        {k: v for k, v in local_state.items() if k.startswith(child_prefix)},
                        child_prefix,
                    )
            # post hooks may clear missing/unexpected keys in place, so they run before the check
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected "
                        "to return new values, if incompatible_keys need to be modified, it should be "
                        "done inplace."
                    )

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected_keys)
                    ),
                )
            if missing_keys:
                error_msgs.insert(
                    0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing_keys))
                )
        if error_msgs:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(error_msgs)
                )
            )
        for write in pending:
            write()
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ---------------------------------------------------------------- display
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The module's own settings for its repr (one line or several); override in subclasses."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: one line if there are no children, else one indented line per child."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(m), 2) for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
