"""Readers (and round-trip writers) for recorded spike data, to replay it in a network.

``read_spikes(path)`` returns a :class:`SpikeData`: spike ``times`` [s] sorted, dense unit
``ids`` 0..n_units-1 and the recording's own ``unit_labels``, ready for
``net.population(SpikeSource(times=data.times, ids=data.ids), n=data.n_units)``.

Formats and the sources their layout follows:

``"nwb"``
    NWB 2.x files (HDF5), read with h5py only: the ``/units`` DynamicTable, whose ragged
    column ``spike_times`` is split by the end offsets in ``spike_times_index``; unit
    labels are ``/units/id``. NWB format specification, "Units" and "DynamicTable"
    (https://nwb-schema.readthedocs.io/en/latest/format.html#units,
    https://hdmf-common-schema.readthedocs.io/en/latest/format.html#dynamictable).
``"text"``
    Plain text, CSV or TSV. ``#`` lines are comments, and a first line that is not numeric is
    a column header. One column: spike times of a single unit. Two columns: time and unit
    label. ``time_unit=`` scales the times to seconds (1e-6 for microseconds).
``"npz"``
    NumPy ``.npz`` with arrays ``times`` [s] and ``ids`` (dense), optionally
    ``unit_labels``, ``n_units``, ``duration`` and ``sampling_rate``.
``"phy"``
    phy / Kilosort output folders: ``spike_times.npy`` (samples), ``spike_clusters.npy``,
    ``params.py`` (``sample_rate = ...``; parsed with :mod:`ast`, never executed) and,
    optionally, ``cluster_group.tsv`` (only clusters whose group is in ``groups``, default
    ``("good",)``, are kept). phy documentation, "Data format"
    (https://phy.readthedocs.io/en/latest/sorting_user_guide/ and
    https://github.com/cortex-lab/phy/blob/master/docs/format.md).
``"nmnist"``
    N-MNIST binary event streams (Orchard et al. 2015, "Converting static image datasets to
    spiking neuromorphic datasets using saccades", Front. Neurosci. 9:437): 5 bytes an
    event, big-endian bit fields x = bits 39-32, y = bits 31-24, polarity = bit 23,
    timestamp [us] = bits 22-0; an event with y == 240 marks a timestamp overflow that adds
    2**13 us to all later events (as in G. Orchard's eventvision.py and tonic's
    ``read_mnist_file``). Pixel (x, y) and polarity p map to unit ``(y*width + x)*2 + p``,
    so ``n_units = width*height*2`` (2312 for the 34x34 sensor).
``"aedat"``
    AEDAT event-camera files of jAER and cAER (iniVation), told apart by their first line
    ``#!AER-DAT<version>``. Pixel (x, y) and polarity p (1 = ON) map to unit
    ``(y*width + x)*2 + p`` as for N-MNIST; timestamps are microseconds.

    *AEDAT 2.0* (and 1.0) -- iniVation, "AEDAT 2.0"
    (https://docs.inivation.com/software/software-advanced-usage/file-formats/aedat-2.0.html):
    ``#`` header lines, then big-endian events of a 32-bit address (16-bit in 1.0) and a
    32-bit timestamp [us]. Addresses follow the DVS128 layout of jAER's ``DVS128``
    event extractor (``ch.unizh.ini.jaer.chip.retina.DVS128``): x = ``127 - ((addr >> 1)
    & 0x7F)`` (the sensor's columns are mirrored), y = ``(addr >> 8) & 0x7F``, polarity
    ON when bit 0 is **clear** (jAER: ``type = (1 - addr) & 1``, ``On`` when type is 1).
    Addresses with bit 15 set are jAER's sync/special events and are skipped (counted
    in ``metadata["special_events"]``); an address above 16 bits means another camera's
    layout (DAVIS) and is refused. The 32-bit timestamp wraps after 2**32 us (71.6 min):
    a backward jump of more than 2**31 us counts as one wrap.

    *AEDAT 3.1* -- iniVation, "AEDAT 3.1"
    (https://docs.inivation.com/software/software-advanced-usage/file-formats/aedat-3.1.html)
    and libcaer's ``events/common.h``/``polarity.h``: ``#`` header lines ending with
    ``#!END-HEADER``, then packets, each a 28-byte little-endian header (eventType,
    eventSource: 16 bit; eventSize, eventTSOffset, eventTSOverflow, eventCapacity,
    eventNumber, eventValid: 32 bit) followed by eventNumber * eventSize bytes (as cAER's
    file input reads them). Polarity events (type 1) are 8 bytes: a 32-bit word with
    bit 0 = valid, bit 1 = polarity (1 = ON), y = bits 2-16, x = bits 17-31, then a 32-bit
    timestamp [us] extended to 64 bits as ``eventTSOverflow << 31 | timestamp``. Only valid
    events are kept; other packet types (special, frame, IMU) are skipped and counted in
    ``metadata["skipped_events"]``; compressed packets (eventType bit 15) are refused.
    ``width``/``height`` come from the options, else a ``sizeX``/``sizeY`` entry of the
    header, else the header's source name (DVS128, DAVIS240, DAVIS346).
``"neo"``
    Any file `Neo <https://neo.readthedocs.io>`_ reads (optional extra ``neo``):
    ``neo.io.get_io(path)`` picks the IO by suffix, or ``io=`` names one (a class, its
    name such as ``"PickleIO"``, or an IO instance). The SpikeTrains of ONE segment become
    the units; times are converted to seconds with ``quantities`` and kept on the file's
    clock. A file with several segments (in all its blocks) needs ``segment=k``: segments
    are not merged, since their clocks may restart (trials) or overlap. Unit labels are
    the SpikeTrains' names when every train has a distinct one, else 0..n-1; the trains'
    annotations are kept in ``metadata["annotations"]``.
``"stream"``
    axonforge's spike-stream files (HDF5 with sorted ``times`` and ``ids``, recognised by
    their ``format`` attribute; :mod:`axonforge.streaming`), read whole; to replay one
    without loading it, use :class:`~axonforge.models.SpikeStream`. ``write_spikes(path,
    data, format="stream")`` writes one.

``read_spikes(path, format="nwb", backend="pynwb")`` reads the same Units table through
pynwb (``NWBHDF5IO(...).read().units``) instead of h5py; :func:`read_timeseries` reads
NWB TimeSeries and SpatialSeries (behaviour, stimuli) to encode them as spikes with
:func:`axonforge.encoding.send_on_delta`.

Every reader applies the same rules: spikes are sorted by time, then by id (stable);
non-finite or negative times, ids outside 0..n_units-1 and unreadable or wrong-format
files raise :class:`ValueError` naming the file and the problem, never a partial result.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import numpy as np

__all__ = [
    "spikes_from_events",
    "SpikeData",
    "TimeSeriesData",
    "read_spikes",
    "read_timeseries",
    "write_spikes",
    "guess_format",
    "FORMATS",
]

FORMATS = ("nwb", "text", "npz", "phy", "nmnist", "aedat", "neo", "stream")
_TEXT_SUFFIXES = {".txt", ".csv", ".tsv", ".dat", ".text"}
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_AEDAT_MAGIC = b"#!AER-DAT"


@dataclasses.dataclass(frozen=True, eq=False)
class SpikeData:
    """Spikes of a recording, sorted by time then id; the arrays are read-only.

    Attributes
    ----------
    times : float64 array [s]
    ids : int64 array, dense unit index 0..n_units-1 of each spike
    n_units : int
    unit_labels : array, the recording's own id or name of each dense unit
    duration : float [s] or None when the file does not say
    sampling_rate : float [Hz] or None
    metadata : dict (``source``, ``format`` and format-specific entries)
    """

    times: np.ndarray
    ids: np.ndarray
    n_units: int
    unit_labels: np.ndarray
    duration: float | None = None
    sampling_rate: float | None = None
    metadata: dict = dataclasses.field(default_factory=dict)

    @property
    def n_spikes(self) -> int:
        return len(self.times)

    def __repr__(self):
        fmt = self.metadata.get("format", "?")
        return f"SpikeData({self.n_spikes} spikes, {self.n_units} units, format={fmt!r})"

    # ------------------------------------------------- preparing a replay (new objects)
    def _with(self, what, times, ids, n_units=None, labels=None, **changes):
        """A new SpikeData (arrays sorted and frozen), noting ``what`` was done."""
        n = self.n_units if n_units is None else n_units
        src = self.metadata.get("source", "<spikes>")
        done = [*self.metadata.get("transforms", ()), what]
        meta = {**self.metadata, "transforms": done}
        fmt = meta.pop("format", "?")
        meta.pop("source", None)
        out = _finish(src, fmt, times, ids, n, self.unit_labels if labels is None else labels,
                      duration=changes.get("duration", self.duration), rate=self.sampling_rate,
                      meta=meta)  # fmt: skip
        return out

    def window(self, start=0.0, stop=None, shift_to_zero=True):
        """The spikes with ``start <= t < stop`` [s]; by default moved so that ``start``
        becomes time 0."""
        stop = np.inf if stop is None else float(stop)
        if not (np.isfinite(start) and start >= 0 and stop > start):
            raise ValueError(f"SpikeData.window: need 0 <= start < stop, got {start}, {stop}")
        keep = (self.times >= start) & (self.times < stop)
        t = self.times[keep] - (start if shift_to_zero else 0.0)
        span = None if not np.isfinite(stop) else stop - (start if shift_to_zero else 0.0)
        return self._with(f"window({start}, {stop})", t, self.ids[keep], duration=span)

    def shifted(self, delay):
        """Every spike ``delay`` seconds later (>= 0: times stay non-negative)."""
        if not (np.isfinite(delay) and delay >= 0):
            raise ValueError(f"SpikeData.shifted: delay must be finite and >= 0, got {delay}")
        dur = None if self.duration is None else self.duration + delay
        return self._with(f"shifted({delay})", self.times + delay, self.ids, duration=dur)

    def select(self, units):
        """Only the given dense unit ids, renumbered 0..len(units)-1 in the order given
        (their labels kept)."""
        units = np.asarray(units, dtype=np.int64).ravel()
        if units.size == 0 or units.min() < 0 or units.max() >= self.n_units:
            raise ValueError(f"SpikeData.select: units must lie in 0..{self.n_units - 1}")
        if len(np.unique(units)) != len(units):
            raise ValueError("SpikeData.select: a unit is listed twice")
        new = np.full(self.n_units, -1, np.int64)
        new[units] = np.arange(len(units))
        keep = new[self.ids] >= 0
        return self._with(f"select({len(units)} units)", self.times[keep], new[self.ids[keep]],
                          n_units=len(units), labels=self.unit_labels[units])  # fmt: skip

    def looped(self, period, until):
        """The recording repeated every ``period`` seconds up to ``until`` (the spikes
        of one copy must lie within ``[0, period)``)."""
        if not (np.isfinite(period) and period > 0 and until > 0):
            raise ValueError("SpikeData.looped: period and until must be positive")
        if self.n_spikes and self.times[-1] >= period:
            raise ValueError(
                f"SpikeData.looped: spikes up to {self.times[-1]} s do not fit one period "
                f"of {period} s; window the recording first"
            )
        copies = int(np.ceil(until / period))
        t = (self.times[None, :] + period * np.arange(copies)[:, None]).ravel()
        ids = np.tile(self.ids, copies)
        keep = t < until
        return self._with(f"looped({period}, {until})", t[keep], ids[keep], duration=until)

    def thinned(self, keep, seed=0):
        """Each spike kept with probability ``keep`` (rate scaling down, independent per
        spike, reproducible by ``seed``)."""
        if not 0.0 <= keep <= 1.0:
            raise ValueError(f"SpikeData.thinned: keep must be in [0, 1], got {keep}")
        mask = np.random.default_rng(seed).random(self.n_spikes) < keep
        return self._with(f"thinned({keep}, seed={seed})", self.times[mask], self.ids[mask])


def _fail(path, problem):
    return ValueError(f"read_spikes: {path}: {problem}")


def _finish(path, fmt, times, ids, n_units, labels, *, duration=None, rate=None, meta=None):
    """Validate, sort by (time, id), freeze and wrap the arrays of one reader."""
    times = np.asarray(times, dtype=np.float64).ravel()
    ids = np.asarray(ids).ravel()
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise _fail(path, f"unit ids must be integers, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if len(times) != len(ids):
        raise _fail(path, f"{len(times)} spike times but {len(ids)} unit ids")
    n_units = int(n_units)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n_units:
        raise _fail(path, f"{len(labels)} unit labels for {n_units} units")
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(
            path, f"{int(bad.sum())} spike time(s) not finite (first: spike {i}, {times[i]})"
        )
    if times.size and times.min() < 0:
        i = int(np.argmin(times))
        raise _fail(path, f"spike {i} has a negative time, {times[i]} s")
    out = (ids < 0) | (ids >= n_units)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise _fail(path, f"{int(out.sum())} unit id(s) outside 0..{n_units - 1} (first: {ids[i]})")
    order = np.lexsort((ids, times))  # stable: time first, then id
    times, ids = times[order], ids[order]
    for a in (times, ids, labels):
        a.setflags(write=False)
    meta = {"source": str(path), "format": fmt, **(meta or {})}
    return SpikeData(
        times=times,
        ids=ids,
        n_units=n_units,
        unit_labels=labels,
        duration=None if duration is None else float(duration),
        sampling_rate=None if rate is None else float(rate),
        metadata=meta,
    )


# ------------------------------------------------------------------ format guessing


def guess_format(path) -> str:
    """The format of ``path`` from its contents (magic bytes) or, failing that, its name."""
    path = Path(path)
    if path.is_dir():
        if (path / "spike_times.npy").exists():
            return "phy"
        raise _fail(path, "a folder, but no spike_times.npy in it (not a phy/Kilosort folder)")
    if not path.exists():
        raise _fail(path, "no such file")
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(_AEDAT_MAGIC):
        return "aedat"
    head = head[:8]
    if head == _HDF5_MAGIC:
        return "stream" if _is_stream(path) else "nwb"
    if head[:4] == _ZIP_MAGIC:
        return "npz"
    suffix = path.suffix.lower()
    if suffix in (".nwb", ".h5", ".hdf5"):
        return "nwb"
    if suffix == ".npz":
        return "npz"
    if suffix in _TEXT_SUFFIXES:
        return "text"
    if suffix == ".bin":
        return "nmnist"
    if suffix == ".aedat":
        return "aedat"
    if suffix in (".pkl", ".pickle", ".nix", ".mat", ".smr", ".plx", ".nev", ".abf"):
        return "neo"
    raise _fail(path, f"cannot tell the format; pass format= one of {FORMATS}")


def _is_stream(path) -> bool:
    import h5py

    from axonforge.streaming import FORMAT

    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") == FORMAT
    except OSError:
        return False


def _read_stream(path):
    """A spike-stream file (:mod:`axonforge.streaming`) read whole, block by block, with
    the stream's own checks (for replaying it in memory or analysing it)."""
    from axonforge import streaming

    try:
        source = streaming.open_source(path)
    except (ValueError, FileNotFoundError) as err:
        raise _fail(path, str(err).split(": ", 1)[-1]) from None
    try:
        n = len(source)
        top = streaming.validate(source, 0, n, source.n_units, str(path)) if n else -1
        times, ids = (
            (np.array(a) for a in source.read(0, n)) if n else (np.zeros(0), np.zeros(0, np.int64))
        )
    finally:
        source.close()
    n_units = source.n_units or top + 1
    return _finish(path, "stream", times, ids, n_units, np.arange(n_units))


def _write_stream(path, data):
    from axonforge.streaming import write_stream

    write_stream(path, data)


def read_spikes(path, format=None, **options) -> SpikeData:
    """Read recorded spikes; ``format`` (one of :data:`FORMATS`) is guessed when None.

    Options: ``time_unit`` (text, default 1.0 s), ``groups`` (phy, default ``("good",)``,
    None keeps every cluster), ``width``/``height`` (nmnist, default 34; aedat, default
    128 for AEDAT 1/2, from the header for 3.1), ``n_units`` (npz without
    ``unit_labels``), ``backend`` (nwb: ``"h5py"``, the default, or ``"pynwb"``), ``io`` and
    ``segment`` (neo).
    """
    path = Path(path)
    fmt = guess_format(path) if format is None else str(format).lower()
    readers = {
        "nwb": _read_nwb,
        "text": _read_text,
        "npz": _read_npz,
        "phy": _read_phy,
        "nmnist": _read_nmnist,
        "aedat": _read_aedat,
        "neo": _read_neo,
        "stream": _read_stream,
    }
    if fmt not in readers:
        raise ValueError(f"read_spikes: unknown format {format!r}; use one of {FORMATS}")
    if fmt not in ("phy", "neo") and not path.is_file():
        raise _fail(path, "no such file" if not path.exists() else "not a file")
    if fmt == "neo" and not path.exists():
        raise _fail(path, "no such file or folder")
    try:
        return readers[fmt](path, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise TypeError(f"read_spikes(format={fmt!r}): {e}") from None
        raise


# ------------------------------------------------------------------ NWB


def _read_nwb(path, backend="h5py"):
    if backend == "pynwb":
        return _read_nwb_pynwb(path)
    if backend != "h5py":
        raise ValueError(
            f"read_spikes(format='nwb'): backend must be 'h5py' or 'pynwb', not {backend!r}"
        )
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise _fail(path, f"not a readable HDF5/NWB file ({e})") from None
    with f:
        if "units" not in f:
            raise _fail(path, "no Units table (/units) in this NWB file")
        if "spike_times" not in f["units"]:
            raise _fail(path, "the Units table (/units) has no spike_times column")
        u = f["units"]
        if "spike_times_index" not in u or "id" not in u:
            raise _fail(path, "the Units table lacks spike_times_index or id")
        st = np.asarray(u["spike_times"][()], dtype=np.float64)
        end = np.asarray(u["spike_times_index"][()], dtype=np.int64)
        labels = np.asarray(u["id"][()])
        resolution = u["spike_times"].attrs.get("resolution", -1.0)
        version = f.attrs.get("nwb_version", None)
        # the session's span, when the file has an epochs table
        stops = f.get("intervals/epochs/stop_time")
        duration = float(np.max(stops[()])) if stops is not None and stops.size else None
    if len(end) != len(labels):
        raise _fail(path, f"spike_times_index has {len(end)} rows but id has {len(labels)}")
    if np.any(np.diff(end) < 0) or (len(end) and (end[0] < 0 or end[-1] != len(st))):
        raise _fail(path, "spike_times_index is not a valid set of end offsets into spike_times")
    counts = np.diff(np.r_[0, end])
    ids = np.repeat(np.arange(len(labels), dtype=np.int64), counts)
    if len(end) == 0 and len(st):
        raise _fail(path, "spike_times holds spikes but the Units table has no rows")
    resolution = float(resolution)
    meta = {}
    if version is not None:
        meta["nwb_version"] = version.decode() if isinstance(version, bytes) else str(version)
    return _finish(
        path,
        "nwb",
        st,
        ids,
        len(labels),
        labels,
        duration=duration,
        rate=1.0 / resolution if resolution > 0 else None,
        meta=meta,
    )


def _read_nwb_pynwb(path):
    """The Units table through pynwb: its own reading of ids and ragged spike_times."""
    try:
        from pynwb import NWBHDF5IO
    except ImportError:
        raise ImportError(
            "read_spikes(format='nwb', backend='pynwb') needs pynwb: pip install 'axonforge[data]'"
        ) from None
    units = None
    try:
        with NWBHDF5IO(str(path), "r") as io:
            nwb = io.read()
            units = nwb.units
            if units is not None:
                labels = np.asarray(units.id[:])
                trains = [
                    np.asarray(units.get_unit_spike_times(i), np.float64)
                    for i in range(len(labels))
                ]
            stop = None
            if nwb.epochs is not None and len(nwb.epochs):
                stop = float(np.max(nwb.epochs["stop_time"][:]))
            version = getattr(nwb, "nwb_version", None) or io.nwb_version[0]
    except Exception as e:  # pynwb/hdmf raise many kinds (ValueError too) for such files
        raise _fail(path, f"pynwb cannot read it ({type(e).__name__}: {e})") from None
    if units is None:
        raise _fail(path, "no Units table (/units) in this NWB file")
    counts = [len(t) for t in trains]
    times = np.concatenate(trains) if trains else np.zeros(0)
    ids = np.repeat(np.arange(len(labels), dtype=np.int64), counts)
    meta = {"backend": "pynwb", "nwb_version": str(version)}
    return _finish(path, "nwb", times, ids, len(labels), labels, duration=stop, meta=meta)


def _write_nwb(path, data):
    import datetime

    import h5py

    labels = np.asarray(data.unit_labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("write_spikes(format='nwb'): unit_labels must be integers (Units ids)")
    order = np.lexsort((data.times, data.ids))  # by unit, then time
    st = np.asarray(data.times, np.float64)[order]
    end = np.cumsum(np.bincount(data.ids, minlength=data.n_units)).astype(np.int64)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    with h5py.File(path, "w") as f:
        f.attrs["nwb_version"] = "2.7.0"
        f.attrs["namespace"] = "core"
        f.attrs["neurodata_type"] = "NWBFile"
        f.create_dataset("identifier", data=f"axonforge {Path(path).name}")
        f.create_dataset("session_description", data="spike data written by axonforge")
        f.create_dataset("session_start_time", data=now)
        f.create_dataset("timestamps_reference_time", data=now)
        f.create_dataset("file_create_date", data=[now], dtype=h5py.string_dtype())
        for g in ("acquisition", "analysis", "processing", "general", "stimulus/presentation"):
            f.require_group(g)
        f.require_group("stimulus/templates")
        u = f.create_group("units")
        u.attrs.update(
            namespace="core",
            neurodata_type="Units",
            colnames=np.array(["spike_times"], dtype=h5py.string_dtype()),
            description="units written by axonforge.write_spikes",
        )
        ids = u.create_dataset("id", data=labels.astype(np.int64))
        ids.attrs.update(namespace="hdmf-common", neurodata_type="ElementIdentifiers")
        d = u.create_dataset("spike_times", data=st)
        d.attrs.update(
            namespace="hdmf-common",
            neurodata_type="VectorData",
            description="the spike times for each unit in seconds",
            resolution=1.0 / data.sampling_rate if data.sampling_rate else -1.0,
        )
        x = u.create_dataset("spike_times_index", data=end)
        x.attrs.update(
            namespace="hdmf-common",
            neurodata_type="VectorIndex",
            description="Index for VectorData 'spike_times'",
            target=d.ref,
        )


# ------------------------------------------------------------------ text


def _read_text(path, time_unit=1.0):
    time_unit = float(time_unit)
    if not (math.isfinite(time_unit) and time_unit > 0):
        raise ValueError(f"read_spikes: time_unit must be a positive number, got {time_unit}")
    try:
        lines = Path(path).read_text().splitlines()
    except UnicodeDecodeError:
        raise _fail(path, "not a text file (cannot decode it as text)") from None
    rows, ncol, seen_data = [], None, False
    for lineno, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        fields = [v.strip() for v in s.split(",")] if "," in s else s.split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            if not seen_data and ncol is None:
                ncol = len(fields)  # a column header such as "time,unit"
                seen_data = True
                continue
            raise _fail(path, f"line {lineno}: not a number in {s!r}") from None
        if ncol is None:
            ncol = len(values)
        seen_data = True
        if len(values) != ncol or ncol not in (1, 2):
            raise _fail(
                path,
                f"line {lineno}: {len(values)} column(s) where {ncol} were expected "
                "(one column of times, or two: time and unit)",
            )
        rows.append(values)
    if not rows:
        raise _fail(path, "no spike times in this text file")
    table = np.array(rows, dtype=np.float64)
    times = table[:, 0] * time_unit
    if ncol == 1:
        ids = np.zeros(len(times), np.int64)
        return _finish(path, "text", times, ids, 1, np.array([0]), meta={"time_unit": time_unit})
    raw = table[:, 1]
    if not np.all(np.isfinite(raw)):
        raise _fail(path, "a unit label in the second column is not finite")
    if np.all(raw == np.round(raw)):
        raw = raw.astype(np.int64)
    labels, ids = np.unique(raw, return_inverse=True)
    return _finish(path, "text", times, ids, len(labels), labels, meta={"time_unit": time_unit})


def _write_text(path, data):
    sep = "," if Path(path).suffix.lower() == ".csv" else "\t"
    labels = np.asarray(data.unit_labels)
    if labels.size and not np.issubdtype(labels.dtype, np.number):
        raise ValueError("write_spikes(format='text'): unit_labels must be numbers; use npz")
    labels = labels[data.ids]
    with open(path, "w") as f:
        f.write(f"# spike data written by axonforge: time [s]{sep}unit label\n")
        for t, lab in zip(data.times.tolist(), labels.tolist()):
            f.write(f"{t!r}{sep}{lab}\n")


# ------------------------------------------------------------------ npz


def _read_npz(path, n_units=None):
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # zipfile.BadZipFile, OSError, ValueError, ...
        raise _fail(path, f"not a readable .npz file ({e})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _fail(path, "a single .npy array, not an .npz archive with times and ids")
    with z:
        missing = [k for k in ("times", "ids") if k not in z.files]
        if missing:
            raise _fail(path, f"no array(s) {missing} (needs 'times' and 'ids')")
        times, ids = z["times"], z["ids"]
        labels = z["unit_labels"] if "unit_labels" in z.files else None
        extra = {k: z[k][()] for k in ("n_units", "duration", "sampling_rate") if k in z.files}
    if labels is not None:
        n = len(labels)
    elif n_units is not None or "n_units" in extra:
        n = int(n_units if n_units is not None else extra["n_units"])
        labels = np.arange(n)
    else:
        n = int(np.max(ids)) + 1 if len(ids) else 0
        labels = np.arange(n)
    if n_units is not None and int(n_units) != n:
        raise _fail(path, f"n_units={n_units} but the file has {n} unit labels")
    rate = extra.get("sampling_rate")
    rate = float(rate) if rate is not None and float(rate) > 0 else None
    return _finish(path, "npz", times, ids, n, labels, duration=extra.get("duration"), rate=rate)


def _write_npz(path, data):
    extra = {}
    if data.duration is not None:
        extra["duration"] = np.float64(data.duration)
    if data.sampling_rate is not None:
        extra["sampling_rate"] = np.float64(data.sampling_rate)
    np.savez(
        path,
        times=np.asarray(data.times, np.float64),
        ids=np.asarray(data.ids, np.int64),
        unit_labels=np.asarray(data.unit_labels),
        n_units=np.int64(data.n_units),
        **extra,
    )


# ------------------------------------------------------------------ phy / Kilosort


def _parse_params(path):
    """``params.py`` as a dict of its literal assignments, without executing it."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError) as e:
        raise _fail(path, f"params.py cannot be parsed ({e})") from None
    params = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    params[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass  # not a literal (an expression): phy needs none of those here
    return params


def _read_cluster_groups(path):
    """``{cluster_id: group}`` from phy's ``cluster_group.tsv`` (header ``cluster_id group``)."""
    groups = {}
    lines = path.read_text().splitlines()
    for lineno, line in enumerate(lines[1:], 2):
        fields = line.split("\t") if "\t" in line else line.split()
        if not fields or not line.strip():
            continue
        try:
            groups[int(fields[0])] = fields[1].strip() if len(fields) > 1 else ""
        except ValueError:
            raise _fail(path, f"line {lineno}: not a cluster id in {line!r}") from None
    return groups


def _load_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise _fail(path, f"not a readable .npy file ({e})") from None


def _read_phy(path, groups=("good",)):
    folder = Path(path)
    if not folder.is_dir():
        raise _fail(folder, "a phy/Kilosort dataset is a folder")
    for name in ("params.py", "spike_times.npy", "spike_clusters.npy"):
        if not (folder / name).exists():
            raise _fail(folder, f"phy/Kilosort folder without {name}")
    params = _parse_params(folder / "params.py")
    rate = params.get("sample_rate")
    if not isinstance(rate, (int, float)) or not rate > 0:
        raise _fail(folder / "params.py", "no positive numeric 'sample_rate = ...'")
    samples = _load_npy(folder / "spike_times.npy").ravel()
    clusters = _load_npy(folder / "spike_clusters.npy").ravel()
    if len(samples) != len(clusters):
        raise _fail(
            folder,
            f"spike_times.npy has {len(samples)} spikes, spike_clusters.npy {len(clusters)}",
        )
    if samples.size and not np.issubdtype(samples.dtype, np.integer):
        raise _fail(
            folder / "spike_times.npy", f"sample indices must be integers ({samples.dtype})"
        )
    if clusters.size and not np.issubdtype(clusters.dtype, np.integer):
        raise _fail(
            folder / "spike_clusters.npy", f"cluster ids must be integers ({clusters.dtype})"
        )
    clusters = clusters.astype(np.int64)
    tsv = folder / "cluster_group.tsv"
    meta = {"sample_rate": float(rate), "groups": None}
    if tsv.exists() and groups is not None:
        wanted = {str(g) for g in groups}
        table = _read_cluster_groups(tsv)
        labels = np.array(sorted(c for c, g in table.items() if g in wanted), dtype=np.int64)
        meta["groups"] = tuple(sorted(wanted))
    else:
        labels = np.unique(clusters)
    keep = np.isin(clusters, labels)
    ids = np.searchsorted(labels, clusters[keep])
    times = samples[keep].astype(np.float64) / float(rate)
    return _finish(path, "phy", times, ids, len(labels), labels, rate=rate, meta=meta)


def _write_phy(path, data, sample_rate=None):
    folder = Path(path)
    rate = sample_rate if sample_rate is not None else data.sampling_rate
    if not rate:
        raise ValueError("write_spikes(format='phy'): needs a sampling_rate (data or option)")
    labels = np.asarray(data.unit_labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("write_spikes(format='phy'): unit_labels must be integer cluster ids")
    samples = np.asarray(data.times, np.float64) * rate
    rounded = np.round(samples)
    if np.any(np.abs(samples - rounded) > 1e-6):
        raise ValueError(
            f"write_spikes(format='phy'): spike times are not on the {rate} Hz sample grid"
        )
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "spike_times.npy", rounded.astype(np.uint64))
    np.save(folder / "spike_clusters.npy", labels[data.ids].astype(np.int32))
    (folder / "params.py").write_text(
        "dat_path = ''\nn_channels_dat = 0\ndtype = 'int16'\noffset = 0\n"
        f"sample_rate = {float(rate)!r}\nhp_filtered = False\n"
    )
    rows = "".join(f"{int(c)}\tgood\n" for c in labels)
    (folder / "cluster_group.tsv").write_text("cluster_id\tgroup\n" + rows)


# ------------------------------------------------------------------ N-MNIST


def _read_nmnist(path, width=34, height=34):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise _fail(
            path,
            f"{raw.size} bytes is not a multiple of 5: truncated or not an N-MNIST event file",
        )
    ev = raw.reshape(-1, 5).astype(np.int64)
    x, y = ev[:, 0], ev[:, 1]
    p = ev[:, 2] >> 7
    t_us = ((ev[:, 2] & 0x7F) << 16) | (ev[:, 3] << 8) | ev[:, 4]
    overflow = y == 240  # timestamp-overflow marker: later events gain 2**13 us
    if overflow.any():
        t_us = t_us + np.cumsum(overflow) * 2**13
        keep = ~overflow
        x, y, p, t_us = x[keep], y[keep], p[keep], t_us[keep]
    outside = (x >= width) | (y >= height)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise _fail(
            path,
            f"{int(outside.sum())} event(s) outside the {width}x{height} sensor "
            f"(first: event {i} at x={x[i]}, y={y[i]}); wrong width/height or not N-MNIST",
        )
    n_units = width * height * 2
    ids = (y * width + x) * 2 + p
    meta = {"width": width, "height": height, "channel": "(y*width + x)*2 + polarity"}
    return _finish(
        path, "nmnist", t_us * 1e-6, ids, n_units, np.arange(n_units), rate=1e6, meta=meta
    )


def spikes_from_events(events, width, height, time_unit=1e-6, source="<events>") -> SpikeData:
    """Event-camera events as spikes: a structured array with fields ``x``, ``y``, ``t``
    and ``p`` (or ``polarity``), as tonic and most event-camera libraries hold them
    (``t`` in ``time_unit`` seconds, default microseconds). Pixel ``(x, y)`` and
    polarity ``p`` (0 or 1) become unit ``(y*width + x)*2 + p``, so
    ``n_units = width*height*2``, the layout of the N-MNIST and AEDAT readers."""
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    pol = "p" if "p" in names else "polarity" if "polarity" in names else None
    missing = [f for f in ("x", "y", "t") if f not in names] + ([] if pol else ["p"])
    if missing:
        raise ValueError(
            f"{source}: events must be a structured array with fields x, y, t and p (or "
            f"polarity); missing {missing} (fields: {list(names)})"
        )
    x, y = np.asarray(events["x"], np.int64), np.asarray(events["y"], np.int64)
    p = np.asarray(events[pol]).astype(np.int64)
    t = np.asarray(events["t"], np.float64) * float(time_unit)
    for name, bad in (
        ("x outside 0..width-1", (x < 0) | (x >= width)),
        ("y outside 0..height-1", (y < 0) | (y >= height)),
        ("polarity not 0 or 1", (p < 0) | (p > 1)),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _fail(source, f"event {i}: {name} (x={x[i]}, y={y[i]}, p={p[i]}; sensor "
                                f"{width}x{height})")  # fmt: skip
    n_units = int(width) * int(height) * 2
    meta = {"width": int(width), "height": int(height), "channel": "(y*width + x)*2 + polarity"}
    return _finish(source, "events", t, (y * width + x) * 2 + p, n_units, np.arange(n_units),
                   meta=meta)  # fmt: skip


def _write_nmnist(path, data, width=34, height=34):
    """The N-MNIST layout of :func:`_read_nmnist`: times must be whole microseconds; an
    overflow marker (y = 240) goes before the first event that needs it, as many as keep
    every timestamp within 23 bits (each adds 2**13 us, eventvision.py's convention)."""
    n_units = width * height * 2
    if data.n_units > n_units:
        raise ValueError(f"write_spikes(nmnist): {data.n_units} units > {width}x{height}x2")
    t_us = np.rint(np.asarray(data.times) * 1e6).astype(np.int64)
    if len(t_us) and np.abs(t_us - np.asarray(data.times) * 1e6).max() > 1e-3:
        raise ValueError("write_spikes(nmnist): times must be whole microseconds")
    ids = np.asarray(data.ids, np.int64)
    pixel, p = ids // 2, ids % 2
    x, y = pixel % width, pixel // width
    top = (1 << 23) - 1
    markers = np.maximum(0, -(-(t_us - top) // 2**13))  # markers needed before each event
    new = np.diff(np.r_[0, markers])  # markers to insert before event i
    t_rel = t_us - markers * 2**13
    ev = np.zeros((len(ids), 5), np.uint8)
    ev[:, 0], ev[:, 1] = x, y
    ev[:, 2] = (p << 7) | ((t_rel >> 16) & 0x7F)
    ev[:, 3], ev[:, 4] = (t_rel >> 8) & 0xFF, t_rel & 0xFF
    before = np.repeat(np.arange(len(ids)), new)
    out = np.insert(ev, before, np.array([0, 240, 0, 0, 0], np.uint8), axis=0)
    Path(path).write_bytes(out.tobytes())


# ------------------------------------------------------------------ AEDAT (jAER / cAER)

_SENSOR_SIZES = {"DVS128": (128, 128), "DAVIS240": (240, 180), "DAVIS346": (346, 260)}
# the 28-byte AEDAT 3.1 packet header, little-endian (libcaer events/common.h)
_AEDAT3_HEADER = np.dtype(
    [
        ("type", "<u2"),
        ("source", "<u2"),
        ("size", "<u4"),
        ("ts_offset", "<u4"),
        ("ts_overflow", "<u4"),
        ("capacity", "<u4"),
        ("number", "<u4"),
        ("valid", "<u4"),
    ]
)


def _aedat_header(path, raw):
    """``(version, header text, offset of the first binary byte)``."""
    if not raw.startswith(_AEDAT_MAGIC):
        raise _fail(path, "does not start with '#!AER-DAT': not an AEDAT file")
    first = raw[: raw.find(b"\n")] if b"\n" in raw else raw
    version = first[len(_AEDAT_MAGIC) :].strip().decode("ascii", "replace")
    if version.startswith("3"):
        end = raw.find(b"#!END-HEADER")
        nl = raw.find(b"\n", end) if end >= 0 else -1
        if nl < 0:
            raise _fail(path, "AEDAT 3 header without its '#!END-HEADER' line (truncated?)")
        body = nl + 1
    else:
        body = 0
        while raw[body : body + 1] == b"#":
            nl = raw.find(b"\n", body)
            if nl < 0:
                raise _fail(path, "AEDAT header line without an end (truncated?)")
            body = nl + 1
    return version, raw[:body].decode("latin-1"), body


def _events_to_units(path, fmt, x, y, p, t_us, width, height, meta):
    outside = (x < 0) | (x >= width) | (y < 0) | (y >= height)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise _fail(
            path,
            f"{int(outside.sum())} event(s) outside the {width}x{height} sensor (first: event "
            f"{i} at x={x[i]}, y={y[i]}); wrong width/height or another camera's layout",
        )
    n_units = width * height * 2
    ids = (y * width + x) * 2 + p
    meta = {"width": width, "height": height, "channel": "(y*width + x)*2 + polarity", **meta}
    return _finish(path, fmt, t_us * 1e-6, ids, n_units, np.arange(n_units), rate=1e6, meta=meta)


def _read_aedat(path, width=None, height=None):
    raw = Path(path).read_bytes()
    version, header, body = _aedat_header(path, raw)
    if version.startswith("3"):
        return _read_aedat3(path, raw, version, header, body, width, height)
    if version not in ("1.0", "2.0", "1", "2"):
        raise _fail(path, f"AEDAT version {version!r} is not supported (1.0, 2.0 or 3.1)")
    width = 128 if width is None else int(width)
    height = 128 if height is None else int(height)
    step = 6 if version.startswith("1") else 8
    n = len(raw) - body
    if n % step:
        raise _fail(
            path,
            f"{n} bytes of events is not a multiple of {step} (AEDAT {version}): truncated file",
        )
    if step == 8:
        ev = np.frombuffer(raw, dtype=">u4", offset=body).reshape(-1, 2).astype(np.int64)
        addr, ts = ev[:, 0], ev[:, 1]
    else:
        ev = np.frombuffer(raw, dtype=[("a", ">u2"), ("t", ">u4")], offset=body)
        addr, ts = ev["a"].astype(np.int64), ev["t"].astype(np.int64)
    wide = addr > 0xFFFF
    if wide.any():
        i = int(np.flatnonzero(wide)[0])
        raise _fail(
            path,
            f"event {i} has address {addr[i]:#x}, wider than the 16-bit DVS128 layout "
            "(a DAVIS or other camera's layout, which this reader does not decode)",
        )
    # a backward jump of more than half the 32-bit range is a wrap of the timestamp
    wraps = np.r_[0, np.cumsum(np.diff(ts) < -(2**31))]
    ts = ts + wraps * 2**32
    special = (addr & 0x8000) != 0
    addr, ts = addr[~special], ts[~special]
    x = (width - 1) - ((addr >> 1) & 0x7F)
    y = (addr >> 8) & 0x7F
    p = 1 - (addr & 1)
    meta = {
        "aedat_version": version,
        "special_events": int(special.sum()),
        "timestamp_wraps": int(wraps[-1]) if len(wraps) else 0,
        "header": header,
    }
    return _events_to_units(path, "aedat", x, y, p, ts, width, height, meta)


def _aedat3_size(header):
    """(width, height) from a cAER header, or None."""
    import re

    sx = re.search(r"size\s*X\W{0,30}?(\d+)", header, re.IGNORECASE)
    sy = re.search(r"size\s*Y\W{0,30}?(\d+)", header, re.IGNORECASE)
    if sx and sy:
        return int(sx.group(1)), int(sy.group(1))
    for name, size in _SENSOR_SIZES.items():
        if re.search(rf"#\s*-?Source\s+\d+\s*:\s*{name}", header, re.IGNORECASE):
            return size
    return None


def _read_aedat3(path, raw, version, header, body, width, height):
    if version != "3.1":
        raise _fail(path, f"AEDAT version {version!r} is not supported (1.0, 2.0 or 3.1)")
    if width is None or height is None:
        size = _aedat3_size(header)
        if size is None:
            raise _fail(
                path,
                "the AEDAT 3.1 header names no sensor size (sizeX/sizeY or a known source); "
                "pass width= and height=",
            )
        width = size[0] if width is None else width
        height = size[1] if height is None else height
    width, height = int(width), int(height)
    words, overflow, sources, skipped = [], [], set(), {}
    pos, end = body, len(raw)
    while pos < end:  # one Python step per packet (thousands of events each)
        if end - pos < 28:
            raise _fail(path, f"packet header at byte {pos} cut short: truncated file")
        h = np.frombuffer(raw, _AEDAT3_HEADER, count=1, offset=pos)[0]
        kind, size, number = int(h["type"]), int(h["size"]), int(h["number"])
        stop = pos + 28 + size * number
        if stop > end:
            raise _fail(
                path,
                f"packet at byte {pos} holds {number} events of {size} bytes but only "
                f"{end - pos - 28} bytes follow: truncated file",
            )
        if kind & 0x8000:
            raise _fail(path, f"packet at byte {pos} is compressed, which is not supported")
        if kind == 1:
            if size != 8 or int(h["ts_offset"]) != 4:
                raise _fail(
                    path,
                    f"polarity packet at byte {pos} has eventSize {size} and eventTSOffset "
                    f"{int(h['ts_offset'])} (expected 8 and 4)",
                )
            words.append(np.frombuffer(raw, "<u4", count=2 * number, offset=pos + 28))
            overflow.append(np.full(number, int(h["ts_overflow"]), np.int64))
            sources.add(int(h["source"]))
        else:
            skipped[kind] = skipped.get(kind, 0) + number
        pos = stop
    if len(sources) > 1:
        raise _fail(path, f"polarity events from several sources {sorted(sources)}")
    ev = (
        np.concatenate(words).reshape(-1, 2).astype(np.int64)
        if words
        else np.zeros((0, 2), np.int64)
    )
    ovf = np.concatenate(overflow) if overflow else np.zeros(0, np.int64)
    data, ts = ev[:, 0], ev[:, 1]
    if np.any(ts >= 2**31):
        i = int(np.flatnonzero(ts >= 2**31)[0])
        raise _fail(path, f"polarity event {i} has a timestamp with bit 31 set (not AEDAT 3.1)")
    valid = (data & 1) == 1
    data, ts, ovf = data[valid], ts[valid], ovf[valid]
    t_us = (ovf << 31) | ts
    x, y, p = (data >> 17) & 0x7FFF, (data >> 2) & 0x7FFF, (data >> 1) & 1
    meta = {
        "aedat_version": version,
        "invalid_events": int((~valid).sum()),
        "skipped_events": skipped,
        "header": header,
    }
    return _events_to_units(path, "aedat", x, y, p, t_us, width, height, meta)


def _aedat_events(data, width, height):
    """(x, y, p, t_us) of a SpikeData whose ids are ``(y*width + x)*2 + p``."""
    if data.n_units != width * height * 2:
        raise ValueError(
            f"write_spikes(format='aedat'): {data.n_units} units is not width*height*2 = "
            f"{width * height * 2}"
        )
    t_us = np.round(np.asarray(data.times, np.float64) * 1e6)
    if np.any(np.abs(t_us - np.asarray(data.times) * 1e6) > 1e-3):
        raise ValueError("write_spikes(format='aedat'): spike times are not whole microseconds")
    ids = np.asarray(data.ids, np.int64)
    pixel, p = ids // 2, ids % 2
    return pixel % width, pixel // width, p, t_us.astype(np.int64)


def _write_aedat(path, data, version="2.0", width=None, height=None, packet_events=4096):
    meta = data.metadata or {}
    width = int(width if width is not None else meta.get("width", 128))
    height = int(height if height is not None else meta.get("height", 128))
    x, y, p, t_us = _aedat_events(data, width, height)
    if version == "2.0":
        if width > 128 or height > 128:
            raise ValueError(
                "write_spikes(format='aedat', version='2.0'): the DVS128 layout holds "
                "128x128 pixels at most"
            )
        addr = (y << 8) | (((width - 1) - x) << 1) | (1 - p)
        ev = np.empty((len(addr), 2), ">u4")
        ev[:, 0], ev[:, 1] = addr, t_us % 2**32
        head = (
            "#!AER-DAT2.0\r\n"
            "# This is a raw AE data file written by axonforge (DVS128 address layout)\r\n"
            "# Data format is int32 address, int32 timestamp (8 bytes total), big-endian\r\n"
            "# Timestamps tick is 1 us\r\n"
        )
        Path(path).write_bytes(head.encode() + ev.tobytes())
        return
    if version != "3.1":
        raise ValueError(
            f"write_spikes(format='aedat'): version must be '2.0' or '3.1', not {version!r}"
        )
    source = "DVS128" if (width, height) == (128, 128) else "axonforge"
    head = (
        "#!AER-DAT3.1\r\n#Format: RAW\r\n"
        f"#Source 1: {source}\r\n#sizeX: {width}\r\n#sizeY: {height}\r\n#!END-HEADER\r\n"
    )
    words = np.empty((len(x), 2), "<u4")
    words[:, 0] = (x << 17) | (y << 2) | (p << 1) | 1
    words[:, 1] = t_us & (2**31 - 1)
    ovf = t_us >> 31
    parts = [head.encode()]
    cuts = np.flatnonzero(np.diff(ovf)) + 1  # a packet never spans an overflow change
    for seg in np.split(np.arange(len(x)), cuts):
        for start in range(0, len(seg), packet_events):
            chunk = seg[start : start + packet_events]
            h = np.zeros(1, _AEDAT3_HEADER)
            h["type"], h["source"], h["size"], h["ts_offset"] = 1, 1, 8, 4
            h["ts_overflow"] = ovf[chunk[0]]
            h["capacity"] = h["number"] = h["valid"] = len(chunk)
            parts += [h.tobytes(), words[chunk].tobytes()]
    Path(path).write_bytes(b"".join(parts))


# ------------------------------------------------------------------ Neo


def _read_neo(path, io=None, segment=None):
    try:
        import neo
        import quantities as pq
    except ImportError:
        raise ImportError(
            "read_spikes(format='neo') needs the neo package: pip install 'axonforge[neo]'"
        ) from None
    if isinstance(io, str):
        cls = getattr(neo.io, io, None)
        if not isinstance(cls, type):
            names = sorted(c.__name__ for c in neo.io.iolist)
            raise ValueError(f"read_spikes(format='neo'): no neo IO named {io!r}; one of {names}")
        io = cls
    try:
        if io is None:
            reader = neo.io.get_io(str(path))
        elif isinstance(io, type):
            reader = io(str(path))
        else:
            reader = io
        blocks = reader.read(lazy=False)
    except Exception as e:  # neo's IOs raise IOError, KeyError, NeoReadWriteError, ...
        raise _fail(path, f"neo cannot read it ({type(e).__name__}: {e})") from None
    segments = [seg for block in blocks for seg in block.segments]
    if not segments:
        raise _fail(path, "neo found no segment in this file")
    if segment is None:
        if len(segments) > 1:
            raise _fail(
                path,
                f"{len(segments)} segments (in {len(blocks)} block(s)); pass segment=k "
                f"(0..{len(segments) - 1}) to read one: segments are not merged, their "
                "clocks may restart",
            )
        segment = 0
    if not 0 <= int(segment) < len(segments):
        raise _fail(path, f"segment={segment} but the file has {len(segments)} segment(s)")
    seg = segments[int(segment)]
    trains = list(seg.spiketrains)
    if not trains:
        raise _fail(path, f"segment {segment} holds no SpikeTrain")
    times = [np.asarray(st.rescale(pq.s).magnitude, np.float64).ravel() for st in trains]
    ids = np.repeat(np.arange(len(trains), dtype=np.int64), [len(t) for t in times])
    names = [st.name for st in trains]
    if all(names) and len(set(names)) == len(names):
        labels = np.array([str(n) for n in names])
    else:
        labels = np.arange(len(trains))
    stop = max(float(st.t_stop.rescale(pq.s).magnitude) for st in trains)
    meta = {
        "io": type(reader).__name__,
        "segment": int(segment),
        "n_segments": len(segments),
        "annotations": [dict(st.annotations) for st in trains],
    }
    return _finish(path, "neo", np.concatenate(times), ids, len(trains), labels,
                   duration=stop, meta=meta)  # fmt: skip


# ------------------------------------------------------------------ NWB time series


@dataclasses.dataclass(frozen=True, eq=False)
class TimeSeriesData:
    """One NWB TimeSeries (or a container's series side by side); arrays read-only.

    Attributes
    ----------
    times : float64 array [s], one per sample
    data : float64 array, ``(samples,)`` or ``(samples, channels)``, in ``unit``
        (the file's values times ``conversion`` plus ``offset``)
    labels : tuple of str, one per channel
    unit : str
    name : str, the series' path in the file
    metadata : dict
    """

    times: np.ndarray
    data: np.ndarray
    labels: tuple
    unit: str
    name: str
    metadata: dict = dataclasses.field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(self.times)

    def __repr__(self):
        shape = "x".join(map(str, self.data.shape))
        return f"TimeSeriesData({self.name!r}, {shape}, unit={self.unit!r})"


def _series_groups(f):
    """Paths of every group with a ``data`` dataset and a time base."""
    found = []

    def visit(name, obj):
        if (
            hasattr(obj, "keys")
            and "data" in obj
            and ("timestamps" in obj or "starting_time" in obj)
        ):
            found.append(name)

    f.visititems(visit)
    return found


def _read_series(path, g):
    data = g["data"]
    values = np.asarray(data[()], dtype=np.float64)
    conv = float(data.attrs.get("conversion", 1.0))
    offset = float(data.attrs.get("offset", 0.0))
    values = values * conv + offset
    n = values.shape[0] if values.ndim else 0
    if "timestamps" in g:
        times = np.asarray(g["timestamps"][()], np.float64)
    else:
        rate = float(g["starting_time"].attrs.get("rate", 0.0))
        if not rate > 0:
            raise _fail(path, f"{g.name}: starting_time without a positive rate")
        times = float(g["starting_time"][()]) + np.arange(n) / rate
    if len(times) != n:
        raise _fail(path, f"{g.name}: {len(times)} timestamps for {n} samples")
    if not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
        raise _fail(path, f"{g.name}: timestamps not finite and non-decreasing")
    unit = data.attrs.get("unit", "")
    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
    return times, values, unit


def read_timeseries(path, name) -> TimeSeriesData:
    """Read an NWB TimeSeries or SpatialSeries (h5py only), e.g. ``"Position"``.

    ``name`` is a path in the file (``"acquisition/Position/x"``) or a name under
    ``acquisition``, ``processing/<module>``, ``stimulus/presentation`` or ``analysis``
    (``"Position/x"``, ``"sleep_ripples"``). A container of series (``Position``,
    ``CompassDirection``) gives its series side by side as channels, in name order, when
    they share their timestamps. Times come from ``timestamps``, else ``starting_time``
    and its ``rate`` (NWB "TimeSeries",
    https://nwb-schema.readthedocs.io/en/latest/format.html#timeseries). A missing name
    raises ValueError listing the series the file has.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"read_timeseries: {path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"read_timeseries: {path}: not a readable HDF5/NWB file ({e})") from None
    with f:
        name = str(name).strip("/")
        roots = ["", "acquisition/", "stimulus/presentation/", "analysis/"]
        roots += [f"processing/{m}/" for m in f.get("processing", {})]
        g = next((f[r + name] for r in roots if (r + name) in f), None)
        if g is None or not hasattr(g, "keys"):
            have = _series_groups(f)
            raise ValueError(
                f"read_timeseries: {path}: no time series {name!r}; the file has "
                f"{have if have else 'none'}"
            )
        if "data" in g:
            times, values, unit = _read_series(path, g)
            labels = (
                (g.name.rsplit("/", 1)[-1],)
                if values.ndim == 1
                else tuple(f"{g.name.rsplit('/', 1)[-1]}[{j}]" for j in range(values.shape[1]))
            )
        else:
            members = [k for k in sorted(g) if hasattr(g[k], "keys") and "data" in g[k]]
            if not members:
                raise ValueError(
                    f"read_timeseries: {path}: {g.name} holds no time series; the file has "
                    f"{_series_groups(f)}"
                )
            parts = [_read_series(path, g[k]) for k in members]
            times, unit = parts[0][0], parts[0][2]
            for k, (t, v, _) in zip(members, parts):
                if v.ndim != 1 or len(t) != len(times) or not np.array_equal(t, times):
                    raise ValueError(
                        f"read_timeseries: {path}: {g.name}/{k} does not share the "
                        f"timestamps of {g.name}/{members[0]}; read the series one by one"
                    )
            values = np.column_stack([v for _, v, _ in parts])
            labels = tuple(members)
        kind = g.attrs.get("neurodata_type", "")
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        series = g.name
    for a in (times, values):
        a.setflags(write=False)
    meta = {"source": str(path), "neurodata_type": kind}
    return TimeSeriesData(times, values, labels, unit, series, meta)


# ------------------------------------------------------------------ writing


def write_spikes(path, data, format=None, **options):
    """Write ``data`` (a :class:`SpikeData`) so that :func:`read_spikes` gives back the same
    times and ids. Formats: ``"text"`` (two columns, time [s] and unit label), ``"npz"``,
    ``"nwb"`` (a minimal Units table), ``"phy"`` (a folder; needs a sampling rate, from
    ``data`` or ``sample_rate=``, with every time on its sample grid) and ``"aedat"``
    (``version="2.0"``, DVS128 layout, or ``"3.1"``; ``width``/``height`` from the options
    or ``data.metadata``; ids laid out as ``(y*width + x)*2 + p``, times whole
    microseconds). Guessed from the suffix when None (no suffix: phy folder)."""
    path = Path(path)
    if format is None:
        suffix = path.suffix.lower()
        format = {".nwb": "nwb", ".npz": "npz", ".aedat": "aedat", ".bin": "nmnist"}.get(suffix)
        format = format or ("text" if suffix in _TEXT_SUFFIXES else "phy" if not suffix else None)
        if format is None:
            raise ValueError(f"write_spikes: cannot tell the format of {path}; pass format=")
    writers = {
        "text": _write_text,
        "npz": _write_npz,
        "nwb": _write_nwb,
        "phy": _write_phy,
        "aedat": _write_aedat,
        "nmnist": _write_nmnist,
        "stream": _write_stream,
    }
    if format not in writers:
        raise ValueError(f"write_spikes: no writer for {format!r}; use one of {tuple(writers)}")
    writers[format](path, data, **options)
    return path
