"""Run a PyTorch program unchanged, on PyTorch or on microtensor.

    python tests/ports/portrun.py microtensor tests/ports/polyfit.py
    python tests/ports/portrun.py torch tests/ports/polyfit.py

With `microtensor`, every `import torch...` in the program resolves to the
module of the same path under `microtensor` (`torch.nn.functional` ->
`microtensor.nn.functional`, `torch.utils.data` -> `microtensor.utils.data`):
the import map a user applies by hand when porting. Nothing else is changed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import runpy
import sys


class TorchToMicrotensor(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve `torch` and `torch.*` to `microtensor` and `microtensor.*`."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        # the microtensor module itself stands in for the torch one (same object under both names)
        return importlib.import_module("microtensor" + spec.name[len("torch") :])

    def exec_module(self, module):
        pass


def main(argv: list[str]) -> None:
    backend, program = argv
    if backend == "microtensor":
        sys.meta_path.insert(0, TorchToMicrotensor())
    elif backend != "torch":
        raise SystemExit(f"portrun: backend must be 'torch' or 'microtensor', got {backend!r}")
    sys.argv = [program]
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
