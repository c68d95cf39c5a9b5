"""HDF5 persistence: whole networks (checkpoints) and recordings.

A network file stores everything a continued run needs: structure, model specs (as
JSON, so user-defined models load without their Python class), parameters, state,
refractory counters, ring buffers (spikes in flight), replay positions, projections, the
step counter and the monitors' recordings. Random input needs no RNG state (the kernel's
generator is counter based, see :mod:`axonforge.rng`), so a run split by save/load
produces exactly the spikes of an unbroken run.

Files carry ``format`` and ``version`` attributes; anything else, a truncated file or a
missing dataset fails with an error naming the file and the record.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import h5py
import numpy as np

from axonforge.models.base import NeuronModel, NeuronSpec, spec_model
from axonforge.models.plasticity import SynapseModel, SynapseSpec
from axonforge.models.sources import NoiseSource, PoissonSource, SpikeSource
from axonforge.monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from axonforge.plastic import PlasticState, checked_synapse
from axonforge.population import PopulationView, new_population
from axonforge.projection import Projection

FORMAT_NETWORK = "axonforge-network"
FORMAT_RECORDING = "axonforge-recording"
#: files written before the rename (same layout)
_LEGACY = {"spikeforge-network": FORMAT_NETWORK, "spikeforge-recording": FORMAT_RECORDING}
VERSION = 1


class FileFormatError(ValueError):
    """A file is not an axonforge file of the expected kind, or is damaged."""


# ------------------------------------------------------------------------------- saving
def _write_monitor(g, mon):
    g.attrs.update(kind=mon.kind, name=mon.name, pop=mon.pop.name)
    if isinstance(mon, WeightMonitor):
        g.attrs.update(proj=mon.proj.name, variables=json.dumps(mon.variables), every=mon.every)
        g["index"] = mon.index
        g["steps"] = np.concatenate(mon._steps) if mon._steps else np.zeros(0, np.int64)
        for v in mon.variables:
            g[f"v_{v}"] = mon[v]
        g.attrs["dt"] = mon.net.dt
        return
    g["sel"] = mon.sel
    if isinstance(mon, SpikeMonitor):
        g["steps"], g["ids"] = mon.steps_recorded, mon.ids
        g.attrs["start_step"] = mon.start_step
    elif isinstance(mon, StateMonitor):
        g.attrs["variables"] = json.dumps(mon.variables)
        g.attrs["every"] = mon.every
        g["record_ids"] = mon.record_ids
        steps = np.concatenate(mon._steps) if mon._steps else np.zeros(0, np.int64)
        g["steps"] = steps
        for v in mon.variables:
            g[f"v_{v}"] = mon[v]
    else:
        g["counts"] = mon.counts
        g["starts"] = np.asarray(mon._starts, np.int64)
        g["lengths"] = np.asarray([len(c) for c in mon._counts], np.int64)
    g.attrs["dt"] = mon.net.dt


def save_network(net, path):
    """Write ``net`` to ``path`` (see module docstring)."""
    with h5py.File(path, "w") as f:
        f.attrs.update(
            format=FORMAT_NETWORK,
            version=VERSION,
            dt=net.dt,
            seed=net.seed,
            backend=net.backend,
            precision=net.precision,
            step=net.step,
        )
        pops = f.create_group("populations")
        for i, pop in enumerate(net.populations.values()):
            g = pops.create_group(str(i))
            g.attrs.update(
                name=pop.name,
                kind=pop.kind,
                n=pop.n,
                stream=pop.stream,
                merged_spikes=pop.merged_spikes,
                n_draws=getattr(pop, "n_draws", 0),
            )
            if pop.is_neuron:
                cls = type(pop.model)
                g.attrs.update(
                    spec=pop.model.spec.to_json(),
                    model_class=f"{cls.__module__}:{cls.__qualname__}",
                    kinetics=pop.model.kinetics or "",
                    strict_units=pop.model.strict_units,
                )
                for k, v in pop.params.items():
                    g[f"params/{k}"] = v
                for k, v in pop.state.items():
                    g[f"state/{k}"] = v
                g["until"] = pop.until
                for k, v in getattr(pop, "rb", {}).items():
                    g[f"rb/{k}"] = v
            elif pop.kind == "spikes":
                g["sched_step"], g["sched_id"], g["pos"] = pop.sched_step, pop.sched_id, pop.pos
            elif pop.kind == "noise":
                m = pop.model
                g.attrs.update(
                    mean=m.mean,
                    std=m.std,
                    period=-1.0 if m.period is None else m.period,
                    distribution=m.distribution,
                )
            else:
                g["rates"], g["rate_times"] = pop.model.rates, pop.model.rate_times
                g["seg"] = pop.seg
        mods = f.create_group("modulators")
        for i, mod in enumerate(net.modulators.values()):
            mods.create_group(str(i)).attrs.update(info=json.dumps(mod.describe()), value=mod.value)
        projs = f.create_group("projections")
        for i, proj in enumerate(net.projections.values()):
            g = projs.create_group(str(i))
            g.attrs.update(
                name=proj.name,
                pre=proj.pre_pop.name,
                post=proj.post_pop.name,
                port=proj.port,
                rule=json.dumps(proj.rule.describe(), default=str),
                rounded_delays=proj.rounded_delays,
            )
            g.attrs["max_delay_steps"] = proj.max_delay_steps
            g.attrs["n_draws"] = getattr(proj, "n_draws", 0)
            for k in ("pre_sel", "post_sel", "ptr", "off", "w"):
                g.create_dataset(k, data=getattr(proj, k))
            if proj.plastic is not None:
                _write_plastic(g.create_group("plastic"), proj.plastic)
        mons = f.create_group("monitors")
        for i, mon in enumerate(net.monitors.values()):
            _write_monitor(mons.create_group(str(i)), mon)
        inj = f.create_group("injections")
        for i, (pop, ids, steps, amps) in enumerate(net.injections):
            g = inj.create_group(str(i))
            g.attrs["pop"] = pop.name
            g["ids"], g["steps"], g["amplitudes"] = ids, steps, amps
        f.attrs["complete"] = True  # written last: a file without it was cut short


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
    if int(f.attrs.get("version", -1)) > VERSION:
        f.close()
        raise FileFormatError(
            f"{path}: written by a newer axonforge (format version "
            f"{f.attrs['version']}, this one reads {VERSION}); upgrade"
        )
    if not f.attrs.get("complete", False):
        f.close()
        raise FileFormatError(f"{path}: incomplete file (the writer did not finish)")
    return f


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


def _model_for(g, path):
    spec = NeuronSpec.from_dict(json.loads(g.attrs["spec"]))
    strict = bool(g.attrs.get("strict_units", True))
    module, _, qual = _class_path(g.attrs.get("model_class", ""))
    try:
        cls = getattr(importlib.import_module(module), qual)
        if issubclass(cls, NeuronModel):
            kin = str(g.attrs.get("kinetics", "")) or None
            model = (
                cls(kinetics=kin, strict_units=strict)
                if cls.membrane is not None
                else cls(strict_units=strict)
            )
            if model.spec.to_json() == spec.to_json():
                return model
    except (ImportError, AttributeError, TypeError, ValueError):
        pass  # fall back to the stored spec, which is authoritative
    return spec_model(spec, strict_units=strict)


def _class_path(text):
    """``(module, ':', qualname)`` of a stored class path; files written before the
    rename name the modules ``models.*``, now ``axonforge.models.*``."""
    module, sep, qual = str(text).partition(":")
    if module.split(".")[0] == "models":
        module = "axonforge." + module
    return module, sep, qual


def load_network(path, network_class):
    """Read a file written by :func:`save_network` and return the network, an instance of
    ``network_class`` (given by the caller, so this module does not import the network
    module, which imports this one)."""
    Network = network_class  # noqa: N806 - a class

    with _open(path, FORMAT_NETWORK) as f:
        a = f.attrs
        net = Network(
            dt=float(a["dt"]),
            seed=int(a["seed"]),
            backend=str(a["backend"]),
            precision=str(a["precision"]),
        )
        net.step = int(a["step"])
        pops_g = f["populations"]
        for key in sorted(pops_g, key=int):
            g = pops_g[key]
            kind, name, n = str(g.attrs["kind"]), str(g.attrs["name"]), int(g.attrs["n"])
            if kind == "neuron":
                model = _model_for(g, path)
                pop = new_population(net, model, n, name, {})
                for k in pop.params:
                    pop.params[k][:] = _read(g, f"params/{k}", path)
                for k in pop.state:
                    pop.state[k][:] = _read(g, f"state/{k}", path)
                pop.until[:] = _read(g, "until", path)
                if "rb" in g:
                    pop._saved_rb = {k: _read(g["rb"], k, path) for k in g["rb"]}
            elif kind == "spikes":
                pop = new_population(net, SpikeSource([], []), n, name, {})
                pop.sched_step = _read(g, "sched_step", path)
                pop.sched_id = _read(g, "sched_id", path)
                pop.pos = _read(g, "pos", path)
            elif kind == "poisson":
                model = PoissonSource(_read(g, "rates", path), _read(g, "rate_times", path))
                pop = new_population(net, model, n, name, {})
                pop.seg = _read(g, "seg", path)
            elif kind == "noise":
                period = float(g.attrs["period"])
                model = NoiseSource(
                    float(g.attrs["std"]),
                    float(g.attrs["mean"]),
                    None if period < 0 else period,
                    str(g.attrs.get("distribution", "normal")),
                )
                pop = new_population(net, model, n, name, {})
            else:
                raise FileFormatError(f"{path}: population {name!r} has unknown kind {kind!r}")
            pop.stream = int(g.attrs["stream"])
            pop.merged_spikes = int(g.attrs["merged_spikes"])
            # keyed draws after loading must not repeat those made before saving
            pop.n_draws = int(g.attrs.get("n_draws", 0))
            net.populations[name] = pop
        for key in sorted(f.get("modulators", {}), key=int):
            g = f["modulators"][key]
            info = json.loads(g.attrs["info"])
            src = info["source"]
            net.modulator(
                info["name"],
                info["tau"],
                None if src is None else net.populations[src],
                info["amount"],
                float(g.attrs["value"]),
            )
        for key in sorted(f["projections"], key=int):
            g = f["projections"][key]
            proj = Projection.__new__(Projection)
            proj.net, proj.name = net, str(g.attrs["name"])
            proj.pre_pop = net.populations[str(g.attrs["pre"])]
            proj.post_pop = net.populations[str(g.attrs["post"])]
            proj.port = str(g.attrs["port"])
            proj.rule = _StoredRule(json.loads(g.attrs["rule"]))
            proj.rounded_delays = int(g.attrs["rounded_delays"])
            proj.max_delay_steps = int(g.attrs["max_delay_steps"])
            proj.n_draws = int(g.attrs.get("n_draws", 0))
            for k in ("pre_sel", "post_sel", "ptr", "off", "w"):
                setattr(proj, k, _read(g, k, path))
            if proj.ptr[-1] != len(proj.off) or len(proj.off) != len(proj.w):
                raise FileFormatError(f"{path}: projection {proj.name!r} has inconsistent sizes")
            proj.plastic = None
            if "plastic" in g:
                proj.plastic = _read_plastic(proj, g["plastic"], path)
                proj.w = proj.plastic.state["w"]
            net.projections[proj.name] = proj
        for key in sorted(f["monitors"], key=int):
            mon = _read_monitor(net, f["monitors"][key], path)
            net.monitors[mon.name] = mon
        for key in sorted(f["injections"], key=int):
            g = f["injections"][key]
            net.injections.append(
                (
                    net.populations[str(g.attrs["pop"])],
                    _read(g, "ids", path),
                    _read(g, "steps", path),
                    _read(g, "amplitudes", path),
                )
            )
    # Ring buffers hold spikes in flight. They are restored as saved, with the layout
    # the engine will use, and nothing is planned or generated here: loading compiles
    # nothing (the engine is made at the first run).
    L = None
    for pop in net.populations.values():
        saved = getattr(pop, "_saved_rb", None) or {}
        for port, buf in saved.items():
            L = buf.shape[0] if L is None else L
            if buf.shape != (L, pop.n):
                raise FileFormatError(
                    f"{path}: ring buffer of {pop.name!r}/{port} has shape "
                    f"{buf.shape}, expected {(L, pop.n)}"
                )
        if pop.is_neuron:
            pop.rb = dict(saved)
        pop.__dict__.pop("_saved_rb", None)
    net._ring_length = L
    return net


def _write_plastic(g, pl):
    model = pl.model
    cls = type(model)
    g.attrs.update(
        spec=model.spec.to_json(),
        model_class=f"{cls.__module__}:{cls.__qualname__}",
        options=json.dumps(model.options),
        params=json.dumps(model.params),
        strict_units=model.strict_units,
    )
    for k, v in pl.state.items():
        g[f"state/{k}"] = v
    for k, v in pl.traces.items():
        g[f"traces/{k}"] = v
    for k, v in pl.elig.items():
        g[f"eligibility/{k}"] = v
    g["ref"], g["glast"], g["G"] = pl.ref, pl.glast, pl.G
    g["Q"], g["qlast"] = pl.Q, pl.qlast  # deferred potentiation (empty when off)
    g.attrs["deferred"] = pl.deferred
    if pl.modulator is not None:
        g.attrs["modulator"] = pl.modulator.name


def _synapse_model(g):
    """The rule of a saved plastic projection: its class if importable and identical,
    else a generic model built from the stored spec (which is authoritative)."""
    spec = SynapseSpec.from_dict(json.loads(g.attrs["spec"]))
    params = json.loads(g.attrs["params"])
    strict = bool(g.attrs.get("strict_units", True))
    module, _, qual = _class_path(g.attrs["model_class"])
    try:
        cls = getattr(importlib.import_module(module), qual)
        model = cls(**json.loads(g.attrs["options"]), **params, strict_units=strict)
        if model.spec.to_json() == spec.to_json():
            return model
    except (ImportError, AttributeError, TypeError, ValueError):
        pass
    generic = type(spec.name.split("[")[0], (SynapseModel,), {"spec": spec})
    return generic(**params, strict_units=strict)


def _read_plastic(proj, g, path):
    pl = PlasticState.__new__(PlasticState)
    pl.model = _synapse_model(g)
    pl.checked = checked_synapse(pl.model.spec)
    pl.state = {k: _read(g["state"], k, path) for k in pl.model.spec.state}
    pl.traces = {k: _read(g["traces"], k, path) for k in pl.checked.traces}
    pl.elig = {k: _read(g["eligibility"], k, path) for k in pl.model.spec.eligibility}
    pl.ref = _read(g, "ref", path)
    pl.glast = _read(g, "glast", path) if "glast" in g else np.zeros(0)
    pl.G = _read(g, "G", path) if "G" in g else np.zeros(1)
    pl.modulator = None
    if "modulator" in g.attrs:
        pl.modulator = proj.net.modulators[str(g.attrs["modulator"])]
    pl.proj = proj
    pl.deferred = bool(g.attrs.get("deferred", False))
    pl.Q = _read(g, "Q", path) if "Q" in g else np.zeros(0)
    pl.qlast = _read(g, "qlast", path) if "qlast" in g else np.zeros(0)
    pl.tgt, pl.tptr, pl.tidx, pl.tsrc = pl.index_arrays(proj)
    return pl


class _StoredRule:
    """Description of the rule that built a loaded projection (the synapses are stored)."""

    def __init__(self, info):
        self.info = info

    def describe(self):
        return self.info

    def __repr__(self):
        return f"<stored rule {self.info}>"


def _read_monitor(net, g, path):
    kind = str(g.attrs["kind"])
    if kind == "weights":
        variables = json.loads(g.attrs["variables"])
        mon = WeightMonitor(
            net,
            net.projections[str(g.attrs["proj"])],
            _read(g, "index", path),
            variables,
            int(g.attrs["every"]),
            str(g.attrs["name"]),
        )
        mon._steps = [_read(g, "steps", path)]
        mon._data = {v: [_read(g, f"v_{v}", path)] for v in variables}
        return mon
    pop = net.populations[str(g.attrs["pop"])]
    sel = _read(g, "sel", path)
    target = pop if np.array_equal(sel, pop.ids) else PopulationView(pop, sel)
    name = str(g.attrs["name"])
    if kind == "spikes":
        mon = SpikeMonitor(net, target, name)
        mon._steps, mon._ids = [_read(g, "steps", path)], [_read(g, "ids", path)]
        mon.start_step = int(g.attrs.get("start_step", 0))
    elif kind == "state":
        variables = json.loads(g.attrs["variables"])
        mon = StateMonitor(
            net, target, variables, _read(g, "record_ids", path), int(g.attrs["every"]), name
        )
        mon._steps = [_read(g, "steps", path)]
        mon._data = {v: [_read(g, f"v_{v}", path)] for v in variables}
    elif kind == "rate":
        mon = RateMonitor(net, target, name)
        counts, starts = _read(g, "counts", path), _read(g, "starts", path)
        lengths = _read(g, "lengths", path)
        mon._counts = np.split(counts, np.cumsum(lengths)[:-1]) if len(lengths) else []
        mon._starts = list(starts)
    else:
        raise FileFormatError(f"{path}: monitor {name!r} has unknown kind {kind!r}")
    return mon


# --------------------------------------------------------------------------- recordings
def save_recordings(path, monitors):
    """Save monitors (``net.monitors``, a dict ``name -> monitor``, or a list) to an HDF5
    file; :func:`load_recordings` reads it back."""
    items = monitors.items() if isinstance(monitors, dict) else ((m.name, m) for m in monitors)
    with h5py.File(path, "w") as f:
        f.attrs.update(format=FORMAT_RECORDING, version=VERSION)
        for i, (name, mon) in enumerate(items):
            g = f.create_group(str(i))
            _write_monitor(g, mon)
            g.attrs["name"] = name
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
    out = {}
    with _open(path, FORMAT_RECORDING) as f:
        for key in sorted(f, key=int):
            g = f[key]
            kind, name, dt = str(g.attrs["kind"]), str(g.attrs["name"]), float(g.attrs["dt"])
            data = {k: _read(g, k, path) for k in g}
            if kind == "spikes":
                data["times"] = (data["steps"] + 1) * dt
            elif kind in ("state", "weights"):
                data["t"] = (data["steps"] + 1) * dt
            else:
                steps = (
                    np.concatenate(
                        [np.arange(s, s + n) for s, n in zip(data["starts"], data["lengths"])]
                    )
                    if len(data["starts"])
                    else np.zeros(0, np.int64)
                )
                data["t"] = (steps + 1) * dt
                data["rate"] = data["counts"] / (len(data["sel"]) * dt)
            out[name] = Recording(kind, name, dt, data)
    return out
