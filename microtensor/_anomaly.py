"""Anomaly mode's checks (see autograd.detect_anomaly); imports nothing from the package."""

from __future__ import annotations

import linecache
import os
import sys

import numpy as np

_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frames(limit: int = 3) -> str:
    """The innermost `limit` stack frames outside the microtensor package, formatted like a traceback."""
    f = sys._getframe(1)
    lines: list[str] = []
    while f is not None and len(lines) < limit:
        fname = f.f_code.co_filename
        if not os.path.abspath(fname).startswith(_PKG):
            lines.append(f'  File "{fname}", line {f.f_lineno}, in {f.f_code.co_name}')
            code = linecache.getline(fname, f.f_lineno).strip()
            if code:
                lines.append(f"    {code}")
        f = f.f_back
    return "\n".join(lines) if lines else "  (no frame outside microtensor)"


def _bad(a) -> str | None:
    """'nan' or 'inf' if the float array `a` holds such values, else None."""
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fc" or a.size == 0:
        return None
    if np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


def anomaly_forward(op, out: np.ndarray, arrays) -> None:
    """Anomaly mode: remember where `op` was created; raise if it produced NaN/Inf from finite inputs."""
    where = user_frames()
    op.where = where
    kind = _bad(out)
    if kind is None or any(_bad(a) for a in arrays):
        return
    raise RuntimeError(
        f"detect_anomaly: {type(op).__name__.lower()} ({op.name()}) produced {kind} values in its output "
        f"of shape {tuple(out.shape)} {out.dtype} from finite inputs. The op was called at (most recent "
        f"call first):\n{where}"
    )


def _reducible(gshape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether a gradient of gshape can be summed down to shape (shape broadcasts to gshape)."""
    try:
        return np.broadcast_shapes(shape, gshape) == gshape
    except ValueError:
        return False


def anomaly_backward(node, res: tuple, inputs) -> None:
    """Anomaly mode: raise if `node`'s derivatives returned a gradient that the engine cannot sum down
    to its input's shape, or a NaN/Inf one."""
    for i, (gx, x) in enumerate(zip(res, inputs)):
        if gx is None:
            continue
        shape = getattr(x, "shape", None)
        if shape is not None and not _reducible(tuple(gx.shape), tuple(shape)):
            raise RuntimeError(
                f"detect_anomaly: Function '{node.name()}' returned a gradient of shape {tuple(gx.shape)} "
                f"for its input {i} of shape {tuple(shape)}"
            )
        kind = _bad(getattr(gx, "_data", gx))  # an array, or a Tensor under create_graph
        if kind is not None:
            where = getattr(node, "where", None) or "  (unknown: the op was recorded outside anomaly mode)"
            raise RuntimeError(
                f"detect_anomaly: Function '{node.name()}' returned {kind} values in its {i}th output "
                f"(the gradient for its input {i}, shape {tuple(gx.shape)}). The forward op was created at "
                f"(most recent call first):\n{where}"
            )
