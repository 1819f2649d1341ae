"""Minimise the Rosenbrock function with LBFGS and a strong-Wolfe line search."""
# tolerance: rtol=1e-6 atol=1e-9
import torch

xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([xy], lr=1, max_iter=50, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    x, y = xy[0], xy[1]
    loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    loss.backward()
    return loss


for step in range(5):
    loss = opt.step(closure)
    print(step, f"{loss.item():.8e}", [f"{v:.8f}" for v in xy.tolist()])
