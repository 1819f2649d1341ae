"""`python -m microtensor`: the facts a bug report needs, in a form to paste.

Prints microtensor's version and location, Python and the platform, NumPy's version
and the BLAS it was built with (and the thread variables that change its speed), which
optional extras are installed (with their versions, read from the installed package
metadata, so nothing heavy such as torch is imported), and where data sets are looked
for and downloaded to.

Example:
    $ python -m microtensor
    microtensor 0.1.0 (/home/me/microtensor/microtensor)
    Python      3.11.7 (CPython) on Linux-6.8-x86_64
    ...
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

#: Optional packages microtensor uses, with what each is for.
EXTRAS = {
    "hypothesis": "microtensor.testing (extra [testing])",
    "matplotlib": "example figures (extra [plot])",
    "scikit-learn": "the 8x8 digits data set (extra [digits])",
    "pytest": "the test suite (extra [dev])",
    "ruff": "lint (extra [dev])",
    "torch": "PyTorch parity tests (extra [torch])",
}

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str:
    import numpy as np

    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]  # NumPy >= 1.26
    except (TypeError, KeyError):
        return "unknown (NumPy older than 1.26 does not report it)"
    blas = deps.get("blas", {})
    text = f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    config = blas.get("openblas configuration")
    return f"{text} ({config})" if config else text


def report() -> str:
    """The report `python -m microtensor` prints, as one string."""
    import numpy as np

    import microtensor
    from microtensor.data import cache_dir, data_root, find_mnist_dir
    from microtensor.data.mnist import DATA_ENV, DIR_ENV

    lines = [
        f"microtensor {microtensor.__version__} ({os.path.dirname(microtensor.__file__)})",
        f"Python      {platform.python_version()} ({platform.python_implementation()})",
        f"platform    {platform.platform()}",
        f"NumPy       {np.__version__}",
        f"BLAS        {_blas()}",
    ]
    threads = ", ".join(f"{v}={os.environ[v]}" for v in _THREAD_VARS if v in os.environ)
    lines.append(f"threads     {threads or 'no OMP/OPENBLAS/MKL_NUM_THREADS set'}; {os.cpu_count()} CPUs")
    lines.append("extras:")
    for dist, purpose in EXTRAS.items():
        version = _version(dist)
        lines.append(f"  {dist:<13}{version or 'not installed':<15}{purpose}")
    lines.append("data:")
    env = os.environ.get(DATA_ENV)
    lines.append(
        f"  data root   {data_root()}  ({f'{DATA_ENV} is set' if env else f'{DATA_ENV} not set: the cache'})"
    )
    lines.append(f"  cache       {cache_dir()}")
    if os.environ.get(DIR_ENV):
        lines.append(f"  {DIR_ENV} = {os.environ[DIR_ENV]}")
    found = find_mnist_dir()
    lines.append(f"  MNIST       {found if found is not None else 'not found (download=True fetches it)'}")
    return "\n".join(lines)


def main() -> None:
    print(report())


if __name__ == "__main__":
    sys.exit(main())
