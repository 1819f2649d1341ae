"""PyTorch parity for nn / optim: same weights give the same outputs, the same training run ends
with the same weights, state dicts move both ways, schedules agree, and every functional loss
gives PyTorch's value and gradients in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

STEPS = 20
WEIGHT_TOL = 1e-6
LOSS_TOL = 1e-10


# ------------------------------------------------------------------ helpers
def to_torch_state(model: nn.Module) -> dict:
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}


def from_torch_state(model) -> dict:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def twin(layers_mt, layers_torch, dtype=np.float64):
    """A microtensor Sequential and a torch Sequential holding the same weights (copied mt → torch)."""
    ours = nn.Sequential(*layers_mt)
    theirs = tnn.Sequential(*layers_torch)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(to_torch_state(ours))
    return ours, theirs


def mlp(out_features: int, final=None, final_t=None, hidden=5, dtype=np.float64):
    mt_layers = [nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, out_features)]
    t_layers = [tnn.Linear(3, hidden), tnn.Tanh(), tnn.Linear(hidden, out_features)]
    if final is not None:
        mt_layers.append(final)
        t_layers.append(final_t)
    return twin(mt_layers, t_layers, dtype)


def assert_same_weights(ours: nn.Module, theirs, tol=WEIGHT_TOL):
    a, b = ours.state_dict(), from_torch_state(theirs)
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_allclose(a[k].numpy(), b[k], rtol=0, atol=tol, err_msg=k)


def t64(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def m64(a, requires_grad=False):
    return mt.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# --------------------------------------------------------- forward parity
def _architectures():
    return {
        "xor": (
            [nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()],
            [tnn.Linear(2, 4), tnn.Tanh(), tnn.Linear(4, 1), tnn.Sigmoid()],
            (6, 2),
        ),
        "relu_softmax": (
            [nn.Flatten(), nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1)],
            [tnn.Flatten(), tnn.Linear(6, 8), tnn.ReLU(), tnn.Linear(8, 3), tnn.Softmax(dim=1)],
            (5, 2, 3),
        ),
        "leaky_logsoftmax": (
            [
                nn.Linear(4, 6),
                nn.LeakyReLU(0.2),
                nn.Identity(),
                nn.Dropout(0.5),
                nn.Linear(6, 3),
                nn.LogSoftmax(-1),
            ],
            [
                tnn.Linear(4, 6),
                tnn.LeakyReLU(0.2),
                tnn.Identity(),
                tnn.Dropout(0.5),
                tnn.Linear(6, 3),
                tnn.LogSoftmax(-1),
            ],
            (2, 7, 4),
        ),
        "no_bias": (
            [nn.Linear(3, 3, bias=False), nn.Sigmoid(), nn.Linear(3, 2, bias=False)],
            [tnn.Linear(3, 3, bias=False), tnn.Sigmoid(), tnn.Linear(3, 2, bias=False)],
            (4, 3),
        ),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("arch", sorted(_architectures()))
def test_same_weights_same_outputs_and_input_gradients(arch, dtype, rng):
    mt_layers, t_layers, in_shape = _architectures()[arch]
    ours, theirs = twin(mt_layers, t_layers, dtype)
    ours.eval()
    theirs.eval()  # dropout off in both
    assert repr(ours) == repr(theirs)
    xa = rng.standard_normal(in_shape).astype(dtype)
    x = mt.tensor(xa, requires_grad=True)
    xt = torch.tensor(xa, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(mt.tensor(g))
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    for (name, p), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


def test_torch_state_dict_loads_into_microtensor_with_identical_outputs(rng):
    theirs = tnn.Sequential(tnn.Linear(3, 6), tnn.Tanh(), tnn.Linear(6, 2), tnn.Sigmoid())
    ours = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2), nn.Sigmoid())
    result = ours.load_state_dict(theirs.state_dict())  # torch tensors, loaded directly
    assert result.missing_keys == [] and result.unexpected_keys == []
    xa = rng.standard_normal((5, 3)).astype(np.float32)
    # float32: equal up to the rounding of a different summation order in the matmul
    np.testing.assert_allclose(
        ours(mt.tensor(xa)).detach().numpy(), theirs(torch.tensor(xa)).detach().numpy(), rtol=1e-6, atol=1e-7
    )
    ours.double(), theirs.double()
    ours.load_state_dict(from_torch_state(theirs))
    x64 = rng.standard_normal((5, 3))
    np.testing.assert_allclose(
        ours(mt.tensor(x64)).detach().numpy(), theirs(torch.tensor(x64)).detach().numpy(), rtol=1e-14
    )


def test_microtensor_state_dict_loads_into_torch_with_identical_outputs(rng):
    mt.manual_seed(3)
    ours = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2))
    theirs = tnn.Sequential(tnn.Linear(3, 6), tnn.ReLU(), tnn.Linear(6, 2))
    result = theirs.load_state_dict(to_torch_state(ours), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    xa = rng.standard_normal((5, 3)).astype(np.float32)
    # float32: equal up to the rounding of a different summation order in the matmul
    np.testing.assert_allclose(
        ours(mt.tensor(xa)).detach().numpy(), theirs(torch.tensor(xa)).detach().numpy(), rtol=1e-6, atol=1e-7
    )


def test_load_state_dict_errors_and_results_match_torch():
    ours = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    theirs = tnn.Sequential(tnn.Linear(2, 4), tnn.Tanh(), tnn.Linear(4, 1))
    bad = {
        "0.weight": np.zeros((3, 2)),
        "2.weight": np.zeros((1, 4)),
        "5.weight": np.zeros(1),
        "2.bias": np.zeros(2),
    }
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict({k: mt.tensor(v, dtype=mt.float32) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in bad.items()})
    theirs_msg = str(theirs_err.value)
    for size in ("[3, 2]", "[4, 2]", "[2]", "[1]"):
        theirs_msg = theirs_msg.replace(
            f"torch.Size({size})", f"({size[1:-1]},)" if "," not in size else f"({size[1:-1]})"
        )
    assert str(ours_err.value) == theirs_msg
    partial = {"0.weight": np.zeros((4, 2), np.float32), "x": np.zeros(1, np.float32)}
    got = ours.load_state_dict({k: mt.tensor(v) for k, v in partial.items()}, strict=False)
    want = theirs.load_state_dict({k: torch.tensor(v) for k, v in partial.items()}, strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (want.missing_keys, want.unexpected_keys)


def test_loss_modules_have_torchs_state_dict_keys():
    w = np.array([1.0, 2.0, 3.0])
    pairs = [
        (nn.CrossEntropyLoss(weight=mt.tensor(w)), tnn.CrossEntropyLoss(weight=torch.tensor(w))),
        (nn.NLLLoss(weight=mt.tensor(w)), tnn.NLLLoss(weight=torch.tensor(w))),
        (nn.BCELoss(weight=mt.tensor(w)), tnn.BCELoss(weight=torch.tensor(w))),
        (nn.BCEWithLogitsLoss(pos_weight=mt.tensor(w)), tnn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))),
        (nn.MSELoss(), tnn.MSELoss()),
    ]
    for ours, theirs in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)


# -------------------------------------------------------- training parity
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.05)),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_amsgrad_wd": ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.9))),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.02, amsgrad=True, weight_decay=0.2, eps=1e-6)),
}


def _loss_setup(name, rng):
    """(model pair, x, target for mt, target for torch, mt loss fn, torch loss fn)."""
    x = rng.standard_normal((8, 3))
    if name == "mse":
        ours, theirs = mlp(2)
        y = rng.standard_normal((8, 2))
        return ours, theirs, x, m64(y), t64(y), nn.MSELoss(), tnn.MSELoss()
    if name == "bce":
        ours, theirs = mlp(1, nn.Sigmoid(), tnn.Sigmoid())
        y = (rng.random((8, 1)) > 0.5).astype(np.float64)
        return ours, theirs, x, m64(y), t64(y), nn.BCELoss(), tnn.BCELoss()
    if name == "bce_logits":
        ours, theirs = mlp(2)
        y = (rng.random((8, 2)) > 0.5).astype(np.float64)
        pw = np.array([1.0, 3.0])
        return (
            ours,
            theirs,
            x,
            m64(y),
            t64(y),
            nn.BCEWithLogitsLoss(pos_weight=m64(pw)),
            tnn.BCEWithLogitsLoss(pos_weight=t64(pw)),
        )
    ours, theirs = mlp(3)
    y = rng.integers(0, 3, 8)
    return ours, theirs, x, mt.tensor(y), torch.tensor(y), nn.CrossEntropyLoss(), tnn.CrossEntropyLoss()


@pytest.mark.parametrize("loss_name", ["mse", "bce", "bce_logits", "cross_entropy"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_training_ends_with_torchs_weights(opt_name, loss_name, rng):
    mt.manual_seed(0)
    ours, theirs, x, y, yt, crit, crit_t = _loss_setup(loss_name, rng)
    cls_name, kwargs = OPTIMIZERS[opt_name]
    opt = getattr(mt.optim, cls_name)(ours.parameters(), **kwargs)
    opt_t = getattr(torch.optim, cls_name)(theirs.parameters(), **kwargs)
    xm, xt = m64(x), t64(x)
    initial = ours.state_dict()["0.weight"].numpy().copy()
    for _ in range(STEPS):
        loss = crit(ours(xm), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_t = crit_t(theirs(xt), yt)
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        assert abs(loss.item() - loss_t.item()) <= LOSS_TOL * max(1.0, abs(loss_t.item()))
    assert_same_weights(ours, theirs)
    assert np.abs(ours.state_dict()["0.weight"].numpy() - initial).max() > 1e-3  # it did train


@pytest.mark.parametrize("opt_name", ["sgd_momentum", "adam_amsgrad_wd"])
def test_optimizer_state_moves_between_frameworks_mid_training(opt_name, rng):
    """10 steps in microtensor, then model and optimizer state copied into torch: the next 10 steps agree."""
    ours, theirs, x, y, yt, crit, crit_t = _loss_setup("cross_entropy", rng)
    cls_name, kwargs = OPTIMIZERS[opt_name]
    opt = getattr(mt.optim, cls_name)(ours.parameters(), **kwargs)
    xm, xt = m64(x), t64(x)

    def step_ours():
        loss = crit(ours(xm), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(10):
        step_ours()
    theirs.load_state_dict(to_torch_state(ours))
    opt_t = getattr(torch.optim, cls_name)(theirs.parameters(), **kwargs)
    sd = opt.state_dict()
    opt_t.load_state_dict(
        {
            "state": {
                i: {
                    k: torch.tensor(v.numpy().copy()) if isinstance(v, mt.Tensor) else v for k, v in s.items()
                }
                for i, s in sd["state"].items()
            },
            "param_groups": [{**opt_t.param_groups[0], **g} for g in sd["param_groups"]],
        }
    )
    assert sd["state"][0].keys() == opt_t.state_dict()["state"][0].keys()
    for _ in range(10):
        step_ours()
        loss_t = crit_t(theirs(xt), yt)
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
    assert_same_weights(ours, theirs)


def test_training_with_a_scheduler_matches_torch(rng):
    ours, theirs, x, y, yt, crit, crit_t = _loss_setup("mse", rng)
    opt = mt.optim.SGD(ours.parameters(), lr=0.2, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.2, momentum=0.9)
    sched = mt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
    sched_t = torch.optim.lr_scheduler.CosineAnnealingLR(opt_t, T_max=7, eta_min=0.01)
    for _ in range(STEPS):
        for model, o, s, c, xx, yy in (
            (ours, opt, sched, crit, m64(x), y),
            (theirs, opt_t, sched_t, crit_t, t64(x), yt),
        ):
            loss = c(model(xx), yy)
            o.zero_grad()
            loss.backward()
            o.step()
            s.step()
        assert sched.get_last_lr() == sched_t.get_last_lr()
    assert_same_weights(ours, theirs)


# ------------------------------------------------------------- schedulers
SCHEDULERS = {
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "step_default_gamma": ("StepLR", dict(step_size=2)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=6)),
    "cosine_eta_min": ("CosineAnnealingLR", dict(T_max=5, eta_min=0.05)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_lr_sequence_equals_torchs(name):
    cls_name, kwargs = SCHEDULERS[name]
    p = nn.Parameter(mt.zeros(1))
    q = nn.Parameter(mt.zeros(1))
    pt, qt = tnn.Parameter(torch.zeros(1)), tnn.Parameter(torch.zeros(1))
    opt = mt.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=1.0)
    opt_t = torch.optim.SGD([{"params": [pt]}, {"params": [qt], "lr": 0.3}], lr=1.0)
    sched = getattr(mt.optim.lr_scheduler, cls_name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, cls_name)(opt_t, **kwargs)
    ours, theirs = [sched.get_last_lr()], [sched_t.get_last_lr()]
    for _ in range(25):
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        ours.append(sched.get_last_lr())
        theirs.append(sched_t.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt_t.param_groups]
    assert ours == theirs  # exactly: the same recursive formulas
    assert sched.last_epoch == sched_t.last_epoch == 25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in both
        sched.step(4)
        sched_t.step(4)
    np.testing.assert_allclose(sched.get_last_lr(), sched_t.get_last_lr(), rtol=1e-15)


# ---------------------------------------------------------- functional losses
def _loss_cases(rng):
    n, c = 5, 4
    z = rng.standard_normal((n, c))
    p = rng.uniform(0.02, 0.98, (n, c))
    p[0, :2] = [0.0, 1.0]  # the clamped logs
    y = rng.random((n, c))
    yb = (rng.random((n, c)) > 0.5).astype(np.float64)
    w_el = rng.random((n, c)) + 0.5
    w_col = rng.random(c) + 0.5
    t = rng.integers(0, c, n)
    t_ign = t.copy()
    t_ign[[1, 3]] = -100
    zk = rng.standard_normal((3, c, 2, 2))
    tk = rng.integers(0, c, (3, 2, 2))
    tk[0, 0, 1] = 2
    probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    logp = np.log(probs)
    # name: (ours, theirs, float args (input first; True = differentiable), int target or None)
    return {
        "mse": (F.mse_loss, TF.mse_loss, [(z, True), (y, True)], {}),
        "mse_weight": (F.mse_loss, TF.mse_loss, [(z, True), (y, True)], {"weight": w_el}),
        "bce": (F.binary_cross_entropy, TF.binary_cross_entropy, [(p, True), (yb, True)], {}),
        "bce_soft_targets": (F.binary_cross_entropy, TF.binary_cross_entropy, [(p, True), (y, True)], {}),
        "bce_weight": (
            F.binary_cross_entropy,
            TF.binary_cross_entropy,
            [(p, True), (y, False)],
            {"weight": w_col},
        ),
        "bce_logits": (
            F.binary_cross_entropy_with_logits,
            TF.binary_cross_entropy_with_logits,
            [(z * 5, True), (y, True)],
            {},
        ),
        "bce_logits_weights": (
            F.binary_cross_entropy_with_logits,
            TF.binary_cross_entropy_with_logits,
            [(z, True), (yb, True)],
            {"weight": w_el, "pos_weight": w_col},
        ),
        "bce_logits_pos_weight": (
            F.binary_cross_entropy_with_logits,
            TF.binary_cross_entropy_with_logits,
            [(z, True), (y, True)],
            {"pos_weight": w_col},
        ),
        "ce": (F.cross_entropy, TF.cross_entropy, [(z, True)], {"target": t}),
        "ce_weight": (F.cross_entropy, TF.cross_entropy, [(z, True)], {"target": t, "weight": w_col}),
        "ce_weight_ignore": (
            F.cross_entropy,
            TF.cross_entropy,
            [(z, True)],
            {"target": t_ign, "weight": w_col},
        ),
        "ce_ignore_index_2": (
            F.cross_entropy,
            TF.cross_entropy,
            [(z, True)],
            {"target": t, "ignore_index": 2},
        ),
        "ce_smoothing": (
            F.cross_entropy,
            TF.cross_entropy,
            [(z, True)],
            {"target": t_ign, "weight": w_col, "label_smoothing": 0.15},
        ),
        "ce_kdim": (
            F.cross_entropy,
            TF.cross_entropy,
            [(zk, True)],
            {"target": tk, "weight": w_col, "ignore_index": 2},
        ),
        "ce_probs": (F.cross_entropy, TF.cross_entropy, [(z, True), (probs[::-1].copy(), True)], {}),
        "ce_probs_weight_smoothing": (
            F.cross_entropy,
            TF.cross_entropy,
            [(z, True), (y, True)],
            {"weight": w_col, "label_smoothing": 0.1},
        ),
        "ce_1d": (F.cross_entropy, TF.cross_entropy, [(z[0], True)], {"target": np.array(2)}),
        "nll": (F.nll_loss, TF.nll_loss, [(logp, True)], {"target": t}),
        "nll_weight_ignore": (F.nll_loss, TF.nll_loss, [(logp, True)], {"target": t_ign, "weight": w_col}),
        "nll_kdim": (F.nll_loss, TF.nll_loss, [(zk, True)], {"target": tk}),
    }


LOSS_NAMES = sorted(_loss_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_functional_loss_value_and_gradients_match_torch(name, reduction):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    ours_fn, theirs_fn, args, kwargs = _loss_cases(rng)[name]
    mt_args = [m64(a, g) for a, g in args]
    t_args = [t64(a, g) for a, g in args]
    mt_kw, t_kw = {}, {}
    for k, v in kwargs.items():
        if k == "target":
            mt_args.append(mt.tensor(v))
            t_args.append(torch.tensor(v))
        elif isinstance(v, np.ndarray):
            mt_kw[k], t_kw[k] = m64(v), t64(v)
        else:
            mt_kw[k] = t_kw[k] = v
    out = ours_fn(*mt_args, reduction=reduction, **mt_kw)
    out_t = theirs_fn(*t_args, reduction=reduction, **t_kw)
    assert out.shape == tuple(out_t.shape) and out.dtype == mt.float64
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=LOSS_TOL, atol=LOSS_TOL)
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    out_t.backward(torch.tensor(g))
    for i, ((_, differentiable), a, b) in enumerate(zip(args, mt_args, t_args)):
        if not differentiable:
            continue
        ga, gb = a.grad.numpy(), b.grad.numpy()
        if ours_fn is F.binary_cross_entropy and i == 0:
            # At p = 0 or 1 the gradient is (p − y) / max(p(1 − p), ε): PyTorch's ε is the float32
            # literal 1e-12f (9.99999996e-13), ours the float64 1e-12 — a 4e-9 relative difference.
            clamped = np.isin(args[0][0], (0.0, 1.0))
            assert clamped.any()
            np.testing.assert_allclose(ga[clamped], gb[clamped], rtol=1e-8)
            ga, gb = ga[~clamped], gb[~clamped]
        if ours_fn is F.binary_cross_entropy and i == 1:
            # ∂/∂y at p = 0 or 1: ours is the slope of the clamped loss that forward computes,
            # clamp(log(1 − p)) − clamp(log p) = ±100; PyTorch's unclamped logs give ±inf there.
            clamped = np.isin(args[0][0], (0.0, 1.0))
            assert np.all(np.isinf(gb[clamped])) and np.all(np.isfinite(ga))
            p_c, g_c = args[0][0][clamped], np.broadcast_to(g, clamped.shape)[clamped]
            scale = 1.0 / clamped.size if reduction == "mean" else 1.0
            np.testing.assert_allclose(
                ga[clamped], np.where(p_c == 0, 100.0, -100.0) * g_c * scale, rtol=1e-12
            )
            ga, gb = ga[~clamped], gb[~clamped]
        np.testing.assert_allclose(ga, gb, rtol=LOSS_TOL, atol=LOSS_TOL, err_msg=f"arg {i}")


@pytest.mark.parametrize("name", ["mse", "bce", "bce_logits", "ce", "nll"])
def test_loss_modules_match_torch_modules(name, rng):
    z = rng.standard_normal((6, 3))
    if name in ("ce", "nll"):
        t = rng.integers(0, 3, 6)
        args_m, args_t = (m64(z, True), mt.tensor(t)), (t64(z, True), torch.tensor(t))
    else:
        y = (rng.random((6, 3)) > 0.5).astype(np.float64)
        x = 1 / (1 + np.exp(-z)) if name == "bce" else z
        args_m, args_t = (m64(x, True), m64(y)), (t64(x, True), t64(y))
    ours = {
        "mse": nn.MSELoss,
        "bce": nn.BCELoss,
        "bce_logits": nn.BCEWithLogitsLoss,
        "ce": nn.CrossEntropyLoss,
        "nll": nn.NLLLoss,
    }[name]
    theirs = {
        "mse": tnn.MSELoss,
        "bce": tnn.BCELoss,
        "bce_logits": tnn.BCEWithLogitsLoss,
        "ce": tnn.CrossEntropyLoss,
        "nll": tnn.NLLLoss,
    }[name]
    a, b = ours(reduction="sum")(*args_m), theirs(reduction="sum")(*args_t)
    a.backward()
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(args_m[0].grad.numpy(), args_t[0].grad.numpy(), rtol=1e-12, atol=1e-14)


def test_losses_are_stable_for_huge_logits_like_torch():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
    t = np.array([1, 0])
    cases = [
        (
            lambda a: F.binary_cross_entropy_with_logits(a, m64(y)),
            lambda a: TF.binary_cross_entropy_with_logits(a, t64(y)),
        ),
        (
            lambda a: F.binary_cross_entropy_with_logits(a, m64(y), pos_weight=m64([2.0, 3.0, 0.5])),
            lambda a: TF.binary_cross_entropy_with_logits(a, t64(y), pos_weight=t64([2.0, 3.0, 0.5])),
        ),
        (lambda a: F.cross_entropy(a, mt.tensor(t)), lambda a: TF.cross_entropy(a, torch.tensor(t))),
    ]
    for ours, theirs in cases:
        a, b = m64(z, True), t64(z, True)
        la, lb = ours(a), theirs(b)
        la.backward()
        lb.backward()
        assert np.isfinite(la.item()) and la.item() == pytest.approx(lb.item(), rel=1e-14)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-14, atol=1e-300)


# ---------------------------------------------------- functional layers
def test_functional_layers_and_activations_match_torch(rng):
    xa = rng.standard_normal((4, 5)) * 3
    xa[0, 0] = 0.0  # the kink of relu / leaky_relu
    W, b = rng.standard_normal((3, 5)), rng.standard_normal(3)
    cases = [
        (lambda x: F.linear(x, m64(W), m64(b)), lambda x: TF.linear(x, t64(W), t64(b))),
        (lambda x: F.linear(x, m64(W)), lambda x: TF.linear(x, t64(W))),
        (F.relu, TF.relu),
        (F.leaky_relu, TF.leaky_relu),
        (lambda x: F.leaky_relu(x, 0.3), lambda x: TF.leaky_relu(x, 0.3)),
        (F.tanh, torch.tanh),
        (F.sigmoid, torch.sigmoid),
        (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
        (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
        (lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1)),
    ]
    for ours, theirs in cases:
        x, xt = m64(xa, True), t64(xa, True)
        out, out_t = ours(x), theirs(xt)
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-13, atol=1e-15)
        g = rng.standard_normal(out.shape)
        out.backward(mt.tensor(g))
        out_t.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-13, atol=1e-15)
    idx = np.array([[0, 2], [3, 1]])
    np.testing.assert_array_equal(
        F.one_hot(mt.tensor(idx), 5).numpy(), TF.one_hot(torch.tensor(idx), 5).numpy()
    )
    np.testing.assert_array_equal(F.one_hot(mt.tensor(idx)).numpy(), TF.one_hot(torch.tensor(idx)).numpy())
    x3 = rng.standard_normal((2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # implicit softmax dim is deprecated in both
        np.testing.assert_allclose(F.softmax(m64(x3)).numpy(), TF.softmax(t64(x3)).numpy(), rtol=1e-14)
        np.testing.assert_allclose(
            F.log_softmax(m64(x3[0])).numpy(), TF.log_softmax(t64(x3[0])).numpy(), rtol=1e-14
        )


def test_init_helpers_follow_torchs_fan_computation():
    """Same fans and bounds: kaiming_uniform_(a=√5) gives ±1/√fan_in for any layout."""
    for shape in [(7, 3), (4, 6, 3), (5, 2, 3, 3)]:
        ours, theirs = mt.empty(*shape), torch.empty(*shape)
        mt.manual_seed(0)
        nn.init.kaiming_uniform_(ours, a=5**0.5)
        torch.manual_seed(0)
        tnn.init.kaiming_uniform_(theirs, a=5**0.5)
        fan_in = int(np.prod(shape[1:]))
        assert np.abs(ours.numpy()).max() <= 1 / fan_in**0.5 + 1e-7
        assert np.abs(theirs.numpy()).max() <= 1 / fan_in**0.5 + 1e-7
        assert np.abs(ours.numpy()).max() > 0.8 / fan_in**0.5
        for fn in ("xavier_normal_", "kaiming_normal_"):
            big, big_t = mt.empty(200, *shape[1:]), torch.empty(200, *shape[1:])
            getattr(nn.init, fn)(big)
            getattr(tnn.init, fn)(big_t)
            assert big.numpy().std() == pytest.approx(big_t.numpy().std(), rel=0.1)
