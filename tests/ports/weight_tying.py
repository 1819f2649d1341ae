"""Weight tying and sharing: an autoencoder whose decoder is the transposed encoder matrix, and one
layer reused twice; shared parameters are counted once and get the sum of both gradients."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn.functional as F
from torch import nn


class TiedAutoencoder(nn.Module):
    def __init__(self, features, code):
        super().__init__()
        self.encoder = nn.Linear(features, code)
        self.mix = nn.Linear(code, code)
        self.blocks = nn.ModuleList([self.mix, self.mix])  # the same layer, applied twice
        self.decoder_bias = nn.Parameter(torch.zeros(features))

    def forward(self, x):
        h = torch.tanh(self.encoder(x))
        for block in self.blocks:
            h = h + torch.tanh(block(h))
        return F.linear(h, self.encoder.weight.t(), self.decoder_bias)  # tied decoder


torch.manual_seed(0)
basis = torch.randn(2, 6)
data = torch.randn(64, 2) @ basis + 0.05 * torch.randn(64, 6)
model = TiedAutoencoder(6, 2)
print("parameters", [name for name, _ in model.named_parameters()])
print("unique parameter count", sum(p.numel() for p in model.parameters()))
print("state_dict keys", list(model.state_dict()))
loss = F.mse_loss(model(data), data)
loss.backward()
print("shared layer grad abs sum", f"{model.mix.weight.grad.abs().sum().item():.5f}")
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(150):
    opt.zero_grad()
    loss = F.mse_loss(model(data), data)
    loss.backward()
    opt.step()
    if step % 50 == 49:
        print(f"step {step + 1} reconstruction mse {loss.item():.5f}")
print("still shared:", model.blocks[0] is model.blocks[1] and model.blocks[0].weight is model.mix.weight)
