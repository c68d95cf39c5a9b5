"""Declarative model specs: the data a neuron model is made of.

A :class:`NeuronSpec` lists parameters (with defaults and units), state variables (with
initial values), ODEs as Python-syntax strings, a threshold condition, reset statements,
a refractory period and receptor ports. Nothing here runs a model: ``simulator`` parses,
checks and compiles specs. This module imports nothing from ``simulator`` on purpose, so
that models stay plain data.

All quantities are SI floats (volts, seconds, amperes, siemens, farads). Every parameter
declares its unit and, optionally, a plausible range (:mod:`axonforge.models.ranges`);
values are checked against it when a model is made.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import MISSING, dataclass, field, fields, replace

import numpy as np

from . import ranges

#: Keyword arguments of a model constructor that are not parameters.
RESERVED_KWARGS = ("kinetics", "method", "strict_units", "error_tol", "sic")


def _jsonable(value):
    """Tuples become lists (recursively), so a spec round-trips through JSON."""
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _frozen(value):
    """Inverse of :func:`_jsonable`: lists become tuples again."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _default(f):
    return f.default_factory() if f.default is MISSING else f.default


class SpecData:
    """``to_dict`` / ``from_dict`` / ``to_json`` for spec dataclasses (saved files and cache
    keys). Fields missing from an older file take their defaults; fields added since the
    first file format (``ADDED``) are written only when they differ from their default,
    so an older file loads and saves unchanged."""

    ADDED: tuple = ()

    def to_dict(self) -> dict:
        return {
            f.name: _jsonable(getattr(self, f.name))
            for f in fields(self)
            if f.name not in self.ADDED or getattr(self, f.name) != _default(f)
        }

    @classmethod
    def from_dict(cls, d: dict):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown field(s) {unknown} in a saved spec")
        return cls(**{k: _frozen(v) for k, v in d.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class NeuronSpec(SpecData):
    """The structure of a neuron model.

    Parameters
    ----------
    name : str
        Model name used in error messages and in saved files.
    parameters : dict
        ``name -> (default, unit, description)`` or ``(default, unit, description,
        range)``. A default of ``None`` makes the parameter required. ``range`` is the
        plausible range in SI, ``(lo, hi)`` or ``ranges.magnitude(lo, hi)``; without one
        the unit's default range applies (:data:`axonforge.models.ranges.UNITS`; a unit
        not listed there is not checked). Values outside it fail with the likely unit
        slip unless the model is made with ``strict_units=False``.
    state : dict
        ``name -> (initial value, unit, description[, range])``. The initial value is a
        number or an expression of parameters (``"v_rest"``, ``"b*c"``).
    equations : tuple of str
        ODEs such as ``"dv/dt = (v_rest - v)/tau_m + I_syn/c_m"``.
    threshold : str or None
        Spike condition, e.g. ``"v >= v_thresh"``; ``None`` for a model that never spikes.
    reset : tuple of str
        Statements run after a spike, e.g. ``("v = v_reset", "u += d")``.
    refractory : str or None
        Name of the parameter holding the refractory period [s], or a condition (Brian2's
        boolean refractoriness, e.g. ``"ca > c_theta"``): after a spike the neuron stays
        refractory until the condition is false at the start of a step, so ``threshold``
        and ``refractory`` both ``"ca > c_theta"`` fire on each upward crossing.
    clamped : tuple of str
        State variables held constant (and deaf to input) while refractory.
    ports : dict
        Receptor port -> statement applied when input arrives, using the symbol ``w_in``
        for the summed weight arriving in the step (e.g. ``"i_syn_exc += w_in"``). The
        statement is applied once per step with the sum of all weights arriving in that
        step, so it must be linear in ``w_in``.
    port_signs : dict
        Port -> ``+1`` (weights must be >= 0), ``-1`` (<= 0); absent means any sign.
    port_units : dict
        Port -> SI unit of its weights (``"A"``, ``"V"``, ``"S"``), used to check the
        plausibility of weights given to ``connect``. Absent, it is the unit of the
        assigned state variable when the statement is ``x += w_in``.
    subexpressions : dict
        Named expressions inlined into equations, e.g. ``{"I_syn": "i_syn_exc + i_syn_inh"}``.
    method : str
        ``"exact"`` (linear systems only, matrix exponential), ``"euler"``, ``"rk2"``,
        ``"rk4"``, ``"exponential_euler"`` (each ODE affine in its own variable, as
        Hodgkin-Huxley models), ``"rkf45"`` (adaptive Runge-Kutta-Fehlberg 4(5) per
        neuron, with the reset at the threshold crossing inside the step, as NEST's aeif
        models), or ``"auto"`` (exact when linear, else rk4).
    bounds : dict
        State variable -> ``(lo, hi)``, numbers or expressions of parameters (``None``:
        no bound on that side): the variable is clipped into the range after each step's
        integration, before input arrives (NEST's ``astrocyte_lr_1994`` clips calcium to
        ``[0, ca_tot]``). For quantities that cannot leave a physical range, not to hide
        an integration error.
    outputs : dict
        Graded output name -> expression of the state and parameters, e.g. the slow
        inward current of an astrocyte. A model with an output emits it every step, as an
        event carrying the value wherever it is nonzero, through its projections (the
        target port receives ``weight * value`` at ``step + delay``), instead of spikes:
        it has no threshold. One output per model.
    error_tol : float
        Method ``"rkf45"``: the absolute error allowed per sub-step, in the units NEST
        states it in (mV, pA, nS, pF, ms, uM; :data:`axonforge.spec.TOLERANCE_SCALE`);
        1e-6 is NEST's ``gsl_error_tol`` default.
    source : str
        The paper or spec the model implements, with equation numbers.
    """

    name: str
    parameters: dict
    state: dict
    equations: tuple
    threshold: str | None = None
    reset: tuple = ()
    refractory: str | None = None
    clamped: tuple = ()
    ports: dict = field(default_factory=dict)
    port_signs: dict = field(default_factory=dict)
    port_units: dict = field(default_factory=dict)
    subexpressions: dict = field(default_factory=dict)
    method: str = "auto"
    source: str = ""
    error_tol: float = 1e-6
    bounds: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)

    ADDED = ("error_tol", "bounds", "outputs")


# --------------------------------------------------------------------------------------
# Synaptic kinetics: each adds state, parameters, ODEs and a port statement to a membrane.
# --------------------------------------------------------------------------------------
E = float(np.e)
TAU = ranges.TIME_CONSTANT


def _kinetics(kind: str, port: str, voltage: str) -> dict:
    """Pieces that synaptic kinetics ``kind`` adds to a membrane for one receptor port.

    Sources: exponential and alpha current kinetics as in NEST ``iaf_psc_exp`` /
    ``iaf_psc_alpha`` (the alpha weight is the PSC peak, reached ``tau_syn`` after the
    spike); delta as NEST ``iaf_psc_delta`` (a jump of the membrane potential);
    exponential conductance as NEST ``iaf_cond_exp`` (Kuhn et al. 2004); alpha conductance
    as NEST ``iaf_cond_alpha``/``aeif_cond_alpha`` (the weight is the peak conductance,
    reached ``tau_syn`` after the spike; reversal potentials 0 and -85 mV as there).
    """
    sign = -1 if port == "inh" else 1
    tau, i, x, g, erev = (
        f"tau_syn_{port}",
        f"i_syn_{port}",
        f"x_syn_{port}",
        f"g_{port}",
        f"e_rev_{port}",
    )
    default_tau = 5e-3 if port == "exc" else 10e-3
    if kind == "delta":
        return dict(
            params={},
            state={},
            eqs=[],
            jump=f"{voltage} += w_in",
            current=None,
            sign=sign,
            unit="V",
        )
    if kind == "exp":
        return dict(
            params={tau: (default_tau, "s", f"decay time of the {port} current", TAU)},
            state={i: (0.0, "A", f"{port} synaptic current")},
            eqs=[f"d{i}/dt = -{i}/{tau}"],
            jump=f"{i} += w_in",
            current=i,
            sign=sign,
            unit="A",
        )
    if kind == "alpha":
        return dict(
            params={tau: (default_tau, "s", f"rise/decay time of the {port} current", TAU)},
            state={
                i: (0.0, "A", f"{port} synaptic current"),
                x: (0.0, "A", f"{port} alpha-kernel helper"),
            },
            eqs=[f"d{x}/dt = -{x}/{tau}", f"d{i}/dt = ({x} - {i})/{tau}"],
            jump=f"{x} += w_in*{E!r}",
            current=i,
            sign=sign,
            unit="A",
        )
    if kind == "cond_exp":
        return dict(
            params={
                tau: (default_tau, "s", f"decay time of the {port} conductance", TAU),
                erev: (
                    0.0 if port == "exc" else -80e-3,
                    "V",
                    f"{port} reversal potential",
                    ranges.POTENTIAL,
                ),
            },
            state={g: (0.0, "S", f"{port} conductance")},
            eqs=[f"d{g}/dt = -{g}/{tau}"],
            jump=f"{g} += w_in",
            current=f"{g}*({erev} - {voltage})",
            sign=1,
            unit="S",
        )
    if kind == "cond_alpha":
        return dict(
            params={
                tau: (default_tau, "s", f"rise/decay time of the {port} conductance", TAU),
                erev: (
                    0.0 if port == "exc" else -85e-3,
                    "V",
                    f"{port} reversal potential",
                    ranges.POTENTIAL,
                ),
            },
            state={
                g: (0.0, "S", f"{port} conductance"),
                x: (0.0, "S", f"{port} alpha-kernel helper"),
            },
            eqs=[f"d{x}/dt = -{x}/{tau}", f"d{g}/dt = ({x} - {g})/{tau}"],
            jump=f"{x} += w_in*{E!r}",
            current=f"{g}*({erev} - {voltage})",
            sign=1,
            unit="S",
        )
    raise ValueError(
        f"unknown synaptic kinetics {kind!r}; choose one of {', '.join(map(repr, KINETICS))}"
    )


KINETICS = ("delta", "exp", "alpha", "cond_exp", "cond_alpha")


def compose(
    membrane: NeuronSpec, kinetics: str, ports=("exc", "inh"), voltage="v", sic=False
) -> NeuronSpec:
    """Attach synaptic kinetics to a membrane spec whose equations use ``I_syn``.

    ``I_syn`` becomes the sum of the port currents (zero for delta kinetics, whose ports
    jump the membrane variable ``voltage`` directly). ``sic=True`` adds the port
    ``"sic"`` for an astrocyte's slow inward current, as NEST's ``aeif_cond_alpha_astro``:
    the current ``i_sic`` [A] is the summed input of the step (weight times the
    astrocyte's graded output), held for the next step and added to ``I_syn``.
    """
    params, state = dict(membrane.parameters), dict(membrane.state)
    eqs, jumps, signs, units, currents = list(membrane.equations), {}, {}, {}, []
    for port in ports:
        k = _kinetics(kinetics, port, voltage)
        params.update(k["params"])
        state.update(k["state"])
        eqs += k["eqs"]
        jumps[port] = k["jump"]
        signs[port] = k["sign"]
        units[port] = k["unit"]
        if k["current"]:
            currents.append(k["current"])
    if sic:
        state["i_sic"] = (0.0, "A", "slow inward current from astrocytes (this step's)")
        eqs.append("di_sic/dt = 0*i_sic")
        jumps["sic"] = "i_sic = w_in"
        units["sic"] = "A"
        currents.append("i_sic")
    sub = dict(membrane.subexpressions)
    sub["I_syn"] = " + ".join(f"({c})" for c in currents) if currents else "0.0"
    return replace(
        membrane,
        name=f"{membrane.name}[{kinetics}{'+sic' if sic else ''}]",
        parameters=params,
        state=state,
        equations=tuple(eqs),
        ports=jumps,
        port_signs=signs,
        port_units=units,
        subexpressions=sub,
    )


class NeuronModel:
    """A neuron spec plus parameter values: what ``Network.population`` takes.

    Subclasses set either ``spec`` (a complete :class:`NeuronSpec`, ports included) or
    ``membrane`` (a spec whose equations use ``I_syn``) together with
    ``default_kinetics``; the latter lets users pick synaptic kinetics per population
    with ``kinetics="delta" | "exp" | "alpha" | "cond_exp" | "cond_alpha"``.

    Parameters are keyword arguments: scalars, or arrays with one value per neuron.
    ``method=`` overrides the spec's integration method (``error_tol=`` its tolerance
    under ``"rkf45"``). ``sic=True`` adds the port ``"sic"`` for astrocytes' slow inward
    current (:func:`compose`). ``strict_units=False`` turns off
    the plausibility check of parameter values, initial values, weights and delays
    (:mod:`axonforge.models.ranges`) for people who know their values are unusual.
    """

    spec: NeuronSpec | None = None
    membrane: NeuronSpec | None = None
    default_kinetics: str = "exp"
    allowed_kinetics: tuple = KINETICS

    def __init__(
        self,
        kinetics: str | None = None,
        method: str | None = None,
        strict_units: bool = True,
        error_tol: float | None = None,
        sic: bool = False,
        **params,
    ):
        if self.membrane is not None:
            kinetics = kinetics or self.default_kinetics
            if kinetics not in self.allowed_kinetics:
                raise ValueError(
                    f"{type(self).__name__}: kinetics={kinetics!r} is not available; "
                    f"choose one of {self.allowed_kinetics}"
                )
            spec = self.adjust_spec(compose(self.membrane, kinetics, sic=bool(sic)))
        elif self.spec is not None:
            if kinetics is not None or sic:
                raise TypeError(
                    f"{type(self).__name__} defines its own ports; it takes no kinetics= or "
                    "sic= argument"
                )
            spec = self.spec
        else:
            raise TypeError(f"{type(self).__name__} defines neither `spec` nor `membrane`")
        if method is not None:
            spec = replace(spec, method=method)
        if error_tol is not None:
            spec = replace(spec, error_tol=float(error_tol))
        self.kinetics = kinetics
        self.sic = bool(sic)
        self.spec = spec
        self.strict_units = bool(strict_units)
        self.params = check_params(spec, params, type(self).__name__, self.strict_units)

    def adjust_spec(self, spec: NeuronSpec) -> NeuronSpec:
        """Change the composed spec (membrane + kinetics); the default keeps it."""
        return spec

    def __repr__(self):
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shown})"


def _short(v):
    a = np.asarray(v)
    return f"{float(a):.4g}" if a.ndim == 0 else f"<array {a.shape}>"


def check_params(spec, given: dict, owner: str, strict: bool = True) -> dict:
    """Validate parameter keywords against ``spec``: unknown names, missing required ones,
    non-numeric or non-finite values, and every value (defaults too) against its declared
    unit and plausible range (:func:`check_quantity`). Returns ``name -> value``."""
    out = {}
    for name, value in given.items():
        if name not in spec.parameters:
            hint = difflib.get_close_matches(name, list(spec.parameters), n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"known: {sorted(spec.parameters)}"
            raise TypeError(f"{owner}: unknown parameter {name!r}; {fix}")
        arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
        if arr is None or arr.ndim > 1:
            raise TypeError(
                f"{owner}: parameter {name!r} must be a number or a 1-D array, got {value!r}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{owner}: parameter {name!r} has non-finite values (NaN or inf)")
        out[name] = float(arr) if arr.ndim == 0 else arr
    for name, entry in spec.parameters.items():
        if name not in out:
            if entry[0] is None:
                raise TypeError(f"{owner}: parameter {name!r} is required")
            out[name] = float(entry[0])
        check_quantity(owner, name, out[name], entry, strict)
    return out


def check_quantity(owner, name, values, entry, strict, fix=None):
    """Check values of the spec entry ``entry = (default, unit, doc[, range])`` against
    its plausible range: hard sign rules always, plausibility if ``strict``. A unit in
    weights (``"weight"``, ``"weight/s"``: synapse rules) is checked later, against the
    unit of the port a projection targets (``SynapseModel.check_weight_units``)."""
    unit = entry[1]
    if unit.startswith("weight"):
        return
    typical = entry[0] if isinstance(entry[0], (int, float)) and entry[0] else None
    rng = ranges.resolve_range(entry, unit)
    ranges.check_values(owner, name, values, unit, rng, strict, typical=typical, fix=fix)


def port_unit(spec: NeuronSpec, port: str):
    """The SI unit of the weights of ``port``: declared in ``spec.port_units``, else the
    unit of ``x`` when the port statement is ``x += w_in``; ``None`` if unknown."""
    if port in spec.port_units:
        return spec.port_units[port]
    target, _, rest = spec.ports.get(port, "").partition("+=")
    target = target.strip()
    if rest.strip() == "w_in" and target in spec.state:
        return spec.state[target][1]
    return None


def spec_model(spec: NeuronSpec, strict_units: bool = True, **params) -> NeuronModel:
    """A :class:`NeuronModel` for a spec that has no class of its own (e.g. a loaded one)."""
    cls = type(spec.name.split("[")[0], (NeuronModel,), {"spec": spec})
    return cls(strict_units=strict_units, **params)
