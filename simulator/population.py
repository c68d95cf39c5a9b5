"""Populations (neurons or input sources) and views onto them.

A :class:`Population` owns its state, parameter, refractory and ring-buffer arrays; the
compiled kernel updates them in place. ``pop[a:b]`` gives a :class:`PopulationView`,
usable wherever a population is (connections, monitors, current injection).
"""

from __future__ import annotations

import difflib
import json
import os
import warnings

import numpy as np

from axonforge import draws, propagators
from axonforge.connectivity import values
from axonforge.models.base import NeuronModel, NeuronSpec, check_quantity, spec_model
from axonforge.models.sources import NoiseSource, PoissonSource, SpikeSource, SpikeStream
from axonforge.rng import poisson_cdf_table
from axonforge.spec import check_spec, evaluate
from axonforge.state import ByRange, class_path, state, stored_class

_MAX_LAMBDA = 50.0


_CHECKED: dict = {}


def checked_spec(spec):
    """Check a spec once per distinct structure (specs are immutable)."""
    key = spec.to_json()
    if key not in _CHECKED:
        _CHECKED[key] = check_spec(spec)
    return _CHECKED[key]


def _as_given(value, vals):
    """A scalar the user gave stays a scalar in messages (``v = -65 V``, not ``v[0]``)."""
    return float(vals[0]) if np.ndim(value) == 0 and not hasattr(value, "sample") else vals


class _Selectable:
    """Shared by populations and views: indexing, sizes, state access."""

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, key) -> PopulationView:
        local = np.arange(len(self.ids))[key]
        local = np.atleast_1d(local)
        return PopulationView(self.population, self.ids[local])

    def get(self, name: str) -> np.ndarray:
        """A copy of state variable or parameter ``name`` for the selected neurons (for a
        ``PoissonSource`` population, ``"rate"``: the current rate [Hz] of each source)."""
        return self.population._get(name, self.ids)

    def set(self, **values_):
        """Set state variables or parameters of the selected neurons (scalars or arrays).

        Changing parameters between runs recomputes derived coefficients; it never
        recompiles. On a ``PoissonSource`` population, ``set(rate=...)`` [Hz] changes the
        rate of the selected sources from the current time on (replacing any later
        changes of a piecewise-constant schedule).
        """
        self.population._set(self, values_)

    def _draws(self, tag):
        """``draws(start, stop)`` for neurons ``ids[start:stop]``, keyed by population index
        (:mod:`axonforge.draws`); each call of it is a new draw of the population."""
        return lambda a, b: draws.neuron_draws(self.population, tag, self.ids[a:b])

    def __getattr__(self, name):
        # Only called for names not found normally: expose state and parameters as
        # read-only copies (``pop.v``). Guard against lookups during construction.
        d = self.__dict__
        pop = d.get("population") or (self if "state" in d else None)
        if name.startswith("_") or pop is None or "params" not in pop.__dict__:
            raise AttributeError(name)
        if name in pop.state or name in pop.params:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__} of {pop.name!r} has no attribute {name!r}")


class Population(_Selectable):
    """A group of ``n`` neurons of one model, or an input source.

    Created by :meth:`axonforge.Network.population`, which picks the subclass the model
    asks for (:class:`NeuronPopulation`, :class:`SpikeSourcePopulation`,
    :class:`PoissonPopulation`, :class:`NoisePopulation`); do not construct directly.
    Attributes: ``name``, ``n``, ``model``, ``kind`` (``"neuron"``, ``"spikes"``,
    ``"poisson"`` or ``"noise"``, the name files store), ``state`` and ``params`` (dicts
    of arrays; empty for input sources).

    What differs between kinds is said by class attributes (``is_neuron``,
    ``carries_spikes``, ``counts_per_spike``, ``payload_dtype``) and methods
    (:meth:`worker_ranges`, :meth:`kernel_state`), never by comparing ``kind``.
    """

    #: the kind's stored name (files, kernel plans)
    KIND = ""
    #: the model class this kind is made of
    model_type: type = object
    #: neurons: state updated by phase A, spikes exchanged between ranks, targets of
    #: projections
    is_neuron = False
    #: emits spikes (a noise source delivers amplitudes, not spikes)
    carries_spikes = True
    #: its schedule is streamed: the engine calls ``refill`` before a run and whenever
    #: the kernels find a chunk that is not loaded yet (:mod:`axonforge.streaming`)
    refilled_by_host = False
    #: a spike of one element may stand for several (Poisson counts per step)
    counts_per_spike = False
    #: dtype of the value each entry of the chunk spike buffer carries besides the id (a
    #: Poisson count, a noise amplitude), or None
    payload_dtype = None

    #: ``(n, d)`` positions and the periodic box (None: not periodic), see axonforge.space
    positions = None
    extent = None

    def __init__(self, net, model, n, name, initial):
        self.net, self.model, self.name = net, model, name
        self.stream = len(net.populations) + 1
        self.state, self.params, self.dirty = {}, {}, True
        self.merged_spikes = 0
        self._init(n, initial)
        self.ids = np.arange(self.n, dtype=np.int64)
        self.chunk = None  # spike-buffer layout, set by the engine (allocate_chunk)

    @property
    def kind(self) -> str:
        """``"neuron"``, ``"spikes"``, ``"poisson"`` or ``"noise"`` (read-only)."""
        return self.KIND

    @property
    def population(self):
        return self

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _check_n(n, what):
        if n is None or isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"population of {what}: n must be a positive integer, got {n!r}")
        return int(n)

    def _init(self, n, initial):
        raise NotImplementedError

    def _no_initial(self, initial):
        if initial:
            raise TypeError(f"a {type(self.model).__name__} population has no state to initialise")

    # ---------------------------------------------------------------- state access
    def _get(self, name, ids):
        if name in self.state:
            return self.state[name][ids].copy()
        if name in self.params:
            return self.params[name][ids].copy()
        raise AttributeError(
            f"population {self.name!r} has no state variable or parameter "
            f"{name!r}; known: {sorted(self.state) + sorted(self.params)}"
        )

    def _set(self, sel, values_):
        for name, value in values_.items():
            target = (
                self.state if name in self.state else self.params if name in self.params else None
            )
            if target is None:
                hint = difflib.get_close_matches(name, list(self.state) + list(self.params), n=1)
                raise AttributeError(
                    f"population {self.name!r}: unknown name {name!r}"
                    + (f"; did you mean {hint[0]!r}?" if hint else "")
                )
            vals = values(
                value, sel._draws(draws.SET), len(sel.ids), f"population {self.name!r}: {name}"
            )
            if target is self.params:
                self.check_param_values(name, _as_given(value, vals))
                self.dirty = True
            else:
                self.check_state_values(name, _as_given(value, vals))
            target[name][sel.ids] = vals

    # --------------------------------------------------------------- kernel interface
    def refresh(self):
        """Recompute dt-dependent arrays (propagators, refractory steps) after changes."""

    def uniform_args(self) -> frozenset:
        """Names of parameter/coefficient arrays whose values are all equal (passed to the
        kernel as scalars)."""
        return frozenset()

    def use_rank_span(self, net):
        """Under MPI: limit what this rank generates to what it uses (input sources drawn
        element by element; see :func:`axonforge.engine.partition.source_span`)."""

    def worker_ranges(self, layout):
        """``(lo, hi, rows)``: this process's workers' ranges and every buffer row's size
        (:mod:`axonforge.engine.partition`)."""
        raise NotImplementedError

    def allocate_chunk(self, layout):
        """Worker ranges and chunk spike buffers for ``layout``
        (:mod:`axonforge.engine.partition`): one row per buffer, each with room for all
        of its range's elements firing in every step of a chunk."""
        lo, hi, rows = self.worker_ranges(layout)
        cap = max(int(rows.max(initial=0)) * layout.steps, 1)
        self.chunk = {
            "lo": lo,
            "hi": hi,
            "nbuf": len(rows),
            "spk": np.zeros((len(rows), cap), np.int32),
            "sptr": np.zeros((len(rows), layout.steps + 1), np.int64),
        }
        if self.payload_dtype is not None:
            self.chunk["mult"] = np.zeros((len(rows), cap), self.payload_dtype)

    def kernel_state(self) -> dict:
        """The arrays and scalars the kernels read and write, by declared key
        (:mod:`axonforge.engine.args`); uniform parameters as scalars."""
        return {"n": self.n, **self.chunk}

    def plan_fields(self, net) -> dict:
        """The kind's fields of its :class:`~axonforge.engine.description.PopPlan`."""
        return {}

    def _model_name(self) -> str:
        return type(self.model).__name__

    def __repr__(self):
        return f"<Population {self.name!r}: {self.n} x {self._model_name()}>"

    # ------------------------------------------------------------------- saved state
    def saved_state(self) -> dict:
        """The population as a state dict (:mod:`axonforge.state`): what a file stores
        and what MPI gathers."""
        out = state(
            attrs={
                "name": self.name,
                "kind": self.kind,
                "n": self.n,
                "stream": self.stream,
                "merged_spikes": self.merged_spikes,
                "n_draws": getattr(self, "n_draws", 0),
            }
        )
        self._save_kind(out)
        if self.positions is not None:  # the same on every rank
            out["arrays"]["positions"] = self.positions
            if self.extent is not None:
                out["arrays"]["extent"] = self.extent
        return out

    def _save_kind(self, out):
        """Add the kind's attributes, arrays and splits to ``out``."""

    @classmethod
    def from_saved(cls, net, d) -> Population:
        """Rebuild a population of ``net`` from :meth:`saved_state`'s dict."""
        a = d["attrs"]
        pop = cls(net, cls._saved_model(d), int(a["n"]), str(a["name"]), {})
        pop._restore_kind(d)
        pop.stream = int(a["stream"])
        pop.merged_spikes = int(a["merged_spikes"])
        # keyed draws after loading must not repeat those made before saving
        pop.n_draws = int(a.get("n_draws", 0))
        arrays = d.get("arrays", {})
        if "positions" in arrays:
            pop.positions = np.ascontiguousarray(arrays["positions"], np.float64)
            pop.extent = arrays.get("extent")
        return pop

    @classmethod
    def _saved_model(cls, d):
        raise NotImplementedError

    def _restore_kind(self, d):
        """Take the kind's saved arrays back."""


class NeuronPopulation(Population):
    """Neurons of one :class:`~axonforge.models.base.NeuronModel`: state, parameters,
    refractory counters and ring buffers, updated by the kernels in phase A."""

    KIND = "neuron"
    model_type = NeuronModel
    is_neuron = True

    def _init(self, n, initial):
        spec = self.model.spec
        self.n = self._check_n(n, spec.name)
        self.checked = checked_spec(spec)
        for name, value in self.model.params.items():
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim == 1 and len(arr) != self.n:
                raise ValueError(
                    f"population {self.name!r}: parameter {name!r} has {len(arr)} "
                    f"values but n={self.n}; give a scalar or one value per neuron"
                )
            self.params[name] = np.array(np.broadcast_to(arr, (self.n,)), dtype=np.float64)
            self.check_param_values(name, self.params[name])
        unknown = set(initial) - set(spec.state)
        if unknown:
            name = sorted(unknown)[0]
            hint = difflib.get_close_matches(name, list(spec.state), n=1)
            raise TypeError(
                f"population {self.name!r}: {name!r} is not a state variable of "
                f"{spec.name}"
                + (
                    f"; did you mean {hint[0]!r}?"
                    if hint
                    else f"; state variables: {list(spec.state)}"
                )
            )
        dtype = self.net.dtype
        every = np.arange(self.n, dtype=np.int64)
        env = dict(self.params)
        for name in spec.state:
            if name in initial:
                vals = values(
                    initial[name],
                    lambda a, b: draws.neuron_draws(self, draws.INIT, every[a:b]),
                    self.n,
                    f"population {self.name!r}: {name}",
                )
                self.check_state_values(name, _as_given(initial[name], vals))
            else:
                vals = np.broadcast_to(evaluate(self.checked.initial[name], env), (self.n,))
            self.state[name] = np.array(vals, dtype=dtype)
            env[name] = self.state[name].astype(np.float64)
        # first step in which each neuron is no longer refractory (absolute step index)
        self.until = np.zeros(self.n, np.int64)
        if self.checked.outputs:  # graded output: events carry values, not spikes
            self.payload_dtype, self.carries_spikes = np.float64, False
        # method rkf45: each neuron's last accepted step size [s] (0: start with dt)
        self.hstep = np.zeros(self.n if self.checked.method == "rkf45" else 0)
        # threshold flags, padded to whole uint64 words so the kernel can skip 8 at a time
        self.fire = np.zeros(-(-self.n // 8) * 8, np.bool_)

    def check_param_values(self, name, vals):
        """Check parameter values against the spec's unit and plausible range."""
        self._check(name, vals, self.checked.spec.parameters[name])

    def check_state_values(self, name, vals):
        """Check initial or set state values against the state variable's unit and range."""
        self._check(name, vals, self.checked.spec.state[name])

    def _check(self, name, vals, entry):
        check_quantity(
            f"population {self.name!r} ({type(self.model).__name__})",
            name,
            vals,
            entry,
            self.model.strict_units,
            fix=f"pass strict_units=False to {type(self.model).__name__}(...) if intended",
        )

    def refresh(self):
        if not self.dirty:
            return
        c, dt, dtype = self.checked, self.net.dt, self.net.dtype
        self.coef = {}
        if c.method == "exact":
            normal, refr_rows, separate = propagators.structure(c)
            prop = propagators.coefficients(c, self.params, dt, self.n)
            for j, cols in normal.items():
                for col in cols:
                    self.coef[f"c_{j}_{col}"] = np.ascontiguousarray(prop[:, j, col], dtype)
            if separate:
                rprop = propagators.coefficients(c, self.params, dt, self.n, refractory=True)
                for j, cols in refr_rows.items():
                    for col in cols:
                        self.coef[f"r_{j}_{col}"] = np.ascontiguousarray(rprop[:, j, col], dtype)
            noise = propagators.noise_coefficients(c, self.params, dt, self.n) if c.noise else {}
            self.coef.update({k: np.ascontiguousarray(v, dtype) for k, v in noise.items()})
        ref = c.spec.refractory
        if ref is not None and c.refractory_when is None:
            self.refsteps = np.floor(self.params[ref] / dt + 0.5).astype(np.int32)
        self.kparams = {
            k: (v if dtype == np.float64 else v.astype(dtype)) for k, v in self.params.items()
        }
        self.dirty = False

    def uniform_args(self) -> frozenset:
        arrays = {f"p_{k}": v for k, v in self.kparams.items()}
        arrays.update(self.coef)
        return frozenset(k for k, v in arrays.items() if len(v) and np.all(v == v[0]))

    def worker_ranges(self, layout):
        from axonforge.engine.partition import neuron_ranges

        return neuron_ranges(self.n, layout)

    def kernel_state(self) -> dict:
        out = super().kernel_state()
        out.update({f"x_{k}": v for k, v in self.state.items()})
        uniform = self.uniform
        for k, v in self.kparams.items():
            out[f"p_{k}"] = v[0] if f"p_{k}" in uniform else v
        for k, v in self.coef.items():
            out[k] = v[0] if k in uniform else v
        out.update({f"rb_{k}": v.reshape(-1) for k, v in self.rb.items()})
        out["until"] = self.until
        out["fire"] = self.fire
        if self.checked.method == "rkf45":
            out["hstep"] = self.hstep
        if self.checked.spec.refractory is not None and self.checked.refractory_when is None:
            out["refsteps"] = self.refsteps
        out.update({f"snap_{k}": v for k, v in self.snapshots.items()})
        out.update({f"pub_{k}": v for k, v in self.published.items()})
        return out

    #: snapshots of coupled variables, ``var -> array`` (see :meth:`take_snapshots`)
    snapshots: dict = {}  # noqa: RUF012 - replaced, never mutated
    #: state read by tripartite synapse rules, ``var -> array`` (see :meth:`take_snapshots`)
    published: dict = {}  # noqa: RUF012 - replaced, never mutated

    def snapshot_vars(self, net) -> tuple:
        """The state variables that couplings read from this population (kept as a
        snapshot of the previous step, :mod:`axonforge.coupling`), in spec order."""
        read = set()
        for pr in net.projections.values():
            summed = getattr(pr, "summed", None)
            if summed is not None:
                read |= summed.reads_pre if pr.pre_pop is self else set()
                read |= summed.reads_post if pr.post_pop is self else set()
        return tuple(v for v in self.checked.spec.state if v in read)

    def published_vars(self, net) -> tuple:
        """The state variables synapse rules of tripartite synapses read from this
        population (``<var>_astro``; published at the end of each chunk), in spec order."""
        read = set()
        for pr in net.projections.values():
            if pr.astro_pop is self and pr.plastic is not None:
                read |= pr.plastic.checked.neuron_reads["astro"]
        return tuple(v for v in self.checked.spec.state if v in read)

    def take_snapshots(self, net):
        """Snapshots of the coupled variables as the state is now (before a run)."""
        self.snapshots = {v: self.state[v].copy() for v in self.snapshot_vars(net)}
        self.published = {v: self.state[v].copy() for v in self.published_vars(net)}

    def ports_in_use(self, net) -> tuple:
        """The model's ports that some projection of ``net`` targets, in spec order."""
        return tuple(
            p
            for p in self.checked.spec.ports
            if any(pr.post_pop is self and pr.port == p for pr in net.projections.values())
        )

    def plan_fields(self, net) -> dict:
        return {
            "checked": self.checked,
            "ports_used": self.ports_in_use(net),
            "snapshots": self.snapshot_vars(net),
            "published": self.published_vars(net),
            "graded": bool(self.checked.outputs),
        }

    def _model_name(self) -> str:
        outputs = self.checked.outputs
        return self.model.spec.name + (
            f" (graded output {next(iter(outputs))!r})" if outputs else ""
        )

    def _save_kind(self, out):
        m = self.model
        out["attrs"].update(
            spec=m.spec.to_json(),
            model_class=class_path(type(m)),
            kinetics=m.kinetics or "",
            strict_units=m.strict_units,
            **({"sic": True} if getattr(m, "sic", False) else {}),
        )
        mine = ByRange(self.n)  # each rank updates its own neurons
        arrays, split = out["arrays"], out.setdefault("split", {})
        arrays.update({f"params/{k}": v for k, v in self.params.items()})
        for key, v in (
            *((f"state/{k}", v) for k, v in self.state.items()),
            ("until", self.until),
            *((("hstep", self.hstep),) if len(self.hstep) else ()),
            *((f"rb/{k}", v) for k, v in getattr(self, "rb", {}).items()),
        ):
            arrays[key], split[key] = v, mine

    @classmethod
    def _saved_model(cls, d):
        """The model class if importable and identical to the stored spec, else a model
        built from the stored spec (which is authoritative)."""
        a = d["attrs"]
        spec = NeuronSpec.from_dict(json.loads(a["spec"]))
        strict = bool(a.get("strict_units", True))
        model_cls = stored_class(a.get("model_class", ""))
        try:
            if isinstance(model_cls, type) and issubclass(model_cls, NeuronModel):
                kin = str(a.get("kinetics", "")) or None
                model = (
                    model_cls(kinetics=kin, strict_units=strict, sic=bool(a.get("sic", False)))
                    if model_cls.membrane is not None
                    else model_cls(strict_units=strict)
                )
                if model.spec.to_json() == spec.to_json():
                    return model
        except (TypeError, ValueError):
            pass  # fall back to the stored spec
        return spec_model(spec, strict_units=strict)

    def _restore_kind(self, d):
        arrays = d["arrays"]
        for k in self.params:
            self.params[k][:] = arrays[f"params/{k}"]
        for k in self.state:
            self.state[k][:] = arrays[f"state/{k}"]
        self.until[:] = arrays["until"]
        if "hstep" in arrays and len(self.hstep):
            self.hstep[:] = arrays["hstep"]
        # spikes in flight; the network checks and lays them out (io.load_network)
        self.rb = {k[3:]: v for k, v in arrays.items() if k.startswith("rb/")}


class SpikeSourcePopulation(Population):
    """Replays a :class:`~axonforge.models.sources.SpikeSource` schedule."""

    KIND = "spikes"
    model_type = SpikeSource

    def _init(self, n, initial):
        self._no_initial(initial)
        src = self.model
        n = int(src.ids.max()) + 1 if n is None and len(src.ids) else n
        self.n = self._check_n(n, "SpikeSource")
        if len(src.ids) and src.ids.max() >= self.n:
            raise ValueError(
                f"population {self.name!r}: SpikeSource id {int(src.ids.max())} "
                f"is out of range for n={self.n}"
            )
        self.set_spikes(src.times, src.ids)

    def set_spikes(self, times, ids):
        """Replace the replay schedule (times in s, absolute network time)."""
        dt = self.net.dt
        grid = np.floor(np.asarray(times, np.float64) / dt + 0.5).astype(np.int64)
        early = grid < 1
        if early.any():
            raise ValueError(
                f"population {self.name!r}: {int(early.sum())} spike time(s) round "
                f"to t=0 (first: {times[np.flatnonzero(early)[0]]} s); the first "
                f"step ends at dt={dt} s, the earliest replayable time; shift them"
            )
        steps = grid - 1
        if (steps < self.net.step).any():
            raise ValueError(
                f"population {self.name!r}: spike times before the current network "
                f"time t={self.net.t} s cannot be replayed"
            )
        order = np.lexsort((ids, steps))
        steps, ids_sorted = steps[order], np.asarray(ids, np.int64)[order]
        keep = np.ones(len(steps), bool)
        keep[1:] = (steps[1:] != steps[:-1]) | (ids_sorted[1:] != ids_sorted[:-1])
        merged = int((~keep).sum())
        if merged:
            warnings.warn(
                f"population {self.name!r}: {merged} spike(s) fell in the same step "
                f"as another spike of the same source and were merged (dt={dt} s)",
                stacklevel=3,
            )
        self.merged_spikes += merged
        self.sched_step = np.ascontiguousarray(steps[keep])
        self.sched_id = np.ascontiguousarray(ids_sorted[keep].astype(np.int32))
        self.pos = np.zeros(1, np.int64)

    def worker_ranges(self, layout):
        from axonforge.engine.partition import first_thread_ranges

        return first_thread_ranges(self.n, layout)

    def kernel_state(self) -> dict:
        out = super().kernel_state()
        out.update(
            sched_step=self.sched_step,
            sched_id=self.sched_id,
            n_sched=len(self.sched_step),
            pos=self.pos,
        )
        return out

    def _save_kind(self, out):
        out["arrays"].update(sched_step=self.sched_step, sched_id=self.sched_id, pos=self.pos)

    @classmethod
    def _saved_model(cls, d):
        return SpikeSource([], [])

    def _restore_kind(self, d):
        arrays = d["arrays"]
        self.sched_step, self.sched_id = arrays["sched_step"], arrays["sched_id"]
        self.pos = arrays["pos"]


class SpikeStreamPopulation(SpikeSourcePopulation):
    """Replays a :class:`~axonforge.models.SpikeStream`: one window of the schedule in
    memory, refilled by the host between chunks (:mod:`axonforge.streaming`)."""

    KIND = "stream"
    model_type = SpikeStream
    refilled_by_host = True

    def _init(self, n, initial):
        from axonforge import streaming

        self._no_initial(initial)
        spec, net = self.model, self.net
        source = streaming.open_source(spec.source)
        where = f"population {self.name!r}: SpikeStream {source.label}"
        first, last = source.window(spec.start, spec.stop)
        n_units = source.n_units if n is None else n
        if spec.validate and last > first:
            top = streaming.validate(source, first, last, n_units, where)
            n_units = top + 1 if n_units is None else n_units
        self.n = self._check_n(n_units, "SpikeStream (give n=, the number of sources)")
        if last > first and not getattr(spec, "_resumed", False):
            t0 = source.time(first)
            step = streaming._step_of(t0, spec.shift, net.dt)
            if step < 0:
                raise ValueError(
                    f"{where}: its first spike (t={t0} s, shift {spec.shift} s) rounds "
                    f"to t=0; the first step ends at dt={net.dt} s, the earliest "
                    "replayable time; shift it"
                )
            if step < net.step:
                raise ValueError(
                    f"{where}: its first spike (t={t0} s, shift {spec.shift} s) is "
                    f"before the current network time t={net.t} s and cannot be "
                    "replayed; give start= or shift="
                )
        self.buffer = streaming.StreamBuffer(source, net.dt, spec.shift, first, last, spec.block)
        self.buffer.restart(net.step)
        self._merged_before, self._warned = 0, False

    @property
    def merged_spikes(self) -> int:
        """Spikes merged with another of the same source in the same step, among those
        replayed so far."""
        buffer = getattr(self, "buffer", None)
        return self._merged_before + (buffer.consumed_merges() if buffer is not None else 0)

    @merged_spikes.setter
    def merged_spikes(self, value):
        buffer = getattr(self, "buffer", None)
        self._merged_before = int(value) - (buffer.consumed_merges() if buffer is not None else 0)

    def set_spikes(self, times, ids):
        raise TypeError(
            f"population {self.name!r} streams its spikes; create a SpikeSource population "
            "to set a schedule in memory"
        )

    def use_rank_span(self, net):
        from axonforge.engine.partition import source_span

        span = source_span(net, self)
        span = (0, self.n) if span is None else span
        if span != self.buffer.span:
            self.buffer.span = span
            self.buffer.restart(net.step)

    def refill(self, need) -> bool:
        """Top up the window so that it holds every step before ``need`` (the end of the
        next chunk); True when its arrays were replaced. (A load or a restore makes the
        population again, which positions the window at the network's step.)"""
        from axonforge import streaming

        grew = self.buffer.refill(need)
        if not self._warned and self.buffer.loaded_merges():
            streaming.merge_warning(self.name, self.net.dt)
            self._warned = True
        return grew

    def kernel_state(self) -> dict:
        b = self.buffer
        out = Population.kernel_state(self)
        out.update(
            sched_step=b.sched_step,
            sched_id=b.sched_id,
            n_sched=b.cap,
            pos=b.pos,
            sched_end=b.sched_end,
        )
        return out

    def _save_kind(self, out):
        spec = self.model
        if isinstance(spec.source, (str, os.PathLike)):
            out["attrs"]["source"] = self.buffer.source.path
        else:  # spikes in memory are saved whole
            b = self.buffer.source
            out["arrays"].update(source_times=b.times, source_ids=b.ids)
        for key in ("start", "stop"):
            value = getattr(spec, key)
            out["attrs"][key] = np.nan if value is None else float(value)
        out["attrs"].update(shift=spec.shift, block=spec.block)

    @classmethod
    def _saved_model(cls, d):
        a, arrays = d["attrs"], d.get("arrays", {})
        source = (
            str(a["source"]) if "source" in a else (arrays["source_times"], arrays["source_ids"])
        )
        window = [None if np.isnan(float(a[k])) else float(a[k]) for k in ("start", "stop")]
        # checked when it was made; it continues at the saved step
        spec = SpikeStream(source, *window, float(a["shift"]), int(a["block"]), validate=False)
        spec._resumed = True
        return spec

    def _restore_kind(self, d):
        pass


class _DrawnSource(Population):
    """An input source drawn element by element from counter-based draws: under MPI each
    rank generates only the ids it uses (``span``)."""

    span = None

    def use_rank_span(self, net):
        from axonforge.engine.partition import source_span

        self.span = source_span(net, self)

    def worker_ranges(self, layout):
        from axonforge.engine.partition import span_ranges

        return span_ranges(self.n, layout, self.span)


class PoissonPopulation(_DrawnSource):
    """Independent Poisson sources (:class:`~axonforge.models.sources.PoissonSource`) with
    piecewise-constant rates; each element emits a count of spikes per step."""

    KIND = "poisson"
    model_type = PoissonSource
    counts_per_spike = True
    payload_dtype = np.int64

    def _init(self, n, initial):
        self._no_initial(initial)
        src = self.model
        cols = src.rates.shape[1]
        if n is None:
            n = cols if cols > 1 else None
        self.n = self._check_n(n, "PoissonSource")
        if cols not in (1, self.n):
            raise ValueError(
                f"population {self.name!r}: PoissonSource has {cols} rates per "
                f"segment but n={self.n}; give one rate or one per source"
            )
        dt = self.net.dt
        seg_step = np.floor(src.rate_times / dt + 0.5).astype(np.int64)
        lam = src.rates * dt
        if np.any(np.diff(seg_step) <= 0):
            raise ValueError(
                f"population {self.name!r}: two rate_times fall on the same step (dt={dt} s)"
            )
        if seg_step[0] > 0:
            seg_step = np.concatenate([[0], seg_step])
            lam = np.vstack([np.zeros((1, cols)), lam])
        if lam.max(initial=0) > _MAX_LAMBDA:
            raise ValueError(
                f"population {self.name!r}: rate*dt = {lam.max():.3g} spikes per "
                f"step is too high (max {_MAX_LAMBDA}); use a smaller dt or split "
                "the source"
            )
        self.seg_step, self.lam = seg_step, np.ascontiguousarray(lam)
        self.explam = np.exp(-self.lam)
        self.lamstride = 0 if cols == 1 else 1
        # A rate shared by all sources gets a CDF table per segment: branch-free counts.
        self.cdf = poisson_cdf_table(self.lam[:, 0]) if cols == 1 else np.zeros((1, 1))
        self.seg = np.zeros(1, np.int64)

    def current_rates(self) -> np.ndarray:
        """The rate [Hz] of every source at the current step."""
        g = int(np.searchsorted(self.seg_step, self.net.step, side="right")) - 1
        return np.broadcast_to(self.lam[max(g, 0)] / self.net.dt, (self.n,)).copy()

    def set_rates(self, rates):
        """Make ``rates`` [Hz] (one per source) hold from the current step on."""
        rates = np.asarray(rates, np.float64)
        shared = bool(np.all(rates == rates[0]))
        self.model = PoissonSource(
            rates[:1] if shared else rates.reshape(1, -1), rate_times=[self.net.t]
        )
        workers = len(self.seg)  # one segment position per worker (allocate_chunk)
        self._init(self.n, {})
        self.seg = np.zeros(workers, np.int64)
        self.dirty = True

    def _get(self, name, ids):
        if name == "rate":
            return self.current_rates()[ids]
        return super()._get(name, ids)

    def _set(self, sel, values_):
        if set(values_) != {"rate"}:
            return super()._set(sel, values_)
        rates = self.current_rates()
        rates[sel.ids] = values(
            values_["rate"], sel._draws(draws.RATE), len(sel.ids), f"{self.name!r}: rate"
        )
        self.set_rates(rates)

    def uniform_args(self) -> frozenset:
        return frozenset({"lam"}) if self.lamstride == 0 else frozenset()

    def allocate_chunk(self, layout):
        super().allocate_chunk(layout)
        self.seg = np.zeros(layout.threads, np.int64)

    def kernel_state(self) -> dict:
        out = super().kernel_state()
        out.update(
            cdf=self.cdf,
            n_table=self.cdf.shape[1],
            seg_step=self.seg_step,
            n_seg=len(self.seg_step),
            lam=self.lam,
            explam=self.explam,
            seg=self.seg,
            stream=self.stream,
        )
        return out

    def _save_kind(self, out):
        out["arrays"].update(rates=self.model.rates, rate_times=self.model.rate_times)
        out["arrays"]["seg"] = self.seg

    @classmethod
    def _saved_model(cls, d):
        return PoissonSource(d["arrays"]["rates"], d["arrays"]["rate_times"])

    def _restore_kind(self, d):
        self.seg = d["arrays"]["seg"]


class NoisePopulation(_DrawnSource):
    """Noise currents (:class:`~axonforge.models.sources.NoiseSource`): an amplitude per
    element every ``period``, delivered as weights times amplitude, not as spikes."""

    KIND = "noise"
    model_type = NoiseSource
    carries_spikes = False
    payload_dtype = np.float64

    def _init(self, n, initial):
        self._no_initial(initial)
        self.n = self._check_n(n, "NoiseSource")
        dt, period = self.net.dt, self.model.period
        steps = 1 if period is None else period / dt
        if abs(steps - round(steps)) > 1e-6 or round(steps) < 1:
            raise ValueError(
                f"population {self.name!r}: NoiseSource period {period} s is not "
                f"a positive multiple of dt={dt} s"
            )
        self.period_steps = int(round(steps))

    def kernel_state(self) -> dict:
        out = super().kernel_state()
        out.update(
            period=self.period_steps, mean=self.model.mean, std=self.model.std,
            stream=self.stream,
        )  # fmt: skip
        return out

    def plan_fields(self, net) -> dict:
        return {"noise": self.model.distribution}

    def _save_kind(self, out):
        m = self.model
        out["attrs"].update(
            mean=m.mean,
            std=m.std,
            period=-1.0 if m.period is None else m.period,
            distribution=m.distribution,
        )

    @classmethod
    def _saved_model(cls, d):
        a = d["attrs"]
        period = float(a["period"])
        return NoiseSource(
            float(a["std"]),
            float(a["mean"]),
            None if period < 0 else period,
            str(a.get("distribution", "normal")),
        )


#: every kind, by the name files store
KINDS = {
    cls.KIND: cls
    for cls in (
        NeuronPopulation,
        SpikeSourcePopulation,
        SpikeStreamPopulation,
        PoissonPopulation,
        NoisePopulation,
    )
}


def new_population(net, model, n, name, initial) -> Population:
    """The population of the kind ``model`` asks for (the factory behind
    :meth:`axonforge.Network.population`)."""
    for cls in KINDS.values():
        if isinstance(model, cls.model_type):
            return cls(net, model, n, name, initial)
    raise TypeError(
        f"population: expected a neuron model (e.g. LIF(...)), "
        f"SpikeSource, SpikeStream, PoissonSource or NoiseSource, got "
        f"{type(model).__name__}"
    )


class PopulationView(_Selectable):
    """A subset of a population's neurons (``pop[10:20]``, ``pop[[1, 5]]``, ``pop[mask]``)."""

    def __init__(self, population: Population, ids):
        ids = np.asarray(ids, dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"a view of {population.name!r} lists some neuron twice")
        self.population, self.ids = population, ids

    def __repr__(self):
        return f"<PopulationView of {self.population.name!r}: {len(self.ids)} neurons>"


def resolve(obj, what: str):
    """``(population, ids)`` of a population or view, with a clear error otherwise."""
    if isinstance(obj, (Population, PopulationView)):
        return obj.population, obj.ids
    raise TypeError(f"{what}: expected a population or a view of one, got {type(obj).__name__}")


def lookup(pop: Population, ids: np.ndarray) -> np.ndarray:
    """Array over the population: position of each neuron in ``ids``, or -1."""
    out = np.full(pop.n, -1, dtype=np.int32)
    out[ids] = np.arange(len(ids), dtype=np.int32)
    return out
