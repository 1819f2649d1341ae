"""The examples keep their promises (run in smoke mode)."""

import math

import pytest


def test_xor_hidden_layer_solves_xor(load_example, capsys):
    result = load_example("xor").main(steps=1500, log_every=0, plot=False)
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.05
    probs = result["probs"]
    assert probs[0] < 0.1 and probs[3] < 0.1 and probs[1] > 0.9 and probs[2] > 0.9
    assert "accuracy 4/4" in capsys.readouterr().out


def test_logic_gates_one_layer_solves_and_or_but_not_xor(load_example, capsys):
    acc = load_example("logic_gates").main(steps=1500, plot=False)
    assert acc["AND"] == 1.0 and acc["OR"] == 1.0
    assert acc["XOR"] <= 0.75


def test_xor_features_make_xor_linearly_separable(load_example, capsys):
    res = load_example("xor_features").main(steps=1500, plot=False)
    assert res["raw inputs"]["accuracy"] <= 0.75
    assert res["logic features"]["accuracy"] == 1.0 and res["logic features"]["features"] == 2
    assert res["polynomial features"]["accuracy"] == 1.0 and res["polynomial features"]["features"] == 5


def test_zero_init_is_stuck_at_ln2_with_identical_hidden_units(load_example, capsys):
    res = load_example("zero_init").main(steps=300, plot=False)
    zero, rand = res["curves"]["zero init"], res["curves"]["random init"]
    assert max(abs(v - math.log(2)) for v in zero) < 1e-6
    assert res["identical"]
    assert rand[-1] < 0.5 * math.log(2)


def test_tanh_hidden_units_learn_xor_faster_than_sigmoid(load_example, capsys):
    reached = load_example("sigmoid_vs_tanh").main(steps=3000, seeds=2, plot=False)
    assert all(reached["tanh"])
    for t, s in zip(reached["tanh"], reached["sigmoid"]):
        assert s is None or t < s


def test_momentum_speeds_up_the_2_2_1_network(load_example, capsys):
    res = load_example("momentum").main(steps=3000, seeds=3)
    plain, tutorial = res[0.0], res[0.4]
    # some initialisations leave this tiny net stuck (seed 1 does, as it does PyTorch's with the
    # same seed, now that the seeds give PyTorch's weights): compare the runs plain SGD finishes
    finished = [(m, p) for m, p in zip(tutorial, plain) if p is not None]
    assert len(finished) >= 2
    assert all(m is not None and m < p for m, p in finished)
    assert all(res[0.9])


def test_hand_derived_gradients_equal_autograd(load_example, capsys):
    res = load_example("hand_vs_autograd").main(steps=100)
    assert res["max_grad_diff"] < 1e-10
    assert res["max_weight_diff"] < 1e-10


def test_mnist_mlp_reaches_90_percent_on_a_subset(load_example, capsys):
    from microtensor.data.mnist import find_mnist_dir

    if find_mnist_dir(None) is None:
        pytest.skip("MNIST files not found")
    res = load_example("mnist_mlp").main(epochs=3, limit=10000, hidden=256, regression_epochs=1, plot=False)
    assert res["dataset"] == "mnist"
    assert res["mlp"] >= 0.90
    assert res["regression"] < res["mlp"]


def test_custom_function_gradient_proven_and_wrong_one_caught(load_example, capsys):
    res = load_example("custom_function").main()
    assert res == {"correct_passes": True, "wrong_caught": True}
