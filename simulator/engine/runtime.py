"""Functions generated Numba kernels call besides :mod:`axonforge.rng`: the NaN rule of
``min``/``max`` (a NaN argument gives NaN, in every target; see
:mod:`axonforge.engine.printers`)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def nan_min(a, b):
    return a if (a < b or a != a) else b


@njit(cache=True, inline="always")
def nan_max(a, b):
    return a if (a > b or a != a) else b


#: the barrier of the threaded run in progress (one at a time per process)
_BARRIER = [None]


def set_barrier(barrier):
    _BARRIER[0] = barrier


def barrier_wait():
    """Wait for the other worker threads (called from kernels in object mode)."""
    _BARRIER[0].wait()
