"""Behaviour every optimizer shares: PyTorch's signatures, refusals of bad hyper-parameters and flags,
per-group options, atomic failures (a bad step or state dict changes nothing), version bumps."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import microtensor as mt
from microtensor import optim

torch = pytest.importorskip("torch")

NAMES = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "Rprop",
]
# options that give each optimizer every state entry it can have
FULL = {
    "SGD": dict(lr=0.1, momentum=0.9),
    "Adam": dict(lr=0.1, amsgrad=True),
    "AdamW": dict(lr=0.1, amsgrad=True),
    "RMSprop": dict(lr=0.1, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1),
    "Adadelta": dict(),
    "Adamax": dict(lr=0.1),
    "NAdam": dict(lr=0.1),
    "RAdam": dict(lr=0.1),
    "ASGD": dict(lr=0.1, t0=1),
    "Rprop": dict(lr=0.1),
}
SHAPES = [(3, 2), (2,), ()]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [mt.nn.Parameter(mt.tensor(rng.standard_normal(s))) for s in SHAPES]


def _step(opt, params, seed):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = mt.tensor(rng.standard_normal(p.shape))
    opt.step()


def _snapshot(opt, params):
    state = {
        (i, k): (v.numpy().copy() if isinstance(v, mt.Tensor) else copy.deepcopy(v))
        for i, p in enumerate(params)
        for k, v in opt.state.get(p, {}).items()
    }
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return [p.detach().numpy().copy() for p in params], state, copy.deepcopy(groups)


def _assert_unchanged(before, after):
    (w0, s0, g0), (w1, s1, g1) = before, after
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    assert s0.keys() == s1.keys() and g0 == g1
    for k in s0:
        np.testing.assert_array_equal(s0[k], s1[k])


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_signature_is_pytorchs(name):
    def sig(cls):
        return [(k, v.kind, v.default) for k, v in inspect.signature(cls.__init__).parameters.items()]

    assert sig(getattr(optim, name)) == sig(getattr(torch.optim, name))


BAD = [
    ("SGD", dict(lr=-1), "SGD: Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("Adam", dict(eps=-1e-8), "Adam: Invalid epsilon value: -1e-08"),
    ("AdamW", dict(betas=(0.9, 1.0)), "AdamW: Invalid beta parameter at index 1: 1.0"),
    ("RMSprop", dict(lr=-1), "RMSprop: Invalid learning rate: -1"),
    ("RMSprop", dict(alpha=-0.1), "RMSprop: Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-1), "RMSprop: Invalid momentum value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Adagrad: Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Adadelta: Invalid rho value: 1.5"),
    ("Adadelta", dict(weight_decay=-1), "Adadelta: Invalid weight_decay value: -1"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Adamax: Invalid beta parameter at index 0: 1.0"),
    ("NAdam", dict(momentum_decay=-1), "NAdam: Invalid momentum_decay value: -1"),
    ("RAdam", dict(eps=-1), "RAdam: Invalid epsilon value: -1"),
    ("ASGD", dict(weight_decay=-1), "ASGD: Invalid weight_decay value: -1"),
    ("Rprop", dict(etas=(1.2, 0.5)), "Rprop: Invalid eta values: 1.2, 0.5"),
    ("LBFGS", dict(lr=-1), "LBFGS: Invalid learning rate: -1"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD, ids=[f"{n}-{m}" for n, _, m in BAD])
def test_bad_hyper_parameters_raise_value_error_as_pytorch(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(optim, name)(_params(), **kwargs)
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_flag_conflicts_raise_as_pytorch(name):
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(optim, name)(_params(), fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        getattr(optim, name)(_params(), fused=True, differentiable=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("flag", ["capturable", "differentiable"])
def test_capturable_and_differentiable_steps_are_refused_before_any_change(name, flag):
    if flag not in inspect.signature(getattr(optim, name).__init__).parameters:
        with pytest.raises(TypeError):  # as PyTorch: SGD and Adagrad have no capturable
            getattr(optim, name)(_params(), **{flag: True})
        return
    params = _params()
    opt = getattr(optim, name)(params, **{flag: True})
    before = _snapshot(opt, params)
    for p in params:
        p.grad = mt.ones(*p.shape, dtype=mt.float64)
    with pytest.raises(RuntimeError, match=f"{name}.step: {flag}=True"):
        opt.step()
    _assert_unchanged(before, _snapshot(opt, params))


@pytest.mark.parametrize("name", NAMES)
def test_per_group_options_and_add_param_group_match_pytorch(name):
    rng = np.random.default_rng(4)
    w = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(6)]
    finals = []
    for lib, mod in ((mt, optim), (torch, torch.optim)):
        ps = (
            [mt.nn.Parameter(mt.tensor(x)) for x in w]
            if lib is mt
            else [torch.tensor(x, requires_grad=True) for x in w]
        )
        opt = getattr(mod, name)(ps[:2], **FULL[name])
        opt.add_param_group({"params": ps[2:], "lr": 0.03, "maximize": True})
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g)
            opt.step()
        finals.append([p.detach().numpy().copy() for p in ps])
        groups = opt.param_groups
        assert groups[1]["lr"] == 0.03 and groups[1]["maximize"] is True and groups[0]["maximize"] is False
    for a, b in zip(*finals):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad_index", [0, 2])
def test_failed_step_changes_no_parameter_and_no_state(name, bad_index):
    params = _params()
    opt = getattr(optim, name)(params, **FULL[name])
    _step(opt, params, 1)
    before = _snapshot(opt, params)
    for p in params:
        p.grad = mt.ones(*p.shape, dtype=mt.float64)
    with pytest.raises(RuntimeError, match=r"grad: attempting to assign a gradient of shape \(7,\)"):
        params[bad_index].grad = mt.zeros(7, dtype=mt.float64)  # refused at the door, as PyTorch
    # the optimizer's own check still guards a gradient stored around the setter (the engine's slot)
    params[bad_index]._grad = mt.zeros(7, dtype=mt.float64)
    with pytest.raises(RuntimeError, match=rf"{name}.step: gradient of shape \(7,\)"):
        opt.step()
    _assert_unchanged(before, _snapshot(opt, params))


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_failing_load_state_dict_changes_nothing(name):
    src_params = _params()
    kwargs = FULL.get(name, {})
    src = getattr(optim, name)(src_params, **kwargs)
    if name == "LBFGS":
        return _lbfgs_bad_load(src, src_params)
    _step(src, src_params, 1)
    params = _params(1)
    opt = getattr(optim, name)(params, **{**kwargs, "lr": 0.5})
    _step(opt, params, 2)
    before = _snapshot(opt, params)
    key = next(k for k, v in src.state_dict()["state"][0].items() if isinstance(v, mt.Tensor) and v.ndim)
    bad = src.state_dict()
    bad["state"][0] = {**bad["state"][0], key: mt.zeros(5, 5, dtype=mt.float64)}
    with pytest.raises(ValueError, match=rf"{name}.load_state_dict: state '{key}' of parameter 0 has shape"):
        opt.load_state_dict(bad)
    short = src.state_dict()
    short["param_groups"][0]["params"] = [0, 1]
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(short)
    _assert_unchanged(before, _snapshot(opt, params))
    opt.load_state_dict(src.state_dict())  # and a good one loads
    assert opt.param_groups[0]["lr"] == src.param_groups[0]["lr"]


def _lbfgs_bad_load(src, params):
    with pytest.raises(ValueError, match="different number of parameter groups"):
        src.load_state_dict({"state": {}, "param_groups": []})
    assert src.state == {} and src.param_groups[0]["params"] == params


@pytest.mark.parametrize("name", NAMES)
def test_step_bumps_versions_so_stale_graphs_refuse_backward(name):
    params = _params()
    opt = getattr(optim, name)(params, **FULL[name])
    loss = (params[0] * params[0]).sum()  # saves params[0] for backward
    versions = [p._version for p in params]
    _step(opt, params, 3)
    assert [p._version for p in params] == [v + 1 for v in versions]
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        loss.backward()


def test_state_tensors_take_the_parameter_dtype_on_load_but_step_keeps_its_own():
    params = _params()
    opt = optim.NAdam(params, lr=0.1)
    _step(opt, params, 1)
    sd = opt.state_dict()
    assert sd["state"][0]["mu_product"].dtype == mt.float32  # float32 while running, as PyTorch
    fresh = optim.NAdam(_params(), lr=0.1)
    fresh.load_state_dict(sd)
    s = fresh.state[fresh.param_groups[0]["params"][0]]
    assert s["mu_product"].dtype == mt.float64 and s["step"].dtype == mt.float32  # PyTorch's load policy
    assert s["exp_avg"]._data is not sd["state"][0]["exp_avg"]._data  # loaded state is a copy
