"""microtensor.distributions against torch.distributions.

For every distribution and argument form: Hypothesis draws parameter shapes
(broadcast against each other), a sample shape and values; log_prob, entropy,
moments, cdf/icdf and rsample must equal PyTorch's in float64, and so must the
gradients of a weighted sum of them with respect to every parameter. Gradients
are also checked against central finite differences (gradcheck). Samples drawn
after the same manual_seed must be PyTorch's numbers; bad parameters and values
raise PyTorch's ValueErrors.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microtensor as mt
import microtensor.distributions as D
from microtensor.testing import broadcastable_shapes, shapes

torch = pytest.importorskip("torch")
TD = torch.distributions


# ------------------------------------------------------------------ the cases
# Each case: param_kinds (how to draw each parameter), a shape rule, and build(lib, D, *params).
# Parameters enter the distribution through differentiable ops where the form needs it (a covariance is
# A A^T + n I), so gradients reach the raw arrays drawn here.
def _spd(lib, a):
    n = a.shape[-1]
    return a @ a.mT + n * lib.eye(n, dtype=a.dtype)


def _tril(lib, a):
    n = a.shape[-1]
    return a.tril() + n * lib.eye(n, dtype=a.dtype)


CASES = {
    "normal": (("real", "positive"), "broadcast", lambda lib, Dx, loc, scale: Dx.Normal(loc, scale)),
    "normal_float_scale": (("real",), "batch", lambda lib, Dx, loc: Dx.Normal(loc, 0.7)),
    "categorical_probs": (("positive",), "vector", lambda lib, Dx, p: Dx.Categorical(probs=p)),
    "categorical_logits": (("real",), "vector", lambda lib, Dx, lg: Dx.Categorical(logits=lg)),
    "bernoulli_probs": (("unit",), "batch", lambda lib, Dx, p: Dx.Bernoulli(probs=p)),
    "bernoulli_logits": (("real",), "batch", lambda lib, Dx, lg: Dx.Bernoulli(logits=lg)),
    "uniform": (("real", "positive"), "broadcast", lambda lib, Dx, lo, w: Dx.Uniform(lo, lo + w)),
    "one_hot_probs": (("positive",), "vector", lambda lib, Dx, p: Dx.OneHotCategorical(probs=p)),
    "one_hot_logits": (("real",), "vector", lambda lib, Dx, lg: Dx.OneHotCategorical(logits=lg)),
    "mvn_covariance": (
        ("real", "real"),
        "mvn",
        lambda lib, Dx, loc, a: Dx.MultivariateNormal(loc, covariance_matrix=_spd(lib, a)),
    ),
    "mvn_precision": (
        ("real", "real"),
        "mvn",
        lambda lib, Dx, loc, a: Dx.MultivariateNormal(loc, precision_matrix=_spd(lib, a)),
    ),
    "mvn_scale_tril": (
        ("real", "real"),
        "mvn",
        lambda lib, Dx, loc, a: Dx.MultivariateNormal(loc, scale_tril=_tril(lib, a)),
    ),
    "exponential": (("positive",), "batch", lambda lib, Dx, rate: Dx.Exponential(rate)),
    "laplace": (("real", "positive"), "broadcast", lambda lib, Dx, loc, scale: Dx.Laplace(loc, scale)),
    "one_hot_straight_through": (
        ("real",),
        "vector",
        lambda lib, Dx, lg: Dx.OneHotCategoricalStraightThrough(logits=lg),
    ),
    "log_normal": (("real", "positive"), "broadcast", lambda lib, Dx, loc, scale: Dx.LogNormal(loc, scale)),
    "tanh_normal": (
        ("real", "positive"),
        "broadcast",
        lambda lib, Dx, loc, scale: Dx.TransformedDistribution(Dx.Normal(loc, scale), [Dx.TanhTransform()]),
    ),
    "affine_sigmoid_normal": (
        ("real", "positive"),
        "batch2",
        lambda lib, Dx, loc, scale: Dx.TransformedDistribution(
            Dx.Normal(loc, scale), [Dx.AffineTransform(0.5, 2.0), Dx.SigmoidTransform()]
        ),
    ),
    "affine_exponential": (  # a tensor shift broadcasts the batch; a negative scale flips the CDF
        ("positive", "real"),
        "broadcast",
        lambda lib, Dx, rate, shift: Dx.TransformedDistribution(
            Dx.Exponential(rate), Dx.AffineTransform(shift, -2.0)
        ),
    ),
    "geometric_probs": (("unit",), "batch", lambda lib, Dx, p: Dx.Geometric(probs=p)),
    "geometric_logits": (("real",), "batch", lambda lib, Dx, lg: Dx.Geometric(logits=lg)),
    "cauchy": (("real", "positive"), "broadcast", lambda lib, Dx, loc, scale: Dx.Cauchy(loc, scale)),
    "half_normal": (("positive",), "batch", lambda lib, Dx, scale: Dx.HalfNormal(scale)),
    "gumbel": (("real", "positive"), "broadcast", lambda lib, Dx, loc, scale: Dx.Gumbel(loc, scale)),
    "gumbel_float": (("real",), "batch", lambda lib, Dx, loc: Dx.Gumbel(loc, 2.0)),
    "exp_relaxed_categorical": (
        ("real", "positive"),
        "vector+scalar",
        lambda lib, Dx, lg, t: Dx.relaxed_categorical.ExpRelaxedCategorical(t, logits=lg),
    ),
    "relaxed_one_hot_probs": (
        ("positive", "positive"),
        "vector+scalar",
        lambda lib, Dx, p, t: Dx.RelaxedOneHotCategorical(t, probs=p),
    ),
    "relaxed_bernoulli_logits": (
        ("real", "positive"),
        "batch+scalar",
        lambda lib, Dx, lg, t: Dx.RelaxedBernoulli(t, logits=lg),
    ),
    "relaxed_bernoulli_probs": (
        ("unit", "positive"),
        "batch+scalar",
        lambda lib, Dx, p, t: Dx.RelaxedBernoulli(t, probs=p),
    ),
    "mixture_normal": (
        ("real", "real", "positive"),
        "mixture",
        lambda lib, Dx, w, loc, scale: Dx.MixtureSameFamily(Dx.Categorical(logits=w), Dx.Normal(loc, scale)),
    ),
    "mixture_diagonal_gaussians": (
        ("real", "real", "positive"),
        "mixture_event",
        lambda lib, Dx, w, loc, scale: Dx.MixtureSameFamily(
            Dx.Categorical(logits=w), Dx.Independent(Dx.Normal(loc, scale), 1)
        ),
    ),
    "independent_normal": (
        ("real", "positive"),
        "vector",
        lambda lib, Dx, loc, scale: Dx.Independent(Dx.Normal(loc, scale), 1),
    ),
}


def _values(kind: str, shape, rng) -> np.ndarray:
    x = rng.uniform(-1.0, 1.0, shape)
    if kind == "positive":
        return np.exp(x)
    if kind == "unit":
        return 0.05 + 0.9 * rng.uniform(0.0, 1.0, shape)
    return x


@st.composite
def case_params(draw, case: str):
    """Parameter arrays for a case (shapes drawn by Hypothesis) and a sample shape."""
    kinds, rule, _ = CASES[case]
    if rule == "broadcast":
        param_shapes = draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    elif rule == "batch":
        param_shapes = (draw(shapes(max_dims=3, max_side=3)),)
    elif rule == "vector+scalar":  # a parameter vector and a 0-dim temperature
        param_shapes = (draw(shapes(min_dims=1, max_dims=3, max_side=4)), ())
    elif rule == "batch+scalar":
        param_shapes = (draw(shapes(max_dims=3, max_side=3)), ())
    elif rule.startswith("mixture"):  # mixture logits (..., K); components (..., K) or (..., K, E)
        batch = draw(shapes(max_dims=2, max_side=3))
        k = draw(st.integers(1, 4))
        comp = batch + (k,) + ((draw(st.integers(1, 3)),) if rule == "mixture_event" else ())
        param_shapes = (batch + (k,), comp, comp)
    elif rule == "batch2":
        param_shapes = (draw(shapes(max_dims=3, max_side=3)),) * 2
    elif rule == "vector":
        s = draw(shapes(min_dims=1, max_dims=3, max_side=4))
        param_shapes = (s,) * len(kinds)
    else:  # mvn: loc (..., n) and a matrix (..., n, n) whose batch dims broadcast with loc's
        n = draw(st.integers(1, 3))
        lb, mb = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
        param_shapes = (lb + (n,), mb + (n, n))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    arrays = [_values(k, s, rng) for k, s in zip(kinds, param_shapes)]
    sample_shape = draw(shapes(max_dims=2, max_side=3))
    return arrays, sample_shape, seed


def _both(case, arrays, requires_grad=True):
    build = CASES[case][2]
    mts = [mt.tensor(a, requires_grad=requires_grad) for a in arrays]
    tts = [torch.tensor(a, requires_grad=requires_grad) for a in arrays]
    return mts, tts, build(mt, D, *mts), build(torch, TD, *tts)


def _close(a, b, rtol=1e-10, atol=1e-12):
    b = b.detach().numpy()
    a = a.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _outputs(lib, d, td_value, seed, sample_shape):
    """What a user computes from a distribution, as a dict of tensors (every one a function of the params)."""
    out = {"log_prob": d.log_prob(td_value)}
    with contextlib.suppress(NotImplementedError):  # TransformedDistribution has no entropy
        out["entropy"] = d.entropy()
    for moment in ("mean", "variance", "stddev"):
        with contextlib.suppress(NotImplementedError):  # Uniform has every moment, Categorical NaN ones
            out[moment] = getattr(d, moment)
    if d.has_rsample:
        lib.manual_seed(seed)
        out["rsample"] = d.rsample(sample_shape)
    for f in ("cdf", "icdf"):
        with contextlib.suppress(NotImplementedError):  # only where PyTorch has them
            out[f] = getattr(d, f)(td_value if f == "cdf" else lib.full_like(td_value, 0.3))
    return out


# 16 cases x 2 sweeps: 15 examples each keeps the file near half a minute in the CI budget
SWEEP = settings(max_examples=15)


@pytest.mark.parametrize("case", sorted(CASES))
@SWEEP
@given(data=st.data())
def test_values_and_gradients_match_torch(case, data):
    arrays, sample_shape, seed = data.draw(case_params(case))
    mts, tts, d, td = _both(case, arrays)
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    with torch.no_grad():
        torch.manual_seed(seed)
        tv = td.sample(sample_shape)
    value = tv.numpy()
    mo = _outputs(mt, d, mt.tensor(value), seed, sample_shape)
    to = _outputs(torch, td, torch.tensor(value), seed, sample_shape)
    assert sorted(mo) == sorted(to)
    rng = np.random.default_rng(1)
    lm = lt = 0
    for k in sorted(to):
        _close(mo[k], to[k])
        w = rng.standard_normal(tuple(to[k].shape))
        keep = np.isfinite(to[k].detach().numpy())  # NaN moments (Categorical's mean) take no part
        lm = lm + mt.where(mt.tensor(keep), mo[k] * mt.tensor(w), 0.0).sum()
        lt = lt + torch.where(torch.tensor(keep), to[k] * torch.tensor(w), 0.0).sum()
    lm.backward()
    lt.backward()
    for x, y in zip(mts, tts):
        gy = np.zeros(y.shape) if y.grad is None else y.grad.numpy()
        gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(gx, gy, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", sorted(CASES))
@SWEEP
@given(data=st.data())
def test_gradients_match_finite_differences(case, data):
    arrays, sample_shape, seed = data.draw(case_params(case))
    build = CASES[case][2]
    params = [mt.tensor(a, requires_grad=True) for a in arrays]
    with mt.no_grad():
        mt.manual_seed(seed)
        value = build(mt, D, *params).sample(sample_shape)

    def log_prob(*ps):
        return build(mt, D, *ps).log_prob(value)

    def entropy(*ps):
        return build(mt, D, *ps).entropy()

    def rsample(*ps):
        mt.manual_seed(seed)  # the same noise at every evaluation: a deterministic function of ps
        return build(mt, D, *ps).rsample(sample_shape)

    mt.autograd.gradcheck(log_prob, params)
    with contextlib.suppress(NotImplementedError):  # TransformedDistribution has no entropy
        mt.autograd.gradcheck(entropy, params)
    # a straight-through draw is piecewise constant: its gradient is probs' by definition, not the
    # derivative (zero) that finite differences see; the parity test checks it against PyTorch's
    if build(mt, D, *params).has_rsample and case != "one_hot_straight_through":
        mt.autograd.gradcheck(rsample, params)


@pytest.mark.parametrize("case", ["normal", "categorical_logits", "bernoulli_logits", "mvn_scale_tril"])
def test_second_derivatives_of_log_prob(case):
    rng = np.random.default_rng(3)
    kinds, rule, build = CASES[case]
    shape = (2, 3) if rule != "mvn" else None
    if rule == "mvn":
        arrays = [_values("real", (2,), rng), _values("real", (2, 2), rng)]
    else:
        arrays = [_values(k, shape, rng) for k in kinds]
    params = [mt.tensor(a, requires_grad=True) for a in arrays]
    with mt.no_grad():
        mt.manual_seed(0)
        value = build(mt, D, *params).sample((2,))
    mt.autograd.gradgradcheck(lambda *ps: build(mt, D, *ps).log_prob(value), params)


def test_kl_divergence_matches_torch_values_and_gradients():
    rng = np.random.default_rng(0)
    pairs = {
        "normal": (("real", "positive"), (2, 3)),
        "categorical_logits": (("real",), (2, 4)),
        "categorical_probs": (("positive",), (3,)),
        "bernoulli_probs": (("unit",), (4,)),
        "bernoulli_logits": (("real",), (2, 2)),
        "one_hot_logits": (("real",), (3,)),
        "independent_normal": (("real", "positive"), (2, 3)),
        "mvn_covariance": (("real", "real"), None),
        "mvn_scale_tril": (("real", "real"), None),
        "uniform": (("real", "positive"), (3,)),
        "exponential": (("positive",), (2, 2)),
        "log_normal": (("real", "positive"), (3,)),
        "cauchy": (("real", "positive"), (3,)),
        "half_normal": (("positive",), (2, 2)),
        "geometric_probs": (("unit",), (3,)),
        "geometric_logits": (("real",), (3,)),
        "laplace": (("real", "positive"), (3,)),
    }
    for case, (kinds, shape) in pairs.items():
        if shape is None:
            p_arrays = [_values("real", (2, 3), rng), _values("real", (3, 3), rng)]
            q_arrays = [_values("real", (3,), rng), _values("real", (2, 3, 3), rng)]
        else:
            p_arrays = [_values(k, shape, rng) for k in kinds]
            q_arrays = [_values(k, shape, rng) for k in kinds]
        pm, pt, dp, tp = _both(case, p_arrays)
        qm, qt, dq, tq = _both(case, q_arrays)
        km, kt = D.kl_divergence(dp, dq), TD.kl_divergence(tp, tq)
        _close(km, kt)
        w = rng.standard_normal(tuple(kt.shape))
        keep = np.isfinite(kt.detach().numpy())
        mt.where(mt.tensor(keep), km * mt.tensor(w), 0.0).sum().backward()
        torch.where(torch.tensor(keep), kt * torch.tensor(w), 0.0).sum().backward()
        for x, y in zip(pm + qm, pt + qt):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=case)


def test_kl_divergence_infinite_where_supports_differ():
    p, q = D.Bernoulli(mt.tensor([0.0, 0.5, 1.0])), D.Bernoulli(mt.tensor([0.5, 0.0, 0.5]))
    tp, tq = TD.Bernoulli(torch.tensor([0.0, 0.5, 1.0])), TD.Bernoulli(torch.tensor([0.5, 0.0, 0.5]))
    _close(D.kl_divergence(p, q), TD.kl_divergence(tp, tq))
    assert math.isinf(D.kl_divergence(p, q)[1].item())
    c = D.Categorical(mt.tensor([0.5, 0.5, 0.0]))
    c0 = D.Categorical(mt.tensor([1.0, 0.0, 0.0]))
    assert math.isinf(D.kl_divergence(c, c0).item())
    assert D.kl_divergence(c0, c).item() == pytest.approx(math.log(2))
    u, v = D.Uniform(0.0, 2.0), D.Uniform(1.0, 3.0)
    assert math.isinf(D.kl_divergence(u, v).item())


def test_register_kl_dispatches_by_subclass_and_unknown_pairs_raise():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert D.kl_divergence(p, q).item() == pytest.approx(D.kl_divergence(D.Normal(0.0, 1.0), q).item())

    @D.register_kl(MyNormal, D.Normal)
    def _fixed(p, q):
        return mt.tensor(42.0)

    assert D.kl_divergence(p, q).item() == 42.0
    assert D.kl_divergence(q, MyNormal(0.0, 1.0)).item() != 42.0  # (Normal, MyNormal) still the general rule
    with pytest.raises(NotImplementedError, match="p type Normal and q type Categorical"):
        D.kl_divergence(q, D.Categorical(mt.tensor([0.5, 0.5])))
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)
    D.kl._KL_REGISTRY.pop((MyNormal, D.Normal))
    D.kl._KL_MEMOIZE.clear()


# ------------------------------------------------------------------ sampling streams
STREAMS = {
    "normal": lambda lib, Dx, dt: Dx.Normal(
        lib.tensor([0.0, 1.0, -2.0], dtype=dt), lib.tensor([1.0, 0.5, 3.0], dtype=dt)
    ),
    "normal_scalar": lambda lib, Dx, dt: Dx.Normal(0.5, 2.0),
    "categorical_logits": lambda lib, Dx, dt: Dx.Categorical(
        logits=lib.tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]], dtype=dt)
    ),
    "categorical_probs": lambda lib, Dx, dt: Dx.Categorical(probs=lib.tensor([0.1, 0.6, 0.3], dtype=dt)),
    "bernoulli": lambda lib, Dx, dt: Dx.Bernoulli(probs=lib.tensor([0.2, 0.7], dtype=dt)),
    "bernoulli_logits": lambda lib, Dx, dt: Dx.Bernoulli(logits=lib.tensor([[0.3], [-1.0]], dtype=dt)),
    "uniform": lambda lib, Dx, dt: Dx.Uniform(
        lib.tensor([0.0, -1.0], dtype=dt), lib.tensor([2.0, 3.0], dtype=dt)
    ),
    "one_hot": lambda lib, Dx, dt: Dx.OneHotCategorical(lib.tensor([0.2, 0.3, 0.5], dtype=dt)),
    "exponential": lambda lib, Dx, dt: Dx.Exponential(lib.tensor([0.5, 2.0], dtype=dt)),
    "laplace": lambda lib, Dx, dt: Dx.Laplace(
        lib.tensor([0.0, 1.0], dtype=dt), lib.tensor([1.0, 0.1], dtype=dt)
    ),
    "one_hot_straight_through": lambda lib, Dx, dt: Dx.OneHotCategoricalStraightThrough(
        logits=lib.tensor([0.2, 0.3, 0.5], dtype=dt)
    ),
    "geometric": lambda lib, Dx, dt: Dx.Geometric(lib.tensor([0.3, 0.9, 0.05], dtype=dt)),
    "cauchy": lambda lib, Dx, dt: Dx.Cauchy(
        lib.tensor([0.0, 1.0], dtype=dt), lib.tensor([1.0, 0.1], dtype=dt)
    ),
    "half_normal": lambda lib, Dx, dt: Dx.HalfNormal(lib.tensor([1.0, 3.0], dtype=dt)),
    "gumbel": lambda lib, Dx, dt: Dx.Gumbel(
        lib.tensor([0.0, 1.0], dtype=dt), lib.tensor([1.0, 0.5], dtype=dt)
    ),
    "relaxed_one_hot": lambda lib, Dx, dt: Dx.RelaxedOneHotCategorical(
        lib.tensor(0.5, dtype=dt), logits=lib.tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]], dtype=dt)
    ),
    "relaxed_bernoulli": lambda lib, Dx, dt: Dx.RelaxedBernoulli(
        lib.tensor(0.7, dtype=dt), probs=lib.tensor([0.2, 0.9], dtype=dt)
    ),
    "mixture": lambda lib, Dx, dt: Dx.MixtureSameFamily(
        Dx.Categorical(logits=lib.tensor([0.0, 1.0, -1.0], dtype=dt)),
        Dx.Normal(lib.tensor([-2.0, 0.0, 3.0], dtype=dt), lib.tensor([0.5, 1.0, 0.2], dtype=dt)),
    ),
    "independent": lambda lib, Dx, dt: Dx.Independent(
        Dx.Normal(lib.zeros(4, dtype=dt), lib.ones(4, dtype=dt)), 1
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sample_shape", [(), (1,), (5,), (7, 3), (40,)])
@pytest.mark.parametrize("case", sorted(STREAMS))
def test_samples_are_torchs_numbers_after_manual_seed(case, sample_shape, dtype):
    d = STREAMS[case](mt, D, getattr(mt, dtype))
    td = STREAMS[case](torch, TD, getattr(torch, dtype))
    mt.manual_seed(7)
    torch.manual_seed(7)
    methods = ["sample", "sample"] + (["rsample"] if td.has_rsample else [])
    for method in methods:  # consecutive draws: the generator state advances as PyTorch's
        a, b = getattr(d, method)(sample_shape), getattr(td, method)(sample_shape)
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        if case in ("laplace", "gumbel", "relaxed_one_hot", "relaxed_bernoulli"):
            # the uniforms are PyTorch's exactly; PyTorch's log1p (vectorised, 16+ elements) and float32
            # log may round the last bit differently from NumPy's
            ulp = float(np.finfo(a.detach().numpy().dtype).eps)
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=4 * ulp, atol=4 * ulp)
        else:
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_multivariate_normal_samples_equal_torchs_to_rounding():
    # the noise is PyTorch's stream exactly; loc + L eps differs only in the matrix product's rounding
    cov = [[2.0, 0.5], [0.5, 1.0]]
    d = D.MultivariateNormal(mt.tensor([1.0, -1.0]), covariance_matrix=mt.tensor(cov))
    td = TD.MultivariateNormal(torch.tensor([1.0, -1.0]), covariance_matrix=torch.tensor(cov))
    mt.manual_seed(3)
    torch.manual_seed(3)
    for shape in [(), (4,), (20, 2)]:
        np.testing.assert_allclose(d.sample(shape).numpy(), td.sample(shape).numpy(), rtol=1e-6, atol=1e-6)


def test_sample_is_outside_the_graph_and_rsample_inside():
    loc = mt.tensor([0.0, 1.0], requires_grad=True)
    d = D.Normal(loc, 1.0)
    assert not d.sample().requires_grad
    x = d.rsample((3,))
    assert x.requires_grad
    x.sum().backward()
    np.testing.assert_array_equal(loc.grad.numpy(), [3.0, 3.0])
    with pytest.raises(NotImplementedError, match="Categorical does not implement rsample"):
        D.Categorical(logits=mt.zeros(3)).rsample()


# ------------------------------------------------------------------ shapes, expand, support
def test_shapes_expand_and_enumerate_support_match_torch():
    made = [
        (D.Normal(mt.zeros(3, 1), mt.ones(2)), TD.Normal(torch.zeros(3, 1), torch.ones(2))),
        (D.Categorical(logits=mt.zeros(2, 4)), TD.Categorical(logits=torch.zeros(2, 4))),
        (D.Bernoulli(0.3), TD.Bernoulli(0.3)),
        (D.OneHotCategorical(mt.ones(2, 3)), TD.OneHotCategorical(torch.ones(2, 3))),
        (
            D.MultivariateNormal(mt.zeros(2), scale_tril=mt.eye(2)),
            TD.MultivariateNormal(torch.zeros(2), scale_tril=torch.eye(2)),
        ),
        (
            D.Independent(D.Normal(mt.zeros(2, 3), 1.0), 1),
            TD.Independent(TD.Normal(torch.zeros(2, 3), 1.0), 1),
        ),
    ]
    for d, td in made:
        assert (tuple(d.batch_shape), tuple(d.event_shape)) == (tuple(td.batch_shape), tuple(td.event_shape))
        target = (4,) + tuple(td.batch_shape)
        e, te = d.expand(target), td.expand(target)
        assert type(e) is type(d)
        assert (tuple(e.batch_shape), tuple(e.event_shape)) == (tuple(te.batch_shape), tuple(te.event_shape))
        assert tuple(e.sample((2,)).shape) == tuple(te.sample((2,)).shape)
        if td.has_enumerate_support:
            for expand in (True, False):
                np.testing.assert_array_equal(
                    d.enumerate_support(expand).numpy(), td.enumerate_support(expand).numpy()
                )


def test_modes_and_lazy_parameters_match_torch():
    p = [[0.1, 0.5, 0.4], [0.6, 0.2, 0.2]]
    c, tc = D.Categorical(mt.tensor(p)), TD.Categorical(torch.tensor(p))
    np.testing.assert_array_equal(c.mode.numpy(), tc.mode.numpy())
    np.testing.assert_allclose(c.logits.numpy(), tc.logits.numpy(), rtol=1e-6)
    assert c.logits is c.logits  # computed once, then kept
    b, tb = D.Bernoulli(mt.tensor([0.2, 0.5, 0.9])), TD.Bernoulli(torch.tensor([0.2, 0.5, 0.9]))
    np.testing.assert_array_equal(b.mode.numpy(), tb.mode.numpy())
    o, to = D.OneHotCategorical(mt.tensor(p)), TD.OneHotCategorical(torch.tensor(p))
    np.testing.assert_array_equal(o.mode.numpy(), to.mode.numpy())
    assert math.isnan(D.Uniform(0.0, 1.0).mode.item())
    m, tm = (
        D.MultivariateNormal(mt.zeros(2), covariance_matrix=mt.tensor([[2.0, 0.3], [0.3, 1.0]])),
        TD.MultivariateNormal(torch.zeros(2), covariance_matrix=torch.tensor([[2.0, 0.3], [0.3, 1.0]])),
    )
    for name in ("scale_tril", "precision_matrix", "covariance_matrix", "variance"):
        np.testing.assert_allclose(getattr(m, name).numpy(), getattr(tm, name).numpy(), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ validation
def test_invalid_parameters_raise_torchs_value_errors():
    bad = [
        (lambda Dx, lib: Dx.Normal(lib.tensor([0.0]), lib.tensor([-1.0])), "scale"),
        (lambda Dx, lib: Dx.Bernoulli(probs=lib.tensor([1.5])), "probs"),
        (lambda Dx, lib: Dx.Uniform(lib.tensor([2.0]), lib.tensor([1.0])), "low"),
        (lambda Dx, lib: Dx.Categorical(probs=lib.tensor([0.5, -0.5, 1.0])), "probs"),
        (lambda Dx, lib: Dx.Categorical(logits=lib.tensor([0.0, float("nan")])), "logits"),
        (
            lambda Dx, lib: Dx.MultivariateNormal(
                lib.zeros(2), covariance_matrix=lib.tensor([[1.0, 2.0], [2.0, 1.0]])
            ),
            "covariance_matrix",
        ),
        (
            lambda Dx, lib: Dx.MultivariateNormal(
                lib.zeros(2), scale_tril=lib.tensor([[1.0, 1.0], [0.0, 1.0]])
            ),
            "scale_tril",
        ),
    ]
    for make, param in bad:
        with pytest.raises(ValueError, match=f"Expected parameter {param}") as ours:
            make(D, mt)
        with pytest.raises(ValueError, match=f"Expected parameter {param}") as theirs:
            make(TD, torch)
        constraint = str(theirs.value).split("to satisfy the constraint ")[1].split(",")[0]
        assert f"to satisfy the constraint {constraint}" in str(ours.value)
    D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]), validate_args=False)  # no check asked for: none made
    for Dx, lib in ((D, mt), (TD, torch)):  # Geometric's extra check: probs = 0 never succeeds
        with pytest.raises(ValueError, match="Expected parameter probs .* to be positive but found invalid"):
            Dx.Geometric(probs=lib.tensor([0.5, 0.0]))


def test_values_outside_the_support_raise_as_torch():
    cases = [
        (lambda Dx, lib: Dx.Categorical(logits=lib.zeros(3)), lambda lib: lib.tensor(3)),
        (lambda Dx, lib: Dx.Bernoulli(lib.tensor([0.5])), lambda lib: lib.tensor([0.5])),
        (lambda Dx, lib: Dx.Uniform(0.0, 1.0), lambda lib: lib.tensor(2.0)),
        (lambda Dx, lib: Dx.OneHotCategorical(lib.ones(3)), lambda lib: lib.tensor([1.0, 1.0, 0.0])),
    ]
    for make, value in cases:
        with pytest.raises(ValueError, match="to be within the support") as ours:
            make(D, mt).log_prob(value(mt))
        with pytest.raises(ValueError, match="to be within the support") as theirs:
            make(TD, torch).log_prob(value(torch))
        support = str(theirs.value).split("within the support (")[1].split(")")[0]
        assert support in str(ours.value)
    with pytest.raises(ValueError, match="must match event_shape"):
        D.MultivariateNormal(mt.zeros(3), mt.eye(3)).log_prob(mt.zeros(2))
    with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
        D.Normal(mt.zeros(3), 1.0).log_prob(mt.zeros(2))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)


def test_constructor_errors():
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical(probs=mt.ones(2), logits=mt.ones(2))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(logits=mt.tensor(1.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.MultivariateNormal(mt.zeros(2), covariance_matrix=mt.eye(2), scale_tril=mt.eye(2))
    with pytest.raises(ValueError, match=r"covariance_matrix of shape \(3, 3\) does not match loc"):
        D.MultivariateNormal(mt.zeros(2), covariance_matrix=mt.eye(3))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(mt.zeros(2), 1.0), 2)
    with pytest.raises(TypeError, match="Categorical: probs must be a Tensor, got list"):
        D.Categorical(probs=[0.5, 0.5])
    with pytest.raises(TypeError, match="MultivariateNormal: scale_tril must be a Tensor"):
        D.MultivariateNormal(mt.zeros(2), scale_tril=[[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="instances of Number or Tensor"):
        D.Normal("0", 1.0)


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]))  # unchecked
        with pytest.raises(ValueError, match="Expected parameter scale"):
            D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]), validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_importable_both_ways():
    import microtensor.distributions.normal as normal_module

    assert mt.distributions is D
    assert normal_module.Normal is D.Normal
    assert D.kl.kl_divergence is D.kl_divergence
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.Normal(mt.zeros(2), 1.0)) == "Normal(loc: torch.Size([2]), scale: torch.Size([2]))"


def test_tanh_squashed_policy_with_cache_matches_torch():
    # the SAC pattern: a cached TanhTransform gives log_prob the pre-tanh draw (no atanh round trip)
    mu = np.array([[0.3, -1.2], [2.5, 0.0]])
    log_std = np.array([[-0.5, 0.1], [0.2, -1.0]])
    outs = []
    for lib, Dx in ((mt, D), (torch, TD)):
        m = lib.tensor(mu, requires_grad=True)
        s = lib.tensor(log_std, requires_grad=True)
        d = Dx.TransformedDistribution(Dx.Normal(m, s.exp()), [Dx.TanhTransform(cache_size=1)])
        lib.manual_seed(5)
        a = d.rsample()
        lp = d.log_prob(a).sum(-1)
        (lp.sum() + (a * lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64)).sum()).backward()
        outs.append([a.detach().numpy(), lp.detach().numpy(), m.grad.numpy(), s.grad.numpy()])
    for x, y in zip(*outs):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_transforms_invert_and_compose_as_torch():
    x = np.linspace(-2, 2, 7)
    for make in (
        lambda Dx, lib: Dx.ExpTransform(),
        lambda Dx, lib: Dx.SigmoidTransform(),
        lambda Dx, lib: Dx.TanhTransform(),
        lambda Dx, lib: Dx.AffineTransform(lib.tensor(1.5, dtype=lib.float64), -3.0),
        lambda Dx, lib: Dx.ComposeTransform([Dx.AffineTransform(0.0, 0.5), Dx.TanhTransform()]),
        lambda Dx, lib: Dx.ExpTransform().inv,
    ):
        t, tt = make(D, mt), make(TD, torch)
        xm, xt = mt.tensor(x if t.domain is not D.constraints.positive else np.exp(x)), None
        xt = torch.tensor(xm.numpy())
        ym, yt = t(xm), tt(xt)
        _close(ym, yt)
        _close(t.inv(ym), tt.inv(yt))
        _close(t.log_abs_det_jacobian(xm, ym), tt.log_abs_det_jacobian(xt, yt))
        assert t.bijective == tt.bijective
        assert int(t.sign) == int(tt.sign)
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.TanhTransform()
    assert D.ExpTransform().inv.inv == D.ExpTransform()
    c = D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.0, 2.0)])
    assert c.inv.inv is c
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.ExpTransform(cache_size=2)
    with pytest.raises(ValueError, match="list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), "exp"])


@pytest.mark.parametrize("case", ["normal", "bernoulli_probs", "bernoulli_logits", "exponential"])
def test_exponential_family_bregman_entropy_and_kl_match_closed_forms_and_torch(case):
    kinds, _, build = CASES[case]
    rng = np.random.default_rng(4)
    arrays_p = [_values(k, (2, 3), rng) for k in kinds]
    arrays_q = [_values(k, (2, 3), rng) for k in kinds]
    pm, pt, dp, tp = _both(case, arrays_p)
    qm, qt, dq, tq = _both(case, arrays_q)
    assert isinstance(dp, D.ExponentialFamily)
    hm, ht = D.ExponentialFamily.entropy(dp), TD.ExponentialFamily.entropy(tp)
    _close(hm, ht)
    np.testing.assert_allclose(hm.detach().numpy(), dp.entropy().detach().numpy(), rtol=1e-9, atol=1e-12)
    km, kt = D.kl._kl_expfamily_expfamily(dp, dq), TD.kl._kl_expfamily_expfamily(tp, tq)
    _close(km, kt)
    closed = D.kl_divergence(dp, dq).detach().numpy()
    np.testing.assert_allclose(km.detach().numpy(), closed, rtol=1e-9, atol=1e-12)
    (hm.sum() + km.sum()).backward()
    (ht.sum() + kt.sum()).backward()
    for x, y in zip(pm + qm, pt + qt):
        gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        gy = np.zeros(tuple(y.shape)) if y.grad is None else y.grad.numpy()
        np.testing.assert_allclose(gx, gy, rtol=1e-9, atol=1e-10)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl._kl_expfamily_expfamily(D.Normal(0.0, 1.0), D.Exponential(1.0))


def test_setitem_on_a_0_dim_tensor_differentiates():
    # Geometric.log_prob writes through a mask into a 0-dim clone; its backward once received a NumPy
    # scalar gradient and could not write into it
    p = mt.tensor(0.29, dtype=mt.float64, requires_grad=True)

    def f(p):
        q = p * 2
        q[q == 1] = 0
        return q * 3

    assert mt.autograd.gradcheck(f, (p,))
    assert mt.autograd.gradgradcheck(f, (p,))


def test_mixture_weights_shared_across_a_batch_score_as_torch():
    # mixture weights (K,) for components of batch (B, K): PyTorch scores these (its sample does not
    # support them, so the values here are drawn by NumPy)
    rng = np.random.default_rng(6)
    w, loc, scale = rng.normal(size=3), rng.normal(size=(2, 3)), np.exp(rng.normal(size=(2, 3)))
    x = rng.normal(size=(4, 2))
    outs = []
    for lib, Dx in ((mt, D), (torch, TD)):
        ps = [lib.tensor(a, requires_grad=True) for a in (w, loc, scale)]
        d = Dx.MixtureSameFamily(Dx.Categorical(logits=ps[0]), Dx.Normal(ps[1], ps[2]))
        lp = d.log_prob(lib.tensor(x))
        (lp.sum() + d.mean.sum() + d.variance.sum() + d.cdf(lib.tensor(x)).sum()).backward()
        outs.append(
            [lp.detach().numpy(), d.mean.detach().numpy(), d.variance.detach().numpy()]
            + [p.grad.numpy() for p in ps]
        )
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(logits=mt.zeros(2)), D.Normal(mt.zeros(3), 1.0))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(mt.zeros(3), 1.0))
