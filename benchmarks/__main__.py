"""``python -m benchmarks``: pin BLAS threads before NumPy loads, then run the harness."""

import sys

from ._threads import parse_threads, set_thread_env

set_thread_env(parse_threads(sys.argv[1:]))

from .harness import main  # noqa: E402 - NumPy must load after the thread variables are set

sys.exit(main())
