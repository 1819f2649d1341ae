"""Containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict): behaviour and
parity with PyTorch for keys, reprs, iteration order and the renumbering after edits."""

from collections import OrderedDict

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn


def names(module) -> list[str]:
    return list(module.state_dict())


def torch_or_skip():
    return pytest.importorskip("torch")


# ----------------------------------------------------------------- Sequential
def test_sequential_indexing_negative_indices_slices_and_errors():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and seq[-3] is a
    part = seq[1:]
    assert type(part) is nn.Sequential and list(part) == [b, c]
    assert list(part._modules) == ["1", "2"]  # a slice keeps the original keys, as PyTorch
    assert list(reversed(seq)) == [c, b, a] and len(seq) == 3
    for bad in (3, -4):
        with pytest.raises(IndexError, match="out of range"):
            seq[bad]
    with pytest.raises(TypeError):
        seq["0"]


def test_sequential_setitem_delitem_renumber_and_keep_forward_consistent(rng):
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    new = nn.Linear(3, 1)
    seq[-1] = new
    assert seq[2] is new and seq._modules["2"] is new
    with pytest.raises(TypeError, match="child module '0'"):
        seq[0] = "not a module"
    del seq[1]
    assert names(seq) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    x = mt.tensor(rng.normal(size=(4, 2)).astype(np.float32))
    expected = new(seq[0](x))
    np.testing.assert_allclose(seq(x).detach().numpy(), expected.detach().numpy())
    named = nn.Sequential(
        OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU()), ("out", nn.Linear(2, 1))])
    )
    del named[0]  # PyTorch renumbers even named Sequentials after a deletion
    assert list(named._modules) == ["0", "1"]
    del named[0:2]
    assert len(named) == 0


def test_sequential_insert_extend_append_pop():
    a, b, c, d = nn.Linear(1, 1), nn.Tanh(), nn.ReLU(), nn.Sigmoid()
    seq = nn.Sequential(a, b)
    assert seq.append(c) is seq and list(seq) == [a, b, c]
    assert seq.insert(-1, d) is seq and list(seq) == [a, b, d, c]
    assert seq.insert(4, nn.Identity()) is seq and len(seq) == 5
    with pytest.raises(IndexError, match="out of range"):
        seq.insert(7, nn.Tanh())
    with pytest.raises(AssertionError, match="Module"):
        seq.insert(0, "x")
    assert seq.pop(0) is a and list(seq._modules) == ["0", "1", "2", "3"]
    popped = seq.pop(slice(0, 2))
    assert type(popped) is nn.Sequential and list(popped) == [b, d]
    assert seq.extend(nn.Sequential(a)) is seq and list(seq)[-1] is a
    assert list(seq._modules) == ["0", "1", "2"]


def test_sequential_add_mul_share_modules_and_reject_bad_operands():
    a, b = nn.Linear(2, 2), nn.Tanh()
    s = nn.Sequential(a, b)
    t = s + nn.Sequential(a)
    assert list(t) == [a, b, a] and list(t._modules) == ["0", "1", "2"]
    rep = s * 2
    assert list(rep) == [a, b, a, b] and 2 * s is not s and list(2 * s) == list(rep)
    # a module repeated shares its parameters: parameters() lists them once, state_dict under every name
    assert len(list(rep.parameters())) == 2
    assert names(rep) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    s2 = nn.Sequential(a, b)
    s2 *= 3
    assert len(s2) == 6 and s2[4] is a
    s2 += nn.Sequential(b)
    assert len(s2) == 7 and s2[6] is b
    with pytest.raises(ValueError, match="Sequential"):
        s + nn.ModuleList([a])
    with pytest.raises(ValueError, match="Sequential"):
        s += [a]
    with pytest.raises(TypeError, match="unsupported operand"):
        s * 1.5
    with pytest.raises(ValueError, match="Non-positive"):
        s * 0


def test_sequential_dir_hides_numeric_keys_and_shows_methods():
    d = dir(nn.Sequential(nn.Tanh(), nn.ReLU()))
    assert "0" not in d and "1" not in d and "append" in d and "forward" in d


def _edit_sequential(N, lin):
    seq = N.Sequential(lin(2, 3), N.Tanh(), lin(3, 4), N.ReLU())
    seq.append(lin(4, 1))
    seq.insert(1, N.Sigmoid())
    del seq[2]
    seq[-2] = N.Identity()
    seq.extend(N.Sequential(lin(1, 1)))
    seq.pop(0)
    return seq + N.Sequential(N.Tanh()) * 2


def test_sequential_edits_match_torch_keys_and_repr():
    torch = torch_or_skip()
    ours = _edit_sequential(nn, nn.Linear)
    theirs = _edit_sequential(torch.nn, torch.nn.Linear)
    assert names(ours) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


# ----------------------------------------------------------------- ModuleList
def test_module_list_indexing_slicing_assignment_and_errors():
    mods = [nn.Linear(i + 1, i + 2) for i in range(4)]
    ml = nn.ModuleList(mods)
    assert ml[-1] is mods[3] and ml[0] is mods[0] and list(ml) == mods and len(ml) == 4
    part = ml[1:3]
    assert type(part) is nn.ModuleList and list(part) == mods[1:3]
    assert list(part._modules) == ["0", "1"]  # a sliced ModuleList is numbered afresh
    ml[-2] = nn.Tanh()
    assert isinstance(ml[2], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        ml[4]
    with pytest.raises(IndexError, match="out of range"):
        ml[-5] = nn.Tanh()
    with pytest.raises(TypeError, match="child module"):
        ml[0] = 3
    with pytest.raises(TypeError, match="iterable"):
        ml.extend(5)
    with pytest.raises(NotImplementedError, match="forward"):
        ml(mt.ones(1))


def test_module_list_delete_renumbers_and_state_dict_follows():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(5)])
    keep = [ml[0], ml[2], ml[4]]
    del ml[1]
    del ml[-2]
    assert list(ml) == keep and list(ml._modules) == ["0", "1", "2"]
    assert names(ml) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    del ml[::2]
    assert list(ml) == [keep[1]] and list(ml._modules) == ["0"]


def test_module_list_append_extend_insert_pop_iadd_add():
    a, b, c, d = nn.Tanh(), nn.ReLU(), nn.Sigmoid(), nn.Identity()
    ml = nn.ModuleList()
    assert ml.append(a) is ml
    assert ml.extend([b, c]) is ml
    ml.insert(1, d)
    assert list(ml) == [a, d, b, c]
    ml.insert(-1, nn.Tanh())  # before the last element, as list.insert
    assert list(ml)[:3] == [a, d, b] and list(ml)[4] is c
    assert ml.pop(-1) is c and ml.pop(0) is a and list(ml._modules) == ["0", "1", "2"]
    ml += [a]
    assert ml[-1] is a and len(ml) == 4
    both = ml + nn.ModuleList([c])
    assert type(both) is nn.ModuleList and list(both) == [*ml, c] and both is not ml


def _build_lists(N):
    lin = N.Linear
    ml = N.ModuleList([lin(2, 2) for _ in range(3)])
    ml.append(N.ReLU())
    ml.extend([N.Tanh(), N.Tanh()])
    ml.insert(2, lin(2, 3))
    del ml[0]
    ml[0] = lin(2, 2)
    ml += [N.Sigmoid()]
    return ml + N.ModuleList([lin(3, 3)])


def test_module_list_matches_torch_keys_repr_folding_and_order():
    torch = torch_or_skip()
    ours, theirs = _build_lists(nn), _build_lists(torch.nn)
    assert repr(ours) == repr(theirs)
    assert "(4-5): 2 x Tanh()" in repr(ours)
    three = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert repr(three) == "ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n)"
    assert names(ours) == list(theirs.state_dict())
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"
    nested_ours = nn.Sequential(nn.ModuleList([nn.Sequential(nn.Linear(1, 1), nn.Tanh())] * 2))
    nested_theirs = torch.nn.Sequential(
        torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Tanh())] * 2)
    )
    assert repr(nested_ours) == repr(nested_theirs)


# ----------------------------------------------------------------- ModuleDict
def test_module_dict_dict_api():
    a, b, c = nn.Linear(2, 2), nn.Tanh(), nn.ReLU()
    md = nn.ModuleDict({"fc": a, "act": b})
    assert list(md) == ["fc", "act"] and list(md.keys()) == ["fc", "act"]
    assert list(md.values()) == [a, b] and list(md.items()) == [("fc", a), ("act", b)]
    assert "fc" in md and "x" not in md and md["act"] is b and len(md) == 2
    md["relu"] = c
    md.update([("act", c), ("out", nn.Linear(2, 1))])
    assert list(md) == ["fc", "act", "relu", "out"] and md["act"] is c
    md.update(nn.ModuleDict(OrderedDict([("z", b), ("a", a)])))
    assert list(md)[-2:] == ["z", "a"]
    assert md.pop("z") is b and "z" not in md
    del md["relu"]
    assert names(md) == ["fc.weight", "fc.bias", "out.weight", "out.bias", "a.weight", "a.bias"]
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    with pytest.raises(KeyError):
        md["missing"]
    with pytest.raises(TypeError, match="iterable"):
        md.update(3)
    with pytest.raises(ValueError, match="length 3"):
        md.update([("a", b, c)])
    with pytest.raises(TypeError, match="not a Module subclass"):
        md["x"] = 1
    with pytest.raises(KeyError, match="contain"):
        md["a.b"] = b


def test_module_dict_matches_torch_keys_and_repr():
    torch = torch_or_skip()

    def build(N):
        md = N.ModuleDict({"enc": N.Linear(3, 2), "act": N.Tanh()})
        md.update([("dec", N.Linear(2, 3))])
        md["act"] = N.ReLU()
        return N.Sequential(OrderedDict([("heads", md), ("out", N.Sigmoid())]))

    ours, theirs = build(nn), build(torch.nn)
    assert names(ours) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------- ParameterList / Dict
def test_parameter_list_wraps_tensors_registers_and_slices():
    t = mt.ones(2, 3)
    existing = nn.Parameter(mt.zeros(4))
    pl = nn.ParameterList([t, existing])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad and pl[1] is existing
    pl[0].detach()[0, 0] = 5.0  # the Parameter shares the tensor's storage, as in PyTorch
    assert t[0, 0].item() == 5.0
    pl.append(mt.zeros(1)).extend([mt.ones(2)])
    assert len(pl) == 4 and [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    part = pl[1:3]
    assert type(part) is nn.ParameterList and part[0] is existing and len(part) == 2
    pl[-1] = mt.full((2,), 3.0)
    assert isinstance(pl[3], nn.Parameter) and pl[3].detach().numpy().tolist() == [3.0, 3.0]
    pl.append("not a tensor")  # other objects are kept as plain attributes
    assert pl[4] == "not a tensor" and len(list(pl.parameters())) == 4
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(mt.ones(2))
    with pytest.raises(IndexError, match="out of range"):
        pl[5]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)
    assert "0" not in dir(pl)


def test_parameter_list_trains_with_an_optimizer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([mt.ones(2), mt.full((2,), 2.0)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x.sum()

    net = Net()
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    net(mt.ones(2)).backward()
    opt.step()
    np.testing.assert_allclose(net.ws[0].detach().numpy(), [0.8, 0.8])
    np.testing.assert_allclose(net.ws[1].detach().numpy(), [1.9, 1.9])


def test_parameter_dict_dict_api_and_wrapping():
    pd = nn.ParameterDict({"b": mt.ones(2), "a": mt.zeros(3)})
    assert list(pd) == ["a", "b"]  # a plain dict is taken in sorted order, as PyTorch
    assert all(isinstance(v, nn.Parameter) for v in pd.values())
    pd.update(OrderedDict([("z", mt.ones(1)), ("c", nn.Parameter(mt.ones(1)))]))
    assert list(pd.keys()) == ["a", "b", "z", "c"] and list(reversed(pd)) == ["c", "z", "b", "a"]
    assert pd.get("nope", 7) == 7 and pd.get("a") is pd["a"] and "a" in pd
    assert pd.setdefault("a") is pd["a"]
    new = pd.setdefault("n", mt.ones(4))
    assert isinstance(new, nn.Parameter) and pd["n"] is new
    key, val = pd.popitem()
    assert key == "n" and val is new and "n" not in pd
    assert pd.pop("z").shape == (1,) and len(pd) == 3
    merged = pd | nn.ParameterDict({"x": mt.ones(1)})
    assert list(merged) == ["a", "b", "c", "x"] and list(pd) == ["a", "b", "c"]
    pd |= nn.ParameterDict({"y": mt.ones(1)})
    assert list(pd) == ["a", "b", "c", "y"]
    copy = pd.copy()
    assert copy["a"] is pd["a"] and copy is not pd
    keys = pd.fromkeys(["p", "q"], mt.ones(2))
    assert list(keys) == ["p", "q"] and isinstance(keys["p"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c", "y"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = mt.ones(1)
    with pytest.raises(ValueError, match="length 1"):
        pd.update([("k",)])
    with pytest.raises(RuntimeError, match="should not be called"):
        pd(1)


def test_parameter_containers_match_torch_repr_and_keys():
    torch = torch_or_skip()

    def build(lib):
        N = lib.nn
        m = N.Module()
        m.plist = N.ParameterList([lib.zeros(2, 3), lib.zeros(1, dtype=lib.float64)])
        m.pdict = N.ParameterDict({"w": lib.zeros(4), "b": lib.zeros(2, 2)})
        m.one = N.ParameterDict({"only": lib.zeros(3)})
        return m

    ours, theirs = build(mt), build(torch)
    assert repr(ours) == repr(theirs).replace("torch.", "microtensor.")
    assert names(ours) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_containers_in_a_model_round_trip_weights_with_torch(rng):
    torch = torch_or_skip()

    def build(N):
        m = N.Module()
        m.blocks = N.ModuleList([N.Linear(3, 3) for _ in range(2)])
        m.heads = N.ModuleDict({"out": N.Linear(3, 1)})
        m.gains = N.ParameterList([N.Parameter(torch.ones(3)) if N is torch.nn else N.Parameter(mt.ones(3))])
        return m

    ours, theirs = build(nn), build(torch.nn)
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(sd) == names(ours)
    ours.load_state_dict(sd)
    x = rng.normal(size=(5, 3)).astype(np.float32)

    def run(m, xt):
        for blk in m.blocks:
            xt = (blk(xt) * m.gains[0]).tanh()
        return m.heads["out"](xt)

    np.testing.assert_allclose(
        run(ours, mt.tensor(x)).detach().numpy(),
        run(theirs, torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


# ------------------------------------------------ random edit sequences vs torch
def _apply_edits(N, cls, edits):
    first = [N.Linear(1, 1), N.Linear(2, 2)]
    box = N.Sequential(*first) if cls is N.Sequential else cls(first)
    for op, a, b in edits:
        n = len(box)
        if op == "append":
            box.append(N.Linear(a, a))
        elif op == "extend":
            box.extend([N.Linear(a, a), N.Linear(b, b)])
        elif op == "insert":  # ModuleList: 0..n, as PyTorch supports; Sequential: -n..n
            box.insert(a % (n + 1) - (n if cls is N.Sequential and b % 2 else 0), N.Linear(b, b))
        elif n == 0:
            continue
        elif op == "set":
            box[a % (2 * n) - n] = N.Linear(b, b)
        elif op == "del":
            del box[a % (2 * n) - n]
        elif op == "pop":
            box.pop(a % (2 * n) - n)
        elif op == "del_slice":
            del box[a % n : b % (n + 1) : 1 + b % 2]
    return box


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_random_edit_sequences_match_torch(kind):
    torch = torch_or_skip()
    from hypothesis import given
    from hypothesis import strategies as st

    edit = st.tuples(
        st.sampled_from(["append", "extend", "insert", "set", "del", "pop", "del_slice"]),
        st.integers(1, 9),
        st.integers(1, 9),
    )

    @given(st.lists(edit, max_size=8))
    def check(edits):
        ours = _apply_edits(nn, getattr(nn, kind), edits)
        theirs = _apply_edits(torch.nn, getattr(torch.nn, kind), edits)
        assert repr(ours) == repr(theirs)
        assert names(ours) == list(theirs.state_dict())

    check()
