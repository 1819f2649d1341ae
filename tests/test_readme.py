"""Every Python snippet in the README (and the docs pages) runs on its own and prints what it says.

Each fenced ```python block is run in a fresh interpreter, in a temporary directory,
with nothing from the other blocks. A top-level `print(...)   # expected` line is
checked: what that print writes must equal the comment (whitespace-normalised). The
Korean README must list the same commands and example scripts as the English one.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "README.ko.md", *sorted((ROOT / "docs").glob("**/*.md"))]

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CHECKED_PRINT = re.compile(r"^(print\(.*\))\s+#\s*(\S.*)$")

# Collects what each checked print writes, and saves it when the snippet ends.
PRELUDE = """\
import atexit as _atexit, contextlib as _contextlib, io as _io, json as _json
_outputs = {}
def _capture(k):
    _outputs[k] = _io.StringIO()
    return _contextlib.redirect_stdout(_outputs[k])
def _save():
    with open("_outputs.json", "w") as f:
        _json.dump({k: v.getvalue() for k, v in _outputs.items()}, f)
_atexit.register(_save)
"""


def blocks(path: Path, lang: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block of the given language in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2)) for m in FENCE.finditer(text) if m.group(1) == lang
    ]


def instrument(code: str) -> tuple[str, list[str]]:
    """The code with each checked print wrapped in a capture, and the expected outputs."""
    lines, expected = [], []
    for line in code.splitlines():
        m = CHECKED_PRINT.match(line)
        if m:
            lines.append(f"with _capture({len(expected)}): {m.group(1)}")
            expected.append(m.group(2))
        else:
            lines.append(line)
    return PRELUDE + "\n".join(lines) + "\n", expected


SNIPPETS = [
    pytest.param(path, line, code, id=f"{path.relative_to(ROOT).as_posix()}:{line}")
    for path in DOCS
    if path.is_file()
    for line, code in blocks(path, "python")
]


def test_the_readme_has_snippets_with_checked_output():
    readme = [code for path, line, code in (p.values for p in SNIPPETS) if path.name == "README.md"]
    assert len(readme) >= 5
    assert sum(len(instrument(code)[1]) for code in readme) >= 4


@pytest.mark.parametrize(("path", "line", "code"), SNIPPETS)
def test_snippet_runs_on_its_own(path, line, code, tmp_path):
    if re.search(r"^\s*import torch|^\s*from torch", code, re.MULTILINE) and not importlib.util.find_spec(
        "torch"
    ):
        pytest.skip("the snippet needs PyTorch")
    source, expected = instrument(code)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    run = subprocess.run(
        [sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    where = f"{path.name} line {line}"
    assert run.returncode == 0, f"{where} failed:\n{run.stderr}"
    outputs = json.loads((tmp_path / "_outputs.json").read_text())
    for k, want in enumerate(expected):
        got = " ".join(outputs[str(k)].split())
        assert got == " ".join(want.split()), f"{where}: print #{k + 1} wrote {got!r}, the text says {want!r}"


def test_instrument_catches_a_wrong_comment(tmp_path):
    source, expected = instrument("print(1 + 1)   # 3\n")
    subprocess.run([sys.executable, "-c", source], cwd=tmp_path, check=True)
    assert json.loads((tmp_path / "_outputs.json").read_text()) == {"0": "2\n"} and expected == ["3"]


def test_the_explain_output_shown_is_what_explain_prints(load_example, tmp_path, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = text[text.index("explain_xor.py`):") :]
    shown = FENCE.search(shown).group(2)
    printed = load_example("explain_xor").main(out_dir=tmp_path)["text"]
    for line in shown.strip().splitlines():
        assert line.rstrip() in printed, line


# ------------------------------------------------------------------------------------ Korean README


def commands(path: Path) -> set[str]:
    """The command lines of a Markdown file's ```sh blocks, without comments."""
    out = set()
    for _, code in blocks(path, "sh"):
        for line in code.splitlines():
            line = line.split("  #")[0].split(" #")[0].strip()
            if line:
                out.add(" ".join(line.split()))
    return out


def scripts(path: Path) -> set[str]:
    return set(re.findall(r"`(?:examples/)?([a-z_]+\.py)`", path.read_text(encoding="utf-8"))) - {"base.py"}


def test_korean_readme_lists_the_same_commands_and_examples():
    en, ko = ROOT / "README.md", ROOT / "README.ko.md"
    assert ko.is_file()
    assert commands(ko) == commands(en)
    assert {"make demo", "make test"} <= commands(ko)
    examples = {p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_")}
    assert examples <= scripts(en) and examples <= scripts(ko)
    assert "README.ko.md" in en.read_text(encoding="utf-8") and "README.md" in ko.read_text(encoding="utf-8")


def test_no_workspace_paths_in_user_docs():
    for path in DOCS:
        if path.is_file():
            assert "shared/data" not in path.read_text(encoding="utf-8"), path

