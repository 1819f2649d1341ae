"""Where a microtensor step's time goes, per op: forward and backward CPU time of every op class.

    python -m benchmarks.opprofile mnist-cnn lenet5 [--steps 15]

cProfile (``python -m benchmarks --profile``) charges the time of a NumPy call to the Python
function that makes it, which for a convolution is one function doing the gathering, the GEMMs
and the scatter. This instead wraps every registered op's ``forward`` and its compiled backward
(``_vjp``) and the optimizer's ``step`` with a CPU-time clock (time.process_time: the time other
jobs hold the core is left out), runs the steps of one case, and prints the median per step of
each; "(other)" is the rest of the step (module calls, the engine, the benchmark's dropout masks).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time

from ._threads import set_thread_env

if __name__ == "__main__":  # one BLAS thread, set before NumPy loads (not when a test imports this)
    set_thread_env(1)


def _timed(cls, name: str, totals: dict):
    """Replace cls.<name> by a timed version; return the original."""
    real = cls.__dict__[name]
    label = f"{cls.__name__}.{'fwd' if name == 'forward' else 'bwd'}"

    def timed(self, *args):
        t0 = time.process_time()
        try:
            return real(self, *args)
        finally:
            totals[label] += time.process_time() - t0

    setattr(cls, name, timed)
    return real


def per_op(case_name: str, steps: int, sizes=None) -> tuple[float, dict[str, float]]:
    """(median step seconds, {op label: median seconds per step}) over `steps` steps after 3
    warm-up steps (the op classes are patched meanwhile, and restored)."""
    from microtensor.ops import base

    from . import workloads

    totals: dict[str, float] = collections.defaultdict(float)
    originals = [
        (cls, name, _timed(cls, name, totals))
        for cls in list(base.REGISTRY.values())
        for name in ("forward", "_vjp")
        if name in cls.__dict__
    ]
    try:
        case = workloads.select(workloads.make_cases(sizes or workloads.Sizes()), [case_name])[0]
        runner = workloads.make_runner(case, "microtensor")
        opt_step = runner.opt.step

        def step_timed(*a, **k):
            t0 = time.process_time()
            try:
                return opt_step(*a, **k)
            finally:
                totals["optimizer.step"] += time.process_time() - t0

        runner.opt.step = step_timed
        per: dict[str, list[float]] = collections.defaultdict(list)
        step_times = []
        for i in range(3 + steps):
            totals.clear()
            t0 = time.process_time()
            runner.step()
            t = time.process_time() - t0
            if i >= 3:
                step_times.append(t)
                for k, v in totals.items():
                    per[k].append(v)
    finally:
        for cls, name, real in originals:
            setattr(cls, name, real)
    return statistics.median(step_times), {k: statistics.median(v) for k, v in per.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.opprofile", description=__doc__.splitlines()[0]
    )
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args(argv)
    for name in args.cases:
        step, ops = per_op(name, args.steps)
        print(f"{name}: median step {step * 1e3:.1f} ms (CPU time), per op:")
        for label, t in sorted(ops.items(), key=lambda kv: -kv[1]):
            if t >= 5e-5:
                print(f"  {label:<28} {t * 1e3:8.2f} ms")
        print(f"  {'(other)':<28} {(step - sum(ops.values())) * 1e3:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
