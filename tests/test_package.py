"""Packaging and first-run promises: extras, the diagnostic report, metadata files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import microtensor as mt

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environ = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )


def test_testing_without_hypothesis_names_the_extra():
    # sys.modules[name] = None makes `import name` fail as if the package were not installed.
    # assert_close needs nothing more; the strategies say what to install on first use
    run = run_python(
        "import sys; sys.modules['hypothesis'] = None; import microtensor.testing as T; "
        "T.assert_close(T.__name__, T.__name__) if False else None; from microtensor.testing import tensors"
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: microtensor.testing needs Hypothesis")
    assert "pip install 'microtensor[testing]'" in last


def test_import_microtensor_does_not_need_the_extras():
    blocked = ["hypothesis", "matplotlib", "sklearn", "pytest", "torch"]
    run = run_python(
        f"import sys; sys.modules.update(dict.fromkeys({blocked!r})); import microtensor; print('ok')"
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_python_m_microtensor_reports_what_a_bug_report_needs(tmp_path):
    environ = dict(os.environ, PYTHONPATH=str(ROOT), MICROTENSOR_DATA=str(tmp_path / "data"))
    environ.pop("MICROTENSOR_MNIST_DIR", None)
    run = subprocess.run(
        [sys.executable, "-m", "microtensor"], capture_output=True, text=True, env=environ, timeout=120
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    import numpy as np

    assert out.startswith(f"microtensor {mt.__version__}")
    assert f"Python      {sys.version.split()[0]}" in out
    assert f"NumPy       {np.__version__}" in out
    assert "\nBLAS        " in out
    for extra in ("hypothesis", "matplotlib", "scikit-learn", "torch"):
        assert f"\n  {extra}" in out
    assert f"data root   {tmp_path / 'data'}  (MICROTENSOR_DATA is set)" in out
    assert "MNIST       not found (download=True fetches it)" in out


def test_extras_and_metadata():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert [r.split(">")[0] for r in extras["testing"]] == ["hypothesis"]  # nothing else
    assert {r.split(">")[0].split("=")[0] for r in extras["dev"]} >= {
        "pytest",
        "ruff",
        "hypothesis",
        "scikit-learn",
        "matplotlib",
    }
    assert extras["plot"][0].startswith("matplotlib") and extras["digits"][0].startswith("scikit-learn")
    assert project["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()
    assert project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": "microtensor developers"}]
    assert project["keywords"] and "Typing :: Typed" in project["classifiers"]
    assert project["version"] == mt.__version__
    assert "## Unreleased" in (ROOT / "CHANGELOG.md").read_text()


def test_makefile_demo_installs_only_what_the_demo_needs():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -e '.[plot,digits]'" in makefile
    demo = makefile[makefile.index("\ndemo:") :].split("\n\n")[0]
    assert "DEMO_STAMP" in demo and "--download" in demo


def test_cross_entropy_float_class_labels_say_what_a_target_is():
    import microtensor.nn.functional as F

    with pytest.raises(
        ValueError, match=r"cross_entropy: target must be integer class indices of shape \(4,\)"
    ):
        F.cross_entropy(mt.randn(4, 10), mt.tensor([1.0, 2.0, 3.0, 4.0]))
