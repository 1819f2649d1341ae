"""A physics-informed fit: u(t) from a small network must satisfy u'' + u = 0 with u(0)=1, u'(0)=0;
derivatives come from torch.autograd.grad with create_graph=True, so the residual trains."""

# tolerance: rtol=1e-3 atol=1e-6
import torch
from torch import nn

torch.set_default_dtype(torch.float64)  # derivatives of derivatives: keep the digits
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
t = torch.linspace(0, 3, 40).unsqueeze(1).requires_grad_(True)
t0 = torch.zeros(1, 1, requires_grad=True)
opt = torch.optim.Adam(net.parameters(), lr=0.01)


def derivative(out, inp):
    return torch.autograd.grad(out, inp, grad_outputs=torch.ones_like(out), create_graph=True)[0]


for step in range(300):
    u = net(t)
    du = derivative(u, t)
    d2u = derivative(du, t)
    residual = d2u + u
    u0 = net(t0)
    du0 = derivative(u0, t0)
    loss = residual.pow(2).mean() + (u0 - 1).pow(2).sum() + du0.pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 100 == 99:
        print(f"step {step + 1} loss {loss.item():.5f} residual {residual.abs().mean().item():.5f}")
with torch.no_grad():
    probe = torch.tensor([[0.0], [1.0], [2.0]])
    print("u", [round(v, 3) for v in net(probe).flatten().tolist()])
x = torch.tensor([0.5, 1.5], requires_grad=True)
(g,) = torch.autograd.grad((x**3).sum(), x, create_graph=True)
(h,) = torch.autograd.grad(g.sum(), x)
print("d/dx x^3 =", g.tolist(), "second:", h.tolist())
