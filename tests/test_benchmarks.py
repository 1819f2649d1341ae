"""The benchmark harness measures equal work: its check passes for every workload and fails when a
peer is deliberately wrong; the quick harness runs end to end. No timing is asserted."""

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the repo, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import _threads, floor, harness, rss, seq_workloads, workloads  # noqa: E402
from benchmarks.harness import EqualWorkError, equal_work_check  # noqa: E402

TINY_SIZES = workloads.Sizes(
    small_mlp=(8, 8, 8, 1),
    small_mlp_batch=4,
    mnist_mlp=(20, 30, 10),
    mnist_batch=8,
    chain_lengths=(20, 40),
    op_repeats=10,
    backward_nodes=10,
    gpt=seq_workloads.GPTStep(vocab=11, block=6, batch=2, n_embd=8, n_head=2, n_layer=2),
    lstm=seq_workloads.LSTMStep(input_size=3, hidden=5, seq=7, batch=2),
)
TINY = harness.Config(
    "tiny",
    TINY_SIZES,
    blocks=2,
    min_blocks=2,
    block_seconds=0.001,
    case_seconds=0.01,
    warmup_seconds=0.0,
    flatness_steps=30,
)
CASES = {c.name: c for c in workloads.make_cases(TINY_SIZES)}
FRAMEWORKS = [p for p in workloads.available_peers() if p != "numpy"]


def test_every_workload_has_cases():
    assert {c.workload for c in CASES.values()} == set(workloads.WORKLOADS)
    assert "torch" in FRAMEWORKS or not workloads.torch_available()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_equal_work_check_passes(name, dtype):
    result = equal_work_check(CASES[name], dtype)
    assert set(result["worst"]) == set(FRAMEWORKS)
    assert result["rtol"] == (harness.RTOL64 if dtype == "float64" else CASES[name].rtol32)
    for worst in result["worst"].values():
        assert worst["rel_err"] <= result["rtol"]


def test_full_size_problems_are_the_issues():
    cases = {c.name: c for c in workloads.make_cases()}
    assert cases["xor"].spec.sizes == (2, 4, 1) and cases["xor"].spec.batch == 4
    small = cases["small-mlp"].spec
    assert (small.sizes, small.batch, small.momentum, small.loss) == ((64, 64, 64, 1), 32, 0.9, "mse")
    mnist = cases["mnist-mlp"].spec
    assert (mnist.sizes, mnist.batch, mnist.loss, mnist.hidden) == ((784, 1000, 10), 128, "ce", "relu")
    assert cases["mnist-mlp"].dtype == "float32"
    assert {"deep-chain/2000", "deep-chain/100000"} <= set(cases)
    gpt, lstm = cases["gpt-step"].spec, cases["lstm-step"].spec
    assert (gpt.batch, gpt.block, gpt.n_embd, gpt.n_head, gpt.n_layer, gpt.vocab) == (16, 32, 64, 4, 4, 65)
    assert (lstm.num_layers, lstm.hidden, lstm.seq, lstm.batch) == (2, 128, 50, 32)


# ------------------------------------------------------------- a deliberately wrong peer
def _patch_init(monkeypatch, cls, after):
    """Run `after(runner)` at the end of cls.__init__."""
    original = cls.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        after(self)

    monkeypatch.setattr(cls, "__init__", patched)


def test_check_fails_on_a_different_learning_rate(monkeypatch):
    def scale_lr(runner):
        runner.opt.param_groups[0]["lr"] *= 1.01

    _patch_init(monkeypatch, workloads.MicrotensorTrain, scale_lr)
    with pytest.raises(EqualWorkError, match="xor") as info:
        equal_work_check(CASES["xor"], "float64")
    message = str(info.value)
    assert "microtensor: step 1: param '0.weight' after the update differs" in message
    assert "microtensor: step 1: loss" not in message  # same weights in: same loss out, first step
    assert "torch:" not in message


def test_check_fails_on_a_different_learning_rate_in_float32(monkeypatch):
    def scale_lr(runner):
        runner.opt.param_groups[0]["lr"] *= 1.1

    _patch_init(monkeypatch, workloads.MicrotensorTrain, scale_lr)
    with pytest.raises(EqualWorkError, match="microtensor: step 1: param"):
        equal_work_check(CASES["mnist-mlp"], "float32")


def test_check_fails_on_a_different_momentum_only_from_step_two(monkeypatch):
    def change_momentum(runner):
        runner.opt.param_groups[0]["momentum"] = 0.5

    _patch_init(monkeypatch, workloads.MicrotensorTrain, change_momentum)
    with pytest.raises(EqualWorkError) as info:
        equal_work_check(CASES["small-mlp"], "float64")
    message = str(info.value)
    assert "microtensor: step 2: param" in message
    assert "step 1" not in message  # the first step only initialises the momentum buffer


def test_check_fails_on_a_perturbed_floor_gradient(monkeypatch):
    original = floor.tanh_mlp_mse

    def perturbed(X, y, params):
        loss, grads = original(X, y, params)
        grads["2.weight"] = grads["2.weight"] * (1 + 1e-7)
        return loss, grads

    monkeypatch.setattr(floor, "tanh_mlp_mse", perturbed)
    with pytest.raises(EqualWorkError) as info:
        equal_work_check(CASES["small-mlp"], "float64")
    message = str(info.value)
    for peer in FRAMEWORKS:  # every peer now disagrees with the (wrong) floor
        assert f"{peer}: step 1: grad '2.weight' differs" in message


def test_check_fails_on_a_different_chain(monkeypatch):
    _patch_init(monkeypatch, workloads.MicrotensorChain, lambda runner: setattr(runner, "c", 1.0))
    with pytest.raises(EqualWorkError, match="microtensor: step 1: loss differs"):
        equal_work_check(CASES["deep-chain/20"], "float64")


def test_check_fails_on_a_wrong_chain_backward(monkeypatch):
    original = floor.tanh_mul_chain

    def wrong(x0, n, c):
        loss, g = original(x0, n, c)
        return loss, g * c  # one multiply too many on the way back

    monkeypatch.setattr(floor, "tanh_mul_chain", wrong)
    with pytest.raises(EqualWorkError, match="grad 'x' differs"):
        equal_work_check(CASES["deep-chain/20"], "float64")


def test_check_fails_on_a_missing_backward_node(monkeypatch):
    original = floor.add_chain_backward
    monkeypatch.setattr(floor, "add_chain_backward", lambda n, dtype: original(n - 1, dtype))
    with pytest.raises(EqualWorkError, match="grad 'b' differs"):
        equal_work_check(CASES["op-overhead/backward"], "float64")


def test_check_fails_when_a_peer_computes_in_another_dtype(monkeypatch):
    def to_double(runner):
        runner.model.double()
        runner.x = runner.x.double()

    _patch_init(monkeypatch, workloads.MicrotensorTrain, to_double)
    with pytest.raises(
        EqualWorkError, match="microtensor: step 1: grad '0.weight' is float64, expected float32"
    ):
        equal_work_check(CASES["xor"], "float32")


def test_check_fails_when_a_peer_does_not_record_the_graph(monkeypatch):
    def no_grad(runner):
        runner.a.requires_grad_(False)
        runner.b.requires_grad_(False)

    _patch_init(monkeypatch, workloads.MicrotensorAdd, no_grad)
    with pytest.raises(EqualWorkError, match="did not record a graph node"):
        equal_work_check(CASES["op-overhead/add-grad"], "float64")


def test_check_compares_names_and_shapes():
    assert harness._rel_err(np.ones(3), np.ones(3)) == 0
    assert harness._rel_err(np.ones(3), np.ones((3, 1))) == float("inf")
    assert harness._rel_err(np.array([np.nan]), np.array([np.nan])) == float("inf")
    assert harness._rel_err(np.array([1.0, 0.0]), np.array([1.0, 1e-3])) == pytest.approx(1e-3, rel=1e-6)


# ------------------------------------------------------------------------ the harness
def test_quick_harness_end_to_end(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert harness.main(["--json", str(path)], config=TINY) == 0
    out = capsys.readouterr().out
    report = json.loads(path.read_text())

    env = report["meta"]["environment"]
    for key in ("python", "numpy", "torch", "platform", "cpu_count", "threads"):
        assert key in env
    assert env["threads"]["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert report["meta"]["load_start"] is None or len(report["meta"]["load_start"]) == 3
    assert set(report["cases"]) == set(CASES)
    peers = ["numpy", *FRAMEWORKS]
    assert report["peers"] == peers
    for name, case in report["cases"].items():
        assert case["unit"] in ("step", "op", "node")
        assert set(case["check"]) == {"float64", "float32"}
        assert list(case["peers"]) == peers
        for peer, r in case["peers"].items():
            assert len(r["block_times"]) == TINY.blocks
            assert all(t > 0 for t in r["block_times"])
            assert r["min"] <= r["median"] <= r["max"]
            assert r["ratio_numpy"] == pytest.approx(r["median"] / case["peers"]["numpy"]["median"])
            if "torch" in peers:
                assert r["ratio_torch"] == pytest.approx(r["median"] / case["peers"]["torch"]["median"])
            assert (r["peak_bytes"] is None) == (peer == "torch")
            if rss.supported():
                assert isinstance(r["peak_rss_bytes"], int) and r["peak_rss_bytes"] >= 0
                if "torch" in peers and case["peers"]["torch"]["peak_rss_bytes"]:
                    ratio = r["peak_rss_bytes"] / case["peers"]["torch"]["peak_rss_bytes"]
                    assert r["mem_ratio_torch"] == pytest.approx(ratio)
        assert name in out
    flat = report["memory_flatness"]
    assert flat["steps"] == TINY.flatness_steps
    assert set(flat["peers"]) == {"numpy", "microtensor"}
    for m in flat["peers"].values():
        assert {"start_bytes", "end_bytes", "growth_bytes", "peak_above_start_bytes"} <= set(m)
    assert "median" in out and "×numpy" in out and "peak RSS" in out and "threads:" in out
    assert "deep-chain time per op" in out


def test_no_gc_times_with_the_collector_off_and_says_so(tmp_path, capsys, monkeypatch):
    states = []
    real_run_block = harness._run_block

    def run_block(runner, steps, clock):
        states.append(gc.isenabled())
        return real_run_block(runner, steps, clock)

    monkeypatch.setattr(harness, "_run_block", run_block)
    path = tmp_path / "bench.json"
    assert harness.main(["--no-gc", "--only", "op-overhead/add", "--json", str(path)], config=TINY) == 0
    assert "gc DISABLED in timed blocks" in capsys.readouterr().out
    assert json.loads(path.read_text())["meta"]["config"]["gc_enabled"] is False
    timed = states[-TINY.blocks * len(json.loads(path.read_text())["peers"]) :]
    assert timed and not any(timed)  # every timed block ran with the collector off...
    assert gc.isenabled()  # ...and it is back on afterwards


def test_cpu_time_times_with_the_process_clock_and_says_so(tmp_path, capsys, monkeypatch):
    clocks = []
    real_run_block = harness._run_block

    def run_block(runner, steps, clock):
        clocks.append(clock)
        return real_run_block(runner, steps, clock)

    monkeypatch.setattr(harness, "_run_block", run_block)
    path = tmp_path / "bench.json"
    assert harness.main(["--cpu-time", "--only", "op-overhead/add", "--json", str(path)], config=TINY) == 0
    assert "CPU time of the process (--cpu-time)" in capsys.readouterr().out
    assert json.loads(path.read_text())["meta"]["config"]["clock"] == "cpu"
    assert clocks and all(c is time.process_time for c in clocks)


def test_harness_aborts_on_unequal_work(monkeypatch, tmp_path, capsys):
    def scale_lr(runner):
        runner.opt.param_groups[0]["lr"] *= 2

    _patch_init(monkeypatch, workloads.MicrotensorTrain, scale_lr)
    path = tmp_path / "bench.json"
    assert harness.main(["--only", "xor", "--json", str(path)], config=TINY) == 2
    assert "ABORTED: equal-work check failed for xor" in capsys.readouterr().err
    assert not path.exists()


def test_only_selects_workloads_and_rejects_unknown_names(capsys):
    cases = workloads.make_cases(TINY_SIZES)
    names = [c.name for c in workloads.select(cases, ["deep-chain", "xor"])]
    assert names == ["xor", "deep-chain/20", "deep-chain/40"]
    assert harness.main(["--only", "nope"], config=TINY) == 2
    assert "unknown workload" in capsys.readouterr().err


def test_profile_prints_the_top_functions(capsys):
    harness.profile(TINY, ["xor"], steps=3, top=5)
    out = capsys.readouterr().out
    assert "=== microtensor xor: 3 steps, top 5 by tottime" in out
    assert "tottime" in out


def test_opprofile_lists_the_ops_of_a_sequence_step(capsys):
    from benchmarks import opprofile

    assert opprofile.main(["lstm-step", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "lstm-step: median step" in out
    assert "LSTMLayer.bwd" in out and "LSTMLayer.fwd" in out and "(other)" in out


def test_thread_arguments_are_parsed_before_numpy():
    assert _threads.parse_threads([]) == 1
    assert _threads.parse_threads(["--quick", "--threads", "3"]) == 3
    assert _threads.parse_threads(["--threads=2"]) == 2
    env = {k: v for k, v in os.environ.items() if k not in _threads.THREAD_ENV_VARS}
    code = (
        "import sys, benchmarks, benchmarks._threads as t\n"
        "assert 'numpy' not in sys.modules, 'importing benchmarks must not load numpy'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    listed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    assert b"mnist-mlp" in listed.stdout


# ------------------------------------------------------------------------ the memory instrument
_ALLOCATES = """
import numpy as np
from benchmarks import rss

class Allocates:  # a step that holds {mib} MiB of touched memory for a moment, then frees it
    prepare = None

    def step(self):
        if {mib}:
            np.ones({mib} * 2**20 // 8).sum()

print(rss.step_peak(Allocates()))
"""


@pytest.mark.skipif(not rss.supported(), reason="needs Linux's /proc/self/clear_refs")
@pytest.mark.parametrize("mib", [0, 64])
def test_rss_step_peak_sees_what_a_step_allocates_and_frees(mib):
    # in a child set up as the instrument's are (in this process, memory freed by earlier tests may
    # still be resident and serve the step unseen); the kernel's RSS counters are batched per CPU,
    # so the figure is approximate
    child = subprocess.run(
        [sys.executable, "-c", _ALLOCATES.format(mib=mib)],
        capture_output=True, text=True, env=rss.child_env(), cwd=ROOT, check=True,
    )  # fmt: skip
    peak = int(child.stdout)
    assert (mib - 4) * 2**20 <= peak < (mib + 8) * 2**20, peak


@pytest.mark.skipif(not rss.supported(), reason="needs Linux's /proc/self/clear_refs")
def test_rss_measures_every_peer_in_a_child_process():
    case = CASES["mnist-mlp"]
    peaks = rss.measure([case], ["numpy", *FRAMEWORKS], threads=1)
    # the TINY MLP's step allocates a few small arrays: every peer has a figure, none is huge
    assert set(peaks[case.name]) == {"numpy", *FRAMEWORKS}
    assert all(0 <= b < 64 * 2**20 for b in peaks[case.name].values())


def test_kernel_benchmark_compares_equal_computations():
    # python -m benchmarks.kernels times each kernel against its plain NumPy form: both must
    # compute the same array, or the speed-up would compare different work
    from benchmarks import kernels

    for name, new, old in kernels.rows():
        a, b = np.asarray(new(), np.float64), np.asarray(old(), np.float64)
        assert a.shape == b.shape, name
        assert np.linalg.norm(a - b) <= 1e-5 * np.linalg.norm(b), name


def test_opprofile_times_ops_and_restores_them():
    from benchmarks import opprofile
    from microtensor.ops import base

    before = {cls: (cls.__dict__.get("forward"), cls.__dict__.get("_vjp")) for cls in base.REGISTRY.values()}
    step, ops = opprofile.per_op("mnist-mlp", steps=2, sizes=TINY_SIZES)
    assert step > 0 and "optimizer.step" in ops
    assert any(k.endswith(".fwd") for k in ops) and any(k.endswith(".bwd") for k in ops)
    assert 0 < sum(ops.values()) <= step * 1.5  # parts of one step (medians: roughly bounded by it)
    after = {cls: (cls.__dict__.get("forward"), cls.__dict__.get("_vjp")) for cls in base.REGISTRY.values()}
    assert after == before
