"""Lowering of monitors, and the room check that bounds their buffers per chunk.

Spike and rate monitors record in phase C on worker 0, which sees every worker's spikes
in id order. State monitors sample in phase A and weight monitors in phase C, each
worker writing the columns of the neurons or synapses it owns. Buffers are sized for a
bounded number of chunks, not for a whole run: before each chunk, :func:`room` says
whether the chunk's worst case fits, and when it does not the run returns to the host,
which drains the buffers into the monitor's recordings and goes on. Streamed spike
sources use the same return: a window that does not reach the chunk's end is refilled
by the host (:mod:`axonforge.streaming`).

A sampled monitor writes row ``(k + 1) // every - 1 - row0`` at step ``k`` (samples at steps
whose end time is a multiple of ``every*dt``): the row follows from the step, so workers
need no shared counter.
"""

from __future__ import annotations

from axonforge.engine import ir
from axonforge.engine.ir import X, and_, aug, loop, when

k, t, w, gw = (X.name(n) for n in ("k", "t", "w", "gw"))
k0, k1 = X.name("k0"), X.name("k1")


def room(args, plan) -> list:
    """Statements that set ``fits`` to False when some monitor's buffer cannot take the
    chunk ``k0 .. k1`` (worst case), or when a streamed spike source has not loaded every
    step of it (``sched_end``: its first step not loaded completely)."""
    out = [ir.assign("fits", True, "bool")]
    for P, pop in enumerate(plan.pops):
        if pop.kind == "stream":
            loaded = args.pop(P, "sched_end", "i64", (1,))
            out.append(when(loaded[0] < k1, [ir.assign("fits", False, "bool")]))
    for M, mon in enumerate(plan.mons):
        if mon.kind == "spikes":
            cnt = args.mon(M, "cnt", "i64", (1,))
            cap, nsel = args.mon(M, "cap", "int"), args.mon(M, "nsel", "int")
            full = cnt[0] + nsel * (k1 - k0) > cap
        elif mon.kind == "rate":
            base, rows = args.mon(M, "base", "i64", (1,)), args.mon(M, "rows", "int")
            full = k1 - base[0] > rows
        else:
            row0, rows = args.mon(M, "row0", "i64", (1,)), args.mon(M, "rows", "int")
            every = args.mon(M, "every", "int")
            full = k1 // every - row0[0] > rows
        out.append(when(full, [ir.assign("fits", False, "bool")]))
    return out


def phase_c_monitors(args, plan) -> list:
    """Per step in phase C: spike and rate monitors (worker 0), weight monitors (each
    worker its own synapses)."""
    out = []
    recorded = []
    for M, mon in enumerate(plan.mons):
        if mon.kind == "spikes":
            recorded += _spikes(args, M, mon, plan)
        elif mon.kind == "rate":
            recorded += _rate(args, M, mon, plan)
        elif mon.kind == "weights":
            out += _weights(args, M, mon, plan)
    if recorded:
        out.append(when(w.eq(0), recorded))
    return out


def phase_a_monitors(args, plan) -> list:
    out = []
    for M, mon in enumerate(plan.mons):
        if mon.kind == "state":
            P = mon.pop
            lo = args.pop(P, "lo", "i64", ("workers",))[w]
            hi = args.pop(P, "hi", "i64", ("workers",))[w]
            ids = args.mon(M, "ids", "i64", ("nids",))
            reads = {v: args.pop(P, f"x_{v}", "state", ("n",)) for v in mon.variables}
            own = and_(ids[X.name("z")] >= lo, ids[X.name("z")] < hi)
            out += _sampled(args, M, f"state of population {P}", reads, own)
    return out


def _sampled(args, M, what, reads, own) -> list:
    every = args.mon(M, "every", "int")
    row0 = args.mon(M, "row0", "i64", (1,))
    ids = args.mon(M, "ids", "i64", ("nids",))
    nids = args.mon(M, "nids", "int")
    steps = args.mon(M, "steps", "i64", ("rows",))
    z, r = X.name("z"), X.name("r")
    bufs = {v: args.mon(M, f"v_{v}", "state", ("rows", "nids")) for v in reads}
    store = [ir.assign(bufs[v][r, z], read[ids[z]]) for v, read in reads.items()]
    return [
        ir.Comment(f"monitor {M}: {what}"),
        when(
            ((k + 1) % every).eq(0),
            [
                ir.assign("r", (k + 1) // every - 1 - row0[0], "int"),
                when(w.eq(0), [ir.assign(steps[r], k, "int")]),
                loop("z", 0, nids, [when(own, store)]),
            ],
        ),
    ]


class _Indexed:
    """``read[q]`` for a synapse variable given by a function of the index."""

    def __init__(self, fn):
        self.fn = fn

    def __getitem__(self, q):
        return self.fn(q)


def _weights(args, M, mon, plan) -> list:
    from axonforge.engine import synapses

    J = mon.proj
    proj = plan.projs[J]
    c = proj.plastic
    reads = {}
    for v in mon.variables:
        if c is None:
            reads[v] = args.proj(J, "w", "f32", ("synapses",))
        elif v in c.spec.eligibility:
            E = args.proj(J, f"E_{v}", "f64", ("synapses",))
            f = X.name(f"f{J}_{v}")
            reads[v] = _Indexed(lambda q, E=E, f=f: E[q] * f)
        elif v == "w" and c.eligibility is not None:
            reads[v] = _Indexed(lambda q: synapses.sync_weight_expr(args, J, proj, q))
        else:
            reads[v] = args.proj(J, f"s_{v}", "state", ("synapses",))
    off = args.proj(J, "off", "i32", ("synapses",))
    n_post = args.pop(proj.post, "n", "int")
    lo = args.pop(proj.post, "lo", "i64", ("workers",))[w]
    hi = args.pop(proj.post, "hi", "i64", ("workers",))[w]
    q = args.mon(M, "ids", "i64", ("nids",))[X.name("z")]
    target = off[q] % n_post
    # under MPI a monitored synapse kept by another rank has index -1 here
    own = and_(q >= 0, target >= lo, target < hi)
    return _sampled(args, M, f"synapse variables of projection {J}", reads, own)


def _spikes(args, M, mon, plan) -> list:
    from axonforge.engine.synapses import each_spike

    P = mon.pop
    where = args.mon(M, "map", "i64", ("n",))
    steps = args.mon(M, "steps", "i64", ("cap",))
    ids = args.mon(M, "ids", "i32", ("cap",))
    cnt = args.mon(M, "cnt", "i64", (1,))
    c, loc = X.name("c"), X.name("loc")
    keep = [ir.assign(steps[c], k, "int"), ir.assign(ids[c], loc, "int")]
    if mon.mult:
        keep.append(ir.assign(args.mon(M, "mult", "i64", ("cap",))[c], X.name("mlt"), "int"))
    keep.append(aug("c", "+", 1))

    def body(src):
        return [ir.assign("loc", where[src], "int"), when(loc >= 0, keep)]

    return [
        ir.Comment(f"monitor {M}: spikes of population {P}"),
        ir.assign("c", cnt[0], "int"),
        each_spike(args, P, body, plan.pops[P].payload if mon.mult else None),
        ir.assign(cnt[0], c, "int"),
    ]


def _rate(args, M, mon, plan) -> list:
    from axonforge.engine.synapses import each_spike

    P = mon.pop
    where = args.mon(M, "map", "i64", ("n",))
    counts = args.mon(M, "counts", "i64", ("rows",))
    base = args.mon(M, "base", "i64", (1,))
    add = X.name("mlt") if mon.mult else X(1)

    def body(src):
        return [when(where[src] >= 0, [aug("c", "+", add)])]

    return [
        ir.Comment(f"monitor {M}: population rate of population {P}"),
        ir.assign("c", 0, "int"),
        each_spike(args, P, body, plan.pops[P].payload if mon.mult else None),
        ir.assign(counts[k - base[0]], X.name("c"), "int"),
    ]
