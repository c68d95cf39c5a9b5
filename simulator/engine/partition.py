"""How a network is split over workers: threads of a process and MPI ranks.

Each population is cut into contiguous ranges of ids, one per worker; a worker owns the
neurons of its ranges and every synapse onto them (NEST's design), so delivery needs no
atomics and each target's additions happen in the same order for any split. Neuron
populations are split over all workers of all ranks (their spikes are exchanged);
input sources over the threads of each process, which generates them all for itself
(counter-based draws make that free of communication). Range bounds are multiples of 8,
so the threshold scan can read eight flags at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class Layout:
    threads: int = 1  # workers of this process
    ranks: int = 1  # MPI processes
    rank: int = 0
    steps: int = 1  # chunk length D in steps

    @property
    def workers(self) -> int:
        """Workers of all processes together."""
        return self.threads * self.ranks

    @property
    def first(self) -> int:
        """Global index of this process's first worker."""
        return self.rank * self.threads


def bounds(n: int, parts: int) -> np.ndarray:
    """``parts + 1`` ascending bounds splitting ``range(n)`` into near-equal contiguous
    parts whose inner bounds are multiples of 8."""
    b = (np.arange(parts + 1, dtype=np.int64) * n // parts) // 8 * 8
    b[-1] = n
    return np.maximum.accumulate(b)


def rank_ranges(n: int, ranks: int) -> list:
    """``(lo, hi)`` of the neurons each MPI rank owns."""
    b = bounds(n, ranks)
    return [(int(b[r]), int(b[r + 1])) for r in range(ranks)]


def neuron_ranges(n: int, layout: Layout):
    """``(lo, hi, rows)`` of a neuron population: the ranges of this process's workers
    (arrays of length ``threads``) and the sizes of every buffer row (one per worker of
    all ranks: neuron spikes are exchanged). First by rank, then each rank's range by
    threads: a rank's neurons (and so the synapses it keeps) do not depend on how many
    threads it runs."""
    b = np.concatenate(
        [lo + bounds(hi - lo, layout.threads)[:-1] for lo, hi in rank_ranges(n, layout.ranks)]
        + [[n]]
    )
    own = b[layout.first : layout.first + layout.threads + 1]
    return own[:-1].copy(), own[1:].copy(), np.diff(b)


def first_thread_ranges(n: int, layout: Layout):
    """``(lo, hi, rows)`` of a replayed schedule: one walk, by the first thread."""
    lo = np.zeros(layout.threads, np.int64)
    hi = np.zeros(layout.threads, np.int64)
    hi[0] = n
    return lo, hi, hi - lo


def span_ranges(n: int, layout: Layout, span=None):
    """``(lo, hi, rows)`` of a source drawn element by element: its ids split over this
    process's threads (rows = this process's threads). ``span = (a, b)`` limits it to
    the ids this process needs (see :func:`source_span`)."""
    a, z = (0, n) if span is None else span
    b = a + bounds(z - a, layout.threads)
    return b[:-1].copy(), b[1:].copy(), np.diff(b)


def source_span(net, pop):
    """The ids of an input source this MPI rank must generate: those with synapses onto
    its neurons (after :func:`axonforge.engine.mpi.localize`), as one range; all of them
    when a monitor or a modulator reads the source (its spikes are not exchanged)."""
    if any(m.pop is pop for m in net.monitors.values()) or any(
        mod.source is pop for mod in net.modulators.values()
    ):
        return None
    used = [
        np.flatnonzero(np.diff(p.ptr) > 0) for p in net.projections.values() if p.pre_pop is pop
    ]
    used = [u for u in used if len(u)]
    if not used:
        return (0, 0)
    return int(min(u[0] for u in used)), int(max(u[-1] for u in used)) + 1


class WorkerCopies:
    """Per-worker copies of state that every worker updates identically (presynaptic
    traces, modulator concentrations, plasticity reference steps): row ``w`` of an array
    with the workers first. With one worker the copy is a view of the host array; with
    more, :meth:`of` makes the copies for a run and :meth:`collect` writes row 0 back."""

    def __init__(self, threads: int):
        self.threads = threads
        self.pairs = []

    def of(self, host: np.ndarray, single=False) -> np.ndarray:
        """``host`` of shape ``(n,)`` becomes ``(threads, n)``; with ``single``, ``host``
        holds one value (shape ``(1,)``) and becomes ``(threads,)``."""
        if self.threads == 1:
            return host if single else host.reshape(1, -1)
        rows = np.repeat(host, self.threads) if single else np.repeat(host[None], self.threads, 0)
        self.pairs = [(h, r, s) for h, r, s in self.pairs if h is not host]
        self.pairs.append((host, rows, single))
        return rows

    def collect(self):
        for host, rows, single in self.pairs:
            host[...] = rows[:1] if single else rows[0]


def split_rows(ptr, off, n_post, lo, hi) -> np.ndarray:
    """``wptr[i, j]``: where worker ``j``'s part of source ``i``'s row starts (``wptr[i,
    threads]`` where the row's part for this process ends). Rows must be in ascending
    target order (the connection rules store them so)."""
    return _split_rows(
        ptr, off, np.int64(n_post), np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    )


@njit(cache=True)
def _split_rows(ptr, off, n_post, lo, hi):
    n_pre, threads = len(ptr) - 1, len(lo)
    wptr = np.empty((n_pre, threads + 1), np.int64)
    for i in range(n_pre):
        q = ptr[i]
        end = ptr[i + 1]
        while q < end and off[q] % n_post < lo[0]:
            q += 1
        for j in range(threads):
            wptr[i, j] = q
            while q < end and off[q] % n_post < hi[j]:
                q += 1
        wptr[i, threads] = q
    return wptr
