"""Module: the base class of every layer and model, as torch.nn.Module.

Assigning a Parameter or a Module to an attribute registers it, so
`parameters()`, `state_dict()` and `zero_grad()` find it by its dotted name.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..device import _parse_to
from ..tensor import Tensor
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for models: holds parameters, buffers and sub-modules by name."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----------------------------------------------------------- registration
    def _require_init(self, name: str, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} {name!r} before Module.__init__() call; call super().__init__() first"
            )

    def _forget(self, name: str, *stores: str) -> None:
        for store in stores:
            if store == "__dict__":
                self.__dict__.pop(name, None)
            else:
                getattr(self, store).pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        """As PyTorch: a Parameter or Module registers; a registered name keeps its kind."""
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            self._require_init(name, "parameter")
            self._forget(name, "__dict__", "_buffers", "_modules")
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(microtensor.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._require_init(name, "module")
            self._forget(name, "__dict__", "_parameters", "_buffers")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(microtensor.nn.Module or None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name: str, store: dict, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{what} name can\'t contain ".", got {name!r}')
        if name == "":
            raise KeyError(f'{what} name can\'t be empty string ""')
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._require_init(name, "parameter")
        self._check_name(name, self._parameters, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A named tensor that is part of state_dict (unless persistent=False) but not a parameter."""
        self._require_init(name, "buffer")
        self._check_name(name, self._buffers, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._require_init(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._check_name(name, self._modules, "module")
        self._modules[name] = module

    register_module = add_module

    # -------------------------------------------------------------- traversal
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, t in getattr(m, store).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
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
                    p.grad.requires_grad_(False)
                    p.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every sub-module (children first) and on self, e.g. for custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype) -> Module:
        for t in list(self.parameters()) + list(self.buffers()):
            if t.is_floating_point():
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._wrap(t.grad._data.astype(dtype))
        return self

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64 (in place, same objects)."""
        return self._cast(np.float64)

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32 (in place, same objects)."""
        return self._cast(np.float32)

    def half(self) -> Module:
        return self._cast(np.float16)

    def to(self, *args, **kwargs) -> Module:
        """model.to(dtype) / .to("cpu") / .to(device, dtype) / .to(tensor): cast floating-point
        parameters and buffers in place (same objects); the device must be the CPU."""
        dtype, _ = _parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast(dtype)

    # ---------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ state dicts
    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name (PyTorch's keys), sharing storage.

        Values are detached (keep_vars=True keeps the Parameter objects themselves).
        """
        out = OrderedDict() if destination is None else destination
        for mod_prefix, m in self.named_modules(prefix=prefix.rstrip(".")):
            entries = list(m._parameters.items()) + [
                (k, b) for k, b in m._buffers.items() if k not in m._non_persistent_buffers
            ]
            for name, t in entries:
                if t is not None:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's tensors; all-or-nothing.

        Every key, shape and dtype is checked before anything is written, so a
        failed load leaves the model exactly as it was.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else np.asarray(v)
            if arr.shape != target.shape:
                problems.append(
                    f"size mismatch for {k}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {target.shape}."
                )
            elif arr.dtype.kind not in "biuf":
                problems.append(f"unsupported dtype {arr.dtype} for {k}")
            else:
                values[k] = arr
        if strict:  # PyTorch's order: missing, unexpected, then size mismatches
            if unexpected:
                problems.insert(
                    0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". "
                )
            if missing:
                problems.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". "
                )
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        for k, arr in values.items():
            np.copyto(own[k]._data, arr, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: one line if there are no children, else one indented line per child."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, m in self._modules.items():
            lines = repr(m).split("\n")
            lines[1:] = ["  " + ln if ln.strip() else "" for ln in lines[1:]]
            child_lines.append(f"({name}): " + "\n".join(lines))
        lines = extra_lines + child_lines
        main = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers)
        )
