"""Fit a 2-D Gaussian mixture by maximum likelihood: MixtureSameFamily, Independent, Normal, Adam."""

# tolerance: rtol=1e-4 atol=1e-5
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

torch.manual_seed(0)

centres = torch.tensor([[-2.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
data = Normal(centres.repeat(40, 1), 0.4).sample()  # 120 points around three centres

logits = torch.zeros(3, requires_grad=True)
means = (data[:3] + 0.5 * torch.randn(3, 2)).requires_grad_()  # near one point of each cluster
log_scales = torch.zeros(3, 2, requires_grad=True)
opt = torch.optim.Adam([logits, means, log_scales], lr=0.05)

for step in range(200):
    gmm = MixtureSameFamily(Categorical(logits=logits), Independent(Normal(means, log_scales.exp()), 1))
    nll = -gmm.log_prob(data).mean()
    opt.zero_grad()
    nll.backward()
    opt.step()
    if step % 50 == 49:
        print(f"step {step + 1} nll {nll.item():.5f}")

order = means[:, 0].argsort()
print("means", [[f"{v:.3f}" for v in row] for row in means[order].tolist()])
print("weights", [f"{v:.3f}" for v in torch.softmax(logits, 0)[order].tolist()])
with torch.no_grad():
    print("gmm mean", [f"{v:.4f}" for v in gmm.mean.tolist()])
    draws = gmm.sample((4,))
    print("draws", [[f"{v:.4f}" for v in row] for row in draws.tolist()])
