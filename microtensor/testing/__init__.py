"""Testing helpers: PyTorch's `assert_close`, and for your own gradient tests Hypothesis
strategies and a one-line gradient check.

`assert_close` needs nothing beyond microtensor. The strategies and `assert_gradients_match`
need `hypothesis`, which `import microtensor` never loads; they are imported on first use, and
`pip install 'microtensor[testing]'` installs it:

    import microtensor as mt
    from hypothesis import given
    from microtensor.testing import assert_gradients_match, broadcastable_shapes, tensors

    @given(tensors(elements="positive", requires_grad=True))
    def test_my_log1p(x):
        assert_gradients_match(lambda t: (t + 1).log(), x, second_order=True)

Strategies draw finite float values inside a named *domain* (or a `(lo, hi)`
interval), so that finite differences are valid: no value sits at a kink
(abs/relu at 0), on a pole (1/x at 0) or on a tie (max, maximum) unless asked.

`assert_gradients_match` compares a function's (or a Module's) autograd
gradients with central finite differences in float64 and raises AssertionError
naming the worst element.
"""

from __future__ import annotations

import importlib

from ._close import assert_close

_HYPOTHESIS_NAMES = (
    "DOMAINS",
    "DEFAULT_MIN_GAP",
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "tensors",
    "dtypes",
    "assert_gradients_match",
)
__all__ = ["assert_close", *_HYPOTHESIS_NAMES]


def __getattr__(name: str):
    if name in _HYPOTHESIS_NAMES:  # loaded on first use: it needs hypothesis
        return getattr(importlib.import_module("._hypothesis", __name__), name)
    raise AttributeError(f"module 'microtensor.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
