"""The Module API: registration, traversal, state dicts, load_state_dict, hooks, dtype changes.

Parity tests build the same model in microtensor and in PyTorch (same class names under
`nn`) and compare names, orders, messages and gradients."""

import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
from microtensor.nn import module as module_mod


def torch_or_skip():
    return pytest.importorskip("torch")


def arrays(model) -> dict:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def make_aliased(N):
    """A model with one submodule under two names and one Parameter under two names."""

    class Aliased(N.Module):
        def __init__(self):
            super().__init__()
            self.enc = N.Sequential(N.Linear(3, 4), N.Tanh())
            self.dec = N.Linear(4, 2)
            self.alias = self.enc  # the same module again
            self.tied = self.dec.weight  # the same Parameter again
            self.register_buffer("steps", N.Parameter(self.dec.bias.detach().clone()).detach() * 0)
            self.register_buffer("cache", self.dec.bias.detach().clone(), persistent=False)

        def forward(self, x):
            return self.dec(self.alias(x))

    return Aliased()


def copy_weights(ours, theirs):
    """Load torch's weights into ours (state dict keys are the same)."""
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


# ------------------------------------------------------------ registration
def test_register_buffer_persistence_and_errors():
    m = nn.Module()
    m.register_buffer("a", mt.zeros(2))
    m.register_buffer("b", mt.ones(1), persistent=False)
    m.register_buffer("c", None)
    assert [n for n, _ in m.named_buffers()] == ["a", "b"] and list(m.state_dict()) == ["a"]
    assert list(m.buffers()) == [m.a, m.b]
    m.register_buffer("b", mt.ones(1))  # re-registering as persistent brings it back
    assert list(m.state_dict()) == ["a", "b"]
    m.b = mt.full((1,), 3.0)  # assignment keeps the name a buffer (and its persistence)
    assert m._buffers["b"].item() == 3.0 and "b" not in m.__dict__
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.register_buffer("x", mt.zeros(1))
    with pytest.raises(TypeError, match="buffer 'y'"):
        m.register_buffer("y", [1.0])
    with pytest.raises(TypeError, match="buffer name should be a string"):
        m.register_buffer(3, mt.zeros(1))
    with pytest.raises(TypeError, match="as buffer 'a'"):
        m.a = "text"
    with pytest.raises(AttributeError, match="before Module.__init__"):
        nn.Module.__new__(nn.Module).register_buffer("z", mt.zeros(1))


def test_register_parameter_module_and_attribute_semantics():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(mt.ones(2)))
    m.register_parameter("b", None)
    m.register_module("sub", nn.Linear(2, 2))
    m.add_module("empty", None)
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert m.b is None and m.empty is None and repr(m).count("(empty): None") == 1
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = mt.ones(2)
    m.w = None
    assert m.w is None and list(m.state_dict()) == ["sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("bad", 1)
    with pytest.raises(KeyError, match="contain"):
        m.add_module("a.b", nn.Tanh())
    del m.sub, m.w
    assert "sub" not in m._modules and "w" not in m._parameters
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub  # noqa: B018
    m.sub = nn.Tanh()
    m.sub = nn.Parameter(mt.zeros(1))  # a Parameter takes the name over from the module
    assert "sub" not in m._modules and m._parameters["sub"] is m.sub
    d = dir(m)
    assert "sub" in d and "b" in d and "state_dict" in d and d == sorted(d)


def test_get_submodule_parameter_buffer_and_set_submodule():
    net = make_aliased(nn)
    assert net.get_submodule("") is net and net.get_submodule("enc.0") is net.enc[0]
    assert net.get_parameter("dec.weight") is net.dec.weight
    assert net.get_parameter("enc.0.bias") is net.enc[0].bias
    assert net.get_buffer("steps") is net.steps and net.get_buffer("cache") is net.cache
    with pytest.raises(AttributeError, match="Sequential has no attribute `9`"):
        net.get_submodule("enc.9")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.get_submodule("dec.weight.x")
    with pytest.raises(AttributeError, match="`steps` is not an nn.Parameter"):
        net.get_parameter("steps")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("dec.weight")
    new = nn.Linear(4, 2)
    net.set_submodule("dec", new)
    assert net.dec is new
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.set_submodule("enc.nope", nn.Tanh(), strict=True)
    with pytest.raises(ValueError, match="not an nn.Module"):
        net.set_submodule("dec", 3)


# ---------------------------------------------------------------- traversal
def test_traversal_with_shared_modules_and_parameters_matches_torch():
    torch = torch_or_skip()
    ours, theirs = make_aliased(nn), make_aliased(torch.nn)

    def listing(m):
        return {
            "modules": [n for n, _ in m.named_modules()],
            "modules_all": [n for n, _ in m.named_modules(remove_duplicate=False)],
            "modules_prefix": [n for n, _ in m.named_modules(prefix="root")],
            "children": [n for n, _ in m.named_children()],
            "params": [n for n, _ in m.named_parameters()],
            "params_all": [n for n, _ in m.named_parameters(remove_duplicate=False)],
            "params_local": [n for n, _ in m.named_parameters(prefix="p", recurse=False)],
            "buffers": [n for n, _ in m.named_buffers()],
            "state_dict": list(m.state_dict()),
            "n_modules": len(list(m.modules())),
            "n_params": len(list(m.parameters())),
        }

    assert listing(ours) == listing(theirs)
    # PyTorch keeps every name of a shared module / Parameter in the state dict
    assert "alias.0.weight" in ours.state_dict() and "tied" in ours.state_dict()
    sd = ours.state_dict()
    assert np.shares_memory(sd["alias.0.weight"].numpy(), sd["enc.0.weight"].numpy())


def test_named_modules_memo_and_remove_duplicate():
    lin = nn.Linear(1, 1)
    seq = nn.Sequential(lin, lin)
    assert [n for n, _ in seq.named_modules()] == ["", "0"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    memo = {lin}
    assert [n for n, _ in seq.named_modules(memo=memo)] == [""]
    assert list(seq.children()) == [lin] and list(seq.modules(remove_duplicate=False))[1:] == [lin, lin]


# ------------------------------------------------------------------ modes
def test_train_eval_recurse_through_overrides_and_validate():
    seen = []

    class Custom(nn.Module):
        def train(self, mode=True):
            seen.append(mode)
            return super().train(mode)

    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(Custom()))
    assert net.eval() is net and seen == [False]
    assert all(not m.training for m in net.modules())
    net.train()
    assert seen == [False, True] and all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train(1)


def test_requires_grad_zero_grad_share_memory_apply():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(mt.ones(1, 2)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert [p.grad for p in net.parameters()] == grads  # the same tensors, zeroed in place
    assert all(not g.numpy().any() for g in grads)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.share_memory() is net
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "Linear", "Sequential"]


# ---------------------------------------------------------- dtype and device
def test_dtype_changes_keep_parameter_objects_and_move_grads():
    m = nn.Linear(2, 3)
    m.register_buffer("count", mt.tensor([1, 2]))
    m.register_buffer("stat", mt.zeros(3))
    w = m.weight
    m(mt.ones(1, 2)).sum().backward()
    g = w.grad
    assert m.double() is m
    assert m.weight is w and w.dtype == mt.float64 and w.requires_grad and isinstance(w, nn.Parameter)
    assert w.grad is g and g.dtype == mt.float64  # the grad object is kept, its values converted
    assert m.stat.dtype == mt.float64 and m.count.dtype == mt.int64  # integer buffers keep their dtype
    m.half()
    assert w.dtype == mt.float16 and m.bias.grad.dtype == mt.float16
    m.float()
    assert w.dtype == mt.float32 and m.count.dtype == mt.int64
    m.type(mt.float64)
    assert m.count.dtype == mt.float64 and w.dtype == mt.float64  # type() converts every tensor
    out = m(mt.ones(1, 2, dtype=mt.float64))
    assert out.dtype == mt.float64


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((mt.float64,), {}),
        (("cpu", mt.float64), {}),
        ((), {"dtype": mt.float64}),
        ((), {"device": "cpu", "dtype": mt.float64, "non_blocking": True}),
        ((mt.zeros(1, dtype=mt.float64),), {}),
        ((np.float64,), {}),
        ((mt.float64, False), {}),
    ],
)
def test_to_accepts_pytorchs_argument_forms(args, kwargs):
    m = nn.Linear(2, 2)
    w = m.weight
    assert m.to(*args, **kwargs) is m and m.weight is w and w.dtype == mt.float64


def test_to_device_and_errors():
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.to(device="cpu") is m and m.cpu() is m
    assert m.weight.dtype == mt.float32
    for dev in ("cuda", "cuda:0", "mps"):
        with pytest.raises(RuntimeError, match="CPU only"):
            m.to(dev)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(mt.int64)
    with pytest.raises(TypeError, match="unexpected keyword"):
        m.to(dtype=mt.float64, copy=True)
    assert m.weight.dtype == mt.float32


# ---------------------------------------------------------------- state dict
def test_state_dict_prefix_keep_vars_destination_metadata_and_positional_warning():
    net = make_aliased(nn)
    sd = net.state_dict(prefix="net.")
    assert list(sd)[:2] == ["net.tied", "net.steps"] and "net.enc.0.weight" in sd and "net.cache" not in sd
    assert sd._metadata["net"] == {"version": 1} and "net.enc.0" in sd._metadata
    kept = net.state_dict(keep_vars=True)
    assert kept["dec.weight"] is net.dec.weight and kept["tied"] is net.dec.weight
    assert sd["net.dec.weight"] is not net.dec.weight and not sd["net.dec.weight"].requires_grad
    dest = {}
    assert net.state_dict(destination=dest) is dest and "tied" in dest
    with pytest.warns(FutureWarning, match="positional"):
        pos = net.state_dict(None, "p.")
    assert list(pos) == list(net.state_dict(prefix="p."))


def test_extra_state_and_save_load_overrides_round_trip():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    a, b = WithExtra(), WithExtra()
    a.counter = 5
    sd = a.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"] and sd["_extra_state"] == {"counter": 5}
    b.load_state_dict(sd)
    assert b.counter == 5
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        b.load_state_dict({k: v for k, v in sd.items() if k != "_extra_state"})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "lin._extra_state"'):
        b.load_state_dict({**sd, "lin._extra_state": 1})


def test_state_dict_hooks():
    m = nn.Linear(1, 1)
    calls = []
    h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(("pre", prefix, keep)))

    def post(mod, sd, prefix, meta):
        calls.append(("post", prefix, meta["version"]))
        sd[prefix + "note"] = mt.zeros(1)

    h2 = m.register_state_dict_post_hook(post)
    sd = nn.Sequential(m).state_dict()
    assert calls == [("pre", "0.", False), ("post", "0.", 1)] and list(sd) == ["0.weight", "0.bias", "0.note"]
    h1.remove(), h2.remove()
    assert list(m.state_dict()) == ["weight", "bias"]
    m.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="must return None"):
        m.state_dict()


# ----------------------------------------------------------- load_state_dict
def test_load_state_dict_copies_in_place_and_bumps_versions():
    src, dst = nn.Linear(2, 3), nn.Linear(2, 3)
    w, v0 = dst.weight, dst.weight._version
    res = dst.load_state_dict(src.state_dict())
    assert dst.weight is w and w._version == v0 + 1
    np.testing.assert_array_equal(w.detach().numpy(), src.weight.detach().numpy())
    assert not np.shares_memory(w.detach().numpy(), src.weight.detach().numpy())
    assert res == ([], []) and repr(res) == "<All keys matched successfully>"


def test_load_state_dict_after_forward_makes_backward_raise():
    m = nn.Linear(2, 2)
    loss = m(mt.ones(3, 2, requires_grad=True)).sum()
    m.load_state_dict(nn.Linear(2, 2).state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_load_state_dict_errors_match_torch_and_change_nothing():
    torch = torch_or_skip()

    def build(N):
        return N.Sequential(N.Linear(2, 3), N.Tanh(), N.Linear(3, 1))

    ours, theirs = build(nn), build(torch.nn)
    bad = OrderedDict(
        [
            ("0.weight", np.zeros((5, 2), np.float32)),
            ("0.bias", np.zeros(3, np.float32)),
            ("2.weight", np.zeros((1, 3), np.float32)),
            ("9.weight", np.zeros(1, np.float32)),
            ("extra", np.zeros(1, np.float32)),
        ]
    )
    before = arrays(ours)
    versions = [p._version for p in ours.parameters()]
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(bad)
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in bad.items()})

    def shapes_as_tuples(msg):
        return re.sub(
            r"torch\.Size\(\[([^\]]*)\]\)", lambda m: str(tuple(int(x) for x in m[1].split(", ") if x)), msg
        )

    assert str(ours_err.value) == shapes_as_tuples(str(theirs_err.value))
    # all-or-nothing: the rows that would have loaded (0.bias, 2.weight) were not written either
    after = arrays(ours)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert [p._version for p in ours.parameters()] == versions


def test_non_strict_load_matches_torch_incompatible_keys():
    torch = torch_or_skip()
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    sd = {"weight": np.ones((2, 2), np.float32), "unused.x": np.zeros(1, np.float32)}
    r_ours = ours.load_state_dict(sd, strict=False)
    r_theirs = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert r_ours.missing_keys == r_theirs.missing_keys == ["bias"]
    assert r_ours.unexpected_keys == r_theirs.unexpected_keys == ["unused.x"]
    assert repr(r_ours) == repr(r_theirs)
    assert ours.weight.detach().numpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(RuntimeError, match="size mismatch for weight"):  # shapes are checked even then
        ours.load_state_dict({"weight": np.ones((3, 2), np.float32)}, strict=False)


def test_load_state_dict_with_shared_modules_and_parameters_round_trips():
    a, b = make_aliased(nn), make_aliased(nn)
    b.load_state_dict(a.state_dict())
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v.numpy())


def test_load_state_dict_rejects_bad_inputs_naming_the_key():
    m = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("weight", mt.zeros(1, 1))])
    with pytest.raises(RuntimeError, match='parameter named "bias", expected microtensor.Tensor'):
        m.load_state_dict({"weight": mt.zeros(1, 1), "bias": [0.0]})
    with pytest.raises(RuntimeError, match="unsupported dtype"):
        m.load_state_dict({"weight": np.array([["a"]]), "bias": mt.zeros(1)})


def test_load_state_dict_assign_replaces_parameters_and_buffers():
    m = nn.Linear(2, 1)
    m.register_buffer("stat", mt.zeros(1))
    m.weight.requires_grad_(False)
    new_w = mt.full((1, 2), 3.0, dtype=mt.float64)
    new_stat = mt.ones(1)
    m.load_state_dict({"weight": new_w, "bias": np.array([2.0], np.float32), "stat": new_stat}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.dtype == mt.float64  # the state dict's dtype
    assert not m.weight.requires_grad and m.bias.requires_grad  # requires_grad comes from the model
    assert np.shares_memory(m.weight.detach().numpy(), new_w.numpy()) and m.stat is new_stat
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


def test_zero_dim_parameter_loads_from_a_one_element_vector():
    m = nn.Module()
    m.s = nn.Parameter(mt.tensor(1.0))
    m.load_state_dict({"s": np.array([4.0], np.float32)})
    assert m.s.shape == () and m.s.item() == 4.0


def test_load_state_dict_pre_and_post_hooks():
    m = nn.Sequential(nn.Linear(1, 1))
    seen = []

    def pre(module, sd, prefix, meta, strict, missing, unexpected, errors):
        seen.append((type(module).__name__, prefix, meta.get("version")))
        sd[prefix + "bias"] = np.full(1, 9.0, np.float32)  # a pre hook may fill in keys

    def post(module, keys):
        seen.append(("post", list(keys.unexpected_keys)))
        keys.unexpected_keys.clear()  # a post hook may accept the unexpected keys

    m[0].register_load_state_dict_pre_hook(pre)
    handle = m.register_load_state_dict_post_hook(post)
    sd = {"0.weight": np.ones((1, 1), np.float32), "junk": np.zeros(1)}
    sd = OrderedDict(sd)
    sd._metadata = {"0": {"version": 1}}
    result = m.load_state_dict(sd)
    assert seen == [("Linear", "0.", 1), ("post", ["junk"])] and result.unexpected_keys == []
    assert m[0].bias.item() == 9.0
    handle.remove()
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "junk"'):
        m.load_state_dict(sd)
    m.register_load_state_dict_post_hook(lambda mod, keys: 1)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        m.load_state_dict(sd, strict=False)


def test_custom_load_from_state_dict_can_rename_keys():
    class Renamed(nn.Linear):
        def _load_from_state_dict(self, sd, prefix, meta, strict, missing, unexpected, errors):
            if prefix + "w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w")
            super()._load_from_state_dict(sd, prefix, meta, strict, missing, unexpected, errors)

    m = Renamed(1, 1)
    m.load_state_dict({"w": np.full((1, 1), 2.0, np.float32), "bias": np.zeros(1, np.float32)})
    assert m.weight.item() == 2.0


# -------------------------------------------------------------------- repr
def test_repr_matches_torch_for_nested_models_with_extra_repr():
    torch = torch_or_skip()

    def build(N):
        class Block(N.Module):
            def __init__(self):
                super().__init__()
                self.fc = N.Linear(2, 2)
                self.act = N.Tanh()

            def extra_repr(self):
                return "k=3\nmode=fast"

        return N.Sequential(
            OrderedDict([("a", Block()), ("b", N.ModuleList([Block(), Block()])), ("c", None)])
        )

    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------- hooks
def test_forward_pre_hooks_modify_args_kwargs_and_respect_prepend():
    calls = []

    class Add(nn.Module):
        def forward(self, x, y=0):
            return x + y

    m = Add()
    m.register_forward_pre_hook(lambda mod, args: calls.append("a") or args[0] * 2)  # non-tuple is wrapped
    m.register_forward_pre_hook(lambda mod, args: calls.append("first"), prepend=True)
    h = m.register_forward_pre_hook(
        lambda mod, args, kwargs: (calls.append("kw"), (args, {"y": kwargs["y"] + 1}))[1], with_kwargs=True
    )
    assert m(mt.tensor(3.0), y=mt.tensor(1.0)).item() == 8.0 and calls == ["first", "a", "kw"]
    h.remove()
    assert m(mt.tensor(3.0), y=mt.tensor(1.0)).item() == 7.0
    m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        m(mt.tensor(1.0))


def test_forward_hooks_replace_output_kwargs_and_handle_context():
    m = nn.Tanh()
    seen = []
    with m.register_forward_hook(lambda mod, args, out: out * 0 + 1):
        assert m(mt.zeros(2)).numpy().tolist() == [1.0, 1.0]
    assert m(mt.zeros(2)).numpy().tolist() == [0.0, 0.0]  # the handle removed it on exit
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append((args, kwargs, out)), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("first"), prepend=True)
    x = mt.zeros(1)
    out = m(x)
    assert seen[0] == "first" and seen[1][0][0] is x and seen[1][1] == {} and seen[1][2] is out
    m._call_impl(x)  # PyTorch's name for the call path runs the hooks too
    assert len(seen) == 4 and seen[2] == "first"


def test_always_call_forward_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("normal"))

    def failing(mod, args, out):
        raise KeyError("hook failed")

    m.register_forward_hook(failing, always_call=True)
    with pytest.warns(UserWarning, match="silenced"), pytest.raises(ValueError, match="boom"):
        m(mt.zeros(1))
    assert seen == [("always", None)]


def test_global_hooks_run_before_module_hooks():
    m = nn.Tanh()
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("local pre"))
    m.register_forward_hook(lambda mod, args, out: order.append("local post"))
    h1 = module_mod.register_module_forward_pre_hook(lambda mod, args: order.append("global pre"))
    h2 = module_mod.register_module_forward_hook(lambda mod, args, out: order.append("global post"))
    try:
        m(mt.zeros(1))
    finally:
        h1.remove(), h2.remove()
    assert order == ["global pre", "local pre", "global post", "local post"]
    order.clear()
    m(mt.zeros(1))
    assert order == ["local pre", "local post"]


def _hooked_model(N, log):
    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.body = N.Sequential(N.Linear(3, 4), N.Tanh())
            self.head = N.Linear(4, 2)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    for name, mod in net.named_modules():
        mod.register_forward_pre_hook(lambda m, args, name=name: log.append(("pre", name, len(args))))
        mod.register_forward_hook(lambda m, args, out, name=name: log.append(("fwd", name, tuple(out.shape))))
        mod.register_full_backward_pre_hook(lambda m, go, name=name: log.append(("bwd_pre", name, len(go))))
        mod.register_full_backward_hook(
            lambda m, gi, go, name=name: log.append(("bwd", name, [g is None for g in gi], len(go)))
        )
    return net


def as_np(gs):
    return [None if g is None else g.detach().numpy() for g in gs]


def test_hook_call_order_and_arguments_match_torch():
    torch = torch_or_skip()
    log_ours, log_theirs = [], []
    ours, theirs = _hooked_model(nn, log_ours), _hooked_model(torch.nn, log_theirs)
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    ours(mt.tensor(x, requires_grad=True)).sum().backward()
    theirs(torch.tensor(x, requires_grad=True)).sum().backward()
    assert log_ours == log_theirs
    assert log_ours[0] == ("pre", "", 1) and log_ours[-1][0] == "bwd"


def _capture(model, log):
    for name, mod in model.named_modules():
        if name:
            mod.register_full_backward_pre_hook(lambda m, go, name=name: log.append(("pre", name, as_np(go))))
            mod.register_full_backward_hook(
                lambda m, gi, go, name=name: log.append((name, as_np(gi), as_np(go)))
            )


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_backward_hooks_grad_input_and_grad_output_match_torch(input_requires_grad, rng):
    torch = torch_or_skip()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2), torch.nn.Sigmoid()
    )
    copy_weights(ours, theirs)
    log_ours, log_theirs = [], []
    _capture(ours, log_ours)
    _capture(theirs, log_theirs)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when a hook fires without input gradients
        ours(mt.tensor(x, requires_grad=input_requires_grad)).sum().backward()
        theirs(torch.tensor(x, requires_grad=input_requires_grad)).sum().backward()
    assert [e[:1] + e[1:2] * (e[0] == "pre") for e in log_ours] == [
        e[:1] + e[1:2] * (e[0] == "pre") for e in log_theirs
    ]
    for a, b in zip(log_ours, log_theirs):
        for ga, gb in zip(a[-1] if a[0] == "pre" else a[1] + a[2], b[-1] if b[0] == "pre" else b[1] + b[2]):
            assert (ga is None) == (gb is None)
            if ga is not None:
                np.testing.assert_allclose(ga, gb, rtol=1e-5, atol=1e-6)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_backward_hooks_can_replace_gradients_as_in_torch(rng):
    torch = torch_or_skip()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    copy_weights(ours, theirs)
    for model in (ours, theirs):
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))  # scales what reaches layer 0
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 0.5,))  # halves layer 2's gradient
    x = rng.normal(size=(4, 3)).astype(np.float32)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    bad = nn.Tanh()
    bad.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        bad(mt.ones(2, requires_grad=True)).sum().backward()


def test_backward_hooks_for_several_inputs_and_outputs_match_torch(rng):
    torch = torch_or_skip()

    def build(N):
        class Two(N.Module):
            def forward(self, a, b, scale):
                return a * b * scale, (a - b).tanh()

        return Two()

    logs = {}
    a, b = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)
    for lib, N in ((mt, nn), (torch, torch.nn)):
        log = logs[lib.__name__] = []
        m = build(N)
        m.register_full_backward_pre_hook(lambda mod, go, log=log: log.append(as_np(go)))
        m.register_full_backward_hook(lambda mod, gi, go, log=log: log.append(as_np(gi)))
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b)  # b does not require grad
        p, q = m(ta, tb, 2.0)
        (p.sum() * 2 + (q * q).sum()).backward()
        log.append([ta.grad.detach().numpy()])
    ours, theirs = logs["microtensor"], logs["torch"]
    assert len(ours) == len(theirs) == 3
    for ga, gb in zip([g for entry in ours for g in entry], [g for entry in theirs for g in entry]):
        assert (ga is None) == (gb is None)
        if ga is not None:
            np.testing.assert_allclose(ga, gb, rtol=1e-5, atol=1e-6)


def test_backward_hook_without_input_grads_fires_with_none_and_warns():
    m = nn.Linear(2, 1)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        m(mt.ones(3, 2)).sum().backward()
    assert seen == [((None,), (3, 1))]
    m2 = nn.Linear(2, 1)
    m2.register_full_backward_hook(lambda mod, gi, go: (mt.ones(3, 2),))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="should always return None"):
        m2(mt.ones(3, 2)).sum().backward()


def test_hooks_do_not_fire_or_record_under_no_grad():
    m = nn.Linear(2, 1)
    fired = []
    m.register_full_backward_hook(lambda *a: fired.append(1))
    with mt.no_grad():
        out = m(mt.ones(1, 2, requires_grad=True))
    assert out.grad_fn is None and not fired


def test_module_without_hooks_calls_forward_directly():
    calls = []

    class Spy(nn.Module):
        def forward(self, *args, **kwargs):
            calls.append((args, kwargs))
            return 1

    assert Spy()(2, k=3) == 1 and calls == [((2,), {"k": 3})]
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_global_backward_hooks_run_before_module_hooks():
    m = nn.Linear(2, 1)
    order = []
    m.register_full_backward_pre_hook(lambda mod, go: order.append("local pre"))
    m.register_full_backward_hook(lambda mod, gi, go: order.append("local"))
    h1 = module_mod.register_module_full_backward_pre_hook(lambda mod, go: order.append("global pre"))
    h2 = module_mod.register_module_full_backward_hook(lambda mod, gi, go: order.append("global"))
    try:
        m(mt.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        h1.remove(), h2.remove()
    assert order == ["global pre", "local pre", "global", "local"]
    order.clear()
    m(mt.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["local pre", "local"]


def test_save_to_state_dict_override_and_old_pickles_get_hook_stores():
    class Scaled(nn.Linear):
        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "scale"] = mt.full((1,), 2.0)

    assert list(nn.Sequential(Scaled(1, 1)).state_dict()) == ["0.weight", "0.bias", "0.scale"]
    m = nn.Linear(1, 1)
    state = {k: v for k, v in m.__dict__.items() if not k.endswith("hooks") and "hooks_" not in k}
    state["_non_persistent_buffers"] = state.pop("_non_persistent_buffers_set")  # the old attribute name
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    calls = []
    old.register_forward_hook(lambda *a: calls.append(1))
    old(mt.ones(1, 1))
    assert calls == [1] and old._non_persistent_buffers_set == set()
