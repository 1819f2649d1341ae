"""assert_close: are two tensors (or numbers, or sequences and mappings of them) close, as
torch.testing.assert_close decides it and says it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .. import _dtypes
from ..tensor import Tensor

# PyTorch's default (rtol, atol) per dtype; other dtypes compare exactly
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}
_NUMBER = (bool, int, float, np.number, np.bool_)


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Raise AssertionError unless `actual` and `expected` are close, as torch.testing.assert_close:
    same shape (and dtype, unless check_dtype=False), and |actual - expected| <= atol + rtol·|expected|
    elementwise, with rtol and atol by dtype unless both are given (float32: 1.3e-6 and 1e-5;
    float64: 1e-7 and 1e-7; integers and bools: exact). NaNs match only with equal_nan=True.
    Tensors, Python numbers, and sequences or mappings of them (compared item by item) are
    accepted; the message names the mismatched elements, the greatest differences and where.
    (microtensor has one device, layout and stride model: those checks always pass.)

        mt.testing.assert_close(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 2.0 + 1e-7]))   # passes
    """
    failure = _compare(actual, expected, rtol, atol, equal_nan, check_dtype, "")
    if failure is not None:
        if callable(msg):
            failure = msg(failure)
        elif msg is not None:
            failure = msg
        raise AssertionError(failure)


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, path: str) -> str | None:
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _with_path(
            _compare_arrays(actual._data, expected._data, rtol, atol, equal_nan, check_dtype), path
        )
    if isinstance(actual, _NUMBER) and isinstance(expected, _NUMBER):
        a, e = np.asarray(actual), np.asarray(expected)
        return _with_path(_compare_arrays(a, e, rtol, atol, equal_nan, False, scalars=True), path)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return _with_path(
                f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                f"{sorted(map(repr, set(expected) - set(actual)))}\nAdditional keys in the actual mapping: "
                f"{sorted(map(repr, set(actual) - set(expected)))}",
                path,
            )
        for key in expected:
            failure = _compare(
                actual[key], expected[key], rtol, atol, equal_nan, check_dtype, f"{path}[{key!r}]"
            )
            if failure is not None:
                return failure
        return None
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            return _with_path(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            failure = _compare(a, e, rtol, atol, equal_nan, check_dtype, f"{path}[{i}]")
            if failure is not None:
                return failure
        return None
    raise TypeError(
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
    )


def _is_sequence(x) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _with_path(failure: str | None, path: str) -> str | None:
    if failure is None or not path:
        return failure
    return f"{failure}\n\nThe failure occurred for item {path}"


def _compare_arrays(a: np.ndarray, e: np.ndarray, rtol, atol, equal_nan, check_dtype, scalars=False):
    if (rtol is None) != (atol is None):  # (checked per pair, after the structure, as PyTorch)
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}."
        )
    if a.shape != e.shape:
        from ..size import Size

        return f"The values for attribute 'shape' do not match: {Size(a.shape)!r} != {Size(e.shape)!r}."
    if check_dtype and a.dtype != e.dtype:
        return (
            f"The values for attribute 'dtype' do not match: microtensor.{a.dtype} != microtensor.{e.dtype}."
        )
    dt = np.promote_types(a.dtype, e.dtype) if a.dtype != e.dtype else a.dtype
    if scalars and dt.kind == "f":  # Python floats compare as float64, as PyTorch's scalar pairs
        dt = np.dtype(np.float64)
    if rtol is None:
        rtol, atol = _TOLERANCES.get(dt, (0.0, 0.0))
    exact = dt.kind in "biu"
    a, e = a.astype(dt, copy=False), e.astype(dt, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        if exact:
            ok = a == e
            diff = np.abs(a.astype(np.int64) - e.astype(np.int64))
            rel_dt = np.dtype(np.float64) if scalars else _dtypes.get_default_dtype()
        else:
            diff = np.abs(a - e)
            ok = (a == e) | (diff <= atol + rtol * np.abs(e))
            if equal_nan:
                ok |= np.isnan(a) & np.isnan(e)
            rel_dt = dt
        if bool(ok.all()):
            return None
        rel = diff.astype(rel_dt) / np.abs(e).astype(rel_dt)
    close = rtol > 0 or atol > 0
    title = (
        f"{'Scalars' if scalars or a.ndim == 0 else 'Tensor-likes'} are not {'close' if close else 'equal'}!"
    )

    def allowed(tol: float) -> str:
        return f" (up to {tol} allowed)" if close else ""

    if scalars or a.ndim == 0:
        return (
            f"{title}\n\nExpected {e.item()} but got {a.item()}.\n"
            f"Absolute difference: {diff.item()}{allowed(atol)}\n"
            f"Relative difference: {rel.item()}{allowed(rtol)}"
        )
    bad = int((~ok).sum())
    i_abs, i_rel = _argmax_nan(diff, ~ok), _argmax_nan(rel, ~ok)
    return (
        f"{title}\n\nMismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)\n"
        f"Greatest absolute difference: {diff[i_abs].item()} at index {i_abs}{allowed(atol)}\n"
        f"Greatest relative difference: {rel[i_rel].item()} at index {i_rel}{allowed(rtol)}"
    )


def _argmax_nan(x: np.ndarray, among: np.ndarray) -> tuple[int, ...]:
    """Where x is greatest among the mismatched elements, a NaN counting as greatest (as PyTorch)."""
    where = np.flatnonzero(among)
    flat = x.reshape(-1)[where]
    nan = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
    k = int(np.argmax(nan)) if nan.any() else int(np.argmax(flat))
    return tuple(int(i) for i in np.unravel_index(where[k], x.shape))
