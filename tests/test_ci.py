"""The test suite's own guard: PyTorch parity tests never skip silently (tests/conftest.py).

Each case runs pytest in a subprocess on a tiny suite that uses this conftest, with torch hidden
(a `torch` package on the path that raises ModuleNotFoundError) or present.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

PARITY_TESTS = """
import pytest

def test_function_level():
    pytest.importorskip("torch")

def test_unrelated():
    assert 1 + 1 == 2
"""

MODULE_SKIP = """
import pytest
torch = pytest.importorskip("torch")

def test_inside():
    pass
"""


def run_suite(tmp_path: Path, files: dict[str, str], *, ci: bool, hide_torch: bool):
    suite = tmp_path / "suite"
    suite.mkdir(parents=True)
    shutil.copy(CONFTEST, suite / "conftest.py")
    (suite / "pytest.ini").write_text("[pytest]\n")
    for name, text in files.items():
        (suite / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = "1"
    if hide_torch:
        fake = tmp_path / "hide" / "torch"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(
            'raise ModuleNotFoundError("No module named \'torch\' (hidden)", name="torch")\n'
        )
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "hide"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_without_torch_locally_parity_tests_skip_and_the_summary_says_so(tmp_path):
    code, out = run_suite(
        tmp_path, {"test_a.py": PARITY_TESTS, "test_b.py": MODULE_SKIP}, ci=False, hide_torch=True
    )
    assert code == 0, out
    assert "NOTE: 2 PyTorch parity test(s) or module(s) skipped: torch is not installed" in out, out


def test_without_torch_under_ci_the_run_fails(tmp_path):
    code, out = run_suite(tmp_path, {"test_a.py": PARITY_TESTS}, ci=True, hide_torch=True)
    assert code != 0, out
    assert "CI: PyTorch is required for the parity tests" in out, out


def test_under_ci_a_parity_test_that_skips_anyway_fails(tmp_path):
    pytest.importorskip("torch")
    old_torch = """
import pytest

def test_needs_new_torch():
    pytest.importorskip("torch", minversion="999")

def test_module_needs_new_torch():
    pass
"""
    code, out = run_suite(tmp_path, {"test_a.py": old_torch}, ci=True, hide_torch=False)
    assert code == 1, out
    assert "1 failed, 1 passed" in out and "a PyTorch parity test was skipped" in out, out
    code, out = run_suite(tmp_path / "local", {"test_a.py": old_torch}, ci=False, hide_torch=False)
    assert code == 0 and "1 passed, 1 skipped" in out, out


FAKE_MAKE = """#!/usr/bin/env bash
echo "make $* CI=${CI:-}" >> "$MAKE_LOG"
[ "$1" = torch ] && exit "${TORCH_RC:-0}"
exit 0
"""


@pytest.mark.parametrize("torch_rc", [0, 1])
def test_ci_script_stops_when_torch_cannot_be_installed(tmp_path, torch_rc):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(0o755)
    log = tmp_path / "make.log"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", MAKE_LOG=str(log), TORCH_RC=str(torch_rc))
    script = Path(__file__).resolve().parent.parent / ".ci" / "run"
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    calls = log.read_text().splitlines()
    if torch_rc:
        assert proc.returncode != 0 and calls == ["make torch CI=1"], (proc.stderr, calls)
        assert "'make torch' failed" in proc.stderr
    else:
        assert proc.returncode == 0 and calls == ["make torch CI=1", "make test CI=1"], (proc.stderr, calls)
