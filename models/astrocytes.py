"""Astrocyte models: calcium and IP3 dynamics of glial cells, as populations.

An astrocyte population is updated in phase A like neurons. It does not spike: the
Li-Rinzel astrocyte emits its slow inward current (SIC) as a *graded output*, a value
per step that its projections deliver, times their weight, to the neurons' ``"sic"``
port (neuron models made with ``sic=True``). Spikes arriving on its ``"ip3"`` port
raise IP3. Concentrations are in micromolar (``axonforge.units.uM == 1``), times in
seconds, rates per second.
"""

from __future__ import annotations

from .base import NeuronModel, NeuronSpec
from .ranges import AFFINITY, CONCENTRATION, FACTOR, GLIAL_RATE, GLIAL_TIME, VESICULAR

_LR1994 = NeuronSpec(
    name="AstrocyteLR1994",
    parameters={
        "ca_tot": (2.0, "uM", "total free Ca2+ (cytosol + ER, cytosolic volume)", AFFINITY),
        "ip3_0": (0.16, "uM", "baseline IP3", CONCENTRATION),
        "kd_ip3_1": (0.13, "uM", "IP3 dissociation constant of the IP3R", AFFINITY),
        "kd_ip3_2": (0.9434, "uM", "IP3 dissociation constant of IP3R inactivation", AFFINITY),
        "kd_act": (0.08234, "uM", "Ca2+ activation constant of the IP3R", AFFINITY),
        "kd_inh": (1.049, "uM", "Ca2+ inactivation constant of the IP3R", AFFINITY),
        "km_serca": (0.1, "uM", "half-activation constant of the SERCA pump", AFFINITY),
        "ratio_er_cyt": (0.185, "1", "ER to cytosol volume ratio", FACTOR),
        "delta_ip3": (0.0002, "uM", "IP3 increase per unit of input weight", CONCENTRATION),
        "k_ip3r": (0.2, "1/(uM*s)", "IP3R binding rate of Ca2+ inhibition", GLIAL_RATE),
        "rate_ip3r": (6.0, "1/s", "maximal IP3R channel rate", GLIAL_RATE),
        "rate_l": (0.11, "1/s", "rate of Ca2+ leak from the ER", GLIAL_RATE),
        "rate_serca": (0.9, "uM/s", "maximal SERCA pump rate", GLIAL_RATE),
        "tau_ip3": (7.142, "s", "time constant of IP3 degradation", GLIAL_TIME),
        "sic_scale": (1.0, "1", "scale of the slow inward current", FACTOR),
        "sic_th": (0.19669, "uM", "Ca2+ threshold of the slow inward current", CONCENTRATION),
    },
    state={
        "ip3": ("ip3_0", "uM", "inositol 1,4,5-trisphosphate concentration"),
        "ca": (0.073, "uM", "cytosolic Ca2+ concentration"),
        "h_ip3r": (0.793, "1", "fraction of IP3 receptors not inactivated by Ca2+"),
    },
    equations=(
        "dip3/dt = (ip3_0 - ip3)/tau_ip3",
        "dca/dt = J_channel - J_pump + J_leak",
        "dh_ip3r/dt = alpha_h*(1 - h_ip3r) - beta_h*h_ip3r",
    ),
    subexpressions={
        # calcium as the fluxes see it: within [0, ca_tot], as NEST evaluates them
        "c": "min(max(ca, 0.0), ca_tot)",
        "ca_er": "(ca_tot - c)/ratio_er_cyt",
        "m_inf": "ip3/(ip3 + kd_ip3_1)",
        "n_inf": "c/(c + kd_act)",
        "J_channel": "ratio_er_cyt*rate_ip3r*m_inf**3*n_inf**3*h_ip3r**3*(ca_er - c)",
        "J_leak": "ratio_er_cyt*rate_l*(ca_er - c)",
        "J_pump": "rate_serca*c*c/(km_serca*km_serca + c*c)",
        "alpha_h": "k_ip3r*kd_inh*(ip3 + kd_ip3_1)/(ip3 + kd_ip3_2)",
        "beta_h": "k_ip3r*c",
    },
    bounds={"ca": (0.0, "ca_tot")},
    ports={"ip3": "ip3 += delta_ip3*w_in"},
    port_signs={"ip3": 1},
    port_units={"ip3": "1"},
    outputs={"sic": "sic_scale*log(max(1000.0*(ca - sic_th), 1.0))"},
    method="rk4",
    source="Li & Rinzel 1994, J. Theor. Biol. 166:461 (eqs. 1-3, the two-variable reduction "
    "of the De Young-Keizer IP3 receptor), with IP3 dynamics, parameters and per-step order "
    "of NEST 3.10 astrocyte_lr_1994 (Nadkarni & Jung 2003; Hahne et al. 2025); SIC as NEST's "
    "sic_connection (Nadkarni & Jung 2003, eq. 6).",
)


class AstrocyteLR1994(NeuronModel):
    r"""Li-Rinzel astrocyte: cytosolic Ca2+, IP3 and the IP3 receptor's inactivation, as
    NEST 3.10's ``astrocyte_lr_1994`` (same state, parameter names in lowercase, defaults,
    and per-step order).

    .. math::
        \frac{d[IP_3]}{dt} = \frac{[IP_3]_0 - [IP_3]}{\tau_{IP_3}}, \qquad
        \frac{d[Ca]}{dt} = J_{channel} - J_{pump} + J_{leak}, \qquad
        \frac{dh}{dt} = \alpha_h (1 - h) - \beta_h h

    with :math:`[Ca]_{ER} = ([Ca]_{tot} - [Ca])/r_{ER}`, :math:`m_\infty = [IP_3]/([IP_3]
    + K_{d,IP_3,1})`, :math:`n_\infty = [Ca]/([Ca] + K_{d,act})`,
    :math:`J_{channel} = r_{ER}\,r_{IP_3R}\,m_\infty^3 n_\infty^3 h^3 ([Ca]_{ER} - [Ca])`,
    :math:`J_{leak} = r_{ER}\,r_L ([Ca]_{ER} - [Ca])`, :math:`J_{pump} = r_{SERCA}
    [Ca]^2/(K_{m,SERCA}^2 + [Ca]^2)`, :math:`\alpha_h = k_{IP_3R} K_{d,inh} ([IP_3] +
    K_{d,IP_3,1})/([IP_3] + K_{d,IP_3,2})`, :math:`\beta_h = k_{IP_3R} [Ca]` (Li & Rinzel
    1994; the fluxes see Ca within [0, ca_tot], as NEST evaluates them).

    Each step, as NEST: integrate; clip ``ca`` to ``[0, ca_tot]``; add the input of the
    step, ``ip3 += delta_ip3 * w`` for the summed weight ``w`` arriving on port
    ``"ip3"`` (a dimensionless weight, as NEST's); then emit the slow inward current from
    the new Ca,

    .. math:: SIC = \mathrm{sic\_scale} \cdot \ln(1000 ([Ca] - \mathrm{sic\_th}))
        \ \text{ if the argument exceeds 1, else } 0,

    a dimensionless number, NEST's "pA-equivalent": a projection to a neuron's ``"sic"``
    port with weight ``w`` [A] gives the neuron ``i_sic = w * SIC`` (weight ``1*pA`` is
    NEST's ``sic_connection`` weight 1), held through the step after it arrives.

    Units: concentrations in uM, times in s, rates per second (NEST's per-ms rates times
    1000): ``ca_tot`` 2.0 uM, ``ip3_0`` 0.16 uM, ``kd_ip3_1`` 0.13 uM, ``kd_ip3_2``
    0.9434 uM, ``kd_act`` 0.08234 uM, ``kd_inh`` 1.049 uM, ``km_serca`` 0.1 uM,
    ``ratio_er_cyt`` 0.185, ``delta_ip3`` 0.0002 uM, ``k_ip3r`` 0.2 /(uM s),
    ``rate_ip3r`` 6 /s, ``rate_l`` 0.11 /s, ``rate_serca`` 0.9 uM/s, ``tau_ip3`` 7.142 s,
    ``sic_scale`` 1, ``sic_th`` 0.19669 uM. Initial state as NEST: ``ip3 = ip3_0``,
    ``ca = 0.073`` uM, ``h_ip3r = 0.793``.

    Integration: RK4 at the network's ``dt`` (astrocytic time scales are 0.1-10 s, so at
    dt = 0.1 ms this is NEST's trajectory to rounding: ``tests/models/test_astrocytes.py``).
    ``method="rkf45", error_tol=1e-3`` runs NEST's own adaptive scheme.
    """

    spec = _LR1994


_GCHI = NeuronSpec(
    name="AstrocyteGChI",
    parameters={
        # Ca2+-induced Ca2+ release (Li-Rinzel core)
        "o_p": (0.9, "uM/s", "maximal SERCA uptake (O_P)", GLIAL_RATE),
        "k_p": (0.05, "uM", "SERCA Ca2+ affinity (K_P)", AFFINITY),
        "c_t": (2.0, "uM", "total free Ca2+ (C_T)", AFFINITY),
        "rho_a": (0.18, "1", "ER to cytosol volume ratio (rho_A)", FACTOR),
        "omega_cicr": (6.0, "1/s", "maximal IP3R release rate (Omega_C)", GLIAL_RATE),
        "omega_l": (0.1, "1/s", "ER leak rate (Omega_L)", GLIAL_RATE),
        "d_1": (0.13, "uM", "IP3 dissociation constant (d_1)", AFFINITY),
        "d_2": (1.05, "uM", "Ca2+ inactivation dissociation constant (d_2)", AFFINITY),
        "o_2": (0.2, "1/(uM*s)", "IP3R binding rate of Ca2+ inhibition (O_2)", GLIAL_RATE),
        "d_3": (0.9434, "uM", "IP3 dissociation constant (d_3)", AFFINITY),
        "d_5": (0.08, "uM", "Ca2+ activation dissociation constant (d_5)", AFFINITY),
        # IP3 production by PLCbeta (agonist-driven) and PLCdelta, degradation
        "o_beta": (3.2, "uM/s", "maximal PLCbeta production (O_beta)", GLIAL_RATE),
        "o_n": (0.3, "1/(uM*s)", "agonist binding rate (O_N)", GLIAL_RATE),
        "omega_n": (0.5, "1/s", "maximal receptor inactivation rate (Omega_N)", GLIAL_RATE),
        "k_kc": (0.5, "uM", "Ca2+ affinity of PKC (K_KC)", AFFINITY),
        "zeta": (10.0, "1", "maximal reduction of receptor affinity by PKC", FACTOR),
        "o_delta": (0.6, "uM/s", "maximal PLCdelta production (O_delta)", GLIAL_RATE),
        "kappa_delta": (1.5, "uM", "inhibition of PLCdelta by IP3", AFFINITY),
        "k_delta": (0.1, "uM", "Ca2+ affinity of PLCdelta (K_delta)", AFFINITY),
        "omega_5p": (0.05, "1/s", "IP-5P degradation rate (Omega_5P)", GLIAL_RATE),
        "k_d": (0.7, "uM", "Ca2+ affinity of IP3-3K (K_D)", AFFINITY),
        "k_3k": (1.0, "uM", "IP3 affinity of IP3-3K (K_3K)", AFFINITY),
        "o_3k": (4.5, "uM/s", "maximal IP3-3K degradation (O_3K)", GLIAL_RATE),
        # exogenous IP3 (the open loop of Stimberg et al.'s Fig. 3)
        "f_ex": (0.0, "uM/s", "maximal exogenous IP3 flow (F_ex; 0: none)", GLIAL_RATE),
        "i_bias": (0.0, "uM", "IP3 level the exogenous flow drives toward", CONCENTRATION),
        "i_theta": (0.3, "uM", "IP3 gradient threshold of the exogenous flow", CONCENTRATION),
        "omega_i": (0.05, "uM", "scale of the exogenous flow's switch", AFFINITY),
        # gliotransmitter release and its presynaptic action
        "c_theta": (0.5, "uM", "Ca2+ threshold of gliotransmitter release", CONCENTRATION),
        "omega_a": (0.6, "1/s", "gliotransmitter recycling rate (Omega_A)", GLIAL_RATE),
        "u_a": (0.6, "1", "gliotransmitter release probability (U_A)", (0.0, 1.0)),
        "g_t": (200e3, "uM", "total vesicular gliotransmitter (200 mM)", VESICULAR),
        "rho_e": (6.5e-4, "1", "astrocytic vesicle to extracellular volume ratio", FACTOR),
        "omega_e": (60.0, "1/s", "gliotransmitter clearance rate (Omega_e)", GLIAL_RATE),
        "o_g": (1.5, "1/(uM*s)", "presynaptic receptor activation rate (O_G)", GLIAL_RATE),
        "omega_g": (0.5 / 60, "1/s", "presynaptic receptor deactivation (Omega_G)", GLIAL_RATE),
        # synaptic glutamate reaching the astrocyte (closed loop, Fig. 4)
        "rho_c": (0.005, "1", "synaptic vesicle to extracellular volume ratio", FACTOR),
        "y_t": (500e3, "uM", "total vesicular neurotransmitter (500 mM)", VESICULAR),
        "omega_c": (40.0, "1/s", "neurotransmitter clearance rate (Omega_c)", GLIAL_RATE),
    },
    state={
        "gamma_a": (0.0, "1", "fraction of activated astrocytic receptors"),
        "ip3": (0.0, "uM", "IP3 concentration"),
        "ca": (0.0, "uM", "cytosolic Ca2+ concentration"),
        "h": (0.9, "1", "IP3R de-inactivation probability"),
        "x_a": (1.0, "1", "fraction of gliotransmitter resources available"),
        "g_a": (0.0, "uM", "gliotransmitter concentration in the extracellular space"),
        "gamma_s": (0.0, "1", "activated presynaptic receptors of the ensheathed synapses"),
        "y_s": (0.0, "uM", "synaptic glutamate reaching the astrocyte"),
        "j_coupling": (0.0, "uM/s", "IP3 flux from coupled astrocytes (IP3Diffusion)"),
    },
    equations=(
        "dgamma_a/dt = o_n*y_s*(1 - gamma_a) - omega_n*(1 + zeta*ca/(ca + k_kc))*gamma_a",
        "dip3/dt = J_beta + J_delta - J_3K - J_5P + J_ex + j_coupling",
        "dca/dt = (omega_cicr*m_inf**3*h**3 + omega_l)*(c_t - (1 + rho_a)*ca)"
        " - o_p*ca**2/(ca**2 + k_p**2)",
        "dh/dt = (h_inf - h)/tau_h",
        "dx_a/dt = omega_a*(1 - x_a)",
        "dg_a/dt = -omega_e*g_a",
        "dgamma_s/dt = o_g*g_a*(1 - gamma_s) - omega_g*gamma_s",
        "dy_s/dt = -omega_c*y_s",
    ),
    subexpressions={
        "J_beta": "o_beta*gamma_a",
        "J_delta": "o_delta/(1 + ip3/kappa_delta)*ca**2/(ca**2 + k_delta**2)",
        "J_3K": "o_3k*ca**4/(ca**4 + k_d**4)*ip3/(ip3 + k_3k)",
        "J_5P": "omega_5p*ip3",
        "J_ex": "-f_ex/2*(1 + tanh((abs(ip3 - i_bias) - i_theta)/omega_i))*sign(ip3 - i_bias)",
        "Q_2": "d_2*(ip3 + d_1)/(ip3 + d_3)",
        "m_inf": "ip3/(ip3 + d_1)*ca/(ca + d_5)",
        "h_inf": "Q_2/(Q_2 + ca)",
        "tau_h": "1/(o_2*(Q_2 + ca))",
    },
    threshold="ca > c_theta",
    refractory="ca > c_theta",
    reset=("g_a += rho_e*g_t*u_a*x_a", "x_a -= u_a*x_a"),
    ports={"glu": "y_s += rho_c*y_t*w_in"},
    port_signs={"glu": 1},
    port_units={"glu": "1"},
    method="rk4",
    source="De Pitta et al. 2009, J. Biol. Phys. 35:383 (G-ChI: eqs. 2-3, 8-12); "
    "gliotransmitter release and presynaptic receptors: De Pitta et al. 2011, PLoS Comput. "
    "Biol. 7:e1002293; equations and parameters as Stimberg et al. 2019 (Computational "
    "Glioscience, Springer, pp. 471-505; Brian2 examples/frompapers/Stimberg_et_al_2018).",
)


class AstrocyteGChI(NeuronModel):
    r"""The G-ChI astrocyte (De Pitta et al. 2009) with gliotransmitter release, as
    Stimberg et al. (2019) write it for Brian 2 (their Figs. 3-6; parameters of Figs.
    3/4, in uM and s).

    IP3 (``ip3``) is produced by PLCbeta, driven by synaptic glutamate through the
    fraction of activated receptors ``gamma_a``, and by PLCdelta; it is degraded by
    IP3-3K and IP-5P; an optional exogenous flow ``J_ex`` drives it toward ``i_bias``;
    ``j_coupling`` is the IP3 diffusion from coupled astrocytes (:class:`IP3Diffusion`).
    Ca2+ (``ca``) and the IP3 receptor's de-inactivation ``h`` follow the Li-Rinzel core
    (with :math:`m_\infty = \frac{I}{I + d_1}\frac{C}{C + d_5}`,
    :math:`h_\infty = Q_2/(Q_2 + C)`, :math:`\tau_h = 1/(O_2 (Q_2 + C))`,
    :math:`Q_2 = d_2 (I + d_1)/(I + d_3)`):

    .. math::
        \frac{dC}{dt} = (\Omega_C m_\infty^3 h^3 + \Omega_L)(C_T - (1 + \rho_A) C)
            - O_P \frac{C^2}{C^2 + K_P^2}

    When Ca2+ crosses ``c_theta`` upward (the threshold ``ca > c_theta`` with the
    refractory condition ``ca > c_theta``: Brian2's boolean refractoriness) the astrocyte
    releases gliotransmitter: ``g_a += rho_e*g_t*u_a*x_a`` (78 uM with all resources),
    ``x_a -= u_a*x_a``; ``x_a`` recovers at ``omega_a``, ``g_a`` is cleared at ``omega_e``.
    The released gliotransmitter activates the presynaptic receptors of the synapses the
    astrocyte ensheathes, ``gamma_s``, which synapse rules read as ``gamma_s_astro``
    (:class:`~axonforge.models.GliotransmitterTsodyksMarkram`). Stimberg et al. keep
    ``Gamma_S`` per synapse, driven by the astrocyte's ``G_A`` alone, so it is the same for
    all synapses of one astrocyte: here it is the astrocyte's.

    Spikes on port ``"glu"`` add synaptic glutamate, ``y_s += rho_c*y_t*w`` with ``w``
    the released fraction (the closed loop of Fig. 4: the transmitted value of a
    :class:`~axonforge.models.GliotransmitterTsodyksMarkram` synapse); ``y_s`` is cleared
    at ``omega_c``. Integrated with RK4 (Brian2's method for Figs. 3-6).
    """

    spec = _GCHI
