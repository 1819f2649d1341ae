"""Optimizer base: parameter groups, state, zero_grad, state_dict, as torch.optim.Optimizer.

Updates run on the parameters' arrays in place (the same objects the model
holds), after every gradient has been checked, so a bad gradient raises before
any parameter or state changes. Each array is taken through the write door,
``Tensor._data_for_write()``, which bumps its version counter as PyTorch's
in-place updates do: a graph recorded before the step then refuses to
backpropagate instead of silently using the new values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor


def _check(name: str, ok: bool, message: str) -> None:
    """Raise ValueError(f"{name}: {message}") unless ok (PyTorch's messages, prefixed by the optimizer)."""
    if not ok:
        raise ValueError(f"{name}: {message}")


def _check_flags(name: str, foreach, fused, differentiable) -> None:
    """The flag combinations PyTorch refuses at construction (the flags themselves change no result here)."""
    if fused:
        if differentiable:
            raise RuntimeError(f"{name}: `fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together.")


def _lerp_(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """a ← a + weight·(b − a) in place, rounded as torch.lerp_ (its two formulas, split at weight 0.5)."""
    if abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        diff = b - a
        diff *= weight - 1
        np.add(b, diff, out=a)


def _detached(v: Any) -> Any:
    if isinstance(v, Tensor):
        return v.detach()
    if isinstance(v, list | tuple):
        return type(v)(_detached(x) for x in v)
    return v


class Optimizer:
    """Base class of every optimizer, as torch.optim.Optimizer: parameter groups, per-parameter state,
    ``zero_grad``, ``step`` and PyTorch-compatible ``state_dict``/``load_state_dict``.

    A subclass declares its defaults and implements ``_update(group, pairs)``, which updates, in
    place with NumPy, each (parameter, gradient array) pair of a group.

        >>> opt = mt.optim.SGD(model.parameters(), lr=0.1)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got a Tensor"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters (Tensors, or (name, Tensor) pairs as named_parameters() yields)."""
        params = group["params"]
        if isinstance(params, set):
            raise TypeError(
                f"{type(self).__name__}: optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets will change between runs; use a list instead"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError(
                f"{type(self).__name__}: all optimizer params should be with/without names. "
                "Some param names are missing"
            )
        if names:
            group = {**group, "param_names": names}
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(
                f"{type(self).__name__}: all optimizer param groups should be with/without names."
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: can only optimize Tensors, but param {i} is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: can't optimize a non-leaf Tensor (param {i}, shape {p.shape})"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{type(self).__name__}: some parameters appear in more than one parameter group"
                )
            seen.add(id(p))
        new = {**self.defaults, **group, "params": params}
        self.param_groups.append(new)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``), or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:  # as PyTorch: cut a grad that has a history out of the graph, then zero it
                        if p.grad.grad_fn is not None:
                            p.grad = p.grad.detach()
                        else:
                            p.grad.requires_grad_(False)
                        with autograd.no_grad():
                            p.grad.zero_()

    def _checked_grads(self) -> list[tuple[dict, list[tuple[Tensor, np.ndarray]]]]:
        """Each group's (param, grad array) pairs, after checking every grad against its param."""
        out = []
        for group in self.param_groups:
            pairs = []
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                g = grad._data
                if g.shape != p._data.shape or g.dtype.kind != "f":
                    self._bad_grad(p, g)
                pairs.append((p, g))
            out.append((group, pairs))
        return out

    def _bad_grad(self, p: Tensor, g: np.ndarray) -> None:
        if g.shape != p.shape:
            raise RuntimeError(
                f"{type(self).__name__}.step: gradient of shape {g.shape} does not match its "
                f"parameter of shape {p.shape}"
            )
        raise RuntimeError(f"{type(self).__name__}.step: gradient has non-float dtype {g.dtype}")

    def step(self, closure: Callable[[], Tensor] | None = None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        self._check_step_flags()
        self._opt_called = True  # lets a scheduler warn when it is stepped before its optimizer
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        for group, pairs in self._checked_grads():  # updates work on arrays: nothing is recorded
            self._update(group, pairs)
        return loss

    def _check_step_flags(self) -> None:
        """Refuse, before any change, the flags PyTorch refuses for CPU parameters that require grad."""
        for group in self.param_groups:
            if group.get("capturable"):
                raise RuntimeError(
                    f"{type(self).__name__}.step: capturable=True needs parameters and state on a CUDA-like "
                    "device (as PyTorch requires); microtensor runs on the CPU only, use capturable=False"
                )
            if group.get("differentiable"):
                raise RuntimeError(
                    f"{type(self).__name__}.step: differentiable=True would update leaf parameters that "
                    "require grad in place inside the graph, which PyTorch refuses too; use "
                    "differentiable=False"
                )

    def _state(self, p: Tensor) -> dict:
        """p's entry in self.state (created empty on first use)."""
        s = self.state.get(p)
        if s is None:
            s = self.state[p] = {}
        return s

    def _update(self, group: dict, pairs: list[tuple[Tensor, np.ndarray]]) -> None:
        """Update, in place, each (param, grad array) pair of a group (its hyper-parameters read once)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # ------------------------------------------------------------ state dicts
    # Per-parameter state tensors have their parameter's shape (LBFGS keeps flat vectors instead).
    _state_matches_param_shape = True

    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, as PyTorch.

        Parameters are numbered in group order; each group keeps its hyper-parameters (with
        PyTorch's keys, ``foreach``/``fused``/... included) and lists its parameters by index.
        The state tensors are shared, as PyTorch's (``copy.deepcopy`` the dict to snapshot it).

            >>> sd = opt.state_dict(); sd["state"][0]["step"]    # Adam: a 0-d float32 tensor
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[id(p)]: {k: _detached(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state from state_dict(); checks everything before changing anything.

        Tensors are copied (NumPy arrays and PyTorch tensors are accepted too); as in PyTorch, every
        state tensor but ``step`` takes its parameter's dtype, and ``step`` keeps its own.
        """
        name = type(self).__name__
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            got = len(groups) if isinstance(groups, list) else repr(groups)
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has a different number of parameter groups "
                f"({got}, expected {len(self.param_groups)})"
            )
        params = {}
        for mine, saved in zip(self.param_groups, groups):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: loaded state dict contains a parameter group that doesn't "
                    f"match the size of optimizer's group ({len(saved['params'])} vs {len(mine['params'])})"
                )
            params.update(zip(saved["params"], mine["params"]))
        new_state = {}
        for key, s in state_dict.get("state", {}).items():
            if key not in params:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {key}")
            p = params[key]
            new_state[p] = {k: self._cast_state(name, key, p, k, v) for k, v in s.items()}
        for mine, saved in zip(self.param_groups, groups):
            mine.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def _cast_state(self, name: str, index, p: Tensor, key: str, v: Any) -> Any:
        """A copy of one loaded state value, with PyTorch's dtype policy (recursing into lists/tuples)."""
        if isinstance(v, list | tuple):
            return type(v)(self._cast_state(name, index, p, key, x) for x in v)
        if isinstance(v, np.ndarray):
            v = Tensor._wrap(v)
        elif not isinstance(v, Tensor) and hasattr(v, "detach") and hasattr(v, "numpy"):
            v = Tensor._wrap(np.array(v.detach().numpy()))  # a PyTorch tensor (its state dict as saved)
        if not isinstance(v, Tensor):
            return v
        if self._state_matches_param_shape and v.ndim and v.shape != p.shape:
            raise ValueError(
                f"{name}.load_state_dict: state {key!r} of parameter {index} has shape {v.shape}, "
                f"expected {p.shape}"
            )
        dtype = v.dtype if key == "step" or p._data.dtype.kind != "f" else p._data.dtype
        return Tensor._wrap(np.array(v._data, dtype=dtype))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
