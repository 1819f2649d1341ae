"""microtensor.nn: Module bookkeeping, Parameter, layers, state dicts, init; the XOR script of DESIGN §1."""

from __future__ import annotations

import importlib.util
import math
from collections import OrderedDict

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor.nn import init

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")

XOR_REPR = (
    "Sequential(\n"
    "  (0): Linear(in_features=2, out_features=4, bias=True)\n"
    "  (1): Tanh()\n"
    "  (2): Linear(in_features=4, out_features=1, bias=True)\n"
    "  (3): Sigmoid()\n"
    ")"
)


def xor_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())


def fill(t: mt.Tensor, value: float) -> None:
    with mt.no_grad():
        t.zero_()
        t += value


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of every parameter and buffer array, by state_dict name."""
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_snapshot_equal(model: nn.Module, snap: dict[str, np.ndarray]) -> None:
    now = snapshot(model)
    assert list(now) == list(snap)
    for k in snap:
        assert now[k].dtype == snap[k].dtype, k
        np.testing.assert_array_equal(now[k], snap[k], err_msg=k)


class Block(nn.Module):
    """A hand-written module with a parameter, a sub-module, buffers and plain attributes."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mt.ones(3))
        self.inner = nn.Linear(3, 2)
        self.register_buffer("running", mt.zeros(3))
        self.register_buffer("scratch", mt.zeros(1), persistent=False)
        self.note = "plain attribute"
        self.factor = 2.0

    def forward(self, x):
        return self.inner(x * self.scale) * self.factor


# ----------------------------------------------------------- registration
def test_attribute_assignment_registers_parameters_modules_and_buffers():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["inner"]
    assert list(b._buffers) == ["running", "scratch"]
    assert "note" not in b._parameters and b.note == "plain attribute"
    assert [n for n, _ in b.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    assert [n for n, _ in b.named_buffers()] == ["running", "scratch"]
    # non-persistent buffers stay out of state_dict, as in PyTorch
    assert list(b.state_dict()) == ["scale", "running", "inner.weight", "inner.bias"]
    assert b.scale is b._parameters["scale"] and b.inner is b._modules["inner"]


def test_reassignment_keeps_each_name_in_one_store():
    b = Block()
    new_running = mt.full((3,), 7.0)
    b.running = new_running  # a Tensor assigned to a buffer's name updates the buffer
    assert b._buffers["running"] is new_running and "running" not in b.__dict__
    b.scale = None  # None unsets a parameter but keeps the slot
    assert b.scale is None and [n for n, _ in b.named_parameters()] == ["inner.weight", "inner.bias"]
    with pytest.raises(TypeError, match="parameter 'scale'"):
        b.scale = mt.ones(3)  # a plain Tensor is not a Parameter
    with pytest.raises(TypeError, match="child module 'inner'"):
        b.inner = 3
    b.inner = nn.Parameter(mt.zeros(2))  # a Parameter replaces the module under that name
    assert "inner" not in b._modules and b._parameters["inner"] is b.inner
    b.note = nn.Tanh()  # a plain attribute becomes a module
    assert "note" not in b.__dict__ and b._modules["note"] is b.note
    del b.note
    assert "note" not in b._modules
    with pytest.raises(AttributeError):
        b.note  # noqa: B018


def test_assignment_before_init_only_fails_for_parameters_and_modules():
    class Early(nn.Module):
        def __init__(self, what):
            self.plain = 1  # allowed in PyTorch before super().__init__()
            if what == "param":
                self.p = nn.Parameter(mt.ones(1))
            elif what == "module":
                self.m = nn.Tanh()
            super().__init__()

    assert Early(None).plain == 1
    for what in ("param", "module"):
        with pytest.raises(AttributeError, match="before Module.__init__"):
            Early(what)


def test_register_helpers_validate_names_and_types():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", mt.zeros(1))
    with pytest.raises(KeyError, match="empty"):
        m.register_parameter("", nn.Parameter(mt.zeros(1)))
    with pytest.raises(TypeError):
        m.register_parameter("w", mt.zeros(1))
    with pytest.raises(TypeError):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(TypeError):
        m.add_module("c", "not a module")
    m.register_parameter("w", None)
    assert m.w is None and list(m.parameters()) == []


def test_unknown_attribute_raises_attribute_error_naming_it():
    model = xor_model()
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'wieght'"):
        model.wieght  # noqa: B018
    assert not hasattr(model[0], "weights")
    assert hasattr(model[0], "weight")


# ---------------------------------------------------------------- traversal
def test_parameters_are_dotted_in_registration_order_and_deduplicated():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3))
            self.head = nn.Linear(3, 1, bias=False)
            self.tied = self.head  # the same module twice: its parameters are listed once

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "head.weight"]
    params = list(net.parameters())
    assert [p.shape for p in params] == [(3, 2), (3,), (3, 3), (3,), (1, 3)]
    assert params[0] is net.body[0].weight and params[-1] is net.head.weight
    assert all(isinstance(p, nn.Parameter) for p in params)
    assert [n for n, _ in net.named_parameters(prefix="net")][0] == "net.body.0.weight"
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.head.named_parameters(recurse=False)] == ["weight"]


def test_children_modules_and_named_modules():
    inner = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    model = nn.Sequential(inner, nn.ReLU())
    assert list(model.children()) == [inner, model[1]]
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "0.0", "0.1", "1"]
    assert [type(m).__name__ for m in model.modules()] == [
        "Sequential",
        "Sequential",
        "Linear",
        "Tanh",
        "ReLU",
    ]
    assert next(iter(model.modules())) is model


def test_apply_visits_children_before_parents_and_returns_self():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Tanh", "Linear", "Sequential", "Sequential"]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            init.constant_(m.weight, 0.5)
            init.zeros_(m.bias)

    model.apply(init_linear)
    for m in (model[0], model[1][1]):
        assert np.all(m.weight.detach().numpy() == 0.5) and np.all(m.bias.detach().numpy() == 0)


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    model = xor_model()
    x = mt.tensor([[0.0, 1.0], [1.0, 1.0]])
    model(x).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)
    model.zero_grad(set_to_none=False)
    for p, g in zip(model.parameters(), grads):
        assert p.grad is g  # the same Tensor, zeroed in place
        assert np.all(p.grad.numpy() == 0) and p.grad.shape == p.shape
    model(x).sum().backward()
    model.zero_grad()  # default: set_to_none=True
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_until_zero_grad():
    lin = nn.Linear(3, 2).double()
    x = mt.tensor(np.arange(6.0).reshape(2, 3))
    lin(x).sum().backward()
    once = lin.weight.grad.numpy().copy()
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * once)


def test_train_and_eval_recurse_and_return_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.Tanh()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    model.train(False)
    assert not model[1][0].training
    model[1].train()
    assert [m.training for m in model.modules()] == [False, False, True, True, True]


def test_call_runs_forward_with_args_and_kwargs():
    class Echo(nn.Module):
        def forward(self, a, b=0, *, c=1):
            return (a, b, c)

    assert Echo()(1, 2, c=3) == (1, 2, 3)
    assert Echo()(5) == (5, 0, 1)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(mt.zeros(1))


def test_double_and_float_convert_in_place_keeping_parameter_objects():
    model = xor_model()
    params = list(model.parameters())
    before = [p.detach().numpy().copy() for p in params]
    model(mt.ones(1, 2)).sum().backward()
    assert model.double() is model
    assert list(model.parameters()) == params and all(a is b for a, b in zip(model.parameters(), params))
    for p, b in zip(params, before):
        assert p.dtype == mt.float64 and p.grad.dtype == mt.float64 and p.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), b.astype(np.float64))
    out = model(mt.tensor(np.ones((3, 2))))
    assert out.dtype == mt.float64
    with pytest.raises(RuntimeError, match="dtype"):
        model(mt.ones(3, 2))  # float32 input into a float64 model: a clear error, not silent upcasting
    model.float()
    assert all(p.dtype == mt.float32 for p in model.parameters())
    assert all(a is b for a, b in zip(model.parameters(), params))
    model.to(mt.float64)
    assert all(p.dtype == mt.float64 for p in model.parameters())


def test_deepcopy_gives_an_independent_model_with_equal_weights():
    import copy

    model = xor_model()
    clone = copy.deepcopy(model)
    assert repr(clone) == repr(model)
    for (name, p), (name_c, q) in zip(model.named_parameters(), clone.named_parameters()):
        assert name == name_c and p is not q and isinstance(q, nn.Parameter) and q.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    fill(clone[0].weight, 0.0)
    assert np.any(model[0].weight.detach().numpy() != 0)


# --------------------------------------------------------------------- repr
def test_repr_is_pytorch_layout():
    assert repr(xor_model()) == XOR_REPR
    nested = nn.Sequential(nn.Linear(3, 2, bias=False), nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(0.1)))
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=2, bias=False)\n"
        "  (1): Sequential(\n"
        "    (0): LeakyReLU(negative_slope=0.2)\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_repr_of_a_module_with_both_extra_repr_and_children():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Tanh()

        def extra_repr(self):
            return "k=3"

    assert repr(Wrapper()) == "Wrapper(\n  k=3\n  (body): Tanh()\n)"


@needs_torch
def test_repr_matches_torch():
    import torch

    tnn = torch.nn
    pairs = [
        (xor_model(), tnn.Sequential(tnn.Linear(2, 4), tnn.Tanh(), tnn.Linear(4, 1), tnn.Sigmoid())),
        (
            nn.Sequential(
                nn.Flatten(), nn.Sequential(nn.Linear(4, 3, bias=False), nn.ReLU()), nn.Dropout(0.2)
            ),
            tnn.Sequential(
                tnn.Flatten(), tnn.Sequential(tnn.Linear(4, 3, bias=False), tnn.ReLU()), tnn.Dropout(0.2)
            ),
        ),
        (nn.LeakyReLU(), tnn.LeakyReLU()),
        (nn.LogSoftmax(dim=-1), tnn.LogSoftmax(dim=-1)),
        (nn.Identity(), tnn.Identity()),
        (nn.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    assert repr(xor_model()) == XOR_REPR


# ---------------------------------------------------------------- Parameter
def test_parameter_requires_grad_shares_storage_and_reprs_like_pytorch():
    arr = np.array([1.0, 2.0], dtype=np.float32)
    src = mt.from_numpy(arr)
    p = nn.Parameter(src)
    assert isinstance(p, mt.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    arr[0] = 5.0  # Parameter(t) shares t's storage, as in PyTorch
    assert p.detach().numpy()[0] == 5.0
    assert repr(p) == "Parameter containing:\ntensor([5., 2.], requires_grad=True)"
    frozen = nn.Parameter(mt.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [10.0, 4.0])


# ------------------------------------------------------------------- Linear
def test_linear_shapes_default_init_bounds_and_seeding():
    mt.manual_seed(7)
    lin = nn.Linear(50, 400)
    assert lin.weight.shape == (400, 50) and lin.bias.shape == (400,)
    assert lin.weight.dtype == mt.float32 and lin.in_features == 50 and lin.out_features == 400
    bound = 1 / math.sqrt(50)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform(−bound, bound): mean 0, std bound/√3, and the range is used up to its ends
    assert abs(w.mean()) < 0.02 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(w).max() > 0.99 * bound and np.abs(b).max() > 0.9 * bound
    counts, _ = np.histogram(w, bins=10, range=(-bound, bound))
    assert counts.min() > 0.85 * w.size / 10  # flat, not bell-shaped
    mt.manual_seed(7)
    again = nn.Linear(50, 400)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)
    np.testing.assert_array_equal(again.bias.detach().numpy(), b)
    mt.manual_seed(8)
    assert not np.array_equal(nn.Linear(50, 400).weight.detach().numpy(), w)
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_linear_on_1d_2d_and_3d_inputs_values_and_gradients(batch, rng):
    lin = nn.Linear(4, 3).double()
    W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    xa = rng.standard_normal((*batch, 4))
    x = mt.tensor(xa, requires_grad=True)
    out = lin(x)
    assert out.shape == (*batch, 3)
    np.testing.assert_allclose(out.detach().numpy(), xa @ W.T + b, rtol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    g2, x2 = g.reshape(-1, 3), xa.reshape(-1, 4)
    np.testing.assert_allclose(x.grad.numpy(), g @ W, rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), g2.T @ x2, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g2.sum(0), rtol=1e-12)


def test_linear_rejects_wrong_feature_count_with_a_clear_error():
    with pytest.raises(RuntimeError, match="in_features=4"):
        nn.Linear(4, 2)(mt.ones(3, 5))


# --------------------------------------------------------------- Sequential
def test_sequential_indexing_slicing_len_iteration_append():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c and seq[-3] is a
    for bad in (3, -4):
        with pytest.raises(IndexError):
            seq[bad]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert list(tail._modules) == ["1", "2"]  # slices keep their keys, as in PyTorch
    assert list(seq[::2]) == [a, c]
    x = mt.ones(4, 2)
    np.testing.assert_array_equal(tail(a(x)).detach().numpy(), seq(x).detach().numpy())
    s = nn.Sigmoid()
    assert seq.append(s) is seq
    assert len(seq) == 4 and seq[3] is s and list(seq._modules) == ["0", "1", "2", "3"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_from_ordered_dict_uses_its_names():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert seq.hidden is seq[0] and seq.act is seq[1]


# -------------------------------------------------------------- activations
def test_identity_flatten_and_elementwise_activations(rng):
    xa = rng.standard_normal((2, 3, 4))
    x = mt.tensor(xa)
    assert nn.Identity(54, unused="ok")(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Flatten(start_dim=0)(x).shape == (24,)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), xa.reshape(2, 12))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(xa), rtol=1e-12)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-xa)), rtol=1e-12)
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), np.maximum(xa, 0))
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), np.where(xa > 0, xa, 0.01 * xa), rtol=1e-12)
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).numpy(), np.where(xa > 0, xa, 0.2 * xa), rtol=1e-12)


def test_leaky_relu_gradient_is_the_slope_left_of_zero():
    x = mt.tensor([-2.0, 0.0, 3.0], dtype=mt.float64, requires_grad=True)
    nn.LeakyReLU(0.1)(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1.0])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_modules(dim, rng):
    xa = rng.standard_normal((3, 4)) * 5
    x = mt.tensor(xa)
    e = np.exp(xa - xa.max(dim, keepdims=True))
    p = e / e.sum(dim, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim)(x).numpy(), p, rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax(dim)(x).numpy().sum(dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(nn.LogSoftmax(dim)(x).numpy(), np.log(p), rtol=1e-10)


def test_softmax_without_dim_warns_and_uses_pytorchs_legacy_choice(rng):
    x3 = mt.tensor(rng.standard_normal((2, 3, 4)))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(x3)
    np.testing.assert_allclose(out.numpy().sum(0), 1.0)  # PyTorch picks dim 0 for 3-D input
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.log_softmax(mt.tensor(rng.standard_normal((2, 5))))
    np.testing.assert_allclose(np.exp(out.numpy()).sum(1), 1.0)


def test_dropout_train_zeroes_a_p_fraction_and_scales_the_rest():
    mt.manual_seed(0)
    p = 0.3
    drop = nn.Dropout(p)
    x = mt.ones(200, 500, requires_grad=True)
    out = drop(x)
    y = out.detach().numpy()
    zero = y == 0
    assert abs(zero.mean() - p) < 0.01
    np.testing.assert_allclose(y[~zero], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()  # the gradient flows through the kept elements only, with the same scale
    np.testing.assert_allclose(x.grad.numpy(), np.where(zero, 0.0, 1 / (1 - p)), rtol=1e-6)
    # a new mask every call
    assert not np.array_equal(drop(x).detach().numpy() == 0, zero)
    # seeded: the same mask again
    mt.manual_seed(0)
    np.testing.assert_array_equal(nn.Dropout(p)(x).detach().numpy(), y)


def test_dropout_is_identity_in_eval_and_extremes():
    x = mt.tensor(np.arange(1.0, 13.0).reshape(3, 4))
    drop = nn.Dropout(0.9).eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="probability"):
            nn.Dropout(bad)


# --------------------------------------------------------------- state dicts
def test_state_dict_keys_shapes_and_sharing():
    model = xor_model()
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [tuple(v.shape) for v in sd.values()] == [(4, 2), (4,), (1, 4), (1,)]
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
    fill(model[0].bias, 3.0)  # state_dict values share storage with the parameters, as in PyTorch
    np.testing.assert_array_equal(sd["0.bias"].numpy(), np.full(4, 3.0, np.float32))
    assert list(model.state_dict(prefix="net.")) == [
        "net.0.weight",
        "net.0.bias",
        "net.2.weight",
        "net.2.bias",
    ]
    kept = model.state_dict(keep_vars=True)
    assert kept["0.weight"] is model[0].weight


def test_load_state_dict_copies_values_and_casts_dtype():
    mt.manual_seed(1)
    src, dst = xor_model(), xor_model()
    params = list(dst.parameters())
    sd = {k: mt.tensor(v.numpy().astype(np.float64)) for k, v in src.state_dict().items()}
    result = dst.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert all(a is b for a, b in zip(dst.parameters(), params))
    for (k, a), b in zip(dst.state_dict().items(), src.state_dict().values()):
        assert a.dtype == mt.float32, k
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    fill(sd["0.weight"], 9.0)  # the model holds copies, not the loaded tensors
    assert not np.any(dst[0].weight.detach().numpy() == 9.0)
    x = mt.tensor([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(dst(x).detach().numpy(), src(x).detach().numpy())


def test_failed_strict_load_lists_every_problem_and_changes_nothing():
    mt.manual_seed(2)
    model = xor_model()
    before = snapshot(model)
    other = snapshot(xor_model())
    bad = {
        "0.weight": np.zeros((3, 2), np.float32),  # mis-shaped
        "0.bias": other["0.bias"],  # fine, and must still not be copied
        "2.weight": other["2.weight"],
        "5.weight": np.zeros((1, 1), np.float32),  # unexpected
        # "2.bias" missing
    }
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "5.weight"' in msg
    assert "size mismatch for 0.weight" in msg and "(3, 2)" in msg and "(4, 2)" in msg
    # PyTorch's order: missing, unexpected, then size mismatches
    assert msg.index("Missing") < msg.index("Unexpected") < msg.index("size mismatch")
    assert_snapshot_equal(model, before)


@pytest.mark.parametrize(
    "change",
    ["missing", "unexpected", "misshaped"],
)
def test_each_kind_of_bad_key_alone_fails_a_strict_load_without_changes(change):
    mt.manual_seed(3)
    model = xor_model()
    before = snapshot(model)
    sd = snapshot(xor_model())
    if change == "missing":
        del sd["2.weight"]
    elif change == "unexpected":
        sd["extra"] = np.ones(1, np.float32)
    else:
        sd["2.bias"] = np.ones((1, 1), np.float32)
    with pytest.raises(RuntimeError, match="2.weight" if change == "missing" else "extra|2.bias"):
        model.load_state_dict(sd)
    assert_snapshot_equal(model, before)


def test_non_strict_load_returns_missing_and_unexpected_and_loads_the_rest():
    mt.manual_seed(4)
    model = xor_model()
    before = snapshot(model)
    other = snapshot(xor_model())
    sd = {"0.weight": other["0.weight"], "2.bias": other["2.bias"], "head.weight": np.zeros(2)}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert missing == ["0.bias", "2.weight"] and unexpected == ["head.weight"]
    after = snapshot(model)
    np.testing.assert_array_equal(after["0.weight"], other["0.weight"])
    np.testing.assert_array_equal(after["2.bias"], other["2.bias"])
    np.testing.assert_array_equal(after["0.bias"], before["0.bias"])
    np.testing.assert_array_equal(after["2.weight"], before["2.weight"])
    # a size mismatch is an error even when not strict
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        model.load_state_dict({"0.bias": np.zeros(5, np.float32)}, strict=False)
    np.testing.assert_array_equal(snapshot(model)["0.bias"], before["0.bias"])


def test_buffers_round_trip_through_state_dict():
    a, b = Block(), Block()
    fill(a.running, 2.5)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.running.numpy(), np.full(3, 2.5, np.float32))
    with pytest.raises(RuntimeError, match='Missing key.*"running"'):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "running"})


# -------------------------------------------------------- the DESIGN §1 script
def test_pytorch_style_xor_script_trains_to_a_solution():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = mt.optim.SGD(model.parameters(), lr=0.5, momentum=0.4)
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    first = None
    for _step in range(2000):
        loss = F.binary_cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    p = model(x).detach().numpy().ravel()
    assert first > 0.5 and loss.item() < 0.01
    np.testing.assert_array_equal(p.round(), [0, 1, 1, 0])
    assert p[[1, 2]].min() > 0.95 and p[[0, 3]].max() < 0.05


# ------------------------------------------------------------------ nn.init
def test_fill_initialisers_work_in_place_and_record_no_graph():
    w = nn.Parameter(mt.empty(3, 4))
    for fn, args, value in ((init.zeros_, (), 0.0), (init.ones_, (), 1.0), (init.constant_, (0.25,), 0.25)):
        assert fn(w, *args) is w
        np.testing.assert_array_equal(w.detach().numpy(), np.full((3, 4), value, np.float32))
        assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_uniform_and_normal_statistics():
    mt.manual_seed(0)
    t = mt.empty(400, 400)
    init.uniform_(t, -2.0, 3.0)
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and a.min() < -1.99 and a.max() > 2.99
    assert abs(a.mean() - 0.5) < 0.02 and abs(a.std() - 5 / math.sqrt(12)) < 0.02
    init.uniform_(t)
    assert t.numpy().min() >= 0 and t.numpy().max() < 1
    init.normal_(t, mean=1.5, std=0.5)
    a = t.numpy()
    assert abs(a.mean() - 1.5) < 0.005 and abs(a.std() - 0.5) < 0.005
    assert abs(np.mean(np.abs(a - 1.5) < 0.5) - 0.6827) < 0.01  # normal, not just the right moments


@pytest.mark.parametrize("shape, fan_in, fan_out", [((300, 200), 200, 300), ((40, 30, 3, 3), 270, 360)])
def test_xavier_and_kaiming_bounds_and_stds(shape, fan_in, fan_out):
    mt.manual_seed(0)
    t = mt.empty(*shape)
    tol = 0.03

    def check_uniform(bound):
        a = t.numpy()
        assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.99 * bound
        assert abs(a.std() / (bound / math.sqrt(3)) - 1) < tol

    def check_normal(std):
        assert abs(t.numpy().std() / std - 1) < tol and abs(t.numpy().mean()) < tol * std

    init.xavier_uniform_(t, gain=2.0)
    check_uniform(2.0 * math.sqrt(6 / (fan_in + fan_out)))
    init.xavier_normal_(t)
    check_normal(math.sqrt(2 / (fan_in + fan_out)))
    init.kaiming_uniform_(t, nonlinearity="relu")
    check_uniform(math.sqrt(2) * math.sqrt(3 / fan_in))
    init.kaiming_uniform_(t, a=math.sqrt(5))  # Linear's default: bound 1/√fan_in
    check_uniform(1 / math.sqrt(fan_in))
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    check_normal(math.sqrt(2) / math.sqrt(fan_out))
    init.kaiming_normal_(t, a=0.1)
    check_normal(math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan_in))


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mt.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(mt.empty(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(mt.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("softplus")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)


GAINS = [
    ("linear", None, 1.0),
    ("conv1d", None, 1.0),
    ("conv2d", None, 1.0),
    ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0),
    ("conv_transpose2d", None, 1.0),
    ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", 0, math.sqrt(2)),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize("name, param, expected", GAINS)
def test_calculate_gain_table(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


@needs_torch
def test_calculate_gain_matches_torch():
    import torch

    for name, param, _ in GAINS:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param), (name, param)
    for bad in ("identity", "softplus"):
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(bad)
        with pytest.raises(ValueError):
            init.calculate_gain(bad)


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        (init.uniform_, {"a": -1, "b": 1}),
        (init.normal_, {"std": 0.1}),
        (init.xavier_uniform_, {}),
        (init.xavier_normal_, {}),
        (init.kaiming_uniform_, {}),
        (init.kaiming_normal_, {}),
    ],
)
def test_random_initialisers_are_reproducible_under_manual_seed(fn, kwargs):
    def draw(seed):
        mt.manual_seed(seed)
        return fn(mt.empty(6, 5), **kwargs).numpy().copy()

    np.testing.assert_array_equal(draw(11), draw(11))
    assert not np.array_equal(draw(11), draw(12))
