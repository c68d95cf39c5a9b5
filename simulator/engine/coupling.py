"""Lowering of continuous couplings (:mod:`axonforge.coupling`): summed inputs in phase
A and the snapshots they read, taken in phase C.

Before population ``P`` is updated in step ``k``, each worker sets, for its own targets
``lo <= i < hi``, every summed variable to the sum over the synapses onto ``i`` (in the
target-sorted order: source by source) of the coupling's expression, reading neuron
state from ``snap_<var>`` arrays. At the end of each step's phase C each worker copies
its own range of those variables into the snapshots; the barrier after phase C (threads)
or the snapshot exchange (MPI ranks) makes them complete before the next step reads
them. So every worker reads the same values in the same order for any split.
"""

from __future__ import annotations

from axonforge.engine import ir
from axonforge.engine.ir import X, aug, loop, subst

w = X.name("w")
i, q = X.name("i"), X.name("q")


def summed_inputs(args, plan, P) -> list:
    """Statements setting population ``P``'s summed variables (one step, own range)."""
    couplings = [(J, p) for J, p in enumerate(plan.projs) if p.summed and p.post == P]
    if not couplings:
        return []
    lo, hi = args.pop(P, "lo", "i64", ("workers",))[w], args.pop(P, "hi", "i64", ("workers",))[w]
    targets = list(dict.fromkeys(t for _J, p in couplings for t, _e in p.summed))
    body = [ir.assign(f"acc_{t}", 0.0) for t in targets]
    for J, p in couplings:
        tptr = args.proj(J, "tptr", "i64", ("n_post+1",))
        tidx = args.proj(J, "tidx", "i64", ("synapses",))
        tsrc = args.proj(J, "tsrc", "i32", ("synapses",))
        weights = args.proj(J, "w", "state", ("synapses",))
        src = X.name("src")
        names = {"w": weights[X.name("s")]}
        pre_state = plan.pops[p.pre].checked.spec.state
        post_state = plan.pops[P].checked.spec.state
        names.update({f"{v}_pre": args.pop(p.pre, f"snap_{v}", "state", ("n",))[src]
                      for v in pre_state if v in plan.pops[p.pre].snapshots})  # fmt: skip
        names.update({f"{v}_post": args.pop(P, f"snap_{v}", "state", ("n",))[i]
                      for v in post_state if v in plan.pops[P].snapshots})  # fmt: skip
        inner = [
            ir.assign("s", tidx[q], "int"),
            ir.assign("src", tsrc[q], "int"),
            *(aug(f"acc_{t}", "+", subst(expr, names)) for t, expr in p.summed),
        ]
        body.append(loop("q", tptr[i], tptr[i + 1], inner))
    for t in targets:
        body.append(ir.assign(args.pop(P, f"x_{t}", "state", ("n",))[i], X.name(f"acc_{t}")))
    return [ir.Comment(f"population {P}: summed inputs of couplings"), loop("i", lo, hi, body)]


def _copy_own_range(args, plan, field, prefix) -> list:
    """Each worker copies its own range of population state ``x_<var>`` into
    ``<prefix><var>`` for the variables ``PopPlan.<field>`` lists."""
    out = []
    for P, pop in enumerate(plan.pops):
        variables = getattr(pop, field)
        if not variables:
            continue
        lo = args.pop(P, "lo", "i64", ("workers",))[w]
        hi = args.pop(P, "hi", "i64", ("workers",))[w]
        copies = [
            ir.assign(
                args.pop(P, f"{prefix}{v}", "state", ("n",))[i],
                args.pop(P, f"x_{v}", "state", ("n",))[i],
            )
            for v in variables
        ]
        out.append(loop("i", lo, hi, copies, index=True))
    return out


def snapshots(args, plan) -> list:
    """Phase C, end of a step: each worker copies its own range of the coupled variables
    into their snapshots."""
    return _copy_own_range(args, plan, "snapshots", "snap_")


def publish(args, plan) -> list:
    """Phase A, after the chunk's steps: each worker copies its own range of the state
    that synapse rules of tripartite synapses read (``<var>_astro``) into ``pub_<var>``;
    the barrier after phase A (threads) or the exchange of phase B (MPI ranks) completes
    it before phase C reads it. Rules so read each astrocyte at the end of the chunk, as
    they read ``<var>_post`` of their own targets."""
    return _copy_own_range(args, plan, "published", "pub_")
