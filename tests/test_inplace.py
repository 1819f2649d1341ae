"""In-place ops (add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_, setitem, +=) and the version counter."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn.functional as F

MODIFIED = r"modified by an inplace operation"


# ------------------------------------------------------------------ values
@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda t: t.add_(2.0), [3.0, 0.0, 5.0]),
        (lambda t: t.add_(mt.tensor([1.0, 1.0, 1.0]), alpha=2), [3.0, 0.0, 5.0]),
        (lambda t: t.sub_(1.0), [0.0, -3.0, 2.0]),
        (lambda t: t.sub_(mt.tensor([1.0, 2.0, 3.0]), alpha=2), [-1.0, -6.0, -3.0]),
        (lambda t: t.mul_(mt.tensor([2.0, 3.0, 4.0])), [2.0, -6.0, 12.0]),
        (lambda t: t.div_(2.0), [0.5, -1.0, 1.5]),
        (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
        (lambda t: t.fill_(7.0), [7.0, 7.0, 7.0]),
        (lambda t: t.fill_(mt.tensor(4.0)), [4.0, 4.0, 4.0]),
        (lambda t: t.copy_(mt.tensor([9.0, 8.0, 7.0])), [9.0, 8.0, 7.0]),
        (lambda t: t.copy_(mt.tensor(5.0, dtype=mt.float64)), [5.0, 5.0, 5.0]),  # broadcast + cast
        (lambda t: t.clamp_(min=0.0, max=2.0), [1.0, 0.0, 2.0]),
        (lambda t: t.clamp_(max=0.0), [0.0, -2.0, 0.0]),
        (lambda t: t.__iadd__(1.0), [2.0, -1.0, 4.0]),
        (lambda t: t.__isub__(1.0), [0.0, -3.0, 2.0]),
        (lambda t: t.__imul__(2.0), [2.0, -4.0, 6.0]),
        (lambda t: t.__itruediv__(2.0), [0.5, -1.0, 1.5]),
    ],
)
def test_inplace_values_storage_and_version(op, expected):
    t = mt.tensor([1.0, -2.0, 3.0])
    storage = t._data
    alias = t.detach()  # shares storage and version counter
    assert t._version == 0
    out = op(t)
    assert out is t and t.dtype == mt.float32
    assert t.tolist() == expected
    assert t._data is storage and alias.tolist() == expected  # written into the same storage
    assert t._version == 1 and alias._version == 1


def test_setitem_values_and_version():
    t = mt.zeros(2, 3)
    t[0] = 1.0
    t[1, 1:] = mt.tensor([2.0, 3.0])
    t[t > 2.5] = -1.0
    t[:, 0] += 10  # add_ on the view t[:, 0] (bumps the shared counter), then setitem writes it back
    assert t.tolist() == [[11.0, 1.0, 1.0], [10.0, 2.0, -1.0]]
    assert t._version == 5
    with pytest.raises(RuntimeError, match=r"setitem.*\(3, 3\).*\(2, 3\)"):
        t[0] = mt.ones(3, 3)
    with pytest.raises(IndexError, match="setitem"):
        t[5] = 1.0


def test_each_inplace_op_bumps_the_version():
    t = mt.ones(3)
    for i, op in enumerate(
        [
            lambda: t.add_(1),
            lambda: t.mul_(2),
            lambda: t.zero_(),
            lambda: t.fill_(1),
            lambda: t.copy_(mt.ones(3)),
            lambda: t.clamp_(0, 1),
            lambda: t.__setitem__(0, 2.0),
        ],
        start=1,
    ):
        op()
        assert t._version == i
    assert (t * 1)._version == 0  # a new tensor starts at version 0


def test_shape_and_dtype_errors_leave_the_tensor_unchanged():
    t = mt.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"add_.*\(2,\).*\(2, 2\)"):
        t.add_(mt.ones(2, 2))
    i = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="mul_.*float32.*int64"):
        i.mul_(1.5)
    assert t.tolist() == [1.0, 2.0] and i.tolist() == [1, 2]


# ------------------------------------------------------ saved tensors modified
@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda x: x.sin(), "SinBackward"),  # (tanh saves its output, not its input)
        (lambda x: x * mt.tensor([2.0, 3.0, 4.0], requires_grad=True), "MulBackward"),
    ],
)
def test_modifying_a_saved_input_then_backward_raises(build, name):
    x0 = mt.tensor([0.1, 0.2, 0.3], requires_grad=True)
    x = x0 * 1  # a non-leaf, so it can be modified in place under grad mode
    y = build(x)
    x.add_(1.0)
    with pytest.raises(
        RuntimeError, match=rf"{name}.*{MODIFIED}.*float32 \(3,\).*version 1; expected version 0"
    ):
        y.sum().backward()


def test_modifying_a_saved_leaf_under_no_grad_then_backward_raises():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with mt.no_grad():
        w.mul_(0.5)
    with pytest.raises(RuntimeError, match=rf"MulBackward.*{MODIFIED}.*version 1; expected version 0"):
        loss.backward()


def test_modifying_through_a_detached_alias_is_caught():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    y = w.exp()
    y.detach().zero_()  # same storage and counter: exp's backward would read the zeros
    with pytest.raises(RuntimeError, match=rf"ExpBackward.*{MODIFIED}.*its output"):
        y.sum().backward()
    w2 = mt.tensor([1.0, 2.0], requires_grad=True)
    z = w2.sigmoid()
    z.data.mul_(2)  # .data shares the counter too (documented difference from PyTorch)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()


def test_versions_saved_after_an_earlier_inplace_op_are_respected():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    h.add_(1.0)  # version 1, recorded
    y = h.sin()  # sin's backward reads h at version 1
    y.sum().backward()  # nothing changed since: fine
    np.testing.assert_allclose(x.grad.numpy(), np.cos([2.0, 3.0]), rtol=1e-4)
    h2 = x * 1
    y2 = h2.sin()
    h2.mul_(2)
    h2.add_(1)
    with pytest.raises(RuntimeError, match="version 2; expected version 0"):
        y2.sum().backward()


def test_unrelated_inplace_op_does_not_trip_backward():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    other = mt.ones(2)
    other.add_(5)
    y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------ leaves
@pytest.mark.parametrize(
    ("op", "name"),
    [
        (lambda t: t.add_(1.0), "add_"),
        (lambda t: t.sub_(1.0), "sub_"),
        (lambda t: t.mul_(2.0), "mul_"),
        (lambda t: t.div_(2.0), "div_"),
        (lambda t: t.zero_(), "zero_"),
        (lambda t: t.fill_(3.0), "fill_"),
        (lambda t: t.copy_(mt.ones(2)), "copy_"),
        (lambda t: t.clamp_(0.0, 1.5), "clamp_"),
        (lambda t: t.__setitem__(0, 5.0), "setitem"),
        (lambda t: t.__iadd__(1.0), "add_"),
    ],
)
def test_leaf_requiring_grad_raises_outside_no_grad_and_works_inside(op, name):
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{name}.*leaf.*requires grad.*no_grad"):
        op(w)
    assert w.tolist() == [1.0, 2.0] and w._version == 0  # untouched
    with mt.no_grad():
        op(w)
    assert w.tolist() != [1.0, 2.0] and w._version == 1
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


# --------------------------------------------------------- non-leaf (recorded)
def test_inplace_on_non_leaf_is_recorded_and_differentiable():
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mt.tensor([0.5, 0.5, 0.5], requires_grad=True)
    y = x.exp()
    y.mul_(w)  # exp's output is copied before being overwritten: exp's backward still sees it
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward" and y._version == 2 and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.5 * np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), np.exp([1.0, 2.0, 3.0]), rtol=1e-6)


def test_inplace_with_a_grad_requiring_operand_makes_a_plain_tensor_part_of_the_graph():
    w = mt.tensor([2.0, 3.0], requires_grad=True)
    buf = mt.zeros(2)
    buf.add_(w)
    buf.mul_(w)  # buf = w * w, through the in-place ops (the operand aliasing the old value is handled)
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


@pytest.mark.parametrize(
    ("alias", "add_grad"),
    [(lambda y: y, 2.0), (lambda y: y.detach(), 1.0), (lambda y: y.view(1), 2.0)],
    ids=["self", "detach", "view"],
)
def test_an_operand_that_is_the_written_storage(alias, add_grad):
    # As PyTorch: mul_ saves its operand before writing, so when the operand is the storage being
    # written, the value backward needs is gone and backward refuses (x.mul_(x.detach()) used to
    # read the new values: a wrong gradient); add_ reads no operand, so it differentiates.
    x = mt.tensor([3.0], requires_grad=True)
    y = x * 1
    y.mul_(alias(y))
    assert y.tolist() == [9.0]
    with pytest.raises(RuntimeError, match=rf"MulBackward.*{MODIFIED}"):
        y.backward()
    z = x * 1
    z.add_(alias(z))
    z.backward()
    assert z.tolist() == [6.0] and x.grad.tolist() == [add_grad]


def test_gradient_through_setitem_to_tensor_and_value():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = mt.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1
    y[1:3] = v * 2
    (y * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert y.tolist() == [1.0, 20.0, 40.0, 4.0]
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 4.0]  # overwritten positions get no gradient
    assert v.grad.tolist() == [4.0, 6.0]


def test_gradient_through_setitem_with_broadcast_value_and_mask():
    s = mt.tensor(2.0, requires_grad=True)
    y = mt.zeros(2, 3)
    y[mt.tensor([True, False])] = s  # a 0-d value broadcast over a masked row
    y.sum().backward()
    assert y.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    assert s.grad.item() == 3.0


def test_copy_and_fill_are_differentiable_in_their_source():
    src = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.zeros(3, 2)
    y.copy_(src)
    y.sum().backward()
    assert src.grad.tolist() == [3.0, 3.0]
    v = mt.tensor(1.5, requires_grad=True)
    z = mt.zeros(4)
    z.fill_(v)
    (z * z).sum().backward()
    assert v.grad.item() == pytest.approx(12.0)


def test_setitem_gradgradcheck():
    x = mt.tensor([0.3, -0.2, 0.5], dtype=mt.float64, requires_grad=True)
    v = mt.tensor([0.7], dtype=mt.float64, requires_grad=True)

    def fn(x, v):
        y = x * x
        y[1:2] = v * v
        return y.tanh()

    assert mt.autograd.gradcheck(fn, (x, v))
    assert mt.autograd.gradgradcheck(fn, (x, v))


# ----------------------------------------------------------------- optimizers
@pytest.mark.parametrize("make_opt", [lambda p: mt.optim.SGD(p, lr=0.1, momentum=0.9), mt.optim.Adam])
def test_training_loop_with_inplace_updates_never_trips_the_check(make_opt):
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(2, 4), mt.nn.Tanh(), mt.nn.Linear(4, 1))
    opt = make_opt(model.parameters())
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.mse_loss(model(x), t)
        loss.backward()
        opt.step()
        with mt.no_grad():  # a user's in-place tweak of the parameters, as PyTorch allows
            for p in model.parameters():
                p.clamp_(-5.0, 5.0)
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("make_opt", [lambda p: mt.optim.SGD(p, lr=0.1), mt.optim.Adam])
def test_backward_after_an_optimizer_step_on_saved_weights_raises(make_opt):
    # As PyTorch: step() updates the weights in place, so a graph recorded before it whose
    # backward reads the old weights (for the input's gradient) would give wrong gradients;
    # backward names the version instead.
    mt.manual_seed(0)
    model = mt.nn.Linear(2, 1)
    opt = make_opt(model.parameters())
    x = mt.tensor([[1.0, 2.0]], requires_grad=True)
    model(x).sum().backward()
    loss = model(x).sum()  # records the weights at their current version
    versions = [p._version for p in model.parameters()]
    opt.step()
    assert [p._version for p in model.parameters()] == [v + 1 for v in versions]
    # a new Linear is at version 1 (its initialisers wrote in place), as in PyTorch
    with pytest.raises(RuntimeError, match=rf"LinearBackward.*{MODIFIED}.*version 2; expected version 1"):
        loss.backward()


def test_backward_reading_no_modified_tensor_runs_after_an_optimizer_step():
    # As PyTorch: with an input that needs no gradient, Linear's backward reads only the input
    # (for the weight's gradient) and nothing (for the bias'), so the updated weights do not matter
    model = mt.nn.Linear(2, 1)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    x = mt.tensor([[1.0, 2.0]])
    loss = model(x).sum()
    mt.nn.init.zeros_(model.bias)
    opt.step()
    loss.backward()
    assert model.weight.grad.tolist() == [[1.0, 2.0]] and model.bias.grad.tolist() == [1.0]


def test_gradient_goes_to_the_history_an_op_saw_after_an_inplace_op_replaced_it():
    # As PyTorch's edges: sum() recorded h's history before mul_ replaced it, so its gradient goes
    # through h = 2x (not through the mul_); exp's backward reads its output, which mul_ changed
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    s = h.sum()
    h.mul_(3)
    (s + h.sum()).backward()
    assert x.grad.tolist() == [8.0, 8.0]  # 2 (through s) + 6 (through the mul_)
    e = x.exp()
    s = e.sum()
    e.mul_(2)
    with pytest.raises(RuntimeError, match=rf"ExpBackward.*{MODIFIED}"):
        s.backward()


def test_version_counter_stays_small_and_names_versions_after_many_updates():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    with mt.no_grad():
        for _ in range(100):
            h.add_(0.0)
    y = h.sin()  # records h at version 100
    with mt.no_grad():
        h.mul_(1.0)
        h.mul_(1.0)
    assert h._version == 102 and len(h._vc) <= 9  # bounded however many updates
    with pytest.raises(RuntimeError, match="version 102; expected version 100 instead"):
        y.sum().backward()


def test_views_share_the_version_counter():
    base = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    for view in (base[0], base.reshape(4), base.t(), base[:, 1:]):
        before = base._version
        view.mul_(1.0)
        assert base._version == before + 1 and view._version == base._version
    assert base[[0, 1]]._version == 0  # advanced indexing copies: a new counter


def test_modifying_a_view_of_a_saved_tensor_is_caught():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1
    z = y.exp()  # saves its output
    with mt.no_grad():
        z.reshape(2, 1)[0] += 1.0  # through a view of a view: same storage, same counter
    with pytest.raises(RuntimeError, match=rf"ExpBackward.*{MODIFIED}"):
        z.sum().backward()


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises_and_changes_nothing():
    w = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for view in (lambda: w[0], lambda: w[1, 0], lambda: w.t(), lambda: w.reshape(4)[1:]):
        with pytest.raises(RuntimeError, match=r"add_: a view of a leaf Variable that requires grad"):
            view().add_(1.0)
    assert w.tolist() == [[1.0, 2.0], [3.0, 4.0]] and w._version == 0 and w.is_leaf
    v = w[0].clone()
    v.add_(1.0)  # a clone owns its storage: fine
    v.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    with mt.no_grad():  # outside recording, a view of a leaf is written like any tensor
        w[1, 0].mul_(2.0)
    assert w.tolist()[1][0] == 6.0 and w._version == 1


# ------------------------------------------------- in-place ops on views while recording
# Expected values and gradients below are PyTorch 2.13's for the same programs.
def test_inplace_op_on_a_slice_rewrites_the_base_history():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y[1:3].mul_(2)
    assert y.tolist() == [1.0, 4.0, 6.0, 4.0] and not y.is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 2.0, 1.0]


def test_setitem_on_a_view_of_a_view():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y.view(2, 2)[0, 1] = 0
    assert y.tolist() == [1.0, 0.0, 3.0, 4.0]
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 6.0, 8.0]


def test_a_view_follows_its_base_modified_in_place():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[:2]
    y.mul_(3)
    assert v.tolist() == [3.0, 6.0]
    (v * v).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0, 0.0, 0.0]


def test_chain_of_views_transpose_then_index():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y.view(2, 2).t()[0]  # y[0] and y[2]
    v.mul_(mt.tensor([2.0, 3.0]))
    assert y.tolist() == [2.0, 2.0, 9.0, 4.0]
    (y * mt.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 10.0, 300.0, 1000.0]


def test_operand_that_aliases_the_written_storage_uses_the_old_values():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y[1:3] = y[0:2]  # a shift: the source is read before the write
    assert y.tolist() == [1.0, 1.0, 2.0, 4.0]
    (y * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0, 4.0]


def test_sibling_view_of_a_base_without_grad_joins_the_graph():
    w = mt.tensor([2.0, 5.0], requires_grad=True)
    y = mt.zeros(4)
    v1, v2 = y[:2], y[2:]
    v1.add_(w * 1)
    assert y.requires_grad and not y.is_leaf and v2.requires_grad
    (y * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0]


def test_retain_grad_on_a_view_survives_rebasing():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[:2]
    v.retain_grad()
    v.mul_(2)
    (v * v).sum().backward()
    assert v.grad.tolist() == [4.0, 8.0]


def test_saved_values_changed_through_a_view_or_the_base_still_raise():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[:2]
    w = v * v  # saves the view
    y.mul_(3)  # changes it through the base
    with pytest.raises(RuntimeError, match=MODIFIED):
        w.sum().backward()
    y = x * 1
    z = y.exp()  # saves its output
    with mt.no_grad():
        z[1:].zero_()  # changes it through a view, unrecorded
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()
    x.grad = None
    z = x.exp()
    z[1:].zero_()  # recorded: exp's backward reads the copy taken before the write (as for z.zero_())
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.e, 0.0, 0.0, 0.0], rtol=1e-6)
    y = x.tanh()  # saves its output, then a write through detach(), then a recorded op on y
    y.detach().mul_(2)
    y.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_inplace_on_a_view_made_under_no_grad_raises_under_grad_mode():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    with mt.no_grad():
        v = y[:2]
    with pytest.raises(RuntimeError, match=r"mul_: a view was created in no_grad mode"):
        v.mul_(2)
    assert y.tolist() == [1.0, 2.0, 3.0, 4.0]
    with mt.no_grad():
        v.mul_(2)  # both under no_grad: allowed, not recorded
    assert y.tolist() == [2.0, 4.0, 3.0, 4.0]


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.add_(1),
        lambda t: t.mul_(2),
        lambda t: t.sub_(1),
        lambda t: t.div_(2),
        lambda t: t.clamp_(0, 0.5),
        lambda t: t.copy_(mt.ones(3)),
        lambda t: t.__iadd__(1),
    ],
)
def test_arithmetic_in_place_on_an_expanded_view_is_refused(op):
    base = mt.ones(1)
    with pytest.raises(RuntimeError, match=r"more than one element of the written-to tensor"):
        op(base.expand(3))
    assert base.tolist() == [1.0] and base._version == 0


def test_fill_zero_and_setitem_on_an_expanded_view_write_the_shared_element():
    base = mt.ones(1)
    base.expand(3).fill_(2.0)
    assert base.tolist() == [2.0]
    base.expand(2, 3)[0, 1] = 5.0
    assert base.tolist() == [5.0] and base._version == 2
    base.expand(3).zero_()
    assert base.tolist() == [0.0] and base._version == 3
    x = mt.ones(1, requires_grad=True)
    y = x * 1
    y.expand(3).fill_(2.0)  # a constant into a shared location: allowed while recording too
    assert y.tolist() == [2.0] and y.grad_fn is not None
    with pytest.raises(RuntimeError, match=r"setitem: .*more than one element"):
        y.expand(3)[:] = x.expand(3) * 2  # a value that requires grad: refused while recording
    z = y.expand(3)
    w = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z[1:2] = w[1:2] * 5  # one element of the expanded view: no overlap, recorded
    assert y.tolist() == [10.0]
    z.sum().backward()
    assert x.grad.tolist() == [0.0] and w.grad.tolist() == [0.0, 15.0, 0.0]


def test_inplace_on_detach_changes_values_not_history():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    d.mul_(x)  # d joins the graph on its own; y's history is unchanged
    assert not d.is_leaf and d.tolist() == [3.0, 12.0] and y.tolist() == [3.0, 12.0]
    assert y.grad_fn.name() == "MulBackward" and d._version == y._version == 1
    d.sum().backward()
    assert x.grad.tolist() == [3.0, 6.0]  # d = (3x, detached) * x: the detached factor is a constant
