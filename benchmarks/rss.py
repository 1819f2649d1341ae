"""Peak memory of one step, measured the same way for every peer: resident pages (RSS) in a child.

tracemalloc sees NumPy's buffers but not PyTorch's allocator, so it cannot compare the two. The
operating system sees both: each peer runs in a fresh child process (``python -m benchmarks.rss``,
the cases pickled on stdin), and for one step

    peak = VmHWM after the step − VmRSS at its start,

where VmHWM, the resident high-water mark, is reset just before the step by writing "5" to
/proc/self/clear_refs (Linux ≥ 4.0). Three warm-up steps first, so that what a step leaves behind
(gradients, optimizer state, the last loss) already exists and its release counts; the figure is
the median of three measured steps.

The child runs with glibc's ``MALLOC_MMAP_THRESHOLD_`` fixed at 64 KiB: every larger buffer is then
its own mapping, returned to the system when freed, for NumPy and PyTorch alike. (By default glibc
raises the threshold after the first frees, up to 32 MiB, and keeps freed buffers below it in its
heap, where RSS would not see them come and go.) Memory held between steps (weights, the data,
allocator caches, libraries) is not counted; memory a peer allocates and frees within the step is.

Where /proc is missing (not Linux) the figures are None.
"""

from __future__ import annotations

import gc
import os
import pickle
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MMAP_THRESHOLD = 64 * 1024


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def supported() -> bool:
    """Whether this system can reset and read the resident high-water mark."""
    return os.path.exists("/proc/self/clear_refs") and os.path.exists("/proc/self/status")


def step_peak(runner, warmup: int = 3, repeats: int = 3) -> int:
    """Median over `repeats` steps of the resident bytes above the step's start (see the module
    docstring), after `warmup` steps. Runs in the calling process."""
    for _ in range(warmup):
        if runner.prepare is not None:
            runner.prepare()
        runner.step()
    gc.collect()
    peaks = []
    for _ in range(repeats):
        if runner.prepare is not None:
            runner.prepare()
        start = _status_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        runner.step()
        peaks.append((_status_kib("VmHWM") - start) * 1024)
    return int(statistics.median(peaks))


def child_env() -> dict[str, str]:
    """The environment of a measuring child: this one's, glibc's mmap threshold fixed, the
    repository importable."""
    env = dict(os.environ)
    env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def measure(cases: list, peers: list[str], threads: int) -> dict[str, dict[str, int | None]]:
    """{case name: {peer: peak bytes of one step}}, each peer and case in its own child process
    (in one process, memory an earlier case left mapped hid a later case's peak: 0 B)."""
    out: dict[str, dict[str, int | None]] = {c.name: dict.fromkeys(peers) for c in cases}
    if not supported():
        return out
    env = child_env()
    for case, peer in ((c, p) for c in cases for p in peers):
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.rss"],
            input=pickle.dumps(([case], peer, threads)),
            capture_output=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        if child.returncode:
            raise RuntimeError(
                f"memory child for {peer} failed:\n{child.stderr.decode(errors='replace')[-2000:]}"
            )
        for name, peak in pickle.loads(child.stdout).items():
            out[name][peer] = peak
    return out


def _child() -> None:
    cases, peer, threads = pickle.loads(sys.stdin.buffer.read())
    from . import harness, workloads

    peaks = {}
    with harness.pinned_threads(threads, peer == "torch"):
        for case in cases:
            peaks[case.name] = step_peak(workloads.make_runner(case, peer))
    sys.stdout.buffer.write(pickle.dumps(peaks))


if __name__ == "__main__":
    _child()
