"""Scale and endurance: linear time in graph length, flat memory over long training, graphs freed by
reference counting alone, and threads that neither see each other's grad mode nor disturb each
other's training.

The 100,000-op chain itself (forward and backward without RecursionError) is in test_engine.py; here
its time is compared with a 20,000-op chain. Training runs 2,000 XOR steps by default and the full
10,000 when CI is set.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn.functional as F
from microtensor import nn

XOR_STEPS = 10_000 if os.environ.get("CI") else 2_000


# ------------------------------------------------------------------ time linear in graph length
def _chain_seconds(n: int) -> float:
    x = mt.tensor([1.0], dtype=mt.float64, requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0000001
    y.sum().backward()
    elapsed = time.perf_counter() - start
    assert x.grad.item() == pytest.approx(1.0000001**n, rel=1e-9)
    return elapsed


def test_forward_and_backward_time_is_linear_in_chain_length():
    _chain_seconds(2_000)  # warm up
    short = min(_chain_seconds(20_000) for _ in range(2))
    long = _chain_seconds(100_000)
    ratio = (long / 100_000) / (short / 20_000)
    # a loose sanity bound (a quadratic walk would give ~5), not a benchmark
    assert ratio < 3, f"per-op time grew {ratio:.2f}x from 20k to 100k ops ({short:.2f}s, {long:.2f}s)"


# ------------------------------------------------------------------ memory stays flat
def _xor_model(seed: int = 0):
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    return model, mt.optim.Adam(model.parameters(), lr=0.01)


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
Y = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=np.float32)


def _xor_train(model, opt, steps: int) -> tuple[float, float]:
    """Full-batch training; the first and last losses (a list of all would itself grow memory)."""
    x, y = mt.tensor(X), mt.tensor(Y)
    first = last = None
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
        last = loss.item()
        first = last if first is None else first
    return first, last


def test_xor_training_keeps_memory_flat():
    model, opt = _xor_model()
    _xor_train(model, opt, 50)  # warm up caches and the optimizer state
    gc.collect()
    tracemalloc.start()
    try:
        _xor_train(model, opt, 50)
        gc.collect()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        first, last = _xor_train(model, opt, XOR_STEPS)
        gc.collect()
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 50_000, f"memory grew by {end - start} bytes over {XOR_STEPS} steps"
    assert peak - start < 200_000, f"peak {peak - start} bytes above the start over {XOR_STEPS} steps"
    assert last < 0.05 < first  # and it really trained


# ------------------------------------------------------------------ graphs freed without gc
def _graph(x: mt.Tensor, w: mt.Tensor, target: mt.Tensor, layer: nn.Module):
    """Intermediates of many kinds of op; returns them and the output."""
    h = layer(x)
    a = (h @ w).tanh()
    b = mt.cat([a, a.sigmoid()], 1)[:, ::2]
    c = mt.stack([b, b.relu()], 0).sum(0).softmax(1).log()
    d = a.reshape(-1).unsqueeze(0).expand(2, -1).permute(1, 0)
    e = mt.where(a > 0, a, a.exp()).clamp(-1, 1).max(1).values
    loss = F.cross_entropy(c, target) + d.mean() + e.logsumexp(0) + F.mse_loss(a, a.detach() * 2)
    return [h, a, b, c, d, e], loss


def test_a_graph_never_backpropagated_is_freed_by_reference_counting():
    mt.manual_seed(0)
    layer = nn.Linear(3, 4)
    x = mt.randn(5, 3, requires_grad=True)
    w = mt.randn(4, 4, requires_grad=True)
    target = mt.tensor(np.array([0, 1, 2, 3, 0]))
    gc.collect()
    gc.disable()
    try:
        inter, loss = _graph(x, w, target, layer)
        refs = [weakref.ref(t) for t in inter + [loss]]
        arrays = [weakref.ref(t._data) for t in inter if t._data.base is None]
        assert loss.grad_fn is not None and arrays
        del inter, loss
        alive = [r() for r in refs if r() is not None]
        assert not alive, f"tensors kept alive by a reference cycle: {[t.shape for t in alive]}"
        assert all(r() is None for r in arrays), "arrays kept alive after the graph was dropped"
    finally:
        gc.enable()


def test_a_backpropagated_graph_with_retain_graph_is_freed_too():
    mt.manual_seed(0)
    layer = nn.Linear(3, 4)
    x = mt.randn(5, 3, requires_grad=True)
    w = mt.randn(4, 4, requires_grad=True)
    target = mt.tensor(np.array([0, 1, 2, 3, 0]))
    gc.collect()
    gc.disable()
    try:
        inter, loss = _graph(x, w, target, layer)
        loss.backward(retain_graph=True)
        refs = [weakref.ref(t) for t in inter + [loss]]
        del inter, loss
        assert all(r() is None for r in refs)
        assert x.grad is not None and x.grad.grad_fn is None
    finally:
        gc.enable()


# ------------------------------------------------------------------ threads
def test_grad_mode_is_thread_local_while_both_threads_run():
    barrier = threading.Barrier(2, timeout=10)
    errors = []

    def worker(no_grad: bool):
        try:
            x = mt.ones(3, requires_grad=True)
            barrier.wait()
            for _ in range(2_000):
                if no_grad:
                    with mt.no_grad():
                        assert not mt.is_grad_enabled() and (x * 2).grad_fn is None
                else:
                    assert mt.is_grad_enabled() and (x * 2).grad_fn is not None
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert mt.is_grad_enabled()


def _sgd_model(seed: int):
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    return model, mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def test_two_threads_training_two_models_match_training_one_after_the_other():
    steps = 300
    sequential = []
    for seed in (0, 1):
        model, opt = _sgd_model(seed)
        _xor_train(model, opt, steps)
        sequential.append([p.detach().numpy().copy() for p in model.parameters()])

    models = [_sgd_model(seed) for seed in (0, 1)]  # built (and seeded) before the threads start
    barrier = threading.Barrier(2, timeout=10)
    errors = []

    def worker(model, opt):
        try:
            barrier.wait()
            _xor_train(model, opt, steps)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=m) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for (model, _), expected in zip(models, sequential, strict=True):
        for p, e in zip(model.parameters(), expected, strict=True):
            np.testing.assert_array_equal(p.detach().numpy(), e)
