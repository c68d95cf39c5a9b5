"""Plasticity rules as specs: per-synapse state, per-neuron traces, event statements.

A :class:`SynapseSpec` names per-synapse state (always ``w``, the weight in the port's
unit), exponentially decaying traces kept per presynaptic and per postsynaptic neuron, and
the statements run when a presynaptic spike is sent (``on_pre``) and when the
postsynaptic neuron spikes (``on_post``). Like neuron specs this is plain data; the
simulator checks and compiles it.

Event semantics (stated once, used by every rule):

* ``on_pre`` runs when the presynaptic neuron spikes (time t_pre), for each of its
  outgoing synapses, *before* the spike is transmitted: the PSP carries the updated
  weight (as NEST's ``stdp_synapse``). ``on_post`` runs when the postsynaptic neuron spikes
  (t_post), for each incoming synapse. Both see spikes at their somatic times, so a
  pairing interval is ``dt_pair = t_post - t_pre``; the transmission delay only shifts
  when the PSP arrives. (NEST treats the delay as dendritic and pairs ``t_post + d`` with
  ``t_pre``; to reproduce NEST with delay ``d``, shift the post times by ``d``.)
* Within one step, presynaptic events are processed before postsynaptic ones, so
  ``dt_pair = 0`` counts as "post after pre".
* Statements that assign a trace run once per spike, in the order listed relative to the
  per-synapse statements; a trace is read at its value at the event time (decayed
  exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ranges
from .base import SpecData, check_params
from .ranges import SLOW_TIME, STDP_WINDOW


@dataclass(frozen=True)
class SynapseSpec(SpecData):
    """The structure of a plastic synapse.

    Parameters
    ----------
    name : str
    parameters : dict
        ``name -> (default, unit, description[, range])``; shared by all synapses of a
        projection. The unit ``"weight"`` (or ``"weight/s"``) means the unit of the
        weights of the port the projection targets (A, V or S); such parameters are
        checked for plausibility when the rule is connected.
    state : dict
        Per-synapse variables ``name -> (initial, unit, description)``; must contain ``w``.
    pre_traces, post_traces : dict
        ``trace -> name of its time-constant parameter``; each trace decays as
        ``dx/dt = -x/tau`` and is kept once per presynaptic / postsynaptic neuron.
    on_pre, on_post : tuple of str
        Statements (``x = expr``, ``x += expr``), run in the order given: statements that
        assign an own-side trace run once per spike (before or after the per-synapse
        statements, wherever they are listed), the others once per synapse. ``clip(x, lo,
        hi)``, ``min``, ``max``, ``exp``, ``abs`` and ``sqrt`` are available. A name
        ``<var>_post`` / ``<var>_pre`` that is not declared here reads the state variable
        ``var`` of the postsynaptic / presynaptic neuron (e.g. ``v_post``).
    transmit : str
        What a presynaptic spike adds to the target's port, evaluated per synapse after
        the on_pre statements (default ``"w"``; ``"w*u*x"`` for short-term plasticity).
    eligibility : dict
        Per-synapse variables that decay exponentially, ``name -> tau parameter`` (three-
        factor rules; at most one). Events change them with ordinary statements.
    modulated : str
        ``"dw/dt = c*(expr)"`` for a three-factor rule: ``c`` is the eligibility variable
        and ``expr`` is linear in ``mod``, the concentration of the network modulator the
        projection is bound to. Integrated in closed form between events; the rule must
        have parameters ``w_min`` and ``w_max``.
    source : str
        Paper and equations the rule implements.
    """

    name: str
    parameters: dict
    state: dict
    pre_traces: dict = field(default_factory=dict)
    post_traces: dict = field(default_factory=dict)
    on_pre: tuple = ()
    on_post: tuple = ()
    transmit: str = "w"
    eligibility: dict = field(default_factory=dict)
    modulated: str = ""
    source: str = ""


#: all-to-all pairing sums trace jumps; nearest-neighbour pairing resets the trace
#: (Morrison, Diesmann & Gerstner 2008, Sec. 4.1)
_TRACE_OP = {"all": "+=", "nearest": "="}


def _check_pairing(owner, pairing):
    if pairing not in _TRACE_OP:
        raise ValueError(f"{owner}: pairing must be 'all' or 'nearest', got {pairing!r}")


class SynapseModel:
    """A synapse spec plus parameter values: what ``Network.connect(synapse=...)`` takes.

    Subclasses set ``spec`` or override :meth:`build_spec`; :meth:`validate` adds checks
    that relate parameters to each other. Parameters are scalars (per projection).
    ``strict_units=False`` turns off the plausibility check of their values (see
    :mod:`axonforge.models.ranges`).
    """

    spec: SynapseSpec | None = None

    #: constructor options that are not parameters (saved with the network)
    options: dict = {}

    def __init__(self, strict_units=True, **params):
        spec = self.build_spec()
        self.spec = spec
        self.strict_units = bool(strict_units)
        self.params = check_params(spec, params, type(self).__name__, self.strict_units)
        for name, value in self.params.items():
            if not isinstance(value, float):
                raise TypeError(f"{type(self).__name__}: parameter {name!r} must be a scalar")
        for trace, tau in {**spec.pre_traces, **spec.post_traces, **spec.eligibility}.items():
            if tau not in self.params:
                raise ValueError(
                    f"synapse spec {spec.name!r}: {trace!r} decays with {tau!r}, which is not "
                    f"a parameter; parameters are {sorted(self.params)}"
                )
            if self.params[tau] <= 0:
                raise ValueError(
                    f"{type(self).__name__}: {tau} = {self.params[tau]:g} must be > 0 "
                    f"(time constant of {trace!r}, seconds)"
                )
        self.validate()

    def build_spec(self) -> SynapseSpec:
        if type(self).spec is None:
            raise TypeError(f"{type(self).__name__} defines no spec")
        return type(self).spec

    def validate(self):
        """Rule-specific checks of parameter values (override)."""

    def check_weight_units(self, port_unit, where):
        """Check the parameters given in weight units (``"weight"``, ``"weight/s"``)
        against the plausible weights of a port whose weights are in ``port_unit``
        (``"A"``, ``"V"``, ``"S"``; ``None``: unknown, not checked); ``where`` names the
        connection in messages."""
        owner = type(self).__name__
        for name, entry in self.spec.parameters.items():
            if entry[1] in ("weight", "weight/s") and port_unit is not None:
                ranges.check_weights(
                    f"{where}, {owner}",
                    self.params[name],
                    port_unit,
                    self.strict_units,
                    f"give {owner}'s weight parameters in {port_unit}, or pass "
                    f"strict_units=False to {owner}(...) if the value is intended",
                    name=name + entry[1][len("weight") :],
                    table=ranges.WEIGHT_RANGES,
                )

    def __repr__(self):
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"{type(self).__name__}({shown})"


class STDP(SynapseModel):
    r"""Pair-based spike-timing-dependent plasticity.

    For one pre and one post spike with ``dt_pair = t_post - t_pre``:

    .. math::
        \Delta w = a_+ e^{-\Delta t/\tau_+} \ (\Delta t \ge 0), \qquad
        \Delta w = a_- e^{\Delta t/\tau_-} \ (\Delta t < 0)

    with ``a_minus`` negative, and weights kept in ``[w_min, w_max]``. Sources: Bi & Poo
    (1998) J. Neurosci. 18:10464 (the window); Song, Miller & Abbott (2000) Nat. Neurosci.
    3:919, eqs. (1)-(2) (additive rule with hard bounds, all-to-all pairing via traces);
    nearest-neighbour pairing as Morrison, Diesmann & Gerstner (2008) Biol. Cybern. 98:459,
    Sec. 4.1 (traces reset to the amplitude instead of accumulating); multiplicative
    (weight-dependent, soft-bounded) updates as van Rossum, Bi & Turrigiano (2000), with
    ``a_+ (w_max - w)/(w_max - w_min)`` and ``a_- (w - w_min)/(w_max - w_min)``.

    Parameters
    ----------
    tau_plus, tau_minus : float [s]
        Window time constants (default 20 ms).
    a_plus : float
        Potentiation amplitude, in the weight's unit (>= 0).
    a_minus : float
        Depression amplitude (<= 0; any sign with ``symmetric=True``).
    w_min, w_max : float
        Bounds, in the weight's unit (w_min <= w_max).
    w_dependence : {"additive", "multiplicative"}
    pairing : {"all", "nearest"}
    symmetric : bool
        Allow a positive ``a_minus`` (e.g. symmetric Hebbian windows).
    """

    def __init__(self, w_dependence="additive", pairing="all", symmetric=False, **params):
        if w_dependence not in ("additive", "multiplicative"):
            raise ValueError(
                f"STDP: w_dependence must be 'additive' or 'multiplicative', got {w_dependence!r}"
            )
        _check_pairing("STDP", pairing)
        self.w_dependence, self.pairing, self.symmetric = w_dependence, pairing, bool(symmetric)
        self.options = dict(w_dependence=w_dependence, pairing=pairing, symmetric=self.symmetric)
        super().__init__(**params)

    def build_spec(self) -> SynapseSpec:
        add = _TRACE_OP[self.pairing]
        if self.w_dependence == "additive":
            pot, dep = "x_pre", "x_post"
        else:
            pot = "x_pre*(w_max - w)/(w_max - w_min)"
            dep = "x_post*(w - w_min)/(w_max - w_min)"
        return SynapseSpec(
            name=f"STDP[{self.w_dependence},{self.pairing}]",
            parameters={
                "tau_plus": (20e-3, "s", "potentiation window time constant", STDP_WINDOW),
                "tau_minus": (20e-3, "s", "depression window time constant", STDP_WINDOW),
                "a_plus": (0.01e-9, "weight", "potentiation amplitude"),
                "a_minus": (-0.0105e-9, "weight", "depression amplitude (negative)"),
                "w_min": (0.0, "weight", "lower bound"),
                "w_max": (1e-9, "weight", "upper bound"),
            },
            state={"w": (0.0, "weight", "synaptic weight")},
            pre_traces={"x_pre": "tau_plus"},
            post_traces={"x_post": "tau_minus"},
            on_pre=(f"x_pre {add} a_plus", f"w = clip(w + {dep}, w_min, w_max)"),
            on_post=(f"x_post {add} a_minus", f"w = clip(w + {pot}, w_min, w_max)"),
            source="Song, Miller & Abbott (2000) Nat. Neurosci. 3:919, eqs. (1)-(2)",
        )

    def validate(self):
        _check_bounds(self)
        p = self.params
        if p["a_plus"] < 0:
            raise ValueError(f"STDP: a_plus = {p['a_plus']:g} must be >= 0 (potentiation)")
        if p["a_minus"] > 0 and not self.symmetric:
            raise ValueError(
                f"STDP: a_minus = {p['a_minus']:g} must be <= 0 (depression); "
                "pass symmetric=True for a window that potentiates both ways"
            )

    def window(self, dt_pair):
        """The rule's analytic weight change for one pairing, ignoring bounds."""
        import numpy as np

        p = self.params
        dt_pair = np.asarray(dt_pair, float)
        return np.where(
            dt_pair >= 0,
            p["a_plus"] * np.exp(-dt_pair / p["tau_plus"]),
            p["a_minus"] * np.exp(dt_pair / p["tau_minus"]),
        )


def _check_bounds(model):
    p = model.params
    if p["w_min"] > p["w_max"]:
        raise ValueError(
            f"{type(model).__name__}: w_min = {p['w_min']:g} is above w_max = {p['w_max']:g}; "
            "give w_min <= w_max"
        )


class TripletSTDP(SynapseModel):
    r"""Triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006).

    Source: J.-P. Pfister & W. Gerstner (2006) J. Neurosci. 26:9673, eqs. (3)-(4). Two
    presynaptic traces ``r1`` (``tau_plus``), ``r2`` (``tau_x``) and two postsynaptic
    traces ``o1`` (``tau_minus``), ``o2`` (``tau_y``), each jumping by 1 per spike
    (all-to-all) or set to 1 (``pairing="nearest"``). At a presynaptic spike
    ``w -= o1*(A2_minus + A3_minus*r2)`` and at a postsynaptic spike
    ``w += r1*(A2_plus + A3_plus*o2)``, with ``r2`` / ``o2`` taken just *before* their own
    increment (the paper's ``t - epsilon``); weights stay in ``[w_min, w_max]``. The
    paper's weights and amplitudes are dimensionless; here they carry the weight's unit:
    the defaults take the paper's unit weight as 1 nA (a current port), and
    :meth:`preset` scales its amplitudes by ``unit`` (default 1 nA; e.g. ``unit=1*mV``
    for delta synapses).

    Presets (Table 4 of the paper, "full" models fitted to visual cortex data, Sjöström
    et al. 2001; the values NEST's ``stdp_triplet_synapse`` examples use) via
    :meth:`preset`: ``"visual_cortex_all_to_all"``, ``"visual_cortex_nearest"``,
    ``"visual_cortex_minimal"`` (all-to-all, A2_plus = A3_minus = 0) and
    ``"hippocampal_all_to_all"`` (Wang et al. 2005 data).
    """

    PRESETS = {
        "visual_cortex_all_to_all": dict(
            tau_plus=16.8e-3, tau_x=101e-3, tau_minus=33.7e-3, tau_y=125e-3,
            A2_plus=5e-10, A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-4, pairing="all",
        ),
        "visual_cortex_nearest": dict(
            tau_plus=16.8e-3, tau_x=714e-3, tau_minus=33.7e-3, tau_y=40e-3,
            A2_plus=8.8e-11, A3_plus=5.3e-2, A2_minus=6.6e-3, A3_minus=3.1e-3,
            pairing="nearest",
        ),
        "visual_cortex_minimal": dict(
            tau_plus=16.8e-3, tau_x=101e-3, tau_minus=33.7e-3, tau_y=125e-3,
            A2_plus=0.0, A3_plus=6.5e-3, A2_minus=7.1e-3, A3_minus=0.0, pairing="all",
        ),
        "hippocampal_all_to_all": dict(
            tau_plus=16.8e-3, tau_x=946e-3, tau_minus=33.7e-3, tau_y=27e-3,
            A2_plus=6.1e-3, A3_plus=6.7e-3, A2_minus=1.6e-3, A3_minus=1.4e-3, pairing="all",
        ),
    }  # fmt: skip

    def __init__(self, pairing="all", **params):
        _check_pairing("TripletSTDP", pairing)
        self.pairing = pairing
        self.options = dict(pairing=pairing)
        super().__init__(**params)

    @classmethod
    def preset(cls, name, unit=1e-9, **overrides):
        """A rule with the named published parameter set (see the class docstring).

        The paper's amplitudes are per unit weight; ``unit`` is the weight that stands
        for it here (amperes, volts or siemens, as the target port takes), and the bounds
        default to ``[0, unit]``."""
        if name not in cls.PRESETS:
            raise ValueError(
                f"TripletSTDP: unknown preset {name!r}; choose from {sorted(cls.PRESETS)}"
            )
        params = {k: v * unit if k[0] == "A" else v for k, v in cls.PRESETS[name].items()}
        params.update(w_min=0.0, w_max=unit)
        return cls(**{**params, **overrides})

    def build_spec(self) -> SynapseSpec:
        add = _TRACE_OP[self.pairing]
        return SynapseSpec(
            name=f"TripletSTDP[{self.pairing}]",
            parameters={
                "tau_plus": (16.8e-3, "s", "fast presynaptic trace r1", STDP_WINDOW),
                "tau_x": (101e-3, "s", "slow presynaptic trace r2", STDP_WINDOW),
                "tau_minus": (33.7e-3, "s", "fast postsynaptic trace o1", STDP_WINDOW),
                "tau_y": (125e-3, "s", "slow postsynaptic trace o2", STDP_WINDOW),
                # the paper's visual-cortex all-to-all set with unit weight = 1 nA
                "A2_plus": (5e-19, "weight", "pair potentiation"),
                "A3_plus": (6.2e-12, "weight", "triplet potentiation"),
                "A2_minus": (7e-12, "weight", "pair depression (positive number)"),
                "A3_minus": (2.3e-13, "weight", "triplet depression (positive number)"),
                "w_min": (0.0, "weight", "lower bound"),
                "w_max": (1e-9, "weight", "upper bound"),
            },
            state={"w": (0.0, "weight", "synaptic weight")},
            pre_traces={"r1": "tau_plus", "r2": "tau_x"},
            post_traces={"o1": "tau_minus", "o2": "tau_y"},
            on_pre=(
                "w = clip(w - o1*(A2_minus + A3_minus*r2), w_min, w_max)",
                f"r1 {add} 1",
                f"r2 {add} 1",
            ),
            on_post=(
                "w = clip(w + r1*(A2_plus + A3_plus*o2), w_min, w_max)",
                f"o1 {add} 1",
                f"o2 {add} 1",
            ),
            source="Pfister & Gerstner (2006) J. Neurosci. 26:9673, eqs. (3)-(4), Table 4",
        )

    def validate(self):
        _check_bounds(self)
        for a in ("A2_plus", "A3_plus", "A2_minus", "A3_minus"):
            if self.params[a] < 0:
                raise ValueError(
                    f"TripletSTDP: {a} = {self.params[a]:g} must be >= 0 (the signs are in "
                    "the rule: pre spikes depress, post spikes potentiate)"
                )


class TsodyksMarkram(SynapseModel):
    r"""Short-term depression and facilitation (Tsodyks & Markram model).

    Sources: Tsodyks, Pawelzik & Markram (1998) Neural Comput. 10:821; the event-based
    recursion of Maass & Markram (2002) Neural Comput. 14:2561, eqs. (4)-(5), as in
    NEST's ``tsodyks2_synapse``. For the n-th presynaptic spike, Delta = time since the
    previous one:

    .. math::
        u_n = U + u_{n-1}(1-U)e^{-\Delta/\tau_{fac}}, \qquad
        x_n = 1 - (1 - x_{n-1}(1-u_{n-1}))e^{-\Delta/\tau_{rec}},

    and the spike transmits ``w*u_n*x_n``. The first spike transmits ``w*U`` (``x = 1``,
    no facilitation yet; NEST instead starts from ``u = U`` and facilitates the first
    spike too). ``tau_fac = 0`` turns facilitation off (``u = U``). ``u`` and ``x``
    depend only on the presynaptic train, so they are kept once per presynaptic neuron
    as traces, not per synapse. Weights are static.
    """

    def __init__(self, strict_units=True, **params):
        tau_fac = params.get("tau_fac", 0.0)
        if isinstance(tau_fac, (int, float)) and tau_fac < 0:
            raise ValueError(
                f"TsodyksMarkram: tau_fac = {tau_fac:g} must be >= 0 (seconds; 0 turns "
                "facilitation off)"
            )
        self._facilitates = not (isinstance(tau_fac, (int, float)) and tau_fac == 0)
        self.options = {}
        super().__init__(strict_units=strict_units, **params)

    def build_spec(self) -> SynapseSpec:
        params = {
            "U": (0.5, "1", "utilisation of synaptic efficacy (release probability)"),
            "tau_rec": (0.8, "s", "recovery from depression", SLOW_TIME),
            "tau_fac": (0.0, "s", "decay of facilitation (0: none)", (0.0, SLOW_TIME[1])),
        }
        # traces: d = 1 - x just before a spike's release (recovering with tau_rec), r =
        # the fraction released at the last spike, u*x (it too recovers with tau_rec, so
        # 1 - x at the next spike is (d + r) decayed), uf = u (decaying with tau_fac)
        if self._facilitates:
            traces = {"uf": "tau_fac", "d": "tau_rec", "r": "tau_rec"}
            on_pre = ("d = d + r", "uf = U + (1 - U)*uf", "r = (1 - d)*uf")
        else:
            traces = {"d": "tau_rec", "r": "tau_rec"}
            on_pre = ("d = d + r", "r = (1 - d)*U")
        return SynapseSpec(
            name=f"TsodyksMarkram[{'facilitating' if self._facilitates else 'depressing'}]",
            parameters=params,
            state={"w": (0.0, "weight", "synaptic weight (absolute efficacy)")},
            pre_traces=traces,
            on_pre=on_pre,
            transmit="w*r",
            source="Tsodyks, Pawelzik & Markram (1998); Maass & Markram (2002) eqs. (4)-(5)",
        )

    def validate(self):
        p = self.params
        if not 0 < p["U"] <= 1:
            raise ValueError(f"TsodyksMarkram: U = {p['U']:g} must be in (0, 1]")


class DopamineSTDP(SynapseModel):
    r"""Dopamine-modulated STDP: a three-factor rule with an eligibility trace.

    Source: Izhikevich (2007) Cereb. Cortex 17:2443, eqs. (1)-(2) and its code
    (``daspnet.m``); the same rule as NEST's ``stdp_dopamine_synapse`` (Potjans, Morrison
    & Diesmann 2010). Pairs of pre and post spikes do not change the weight but an
    eligibility ``c`` of the synapse, by the STDP window (``a_plus`` for post after pre,
    ``a_minus`` for pre after post, traces ``tau_plus`` / ``tau_minus``); ``c`` decays
    with ``tau_c`` and the weight follows

    .. math:: \frac{dc}{dt} = -\frac{c}{\tau_c} + \mathrm{STDP}, \qquad
              \frac{dw}{dt} = c\,(\mathrm{mod} + \mathrm{tonic})

    where ``mod`` is the concentration of the network modulator the projection is
    connected with (``net.connect(..., synapse=DopamineSTDP(...), modulator=mod)``) and
    ``tonic`` a constant background level. Weights stay in ``[w_min, w_max]``. Between
    events both integrate in closed form (axonforge.plastic); nothing runs per synapse
    per step.

    Defaults are the paper's, in SI for its network's delta synapses (weights are jumps
    of the membrane potential in volts): ``tau_c`` = 1 s, windows of 20 ms, weights in
    [0, 4 mV], ``a_plus = 10 mV/s``, ``a_minus = -15 mV/s`` and ``tonic = 0.002``: the
    paper's code adds 0.1 and -0.15 (mV) to ``c`` and moves ``w`` by ``(0.002 + DA)*c``
    every 10 ms, i.e. 100 times per second. On a current or conductance port give
    amplitudes and bounds in amperes or siemens (the defaults there fail the plausibility
    check at ``connect``). ``pairing="nearest"`` (the code's traces are reset,
    not summed) or ``"all"``.
    """

    def __init__(self, pairing="nearest", **params):
        _check_pairing("DopamineSTDP", pairing)
        self.pairing = pairing
        self.options = dict(pairing=pairing)
        super().__init__(**params)

    def build_spec(self) -> SynapseSpec:
        add = _TRACE_OP[self.pairing]
        return SynapseSpec(
            name=f"DopamineSTDP[{self.pairing}]",
            parameters={
                "tau_plus": (20e-3, "s", "potentiation window", STDP_WINDOW),
                "tau_minus": (20e-3, "s", "depression window", STDP_WINDOW),
                "a_plus": (10e-3, "weight/s", "eligibility step, post after pre"),
                "a_minus": (-15e-3, "weight/s", "eligibility step, pre after post (<= 0)"),
                "tau_c": (1.0, "s", "eligibility time constant", SLOW_TIME),
                "tonic": (0.002, "modulator", "background modulator level"),
                "w_min": (0.0, "weight", "lower bound"),
                "w_max": (4e-3, "weight", "upper bound"),
            },
            state={"w": (0.0, "weight", "synaptic weight")},
            pre_traces={"x_pre": "tau_plus"},
            post_traces={"x_post": "tau_minus"},
            eligibility={"c": "tau_c"},
            on_pre=(f"x_pre {add} a_plus", "c += x_post"),
            on_post=(f"x_post {add} a_minus", "c += x_pre"),
            modulated="dw/dt = c*(mod + tonic)",
            source="Izhikevich (2007) Cereb. Cortex 17:2443, eqs. (1)-(2)",
        )

    def validate(self):
        _check_bounds(self)
        p = self.params
        if p["a_plus"] < 0 or p["a_minus"] > 0:
            raise ValueError(
                f"DopamineSTDP: need a_plus >= 0 and a_minus <= 0, got a_plus = "
                f"{p['a_plus']:g}, a_minus = {p['a_minus']:g}"
            )
        if p["tonic"] < 0:
            raise ValueError(f"DopamineSTDP: tonic = {p['tonic']:g} must be >= 0")


class ErrorModulatedHebbian(SynapseModel):
    r"""Error-modulated, attention-gated three-factor Hebbian rule for readout learning.

    Source: the readout rule of Yamada & Chao (2025), "Joint encoding of 'what' and
    'when' predictions through error-modulated plasticity in reservoir spiking
    networks", arXiv:2510.14382 (an Izhikevich reservoir whose readouts learn from a
    local Hebbian term gated by attention and scaled by the prediction error), in the
    eligibility form of the three-factor framework of Frémaux & Gerstner (2016) Front.
    Neural Circuits 9:85, eq. (3). The exact constants of the paper are not reproduced
    here; the rule is the general form:

    .. math:: \frac{dc}{dt} = -\frac{c}{\tau_c} + a_{pre}\sum\delta(t - t_{pre})
              + a_{hebb}\,x_{pre}\sum\delta(t - t_{post}), \qquad
              \frac{dw}{dt} = c\cdot\mathrm{mod}

    with ``x_pre`` a presynaptic trace (``tau_pre``), and ``mod = gate * error`` given
    from Python between runs (``net.set_modulator(gate*(target - output))`` on a
    modulator created with ``tau=None``, which holds its value): the attention gate
    switches learning on and off, the error sets its sign and size. ``a_pre`` alone is
    the delta rule on presynaptic activity; ``a_hebb`` adds the Hebbian pre-post term.
    Use one projection and one modulator per readout neuron for per-neuron errors.
    Weights stay in ``[w_min, w_max]``. Defaults are for a current port (amperes): weights
    in [-1 nA, 1 nA], ``a_pre`` = 1 pA/s per presynaptic spike and unit of ``mod``.
    """

    def __init__(self, strict_units=True, **params):
        self.options = {}
        super().__init__(strict_units=strict_units, **params)

    spec = SynapseSpec(
        name="ErrorModulatedHebbian",
        parameters={
            "tau_pre": (20e-3, "s", "presynaptic trace for the Hebbian term", STDP_WINDOW),
            "tau_c": (50e-3, "s", "eligibility time constant", SLOW_TIME),
            "a_pre": (1e-12, "weight/s", "eligibility per presynaptic spike"),
            "a_hebb": (0.0, "weight/s", "eligibility per post spike, times x_pre"),
            "w_min": (-1e-9, "weight", "lower bound"),
            "w_max": (1e-9, "weight", "upper bound"),
        },
        state={"w": (0.0, "weight", "synaptic weight")},
        pre_traces={"x_pre": "tau_pre"},
        eligibility={"c": "tau_c"},
        on_pre=("x_pre += 1", "c += a_pre"),
        on_post=("c += a_hebb*x_pre",),
        modulated="dw/dt = c*mod",
        source="Yamada & Chao (2025) arXiv:2510.14382; Frémaux & Gerstner (2016) eq. (3)",
    )

    def validate(self):
        _check_bounds(self)


class GliotransmitterTsodyksMarkram(SynapseModel):
    r"""Short-term plasticity modulated by gliotransmission: the tripartite synapse of De
    Pitta et al. (2011) as Stimberg et al. (2019) write it for Brian 2 (their Fig. 3).

    Per synapse, the used fraction ``u_s`` decays at ``1/tau_f`` and the available
    resources ``x_s`` recover at ``1/tau_d`` between presynaptic spikes; at a spike

    .. math::
        U_0 = (1 - \Gamma_S) U_0^* + lpha \Gamma_S, \quad u_s \mathrel{+}= U_0 (1 - u_s),
        \quad r_s = u_s x_s, \quad x_s \mathrel{-}= r_s

    and the target receives ``w * r_s``. :math:`\Gamma_S` is ``gamma_s`` of the synapse's
    astrocyte (an :class:`~axonforge.models.AstrocyteGChI`; 0 for a synapse without one),
    read at its value at the end of the previous min-delay chunk (the previous step when
    the network's smallest delay is one step). ``alpha = 0`` (Stimberg et al.'s value)
    makes gliotransmission release-decreasing: a depressing synapse (U_0* = 0.6) becomes a
    facilitating one. Connect with ``net.connect(..., synapse=GliotransmitterTsodyksMarkram(),
    astrocytes=(glia, ids))`` or through :meth:`~axonforge.Network.connect_tripartite`.

    Parameters: ``u0_star`` 0.6 (resting release probability), ``tau_f`` 1/3.33 s,
    ``tau_d`` 0.5 s, ``alpha`` 0. The decays are kept per presynaptic neuron (time since
    its last spike, exact), the state per synapse.
    """

    def build_spec(self) -> SynapseSpec:
        return SynapseSpec(
            name="GliotransmitterTsodyksMarkram",
            parameters={
                "u0_star": (0.6, "1", "resting release probability U_0*", (0.0, 1.0)),
                "tau_f": (1 / 3.33, "s", "facilitation decay time (1/Omega_f)", SLOW_TIME),
                "tau_d": (0.5, "s", "depression recovery time (1/Omega_d)", SLOW_TIME),
                "alpha": (0.0, "1", "release-increasing (1) or -decreasing (0)", (0.0, 1.0)),
            },
            state={
                "w": (1.0, "weight", "synaptic efficacy"),
                "u_s": (0.0, "1", "used fraction of the resources"),
                "x_s": (1.0, "1", "available fraction of the resources"),
                "r_s": (0.0, "1", "fraction released at the last spike"),
            },
            pre_traces={"decay_f": "tau_f", "decay_d": "tau_d"},
            on_pre=(
                "u_s = u_s*decay_f",
                "x_s = 1 - (1 - x_s)*decay_d",
                "u_s += ((1 - gamma_s_astro)*u0_star + alpha*gamma_s_astro)*(1 - u_s)",
                "r_s = u_s*x_s",
                "x_s -= r_s",
                "decay_f = 1.0",
                "decay_d = 1.0",
            ),
            transmit="w*r_s",
            source="De Pitta et al. 2011, PLoS Comput. Biol. 7:e1002293 (eqs. 4-6); Tsodyks "
            "& Markram 1997; Stimberg et al. 2019, Computational Glioscience pp. 471-505 "
            "(Brian2 examples/frompapers/Stimberg_et_al_2018/example_3_io_synapse.py)",
        )
