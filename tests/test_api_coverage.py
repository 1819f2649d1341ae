"""tools/api_coverage.py counts names honestly (needs torch, the list it compares against)."""

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
api_coverage = importlib.import_module("api_coverage")


def test_present_and_missing_names_are_told_apart():
    rows = {ns: (have, lack) for ns, have, lack in api_coverage.coverage()}
    have, lack = rows["torch.Tensor"]
    assert "backward" in have and "add" in have
    assert not any(n.startswith("_") for n in have + lack)
    assert set(have).isdisjoint(lack)
    import microtensor as mt

    assert all(not hasattr(mt.Tensor, n) for n in lack)


def test_markdown_report_lists_each_namespace():
    text = api_coverage.markdown(api_coverage.coverage())
    for ns, _ in api_coverage.NAMESPACES:
        assert f"## `{ns}`" in text
    assert importlib.util.find_spec("torch") is not None
