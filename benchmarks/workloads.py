"""The benchmark cases and, for each, one runner per peer: hand-derived NumPy, microtensor, PyTorch.

A *case* is one timed thing (``xor``, ``deep-chain/2000``, ``op-overhead/add-grad``, ...); its
*workload* is the family named on the command line (``--only deep-chain`` selects every chain
length). A *runner* holds one peer's model, data and optimiser, built from the case's shared
problem (same data, same initial weights) in a given dtype, and has:

* ``step()``     the timed unit of work (a full training step: forward, loss, backward, update);
* ``prepare``    ``None``, or an untimed callable run before each ``step()`` (e.g. build the graph
                 whose ``backward`` is timed);
* ``state()``    the loss, gradients and parameters after the last step, as NumPy arrays in the
                 peer's own dtype (for the equal-work check; never called while timing).

microtensor and PyTorch runners are written the way a user writes PyTorch (``nn.Sequential``,
``F.*`` losses, ``optim.SGD``); the NumPy runners call the hand-derived formulas of
``microtensor.reference`` and ``benchmarks.floor``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microtensor import reference

from . import floor
from . import seq_workloads as seq

PEERS = ("numpy", "microtensor", "torch")
WORKLOADS = ("xor", "small-mlp", "mnist-mlp", "deep-chain", "op-overhead")
WORKLOADS += ("gpt-step", "lstm-step")  # sequence models (benchmarks/seq_workloads.py)
SEED = 0


class EqualWorkError(RuntimeError):
    """The peers of a case do not compute the same thing, so timing them would compare unequal work."""


@functools.cache
def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Sizes:
    """Problem sizes and hyper-parameters. The defaults are the issue's workloads."""

    xor_lr: float = 0.5
    small_mlp: tuple[int, ...] = (64, 64, 64, 1)
    small_mlp_batch: int = 32
    small_mlp_lr: float = 0.01
    small_mlp_momentum: float = 0.9
    mnist_mlp: tuple[int, ...] = (784, 1000, 10)
    mnist_batch: int = 128
    mnist_lr: float = 0.1
    chain_lengths: tuple[int, ...] = (2000, 100_000)
    chain_width: int = 16
    chain_c: float = 1 + 2**-13  # see Chain; exact in float32, so every peer multiplies by the same c
    op_repeats: int = 1000
    backward_nodes: int = 1000
    gpt: seq.GPTStep = seq.GPTStep()  # the issue's: batch 16, block 32, 64 channels, 4 heads, 4 layers
    lstm: seq.LSTMStep = seq.LSTMStep()  # the issue's: 2 layers, 128 hidden, sequence 50, batch 32


# ---------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Net:
    """A training workload: nn.Sequential(Linear, act, Linear, act, ..., Linear[, output]) + loss + SGD."""

    sizes: tuple[int, ...]
    batch: int
    hidden: str  # "tanh" | "relu"
    output: str | None  # "sigmoid" | None
    loss: str  # "bce" | "mse" | "ce"
    lr: float
    momentum: float = 0.0
    data: str = "random"  # "xor" | "random" | "mnist"


@dataclass(frozen=True)
class Chain:
    """n elementwise ops on a small vector: x <- c*x and x <- tanh(x) alternately; L = sum(x).

    With c = 1 the tanh iteration is neutral (|x| ~ sqrt(3/k), and the gradient decays only like
    k^-1.5); c slightly above 1 keeps that, so neither values nor gradients underflow at 100,000
    ops even in float32, while a peer that skipped or changed the multiply would be caught.
    """

    n: int
    width: int
    c: float


@dataclass(frozen=True)
class Add:
    """`repeats` adds of two 1-element tensors per step; with or without requires_grad."""

    repeats: int
    grad: bool


@dataclass(frozen=True)
class AddChainBackward:
    """backward() through x_{k+1} = x_k + b (n add nodes, 1-element tensors); the graph is built untimed."""

    n: int


@dataclass(frozen=True)
class Case:
    name: str
    workload: str
    description: str
    spec: Any
    unit: str = "step"  # reported times are per this unit
    units_per_step: int = 1  # how many units one step() performs
    dtype: str = "float32"  # the timed dtype
    check_steps: int = 2  # steps compared by the equal-work check (2 exercises momentum buffers)
    rtol32: float = 1e-5  # equal-work tolerance in float32 (float64: harness.RTOL64)
    params: dict = field(default_factory=dict)  # for the report


def make_cases(sizes: Sizes = Sizes()) -> list[Case]:
    s = sizes
    cases = [
        Case(
            "xor",
            "xor",
            "2-4-1 tanh/sigmoid, BCE, batch 4, SGD",
            Net((2, 4, 1), 4, "tanh", "sigmoid", "bce", s.xor_lr, data="xor"),
        ),
        Case(
            "small-mlp",
            "small-mlp",
            f"{'-'.join(map(str, s.small_mlp))} tanh (linear output), MSE, batch {s.small_mlp_batch}, "
            f"SGD momentum {s.small_mlp_momentum}",
            Net(s.small_mlp, s.small_mlp_batch, "tanh", None, "mse", s.small_mlp_lr, s.small_mlp_momentum),
        ),
        Case(
            "mnist-mlp",
            "mnist-mlp",
            f"{'-'.join(map(str, s.mnist_mlp))} ReLU, softmax cross-entropy, batch {s.mnist_batch}, SGD, "
            "random MNIST-shaped data",
            Net(s.mnist_mlp, s.mnist_batch, "relu", None, "ce", s.mnist_lr, data="mnist"),
        ),
    ]
    for n in s.chain_lengths:
        cases.append(
            Case(
                f"deep-chain/{n}",
                "deep-chain",
                f"{n} chained elementwise ops (x*c, tanh alternately) on {s.chain_width} floats, "
                "forward + backward",
                Chain(n, s.chain_width, s.chain_c),
                check_steps=1,
                # float32 tanh rounds differently in NumPy and PyTorch and the differences add up
                # along the chain (measured vs PyTorch: 1.2e-5 at 2,000 ops, 2.9e-5 at 100,000);
                # the float64 check holds every chain to RTOL64 regardless.
                rtol32=2e-4,
            )
        )
    cases += [
        Case(
            "op-overhead/add",
            "op-overhead",
            "a + b, 1-element tensors, no grad",
            Add(s.op_repeats, grad=False),
            unit="op",
            units_per_step=s.op_repeats,
            check_steps=1,
        ),
        Case(
            "op-overhead/add-grad",
            "op-overhead",
            "a + b, 1-element tensors requiring grad (records the graph; NumPy has none to record)",
            Add(s.op_repeats, grad=True),
            unit="op",
            units_per_step=s.op_repeats,
            check_steps=1,
        ),
        Case(
            "op-overhead/backward",
            "op-overhead",
            f"backward() through {s.backward_nodes} add nodes (graph built untimed), per node",
            AddChainBackward(s.backward_nodes),
            unit="node",
            units_per_step=s.backward_nodes,
            check_steps=1,
        ),
    ]
    cases += _cnn.cases()  # the convolutional workloads (benchmarks/cnn.py)
    g, lm = s.gpt, s.lstm
    cases += [
        Case(
            "gpt-step",
            "gpt-step",
            f"char GPT: vocab {g.vocab}, batch {g.batch}, block {g.block}, {g.n_embd} channels, "
            f"{g.n_head} heads, {g.n_layer} layers, cross-entropy, AdamW",
            g,
            # the key part of qkv.bias has a zero gradient in exact arithmetic (softmax ignores a
            # constant added to a row of scores), so in float32 it is rounding noise, which Adam's
            # g/√v turns into full-size steps: that bias differs by up to 4e-4 from the floor in
            # every peer (PyTorch too); everything else agrees to 5e-5
            rtol32=1e-3,
        ),
        Case(
            "lstm-step",
            "lstm-step",
            f"nn.LSTM {lm.input_size}->{lm.hidden} x{lm.num_layers} layers over {lm.seq} steps, "
            f"batch {lm.batch}, linear head, MSE, SGD",
            lm,
        ),
    ]
    return [_with_params(c) for c in cases]


def _with_params(case: Case) -> Case:
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(case.spec).items()}
    return Case(**{**vars(case), "params": params})


def select(cases: list[Case], only: list[str] | None) -> list[Case]:
    """Cases whose name or workload is in `only` (all when empty); unknown names raise ValueError."""
    if not only:
        return list(cases)
    known = {c.name for c in cases} | {c.workload for c in cases}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; choose from {sorted(known)}")
    return [c for c in cases if c.name in only or c.workload in only]


# ------------------------------------------------------------------- shared problem
@dataclass
class Problem:
    """What every peer of a case starts from: data and initial parameters, in float64."""

    x: np.ndarray
    target: np.ndarray | None = None
    params: dict[str, np.ndarray] = field(default_factory=dict)


def problem(spec: Any) -> Problem:
    """The case's data and initial weights, deterministic (seed 0), in float64; each peer casts."""
    rng = np.random.default_rng(SEED)
    if isinstance(spec, Net):
        params = {}
        for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
            bound = 1 / np.sqrt(fan_in)  # PyTorch's default nn.Linear init range
            params[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in))
            params[f"{2 * i}.bias"] = rng.uniform(-bound, bound, fan_out)
        m, n_in, n_out = spec.batch, spec.sizes[0], spec.sizes[-1]
        if spec.data == "xor":
            x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
            target = np.array([[0.0], [1.0], [1.0], [0.0]])
        elif spec.data == "mnist":
            x = rng.random((m, n_in))  # pixel intensities in [0, 1)
            target = rng.integers(0, n_out, m).astype(np.int64)  # class labels
        else:
            x = rng.standard_normal((m, n_in))
            target = rng.standard_normal((m, n_out))
        return Problem(x, target, params)
    if isinstance(spec, Chain):
        return Problem(rng.uniform(-2, 2, spec.width))
    if isinstance(spec, Add):
        return Problem(np.array([0.5]), np.array([0.25]))
    if isinstance(spec, AddChainBackward):
        return Problem(np.array([0.5]), np.array([0.25]))
    raise TypeError(f"no problem for spec {spec!r}")


@dataclass
class StepState:
    loss: np.ndarray
    grads: dict[str, np.ndarray]
    params: dict[str, np.ndarray]


def _np(t) -> np.ndarray:
    """A copy of a microtensor or torch tensor's values as a NumPy array of its own dtype."""
    if hasattr(t, "detach"):
        t = t.detach()
    return np.array(t.numpy(), copy=True)


# ------------------------------------------------------------------- training: NumPy
def _floor_fn(spec: Net) -> Callable:
    """The hand-derived loss-and-gradients function for a training spec, as f(x, target, params)."""
    two_layer = len(spec.sizes) == 3
    if spec.loss == "bce" and spec.output == "sigmoid" and two_layer:

        def bce(x, t, p):
            return reference.mlp_bce(
                x, t, p["0.weight"], p["0.bias"], p["2.weight"], p["2.bias"], hidden=spec.hidden
            )

        return bce
    if spec.loss == "ce" and spec.output is None and two_layer:

        def ce(x, t, p):
            return reference.mlp_softmax_ce(
                x, t, p["0.weight"], p["0.bias"], p["2.weight"], p["2.bias"], hidden=spec.hidden
            )

        return ce
    if spec.loss == "mse" and spec.output is None and spec.hidden == "tanh":
        return floor.tanh_mlp_mse
    raise ValueError(f"no hand-derived floor for {spec}")


class NumpyTrain:
    """Hand-derived forward/backward (reference / floor) + reference.sgd_step, in place on arrays."""

    peer = "numpy"
    prepare = None

    def __init__(self, spec: Net, dtype):
        pb = problem(spec)
        self.params = {k: v.astype(dtype) for k, v in pb.params.items()}
        self.x = pb.x.astype(dtype)
        self.target = pb.target if pb.target.dtype.kind in "iu" else pb.target.astype(dtype)
        self.fn = _floor_fn(spec)
        self.lr, self.momentum = spec.lr, spec.momentum
        self.buffers: dict[str, np.ndarray] = {}
        self.loss = self.grads = None

    def step(self) -> None:
        self.loss = self.grads = None  # drop last step's gradients first, as zero_grad() does
        loss, grads = self.fn(self.x, self.target, self.params)
        reference.sgd_step(self.params, grads, self.lr, self.momentum, self.buffers)
        self.loss, self.grads = loss, grads

    def state(self) -> StepState:
        return StepState(
            np.array(self.loss),
            {k: g.copy() for k, g in self.grads.items()},
            {k: p.copy() for k, p in self.params.items()},
        )


# -------------------------------------------------------------- training: frameworks
class _FrameworkTrain:
    """Shared by microtensor and PyTorch: the loop a PyTorch user writes."""

    prepare = None

    def step(self) -> None:
        loss = self.loss_fn(self.model(self.x), self.target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.loss = loss

    def state(self) -> StepState:
        named = list(self.model.named_parameters())
        return StepState(
            _np(self.loss),
            {k: _np(p.grad) for k, p in named if p.grad is not None},
            {k: _np(p) for k, p in named},
        )


def _sequential(nn, spec: Net, dtype):
    """nn.Sequential for a spec, from either framework's nn module."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[spec.hidden]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
        if i:
            layers.append(act())
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
    if spec.output == "sigmoid":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


_LOSSES = {"bce": "binary_cross_entropy", "mse": "mse_loss", "ce": "cross_entropy"}


class MicrotensorTrain(_FrameworkTrain):
    peer = "microtensor"

    def __init__(self, spec: Net, dtype):
        import microtensor as mt
        import microtensor.nn as nn
        import microtensor.nn.functional as F

        pb = problem(spec)
        dtype = np.dtype(dtype)
        self.model = _sequential(nn, spec, dtype)
        self.model.load_state_dict({k: v.astype(dtype) for k, v in pb.params.items()})
        self.x = mt.from_numpy(pb.x.astype(dtype))
        target = pb.target if pb.target.dtype.kind in "iu" else pb.target.astype(dtype)
        self.target = mt.from_numpy(target)
        self.loss_fn = getattr(F, _LOSSES[spec.loss])
        self.opt = mt.optim.SGD(self.model.parameters(), lr=spec.lr, momentum=spec.momentum)
        self.loss = None


class TorchTrain(_FrameworkTrain):
    peer = "torch"

    def __init__(self, spec: Net, dtype):
        import torch
        import torch.nn.functional as F
        from torch import nn

        pb = problem(spec)
        dtype = np.dtype(dtype)
        self.model = _sequential(nn, spec, _torch_dtype(dtype))
        self.model.load_state_dict({k: torch.from_numpy(v.astype(dtype)) for k, v in pb.params.items()})
        self.x = torch.from_numpy(pb.x.astype(dtype))
        target = pb.target if pb.target.dtype.kind in "iu" else pb.target.astype(dtype)
        self.target = torch.from_numpy(target)
        self.loss_fn = getattr(F, _LOSSES[spec.loss])
        self.opt = torch.optim.SGD(self.model.parameters(), lr=spec.lr, momentum=spec.momentum)
        self.loss = None


def _torch_dtype(dtype):
    import torch

    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


# ----------------------------------------------------------------------- deep chain
class NumpyChain:
    peer = "numpy"
    prepare = None

    def __init__(self, spec: Chain, dtype):
        self.x0 = problem(spec).x.astype(dtype)
        self.n, self.c = spec.n, spec.c
        self.out = None

    def step(self) -> None:
        self.out = None
        self.out = floor.tanh_mul_chain(self.x0, self.n, self.c)

    def state(self) -> StepState:
        loss, g = self.out
        return StepState(np.array(loss), {"x": g.copy()}, {})


class _FrameworkChain:
    prepare = None

    def step(self) -> None:
        x0, c, tanh = self.x0, self.c, self.tanh
        x0.grad = None
        x = x0
        for i in range(self.n):
            x = x * c if i % 2 == 0 else tanh(x)
        loss = x.sum()
        loss.backward()
        self.loss = loss

    def state(self) -> StepState:
        return StepState(_np(self.loss), {"x": _np(self.x0.grad)}, {})


class MicrotensorChain(_FrameworkChain):
    peer = "microtensor"

    def __init__(self, spec: Chain, dtype):
        import microtensor as mt

        self.x0 = mt.tensor(problem(spec).x.astype(dtype), requires_grad=True)
        self.n, self.c, self.tanh = spec.n, spec.c, mt.tanh
        self.loss = None


class TorchChain(_FrameworkChain):
    peer = "torch"

    def __init__(self, spec: Chain, dtype):
        import torch

        self.x0 = torch.tensor(problem(spec).x.astype(dtype), requires_grad=True)
        self.n, self.c, self.tanh = spec.n, spec.c, torch.tanh
        self.loss = None


# ---------------------------------------------------------------------- op overhead
class _AddRunner:
    """`repeats` times c = a + b. NumPy's floor is the same loop on arrays (it has no graph)."""

    prepare = None

    def step(self) -> None:
        a, b = self.a, self.b
        for _ in range(self.repeats):
            c = a + b
        self.c = c

    def state(self) -> StepState:
        if self.grad and not (self.c.requires_grad and self.c.grad_fn is not None):
            raise EqualWorkError(f"{self.peer}: a + b of tensors requiring grad did not record a graph node")
        return StepState(_np(self.c) if self.peer != "numpy" else self.c.copy(), {}, {})


class NumpyAdd(_AddRunner):
    peer = "numpy"

    def __init__(self, spec: Add, dtype):
        pb = problem(spec)
        self.a, self.b = pb.x.astype(dtype), pb.target.astype(dtype)
        self.repeats, self.grad = spec.repeats, False  # nothing to record: this is the floor


class MicrotensorAdd(_AddRunner):
    peer = "microtensor"

    def __init__(self, spec: Add, dtype):
        import microtensor as mt

        pb = problem(spec)
        self.a = mt.tensor(pb.x.astype(dtype), requires_grad=spec.grad)
        self.b = mt.tensor(pb.target.astype(dtype), requires_grad=spec.grad)
        self.repeats, self.grad = spec.repeats, spec.grad


class TorchAdd(_AddRunner):
    peer = "torch"

    def __init__(self, spec: Add, dtype):
        import torch

        pb = problem(spec)
        self.a = torch.tensor(pb.x.astype(dtype), requires_grad=spec.grad)
        self.b = torch.tensor(pb.target.astype(dtype), requires_grad=spec.grad)
        self.repeats, self.grad = spec.repeats, spec.grad


class NumpyAddChainBackward:
    """prepare: the forward values (untimed); step: the hand backward, one in-place add per node."""

    peer = "numpy"

    def __init__(self, spec: AddChainBackward, dtype):
        pb = problem(spec)
        self.x0, self.b = pb.x.astype(dtype), pb.target.astype(dtype)
        self.n, self.dtype = spec.n, np.dtype(dtype)
        self.loss = self.grads = None

    def prepare(self) -> None:
        x = self.x0
        for _ in range(self.n):
            x = x + self.b
        self.loss, self.grads = x.sum(), None

    def step(self) -> None:
        self.grads = floor.add_chain_backward(self.n, self.dtype)

    def state(self) -> StepState:
        gx, gb = self.grads
        return StepState(np.array(self.loss), {"x0": gx.copy(), "b": gb.copy()}, {})


class _FrameworkAddChainBackward:
    def prepare(self) -> None:
        x0, b = self.x0, self.b
        x0.grad = b.grad = None
        x = x0
        for _ in range(self.n):
            x = x + b
        self.loss = x.sum()

    def step(self) -> None:
        self.loss.backward()

    def state(self) -> StepState:
        return StepState(_np(self.loss), {"x0": _np(self.x0.grad), "b": _np(self.b.grad)}, {})


class MicrotensorAddChainBackward(_FrameworkAddChainBackward):
    peer = "microtensor"

    def __init__(self, spec: AddChainBackward, dtype):
        import microtensor as mt

        pb = problem(spec)
        self.x0 = mt.tensor(pb.x.astype(dtype), requires_grad=True)
        self.b = mt.tensor(pb.target.astype(dtype), requires_grad=True)
        self.n, self.loss = spec.n, None


class TorchAddChainBackward(_FrameworkAddChainBackward):
    peer = "torch"

    def __init__(self, spec: AddChainBackward, dtype):
        import torch

        pb = problem(spec)
        self.x0 = torch.tensor(pb.x.astype(dtype), requires_grad=True)
        self.b = torch.tensor(pb.target.astype(dtype), requires_grad=True)
        self.n, self.loss = spec.n, None


# -------------------------------------------------------------------------- registry
RUNNERS: dict[tuple[type, str], type] = {
    (Net, "numpy"): NumpyTrain,
    (Net, "microtensor"): MicrotensorTrain,
    (Net, "torch"): TorchTrain,
    (Chain, "numpy"): NumpyChain,
    (Chain, "microtensor"): MicrotensorChain,
    (Chain, "torch"): TorchChain,
    (Add, "numpy"): NumpyAdd,
    (Add, "microtensor"): MicrotensorAdd,
    (Add, "torch"): TorchAdd,
    (AddChainBackward, "numpy"): NumpyAddChainBackward,
    (AddChainBackward, "microtensor"): MicrotensorAddChainBackward,
    (AddChainBackward, "torch"): TorchAddChainBackward,
    (seq.GPTStep, "numpy"): seq.NumpyGPT,
    (seq.GPTStep, "microtensor"): seq.MicrotensorGPT,
    (seq.GPTStep, "torch"): seq.TorchGPT,
    (seq.LSTMStep, "numpy"): seq.NumpyLSTM,
    (seq.LSTMStep, "microtensor"): seq.MicrotensorLSTM,
    (seq.LSTMStep, "torch"): seq.TorchLSTM,
}


def make_runner(case: Case, peer: str, dtype=None):
    """A fresh runner for one peer of a case, from the case's shared problem, in `dtype`
    (the case's timed dtype by default)."""
    if peer == "torch" and not torch_available():
        raise RuntimeError("PyTorch is not installed")
    cls = RUNNERS[(type(case.spec), peer)]
    return cls(case.spec, np.dtype(dtype or case.dtype))


def available_peers(peers: tuple[str, ...] | list[str] = PEERS) -> list[str]:
    return [p for p in peers if p != "torch" or torch_available()]


# --------------------------------------------------------------- convolutional (issue 14)
from . import cnn as _cnn  # noqa: E402 - cnn.py builds on the definitions above

WORKLOADS += _cnn.WORKLOADS
RUNNERS.update(_cnn.RUNNERS)
