"""autograd.grad with create_graph (second derivatives), hooks and retain_grad."""

# tolerance: rtol=1e-9 atol=1e-12
import torch

x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
y = (x**3 * x.exp()).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
print("dy/dx", [f"{v:.10f}" for v in g.tolist()])
(h,) = torch.autograd.grad(g.sum(), x)
print("d2y/dx2", [f"{v:.10f}" for v in h.tolist()])

seen = []
z = x.tanh()
z.retain_grad()
z.register_hook(lambda grad: seen.append(grad.sum().item()))
out = (z * z).sum()
out.backward()
print("z.grad", [f"{v:.10f}" for v in z.grad.tolist()])
print("x.grad", [f"{v:.10f}" for v in x.grad.tolist()])
print("hook", f"{seen[0]:.10f}")

w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
v = torch.tensor([0.5, -0.5], dtype=torch.float64)
loss = (w @ v).pow(2).sum()
loss.backward(retain_graph=True)
first = w.grad.clone()
loss.backward()
print("accumulated", (w.grad / first).tolist())
with torch.no_grad():
    q = w * 2
print("no_grad requires_grad", q.requires_grad)
