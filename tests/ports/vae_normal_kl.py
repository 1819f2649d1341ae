"""A tiny VAE: Normal(mu, std).rsample(), kl_divergence to a standard Normal, Independent log_prob."""

# tolerance: rtol=1e-4 atol=1e-5
import torch
import torch.nn as nn
from torch.distributions import Independent, Normal, kl_divergence

torch.manual_seed(0)

t = torch.linspace(0, 1, 12).unsqueeze(1)
x = torch.cat([torch.sin(3 * t), torch.cos(3 * t), t, t**2], dim=1)  # 12 points on a curve in 4-D

encoder = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4))  # mu and log-variance of a 2-D code
decoder = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 4))
opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=0.01)
prior = Normal(torch.zeros(2), torch.ones(2))

for it in range(150):
    mu, logvar = encoder(x).chunk(2, dim=1)
    q = Normal(mu, (0.5 * logvar).exp())
    z = q.rsample()  # reparameterised: gradients reach the encoder
    recon = decoder(z)
    nll = -Independent(Normal(recon, 0.1), 1).log_prob(x).mean()
    kl = kl_divergence(q, prior).sum(-1).mean()
    loss = nll + kl
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 30 == 29:
        print(f"iter {it + 1} nll {nll.item():.4f} kl {kl.item():.4f} loss {loss.item():.4f}")

with torch.no_grad():
    mu, logvar = encoder(x).chunk(2, dim=1)
    print("code of the first point", [f"{v:.4f}" for v in mu[0].tolist()])
    print("posterior std", f"{(0.5 * logvar).exp().mean().item():.4f}")
    samples = prior.sample((3,))
    print("prior draws", [[f"{v:.4f}" for v in row] for row in samples.tolist()])
