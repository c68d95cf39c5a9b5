"""Spike streams: recordings too long for memory, replayed from disk in windows.

A :class:`~axonforge.models.SpikeStream` population keeps one window of its schedule in
memory, a :class:`StreamBuffer` of ``block`` (step, id) entries. The kernels walk it like
a :class:`~axonforge.models.SpikeSource` schedule. Before each chunk the kernels' room
check (:func:`axonforge.engine.monitoring.room`) asks whether the buffer holds every step
of the chunk (``sched_end``: the first step not loaded completely); when it does not, the
run returns to the host, which refills the buffer (:meth:`StreamBuffer.refill`) and goes
on. So nothing recompiles, memory stays at one window however long the recording is,
and the host does work only once per window, not per chunk.

Stream files are HDF5 (:func:`write_stream`, :class:`StreamWriter`): a dataset ``times``
[s] (float64, sorted) and one ``ids`` (int32, or int64 when the number of units is not
given), written and read in blocks with h5py's
slicing, and the attributes ``format = "axonforge-spike-stream"`` and ``n_units``. Any
recording converts with ``write_stream(path, axonforge.read_spikes(recording))``.

Timing is :class:`~axonforge.models.SpikeSource`'s, with the same floating-point
operations: a time ``t`` (plus ``shift``) is emitted in step ``floor((t + shift)/dt +
0.5) - 1``, and spikes of one source in one step are merged and counted.

Checkpoints: a saved network stores where the stream is, as the network's step; loading
(or :meth:`~axonforge.Network.restore`) opens the file again and finds the first spike
of that step by bisection, so the run continues with the very spikes an unbroken run
would have replayed. Spikes held in memory are saved whole.

Under MPI every rank reads the windows from the file itself and keeps only the sources
with synapses onto its own neurons (:func:`axonforge.engine.partition.source_span`); no
windows are broadcast. A rank needs its sources' spikes in time order, and the file is in
time order, so each rank reads the same bytes (sequential reads, served by the page cache
after the first rank); a broadcast would add a collective per window and send every rank
spikes it then drops.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
from numba import njit

__all__ = ["write_stream", "StreamWriter", "StreamBuffer", "open_source", "FORMAT"]

FORMAT = "axonforge-spike-stream"
#: the step of an empty buffer slot and of a stream that has nothing more to load
NEVER = 1 << 62
#: spikes checked at a time when a stream is validated
_CHECK_BLOCK = 1 << 20


# ------------------------------------------------------------------------- writing
class StreamWriter:
    """Writes a spike-stream file block by block (memory: one block)::

        with StreamWriter("long.h5", n_units=1000) as out:
            for times, ids in blocks:  # each sorted, later blocks not earlier
                out.append(times, ids)

    Times [s] must be finite, >= 0 and sorted across all blocks; ids in 0..n_units-1
    (``n_units`` defaults to the largest id + 1). The file is marked complete only when
    the writer closes without an error, and an incomplete file is refused when read.
    """

    def __init__(self, path, n_units=None, unit_labels=None):
        import h5py

        self.path = Path(path)
        self.n_units = None if n_units is None else _positive_int(n_units, "n_units", path)
        self.unit_labels = unit_labels
        self._file = h5py.File(self.path, "w")
        self._file.attrs.update(format=FORMAT, version=1, complete=False)
        opts = dict(maxshape=(None,), chunks=(1 << 18,))
        self._times = self._file.create_dataset("times", (0,), np.float64, **opts)
        # ids as int32 when the units are known to fit: a quarter less to read
        small = self.n_units is not None and self.n_units <= np.iinfo(np.int32).max
        self._ids = self._file.create_dataset("ids", (0,), np.int32 if small else np.int64, **opts)
        self._last, self._max_id, self.n_spikes = -np.inf, -1, 0

    def append(self, times, ids):
        times = np.asarray(times, np.float64).ravel()
        ids = np.asarray(ids).ravel()
        where = f"{self.path}: block starting at spike {self.n_spikes}"
        if len(times) != len(ids):
            raise ValueError(f"{where}: {len(times)} times but {len(ids)} ids")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{where}: ids must be integers, got {ids.dtype}")
        ids = ids.astype(np.int64)
        if not len(times):
            return
        _check_block(times, ids, self._last, self.n_units, where)
        n0 = self.n_spikes
        self.n_spikes += len(times)
        for ds, data in ((self._times, times), (self._ids, ids)):
            ds.resize((self.n_spikes,))
            ds[n0:] = data
        self._last, self._max_id = times[-1], max(self._max_id, int(ids.max()))

    def close(self, complete=True):
        if self._file is None:
            return
        n_units = self.n_units if self.n_units is not None else self._max_id + 1
        self._file.attrs["n_units"] = max(n_units, 0)
        if self.unit_labels is not None:
            labels = np.asarray(self.unit_labels)
            if len(labels) != n_units:
                raise ValueError(f"{self.path}: {len(labels)} unit labels for {n_units} units")
            self._file.create_dataset(
                "unit_labels", data=labels.astype("S") if labels.dtype.kind == "U" else labels
            )
        self._file.attrs["complete"] = bool(complete)
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        self.close(complete=kind is None)


def write_stream(path, times, ids=None, n_units=None, block=1 << 20) -> Path:
    """Write spikes to a spike-stream file; ``times`` may be a
    :class:`~axonforge.SpikeData` (its ids, ``n_units`` and labels are used) or sorted
    times [s] with ``ids``. Returns the path."""
    labels = None
    if hasattr(times, "times") and hasattr(times, "ids"):
        data = times
        times, ids = data.times, data.ids
        n_units = data.n_units if n_units is None else n_units
        labels = getattr(data, "unit_labels", None)
    times = np.asarray(times, np.float64)
    ids = np.zeros(len(times), np.int64) if ids is None else np.asarray(ids)
    with StreamWriter(path, n_units, labels) as out:
        for a in range(0, len(times), block):
            out.append(times[a : a + block], ids[a : a + block])
    return Path(path)


def _positive_int(value, name, where):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _check_block(times, ids, last, n_units, where):
    """Raise ValueError for the first bad spike of a block (``last``: the time before it)."""
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: time {i} is {times[i]} (not finite)")
    if times[0] < 0 or (times < 0).any():
        i = int(np.flatnonzero(times < 0)[0])
        raise ValueError(f"{where}: time {i} is negative ({times[i]} s)")
    if times[0] < last or (len(times) > 1 and (np.diff(times) < 0).any()):
        i = 0 if times[0] < last else int(np.flatnonzero(np.diff(times) < 0)[0]) + 1
        raise ValueError(
            f"{where}: times are not sorted (time {i} is {times[i]} s, after a later one); "
            "a stream must be in time order (sort it, e.g. read_spikes sorts)"
        )
    if ids.min() < 0 or (n_units is not None and ids.max() >= n_units):
        i = int(np.flatnonzero((ids < 0) | (ids >= (n_units or np.inf)))[0])
        raise ValueError(
            f"{where}: id {i} is {ids[i]}, outside the population's 0..{(n_units or 1) - 1}"
        )


# ------------------------------------------------------------------------- sources
class _Source:
    """Random access to a time-sorted spike list, by index (a file or arrays)."""

    label = "spikes in memory"
    path = None
    n_units = None

    def __len__(self):
        raise NotImplementedError

    def read(self, a, b):
        """``(times, ids)`` of spikes ``a .. b-1``, valid until the next read (not to be
        written to)."""
        raise NotImplementedError

    def time(self, i) -> float:
        return float(self.read(i, i + 1)[0][0])

    def first_index(self, lo, hi, pred) -> int:
        """The first ``i`` in ``lo..hi`` with ``pred(time(i))`` (``pred`` monotone in
        time; ``hi`` if none): bisection, log2(n) single-element reads."""
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(self.time(mid)):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def window(self, start=None, stop=None):
        """``(first, last)``: the index range of spikes with ``start <= t < stop``."""
        n = len(self)
        first = 0 if start is None else self.first_index(0, n, lambda t: t >= start)
        last = n if stop is None else self.first_index(first, n, lambda t: t >= stop)
        return first, last

    def close(self):
        pass


class _MemorySource(_Source):
    def __init__(self, times, ids, n_units=None):
        self.times = np.ascontiguousarray(times, np.float64)
        self.ids = np.ascontiguousarray(ids, np.int64)
        self.n_units = n_units

    def __len__(self):
        return len(self.times)

    def read(self, a, b):
        return self.times[a:b], self.ids[a:b]

    def time(self, i):
        return float(self.times[i])


class _FileSource(_Source):
    def __init__(self, path):
        import h5py

        self.path = str(Path(path).resolve())
        self.label = self.path
        if not os.path.exists(path):
            raise FileNotFoundError(f"SpikeStream: {path}: no such file")
        try:
            f = h5py.File(path, "r")
        except OSError as err:
            raise ValueError(
                f"{path}: not a spike-stream file (not HDF5: {err}); convert a recording "
                "with axonforge.streaming.write_stream(path, axonforge.read_spikes(...))"
            ) from None
        if f.attrs.get("format") != FORMAT or "times" not in f or "ids" not in f:
            what = "an NWB file" if "units" in f or "nwb_version" in f.attrs else "HDF5"
            f.close()
            raise ValueError(
                f"{path}: not a spike-stream file ({what} without the {FORMAT!r} "
                "layout); convert it with axonforge.streaming.write_stream(out, "
                "axonforge.read_spikes(path))"
            )
        if not f.attrs.get("complete", False):
            f.close()
            raise ValueError(f"{path}: incomplete spike-stream file (its writer did not finish)")
        times, ids = f["times"], f["ids"]
        if times.ndim != 1 or times.shape != ids.shape:
            f.close()
            raise ValueError(
                f"{path}: 'times' {times.shape} and 'ids' {ids.shape} must be 1-D and equal"
            )
        if ids.dtype.kind not in "iu":
            f.close()
            raise ValueError(f"{path}: 'ids' must be integers, got {ids.dtype}")
        self._file, self._times, self._ids = f, times, ids
        self._t_buf, self._i_buf = np.empty(0), np.empty(0, ids.dtype)
        self.n_units = int(f.attrs.get("n_units", 0)) or None

    def __len__(self):
        return self._times.shape[0]

    def read(self, a, b):
        """Views of scratch buffers, valid until the next read (h5py's ``read_direct``
        into reused arrays: 5-10x faster than slicing, which allocates)."""
        n = b - a
        if n > len(self._t_buf):
            self._t_buf = np.empty(n, np.float64)
            self._i_buf = np.empty(n, self._ids.dtype)
        t, i = self._t_buf[:n], self._i_buf[:n]
        if n:
            self._times.read_direct(t, np.s_[a:b], np.s_[0:n])
            self._ids.read_direct(i, np.s_[a:b], np.s_[0:n])
        return t, i

    def time(self, i):
        return float(self._times[i])

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def open_source(source) -> _Source:
    """A :class:`~axonforge.models.SpikeStream`'s ``source`` opened for reading."""
    if isinstance(source, (str, os.PathLike)):
        return _FileSource(source)
    if hasattr(source, "times") and hasattr(source, "ids"):
        return _MemorySource(source.times, source.ids, getattr(source, "n_units", None))
    if isinstance(source, tuple) and len(source) == 2:
        return _MemorySource(*source)
    raise TypeError(
        "SpikeStream: source must be a spike-stream file path, a SpikeData or "
        f"(times, ids), got {type(source).__name__}"
    )


# ------------------------------------------------------------------------- schedule
def _step_of(t, shift, dt):
    """The step that replays time ``t`` (SpikeSource's rule, the same operations)."""
    return int(np.floor((t + shift) / dt + 0.5)) - 1


@njit(cache=True, nogil=True)
def _schedule(times, ids, shift, dt, lo, hi, final, out_step, out_id, out_merged):
    """Convert sorted ``times`` to (step, id) entries sorted by step then id, dropping
    ids outside ``lo..hi-1`` and merging repeats of an id in a step (``out_merged``: how
    many spikes each entry absorbed). Unless ``final``, the last step of the block is
    left for the next one (it may go on there). Stops before a step that does not fit in
    ``out``. Returns (spikes used, entries written). One pass, one step computation per
    spike; a step's ids (a handful) are sorted in place by insertion."""
    n = len(times)
    cap = len(out_step)
    wrote = 0
    a = 0
    s = np.int64(0)
    if n:
        s = np.int64(np.floor((times[0] + shift) / dt + 0.5)) - 1
    while a < n:
        b = a + 1
        nxt = s
        while b < n:
            nxt = np.int64(np.floor((times[b] + shift) / dt + 0.5)) - 1
            if nxt != s:
                break
            b += 1
        if b == n and not final:
            break
        m = 0
        for j in range(a, b):
            if lo <= ids[j] < hi:
                m += 1
        if wrote + m > cap:
            break
        first = wrote
        for j in range(a, b):
            v = ids[j]
            if lo <= v < hi:
                # insertion into the sorted run out_id[first:wrote]
                q = wrote
                while q > first and out_id[q - 1] > v:
                    out_id[q] = out_id[q - 1]
                    q -= 1
                out_id[q] = v
                wrote += 1
        if wrote - first > 1:
            u = first + 1
            out_merged[first] = 0
            for j in range(first + 1, wrote):
                if out_id[j] != out_id[u - 1]:
                    out_id[u] = out_id[j]
                    out_merged[u] = 0
                    u += 1
                else:
                    out_merged[u - 1] += 1
            wrote = u
        elif wrote > first:
            out_merged[first] = 0
        for j in range(first, wrote):
            out_step[j] = s
        a = b
        s = nxt
    return a, wrote


class StreamBuffer:
    """The in-memory window of a stream: ``sched_step``/``sched_id`` (``cap`` entries,
    empty slots at step :data:`NEVER`), ``pos`` (the kernels' read position) and
    ``sched_end`` (steps before it are loaded completely). ``merged`` counts the spikes
    merged into entries the kernels have consumed (:meth:`consumed_merges` adds those of
    the current window), so a checkpoint never counts a merge twice."""

    def __init__(self, source: _Source, dt, shift, first, last, cap):
        self.source, self.dt, self.shift = source, float(dt), float(shift)
        self.first, self.last = first, last  # the replayed index range of the source
        self.span = (0, np.iinfo(np.int64).max)
        self.merged = 0
        self._allocate(cap)
        self.restart(0)

    def _allocate(self, cap):
        self.cap = int(cap)
        self.sched_step = np.full(self.cap, NEVER, np.int64)
        self.sched_id = np.zeros(self.cap, np.int32)
        self.sched_merged = np.zeros(self.cap, np.int32)
        self.pos = np.zeros(1, np.int64)
        self.sched_end = np.zeros(1, np.int64)

    def restart(self, step):
        """Empty the window; the next spike read is the first replayed at ``step`` or
        later."""
        self.cursor = self.source.first_index(
            self.first, self.last, lambda t: _step_of(t, self.shift, self.dt) >= step
        )
        self.n_loaded = 0
        self.sched_step[:] = NEVER
        self.pos[0] = 0
        self.sched_end[0] = step if self.cursor < self.last else NEVER

    def refill(self, need) -> bool:
        """Drop what the kernels consumed and read on until the window is full or the
        stream ends; grow the window when it cannot hold every step before ``need``.
        Returns True when the arrays were replaced (the kernels' arguments change)."""
        grew = False
        while True:
            self._top_up()
            if self.sched_end[0] >= need:
                return grew
            old = (self.sched_step, self.sched_id, self.sched_merged)
            n = self.n_loaded
            self._allocate(2 * self.cap)
            for new, was in zip((self.sched_step, self.sched_id, self.sched_merged), old):
                new[:n] = was[:n]
            self.n_loaded = n
            grew = True

    def _top_up(self):
        p, n = int(self.pos[0]), self.n_loaded
        keep = n - p
        self.merged += int(self.sched_merged[:p].sum())
        for arr in (self.sched_step, self.sched_id, self.sched_merged):
            arr[:keep] = arr[p:n]
        n, self.pos[0] = keep, 0
        lo, hi = self.span
        while n < self.cap and self.cursor < self.last:
            b = min(self.cursor + max(self.cap - n, 1), self.last)
            times, ids = self.source.read(self.cursor, b)
            used, wrote = _schedule(
                times, ids, self.shift, self.dt, lo, hi, b == self.last,
                self.sched_step[n:], self.sched_id[n:], self.sched_merged[n:],
            )  # fmt: skip
            if used == 0:  # the next step does not fit in the room left
                break
            self.cursor += used
            n += wrote
        self.sched_step[n:] = NEVER
        self.n_loaded = n
        if self.cursor >= self.last:
            self.sched_end[0] = NEVER
        else:
            self.sched_end[0] = _step_of(self.source.time(self.cursor), self.shift, self.dt)

    def loaded_merges(self) -> int:
        """Spikes merged into the entries of the current window."""
        return int(self.sched_merged[: self.n_loaded].sum())

    def consumed_merges(self) -> int:
        """Spikes merged so far into the entries the kernels have emitted."""
        return self.merged + int(self.sched_merged[: int(self.pos[0])].sum())


def validate(source: _Source, first, last, n_units, where):
    """Check spikes ``first .. last-1`` block by block (flat memory); the largest id."""
    prev, top = -np.inf, -1
    for a in range(first, last, _CHECK_BLOCK):
        b = min(a + _CHECK_BLOCK, last)
        times, ids = source.read(a, b)
        _check_block(times, ids, prev, n_units, f"{where}, spikes {a}..{b - 1}")
        prev, top = times[-1], max(top, int(ids.max()))
    return top


def merge_warning(name, dt):
    warnings.warn(
        f"population {name!r}: streamed spikes fall in the same step as another spike of "
        f"the same source and are merged (dt={dt} s); pop.merged_spikes counts them as "
        "they are replayed",
        stacklevel=_outside_axonforge(),
    )


def _outside_axonforge() -> int:
    """The ``stacklevel`` of the first caller outside axonforge (the user's line)."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("axonforge"):
        frame, level = frame.f_back, level + 1
    return level
