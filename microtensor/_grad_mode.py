"""The per-thread grad-mode flag, read by every op (its own module so ops can import it early)."""

import threading


class _Mode(threading.local):
    enabled = True  # each thread starts with gradients on, as in PyTorch
    inference = False  # inside inference_mode


mode = _Mode()


class _Anomaly:
    """Anomaly mode (process-wide, as PyTorch's): ops check their results for NaN/Inf while it is on."""

    enabled = False


anomaly = _Anomaly()

# The global in-place epoch: bumped by every in-place op, read (one load) by every recorded op, which
# keeps it as `Op.epoch` (see Tensor's in-place ops). Two threads bumping at once may share an epoch:
# a check can then only miss an in-place op that races with the recording of an op that saved it.
_EPOCH = [0]
