"""The sequence-model examples run (short smoke versions) and learn; their data is found or
refused with a message that says how to get it."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest


def _text_dir() -> Path:
    root = os.environ.get("MICROTENSOR_DATA")
    d = Path(root) / "text" if root else None
    if d is None or not (d / "names.txt").is_file() or not (d / "tiny_shakespeare.txt").is_file():
        pytest.skip("the text data (names.txt, tiny_shakespeare.txt) is not under $MICROTENSOR_DATA/text")
    return d


def test_tiny_gpt_smoke_learns(load_example, capsys):
    d = _text_dir()
    res = load_example("tiny_gpt").main(
        ["--data", str(d), "--steps", "40", "--eval-iters", "3", "--sample", "20"]
    )
    out = capsys.readouterr().out
    assert "bigram baseline" in out and "tiny GPT: 210,497 parameters" in out
    assert res["val"] < math.log(65) - 0.5  # from ln 65 ≈ 4.17 at the start
    assert 2.4 < res["bigram_val"] < 2.6


def test_char_mlp_smoke_learns_and_samples(load_example, capsys):
    d = _text_dir()
    res = load_example("char_mlp").main(["--data", str(d), "--steps", "400", "--samples", "3"])
    assert res["dev"] < 2.8 < math.log(27)  # ln 27 ≈ 3.30 at the start
    assert len(res["names"]) == 3 and all(set(n) <= set("abcdefghijklmnopqrstuvwxyz") for n in res["names"])
    again = load_example("char_mlp").main(["--data", str(d), "--steps", "400", "--samples", "3"])
    assert again["names"] == res["names"]  # the seeded Generator samples the same names


def test_sine_lstm_smoke_fits_the_waves(load_example, tmp_path, capsys):
    plot = tmp_path / "sine.png"
    res = load_example("sine_lstm").main(
        ["--steps", "1", "--length", "40", "--future", "10", "--plot", str(plot)]
    )
    assert res["test"] < 0.05  # a model that predicts 0 scores about 0.5
    pytest.importorskip("matplotlib")
    assert plot.is_file()


def test_missing_text_says_how_to_get_it(load_example, tmp_path):
    text = load_example("_text")
    with pytest.raises(SystemExit, match="--download"):
        text.find_text("names.txt", str(tmp_path))
