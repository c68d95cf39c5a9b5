"""The Network: the user's handle on populations, projections, monitors and the run loop.

``Network`` holds the objects, compiles the network's structure into one kernel (see
:mod:`axonforge.codegen`) the first time it runs, and runs the kernel in chunks. Python
work happens per chunk (progress bar, draining monitors, scheduled current changes),
never per step.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from axonforge import codegen, modulators, projection
from axonforge.connectivity import AllToAll
from axonforge.models.sources import StepCurrent
from axonforge.modulators import Modulator
from axonforge.monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from axonforge.population import Population, resolve
from axonforge.projection import Projection

BACKENDS = ("numba", "cupy")
PRECISIONS = {"float64": np.float64, "float32": np.float32}


class Network:
    """A spiking network simulated on a fixed time grid.

    Parameters
    ----------
    dt : float [s]
        Time step (default 0.1 ms).
    seed : int or None
        Seed for connectivity, initial values and Poisson input. ``None`` draws one at
        random and stores it in ``net.seed``. Same seed and backend give identical spikes.
    backend : {"numba", "cupy"}
        Where the kernels run; ``"numba"`` is the CPU.
    precision : {"float64", "float32"}
        Floating-point type of state variables.
    """

    def __init__(self, dt=0.1e-3, seed=None, backend="numba", precision="float64"):
        if (
            isinstance(dt, bool)
            or not isinstance(dt, (int, float, np.floating))
            or not np.isfinite(dt)
            or dt <= 0
        ):
            raise ValueError(
                f"Network: dt must be a positive number of seconds, got {dt!r} (e.g. dt=0.1*ms)"
            )
        if dt > 0.01:
            warnings.warn(
                f"Network: dt={dt} s is unusually large; did you pass milliseconds? "
                "Use axonforge.units (dt=0.1*ms)",
                stacklevel=2,
            )
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= seed < 2**63
        ):
            raise ValueError(f"Network: seed must be an integer in [0, 2**63), got {seed!r}")
        if backend not in BACKENDS:
            raise ValueError(f"Network: unknown backend {backend!r}; choose one of {BACKENDS}")
        if backend == "cupy":
            raise NotImplementedError(
                "Network: backend='cupy' (GPU) is not available in this version of "
                "axonforge; use backend='numba'"
            )
        if precision not in PRECISIONS:
            raise ValueError(
                f"Network: precision must be one of {list(PRECISIONS)}, got {precision!r}"
            )
        self.dt, self.seed, self.backend, self.precision = float(dt), int(seed), backend, precision
        self.dtype = PRECISIONS[precision]
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}
        self.monitors: list = []
        self.modulators: dict[str, Modulator] = {}
        self.injections: list = []
        self.step = 0
        self._kernel = None
        self._structure_changed = True
        self._L = None
        self.timings = {"build": 0.0, "compile": 0.0, "run": 0.0}
        self._t_created = time.perf_counter()

    @property
    def t(self) -> float:
        """Current network time [s]."""
        return self.step * self.dt

    # ------------------------------------------------------------------ construction
    def _name(self, name, prefix, taken):
        if name is None:
            name = f"{prefix}{len(taken)}"
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        if name in taken:
            raise ValueError(f"a {prefix} named {name!r} already exists in this network")
        return name

    def population(self, model, n=None, name=None, **initial) -> Population:
        """Add a population of neurons (or an input source) to the network.

        Parameters
        ----------
        model : NeuronModel, SpikeSource, PoissonSource or NoiseSource
            What the population is made of, with its parameter values.
        n : int
            Number of neurons. For a ``SpikeSource`` the default is the largest id + 1;
            for a ``PoissonSource`` with per-source rates, the number of rates.
        name : str, optional
            Unique name (default ``pop0``, ``pop1``, ...); ``net.populations[name]``.
        **initial
            Initial state values by variable name: scalars, arrays of length ``n`` or
            distributions such as ``sim.uniform(-60*mV, -50*mV)``. Unset variables take
            the spec's initial values.

        Returns
        -------
        Population
            Index it (``pop[:100]``) for views usable in connections and monitors.
        """
        t0 = time.perf_counter()
        name = self._name(name, "pop", self.populations)
        pop = Population(self, model, n, name, initial)
        self.populations[name] = pop
        self._structure_changed = True
        self.timings["build"] += time.perf_counter() - t0
        return pop

    def connect(
        self,
        pre,
        post,
        rule=None,
        weight=0.0,
        delay=None,
        port="exc",
        name=None,
        round_delays=False,
        synapse=None,
        modulator=None,
    ) -> Projection:
        """Create synapses from ``pre`` to ``post``.

        Parameters
        ----------
        pre, post : Population or PopulationView
            Sources (neurons or input sources) and target neurons.
        rule : Rule, optional
            ``AllToAll()`` (default), ``OneToOne()``, ``FixedProbability(p)``,
            ``FixedInDegree(k)``, ``FixedOutDegree(k)`` or ``Explicit(pre_ids, post_ids)``.
        weight : float, array or distribution
            In the port's unit: amperes for current ports (negative on ``inh``),
            volts for delta kinetics, siemens for conductance ports. An array gives one
            value per synapse in storage order (``Explicit``: in the order of its pairs).
        delay : float, array or distribution [s]
            Default ``dt``. At least ``dt`` and a multiple of it (see ``round_delays``).
        port : str
            Receptor port of the post model (``"exc"``, ``"inh"``).
        name : str, optional
            Unique name (default ``proj0``, ...); ``net.projections[name]``.
        round_delays : bool
            Round off-grid delays to the nearest step (half-way up) and raise delays
            below one step to one step, instead of failing; ``proj.rounded_delays``
            counts the delays changed, ``proj.raised_delays`` those raised. Negative or
            non-finite delays always fail.
        synapse : SynapseModel, optional
            A plasticity rule such as ``STDP(...)``; ``weight`` gives the initial weights
            and ``proj.weights`` always shows the current ones. Default: static synapses.
        modulator : Modulator or str, optional
            For three-factor rules (``DopamineSTDP``): the modulator they read
            (see :meth:`modulator`).

        Returns
        -------
        Projection
            With ``pre_ids``, ``post_ids``, ``weights`` (settable) and ``delays``.

        Raises
        ------
        MemoryError
            At once, before building, when the build's peak memory (see
            :meth:`estimate_connection`) exceeds the memory available.
        """
        t0 = time.perf_counter()
        name = self._name(name, "proj", self.projections)
        for obj, what in ((pre, "pre"), (post, "post")):
            pop, _ = resolve(obj, f"connect {name!r}: {what}")
            if pop.net is not self:
                raise ValueError(f"connect {name!r}: {what} belongs to another network")
        proj = Projection(
            self,
            pre,
            post,
            rule if rule is not None else AllToAll(),
            weight,
            delay,
            port,
            name,
            round_delays,
            synapse,
            None if modulator is None else modulators.find(self, modulator, f"connect {name!r}"),
        )
        self.projections[name] = proj
        self._structure_changed = True
        self.timings["build"] += time.perf_counter() - t0
        return proj

    def estimate_connection(self, pre, post, rule=None, synapse=None, weight=None, delay=None):
        """What ``connect`` with these arguments would cost, without building anything:
        ``.synapses`` (expected count), ``.stored_bytes`` (``proj.nbytes``) and
        ``.peak_bytes`` (memory needed while building). ``weight=None`` assumes
        per-synapse weights; ``delay=None`` is ``dt``."""
        return projection.estimate(self, pre, post, rule, synapse, weight, delay)

    # ------------------------------------------------------------------- modulators
    def modulator(self, name="dopamine", tau=0.2, source=None, amount=1.0, value=0.0):
        """Create a neuromodulator (volume transmitter) for three-factor rules.

        Parameters
        ----------
        name : str
            Unique name; ``net.modulators[name]``.
        tau : float [s] or None
            Decay time constant of the concentration (Izhikevich 2007: 0.2 s); ``None``
            holds it constant until set again (a reward or error signal given per chunk).
        source : Population, optional
            Neurons (e.g. dopaminergic) whose spikes each add ``amount``.
        amount : float
            Jump per source spike.
        value : float
            Initial concentration.

        Returns
        -------
        Modulator
            ``mod.value`` is readable and settable between runs.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"modulator: name must be a non-empty string, got {name!r}")
        if name in self.modulators:
            raise ValueError(f"modulator: the name {name!r} is already used")
        mod = Modulator(self, name, tau, source, amount, value)
        self.modulators[name] = mod
        self._structure_changed = True
        return mod

    def set_modulator(self, value, name=None):
        """Set a modulator's concentration now (between runs), e.g. a reward.

        ``name`` may be omitted when the network has one modulator. The value then
        evolves as the modulator's ``tau`` says. Raises ``ValueError`` if no projection
        reads the modulator, since the call would have no effect.
        """
        modulators.set_value(self, value, name)

    def _add_monitor(self, mon):
        if mon.pop.net is not self:
            raise ValueError(f"{type(mon).__name__}: the target belongs to another network")
        self.monitors.append(mon)
        self._structure_changed = True
        return mon

    def spike_monitor(self, target, name=None) -> SpikeMonitor:
        """Record the spikes of a population or view.

        Returns
        -------
        SpikeMonitor
            ``times`` [s] and ``ids`` (indices within ``target``), ``counts``,
            ``spike_trains()``, ``mean_rate()``.
        """
        return self._add_monitor(SpikeMonitor(self, target, name or f"mon{len(self.monitors)}"))

    def state_monitor(self, target, variables, ids=None, every=1, name=None) -> StateMonitor:
        """Record state variables of chosen neurons.

        Parameters
        ----------
        target : Population or PopulationView
        variables : str or list of str
            State variable names (e.g. ``["v"]``).
        ids : array of int, optional
            Indices within ``target`` (default: all).
        every : int
            Record after every ``every``-th step (steps whose end time is a multiple of
            ``every*dt``).

        Returns
        -------
        StateMonitor
            ``t`` [s] and ``mon[var]`` with shape ``(samples, len(ids))``.
        """
        return self._add_monitor(
            StateMonitor(self, target, variables, ids, every, name or f"mon{len(self.monitors)}")
        )

    def weight_monitor(self, proj, synapses=None, variables=("w",), every=1, name=None):
        """Record per-synapse variables of chosen synapses of a projection over time.

        Parameters
        ----------
        proj : Projection
        synapses : array of int, optional
            Indices into the projection's synapses (storage order: ``proj.pre_ids[i]``,
            ``proj.post_ids[i]``); default all.
        variables : str or sequence of str
            ``"w"`` and, for plastic rules, their other per-synapse state.
        every : int
            Sample after every ``every``-th step.

        Returns
        -------
        WeightMonitor
            ``t`` [s] and ``mon["w"]`` with shape ``(samples, len(synapses))``.
        """
        if not isinstance(proj, Projection) or proj.net is not self:
            raise TypeError("weight_monitor: expected a projection of this network")
        mon = WeightMonitor(
            self, proj, synapses, variables, every, name or f"mon{len(self.monitors)}"
        )
        self.monitors.append(mon)
        self._structure_changed = True
        return mon

    def rate_monitor(self, target, name=None) -> RateMonitor:
        """Record the population rate of ``target``.

        Returns
        -------
        RateMonitor
            ``t`` [s], ``rate`` [Hz] (spikes per step per neuron / dt),
            ``smooth_rate(width)``.
        """
        return self._add_monitor(RateMonitor(self, target, name or f"mon{len(self.monitors)}"))

    def inject(self, current: StepCurrent, target):
        """Inject a :class:`axonforge.models.StepCurrent` into a population or view: it sets the
        targets' ``i_offset`` parameter at each of its times (rounded to the grid; a change
        at time t applies to the steps that start at or after t)."""
        if not isinstance(current, StepCurrent):
            raise TypeError(f"inject: expected a StepCurrent or DCSource, got {current!r}")
        pop, ids = resolve(target, "inject")
        if pop.kind != "neuron" or "i_offset" not in pop.params:
            raise ValueError(f"inject: {pop.name!r} has no i_offset parameter to drive")
        steps = np.floor(current.times / self.dt + 0.5).astype(np.int64)
        if len(steps) and steps[0] < self.step:
            raise ValueError(
                f"inject: the first change (t={current.times[0]} s) is before the "
                f"current network time t={self.t} s"
            )
        self.injections.append((pop, ids, steps, current.amplitudes))

    # ------------------------------------------------------------------- compilation
    def _plan(self):
        pops = list(self.populations.values())
        index = {id(p): i for i, p in enumerate(pops)}
        plan = codegen.NetPlan()
        for P, pop in enumerate(pops):
            ports = tuple(
                p
                for p in (pop.checked.spec.ports if pop.kind == "neuron" else ())
                if any(pr.post_pop is pop and pr.port == p for pr in self.projections.values())
            )
            plan.pops.append(
                codegen.PopPlan(
                    pop.kind,
                    f"n_{P}",
                    pop.checked if pop.kind == "neuron" else None,
                    ports,
                    pop.uniform,
                    pop.model.distribution if pop.kind == "noise" else "normal",
                )
            )
        watched = {id(m.proj) for m in self.monitors if isinstance(m, WeightMonitor)}
        for proj in self.projections.values():
            if proj.plastic is not None:
                # deferred potentiation walks weights in storage order only; a weight
                # monitor reads weights every few steps, so watched projections do not defer
                proj.plastic.set_deferred(id(proj) not in watched)
            plan.projs.append(
                codegen.ProjPlan(
                    index[id(proj.pre_pop)],
                    index[id(proj.post_pop)],
                    proj.port,
                    proj.pre_pop.kind in ("poisson", "noise"),
                    proj.plastic.checked if proj.plastic is not None else None,
                    deferred=proj.plastic is not None and proj.plastic.deferred,
                )
            )
        mods = list(self.modulators.values())
        for mod in mods:
            src = mod.source
            plan.mods.append(
                codegen.ModPlan(
                    -1 if src is None else index[id(src)], src is not None and src.kind == "poisson"
                )
            )
        for J, proj in enumerate(self.projections.values()):
            if proj.plastic is not None and proj.plastic.modulator is not None:
                plan.projs[J].mod = mods.index(proj.plastic.modulator)
        proj_index = {id(p): j for j, p in enumerate(self.projections.values())}
        for mon in self.monitors:
            plan.mons.append(
                codegen.MonPlan(
                    mon.kind,
                    index[id(mon.pop)],
                    mon.plan_variables(),
                    mon.pop.kind == "poisson",
                    proj_index.get(id(getattr(mon, "proj", None)), -1),
                )
            )
        return plan

    def _ring_length(self):
        d = max((p.max_delay_steps for p in self.projections.values()), default=1)
        return d + 1

    def _prepare(self):
        """Allocate ring buffers and compile the kernel after any structural change."""
        from axonforge.backends import numba_backend

        t0 = time.perf_counter()
        for pop in self.populations.values():
            pop.refresh()
            pop.uniform = pop.uniform_args()
        L = self._ring_length()
        for pop in self.populations.values():
            if pop.kind != "neuron":
                continue
            used = {pr.port for pr in self.projections.values() if pr.post_pop is pop}
            old = getattr(pop, "rb", {})
            rb = {}
            for port in pop.checked.spec.ports:
                if port not in used:
                    continue
                buf = np.zeros((L, pop.n), self.dtype)
                if port in old and self._L is not None:
                    # keep spikes in flight: slot of absolute step s is s % L
                    for s in range(self.step, self.step + self._L):
                        buf[s % L] = old[port][s % self._L]
                rb[port] = buf
            pop.rb = rb
        self._L = L
        source, self._argnames = codegen.generate(self._plan())
        self._source = source
        self._kernel = numba_backend.load_kernel(source)
        self._first_call = True
        self._structure_changed = False
        self.timings["build"] += time.perf_counter() - t0

    def kernel_source(self) -> str:
        """The generated kernel source (for inspection and debugging)."""
        if self._structure_changed or self._kernel is None:
            self._prepare()
        return self._source

    # ---------------------------------------------------------------------- running
    def run(self, duration, progress=False):
        """Advance the network by ``duration`` seconds; a second call continues.

        The first run (and the first after a structural change) generates and compiles
        the kernel, or loads it from the cache; timings are in ``net.timings``.

        Parameters
        ----------
        duration : float [s]
            A multiple of ``dt`` (within 1e-6 steps).
        progress : bool
            Show a tqdm progress bar with simulated time and an ETA.

        Raises
        ------
        FloatingPointError
            If a neuron's state becomes NaN or infinite; the network stops at that step.
        """
        if isinstance(duration, bool) or not np.isfinite(duration) or duration < 0:
            raise ValueError(
                f"run: duration must be a non-negative number of seconds, got {duration!r}"
            )
        ratio = duration / self.dt
        n_steps = int(np.floor(ratio + 0.5))
        if abs(ratio - n_steps) > 1e-6:
            raise ValueError(f"run: duration {duration} s is not a multiple of dt={self.dt} s")
        if not self.populations:
            raise ValueError("run: the network has no populations")
        if self._structure_changed or self._kernel is None:
            self._prepare()
        if self._first_call:
            self._apply_injections()
            self._run_kernel(self.step)  # compiles or loads the kernel, timed apart
        end = self.step + n_steps
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=round(n_steps * self.dt, 6),
                unit="s sim",
                leave=True,
                bar_format="{l_bar}{bar}| {n:.3f}/{total:.3f} s sim [{elapsed}<{remaining}]",
            )
        chunk = max(1, n_steps // 100) if progress else max(n_steps, 1)
        try:
            while self.step < end:
                stop = min(end, self.step + chunk, self._next_injection(end))
                self._apply_injections()
                self._run_kernel(stop)
                if bar is not None:
                    bar.update(round(self.step * self.dt, 6) - bar.n)
        finally:
            if bar is not None:
                bar.close()
        self._apply_injections()

    def _next_injection(self, end):
        nxt = end
        for _pop, _ids, steps, _amps in self.injections:
            later = steps[steps > self.step]
            if len(later):
                nxt = min(nxt, int(later[0]))
        return nxt

    def _apply_injections(self):
        for pop, ids, steps, amps in self.injections:
            hit = np.flatnonzero(steps == self.step)
            if len(hit):
                pop.params["i_offset"][ids] = amps[hit[-1]]
                pop.dirty = True

    def _run_kernel(self, stop):
        from axonforge.backends import numba_backend

        for pop in self.populations.values():
            if pop.dirty:
                pop.refresh()
                if pop.uniform_args() != pop.uniform:
                    # a parameter switched between shared and per-neuron: new structure
                    self._prepare()
        while self.step < stop or self._first_call:
            args = {}
            for P, pop in enumerate(self.populations.values()):
                args.update(pop.kernel_args(P))
            for J, proj in enumerate(self.projections.values()):
                args.update(proj.kernel_args(J))
            for M, mon in enumerate(self.monitors):
                args.update(mon.kernel_args(M, self.step, stop))
            for K, mod in enumerate(self.modulators.values()):
                args.update(mod.kernel_args(K, self.dt))
            argv = [args[a] for a in self._argnames]
            if self._first_call:
                # A zero-step call compiles (or loads) the kernel, timed apart from the run.
                t0 = time.perf_counter()
                before = numba_backend.compile_state(self._kernel)
                self._kernel(self.step, self.step, self._L, self.seed, self.dt, *argv)
                self.timings["compile"] += time.perf_counter() - t0
                numba_backend.note_compilation(self._kernel, before)
                self._first_call = False
                if self.step >= stop:
                    return
            t0 = time.perf_counter()
            status, reached, bad_pop, bad_i = self._kernel(
                self.step, stop, self._L, self.seed, self.dt, *argv
            )
            self.timings["run"] += time.perf_counter() - t0
            for mon in self.monitors:
                mon.drain(reached) if isinstance(mon, RateMonitor) else mon.drain()
            self.step = int(reached)
            if status == 2:
                pop = list(self.populations.values())[bad_pop]
                raise FloatingPointError(
                    f"population {pop.name!r}: neuron {bad_i} got a non-finite state in the step "
                    f"ending at t={(reached + 1) * self.dt:.6g} s (method "
                    f"{pop.checked.method}, dt={self.dt} s); reduce dt, use method='rk4', or "
                    "check parameters and weights. The network stopped at that step"
                )

    # ---------------------------------------------------------------------- persist
    def save(self, path):
        """Save the whole network (structure, parameters, state, weights, spikes in
        flight, recordings) to an HDF5 file; :func:`axonforge.load` restores it."""
        from axonforge import io

        io.save_network(self, path)

    def __repr__(self):
        return (
            f"<Network dt={self.dt} s, t={self.t:.6g} s, {len(self.populations)} populations, "
            f"{len(self.projections)} projections, seed={self.seed}>"
        )
