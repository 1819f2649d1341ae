"""Metric learning on three clusters: a PReLU/ELU embedding trained with the triplet margin loss,
then cosine similarities, pairwise distances, KL between soft assignments and padded features;
deterministic data and weights, no random numbers."""

# tolerance: rtol=1e-4 atol=1e-6
import torch
import torch.nn as nn
import torch.nn.functional as F

t = torch.linspace(-1, 1, 12)
centers = [(-2.0, 0.0, 1.0), (2.0, 0.5, -1.0), (0.0, 2.5, 0.5)]
points = torch.cat(
    [torch.stack([cx + 0.4 * t, cy - 0.3 * t, cz + 0.2 * t.pow(2)], dim=1) for cx, cy, cz in centers]
)
labels = torch.arange(3).repeat_interleave(12)

net = nn.Sequential(nn.Linear(3, 8), nn.PReLU(8), nn.Linear(8, 8), nn.ELU(), nn.Linear(8, 4))
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        if p.dim() == 1 and p.numel() == 8 and i == 2:
            continue  # PReLU's slopes keep their 0.25
        values = [((k * 0.7548776662 + 0.29 * i) % 1.0) - 0.5 for k in range(p.numel())]
        p.copy_(torch.tensor(values).reshape(p.shape))

anchor_idx = torch.arange(36)
positive_idx = torch.tensor([(i // 12) * 12 + (i + 5) % 12 for i in range(36)])
negative_idx = torch.tensor([(i + 12) % 36 for i in range(36)])
loss_fn = nn.TripletMarginLoss(margin=1.8, swap=True)
opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.5)
for epoch in range(60):
    emb = F.normalize(net(points), dim=1)
    loss = loss_fn(emb[anchor_idx], emb[positive_idx], emb[negative_idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 20 == 19:
        print(f"epoch {epoch + 1} triplet loss {loss.item():.5f}")

with torch.no_grad():
    emb = F.normalize(net(points), dim=1)
    cos = nn.CosineSimilarity(dim=1)
    print("same-cluster cos", f"{cos(emb[:12], emb[positive_idx[:12]]).mean().item():.4f}")
    print("other-cluster cos", f"{cos(emb[:12], emb[negative_idx[:12]]).mean().item():.4f}")
    dist = nn.PairwiseDistance(p=1.0)(emb[anchor_idx], emb[negative_idx])
    print("mean L1 distance to negatives", f"{dist.mean().item():.4f}")
    centroids = torch.stack([emb[labels == k].mean(0) for k in range(3)])
    logits = emb @ centroids.T * 5
    assign = F.log_softmax(logits, dim=1)
    target = F.one_hot(labels, 3).float() * 0.9 + 0.1 / 3
    print("kl batchmean", f"{F.kl_div(assign, target, reduction='batchmean').item():.5f}")
    print("accuracy", f"{(logits.argmax(1) == labels).float().mean().item():.3f}")
    padded = F.pad(emb.reshape(6, 6, 4).permute(2, 0, 1).unsqueeze(0), (1, 1, 1, 1), mode="reflect")
    print("padded", tuple(padded.shape), f"{padded.sum().item():.4f}")
    apart = F.cosine_embedding_loss(emb[:12], emb[12:24], -torch.ones(12), margin=-0.9)
    print("embedding loss", f"{apart.item():.5f}")
