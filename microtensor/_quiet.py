"""Run NumPy code without floating-point warnings, as PyTorch is silent at poles.

log(0) = -inf, 1/0 = inf, 0/0 = nan and sqrt(-1) = nan are the IEEE results PyTorch returns without a
word; NumPy returns the same values but also emits a RuntimeWarning (an error under `-W error`).
`np.errstate` would silence it, but costs microseconds per call (it builds an object and a context
each time); setting NumPy's error-state context variable to a prebuilt "ignore" state costs about as
much as a dict lookup, which matters on the path every op takes.
"""

from __future__ import annotations

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
