"""How tensors print: the options of `set_printoptions`, as PyTorch's torch._tensor_str."""

from __future__ import annotations

import math

# PyTorch's defaults; linewidth None: NumPy's line width (PyTorch's 80 counts differently)
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": None, "sci_mode": None}
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": None},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": None},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": None},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as torch.set_printoptions.

    precision: digits after the point (4); threshold: more elements than this are summarised with
    `...` (1000); edgeitems: elements shown at each end of a summarised dim (3); linewidth:
    characters per line; profile: "default", "short" or "full" (never summarise), applied first;
    sci_mode: True or False forces scientific notation on or off, None (the default) decides.

        mt.set_printoptions(precision=2)
        mt.tensor([1.2345, 2.0])        # tensor([1.23, 2.00])
        mt.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        PRINT_OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):  # fmt: skip
        if value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a non-negative number, got {value!r}")
            PRINT_OPTIONS[name] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode
