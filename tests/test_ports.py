"""The ports corpus: small PyTorch programs that must run unchanged on microtensor.

Each program in tests/ports/ is written for PyTorch (`import torch`, `torch.nn`,
...). It runs in a subprocess under an import map (`torch` -> `microtensor`,
see tests/ports/portrun.py) and must exit cleanly; where torch is installed it
also runs on PyTorch and the two printed outputs must agree: the same text, and
numbers equal within the tolerance the program declares in a
`# tolerance: rtol=... atol=...` line (programs that draw no random numbers
print figures that agree to those digits).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTS = ROOT / "tests" / "ports"
RUNNER = PORTS / "portrun.py"
PROGRAMS = sorted(p for p in PORTS.glob("*.py") if p.name != RUNNER.name)
HAVE_TORCH = importlib.util.find_spec("torch") is not None
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b")


def run(backend: str, program: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, str(RUNNER), backend, str(program)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"{program.name} failed on {backend}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def tolerance(program: Path) -> tuple[float, float]:
    m = re.search(r"^# tolerance: rtol=(\S+) atol=(\S+)$", program.read_text(), re.M)
    if not m:
        raise AssertionError(f"{program.name} declares no '# tolerance: rtol=... atol=...' line")
    return float(m.group(1)), float(m.group(2))


def mismatch(ours: str, theirs: str, rtol: float, atol: float) -> str | None:
    """The first line where the outputs differ beyond tolerance, described; None if they agree."""
    a_lines, b_lines = ours.splitlines(), theirs.splitlines()
    if len(a_lines) != len(b_lines):
        return f"{len(a_lines)} lines printed, PyTorch printed {len(b_lines)}"
    for i, (a, b) in enumerate(zip(a_lines, b_lines), 1):
        if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
            return f"line {i}: text differs:\n  microtensor: {a}\n  PyTorch:     {b}"
        for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
            fx, fy = float(x), float(y)
            if not (math.isclose(fx, fy, rel_tol=rtol, abs_tol=atol) or (math.isnan(fx) and math.isnan(fy))):
                return f"line {i}: {x} vs PyTorch's {y} (rtol={rtol}, atol={atol}):\n  {a}\n  {b}"
    return None


def test_mismatch_catches_differences():
    assert mismatch("loss 0.5000\n", "loss 0.5000\n", 1e-6, 0) is None
    assert "0.5001" in mismatch("loss 0.5001\n", "loss 0.5000\n", 1e-6, 0)
    assert "text differs" in mismatch("acc 1\n", "loss 1\n", 1e-6, 0)
    assert "lines" in mismatch("a\nb\n", "a\n", 1e-6, 0)
    assert mismatch("w=-0.00000000", "w=0.00000000", 0, 1e-8) is None


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_port_runs_unchanged(program):
    rtol, atol = tolerance(program)
    ours = run("microtensor", program)
    assert ours.strip(), f"{program.name} printed nothing"
    if not HAVE_TORCH:
        pytest.skip("torch not installed: ran on microtensor only, outputs not compared")
    theirs = run("torch", program)
    problem = mismatch(ours, theirs, rtol, atol)
    assert problem is None, f"{program.name}: {problem}"


def test_the_corpus_is_at_least_twenty_programs_each_saying_what_it_ports():
    assert len(PROGRAMS) >= 20, [p.name for p in PROGRAMS]
    for program in PROGRAMS:
        text = program.read_text()
        assert text.startswith('"""'), f"{program.name}: start with a docstring saying which idiom it ports"
        assert re.search(r"^import torch|^from torch", text, re.M), f"{program.name} does not use torch"
