"""Learning-rate schedulers against PyTorch's: the lr (and momentum/beta1) sequence of every group,
step by step across the schedule's phases, state_dict layout, and resuming from a state dict saved
by either framework."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor.optim import lr_scheduler as mls

torch = pytest.importorskip("torch")
tls = torch.optim.lr_scheduler


def _optimizer(lib, kind="SGD"):
    """Two parameter groups with different lrs (and momentum / betas to cycle)."""
    if lib is torch:
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        mod = torch.optim
    else:
        a, b = mt.nn.Parameter(mt.zeros(2)), mt.nn.Parameter(mt.zeros(3))
        mod = mt.optim
    if kind == "SGD":
        return mod.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    return mod.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, betas=(0.9, 0.99))


def _sls(lib):
    return tls if lib is torch else mls


class Halve:
    """A callable object (its attributes are saved by LambdaLR.state_dict, unlike a function's)."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** (epoch // 3)


# name -> (optimizer kind, builder(scheduler module, optimizer), steps)
CASES = {
    "LambdaLR": ("SGD", lambda s, o: s.LambdaLR(o, lambda e: 1 / (1 + e)), 12),
    "LambdaLR-per-group": ("SGD", lambda s, o: s.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 + e % 3]), 12),
    "MultiplicativeLR": ("SGD", lambda s, o: s.MultiplicativeLR(o, lambda e: 0.95 if e < 5 else 1.01), 12),
    "StepLR": ("SGD", lambda s, o: s.StepLR(o, step_size=3, gamma=0.5), 12),
    "MultiStepLR": ("SGD", lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 12),
    "ConstantLR": ("SGD", lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=4), 8),
    "LinearLR": ("SGD", lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6), 10),
    "ExponentialLR": ("SGD", lambda s, o: s.ExponentialLR(o, gamma=0.8), 10),
    "PolynomialLR": ("SGD", lambda s, o: s.PolynomialLR(o, total_iters=6, power=2.0), 10),
    "CosineAnnealingLR": ("SGD", lambda s, o: s.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 23),
    "CosineAnnealingWarmRestarts": (
        "SGD",
        lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
        25,
    ),
    "CyclicLR-triangular": (
        "SGD",
        lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3, step_size_down=5),
        20,
    ),
    "CyclicLR-triangular2-adam": (
        "Adam",
        lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="triangular2", base_momentum=0.7),
        20,
    ),
    "CyclicLR-exp_range": (
        "SGD",
        lambda s, o: s.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=4, mode="exp_range", gamma=0.9),
        20,
    ),
    "CyclicLR-no-momentum": (
        "SGD",
        lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False),
        12,
    ),
    "OneCycleLR-cos": ("SGD", lambda s, o: s.OneCycleLR(o, max_lr=[0.3, 1.0], total_steps=20), 19),
    "OneCycleLR-linear-three-phase-adam": (
        "Adam",
        lambda s, o: s.OneCycleLR(
            o,
            max_lr=0.3,
            epochs=4,
            steps_per_epoch=6,
            anneal_strategy="linear",
            three_phase=True,
            pct_start=0.25,
        ),
        23,
    ),
    "OneCycleLR-no-momentum": (
        "SGD",
        lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=10, cycle_momentum=False, div_factor=10.0),
        9,
    ),
    "SequentialLR": (
        "SGD",
        lambda s, o: s.SequentialLR(
            o,
            [s.LinearLR(o, start_factor=0.1, total_iters=4), s.ExponentialLR(o, 0.9), s.StepLR(o, 2, 0.5)],
            milestones=[4, 9],
        ),
        16,
    ),
    "ChainedScheduler": (
        "SGD",
        lambda s, o: s.ChainedScheduler(
            [s.ConstantLR(o, factor=0.5, total_iters=3), s.ExponentialLR(o, 0.9)]
        ),
        10,
    ),
}


def _values(opt):
    out = []
    for g in opt.param_groups:
        out += [g["lr"], g.get("momentum", math.nan), g["betas"][0] if "betas" in g else math.nan]
    return out


def _run(lib, name, steps=None, start=None):
    """(optimizer, scheduler, [lrs/momenta after each step]) for `steps` steps."""
    kind, build, n = CASES[name]
    opt = _optimizer(lib, kind)
    sched = build(_sls(lib), opt)
    seq = [_values(opt)]
    for _ in range(n if steps is None else steps):
        opt.step()
        sched.step()
        seq.append(_values(opt))
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    return opt, sched, seq


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_pytorch(name):
    _, _, got = _run(mt, name)
    _, _, want = _run(torch, name)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-15, atol=0)
    assert len({tuple(v) for v in got}) >= 2  # the schedule moved


def _keys(sd):
    return set(sd) - {"_scale_fn_ref"}  # PyTorch keeps a bound method there; microtensor has none


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_resume_within_and_across_frameworks(name):
    kind, build, n = CASES[name]
    k = n // 2
    for lib_from, lib_to in ((mt, mt), (mt, torch), (torch, mt)):
        opt, sched, _ = _run(lib_from, name, steps=k)
        opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), sched.state_dict()
        if lib_from is not lib_to:  # the optimizer here has no state: only hyper-parameters move
            opt_sd = {"state": {}, "param_groups": opt_sd["param_groups"]}
        # a fresh optimizer and scheduler, then the saved states (optimizer first, as PyTorch documents)
        new_opt = _optimizer(lib_to, kind)
        new_sched = build(_sls(lib_to), new_opt)
        new_opt.load_state_dict(opt_sd)
        new_sched.load_state_dict(copy.deepcopy(sched_sd))
        seq = []
        for _ in range(n - k):
            new_opt.step()
            new_sched.step()
            seq.append(_values(new_opt))
        _, _, full = _run(torch, name)
        np.testing.assert_allclose(
            np.array(seq), np.array(full[k + 1 :]), rtol=1e-15, atol=0, err_msg=str(lib_from)
        )
    # the same keys as PyTorch's state dict
    _, t_sched, _ = _run(torch, name, steps=k)
    _, m_sched, _ = _run(mt, name, steps=k)
    assert _keys(m_sched.state_dict()) == _keys(t_sched.state_dict())


# ---------------------------------------------------------------- ReduceLROnPlateau
PLATEAU_METRIC = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]
PLATEAU_METRIC += PLATEAU_METRIC[::-1] + [1.0] * 10


@pytest.mark.parametrize(
    "cfg",
    [
        dict(),
        dict(patience=2, factor=0.5),
        dict(mode="max", patience=1, factor=0.3, threshold=0.1),
        dict(mode="min", threshold_mode="abs", threshold=0.5, patience=1, cooldown=2, factor=0.5),
        dict(mode="max", threshold_mode="abs", threshold=0.0, patience=0, min_lr=[0.02, 0.1], factor=0.5),
        dict(patience=0, factor=0.5, min_lr=0.04, eps=1e-3),
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults",
)
def test_reduce_lr_on_plateau_matches_pytorch(cfg):
    seqs = []
    for lib in (mt, torch):
        opt = _optimizer(lib)
        sched = _sls(lib).ReduceLROnPlateau(opt, **cfg)
        seq = []
        for i, metric in enumerate(PLATEAU_METRIC):
            opt.step()
            sched.step(mt.tensor(metric) if lib is mt and i % 2 else metric)  # a number or a 0-d Tensor
            seq.append(_values(opt) + [sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        seqs.append(seq)
    np.testing.assert_allclose(np.array(seqs[0]), np.array(seqs[1]), rtol=1e-15)
    assert len({s[0] for s in seqs[0]}) > 1 or cfg == {}  # the lr was reduced


def test_reduce_lr_on_plateau_state_dict_resume_across_frameworks():
    cfg = dict(patience=1, factor=0.5, cooldown=1)
    k = 9
    full = []
    opt = _optimizer(torch)
    sched = tls.ReduceLROnPlateau(opt, **cfg)
    for m in PLATEAU_METRIC:
        sched.step(m)
        full.append(_values(opt))
    for lib_from, lib_to in ((mt, mt), (mt, torch), (torch, mt)):
        opt = _optimizer(lib_from)
        sched = _sls(lib_from).ReduceLROnPlateau(opt, **cfg)
        for m in PLATEAU_METRIC[:k]:
            sched.step(m)
        new_opt = _optimizer(lib_to)
        new_sched = _sls(lib_to).ReduceLROnPlateau(new_opt)
        new_opt.load_state_dict(
            {"state": {}, "param_groups": copy.deepcopy(opt.state_dict()["param_groups"])}
        )
        new_sched.load_state_dict(copy.deepcopy(sched.state_dict()))
        seq = []
        for m in PLATEAU_METRIC[k:]:
            new_sched.step(m)
            seq.append(_values(new_opt))
        np.testing.assert_allclose(np.array(seq), np.array(full[k:]), rtol=1e-15)


# ---------------------------------------------------------------- behaviour
def test_closed_form_step_epoch_warns_and_matches_pytorch():
    for name in ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR"):
        out = []
        for lib in (mt, torch):
            opt = _optimizer(lib)
            sched = CASES[name][1](_sls(lib), opt)
            opt.step()
            with pytest.warns(UserWarning, match="epoch parameter"):
                sched.step(7)
            out.append(_values(opt))
        assert out[0] == out[1], name


def test_cosine_warm_restarts_fractional_epochs_match_pytorch():
    out = []
    for lib in (mt, torch):
        opt = _optimizer(lib)
        sched = _sls(lib).CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3, eta_min=0.01)
        seq = []
        for epoch in np.arange(0, 12, 0.35):
            sched.step(float(epoch))
            seq.append(_values(opt))
        out.append(seq)
    np.testing.assert_allclose(np.array(out[0]), np.array(out[1]), rtol=1e-15)


def test_lambda_state_dict_saves_callable_objects_not_functions():
    opt = _optimizer(mt)
    fn = Halve()
    sched = mls.LambdaLR(opt, [fn, lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    fn.rate = 0.1
    sched.load_state_dict(sd)
    assert fn.rate == 0.5


def test_scheduler_before_optimizer_warns_as_pytorch():
    opt = _optimizer(mt)
    sched = mls.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()
    opt = _optimizer(mt)
    sched = mls.StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda o: mls.ConstantLR(o, factor=1.5), ValueError, "ConstantLR: .*between 0 and 1"),
        (lambda o: mls.LinearLR(o, start_factor=0), ValueError, "LinearLR: Starting"),
        (lambda o: mls.LinearLR(o, end_factor=2), ValueError, "LinearLR: Ending"),
        (lambda o: mls.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda o: mls.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
        (lambda o: mls.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
        (lambda o: mls.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
        (lambda o: mls.CyclicLR(o, 0.1, 1.0, mode="zigzag"), ValueError, "mode 'zigzag' is invalid"),
        (lambda o: mls.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length"),
        (lambda o: mls.OneCycleLR(o, 1.0), ValueError, "total_steps OR"),
        (lambda o: mls.OneCycleLR(o, 1.0, total_steps=0), ValueError, "positive integer total_steps"),
        (lambda o: mls.OneCycleLR(o, 1.0, total_steps=5, pct_start=1.5), ValueError, "pct_start"),
        (lambda o: mls.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="x"), ValueError, "anneal_strategy"),
        (lambda o: mls.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda o: mls.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
        (lambda o: mls.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown"),
        (lambda o: mls.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
        (lambda o: mls.StepLR(object(), 2), TypeError, "StepLR: object is not an Optimizer"),
    ],
)
def test_bad_arguments_raise_and_leave_the_optimizer_unchanged(make, exc, match):
    opt = _optimizer(mt)
    before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    with pytest.raises(exc, match=match):
        make(opt)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


def test_bad_scheduler_containers():
    opt = _optimizer(mt)
    with pytest.raises(ValueError, match="one more than the number of milestone points"):
        mls.SequentialLR(opt, [mls.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        mls.ChainedScheduler([mls.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        mls.SequentialLR(opt, [mls.StepLR(opt, 2), mls.StepLR(_optimizer(mt), 2)], milestones=[3])


def test_cycle_momentum_needs_momentum_or_betas():
    opt = mt.optim.Adagrad([mt.nn.Parameter(mt.zeros(2))])
    with pytest.raises(ValueError, match="CyclicLR: optimizer must support momentum or beta1"):
        mls.CyclicLR(opt, 0.01, 0.1)
    assert opt.param_groups[0]["lr"] == 0.01 and "initial_lr" not in opt.param_groups[0]
    with pytest.raises(ValueError, match="OneCycleLR: optimizer must support momentum"):
        mls.OneCycleLR(opt, 0.1, total_steps=10)
    assert "max_lr" not in opt.param_groups[0]


def test_one_cycle_lr_refuses_steps_past_the_total():
    opt = _optimizer(mt)
    sched = mls.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()
