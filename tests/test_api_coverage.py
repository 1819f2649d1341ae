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


def test_the_published_page_is_what_the_script_generates_now():
    # docs/api_coverage.md is generated; adding a name without regenerating it fails here
    page = api_coverage.PAGE
    assert page.is_file(), f"{page} is missing: run `{api_coverage.REGENERATE}`"
    now = api_coverage.markdown(api_coverage.coverage())
    assert page.read_text(encoding="utf-8") == now, (
        f"{page.name} is out of date with microtensor's names: run `{api_coverage.REGENERATE}`"
    )


def test_the_page_counts_and_lists_every_name_once():
    rows = api_coverage.coverage()
    text = api_coverage.markdown(rows, torch_version="9.9")
    assert "PyTorch 9.9's public names" in text
    for ns, have, lack in rows:
        total = len(have) + len(lack)
        assert f"| [`{ns}`](#{ns.replace('.', '').lower()}) | {len(have)} | {total} |" in text
        section = text.split(f"## `{ns}`\n", 1)[1].split("\n## ", 1)[0]
        assert f"**Missing** ({len(lack)}): " in section and f"**Present** ({len(have)}): " in section
        for n in have + lack:
            assert section.count(f"`{n}`") == 1, (ns, n)
    have_all = sum(len(h) for _, h, _ in rows)
    assert f"| all | {have_all} |" in text


def test_check_option_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "api_coverage.md"
    stale.write_text("# stale\n")
    monkeypatch.setattr(api_coverage, "PAGE", stale)
    assert api_coverage.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert api_coverage.main(["--write", str(stale), "--check"]) == 0
    assert stale.read_text().startswith("# PyTorch API coverage")
