"""Memory images of a mapped network, and the files that initialise them on a device.

A :class:`Memory` is one on-chip memory as the core reads it: a name, a word width in
bits, and one integer per word (depth = number of words), signed values stored as
two's complement of ``width`` bits. Mapping (:mod:`axonforge.hardware.mapping`,
:mod:`axonforge.hardware.neurocorex`) produces memories; the writers here turn them into
``$readmemh`` ``.mem``, Xilinx ``.coe`` and Intel ``.mif`` files (sources of each syntax
in the writers' docstrings).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Memory:
    """One memory: ``words`` (int64 values, each within the ``width``-bit range: signed
    ``-2**(width-1) .. 2**(width-1)-1`` or unsigned ``0 .. 2**width - 1``)."""

    name: str
    width: int
    words: np.ndarray
    signed: bool = False
    description: str = ""

    def __post_init__(self):
        words = np.ascontiguousarray(self.words, dtype=np.int64)
        if words.ndim != 1:
            raise ValueError(f"memory {self.name!r}: words must be 1-D, got {words.shape}")
        if not (isinstance(self.width, (int, np.integer)) and 1 <= self.width <= 64):
            raise ValueError(f"memory {self.name!r}: width must be 1..64 bits, got {self.width}")
        lo, hi = (
            (-(1 << (self.width - 1)), (1 << (self.width - 1)) - 1)
            if self.signed
            else (0, (1 << self.width) - 1)
        )
        bad = (words < lo) | (words > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"memory {self.name!r}: word {i} = {words[i]} does not fit "
                f"{'signed' if self.signed else 'unsigned'} {self.width} bits ({lo}..{hi})"
            )
        words.setflags(write=False)
        object.__setattr__(self, "words", words)

    @property
    def depth(self) -> int:
        return len(self.words)

    def unsigned(self) -> np.ndarray:
        """The words as unsigned ``width``-bit patterns (two's complement), as files hold
        them."""
        mask = (1 << self.width) - 1 if self.width < 64 else -1
        return np.asarray(self.words, np.int64) & mask if self.width < 64 else self.words
