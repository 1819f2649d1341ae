"""A character-level language model: nn.Embedding + nn.LSTM + nn.Linear, trained a few Adam steps on
a fixed string with deterministic weights, then greedy decoding; also packed variable-length batches."""

# tolerance: rtol=1e-4 atol=1e-5
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

text = "hello world, hello sequence models. "
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
V, E, H = len(chars), 6, 12


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, num_layers=2, batch_first=True)
        self.head = nn.Linear(H, V)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.emb(idx), state)
        return self.head(out), state


model = CharLSTM()
with torch.no_grad():  # deterministic weights, the same in every framework
    for i, p in enumerate(model.parameters()):
        n = p.numel()
        p.copy_(torch.linspace(-0.3, 0.3, n).reshape(p.shape) * (1 if i % 2 else -1) + 0.01 * i)
print("parameters:", [(k, tuple(v.shape)) for k, v in model.state_dict().items()])

opt = torch.optim.Adam(model.parameters(), lr=0.02)
x, y = data[:-1].view(1, -1), data[1:].view(1, -1)
for step in range(8):
    logits, _ = model(x)
    loss = F.cross_entropy(logits.view(-1, V), y.view(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: loss {loss.item():.5f}")

with torch.no_grad():
    idx, state, out = torch.tensor([[stoi["h"]]]), None, "h"
    for _ in range(12):
        logits, state = model(idx, state)
        idx = logits[:, -1].argmax(-1, keepdim=True)
        out += chars[idx.item()]
    print("greedy:", repr(out))
    h, c = state
    print("state shapes", tuple(h.shape), tuple(c.shape), f"h sum {h.sum().item():.5f}")

# a variable-length batch, padded then packed
lengths = [7, 3, 5]
batch = torch.zeros(3, 7, dtype=torch.long)
for b, n in enumerate(lengths):
    batch[b, :n] = data[b : b + n]
packed = pack_padded_sequence(model.emb(batch), lengths, batch_first=True, enforce_sorted=False)
out, (h, c) = model.lstm(packed)
padded, lens = pad_packed_sequence(out, batch_first=True)
print("batch sizes", packed.batch_sizes.tolist(), "lengths", lens.tolist())
print("padding stays zero:", bool((padded[1, 3:] == 0).all()))
print(f"last states {[round(v, 5) for v in h[-1].sum(1).tolist()]}")
(padded.sum() + h.sum()).backward()
print(f"embedding grad norm {model.emb.weight.grad.pow(2).sum().sqrt().item():.5f}")
