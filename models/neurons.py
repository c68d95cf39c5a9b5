"""The neuron model library: LIF (current and conductance based), Izhikevich, AdEx,
Hodgkin-Huxley (Traub & Miles).

Each class is a spec (data) plus its documented source. Units are SI: V, s, A, F, S.
Synaptic kinetics are chosen per population with ``kinetics=`` (see
:func:`models.base.compose`); receptor ports are ``"exc"`` and ``"inh"``.
"""

from __future__ import annotations

from dataclasses import replace

from .base import NeuronModel, NeuronSpec
from .ranges import (
    ADAPTATION_TIME,
    CAPACITANCE,
    CHANNEL_CONDUCTANCE,
    CURRENT,
    DEAD_TIME,
    LEAK_CONDUCTANCE,
    POTENTIAL,
    RATE,
    SIGNED_CONDUCTANCE,
    SLOW_TIME,
    TIME_CONSTANT,
    magnitude,
)

_LIF_MEMBRANE = NeuronSpec(
    name="LIF",
    parameters={
        "tau_m": (20e-3, "s", "membrane time constant", TIME_CONSTANT),
        "c_m": (250e-12, "F", "membrane capacitance", CAPACITANCE),
        "v_rest": (-70e-3, "V", "resting (leak reversal) potential", POTENTIAL),
        "v_thresh": (-55e-3, "V", "spike threshold", POTENTIAL),
        "v_reset": (-70e-3, "V", "reset potential", POTENTIAL),
        "t_ref": (2e-3, "s", "absolute refractory period", DEAD_TIME),
        "i_offset": (0.0, "A", "constant injected current", CURRENT),
    },
    state={"v": ("v_rest", "V", "membrane potential")},
    equations=("dv/dt = (v_rest - v)/tau_m + (I_syn + i_offset)/c_m",),
    threshold="v >= v_thresh",
    reset=("v = v_reset",),
    refractory="t_ref",
    clamped=("v",),
    method="auto",
    source="Leaky integrate-and-fire; dynamics of NEST iaf_psc_exp/iaf_psc_alpha/iaf_psc_delta "
    "(Rotter & Diesmann 1999, Biol. Cybern. 81:381, exact integration, eqs. 3-7).",
)


class LIF(NeuronModel):
    r"""Leaky integrate-and-fire neuron, current based (NEST ``iaf_psc_exp`` by default).

    .. math::
        \frac{dv}{dt} = \frac{v_{rest} - v}{\tau_m} + \frac{I_{syn} + i_{offset}}{c_m}

    A spike is emitted when ``v >= v_thresh``; ``v`` is then set to ``v_reset`` and held
    there, deaf to input, for ``t_ref`` (rounded to steps). Integrated exactly (matrix
    exponential, Rotter & Diesmann 1999), so results do not depend on ``dt`` between
    events.

    Parameters
    ----------
    tau_m : float [s]
        Membrane time constant (default 20 ms).
    c_m : float [F]
        Membrane capacitance (250 pF).
    v_rest, v_thresh, v_reset : float [V]
        (-70, -55, -70 mV).
    t_ref : float [s]
        Refractory period (2 ms).
    i_offset : float [A]
        Constant input current (0).
    tau_syn_exc, tau_syn_inh : float [s]
        Synaptic time constants (5, 10 ms), for ``kinetics="exp"`` (default) or
        ``"alpha"``. With ``"delta"`` a weight is a jump of ``v`` in volts, as in NEST
        ``iaf_psc_delta``.

    Notes
    -----
    State: ``v`` [V], and per port ``i_syn_exc``, ``i_syn_inh`` [A] (exp/alpha kinetics).
    Weights on ``exc`` must be >= 0 and on ``inh`` <= 0 (amperes; volts for delta).
    """

    membrane = _LIF_MEMBRANE
    default_kinetics = "exp"


class LIFCond(NeuronModel):
    r"""Leaky integrate-and-fire neuron with exponential conductances (NEST ``iaf_cond_exp``).

    .. math::
        \frac{dv}{dt} = \frac{v_{rest} - v}{\tau_m} +
        \frac{g_{exc}(e_{rev,exc} - v) + g_{inh}(e_{rev,inh} - v) + i_{offset}}{c_m}

    Source: Kuhn, Aertsen & Rotter (2004) J. Neurosci. 24:2345, as implemented by NEST
    ``iaf_cond_exp``. The system is bilinear in (v, g), so it is integrated with RK4.
    Weights are conductance jumps in siemens, >= 0 on both ports.

    Parameters: as :class:`LIF`, plus ``e_rev_exc`` (0 mV), ``e_rev_inh`` (-80 mV) [V].
    State: ``v`` [V], ``g_exc``, ``g_inh`` [S].
    """

    membrane = _LIF_MEMBRANE
    default_kinetics = "cond_exp"


class Izhikevich(NeuronModel):
    r"""Izhikevich (2003) simple model, written in SI units.

    .. math::
        \frac{dv}{dt} = 0.04\,\frac{v^2}{\mathrm{mV\,ms}} + \frac{5\,v}{\mathrm{ms}}
            + 140\,\frac{\mathrm{mV}}{\mathrm{ms}} - u + \frac{I_{syn} + i_{offset}}{c_m},
        \qquad \frac{du}{dt} = a\,(b\,v - u)

    if ``v >= v_peak``: ``v = c``, ``u += d``. Source: E. M. Izhikevich, "Simple model of
    spiking neurons", IEEE Trans. Neural Netw. 14:1569 (2003), eqs. (1)-(3) and Fig. 2.

    Units: the paper's time unit is ms and its potential unit mV; here ``a`` and ``b``
    are in 1/s (paper value x 1000), ``c`` in V, ``d`` and ``u`` in V/s (= mV/ms).
    Input current is divided by ``c_m`` (default 1 pF), so ``i_offset = 10 pA`` is the
    paper's ``I = 10``. Default kinetics are ``"delta"`` (a weight is a jump of ``v`` in
    volts, as in the paper's network and NEST ``izhikevich``). Integrated with forward
    Euler like the paper's code; pass ``method="rk4"`` for more accuracy.

    Presets (Fig. 2 of the paper): ``Izhikevich.preset("RS" | "IB" | "CH" | "FS" | "LTS" |
    "TC" | "RZ", **overrides)``.
    """

    membrane = NeuronSpec(
        name="Izhikevich",
        parameters={
            # signed: some of Izhikevich's (2004) cell classes have a < 0 or b < 0
            "a": (20.0, "1/s", "recovery rate (paper: 0.02 /ms)", magnitude(0.1, 1e4)),
            "b": (200.0, "1/s", "recovery sensitivity (paper: 0.2 /ms)", magnitude(1.0, 1e4)),
            "c": (-65e-3, "V", "reset potential", POTENTIAL),
            "d": (8.0, "V/s", "recovery jump after a spike (paper: 8)", magnitude(0.01, 100.0)),
            "v_peak": (30e-3, "V", "spike cut-off", POTENTIAL),
            "c_m": (1e-12, "F", "input scale: i/c_m is the paper's I in mV/ms", CAPACITANCE),
            "i_offset": (0.0, "A", "constant input current", CURRENT),
        },
        state={"v": ("c", "V", "membrane potential"), "u": ("b*c", "V/s", "recovery variable")},
        equations=(
            "dv/dt = 4e4*v**2 + 5e3*v + 140.0 - u + (I_syn + i_offset)/c_m",
            "du/dt = a*(b*v - u)",
        ),
        threshold="v >= v_peak",
        reset=("v = c", "u += d"),
        method="euler",
        source="Izhikevich (2003) IEEE TNN 14:1569, eqs. (1)-(3)",
    )
    default_kinetics = "delta"

    #: Fig. 2 of Izhikevich (2003): (a [1/ms], b [1/ms... dimensionless], c [mV], d)
    PRESETS_PAPER = {
        "RS": (0.02, 0.2, -65.0, 8.0),  # regular spiking
        "IB": (0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
        "CH": (0.02, 0.2, -50.0, 2.0),  # chattering
        "FS": (0.1, 0.2, -65.0, 2.0),  # fast spiking
        "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
        "TC": (0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
        "RZ": (0.1, 0.26, -65.0, 2.0),  # resonator
    }

    @classmethod
    def preset(cls, name: str, **overrides) -> Izhikevich:
        """The named cell class of Izhikevich (2003), Fig. 2, converted to SI."""
        try:
            a, b, c, d = cls.PRESETS_PAPER[name.upper()]
        except KeyError:
            raise ValueError(
                f"unknown Izhikevich preset {name!r}; choose one of {sorted(cls.PRESETS_PAPER)}"
            ) from None
        params = dict(a=a * 1e3, b=b * 1e3, c=c * 1e-3, d=d)
        params.update(overrides)
        return cls(**params)


class AdEx(NeuronModel):
    r"""Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    .. math::
        c_m \frac{dv}{dt} = -g_l (v - e_l) + g_l \Delta_T e^{(v - v_t)/\Delta_T} - w
            + I_{syn} + i_{offset}, \qquad
        \tau_w \frac{dw}{dt} = a (v - e_l) - w

    if ``v >= v_peak``: ``v = v_reset``, ``w += b``; ``v`` is clamped for ``t_ref``.
    Source: R. Brette & W. Gerstner, J. Neurophysiol. 94:3637 (2005), eqs. (1)-(2);
    defaults, and ``v`` bounded by ``v_peak`` in every right-hand side (which keeps the
    Runge-Kutta stages finite in the spike step), as in NEST ``aeif_psc_exp``.
    ``delta_t = 0`` is the integrate-and-fire limit as in NEST: no exponential current,
    and the threshold becomes ``v_t``.

    Accuracy: by default integrated with RK4 at the network's ``dt`` and reset at the END
    of the step in which ``v`` crosses ``v_peak``. NEST (adaptive RKF45) resets inside the
    step and integrates its remainder from the reset state, so here each interspike
    interval is rounded up to whole steps and spike k lags NEST's by about 0.6-0.8 k
    steps. Measured against NEST 3.10 (``tests/fixtures/nest_aeif_drift.json``): NEST's
    LSODAR protocol at dt = 0.1 ms, 7th spike 5 steps (0.5 ms) late; a tonic cell (I =
    800 pA, 17 spikes in 1 s), 17th spike 13 steps (1.3 ms) late; spike counts equal.
    ``AdEx(method="rkf45")`` integrates as NEST does (adaptive Runge-Kutta-Fehlberg 4(5)
    per neuron, ``error_tol`` 1e-6 in mV/pA, the reset inside the step): every spike of
    those protocols, and of one with t_ref = 2 ms and synaptic input, falls in the same
    step as NEST's at dt = 0.1 and 0.01 ms, at a higher cost per neuron and step.

    Parameters: ``c_m`` [F] 281 pF, ``g_l`` [S] 30 nS, ``e_l`` [V] -70.6 mV, ``delta_t``
    [V] 2 mV, ``v_t`` [V] -50.4 mV, ``tau_w`` [s] 144 ms, ``a`` [S] 4 nS, ``b`` [A]
    80.5 pA, ``v_reset`` [V] -60 mV, ``v_peak`` [V] 0 mV, ``t_ref`` [s] 0, ``i_offset`` [A].
    """

    membrane = NeuronSpec(
        name="AdEx",
        parameters={
            "c_m": (281e-12, "F", "membrane capacitance", CAPACITANCE),
            "g_l": (30e-9, "S", "leak conductance", LEAK_CONDUCTANCE),
            "e_l": (-70.6e-3, "V", "leak reversal potential", POTENTIAL),
            "delta_t": (2e-3, "V", "slope factor (0: integrate-and-fire limit)", (0.0, 0.05)),
            "v_t": (-50.4e-3, "V", "exponential threshold", POTENTIAL),
            "tau_w": (144e-3, "s", "adaptation time constant", ADAPTATION_TIME),
            "a": (4e-9, "S", "subthreshold adaptation", SIGNED_CONDUCTANCE),
            "b": (80.5e-12, "A", "spike-triggered adaptation", CURRENT),
            "v_reset": (-60e-3, "V", "reset potential", POTENTIAL),
            "v_peak": (0.0, "V", "spike cut-off", POTENTIAL),
            "t_ref": (0.0, "s", "refractory period", DEAD_TIME),
            "i_offset": (0.0, "A", "constant input current", CURRENT),
        },
        state={"v": ("e_l", "V", "membrane potential"), "w": (0.0, "A", "adaptation current")},
        equations=(
            "dv/dt = (-g_l*(v_b - e_l) + i_spike - w + I_syn + i_offset)/c_m",
            "dw/dt = (a*(v_b - e_l) - w)/tau_w",
        ),
        subexpressions={
            # NEST's aeif models bound v by v_peak in every right-hand side: the exponential
            # term makes RK stages overshoot by orders of magnitude within the spike step.
            "v_b": "min(v, v_peak)",
            # delta_t = 0 is the integrate-and-fire limit (NEST: no spike current, and the
            # threshold becomes v_t), not 0/0
            "i_spike": "g_l*delta_t*exp((v_b - v_t)/delta_t) if delta_t > 0 else 0.0",
        },
        threshold="v >= (v_peak if delta_t > 0 else v_t)",
        reset=("v = v_reset", "w += b"),
        refractory="t_ref",
        clamped=("v",),
        method="rk4",
        source="Brette & Gerstner (2005) J. Neurophysiol. 94:3637, eqs. (1)-(2)",
    )
    default_kinetics = "exp"


class HH(NeuronModel):
    r"""Hodgkin-Huxley neuron with Traub & Miles (1991) kinetics, as in Brian2's COBAHH.

    .. math::
        c_m \frac{dv}{dt} = g_l (e_l - v) - g_{na} m^3 h (v - e_{na})
            - g_{kd} n^4 (v - e_k) + I_{syn} + i_{offset}

    .. math::
        \frac{dx}{dt} = \alpha_x(v) (1 - x) - \beta_x(v)\, x, \qquad x \in \{m, h, n\}

    with, for :math:`u = v - v_t` in mV and rates in 1/ms,

    .. math::
        \alpha_m = \frac{0.32 (13 - u)}{e^{(13 - u)/4} - 1}, \quad
        \beta_m = \frac{0.28 (u - 40)}{e^{(u - 40)/5} - 1}, \quad
        \alpha_h = 0.128\, e^{(17 - u)/18}, \quad
        \beta_h = \frac{4}{1 + e^{(40 - u)/5}},

    .. math::
        \alpha_n = \frac{0.032 (15 - u)}{e^{(15 - u)/5} - 1}, \quad
        \beta_n = 0.5\, e^{(10 - u)/40}

    (the quotients written with ``exprel``, so they are finite at their removable
    singularities). A spike is emitted when ``v > v_thresh`` (-20 mV) and the neuron is
    not refractory; the refractory period ``t_ref`` (3 ms) only prevents the same action
    potential from being counted again: nothing is reset and nothing is clamped (Brian2's
    ``threshold='v>-20*mV', refractory=3*ms`` without a reset).

    Source: R. D. Traub & R. Miles, *Neuronal Networks of the Hippocampus*, Cambridge
    University Press (1991), in the form of benchmark 3 of Brette et al. (2007) J. Comput.
    Neurosci. 23:349 (after Destexhe et al. 2001) and Brian2's ``examples/COBAHH.py``:
    an area of 20,000 um^2 with 1 uF/cm^2, a leak of 5e-5 S/cm^2 and peak conductances
    of 100 mS/cm^2 (Na) and 30 mS/cm^2 (K), which give the defaults below.

    Integrated by exponential Euler (``method="exponential_euler"``, Brian2's method for
    this model): every equation is linear in its own variable when the others are held
    fixed, and each is advanced by its exact solution over the step, which stays stable
    at dt = 0.1 ms for any conductance (each update is a convex combination of the
    variable and its momentary steady state). First order: at dt = 0.1 ms interspike
    intervals of a neuron under constant current are about 9 % longer than the exact
    solution's (1 % at 0.01 ms; tests/models/test_hh.py), step for step as in Brian2.
    ``m``, ``h`` and ``n_k`` start at 0, as in Brian2's example (they relax within a
    few ms).

    Parameters
    ----------
    c_m : float [F]
        Membrane capacitance (200 pF).
    g_l : float [S]
        Leak conductance (10 nS).
    g_na, g_kd : float [S]
        Peak sodium and delayed-rectifier potassium conductances (20 uS, 6 uS).
    e_l, e_na, e_k : float [V]
        Leak, sodium and potassium reversal potentials (-60, 50, -90 mV).
    v_t : float [V]
        Offset of the rate functions (-63 mV; Traub & Miles' ``VT``).
    v_thresh : float [V]
        Spike detection threshold (-20 mV).
    t_ref : float [s]
        Dead time after a detected spike (3 ms).
    i_offset : float [A]
        Constant injected current (0).
    tau_syn_exc, tau_syn_inh, e_rev_exc, e_rev_inh
        Synaptic kinetics, by default ``"cond_exp"`` (5 ms, 10 ms, 0 mV, -80 mV: the
        values of COBAHH); weights are conductance jumps in siemens. ``"exp"``,
        ``"alpha"`` and ``"delta"`` work too.

    Notes
    -----
    State: ``v`` [V], gates ``m``, ``h`` and ``n_k`` (the equations' :math:`n`, renamed
    because ``n`` is the population size in ``net.population(model, n, ...)`` and
    ``pop.n``) [1], and per port ``g_exc``, ``g_inh`` [S] (cond_exp kinetics).
    """

    membrane = NeuronSpec(
        name="HH",
        parameters={
            "c_m": (200e-12, "F", "membrane capacitance", CAPACITANCE),
            "g_l": (10e-9, "S", "leak conductance", LEAK_CONDUCTANCE),
            "g_na": (20e-6, "S", "peak sodium conductance", CHANNEL_CONDUCTANCE),
            "g_kd": (6e-6, "S", "peak delayed-rectifier K conductance", CHANNEL_CONDUCTANCE),
            "e_l": (-60e-3, "V", "leak reversal potential", POTENTIAL),
            "e_na": (50e-3, "V", "sodium reversal potential", POTENTIAL),
            "e_k": (-90e-3, "V", "potassium reversal potential", POTENTIAL),
            "v_t": (-63e-3, "V", "offset of the rate functions (VT)", POTENTIAL),
            "v_thresh": (-20e-3, "V", "spike detection threshold", POTENTIAL),
            "t_ref": (3e-3, "s", "dead time after a detected spike", DEAD_TIME),
            "i_offset": (0.0, "A", "constant injected current", CURRENT),
        },
        state={
            "v": ("e_l", "V", "membrane potential"),
            "m": (0.0, "1", "sodium activation", (0.0, 1.0)),
            "h": (0.0, "1", "sodium inactivation", (0.0, 1.0)),
            "n_k": (0.0, "1", "potassium activation (n)", (0.0, 1.0)),
        },
        equations=(
            "dv/dt = (g_l*(e_l - v) - g_na*(m*m*m)*h*(v - e_na) - g_kd*(n_k*n_k*n_k*n_k)*(v - e_k)"
            " + I_syn + i_offset)/c_m",
            "dm/dt = alpha_m*(1 - m) - beta_m*m",
            "dh/dt = alpha_h*(1 - h) - beta_h*h",
            "dn_k/dt = alpha_n*(1 - n_k) - beta_n*n_k",
        ),
        subexpressions={
            # Traub & Miles rates in 1/s of v in volts (the paper's 1/ms and mV)
            "alpha_m": "1280.0/exprel((13e-3 - v + v_t)/4e-3)",
            "beta_m": "1400.0/exprel((v - v_t - 40e-3)/5e-3)",
            "alpha_h": "128.0*exp((17e-3 - v + v_t)/18e-3)",
            "beta_h": "4000.0/(1.0 + exp((40e-3 - v + v_t)/5e-3))",
            "alpha_n": "160.0/exprel((15e-3 - v + v_t)/5e-3)",
            "beta_n": "500.0*exp((10e-3 - v + v_t)/40e-3)",
        },
        threshold="v > v_thresh",
        reset=(),
        refractory="t_ref",
        clamped=(),
        method="exponential_euler",
        source="Traub & Miles (1991), as benchmark 3 (COBAHH) of Brette et al. (2007) "
        "J. Comput. Neurosci. 23:349 and Brian2's examples/COBAHH.py",
    )
    default_kinetics = "cond_exp"


_HOMEOSTATIC_MEMBRANE = replace(
    _LIF_MEMBRANE,
    name="LIFHomeostatic",
    parameters={
        **_LIF_MEMBRANE.parameters,
        "r_target": (5.0, "Hz", "target firing rate", (1e-3, 1e3)),
        "theta_plus": (
            0.0,
            "V",
            "threshold jump per spike (0: no intrinsic plasticity)",
            (0.0, 0.05),
        ),
        "tau_theta": (1e4, "s", "decay of the threshold shift", (1e-3, 1e7)),
        "tau_rate": (1.0, "s", "time constant of the rate estimate", SLOW_TIME),
        "beta": (0.0, "1/(Hz s)", "synaptic scaling rate (0: no scaling)", (0.0, 1.0)),
    },
    state={
        **_LIF_MEMBRANE.state,
        "theta": (0.0, "V", "adaptive threshold shift"),
        "rate": ("r_target", "Hz", "rate estimate (spikes/s)", RATE),
        "log_scale": (0.0, "1", "log of the excitatory input scale"),
    },
    equations=(
        *_LIF_MEMBRANE.equations,
        "dtheta/dt = -theta/tau_theta - theta_plus*r_target",
        "drate/dt = -rate/tau_rate",
        "dlog_scale/dt = beta*(r_target - rate)",
    ),
    threshold="v >= v_thresh + theta",
    reset=("v = v_reset", "theta += theta_plus", "rate += 1/tau_rate"),
    source="Homeostasis: adaptive threshold as Diehl & Cook (2015) Front. Comput. Neurosci. "
    "9:99, with a drift toward a target rate (intrinsic plasticity); multiplicative synaptic "
    "scaling of van Rossum, Bi & Turrigiano (2000) J. Neurosci. 20:8812, eqs. (3)-(4).",
)


class LIFHomeostatic(NeuronModel):
    r"""LIF neuron (as :class:`LIF`) with two homeostatic mechanisms toward ``r_target``.

    *Intrinsic plasticity of the threshold* (adaptive threshold; Diehl & Cook 2015): the
    threshold is ``v_thresh + theta``; each spike raises ``theta`` by ``theta_plus`` and

    .. math:: \frac{d\theta}{dt} = -\frac{\theta}{\tau_\theta} - \theta_+ r_{target},

    so with a long ``tau_theta`` the threshold settles where the neuron fires at
    ``r_target`` (on average ``d theta/dt = theta_plus*(rate - r_target)``).

    *Synaptic scaling* (van Rossum, Bi & Turrigiano 2000, eqs. 3-4): a rate estimate
    ``rate`` (jumps by ``1/tau_rate`` per spike, decays with ``tau_rate``) drives a
    multiplicative scale of all excitatory input,
    :math:`dw/dt = \beta\,w\,(r_{target} - rate)`. All excitatory synapses of a neuron
    scale together, so the scale is kept once per neuron: weights arriving at ``exc``
    are multiplied by ``exp(log_scale)`` with ``d log_scale/dt = beta*(r_target - rate)``.
    The system stays linear, so it is integrated exactly like :class:`LIF`.

    Parameters (besides :class:`LIF`'s): ``r_target`` [Hz], ``theta_plus`` [V] (0 turns
    the adaptive threshold off), ``tau_theta`` [s], ``tau_rate`` [s], ``beta`` [1/(Hz s)]
    (0 turns scaling off). State adds ``theta`` [V], ``rate`` [Hz] (starts at
    ``r_target``) and ``log_scale``.
    """

    membrane = _HOMEOSTATIC_MEMBRANE
    default_kinetics = "exp"

    def adjust_spec(self, spec):
        ports = dict(spec.ports)
        ports["exc"] = ports["exc"].replace("w_in", "w_in*exp(log_scale)")
        return replace(spec, ports=ports)
