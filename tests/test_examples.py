"""The examples keep their promises (run in smoke mode)."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_hidden_layer_solves_xor(capsys):
    result = load("xor").main(steps=1500, log_every=0)
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.05
    probs = result["probs"]
    assert probs[0] < 0.1 and probs[3] < 0.1 and probs[1] > 0.9 and probs[2] > 0.9
    assert "accuracy 4/4" in capsys.readouterr().out
