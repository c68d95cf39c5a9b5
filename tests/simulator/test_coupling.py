"""Continuous couplings: gap junctions and other summed variables (issue 10, item 3)."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import SPIKELET_LIF, Spikelet

import axonforge as sim
from axonforge.models import PoissonSource
from axonforge.models.base import NeuronSpec, spec_model
from axonforge.models.coupling import CouplingModel, CouplingSpec, GapJunction
from axonforge.units import Hz, ms

PASSIVE = NeuronSpec(
    name="Passive",
    parameters={
        "c": (200e-12, "F", "capacitance"),
        "g_l": (10e-9, "S", "leak conductance"),
        "e_l": (-70e-3, "V", "leak reversal"),
        "i_e": (0.0, "A", "injected current"),
    },
    state={"v": ("e_l", "V", "membrane potential"), "i_gap": (0.0, "A", "gap current")},
    equations=("dv/dt = (g_l*(e_l - v) + i_e + i_gap)/c",),
)


def passive_pair(g, currents=(100e-12, 0.0), duration=0.3):
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(spec_model(PASSIVE, i_e=np.array(currents)), n=2)
    net.connect(pop, pop, rule=sim.Explicit([0, 1], [1, 0]), weight=g, synapse=GapJunction())
    mon = net.state_monitor(pop, ["v", "i_gap"], every=1)
    net.run(duration)
    return net, mon


def test_two_passive_cells_relax_to_the_analytic_voltage_difference():
    """C dv1/dt = g_l (E - v1) + I1 + g (v2 - v1) and its mirror: the difference settles
    at (I1 - I2)/(g_l + 2g) = 5 mV with time constant C/(g_l + 2g) = 10 ms, the mean at
    E + (I1 + I2)/(2 g_l) as without coupling. The coupling reads the previous step
    (explicit in the coupling term), which changes the transient by O(dt/tau) = 1 %."""
    g, g_l, c = 5e-9, 10e-9, 200e-12
    _net, mon = passive_pair(g)
    v = mon["v"]
    diff = v[:, 0] - v[:, 1]
    assert diff[-1] == pytest.approx(100e-12 / (g_l + 2 * g), rel=1e-9)
    # the mean relaxes with C/g_l = 20 ms: exp(-15) of its start is left after 0.3 s
    assert v[-1].mean() == pytest.approx(-70e-3 + 50e-12 / g_l, rel=1e-6)
    # relaxation of the difference: log-linear fit over its first 30 ms
    t = mon.t
    early = (t > 1e-3) & (t < 30e-3)
    gap = diff[-1] - diff[early]
    tau = -1.0 / np.polyfit(t[early], np.log(gap), 1)[0]
    assert tau == pytest.approx(c / (g_l + 2 * g), rel=0.02)
    # the current each cell receives is g (v_other - v_self)
    np.testing.assert_allclose(mon["i_gap"][1:, 0], g * (v[:-1, 1] - v[:-1, 0]), rtol=1e-9)


def test_a_gap_coupled_pair_of_oscillators_synchronises():
    """Two identical LIF oscillators started 12.5 ms apart (in anti-phase, period 23 ms)
    stay apart uncoupled; coupled through gap junctions that pass the spike (Lewis &
    Rinzel 2003) they lock in phase: after 1 s their spikes are at most one step apart."""
    lags = {}
    for g in (0.0, 2e-9):
        net = sim.Network(dt=0.1 * ms, seed=1)
        pop = net.population(spec_model(SPIKELET_LIF), n=2, v=np.array([-60e-3, -53e-3]))
        if g:
            net.connect(pop, pop, rule=sim.Explicit([0, 1], [1, 0]), weight=g, synapse=Spikelet())
        spikes = net.spike_monitor(pop)
        net.run(1.0)
        a, b = spikes.times[spikes.ids == 0], spikes.times[spikes.ids == 1]
        n = min(len(a), len(b))
        lags[g] = np.abs(a[n - 5 : n] - b[n - 5 : n])
    assert np.all(lags[0.0] > 10e-3)
    assert np.all(lags[2e-9] <= 0.1e-3 + 1e-12)


def test_a_network_with_gap_junctions_saves_and_continues_identically(tmp_path):
    from engine_cases import gap

    net, _ = gap(1)
    net.save(tmp_path / "gap.h5")
    back = sim.load(tmp_path / "gap.h5")
    assert back.projections["proj0"].summed is not None
    for n in (net, back):
        n.run(0.05)
    for name in net.populations:
        for var, value in net.populations[name].state.items():
            np.testing.assert_array_equal(value, back.populations[name].state[var], err_msg=var)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda net, a, src: net.connect(a, a, weight=1e-9, synapse=GapJunction(target="i_x")),
         "'i_x' is not a state variable"),
        (lambda net, a, src: net.connect(a, a, weight=1e-9, synapse=GapJunction(target="v")),
         "has an ODE"),
        (lambda net, a, src: net.connect(src, a, weight=1e-9, synapse=GapJunction()),
         "is an input source"),
        (lambda net, a, src: net.connect(a, a, weight=1e-9, synapse=GapJunction(variable="u")),
         "unknown symbol 'u_pre'"),
        (lambda net, a, src: GapJunction(target="not a name"), "must be a variable name"),
    ],
)  # fmt: skip
def test_bad_couplings_fail_clearly(make, message):
    net = sim.Network(seed=1)
    a = net.population(spec_model(PASSIVE), n=3)
    src = net.population(PoissonSource(rate=5 * Hz), n=3)
    with pytest.raises((ValueError, TypeError), match=message):
        make(net, a, src)


def test_a_summed_expression_with_a_voltage_dependent_block():
    """An NMDA-like conductance written in the coupling (Jahr & Stevens 1990 Mg block):
    the summed current follows the expression of the previous step's potentials."""

    class Nmda(CouplingModel):
        spec = CouplingSpec(
            name="NmdaLike",
            parameters={"e_nmda": (0.0, "V", "reversal"), "mg": (1.0, "1", "[Mg] in mM")},
            summed={"i_gap": "w*(e_nmda - v_post)/(1 + mg*exp(-62*v_post)/3.57)"},
        )

    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(spec_model(PASSIVE, i_e=np.array([0.0, 300e-12])), n=2)
    net.connect(pop, pop, rule=sim.Explicit([0], [1]), weight=2e-9, synapse=Nmda())
    mon = net.state_monitor(pop, ["v", "i_gap"], every=1)
    net.run(0.05)
    v_prev = mon["v"][:-1, 1]
    expected = 2e-9 * (0.0 - v_prev) / (1 + np.exp(-62 * v_prev) / 3.57)
    np.testing.assert_allclose(mon["i_gap"][1:, 1], expected, rtol=1e-12)
    assert np.all(mon["i_gap"][:, 0] == 0.0)  # no synapse onto neuron 0
