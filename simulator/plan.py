"""What the engine needs to know of a network: its structure as a NetPlan.

A plan lists, in order, the populations (kind, spec, ports in use, which arguments are
uniform), the projections (pre, post, port, plastic rule), the modulators and the
monitors. Two networks with equal plans share one kernel.
"""

from __future__ import annotations

from axonforge.engine import description as plan_types
from axonforge.monitors import WeightMonitor


def network_plan(net) -> plan_types.NetPlan:
    """The structure of ``net`` as the code generator needs it (sizes and values are
    kernel arguments, not part of it). Also decides which plastic projections defer
    potentiation (not those under a weight monitor)."""
    pops = list(net.populations.values())
    index = {id(p): i for i, p in enumerate(pops)}
    plan = plan_types.NetPlan()
    for pop in pops:
        plan.pops.append(plan_types.PopPlan(pop.kind, uniform=pop.uniform, **pop.plan_fields(net)))
    watched = {id(m.proj) for m in net.monitors.values() if isinstance(m, WeightMonitor)}
    for proj in net.projections.values():
        if proj.plastic is not None:
            # deferred potentiation walks weights in storage order only; a weight
            # monitor reads weights every few steps, so watched projections do not defer
            proj.plastic.set_deferred(id(proj) not in watched)
        plan.projs.append(
            plan_types.ProjPlan(
                index[id(proj.pre_pop)],
                index[id(proj.post_pop)],
                proj.port,
                proj.pre_pop.payload_dtype is not None,
                proj.plastic.checked if proj.plastic is not None else None,
                deferred=proj.plastic is not None and proj.plastic.deferred,
                pre_kind=proj.pre_pop.kind,
                summed=proj.summed.plan() if getattr(proj, "summed", None) else None,
                pre_graded=proj.pre_pop.is_neuron and proj.pre_pop.payload_dtype is not None,
                astro=-1 if proj.astro_pop is None else index[id(proj.astro_pop)],
            )
        )
    mods = list(net.modulators.values())
    for mod in mods:
        src = mod.source
        plan.mods.append(
            plan_types.ModPlan(
                -1 if src is None else index[id(src)], src is not None and src.counts_per_spike
            )
        )
    for J, proj in enumerate(net.projections.values()):
        if proj.plastic is not None and proj.plastic.modulator is not None:
            plan.projs[J].mod = mods.index(proj.plastic.modulator)
    proj_index = {id(p): j for j, p in enumerate(net.projections.values())}
    for mon in net.monitors.values():
        plan.mons.append(
            plan_types.MonPlan(
                mon.kind,
                index[id(mon.pop)],
                mon.plan_variables(),
                mon.pop.counts_per_spike,
                proj_index.get(id(getattr(mon, "proj", None)), -1),
            )
        )
    return plan
