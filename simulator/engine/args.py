"""Kernel arguments, each declared once: name, dtype, shape and owner.

Lowering passes ask :class:`ArgTable` for an argument (``args.pop(P, "x_v", "state",
("n",))``) and get back an expression naming it; the table remembers the declaration,
and the order of first use is the kernels' signature. Binding is the reverse: every
owner (population, projection, monitor, modulator) exposes ``kernel_state()``, a dict
from the declared key to its array or scalar, and :meth:`ArgTable.bind` fetches the
values in signature order, checking each against its declaration, so a mismatch is an
error naming the argument instead of a Numba typing failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from axonforge.engine.ir import X

#: owner kind -> argument-name prefix
PREFIX = {"pop": "p", "proj": "j", "mon": "m", "mod": "md"}

#: declared dtype -> NumPy kinds accepted at binding ("state" is the network precision)
DTYPES = {
    "state": "f",
    "f64": "f",
    "f32": "f",
    "i64": "iu",
    "i32": "iu",
    "u64": "u",
    "bool": "b",
    "int": "iub",
    "float": "fiu",
}


@dataclass(frozen=True)
class Arg:
    """One kernel argument. ``shape`` is symbolic (e.g. ``("L*n",)``), for documentation
    and for its rank: ``()`` is a scalar."""

    name: str
    dtype: str
    shape: tuple
    owner: tuple  # ("pop", P), ("proj", J), ("mon", M), ("mod", K)
    key: str  # the key in the owner's kernel_state()


class ArgTable:
    """The arguments of a network's kernels, in order of first declaration."""

    def __init__(self):
        self.decls: dict[str, Arg] = {}

    def declare(self, kind: str, index: int, key: str, dtype: str, shape=()) -> X:
        if dtype not in DTYPES:
            raise ValueError(f"kernel argument {key!r}: unknown dtype {dtype!r}")
        name = f"{PREFIX[kind]}{index}_{key}"
        arg = Arg(name, dtype, tuple(shape), (kind, index), key)
        old = self.decls.setdefault(name, arg)
        if old != arg:
            raise ValueError(f"kernel argument {name} declared twice differently: {old} / {arg}")
        return X.name(name)

    def pop(self, P, key, dtype, shape=()):
        return self.declare("pop", P, key, dtype, shape)

    def proj(self, J, key, dtype, shape=()):
        return self.declare("proj", J, key, dtype, shape)

    def mon(self, M, key, dtype, shape=()):
        return self.declare("mon", M, key, dtype, shape)

    def mod(self, K, key, dtype, shape=()):
        return self.declare("mod", K, key, dtype, shape)

    @property
    def names(self) -> list[str]:
        return list(self.decls)

    def subset(self, names) -> list[str]:
        """The declared names among ``names`` (a set), in signature order."""
        return [n for n in self.decls if n in names]

    def bind(self, owners: dict) -> dict:
        """``name -> value`` for every argument, from ``owners[(kind, index)]
        .kernel_state()``, each checked against its declaration."""
        states = {key: obj.kernel_state() for key, obj in owners.items()}
        out = {}
        for name, arg in self.decls.items():
            state = states.get(arg.owner)
            if state is None or arg.key not in state:
                raise KeyError(f"kernel argument {name}: {arg.owner} provides no {arg.key!r}")
            value = state[arg.key]
            _check(arg, value)
            out[name] = value
        return out


def _check(arg: Arg, value):
    ndim = len(arg.shape)
    if ndim == 0:
        ok = np.ndim(value) == 0 and np.asarray(value).dtype.kind in DTYPES[arg.dtype]
    else:
        ok = (
            isinstance(value, np.ndarray)
            and value.ndim == ndim
            and value.dtype.kind in DTYPES[arg.dtype]
        )
    if not ok:
        got = (
            f"{value.dtype}{list(value.shape)}"
            if isinstance(value, np.ndarray)
            else type(value).__name__
        )
        raise TypeError(
            f"kernel argument {arg.name} ({arg.owner[0]} {arg.owner[1]}, {arg.key!r}) "
            f"must be {arg.dtype} with shape {arg.shape}, got {got}"
        )
