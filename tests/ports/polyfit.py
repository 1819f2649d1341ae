"""Fit a cubic to y = x^3 - 2x + 1 with raw tensors and hand-written gradient descent."""

# tolerance: rtol=1e-4 atol=1e-6
import torch

x = torch.linspace(-2, 2, 200)
y = x**3 - 2 * x + 1

a = torch.zeros((), requires_grad=True)
b = torch.zeros((), requires_grad=True)
c = torch.zeros((), requires_grad=True)
d = torch.zeros((), requires_grad=True)

lr = 1e-2
for t in range(2000):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).mean()
    if t % 500 == 499:
        print(t, f"{loss.item():.6f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= lr * p.grad
            p.grad = None

print(f"y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
