"""Units and plausible ranges of model quantities, and the check that catches unit slips.

axonforge takes plain SI floats (no unit objects, which would cost speed in kernels and
arrays). What catches ``tau_m=20`` meant as 20 ms is plausibility: every parameter of a
spec declares its unit and a plausible range, as the optional fourth element of its
entry, ``"tau_m": (20e-3, "s", "membrane time constant", TIME_CONSTANT)``. A parameter
without one takes its unit's default range (:data:`UNITS`). A value outside the range
fails at once with a message naming the likely slip::

    LIF: tau_m = 20 s is outside the plausible range 10 us to 1 s; did you mean 20*ms?

The check is generic: it reads the declared unit and range, never the parameter's name.
Two kinds of rule come from a range:

* **hard** (always checked): a range whose lower bound is 0 means the quantity cannot be
  negative; a lower bound above 0 means it must be positive (time constants,
  capacitances). A model with ``strict_units=False`` still obeys these.
* **plausibility** (``strict_units=True``, the default): the value lies in the range.
  Ranges are wide (a factor of 10-100 around what the literature uses) so that a slip by
  a factor of about 10^3 (ms for s, mV for V, pA for A, nS for S, pF for F) falls outside.

Ranges are ``(lo, hi)`` (``lo <= x <= hi``) or ``magnitude(lo, hi)`` for signed
quantities bounded away from zero (``x == 0`` or ``lo <= |x| <= hi``), e.g. Izhikevich's
``a`` and ``b``, which are negative in some of his cell classes.

This module is data plus one pure function; it imports nothing from the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def magnitude(lo: float, hi: float) -> tuple:
    """A range for a signed quantity: 0, or ``lo <= |x| <= hi``."""
    return ("magnitude", float(lo), float(hi))


# ------------------------------------------------------------------ named ranges [SI]
#: membrane and synaptic time constants: 10 us to 1 s
TIME_CONSTANT = (1e-5, 1.0)
#: adaptation time constants: 1 ms to 10 s
ADAPTATION_TIME = (1e-3, 10.0)
#: STDP windows (trace time constants): 0.1 ms to 2 s
STDP_WINDOW = (1e-4, 2.0)
#: eligibility traces, recovery from depression, rate estimates: 1 ms to 100 s
SLOW_TIME = (1e-3, 100.0)
#: refractory periods: 0 to 100 ms
DEAD_TIME = (0.0, 0.1)
#: membrane potentials, thresholds, resets, reversal potentials: -200 mV to +200 mV
POTENTIAL = (-0.2, 0.2)
#: injected and synaptic currents: up to 1 uA either way
CURRENT = (-1e-6, 1e-6)
#: membrane capacitances: 1 fF to 1 uF
CAPACITANCE = (1e-15, 1e-6)
#: leak conductances: 1 pS to 10 uS (positive)
LEAK_CONDUCTANCE = (1e-12, 1e-5)
#: maximal conductances of voltage-gated channels (Hodgkin-Huxley g_na, g_k): up to 1 mS
CHANNEL_CONDUCTANCE = (0.0, 1e-3)
#: conductance-like coefficients that may be negative (AdEx ``a``): up to 10 uS
SIGNED_CONDUCTANCE = (-1e-5, 1e-5)
#: firing rates: 0 to 10 kHz
RATE = (0.0, 1e4)
#: synaptic transmission delays: up to 1 s
DELAY = (0.0, 1.0)
#: the simulation time step: 0.1 us to 10 ms
TIME_STEP = (1e-7, 1e-2)
#: concentrations (astrocytes, in uM): non-negative, up to 1 mM
CONCENTRATION = (0.0, 1e3)
#: concentrations inside vesicles (gliotransmitter, neurotransmitter): up to 10 M
VESICULAR = (0.0, 1e7)
#: dissociation and half-activation constants: positive, 1 nM to 1 mM
AFFINITY = (1e-3, 1e3)
#: slow glial time constants (IP3 degradation, gliotransmitter recovery): 1 ms to 1000 s
GLIAL_TIME = (1e-3, 1e3)
#: rate constants of glial kinetics (per second, per uM per second, uM per second):
#: non-negative, up to 10^6
GLIAL_RATE = (0.0, 1e6)
#: dimensionless non-negative factors (volume ratios, scales): 0 to 10^3
FACTOR = (0.0, 1e3)


@dataclass(frozen=True)
class Unit:
    """How a unit is shown and what is plausible for it when a spec says nothing.

    ``prefixes`` are ``(name, scale)`` pairs, the preferred spelling of a scale first,
    whose names are constants of ``axonforge.units`` (so a suggestion such as ``20*ms``
    is valid Python); a name starting with ``/`` is a per-unit (``0.02/ms``).
    ``typical`` is an ordinary magnitude, used to pick the most likely slip when several
    prefixes would fit.
    """

    prefixes: tuple
    typical: float
    default_range: tuple | None


UNITS = {
    "s": Unit((("s", 1.0), ("ms", 1e-3), ("us", 1e-6)), 1e-2, (0.0, 10.0)),
    "V": Unit((("V", 1.0), ("mV", 1e-3), ("uV", 1e-6)), 2e-2, (-0.5, 0.5)),
    "A": Unit(
        (("A", 1.0), ("mA", 1e-3), ("uA", 1e-6), ("nA", 1e-9), ("pA", 1e-12), ("fA", 1e-15)),
        1e-10,
        CURRENT,
    ),
    "F": Unit(
        (("F", 1.0), ("uF", 1e-6), ("nF", 1e-9), ("pF", 1e-12), ("fF", 1e-15)), 1e-10, CAPACITANCE
    ),
    "S": Unit(
        (("S", 1.0), ("mS", 1e-3), ("uS", 1e-6), ("nS", 1e-9), ("pS", 1e-12), ("fS", 1e-15)),
        1e-9,
        (0.0, 1e-5),
    ),
    "Hz": Unit((("Hz", 1.0), ("kHz", 1e3)), 10.0, RATE),
    "ohm": Unit((("ohm", 1.0), ("Mohm", 1e6), ("Gohm", 1e9)), 1e8, (1e3, 1e13)),
    "1/s": Unit((("/s", 1.0), ("/ms", 1e3)), 100.0, (-1e5, 1e5)),
    "V/s": Unit((("mV/ms", 1.0), ("V/s", 1.0), ("mV/s", 1e-3)), 10.0, (-1e4, 1e4)),
    "A/s": Unit(
        (("A/s", 1.0), ("uA/s", 1e-6), ("nA/s", 1e-9), ("pA/s", 1e-12)), 1e-10, (-1e-5, 1e-5)
    ),
    "S/s": Unit((("S/s", 1.0), ("nS/s", 1e-9)), 1e-9, (-1e-4, 1e-4)),
    "uM": Unit((("uM", 1.0), ("nM", 1e-3), ("mM", 1e3)), 1.0, CONCENTRATION),
    "uM/s": Unit((("uM/s", 1.0), ("uM/ms", 1e3)), 1.0, (-1e6, 1e6)),
    "1/(uM*s)": Unit((("/(uM*s)", 1.0), ("/(uM*ms)", 1e3)), 1.0, GLIAL_RATE),
}

#: what a weight means on a port, by the unit of the port's summed input ``w_in``
WEIGHT_KIND = {"A": "a current", "V": "a voltage jump", "S": "a conductance"}
#: plausible weight-valued rule parameters (amplitudes, bounds) by port unit: a PSC jump
#: up to 1 uA, a PSP jump up to 100 mV, a conductance jump up to 10 uS
WEIGHT_RANGES = {"A": (-1e-6, 1e-6), "V": (-0.1, 0.1), "S": (-1e-5, 1e-5)}
#: plausible synaptic weights given to ``connect``: as above, and not absurdly small
#: either (a weight of 20e-12 on a voltage port is a current in the wrong place); 0 is fine
SYNAPSE_WEIGHTS = {
    "A": magnitude(1e-16, 1e-6),
    "V": magnitude(1e-8, 0.1),
    "S": magnitude(1e-16, 1e-5),
}
WEIGHT_TYPICAL = {"A": 5e-11, "V": 1e-3, "S": 1e-9}
#: factors by which a value given in the wrong unit is off (a slip of 10^3 per prefix)
_SLIPS = (1e-3, 1e-6, 1e-9, 1e-12, 1e3, 1e6)


def resolve_range(entry: tuple, unit: str):
    """The plausible range of a spec entry ``(default, unit, doc[, range])``: the declared
    one, else the unit's default, else ``None`` (an unknown unit is not checked)."""
    if len(entry) > 3 and entry[3] is not None:
        return tuple(entry[3])
    known = UNITS.get(unit)
    return known.default_range if known else None


def _bounds(rng):
    """``(lo, hi, is_magnitude)`` of a range."""
    if rng[0] == "magnitude":
        return float(rng[1]), float(rng[2]), True
    return float(rng[0]), float(rng[1]), False


def _inside(x, rng) -> np.ndarray:
    lo, hi, mag = _bounds(rng)
    if mag:
        a = np.abs(x)
        return (a == 0) | ((a >= lo) & (a <= hi))
    return (x >= lo) & (x <= hi)


def prefix(x: float, unit: str):
    """The display ``(name, scale)`` of ``unit`` giving ``x`` a mantissa nearest 1-1000."""
    return min(UNITS[unit].prefixes, key=lambda p: abs(math.log10(abs(x) / p[1]) - 1.5))


def fmt(x: float, unit: str) -> str:
    """``x`` (SI) with a readable prefix: ``0.02 s -> '20 ms'``, ``20 1/s -> '20/s'``."""
    if x == 0 or unit not in UNITS:
        return f"{x:g} {unit}".strip()
    name, scale = prefix(x, unit)
    sep = "" if name.startswith("/") else " "
    return f"{x / scale:g}{sep}{name}"


def describe_range(rng, unit: str) -> str:
    lo, hi, mag = _bounds(rng)
    if mag:
        return f"0 or |x| from {fmt(lo, unit)} to {fmt(hi, unit)}"
    return f"{fmt(lo, unit)} to {fmt(hi, unit)}"


def _code(y: float, unit: str, scale: float) -> str:
    """Python that evaluates to ``y`` with ``axonforge.units``: in the prefix of
    ``scale`` (so the user sees their own number with a unit), else the most readable."""
    exact = [(n, s) for n, s in UNITS[unit].prefixes if math.isclose(s, scale)]
    name, scale = exact[0] if exact else prefix(y, unit)
    mantissa = f"{y / scale:g}"
    return f"{mantissa}{name}" if name.startswith("/") else f"{mantissa}*{name}"


def likely_slip(x: float, unit: str, rng, typical: float | None = None) -> str | None:
    """The Python expression the user probably meant (``'20*ms'``), or ``None``.

    Tries the values ``x`` would have had in a neighbouring prefix (factors of 10^3),
    keeps those inside ``rng`` and picks the one closest to a typical magnitude (the
    parameter's default, else the unit's)."""
    known = UNITS.get(unit)
    if known is None or x == 0:
        return None
    typical = abs(typical) if typical else known.typical
    fits = [f for f in _SLIPS if _inside(np.array([x * f]), rng)[0]]
    if not fits:
        return None
    f = min(fits, key=lambda f: abs(math.log10(abs(x * f)) - math.log10(typical)))
    return _code(x * f, unit, f)


def check_values(owner, name, values, unit, rng, strict, typical=None, fix=None, first=0):
    """Check ``values`` (scalar or 1-D) of quantity ``name`` against ``rng``.

    Hard rules (sign) always; plausibility when ``strict``. Raises ``ValueError`` naming
    ``owner``, the element (``name[first + i]`` for arrays, a block of a larger one), the
    plausible range and the likely slip. ``fix`` overrides the closing advice (default:
    how to turn the check off on the model).
    """
    if rng is None:
        return
    x = np.atleast_1d(np.asarray(values, dtype=np.float64))
    lo, hi, mag = _bounds(rng)
    scalar = np.ndim(values) == 0

    def where(i):
        return name if scalar else f"{name}[{first + i}]"

    if not mag and lo >= 0:
        bad = (x <= 0) if lo > 0 else (x < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            need = "> 0" if lo > 0 else ">= 0"
            raise ValueError(f"{owner}: {where(i)} = {x[i]:g} must be {need} ({unit})")
    if not strict:
        return
    out = ~_inside(x, rng)
    if not out.any():
        return
    i = int(np.flatnonzero(out)[0])
    guess = likely_slip(float(x[i]), unit, rng, typical)
    hint = f"; did you mean {guess}?" if guess else ""
    advice = fix or f"pass strict_units=False to {owner}(...) if the value is intended"
    raise ValueError(
        f"{owner}: {where(i)} = {x[i]:g} {unit} is outside the plausible range "
        f"{describe_range(rng, unit)}{hint} ({advice})"
    )


def check_weights(where, values, port_unit, strict, fix, first=0, name="weight", table=None):
    """Plausibility of weights ``values`` (scalar or 1-D) for a port whose weights are in
    ``port_unit`` (``"A"``, ``"V"``, ``"S"``; others are not checked): synaptic weights
    given to ``connect`` (``table`` :data:`SYNAPSE_WEIGHTS`), or a rule's weight-valued
    parameter (``table`` :data:`WEIGHT_RANGES`; ``name`` ending in ``/s`` for a rate). A
    value that fits another kind of port (a PSP size on a current port) is named as such.
    ``where`` names the connection and port; ``fix`` says how to turn the check off.
    """
    table = SYNAPSE_WEIGHTS if table is None else table
    rng = table.get(port_unit)
    if rng is None or not strict:
        return
    x = np.atleast_1d(np.asarray(values, dtype=np.float64))
    # too large: any weight; too small: only when even the largest one is (weights drawn
    # from a distribution around 0 are legitimately tiny now and then)
    lo, hi, _ = _bounds(rng)
    a = np.abs(x)
    out = np.flatnonzero(a > max(hi, -lo) if lo < 0 else a > hi)
    if len(out):
        i = int(out[0])
    elif len(a) and 0 < a.max() < (lo if lo > 0 else 0):
        i = int(np.argmax(a))
    else:
        return
    v = float(x[i])
    per_s = name.endswith("/s")
    label = name[:-2] if per_s else name
    unit = port_unit + ("/s" if per_s else "")
    shown = label if np.ndim(values) == 0 else f"{label}[{first + i}]"
    head = (
        f"{where}: {shown} = {v:g} {unit} ({WEIGHT_KIND[port_unit]}"
        f"{' per second' if per_s else ''}) is outside the plausible range "
        f"{describe_range(rng, unit)}"
    )
    other = [u for u in table if u != port_unit and _inside(np.array([v]), table[u])[0]]
    if other:
        u = min(other, key=lambda u: abs(math.log10(abs(v) / WEIGHT_TYPICAL[u])))
        hint = (
            f"; it looks like {WEIGHT_KIND[u]} ({u}), but this port takes "
            f"{WEIGHT_KIND[port_unit]} in {port_unit}"
        )
        if (u, port_unit) == ("V", "A") and not per_s and table is SYNAPSE_WEIGHTS:
            hint += (
                " (a PSP of size v corresponds to about v*c_m/tau_m, as examples/cuba.py "
                "converts; or make the population with kinetics='delta')"
            )
    else:
        guess = likely_slip(v, unit, rng, WEIGHT_TYPICAL[port_unit])
        hint = f"; did you mean {guess}?" if guess else ""
    raise ValueError(f"{head}{hint} ({fix})")
