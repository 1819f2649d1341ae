"""Fit y = sin(x) on [-pi, pi] with a cubic a + b x + c x^2 + d x^3: raw tensors, gradients derived
by hand (no autograd), plain gradient descent on the summed squared error."""

# tolerance: rtol=1e-5 atol=1e-4
# (linspace and x**2, x**3 are PyTorch's to the bit; the float32 sums of 2000 terms are not: NumPy
# adds pairwise, PyTorch in vectorised lanes, and sin may differ in the last ulp. Measured: agreement
# to ~1e-6 relative over 2000 steps, so a 4th printed decimal can flip: atol is one of them.)
import math

import torch

torch.manual_seed(0)
dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

a = torch.randn((), device=device, dtype=dtype)
b = torch.randn((), device=device, dtype=dtype)
c = torch.randn((), device=device, dtype=dtype)
d = torch.randn((), device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, f"{loss:.4f}")

    # dL/dy_pred, then the chain rule through each coefficient's term
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x**2).sum()
    grad_d = (grad_y_pred * x**3).sum()

    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d

print(f"Result: y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
