"""Monitors: spikes, state variables and population rates, recorded inside the kernel.

Samples carry NEST's labels: whatever happens in step ``k`` (from ``k*dt`` to
``(k+1)*dt``) is labelled ``(k+1)*dt``. Every monitor writes into a bounded buffer with
room for at least one min-delay chunk (:meth:`allocate_chunk`); the kernel returns to
the host before a chunk that might not fit (:mod:`axonforge.engine.monitoring`), and the
run loop drains the buffers into the recordings, so buffer memory never grows with the
length of a run.

A monitor made with ``start`` and ``stop`` records only the steps inside that window of
simulated time (:class:`Windowed`): the kernel records as always and the host keeps what
lies in the window when it drains a buffer, so the buffers stay bounded per chunk and a
monitor without a window pays nothing.
"""

from __future__ import annotations

import json

import numpy as np

from axonforge.population import PopulationView, lookup, resolve
from axonforge.state import state


def grid_steps(value, dt, what) -> int:
    """``value`` seconds as a whole number of steps of ``dt``: a finite number >= 0 on
    the time grid (within 1e-6 steps), else a ``ValueError`` naming ``what``."""
    number = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, bool) or not number or not np.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a non-negative number of seconds, got {value!r}")
    ratio = value / dt
    steps = int(np.floor(ratio + 0.5))
    if abs(ratio - steps) > 1e-6:
        raise ValueError(
            f"{what} = {value:.10g} s is not a multiple of dt = {dt:g} s; the nearest is "
            f"{steps * dt:.10g} s"
        )
    return steps


class Windowed:
    """A recording window ``[start, stop)`` of simulated time (seconds; by default the
    whole run). A step from ``t`` to ``t + dt`` is recorded when it lies in the window,
    ``start <= t`` and ``t + dt <= stop``, so the recorded times (step ends, NEST's
    labels) lie in ``(start, stop]``, as for NEST's recording devices.

    How it works: the kernel records every step into the monitor's bounded buffer, and
    the host keeps the window's part when it drains the buffer between chunks. The
    buffers stay bounded per chunk, the recordings hold only the window, and a monitor
    without a window skips the filtering."""

    #: the window in steps: ``window_steps[0] <= k < window_steps[1]`` (None: no end)
    window_steps = (0, None)

    def _set_window(self, start, stop):
        what = f"{type(self).__name__} {self.name!r}"
        dt = self.net.dt
        a = 0 if start is None else grid_steps(start, dt, f"{what}: start")
        b = None if stop is None else grid_steps(stop, dt, f"{what}: stop")
        if b is not None and b <= a:
            raise ValueError(
                f"{what}: stop = {stop} s must be later than start = {a * dt:g} s "
                "(the window records start <= t < stop)"
            )
        self.window_steps = (a, b)

    @property
    def window(self) -> tuple:
        """``(start, stop)`` [s] of the recording window; ``stop`` is None without an end."""
        a, b = self.window_steps
        return a * self.net.dt, None if b is None else b * self.net.dt

    @property
    def windowed(self) -> bool:
        return self.window_steps != (0, None)

    def _in_window(self, steps) -> np.ndarray:
        a, b = self.window_steps
        keep = steps >= a
        if b is not None:
            keep &= steps < b
        return keep

    def _clip(self, lo, hi) -> tuple:
        """The part ``[lo', hi')`` of the steps ``[lo, hi)`` inside the window."""
        a, b = self.window_steps
        return max(lo, a), hi if b is None else min(hi, b)

    def _save_window(self, out):
        """Files keep a window only if there is one (those of monitors without a window
        are as before windows existed)."""
        if self.windowed:
            a, b = self.window_steps
            out["attrs"].update(window_start=a, window_stop=-1 if b is None else b)

    def _load_window(self, d):
        a, b = int(d["attrs"].get("window_start", 0)), int(d["attrs"].get("window_stop", -1))
        self.window_steps = (a, None if b < 0 else b)


class Monitor(Windowed):
    kind = ""
    #: records spikes (not possible of a noise source, which emits amplitudes)
    needs_spikes = False

    def __init__(self, net, target, name):
        self.net, self.name = net, name
        self.pop, self.sel = resolve(target, f"{type(self).__name__} {name!r}")
        if not self.pop.carries_spikes and self.needs_spikes:
            raise TypeError(
                f"{type(self).__name__} {name!r}: {self.pop.name!r} emits values (a "
                "NoiseSource's amplitudes or a graded output), not spikes; record its "
                "state with a state monitor instead"
            )

    def plan_variables(self):
        return ()

    # ------------------------------------------------------------------- saved state
    # A monitor's recordings are gathered on rank 0 after every run
    # (axonforge.engine.mpi.gather_recordings), so its state dict has no splits.
    def saved_state(self) -> dict:
        """The monitor and its recordings as a state dict (:mod:`axonforge.state`)."""
        out = state(
            attrs={"kind": self.kind, "name": self.name, "pop": self.pop.name},
            arrays={"sel": self.sel},
        )
        self._save_recordings(out)
        self._save_window(out)
        out["attrs"]["dt"] = self.net.dt
        return out

    @classmethod
    def from_saved(cls, net, d) -> Monitor:
        """Rebuild a monitor of ``net`` with its recordings from :meth:`saved_state`'s
        dict."""
        a = d["attrs"]
        pop = net.populations[str(a["pop"])]
        sel = d["arrays"]["sel"]
        target = pop if np.array_equal(sel, pop.ids) else PopulationView(pop, sel)
        mon = cls._from_saved(net, target, str(a["name"]), d)
        mon._load_window(d)
        return mon

    @staticmethod
    def loaded_fields(data, dt) -> dict:
        """What a loaded :class:`~axonforge.io.Recording` derives from the saved arrays."""
        return {}


class SpikeMonitor(Monitor):
    """Records spikes of a population or view.

    Attributes
    ----------
    times : float64 array [s]
        Spike times (step end times), in recording order (by time).
    ids : int64 array
        Index of the spiking neuron within the monitored population or view.
    """

    kind = "spikes"
    needs_spikes = True

    def __init__(self, net, target, name):
        super().__init__(net, target, name)
        self.map = lookup(self.pop, self.sel)
        self.mult_pop = self.pop.counts_per_spike
        self.cnt = np.zeros(1, np.int64)
        self._steps, self._ids = [], []
        #: the step the monitor started recording at (it sees nothing earlier)
        self.start_step = net.step

    def allocate_chunk(self, layout):
        """Room for one chunk's worst case plus about a million spikes."""
        cap = len(self.sel) * layout.steps + (1 << 20)
        self.steps = np.zeros(cap, np.int64)
        self.buf_ids = np.zeros(cap, np.int32)
        self.buf_mult = np.zeros(cap, np.int64) if self.mult_pop else np.zeros(0, np.int64)
        self.cnt[0] = 0

    def kernel_state(self):
        return {
            "map": self.map,
            "steps": self.steps,
            "ids": self.buf_ids,
            "cnt": self.cnt,
            "cap": len(self.steps),
            "nsel": len(self.sel),
            "mult": self.buf_mult,
        }

    def drain(self, reached=None):
        c = int(self.cnt[0])
        if c:
            steps, ids = self.steps[:c].copy(), self.buf_ids[:c].astype(np.int64)
            reps = self.buf_mult[:c] if self.mult_pop else None
            if self.windowed:
                keep = self._in_window(steps)
                steps, ids = steps[keep], ids[keep]
                reps = None if reps is None else reps[keep]
            if reps is not None:
                steps, ids = np.repeat(steps, reps), np.repeat(ids, reps)
            if len(steps):
                self._steps.append(steps)
                self._ids.append(ids)
        self.cnt[0] = 0

    def _merge(self):
        if len(self._steps) > 1:
            self._steps = [np.concatenate(self._steps)]
            self._ids = [np.concatenate(self._ids)]

    @property
    def steps_recorded(self) -> np.ndarray:
        self._merge()
        return self._steps[0] if self._steps else np.zeros(0, np.int64)

    @property
    def times(self) -> np.ndarray:
        return (self.steps_recorded + 1).astype(np.float64) * self.net.dt

    @property
    def ids(self) -> np.ndarray:
        self._merge()
        return self._ids[0] if self._ids else np.zeros(0, np.int64)

    @property
    def num_spikes(self) -> int:
        return int(sum(len(s) for s in self._steps))

    @property
    def counts(self) -> np.ndarray:
        """Spike count of every monitored neuron."""
        return np.bincount(self.ids, minlength=len(self.sel))

    def spike_trains(self) -> dict:
        """``id -> sorted spike times`` for every monitored neuron."""
        t, i = self.times, self.ids
        order = np.argsort(i, kind="stable")
        bounds = np.searchsorted(i[order], np.arange(len(self.sel) + 1))
        return {k: t[order[bounds[k] : bounds[k + 1]]] for k in range(len(self.sel))}

    def mean_rate(self, duration=None) -> float:
        """Mean rate per neuron [Hz] over ``duration`` [s] (default: the time recorded,
        from the monitor's creation to now, within its window)."""
        if duration is None:
            lo, hi = self._clip(self.start_step, self.net.step)
            duration = max(hi - lo, 0) * self.net.dt
        return self.num_spikes / (len(self.sel) * duration) if duration > 0 else 0.0

    def clear(self):
        """Forget the spikes recorded so far; :meth:`mean_rate` then counts from now."""
        self._steps, self._ids = [], []
        self.start_step = self.net.step

    def __repr__(self):
        return f"<SpikeMonitor {self.name!r} of {self.pop.name!r}: {self.num_spikes} spikes>"

    def _save_recordings(self, out):
        out["arrays"].update(steps=self.steps_recorded, ids=self.ids)
        out["attrs"]["start_step"] = self.start_step

    @classmethod
    def _from_saved(cls, net, target, name, d):
        mon = cls(net, target, name)
        mon._steps, mon._ids = [d["arrays"]["steps"]], [d["arrays"]["ids"]]
        mon.start_step = int(d["attrs"].get("start_step", 0))
        return mon

    @staticmethod
    def loaded_fields(data, dt) -> dict:
        return {"times": (data["steps"] + 1) * dt}


class _Sampled(Windowed):
    """Shared by monitors that sample chosen elements every ``every`` steps: buffers sized
    per kernel call, sample times, access by variable name."""

    def _setup_sampling(self, variables, index, every, what):
        if isinstance(every, bool) or int(every) != every or every < 1:
            raise ValueError(
                f"{what}: every must be a positive integer number of steps, got {every!r}"
            )
        self.variables, self.every = list(variables), int(every)
        self.index = np.ascontiguousarray(index, dtype=np.int64)
        self._steps, self._data = [], {v: [] for v in self.variables}

    def plan_variables(self):
        return tuple(self.variables)

    #: buffer memory per sampled monitor, beyond one chunk's rows
    BUFFER_BYTES = 64 << 20

    def allocate_chunk(self, layout):
        """Rows for one chunk's samples, and more up to :attr:`BUFFER_BYTES`."""
        per_row = max(len(self.index), 1) * len(self.variables) * self.net.dtype().itemsize
        rows = layout.steps // self.every + 1
        rows = max(rows, min(self.BUFFER_BYTES // per_row, 1 << 16))
        self._buf = {v: np.zeros((rows, len(self.index)), self.net.dtype) for v in self.variables}
        self._bsteps = np.zeros(rows, np.int64)
        self._row0 = np.array([self.net.step // self.every], np.int64)

    def kernel_state(self):
        out = {
            "every": self.every,
            "ids": self.index,
            "nids": len(self.index),
            "steps": self._bsteps,
            "row0": self._row0,
            "rows": len(self._bsteps),
        }
        out.update({f"v_{v}": b for v, b in self._buf.items()})
        return out

    def drain(self, reached=None):
        """Move the samples of steps before ``reached`` into the recordings."""
        reached = self.net.step if reached is None else reached
        c = reached // self.every - int(self._row0[0])
        if c > 0:
            keep = self._in_window(self._bsteps[:c]) if self.windowed else slice(0, c)
            steps = self._bsteps[:c][keep]
            if len(steps):
                self._steps.append(steps.copy())
                for v in self.variables:
                    self._data[v].append(self._buf[v][:c][keep].copy())
        self._row0[0] = reached // self.every

    def bytes_for(self, n_steps) -> int:
        """Memory the recordings of a run of ``n_steps`` more steps will take."""
        lo, hi = self._clip(self.net.step, self.net.step + n_steps)
        samples = max(hi // self.every - lo // self.every, 0)
        return samples * (8 + len(self.index) * len(self.variables) * self.net.dtype().itemsize)

    @property
    def t(self) -> np.ndarray:
        steps = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
        return (steps + 1).astype(np.float64) * self.net.dt

    def __getitem__(self, variable) -> np.ndarray:
        if variable not in self._data:
            raise KeyError(
                f"{type(self).__name__} {self.name!r} records {self.variables}, not {variable!r}"
            )
        parts = self._data[variable]
        if len(parts) > 1:
            self._data[variable] = parts = [np.concatenate(parts)]
        return parts[0] if parts else np.zeros((0, len(self.index)), self.net.dtype)

    def _save_samples(self, out):
        out["attrs"].update(variables=json.dumps(self.variables), every=self.every)
        arrays = out["arrays"]
        arrays["steps"] = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
        arrays.update({f"v_{v}": self[v] for v in self.variables})

    def _restore_samples(self, d):
        self._steps = [d["arrays"]["steps"]]
        self._data = {v: [d["arrays"][f"v_{v}"]] for v in self.variables}

    @staticmethod
    def loaded_fields(data, dt) -> dict:
        return {"t": (data["steps"] + 1) * dt}


class StateMonitor(_Sampled, Monitor):
    """Records state variables of chosen neurons every ``every`` steps.

    ``mon.t`` [s] holds sample times; ``mon["v"]`` is an array (samples, neurons).
    """

    kind = "state"

    def __init__(self, net, target, variables, ids, every, name):
        super().__init__(net, target, name)
        if not self.pop.is_neuron:
            raise TypeError(
                f"StateMonitor {name!r}: {self.pop.name!r} is an input source and has no state"
            )
        if isinstance(variables, str):
            variables = [variables]
        variables = list(variables)
        for v in variables:
            if v not in self.pop.state:
                raise ValueError(
                    f"StateMonitor {name!r}: {v!r} is not a state variable of "
                    f"{self.pop.model.spec.name}; choose from {list(self.pop.state)}"
                )
        if not variables:
            raise ValueError(f"StateMonitor {name!r}: give at least one variable")
        local = np.arange(len(self.sel)) if ids is None else np.asarray(ids, dtype=np.int64)
        if local.ndim != 1 or (len(local) and (local.min() < 0 or local.max() >= len(self.sel))):
            raise ValueError(
                f"StateMonitor {name!r}: ids must be indices in 0..{len(self.sel) - 1}"
            )
        self.record_ids = local
        self._setup_sampling(variables, self.sel[local], every, f"StateMonitor {name!r}")

    @property
    def pop_ids(self):
        return self.index

    def __repr__(self):
        return f"<StateMonitor {self.name!r} of {self.pop.name!r}: {self.variables}>"

    def _save_recordings(self, out):
        out["arrays"]["record_ids"] = self.record_ids
        self._save_samples(out)

    @classmethod
    def _from_saved(cls, net, target, name, d):
        a = d["attrs"]
        variables = json.loads(a["variables"])
        mon = cls(net, target, variables, d["arrays"]["record_ids"], int(a["every"]), name)
        mon._restore_samples(d)
        return mon


class WeightMonitor(_Sampled):
    """Records per-synapse variables (``"w"`` and any state of a plastic rule) of chosen
    synapses of a projection every ``every`` steps. ``synapses`` index the projection's
    storage order (see ``proj.pre_ids`` / ``proj.post_ids``). ``mon.t``, ``mon["w"]``."""

    kind = "weights"

    def __init__(self, net, proj, synapses, variables, every, name):
        self.net, self.name, self.proj = net, name, proj
        self.pop = proj.post_pop  # for bookkeeping shared with the other monitors
        n = proj.n_synapses  # under MPI: the whole projection's, not this rank's part
        idx = np.arange(n) if synapses is None else np.asarray(synapses, np.int64)
        if idx.ndim != 1 or (len(idx) and (idx.min() < 0 or idx.max() >= n)):
            raise ValueError(
                f"WeightMonitor {name!r}: synapses must be indices in "
                f"0..{n - 1} of projection {proj.name!r}"
            )
        variables = [variables] if isinstance(variables, str) else list(variables)
        pl = proj.plastic
        known = [*pl.state, *pl.model.spec.eligibility] if pl is not None else ["w"]
        for v in variables:
            if v not in known:
                raise ValueError(
                    f"WeightMonitor {name!r}: {v!r} is not a synapse variable of "
                    f"{proj.name!r}; choose from {known}"
                )
        self._setup_sampling(variables, idx, every, f"WeightMonitor {name!r}")

    def __repr__(self):
        return f"<WeightMonitor {self.name!r} of {self.proj.name!r}: {self.variables}>"

    def saved_state(self) -> dict:
        """The monitor and its recordings as a state dict (:mod:`axonforge.state`);
        ``index`` in the whole projection's storage order (also on an MPI rank, which
        keeps only some synapses)."""
        index = getattr(self, "global_ids", None)  # set on an MPI rank (engine.mpi)
        out = state(
            attrs={
                "kind": self.kind,
                "name": self.name,
                "pop": self.pop.name,
                "proj": self.proj.name,
            },
            arrays={"index": self.index if index is None else index},
        )
        self._save_samples(out)
        self._save_window(out)
        out["attrs"]["dt"] = self.net.dt
        return out

    @classmethod
    def from_saved(cls, net, d) -> WeightMonitor:
        a = d["attrs"]
        variables = json.loads(a["variables"])
        proj = net.projections[str(a["proj"])]
        mon = cls(net, proj, d["arrays"]["index"], variables, int(a["every"]), str(a["name"]))
        mon._restore_samples(d)
        mon._load_window(d)
        return mon


class RateMonitor(Monitor):
    """Population rate: spikes per step of the monitored neurons, as Hz per neuron.

    ``mon.t`` [s], ``mon.rate`` [Hz], ``mon.smooth_rate(width)`` with a box window [s].
    """

    kind = "rate"
    needs_spikes = True

    def __init__(self, net, target, name):
        super().__init__(net, target, name)
        self.map = lookup(self.pop, self.sel)
        self.mult_pop = self.pop.counts_per_spike
        self._counts, self._starts = [], []

    def allocate_chunk(self, layout):
        self._buf = np.zeros(layout.steps + (1 << 16), np.int64)
        self._base = np.array([self.net.step], np.int64)

    def kernel_state(self):
        return {"map": self.map, "counts": self._buf, "base": self._base, "rows": len(self._buf)}

    def drain(self, reached=None):
        reached = self.net.step if reached is None else reached
        base = int(self._base[0])
        lo, hi = self._clip(base, reached) if self.windowed else (base, reached)
        if hi > lo:
            self._counts.append(self._buf[lo - base : hi - base].copy())
            self._starts.append(lo)
        self._base[0] = reached

    @property
    def counts(self) -> np.ndarray:
        return np.concatenate(self._counts) if self._counts else np.zeros(0, np.int64)

    @property
    def t(self) -> np.ndarray:
        steps = [np.arange(s, s + len(c)) for s, c in zip(self._starts, self._counts)]
        steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        return (steps + 1).astype(np.float64) * self.net.dt

    @property
    def rate(self) -> np.ndarray:
        return self.counts / (len(self.sel) * self.net.dt)

    def smooth_rate(self, width: float) -> np.ndarray:
        """Rate averaged over a centred box window of ``width`` seconds."""
        k = max(1, int(round(width / self.net.dt)))
        return np.convolve(self.rate, np.ones(k) / k, mode="same")

    def __repr__(self):
        return f"<RateMonitor {self.name!r} of {self.pop.name!r}>"

    def _save_recordings(self, out):
        out["arrays"].update(
            counts=self.counts,
            starts=np.asarray(self._starts, np.int64),
            lengths=np.asarray([len(c) for c in self._counts], np.int64),
        )

    @classmethod
    def _from_saved(cls, net, target, name, d):
        mon = cls(net, target, name)
        arrays = d["arrays"]
        counts, starts, lengths = arrays["counts"], arrays["starts"], arrays["lengths"]
        mon._counts = np.split(counts, np.cumsum(lengths)[:-1]) if len(lengths) else []
        mon._starts = list(starts)
        return mon

    @staticmethod
    def loaded_fields(data, dt) -> dict:
        starts, lengths = data["starts"], data["lengths"]
        steps = (
            np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])
            if len(starts)
            else np.zeros(0, np.int64)
        )
        return {"t": (steps + 1) * dt, "rate": data["counts"] / (len(data["sel"]) * dt)}
