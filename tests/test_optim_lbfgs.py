"""LBFGS against PyTorch's in float64: the same iterates (every step() call) on Rosenbrock and on a
small regression, with and without the strong-Wolfe line search; convergence; state dicts."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import microtensor as mt
from microtensor import optim

torch = pytest.importorskip("torch")


def _rosenbrock(lib, start):
    x = torch.tensor(start, requires_grad=True) if lib is torch else mt.nn.Parameter(mt.tensor(start))

    def loss():
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    return [x], loss


def _regression(lib, start=None):
    rng = np.random.default_rng(0)
    a, true = rng.standard_normal((20, 3)), np.array([[0.5], [-1.0], [2.0]])
    y = np.tanh(a @ true) + 0.01 * rng.standard_normal((20, 1))
    w0 = rng.standard_normal((3, 1)) * 0.1 if start is None else start[0]
    b0 = np.zeros(1) if start is None else start[1]
    T = torch.tensor if lib is torch else mt.tensor
    if lib is torch:
        w, b = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    else:
        w, b = mt.nn.Parameter(mt.tensor(w0)), mt.nn.Parameter(mt.tensor(b0))
    A, Y = T(a), T(y)

    def loss():
        return (((A @ w + b).tanh() - Y) ** 2).mean()

    return [w, b], loss


def _run(lib, problem, cfg, calls, start=None, state=None):
    params, loss_fn = problem(lib, start)
    opt = (torch.optim if lib is torch else optim).LBFGS(params, **cfg)
    if state is not None:
        opt.load_state_dict(state)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(calls):
        losses.append(float(opt.step(closure).detach()))
        iterates.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(iterates), np.array(losses), opt, params


ROSEN_START = np.array([-1.2, 1.0, -0.5, 0.8])
CFGS = [
    dict(),
    dict(lr=0.5, max_iter=7, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", max_iter=5, max_eval=9, history_size=2, tolerance_change=1e-12),
]


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
def test_rosenbrock_iterates_match_pytorch(cfg):
    """Every step() call's iterate, to 1e-8. Rosenbrock's curved valley amplifies last-bit differences
    (BLAS dot products sum in another order): with fixed unit steps and 20 iterations per call the
    paths separate by ~1e-7 in the third call, so that configuration is compared over its first two
    calls (40 iterations) here and at its limit in the next test."""
    problem = lambda lib, start: _rosenbrock(lib, ROSEN_START)  # noqa: E731
    calls = 2 if not cfg else 6
    got, got_loss, opt, _ = _run(mt, problem, cfg, calls=calls)
    want, want_loss, t_opt, _ = _run(torch, problem, cfg, calls=calls)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-8, atol=1e-10)
    s, t = opt.state_dict()["state"][0], t_opt.state_dict()["state"][0]
    assert s["func_evals"] == t["func_evals"] and s["n_iter"] == t["n_iter"]
    assert not np.allclose(got[-1], ROSEN_START)


@pytest.mark.parametrize("cfg", [dict(), dict(line_search_fn="strong_wolfe")], ids=["fixed", "wolfe"])
def test_rosenbrock_converges_to_the_minimum_as_pytorch(cfg):
    problem = lambda lib, start: _rosenbrock(lib, ROSEN_START)  # noqa: E731
    got, losses, _, _ = _run(mt, problem, cfg, 8)
    want, _, _, _ = _run(torch, problem, cfg, 8)
    np.testing.assert_allclose(got[-1], np.ones(4), atol=1e-5)
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-9, atol=1e-9)
    assert losses[-1] < 1e-10


@pytest.mark.parametrize(
    "cfg", [dict(), dict(line_search_fn="strong_wolfe", history_size=4)], ids=["fixed", "wolfe"]
)
def test_regression_iterates_match_pytorch_and_resume_across_frameworks(cfg):
    got, _, opt, params = _run(mt, _regression, cfg, calls=4)
    want, _, t_opt, t_params = _run(torch, _regression, cfg, calls=4)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    # resume: two calls, save, a fresh optimizer (either framework) continues like the 4-call run
    for lib_from, lib_to in ((mt, mt), (mt, torch), (torch, mt)):
        _, _, first, ps = _run(lib_from, _regression, cfg, calls=2)
        sd = copy.deepcopy(first.state_dict()) if lib_from is torch else first.state_dict()
        if lib_from is not lib_to:
            sd = _convert(sd, _to_torch if lib_to is torch else _to_mt)
        start = [p.detach().numpy().copy() for p in ps]
        resumed, _, _, _ = _run(lib_to, _regression, cfg, calls=2, start=start, state=sd)
        np.testing.assert_allclose(resumed, want[2:], rtol=1e-8, atol=1e-10)
    keys = set(opt.state_dict()["state"][0])
    assert keys == set(t_opt.state_dict()["state"][0])
    assert opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]


def _to_torch(v):
    if isinstance(v, mt.Tensor):
        return torch.tensor(v.numpy())
    return [_to_torch(x) for x in v] if isinstance(v, list) else v


def _to_mt(v):
    if isinstance(v, torch.Tensor):
        return mt.tensor(v.numpy())
    return [_to_mt(x) for x in v] if isinstance(v, list) else v


def _convert(sd, fn):
    return {
        "state": {i: {k: fn(v) for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"]),
    }


def test_lbfgs_writes_bump_versions_and_stops_at_an_optimum():
    params, loss_fn = _rosenbrock(mt, np.ones(3))  # the minimum: the gradient is zero
    opt = optim.LBFGS(params)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0 and params[0]._version == 0  # nothing to do, nothing written
    params[0].data = mt.tensor(np.array([0.5, 0.2, 0.1]))
    opt.step(closure)
    assert params[0]._version > 0


def test_lbfgs_errors():
    params = [mt.nn.Parameter(mt.zeros(2, dtype=mt.float64))]
    with pytest.raises(ValueError, match="LBFGS: Invalid learning rate: -1"):
        optim.LBFGS(params, lr=-1)
    with pytest.raises(ValueError, match="only 'strong_wolfe'"):
        optim.LBFGS(params, line_search_fn="backtracking")
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": params}, {"params": [mt.nn.Parameter(mt.zeros(1))]}])
    opt = optim.LBFGS(params)
    with pytest.raises(ValueError, match="per-parameter options"):
        opt.add_param_group({"params": [mt.nn.Parameter(mt.zeros(1))]})
    with pytest.raises(RuntimeError, match="requires a closure"):
        opt.step()
    assert opt.state == {}
