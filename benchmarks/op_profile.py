"""Where a sequence workload's microtensor step spends its time, op by op.

    python -m benchmarks.op_profile gpt-step [--steps 10]
    python -m benchmarks.op_profile lstm-step

One BLAS thread (set before NumPy loads). After three warm-up steps, every registered op class's
`forward` and `_vjp` (its backward) are wrapped in a timer for `--steps` steps; the listing gives
each one's milliseconds per step and calls per step, then the optimizer's share, the sum over ops
and the whole step, so what is neither (module calls, the engine's bookkeeping, zero_grad) is
their difference. The graph's node count per step is printed first. Timers add about a
microsecond per call, so shares, not absolute times, are what this is for.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from ._threads import set_thread_env

CASES = ("gpt-step", "lstm-step")


def _count_nodes(root) -> int:
    seen, stack = set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.next_functions)
    return len(seen)


def _wrap(fn, key: str, spent: Counter, calls: Counter):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - start
            calls[key] += 1

    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.op_profile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    if "numpy" not in sys.modules:  # (too late once NumPy has loaded its BLAS: as the caller set it)
        set_thread_env(1)
    import numpy as np

    from microtensor.ops.base import REGISTRY

    from . import seq_workloads as sw

    if args.case == "gpt-step":
        run = sw.MicrotensorGPT(sw.GPTStep(), np.float32)
        loss = run.model(run.idx, run.targets)
    else:
        run = sw.MicrotensorLSTM(sw.LSTMStep(), np.float32)
        loss = run.loss_fn(run.model(run.x), run.target)
    print(f"{args.case}: {_count_nodes(loss)} graph nodes per step")
    del loss
    for _ in range(3):
        run.step()
    spent, calls = Counter(), Counter()
    originals = []
    for name, cls in REGISTRY.items():
        for attr in ("forward", "_vjp"):
            fn = cls.__dict__.get(attr)
            if fn is not None:
                originals.append((cls, attr, fn))
                key = f"{name}.{'backward' if attr == '_vjp' else attr}"
                setattr(cls, attr, _wrap(fn, key, spent, calls))
    optimizer_step = run.opt.step
    run.opt.step = _wrap(optimizer_step, "optimizer.step", spent, calls)
    try:
        start = time.perf_counter()
        for _ in range(args.steps):
            run.step()
        total = (time.perf_counter() - start) / args.steps
    finally:
        for cls, attr, fn in originals:
            setattr(cls, attr, fn)
        run.opt.step = optimizer_step
    ops = sum(v for k, v in spent.items() if k != "optimizer.step") / args.steps
    for key, seconds in spent.most_common():
        share = seconds / args.steps / total
        print(f"  {key:40s} {seconds / args.steps * 1e3:8.2f} ms  {share:6.1%}  x{calls[key] // args.steps}")
    print(f"  {'sum over ops':40s} {ops * 1e3:8.2f} ms  {ops / total:6.1%}")
    print(f"  {'whole step':40s} {total * 1e3:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
