"""HDF5 persistence: whole networks (checkpoints) and recordings.

A network file stores everything a continued run needs: structure, model specs (as
JSON, so user-defined models load without their Python class), parameters, state,
refractory counters, ring buffers (spikes in flight), replay positions, projections, the
step counter and the monitors' recordings. Random input needs no RNG state (the kernel's
generator is counter based, see :mod:`axonforge.rng`), so a run split by save/load
produces exactly the spikes of an unbroken run.

Every owner gives its state as a dict and is rebuilt from one (:mod:`axonforge.state`);
this module maps those dicts to HDF5 groups and back with one writer
(:func:`write_group`) and one reader (:func:`read_group`): attributes to attributes,
arrays to datasets (``"state/v"`` in a sub-group ``state``), sub-dicts to sub-groups.
Loading builds objects from the dicts and plans or compiles nothing.

Files carry ``format`` and ``version`` attributes; anything else, a truncated file, a
missing or damaged record or a non-finite value fails with an error naming the file and
the record.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from axonforge.modulators import Modulator
from axonforge.monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from axonforge.population import KINDS as POPULATION_KINDS
from axonforge.projection import Projection
from axonforge.state import FileFormatError, Record, numbered, state

FORMAT_NETWORK = "axonforge-network"
FORMAT_RECORDING = "axonforge-recording"
#: files written before the rename (same layout)
_LEGACY = {"spikeforge-network": FORMAT_NETWORK, "spikeforge-recording": FORMAT_RECORDING}
VERSION = 1

#: the class that rebuilds a monitor, by the ``kind`` its group stores
MONITOR_KINDS = {cls.kind: cls for cls in (SpikeMonitor, StateMonitor, RateMonitor, WeightMonitor)}

__all__ = [
    "FileFormatError",
    "Recording",
    "load_network",
    "load_recordings",
    "network_state",
    "read_group",
    "save_network",
    "save_recordings",
    "write_group",
    "write_network",
]


# --------------------------------------------------------------------- dicts <-> HDF5
def write_group(g, d):
    """Write state dict ``d`` (:mod:`axonforge.state`) into HDF5 group ``g``."""
    g.attrs.update(d.get("attrs", {}))
    for key, value in d.get("arrays", {}).items():
        g[key] = value
    for key, sub in d.get("groups", {}).items():
        write_group(g.create_group(key), sub)


def _flat(obj) -> bool:
    """A sub-group that only gives its datasets' names a prefix (``state/v``): no
    attributes, and datasets only."""
    return not obj.attrs and len(obj) > 0 and all(isinstance(v, h5py.Dataset) for v in obj.values())


def read_group(g, path) -> Record:
    """The state dict that :func:`write_group` wrote into ``g``, every dataset checked
    (:func:`_read`); missing keys raise :class:`FileFormatError` naming the record."""
    out = Record(str(path), g.name.rstrip("/") + "/")
    out["attrs"].update(g.attrs)

    def walk(group, prefix):
        try:
            members = list(group.items())
        except (OSError, KeyError) as exc:
            raise FileFormatError(f"{path}: damaged record {group.name}: {exc}") from None
        for key, obj in members:
            if isinstance(obj, h5py.Dataset):
                out["arrays"][prefix + key] = _read(group, key, path)
            elif prefix == "" and not _flat(obj):
                out["groups"][key] = read_group(obj, path)
            else:
                walk(obj, prefix + key + "/")

    walk(g, "")
    return out


def _read(g, key, path):
    """A dataset, checked: present, readable and, if floating point, finite (a network
    never holds NaN or inf, so such a value means a damaged or hand-edited file)."""
    try:
        data = g[key][()]
    except KeyError:
        raise FileFormatError(f"{path}: missing record {g.name}/{key}") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: damaged record {g.name}/{key}: {exc}") from None
    arr = np.asarray(data)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        raise FileFormatError(
            f"{path}: record {g[key].name} holds {len(bad)} non-finite value(s) (first at "
            f"flat index {int(bad[0])}: {arr.ravel()[bad[0]]}); the file is damaged or was "
            "edited, and a network with NaN or inf cannot run"
        )
    return data


def _numbered(items) -> dict:
    """``{"0": d0, "1": d1, ...}``: a group of numbered sub-groups."""
    return state(groups={str(i): d for i, d in enumerate(items)})


# ------------------------------------------------------------------------------- saving
def network_state(net) -> dict:
    """The whole network as one state dict: the file's layout (without ``complete``)."""
    injections = [
        state(attrs={"pop": pop.name}, arrays={"ids": ids, "steps": steps, "amplitudes": amps})
        for pop, ids, steps, amps in net.injections
    ]
    return state(
        attrs={
            "format": FORMAT_NETWORK,
            "version": VERSION,
            "dt": net.dt,
            "seed": net.seed,
            "backend": net.backend,
            "precision": net.precision,
            "step": net.step,
        },
        groups={
            "populations": _numbered(p.saved_state() for p in net.populations.values()),
            "modulators": _numbered(m.saved_state() for m in net.modulators.values()),
            "projections": _numbered(p.saved_state() for p in net.projections.values()),
            "monitors": _numbered(m.saved_state() for m in net.monitors.values()),
            "injections": _numbered(injections),
        },
    )


def write_network(d, path):
    """Write a network's state dict (:func:`network_state`) to ``path``."""
    with h5py.File(path, "w") as f:
        write_group(f, d)
        f.attrs["complete"] = True  # written last: a file without it was cut short


def save_network(net, path):
    """Write ``net`` to ``path`` (see module docstring)."""
    write_network(network_state(net), path)


# ------------------------------------------------------------------------------ loading
def _open(path, fmt):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(
            f"{path}: not a readable HDF5 file (truncated or another format?): {exc}"
        ) from None
    found = f.attrs.get("format")
    if found != fmt and _LEGACY.get(str(found)) != fmt:
        f.close()
        hint = {
            FORMAT_NETWORK: "; it holds a network: read it with axonforge.load",
            FORMAT_RECORDING: "; it holds recordings: read it with axonforge.io.load_recordings",
        }.get(_LEGACY.get(str(found), found), "")
        raise FileFormatError(f"{path}: not an {fmt} file ({found or 'no format attribute'}){hint}")
    version = int(f.attrs.get("version", -1))
    if version > VERSION:
        f.close()
        raise FileFormatError(
            f"{path}: written by a newer axonforge (format version "
            f"{version}, this one reads {VERSION}); upgrade"
        )
    if not f.attrs.get("complete", False):
        f.close()
        raise FileFormatError(f"{path}: incomplete file (the writer did not finish)")
    return f


def load_network(path, network_class):
    """Read a file written by :func:`save_network` and return the network, an instance of
    ``network_class`` (given by the caller, so this module does not import the network
    module, which imports this one)."""
    with _open(path, FORMAT_NETWORK) as f:
        d = read_group(f, path)
    a, groups = d["attrs"], d["groups"]
    net = network_class(
        dt=float(a["dt"]),
        seed=int(a["seed"]),
        backend=str(a["backend"]),
        precision=str(a["precision"]),
    )
    net.step = int(a["step"])
    for g in numbered(groups["populations"]["groups"]):
        kind, name = str(g["attrs"]["kind"]), str(g["attrs"]["name"])
        if kind not in POPULATION_KINDS:
            raise d.error(f"population {name!r} has unknown kind {kind!r}")
        net.populations[name] = POPULATION_KINDS[kind].from_saved(net, g)
    for g in numbered(groups["modulators"]["groups"]) if "modulators" in groups else ():
        mod = Modulator.from_saved(net, g)
        net.modulators[mod.name] = mod
    for g in numbered(groups["projections"]["groups"]):
        proj = Projection.from_saved(net, g)
        net.projections[proj.name] = proj
    for g in numbered(groups["monitors"]["groups"]):
        mon = _monitor_class(g, d).from_saved(net, g)
        net.monitors[mon.name] = mon
    for g in numbered(groups["injections"]["groups"]):
        arrays = g["arrays"]
        pop = net.populations[str(g["attrs"]["pop"])]
        net.injections.append((pop, arrays["ids"], arrays["steps"], arrays["amplitudes"]))
    # Ring buffers hold spikes in flight. They are restored as saved, with the layout
    # the engine will use, and nothing is planned or generated here: loading compiles
    # nothing (the engine is made at the first run).
    L = None
    for pop in net.populations.values():
        for port, buf in getattr(pop, "rb", {}).items():
            L = buf.shape[0] if L is None else L
            if buf.shape != (L, pop.n):
                raise d.error(
                    f"ring buffer of {pop.name!r}/{port} has shape {buf.shape}, "
                    f"expected {(L, pop.n)}"
                )
    net._ring_length = L
    return net


def _monitor_class(g, d):
    kind = str(g["attrs"]["kind"])
    if kind not in MONITOR_KINDS:
        raise d.error(f"monitor {str(g['attrs']['name'])!r} has unknown kind {kind!r}")
    return MONITOR_KINDS[kind]


# --------------------------------------------------------------------------- recordings
def save_recordings(path, monitors):
    """Save monitors (``net.monitors``, a dict ``name -> monitor``, or a list) to an HDF5
    file; :func:`load_recordings` reads it back."""
    items = monitors.items() if isinstance(monitors, dict) else ((m.name, m) for m in monitors)
    with h5py.File(path, "w") as f:
        f.attrs.update(format=FORMAT_RECORDING, version=VERSION)
        for i, (name, mon) in enumerate(items):
            d = mon.saved_state()
            d["attrs"]["name"] = name
            write_group(f.create_group(str(i)), d)
        f.attrs["complete"] = True


class Recording:
    """A loaded recording: ``times``/``ids`` (spikes), ``t`` and ``[var]`` (state), or
    ``t``/``rate`` (population rate), matching the monitor that wrote it."""

    def __init__(self, kind, name, dt, data):
        self.kind, self.name, self.dt = kind, name, dt
        self._data = data
        for k, v in data.items():
            if not k.startswith("v_"):
                setattr(self, k, v)

    def __getitem__(self, var):
        return self._data[f"v_{var}"]

    def __repr__(self):
        return f"<Recording {self.name!r} ({self.kind})>"


def load_recordings(path) -> dict:
    """Read a file written by :func:`save_recordings`: ``name -> Recording``."""
    with _open(path, FORMAT_RECORDING) as f:
        d = read_group(f, path)
    out = {}
    for g in numbered(d["groups"]):
        a = g["attrs"]
        kind, name, dt = str(a["kind"]), str(a["name"]), float(a["dt"])
        data = dict(g["arrays"])
        data.update(_monitor_class(g, d).loaded_fields(data, dt))
        out[name] = Recording(kind, name, dt, data)
    return out
