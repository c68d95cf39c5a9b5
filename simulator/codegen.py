"""Code generation: a network's structure -> the source of one compiled chunk loop.

The generated function ``run_chunk(k0, k1, L, seed, ...)`` advances the whole network
from step ``k0`` to ``k1`` with no Python in between. Per step ``k`` (DESIGN.md, "The
engine"):

1. every neuron population integrates its state over ``dt`` (exact propagator or a named
   Runge-Kutta method), reads its ring-buffer slot ``k % L`` for each receptor port and
   applies the port statement, tests the threshold, resets and starts refractoriness;
   sources emit their scheduled or Poisson spikes;
2. every projection walks the outgoing synapses of this step's spikes only (CSR by
   source) and adds weights into the target ring buffer at ``k + delay`` (ring buffers
   are flattened ``(L, n)`` arrays; a synapse stores its offset ``delay*n + target``);
3. monitors record.

A spike emitted in step ``k`` carries time ``(k+1)*dt``; with delay ``D`` steps it is read
in step ``k + D``, the step that ends at ``t + D*dt`` (NEST's convention).

Only structure is printed into the source: parameter values, weights, delays and sizes
are arguments, so new values never recompile. The returned ``(status, step, pop, index)``
is ``(0, k1, ...)`` when done, ``(1, k, ...)`` when a spike monitor buffer needs to grow
before step ``k``, and ``(2, k, pop, i)`` when neuron ``i`` of population ``pop`` got a
non-finite state in step ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axonforge import propagators
from axonforge.codegen_plastic import _modulators, _plastic_post, _plastic_projection, _sync_weight
from axonforge.spec import CheckedSpec, NumbaPrinter


@dataclass
class PopPlan:
    """Structure of one population as the generator needs it."""

    kind: str  # "neuron" | "spikes" | "poisson" | "noise"
    n_name: str
    checked: CheckedSpec | None = None
    ports_used: tuple = ()
    #: argument names (without the ``pP_`` prefix) passed as scalars because their value
    #: is the same for every neuron; part of the structure, so a sweep over values does not
    #: recompile, while a switch between uniform and per-neuron does.
    uniform: frozenset = frozenset()
    noise: str = "normal"  # distribution of a NoiseSource


@dataclass
class ProjPlan:
    pre: int
    post: int
    port: str
    pre_mult: bool  # pre population can emit several spikes per source per step
    plastic: object = None  # an axonforge.plastic.CheckedSynapse for plastic projections
    mod: int = -1  # index of the modulator a three-factor rule reads
    deferred: bool = False  # potentiation applied at the next presynaptic spike


@dataclass
class MonPlan:
    kind: str  # "spikes" | "state" | "rate" | "weights"
    pop: int
    variables: tuple = ()
    mult: bool = False
    proj: int = -1  # for "weights"


@dataclass
class ModPlan:
    source: int  # population whose spikes raise the concentration, or -1
    mult: bool  # the source emits spike counts (Poisson)


@dataclass
class NetPlan:
    pops: list = field(default_factory=list)
    projs: list = field(default_factory=list)
    mons: list = field(default_factory=list)
    mods: list = field(default_factory=list)


class _Src:
    def __init__(self):
        self.lines = []
        self.args = []

    def add(self, indent, text):
        self.lines.append("    " * indent + text)

    def arg(self, name):
        self.args.append(name)
        return name


def _neuron_update(src: _Src, P: int, pop: PopPlan):
    """Emit the update of neuron population ``P`` as two loops.

    The first loop is branch-free so LLVM can vectorise it: integrate, read and clear the
    ring-buffer slot, apply port statements, and flag threshold crossings; non-finite
    states are caught by one summed reduction. The second loop visits flagged neurons only
    (eight flags at a time), resets them and appends them to the spike list.
    """
    c = pop.checked
    spec = c.spec
    pre = f"p{P}_"
    state = list(spec.state)
    ode = c.ode_vars
    has_refr = spec.refractory is not None
    clamped = set(spec.clamped) if has_refr else set()
    for v in state:
        src.arg(f"{pre}x_{v}")
    for p in spec.parameters:
        src.arg(f"{pre}p_{p}")
    src.arg(f"{pre}until")
    if has_refr:
        src.arg(f"{pre}refsteps")
    for port in pop.ports_used:
        src.arg(f"{pre}rb_{port}")
    src.arg(f"{pre}spk")
    src.arg(f"{pre}fire")
    names = {v: f"x_{v}" for v in state}

    def elem(arg):
        return f"{pre}{arg}" if arg in pop.uniform else f"{pre}{arg}[i]"

    names.update({p: elem(f"p_{p}") for p in spec.parameters})
    names["dt"] = "dt"
    pr = NumbaPrinter(names)

    src.add(2, f"# population {P}: {spec.name}, method {c.method}")
    src.add(2, "acc = 0.0")
    src.add(2, "nfire = 0")
    # this step's ring-buffer slot, as a row view (indexing it by the loop variable keeps
    # the loop vectorisable; a computed flat index does not)
    for port in pop.ports_used:
        src.add(2, f"row_{P}_{port} = {pre}rb_{port}[slot*{pop.n_name}:(slot + 1)*{pop.n_name}]")
    src.add(2, f"for i in range({pop.n_name}):")
    for v in state:
        src.add(3, f"x_{v} = {pre}x_{v}[i]")
    if has_refr:
        # refractory until step ``until``: written only at a spike, never per step
        src.add(3, f"active = k >= {pre}until[i]")
    if c.method == "exact":
        normal, refr_rows, separate = propagators.structure(c)
        m = len(ode)

        def combo(j, rows, prefix):
            terms = []
            for col in rows[j]:
                src.arg(f"{pre}{prefix}_{j}_{col}")
                coef = elem(f"{prefix}_{j}_{col}")
                terms.append(coef if col == m else f"{coef}*x_{ode[col]}")
            return " + ".join(terms) if terms else "0.0"

        for j, v in enumerate(ode):
            full = combo(j, normal, "c")
            if v in clamped:
                src.add(3, f"n_{v} = ({full}) if active else x_{v}")
            elif clamped and separate and j in refr_rows:
                src.add(3, f"n_{v} = ({full}) if active else ({combo(j, refr_rows, 'r')})")
            else:
                src.add(3, f"n_{v} = {full}")
        for v in ode:
            src.add(3, f"x_{v} = n_{v}")
    else:
        _runge_kutta(src, c, pr, state, clamped)

    for port in pop.ports_used:
        tgt, op, node = c.ports[port]
        src.add(3, f"w_in = row_{P}_{port}[i]")
        src.add(3, f"row_{P}_{port}[i] = 0.0")
        if tgt in clamped:
            src.add(3, "if not active:")
            src.add(4, "w_in = 0.0")
        src.add(3, pr.stmt(tgt, op, node))
    for v in state:
        src.add(3, f"{pre}x_{v}[i] = x_{v}")
    # a sum is NaN/inf iff a term is: one vectorisable reduction guards every variable
    # that integration or input changes (none, for a spec without equations and ports)
    guarded = list(dict.fromkeys([*ode, *(c.ports[p][0] for p in pop.ports_used)]))
    for v in guarded:
        src.add(3, f"acc += x_{v}")
    if c.threshold is not None:
        cond = pr.expr(c.threshold)
        src.add(3, f"f = {'active and ' if has_refr else ''}({cond})")
        src.add(3, f"{pre}fire[i] = f")
        src.add(3, "nfire += f")
    # an ordered comparison is false for NaN and inf (x - x == 0 could be folded away)
    if guarded:
        src.add(2, "if not (abs(acc) < math.inf):")
        src.add(3, f"for i in range({pop.n_name}):")
        bad = " or ".join(f"not (abs({pre}x_{v}[i]) < math.inf)" for v in guarded)
        src.add(4, f"if {bad}:")
        src.add(5, f"return 2, k, {P}, i")
    src.add(2, f"nsp_{P} = 0")
    if c.threshold is None:
        return
    # visit flagged neurons eight flags at a time, and stop once all nfire are found
    src.add(2, f"fire8 = {pre}fire.view(np.uint64)")
    src.add(2, "blk = 0")
    src.add(2, f"while nsp_{P} < nfire:")
    src.add(3, "if fire8[blk] != 0:")
    src.add(4, "for i in range(8*blk, 8*blk + 8):")
    src.add(5, f"if {pre}fire[i]:")
    src.add(6, f"{pre}fire[i] = False")
    reset_vars = [t for t, _op, _node in c.reset]
    for v in dict.fromkeys(reset_vars):
        src.add(6, f"x_{v} = {pre}x_{v}[i]")
    used = set().union(*(_names_in(node) for _t, _o, node in c.reset)) if c.reset else set()
    for v in state:
        if v in used and v not in reset_vars:
            src.add(6, f"x_{v} = {pre}x_{v}[i]")
    for tgt, op, node in c.reset:
        src.add(6, pr.stmt(tgt, op, node))
    for v in dict.fromkeys(reset_vars):
        src.add(6, f"{pre}x_{v}[i] = x_{v}")
    if has_refr:
        src.add(6, f"{pre}until[i] = k + 1 + {pre}refsteps[i]")
    src.add(6, f"{pre}spk[nsp_{P}] = i")
    src.add(6, f"nsp_{P} += 1")
    src.add(3, "blk += 1")


def _names_in(node):
    import ast

    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _runge_kutta(src, c: CheckedSpec, pr: NumbaPrinter, state, clamped):
    """Emit euler / rk2 / rk4 for the ODE vars; clamped vars get zero slope when refractory."""
    ode = c.ode_vars

    def slopes(tag, at):
        names = dict(pr.names)
        names.update({v: f"{at}_{v}" for v in ode} if at != "x" else {})
        stage = NumbaPrinter(names)
        for v in ode:
            expr = stage.expr(c.odes[v])
            if v in clamped:
                src.add(3, f"{tag}_{v} = ({expr}) if active else 0.0")
            else:
                src.add(3, f"{tag}_{v} = {expr}")

    def point(name, base_slope, factor):
        for v in ode:
            src.add(3, f"{name}_{v} = x_{v} + {factor}*dt*{base_slope}_{v}")

    if c.method == "euler":
        slopes("k1", "x")
        for v in ode:
            src.add(3, f"x_{v} += dt*k1_{v}")
    elif c.method == "rk2":
        slopes("k1", "x")
        point("y1", "k1", 0.5)
        slopes("k2", "y1")
        for v in ode:
            src.add(3, f"x_{v} += dt*k2_{v}")
    elif c.method == "rk4":
        slopes("k1", "x")
        point("y1", "k1", 0.5)
        slopes("k2", "y1")
        point("y2", "k2", 0.5)
        slopes("k3", "y2")
        point("y3", "k3", 1.0)
        slopes("k4", "y3")
        for v in ode:
            src.add(3, f"x_{v} += dt*(k1_{v} + 2.0*k2_{v} + 2.0*k3_{v} + k4_{v})/6.0")
    else:  # pragma: no cover - check_spec validates the method
        raise ValueError(c.method)


def _spike_source(src: _Src, P: int, pop: PopPlan):
    pre = f"p{P}_"
    for a in ("sched_step", "sched_id", "pos", "spk"):
        src.arg(f"{pre}{a}")
    src.add(2, f"# population {P}: spike source (replay)")
    src.add(2, f"nsp_{P} = 0")
    src.add(2, f"q = {pre}pos[0]")
    src.add(2, f"nq = {pre}sched_step.shape[0]")
    src.add(2, f"while q < nq and {pre}sched_step[q] < k:")
    src.add(3, "q += 1")
    src.add(2, f"while q < nq and {pre}sched_step[q] == k:")
    src.add(3, f"{pre}spk[nsp_{P}] = {pre}sched_id[q]")
    src.add(3, f"nsp_{P} += 1")
    src.add(3, "q += 1")
    src.add(2, f"{pre}pos[0] = q")


def _poisson_source(src: _Src, P: int, pop: PopPlan):
    """Poisson counts by inversion of one counter-based uniform per source and step. With
    a rate shared by all sources the count is ``sum_j (u > cdf[g, j])`` over a table,
    which has no data-dependent branches (5x faster than the sequential search)."""
    pre = f"p{P}_"
    shared = "lam" in pop.uniform
    args = (
        ("seg_step", "cdf", "seg", "stream", "spk", "mult")
        if shared
        else ("seg_step", "lam", "explam", "seg", "stream", "spk", "mult")
    )
    for a in args:
        src.arg(f"{pre}{a}")
    src.add(2, f"# population {P}: Poisson source ({'shared' if shared else 'per-source'} rate)")
    src.add(2, f"nsp_{P} = 0")
    src.add(2, f"g = {pre}seg[0]")
    src.add(2, f"while g + 1 < {pre}seg_step.shape[0] and {pre}seg_step[g + 1] <= k:")
    src.add(3, "g += 1")
    src.add(2, f"{pre}seg[0] = g")
    src.add(2, f"key = step_key(seed, {pre}stream, k)")
    if shared:
        src.add(2, f"table = {pre}cdf[g]")
    src.add(2, f"for i in range({pop.n_name}):")
    if shared:
        src.add(3, "u = uniform(key, i)")
        src.add(3, "cnt = 0")
        src.add(3, "for j in range(table.shape[0]):")
        src.add(4, "cnt += u > table[j]")
    else:
        src.add(3, f"cnt = poisson(key, i, {pre}lam[g, i], {pre}explam[g, i])")
    # branch-free compaction: write unconditionally, advance only for a nonzero count
    src.add(3, f"{pre}spk[nsp_{P}] = i")
    src.add(3, f"{pre}mult[nsp_{P}] = cnt")
    src.add(3, f"nsp_{P} += cnt > 0")


def _noise_source(src: _Src, P: int, pop: PopPlan):
    pre = f"p{P}_"
    for a in ("period", "mean", "std", "stream", "spk", "mult"):
        src.arg(f"{pre}{a}")
    src.add(2, f"# population {P}: {pop.noise} noise source")
    src.add(2, f"nsp_{P} = 0")
    src.add(2, f"if (k + 1) % {pre}period == 0:")
    src.add(3, f"key = step_key(seed, {pre}stream, k)")
    src.add(3, f"for i in range({pop.n_name}):")
    src.add(4, f"{pre}spk[i] = i")
    draw = (
        "normal(key, i)" if pop.noise == "normal" else "3.4641016151377544*(uniform(key, i) - 0.5)"
    )
    src.add(4, f"{pre}mult[i] = {pre}mean + {pre}std*{draw}")
    src.add(3, f"nsp_{P} = {pop.n_name}")


def _projection(src: _Src, J: int, proj: ProjPlan):
    if proj.plastic is not None:
        return _plastic_projection(src, J, proj)
    pre, post = f"p{proj.pre}_", f"p{proj.post}_"
    for a in ("ptr", "off", "w"):
        src.arg(f"j{J}_{a}")
    rb = f"{post}rb_{proj.port}"
    n_post = f"n_{proj.post}"
    src.add(2, f"# projection {J}: population {proj.pre} -> {proj.post}, port {proj.port}")
    src.add(2, f"base = slot*{n_post}")
    src.add(2, f"wrap = L*{n_post}")
    src.add(2, f"for s in range(nsp_{proj.pre}):")
    src.add(3, f"src_i = {pre}spk[s]")
    if proj.pre_mult:
        src.add(3, f"mlt = {pre}mult[s]")
    src.add(3, f"for q in range(j{J}_ptr[src_i], j{J}_ptr[src_i + 1]):")
    # off = delay*n_post + target, so base + off < 2*wrap: one subtraction wraps it
    src.add(4, f"a = base + j{J}_off[q]")
    src.add(4, "if a >= wrap:")
    src.add(5, "a -= wrap")
    w = f"j{J}_w[q]*mlt" if proj.pre_mult else f"j{J}_w[q]"
    src.add(4, f"{rb}[a] += {w}")


def _monitor_check(src: _Src, M: int, mon: MonPlan, plan: NetPlan):
    if mon.kind == "spikes":
        src.add(2, f"if m{M}_cnt[0] + p{mon.pop}_spk.shape[0] > m{M}_steps.shape[0]:")
        src.add(3, "return 1, k, -1, -1")


def _monitor(src: _Src, M: int, mon: MonPlan, plan: NetPlan):
    P = mon.pop
    m = f"m{M}_"
    if mon.kind == "spikes":
        for a in ("map", "steps", "ids", "cnt") + (("mult",) if mon.mult else ()):
            src.arg(m + a)
        src.add(2, f"# monitor {M}: spikes of population {P}")
        src.add(2, f"c = {m}cnt[0]")
        src.add(2, f"for s in range(nsp_{P}):")
        src.add(3, f"loc = {m}map[p{P}_spk[s]]")
        src.add(3, "if loc >= 0:")
        src.add(4, f"{m}steps[c] = k")
        src.add(4, f"{m}ids[c] = loc")
        if mon.mult:
            src.add(4, f"{m}mult[c] = p{P}_mult[s]")
        src.add(4, "c += 1")
        src.add(2, f"{m}cnt[0] = c")
    elif mon.kind == "state":
        _sampled_monitor(
            src, m, f"state of population {P}", {v: f"p{P}_x_{v}[{{i}}]" for v in mon.variables}
        )
    elif mon.kind == "weights":
        J = mon.proj
        c = plan.projs[J].plastic
        reads = {}
        for v in mon.variables:
            if c is None:
                reads[v] = f"j{J}_w[{{i}}]"
            elif v in c.spec.eligibility:
                reads[v] = f"j{J}_E_{v}[{{i}}]*f{J}_{v}"
            elif v == "w" and c.eligibility is not None:
                reads[v] = _sync_weight(J, c, "{i}", store=False)  # up to date, not stored
            else:
                reads[v] = f"j{J}_s_{v}[{{i}}]"
        _sampled_monitor(src, m, f"synapse variables of projection {J}", reads)
    elif mon.kind == "rate":
        for a in ("map", "counts", "base"):
            src.arg(m + a)
        src.add(2, f"# monitor {M}: population rate of population {P}")
        src.add(2, "c = 0")
        src.add(2, f"for s in range(nsp_{P}):")
        src.add(3, f"if {m}map[p{P}_spk[s]] >= 0:")
        src.add(4, f"c += {f'p{P}_mult[s]' if mon.mult else 1}")
        src.add(2, f"{m}counts[k - {m}base] = c")


def _sampled_monitor(src: _Src, m: str, what: str, reads: dict):
    """Every ``every`` steps, store ``reads[var]`` (an expression with ``{i}`` for the
    index) of the chosen ids into row ``cnt`` of each buffer (state monitors read neuron
    state, weight monitors per-synapse variables)."""
    for a in ("every", "ids", "steps", "cnt"):
        src.arg(m + a)
    for v in reads:
        src.arg(f"{m}v_{v}")
    src.add(2, f"# monitor: {what}")
    src.add(2, f"if (k + 1) % {m}every == 0:")
    src.add(3, f"c = {m}cnt[0]")
    src.add(3, f"{m}steps[c] = k")
    src.add(3, f"for z in range({m}ids.shape[0]):")
    for v, expr in reads.items():
        src.add(4, f"{m}v_{v}[c, z] = {expr.format(i=f'{m}ids[z]')}")
    src.add(3, f"{m}cnt[0] = c + 1")


def generate(plan: NetPlan) -> tuple[str, list]:
    """Return ``(source, argument names)`` of the chunk kernel for ``plan``."""
    body = _Src()
    for pop in plan.pops:
        body.arg(pop.n_name)
    for M, mon in enumerate(plan.mons):
        _monitor_check(body, M, mon, plan)
    for P, pop in enumerate(plan.pops):
        {
            "neuron": _neuron_update,
            "spikes": _spike_source,
            "poisson": _poisson_source,
            "noise": _noise_source,
        }[pop.kind](body, P, pop)
    _modulators(body, plan)
    for J, proj in enumerate(plan.projs):
        _projection(body, J, proj)
    # postsynaptic plasticity events come after all of this step's deliveries, so a pre
    # and a post spike in the same step count as "post after pre"
    for J, proj in enumerate(plan.projs):
        if proj.plastic is not None:
            _plastic_post(body, J, proj)
    for M, mon in enumerate(plan.mons):
        _monitor(body, M, mon, plan)

    args = list(dict.fromkeys(body.args))
    head = [
        '"""Generated by axonforge (axonforge.codegen); do not edit."""',
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from axonforge.rng import normal, poisson, step_key, uniform",
        "",
        "",
        # contract (FMA), reassoc and nsz speed up the neuron loop and keep IEEE NaN/inf
        # semantics, which the non-finite-state guard relies on (no nnan/ninf/afn)
        "@njit(cache=True, nogil=True, error_model='numpy',",
        "      fastmath={'contract', 'reassoc', 'nsz'})",
        "def run_chunk(k0, k1, L, seed, dt,",
    ]
    for i in range(0, len(args), 4):
        head.append("              " + ", ".join(args[i : i + 4]) + ",")
    head.append("              ):")
    loop = ["    for k in range(k0, k1):", "        slot = k % L"]
    tail = ["    return 0, k1, -1, -1", ""]
    return "\n".join(head + loop + body.lines + tail), args
