"""Benchmarks: microtensor against hand-derived NumPy (the floor) and PyTorch, in one interleaved run.

Run from the repository root:

    python -m benchmarks                 # full run, a few minutes
    python -m benchmarks --quick         # under a minute
    python -m benchmarks --only xor mnist-mlp --json out.json
    python -m benchmarks --profile --only xor      # cProfile of microtensor's step

Modules: ``workloads`` (the cases and each peer's step), ``floor`` (hand-derived NumPy that
``microtensor.reference`` lacks), ``harness`` (equal-work check, timing, memory, report, CLI),
``_threads`` (pinning BLAS threads; imported before NumPy).

This package must not import NumPy at import time: ``python -m benchmarks`` sets the BLAS
thread variables in ``__main__`` before anything loads NumPy.
"""
