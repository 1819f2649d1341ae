"""Fuzz the public API: any shape, dtype, value and argument gives a correct shape or a named error.

Each test draws an op from a table and calls it with arbitrary tensors (0-d, empty, int, bool, float16/32/64,
NaN, Inf, huge values) and arbitrary arguments (negative, out-of-range or wrongly typed dims, scalars of every
kind, wrong types). Every call must either return a Tensor whose shape is NumPy's (or PyTorch's, where they
differ) or raise ValueError/TypeError/RuntimeError (IndexError only for indices and dims, as PyTorch) whose
message names the op: never AttributeError, NumPy's AxisError, ZeroDivisionError, KeyError or a bare NumPy
message. When the result requires grad, backward runs too and must give the input a gradient of its shape.

The budget is fixed per test (200 examples); under CI=1 the derandomized 'ci' profile makes it deterministic.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt
import microtensor.nn.functional as F
from microtensor import nn

EXAMPLES = 200
ALLOWED = (ValueError, TypeError, RuntimeError)
DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]
FLOATS = [np.float16, np.float32, np.float64]

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")


class NoReference(Exception):
    """The reference has no opinion for these arguments (only errors are checked)."""


# ---------------------------------------------------------------- strategies
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
BAD_DIMS = ["0", 1.0, 0.5, None, True, [0], (0, 1), (0, 0), (-1,), np.int64(1), object()]
dims = st.integers(-4, 4) | st.sampled_from(BAD_DIMS)
SCALARS = [0, 1, -1, 2, 0.0, -0.0, 0.5, -2.5, 1e4, -1e4, 1e300, math.nan, math.inf, -math.inf, True, False]
WRONG = ["a", None, [1.0, 2.0], object(), {"a": 1}, b"x"]


def values(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        specials = st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e4, -1e4, np.nan, np.inf, -np.inf])
        return specials | hnp.from_dtype(dtype) | st.floats(-3, 3, width=dtype.itemsize * 8)
    return hnp.from_dtype(dtype)


@st.composite
def arrays(draw, shape=None, dtype=None):
    dtype = draw(st.sampled_from(DTYPES)) if dtype is None else dtype
    shape = draw(shapes) if shape is None else shape
    return draw(hnp.arrays(dtype, shape, elements=values(dtype)))


@st.composite
def tensors(draw, shape=None, dtype=None):
    """(tensor, its array): float tensors sometimes require grad."""
    a = draw(arrays(shape, dtype))
    grad = a.dtype.kind == "f" and draw(st.booleans())
    return mt.tensor(a, requires_grad=grad), a


@st.composite
def operands(draw, shape):
    """The other operand of a binary op: a tensor that may broadcast, a scalar, or a wrong type."""
    kind = draw(st.sampled_from(["tensor", "broadcast", "scalar", "wrong"]))
    if kind == "scalar":
        v = draw(st.sampled_from(SCALARS))
        return v, np.asarray(v)
    if kind == "wrong":
        v = draw(st.sampled_from(WRONG))
        return v, None
    if kind == "broadcast" and shape:
        k = draw(st.integers(0, len(shape)))
        shape = tuple(draw(st.sampled_from([1, n])) for n in shape[k:])
    return draw(tensors(shape=shape if kind == "broadcast" else None))


# ---------------------------------------------------------------- the check
def np_axes(dim, ndim):
    """PyTorch's dim argument as a NumPy axis (0-d tensors accept dim 0 and -1), or NoReference."""
    if dim is None:
        return None
    ds = dim if isinstance(dim, tuple | list) else (dim,)
    if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) for d in ds):
        raise NoReference
    if ndim == 0:
        if all(d in (0, -1) for d in ds):
            return None
        raise NoReference
    return tuple(int(d) for d in ds)


def check(names, call, ref=None, x=None, index_ok=True):
    """call() returns a Tensor (of ref()'s shape when ref succeeds) or raises an allowed, named error."""
    names = (names,) if isinstance(names, str) else names
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = call()
        except Exception as err:  # noqa: BLE001 - the point is to classify every error
            allowed = ALLOWED + ((IndexError,) if index_ok else ())
            assert type(err) in allowed, f"{type(err).__module__}.{type(err).__name__}: {err}"
            msg = str(err).lower()
            assert any(n.lower() in msg for n in names), f"message does not name {names}: {err}"
            return None
        outs = list(out) if isinstance(out, tuple) and not isinstance(out, mt.Tensor) else [out]
        for o in outs:
            assert isinstance(o, mt.Tensor), f"{names[0]} returned {type(o).__name__}"
        if ref is not None:
            try:
                expected = ref()
            except NoReference:
                expected = None
            except Exception as err:  # noqa: BLE001
                raise AssertionError(
                    f"{names[0]} returned shape {outs[0].shape} where the reference raises {err!r}"
                ) from err
            if expected is not None:
                expected = tuple(expected.shape if hasattr(expected, "shape") else expected)
                assert outs[0].shape == expected, f"{names[0]}: shape {outs[0].shape}, expected {expected}"
        o = outs[0]
        if x is not None and x.requires_grad and o.requires_grad:
            o.sum().backward() if o.ndim else o.backward()
            assert x.grad is not None and x.grad.shape == x.shape
            assert x.grad.dtype == x.dtype
        return out


# ---------------------------------------------------------------- unary
UNARY = {
    "exp": (mt.exp, np.exp),
    "log": (mt.log, np.log),
    "sqrt": (mt.sqrt, np.sqrt),
    "abs": (mt.abs, np.abs),
    "neg": (mt.neg, np.negative),
    "tanh": (mt.tanh, np.tanh),
    "sigmoid": (mt.sigmoid, np.tanh),
    "relu": (mt.relu, np.abs),
    "clone": (mt.clone, np.copy),
    "F.relu": (F.relu, np.abs),
    "F.leaky_relu": (F.leaky_relu, np.abs),
    "F.tanh": (F.tanh, np.tanh),
    "F.sigmoid": (F.sigmoid, np.tanh),
    "isnan": (lambda t: t.isnan(), np.isnan),
    "isfinite": (lambda t: t.isfinite(), np.isfinite),
    "logical_not": (lambda t: t.logical_not(), np.logical_not),
    "float": (lambda t: t.float(), np.copy),
    "half": (lambda t: t.half(), np.copy),
    "long": (lambda t: t.long(), np.copy),
    "bool": (lambda t: t.bool(), np.copy),
    "detach": (lambda t: t.detach(), np.copy),
}


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_unary_ops(data):
    name = data.draw(st.sampled_from(sorted(UNARY)))
    fn, ref = UNARY[name]
    x, a = data.draw(tensors())
    check(name.removeprefix("F.").removeprefix("is"), lambda: fn(x), lambda: ref(a), x)


# ---------------------------------------------------------------- binary
BINARY = {
    "add": (mt.add, lambda a, b: a + b, np.add),
    "sub": (mt.sub, lambda a, b: a - b, np.subtract),
    "mul": (mt.mul, lambda a, b: a * b, np.multiply),
    "div": (mt.div, lambda a, b: a / b, np.divide),
    "pow": (mt.pow, lambda a, b: a**b, np.power),
    "maximum": (mt.maximum, None, np.maximum),
    "minimum": (mt.minimum, None, np.minimum),
    "eq": (lambda a, b: a.eq(b), lambda a, b: a == b, np.equal),
    "lt": (lambda a, b: a.lt(b), lambda a, b: a < b, np.less),
    "ge": (lambda a, b: a.ge(b), lambda a, b: a >= b, np.greater_equal),
    "and": (None, lambda a, b: a & b, np.logical_and),
    "or": (None, lambda a, b: a | b, np.logical_or),
}
BINARY_NAMES = {"and": ("and", "logical"), "or": ("or", "logical"), "lt": ("lt", "gt"), "ge": ("ge", "le")}


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_binary_ops_with_tensors_and_scalars(data):
    name = data.draw(st.sampled_from(sorted(BINARY)))
    fn, operator, ref = BINARY[name]
    x, a = data.draw(tensors())
    y, b = data.draw(operands(a.shape))
    reflected = data.draw(st.booleans()) and operator is not None and not isinstance(y, mt.Tensor)
    names = BINARY_NAMES.get(name, (name,))

    def expected():
        if b is None:
            raise NoReference  # a wrong type: only the error is checked
        return np.broadcast_shapes(a.shape, b.shape)

    if reflected:
        check(names, lambda: operator(y, x), expected, x)
    elif fn is not None and data.draw(st.booleans()):
        check(names, lambda: fn(x, y), expected, x)
    elif operator is not None:
        check(names, lambda: operator(x, y), expected, x)


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_matmul(data):
    x, a = data.draw(tensors())
    inner = a.shape[-1] if a.ndim and data.draw(st.booleans()) else data.draw(st.integers(0, 3))
    shape = data.draw(st.sampled_from([(), (inner,), (inner, 2), (2, inner, 3), (1, inner, 1)]))
    y, b = data.draw(tensors(shape=shape, dtype=data.draw(st.sampled_from([a.dtype, np.float64]))))

    def expected():
        if a.dtype != b.dtype or a.dtype == np.bool_:
            raise NoReference  # PyTorch refuses mixed dtypes; NumPy promotes
        return np.matmul(a, b)

    op = data.draw(st.sampled_from([mt.matmul, lambda p, q: p @ q]))
    check("matmul", lambda: op(x, y), expected, x)


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_where_and_clamp(data):
    x, a = data.draw(tensors())
    if data.draw(st.booleans()):
        c, ca = data.draw(tensors(dtype=np.bool_, shape=data.draw(st.sampled_from([a.shape, (), (1,)]))))
        y, b = data.draw(operands(a.shape))
        check(
            "where",
            lambda: mt.where(c, x, y),
            lambda: np.broadcast_shapes(ca.shape, a.shape, b.shape) if b is not None else None,
            x,
        )
    else:
        lo = data.draw(st.sampled_from([None, 0, -1.5, math.nan, math.inf, "a"]))
        hi = data.draw(st.sampled_from([None, 1, 2.5, -math.inf, math.nan, [1]]))
        check("clamp", lambda: mt.clamp(x, lo, hi), lambda: a.shape, x)


# ---------------------------------------------------------------- reductions
REDUCTIONS = {
    "sum": (lambda x, d, k: mt.sum(x, d, k), np.sum),
    "mean": (lambda x, d, k: mt.mean(x, d, k), np.mean),
    "max": (lambda x, d, k: mt.max(x, d, k), np.max),
    "min": (lambda x, d, k: x.min(d, k), np.min),
    "argmax": (lambda x, d, k: mt.argmax(x, d, k), np.max),
    "argmin": (lambda x, d, k: x.argmin(d, k), np.min),
    "logsumexp": (lambda x, d, k: mt.logsumexp(x, d, k), np.sum),
    "var": (lambda x, d, k: mt.var(x, d, keepdim=k), np.sum),
    "std": (lambda x, d, k: x.std(d, keepdim=k), np.sum),
    "all": (lambda x, d, k: x.all(d, k), np.all),
    "any": (lambda x, d, k: x.any(d, k), np.any),
}


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_reductions_with_dim_arguments(data):
    name = data.draw(st.sampled_from(sorted(REDUCTIONS)))
    fn, ref = REDUCTIONS[name]
    x, a = data.draw(tensors())
    dim = data.draw(dims | st.lists(st.integers(-3, 3), max_size=3).map(tuple))
    keepdim = data.draw(st.booleans())
    if name.startswith("arg") and isinstance(dim, tuple | list):
        dim = dim[0] if dim else None

    def expected():
        axes = np_axes(dim, a.ndim)
        if name in ("argmax", "argmin") and dim is None:
            if a.size == 0:
                raise ValueError("empty")  # PyTorch: argmax of an empty tensor is an error
            return (1,) * a.ndim if keepdim else ()
        if name in ("max", "min") and dim is None and keepdim:
            raise NoReference  # PyTorch refuses keepdim without a dim; microtensor ignores it
        if name in ("max", "min", "argmax", "argmin", "logsumexp") and a.ndim == 0 and axes is None:
            return ()
        if name in ("max", "min", "argmax", "argmin") and a.size == 0:
            # an error unless the reduced dims are non-empty (NumPy's rule too)
            return ref(a, axis=axes, keepdims=keepdim)
        return np.sum(np.zeros(a.shape), axis=axes, keepdims=keepdim)

    # PyTorch requires logsumexp's dim; microtensor may take None as "all"
    expected_fn = None if name == "logsumexp" and dim is None else expected
    check(name, lambda: fn(x, dim, keepdim), expected_fn, x)


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_softmax_family(data):
    name = data.draw(st.sampled_from(["softmax", "log_softmax", "F.softmax", "F.log_softmax", "Softmax"]))
    x, a = data.draw(tensors())
    dim = data.draw(dims)
    call = {
        "softmax": lambda: mt.softmax(x, dim),
        "log_softmax": lambda: x.log_softmax(dim),
        "F.softmax": lambda: F.softmax(x, dim),
        "F.log_softmax": lambda: F.log_softmax(x, dim),
        "Softmax": lambda: (nn.Softmax(dim) if dim is not None else nn.LogSoftmax())(x),
    }[name]

    def expected():
        if dim is None:
            return a.shape
        np_axes(dim, a.ndim)
        if isinstance(dim, tuple | list):
            raise NoReference
        if a.ndim and not -a.ndim <= dim < a.ndim:
            raise ValueError("dim")
        return a.shape

    check("softmax", call, expected, x)


# ---------------------------------------------------------------- shape ops
@st.composite
def sizes(draw, ndim):
    return tuple(draw(st.lists(st.integers(-2, 4), min_size=0, max_size=ndim + 1)))


def _squeeze_shape(shape, dim):
    if dim is None:
        return tuple(n for n in shape if n != 1)
    axes = np_axes(dim, len(shape))
    if axes is None:
        return shape
    axes = {d % len(shape) for d in axes if -len(shape) <= d < len(shape)} if shape else set()
    if len(axes) != len(dim if isinstance(dim, tuple | list) else (dim,)):
        raise NoReference
    return tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))


def _flatten_shape(shape, s, e):
    if not shape:
        return (1,)
    s, e = np_axes(s, len(shape))[0] % len(shape), np_axes(e, len(shape))[0] % len(shape)
    return shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :]


def _expand_shape(shape, target):
    lead = len(target) - len(shape)
    full = tuple(shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(target))
    return np.broadcast_to(np.zeros(shape), full).shape


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_shape_ops(data):
    name = data.draw(
        st.sampled_from(
            ["reshape", "view", "permute", "transpose", "squeeze", "unsqueeze", "flatten"] + ["expand"]
        )
    )
    x, a = data.draw(tensors())
    shape = a.shape
    if name in ("reshape", "view"):
        target = data.draw(sizes(a.ndim) | st.sampled_from([(-1,), (a.size,), (1, -1), ("2",), (1.0,)]))
        call = (lambda: mt.reshape(x, target)) if name == "reshape" else (lambda: x.view(*target))
        check(("reshape", "view"), call, lambda: np.reshape(a, target), x)
    elif name == "permute":
        perm = data.draw(st.permutations(range(a.ndim)) | st.lists(dims, max_size=4))
        perm = tuple(perm)
        check("permute", lambda: x.permute(*perm), lambda: np.transpose(a, np_axes(perm, a.ndim)), x)
    elif name == "transpose":
        d0, d1 = data.draw(dims), data.draw(dims)

        def expected():
            np_axes((d0, d1), a.ndim)
            return shape if a.ndim == 0 else np.swapaxes(a, d0, d1)

        check(("transpose", "permute"), lambda: x.transpose(d0, d1), expected, x)
    elif name == "squeeze":
        dim = data.draw(dims)
        check("squeeze", lambda: x.squeeze(dim), lambda: _squeeze_shape(shape, dim), x)
    elif name == "unsqueeze":
        dim = data.draw(dims)

        def expected():
            np_axes(dim, a.ndim + 1)
            return np.expand_dims(a, dim)

        check("unsqueeze", lambda: mt.unsqueeze(x, dim), expected, x)
    elif name == "flatten":
        s, e = data.draw(dims), data.draw(dims)

        def expected():
            np_axes(s, a.ndim) if a.ndim else None
            np_axes(e, a.ndim) if a.ndim else None
            if a.ndim and not (-a.ndim <= s < a.ndim and -a.ndim <= e < a.ndim and s % a.ndim <= e % a.ndim):
                raise ValueError("range")
            return _flatten_shape(shape, s, e)

        check("flatten", lambda: mt.flatten(x, s, e), expected, x)
    else:
        target = data.draw(sizes(a.ndim) | st.just(shape) | st.just((2,) + shape))
        check("expand", lambda: x.expand(*target), lambda: _expand_shape(shape, target), x)


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_cat_and_stack(data):
    name = data.draw(st.sampled_from(["cat", "stack", "concat"]))
    x, a = data.draw(tensors())
    n = data.draw(st.integers(0, 3))
    same = data.draw(st.booleans())
    others = [
        data.draw(tensors(shape=a.shape if same else None, dtype=a.dtype if same else None)) for _ in range(n)
    ]
    ts = [x] + [t for t, _ in others]
    arrs = [a] + [b for _, b in others]
    if data.draw(st.integers(0, 9)) == 0:
        ts = data.draw(st.sampled_from([x, "ab", None, (), [x, "a"], [x, None]]))
    dim = data.draw(dims)
    fn = {"cat": mt.cat, "concat": mt.concat, "stack": mt.stack}[name]

    def expected():
        if not isinstance(ts, list) or isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise NoReference
        if name == "stack":
            return np.stack([np.zeros(b.shape) for b in arrs], axis=dim)
        return np.concatenate([np.zeros(b.shape) for b in arrs], axis=dim)

    check(("cat", "stack"), lambda: fn(ts, dim), expected, x)


# ---------------------------------------------------------------- indexing
@st.composite
def indices(draw, shape):
    def one(n):
        return draw(
            st.integers(-n - 1, n)
            | st.slices(max(n, 1))
            | st.sampled_from([None, Ellipsis, slice(None, None, 2)])
            | st.lists(st.integers(-n - 1, n), max_size=3).map(lambda v: np.array(v, dtype=np.int64))
        )

    kind = draw(st.sampled_from(["tuple", "single", "mask", "tensor", "wrong"]))
    if kind == "wrong":
        return draw(st.sampled_from(["a", 1.5, {"a": 1}, [0.5], (slice(None), "x"), slice(0, 1, 0)]))
    if kind == "mask":
        mask_shape = shape if draw(st.booleans()) else draw(shapes)
        return draw(hnp.arrays(np.bool_, mask_shape))
    if kind == "tensor":
        n = shape[0] if shape else 1
        return mt.tensor(np.array(draw(st.lists(st.integers(-n - 1, n), max_size=3)), dtype=np.int64))
    if kind == "single":
        return one(shape[0] if shape else 1)
    return tuple(one(shape[i] if i < len(shape) else 1) for i in range(draw(st.integers(0, len(shape) + 1))))


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_indexing(data):
    x, a = data.draw(tensors())
    idx = data.draw(indices(a.shape))

    def expected():
        np_idx = idx.numpy() if isinstance(idx, mt.Tensor) else idx
        if isinstance(np_idx, tuple) and sum(isinstance(i, np.ndarray) for i in np_idx) > 1:
            raise NoReference  # several advanced indices: both broadcast, but empties differ
        return a[np_idx]  # negative steps are allowed, as NumPy (PyTorch refuses them)

    check("getitem", lambda: x[idx], expected, x)


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_take_along_dim_and_one_hot(data):
    x, a = data.draw(tensors())
    if data.draw(st.booleans()):
        ishape = a.shape if data.draw(st.booleans()) else data.draw(shapes)
        n = max(a.shape, default=1)
        idx = mt.tensor(data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n - 1, n))))
        dim = data.draw(dims)
        check("take_along_dim", lambda: mt.take_along_dim(x, idx, dim), None, x)
    else:
        # class indices below 10 (or negative): a huge index with num_classes=-1 would allocate that many
        # columns, as in PyTorch
        x, a = data.draw(tensors(dtype=data.draw(st.sampled_from([np.int64, np.uint8, np.float32]))))
        x = mt.tensor(np.clip(a, -1, 9) if a.dtype.kind == "i" else a)
        k = data.draw(st.integers(-1, 4) | st.sampled_from([1.5, "a"]))
        check("one_hot", lambda: F.one_hot(x, k), None, x)


# ---------------------------------------------------------------- layers and losses
@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_layers(data):
    name = data.draw(
        st.sampled_from(
            ["Linear", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Flatten", "Dropout", "Sequential"]
        )
    )
    x, a = data.draw(tensors())
    if name in ("Linear", "Sequential"):
        fan_in = a.shape[-1] if a.ndim and data.draw(st.booleans()) else data.draw(st.integers(0, 3))
        fan_out = data.draw(st.integers(0, 3))
        layer = nn.Linear(fan_in, fan_out, bias=data.draw(st.booleans()))
        if name == "Sequential":
            layer = nn.Sequential(layer, nn.ReLU())

        def expected():
            if a.ndim == 0 or a.shape[-1] != fan_in or a.dtype != np.float32:
                raise NoReference  # an error (PyTorch refuses other dtypes too)
            return a.shape[:-1] + (fan_out,)

        check(("linear", "matmul"), lambda: layer(x), expected, x)
    elif name == "Flatten":
        s, e = data.draw(dims), data.draw(dims)
        check("flatten", lambda: nn.Flatten(s, e)(x), None, x)
    elif name == "Dropout":
        p = data.draw(st.sampled_from([0.0, 0.5, 1.0, -0.1, 1.5, math.nan]))
        layer = nn.Dropout(0.5) if not 0 <= p <= 1 else nn.Dropout(p)
        call = (lambda: nn.Dropout(p)(x)) if not 0 <= p <= 1 else (lambda: layer(x))
        check("dropout", call, lambda: a.shape, x)
    else:
        layer = {"ReLU": nn.ReLU(), "Tanh": nn.Tanh(), "Sigmoid": nn.Sigmoid(), "LeakyReLU": nn.LeakyReLU()}[
            name
        ]
        check(name.lower().replace("leakyrelu", "relu"), lambda: layer(x), lambda: a.shape, x)


LOSSES = ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]


@given(data=st.data())
@settings(max_examples=EXAMPLES)
def test_losses(data):
    name = data.draw(st.sampled_from(LOSSES))
    x, a = data.draw(tensors())
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "bogus"]))
    if name in ("cross_entropy", "nll_loss"):
        tshape = data.draw(st.sampled_from([a.shape[:1] + a.shape[2:], a.shape, (), (1,)]))
        n = a.shape[1] if a.ndim > 1 else (a.shape[0] if a.ndim else 1)
        if data.draw(st.booleans()):
            t, tb = data.draw(tensors(shape=tshape, dtype=np.int64))
            t = mt.tensor(np.clip(tb, -100, n))
        else:
            t, tb = data.draw(tensors(shape=tshape))
    else:
        same = data.draw(st.booleans())
        t, tb = data.draw(tensors(shape=a.shape if same else None))
    fn = getattr(F, name)

    def expected():
        if reduction == "bogus":
            raise ValueError("reduction")
        raise NoReference

    def shape_only():
        if reduction == "bogus":
            raise ValueError("reduction")
        if reduction != "none":
            return ()
        raise NoReference

    out = check(name, lambda: fn(x, t, reduction=reduction), shape_only, x)
    if out is not None and reduction == "none" and name not in ("cross_entropy", "nll_loss"):
        assert out.shape == a.shape == tb.shape  # elementwise losses never broadcast
