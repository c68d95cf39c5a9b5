"""Lowering of phase C: spike delivery, plasticity events and neuromodulators, per step.

Worker ``w`` delivers the spikes of every worker's buffer (``u`` over the rows of the
pre population's chunk spike buffer, in order, so sources come in ascending id order)
through its own synapses only: a projection's synapses of source ``i`` onto worker
``w``'s targets are ``wptr[i, w] .. wptr[i, w+1]`` (rows of the CSR store are sorted by
target, so each worker's part of a row is contiguous). Each target's additions thus
happen in the canonical order (step, projection, source id, synapse order) whatever the
partition, and no two workers write the same ring-buffer element.

Plasticity (exactness arguments in :mod:`axonforge.plastic`): traces are stored as
``S = x * exp((t - ref)/tau)`` and read as ``S*f`` with one factor per step. State that
every worker needs and that evolves only with spikes every worker sees (presynaptic
traces, the reference step ``ref``, the modulation integral ``G``, modulator
concentrations) is kept as one copy per worker (row ``w``) and updated identically by
each; state of a target (postsynaptic traces, ``Q``) and of a synapse belongs to the
target's worker.
"""

from __future__ import annotations

from axonforge.engine import ir
from axonforge.engine.ir import X, aug, call, loop, subst, ternary, when

k, t, slot, w, gw, dt, L = (X.name(n) for n in ("k", "t", "slot", "w", "gw", "dt", "L"))


def each_spike(args, P, body_of, mult=None):
    """``for u, s``: every spike of population ``P`` in this step, in id order;
    ``body_of(src)`` gives the statements per spike (``src`` the source id; with
    ``mult``, the IR dtype of the pre population's payload (:attr:`PopPlan.payload`),
    ``mlt`` holds its count or amplitude)."""
    spk = args.pop(P, "spk", "i32", ("workers", "cap"))
    sptr = args.pop(P, "sptr", "i64", ("workers", "steps+1"))
    u, s = X.name("u"), X.name("s")
    nbuf = args.pop(P, "nbuf", "int")
    inner = [ir.assign("src_i", spk[u, s], "int")]
    if mult is not None:  # counts or amplitudes per spike
        inner.append(ir.assign("mlt", args.pop(P, "mult", mult, ("workers", "cap"))[u, s]))
    return loop(
        "u", 0, nbuf, [loop("s", sptr[u, t], sptr[u, t + 1], inner + body_of(X.name("src_i")))]
    )


def _own_spikes(args, P, body_of):
    """Spikes of population ``P`` in this step that worker ``w`` owns (its own row)."""
    spk = args.pop(P, "spk", "i32", ("workers", "cap"))
    sptr = args.pop(P, "sptr", "i64", ("workers", "steps+1"))
    s = X.name("s")
    return loop(
        "s",
        sptr[gw, t],
        sptr[gw, t + 1],
        [ir.assign("t_i", spk[gw, s], "int"), *body_of(X.name("t_i"))],
    )


def _transmit(args, proj_plan, J, value) -> list:
    """Add ``value`` into the target's ring buffer ``delay`` steps ahead: ``off = delay*n
    + target``, so ``base + off < 2*wrap`` and one subtraction wraps it."""
    rb = args.pop(proj_plan.post, f"rb_{proj_plan.port}", "state", ("L*n",))
    off = args.proj(J, "off", "i32", ("synapses",))
    a = X.name("a")
    q = X.name("q")
    return [
        ir.assign("a", X.name("base") + off[q], "int"),
        when(a >= X.name("wrap"), [aug("a", "-", X.name("wrap"))]),
        aug(rb[a], "+", value),
    ]


def _row_range(args, J, src):
    wptr = args.proj(J, "wptr", "i64", ("n_pre", "workers+1"))
    return wptr[src, w], wptr[src, w + 1]


def _base(args, proj_plan):
    n_post = args.pop(proj_plan.post, "n", "int")
    return [ir.assign("base", slot * n_post, "int"), ir.assign("wrap", L * n_post, "int")]


def static_projection(args, J: int, proj) -> list:
    weights = args.proj(J, "w", "f32", ("synapses",))
    q = X.name("q")
    value = weights[q] * X.name("mlt") if proj.pre_mult else weights[q]

    def per_spike(src):
        lo, hi = _row_range(args, J, src)
        return [loop("q", lo, hi, _transmit(args, proj, J, value))]

    return [
        ir.Comment(f"projection {J}: population {proj.pre} -> {proj.post}, port {proj.port}"),
        *_base(args, proj),
        each_spike(args, proj.pre, per_spike, proj.pre_payload),
    ]


def modulators(args, plan) -> list:
    """Each modulator (one copy per worker): keep this step's starting value ``mk<K>``
    for the projections' integrals, then decay over the step and add the source's spikes
    (at the end of the step)."""
    out = []
    for K, mod in enumerate(plan.mods):
        m = args.mod(K, "m", "f64", ("workers",))
        decay, amount = args.mod(K, "decay", "float"), args.mod(K, "amount", "float")
        mk = X.name(f"mk{K}")
        out += [ir.Comment(f"modulator {K}"), ir.assign(f"mk{K}", m[w])]
        if mod.source < 0:
            out.append(ir.assign(m[w], mk * decay))
            continue
        sptr = args.pop(mod.source, "sptr", "i64", ("workers", "steps+1"))
        nbuf = args.pop(mod.source, "nbuf", "int")
        u = X.name("u")
        if mod.mult:
            mult = args.pop(mod.source, "mult", "i64", ("workers", "cap"))
            s = X.name("s")
            per_buf = loop("s", sptr[u, t], sptr[u, t + 1], [aug("cnt", "+", mult[u, s])])
        else:
            per_buf = aug("cnt", "+", sptr[u, t + 1] - sptr[u, t])
        out += [
            ir.assign("cnt", 0, "int"),
            loop("u", 0, nbuf, [per_buf]),
            ir.assign(m[w], mk * decay + amount * X.name("cnt")),
        ]
    return out


# ------------------------------------------------------------------------ plasticity
class _Names:
    """Kernel names of one plastic projection's state."""

    def __init__(self, args, J, proj):
        c = proj.plastic
        spec = c.spec
        self.J, self.c, self.spec, self.proj = J, c, spec, proj
        self.params = {p: args.proj(J, f"p_{p}", "float") for p in spec.parameters}
        self.s = {v: args.proj(J, f"s_{v}", "state", ("synapses",)) for v in spec.state}
        self.E = {e: args.proj(J, f"E_{e}", "f64", ("synapses",)) for e in spec.eligibility}
        self.S = {}
        for trace, (side, _tau) in c.traces.items():
            shape = ("workers", "n_pre") if side == "pre" else ("n_post",)
            self.S[trace] = args.proj(J, f"S_{trace}", "f64", shape)
        self.f = {name: X.name(f"f{J}_{name}") for name in (*c.traces, *spec.eligibility)}
        self.g = X.name(f"g{J}")

    def trace(self, trace, index):
        """The stored form of ``trace`` for neuron ``index`` (pre traces: this worker's
        copy)."""
        side = self.c.traces[trace][0]
        return self.S[trace][w, index] if side == "pre" else self.S[trace][index]

    def param(self, node):
        return subst(node, self.params)


def _sync_weight(args, n: _Names, q, store=True):
    """Bring synapse ``q``'s weight up to date (three-factor rules)."""
    glast = args.proj(n.J, "glast", "f64", ("synapses",))
    wv = n.s["w"][q] + n.E[n.c.eligibility][q] * (n.g - glast[q])
    value = call("min", call("max", wv, n.params["w_min"]), n.params["w_max"])
    if not store:
        return value
    return [ir.assign(n.s["w"][q], value), ir.assign(glast[q], n.g)]


def _deferred_sync(args, n: _Names):
    """Apply synapse ``q``'s pending potentiation ``K*S_i*(Q[j] - qlast)`` (``sold``
    holds S_i as it was before this spike; see PlasticState.set_deferred)."""
    trace, kexpr, lo, hi = n.c.deferrable
    q = X.name("q")
    Q = args.proj(n.J, "Q", "f64", ("n_post",))
    qlast = args.proj(n.J, "qlast", "f64", ("synapses",))
    tgt = args.proj(n.J, "tgt", "i32", ("synapses",))
    value = n.s["w"][q] + X(n.param(kexpr)) * X.name("sold") * (Q[tgt[q]] - qlast[q])
    if lo is not None:
        value = call("min", call("max", value, n.param(lo)), n.param(hi))
    return [ir.assign(n.s["w"][q], value)]


def _own_synapses(args, n: _Names, body):
    """``for i, q``: every synapse of this worker (all sources, its part of each row)."""
    n_pre = args.pop(n.proj.pre, "n", "int")
    wptr = args.proj(n.J, "wptr", "i64", ("n_pre", "workers+1"))
    ii = X.name("i")
    return loop("i", 0, n_pre, [loop("q", wptr[ii, w], wptr[ii, w + 1], body)])


def _prologue(args, n: _Names, plan) -> list:
    """Per step: trace decay factors ``f``, re-referencing far from overflow, and for
    three-factor rules the modulation integral ``G`` over this step."""
    from axonforge.plastic import DEFER_RENORM, ELIG_RENORM, RENORM

    c, spec, J, proj = n.c, n.spec, n.J, n.proj
    decays = dict(c.traces)
    decays.update({e: ("syn", tau) for e, tau in spec.eligibility.items()})
    if not decays:
        return []
    ref = args.proj(J, "ref", "i64", ("workers",))
    G = args.proj(J, "G", "f64", ("workers",))
    e = X.name("e")
    out = [ir.assign("e", (k - ref[w]) * dt)]
    limits = [RENORM * n.params[tau] for _side, tau in c.traces.values()]
    limits += [ELIG_RENORM * n.params[tau] for tau in spec.eligibility.values()]
    if proj.deferred:
        limits.append(DEFER_RENORM * n.params[c.traces[c.deferrable[0]][1]])
    unique = {}
    for lim in limits:
        unique.setdefault(ir.ast.unparse(lim.node), lim)
    limit = None
    for lim in unique.values():
        limit = lim if limit is None else call("min", limit, lim)
    renorm = []
    q, ii = X.name("q"), X.name("i")
    if c.eligibility is not None:
        glast = args.proj(J, "glast", "f64", ("synapses",))
        renorm += [ir.assign(f"g{J}", G[w])]
        renorm.append(_own_synapses(args, n, [*_sync_weight(args, n, q), ir.assign(glast[q], 0.0)]))
        renorm.append(ir.assign(G[w], 0.0))
    post_lo = args.pop(proj.post, "lo", "i64", ("workers",))[w]
    post_hi = args.pop(proj.post, "hi", "i64", ("workers",))[w]
    if proj.deferred:  # apply all pending potentiation, then restart Q
        Q = args.proj(J, "Q", "f64", ("n_post",))
        qlast = args.proj(J, "qlast", "f64", ("synapses",))
        sold = [ir.assign("sold", n.trace(c.deferrable[0], ii))]
        wptr = args.proj(J, "wptr", "i64", ("n_pre", "workers+1"))
        renorm.append(
            loop(
                "i",
                0,
                args.pop(proj.pre, "n", "int"),
                [
                    *sold,
                    loop(
                        "q",
                        wptr[ii, w],
                        wptr[ii, w + 1],
                        [*_deferred_sync(args, n), ir.assign(qlast[q], 0.0)],
                    ),
                ],
            )
        )
        renorm.append(loop("z", post_lo, post_hi, [ir.assign(Q[X.name("z")], 0.0)]))
    z = X.name("z")
    for name, (side, tau) in decays.items():
        renorm.append(ir.assign("fr", call("exp", -e / n.params[tau])))
        if name in spec.eligibility:
            renorm.append(_own_synapses(args, n, [aug(n.E[name][q], "*", X.name("fr"))]))
        elif side == "pre":
            n_pre = args.pop(proj.pre, "n", "int")
            renorm.append(loop("z", 0, n_pre, [aug(n.S[name][w, z], "*", X.name("fr"))]))
        else:
            renorm.append(loop("z", post_lo, post_hi, [aug(n.S[name][z], "*", X.name("fr"))]))
    renorm += [ir.assign(ref[w], k, "int"), ir.assign("e", 0.0)]
    out.append(when(e > limit, renorm))
    for name, (_side, tau) in decays.items():
        out.append(ir.assign(f"f{J}_{name}", call("exp", -e / n.params[tau])))
    if c.eligibility is not None:
        tau = n.params[spec.eligibility[c.eligibility]]
        gm, gb = args.proj(J, "gm", "float"), args.proj(J, "gb", "float")
        # the step's events sit at its end, one step after the reference of its factor
        step_integral = call("exp", (dt - e) / tau) * (
            X(n.param(c.mod_alpha)) * X.name(f"mk{proj.mod}") * gm + X(n.param(c.mod_beta)) * gb
        )
        out += [aug(G[w], "+", step_integral), ir.assign(f"g{J}", G[w])]
    return out


def _rule_names(args, n: _Names, own_side, own_index, other_index):
    """Names for a rule's statements: synapse state and eligibility are locals ``s_*``,
    own-side traces locals ``tr_*``, the other side's traces their stored form times the
    factor, ``<var>_pre``/``<var>_post`` the neuron state."""
    c, proj = n.c, n.proj
    names = {v: X.name(f"s_{v}") for v in (*n.spec.state, *n.spec.eligibility)}
    names.update(n.params)
    for trace, (side, _tau) in c.traces.items():
        if side == own_side:
            names[trace] = X.name(f"tr_{trace}")
        elif other_index is not None:
            names[trace] = n.trace(trace, other_index) * n.f[trace]
    for side, P in (("pre", proj.pre), ("post", proj.post)):
        index = own_index if side == own_side else other_index
        if index is None:
            continue
        for v in c.neuron_reads[side]:
            names[f"{v}_{side}"] = args.pop(P, f"x_{v}", "state", ("n",))[index]
    if c.neuron_reads["astro"]:  # per synapse: its astrocyte's published state, or 0
        astro = args.proj(n.J, "astro", "i32", ("synapses",))[X.name("q")]
        for v in c.neuron_reads["astro"]:
            snap = args.pop(proj.astro, f"pub_{v}", "state", ("n",))
            names[f"{v}_astro"] = ternary(astro >= 0, snap[call("max", astro, 0)], 0.0)
    names["dt"] = dt
    return names


def _stmt(names, target, op, node):
    value = subst(node, names)
    tgt = names.get(target, X.name(target))
    return ir.assign(tgt, value) if op == "=" else aug(tgt, op[0], value)


def _side(args, n: _Names, side, where, index, names, synapses, transmit=None) -> list:
    """Own traces once per spike, statements in order (trace statements before and
    after the synapse loop), and for presynaptic events the transmission per synapse."""
    c, J, proj = n.c, n.J, n.proj
    own = [tr for tr, (sd, _tau) in c.traces.items() if sd == where]
    deferred = proj.deferred and where == "pre"
    out = []
    if deferred:
        out.append(ir.assign("sold", n.trace(c.deferrable[0], index)))
    out += [ir.assign(f"tr_{tr}", n.trace(tr, index) * n.f[tr]) for tr in own]
    out += [_stmt(names, tgt, op, node) for tgt, op, node in side.before]
    q = X.name("q")
    if (side.syn and not (proj.deferred and where == "post")) or where == "pre":
        var, lo, hi, head = synapses
        body = list(head)
        if c.eligibility is not None:
            body += _sync_weight(args, n, q)
        if deferred:
            Q = args.proj(J, "Q", "f64", ("n_post",))
            qlast = args.proj(J, "qlast", "f64", ("synapses",))
            tgt = args.proj(J, "tgt", "i32", ("synapses",))
            body += _deferred_sync(args, n)
            body.append(ir.assign(qlast[q], Q[tgt[q]]))
        body += [ir.assign(f"s_{v}", n.s[v][q]) for v in n.spec.state]
        body += [ir.assign(f"s_{e}", n.E[e][q] * n.f[e]) for e in n.spec.eligibility]
        body += [_stmt(names, tgt, op, node) for tgt, op, node in side.syn]
        for tgt in dict.fromkeys(tg for tg, _op, _n in side.syn):
            if tgt in n.spec.eligibility:
                body.append(ir.assign(n.E[tgt][q], X.name(f"s_{tgt}") / n.f[tgt]))
            else:
                body.append(ir.assign(n.s[tgt][q], X.name(f"s_{tgt}")))
        if transmit is not None:
            body += transmit
        out.append(loop(var, lo, hi, body))
    out += [_stmt(names, tgt, op, node) for tgt, op, node in side.after]
    for tr in own:
        stored = n.S[tr][w, index] if c.traces[tr][0] == "pre" else n.S[tr][index]
        out.append(ir.assign(stored, X.name(f"tr_{tr}") / n.f[tr]))
    if proj.deferred and where == "post":  # potentiation waits for the next pre spike
        Q = args.proj(J, "Q", "f64", ("n_post",))
        out.append(aug(Q[index], "+", n.f[c.deferrable[0]]))
    return out


def plastic_projection(args, J: int, proj, plan) -> list:
    """Delivery with the rule's on_pre per outgoing synapse (on_post comes after all of
    the step's deliveries, :func:`plastic_post`)."""
    n = _Names(args, J, proj)
    c = n.c
    q = X.name("q")
    tgt = args.proj(J, "tgt", "i32", ("synapses",)) if c.needs_targets or proj.deferred else None
    out = [
        ir.Comment(
            f"projection {J}: population {proj.pre} -> {proj.post}, port {proj.port}, "
            f"plastic {n.spec.name}"
        ),
        *_prologue(args, n, plan),
        *_base(args, proj),
    ]

    def per_spike(src):
        names = _rule_names(args, n, "pre", src, tgt[q] if tgt is not None else None)
        transmit = _transmit(args, proj, J, subst(c.transmit, names))
        lo, hi = _row_range(args, J, src)
        body = _side(args, n, c.pre, "pre", src, names, ("q", lo, hi, ()), transmit)
        if proj.pre_mult:  # a Poisson count of k is k spikes, each with its own updates
            return [loop("_rep", 0, X.name("mlt"), body)]
        return body

    out.append(each_spike(args, proj.pre, per_spike, proj.pre_payload))
    return out


def plastic_post(args, J: int, proj) -> list:
    """on_post: for each postsynaptic spike of this worker's neurons in this step,
    update the neuron's traces and visit its incoming synapses (target-sorted index)."""
    n = _Names(args, J, proj)
    side = n.c.post
    if not (side.before or side.syn or side.after):
        return []
    r = X.name("r")

    def per_spike(t_i):
        head, lo, hi = (), None, None
        tsrc = None
        if side.syn and not proj.deferred:
            tptr = args.proj(J, "tptr", "i64", ("n_post+1",))
            tidx = args.proj(J, "tidx", "i64", ("synapses",))
            tsrc = args.proj(J, "tsrc", "i32", ("synapses",))
            lo, hi = tptr[t_i], tptr[t_i + 1]
            head = (ir.assign("q", tidx[r], "int"),)
        names = _rule_names(args, n, "post", t_i, tsrc[r] if tsrc is not None else None)
        return _side(args, n, side, "post", t_i, names, ("r", lo, hi, head))

    return [
        ir.Comment(f"projection {J}: postsynaptic events ({n.spec.name})"),
        _own_spikes(args, proj.post, per_spike),
    ]


def sync_weight_expr(args, J, proj, q):
    """The up-to-date weight of synapse ``q`` of a three-factor projection, not stored
    (for weight monitors)."""
    n = _Names(args, J, proj)
    return _sync_weight(args, n, q, store=False)
