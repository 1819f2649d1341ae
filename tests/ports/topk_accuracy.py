"""Top-k accuracy of a fixed linear classifier, sorting and ranking utilities, in the idioms of an
evaluation loop (topk, eq + expand_as, cumulative counts, per-class statistics)."""

# tolerance: rtol=1e-5 atol=1e-6
import torch

N, D, K = 12, 4, 5
x = torch.linspace(-2.0, 2.0, N * D).reshape(N, D).tanh()
W = torch.linspace(-1.0, 1.0, K * D).reshape(K, D).mul(3.0).tanh()
target = torch.tensor([i % K for i in range(N)])
logits = x @ W.T


def accuracy(output, target, topk=(1,)):
    maxk = max(topk)
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    res = []
    for k in topk:
        correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
        res.append(correct_k.mul_(100.0 / target.size(0)))
    return res


top1, top3 = accuracy(logits, target, topk=(1, 3))
print(f"top1 {top1.item():.4f} top3 {top3.item():.4f}")
values, indices = torch.sort(logits, dim=1, descending=True)
print("first row ranked:", indices[0].tolist(), [round(v, 4) for v in values[0].tolist()])
ranks = logits.argsort(dim=1, descending=True).argsort(dim=1)
print("rank of the target:", torch.gather(ranks, 1, target.unsqueeze(1)).squeeze(1).tolist())
pred = logits.argmax(dim=1)
print("predicted counts:", torch.bincount(pred, minlength=K).tolist())
conf = torch.zeros(K, K, dtype=torch.long)
conf.index_put_((target, pred), torch.ones(N, dtype=torch.long), accumulate=True)
print("confusion:", conf.tolist())
print("per-class recall:", [round(v, 4) for v in (conf.diag().float() / conf.sum(1).clamp(min=1)).tolist()])
probs = logits.softmax(dim=1)
mx, where = probs.max(dim=1)
print("confidence median:", round(mx.median().item(), 5), "spread:", round(mx.std().item(), 5))
print("cumulative correct:", (pred == target).long().cumsum(0).tolist())
print("unique predictions:", torch.unique(pred).tolist())
print("correct at:", (pred == target).nonzero().flatten().tolist())
