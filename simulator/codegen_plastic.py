"""Code generation for plasticity: plastic projections, their postsynaptic events and
neuromodulators (the emitters :func:`axonforge.codegen.generate` calls for them).

Per step, for a plastic projection: trace decay factors and re-referencing
(:func:`_plastic_prologue`), then for each presynaptic spike the rule's ``on_pre``
statements and the transmission of every outgoing synapse (:func:`_plastic_projection`),
and after all deliveries the ``on_post`` statements (:func:`_plastic_post`). The state
layout and the exactness arguments are in :mod:`axonforge.plastic`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from axonforge.spec import NumbaPrinter

if TYPE_CHECKING:
    from axonforge.codegen import NetPlan, ProjPlan, _Src


def _synapse_printer(J, proj: ProjPlan, own_side, own_index, other_index):
    """Names for a plastic rule's statements: synapse state, eligibility and own-side
    traces are locals, the other side's traces are read from their stored form
    (``S * f``), ``<var>_pre`` / ``<var>_post`` read neuron state."""
    c = proj.plastic
    spec = c.spec
    names = {k: f"s_{k}" for k in (*spec.state, *spec.eligibility)}
    names.update({p: f"j{J}_p_{p}" for p in spec.parameters})
    for trace, (side, _tau) in c.traces.items():
        names[trace] = (
            f"tr_{trace}" if side == own_side else f"(j{J}_S_{trace}[{other_index}]*f{J}_{trace})"
        )
    for side, pop in (("pre", proj.pre), ("post", proj.post)):
        index = own_index if side == own_side else other_index
        for v in c.neuron_reads[side]:
            names[f"{v}_{side}"] = f"p{pop}_x_{v}[{index}]"
    names["dt"] = "dt"
    return NumbaPrinter(names)


def _modulators(src: _Src, plan: NetPlan):
    """Each modulator: keep this step's starting value for the projections' integrals,
    then decay over the step and add the source's spikes (at the end of the step)."""
    for K, mod in enumerate(plan.mods):
        for a in ("m", "decay", "amount"):
            src.arg(f"md{K}_{a}")
        src.add(2, f"# modulator {K}")
        src.add(2, f"mk{K} = md{K}_m[0]")
        if mod.source < 0:
            src.add(2, f"md{K}_m[0] = mk{K}*md{K}_decay")
            continue
        count = f"nsp_{mod.source}"
        if mod.mult:
            src.add(2, "cnt = 0")
            src.add(2, f"for s in range(nsp_{mod.source}):")
            src.add(3, f"cnt += p{mod.source}_mult[s]")
            count = "cnt"
        src.add(2, f"md{K}_m[0] = mk{K}*md{K}_decay + md{K}_amount*{count}")


def _sync_weight(J, c, q="q", store=True):
    """Lines that bring synapse ``q``'s weight up to date (three-factor rules)."""
    w = (
        f"min(max(j{J}_s_w[{q}] + j{J}_E_{c.eligibility}[{q}]*(g{J} - j{J}_glast[{q}]), "
        f"j{J}_p_w_min), j{J}_p_w_max)"
    )
    if not store:
        return w
    return [f"j{J}_s_w[{q}] = {w}", f"j{J}_glast[{q}] = g{J}"]


def _deferred_sync(J, proj: ProjPlan):
    """Apply synapse ``q``'s pending potentiation ``K*S_i*(Q[j] - qlast)`` (``sold`` holds
    S_i as it was before this spike; see PlasticState.set_deferred)."""
    trace, k, lo, hi = proj.plastic.deferrable
    pr = NumbaPrinter({p: f"j{J}_p_{p}" for p in proj.plastic.spec.parameters})
    w = f"j{J}_s_w[q] + ({pr.expr(k)})*sold*(j{J}_Q[j{J}_tgt[q]] - j{J}_qlast[q])"
    if lo is not None:
        w = f"min(max({w}, {pr.expr(lo)}), {pr.expr(hi)})"
    return [f"j{J}_s_w[q] = {w}"]


def _plastic_prologue(src: _Src, J: int, proj: ProjPlan):
    """Per step: trace decay factors ``f``, re-referencing far from overflow, and for
    three-factor rules the modulation integral ``G`` over this step."""
    from axonforge.plastic import DEFER_RENORM, ELIG_RENORM, RENORM

    c = proj.plastic
    spec = c.spec
    decays = dict(c.traces)
    decays.update({e: ("syn", tau) for e, tau in spec.eligibility.items()})
    if not decays:
        return
    for a in ("ref", "glast", "G"):
        src.arg(f"j{J}_{a}")
    src.add(2, f"e = (k - j{J}_ref[0])*dt")
    limits = [f"{RENORM}*j{J}_p_{tau}" for _side, tau in c.traces.values()]
    limits += [f"{ELIG_RENORM}*j{J}_p_{tau}" for tau in spec.eligibility.values()]
    if proj.deferred:
        limits.append(f"{DEFER_RENORM}*j{J}_p_{c.traces[c.deferrable[0]][1]}")
    limits = list(dict.fromkeys(limits))
    limit = limits[0] if len(limits) == 1 else "min(" + ", ".join(limits) + ")"
    src.add(2, f"if e > {limit}:")
    if c.eligibility is not None:
        src.add(3, f"g{J} = j{J}_G[0]")
        src.add(3, f"for q in range(j{J}_s_w.shape[0]):")
        for line in _sync_weight(J, c):
            src.add(4, line)
        src.add(3, f"j{J}_G[0] = 0.0")
        src.add(3, f"j{J}_glast[:] = 0.0")
    if proj.deferred:  # apply all pending potentiation, then restart Q
        src.add(3, f"for i in range(j{J}_S_{c.deferrable[0]}.shape[0]):")
        src.add(4, f"sold = j{J}_S_{c.deferrable[0]}[i]")
        src.add(4, f"for q in range(j{J}_ptr[i], j{J}_ptr[i + 1]):")
        for line in _deferred_sync(J, proj):
            src.add(5, line)
        src.add(5, f"j{J}_qlast[q] = 0.0")
        src.add(3, f"j{J}_Q[:] = 0.0")
    for name, (_side, tau) in decays.items():
        arr = f"j{J}_E_{name}" if name in spec.eligibility else f"j{J}_S_{name}"
        src.add(3, f"fr = math.exp(-e/j{J}_p_{tau})")
        src.add(3, f"for z in range({arr}.shape[0]):")
        src.add(4, f"{arr}[z] *= fr")
    src.add(3, f"j{J}_ref[0] = k")
    src.add(3, "e = 0.0")
    for name, (_side, tau) in decays.items():
        src.add(2, f"f{J}_{name} = math.exp(-e/j{J}_p_{tau})")
    if c.eligibility is not None:
        pr = NumbaPrinter({p: f"j{J}_p_{p}" for p in spec.parameters})
        tau = f"j{J}_p_{spec.eligibility[c.eligibility]}"
        for a in ("gm", "gb"):
            src.arg(f"j{J}_{a}")
        # the step's events sit at its end, one step after the reference of its factor
        src.add(
            2,
            f"j{J}_G[0] += math.exp((dt - e)/{tau})*(({pr.expr(c.mod_alpha)})*mk{proj.mod}"
            f"*j{J}_gm + ({pr.expr(c.mod_beta)})*j{J}_gb)",
        )
        src.add(2, f"g{J} = j{J}_G[0]")


def _plastic_projection(src: _Src, J: int, proj: ProjPlan):
    """Delivery with an on_pre rule per outgoing synapse; on_post runs later in the step
    (see :func:`_plastic_post`). Traces are read as ``S * f`` (axonforge.plastic)."""
    c = proj.plastic
    spec = c.spec
    for a in ("ptr", "off") + (("tgt",) if c.needs_targets or proj.deferred else ()):
        src.arg(f"j{J}_{a}")
    if proj.deferred:
        src.arg(f"j{J}_Q")
        src.arg(f"j{J}_qlast")
    for k in spec.state:
        src.arg(f"j{J}_s_{k}")
    for t in c.traces:
        src.arg(f"j{J}_S_{t}")
    for e in spec.eligibility:
        src.arg(f"j{J}_E_{e}")
    for p in spec.parameters:
        src.arg(f"j{J}_p_{p}")
    for side, P in (("pre", proj.pre), ("post", proj.post)):
        for v in c.neuron_reads[side]:
            src.arg(f"p{P}_x_{v}")
    src.add(
        2,
        f"# projection {J}: population {proj.pre} -> {proj.post}, port {proj.port}, "
        f"plastic {spec.name}",
    )
    _plastic_prologue(src, J, proj)
    src.add(2, f"base = slot*n_{proj.post}")
    src.add(2, f"wrap = L*n_{proj.post}")
    pr = _synapse_printer(J, proj, "pre", "src_i", f"j{J}_tgt[q]")
    src.add(2, f"for s in range(nsp_{proj.pre}):")
    src.add(3, f"src_i = p{proj.pre}_spk[s]")
    ind = 3
    if proj.pre_mult:  # a Poisson count of k is k spikes, each with its own updates
        src.add(3, f"for _rep in range(p{proj.pre}_mult[s]):")
        ind = 4
    loop = f"range(j{J}_ptr[src_i], j{J}_ptr[src_i + 1])"
    _emit_side(src, J, proj, pr, c.pre, "pre", "src_i", ind, loop, f"p{proj.post}_rb_{proj.port}")


def _emit_side(src, J, proj, pr, side, where, index, ind, loop, rb=None):
    """Own traces once per spike, statements in order (trace statements before and after
    the synapse loop), and for presynaptic events the transmission of each synapse."""
    c = proj.plastic
    own = [t for t, (sd, _tau) in c.traces.items() if sd == where]
    deferred = proj.deferred and where == "pre"
    if deferred:
        src.add(ind, f"sold = j{J}_S_{c.deferrable[0]}[{index}]")
    for t in own:
        src.add(ind, f"tr_{t} = j{J}_S_{t}[{index}]*f{J}_{t}")
    for tgt, op, node in side.before:
        src.add(ind, pr.stmt(tgt, op, node))
    if (side.syn and not (proj.deferred and where == "post")) or where == "pre":
        src.add(ind, f"for {'q' if where == 'pre' else 'r'} in {loop}:")
        body = ind + 1
        if where == "post":
            src.add(body, f"q = j{J}_tidx[r]")
        if c.eligibility is not None:
            for line in _sync_weight(J, c):
                src.add(body, line)
        if deferred:
            for line in _deferred_sync(J, proj):
                src.add(body, line)
            src.add(body, f"j{J}_qlast[q] = j{J}_Q[j{J}_tgt[q]]")
        for k in c.spec.state:
            src.add(body, f"s_{k} = j{J}_s_{k}[q]")
        for e in c.spec.eligibility:
            src.add(body, f"s_{e} = j{J}_E_{e}[q]*f{J}_{e}")
        for tgt, op, node in side.syn:
            src.add(body, pr.stmt(tgt, op, node))
        for tgt in dict.fromkeys(t for t, _op, _n in side.syn):
            if tgt in c.spec.eligibility:
                src.add(body, f"j{J}_E_{tgt}[q] = s_{tgt}/f{J}_{tgt}")
            else:
                src.add(body, f"j{J}_s_{tgt}[q] = s_{tgt}")
        if where == "pre":
            src.add(body, f"a = base + j{J}_off[q]")
            src.add(body, "if a >= wrap:")
            src.add(body + 1, "a -= wrap")
            src.add(body, f"{rb}[a] += {pr.expr(c.transmit)}")
    for tgt, op, node in side.after:
        src.add(ind, pr.stmt(tgt, op, node))
    for t in own:
        src.add(ind, f"j{J}_S_{t}[{index}] = tr_{t}/f{J}_{t}")
    if proj.deferred and where == "post":  # potentiation waits for the next pre spike
        src.add(ind, f"j{J}_Q[{index}] += f{J}_{c.deferrable[0]}")


def _plastic_post(src: _Src, J: int, proj: ProjPlan):
    """on_post of a plastic projection: for each postsynaptic spike of this step, update
    the neuron's traces and visit its incoming synapses through the target-sorted index."""
    c = proj.plastic
    side = c.post
    if not (side.before or side.syn or side.after):
        return
    if side.syn and not proj.deferred:
        for a in ("tptr", "tidx", "tsrc"):
            src.arg(f"j{J}_{a}")
    src.add(2, f"# projection {J}: postsynaptic events ({c.spec.name})")
    pr = _synapse_printer(J, proj, "post", "t_i", f"j{J}_tsrc[r]")
    src.add(2, f"for s in range(nsp_{proj.post}):")
    src.add(3, f"t_i = p{proj.post}_spk[s]")
    loop = f"range(j{J}_tptr[t_i], j{J}_tptr[t_i + 1])"
    _emit_side(src, J, proj, pr, side, "post", "t_i", 3, loop)
