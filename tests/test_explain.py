"""mt.explain: backward written out as a chain-rule derivation."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F
from microtensor.explain import symbols


def xor_setup():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()).double()
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=mt.float64)
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=mt.float64)
    loss = F.binary_cross_entropy(model(x), y)
    return model, x, y, loss


def quiet_explain(*args, **kwargs) -> str:
    return mt.explain(*args, file=io.StringIO(), **kwargs)


def section(text: str, title: str) -> str:
    """The derivation block of one parameter: from its title line to the next blank line."""
    m = re.search(rf"^{re.escape(title)}.*?(?=\n\n|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert m, f"no section {title!r} in:\n{text}"
    return m.group(0)


def count_paths(output: mt.Tensor, target: mt.Tensor) -> int:
    """Paths from output down to target, by walking grad_fn.next_functions / inputs."""
    if output is target:
        return 1
    node = output.grad_fn
    if node is None:
        return 0
    return sum(
        count_paths(x, target)
        for x, nxt, need in zip(node.inputs, node.next_functions, node.needs)
        if need and (nxt is not None or x is target)
    )


# ------------------------------------------------------------- the XOR network
def test_explain_prints_and_returns_the_same_text(capsys):
    _, _, _, loss = xor_setup()
    text = mt.explain(loss)
    assert capsys.readouterr().out == text + "\n"
    buf = io.StringIO()
    assert mt.explain(loss, file=buf) == text and buf.getvalue() == text + "\n"
    assert capsys.readouterr().out == ""


def test_xor_names_each_parameter_and_its_chain():
    model, _, _, loss = xor_setup()
    text = quiet_explain(loss, model.named_parameters())
    symbol = {"0.weight": "W1", "0.bias": "b1", "2.weight": "W2", "2.bias": "b2"}
    for name, p in model.named_parameters():
        block = section(text, f"dL/d{symbol[name]}  ({name}), shape {p.shape}: 1 path from L")
        value = float(re.search(r"value: \S+ (?:\S+ )?(?:‖·‖ )?= (\S+)", block).group(1))
        g = mt.autograd.grad(loss, p, retain_graph=True)[0].numpy()
        assert value == pytest.approx(float(np.linalg.norm(g)) if g.size > 1 else g.item(), rel=1e-3)
    # the tutorial's names, recognisable in the forward listing
    for line in (
        "Z1  = Linear(X, W1, b1)",
        "A1  = Tanh(Z1)",
        "Z2  = Linear(A1, W2, b2)",
        "A2  = Sigmoid(Z2)",
    ):
        assert line in text
    w1 = section(text, "dL/dW1")
    assert "dL/dW1 = dL/dA2 · dA2/dZ2 · dZ2/dA1 · dA1/dZ1 · dZ1/dW1" in w1
    assert "path: L ← A2 ← Z2 ← A1 ← Z1 ← W1" in w1
    # the loss op averages itself: its rule carries the n of its 'mean' reduction
    assert re.search(
        r"dL/dA2\s+= 1 · \(A2 − y\) / clamp_min\(A2 − A2 · A2, 1e-12\) / n\s+\(n = 4\)$", w1, re.M
    )
    w2 = section(text, "dL/dW2")
    assert "dL/dW2 = dL/dA2 · dA2/dZ2 · dZ2/dW2" in w2
    assert re.search(r"dL/dW2\s+= rows\(dL/dZ2\)ᵀ @ rows\(A1\)$", w2, flags=re.MULTILINE)
    assert "dL/dA1" not in w2  # only the tensors on W2's path


def test_xor_shows_the_tanh_and_sigmoid_derivatives():
    model, _, _, loss = xor_setup()
    text = quiet_explain(loss, model.named_parameters())
    # the ops' rules as recorded ...
    assert "local rule  ∂x = grad − grad · out · out" in text
    assert "local rule  ∂x = grad · (out − out · out)" in text
    # ... and substituted with the network's tensors
    assert re.search(r"dL/dZ1\s+= dL/dA1 − dL/dA1 · A1 · A1$", text, flags=re.MULTILINE)
    assert re.search(r"dL/dZ2\s+= dL/dA2 · \(A2 − A2 · A2\)$", text, flags=re.MULTILINE)


def test_xor_steps_follow_the_engine_order():
    _, _, _, loss = xor_setup()
    text = quiet_explain(loss)
    steps = re.findall(r"^  \d+\. (\w+): ", text, flags=re.MULTILINE)
    engine = [t.grad_fn.name() for t in reversed(mt.autograd._topo_order([loss])) if t.grad_fn is not None]
    assert (
        steps
        == engine
        == [
            "BinaryCrossEntropyBackward",
            "SigmoidBackward",
            "LinearBackward",
            "TanhBackward",
            "LinearBackward",
        ]
    )
    # each step's gradient is shown with its shape and norm
    dz1 = mt.autograd.grad(loss, symbols(loss)["Z1"], retain_graph=True)[0].numpy()
    m = re.search(r"dL/dZ1 = dL/dA1 − dL/dA1 · A1 · A1\s+\(4, 4\)\s+‖·‖ = (\S+)", text)
    assert float(m.group(1)) == pytest.approx(np.linalg.norm(dz1), rel=1e-3)


def test_paths_match_the_graph():
    model, _, _, loss = xor_setup()
    text = quiet_explain(loss, model.named_parameters())
    for name, p in model.named_parameters():
        m = re.search(
            rf"^dL/d\w+  \({re.escape(name)}\), shape \S+(?: \S+)?: (\d+) paths? from L", text, re.M
        )
        assert int(m.group(1)) == count_paths(loss, p) == 1
    # weights used twice (tied) have two paths; explain lists both products and sums the rules
    w = mt.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=mt.float64, requires_grad=True)
    x = mt.tensor([[1.0, 2.0]], dtype=mt.float64)
    out = F.linear(F.linear(x, w).tanh(), w).sigmoid().sum()
    text = quiet_explain(out, {"w": w})
    assert count_paths(out, w) == 2
    block = section(text, "dL/dw")
    assert "2 paths from L" in block
    assert len(re.findall(r"^\s+[=+] .*dZ\d/dw$", block.replace("dL/dw = ", "= "), flags=re.M)) == 2
    rule = re.search(r"^    dL/dw\s+= (.*)$", block, flags=re.M).group(1)  # the substituted rules
    assert rule.count(" + ") == 1 and "rows(dL/dZ2)ᵀ @ rows(A1)" in rule and "rows(dL/dZ1)ᵀ @ rows(X)" in rule


def test_explain_does_not_change_grads_or_free_the_graph():
    model, x, y, loss = xor_setup()
    hidden = symbols(loss)["A1"]
    hidden.retain_grad()
    loss.backward(retain_graph=True)
    before = {name: (p.grad, p.grad.numpy().copy()) for name, p in model.named_parameters()}
    hidden_grad = hidden.grad
    quiet_explain(loss, model.named_parameters())
    quiet_explain(loss)
    for name, p in model.named_parameters():
        assert p.grad is before[name][0]
        np.testing.assert_array_equal(p.grad.numpy(), before[name][1])
    assert hidden.grad is hidden_grad  # a retain_grad() tensor is not accumulated into either
    # never-computed grads stay None
    fresh_model, _, _, fresh = xor_setup()
    quiet_explain(fresh)
    assert all(p.grad is None for p in fresh_model.parameters())
    fresh.backward()  # the graph is still there
    assert all(p.grad is not None for p in fresh_model.parameters())


def test_diamond_shows_the_sum_of_both_paths():
    x = mt.tensor([0.5, -1.0, 2.0], dtype=mt.float64, requires_grad=True)
    u, v = x.tanh(), x.sigmoid()
    out = (u + v).sum()
    text = quiet_explain(out, {"x": x})
    block = section(text, "dL/dx")
    assert "2 paths from L (they meet: the contributions add up)" in block
    assert "dL/dx = dL/dadd1 · dadd1/dtanh1 · dtanh1/dx" in block
    assert "+ dL/dadd1 · dadd1/dsigmoid1 · dsigmoid1/dx" in block
    assert re.search(
        r"dL/dx\s+= dL/dtanh1 − dL/dtanh1 · tanh1 · tanh1"
        r" \+ dL/dsigmoid1 · \(sigmoid1 − sigmoid1 · sigmoid1\)$",
        block,
        re.M,
    )
    # in the step listing (latest-recorded op first: sigmoid) the second contribution is accumulated
    # (+=) and only then complete
    assert re.search(r"dL/dx = dL/dsigmoid1 · \(sigmoid1 − sigmoid1 · sigmoid1\)\s+\(3,\)\s+\(partial", text)
    assert re.search(r"dL/dx \+= dL/dtanh1", text)
    values = [float(s) for s in re.search(r"value: \(3,\) ‖·‖ = \S+  \[(.*)\]", block).group(1).split(", ")]
    xs = x.detach().numpy()
    expected = (1 - np.tanh(xs) ** 2) + (s := 1 / (1 + np.exp(-xs))) * (1 - s)
    np.testing.assert_allclose(values, expected, rtol=1e-3)


def test_same_tensor_twice_in_one_op_gives_two_factors():
    w = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    text = quiet_explain((w * w).sum(), {"w": w})
    block = section(text, "dL/dw")
    assert "2 paths" in block and "dmul1/dw[a]" in block and "dmul1/dw[b]" in block
    assert re.search(r"dL/dw\s+= dL/dmul1 · w \+ dL/dmul1 · w$", block, re.M)


def test_long_chain_is_summarised():
    x = mt.tensor([0.3, -0.2], dtype=mt.float64, requires_grad=True)
    h = x
    for _ in range(300):
        h = h.tanh()
    text = quiet_explain(h.sum(), {"x": x}, max_steps=10)
    assert len(text.splitlines()) < 110
    assert "… 291 steps omitted (291 × TanhBackward) …" in text
    assert re.findall(r"^  (\d+)\. ", text, re.M) == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "297",
        "298",
        "299",
        "300",
        "301",
    ]
    block = section(text, "dL/dx")
    assert "1 path from L" in block and "(291 more factors)" in block and "more lines" in block
    assert re.search(r"dL/dx\s+= dL/dtanh1 − dL/dtanh1 · tanh1 · tanh1$", block, re.M)


def test_exponentially_many_paths_are_counted_not_listed():
    x = mt.tensor([0.1], dtype=mt.float64, requires_grad=True)
    h = x
    for _ in range(40):
        h = h.tanh() + h.sigmoid()  # each diamond doubles the number of paths
    text = quiet_explain(h.sum(), {"x": x})
    block = section(text, "dL/dx")
    assert f"{2**40} paths from L" in block
    assert f"+ … ({2**40 - 8} more paths)" in block


def test_default_inputs_are_every_leaf_that_requires_grad():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0, 4.0], requires_grad=True)
    c = mt.tensor([5.0, 6.0])  # needs no grad
    text = quiet_explain((a * b + c).sum())
    titles = re.findall(r"^(dL/d\w+), shape", text, re.M)
    assert titles == ["dL/dP1", "dL/dP2"]
    assert re.search(r"^  C1\s+leaf\s+\(2,\) float32\s+no grad$", text, re.M)


def test_inputs_not_in_the_graph_and_non_scalar_outputs():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    unused = mt.tensor([1.0], requires_grad=True)
    text = quiet_explain(a * 2, {"a": a, "unused": unused})
    assert "seed is ones(2,)" in text
    assert re.search(r"dout/da\s+= 1 · 2$", text, re.M)
    assert "unused: not used to compute out" in text


def test_explain_errors_name_the_fix():
    _, _, _, loss = xor_setup()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        quiet_explain(loss)
    with pytest.raises(RuntimeError, match="no grad_fn"):
        quiet_explain(mt.tensor([1.0]))
    with pytest.raises(TypeError, match="named_parameters"):
        quiet_explain(xor_setup()[3], ["not a pair"])


def test_user_function_without_formula_is_explained_by_its_backward():
    class Cube(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    text = quiet_explain(Cube.apply(x).sum(), {"x": x})
    assert "CubeBackward" in text and "by CubeBackward.backward" in text
    assert re.search(r"value: \(2,\) ‖·‖ = 12\.37", text)  # |(3, 12)|


# ---------------------------------------------------------------- the example


def test_example_chain_equals_the_hand_derived_gradients(load_example, tmp_path, capsys, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)  # as on a machine without Graphviz
    res = load_example("explain_xor").main(out_dir=tmp_path)
    out = capsys.readouterr().out
    assert res["lines_checked"] == 6
    assert res["grads_untouched_by_explain"]
    assert res["max_chain_vs_reference"] <= 1e-10
    assert res["max_chain_vs_autograd"] <= 1e-10
    assert res["max_dZ2_vs_tutorial"] <= 1e-10
    assert res["graph"] == tmp_path / "xor_graph.dot" and res["graph"].exists()
    assert "the printed chain is the hand derivation" in out
    assert "dL/dW1 = dL/dA2 · dA2/dZ2 · dZ2/dA1 · dA1/dZ1 · dZ1/dW1" in res["text"]


def test_example_check_fails_when_the_printed_chain_is_wrong(load_example):
    example = load_example("explain_xor")
    _, _, _, loss = xor_setup()
    text = quiet_explain(loss)
    values = {k: t.detach().numpy() for k, t in symbols(loss).items()}
    with pytest.raises(AssertionError, match="did not print"):
        example.evaluate_chain(text.replace("− dL/dA1 · A1 · A1", "+ dL/dA1 · A1 · A1"), values)


# ------------------------------------------------------------------ a small CNN
def cnn_setup():
    """conv -> relu -> maxpool -> batchnorm -> linear -> cross_entropy, in float64."""
    mt.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(18, 3)
    ).double()
    x = mt.randn(4, 1, 8, 8, dtype=mt.float64)
    y = mt.tensor([0, 1, 2, 1])
    return model, x, y, F.cross_entropy(model(x), y)


def step_block(text: str, backward_name: str) -> str:
    """One numbered step of the backward listing, from its title line to the next step."""
    m = re.search(rf"^  \d+\. {backward_name}: .*?(?=^  \d+\. |^$)", text, flags=re.MULTILINE | re.DOTALL)
    assert m, f"no step {backward_name!r} in:\n{text}"
    return m.group(0)


def test_cnn_names_its_conv_pooling_and_normalisation_layers():
    model, _, _, loss = cnn_setup()
    text = quiet_explain(loss, model.named_parameters())
    forward = text.split("Backward pass:")[0]
    assert re.search(r"^  Z1 +=  ?Conv2d\(X, W1, b1\) ", forward, flags=re.MULTILINE)
    assert re.search(r"= MaxPool2d\(A1\) ", forward) and re.search(r"= BatchNorm\(Z2\) ", forward)


def test_cnn_states_the_local_rules_in_words():
    model, _, _, loss = cnn_setup()
    text = quiet_explain(loss, model.named_parameters())
    conv = " ".join(step_block(text, "ConvBackward").split())  # one line, however it is wrapped
    assert "local rule ∂x = correlate_with_flipped_kernel(grad, w, geom)" in conv
    # the convolution's gradients: a full correlation with the flipped kernel, said in words
    assert "∂x is the full correlation of the upstream gradient" in conv
    assert "with the flipped kernel" in conv and "a transposed convolution" in conv
    assert "∂w is the correlation of the input with the upstream gradient" in conv
    pool = " ".join(step_block(text, "MaxPoolBackward").split())
    assert "goes to the input position of its window's (first) maximum" in pool and "get 0" in pool
    norm = " ".join(step_block(text, "BatchNormBackward").split())
    assert "of each channel over the batch and all positions" in norm
    assert "∂x = (grad − mean(grad) − x̂ · mean(grad · x̂)) / √(σ² + eps)" in norm
    # ops whose formula says it all (ReLU, Linear) add no words
    assert "in words" not in step_block(text, "ReluBackward")


def test_cnn_words_match_the_gradients_the_engine_computes():
    """What the words claim, checked on the values: the conv's ∂x is the transposed convolution of
    the upstream gradient, its ∂w the correlation of the input with it; max pooling's gradient sits
    on the windows' maxima; batch norm's ∂x is the closed form the text gives."""
    mt.manual_seed(1)
    x = mt.randn(2, 3, 7, 7, dtype=mt.float64, requires_grad=True)
    w = mt.randn(4, 3, 3, 3, dtype=mt.float64, requires_grad=True)
    z = F.conv2d(x, w, stride=2, padding=1)
    g = mt.randn(*z.shape, dtype=mt.float64)
    dx, dw = mt.autograd.grad(z, (x, w), g)
    flipped_full = F.conv_transpose2d(g, w.detach(), stride=2, padding=1)
    np.testing.assert_allclose(dx.numpy(), flipped_full.numpy(), rtol=1e-12, atol=1e-12)
    # ∂w[o, c] = Σ_n x[n, c] ⋆ g[n, o]: the input correlated with the gradient (batch as channels)
    corr = F.conv2d(x.detach().transpose(0, 1), g.transpose(0, 1), stride=1, padding=1, dilation=2)
    np.testing.assert_allclose(dw.numpy(), corr.transpose(0, 1).numpy(), rtol=1e-12, atol=1e-12)

    a = mt.randn(2, 3, 6, 6, dtype=mt.float64, requires_grad=True)
    out, idx = F.max_pool2d(a, 2, return_indices=True)
    (da,) = mt.autograd.grad(out, a, mt.ones_like(out))
    expect = np.zeros(a.shape).reshape(2, 3, -1)
    np.put_along_axis(expect, idx.numpy().reshape(2, 3, -1), 1.0, axis=2)
    np.testing.assert_array_equal(da.numpy(), expect.reshape(a.shape))

    b = mt.randn(5, 2, 3, 3, dtype=mt.float64, requires_grad=True)
    nb = F.batch_norm(b, None, None, training=True)
    gb = mt.randn(*nb.shape, dtype=mt.float64)
    (db,) = mt.autograd.grad(nb, b, gb)
    axes = (0, 2, 3)
    xv, gv = b.detach().numpy(), gb.numpy()
    rstd = 1 / np.sqrt(xv.var(axis=axes, keepdims=True) + 1e-5)
    xhat = (xv - xv.mean(axis=axes, keepdims=True)) * rstd
    mean = lambda a: a.mean(axis=axes, keepdims=True)  # noqa: E731
    closed = (gv - mean(gv) - xhat * mean(gv * xhat)) * rstd
    np.testing.assert_allclose(db.numpy(), closed, rtol=1e-10, atol=1e-12)


def test_vision_layers_say_their_rule_in_words():
    """Every layer op of the convolution, pooling and normalisation families declares its rule in
    words (their formulas call named helpers, whose names cannot say it all)."""
    from microtensor.ops import conv, layernorm, normalization, pooling
    from microtensor.ops.base import REGISTRY

    families = {m.__name__ for m in (conv, pooling, normalization, layernorm)}
    ops = [c for c in REGISTRY.values() if c.__module__ in families and c.role == "layer"]
    assert len(ops) >= 12
    silent = [c.__name__ for c in ops if len(c.meaning) < 40]
    assert not silent, f"layer ops without their rule in words: {silent}"
