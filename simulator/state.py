"""State dicts: what an owner saves, restores and gathers.

Every owner of state (each population class, :class:`~axonforge.projection.Projection`,
:class:`~axonforge.plastic.PlasticState`, each monitor class,
:class:`~axonforge.modulators.Modulator`) gives it as a dict from ``saved_state()`` and
is rebuilt from one by ``from_saved(...)``::

    {
        "attrs": {"name": "exc", "n": 800, ...},   # str, numbers, bools: HDF5 attributes
        "arrays": {"state/v": array, ...},          # HDF5 datasets; "/" makes sub-groups
        "groups": {"plastic": {...}},               # sub-groups with their own attributes
        "split": {"state/v": ByRange(800), ...},    # how an array is divided among ranks
    }

All four keys are optional. :mod:`axonforge.io` maps such a dict to an HDF5 group and
back with one writer and one reader; :func:`axonforge.engine.mpi.gathered` assembles the
whole network's dict on rank 0 from every rank's part, array by array, as ``split``
says (an array it does not name is the same on every rank).

Dicts read from a file are :class:`Record` objects: a missing attribute, record or
group raises :class:`FileFormatError` naming the file and the record.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


class FileFormatError(ValueError):
    """A file is not an axonforge file of the expected kind, or is damaged."""


# ------------------------------------------------------------------ splits among ranks
@dataclass(frozen=True)
class ByRange:
    """The last axis runs over a population of ``n`` elements, of which each rank holds
    its own range (:func:`axonforge.engine.partition.rank_ranges`) up to date."""

    n: int


@dataclass(frozen=True, eq=False)
class BySynapse:
    """One entry per synapse this rank keeps: ``proj.global_index`` places them among
    the ``proj.n_global`` synapses of the whole projection."""

    proj: object


@dataclass(frozen=True, eq=False)
class RowCounts:
    """A CSR row pointer over this rank's synapses of ``proj``: the rows' counts add up
    over the ranks."""

    proj: object


def state(attrs=None, arrays=None, groups=None, split=None) -> dict:
    """A state dict (see the module docstring), leaving out empty parts."""
    out = {"attrs": dict(attrs or {}), "arrays": dict(arrays or {})}
    if groups:
        out["groups"] = dict(groups)
    if split:
        out["split"] = dict(split)
    return out


# --------------------------------------------------------------------- reading back
class _Checked(dict):
    """A dict of a :class:`Record` whose missing keys are errors naming the record."""

    def __init__(self, source, where, what, sep):
        super().__init__()
        self.source, self.where, self.what, self.sep = source, where, what, sep

    def __missing__(self, key):
        raise FileFormatError(f"{self.source}: missing {self.what} {self.where}{self.sep}{key}")


class Record(dict):
    """A state dict read from ``source`` (a file), for group ``where``: its ``attrs``,
    ``arrays`` and ``groups`` raise :class:`FileFormatError` for missing keys."""

    def __init__(self, source, where):
        name = where.rstrip("/")
        super().__init__(
            attrs=_Checked(source, name, "attribute", "@"),
            arrays=_Checked(source, name, "record", "/"),
            groups=_Checked(source, name, "record", "/"),
        )
        self.source, self.where = source, where

    def error(self, message) -> FileFormatError:
        return FileFormatError(f"{self.source}: {message}")


def fail(d, message) -> FileFormatError:
    """The error for a dict that cannot be restored (naming its file, if read from one)."""
    source = getattr(d, "source", None)
    return FileFormatError(f"{source}: {message}" if source else message)


def numbered(groups) -> list:
    """The sub-dicts ``"0"``, ``"1"``, ... of ``groups`` in order."""
    return [groups[k] for k in sorted(groups, key=int)]


# ----------------------------------------------------------------------- classes
def class_path(cls) -> str:
    """``module:qualname`` of a class, as stored."""
    return f"{cls.__module__}:{cls.__qualname__}"


def stored_class(text):
    """The class a stored ``module:qualname`` names, or None if it cannot be imported.
    Files written before the rename name the modules ``models.*``, now
    ``axonforge.models.*``."""
    module, _, qual = str(text).partition(":")
    if module.split(".")[0] == "models":
        module = "axonforge." + module
    try:
        return getattr(importlib.import_module(module), qual)
    except (ImportError, AttributeError, ValueError):
        return None
