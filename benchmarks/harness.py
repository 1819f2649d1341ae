"""The measuring instrument: equal-work check, interleaved timing, memory, report and CLI.

For every case the harness

1. checks equal work (``equal_work_check``): every peer starts from the same weights and data and
   must produce the floor's loss, gradients and updated parameters on the first steps, in float64
   (tolerance ``RTOL64``) and in the timed dtype (the case's ``rtol32``), with no peer computing
   in another dtype. A mismatch aborts the run: timing unequal work proves nothing;
2. times the peers interleaved: after a warm-up, block b runs each peer for ~``block_seconds`` in
   an order rotated by b, so drift of the machine (load, clocks, thermals) hits every peer alike.
   Per peer: median, min and max over blocks of the time per step (or per op / per node);
3. measures peak memory of one step two ways: the resident memory (RSS) above the step's start,
   for every peer alike, each in a child process (``rss.py``), reported with its ratio to
   PyTorch's; and with tracemalloc (NumPy reports its buffers to it; PyTorch's allocator does not,
   so torch has none), in the JSON only. Once, whether memory stays flat over many ``xor`` steps.

Timing is done with the garbage collector enabled (as in a user's training loop) and a
``gc.collect()`` before each block; the objects that exist after setup (the ~170,000 that importing
torch leaves, the runners) are frozen with ``gc.freeze()`` so that collections cost what the
workload's own objects cost. ``--no-gc`` turns the collector off in the timed blocks, to show that cost.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, replace

import numpy as np

from . import _threads, rss, workloads
from .workloads import EqualWorkError, Sizes

__all__ = [
    "Config",
    "EqualWorkError",
    "FULL",
    "QUICK",
    "RTOL64",
    "equal_work_check",
    "main",
    "run",
]

RTOL64 = 1e-9  # norm-wise relative tolerance of the equal-work check in float64


@dataclass(frozen=True)
class Config:
    mode: str
    sizes: Sizes
    blocks: int  # timed blocks per peer (at most)
    min_blocks: int  # ... and at least, even for slow cases
    block_seconds: float  # target length of one block
    case_seconds: float  # per-peer time budget of a case; reduces the blocks of slow cases
    warmup_seconds: float
    flatness_steps: int  # xor steps of the memory-flatness check
    gc_enabled: bool = True  # False (--no-gc): time with the cyclic collector off, to see its share
    # "wall" (time.perf_counter) or "cpu" (--cpu-time: time.process_time, the CPU time of this
    # process, which on a machine shared with other jobs leaves out the time they hold the core;
    # with one BLAS thread it is the step's own time; cache and memory contention remain)
    clock: str = "wall"


FULL = Config(
    "full",
    Sizes(),
    blocks=15,
    min_blocks=3,
    block_seconds=0.1,
    case_seconds=2.0,
    warmup_seconds=0.2,
    flatness_steps=10_000,
)
QUICK = Config(
    "quick",
    Sizes(chain_lengths=(2000, 10_000)),
    blocks=5,
    min_blocks=3,
    block_seconds=0.03,
    case_seconds=0.25,
    warmup_seconds=0.05,
    flatness_steps=1000,
)


# ------------------------------------------------------------------- equal-work check
def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / ||b|| (norm-wise, in float64); inf on a shape mismatch or a non-finite value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    diff = float(np.linalg.norm(a - b))
    norm = float(np.linalg.norm(b))
    if norm == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / norm


def _quantities(state: workloads.StepState) -> dict[str, np.ndarray]:
    out = {"loss": state.loss}
    out.update({f"grad {k!r}": g for k, g in state.grads.items()})
    out.update({f"param {k!r} after the update": p for k, p in state.params.items()})
    return out


def equal_work_check(
    case: workloads.Case,
    dtype=np.float64,
    peers: list[str] | None = None,
    steps: int | None = None,
    rtol: float | None = None,
) -> dict:
    """Prove that every peer of `case` does the same work as the hand-derived NumPy floor.

    Each peer is built from the same initial weights and data (cast to `dtype`) and run
    `steps` steps (default: the case's ``check_steps``; 2 for training, so momentum buffers are
    exercised). After every step its loss, gradients and updated parameters must match the
    floor's to a norm-wise relative error of `rtol` (default ``RTOL64`` in float64, the case's
    ``rtol32`` otherwise), have the same names and shapes, and be of `dtype` (a peer that
    quietly computed in float64 would be doing other work). Raises EqualWorkError naming
    every mismatch; returns the largest error per peer.
    """
    dtype = np.dtype(dtype)
    peers = workloads.available_peers(peers or workloads.PEERS)
    if "numpy" not in peers:
        raise ValueError("the equal-work check compares against the 'numpy' floor, which must be a peer")
    steps = case.check_steps if steps is None else steps
    rtol = (RTOL64 if dtype == np.float64 else case.rtol32) if rtol is None else rtol
    states: dict[str, list[workloads.StepState]] = {}
    for peer in peers:
        runner = workloads.make_runner(case, peer, dtype)
        states[peer] = []
        for _ in range(steps):
            if runner.prepare is not None:
                runner.prepare()
            runner.step()
            states[peer].append(runner.state())

    problems: list[str] = []
    worst: dict[str, dict] = {}
    for peer in peers:
        peer_worst = {"rel_err": 0.0, "where": None}
        for k in range(steps):
            mine = _quantities(states[peer][k])
            floor = _quantities(states["numpy"][k])
            where = f"{peer}: step {k + 1}"
            for label in sorted(set(mine) ^ set(floor)):
                side = "has" if label in mine else "lacks"
                problems.append(f"{where}: {side} {label}, unlike the numpy floor")
            for label in mine.keys() & floor.keys():
                a = mine[label]
                if a.dtype != dtype:
                    problems.append(f"{where}: {label} is {a.dtype}, expected {dtype}")
                if peer == "numpy":
                    continue
                err = _rel_err(a, floor[label])
                if err > peer_worst["rel_err"] or peer_worst["where"] is None:
                    peer_worst = {"rel_err": err, "where": f"step {k + 1} {label}"}
                if not err <= rtol:
                    problems.append(
                        f"{where}: {label} differs from the numpy floor by {err:.3g} (relative, "
                        f"norm-wise; tolerance {rtol:.3g})"
                    )
        if peer != "numpy":
            worst[peer] = peer_worst
    if problems:
        shown = problems[:12] + ([f"... and {len(problems) - 12} more"] if len(problems) > 12 else [])
        raise EqualWorkError(
            f"equal-work check failed for {case.name} in {dtype}: the peers do not compute the same "
            "loss, gradients and updates from the same weights, so timing them would compare "
            "different work:\n  - " + "\n  - ".join(shown)
        )
    return {"dtype": str(dtype), "steps": steps, "rtol": rtol, "worst": worst}


# ------------------------------------------------------------------------- timing
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _run_block(runner, steps: int, clock=time.perf_counter) -> float:
    """Seconds spent in `steps` calls of runner.step (runner.prepare, if any, untimed)."""
    step, prepare = runner.step, runner.prepare
    if prepare is None:
        t0 = clock()
        for _ in range(steps):
            step()
        return clock() - t0
    total = 0.0
    for _ in range(steps):
        prepare()
        t0 = clock()
        step()
        total += clock() - t0
    return total


def time_case(case: workloads.Case, config: Config, peers: list[str]) -> dict[str, dict]:
    """Interleaved timing of the peers of one case; per-unit times of every block."""
    runners = {p: workloads.make_runner(case, p) for p in peers}
    gc.collect()
    gc.freeze()  # the runners' long-lived objects: out of the collector's way, as after the imports
    per_step = {}
    for p, runner in runners.items():  # warm-up, which also calibrates the block length
        times = []
        while not times or (sum(times) < config.warmup_seconds and len(times) < 1000):
            times.append(_run_block(runner, 1, CLOCKS[config.clock]))
        per_step[p] = statistics.median(times[len(times) // 2 :])
    steps = {p: max(1, round(config.block_seconds / max(t, 1e-9))) for p, t in per_step.items()}
    block_length = max(steps[p] * per_step[p] for p in peers)
    n_blocks = int(min(config.blocks, max(config.min_blocks, config.case_seconds // block_length)))
    blocks: dict[str, list[float]] = {p: [] for p in peers}
    for b in range(n_blocks):
        for p in peers[b % len(peers) :] + peers[: b % len(peers)]:
            gc.collect()
            if not config.gc_enabled:
                gc.disable()
            try:
                seconds = _run_block(runners[p], steps[p], CLOCKS[config.clock])
            finally:
                gc.enable()
            blocks[p].append(seconds / steps[p] / case.units_per_step)
    out = {}
    for p in peers:
        out[p] = {
            "steps_per_block": steps[p],
            "block_times": blocks[p],
            "median": statistics.median(blocks[p]),
            "min": min(blocks[p]),
            "max": max(blocks[p]),
            "peak_bytes": step_peak_bytes(runners[p]) if p != "torch" else None,
        }
    for p in peers:
        for ref in ("numpy", "torch"):
            if ref in out:
                out[p][f"ratio_{ref}"] = out[p]["median"] / out[ref]["median"]
                out[p][f"paired_ratio_{ref}"] = statistics.median(
                    a / b for a, b in zip(out[p]["block_times"], out[ref]["block_times"])
                )
            else:
                out[p][f"ratio_{ref}"] = out[p][f"paired_ratio_{ref}"] = None
    return out


# ------------------------------------------------------------------------- memory
def _add_rss(results: dict[str, dict], peaks: dict[str, int | None]) -> None:
    """Each peer's peak RSS of one step (rss.py) and its ratio to PyTorch's."""
    torch_peak = peaks.get("torch")
    for p, r in results.items():
        r["peak_rss_bytes"] = peaks.get(p)
        r["mem_ratio_torch"] = (
            r["peak_rss_bytes"] / torch_peak if torch_peak and r["peak_rss_bytes"] is not None else None
        )


def step_peak_bytes(runner) -> int:
    """Peak bytes allocated above the steady state during one step (tracemalloc).

    Two steps run traced first, so that what the previous step left behind (gradients, the
    last loss) is traced and its release during the measured step counts, and the caches that
    fill on the first traced step (NumPy's small-buffer cache, the interpreter's free lists) are
    in steady state; then the peak of the measured step minus the memory in use at its start.
    No gc.collect() in between: a full collection empties the free lists.
    """
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        for _ in range(2):
            if runner.prepare is not None:
                runner.prepare()
            runner.step()
        if runner.prepare is not None:
            runner.prepare()
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        runner.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - start


def memory_flatness(case: workloads.Case, steps: int, peers: list[str], samples: int = 10) -> dict:
    """Traced memory in use over `steps` steps, after gc.collect() at start and end: flat means no leak.

    Before the final collect the figure also holds the interpreter's free lists (a full collection
    empties them) and any unreachable cycles, which the collect counts.
    """
    out = {}
    for peer in peers:
        if peer == "torch":
            continue  # tracemalloc does not see PyTorch's allocator
        runner = workloads.make_runner(case, peer)
        for _ in range(10):
            runner.step()
        gc.collect()
        tracemalloc.start()
        try:
            for _ in range(10):  # steady state, traced
                runner.step()
            gc.collect()
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            series = []
            every = max(1, steps // samples)
            for i in range(1, steps + 1):
                runner.step()
                if i % every == 0:
                    series.append(tracemalloc.get_traced_memory()[0] - start)
            before_gc, peak = tracemalloc.get_traced_memory()
            unreachable = gc.collect()
            end = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        out[peer] = {
            "start_bytes": start,
            "end_bytes": end,
            "growth_bytes": end - start,
            "growth_before_gc_bytes": before_gc - start,  # includes the interpreter's free lists
            "unreachable_objects_at_end": unreachable,  # found by the final gc.collect()
            "peak_above_start_bytes": peak - start,
            "samples_above_start_bytes": series,
        }
    return {"case": case.name, "steps": steps, "peers": out}


FLAT_BYTES = 4096  # growth over the whole run below which memory counts as flat


# --------------------------------------------------------------------- environment
@contextlib.contextmanager
def pinned_threads(n: int, use_torch: bool):
    """Pin BLAS / OpenMP / torch thread pools to n for the run, restoring them afterwards."""
    old_env = _threads.thread_env()
    _threads.set_thread_env(n)
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        limiter = threadpool_limits(limits=n)
    torch_old = None
    if use_torch:
        import torch

        torch_old = torch.get_num_threads()
        torch.set_num_threads(n)
        with contextlib.suppress(RuntimeError):  # only settable before any inter-op work
            torch.set_num_interop_threads(n)
    try:
        yield
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        if torch_old is not None:
            import torch

            torch.set_num_threads(torch_old)
        for var, value in old_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def thread_info(use_torch: bool) -> dict:
    info: dict = {"env": _threads.thread_env()}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["pools"] = None  # threadpoolctl not installed: the env variables are all we know
    else:
        info["pools"] = [
            {k: pool.get(k) for k in ("internal_api", "prefix", "num_threads", "version")}
            for pool in threadpool_info()
        ]
    if use_torch:
        import torch

        info["torch_intra_op"] = torch.get_num_threads()
        info["torch_inter_op"] = torch.get_num_interop_threads()
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(use_torch: bool) -> dict:
    import microtensor

    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "microtensor": getattr(microtensor, "__version__", "?"),
        "torch": None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads": thread_info(use_torch),
    }
    if workloads.torch_available():
        import torch

        env["torch"] = torch.__version__
    return env


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------------- report
def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.4g} {unit}" if value < 1000 else f"{value:.0f} {unit}"
    raise AssertionError


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{sign}{n / scale:.1f} {unit}"
    return f"{sign}{n} B"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def header_lines(meta: dict) -> list[str]:
    env, th = meta["environment"], meta["environment"]["threads"]
    pools = th.get("pools")
    pool_text = (
        ", ".join(f"{p['internal_api']} ({p['prefix']}) {p['num_threads']}" for p in pools)
        if pools is not None
        else "unknown (threadpoolctl not installed)"
    )
    lines = [
        f"microtensor benchmarks: {meta['mode']} run, {meta['started']}",
        f"  python {env['python']}, numpy {env['numpy']}, torch {env['torch'] or 'not installed'}, "
        f"microtensor {env['microtensor']}",
        f"  machine: {env['platform']}, {env['cpu']}, cpu count {env['cpu_count']} "
        f"(affinity {env['cpu_affinity']})",
        "  threads: " + ", ".join(f"{k}={v}" for k, v in th["env"].items()),
        f"  thread pools: {pool_text}"
        + (
            f"; torch intra-op {th['torch_intra_op']}, inter-op {th['torch_inter_op']}"
            if "torch_intra_op" in th
            else ""
        ),
        f"  load average (1, 5, 15 min) at start: {meta['load_start']}",
        f"  timing: up to {meta['config']['blocks']} blocks of ~{meta['config']['block_seconds']} s per "
        "peer, peers interleaved block by block (order rotated), "
        + ("gc enabled; " if meta["config"]["gc_enabled"] else "gc DISABLED in timed blocks (--no-gc); ")
        + "gc.freeze() after setup; "
        + ("CPU time of the process (--cpu-time)" if meta["config"].get("clock") == "cpu" else "wall time")
        + ";",
        "  memory: peak RSS of one step above its start, each peer in a child process (benchmarks/rss.py); "
        "ratios are of medians",
    ]
    return lines


COLUMNS = (
    f"{'case':<26} {'peer':<12} {'median':>10} {'min':>10} {'max':>10} {'×numpy':>7} {'×torch':>7} "
    f"{'peak RSS':>10} {'mem×torch':>9}  blocks"
)


def case_lines(name: str, result: dict) -> list[str]:
    lines = []
    label = f"{name}" if result["unit"] == "step" else f"{name} /{result['unit']}"
    for peer, r in result["peers"].items():
        lines.append(
            f"{label:<26} {peer:<12} {fmt_time(r['median']):>10} {fmt_time(r['min']):>10} "
            f"{fmt_time(r['max']):>10} {_ratio(r['ratio_numpy']):>7} {_ratio(r['ratio_torch']):>7} "
            f"{fmt_bytes(r['peak_rss_bytes']):>10} {_ratio(r['mem_ratio_torch']):>9}  "
            f"{len(r['block_times'])}×{r['steps_per_block']}"
        )
    return lines


def summary_lines(report: dict) -> list[str]:
    lines = []
    chains = sorted((c["params"]["n"], c) for c in report["cases"].values() if c["workload"] == "deep-chain")
    if len(chains) >= 2:
        (n0, c0), (n1, c1) = chains[0], chains[-1]
        parts = []
        for peer in c0["peers"]:
            if peer in c1["peers"]:
                a, b = c0["peers"][peer]["median"], c1["peers"][peer]["median"]
                parts.append(f"{peer} {fmt_time(a / n0)} → {fmt_time(b / n1)} ({b / n1 / (a / n0):.2f}×)")
        lines.append(f"deep-chain time per op, {n0} → {n1} ops (1.00× = linear): " + "; ".join(parts))
    flat = report.get("memory_flatness")
    if flat:
        for peer, m in flat["peers"].items():
            verdict = "flat" if abs(m["growth_bytes"]) < FLAT_BYTES else "GROWS"
            lines.append(
                f"memory over {flat['steps']} {flat['case']} steps, {peer}: {verdict}: traced memory "
                f"{fmt_bytes(m['start_bytes'])} at start, {fmt_bytes(m['end_bytes'])} at end, after "
                f"gc.collect() (growth {fmt_bytes(m['growth_bytes'])}); before that collect "
                f"+{fmt_bytes(m['growth_before_gc_bytes'])} "
                f"(peak +{fmt_bytes(m['peak_above_start_bytes'])}), "
                f"{m['unreachable_objects_at_end']} unreachable objects found"
            )
        if "torch" in report["peers"]:
            lines.append("  (torch: n/a, tracemalloc does not see PyTorch's allocator)")
    return lines


# ---------------------------------------------------------------------------- run
def run(
    config: Config = FULL,
    only: list[str] | None = None,
    peers: list[str] | None = None,
    threads: int = _threads.DEFAULT_THREADS,
    out=None,
) -> dict:
    """Check, time and measure every selected case; print the table to `out`; return the figures."""
    cases = workloads.select(workloads.make_cases(config.sizes), only)
    peers = workloads.available_peers(peers or workloads.PEERS)
    if "numpy" not in peers:
        raise ValueError("the 'numpy' floor must be among the peers: every check and ratio refers to it")
    use_torch = "torch" in peers

    def say(line: str = "") -> None:
        print(line, file=out or sys.stdout, flush=True)

    with pinned_threads(threads, use_torch):
        meta = {
            "mode": config.mode,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": sys.argv,
            "config": asdict(config),
            "environment": environment(use_torch),
            "load_start": _load(),
        }
        # Importing torch leaves ~170,000 objects that every full collection would traverse (~0.15 s
        # each), inflating every peer's timings alike; freeze them, as a user's script without torch
        # would not have them. Cycles made by the steps themselves are still collected as usual.
        gc.collect()
        gc.freeze()
        try:
            report = {"meta": meta, "peers": peers, "cases": {}, "memory_flatness": None}
            for line in header_lines(meta):
                say(line)
            if "torch" not in peers:
                why = "not selected (--peers)" if workloads.torch_available() else "not installed"
                say(f"  PyTorch is {why}: no torch peer, no ×torch ratios")
            say()
            peaks = rss.measure(cases, peers, threads)
            say(COLUMNS)
            t_start = time.perf_counter()
            for case in cases:
                checks = {}
                for dtype in dict.fromkeys(["float64", case.dtype]):
                    checks[dtype] = equal_work_check(case, dtype, peers)
                result = {
                    "workload": case.workload,
                    "description": case.description,
                    "params": case.params,
                    "dtype": case.dtype,
                    "unit": case.unit,
                    "units_per_step": case.units_per_step,
                    "check": checks,
                    "peers": time_case(case, config, peers),
                }
                _add_rss(result["peers"], peaks[case.name])
                report["cases"][case.name] = result
                for line in case_lines(case.name, result):
                    say(line)
            if only is None or "xor" in only:
                xor = next(c for c in workloads.make_cases(config.sizes) if c.name == "xor")
                report["memory_flatness"] = memory_flatness(xor, config.flatness_steps, peers)
            meta["load_end"] = _load()
            meta["seconds"] = round(time.perf_counter() - t_start, 1)
        finally:
            gc.unfreeze()
    say()
    for line in summary_lines(report):
        say(line)
    say(
        f"load average at end: {meta['load_end']}; {meta['seconds']} s. Every case passed the "
        f"equal-work check (float64 to {RTOL64:g}, and in its timed dtype)."
    )
    for name, c in report["cases"].items():
        say(f"  {name}: {c['description']}")
    return report


# ------------------------------------------------------------------------ profile
PROFILE_STEPS = {"xor": 200, "small-mlp": 200, "mnist-mlp": 20, "deep-chain": 1, "op-overhead": 20}


def profile(
    config: Config,
    only: list[str] | None,
    peer: str = "microtensor",
    steps: int | None = None,
    top: int = 15,
    sort: str = "tottime",
    threads: int = _threads.DEFAULT_THREADS,
    out=None,
) -> None:
    """cProfile `steps` steps of one peer per selected case (after 3 warm-up steps); print the top rows."""
    cases = workloads.select(workloads.make_cases(config.sizes), only)
    out = out or sys.stdout
    with pinned_threads(threads, peer == "torch"):
        for case in cases:
            runner = workloads.make_runner(case, peer)
            n = steps or PROFILE_STEPS[case.workload]
            for _ in range(3):
                if runner.prepare is not None:
                    runner.prepare()
                runner.step()
            prof = cProfile.Profile()
            for _ in range(n):
                if runner.prepare is not None:
                    runner.prepare()
                prof.enable()
                runner.step()
                prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            stats.sort_stats(sort).print_stats(top)
            print(f"=== {peer} {case.name}: {n} steps, top {top} by {sort}", file=out)
            text = buf.getvalue().strip("\n")
            for prefix in (os.path.dirname(os.path.dirname(np.__file__)) + os.sep, os.getcwd() + os.sep):
                text = text.replace(prefix, "")  # site-packages/ and repository paths, made short
            print(text, file=out)
            print(file=out)


# ---------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="microtensor vs hand-derived NumPy (the floor) vs PyTorch, interleaved in one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter blocks; finishes in under a minute"
    )
    parser.add_argument("--json", metavar="PATH", help="write the raw figures (every block time) as JSON")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help=f"workloads or cases to run ({', '.join(workloads.WORKLOADS)})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=_threads.DEFAULT_THREADS,
        help="BLAS / OpenMP / torch threads (default 1)",
    )
    parser.add_argument(
        "--peers", nargs="+", choices=workloads.PEERS, help="peers to run (numpy is required)"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="time with the cyclic garbage collector disabled (shows what collections cost)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time instead of wall time (a machine shared with other jobs)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, cProfile one peer's steps (see --profile-*)",
    )
    parser.add_argument("--profile-peer", default="microtensor", choices=workloads.PEERS)
    parser.add_argument(
        "--profile-steps", type=int, help="steps to profile (default: 200 xor, 20 mnist-mlp, ...)"
    )
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument(
        "--profile-sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)"
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.peers and "numpy" not in args.peers:
        parser.error("--peers must include numpy: the floor every check and ratio refers to")
    return args


def main(argv: list[str] | None = None, config: Config | None = None) -> int:
    args = parse_args(argv)
    config = config or (QUICK if args.quick else FULL)
    if args.no_gc:
        config = replace(config, gc_enabled=False)
    if args.cpu_time:
        config = replace(config, clock="cpu")
    try:
        workloads.select(workloads.make_cases(config.sizes), args.only)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if args.list:
            for case in workloads.make_cases(config.sizes):
                print(f"{case.name:<22} {case.description}")
            return 0
        if args.profile:
            profile(
                config,
                args.only,
                args.profile_peer,
                args.profile_steps,
                args.profile_top,
                args.profile_sort,
                args.threads,
            )
            return 0
        report = run(config, args.only, args.peers, args.threads)
    except EqualWorkError as e:
        print(f"\nABORTED: {e}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
        print(f"raw figures written to {args.json}")
    return 0


def with_sizes(config: Config, **sizes) -> Config:
    """A copy of `config` with some problem sizes changed (e.g. for a tiny test run)."""
    return replace(config, sizes=replace(config.sizes, **sizes))
