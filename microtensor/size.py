"""Size: the shape of a tensor, as PyTorch's torch.Size (a tuple of ints with `numel()`).

`x.shape` and `x.size()` return it. It is a plain tuple subclass, so it compares equal to tuples
and unpacks like one; slicing it or adding a tuple to it gives a Size again (as PyTorch).
print() and repr() show PyTorch's text, `torch.Size([2, 3])`; inside f-strings and str.format it
reads as the tuple `(2, 3)`, the form every microtensor message uses (unlike PyTorch).
"""

from __future__ import annotations

import math


class Size(tuple):
    """The sizes of a tensor's dimensions: `mt.zeros(2, 3).shape == mt.Size([2, 3])`.

    >>> s = Size([2, 3])
    >>> s.numel(), s[1:], s
    (6, torch.Size([3]), torch.Size([2, 3]))
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for the empty shape)."""
        return math.prod(self)

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __repr__(self) -> str:
        # PyTorch's text, so printed shapes read (and compare) the same as PyTorch's output
        return f"torch.Size([{', '.join(str(n) for n in self)}])"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # f-strings and str.format show the plain tuple: microtensor's messages name shapes as
        # (2, 3) throughout (print() and repr() give PyTorch's text)
        return format(tuple.__repr__(self), spec)

    def __reduce__(self):
        return (Size, (tuple(self),))
