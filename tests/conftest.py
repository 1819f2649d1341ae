"""Shared test settings: Hypothesis profiles (CI gets a fixed, larger budget) and float64 helpers."""

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def load_example():
    """Import examples/NAME.py as a module (its directory on sys.path, as when run as a script)."""

    def load(name: str):
        if str(EXAMPLES) not in sys.path:
            sys.path.insert(0, str(EXAMPLES))
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


# ------------------------------------------------------------ PyTorch parity tests: never skipped silently
# Parity tests use pytest.importorskip("torch"). Locally, without torch, they skip and the summary says
# so; under CI (the CI environment variable set) a missing torch fails the run instead, since
# hundreds of parity tests skipping would otherwise pass unnoticed.
def _is_torch_skip(report) -> bool:
    if not report.skipped:
        return False
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return "'torch'" in reason


def pytest_sessionstart(session):
    if os.environ.get("CI"):
        try:
            import torch  # noqa: F401
        except Exception as e:  # ImportError, or a broken install failing at import
            pytest.exit(
                f"CI: PyTorch is required for the parity tests but cannot be imported ({e}); "
                "install it with `make torch`",
                returncode=1,
            )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and _is_torch_skip(report):
        report.outcome = "failed"
        report.longrepr = f"CI: a PyTorch parity test was skipped ({report.longrepr[2]}); torch is required"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and _is_torch_skip(report):
        report.outcome = "failed"
        report.longrepr = f"CI: PyTorch parity tests were skipped ({report.longrepr[2]}); torch is required"


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _is_torch_skip(r)]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} PyTorch parity test(s) or module(s) skipped: torch is not installed "
            "(`make torch` installs it; under CI this is a failure)",
            yellow=True,
            bold=True,
        )
