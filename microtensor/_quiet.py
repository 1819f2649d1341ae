"""Run NumPy code without floating-point warnings, as PyTorch is silent at poles.

log(0) = -inf, 1/0 = inf, 0/0 = nan and sqrt(-1) = nan are the IEEE results PyTorch returns without a
word; NumPy returns the same values but also emits a RuntimeWarning (an error under `-W error`).
`np.errstate` would silence it, but costs microseconds per call (it builds an object and a context
each time); setting NumPy's error-state context variable to a prebuilt "ignore" state costs about as
much as a dict lookup, which matters on the path every op takes.

Backward is made quiet once per call, not once per node (`quiet_region`): a per-node switch would
cost about a quarter of the engine's time per node. User code that runs inside backward (tensor
hooks, a custom Function's backward) is called through `call_loudly`, under the error state of the
code that called backward, so its own NumPy warnings are not hidden.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import numpy as np

try:  # NumPy >= 2: errstate is a ContextVar holding an opaque state object
    from numpy._core.umath import _extobj_contextvar as _STATE
    from numpy._core.umath import _make_extobj

    _IGNORE = _make_extobj(all="ignore")
except ImportError:  # pragma: no cover - other NumPy layouts: the public (slower) way
    _STATE = None


def call_quietly(fn: Callable, args: tuple) -> Any:
    """`fn(*args)` with NumPy's floating-point warnings (divide, overflow, invalid) ignored.

    call_quietly(np.log, (np.zeros(1),))  # array([-inf]), no RuntimeWarning
    """
    if _STATE is None:  # pragma: no cover
        with np.errstate(all="ignore"):
            return fn(*args)
    token = _STATE.set(_IGNORE)
    try:
        return fn(*args)
    finally:
        _STATE.reset(token)


# The error state of the code that entered the innermost quiet region (None outside any region).
_OUTER: contextvars.ContextVar = contextvars.ContextVar("microtensor_quiet_outer", default=None)


class quiet_region:
    """A `with` block in which NumPy's floating-point warnings are ignored (the engine's backward).

    with quiet_region():
        ...  # np.log(0) gives -inf silently; call_loudly(user_fn, args) warns as outside
    """

    __slots__ = ("_tokens",)

    def __enter__(self) -> quiet_region:
        if _STATE is None:  # pragma: no cover - other NumPy layouts
            outer = np.geterr()
            np.seterr(all="ignore")
            self._tokens = (_OUTER.set(outer), outer)
        else:
            self._tokens = (_OUTER.set(_STATE.get()), _STATE.set(_IGNORE))
        return self

    def __exit__(self, *exc) -> None:
        outer_token, state = self._tokens
        _OUTER.reset(outer_token)
        if _STATE is None:  # pragma: no cover
            np.seterr(**state)
        else:
            _STATE.reset(state)


def call_loudly(fn: Callable, args: tuple) -> Any:
    """`fn(*args)` under the NumPy error state in force where the current quiet_region was entered
    (user code called from inside backward warns as it would outside); a plain call outside one."""
    outer = _OUTER.get()
    if outer is None:
        return fn(*args)
    if _STATE is None:  # pragma: no cover
        with np.errstate(**outer):
            return fn(*args)
    token = _STATE.set(outer)
    try:
        return fn(*args)
    finally:
        _STATE.reset(token)
