"""mt.autograd.functional matches torch.autograd.functional; the autograd package keeps its surface."""

import warnings

import numpy as np
import pytest

import microtensor as mt
import microtensor.autograd.functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def f_scalar(x):
    return (x**3 * x.exp()).sum()


def f_vec(x):
    return x.tanh() * x.sum()


def f_two(x, y):
    return (x * y.sum()).sigmoid(), (x.exp() @ y.reshape(3, 1)).sum() * 0 + x.sum() * y.sum()


X = np.array([0.3, -0.7, 1.1])
Y = np.array([0.5, 0.2, -0.4])


def both(a):
    return mt.tensor(a, dtype=mt.float64), torch.tensor(a, dtype=torch.float64)


def close(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            close(o, t)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["jacobian", "hessian"])
def test_jacobian_hessian_single(name):
    mx, tx = both(X)
    fn = f_scalar
    close(getattr(AF, name)(fn, mx), getattr(TF, name)(fn, tx))
    if name == "jacobian":
        close(AF.jacobian(f_vec, mx), TF.jacobian(f_vec, tx))


def test_jacobian_tuples():
    (mx, tx), (my, ty) = both(X), both(Y)
    close(AF.jacobian(f_two, (mx, my)), TF.jacobian(f_two, (tx, ty)))

    def g(a, b):
        return (a * b).sum() * a.sum()

    close(AF.hessian(g, (mx, my)), TF.hessian(g, (tx, ty)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_products(name):
    (mx, tx), (mv, tv) = both(X), both(Y)
    fn = f_scalar if name in ("hvp", "vhp") else f_vec
    v_m, v_t = (mv, tv)
    close(getattr(AF, name)(fn, mx, v_m), getattr(TF, name)(fn, tx, v_t))


def test_create_graph_keeps_results_differentiable():
    mx, tx = both(X)
    mx.requires_grad_()
    tx.requires_grad_()
    h_m = AF.hessian(f_scalar, mx, create_graph=True)
    h_t = TF.hessian(f_scalar, tx, create_graph=True)
    h_m.sum().backward()
    h_t.sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_strict_and_unused():
    mx, tx = both(X)
    close(AF.jacobian(lambda a: a.detach() * 2, mx), TF.jacobian(lambda a: a.detach() * 2, tx))
    with pytest.raises(RuntimeError, match="independent"):
        AF.jacobian(lambda a: a.detach() * 2, mx, strict=True)
    with pytest.raises(RuntimeError):
        TF.jacobian(lambda a: a.detach() * 2, tx, strict=True)


def test_v_none_only_for_scalar_outputs():
    mx, tx = both(X)
    close(AF.vjp(f_scalar, mx), TF.vjp(f_scalar, tx))
    with pytest.raises(RuntimeError, match="single element"):
        AF.vjp(f_vec, mx)


def test_docstring_examples():
    x = mt.tensor([1.0, 2.0])
    out, prod = AF.vjp(lambda t: t**2, x, mt.tensor([1.0, 1.0]))
    assert out.tolist() == [1.0, 4.0] and prod.tolist() == [2.0, 4.0]
    out, prod = AF.jvp(lambda t: t**2, x, mt.tensor([1.0, 0.0]))
    assert out.tolist() == [1.0, 4.0] and prod.tolist() == [2.0, 0.0]
    assert AF.jacobian(lambda t: t**2, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert AF.hessian(lambda t: (t**3).sum(), x).tolist() == [[6.0, 0.0], [0.0, 12.0]]
    out, prod = AF.vhp(lambda t: (t**3).sum(), x, mt.tensor([1.0, 1.0]))
    assert out.item() == 9.0 and prod.tolist() == [6.0, 12.0]
    out, prod = AF.hvp(lambda t: (t**3).sum(), x, mt.tensor([1.0, 0.0]))
    assert out.item() == 9.0 and prod.tolist() == [6.0, 0.0]
    assert not x.requires_grad and x.grad is None  # the caller's tensor is left alone


def test_bad_arguments_name_the_function():
    x = mt.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"jacobian: the inputs\[1\] given must be a Tensor"):
        AF.jacobian(lambda a, b: a * b, (x, 2.0))
    with pytest.raises(RuntimeError, match=r"vjp: entry 0 of v has shape \(3,\)"):
        AF.vjp(lambda t: t * 2, x, mt.ones(3))
    with pytest.raises(RuntimeError, match="hessian: the function given to hessian should return a single"):
        AF.hessian(lambda t: t * 2, x)
    with pytest.raises(ValueError, match="jacobian: expected strategy"):
        AF.jacobian(lambda t: t, x, strategy="sideways")


# ------------------------------------------------------------------ the autograd package
def test_the_package_keeps_every_name_the_module_had():
    import microtensor.autograd as ag
    from microtensor.autograd import (  # noqa: F401 - importable, as before the package
        Function,
        FunctionCtx,
        GradcheckError,
        backward,
        detect_anomaly,
        enable_grad,
        grad,
        gradcheck,
        gradgradcheck,
        is_anomaly_enabled,
        is_grad_enabled,
        no_grad,
        set_detect_anomaly,
        set_grad_enabled,
    )

    assert mt.autograd is ag and mt.autograd.functional is AF and mt.autograd.grad is grad
    assert mt.no_grad is no_grad and mt.enable_grad is enable_grad
    assert sorted(AF.__all__) == ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
    for name in AF.__all__:
        assert getattr(AF, name).__doc__, name


def test_grad_accepts_only_inputs_as_pytorch():
    results = []
    for lib in (mt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            (g1,) = lib.autograd.grad((x * 3).sum(), x, None, None, False, True)  # positional, as torch
            (g2,) = lib.autograd.grad((x * 3).sum(), x, only_inputs=False)
        futures = [w for w in caught if issubclass(w.category, FutureWarning)]
        results.append((g1.tolist(), g2.tolist(), len(futures), "only_inputs" in str(futures[0].message)))
        assert x.grad is None  # ignored: nothing else of the graph accumulates
    assert results[0] == results[1] == ([3.0, 3.0], [3.0, 3.0], 1, True)
