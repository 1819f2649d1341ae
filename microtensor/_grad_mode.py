"""The per-thread grad-mode flag, read by every op (its own module so ops can import it early)."""

import threading


class _Mode(threading.local):
    enabled = True  # each thread starts with gradients on, as in PyTorch


mode = _Mode()
