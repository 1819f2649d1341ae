"""microtensor.optim: update rules against NumPy transcriptions of PyTorch's documented algorithms,
parameter groups, state dicts, atomic failure, learning-rate schedules, argument validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
from microtensor.optim import SGD, Adam, AdamW, lr_scheduler

SHAPES = [(3, 2), (2,), ()]
STEPS = 6


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(mt.tensor(rng.standard_normal(s))) for s in SHAPES]


def grad_sequence(seed=1, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def run(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = mt.tensor(g)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


# ------------------------------------------------- NumPy references (PyTorch's docs)
def sgd_reference(
    theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    theta = [t.copy() for t in theta]
    bufs = [None] * len(theta)
    for gs in grads:
        for i, g in enumerate(gs):
            g = -g if maximize else g.copy()
            if weight_decay:
                g = g + weight_decay * theta[i]
            if momentum:
                if bufs[i] is None:
                    bufs[i] = g.copy()
                else:
                    bufs[i] = momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            theta[i] = theta[i] - lr * g
    return theta


def adam_reference(
    theta,
    grads,
    lr,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    theta = [t.copy() for t in theta]
    m = [np.zeros_like(t) for t in theta]
    v = [np.zeros_like(t) for t in theta]
    vmax = [np.zeros_like(t) for t in theta]
    for step, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            g = -g if maximize else g.copy()
            if weight_decay:
                if decoupled:
                    theta[i] = theta[i] * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * theta[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1**step)
            if amsgrad:
                vmax[i] = np.maximum(vmax[i], v[i])
                v_hat = vmax[i] / (1 - b2**step)
            else:
                v_hat = v[i] / (1 - b2**step)
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.8, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.1, momentum=0.7, weight_decay=0.1, nesterov=True),
    dict(lr=0.1, momentum=0.5, maximize=True),
]


@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_update_rule(cfg):
    params = make_params()
    theta0 = [p.detach().numpy().copy() for p in params]
    grads = grad_sequence()
    got = run(SGD(params, **cfg), params, grads)
    want = sgd_reference(theta0, grads, **cfg)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)
    assert not np.allclose(got[0], theta0[0])


ADAM_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True),
    dict(lr=0.01, maximize=True),
]


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("cfg", ADAM_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_adam_and_adamw_update_rules(cls, cfg):
    params = make_params()
    theta0 = [p.detach().numpy().copy() for p in params]
    grads = grad_sequence()
    got = run(cls(params, **cfg), params, grads)
    ref_cfg = {"weight_decay": 0.01 if cls is AdamW else 0.0, **cfg}  # AdamW's default decay is 1e-2
    want = adam_reference(theta0, grads, decoupled=cls is AdamW, **ref_cfg)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_amsgrad_differs_from_adam_when_gradients_shrink():
    """The reference above is only a check if the amsgrad branch is exercised: make v decrease."""
    grads = [[np.full(s, 10.0 / k) for s in SHAPES] for k in range(1, 7)]
    params_a, params_b = make_params(), make_params()
    a = run(Adam(params_a, lr=0.1, betas=(0.9, 0.5)), params_a, grads)
    b = run(Adam(params_b, lr=0.1, betas=(0.9, 0.5), amsgrad=True), params_b, grads)
    theta0 = [p.detach().numpy() for p in make_params()]
    want = adam_reference(theta0, grads, lr=0.1, betas=(0.9, 0.5), amsgrad=True)
    np.testing.assert_allclose(b[0], want[0], rtol=1e-12)
    assert not np.allclose(a[0], b[0])


def test_adamw_default_weight_decay_is_decoupled_and_nonzero():
    params = make_params()
    opt = AdamW(params)
    assert opt.defaults["weight_decay"] == 0.01 and Adam(make_params()).defaults["weight_decay"] == 0
    theta0 = [p.detach().numpy().copy() for p in params]
    grads = grad_sequence(steps=3)
    got = run(opt, params, grads)
    want = adam_reference(theta0, grads, lr=1e-3, weight_decay=0.01, decoupled=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)


def test_parameters_without_grad_are_skipped():
    params = make_params()
    before = params[1].detach().numpy().copy()
    opt = Adam(params, lr=0.1)
    params[0].grad = mt.ones(3, 2, dtype=mt.float64)
    opt.step()
    np.testing.assert_array_equal(params[1].detach().numpy(), before)
    assert params[1] not in opt.state and params[0] in opt.state


def test_step_with_closure_returns_its_loss():
    w = nn.Parameter(mt.tensor([3.0], dtype=mt.float64))
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.detach().numpy(), [3.0 - 0.25 * 6.0])


# ---------------------------------------------------------------- zero_grad
def test_zero_grad_sets_to_none_or_zeroes_in_place():
    params = make_params()
    opt = SGD(params, lr=0.1)
    for p in params:
        p.grad = mt.ones(*p.shape, dtype=mt.float64)
    grads = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(params, grads):
        assert p.grad is g and np.all(g.numpy() == 0)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


# ------------------------------------------------------------- param groups
def test_param_groups_with_their_own_hyper_parameters():
    a, b = make_params(0), make_params(1)
    theta_a = [p.detach().numpy().copy() for p in a]
    theta_b = [p.detach().numpy().copy() for p in b]
    opt = SGD([{"params": a}, {"params": b, "lr": 0.01, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.0, 0.9]
    assert opt.param_groups[1]["nesterov"] is False  # defaults fill the rest
    grads = grad_sequence(steps=4)
    for gs in grads:
        for p, q, g in zip(a, b, gs):
            p.grad, q.grad = mt.tensor(g), mt.tensor(2 * g)
        opt.step()
    want_a = sgd_reference(theta_a, grads, lr=0.1)
    want_b = sgd_reference(theta_b, [[2 * g for g in gs] for gs in grads], lr=0.01, momentum=0.9)
    for p, w in zip(a + b, want_a + want_b):
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-13)


def test_add_param_group_and_duplicate_parameters():
    a, b = make_params(0), make_params(1)
    opt = Adam(a, lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a[0]]})
    assert len(opt.param_groups) == 2


def test_named_parameters_are_accepted():
    model = nn.Linear(2, 3)
    opt = SGD(model.named_parameters(), lr=0.1)
    got = opt.param_groups[0]["params"]
    assert len(got) == 2 and got[0] is model.weight and got[1] is model.bias
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


# -------------------------------------------------------------- state dicts
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: Adam(ps, lr=0.05, amsgrad=True),
        lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1),
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_state_dict_round_trip_continues_like_an_uninterrupted_run(make):
    grads = grad_sequence(steps=8)
    ref_params = make_params()
    reference = run(make(ref_params), ref_params, grads)

    params = make_params()
    first = make(params)
    run(first, params, grads[:4])
    sd = first.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2] and sd["param_groups"][0]["params"] == [0, 1, 2]
    # a new optimizer over copies of the parameters, resumed from the state dict
    resumed_params = [nn.Parameter(mt.tensor(p.detach().numpy().copy())) for p in params]
    resumed = make(resumed_params)
    resumed.load_state_dict(sd)
    # keep stepping the original too: the resumed state must be a copy, not shared
    run(first, params, grads[4:])
    got = run(resumed, resumed_params, grads[4:])
    for g, w, p in zip(got, reference, params):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(p.detach().numpy(), w)


def test_load_state_dict_restores_hyper_parameters_and_rejects_mismatches():
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    run(opt, params, grad_sequence(steps=2))
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.01
    other = SGD(make_params(), lr=0.5, momentum=0.9)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.01
    small = SGD(make_params()[:2], lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size"):
        small.load_state_dict(sd)
    assert small.param_groups[0]["lr"] == 0.5 and small.state == {}
    two_groups = SGD([{"params": make_params()[:1]}, {"params": make_params()[1:]}], lr=0.5)
    with pytest.raises(ValueError, match="number of parameter groups"):
        two_groups.load_state_dict(sd)
    bad = opt.state_dict()
    bad["state"][0] = {"momentum_buffer": mt.zeros(5, 5, dtype=mt.float64)}
    fresh = SGD(make_params(), lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(bad)
    assert fresh.state == {} and fresh.param_groups[0]["lr"] == 0.5


def _state_arrays(opt):
    return {
        (i, k): (v.numpy().copy() if isinstance(v, mt.Tensor) else v)
        for i, p in enumerate(p for g in opt.param_groups for p in g["params"])
        for k, v in opt.state.get(p, {}).items()
    }


@pytest.mark.parametrize(
    "make",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1, amsgrad=True)],
    ids=["sgd", "adam"],
)
@pytest.mark.parametrize("bad_index", [0, 2])
def test_failed_step_changes_no_parameter_and_no_state(make, bad_index):
    params = make_params()
    opt = make(params)
    run(opt, params, grad_sequence(steps=2))
    theta = [p.detach().numpy().copy() for p in params]
    state = _state_arrays(opt)
    for p, g in zip(params, grad_sequence(seed=5, steps=1)[0]):
        p.grad = mt.tensor(g)
    params[bad_index]._grad = mt.zeros(7, dtype=mt.float64)  # planted past the .grad check: wrong shape
    with pytest.raises(RuntimeError, match=r"shape \(7,\)"):
        opt.step()
    for p, t in zip(params, theta):
        np.testing.assert_array_equal(p.detach().numpy(), t)
    after = _state_arrays(opt)
    assert after.keys() == state.keys()
    for k in state:
        np.testing.assert_array_equal(after[k], state[k])


def test_failed_first_step_creates_no_state():
    params = make_params()
    opt = Adam(params, lr=0.1)
    params[0].grad = mt.ones(3, 2, dtype=mt.float64)
    params[1]._grad = mt.tensor(np.array([1, 2]))  # integer gradient, planted past the .grad check
    with pytest.raises(RuntimeError, match="dtype"):
        opt.step()
    assert opt.state == {}


# --------------------------------------------------------------- schedulers
def _lrs(sched, opt, n):
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
    return np.array(out)


def _two_group_sgd():
    return SGD([{"params": make_params(0)}, {"params": make_params(1), "lr": 0.5}], lr=0.1)


def test_step_lr_sequence():
    opt = _two_group_sgd()
    got = _lrs(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), opt, 10)
    want = [[b * 0.5 ** (e // 3) for b in (0.1, 0.5)] for e in range(11)]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_exponential_lr_sequence():
    opt = _two_group_sgd()
    got = _lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), opt, 10)
    want = [[b * 0.9**e for b in (0.1, 0.5)] for e in range(11)]
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_cosine_annealing_lr_sequence_including_past_t_max():
    opt = _two_group_sgd()
    got = _lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.01), opt, 14)
    want = [[0.01 + (b - 0.01) * (1 + math.cos(math.pi * e / 5)) / 2 for b in (0.1, 0.5)] for e in range(15)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[5] == pytest.approx([0.01, 0.01]) and got[10] == pytest.approx([0.1, 0.5])


def test_scheduler_state_dict_and_resume():
    opt = SGD(make_params(), lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    _lrs(sched, opt, 3)
    sd = sched.state_dict()
    assert sd["last_epoch"] == 3 and "optimizer" not in sd
    opt2 = SGD(make_params(), lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(sd)
    for _ in range(4):
        sched.step()
        sched2.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(SGD(make_params(), lr=1.0), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.ExponentialLR(object(), gamma=0.5)


# -------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=-0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=-0.5),
        lambda ps: SGD(ps, lr=0.1, weight_decay=-1),
        lambda ps: SGD(ps, lr=0.1, nesterov=True),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda ps: Adam(ps, lr=-1e-3),
        lambda ps: Adam(ps, eps=-1e-8),
        lambda ps: Adam(ps, betas=(1.0, 0.999)),
        lambda ps: Adam(ps, betas=(0.9, -0.1)),
        lambda ps: Adam(ps, weight_decay=-0.1),
        lambda ps: AdamW(ps, betas=(0.9, 1.5)),
        lambda ps: SGD([], lr=0.1),
    ],
)
def test_invalid_hyper_parameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make(make_params())


def test_invalid_parameter_containers():
    p = make_params()[0]
    with pytest.raises(TypeError, match="iterable"):
        SGD(p, lr=0.1)
    with pytest.raises(TypeError):
        SGD([p, 3.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        SGD([{"params": set(make_params())}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)
