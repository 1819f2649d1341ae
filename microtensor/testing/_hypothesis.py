"""The Hypothesis strategies and the gradient check of microtensor.testing (see its docstring)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # an optional extra: say which one instead of a bare "No module named"
    raise ImportError(
        "microtensor.testing needs Hypothesis, which is not installed: "
        "pip install 'microtensor[testing]' (or pip install hypothesis)"
    ) from e

from .. import _dtypes, autograd
from ..tensor import Tensor

__all__ = [
    "DOMAINS",
    "DEFAULT_MIN_GAP",
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "tensors",
    "dtypes",
    "assert_gradients_match",
]

#: Named value domains: each maps to ``(lo, hi, signed)``. A signed domain draws
#: magnitudes in ``[lo, hi]`` with either sign, i.e. ``[-hi, -lo] ∪ [lo, hi]``.
DOMAINS: dict[str, tuple[float, float, bool]] = {
    "real": (-3.0, 3.0, False),  # exp, tanh, +, -, *, matmul, reductions, shape ops
    "positive": (0.1, 3.0, False),  # log, sqrt, base of a real power
    "nonzero": (0.5, 3.0, True),  # divisors: |x| >= 0.5 keeps 1/x well conditioned
    "unit": (-0.9, 0.9, False),  # inside (-1, 1), 0.1 away from the ends
    "away_from_zero": (0.01, 3.0, True),  # abs, relu: |x| >= 0.01, far from the kink at 0
    "logits": (-10.0, 10.0, False),  # sigmoid, softmax: saturating but finite
}

#: Grid step used when values must be pairwise distinct (ties are kinks for max/min).
DEFAULT_MIN_GAP = 1e-2

Domain = str | tuple[float, float]


def _domain(elements: Domain) -> tuple[float, float, bool]:
    if isinstance(elements, str):
        try:
            return DOMAINS[elements]
        except KeyError:
            raise ValueError(f"unknown domain {elements!r}; expected one of {sorted(DOMAINS)}") from None
    lo, hi = (float(v) for v in elements)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"a domain interval needs finite lo <= hi, got {elements!r}")
    return lo, hi, False


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with ``min_dims..max_dims`` dims, each of size ``min_side..max_side``.

    shapes(max_dims=2)  # e.g. (), (4,), (3, 1)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``n`` shapes that broadcast together (e.g. ``((3, 1), (2, 1, 4))``), for binary/ternary ops.

    @given(broadcastable_shapes(2))
    def test_add(shapes):
        a, b = (mt.randn(*s, dtype=mt.float64, requires_grad=True) for s in shapes)
        assert_gradients_match(mt.add, a, b)
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda bs: tuple(bs.input_shapes))


def _grid_arrays(shape, lo: float, hi: float, signed: bool, gap: float) -> st.SearchStrategy[np.ndarray]:
    """Pairwise-distinct values on the grid ``gap * k`` inside the domain."""
    k_lo, k_hi = math.ceil(lo / gap - 1e-9), math.floor(hi / gap + 1e-9)
    if k_lo > k_hi:
        raise ValueError(f"min_gap={gap} leaves no grid point in [{lo}, {hi}]")
    if signed:  # magnitudes k_lo..k_hi, either sign
        ks = st.integers(k_lo, k_hi).flatmap(lambda k: st.sampled_from((k, -k)))
        capacity = 2 * (k_hi - k_lo + 1) - (k_lo == 0)
    else:
        ks = st.integers(k_lo, k_hi)
        capacity = k_hi - k_lo + 1
    size = math.prod(shape)
    if size > capacity:
        raise ValueError(f"cannot draw {size} values at least {gap} apart in [{lo}, {hi}]")
    return hnp.arrays(np.int64, shape, elements=ks, unique=True).map(lambda k: np.asarray(k * gap))


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    elements: Domain = "real",
    min_gap: float | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """NumPy arrays of ``dtype`` with finite values in the domain ``elements``.

    ``elements`` is a name from ``DOMAINS`` or a ``(lo, hi)`` interval.
    ``min_gap``: if given, all values are pairwise at least that far apart
    (drawn on a grid of that step), so max/min/maximum have no ties.
    """
    lo, hi, signed = _domain(elements)
    dt = np.dtype(dtype)
    shape_st = (
        shapes() if shape is None else shape if isinstance(shape, st.SearchStrategy) else st.just(shape)
    )

    def build(shp: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        shp = tuple(shp)
        if min_gap is not None:
            return _grid_arrays(shp, lo, hi, signed, min_gap).map(lambda a: np.asarray(a, dtype=dt))
        floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        if signed:
            floats = st.tuples(st.booleans(), floats).map(lambda sv: -sv[1] if sv[0] else sv[1])
        return hnp.arrays(np.float64, shp, elements=floats).map(lambda a: np.asarray(a, dtype=dt))

    return shape_st.flatmap(build)


def tensors(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = _dtypes.float64,
    elements: Domain = "real",
    requires_grad: bool = False,
    min_gap: float | None = None,
) -> st.SearchStrategy[Tensor]:
    """Tensors with finite values inside a domain (see ``DOMAINS``), float64 by default.

    ``shape`` is a fixed shape, a strategy of shapes (e.g. ``shapes()``) or None
    (any shape from ``shapes()``). Every value lies in the domain, so
    ``elements="positive"`` is safe for log and ``"away_from_zero"`` for abs/relu.

        @given(tensors((2, 3), elements="positive", requires_grad=True))
        def test_log(x):
            assert_gradients_match(mt.log, x)

        @given(tensors(shapes(min_dims=1), min_gap=DEFAULT_MIN_GAP))  # no ties: safe for max/min
        def test_max(x): ...
    """
    if requires_grad and not _dtypes.is_floating(np.dtype(dtype)):
        raise ValueError(f"tensors: only floating dtypes can require grad, got {np.dtype(dtype)}")

    def make(a: np.ndarray) -> Tensor:
        t = Tensor(a)
        if requires_grad:
            t.requires_grad = True
        return t

    return arrays(shape, dtype, elements, min_gap).map(make)


def dtypes() -> st.SearchStrategy[np.dtype]:
    """The floating dtypes gradients flow through: float32 and float64."""
    return st.sampled_from([_dtypes.float32, _dtypes.float64])


# ------------------------------------------------------------- gradient check
def _to_float64_leaf(t: Tensor, requires_grad: bool) -> Tensor:
    out = Tensor(np.array(t.detach().numpy(), dtype=np.float64))
    out.requires_grad = requires_grad
    return out


def _named_parameters(module: Any) -> list[tuple[str, Tensor]]:
    if hasattr(module, "named_parameters"):
        named = list(module.named_parameters())
    else:
        named = [(str(i), p) for i, p in enumerate(module.parameters())]
    seen: set[int] = set()
    unique = []
    for name, p in named:  # shared (tied) parameters are one input
        if id(p) not in seen:
            seen.add(id(p))
            unique.append((name, p))
    return unique


def assert_gradients_match(
    fn_or_module: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    second_order: bool = False,
) -> None:
    """Assert that autograd's gradients of a function or Module match finite differences.

    Runs in float64: every floating Tensor input is copied to a float64 leaf
    (your tensors are not modified). The inputs checked are those with
    ``requires_grad=True``; if none of them requires grad and there are no
    parameters, every floating Tensor input is checked. For a Module (any
    callable with a ``parameters()`` method) its parameters are checked too:
    they are switched to float64 for the check and restored afterwards (the
    module's forward must be deterministic: no dropout in training mode).
    ``second_order=True`` also checks second derivatives (gradgradcheck).
    Non-Tensor inputs are passed through unchanged.

    Raises AssertionError naming the worst element (which output, which input
    or parameter, analytic vs numeric value).

        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        assert_gradients_match(model, mt.randn(5, 3))
        assert_gradients_match(lambda a, b: (a * b).sum(), mt.randn(3, requires_grad=True),
                               mt.randn(3), second_order=True)
    """
    params: list[tuple[str, Tensor]] = []
    if hasattr(fn_or_module, "parameters") and callable(fn_or_module.parameters):
        params = [(n, p) for n, p in _named_parameters(fn_or_module) if p.is_floating_point()]

    any_marked = any(isinstance(x, Tensor) and x.requires_grad for x in inputs)
    args: list[Any] = []
    labels: list[str | None] = []  # what gradcheck's "input k" is (None: not checked), for messages
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.is_floating_point():
            check = x.requires_grad or (not any_marked and not params)
            args.append(_to_float64_leaf(x, check))
            labels.append(f"argument {i} (shape {x.shape})" if check else None)
        else:
            args.append(x)
            labels.append(None)
    n_args = len(args)
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args) and not any(
        p.requires_grad for _, p in params
    ):
        raise ValueError(
            "assert_gradients_match: nothing to check; pass a floating Tensor input or a Module "
            "with parameters that require grad"
        )

    saved = [(p, p.data) for _, p in params]
    try:
        for _, p in params:  # the module keeps using its own Parameter objects, now in float64
            p.data = np.array(p.detach().numpy(), dtype=np.float64)
        checked_params = [(n, p) for n, p in params if p.requires_grad]
        labels += [f"parameter {n!r} (shape {p.shape})" for n, p in checked_params]

        def wrapped(*xs: Any) -> Any:
            return fn_or_module(*xs[:n_args])  # parameters are reached through the module itself

        all_inputs = tuple(args) + tuple(p for _, p in checked_params)
        legend = "; ".join(f"input {k} = {lab}" for k, lab in enumerate(labels) if lab)
        try:
            autograd.gradcheck(wrapped, all_inputs, eps=eps, atol=atol, rtol=rtol)
        except autograd.GradcheckError as e:
            raise AssertionError(f"gradients do not match finite differences: {e}\n[{legend}]") from e
        if second_order:
            try:
                autograd.gradgradcheck(wrapped, all_inputs, eps=eps, atol=atol, rtol=rtol)
            except autograd.GradcheckError as e:
                raise AssertionError(
                    f"second derivatives do not match finite differences: {e}\n"
                    f"[first-order inputs: {legend}; then one grad_output per output]"
                ) from e
    finally:
        for p, data in saved:
            p.data = data
