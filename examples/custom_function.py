"""Writing a new op with mt.autograd.Function, and proving its gradient in one line.

Softplus(x) = log(1 + eˣ), computed stably as max(x, 0) + log(1 + e^−|x|);
its derivative is sigmoid(x). The forward saves what backward needs with
ctx.save_for_backward; backward returns grad · sigmoid(x). Written with Tensor
ops, the backward is itself differentiable, so second derivatives work too.

microtensor.testing.assert_gradients_match compares autograd with finite
differences in float64, and catches a wrong backward (the second half).

Run:  python examples/custom_function.py
"""

from __future__ import annotations

import microtensor as mt
from microtensor.testing import assert_gradients_match


class Softplus(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu() + ((-x.abs()).exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class WrongSoftplus(Softplus):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid() * 1.01  # a 1% error that a loss curve would never show


def main() -> dict[str, bool]:
    mt.manual_seed(0)
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    y = Softplus.apply(x)
    print("softplus(x) =", y)
    y.sum().backward()
    print(
        "d/dx sum(softplus(x)) = sigmoid(x):",
        bool(((x.grad - x.detach().sigmoid()).abs().max() < 1e-12).item()),
    )

    assert_gradients_match(Softplus.apply, x, second_order=True)
    print("Softplus: gradients and second derivatives match finite differences")

    try:
        assert_gradients_match(WrongSoftplus.apply, x)
        caught = False
    except AssertionError as e:
        caught = True
        print(f"WrongSoftplus: caught ->\n  {str(e).splitlines()[0]}")
    return {"correct_passes": True, "wrong_caught": caught}


if __name__ == "__main__":
    main()
