"""A custom autograd.Function (a smooth step 3x^2 - 2x^3 on [0, 1]) used inside a fit."""

# tolerance: rtol=1e-5 atol=1e-7
import torch


class SmoothStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        x = input.clamp(0.0, 1.0)
        ctx.save_for_backward(input)
        return 3 * x**2 - 2 * x**3

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        inside = ((input > 0) & (input < 1)).to(input.dtype)
        return grad_output * 6 * input * (1 - input) * inside


dtype = torch.float64
x = torch.linspace(-1, 2, 50, dtype=dtype)
u = (0.4 * x + 0.2).clamp(0, 1)
target = 3 * u**2 - 2 * u**3  # what SmoothStep(0.4 x + 0.2) gives: the fit can find w, b
w = torch.tensor(0.5, dtype=dtype, requires_grad=True)
b = torch.tensor(0.125, dtype=dtype, requires_grad=True)
check = torch.autograd.gradcheck(
    SmoothStep.apply, (torch.tensor([0.3, 0.6], dtype=dtype, requires_grad=True),)
)
print("gradcheck", check)
for step in range(600):
    pred = SmoothStep.apply(w * x + b)
    loss = ((pred - target) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.2 * w.grad
        b -= 0.2 * b.grad
    w.grad.zero_()
    b.grad.zero_()
    if step % 150 == 0:
        print(step, f"{loss.item():.10f}")
print(f"w={w.item():.8f} b={b.item():.8f}")
