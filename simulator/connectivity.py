"""Connection rules, value distributions and the kernels that fill the CSR-by-source store.

Rules (semantics as NEST's ``conn_spec`` rules of the same names) never materialise a list
of (pre, post) pairs. A rule first counts each source's synapses (the row pointer
``ptr``), the projection then allocates the final arrays once, and the rule's filling
pass writes each synapse's target straight into its place, rows in ascending target
order. Random choices come from the counter-based generator of :mod:`axonforge.rng`, a
pure function of (seed, projection, neuron, draw number): the counting and filling passes
regenerate the same draws instead of storing them, and the draws are keyed by target
(by source for ``FixedOutDegree``), never by whoever computes them; ``FixedTotalNumber``
first draws every target's count (a multinomial keyed by seed and projection).
``Explicit`` pairs go through a stable counting sort by source. Distributions
(:mod:`axonforge.draws`) draw weights, delays and initial values keyed by element, block
by block.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from axonforge import space
from axonforge.draws import (  # noqa: F401 - re-exported: the public distributions
    Distribution,
    exponential,
    lognormal,
    normal,
    uniform,
    value_block,
    value_kind,
    values,
)
from axonforge.expressions import (
    PAD,
    PAIR,
    as_expression,
    estimate_p,
    periodic_extent,
    rule_kernel,
)
from axonforge.rng import step_key
from axonforge.rng import uniform as _u01

# ----------------------------------------------------------------------------------- rules
#: generator streams of connectivity: CONN_STREAM + 2*projection (+1: keyed by source),
#: far above the populations' streams (1, 2, ...), which key the kernels' Poisson draws
CONN_STREAM = 1 << 40
#: above this p, one hash per pair costs less than one logarithm per synapse (geometric skips)
_PAIRS_ABOVE = 0.25
#: PairwiseBernoulli with a radius: cells at least radius / CELL_SPLIT wide (3: a target
#: visits 1.5x the pairs within the radius in 2-D, in 7 runs of sources)
CELL_SPLIT = 3


class Layout:
    """Where a projection's synapses go. Local indices count within the pre and post
    populations or views; ``pre_sel``/``post_sel`` give their population indices (int64).
    ``self_post``/``self_pre`` (only where autapses must be avoided in one population,
    else empty) give each local neuron's partner on the other side, or -1; ``post_order``
    lists local targets by population index (empty when ``post_sel`` is already sorted).

    ``owned = (lo, hi)``: build only the synapses onto post population indices
    ``lo..hi-1`` (an MPI rank's targets). The draws stay keyed by target or source, so
    a rank's synapses are exactly those the whole projection holds onto its targets,
    in the same row order."""

    def __init__(
        self, pre_pop, pre_sel, post_pop, post_sel, avoid_autapses, seed, stream, owned=None
    ):
        self.pre_pop, self.post_pop = pre_pop, post_pop
        self.pre_sel = np.ascontiguousarray(pre_sel, dtype=np.int64)
        self.post_sel = np.ascontiguousarray(post_sel, dtype=np.int64)
        self.n_pre_pop, self.seed, self.stream = pre_pop.n, int(seed), int(stream)
        self.lo, self.hi = (0, post_pop.n) if owned is None else (int(owned[0]), int(owned[1]))
        self.partial = (self.lo, self.hi) != (0, post_pop.n)
        empty = np.zeros(0, dtype=np.int64)
        self.self_post = self.self_pre = empty
        if avoid_autapses and pre_pop is post_pop:
            self.self_post = _position(post_pop.n, self.post_sel)[self.pre_sel]
            self.self_pre = _position(pre_pop.n, self.pre_sel)[self.post_sel]
        # targets in ascending population index, so that every row comes out sorted
        ordered = len(post_sel) < 2 or bool(np.all(self.post_sel[1:] > self.post_sel[:-1]))
        self.post_order = empty if ordered else np.argsort(self.post_sel, kind="stable")

    def keyed(self, tag):
        """The arrays and generator coordinates the kernels take (``tag`` 1: by source)."""
        arrays = (self.pre_sel, self.post_sel, self.post_order, self.self_pre, self.self_post)
        return (*arrays, self.seed, self.stream + tag, self.lo, self.hi)

    def owns(self, post_pop_ids) -> np.ndarray:
        """Which of these post population indices are this build's targets."""
        return (post_pop_ids >= self.lo) & (post_pop_ids < self.hi)

    def rows_of(self, per_pre) -> np.ndarray:
        """Row pointer over the pre population from a count per local pre neuron."""
        ptr = np.zeros(self.n_pre_pop + 1, dtype=np.int64)
        ptr[1:][self.pre_sel] = per_pre
        return np.cumsum(ptr, out=ptr)


def _position(n, ids):
    """Over ``range(n)``: the position of each index in ``ids``, or -1."""
    out = np.full(n, -1, dtype=np.int64)
    out[ids] = np.arange(len(ids), dtype=np.int64)
    return out


class Rule:
    """A connection rule: ``check`` and ``expected`` look only at sizes (``n_self`` is the
    number of (pre, post) pairs that are one neuron, the possible autapses); ``rows(lay)``
    is the counting pass (row pointer over the pre population) and ``fill(lay, ptr, off,
    base)`` writes ``base + target`` of each synapse that ``rows`` counted into ``off``,
    every row in ascending target order (multapses side by side)."""

    allow_autapses = True
    allow_multapses = True
    #: the filling pass keeps a write position per row (8 bytes per pre-population neuron)
    cursor = False

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def describe(self) -> dict:
        return {
            "rule": type(self).__name__,
            **{k: v for k, v in vars(self).items() if not isinstance(v, np.ndarray)},
        }

    def check(self, n_pre, n_post, n_self):
        """Raise ``ValueError`` if the rule cannot connect these sizes."""

    def prepare(self, pre_pop, pre_sel, post_pop, post_sel):
        """Check the rule against the populations themselves, before anything is built
        (rules written as expressions need their positions)."""

    def expected(self, n_pre, n_post, n_self) -> float:
        """Number of synapses (its expectation for random counts)."""
        raise NotImplementedError

    def _pairs(self, n_pre, n_post, n_self):
        return n_pre * n_post - (0 if self.allow_autapses else n_self)


class AllToAll(Rule):
    """Every pre neuron to every post neuron."""

    def __init__(self, allow_autapses=True):
        self.allow_autapses = bool(allow_autapses)

    def expected(self, n_pre, n_post, n_self):
        return self._pairs(n_pre, n_post, n_self)

    @staticmethod
    def _targets(lay):
        """The targets in ascending population order, and for each source the target
        left out of its row (its own neuron, as a population index) or -1 (an empty
        array: none left out)."""
        order = lay.post_order
        targets = lay.post_sel[order] if len(order) else lay.post_sel
        if lay.partial:
            targets = targets[lay.owns(targets)]
        same = lay.self_post
        if len(same):
            same = np.where(same >= 0, lay.post_sel[np.maximum(same, 0)], -1)
            same = np.where(lay.owns(same), same, -1)
        return targets, same

    def rows(self, lay):
        targets, same = self._targets(lay)
        return lay.rows_of(len(targets) - (same >= 0) if len(same) else len(targets))

    def fill(self, lay, ptr, off, base):
        targets, same = self._targets(lay)
        _fill_all(lay.pre_sel, targets, same, ptr, off, base)


class OneToOne(Rule):
    """Pre ``i`` to post ``i``; both sides must have the same size."""

    def check(self, n_pre, n_post, n_self):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs pre and post of equal size, got {n_pre} and {n_post}")

    def expected(self, n_pre, n_post, n_self):
        return n_pre

    def rows(self, lay):
        return lay.rows_of(lay.owns(lay.post_sel).astype(np.int64))

    def fill(self, lay, ptr, off, base):
        keep = lay.owns(lay.post_sel)
        _fill_one(lay.pre_sel[keep], lay.post_sel[keep], ptr, off, base)


class _KeyedByTarget(Rule):
    """Rules whose draws are keyed by target: the counting pass draws every target's
    sources, the filling pass draws them again and appends the target to their rows."""

    cursor = True

    def _run(self, lay, ptr, off, base, fill):
        raise NotImplementedError

    def rows(self, lay):
        ptr = np.zeros(lay.n_pre_pop + 1, dtype=np.int64)
        self._run(lay, ptr, np.zeros(0, np.int32), 0, False)
        return np.cumsum(ptr, out=ptr)

    def fill(self, lay, ptr, off, base):
        self._run(lay, ptr, off, base, True)


class FixedProbability(_KeyedByTarget):
    """Each (pre, post) pair independently with probability ``p`` (NEST ``pairwise_bernoulli``).

    Each target draws its sources from its own keyed stream: by geometric skips between
    chosen pairs (cost per synapse), or for large ``p`` one uniform per pair."""

    def __init__(self, p, allow_autapses=True):
        if not (isinstance(p, (int, float, np.floating)) and 0.0 <= float(p) <= 1.0):
            raise ValueError(f"FixedProbability(p={p!r}): p must be a probability in [0, 1]")
        self.p, self.allow_autapses = float(p), bool(allow_autapses)

    def expected(self, n_pre, n_post, n_self):
        return self.p * self._pairs(n_pre, n_post, n_self)

    def _run(self, lay, ptr, off, base, fill):
        if self.p > 0.0:
            _by_target(self.p, None, True, lay.keyed(0), ptr, off, base, fill)


class _FixedDegree(Rule):
    """``k`` synapses per neuron on the fixed side, partners drawn at random."""

    fixed = ""  # "post" (in-degree) or "pre" (out-degree)

    def __init__(self, k, allow_autapses=True, allow_multapses=True):
        if isinstance(k, bool) or int(k) != k or k < 0:
            raise ValueError(f"{type(self).__name__}(k={k!r}): k must be a non-negative integer")
        self.k = int(k)
        self.allow_autapses, self.allow_multapses = bool(allow_autapses), bool(allow_multapses)

    def check(self, n_pre, n_post, n_self):
        n_drawn = n_pre if self.fixed == "post" else n_post
        drawn = "pre" if self.fixed == "post" else "post"
        pool = n_drawn - (0 if self.allow_autapses or n_self == 0 else 1)
        if not self.allow_multapses and self.k > pool:
            raise ValueError(
                f"{type(self).__name__}(k={self.k}) without multapses needs at least "
                f"{self.k} candidate {drawn} neurons, there are {pool}"
            )
        if self.k and n_drawn == 0:
            raise ValueError(f"{type(self).__name__}: the {drawn} population is empty")
        if self.k and pool == 0:
            raise ValueError(
                f"{type(self).__name__}(k={self.k}) without autapses has no candidate {drawn} "
                "neuron (the only one is the neuron itself)"
            )

    def expected(self, n_pre, n_post, n_self):
        return self.k * (n_post if self.fixed == "post" else n_pre)


class FixedInDegree(_KeyedByTarget, _FixedDegree):
    """Each post neuron receives exactly ``k`` synapses from randomly drawn pre neurons
    (NEST ``fixed_indegree``); each target draws from its own keyed stream."""

    fixed = "post"

    def _run(self, lay, ptr, off, base, fill):
        _by_target(0.0, self.k, self.allow_multapses, lay.keyed(0), ptr, off, base, fill)


class FixedOutDegree(_FixedDegree):
    """Each pre neuron makes exactly ``k`` synapses onto randomly drawn post neurons
    (NEST ``fixed_outdegree``); each source draws from its own keyed stream."""

    fixed = "pre"

    def rows(self, lay):
        if not lay.partial:
            return lay.rows_of(self.k)
        # a rank keeps the drawn targets it owns: count them by drawing once more
        ptr = np.zeros(lay.n_pre_pop + 1, dtype=np.int64)
        _fill_out(self.k, self.allow_multapses, lay.keyed(1), ptr, np.zeros(0, np.int32), 0, False)
        return np.cumsum(ptr, out=ptr)

    def fill(self, lay, ptr, off, base):
        _fill_out(self.k, self.allow_multapses, lay.keyed(1), ptr, off, base, True)


class FixedTotalNumber(Rule):
    """Exactly ``n`` synapses between pre and post in all, each between a randomly drawn
    (pre, post) pair (NEST ``fixed_total_number``, the rule of Potjans & Diesmann 2014).

    As in NEST, the number of synapses onto each target is multinomial: ``n`` trials
    over the targets with equal probabilities; each target then draws its sources
    independently and uniformly (without autapses: from the other neurons). Multapses
    are therefore part of the rule: ``allow_multapses=False`` is refused, as NEST refuses
    it. The in-degree vector is one draw from a generator keyed by (seed, projection),
    the same for whoever computes it; each target's sources come from its own keyed
    stream (as for :class:`FixedInDegree`), so rows come out in ascending target order.
    Out-degrees are multinomial as well (each synapse's source is uniform)."""

    cursor = True

    def __init__(self, n, allow_autapses=True, allow_multapses=True):
        if (
            isinstance(n, bool)
            or not isinstance(n, (int, np.integer, float, np.floating))
            or not math.isfinite(n)
            or n != int(n)
            or n < 0
        ):
            raise ValueError(f"FixedTotalNumber(n={n!r}): n must be a non-negative integer")
        if not allow_multapses:
            raise ValueError(
                "FixedTotalNumber(allow_multapses=False): a fixed total number of random "
                "pairs has multapses by construction (NEST refuses this too); use "
                "FixedProbability for at most one synapse per pair"
            )
        self.n = int(n)
        self.allow_autapses, self.allow_multapses = bool(allow_autapses), True

    def check(self, n_pre, n_post, n_self):
        if self.n == 0:
            return
        if n_pre == 0 or n_post == 0:
            side = "pre" if n_pre == 0 else "post"
            raise ValueError(f"FixedTotalNumber(n={self.n}): the {side} population is empty")
        if not self.allow_autapses and n_pre == 1 and n_self == n_post:
            raise ValueError(
                f"FixedTotalNumber(n={self.n}) without autapses has no candidate pair "
                "(the only pre neuron is the only post neuron)"
            )

    def expected(self, n_pre, n_post, n_self):
        return self.n

    def degrees(self, lay) -> np.ndarray:
        """Synapses onto each local target, in ascending population order: a multinomial
        draw keyed by (seed, projection); targets without a candidate source (the lone
        pre neuron itself, without autapses) get none."""
        n_post = len(lay.post_sel)
        if self.n == 0 or n_post == 0:
            return np.zeros(n_post, dtype=np.int64)
        ok = np.ones(n_post, dtype=bool)
        if len(lay.pre_sel) == 1 and len(lay.self_pre):
            order = lay.post_order if len(lay.post_order) else np.arange(n_post)
            ok = lay.self_pre[order] < 0
        rng = np.random.default_rng(np.random.SeedSequence([lay.seed, lay.stream, 7]))
        deg = np.zeros(n_post, dtype=np.int64)
        m = int(ok.sum())
        deg[ok] = rng.multinomial(self.n, np.full(m, 1.0 / m))
        return deg

    def rows(self, lay):
        ptr = np.zeros(lay.n_pre_pop + 1, dtype=np.int64)
        _by_target_degrees(self.degrees(lay), lay.keyed(0), ptr, np.zeros(0, np.int32), 0, False)
        return np.cumsum(ptr, out=ptr)

    def fill(self, lay, ptr, off, base):
        _by_target_degrees(self.degrees(lay), lay.keyed(0), ptr, off, base, True)


class PairwiseBernoulli(Rule):
    """Each (pre, post) pair with probability ``p``, where ``condition`` holds: both
    numbers or expressions of the pair (:mod:`axonforge.expressions`: ``i``, ``j``,
    positions, ``d``), e.g. ``PairwiseBernoulli(p=sim.expr("exp(-d**2/(2*s**2))",
    s=0.1), condition="i != j")`` (Brian2's ``connect(condition=..., p=...)``, NEST's
    ``pairwise_bernoulli`` with a spatial probability).

    ``radius``: a cut-off (NEST's spherical mask); pairs farther apart (``d**2 >
    radius**2``) are never connected, and only nearby pairs are visited: sources are
    binned into cells about ``radius / 3`` wide, and each target evaluates the pairs in
    the cells that its sphere reaches, so the cost grows with the pairs within reach
    instead of all pairs. Where ``p`` or ``condition`` is already zero beyond the
    radius, the synapses are exactly those without it.

    Compiled once per expression; each target draws one keyed uniform per candidate
    source (keyed by seed, projection, target and source population index), so the
    synapses do not depend on threads, ranks, views or the cut-off's cells. The cost is
    one evaluation per pair (within the radius), about 2 ns for a Gaussian of distance:
    for a small constant ``p`` without condition, :class:`FixedProbability` (cost per
    synapse) is faster. A probability outside [0, 1] fails, naming the pair and the
    value."""

    cursor = True

    def __init__(self, p, condition=None, allow_autapses=True, radius=None):
        self.p = as_expression(p, "PairwiseBernoulli(p)")
        self.condition = as_expression(
            condition if condition is not None else "True", "PairwiseBernoulli(condition)"
        )
        self.allow_autapses = bool(allow_autapses)
        if radius is not None:
            ok = isinstance(radius, (int, float, np.floating, np.integer))
            if isinstance(radius, bool) or not ok or not 0.0 < float(radius) < np.inf:
                raise ValueError(
                    f"PairwiseBernoulli(radius={radius!r}): a cut-off distance > 0 (or None)"
                )
            radius = float(radius)
        self.radius = radius
        self._p_node = self.p.checked(PAIR, "PairwiseBernoulli p")
        self._cond_node = self.condition.checked(PAIR, "PairwiseBernoulli condition", True)

    def describe(self) -> dict:
        return {
            "rule": "PairwiseBernoulli",
            "p": repr(self.p),
            "condition": repr(self.condition),
            "allow_autapses": self.allow_autapses,
            "radius": self.radius,
        }

    def expected(self, n_pre, n_post, n_self):
        mean = getattr(self, "_mean_p", None)
        return self._pairs(n_pre, n_post, n_self) * (1.0 if mean is None else mean)

    def prepare(self, pre_pop, pre_sel, post_pop, post_sel):
        """Check the expressions against the populations (positions, dimensions) and
        estimate the mean probability (for the memory estimate)."""
        used = self.p.names | self.condition.names
        spatial = used & {"d", "dx", "dy", "dz", "x_pre", "y_pre", "z_pre", "x_post", "y_post",
                          "z_post"}  # fmt: skip
        what = f"the expressions use {sorted(spatial)}" if spatial else "a radius is given"
        if self.radius is not None:
            spatial = spatial | {"d"}
        dims = 0
        if spatial:
            for pop in (pre_pop, post_pop):
                if getattr(pop, "positions", None) is None:
                    raise ValueError(
                        f"PairwiseBernoulli: {what} but population {pop.name!r} has no "
                        "positions; give them with net.population(..., "
                        "positions=sim.grid(...) or an (n, d) array)"
                    )
            periodic_extent(pre_pop, post_pop)
            dims = pre_pop.positions.shape[1]
            for a, axis in enumerate("xyz"):
                names = {f"{axis}_pre", f"{axis}_post", f"d{axis}"} & spatial
                if a >= dims and names:
                    raise ValueError(
                        f"PairwiseBernoulli: the expressions use {sorted(names)} but the "
                        f"positions have {dims} dimension(s)"
                    )
        self._dims = dims
        self._mean_p = estimate_p(self.p, self.condition, pre_pop, pre_sel, post_pop, post_sel,
                                  radius=self.radius)  # fmt: skip

    def _choose(self, lay):
        """One evaluation of every pair (within the radius) by the compiled kernel of
        :func:`axonforge.expressions.rule_kernel`: ``(chosen, lengths, outer, counts)``,
        the chosen neurons of each outer neuron in turn, their numbers, the outer
        neurons (population indices) and, with a radius, each source's count (else
        None). Without a radius the outer neurons are the sources in ascending order,
        so ``chosen`` holds the projection's rows as they are stored; with one they are
        the targets (ascending) and ``chosen`` their sources."""
        dims = getattr(self, "_dims", 0)
        extent = periodic_extent(lay.pre_pop, lay.post_pop) if dims else None
        radius = self.radius if dims else None
        kernel = rule_kernel(self._p_node, self._cond_node, dims, extent is not None,
                             radius is not None)  # fmt: skip
        targets = lay.post_sel[lay.post_order] if len(lay.post_order) else lay.post_sel
        targets = targets[lay.owns(targets)]
        if radius is None:  # outer: the sources, ascending (their rows as stored)
            outer_pop, inner_pop = lay.pre_pop, lay.post_pop
            outer, inner = np.sort(lay.pre_sel), targets
        else:  # outer: the targets; inner: the sources, sorted by cell below
            outer_pop, inner_pop = lay.post_pop, lay.pre_pop
            outer, inner = targets, lay.pre_sel
        pos = inner_pop.positions[inner] if dims else np.zeros((len(inner), 0))
        box = space.wrapped(pos, extent) if extent is not None else None
        if radius is not None:
            order, grid_n, grid_f, cell_start = space.cells(
                pos if box is None else box, extent, radius, CELL_SPLIT
            )
            inner, pos = inner[order], pos[order]
            box = None if box is None else box[order]
        else:
            grid_n, grid_f = np.array([1, 1, 1, CELL_SPLIT]), np.zeros(10)
            cell_start = np.array([0, len(inner)])
        n_in = len(inner)
        dtype = np.int32 if inner_pop.n < 2**31 else np.int64

        def padded(column, dtype=np.float64):  # the kernel reads whole vectors (PAD)
            out = np.zeros(n_in + PAD, dtype)
            out[:n_in] = column
            return out

        empty = np.zeros(0)
        xyz = [padded(pos[:, a]) if a < dims else empty for a in range(3)]
        wrap = [padded(box[:, a]) if box is not None and a < dims else empty for a in range(3)]
        guess = self.expected(len(outer), n_in, 0) * (1.05 if radius is None else 1.5)
        chosen = np.empty(int(guess) + 1024, dtype)
        lengths = np.zeros(len(outer), np.int64)
        counts = np.zeros(n_in + PAD if radius is not None else 0, np.int64)
        bad = np.zeros(3)
        chosen, ok = kernel(
            np.ascontiguousarray(outer), padded(inner, dtype), *xyz, *wrap,
            outer_pop.positions if dims else np.zeros((0, 0)), len(lay.self_pre) > 0,
            np.zeros(3) if extent is None else extent,
            -1.0 if radius is None else radius * radius, grid_n, grid_f, cell_start,
            lay.seed, lay.stream, chosen, lengths, counts, bad,
        )  # fmt: skip
        if not ok:
            raise ValueError(
                f"PairwiseBernoulli: p = {self.p!r} is {float(bad[2])!r} for the pair "
                f"(i={int(bad[0])}, j={int(bad[1])}); a probability must lie in [0, 1]"
            )
        if radius is None:
            return chosen, lengths, outer, None
        return chosen, lengths, outer, (inner, counts[:n_in])

    # each pair is evaluated once: rows() keeps the chosen neurons for fill() (a
    # temporary of 4 bytes per synapse instead of a second evaluation of every pair)
    def rows(self, lay):
        self._kept = kept = self._choose(lay)
        chosen, lengths, outer, per_source = kept
        ptr = np.zeros(lay.n_pre_pop + 1, dtype=np.int64)
        if per_source is None:
            ptr[1:][outer] = lengths
        else:
            ptr[1:][per_source[0]] = per_source[1]
        return np.cumsum(ptr, out=ptr)

    def fill(self, lay, ptr, off, base):
        chosen, lengths, outer, per_source = getattr(self, "_kept", None) or self._choose(lay)
        self._kept = None
        if per_source is None:  # the rows themselves: sources ascending, targets ascending
            off[:] = chosen
            off += base
        else:
            _place_chosen(lengths, chosen, outer, ptr, off, base)


class Explicit(Rule):
    """Given index pairs: ``Explicit(pre_ids, post_ids)`` (indices into pre and post).

    Stored by a stable counting sort by source: a row keeps the pairs' given order."""

    cursor = True

    def __init__(self, pre_ids, post_ids):
        pre = np.asarray(pre_ids)
        post = np.asarray(post_ids)
        for name, arr in (("pre_ids", pre), ("post_ids", post)):
            if arr.ndim != 1:
                raise ValueError(f"Explicit: {name} must be 1-D, got shape {arr.shape}")
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"Explicit: {name} must be integers, got {arr.dtype}")
        if len(pre) != len(post):
            raise ValueError(
                f"Explicit: pre_ids has {len(pre)} entries but post_ids has "
                f"{len(post)}; they must pair up"
            )
        self.pre_ids, self.post_ids = pre.astype(np.int64), post.astype(np.int64)

    def check(self, n_pre, n_post, n_self):
        for name, arr, n in (("pre_ids", self.pre_ids, n_pre), ("post_ids", self.post_ids, n_post)):
            if len(arr) and (arr.min() < 0 or arr.max() >= n):
                bad = int(np.flatnonzero((arr < 0) | (arr >= n))[0])
                raise ValueError(f"Explicit: {name}[{bad}] = {arr[bad]} is outside 0..{n - 1}")

    def expected(self, n_pre, n_post, n_self):
        return len(self.pre_ids)

    def rows(self, lay):
        ptr = np.zeros(lay.n_pre_pop + 1, dtype=np.int64)
        _count_rows(self.pre_ids, self.post_ids, lay.pre_sel, lay.post_sel, lay.lo, lay.hi, ptr)
        return np.cumsum(ptr, out=ptr)

    def scatter(self, lay, cursor, i0, i1, steps, n_post_pop, w_block, off, w):
        """Pairs ``i0:i1`` into their rows: ``off = steps*n_post_pop + target``, weights
        from ``w_block``; ``steps``/``w_block`` hold one value per pair or one for all
        (an empty ``w_block`` leaves ``w`` alone)."""
        _scatter(
            self.pre_ids,
            self.post_ids,
            i0,
            i1,
            lay.pre_sel,
            lay.post_sel,
            lay.lo,
            lay.hi,
            cursor,
            steps,
            n_post_pop,
            w_block,
            off,
            w,
        )

    def describe(self):
        return {"rule": "Explicit", "n": int(len(self.pre_ids))}


# --------------------------------------------------------------------------------- kernels
@njit(cache=True, inline="always")
def _choose(key, n, k, forbidden, multapses, buf, mark, stamp):
    """``k`` indices of ``range(n)`` other than ``forbidden`` (-1: none) into ``buf``, drawn
    from the keyed stream: independent draws with multapses, else distinct ones by
    rejection (``mark[x] == stamp``: taken), choosing the complement when ``k`` is more
    than half the pool so that the expected number of draws stays below ``2k``."""
    pool = n - 1 if forbidden >= 0 else n
    if multapses:
        for j in range(k):
            x = int(_u01(key, j) * pool)
            buf[j] = x + 1 if 0 <= forbidden <= x else x
        return k
    take = 2 * k <= pool
    want = k if take else pool - k
    got, c = 0, 0
    while got < want:
        x = int(_u01(key, c) * pool)
        c += 1
        if 0 <= forbidden <= x:
            x += 1
        if mark[x] != stamp:
            mark[x] = stamp
            if take:
                buf[got] = x
            got += 1
    if not take:
        got = 0
        for x in range(n):
            if x != forbidden and mark[x] != stamp:
                buf[got] = x
                got += 1
    return k


@njit(cache=True, inline="always")
def _bernoulli(key, p, n, forbidden, buf):
    """Indices ``i < n`` (not ``forbidden``) each chosen with probability ``p``, ascending:
    one uniform per index (large ``p``) or geometric gaps ``floor(log(1-u)/log(1-p))``
    between chosen ones (cost per chosen index, no duplicates)."""
    got = 0
    if p > _PAIRS_ABOVE:
        for i in range(n):  # branch-free: a store per pair beats a mispredicted jump
            buf[got] = i
            got += (_u01(key, i) < p) & (i != forbidden)
        return got
    i, c, inv_log = -1, 0, 1.0 / math.log1p(-p)
    while True:
        gap = math.log(1.0 - _u01(key, c)) * inv_log  # log is faster than log1p
        c += 1
        if gap >= n:  # also keeps the float -> int conversion in range
            return got
        i += 1 + int(gap)
        if i >= n:
            return got
        if i != forbidden:
            buf[got] = i
            got += 1


@njit(cache=True)
def _by_target(p, k, multapses, g, ptr, off, base, fill):
    """Counting (``fill=False``: ``ptr[row + 1] += 1``) or filling pass of a rule whose
    draws are keyed by target: Bernoulli(``p``) sources when ``k`` is None (Numba then
    compiles only that branch: FixedProbability alone compiles in 2/3 of the time), else
    ``k`` sources. Targets go in ascending population order, so rows come out sorted by
    target."""
    pre_sel, post_sel, post_order, self_pre, _self_post, seed, stream, lo, hi = g
    n_pre = pre_sel.shape[0]
    buf = np.empty(n_pre if k is None else max(n_pre, k), np.int64)
    mark = np.zeros(n_pre, np.int64)
    cursor = ptr[:-1].copy() if fill else np.zeros(0, np.int64)
    for q in range(post_sel.shape[0]):
        t = post_order[q] if post_order.shape[0] else q
        tp = post_sel[t]
        if tp < lo or tp >= hi:  # another rank's target
            continue
        key = step_key(seed, stream, tp)
        forbidden = self_pre[t] if self_pre.shape[0] else -1
        if k is None:
            got = _bernoulli(key, p, n_pre, forbidden, buf)
        else:
            got = _choose(key, n_pre, k, forbidden, multapses, buf, mark, q + 1)
        _place(got, buf, pre_sel, base + tp, fill, ptr, off, cursor)


@njit(cache=True, inline="always")
def _place(got, buf, pre_sel, value, fill, ptr, off, cursor):
    """One target's ``got`` drawn sources (local indices in ``buf``): count them into
    their rows (``ptr``), or, in the filling pass, write ``value`` (the target's offset)
    at each row's cursor."""
    if fill:
        for j in range(got):
            r = pre_sel[buf[j]]
            off[cursor[r]] = value
            cursor[r] += 1
    else:
        for j in range(got):
            ptr[pre_sel[buf[j]] + 1] += 1


@njit(cache=True)
def _by_target_degrees(deg, g, ptr, off, base, fill):
    """Counting or filling pass (as :func:`_by_target`) with ``deg[q]`` sources, drawn
    independently (multapses allowed), for the ``q``-th target in population order."""
    pre_sel, post_sel, post_order, self_pre, _self_post, seed, stream, lo, hi = g
    n_pre = pre_sel.shape[0]
    top = 1
    for q in range(deg.shape[0]):
        top = max(top, deg[q])
    buf = np.empty(top, np.int64)
    mark = np.zeros(0, np.int64)  # unused: independent draws
    cursor = ptr[:-1].copy() if fill else np.zeros(0, np.int64)
    for q in range(post_sel.shape[0]):
        if deg[q] == 0:
            continue
        t = post_order[q] if post_order.shape[0] else q
        tp = post_sel[t]
        if tp < lo or tp >= hi:  # another rank's target
            continue
        key = step_key(seed, stream, tp)
        forbidden = self_pre[t] if self_pre.shape[0] else -1
        got = _choose(key, n_pre, deg[q], forbidden, True, buf, mark, q + 1)
        _place(got, buf, pre_sel, base + tp, fill, ptr, off, cursor)


@njit(cache=True)
def _fill_out(k, multapses, g, ptr, off, base, fill):
    """FixedOutDegree: each source's ``k`` targets from its keyed stream, sorted by
    population index; those this build owns (``lo <= target < hi``) are counted into
    ``ptr`` (``fill=False``) or written into the source's row."""
    pre_sel, post_sel, _order, _self_pre, self_post, seed, stream, lo, hi = g
    n_post = post_sel.shape[0]
    buf = np.empty(k, np.int64)
    row = np.empty(k, np.int64)
    mark = np.zeros(n_post, np.int64)
    for s in range(pre_sel.shape[0]):
        key = step_key(seed, stream, pre_sel[s])
        forbidden = self_post[s] if self_post.shape[0] else -1
        _choose(key, n_post, k, forbidden, multapses, buf, mark, s + 1)
        for j in range(k):
            row[j] = post_sel[buf[j]]
        _heapsort(row)
        p0 = ptr[pre_sel[s]]
        kept = 0
        for j in range(k):
            if lo <= row[j] < hi:
                if fill:
                    off[p0 + kept] = base + row[j]
                kept += 1
        if not fill:
            ptr[pre_sel[s] + 1] += kept


@njit(cache=True)
def _heapsort(a):
    """Sort in place (compiles in a fraction of the time of ``ndarray.sort``)."""
    n = a.shape[0]
    for start in range(n // 2 - 1, -n, -1):
        # first heapify (start >= 0), then move the top to the end (start < 0)
        if start < 0:
            end = n + start
            a[0], a[end] = a[end], a[0]
            root, size = 0, end
        else:
            root, size = start, n
        while 2 * root + 1 < size:
            child = 2 * root + 1
            if child + 1 < size and a[child] < a[child + 1]:
                child += 1
            if a[root] >= a[child]:
                break
            a[root], a[child] = a[child], a[root]
            root = child


@njit(cache=True)
def _place_chosen(counts, chosen, targets, ptr, off, base):
    """Write each target (ascending) into the rows of its chosen sources."""
    cursor = ptr[:-1].copy()
    pos = 0
    for q in range(counts.shape[0]):
        for _ in range(counts[q]):
            r = chosen[pos]
            off[cursor[r]] = base + targets[q]
            cursor[r] += 1
            pos += 1


@njit(cache=True)
def _fill_all(pre_sel, targets, same, ptr, off, base):
    """Filling pass of AllToAll; ``same[s]`` is the target to leave out of row s (or -1;
    ``same`` empty: none)."""
    for s in range(pre_sel.shape[0]):
        pos = ptr[pre_sel[s]]
        leave_out = same[s] if same.shape[0] else -1
        for q in range(targets.shape[0]):
            t = targets[q]
            if t != leave_out:
                off[pos] = base + t
                pos += 1


@njit(cache=True)
def _fill_one(pre_sel, post_sel, ptr, off, base):
    for i in range(pre_sel.shape[0]):
        off[ptr[pre_sel[i]]] = base + post_sel[i]


@njit(cache=True)
def _count_rows(pre, post, pre_sel, post_sel, lo, hi, ptr):
    for i in range(pre.shape[0]):
        if lo <= post_sel[post[i]] < hi:
            ptr[pre_sel[pre[i]] + 1] += 1


@njit(cache=True)
def _scatter(pre, post, i0, i1, pre_sel, post_sel, lo, hi, cursor, steps, n_post_pop, wv, off, w):
    """Stable counting sort of pairs ``i0:i1`` onto targets ``lo..hi-1`` into their rows
    (see Explicit.scatter)."""
    nb = i1 - i0
    ss = 1 if steps.shape[0] == nb else 0
    sw = 1 if wv.shape[0] == nb else 0
    for j in range(nb):
        if not lo <= post_sel[post[i0 + j]] < hi:
            continue
        r = pre_sel[pre[i0 + j]]
        pos = cursor[r]
        cursor[r] = pos + 1
        off[pos] = steps[j * ss] * n_post_pop + post_sel[post[i0 + j]]
        if wv.shape[0]:
            w[pos] = wv[j * sw]
