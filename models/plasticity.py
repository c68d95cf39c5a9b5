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
* Statements that assign a trace run once per spike, before the per-synapse statements;
  a trace is read at its value at the event time (decayed exactly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from models.base import check_params


@dataclass(frozen=True)
class SynapseSpec:
    """The structure of a plastic synapse.

    Parameters
    ----------
    name : str
    parameters : dict
        ``name -> (default, unit, description)``; shared by all synapses of a projection.
    state : dict
        Per-synapse variables ``name -> (initial, unit, description)``; must contain ``w``.
    pre_traces, post_traces : dict
        ``trace -> name of its time-constant parameter``; each trace decays as
        ``dx/dt = -x/tau`` and is kept once per presynaptic / postsynaptic neuron.
    on_pre, on_post : tuple of str
        Statements (``x = expr``, ``x += expr``); ``clip(x, lo, hi)``, ``min``, ``max``,
        ``exp``, ``abs`` and ``sqrt`` are available.
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
    source: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "parameters": {k: list(v) for k, v in self.parameters.items()},
            "state": {k: list(v) for k, v in self.state.items()},
            "pre_traces": dict(self.pre_traces),
            "post_traces": dict(self.post_traces),
            "on_pre": list(self.on_pre),
            "on_post": list(self.on_post),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SynapseSpec:
        return cls(
            name=d["name"],
            parameters={k: tuple(v) for k, v in d["parameters"].items()},
            state={k: tuple(v) for k, v in d["state"].items()},
            pre_traces=dict(d["pre_traces"]),
            post_traces=dict(d["post_traces"]),
            on_pre=tuple(d["on_pre"]),
            on_post=tuple(d["on_post"]),
            source=d.get("source", ""),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


class SynapseModel:
    """A synapse spec plus parameter values: what ``Network.connect(synapse=...)`` takes.

    Subclasses set ``spec`` or override :meth:`build_spec`; :meth:`validate` adds checks
    that relate parameters to each other. Parameters are scalars (per projection).
    """

    spec: SynapseSpec | None = None

    #: constructor options that are not parameters (saved with the network)
    options: dict = {}

    def __init__(self, **params):
        spec = self.build_spec()
        self.spec = spec
        self.params = check_params(spec, params, type(self).__name__)
        for name, value in self.params.items():
            if not isinstance(value, float):
                raise TypeError(f"{type(self).__name__}: parameter {name!r} must be a scalar")
        for trace, tau in {**spec.pre_traces, **spec.post_traces}.items():
            if self.params[tau] <= 0:
                raise ValueError(
                    f"{type(self).__name__}: {tau} = {self.params[tau]:g} must be > 0 "
                    f"(time constant of trace {trace!r}, seconds)"
                )
        self.validate()

    def build_spec(self) -> SynapseSpec:
        if type(self).spec is None:
            raise TypeError(f"{type(self).__name__} defines no spec")
        return type(self).spec

    def validate(self):
        """Rule-specific checks of parameter values (override)."""

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
    tau_plus, tau_minus : float [s]   window time constants (default 20 ms).
    a_plus : float   potentiation amplitude, in the weight's unit (>= 0).
    a_minus : float  depression amplitude (<= 0; any sign with ``symmetric=True``).
    w_min, w_max : float   bounds, in the weight's unit (w_min <= w_max).
    w_dependence : {"additive", "multiplicative"}
    pairing : {"all", "nearest"}
    symmetric : bool   allow a positive ``a_minus`` (e.g. symmetric Hebbian windows).
    """

    def __init__(self, w_dependence="additive", pairing="all", symmetric=False, **params):
        if w_dependence not in ("additive", "multiplicative"):
            raise ValueError(
                f"STDP: w_dependence must be 'additive' or 'multiplicative', got {w_dependence!r}"
            )
        if pairing not in ("all", "nearest"):
            raise ValueError(f"STDP: pairing must be 'all' or 'nearest', got {pairing!r}")
        self.w_dependence, self.pairing, self.symmetric = w_dependence, pairing, bool(symmetric)
        self.options = dict(w_dependence=w_dependence, pairing=pairing, symmetric=self.symmetric)
        super().__init__(**params)

    def build_spec(self) -> SynapseSpec:
        add = "+=" if self.pairing == "all" else "="
        if self.w_dependence == "additive":
            pot, dep = "x_pre", "x_post"
        else:
            pot = "x_pre*(w_max - w)/(w_max - w_min)"
            dep = "x_post*(w - w_min)/(w_max - w_min)"
        return SynapseSpec(
            name=f"STDP[{self.w_dependence},{self.pairing}]",
            parameters={
                "tau_plus": (20e-3, "s", "potentiation window time constant"),
                "tau_minus": (20e-3, "s", "depression window time constant"),
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
        p = self.params
        if p["w_min"] > p["w_max"]:
            raise ValueError(
                f"STDP: w_min = {p['w_min']:g} is above w_max = {p['w_max']:g}; give w_min <= w_max"
            )
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
