"""REINFORCE on a hand-made corridor: Categorical(logits=policy(state)), sample, log_prob, returns, Adam."""

# tolerance: rtol=1e-4 atol=1e-5
import torch
import torch.nn as nn
from torch.distributions import Categorical

torch.manual_seed(0)

N_CELLS, GOAL, MAX_STEPS, GAMMA = 6, 5, 20, 0.9


def one_hot(cell):
    x = torch.zeros(N_CELLS)
    x[cell] = 1.0
    return x


def step(cell, action):
    """Action 0 moves left (a wall at 0), 1 moves right; reaching the goal pays 1, every step costs 0.05."""
    cell = max(0, cell - 1) if action == 0 else cell + 1
    done = cell == GOAL
    return cell, (1.0 if done else -0.05), done


policy = nn.Sequential(nn.Linear(N_CELLS, 16), nn.Tanh(), nn.Linear(16, 2))
opt = torch.optim.Adam(policy.parameters(), lr=0.01)

for episode in range(80):
    cell, log_probs, rewards, entropies = 0, [], [], []
    for _ in range(MAX_STEPS):
        dist = Categorical(logits=policy(one_hot(cell)))
        action = dist.sample()
        log_probs.append(dist.log_prob(action))
        entropies.append(dist.entropy())
        cell, reward, done = step(cell, action.item())
        rewards.append(reward)
        if done:
            break
    returns, g = [], 0.0
    for r in reversed(rewards):  # discounted returns, last step first
        g = r + GAMMA * g
        returns.insert(0, g)
    returns = torch.tensor(returns)
    baseline = returns.mean()
    loss = -(torch.stack(log_probs) * (returns - baseline)).sum() - 0.01 * torch.stack(entropies).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if episode % 10 == 9 or episode < 3:
        ret, n = returns[0].item(), len(rewards)
        print(f"episode {episode + 1} steps {n} return {ret:.5f} loss {loss.item():.5f}")

with torch.no_grad():
    probs = Categorical(logits=policy(torch.eye(N_CELLS))).probs
print("P(right) per cell", [f"{p:.4f}" for p in probs[:, 1].tolist()])
