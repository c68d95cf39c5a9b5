"""Memory images of a mapped network, and the files that initialise them on a device.

A :class:`Memory` is one on-chip memory as the core reads it: a name, a word width in
bits, and one integer per word (depth = number of words), signed values stored as
two's complement of ``width`` bits. Mapping (:mod:`axonforge.hardware.mapping`,
:mod:`axonforge.hardware.neurocorex`) produces memories; the writers here turn them into
``$readmemh`` ``.mem``, Xilinx ``.coe`` and Intel ``.mif`` files (sources of each syntax
in the writers' docstrings).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Memory:
    """One memory of ``width``-bit words: ``words`` are int64 values, signed from
    ``-2**(width-1)`` to ``2**(width-1) - 1`` or unsigned from 0 to ``2**width - 1``."""

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


# --- writers ------------------------------------------------------------------------------


def _checked(memory) -> Memory:
    """``memory`` as a :class:`Memory` (which checks width 1..64 and every word's range),
    refusing an empty one."""
    if not isinstance(memory, Memory):
        memory = Memory(
            str(memory.name),
            memory.width,
            memory.words,
            bool(getattr(memory, "signed", False)),
            str(getattr(memory, "description", "")),
        )
    if memory.depth == 0:
        raise ValueError(
            f"memory {memory.name!r} is empty (depth 0): a memory-initialisation file needs "
            "at least one word; leave the memory out instead"
        )
    return memory


def patterns(memory) -> list[int]:
    """The words of ``memory`` as the unsigned ``width``-bit patterns a file holds
    (two's complement for signed memories: -3 at 8 bits is 0xfd), as Python ints."""
    memory = _checked(memory)
    raw = memory.words.view(np.uint64)  # int64 two's complement, 64 bits
    if memory.width < 64:
        raw = raw & np.uint64((1 << memory.width) - 1)
    return raw.tolist()


def _digits(value: int, radix: int, width: int) -> str:
    """One word in ``radix``, zero-padded to the digits a ``width``-bit word needs (hex:
    ceil(width/4), binary: width; decimal is not padded)."""
    if radix == 16:
        return format(value, f"0{-(-width // 4)}x")
    if radix == 2:
        return format(value, f"0{width}b")
    return str(value)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _header(memory: Memory) -> list[str]:
    """Comment lines (without the comment marker) naming the memory."""
    kind = "signed (two's complement)" if memory.signed else "unsigned"
    lines = [
        f"axonforge memory {memory.name!r}",
        f"width {memory.width} bits, depth {memory.depth} words, {kind}",
    ]
    if memory.description:
        lines.append(_one_line(memory.description))
    return lines


def format_mem(memory, radix: int = 16) -> str:
    """The text of a ``$readmemh`` (``radix=16``) or ``$readmemb`` (``radix=2``) file
    (see :func:`write_mem`)."""
    memory = _checked(memory)
    if radix not in (16, 2):
        raise ValueError(f"write_mem: radix must be 16 ($readmemh) or 2 ($readmemb), got {radix!r}")
    task = "$readmemh" if radix == 16 else "$readmemb"
    lines = [f"// {line}" for line in _header(memory)]
    lines.append(f"// load with {task}; one word per line from address 0")
    lines += [_digits(v, radix, memory.width) for v in patterns(memory)]
    return "\n".join(lines) + "\n"


def format_coe(memory, radix: int = 16) -> str:
    """The text of a Xilinx ``.coe`` file (see :func:`write_coe`)."""
    memory = _checked(memory)
    if radix not in (16, 10, 2):
        raise ValueError(f"write_coe: radix must be 2, 10 or 16, got {radix!r}")
    lines = [f"; {line}" for line in _header(memory)]
    lines.append(f"memory_initialization_radix={radix};")
    lines.append("memory_initialization_vector=")
    values = [_digits(v, radix, memory.width) for v in patterns(memory)]
    lines += [v + "," for v in values[:-1]]
    lines.append(values[-1] + ";")
    return "\n".join(lines) + "\n"


def format_mif(memory) -> str:
    """The text of an Intel ``.mif`` file (see :func:`write_mif`)."""
    memory = _checked(memory)
    lines = [f"-- {line.replace('%', ' percent')}" for line in _header(memory)]
    lines += [
        f"WIDTH={memory.width};",
        f"DEPTH={memory.depth};",
        "",
        "ADDRESS_RADIX=UNS;",
        "DATA_RADIX=HEX;",
        "",
        "CONTENT BEGIN",
    ]
    values = patterns(memory)
    start = 0
    while start < len(values):
        stop = start + 1
        while stop < len(values) and values[stop] == values[start]:
            stop += 1
        data = _digits(values[start], 16, memory.width).upper()
        if stop - start == 1:
            lines.append(f"\t{start} : {data};")
        else:
            lines.append(f"\t[{start}..{stop - 1}] : {data};")
        start = stop
    lines.append("END;")
    return "\n".join(lines) + "\n"


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: to a temporary file in the same folder, then
    renamed over ``path`` (a reader never sees half a file; a failed write leaves any
    earlier file in place)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_mem(path, memory, radix: int = 16) -> Path:
    """Write ``memory`` as a Verilog ``$readmemh`` file (``radix=16``; ``radix=2``:
    ``$readmemb``). Returns the path.

    Syntax (IEEE 1364-2005 §17.2.9, "Loading memory data from a file"; srecord's
    ``srec_vmem(5)``): whitespace-separated numbers, each filling the next word from
    address 0; ``//`` and ``/* */`` comments; no width field (the Verilog array's width
    applies). Written here: a ``//`` header (name, width, depth, signedness), then one word
    per line, the width-masked two's complement pattern zero-padded to ``ceil(width/4)``
    hex digits (``width`` binary digits), e.g. -3 at 8 bits is ``fd``.
    """
    return write_bytes(path, format_mem(memory, radix).encode("ascii"))


def write_coe(path, memory, radix: int = 16) -> Path:
    """Write ``memory`` as a Xilinx coefficient (``.coe``) file for the Vivado Block Memory
    Generator / Distributed Memory Generator. Returns the path.

    Syntax (Vivado UG896 "Designing with IP", "COE File Syntax"; Xilinx AR#9639):
    ``memory_initialization_radix=2|10|16;`` then ``memory_initialization_vector=`` with one
    value per memory row, separated by commas (or whitespace), ``;`` after the last; the
    vector is the last keyword; text after a ``;`` is a comment. Written here: ``;`` header
    comment lines, the radix, then the vector one value per line, signed words as their
    masked unsigned pattern (zero-padded in hex and binary; decimal is the unsigned
    pattern's value).
    """
    return write_bytes(path, format_coe(memory, radix).encode("ascii"))


def write_mif(path, memory) -> Path:
    """Write ``memory`` as an Intel/Altera memory-initialisation (``.mif``) file for
    Quartus. Returns the path.

    Syntax (Quartus Prime Help, "Memory Initialization File (.mif) Definition"):
    ``WIDTH=n;``, ``DEPTH=m;``, ``ADDRESS_RADIX=...;``, ``DATA_RADIX=...;`` (BIN, HEX, OCT,
    DEC or UNS), then ``CONTENT BEGIN``, lines ``address : data;`` (or a range ``[a..b] :
    data;``), ``END;``; comments ``-- ...`` or ``% ... %``. Written here: ``--`` header
    comments, unsigned decimal addresses, hex data (masked two's complement, zero-padded to
    ``ceil(width/4)`` digits), one line per address and ``[a..b] : data;`` for runs of an
    equal word.
    """
    return write_bytes(path, format_mif(memory).encode("ascii"))


#: file extension -> writer of one memory
WRITERS = {"mem": write_mem, "coe": write_coe, "mif": write_mif}
