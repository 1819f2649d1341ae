"""Pin BLAS / OpenMP thread pools. Imports nothing heavy: ``__main__`` runs it before NumPy loads.

Environment variables only take effect if they are set before NumPy (or torch) first loads its
BLAS, so ``python -m benchmarks`` sets them first thing. When NumPy is already imported (e.g. the
harness called from the tests), ``harness.pinned_threads`` additionally limits the live pools with
threadpoolctl when it is installed.
"""

from __future__ import annotations

import os

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
DEFAULT_THREADS = 1


def parse_threads(argv: list[str]) -> int:
    """The value of ``--threads N`` / ``--threads=N`` in argv (default 1), without argparse's exit."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
        if value is not None:
            try:
                n = int(value)
            except ValueError:
                return DEFAULT_THREADS  # argparse reports the bad value later
            return max(1, n)
    return DEFAULT_THREADS


def set_thread_env(n: int) -> None:
    """Set every thread-count variable the common BLAS / OpenMP runtimes read to n."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(n)


def thread_env() -> dict[str, str | None]:
    return {var: os.environ.get(var) for var in THREAD_ENV_VARS}
