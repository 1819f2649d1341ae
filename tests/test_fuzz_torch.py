"""Differential fuzzing against PyTorch: dtypes, values and gradients of small random programs.

Hypothesis draws how the inputs are created (Python scalars, nested lists of Python numbers, NumPy
scalars alone or inside lists, NumPy arrays of every dtype; `dtype=` given or not), then a few ops
(arithmetic with Python scalars and with tensors of other dtypes, reductions, comparisons, casts,
unary functions). The same program runs in microtensor and in PyTorch: each step must give the same
shape, dtype and values, or raise in both; at the end, floating results are summed and
backpropagated, and every leaf's gradient must match.

Under CI=1 the derandomized 'ci' profile fixes the examples; the budget keeps the file well under 30 s.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import microtensor as mt  # noqa: E402

EXAMPLES = 150
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
FLOATS = ["float16", "float32", "float64"]
# relative tolerance per result dtype: float16 arithmetic rounds per op in NumPy, PyTorch may keep
# float32 intermediates (e.g. in sums), so a float16 result can differ in its last bits
RTOL = {"float16": 2e-2, "float32": 2e-5, "float64": 1e-12}


def mt_dtype(name: str):
    return getattr(mt, "bool" if name == "bool" else name)


def torch_dtype(name: str):
    return getattr(torch, name)


def dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


# ------------------------------------------------------------------ values and creation paths
def elements(dtype: str):
    """Small, exactly representable values (no overflow in a few products), zero included."""
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("float"):
        return st.sampled_from([0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, -0.7, 7.25]).map(float)
    lo = 0 if dtype == "uint8" else -9
    return st.integers(lo, 9)


def python_number(kind: str):
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(-9, 9)
    return elements("float64")


def nest(flat: list, shape: tuple[int, ...]):
    """A flat list as nested lists of `shape`."""
    if not shape:
        return flat[0]
    step = len(flat) // shape[0] if shape[0] else 0
    return [nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


@st.composite
def source(draw, shape):
    """Data in one of PyTorch's creation forms, and a description for failure reports."""
    how = draw(st.sampled_from(["python", "python_list", "numpy_scalar", "numpy_array", "numpy_in_list"]))
    n = int(np.prod(shape))
    if how == "python" or (how == "python_list" and not shape):
        kind = draw(st.sampled_from(["bool", "int", "float"]))
        return draw(python_number(kind)), f"python {kind}"
    if how == "python_list":
        kinds = draw(st.lists(st.sampled_from(["bool", "int", "float"]), min_size=1, max_size=2, unique=True))
        flat = [draw(python_number(draw(st.sampled_from(kinds)))) for _ in range(n)]
        return nest(flat, shape), f"python list of {kinds}"
    dtype = draw(st.sampled_from(DTYPES))
    if how == "numpy_scalar":
        return np.dtype(dtype).type(draw(elements(dtype))), f"numpy {dtype} scalar"
    if how == "numpy_array":
        return draw(hnp.arrays(dtype, shape, elements=elements(dtype))), f"numpy {dtype} array"
    # NumPy scalars inside a list, some maybe mixed with Python numbers
    mix = draw(st.sampled_from([None, "bool", "int", "float"]))
    flat = []
    for _ in range(max(n, 1)):
        if mix is not None and draw(st.booleans()):
            flat.append(draw(python_number(mix)))
        else:
            flat.append(np.dtype(dtype).type(draw(elements(dtype))))
    return nest(flat, shape) if shape else flat, f"list of numpy {dtype} scalars (mixed with {mix})"


@st.composite
def leaf(draw, shape):
    """(microtensor tensor, torch tensor) made from the same data by the same creation call."""
    data, desc = draw(source(shape))
    dtype = draw(st.none() | st.sampled_from(DTYPES))
    func = draw(st.sampled_from(["tensor", "as_tensor"]))
    note(f"leaf: {func}({desc}: {data!r}, dtype={dtype})")
    try:
        theirs = getattr(torch, func)(data, dtype=None if dtype is None else torch_dtype(dtype))
    except (TypeError, RuntimeError, ValueError, OverflowError) as e:
        note(f"torch raises {type(e).__name__}: {e}")
        if isinstance(e, TypeError) and "cannot be interpreted as an integer" in str(e):
            # PyTorch cannot convert a NumPy float scalar to an integer or bool dtype (it asks the
            # scalar for an integer); microtensor converts it as it converts a Python float
            return None
        with pytest.raises(Exception):  # noqa: B017 - any error will do; the message is ours
            getattr(mt, func)(data, dtype=None if dtype is None else mt_dtype(dtype))
        return None
    ours = getattr(mt, func)(data, dtype=None if dtype is None else mt_dtype(dtype))
    if isinstance(data, np.ndarray) and func == "as_tensor":  # PyTorch may share the array: copy both
        theirs, ours = theirs.clone(), ours.clone()
    check_same(ours, theirs, "creation")
    if dtype_name(theirs) in FLOATS and draw(st.booleans()):
        theirs.requires_grad_()
        ours.requires_grad_()
    return ours, theirs


# ------------------------------------------------------------------ the ops
def scalar_operand():
    return st.sampled_from(["bool", "int", "float"]).flatmap(python_number)


UNARY = {
    "neg": lambda x, lib: -x,
    "abs": lambda x, lib: abs(x),
    "exp": lambda x, lib: x.exp(),
    "tanh": lambda x, lib: x.tanh(),
    "sigmoid": lambda x, lib: x.sigmoid(),
    "relu": lambda x, lib: x.relu(),
    "log": lambda x, lib: x.log(),
    "sqrt": lambda x, lib: x.sqrt(),
    "sum": lambda x, lib: x.sum(),
    "sum0": lambda x, lib: x.sum(0),
    "mean": lambda x, lib: x.mean(),
    "max": lambda x, lib: x.max(),
    "min": lambda x, lib: x.min(),
    "argmax": lambda x, lib: x.argmax(),
    "float": lambda x, lib: x.float(),
    "double": lambda x, lib: x.double(),
    "long": lambda x, lib: x.long(),
    "to_half": lambda x, lib: x.to(lib.float16),
    "to_int32": lambda x, lib: x.to(lib.int32),
    "to_bool": lambda x, lib: x.to(lib.bool),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
}


def check_same(ours, theirs, what: str, values: bool = True, rtol: float = 0.0) -> None:
    """Same shape and dtype; same values too unless `values` is False (rtol: at least this loose)."""
    assert isinstance(ours, mt.Tensor), f"{what}: got {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {ours.shape} vs {tuple(theirs.shape)}"
    assert dtype_name(ours) == dtype_name(theirs), f"{what}: dtype {ours.dtype} vs torch {theirs.dtype}"
    if not values:
        return
    a = ours.detach().numpy()
    b = theirs.detach().numpy()
    if a.dtype.kind == "f":
        rtol = max(rtol, RTOL[str(a.dtype)])
        finite = np.isfinite(b)
        scale = float(np.abs(b[finite]).max()) if finite.any() else 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(scale, 1.0), equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


# Known divergences in the ops (ops/*.py), listed in the report of the fuzzing work: the program stops
# there instead of failing. Keys: (op, dtype of an operand); a Python bool operand counts as "bool".
KNOWN_LENIENT = {  # PyTorch raises, microtensor computes a result
    ("abs", "bool"): "PyTorch has no abs for bool tensors",
    ("sub", "bool"): "PyTorch refuses `-` with a bool operand",
    ("neg", "bool"): "PyTorch refuses `-` of a bool tensor",
    ("relu", "bool"): "PyTorch has no relu for bool tensors",
    ("argmax", "bool"): "PyTorch has no argmax for bool tensors",
    ("pow", "bool"): "PyTorch has no pow between bools",
    ("pow", "int"): "PyTorch refuses an integer tensor to a negative Python int power",
}
KNOWN_STRICTER = {  # microtensor raises, PyTorch computes a result
    ("pow", "int"): "integers to negative integer powers: NumPy refuses, PyTorch computes (2 ** -1 == 0)",
}
KNOWN_DTYPE = {  # both compute, with another result dtype
    ("pow", "bool"): "bool ** bool is bool in PyTorch, int8 in microtensor",
}
# Ops whose float results may differ in the last bits between NumPy and PyTorch (other libm, other
# summation order); + - * / and casts are correctly rounded in both, so they stay exact.
INEXACT = {"exp", "log", "sqrt", "tanh", "sigmoid", "pow", "sum", "sum0", "mean", "div"}
TO_EXACT = {"long", "to_int32", "to_bool", "argmax", "eq", "lt", "ge"}  # float in, exact result out


COMPARISONS = {"eq", "lt", "ge"}


def uint8_vs_negative(args) -> bool:
    kinds = operand_kinds(args)
    return "uint8" in kinds and any(type(a) in (int, float) and a < 0 for a in args)


def mixed_integer_tensors(args) -> bool:
    kinds = {dtype_name(a) for a in args if isinstance(a, mt.Tensor)}
    return len(kinds) == 2 and all(k[:3] in ("int", "uin") for k in kinds)


def operand_kinds(args) -> list[str]:
    kinds = []
    for a in args:
        if isinstance(a, mt.Tensor):
            kinds.append(dtype_name(a))
        elif isinstance(a, bool):
            kinds.append("bool")
    return kinds


def known(table: dict, step: str, args) -> str | None:
    for kind in operand_kinds(args):
        reason = table.get((step, kind)) or table.get((step, "int" if kind[:3] in ("int", "uin") else kind))
        if reason:
            return reason
    return None


def run_step(step: str, fn, ours_args, theirs_args, what: str, values: bool = True, rtol: float = 0.0):
    """Apply fn in both frameworks: the same result, or an error in both. None when the program stops."""
    try:
        theirs = fn(*theirs_args)
    except (TypeError, RuntimeError, ValueError, NotImplementedError) as e:
        note(f"{what}: torch raises {type(e).__name__}: {str(e)[:120]}")
        reason = known(KNOWN_LENIENT, step, ours_args)
        if reason:
            note(f"known divergence: {reason}")
            return None
        try:
            fn(*ours_args)
        except Exception:  # noqa: BLE001 - any error will do; the message is ours
            return None
        kinds = [dtype_name(a) if isinstance(a, mt.Tensor) else type(a).__name__ for a in ours_args]
        raise AssertionError(f"{what}: torch raises ({type(e).__name__}: {e}) on {kinds}, we do not") from e
    try:
        ours = fn(*ours_args)
    except Exception as e:
        reason = known(KNOWN_STRICTER, step, ours_args)
        if reason:
            note(f"known divergence: {reason}")
            return None
        raise AssertionError(f"{what}: we raise {type(e).__name__}: {e}; torch gives {theirs!r}") from e
    if dtype_name(ours) != dtype_name(theirs) and known(KNOWN_DTYPE, step, ours_args):
        note(f"known divergence: {known(KNOWN_DTYPE, step, ours_args)}")
        return None
    if step == "div" and (mixed_integer_tensors(ours_args) or uint8_vs_negative(ours_args)):
        # PyTorch converts each integer operand to float directly; microtensor first casts both to
        # their common integer dtype, which may wrap (-2 as uint8 is 254)
        note("known divergence: true division of integers of different dtypes")
        check_same(ours, theirs, what, values=False)
        return None
    if step in COMPARISONS and (uint8_vs_negative(ours_args) or mixed_integer_tensors(ours_args)):
        # PyTorch casts both operands to their common dtype first (with a uint8 tensor, -4 becomes 252,
        # so 0 >= -4 is False); microtensor compares the values
        note("known divergence: integers of different dtypes compared")
        check_same(ours, theirs, what, values=False)
        return None
    check_same(ours, theirs, what, values=values, rtol=rtol)
    if step == "relu" and dtype_name(theirs) in FLOATS:
        a, b = ours.detach().numpy(), theirs.detach().numpy()
        if (np.signbit(a) != np.signbit(b)).any():  # only at zeros, check_same saw equal values
            note("known divergence: relu(-0.0) is -0.0 in PyTorch, 0.0 in microtensor")
            return None
    return ours, theirs


@st.composite
def programs(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    first = draw(leaf(shape))
    if first is None:
        return None
    leaves = [first]
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["unary", "binary_scalar", "binary_tensor"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY))), None, None))
        elif kind == "binary_scalar":
            name = draw(st.sampled_from(sorted(BINARY)))
            steps.append(("scalar", name, draw(scalar_operand()), draw(st.booleans())))
        else:
            # the other operand broadcasts: a suffix of the shape, or 0-d
            other_shape = draw(st.sampled_from([shape[i:] for i in range(len(shape) + 1)]))
            other = draw(leaf(other_shape))
            if other is None:
                continue
            leaves.append(other)
            name = draw(st.sampled_from(sorted(BINARY)))
            steps.append(("tensor", name, len(leaves) - 1, draw(st.booleans())))
    return leaves, steps


@settings(max_examples=EXAMPLES)
@given(program=programs())
def test_random_programs_match_pytorch(program):
    if program is None:  # the creation itself raised in both
        return
    leaves, steps = program
    ours, theirs = leaves[0]
    # Values are compared while they are reliable: once a result of an INEXACT op (last bits may
    # differ) is turned into integers or bools (a cast, a comparison), later values may differ
    # legitimately (3.0000001 vs 2.9999999 cast to 2 and 3), so only shapes and dtypes are compared.
    rtol = max((RTOL.get(dtype_name(t), 0.0) for _, t in leaves), default=0.0)
    inexact, values, nonfinite = False, True, False
    with warnings.catch_warnings():
        # PyTorch is silent at poles; so must microtensor's forward be
        warnings.simplefilter("error", RuntimeWarning)
        # known, in ops/elementwise.py: a cast to an integer dtype is not an Op and warns on NaN
        warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
        for i, (kind, name, arg, swap) in enumerate(steps):
            what = f"step {i}: {kind} {name} {arg!r} swap={swap}"
            note(what)
            if kind == "unary":
                args = ((ours, mt), (theirs, torch))
                fn = UNARY[name]
            else:
                fn = BINARY[name]
                o_other, t_other = (arg, arg) if kind == "scalar" else leaves[arg]
                args = ((o_other, ours), (t_other, theirs)) if swap else ((ours, o_other), (theirs, t_other))
            if kind == "tensor":
                rtol = max(rtol, RTOL.get(dtype_name(t_other), 0.0))
            if inexact and name in TO_EXACT:
                values = False
            res = run_step(name, fn, args[0], args[1], what, values=values, rtol=rtol if inexact else 0.0)
            if res is None:
                return
            ours, theirs = res
            if dtype_name(theirs) in FLOATS:
                nonfinite = nonfinite or not bool(torch.isfinite(theirs).all())
                rtol = max(rtol, RTOL[dtype_name(theirs)])
                # an inexact float result carries its precision into later (wider) results
                inexact = inexact or name in INEXACT
    if not (theirs.requires_grad and values):
        return
    try:
        theirs.sum().backward()
    except RuntimeError as e:  # e.g. PyTorch's pow backward with a bool exponent
        note(f"torch backward raises: {e}")
        return
    with warnings.catch_warnings():
        # backward rules still warn at poles (the engine does not silence them yet): not checked here
        warnings.simplefilter("ignore", RuntimeWarning)
        ours.sum().backward()
    # known, in ops/: gradients through NaN differ from PyTorch's conventions (PyTorch gives abs'
    # gradient 0 at NaN, relu's 1, and min/max send the gradient to the NaN element), so programs with
    # NaN or inf on the way compare values only; and Pow's backward special-cases exponent 0 (0 where
    # PyTorch computes 0 * x**-1, NaN at x = 0), so with pow only gradients finite in both are compared
    if nonfinite:
        note("non-finite intermediate values: gradients not compared")
        return
    finite_only = any(name == "pow" for _, name, _, _ in steps)
    for i, (o, t) in enumerate(leaves):
        if t.grad is None:
            assert o.grad is None, f"leaf {i}: grad {o.grad} where torch has None"
            continue
        assert o.grad is not None, f"leaf {i}: no grad where torch has one"
        og, tg = o.grad, t.grad
        if finite_only:
            keep = np.isfinite(og.numpy()) & np.isfinite(tg.numpy())
            og, tg = mt.tensor(og.numpy()[keep]), torch.tensor(tg.numpy()[keep])
        check_same(og, tg, f"grad of leaf {i}", rtol=rtol)
