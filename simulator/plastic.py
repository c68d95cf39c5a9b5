"""Plastic projections: checking synapse specs and holding their per-synapse and trace state.

Traces are kept lazily and exactly: a trace ``x`` with time constant ``tau`` is stored as
``S = x * exp((t - t_ref)/tau)``, so its value at step ``k`` is ``S * f_k`` with one factor
``f_k = exp(-(k - ref)*dt/tau)`` shared by all neurons and computed once per step. A
synaptic event then costs one multiplication (no ``exp``), nothing is decayed per step,
and the stored values are rescaled (``S *= f_k``, ``ref = k``) when the exponent exceeds
``RENORM`` to stay far from overflow.

Postsynaptic events reach synapses in one of two ways. Rules whose ``on_post`` is an
additive potentiation by a presynaptic trace (pair STDP, additive) *defer* it: a post
spike only adds its trace factor to a per-neuron sum, and each synapse takes its pending
potentiation at its next presynaptic spike, so weights are only walked in storage order
(:meth:`PlasticState.set_deferred`). Other rules, or projections under a weight monitor,
visit the incoming synapses through a target-sorted index (``tptr``, ``tidx``, ``tsrc``).
Three-factor rules integrate eligibility x modulator in closed form between events
(:class:`PlasticState`). Reading weights computes the held-back changes without storing
them, so it never changes a run.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

import numpy as np
from numba import njit

from axonforge.models.plasticity import SynapseModel, SynapseSpec
from axonforge.spec import (
    CONSTANTS,
    FUNCTIONS,
    SpecError,
    _check_names,
    _copy,
    _Inline,
    _statement,
    degree,
)
from axonforge.state import ByRange, BySynapse, class_path, state, stored_class

#: rescale stored traces when (k - ref)*dt/tau exceeds this (exp(300) ~ 1e130)
RENORM = 300.0


@dataclass
class Side:
    """The statements of one event side, in execution order: trace statements run once
    per spike before and after the synapse loop, ``syn`` once per synapse."""

    before: list
    syn: list
    after: list


@dataclass
class CheckedSynapse:
    """A parsed synapse spec (see :func:`check_synapse_spec`)."""

    spec: SynapseSpec
    pre: Side
    post: Side
    transmit: ast.AST
    #: ``"pre" | "post" | "astro" -> state variables the rule reads`` (``v_post`` -> "v";
    #: ``gamma_s_astro``: the synapse's astrocyte's ``gamma_s``, per-synapse statements)
    neuron_reads: dict
    #: three-factor rules: the eligibility variable, and dw/dt = c*(alpha*mod + beta)
    eligibility: str | None = None
    mod_alpha: ast.AST | None = None
    mod_beta: ast.AST | None = None
    #: on_post is ``w = clip(w + K*T, lo, hi)`` with T a presynaptic trace: (T, K, lo, hi)
    #: (lo/hi None without clip); such rules may defer potentiation (see PlasticState)
    deferrable: tuple | None = None

    @property
    def traces(self) -> dict:
        """``trace -> ("pre" | "post", tau parameter)``."""
        out = {t: ("pre", tau) for t, tau in self.spec.pre_traces.items()}
        out.update({t: ("post", tau) for t, tau in self.spec.post_traces.items()})
        return out

    @property
    def needs_targets(self) -> bool:
        """Presynaptic per-synapse code reads the target's traces or state."""
        post_names = set(self.spec.post_traces) | {f"{v}_post" for v in self.neuron_reads["post"]}
        nodes = [n for _t, _op, n in self.pre.syn] + [self.transmit]
        return any(_names(n) & post_names for n in nodes)


def _names(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _neuron_reads(spec: SynapseSpec, declared: set) -> dict:
    """Undeclared ``<var>_post`` / ``<var>_pre`` names: reads of neuron state;
    ``<var>_astro``: of the astrocyte paired with the synapse (tripartite synapses)."""
    reads = {"pre": set(), "post": set(), "astro": set()}
    for text in (*spec.on_pre, *spec.on_post, spec.transmit):
        try:
            tree = ast.parse(str(text).strip())
        except SyntaxError:
            continue  # reported with its context by the statement check
        for name in _names(tree) - declared:
            m = re.fullmatch(r"([A-Za-z_]\w*)_(pre|post|astro)", name)
            if m:
                reads[m.group(2)].add(m.group(1))
    return reads


def _modulation(spec: SynapseSpec, elig: str | None, params: set):
    """Parse ``dw/dt = c*(expr)`` into the coefficients (alpha, beta) of ``expr =
    alpha*mod + beta``."""
    where = "modulated"
    text = spec.modulated
    m = re.fullmatch(r"\s*dw\s*/\s*dt\s*=(.*)", text, re.S)
    if elig is None or m is None:
        raise SpecError(
            f"synapse spec {spec.name!r}, modulated {text!r}: expected 'dw/dt = c*(...)' "
            "with c declared in eligibility={'c': 'tau_c'}"
        )
    try:
        rhs = ast.parse(m.group(1).strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"synapse spec {spec.name!r}, {where} {text!r}: {exc.msg}") from None
    if not (isinstance(rhs, ast.BinOp) and isinstance(rhs.op, ast.Mult)):
        rhs = None
    else:
        sides = [rhs.left, rhs.right]
        is_c = [isinstance(x, ast.Name) and x.id == elig for x in sides]
        rhs = sides[1] if is_c[0] else sides[0] if is_c[1] else None
    if rhs is None:
        raise SpecError(
            f"synapse spec {spec.name!r}, {where} {text!r}: the right side must be "
            f"{elig}*(expression in mod and parameters)"
        )
    _check_names(spec, where, text, rhs, params | {"mod"} | set(CONSTANTS))
    if degree(rhs, {"mod"}) > 1:
        raise SpecError(
            f"synapse spec {spec.name!r}, {where} {text!r}: the factor must be linear in "
            "mod (closed-form integration)"
        )
    at = {v: _Inline({"mod": ast.Constant(float(v))}).visit(_copy(rhs)) for v in (0, 1)}
    alpha = ast.BinOp(left=at[1], op=ast.Sub(), right=at[0])
    return alpha, at[0]


def check_synapse_spec(spec: SynapseSpec) -> CheckedSynapse:
    """Validate names and statement order of a synapse spec (raises SpecError)."""
    params, state = set(spec.parameters), set(spec.state)
    pre_t, post_t = set(spec.pre_traces), set(spec.post_traces)
    elig_t = set(spec.eligibility)
    if "w" not in state:
        raise SpecError(f"synapse spec {spec.name!r}: state must contain the weight 'w'")
    names = [params, state, pre_t, post_t, elig_t]
    everything = set().union(*names)
    if sum(len(x) for x in names) != len(everything):
        raise SpecError(
            f"synapse spec {spec.name!r}: parameter, state and trace names must be distinct"
        )
    if len(elig_t) > 1:
        raise SpecError(f"synapse spec {spec.name!r}: at most one eligibility variable")
    for trace, tau in {**spec.pre_traces, **spec.post_traces, **spec.eligibility}.items():
        if tau not in params:
            raise SpecError(
                f"synapse spec {spec.name!r}: {trace!r} decays with {tau!r}, "
                "which is not a parameter"
            )
    reads = _neuron_reads(spec, everything)
    read_names = {f"{v}_{sd}" for sd in reads for v in reads[sd]}
    allowed = everything | read_names | {"dt"} | set(CONSTANTS)
    inline = _Inline({})

    def side(stmts, own_traces, where):
        own = own_traces | {f"{v}_{where[3:]}" for v in reads[where[3:]]}
        once = params | own | {"dt"} | set(CONSTANTS)
        before, syn, after = [], [], []
        for text in stmts:
            tgt, op, node = _statement(spec, where, text, state | elig_t | own_traces, allowed)
            node = inline.visit(node)
            if tgt in own_traces:
                if not _names(node) <= once:
                    bad = sorted(_names(node) - once - set(FUNCTIONS))
                    raise SpecError(
                        f"synapse spec {spec.name!r}, {where} {text!r}: a trace statement "
                        f"runs once per spike, so it cannot read {bad} (per-synapse "
                        "variables or the other side's traces)"
                    )
                (after if syn else before).append((tgt, op, node))
            elif after:
                raise SpecError(
                    f"synapse spec {spec.name!r}, {where} {text!r}: trace statements may "
                    "come before or after the per-synapse statements, not between them"
                )
            else:
                syn.append((tgt, op, node))
        return Side(before, syn, after)

    pre = side(spec.on_pre, pre_t, "on_pre")
    post = side(spec.on_post, post_t, "on_post")
    transmit = _statement(spec, "transmit", f"w = {spec.transmit}", {"w"}, allowed)[2]
    transmit = inline.visit(transmit)
    elig = next(iter(spec.eligibility), None)
    alpha = beta = None
    if spec.modulated or elig is not None:
        alpha, beta = _modulation(spec, elig, params)
        missing = {"w_min", "w_max"} - params
        if missing:
            raise SpecError(
                f"synapse spec {spec.name!r}: a modulated rule needs parameters "
                f"{sorted(missing)} (the weight is clipped to them)"
            )
    deferrable = None if elig is not None else _deferrable(post, set(spec.pre_traces), params)
    return CheckedSynapse(spec, pre, post, transmit, reads, elig, alpha, beta, deferrable)


def _deferrable(post: Side, pre_traces: set, params: set):
    """Recognise ``on_post: w = clip(w + K*T, lo, hi)`` (or ``w += K*T``), K, lo and hi
    parameter expressions and T a presynaptic trace. Between two presynaptic spikes of a
    synapse its potentiations then all have the sign of K*T, so applying their sum at the
    next presynaptic spike, clipped once, equals applying them one by one."""
    if len(post.syn) != 1 or post.syn[0][0] != "w":
        return None
    _tgt, op, node = post.syn[0]
    lo = hi = None
    if op == "=":

        def call(n, name, nargs):
            return (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id == name
                and len(n.args) == nargs
            )

        if call(node, "min", 2) and call(node.args[0], "max", 2):
            (inner, lo), hi = node.args[0].args, node.args[1]
        else:
            inner = node
        if not (isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Add)):
            return None
        sides = [inner.left, inner.right]
        is_w = [isinstance(x, ast.Name) and x.id == "w" for x in sides]
        if is_w[0] == is_w[1]:
            return None
        inc = sides[1] if is_w[0] else sides[0]
    elif op == "+=":
        inc = node
    else:
        return None
    constant = params | set(CONSTANTS)
    if isinstance(inc, ast.Name) and inc.id in pre_traces:
        trace, k = inc.id, ast.Constant(1.0)
    elif isinstance(inc, ast.BinOp) and isinstance(inc.op, ast.Mult):
        pair = [inc.left, inc.right]
        is_t = [isinstance(x, ast.Name) and x.id in pre_traces for x in pair]
        if is_t[0] == is_t[1]:
            return None
        trace, k = (pair[0].id, pair[1]) if is_t[0] else (pair[1].id, pair[0])
    else:
        return None
    if any(not _names(x) <= constant for x in (k, lo, hi) if x is not None):
        return None
    return trace, k, lo, hi


_CHECKED: dict = {}


def checked_synapse(spec: SynapseSpec) -> CheckedSynapse:
    key = spec.to_json()
    if key not in _CHECKED:
        _CHECKED[key] = check_synapse_spec(spec)
    return _CHECKED[key]


def _saved_model(attrs):
    """The rule of a saved plastic projection: its class if importable and identical,
    else a generic model built from the stored spec (which is authoritative)."""
    spec = SynapseSpec.from_dict(json.loads(attrs["spec"]))
    params = json.loads(attrs["params"])
    strict = bool(attrs.get("strict_units", True))
    cls = stored_class(attrs["model_class"])
    try:
        if cls is not None:
            model = cls(**json.loads(attrs["options"]), **params, strict_units=strict)
            if model.spec.to_json() == spec.to_json():
                return model
    except (TypeError, ValueError, AttributeError):
        pass
    generic = type(spec.name.split("[")[0], (SynapseModel,), {"spec": spec})
    return generic(**params, strict_units=strict)


@njit(cache=True)
def _by_target(off, n_post):
    """Target-sorted view of a CSR-by-source store: (tptr, tidx) with the synapses of
    target t at tidx[tptr[t]:tptr[t+1]] (indices into the source-sorted arrays)."""
    m = off.shape[0]
    tptr = np.zeros(n_post + 1, np.int64)
    for q in range(m):
        tptr[off[q] % n_post + 1] += 1
    for t in range(n_post):
        tptr[t + 1] += tptr[t]
    fill = tptr[:-1].copy()
    tidx = np.empty(m, np.int64)
    for q in range(m):
        t = off[q] % n_post
        tidx[fill[t]] = q
        fill[t] += 1
    return tptr, tidx


#: three-factor rules: re-reference the eligibility and the modulation integral when
#: (k - ref)*dt/tau_c exceeds this; the integral's increments shrink as exp(-(k-ref)dt/tau_c),
#: so a small bound keeps its differences accurate (e^10 ~ 2e4 -> ~1e-12 relative)
ELIG_RENORM = 10.0
#: deferred potentiation: apply what is pending and restart Q when (k - ref)*dt/tau_T
#: exceeds this (Q's increments shrink as exp(-(k - ref)*dt/tau_T); e^15 ~ 3e6 keeps the
#: differences Q - qlast accurate to ~1e-10 relative)
DEFER_RENORM = 15.0


class PlasticState:
    """Per-synapse state, per-neuron traces and index arrays of one plastic projection.

    Three-factor rules add the eligibility ``c`` stored as ``C = c*exp((k - ref)*dt/tau_c)``,
    a projection-wide integral ``G = int exp(-(s - ref)/tau_c)*(alpha*mod + beta) ds`` and
    per synapse the value of ``G`` when its weight was last brought up to date
    (``glast``): ``w(now) = clip(w + C*(G - glast), w_min, w_max)``, exact because ``c``
    keeps its sign between events (and ``mod`` >= 0 when alpha, beta >= 0).
    """

    def __init__(self, proj, model: SynapseModel, modulator=None):
        if not isinstance(model, SynapseModel):
            raise TypeError(
                f"connect {proj.name!r}: synapse must be a plasticity rule such as "
                f"STDP(...), got {model!r}"
            )
        self.model = model
        self.checked = c = checked_synapse(model.spec)
        self._check_neuron_reads(proj)
        self.modulator = modulator
        if c.eligibility is not None and modulator is None:
            raise ValueError(
                f"connect {proj.name!r}: {model!r} is a three-factor rule; give the "
                "modulator it reads, e.g. connect(..., modulator=net.modulator('dopamine', "
                "tau=0.2))"
            )
        if c.eligibility is None and modulator is not None:
            raise ValueError(
                f"connect {proj.name!r}: modulator= given, but {model!r} does not read a "
                "modulator (it has no 'modulated' weight equation)"
            )
        n_syn, n_pre, n_post = len(proj.off), proj.pre_pop.n, proj.post_pop.n
        dtype = proj.net.dtype
        self.state = {}
        for name, (init, *_unit_doc_range) in model.spec.state.items():
            self.state[name] = np.full(n_syn, float(init), dtype)
        self.state["w"][:] = proj.w  # the weights the connect call drew
        p = model.params
        if "w_min" in p and "w_max" in p:
            w = self.state["w"]
            if np.any((w < p["w_min"]) | (w > p["w_max"])):
                bad = int(np.flatnonzero((w < p["w_min"]) | (w > p["w_max"]))[0])
                raise ValueError(
                    f"connect {proj.name!r}: initial weight {w[bad]:.4g} (synapse {bad}) is "
                    f"outside [w_min, w_max] = [{p['w_min']:.4g}, {p['w_max']:.4g}] of {model!r}"
                )
        self.traces = {
            t: np.zeros(n_pre if side == "pre" else n_post) for t, (side, _tau) in c.traces.items()
        }
        self.elig = {e: np.zeros(n_syn) for e in model.spec.eligibility}
        self.glast = np.zeros(n_syn if c.eligibility else 0)
        self.G = np.zeros(1)
        self.ref = np.zeros(1, np.int64)
        self.deferred = False
        self.Q, self.qlast = np.zeros(0), np.zeros(0)
        self.proj = proj
        self.tgt, self.tptr, self.tidx, self.tsrc = self.index_arrays(proj)

    def _check_neuron_reads(self, proj):
        wanted = self.checked.neuron_reads["astro"]
        astro = getattr(proj, "astro_pop", None)
        if wanted and astro is None:
            raise ValueError(
                f"connect {proj.name!r}: rule {self.model.spec.name!r} reads "
                f"{', '.join(sorted(f'{v}_astro' for v in wanted))}, the state of each "
                "synapse's astrocyte, but the projection has none: make it with "
                "net.connect_tripartite(...), whose primary synapses carry their astrocyte"
            )
        for side, pop in (("pre", proj.pre_pop), ("post", proj.post_pop), ("astro", astro)):
            if pop is None:
                continue
            wanted = self.checked.neuron_reads[side]
            have = set(pop.state)
            missing = sorted(wanted - have)
            if missing:
                model = type(pop.model).__name__
                raise ValueError(
                    f"connect {proj.name!r}: rule {self.model.spec.name!r} reads "
                    f"{', '.join(f'{v}_{side}' for v in missing)}, the state variable(s) "
                    f"{missing} of the {side}synaptic population {pop.name!r}, but its model "
                    f"{model} has {'state ' + str(sorted(have)) if have else 'no state'}; "
                    f"use a model with {missing} or change the rule"
                )

    def index_arrays(self, proj):
        """Target of each synapse and the target-sorted index, if the rule needs them
        (derived from the CSR store, so they are rebuilt on load rather than saved)."""
        n_syn, n_pre, n_post = len(proj.off), proj.pre_pop.n, proj.post_pop.n
        empty = np.zeros(0, np.int32)
        needs_tgt = self.checked.needs_targets or self.deferred
        tgt = (proj.off % n_post).astype(np.int32) if needs_tgt else empty
        if not self.checked.post.syn or self.deferred:
            return tgt, np.zeros(1, np.int64), empty, empty
        tptr, tidx = _by_target(proj.off, n_post)
        src = np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(proj.ptr))
        return tgt, tptr, tidx.astype(np.int32 if n_syn < 2**31 else np.int64), src[tidx]

    @property
    def arrays(self) -> list:
        """Every array this rule keeps (for memory accounting)."""
        return [
            *(a for k, a in self.state.items()),
            *self.traces.values(),
            *self.elig.values(),
            self.glast,
            self.qlast,
            self.Q,
            self.tgt,
            self.tptr,
            self.tidx,
            self.tsrc,
        ]

    def allocate_chunk(self, layout):
        from axonforge.engine.partition import WorkerCopies

        self._copies = WorkerCopies(layout.threads)

    def kernel_state(self, dt: float) -> dict:
        """The rule's arrays by declared key; presynaptic traces, ``ref`` and ``G`` as
        per-worker copies (:class:`~axonforge.engine.partition.WorkerCopies`)."""
        copies = self._copies
        out = {
            "ref": copies.of(self.ref, single=True),
            "tgt": self.tgt,
            "tptr": self.tptr,
            "tidx": self.tidx,
            "tsrc": self.tsrc,
            "glast": self.glast,
            "G": copies.of(self.G, single=True),
            "Q": self.Q,
            "qlast": self.qlast,
        }
        out.update({f"s_{k}": v for k, v in self.state.items()})
        for k, v in self.traces.items():
            pre = self.checked.traces[k][0] == "pre"
            out[f"S_{k}"] = copies.of(v) if pre else v
        out.update({f"E_{k}": v for k, v in self.elig.items()})
        out.update({f"p_{k}": v for k, v in self.model.params.items()})
        if self.checked.eligibility is not None:
            tau_c = self.model.params[self.model.spec.eligibility[self.checked.eligibility]]
            tau_m = self.modulator.tau
            tau_s = tau_c if tau_m is None else 1.0 / (1.0 / tau_c + 1.0 / tau_m)
            # exact integrals over one step of exp(-u/tau_c)*mod(u) and exp(-u/tau_c)
            out["gm"] = tau_s * -np.expm1(-dt / tau_s)
            out["gb"] = tau_c * -np.expm1(-dt / tau_c)
        return out

    def collect(self):
        """Take the per-worker state back after a run (row 0 of each copy)."""
        self._copies.collect()

    def set_deferred(self, deferred: bool):
        """Switch deferred potentiation on or off (the network chooses: on for rules that
        allow it, unless a weight monitor watches the projection). Pending potentiation
        is applied to the weights when switching off, so the weights stay exact.

        Deferred: a postsynaptic spike only adds the trace factor ``f_T`` to ``Q[j]``; the
        potentiations of synapse (i, j) since its last visit, ``K*sum_p T_i(t_p) =
        K*S_i*(Q[j] - qlast)`` (``S_i`` the stored form of the presynaptic trace, constant
        between spikes of i), are applied at i's next spike, before its own update. No
        synapse is visited at a postsynaptic spike, so the weights are only ever walked in
        storage order. ``Q`` restarts at each re-referencing (every ``DEFER_RENORM``
        trace time constants) after all pending potentiation is applied, which keeps the
        differences ``Q - qlast`` accurate (their increments shrink as ``f_T``).
        """
        deferred = bool(deferred) and self.checked.deferrable is not None
        if deferred == self.deferred:
            return
        if not deferred:
            self.state["w"][:] = self.current_weights()
        self.deferred = deferred
        n_syn, n_post = len(self.proj.off), self.proj.post_pop.n
        self.Q = np.zeros(n_post if deferred else 0)
        self.qlast = np.zeros(n_syn if deferred else 0)
        self.tgt, self.tptr, self.tidx, self.tsrc = self.index_arrays(self.proj)

    def _pending_terms(self):
        """(K, lo, hi) of a deferrable rule, evaluated with this projection's parameters."""
        from axonforge.spec import evaluate

        _t, k, lo, hi = self.checked.deferrable
        p = self.model.params
        return tuple(None if x is None else float(evaluate(x, p)) for x in (k, lo, hi))

    def current_weights(self) -> np.ndarray:
        """The weights now, including what three-factor rules and deferred potentiation
        hold back until a synapse's next event (computed; the state is not changed, so
        reading weights never changes a run)."""
        w = self.state["w"]
        p = self.model.params
        if self.checked.eligibility is not None:
            C = self.elig[self.checked.eligibility]
            return np.clip(w + C * (self.G[0] - self.glast), p["w_min"], p["w_max"])
        if self.deferred:
            k, lo, hi = self._pending_terms()
            trace = self.traces[self.checked.deferrable[0]]
            src = np.repeat(np.arange(len(trace)), np.diff(self.proj.ptr))
            out = w + k * trace[src] * (self.Q[self.tgt] - self.qlast)
            return np.clip(out, -np.inf if lo is None else lo, np.inf if hi is None else hi)
        return w.copy()

    def drop_pending(self):
        """Forget held-back changes (the weights were just set from Python)."""
        if self.checked.eligibility is not None:
            self.glast[:] = self.G[0]
        if self.deferred:
            self.qlast[:] = self.Q[self.tgt]

    def trace_values(self, trace: str, step: int, dt: float) -> np.ndarray:
        """Values of ``trace`` at network step ``step`` (for inspection and tests)."""
        _side, tau = self.checked.traces[trace]
        return self.traces[trace] * np.exp(-(step - self.ref[0]) * dt / self.model.params[tau])

    # ------------------------------------------------------------------- saved state
    def saved_state(self) -> dict:
        """The rule (spec, class, options, parameters) and its state as a state dict
        (:mod:`axonforge.state`): per-synapse arrays split by synapse, postsynaptic
        traces (and deferred sums) by neuron range, the rest the same on every rank."""
        model = self.model
        attrs = {
            "spec": model.spec.to_json(),
            "model_class": class_path(type(model)),
            "options": json.dumps(model.options),
            "params": json.dumps(model.params),
            "strict_units": model.strict_units,
            "deferred": self.deferred,
        }
        if self.modulator is not None:
            attrs["modulator"] = self.modulator.name
        arrays = {
            **{f"state/{k}": v for k, v in self.state.items()},
            **{f"traces/{k}": v for k, v in self.traces.items()},
            **{f"eligibility/{k}": v for k, v in self.elig.items()},
            "ref": self.ref,
            "glast": self.glast,
            "G": self.G,
            "Q": self.Q,  # deferred potentiation (empty when off)
            "qlast": self.qlast,
        }
        syn, post = BySynapse(self.proj), ByRange(self.proj.post_pop.n)
        split = {k: syn for k in arrays if k.startswith(("state/", "eligibility/"))}
        split.update(
            {f"traces/{t}": post for t, (side, _) in self.checked.traces.items() if side == "post"}
        )
        if self.checked.eligibility is not None:
            split["glast"] = syn
        if self.deferred:
            split.update(qlast=syn, Q=post)
        return state(attrs, arrays, split=split)

    @classmethod
    def from_saved(cls, proj, d) -> PlasticState:
        """The rule of a loaded projection from :meth:`saved_state`'s dict (index arrays
        are derived again, not stored)."""
        a, arrays = d["attrs"], d["arrays"]
        pl = cls.__new__(cls)
        pl.model = _saved_model(a)
        pl.checked = checked_synapse(pl.model.spec)
        pl.state = {k: arrays[f"state/{k}"] for k in pl.model.spec.state}
        pl.traces = {k: arrays[f"traces/{k}"] for k in pl.checked.traces}
        pl.elig = {k: arrays[f"eligibility/{k}"] for k in pl.model.spec.eligibility}
        pl.ref = arrays["ref"]
        # files from before these existed
        pl.glast = arrays.get("glast", np.zeros(0))
        pl.G = arrays.get("G", np.zeros(1))
        pl.Q = arrays.get("Q", np.zeros(0))
        pl.qlast = arrays.get("qlast", np.zeros(0))
        pl.modulator = None
        if "modulator" in a:
            pl.modulator = proj.net.modulators[str(a["modulator"])]
        pl.proj = proj
        pl.deferred = bool(a.get("deferred", False))
        pl.tgt, pl.tptr, pl.tidx, pl.tsrc = pl.index_arrays(proj)
        return pl

    def eligibility_values(self, step: int, dt: float) -> np.ndarray:
        """Per-synapse eligibility at network step ``step``."""
        name = self.checked.eligibility
        tau = self.model.params[self.model.spec.eligibility[name]]
        return self.elig[name] * np.exp(-(step - self.ref[0]) * dt / tau)
