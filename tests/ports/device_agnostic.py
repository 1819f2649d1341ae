"""Device-agnostic code: pick a device, move the model and data, count correct predictions."""
# tolerance: rtol=1e-5 atol=1e-7
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
print(f"Using {device} device")
dev = torch.device(device)
model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(dev)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel(), device=dev).reshape(p.shape) * (i + 1))
x = torch.arange(16, dtype=torch.float32).reshape(4, 2, 2).to(device) / 10
y = torch.tensor([0, 1, 1, 0], device=device)
logits = model(x)
print(logits.device.type, x.is_cuda)
print("pred", logits.argmax(1).tolist(), "correct", (logits.argmax(1) == y).type(torch.float).sum().item())
print("cpu", logits.cpu().detach().numpy().round(4).tolist())
z = torch.zeros(3, device=device, dtype=torch.float64)
print(z.dtype == torch.float64, z.to("cpu").device, z.to(x).dtype == torch.float32)
