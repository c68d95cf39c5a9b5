"""The Network: the user's handle on populations, projections, monitors and the run loop.

``Network`` holds the objects and is the user's API; the engine (:mod:`axonforge.engine`)
describes the network's kernels, a backend compiles them the first time the network
runs, and :mod:`axonforge.engine.runner` runs them in min-delay chunks. Python work
happens between chunks (progress bar, draining monitors, scheduled current changes,
callbacks given to :meth:`Network.every`), never per step.
"""

from __future__ import annotations

import time

import numpy as np

from axonforge import control, io, modulators, projection, space
from axonforge.connectivity import AllToAll
from axonforge.expressions import Expression
from axonforge.models import ranges
from axonforge.models.sources import StepCurrent
from axonforge.modulators import Modulator
from axonforge.monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from axonforge.population import Population, new_population, resolve
from axonforge.projection import Projection

BACKENDS = ("numba", "cupy", "cuda-host")


def _progress_bar(n_steps, dt, t_start, progress):
    """A tqdm bar over this run's steps, shown in simulated seconds (``None`` when
    ``progress`` is False); with ``progress=None`` it appears only after 2 s of wall time.
    Counting whole steps keeps it exact; ``unit_scale=dt`` displays them as seconds."""
    if progress is False:
        return None
    from tqdm.auto import tqdm

    duration = n_steps * dt
    return tqdm(
        total=n_steps,
        unit_scale=dt,
        desc=f"run {duration:g} s (t = {t_start:g} s -> {t_start + duration:g} s)",
        delay=0 if progress else 2.0,
        leave=bool(progress),
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.3g}/{total:.3g} s "
        "[{elapsed}<{remaining}]",
    )


PRECISIONS = {"float64": np.float64, "float32": np.float32}

#: what to try when a state becomes NaN or inf, by integration method
_NON_FINITE_ADVICE = {
    "exact": "the equations are integrated exactly, so the cause is a parameter or a "
    "weight (e.g. in the wrong unit: see strict_units) or a port or reset statement",
    "euler": "use a smaller dt or method='rk4', or check parameters and weights",
    "rk2": "use a smaller dt or method='rk4', or check parameters and weights",
    "rk4": "use a smaller dt, or bound the variable that runs away inside the equations "
    "(as AdEx uses min(v, v_peak) in its exponential term), or check parameters and weights",
    "rkf45": "the adaptive integrator could not meet error_tol with sub-steps above 1e-9*dt "
    "(it then sets the state to inf) or the equations diverge: bound the variable that runs "
    "away inside the equations, raise error_tol, or check parameters and weights",
    "exponential_euler": "use a smaller dt, or check parameters and weights (a positive "
    "coefficient A of dx/dt = A*x + B makes x grow as exp(A*t))",
}


def _non_finite_error(pop, i, step, dt):
    """The error for neuron ``i`` of ``pop`` whose state became NaN or inf in ``step``."""
    bad = [v for v, x in pop.state.items() if not np.isfinite(x[i])]
    method = pop.checked.method
    return FloatingPointError(
        f"population {pop.name!r}: neuron {i} got a non-finite state "
        f"({', '.join(f'{v} = {pop.state[v][i]}' for v in bad)}) in the step ending at "
        f"t = {(step + 1) * dt:.6g} s (method {method!r}, dt = {dt:g} s); "
        f"{_NON_FINITE_ADVICE[method]}. The network stopped at that step"
    )


class Network:
    """A spiking network simulated on a fixed time grid.

    Parameters
    ----------
    dt : float [s]
        Time step (default 0.1 ms).
    seed : int or None
        Seed for connectivity, initial values and Poisson input. ``None`` draws one at
        random and stores it in ``net.seed``. Same seed and backend give identical spikes.
    backend : {"numba", "cupy", "cuda-host"}
        Where the kernels run: ``"numba"`` on the CPU (threads, MPI); ``"cupy"`` on a
        CUDA GPU (``pip install "axonforge[gpu]"``); ``"cuda-host"`` runs the CUDA
        source, compiled for the CPU, to verify it where no GPU is present (one thread,
        float64, no MPI; slow by design).
    precision : {"float64", "float32"}
        Floating-point type of state variables.
    strict_units : bool
        Check that ``dt`` is a plausible time step in seconds (0.1 us to 10 ms), which
        catches ``dt=0.1`` meant as milliseconds. ``False`` turns the check off.
    threads : int or None
        Worker threads (default: every core the process may use). Results are identical
        for any number. The network uses fewer when a chunk holds too little work for
        threads to pay (``net.workers`` says how many run).
    """

    def __init__(
        self,
        dt=0.1e-3,
        seed=None,
        backend="numba",
        precision="float64",
        strict_units=True,
        threads=None,
    ):
        if (
            isinstance(dt, bool)
            or not isinstance(dt, (int, float, np.floating))
            or not np.isfinite(dt)
            or dt <= 0
        ):
            raise ValueError(
                f"Network: dt must be a positive number of seconds, got {dt!r} (e.g. dt=0.1*ms)"
            )
        ranges.check_values(
            "Network", "dt", float(dt), "s", ranges.TIME_STEP, strict_units, typical=1e-4,
            fix="pass strict_units=False to Network(...) if intended",
        )  # fmt: skip
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
            from axonforge.backends.cuda_backend import check_cupy

            check_cupy()  # says what is missing (CuPy, a device) and points to cuda-host
        if precision not in PRECISIONS:
            raise ValueError(
                f"Network: precision must be one of {list(PRECISIONS)}, got {precision!r}"
            )
        from axonforge.engine import mpi
        from axonforge.engine.runner import check_threads

        self.threads = check_threads(threads)
        self.comm = mpi.world()
        #: this process's MPI rank and the number of ranks (0 and 1 without MPI)
        self.rank = 0 if self.comm is None else self.comm.rank
        self.ranks = 1 if self.comm is None else self.comm.size
        if backend != "numba" and precision != "float64":
            raise ValueError(
                f"Network: backend={backend!r} runs float64 networks (its C lowering of "
                "float32 state is not written yet); use precision='float64' or "
                "backend='numba'"
            )
        if backend != "numba" and self.ranks > 1:
            raise ValueError(
                f"Network: backend={backend!r} does not run under MPI ({self.ranks} ranks); "
                "use backend='numba'"
            )
        self.dt, self.seed, self.backend, self.precision = float(dt), int(seed), backend, precision
        self.dtype = PRECISIONS[precision]
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}
        self.monitors: dict = {}
        self.modulators: dict[str, Modulator] = {}
        self.injections: list = []
        #: the callbacks of :meth:`every`, in the order they are called at a time
        self.operations: list[control.Operation] = []
        self._snapshots: dict = {}
        self._running = False
        self.step = 0
        self._engine = None  # an axonforge.engine.runner.Engine, made by the first run
        self._structure_changed = True
        self._broken = None
        self.timings = {"build": 0.0, "compile": 0.0, "run": 0.0}
        self._t_created = time.perf_counter()

    @property
    def t(self) -> float:
        """Current network time [s]."""
        return self.step * self.dt

    # ------------------------------------------------------------------ construction
    _KINDS = {"pop": "population", "proj": "projection", "mon": "monitor"}

    def _name(self, name, prefix, taken):
        if name is None:
            name, k = f"{prefix}{len(taken)}", len(taken)
            while name in taken:  # a user may have taken the default name already
                k += 1
                name = f"{prefix}{k}"
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        if name in taken:
            raise ValueError(
                f"a {self._KINDS[prefix]} named {name!r} already exists in this network"
            )
        return name

    def population(self, model, n=None, name=None, positions=None, **initial) -> Population:
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
        positions : array of shape (n, d), or a layout, optional
            Where the neurons are (d = 1, 2 or 3): an array, ``sim.grid(shape, spacing,
            periodic=...)`` (``n`` defaults to its number of points) or
            ``sim.random_positions(extent, periodic=...)``; read by expressions of
            distance in connections and values (:mod:`axonforge.expressions`).
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
        if n is None and positions is not None:
            n = positions.count() if isinstance(positions, space.Layout) else len(positions)
        # values written as expressions of position are set once the positions exist
        later = {k: v for k, v in initial.items() if isinstance(v, Expression)}
        pop = new_population(
            self, model, n, name, {k: initial[k] for k in initial if k not in later}
        )
        if positions is not None:
            space.place(pop, positions)
        if later:
            pop.set(**later)
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
        astrocytes=None,
        _third=None,
    ) -> Projection:
        """Create synapses from ``pre`` to ``post``.

        Parameters
        ----------
        pre, post : Population or PopulationView
            Sources (neurons or input sources) and target neurons.
        rule : Rule, optional
            ``AllToAll()`` (default), ``OneToOne()``, ``FixedProbability(p)``,
            ``FixedInDegree(k)``, ``FixedOutDegree(k)``, ``FixedTotalNumber(n)`` or
            ``Explicit(pre_ids, post_ids)``.
        weight : float, array or distribution
            In the port's unit: amperes for current ports (negative on ``inh``),
            volts for delta kinetics, siemens for conductance ports. An array gives one
            value per synapse in storage order (``Explicit``: in the order of its pairs,
            which are stored by source, then target).
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
        astrocytes : (population, ids), optional
            Tripartite synapses with an ``Explicit`` rule: the astrocyte population (or
            view) and, per pair of the rule, the index of the synapse's astrocyte in it
            (-1: none); rules read its state as ``<var>_astro``
            (:class:`~axonforge.models.GliotransmitterTsodyksMarkram`).
            :meth:`connect_tripartite` pairs synapses and astrocytes itself.

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
        if astrocytes is not None:
            _third = self._pairing(name, pre, post, rule, astrocytes)
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
            _third,
        )
        self.projections[name] = proj
        self._structure_changed = True
        self.timings["build"] += time.perf_counter() - t0
        return proj

    def _pairing(self, name, pre, post, rule, astrocytes):
        """``connect(astrocytes=...)`` as triples (:func:`axonforge.tripartite.pairing`)."""
        from axonforge import tripartite

        return tripartite.pairing(name, pre, post, rule, astrocytes)

    def connect_tripartite(
        self, pre, post, third, rule, primary=None, third_in=None, third_out=None, name=None
    ):
        """Neuron pairs that share an astrocyte (NEST's ``TripartiteConnect`` with
        ``tripartite_bernoulli_with_pool``): ``rule`` is a
        :class:`~axonforge.TripartiteBernoulliWithPool`; ``primary``, ``third_in`` and
        ``third_out`` are dicts of :meth:`connect` arguments (``weight``, ``delay``,
        ``port``, ``synapse``) for the pre->post, pre->astrocyte and astrocyte->post
        synapses (ports by default ``"exc"``, ``"ip3"`` and ``"sic"``). Returns the
        three projections (``.primary``, ``.third_in``, ``.third_out``), named
        ``name``, ``name_in`` and ``name_out``; ``third_out=False`` makes no
        astrocyte->post projection (astrocytes that act on the synapses instead, through
        a rule reading ``<var>_astro``, such as
        :class:`~axonforge.models.GliotransmitterTsodyksMarkram`)."""
        from axonforge import tripartite

        return tripartite.connect(self, pre, post, third, rule, primary, third_in, third_out, name)

    def estimate_connection(self, pre, post, rule=None, synapse=None, weight=None, delay=None):
        """What ``connect`` with these arguments would cost, without building anything:
        ``.synapses`` (expected count), ``.stored_bytes`` (``proj.nbytes``) and
        ``.peak_bytes`` (memory needed while building). ``weight=None`` assumes
        per-synapse weights; ``delay=None`` is ``dt``."""
        return projection.estimate(self, pre, post, rule, synapse, weight, delay)

    def memory_estimate(self, backend=None) -> dict:
        """Bytes the kernels' arrays take (state, parameters, connectivity, ring and spike
        buffers, monitor buffers): where ``backend="cupy"`` puts them, on the device,
        before anything is copied there. Returns ``{"total": bytes, "by_owner": {what:
        bytes}, "synapses": count, "bytes_per_synapse": connectivity bytes / synapse}``.
        Plans and allocates the network's host arrays (as the next run would), so call
        it after building; ``backend`` defaults to the network's."""
        backend = self.backend if backend is None else backend
        if backend not in BACKENDS:
            raise ValueError(
                f"memory_estimate: unknown backend {backend!r}; choose one of {BACKENDS}"
            )
        if self._structure_changed or self._engine is None:
            self._prepare()
        return self._engine.memory_estimate()

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
        self.monitors[mon.name] = mon
        self._structure_changed = True
        return mon

    def _windowed(self, mon, start, stop):
        mon._set_window(start, stop)
        return self._add_monitor(mon)

    def spike_monitor(self, target, name=None, start=None, stop=None) -> SpikeMonitor:
        """Record the spikes of a population or view.

        ``start`` and ``stop`` [s] (on the time grid) limit the recording to the steps
        between them (:class:`~axonforge.monitors.Windowed`): spike times in ``(start,
        stop]``. Default: all of every run. The same holds for every monitor.

        Returns
        -------
        SpikeMonitor
            ``times`` [s] and ``ids`` (indices within ``target``), ``counts``,
            ``spike_trains()``, ``mean_rate()``.
        """
        mon = SpikeMonitor(self, target, self._name(name, "mon", self.monitors))
        return self._windowed(mon, start, stop)

    def state_monitor(
        self, target, variables, ids=None, every=1, name=None, start=None, stop=None
    ) -> StateMonitor:
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
        start, stop : float [s], optional
            Record only the samples of the steps from ``start`` to ``stop`` (sample
            times in ``(start, stop]``); default: all of every run.

        Returns
        -------
        StateMonitor
            ``t`` [s] and ``mon[var]`` with shape ``(samples, len(ids))``.
        """
        mon = StateMonitor(
            self, target, variables, ids, every, self._name(name, "mon", self.monitors)
        )
        return self._windowed(mon, start, stop)

    def weight_monitor(
        self, proj, synapses=None, variables=("w",), every=1, name=None, start=None, stop=None
    ):
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
        start, stop : float [s], optional
            Record only within this window (as for :meth:`state_monitor`).

        Returns
        -------
        WeightMonitor
            ``t`` [s] and ``mon["w"]`` with shape ``(samples, len(synapses))``.
        """
        if not isinstance(proj, Projection) or proj.net is not self:
            raise TypeError("weight_monitor: expected a projection of this network")
        mon = WeightMonitor(
            self, proj, synapses, variables, every, self._name(name, "mon", self.monitors)
        )
        return self._windowed(mon, start, stop)

    def rate_monitor(self, target, name=None, start=None, stop=None) -> RateMonitor:
        """Record the population rate of ``target`` (within ``start``, ``stop`` [s], as
        for :meth:`spike_monitor`).

        Returns
        -------
        RateMonitor
            ``t`` [s], ``rate`` [Hz] (spikes per step per neuron / dt),
            ``smooth_rate(width)``.
        """
        mon = RateMonitor(self, target, self._name(name, "mon", self.monitors))
        return self._windowed(mon, start, stop)

    def inject(self, current: StepCurrent, target):
        """Inject a :class:`axonforge.models.StepCurrent` into a population or view: it sets the
        targets' ``i_offset`` parameter at each of its times (rounded to the grid; a change
        at time t applies to the steps that start at or after t)."""
        if not isinstance(current, StepCurrent):
            raise TypeError(f"inject: expected a StepCurrent or DCSource, got {current!r}")
        pop, ids = resolve(target, "inject")
        if "i_offset" not in pop.params:
            raise ValueError(f"inject: {pop.name!r} has no i_offset parameter to drive")
        steps = np.floor(current.times / self.dt + 0.5).astype(np.int64)
        if len(steps) and steps[0] < self.step:
            raise ValueError(
                f"inject: the first change (t={current.times[0]} s) is before the "
                f"current network time t={self.t} s"
            )
        self.injections.append((pop, ids, steps, current.amplitudes))

    # ------------------------------------------------------------------- compilation
    def _prepare(self):
        """Plan, allocate and compile after any structural change (see Engine)."""
        from axonforge.engine.runner import Engine

        t0 = time.perf_counter()
        old = self._engine
        self._engine = Engine(self, previous=old)
        self._structure_changed = False
        self.timings["build"] += time.perf_counter() - t0

    @property
    def workers(self) -> int:
        """Worker threads the next run uses (at most ``threads``)."""
        if self._structure_changed or self._engine is None:
            self._prepare()
        return self._engine.layout.threads

    def kernel_source(self) -> str:
        """The generated kernel source (for inspection and debugging)."""
        if self._structure_changed or self._engine is None:
            self._prepare()
        return self._engine.source

    # ---------------------------------------------------------------------- running
    def run(self, duration, progress=None):
        """Advance the network by ``duration`` seconds; a second call continues.

        The first run (and the first after a structural change) generates and compiles
        the kernel, or loads it from the cache; timings are in ``net.timings``.

        Parameters
        ----------
        duration : float [s]
            Simulated time in seconds, a multiple of ``dt`` (within 1e-6 steps).
        progress : bool or None
            Show a progress bar (tqdm) with this run's simulated duration and an ETA:
            ``True`` always, ``False`` never, ``None`` (default) when the run takes more
            than 2 s of wall time, so that ``run(100)`` meant as milliseconds shows
            itself as 100 s at once.

        Raises
        ------
        FloatingPointError
            If a neuron's state becomes NaN or infinite; the network stops at that step.
        """
        number = isinstance(duration, (int, float, np.integer, np.floating))
        if isinstance(duration, bool) or not number or not np.isfinite(duration) or duration < 0:
            raise ValueError(
                f"run: duration must be a non-negative number of seconds, got {duration!r}"
            )
        ratio = duration / self.dt
        n_steps = int(np.floor(ratio + 0.5))
        if abs(ratio - n_steps) > 1e-6:
            raise ValueError(
                f"run: duration {duration} s is not a multiple of dt = {self.dt} s; "
                f"the nearest is {n_steps * self.dt:.10g} s"
            )
        if not self.populations:
            raise ValueError("run: the network has no populations")
        if self._running:
            raise RuntimeError(
                "run: the network is already running (run was called from an every() "
                "callback); a callback changes the network and returns, and the run goes on"
            )
        if self._broken is not None:
            raise RuntimeError(
                f"run: this network stopped in the middle of a step ({self._broken}); it "
                "cannot continue from a half-done step. Fix the cause and build it again, "
                "load a network saved before the failure, or restore() a stored state"
            )
        if self._structure_changed or self._engine is None:
            self._prepare()
        self._engine.check_recordings(n_steps)
        if self._engine.first_call:
            self._apply_injections()
            self._engine.warm_up()  # compiles or loads the kernels, timed apart
        start, end = self.step, self.step + n_steps
        bar = _progress_bar(n_steps, self.dt, self.t, progress if self.rank == 0 else False)
        # Without a bar, one engine call; with one, calls of about 0.25 s of wall time
        # (the first short, to measure the speed), so the bar moves and costs nothing.
        # MPI ranks must make the same calls: they keep the first length (only rank 0
        # shows the bar). Calls also end where a current changes and where an every()
        # callback is due: callbacks run between calls, at chunk boundaries.
        pieces = progress is not False
        chunk = n_steps if not pieces else max(1, min(n_steps // 50, 1000))
        adapt = self.ranks == 1
        self._running = True
        try:
            while True:
                self._apply_injections()
                if self.step >= end:
                    break
                if self.operations:
                    control.call_due(self)
                    if self._structure_changed:  # a callback added an object
                        self._prepare()
                        self._engine.warm_up()
                # a piece of a run ends on the engine's grid of chunks (multiples of
                # its chunk length), so where the progress bar cuts a run (which depends
                # on wall time) never changes a result; ends that the model sets (the
                # run's, a current's change, a callback) may cut a chunk, alike in
                # every run
                D = self._engine.layout.steps
                piece = max((self.step + chunk) // D * D, self.step - self.step % D + D)
                stop = min(end, piece, self._next_injection(end), control.next_due(self, end))
                t0 = time.perf_counter()
                before = self.step
                self._advance(stop)
                if bar is not None:
                    bar.update(self.step - start - bar.n)
                    per_step = (time.perf_counter() - t0) / max(self.step - before, 1)
                    if adapt:
                        chunk = max(1, int(0.25 / max(per_step, 1e-9)))
        finally:
            self._running = False
            if bar is not None:
                bar.close()
        if self.comm is not None:
            from axonforge.engine import mpi

            mpi.gather_recordings(self, self.comm)

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

    def _advance(self, stop):
        for pop in self.populations.values():
            if pop.dirty:
                pop.refresh()
                if pop.uniform_args() != pop.uniform:
                    # a parameter switched between shared and per-neuron: new structure
                    self._prepare()
        try:
            self._engine.advance(stop)
        except FloatingPointError as err:
            self._broken = str(err).split(";")[0]
            raise

    # ------------------------------------------------------------- run-time control
    def every(self, interval, fn, start=0.0) -> control.Operation:
        """Call ``fn`` every ``interval`` seconds of simulated time during runs
        (Brian2's ``network_operation``).

        Calls come at ``t = start, start + interval, start + 2*interval, ...`` (absolute
        network times), each between two chunks, before the step that starts at ``t``
        (Brian2's ``when="start"``; a call due exactly at the end of a run comes at the
        start of the next run). ``run`` ends a kernel call at every such time, so what
        the function changes holds from the very next step on: state and parameters
        (``pop.set``, ``pop.v``), weights (``proj.weights = ...``), Poisson rates
        (``pop.set(rate=...)``), modulators (``net.set_modulator``). Reading is as cheap
        as between runs (``pop.get``, ``net.t``, monitors' recordings so far). Each call
        ends a kernel call, which costs some tens of microseconds: an interval of a few
        milliseconds or more costs little. Under MPI every rank calls ``fn`` (a script
        runs on every rank), each seeing its own part of the network.

        Parameters
        ----------
        interval : float [s]
            A positive multiple of ``dt``.
        fn : callable
            ``fn(net)``, or ``fn()`` if it takes no argument. (Brian2 passes ``t``; here
            ``net.t`` is the time.) An exception in ``fn`` ends the run there, between
            two steps, and the network can run on.
        start : float [s]
            The time of the first call (default 0), on the time grid.

        Returns
        -------
        Operation
            ``op.remove()`` stops the calls (also from inside ``fn``); ``op.calls``
            counts them; ``net.operations`` lists the active ones.
        """
        op = control.Operation(self, fn, interval, start)
        self.operations.append(op)
        return op

    def store(self, name="default"):
        """Keep the network's whole state in memory under ``name`` (Brian2's
        ``store()``); :meth:`restore` goes back to it, any number of times.

        A snapshot holds everything a continued run needs, as :meth:`save` writes it to a
        file: the time, every population's state, parameters, refractory counters and
        spikes in flight, replay and Poisson rate positions, weights and plastic state,
        modulators, scheduled currents and the monitors' recordings (as Brian2, which
        restores monitors too). It holds no callbacks (:meth:`every`): those added after
        ``store`` stay. Storing again under a name replaces that snapshot.
        """
        control.store(self, name)

    def restore(self, name="default"):
        """Go back to the state stored by :meth:`store` under ``name``: a run after it
        continues exactly, bit for bit, as the run after the ``store`` did (with the
        same callbacks). The objects a script holds stay valid; the compiled kernels are
        reused. Also undoes parameter changes made since the ``store``, and clears a
        failure (a non-finite state) that happened since.

        Raises
        ------
        ValueError
            No state is stored under ``name``, or populations, projections, monitors or
            modulators were added since the ``store`` (the snapshot no longer describes
            this network).
        RuntimeError
            Called during a run (from an :meth:`every` callback).
        """
        control.restore(self, name)

    # ---------------------------------------------------------------------- persist
    def save(self, path):
        """Save the whole network (structure, parameters, state, weights, spikes in
        flight, recordings) to an HDF5 file; :func:`axonforge.load` restores it. Under MPI
        every rank calls it and rank 0 writes one file with the whole network, the same
        as a single-process run's, which loads on any number of ranks."""
        if self.comm is None:
            io.save_network(self, path)
            return
        from axonforge.engine import mpi

        whole = mpi.gathered(io.network_state(self), self.comm)
        if whole is not None:  # rank 0
            io.write_network(whole, path)
        self.comm.Barrier()

    def __repr__(self):
        return (
            f"<Network dt={self.dt} s, t={self.t:.6g} s, {len(self.populations)} populations, "
            f"{len(self.projections)} projections, seed={self.seed}>"
        )
