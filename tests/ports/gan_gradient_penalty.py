"""A tiny WGAN-GP on a 2-D mixture of eight Gaussians: generator and critic MLPs, the critic trained
five steps per generator step with the gradient penalty of Gulrajani et al. (2017), computed with
torch.autograd.grad(create_graph=True) on random interpolates, and Adam(betas=(0.5, 0.9))."""

# tolerance: rtol=1e-4 atol=1e-5
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

BATCH = 64
LAMBDA = 0.1  # gradient penalty weight (the toy-data setting of the paper's code)
CRITIC_ITERS = 5
ITERS = 30

CENTERS = (
    torch.tensor([[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)]) * 2.0
)


def sample_real(n):
    idx = torch.randint(0, 8, (n,))
    return CENTERS[idx] + 0.05 * torch.randn(n, 2)


def mlp(n_in, n_out):
    return nn.Sequential(
        nn.Linear(n_in, 32), nn.ReLU(True), nn.Linear(32, 32), nn.ReLU(True), nn.Linear(32, n_out)
    )


netG = mlp(2, 2)
netD = mlp(2, 1)
optimizerD = torch.optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.9))
optimizerG = torch.optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.9))


def calc_gradient_penalty(netD, real_data, fake_data):
    alpha = torch.rand(BATCH, 1)
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates.requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = torch.autograd.grad(
        outputs=disc_interpolates,
        inputs=interpolates,
        grad_outputs=torch.ones_like(disc_interpolates),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA


for iteration in range(ITERS):
    # (1) the critic: maximise D(real) - D(fake) - penalty
    for p in netD.parameters():
        p.requires_grad = True
    for _ in range(CRITIC_ITERS):
        real = sample_real(BATCH)
        netD.zero_grad()
        D_real = netD(real).mean()
        noise = torch.randn(BATCH, 2)
        with torch.no_grad():
            fake = netG(noise)
        D_fake = netD(fake).mean()
        gradient_penalty = calc_gradient_penalty(netD, real, fake)
        D_cost = D_fake - D_real + gradient_penalty
        D_cost.backward()
        Wasserstein_D = D_real - D_fake
        optimizerD.step()

    # (2) the generator: maximise D(G(z)); the critic's weights get no gradient
    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()
    noise = torch.randn(BATCH, 2)
    fake = netG(noise)
    G_cost = -netD(fake).mean()
    G_cost.backward()
    optimizerG.step()

    if iteration % 5 == 4:
        print(
            f"iter {iteration + 1:3d}  D_cost {D_cost.item():+.5f}  G_cost {G_cost.item():+.5f}  "
            f"W {Wasserstein_D.item():+.5f}  GP {gradient_penalty.item():.5f}"
        )

with torch.no_grad():
    samples = netG(torch.randn(512, 2))
print("generated mean", [round(v, 4) for v in samples.mean(0).tolist()])
print("generated std ", [round(v, 4) for v in samples.std(0).tolist()])
print("critic first-layer weight norm", f"{netD[0].weight.norm().item():.4f}")
