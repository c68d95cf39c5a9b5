"""Projections: synapses between two populations (or views), stored CSR by source.

Per static synapse: a float32 weight and one int32 ``off = delay_steps * n_post + target``,
the synapse's offset into the target's ring buffer (flattened ``(slots, n_post)``): 8 bytes,
plus 8 bytes per source neuron for the row pointer. One index load per event instead of
separate target and delay loads halves the delivery cost (benchmarks/README.md); the
offset is independent of the ring length, so a later projection with a longer delay does
not invalidate it. ``off`` is int64 when ``(max delay + 1) * n_post`` reaches 2**31.

Building: the rule counts each source's synapses, the final arrays are allocated once and
filled in place (:mod:`axonforge.connectivity`), and weights and delays are drawn and
checked in blocks of at most ``BLOCK`` synapses, so the build needs little more than what
stays stored. Before anything large is allocated, :func:`estimate` gives the synapse
count, the stored bytes and the peak; ``connect`` fails at once with a ``MemoryError``
when the peak exceeds the memory available (:mod:`axonforge.memory`).

Values: a weight or delay is a scalar (checked once, never expanded), a distribution
(drawn block by block in storage order) or an array of one value per synapse, in storage
order (for ``Explicit``, in the order of its pairs; the pairs are then stored, like every
rule's rows, in ascending target order per source). Every block passes
:meth:`Projection._check_weights` and :meth:`Projection._delay_steps`.

Delay rule: a delay must be at least ``dt`` and lie on the time grid (``delay/dt`` within
1e-6 of an integer); otherwise connecting fails, unless ``round_delays=True``, which
rounds to the nearest step (half-way cases up) and raises delays below one step (zero
included) to one step. ``proj.rounded_delays`` counts the delays that rounding changed
(raised ones included), ``proj.raised_delays`` those raised to one step. A negative or
non-finite delay always fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from numba import njit

from axonforge import draws
from axonforge.connectivity import (
    CONN_STREAM,
    AllToAll,
    Distribution,
    Explicit,
    Layout,
    Rule,
    value_block,
    value_kind,
    values,
)
from axonforge.coupling import SummedState
from axonforge.expressions import Expression
from axonforge.memory import check_memory
from axonforge.models import ranges
from axonforge.models.base import port_unit
from axonforge.models.coupling import CouplingModel, CouplingSpec
from axonforge.plastic import PlasticState, checked_synapse
from axonforge.population import lookup, resolve
from axonforge.state import BySynapse, RowCounts, fail, state

_GRID_TOL = 1e-6
#: synapses per block of drawn weights and delays: its temporaries (~50 bytes per synapse)
#: stay in the cache and far below the stored arrays
BLOCK = 1 << 16
_GIB = 2.0**30


_F32_MAX = float(np.finfo(np.float32).max)


def _block(m):
    return int(min(BLOCK, max(1024, m // 32)))


def _elem(explicit):
    return "pair" if explicit else "synapse"


class Projection:
    """Synapses from ``pre`` to ``post`` onto receptor ``port``.

    Attributes
    ----------
    pre_ids, post_ids : int64 arrays
        Indices of each synapse's source and target within ``pre`` and ``post`` (the
        populations or views given to ``connect``), in storage order.
    weights : float64 array
        Current weights in the port's unit (A for current ports); assignable.
    delays : float64 array
        Delays in seconds (multiples of dt).
    rounded_delays, raised_delays : int
        Delays changed by ``round_delays=True``, and those of them raised to one step.
    """

    raised_delays = 0  # projections loaded from files made before the count existed
    #: a continuous coupling's state (:class:`axonforge.coupling.SummedState`), or None
    summed = None

    #: tripartite synapses: the astrocyte population and each stored synapse's astrocyte
    #: (-1: none), set by :meth:`axonforge.Network.connect_tripartite`
    astro_pop = None
    astro_index = None

    def __init__(
        self,
        net,
        pre,
        post,
        rule,
        weight,
        delay,
        port,
        name,
        round_delays,
        synapse,
        modulator,
        third=None,
    ):
        self.net, self.name = net, name
        sides = _sides(net, pre, post, name)
        self.pre_pop, self.pre_sel, self.post_pop, self.post_sel, _ = sides
        if not self.post_pop.is_neuron:
            raise TypeError(
                f"connect {name!r}: post must be neurons; {self.post_pop.name!r} is an input source"
            )
        coupling = synapse if isinstance(synapse, CouplingModel) else None
        if coupling is not None:  # no spikes delivered: no port, no plasticity rule
            port, synapse = "", None
        ports = self.post_pop.checked.spec.ports
        if coupling is None and port not in ports:
            hint = ""
            if port == "sic":
                hint = (
                    "; a neuron model takes astrocytes' slow inward current when made "
                    f"with sic=True, e.g. {type(self.post_pop.model).__name__}(sic=True)"
                )
            raise ValueError(
                f"connect {name!r}: {self.post_pop.model.spec.name} has no port "
                f"{port!r}; its ports are {sorted(ports)}{hint}"
            )
        if not isinstance(rule, Rule):
            raise TypeError(
                f"connect {name!r}: rule must be a connection rule such as "
                f"sim.FixedProbability(0.1), got {rule!r}"
            )
        self.port, self.rule = port, rule
        #: SI unit of this port's weights ("A", "V", "S"; None if the spec does not say)
        self.port_unit = (
            coupling.spec.weight_unit if coupling else port_unit(self.post_pop.checked.spec, port)
        )
        self.target = type(self.post_pop.model).__name__
        self._strict = self.post_pop.model.strict_units
        _check_synapse(self, synapse, modulator)
        delay = net.dt if delay is None else delay
        explicit = isinstance(rule, Explicit)
        owned = _rank_targets(net, self.post_pop, explicit, weight, delay)
        est = _estimate(net, sides, rule, synapse, weight, delay)
        if owned is not None:  # this rank builds only its share
            mine = (self.post_sel >= owned[0]) & (self.post_sel < owned[1])
            est = est.scaled(np.count_nonzero(mine) / max(1, len(self.post_sel)))
        check_memory(est, f"connect {name!r}")
        self.stream = CONN_STREAM + 2 * len(net.projections)
        lay = Layout(
            self.pre_pop,
            self.pre_sel,
            self.post_pop,
            self.post_sel,
            not rule.allow_autapses,
            net.seed,
            self.stream,
            owned,
        )
        rngs = [self._draws(v, tag, explicit) for v, tag in ((weight, 3), (delay, 4))]
        # plastic weights live in the state precision; static ones in float32
        w_type = np.float32 if synapse is None and coupling is None else net.dtype
        self.plastic = None
        later = self._build(lay, rule, weight, delay, round_delays, w_type, rngs, synapse)
        if owned is not None:
            from axonforge.engine import mpi

            mpi.index_rank_part(self, net.comm)
            # the offsets' width as the whole projection's (its largest delay) needs
            self.off = self._widen(self.off, np.array([self.max_delay_steps]))
        if third is not None:
            self._pair_astrocytes(*third)
        if synapse is not None:
            self.plastic = PlasticState(self, synapse, modulator)
            self.w = self.plastic.state["w"]  # one array: the kernel updates it in place
        if later:
            self._fill_weights(weight, rngs[0])
        if coupling is not None:
            self.summed = SummedState(self, coupling)

    def _pair_astrocytes(self, pop, pre_ids, post_ids, astro_ids):
        """Each stored synapse's astrocyte, from ``(pre, post, astrocyte)`` triples in
        population indices (one per (pre, post) pair; -1: none)."""
        n_post = np.int64(self.post_pop.n)
        keys = pre_ids.astype(np.int64) * n_post + post_ids
        order = np.argsort(keys, kind="stable")
        mine = self.pre_ids * n_post + self.post_ids
        at = np.searchsorted(keys[order], mine)
        if len(keys) == 0 or np.any(keys[order][np.minimum(at, len(keys) - 1)] != mine):
            raise ValueError(f"connect {self.name!r}: synapses without a tripartite triple")
        self.astro_pop = pop
        self.astro_index = astro_ids[order][at].astype(np.int32)

    # ----------------------------------------------------------------------- build
    def _draws(self, spec, tag, any_order):
        """``draws(s0, s1)`` of stored synapses ``s0:s1`` for a distribution ``spec``, keyed
        by (pre, post, occurrence) in population indices (:mod:`axonforge.draws`); None
        otherwise. ``any_order``: rows need not hold multapses side by side (Explicit)."""
        if not isinstance(spec, Distribution):
            return None
        key = draws.synapse_keys(self, self._stream(), tag)
        n_post = self.post_pop.n
        seen = np.zeros(n_post if any_order else 0, np.int64)

        def stored(s0, s1):
            if any_order:
                ids = draws.stored_ids_any(self.ptr, self.off, n_post, s0, s1, seen)
            else:
                ids = draws.stored_ids(self.ptr, self.off, n_post, s0, s1)
            context = ("synapse", self.pre_pop, self.post_pop)
            return draws.synapse_draws(key, ids[0], ids[1], n_post, ids[2], context)

        return stored

    def _stream(self):
        stream = getattr(self, "stream", None)  # not stored by files: from the position
        if stream is None:
            stream = CONN_STREAM + 2 * list(self.net.projections.values()).index(self)
        return stream

    def _build(self, lay, rule, weight, delay, round_delays, w_type, rngs, synapse):
        """Count, allocate once, fill: targets by the rule, then weights and delays. Returns
        True when per-synapse weights are still to be filled (into a plastic rule's state,
        once it exists, so that no second array of weights is ever allocated)."""
        n_post = self.post_pop.n
        self.ptr = ptr = rule.rows(lay)
        m = int(ptr[-1])
        explicit = isinstance(rule, Explicit)
        # Explicit takes a value per given pair (a rank builds only some of them)
        n_values = len(rule.pre_ids) if explicit else m
        what_w, what_d = f"connect {self.name!r}: weight", f"connect {self.name!r}: delay"
        kind_w, kind_d = value_kind(weight, n_values, what_w), value_kind(delay, n_values, what_d)
        self.rounded_delays = self.raised_delays = 0
        w0 = steps0 = None
        if kind_w == "scalar":
            w0 = value_block(weight, None, 0, 1, what_w)
            self._check_weights(w0, scalar=True)
        if kind_d == "scalar":
            steps0 = self._delay_steps(value_block(delay, None, 0, 1, what_d), round_delays, 0, m)
        self.max_delay_steps = int(steps0[0]) if steps0 is not None else 1
        self._min_delay = int(steps0[0]) if steps0 is not None else None
        top = max(self.max_delay_steps, 1)
        off = np.empty(m, dtype=np.int32 if (top + 1) * n_post < 2**31 else np.int64)
        # Explicit scatters arrays (given in the order of its pairs); distributions are
        # drawn afterwards in storage order, keyed by synapse as for every rule
        later = w0 is None and (not explicit or kind_w == "dist")
        if synapse is not None and (w0 is not None or later):
            # only initialises the rule's state: a scalar, or a value within its bounds
            w = np.full(1, w0[0] if w0 is not None else synapse.params.get("w_min", 0.0), w_type)
        else:
            w = np.full(m, w0[0], w_type) if w0 is not None else np.empty(m, w_type)
        self.off, self.w = off, w
        b = _block(m)
        if explicit:
            cursor, empty = ptr[:-1].copy(), np.zeros(0)
            for i0 in range(0, n_values, b):
                i1 = min(n_values, i0 + b)
                wb = empty
                if w0 is None and not later:
                    wb = value_block(weight, None, i0, i1, what_w)
                    self._check_weights(wb, i0, explicit=True)
                st = np.zeros(1, np.int64) if steps0 is None else steps0
                if kind_d == "array":
                    db = value_block(delay, None, i0, i1, what_d)
                    st = self._delay_steps(db, round_delays, i0)
                    self.off = off = self._widen(off, st)
                rule.scatter(lay, cursor, i0, i1, st, n_post, wb, off, w)
            self._sort_rows_by_target()
        else:
            rule.fill(lay, ptr, off, 0 if steps0 is None else int(steps0[0]) * n_post)
        if later and synapse is None:
            # static: all weights before any delay, so weight errors come first
            self._fill_weights(weight, rngs[0])
            later = False
        drawn = steps0 is None and not (explicit and kind_d == "array")
        for s0 in range(0, m if drawn else 0, b):
            st = self._delay_steps(
                value_block(delay, rngs[1], s0, min(m, s0 + b), what_d), round_delays, s0
            )
            self.off = off = self._widen(off, st)
            off[s0 : s0 + len(st)] += st * n_post
        self.off = off
        return later

    def _sort_rows_by_target(self):
        """Put ``Explicit`` rows in ascending target order, as every rule stores its rows
        (pairs of one (pre, post) keep their given order), so that each worker's part of
        a row is contiguous (:func:`axonforge.engine.partition.split_rows`). Row by row,
        in place: no temporaries the size of the projection."""
        per_synapse = len(self.w) == len(self.off)
        _sort_rows(self.ptr, self.off, self.w if per_synapse else self.w[:0], self.post_pop.n)

    def _fill_weights(self, weight, rng):
        """Per-synapse weights in storage order, block by block, checked (and for a plastic
        rule with bounds, within [w_min, w_max])."""
        what = f"connect {self.name!r}: weight"
        m, params = len(self.off), self.plastic.model.params if self.plastic else {}
        b = _block(m)
        for s0 in range(0, m, b):
            wb = value_block(weight, rng, s0, min(m, s0 + b), what)
            self._check_weights(wb, s0)
            if "w_min" in params and "w_max" in params:
                lo, hi = params["w_min"], params["w_max"]
                bad = (wb < lo) | (wb > hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        f"connect {self.name!r}: initial weight {wb[i]:.4g} (synapse {s0 + i}) "
                        f"is outside [w_min, w_max] = [{lo:.4g}, {hi:.4g}] of "
                        f"{self.plastic.model!r}"
                    )
            self.w[s0 : s0 + len(wb)] = wb

    def _widen(self, off, steps):
        """Note the largest delay; ``off`` as int64 once ``(steps + 1) * n_post`` needs it."""
        top = int(steps.max(initial=1))
        self.max_delay_steps = max(self.max_delay_steps, top)
        if off.dtype == np.int32 and (top + 1) * self.post_pop.n >= 2**31:
            return off.astype(np.int64)
        return off

    def _check_weights(self, w, first=0, scalar=False, explicit=False, what=None):
        """Check a block of weights (1-D float64; synapse ``first`` onwards, or pair
        ``first`` of an Explicit rule; ``scalar``: one weight for all): finite and within
        float32's range, the port's sign rule and, unless the target model has
        ``strict_units=False``, plausibility in the port's unit (not for a NoiseSource,
        whose amplitudes carry the scale). ``what`` starts the messages."""
        what = what or f"connect {self.name!r}: weight"
        big = ~(np.abs(w) <= _F32_MAX)  # NaN too
        if big.any():
            i = int(np.flatnonzero(big)[0])
            where = "all synapses" if scalar else f"{_elem(explicit)} {first + i}"
            raise ValueError(
                f"{what} {w[i]:.6g} ({where}) is not finite or beyond float32's range "
                f"(|w| <= {_F32_MAX:.6g}), the type weights are stored in; give weights "
                f"in the port's unit ({self.port_unit or 'as the port statement expects'})"
            )
        sign = self.post_pop.checked.spec.port_signs.get(self.port)
        if sign is not None and len(w):
            bad = w < 0 if sign > 0 else w > 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                need = ">= 0" if sign > 0 else "<= 0 (inhibitory weights are negative)"
                raise ValueError(
                    f"connect {self.name!r}: port {self.port!r} takes weights {need}; "
                    f"{int(bad.sum())} weight(s) have the wrong sign (first: "
                    f"{_elem(explicit)} {first + i}, {w[i]:.4g})"
                )
        if self.pre_pop.carries_spikes:
            ranges.check_weights(
                f"connect {self.name!r}, port {self.port!r} of {self.target}",
                w[0] if scalar else w,
                self.port_unit,
                self._strict,
                self._advice(),
                first,
            )

    def _advice(self):
        return f"pass strict_units=False to {self.target}(...) if the value is intended"

    def _delay_steps(self, d, round_delays, first=0, shared=1):
        """Delay steps (int64) of a block of delays ``d`` [s] (1-D float64; synapse
        ``first`` onwards; each value stands for ``shared`` synapses, as a scalar delay
        for all). Applies the delay rule (module docstring) and counts what rounding changed."""
        dt = self.net.dt
        bad = ~((d >= 0) & (d < np.inf))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"connect {self.name!r}: delay {d[i]:.6g} s (synapse {first + i}) is negative "
                "or not finite; a delay must be at least one time step"
            )
        ratio = d / dt
        low = ratio < 1 - _GRID_TOL
        if not round_delays and low.any():
            i = int(np.argmin(ratio))
            raise ValueError(
                f"connect {self.name!r}: delay {d[i]:.6g} s (synapse {first + i}) is below "
                f"dt={dt} s; the minimum delay is one time step (or pass round_delays=True "
                "to raise it to one step)"
            )
        if len(ratio) and ratio.max() >= 65535.5:  # rounds (half-way up) past the cap
            raise ValueError(
                f"connect {self.name!r}: delay {d.max():.6g} s exceeds 65535 steps of dt={dt} s"
            )
        ranges.check_values(
            f"connect {self.name!r}",
            "delay",
            d[0] if shared > 1 else d,
            "s",
            ranges.DELAY,
            self._strict,
            typical=1e-3,
            fix=self._advice(),
            first=first,
        )
        steps = np.floor(ratio + 0.5).astype(np.int64)
        changed = np.abs(ratio - steps) > _GRID_TOL
        if not round_delays and changed.any():
            i = int(np.flatnonzero(changed)[0])
            raise ValueError(
                f"connect {self.name!r}: delay {d[i]:.6g} s (synapse {first + i}) is not a "
                f"multiple of dt={dt} s. Rule: delays must lie on the time grid; pass "
                "round_delays=True to round them to the nearest step (half-way up)"
            )
        if round_delays:
            n_low = int(np.count_nonzero(low))
            if n_low:
                np.maximum(steps, 1, out=steps)
                changed |= low
            self.raised_delays += n_low * shared
            self.rounded_delays += int(np.count_nonzero(changed)) * shared
        return steps

    # ----------------------------------------------------------------------- access
    @property
    def min_delay_steps(self) -> int:
        """The smallest delay in steps (what bounds the engine's chunk length)."""
        if getattr(self, "_min_delay", None) is None:
            self._min_delay = self.delay_range()[0] if len(self.off) else 1
        return self._min_delay

    def delay_range(self) -> tuple:
        """(smallest, largest) delay in steps of the synapses held here; (huge, 0) if none.
        One pass, no temporaries the size of the projection."""
        lo, hi = _delay_range(self.off, self.post_pop.n)
        return int(lo), int(hi)

    def __len__(self):
        """The number of synapses of the whole projection (under MPI too, where a rank
        holds only those onto its neurons: ``proj.weights`` and the other per-synapse
        arrays are that part)."""
        return self.n_synapses

    @property
    def n_synapses(self) -> int:
        """The synapses of the whole projection (on every MPI rank)."""
        n = getattr(self, "n_global", None)
        return len(self.off) if n is None else int(n)

    @property
    def global_index(self):
        """Under MPI, each synapse this rank holds as an index into the whole projection's
        storage order (None in a single process, or before the projection is split).
        Computed from one start per row (``row_base``): a rank's part of a row is
        contiguous in the whole row, which is sorted by target."""
        base = getattr(self, "row_base", None)
        if base is None:
            return None
        counts = np.diff(self.ptr)
        return np.repeat(base - self.ptr[:-1], counts) + np.arange(self.ptr[-1], dtype=np.int64)

    @property
    def targets(self) -> np.ndarray:
        """Target index of each synapse within the post population."""
        return (self.off % self.post_pop.n).astype(np.int64)

    @property
    def delay_steps(self) -> np.ndarray:
        return (self.off // self.post_pop.n).astype(np.int64)

    @property
    def pre_ids(self) -> np.ndarray:
        src = np.repeat(np.arange(self.pre_pop.n, dtype=np.int64), np.diff(self.ptr))
        return lookup(self.pre_pop, self.pre_sel)[src].astype(np.int64)

    @property
    def post_ids(self) -> np.ndarray:
        return lookup(self.post_pop, self.post_sel)[self.targets].astype(np.int64)

    @property
    def weights(self) -> np.ndarray:
        if self.plastic is not None:
            return self.plastic.current_weights().astype(np.float64)
        return self.w.astype(np.float64)

    @weights.setter
    def weights(self, value):
        what = f"projection {self.name!r}: weights"
        index = self.global_index
        if index is not None and np.ndim(value) == 1 and len(value) == self.n_synapses:
            value = np.asarray(value)[index]  # under MPI: the whole projection's weights
        w = values(value, self._draws(value, draws.WEIGHT, True), len(self.off), what)
        self._check_weights(w, what=what)
        if self.plastic is not None:
            p = self.plastic.model.params
            if "w_min" in p and np.any((w < p["w_min"]) | (w > p["w_max"])):
                raise ValueError(
                    f"projection {self.name!r}: weights must lie in [w_min, w_max] = "
                    f"[{p['w_min']:.4g}, {p['w_max']:.4g}]"
                )
        self.w[:] = w
        if self.plastic is not None:
            self.plastic.drop_pending()  # the new values replace held-back changes

    @property
    def delays(self) -> np.ndarray:
        return self.delay_steps.astype(np.float64) * self.net.dt

    @property
    def nbytes(self) -> int:
        total = self.w.nbytes + self.off.nbytes + self.ptr.nbytes
        if self.plastic is not None:
            total += sum(a.nbytes for a in self.plastic.arrays) - self.w.nbytes
        return total

    def allocate_chunk(self, layout):
        """Split every row among the post population's workers (``wptr``)."""
        from axonforge.engine.partition import split_rows

        chunk = self.post_pop.chunk
        self._delivered = self._merged_multapses()
        ptr, off, _w = self._delivered
        self.wptr = split_rows(ptr, off, self.post_pop.n, chunk["lo"], chunk["hi"])
        if self.plastic is not None:
            self.plastic.allocate_chunk(layout)

    def _merged_multapses(self):
        """``(ptr, off, w)`` the kernel delivers through. A static projection from a
        graded output (an astrocyte's SIC, sent every step) delivers each (source,
        target, delay) once with the summed weight of its synapses: the same input
        (up to rounding) for a fraction of the work where synapses repeat (a tripartite
        rule connects an astrocyte to a neuron once per recruiting synapse, about 40
        times in NEST's astrocyte network). The projection itself keeps every synapse
        (counts, weights, files)."""
        pre = self.pre_pop
        watched = any(getattr(m, "proj", None) is self for m in self.net.monitors.values())
        if not (pre.is_neuron and pre.payload_dtype is not None) or self.plastic is not None:
            return self.ptr, self.off, self.w
        if self.summed is not None or watched or len(self.off) == 0:
            return self.ptr, self.off, self.w
        n_rows = len(self.ptr) - 1  # (weights set between runs: summed again per run)
        src = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(self.ptr))
        off = self.off.astype(np.int64)
        n_post = self.post_pop.n
        # rows stay in ascending target order (workers take contiguous parts of a row)
        order = np.lexsort((off, off % n_post, src))
        src, off = src[order], off[order]
        first = np.ones(len(off), bool)
        first[1:] = (src[1:] != src[:-1]) | (off[1:] != off[:-1])
        starts = np.flatnonzero(first)
        ptr = np.concatenate([[0], np.cumsum(np.bincount(src[starts], minlength=n_rows))])
        self._merge = (order, starts)
        return ptr.astype(self.ptr.dtype), self.off[order][starts], None

    def kernel_state(self) -> dict:
        ptr, off, w = getattr(self, "_delivered", (self.ptr, self.off, self.w))
        if w is None:  # merged multapses: their summed weights, as the weights are now
            order, starts = self._merge
            w = np.add.reduceat(self.w[order].astype(np.float64), starts).astype(self.w.dtype)
        out = {"ptr": ptr, "off": off, "w": w, "wptr": self.wptr}
        if self.astro_index is not None:
            out["astro"] = self.astro_index
        if self.summed is not None:
            out.update(self.summed.kernel_state())
        if self.plastic is not None:
            out.update(self.plastic.kernel_state(self.net.dt))
        return out

    # ------------------------------------------------------------------- saved state
    def saved_state(self) -> dict:
        """The projection (and its plastic rule's state, group ``plastic``) as a state
        dict (:mod:`axonforge.state`)."""
        mine = BySynapse(self)
        # a plastic rule holds the weights in its state (on a rank, ``w`` may be stale)
        w = self.w if self.plastic is None else self.plastic.state["w"]
        return state(
            attrs={
                "name": self.name,
                "pre": self.pre_pop.name,
                "post": self.post_pop.name,
                "port": self.port,
                "rule": json.dumps(self.rule.describe(), default=str),
                "rounded_delays": self.rounded_delays,
                "max_delay_steps": self.max_delay_steps,
                "n_draws": getattr(self, "n_draws", 0),
                **(self._coupling_attrs() if self.summed is not None else {}),
                **({} if self.astro_pop is None else {"astro_pop": self.astro_pop.name}),
            },
            arrays={
                "pre_sel": self.pre_sel,
                "post_sel": self.post_sel,
                "ptr": self.ptr,
                "off": self.off,
                "w": w,
                **({} if self.astro_index is None else {"astro_index": self.astro_index}),
            },
            groups={} if self.plastic is None else {"plastic": self.plastic.saved_state()},
            split={
                "ptr": RowCounts(self),
                "off": mine,
                "w": mine,
                **({} if self.astro_index is None else {"astro_index": mine}),
            },
        )

    def _coupling_attrs(self) -> dict:
        model = self.summed.model
        return {
            "coupling_spec": model.spec.to_json(),
            "coupling_params": json.dumps(model.params),
        }

    @classmethod
    def from_saved(cls, net, d) -> Projection:
        """Rebuild a projection of ``net`` (its populations and modulators restored)
        from :meth:`saved_state`'s dict; nothing is drawn or built."""
        a, arrays = d["attrs"], d["arrays"]
        proj = cls.__new__(cls)
        proj.net, proj.name = net, str(a["name"])
        proj.pre_pop = net.populations[str(a["pre"])]
        proj.post_pop = net.populations[str(a["post"])]
        proj.port = str(a["port"])
        proj.rule = StoredRule(json.loads(a["rule"]))
        proj.rounded_delays = int(a["rounded_delays"])
        proj.max_delay_steps = int(a["max_delay_steps"])
        proj.n_draws = int(a.get("n_draws", 0))
        for k in ("pre_sel", "post_sel", "ptr", "off", "w"):
            setattr(proj, k, arrays[k])
        if proj.ptr[-1] != len(proj.off) or len(proj.off) != len(proj.w):
            raise fail(d, f"projection {proj.name!r} has inconsistent sizes")
        if "astro_pop" in a:  # tripartite synapses: each one's astrocyte
            proj.astro_pop = net.populations[str(a["astro_pop"])]
            proj.astro_index = np.asarray(arrays["astro_index"], np.int32)
            if len(proj.astro_index) != len(proj.off):
                raise fail(d, f"projection {proj.name!r} has inconsistent sizes")
        proj.plastic = None
        if "plastic" in d.get("groups", {}):
            proj.plastic = PlasticState.from_saved(proj, d["groups"]["plastic"])
            proj.w = proj.plastic.state["w"]
        if "coupling_spec" in a:
            spec = CouplingSpec.from_dict(json.loads(a["coupling_spec"]))
            model = type(spec.name, (CouplingModel,), {"spec": spec})(
                **json.loads(a["coupling_params"])
            )
            proj.summed = SummedState(proj, model)
        return proj

    def __repr__(self):
        kind = f"[{self.port}]"
        if self.summed is not None:
            kind = f"[coupling {self.summed.model.spec.name}]"
        if self.astro_pop is not None:
            kind += f" (tripartite: astrocytes of {self.astro_pop.name})"
        return (
            f"<Projection {self.name!r}: {self.pre_pop.name} -> {self.post_pop.name} "
            f"{kind}, {len(self)} synapses>"
        )


def _rank_targets(net, post_pop, explicit, weight, delay):
    """Under MPI, the post population indices ``(lo, hi)`` this rank owns, whose
    synapses it alone builds; None to build the whole projection (one process, or
    per-synapse arrays of weights or delays for a rule other than Explicit: such an
    array is in the whole projection's order, which a rank does not know before the
    build; the engine keeps the rank's part later, :func:`axonforge.engine.mpi.localize`)."""
    if net.ranks == 1:
        return None
    if not explicit and any(
        np.ndim(v) > 0 and not isinstance(v, Distribution) for v in (weight, delay)
    ):
        return None
    from axonforge.engine.partition import rank_ranges

    return rank_ranges(post_pop.n, net.ranks)[net.rank]


class StoredRule:
    """Description of the rule that built a loaded projection (the synapses are stored)."""

    def __init__(self, info):
        self.info = info

    def describe(self):
        return self.info

    def __repr__(self):
        return f"<stored rule {self.info}>"


# ----------------------------------------------------------------------------- estimate
@dataclass
class ConnectionEstimate:
    """What building a connection takes, before it is built.

    ``synapses``: the rule's synapse count (its expectation for FixedProbability);
    ``stored_bytes``: what ``proj.nbytes`` will be; ``peak_bytes``: the memory the build
    needs at its peak, the stored arrays included."""

    synapses: float
    stored_bytes: int
    peak_bytes: int

    def scaled(self, fraction: float) -> ConnectionEstimate:
        """The estimate for a part of the projection (an MPI rank's share)."""
        return ConnectionEstimate(
            self.synapses * fraction,
            int(self.stored_bytes * fraction),
            int(self.peak_bytes * fraction),
        )

    def __str__(self):
        return (
            f"{self.synapses:,.0f} synapses, {self.stored_bytes / _GIB:.3g} GiB stored, "
            f"{self.peak_bytes / _GIB:.3g} GiB at peak while building"
        )


def estimate(net, pre, post, rule, synapse=None, weight=None, delay=None, name=None):
    """:class:`ConnectionEstimate` of ``net.connect(pre, post, rule, ...)`` (nothing is
    built); ``weight`` and ``delay`` as for ``connect`` (``None``: per-synapse weights,
    delay ``dt``)."""
    sides = _sides(net, pre, post, name)
    rule = rule if rule is not None else AllToAll()
    if not isinstance(rule, Rule):
        raise TypeError(f"estimate_connection: rule must be a connection rule, got {rule!r}")
    if synapse is not None:
        _check_synapse(None, synapse, None)
    delay = net.dt if delay is None else delay
    return _estimate(net, sides, rule, synapse, Distribution() if weight is None else weight, delay)


def _sides(net, pre, post, name):
    """(pre population, pre ids, post population, post ids, number of possible autapses:
    neurons on both sides)."""
    pre_pop, pre_sel = resolve(pre, f"connect {name!r}: pre")
    post_pop, post_sel = resolve(post, f"connect {name!r}: post")
    n_self = 0
    if pre_pop is post_pop:
        in_post = np.zeros(post_pop.n, dtype=bool)
        in_post[post_sel] = True
        n_self = int(np.count_nonzero(in_post[pre_sel]))
    return pre_pop, pre_sel, post_pop, post_sel, n_self


def _estimate(net, sides, rule, synapse, weight, delay):
    pre_pop, pre_sel, post_pop, post_sel, n_self = sides
    n_pre, n_post = len(pre_sel), len(post_sel)
    rule.check(n_pre, n_post, n_self)
    rule.prepare(pre_pop, pre_sel, post_pop, post_sel)
    m = float(rule.expected(n_pre, n_post, n_self))
    top = max(1, int(np.floor(_delay_bound(delay, m) / net.dt + 0.5)))
    off_item = 4 if (top + 1) * post_pop.n < 2**31 else 8
    per_syn = isinstance(weight, Distribution) or np.ndim(weight) > 0
    explicit = isinstance(rule, Explicit)
    stored = m * (4 + off_item) + 8 * (pre_pop.n + 1)
    # temporaries: index arrays of the populations and views, a write position per row,
    # the value blocks, and an int32 offset array widened to int64
    extra = 8 * (3 * (pre_pop.n + post_pop.n) + 4 * (n_pre + n_post)) + 64 * _block(int(m))
    extra += 8 * pre_pop.n * rule.cursor + (4 * m if off_item == 8 else 0)
    if synapse is not None:
        stored, temp = _plastic_bytes(net, synapse, m, pre_pop.n, post_pop.n, off_item)
        stored += m * off_item + 8 * (pre_pop.n + 1)
        # Explicit scatters weights before the rule's state exists: a second array of them
        extra += temp + (m * np.dtype(net.dtype).itemsize if per_syn and explicit else 0)
    return ConnectionEstimate(m, int(stored), int(stored + extra))


def _plastic_bytes(net, synapse, m, n_pre_pop, n_post_pop, off_item):
    """(stored bytes but off and ptr, temporaries) of a plastic projection: what
    :class:`axonforge.plastic.PlasticState` allocates."""
    c = checked_synapse(synapse.spec)
    spec = synapse.spec
    item = np.dtype(net.dtype).itemsize
    stored = m * item * len(spec.state) + 8 * m * (len(spec.eligibility) + bool(c.eligibility))
    stored += 8 * sum(n_pre_pop if side == "pre" else n_post_pop for side, _ in c.traces.values())
    temp = 0
    if c.needs_targets:
        stored += 4 * m
        temp = off_item * m
    if c.post.syn:
        # target-sorted index: int32 tidx and source; an int64 tidx and a source per
        # synapse are temporaries
        stored += 8 * (n_post_pop + 1) + m * (4 if m < 2**31 else 8) + 4 * m
        temp = max(temp, 12 * m)
    return stored, temp


def _delay_bound(delay, m):
    """The largest delay to expect [s]: a distribution's ``high`` when finite, else the
    largest of 4096 draws (an estimate only decides the offsets' integer width)."""
    if isinstance(delay, Expression):
        return 0.0  # evaluated only once the synapses exist; offsets widen if needed
    if isinstance(delay, Distribution):
        high = getattr(delay, "high", np.inf)
        if np.isfinite(high):
            return float(high)
        n = int(min(m, 4096)) or 1
        sample = delay.sample(draws.KeyedDraws(0, np.arange(n)), n)
        return float(np.max(sample, initial=0.0))
    arr = np.asarray(delay, dtype=np.float64)
    return float(arr.max(initial=0.0)) if np.all(np.isfinite(arr)) else 0.0


def _check_synapse(proj, synapse, modulator):
    """The checks of a plasticity rule that need no synapses (before building)."""
    from axonforge.models.plasticity import SynapseModel

    name = "estimate_connection" if proj is None else f"connect {proj.name!r}"
    if synapse is None and modulator is not None:
        raise ValueError(
            f"{name}: modulator= needs a three-factor rule "
            "(synapse=DopamineSTDP(...)); static synapses read no modulator"
        )
    if synapse is None:
        return
    if not isinstance(synapse, SynapseModel):
        raise TypeError(
            f"{name}: synapse must be a plasticity rule such as STDP(...), got {synapse!r}"
        )
    if proj is not None and not proj.pre_pop.carries_spikes:
        raise TypeError(
            f"{name}: {proj.pre_pop.name!r} cannot drive a plastic synapse: it emits "
            "values (a NoiseSource's amplitudes or a graded output), not spikes"
        )
    if proj is not None:  # amplitudes and bounds in the unit of the target port's weights
        synapse.check_weight_units(proj.port_unit, f"{name}, port {proj.port!r} of {proj.target}")


@njit(cache=True)
def _delay_range(off, n_post):
    lo, hi = np.iinfo(np.int64).max, 0
    for x in off:
        d = np.int64(x) // n_post
        lo, hi = min(lo, d), max(hi, d)
    return lo, hi


@njit(cache=True)
def _sort_rows(ptr, off, w, n_post):
    """Stable sort of each CSR row by target (``off % n_post``), in place."""
    for i in range(len(ptr) - 1):
        a, b = ptr[i], ptr[i + 1]
        ordered = True
        for q in range(a + 1, b):
            if off[q] % n_post < off[q - 1] % n_post:
                ordered = False
                break
        if ordered:
            continue
        order = np.argsort(off[a:b] % n_post, kind="mergesort") + a
        off[a:b] = off[order]
        if len(w):
            w[a:b] = w[order]
