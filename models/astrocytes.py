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
from .ranges import AFFINITY, CONCENTRATION, FACTOR, GLIAL_RATE, GLIAL_TIME

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
