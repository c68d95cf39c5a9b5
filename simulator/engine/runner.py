"""The engine of one network: plans its chunks, allocates buffers, compiles, runs.

:class:`Engine` is made after every structural change of a network (by
``Network._prepare``). It chooses the chunk length ``D`` (the smallest delay in steps,
bounded so chunk spike buffers stay small) and the number of worker threads, lays out
ring buffers (keeping spikes in flight across changes), has every owner allocate its
chunk buffers, lowers the network's plan into a kernel description and compiles it with
the backend. :meth:`Engine.advance` then runs steps, draining monitors whenever the
kernels ask for it.
"""

from __future__ import annotations

import os
import time

import numpy as np

from axonforge.engine.description import describe
from axonforge.engine.partition import Layout
from axonforge.plan import network_plan

#: chunk spike buffers hold at most about this many bytes (4 per element and step)
CHUNK_BUFFER_BYTES = 64 << 20
#: the longest chunk, in steps
MAX_CHUNK = 1000
#: estimated work per chunk (neuron updates plus synaptic events) below which a second
#: thread costs more than it gains: a parallel phase costs ~10-20 us to start, a neuron
#: update or a synaptic event a few ns
MIN_WORK_PER_THREAD = 25_000
#: the firing rate assumed to estimate synaptic events before a run [Hz]
TYPICAL_RATE = 5.0


def check_threads(threads) -> int:
    """The requested number of threads; ``None`` is every core this process may use."""
    if threads is None:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ValueError(
            f"Network: threads must be a positive integer (or None for every core), got {threads!r}"
        )
    return int(threads)


def chunk_steps(net) -> int:
    """``D``: the smallest delay in steps of the projections delivered in phase C (a
    spike delivered there must land in a later chunk): those from neurons, and plastic
    ones from sources. Static projections from input sources are delivered at the start
    of their chunk (phases S and T) and do not bound it. At most :data:`MAX_CHUNK`, and
    within :data:`CHUNK_BUFFER_BYTES` of spike buffers."""
    delays = [
        p.min_delay_steps
        for p in net.projections.values()
        if len(p) and (p.pre_pop.is_neuron or p.plastic is not None)
    ]
    d = min(delays, default=MAX_CHUNK)
    if any(p.summed is not None for p in net.projections.values()):
        d = 1  # a coupling reads the state of the previous step: no delay to chunk over
    elements = sum(p.n for p in net.populations.values())
    return int(max(1, min(d, MAX_CHUNK, CHUNK_BUFFER_BYTES // (4 * max(elements, 1)))))


def choose_threads(net, steps) -> int:
    """Threads that pay: one per :data:`MIN_WORK_PER_THREAD` units of work per chunk on
    this rank (neuron updates, and synaptic events at :data:`TYPICAL_RATE`), at most
    ``net.threads``."""
    neurons = sum(p.n for p in net.populations.values() if p.is_neuron)
    # the whole network's count (the same on every MPI rank, so all choose alike)
    synapses = sum(getattr(p, "n_global", len(p)) for p in net.projections.values())
    per_step = neurons + synapses * TYPICAL_RATE * net.dt
    work = steps * per_step / net.ranks
    return int(max(1, min(net.threads, work // MIN_WORK_PER_THREAD)))


def owner_labels(net) -> dict:
    """``(kind, index)`` of every kernel-argument owner -> what it is, for messages about
    generated code: ``population 'all' (LIF)``, ``projection 'exc' (STDP)``."""
    out = {}
    for i, pop in enumerate(net.populations.values()):
        out[("pop", i)] = f"population {pop.name!r} ({type(pop.model).__name__})"
    for j, proj in enumerate(net.projections.values()):
        rule = getattr(getattr(proj, "plastic", None), "model", None)
        kind = type(rule).__name__ if rule is not None else "static"
        out[("proj", j)] = f"projection {proj.name!r} ({kind})"
    for m, mon in enumerate(net.monitors.values()):
        out[("mon", m)] = f"monitor {getattr(mon, 'name', m)!r} ({type(mon).__name__})"
    for k, mod in enumerate(net.modulators.values()):
        out[("mod", k)] = f"modulator {mod.name!r}"
    return out


class Engine:
    def __init__(self, net, previous=None):
        from axonforge.backends.numba_backend import NumbaBackend

        self.net = net
        for pop in net.populations.values():
            pop.refresh()
            pop.uniform = pop.uniform_args()
        steps = chunk_steps(net)
        # a ring holds what phase T delivers ahead: up to D - 1 + the largest delay
        # past the chunk's first step
        delay = max((p.max_delay_steps for p in net.projections.values()), default=1)
        self.L = delay + steps
        # spikes in flight: from the previous engine, or as loaded from a file
        self._layout_rings(
            previous.L if previous is not None else getattr(net, "_ring_length", None)
        )
        backend = None
        if net.backend == "numba":
            workers = choose_threads(net, steps)
        else:  # the CUDA source: a worker is a block of the grid
            from axonforge.backends.cuda_backend import make_backend

            backend = make_backend(net.backend, net.threads)
            workers = backend.workers
        self.layout = Layout(workers, net.ranks, net.rank, steps)
        self.exchange = None
        if net.ranks > 1:
            from axonforge.engine import mpi

            mpi.localize(net, self.layout)
            self.exchange = mpi.Exchange(net.comm, net, self.layout)
            for pop in net.populations.values():
                pop.use_rank_span(net)  # drawn sources: generate only what this rank uses
        for group in (net.populations, net.projections, net.monitors, net.modulators):
            for obj in group.values():
                obj.allocate_chunk(self.layout)
        self.take_snapshots()
        self.description = describe(network_plan(net))
        self.description.labels = owner_labels(net)
        self.backend = backend or NumbaBackend(self.layout.threads, self.layout.first)
        self.source = self.backend.source(self.description)
        self.kernels = self.backend.compile(self.description)
        self.first_call = True

    def _layout_rings(self, old_L):
        """Ring buffers ``(L, n)`` per used port; spikes in flight keep their absolute
        step (slot ``s % L``) when ``L`` changes."""
        net, L = self.net, self.L
        for pop in net.populations.values():
            if not pop.is_neuron:
                continue
            used = {pr.port for pr in net.projections.values() if pr.post_pop is pop}
            old = getattr(pop, "rb", {})
            rb = {}
            for port in pop.checked.spec.ports:
                if port not in used:
                    continue
                buf = np.zeros((L, pop.n), net.dtype)
                if port in old and old_L is not None:
                    # in flight at a run's end: at most the largest delay ahead (< L)
                    for s in range(net.step, net.step + min(old_L, L)):
                        buf[s % L] = old[port][s % old_L]
                rb[port] = buf
            pop.rb = rb

    def owners(self) -> dict:
        net = self.net
        out = {}
        for kind, group in (
            ("pop", net.populations),
            ("proj", net.projections),
            ("mon", net.monitors),
            ("mod", net.modulators),
        ):
            out.update({(kind, i): obj for i, obj in enumerate(group.values())})
        return out

    def memory_estimate(self) -> dict:
        """Bytes of every kernel argument, by owner (see Network.memory_estimate)."""
        values = self.description.args.bind(self.owners())
        by, proj_bytes = {}, 0
        for name, arg in self.description.args.decls.items():
            value = values[name]
            size = int(value.nbytes) if isinstance(value, np.ndarray) else 8
            what = self.description.labels.get(arg.owner, f"{arg.owner[0]} {arg.owner[1]}")
            by[what] = by.get(what, 0) + size
            if arg.owner[0] == "proj":
                proj_bytes += size
        synapses = sum(len(p) for p in self.net.projections.values())
        return {
            "total": sum(by.values()),
            "by_owner": by,
            "synapses": synapses,
            "bytes_per_synapse": proj_bytes / synapses if synapses else 0.0,
        }

    def _argv(self):
        return self.backend.bind(self.description, self.owners())

    def warm_up(self):
        """Compile (or load) every kernel with a zero-step call, timed apart from runs."""
        from axonforge.backends import numba_backend

        net, k = self.net, self.net.step
        argv = self._argv()
        t0 = time.perf_counter()
        if net.backend != "numba":  # the CUDA source is built in compile(): a no-op launch
            self.backend.run_steps(self.kernels, argv, k, k, 1, self.L, net.seed, net.dt)
            net.timings["compile"] += time.perf_counter() - t0
            self.first_call = False
            return
        probe = (
            self.kernels.run_chunks
            if self.layout.threads == 1
            else self.kernels.phase_a
            if self.exchange is not None
            else self.kernels.run_worker
        )
        before = numba_backend.compile_state(probe)
        # Numba compiles a function at its first call: one thread needs only the fused
        # loop ``run_chunks``, several threads or ranks only the three phases
        if self.layout.threads == 1 and self.exchange is None:
            self.kernels.run_chunks(k, k, self.layout.steps, self.L, net.seed, net.dt, *argv)
        elif self.exchange is None:
            self.backend.run_steps(self.kernels, argv, k, k, 1, self.L, net.seed, net.dt)
        else:
            common = (0, self.layout.first, k, k, self.L, net.seed, net.dt, *argv)
            for phase in ("room", "phase_s", "phase_t", "phase_a", "phase_c"):
                getattr(self.kernels, phase)(*common)
        net.timings["compile"] += time.perf_counter() - t0
        numba_backend.note_compilation(probe, before)
        self.first_call = False

    def check_recordings(self, n_steps):
        """Fail before running when the sampled monitors' recordings of ``n_steps`` more
        steps cannot fit in memory."""
        from axonforge.memory import available_memory

        need = sum(
            m.bytes_for(n_steps) for m in self.net.monitors.values() if hasattr(m, "bytes_for")
        )
        have = available_memory()
        if need > 0.8 * have:
            raise MemoryError(
                f"run: the state and weight monitors would record {need / 2**30:.3g} GiB "
                f"in this run, more than the {have / 2**30:.3g} GiB of memory available; "
                "record fewer ids or variables, sample less often (every=...), or run in "
                "shorter pieces and save or clear the recordings in between"
            )

    def take_snapshots(self):
        """Couplings read the previous step's state: start from the state as it is
        (``set`` may have changed it between runs); gathered across MPI ranks."""
        for pop in self.net.populations.values():
            if pop.is_neuron:
                pop.take_snapshots(self.net)
        if self.exchange is not None:
            self.exchange.snapshots()

    def _refill(self, streams, stop) -> bool:
        """Top up the streamed sources' windows for the next chunk; True when one grew."""
        k, D = self.net.step, self.layout.steps
        need = min(k - k % D + D, stop)
        # a list, not a generator: every stream refills, not only those before one grew
        return any([pop.refill(need) for pop in streams])

    def advance(self, stop):
        """Run to step ``stop``, draining monitors when the kernels ask for it."""
        net = self.net
        self.take_snapshots()
        streams = [p for p in net.populations.values() if p.refilled_by_host]
        self._refill(streams, stop)
        argv = self._argv()
        stalled = None
        try:
            while net.step < stop:
                t0 = time.perf_counter()
                status, reached, bad_pop, bad_i = self.backend.run_steps(
                    self.kernels, argv, net.step, stop, self.layout.steps, self.L, net.seed,
                    net.dt, self.exchange,
                )  # fmt: skip
                net.timings["run"] += time.perf_counter() - t0
                reached = int(reached)
                if status == 2:
                    from axonforge.network import _non_finite_error

                    pop = list(net.populations.values())[int(bad_pop)]
                    net.step = reached
                    raise _non_finite_error(pop, int(bad_i), reached, net.dt)
                net.step = reached
                for mon in net.monitors.values():
                    mon.drain(reached)
                if status == 1 and self._refill(streams, stop):
                    argv = self._argv()  # a window grew: new arrays
                if status == 1:
                    if stalled == reached:  # pragma: no cover - buffers hold a chunk
                        raise RuntimeError("engine: a monitor buffer cannot hold one chunk")
                    stalled = reached
        finally:
            for group in (net.projections, net.modulators):
                for obj in group.values():
                    collect = getattr(getattr(obj, "plastic", obj), "collect", None)
                    if collect is not None:
                        collect()
