"""Every optimizer against PyTorch's, in float64: the same model trained the same steps from the same
weights ends with the same weights, for every option; state dicts have PyTorch's layout and resume
training in either framework exactly like an uninterrupted run."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import microtensor as mt
from microtensor import optim

torch = pytest.importorskip("torch")

STEPS = 20
SHAPES = {"w1": (4, 3), "b1": (4,), "w2": (1, 4), "b2": ()}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 3))
    y = np.sin(x.sum(1, keepdims=True))
    theta = {k: rng.standard_normal(s) * 0.7 for k, s in SHAPES.items()}
    return x, y, theta


class _Model:
    """A 3-4-1 tanh regression, its parameters and loss written once per framework."""

    def __init__(self, lib, theta, x, y, sign=1.0):
        self.lib, self.sign = lib, sign
        if lib is torch:
            self.params = [torch.tensor(theta[k], requires_grad=True) for k in SHAPES]
            self.x, self.y = torch.tensor(x), torch.tensor(y)
        else:
            self.params = [mt.nn.Parameter(mt.tensor(theta[k])) for k in SHAPES]
            self.x, self.y = mt.tensor(x), mt.tensor(y)

    def loss(self):
        w1, b1, w2, b2 = self.params
        out = (self.x @ w1.T + b1).tanh() @ w2.T + b2
        return ((out - self.y) ** 2).mean() * self.sign

    def closure(self, opt):
        def closure():
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss

        return closure

    def weights(self):
        return [p.detach().numpy().copy() for p in self.params]


def _train(lib, name, cfg, steps=STEPS, seed=0, state=None, start=None):
    """(model, optimizer) after `steps` steps; from weights `start` and optimizer state `state` if given."""
    x, y, theta = _data(seed)
    if start is not None:
        theta = dict(zip(SHAPES, start))
    # maximize=True climbs the negated loss: the same well-conditioned descent, through the option
    model = _Model(lib, theta, x, y, sign=-1.0 if cfg.get("maximize") else 1.0)
    mod = torch.optim if lib is torch else optim
    opt = getattr(mod, name)(model.params, **cfg)
    if state is not None:
        opt.load_state_dict(state)
    for _ in range(steps):
        opt.step(model.closure(opt))
    return model, opt


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, foreach=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, fused=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adam", dict(lr=0.05, foreach=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, fused=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, maximize=True, foreach=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True, foreach=True)),
    ("Adagrad", dict(lr=0.1, fused=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(rho=0.3, maximize=True, foreach=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), eps=1e-4, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, maximize=True, foreach=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.95), momentum_decay=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.05, foreach=True)),
    ("RAdam", dict(lr=0.05)),  # rho_t > 5 only from step 6 on: both branches run
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-4, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, foreach=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True, foreach=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.08))),
    ("Rprop", dict(lr=0.01, maximize=True, foreach=True)),
]


def _ids(case):
    name, cfg = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in cfg.items()) + ")"


def _close(a, b, tol=1e-12):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_training_matches_pytorch(case):
    name, cfg = case
    ref, _ = _train(torch, name, cfg)
    got, _ = _train(mt, name, cfg)
    _close(got.weights(), ref.weights())
    x, y, theta = _data()
    assert not np.allclose(got.weights()[0], theta["w1"])  # it did train


def _to_torch(v):
    if isinstance(v, mt.Tensor):
        return torch.tensor(v.numpy())
    if isinstance(v, list | tuple):
        return type(v)(_to_torch(x) for x in v)
    return v


def _to_mt(v):
    if isinstance(v, torch.Tensor):
        return mt.tensor(v.detach().numpy())
    if isinstance(v, list | tuple):
        return type(v)(_to_mt(x) for x in v)
    return v


def _convert(sd, fn):
    return {
        "state": {i: {k: fn(v) for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"]),
    }


def _assert_same_layout(mine, theirs):
    assert mine["param_groups"] == theirs["param_groups"]
    assert mine["state"].keys() == theirs["state"].keys()
    for i in theirs["state"]:
        a, b = mine["state"][i], theirs["state"][i]
        assert list(a) == list(b), i
        for k in b:
            if isinstance(b[k], torch.Tensor):
                assert isinstance(a[k], mt.Tensor), k
                assert a[k].shape == tuple(b[k].shape), k
                assert str(a[k].dtype).replace("microtensor.", "") == str(b[k].dtype).replace("torch.", ""), k
                np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-12, atol=1e-12)
            else:
                assert a[k] == b[k], k


RESUME_CASES = [c for c in CASES if "fused" not in c[1] and "foreach" not in c[1]]


@pytest.mark.parametrize("case", RESUME_CASES, ids=_ids)
def test_state_dict_layout_and_resume_across_frameworks(case):
    """Save after k steps, load into a fresh optimizer (either framework), finish: the same weights
    as PyTorch resuming from its own state dict, which is PyTorch's uninterrupted run."""
    name, cfg = case
    k = 7
    t_model, t_opt = _train(torch, name, cfg, steps=k)
    m_model, m_opt = _train(mt, name, cfg, steps=k)
    _assert_same_layout(m_opt.state_dict(), t_opt.state_dict())
    # PyTorch's state dicts share the optimizer's tensors and load_state_dict may keep them: snapshot
    t_sd, m_sd = copy.deepcopy(t_opt.state_dict()), m_opt.state_dict()
    ref, _ = _train(torch, name, cfg, steps=STEPS - k, state=copy.deepcopy(t_sd), start=t_model.weights())
    _close(ref.weights(), _train(torch, name, cfg)[0].weights())
    # microtensor -> torch: a fresh torch optimizer loads microtensor's state and finishes the run
    sd = _convert(m_sd, _to_torch)
    resumed, _ = _train(torch, name, cfg, steps=STEPS - k, state=sd, start=m_model.weights())
    _close(resumed.weights(), ref.weights())
    # torch -> microtensor (converted tensor by tensor, or PyTorch's dict as is), microtensor -> microtensor
    for sd in (_convert(t_sd, _to_mt), copy.deepcopy(t_sd), m_sd):
        mine, _ = _train(mt, name, cfg, steps=STEPS - k, state=sd, start=t_model.weights())
        _close(mine.weights(), ref.weights())


def test_step_count_is_a_0d_float32_tensor_as_in_pytorch():
    _, opt = _train(mt, "Adam", dict(lr=0.1), steps=3)
    step = opt.state_dict()["state"][0]["step"]
    assert (
        isinstance(step, mt.Tensor) and step.shape == () and step.dtype == mt.float32 and step.item() == 3.0
    )


def test_adagrad_creates_state_for_every_parameter_at_construction():
    params = [mt.nn.Parameter(mt.zeros(2, dtype=mt.float64)) for _ in range(2)]
    opt = optim.Adagrad(params, initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    np.testing.assert_array_equal(sd["state"][1]["sum"].numpy(), [0.5, 0.5])


def test_per_group_options_match_pytorch():
    """Two groups with different hyper-parameters (one added by add_param_group) as PyTorch."""
    x, y, theta = _data()
    results = []
    for lib, mod in ((torch, torch.optim), (mt, optim)):
        model = _Model(lib, theta, x, y)
        opt = mod.RMSprop(model.params[:2], lr=0.01, momentum=0.5)
        opt.add_param_group({"params": model.params[2:], "lr": 0.003, "centered": True, "alpha": 0.5})
        for _ in range(10):
            opt.step(model.closure(opt))
        results.append(model.weights())
        assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["centered"] is True
    _close(results[1], results[0])
