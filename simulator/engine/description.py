"""The target-neutral description of a network's kernels: plan, arguments, phases.

:class:`NetPlan` is the network's structure as the lowering needs it (two networks with
equal plans share kernels; sizes and values are arguments). :func:`describe` lowers a
plan into a :class:`KernelDescription`: one :class:`~axonforge.engine.args.ArgTable` and
the bodies of the schedule's phases in the statement form of
:mod:`axonforge.engine.ir`. Backends print and compile it; none of it is text.

The schedule (DESIGN.md, "The engine") is data, :data:`SCHEDULE`, and every backend
follows it, one min-delay chunk of ``D`` steps at a time:

* **S, sources** and **T, early delivery** (kernel, per worker): input sources generate
  the chunk's spikes (each process all it uses), and their static projections deliver
  them at once, so an input's delay does not bound the chunk.
* **A, update** (kernel, per worker): for each step of the chunk, every neuron population
  advances the elements the worker owns and appends ``(step, id)`` of its spikes to its
  chunk spike buffer; state monitors sample.
* **B, exchange** (host): make every worker's buffer visible to every worker: a no-op for
  threads of one process, an ``Allgatherv`` between MPI ranks.
* **C, deliver** (kernel, per worker): for each step of the chunk, in the canonical order
  (step, projection, source id, synapse order), walk the outgoing synapses of the step's
  spikes onto the worker's targets and add them into the ring buffers at ``step +
  delay``; run plasticity on events; spike, rate and weight monitors record.

A chunk is never longer than the smallest delay of what phase C delivers (projections
from neurons, and plastic ones from sources), so a spike delivered in phase C always
lands in a later chunk's step: nothing phase A reads in a chunk depends on the same
chunk's deliveries. Host hooks (step currents, ``set_modulator``, draining monitors,
MPI exchange) run between phases and chunks, never inside one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axonforge.engine import coupling, ir, monitoring, neurons, synapses
from axonforge.engine.args import ArgTable
from axonforge.engine.ir import X, loop
from axonforge.spec import CheckedSpec

#: kind -> IR dtype of the value each buffered spike carries besides its id
_PAYLOAD = {"poisson": "i64", "noise": "f64"}


@dataclass
class PopPlan:
    """Structure of one population as the lowering needs it."""

    kind: str  # "neuron" | "spikes" | "stream" | "poisson" | "noise"
    checked: CheckedSpec | None = None
    ports_used: tuple = ()
    #: argument keys passed as scalars because their value is the same for every neuron;
    #: part of the structure, so a sweep over values does not recompile, while a switch
    #: between uniform and per-neuron does
    uniform: frozenset = frozenset()
    noise: str = "normal"  # distribution of a NoiseSource
    #: state variables kept as a snapshot of the previous step for couplings
    snapshots: tuple = ()
    #: emits a graded output (events carrying a value) instead of spikes
    graded: bool = False
    #: state variables synapse rules read at the end of each chunk (``<var>_astro``)
    published: tuple = ()

    # The plan is data for code generation, so the kind stays a name; what the lowering
    # asks of it is answered here, in one place.
    @property
    def is_neuron(self) -> bool:
        """Updated in phase A, its spikes exchanged (else an input source, phase S)."""
        return self.kind == "neuron"

    @property
    def payload(self) -> str | None:
        """IR dtype of the value a spike carries (a Poisson count, a noise amplitude, a
        graded output)."""
        return "f64" if self.graded else _PAYLOAD.get(self.kind)


@dataclass
class ProjPlan:
    pre: int
    post: int
    port: str
    pre_mult: bool  # pre population can emit several spikes per source per step
    plastic: object = None  # an axonforge.plastic.CheckedSynapse for plastic projections
    mod: int = -1  # index of the modulator a three-factor rule reads
    deferred: bool = False  # potentiation applied at the next presynaptic spike
    pre_kind: str = "neuron"
    #: a coupling instead of spike delivery: ((target variable, expression), ...)
    summed: tuple | None = None
    #: the pre population emits a graded output (values, not spikes)
    pre_graded: bool = False
    #: tripartite synapses: the population of the synapses' astrocytes (rules read
    #: ``<var>_astro`` from its published state), or -1
    astro: int = -1

    @property
    def pre_payload(self) -> str | None:
        """IR dtype of what the pre population's spikes carry (see :class:`PopPlan`)."""
        if not self.pre_mult:
            return None
        return "f64" if self.pre_graded else _PAYLOAD.get(self.pre_kind)


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


@dataclass(frozen=True)
class Phase:
    name: str
    where: str  # "kernel" or "host"
    what: str


SCHEDULE = (
    Phase("S", "kernel", "generate the input sources' spikes of the chunk (own slice)"),
    Phase("T", "kernel", "deliver them through static projections (own targets)"),
    Phase("A", "kernel", "update neurons over the chunk; fill spike buffers"),
    Phase("B", "host", "exchange spike buffers between processes (MPI Allgatherv)"),
    Phase("C", "kernel", "deliver the chunk's spikes in canonical order; plasticity"),
)

#: scalar parameters every kernel function takes first, in this order
COMMON = ("w", "gw", "k0", "k1", "L", "seed", "dt")


@dataclass
class KernelDescription:
    plan: NetPlan
    args: ArgTable
    #: function name -> statements. ``room`` sets the bool ``fits``; ``phase_a`` may
    #: return ``(2, step, population, index)`` for a non-finite state, else falls
    #: through (a backend adds the returns: see :data:`RETURNS`)
    functions: dict
    #: owner ``(kind, index)`` -> what it is in the network (``population 'all' (LIF)``),
    #: for messages about generated code; filled by the engine, not part of the structure
    labels: dict = field(default_factory=dict)


#: what each function returns when its statements fall through
RETURNS = {
    "room": (X.name("fits"),),
    "phase_s": (X(0), X.name("k1"), X(-1), X(-1)),
    "phase_t": (X(0), X.name("k1"), X(-1), X(-1)),
    "phase_a": (X(0), X.name("k1"), X(-1), X(-1)),
    "phase_c": (X(0), X.name("k1"), X(-1), X(-1)),
}


def _per_step(body, first=()):
    """``for k in range(k0, k1)`` with ``t`` (step within the chunk) and ``slot``."""
    k, k0, L = X.name("k"), X.name("k0"), X.name("L")
    head = [ir.assign("t", k - k0, "int"), ir.assign("slot", k % L, "int"), *first]
    return loop("k", k0, X.name("k1"), head + body)


_UPDATES = {
    "neuron": neurons.neuron_update,
    "spikes": neurons.spike_source,
    "stream": neurons.spike_source,  # the same walk over a window refilled by the host
    "poisson": neurons.poisson_source,
    "noise": neurons.noise_source,
}


def ahead(proj: ProjPlan) -> bool:
    """A static projection from an input source: its spikes are generated and delivered
    at the start of their chunk (phases S and T), so its delay does not bound the
    chunk."""
    return not PopPlan(proj.pre_kind).is_neuron and proj.plastic is None and proj.summed is None


def _generate(args, plan, neurons_: bool):
    """The per-step update of the neuron populations (or of the input sources), with the
    chunk spike-buffer pointers (``sptr``) of each step."""
    chosen = [(P, pop) for P, pop in enumerate(plan.pops) if pop.is_neuron == neurons_]
    counts = [ir.assign(f"c_{P}", 0, "int") for P, _pop in chosen]
    mark, close, updates = [], [], []
    for P, pop in chosen:
        sptr = args.pop(P, "sptr", "i64", ("workers", "steps+1"))
        row = neurons.buffer_row(pop)
        mark.append(ir.assign(sptr[row, X.name("t")], X.name(f"c_{P}"), "int"))
        close.append(ir.assign(sptr[row, X.name("k1") - X.name("k0")], X.name(f"c_{P}"), "int"))
        if pop.is_neuron:
            updates += coupling.summed_inputs(args, plan, P)
        updates += _UPDATES[pop.kind](args, P, pop)
    return counts, mark, updates, close


def describe(plan: NetPlan) -> KernelDescription:
    """Lower ``plan`` into the phases' statements and the argument table."""
    args = ArgTable()
    # phase S: input sources over the chunk; phase T: their static projections
    counts, mark, updates, close = _generate(args, plan, False)
    phase_s = [*counts, _per_step(updates, mark), *close] if updates else []
    early = []
    for J, proj in enumerate(plan.projs):
        if ahead(proj):
            early += synapses.static_projection(args, J, proj)
    phase_t = [_per_step(early)] if early else []
    # phase A: neurons
    counts, mark, updates, close = _generate(args, plan, True)
    phase_a = [
        *counts,
        _per_step(updates + monitoring.phase_a_monitors(args, plan), mark),
        *close,
        *coupling.publish(args, plan),
    ]
    # phase C
    deliveries = synapses.modulators(args, plan)
    for J, proj in enumerate(plan.projs):
        if ahead(proj) or proj.summed is not None:
            continue
        if proj.plastic is None:
            deliveries += synapses.static_projection(args, J, proj)
        else:
            deliveries += synapses.plastic_projection(args, J, proj, plan)
    # postsynaptic plasticity events come after all of this step's deliveries, so a pre
    # and a post spike in the same step count as "post after pre"
    for J, proj in enumerate(plan.projs):
        if proj.plastic is not None:
            deliveries += synapses.plastic_post(args, J, proj)
    deliveries += monitoring.phase_c_monitors(args, plan)
    deliveries += coupling.snapshots(args, plan)
    phase_c = [_per_step(deliveries)]
    room = monitoring.room(args, plan)
    functions = {
        "phase_s": phase_s,
        "phase_t": phase_t,
        "phase_a": phase_a,
        "phase_c": phase_c,
        "room": room,
    }
    return KernelDescription(plan, args, functions)


def count_ops(body) -> int:
    """Number of statements (for tests and diagnostics)."""
    return sum(1 for _ in ir.walk(body))
