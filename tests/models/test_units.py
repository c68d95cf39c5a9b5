"""Unit safety without unit objects: plausible ranges declared in the specs catch the
usual slips (ms for s, mV for V, pA for A, pF for F, nS for S, paper units) and name the
likely unit; correct SI values pass; ``strict_units=False`` turns the check off.

Source of the rule: models/ranges.py. Each slip below is one a Brian2/NEST user makes
when porting a script (NEST's units are ms, mV, pA, pF, nS; Izhikevich's paper uses ms
and mV).
"""

import inspect

import numpy as np
import pytest

import axonforge as af
from axonforge import models
from axonforge.models import LIF as LIF_
from axonforge.models import (
    STDP,
    AdEx,
    DopamineSTDP,
    Izhikevich,
    LIFCond,
    LIFHomeostatic,
    NeuronModel,
    NeuronSpec,
    PoissonSource,
    SpikeSource,
    SynapseModel,
    TripletSTDP,
)
from axonforge.models.ranges import UNITS, resolve_range
from axonforge.units import ms, mV, nS, pA

# (what the user wrote, the unit the message must suggest)
MODEL_SLIPS = [
    (lambda: LIF_(tau_m=20), "20*ms"),
    (lambda: LIF_(v_thresh=-50), "-50*mV"),
    (lambda: LIF_(v_rest=-65, v_reset=-65 * mV), "-65*mV"),
    (lambda: LIF_(c_m=250), "250*pF"),
    (lambda: LIF_(i_offset=400), "400*pA"),
    (lambda: LIF_(t_ref=2), "2*ms"),
    (lambda: LIF_(tau_syn_exc=5), "5*ms"),
    (lambda: LIFCond(e_rev_inh=-80), "-80*mV"),
    (lambda: AdEx(g_l=30), "30*nS"),
    (lambda: AdEx(a=4), "4*nS"),
    (lambda: AdEx(b=80.5), "80.5*pA"),
    (lambda: AdEx(tau_w=144), "144*ms"),
    (lambda: Izhikevich(c=-65), "-65*mV"),  # the paper's c = -65 (mV)
    (lambda: Izhikevich(a=0.02), "0.02/ms"),  # the paper's a = 0.02 (1/ms)
    (lambda: Izhikevich(b=0.2), "0.2/ms"),
    (lambda: Izhikevich(v_peak=30), "30*mV"),
    (lambda: Izhikevich(d=8 * mV), "8*mV/ms"),  # d is 8 mV/ms = 8 V/s
    (lambda: STDP(tau_plus=20), "20*ms"),
    (lambda: DopamineSTDP(tau_c=1000), "1000*ms"),  # the paper's tau_c = 1000 (ms)
    (lambda: af.Network(dt=0.1), "0.1*ms"),
]


@pytest.mark.parametrize("make,unit", MODEL_SLIPS, ids=[u for _m, u in MODEL_SLIPS])
def test_a_slip_names_the_likely_unit(make, unit):
    with pytest.raises(ValueError, match="outside the plausible range") as err:
        make()
    assert f"did you mean {unit}?" in str(err.value)


def _net():
    net = af.Network(dt=0.1 * ms, seed=1)
    return net, net.population(SpikeSource([1 * ms]), n=1)


def test_a_slip_in_the_initial_state_names_the_unit():
    net, _src = _net()
    with pytest.raises(ValueError, match=r"population 'pop1' \(LIF\): v = -65 V .*-65\*mV"):
        net.population(LIF_(), n=3, v=-65)
    with pytest.raises(ValueError, match=r"v\[2\] = -50 V .*-50\*mV"):
        net.population(LIF_(), n=3, v=np.array([-60e-3, -55e-3, -50]))
    pop = net.population(LIF_(), n=3, v=af.uniform(-60 * mV, -50 * mV))
    with pytest.raises(ValueError, match=r"tau_m = 20 s .*20\*ms"):
        pop.set(tau_m=20)
    with pytest.raises(ValueError, match=r"v = -70 V .*-70\*mV"):
        pop[:1].set(v=-70)


def test_every_library_parameter_has_a_unit_and_range_and_its_default_passes():
    """No parameter of a library model is unchecked, and the SI defaults are plausible."""
    classes = [
        c
        for _n, c in inspect.getmembers(models, inspect.isclass)
        if issubclass(c, (NeuronModel, SynapseModel)) and c not in (NeuronModel, SynapseModel)
    ]
    assert len(classes) >= 10
    for cls in classes:
        model = cls()  # the defaults pass their own ranges
        for name, entry in model.spec.parameters.items():
            unit = entry[1]
            if unit in ("1", "modulator"):
                continue  # dimensionless: no unit slip possible
            if unit.startswith("weight"):
                continue  # resolved against the port at connect (tested below)
            assert resolve_range(entry, unit) is not None, (cls.__name__, name, unit)
            assert unit in UNITS or len(entry) > 3, (cls.__name__, name, unit)


def test_strict_units_false_turns_plausibility_off_but_not_hard_rules():
    model = LIF_(tau_m=2.0, v_thresh=1.0, strict_units=False)  # a slow, never-firing cell
    assert model.params["tau_m"] == 2.0
    with pytest.raises(ValueError, match="tau_m = -0.01 must be > 0"):
        LIF_(tau_m=-10 * ms, strict_units=False)
    net, _src = _net()
    pop = net.population(model, n=2, v=-3.0)  # the model's flag covers its state too
    pop.set(v=5.0)
    assert af.Network(dt=0.05, strict_units=False).dt == 0.05


def test_correct_si_values_pass_everywhere():
    LIF_(tau_m=20 * ms, c_m=250e-12, v_rest=-65 * mV, v_thresh=-50 * mV, i_offset=400 * pA)
    AdEx(g_l=30 * nS, a=-2 * nS, b=0.0, delta_t=0.0)
    Izhikevich.preset("FS")
    Izhikevich(a=-0.02e3, b=-1e3, d=-2.0)  # Izhikevich (2004) classes with negative a, b, d
    LIFHomeostatic(theta_plus=1 * mV, tau_theta=1e4, r_target=10.0)
    TripletSTDP.preset("hippocampal_all_to_all", unit=1 * mV)
    PoissonSource(rate=5.0)


def test_a_user_spec_without_ranges_uses_its_units_defaults():
    class Leaky(NeuronModel):
        spec = NeuronSpec(
            name="Leaky",
            parameters={"tau": (10e-3, "s", "time constant"), "k": (1.0, "1/V", "gain")},
            state={"v": (0.0, "V", "potential")},
            equations=("dv/dt = -v/tau",),
        )

    with pytest.raises(ValueError, match=r"Leaky: tau = 20 s .*did you mean 20\*ms"):
        Leaky(tau=20)
    Leaky(k=1e6)  # a unit without a default range is not checked


def test_a_range_declared_in_a_user_spec_is_used():
    class Slow(NeuronModel):
        spec = NeuronSpec(
            name="Slow",
            parameters={"tau": (50.0, "s", "slow time constant", (1.0, 1e3))},
            state={"v": (0.0, "V", "potential")},
            equations=("dv/dt = -v/tau",),
        )

    Slow(tau=500.0)
    with pytest.raises(ValueError, match=r"plausible range 1 s to 1000 s"):
        Slow(tau=0.05)


# weights and delays given to connect, checked against the target port's unit
CONNECT_SLIPS = [
    (dict(weight=20.25), "exp", "did you mean 20.25*pA?"),  # NEST's pA
    (dict(weight=0.5), "exp", "did you mean 0.5*nA?"),
    (dict(weight=1.62 * mV), "exp", "it looks like a voltage jump (V), but this port takes"),
    (dict(weight=1.62), "delta", "did you mean 1.62*mV?"),
    (dict(weight=20 * pA), "delta", "it looks like a current (A)"),
    (dict(weight=5), "cond_exp", "did you mean 5*nS?"),
    (dict(weight=af.uniform(10, 30)), "exp", "weight[0] = "),
    (dict(weight=1 * pA, delay=1.5), "exp", "delay = 1.5 s is outside the plausible range"),
    (dict(weight=1 * pA, synapse=STDP(w_max=10)), "exp", "STDP: w_max = 10 A"),
    (dict(weight=1 * mV, synapse=DopamineSTDP(w_max=4)), "delta", "did you mean 4*mV?"),
    (dict(weight=1 * mV, synapse=DopamineSTDP(a_plus=10)), "delta", "did you mean 10*mV/s?"),
    (dict(weight=1 * pA, synapse=DopamineSTDP()), "exp", "it looks like a voltage jump"),
]


@pytest.mark.parametrize("kw,kinetics,message", CONNECT_SLIPS)
def test_weights_and_delays_are_checked_against_the_port_unit(kw, kinetics, message):
    net, src = _net()
    if isinstance(kw.get("synapse"), DopamineSTDP):
        kw = dict(kw, modulator=net.modulator("dopamine", tau=0.2))
    model = LIFCond() if kinetics == "cond_exp" else LIF_(kinetics=kinetics)
    post = net.population(model, n=20)
    with pytest.raises(ValueError, match="outside the plausible range") as err:
        net.connect(src, post, **kw)
    assert message in str(err.value)
    assert len(net.projections) == 0  # nothing was built


def test_plausible_weights_pass_and_strict_units_false_lifts_the_check():
    net, src = _net()
    net.modulator("dopamine", tau=0.2)
    cells = net.population(LIF_(), n=20)
    net.connect(src, cells, weight=af.normal(0.0, 20 * pA, low=0.0))  # tiny draws are fine
    net.connect(src, cells, weight=0.0, delay=20 * ms)
    iz = net.population(Izhikevich(), n=20)
    net.connect(src, iz, weight=1 * mV, synapse=DopamineSTDP(), modulator="dopamine")
    odd = net.population(LIF_(strict_units=False), n=20)
    net.connect(src, odd, weight=1 * mV, delay=2.0)  # the user says they know
    assert len(net.projections) == 4
