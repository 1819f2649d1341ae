"""The convolutional workloads (issue 14): one full training step at batch 64 on 1×28×28 inputs.

* ``mnist-cnn``: the network of pytorch/examples' mnist/main.py (conv 1→32 3×3, conv 32→64 3×3,
  max-pool 2, dropout 0.25, fc 9216→128, dropout 0.5, fc 128→10, log_softmax + NLL, Adadelta lr 1);
* ``lenet5``: conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2,
  fc 400→120→84→10 with ReLU, cross-entropy, SGD lr 0.01 momentum 0.9.

Dropout is a multiplication by a keep-mask scaled by 1/(1 − p), the masks drawn by NumPy from the
same seed for every peer: that keeps the equal-work check exact (each framework's own dropout
draws from its own random stream) at the cost of one NumPy draw per step, the same for all peers.
Runners follow workloads.py's interface (step, prepare, state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microtensor import reference

from . import cnn_floor
from .workloads import SEED, Case, StepState, _np, _torch_dtype

WORKLOADS = ("mnist-cnn", "lenet5")


@dataclass(frozen=True)
class Cnn:
    """A convolutional training step on MNIST-shaped random data."""

    net: str  # "mnist-cnn" | "lenet5"
    batch: int
    lr: float
    momentum: float = 0.0  # SGD's (lenet5)


def cases(batch: int = 64) -> list[Case]:
    return [
        Case(
            "mnist-cnn",
            "mnist-cnn",
            "pytorch/examples MNIST CNN (conv 32, conv 64, max-pool, dropout, fc 9216-128-10), "
            f"batch {batch}, log_softmax + NLL, Adadelta",
            Cnn("mnist-cnn", batch, 1.0),
            rtol32=1e-4,  # float32 GEMMs of 9216 and 288 terms, summed in different orders
        ),
        Case(
            "lenet5",
            "lenet5",
            f"LeNet-5 (conv 6 5x5 pad 2, pool, conv 16 5x5, pool, fc 400-120-84-10), batch {batch}, "
            "cross-entropy, SGD momentum 0.9",
            Cnn("lenet5", batch, 0.01, 0.9),
            rtol32=1e-4,
        ),
    ]


# ------------------------------------------------------------------- shared problem
SHAPES = {
    "mnist-cnn": {
        "conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,),
        "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
        "fc1.weight": (128, 9216), "fc1.bias": (128,), "fc2.weight": (10, 128), "fc2.bias": (10,),
    },
    "lenet5": {
        "0.weight": (6, 1, 5, 5), "0.bias": (6,), "3.weight": (16, 6, 5, 5), "3.bias": (16,),
        "7.weight": (120, 400), "7.bias": (120,), "9.weight": (84, 120), "9.bias": (84,),
        "11.weight": (10, 84), "11.bias": (10,),
    },
}  # fmt: skip
DROPOUT = {"mnist-cnn": ((64, 12, 12), 0.25, (128,), 0.5), "lenet5": None}


def problem(spec: Cnn):
    """Inputs (N, 1, 28, 28) in [0, 1), class labels, and PyTorch-default-range initial weights."""
    rng = np.random.default_rng(SEED)
    params = {}
    for name, shape in SHAPES[spec.net].items():
        weight = SHAPES[spec.net][name.replace("bias", "weight")]
        bound = 1 / np.sqrt(np.prod(weight[1:]))  # 1/√fan_in, as PyTorch's default init
        params[name] = rng.uniform(-bound, bound, shape)
    x = rng.random((spec.batch, 1, 28, 28))
    target = rng.integers(0, 10, spec.batch).astype(np.int64)
    return x, target, params


class _Masks:
    """Dropout keep-masks (already scaled by 1/(1 − p)), the same sequence for every peer."""

    def __init__(self, spec: Cnn, dtype):
        self.rng = np.random.default_rng(SEED + 1)
        self.spec, self.dtype = spec, dtype

    def draw(self) -> list[np.ndarray]:
        d = DROPOUT[self.spec.net]
        if d is None:
            return []
        n = self.spec.batch
        out = []
        for shape, p in ((d[0], d[1]), (d[2], d[3])):
            keep = self.rng.random((n, *shape)) >= p
            out.append((keep / (1 - p)).astype(self.dtype))
        return out


# ------------------------------------------------------------------- NumPy floor
class NumpyCnn:
    peer = "numpy"
    prepare = None

    def __init__(self, spec: Cnn, dtype):
        x, self.target, params = problem(spec)
        self.params = {k: v.astype(dtype) for k, v in params.items()}
        self.x_cl = np.ascontiguousarray(x.astype(dtype).transpose(0, 2, 3, 1))  # C = 1: same memory
        self.fn = cnn_floor.mnist_cnn if spec.net == "mnist-cnn" else cnn_floor.lenet5
        self.masks = _Masks(spec, np.dtype(dtype))
        self.spec, self.opt_state = spec, {}
        self.loss = self.grads = None

    def step(self) -> None:
        self.loss = self.grads = None
        masks = [m.transpose(0, 2, 3, 1) if m.ndim == 4 else m for m in self.masks.draw()]  # channels-last
        loss, grads = self.fn(self.x_cl, self.target, self.params, masks)
        if self.spec.net == "mnist-cnn":
            cnn_floor.adadelta_step(self.params, grads, self.opt_state, lr=self.spec.lr)
        else:
            reference.sgd_step(self.params, grads, self.spec.lr, self.spec.momentum, self.opt_state)
        self.loss, self.grads = loss, grads

    def state(self) -> StepState:
        return StepState(
            np.array(self.loss),
            {k: g.copy() for k, g in self.grads.items()},
            {k: p.copy() for k, p in self.params.items()},
        )


# ------------------------------------------------------------------- frameworks
def _model(lib, spec: Cnn, dtype):
    """The workload's model in either framework (written as a PyTorch user writes it)."""
    nn, F = lib.nn, lib.nn.functional
    if spec.net == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120, dtype=dtype), nn.ReLU(), nn.Linear(120, 84, dtype=dtype), nn.ReLU(),
            nn.Linear(84, 10, dtype=dtype),
        )  # fmt: skip

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1, dtype=dtype)
            self.conv2 = nn.Conv2d(32, 64, 3, 1, dtype=dtype)
            self.fc1 = nn.Linear(9216, 128, dtype=dtype)
            self.fc2 = nn.Linear(128, 10, dtype=dtype)

        def forward(self, x, masks):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = x * masks[0]  # dropout(0.25), with the shared mask
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = x * masks[1]  # dropout(0.5)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


class _FrameworkCnn:
    prepare = None

    def _setup(self, lib, spec: Cnn, dtype, lib_dtype) -> None:
        x, target, params = problem(spec)
        self.lib, self.spec = lib, spec
        self.model = _model(lib, spec, lib_dtype)
        self.model.load_state_dict({k: lib.from_numpy(v.astype(dtype)) for k, v in params.items()})
        self.x = lib.from_numpy(x.astype(dtype))
        self.target = lib.from_numpy(target)
        if spec.net == "mnist-cnn":
            self.opt = lib.optim.Adadelta(self.model.parameters(), lr=spec.lr)
        else:
            self.opt = lib.optim.SGD(self.model.parameters(), lr=spec.lr, momentum=spec.momentum)
        self.masks = _Masks(spec, np.dtype(dtype))
        self.loss = None

    def step(self) -> None:
        F = self.lib.nn.functional
        if self.spec.net == "mnist-cnn":
            masks = [self.lib.from_numpy(m) for m in self.masks.draw()]
            loss = F.nll_loss(self.model(self.x, masks), self.target)
        else:
            loss = F.cross_entropy(self.model(self.x), self.target)
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


class MicrotensorCnn(_FrameworkCnn):
    peer = "microtensor"

    def __init__(self, spec: Cnn, dtype):
        import microtensor as mt

        self._setup(mt, spec, dtype, np.dtype(dtype))


class TorchCnn(_FrameworkCnn):
    peer = "torch"

    def __init__(self, spec: Cnn, dtype):
        import torch

        self._setup(torch, spec, dtype, _torch_dtype(dtype))


RUNNERS = {(Cnn, "numpy"): NumpyCnn, (Cnn, "microtensor"): MicrotensorCnn, (Cnn, "torch"): TorchCnn}
