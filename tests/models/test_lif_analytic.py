"""LIF against closed-form solutions (no other simulator involved).

Grid convention (NEST's): step k advances t_k = k dt to t_{k+1} and its sample and any
spike carry the label t_{k+1}; a neuron that spikes in step k is clamped at v_reset for
the next round(t_ref/dt) steps and evolves again from the step after.
"""

import math

import numpy as np
import pytest

import axonforge as sim
from axonforge.models import LIF, SpikeSource
from axonforge.units import ms, mV, pA, pF

TAU, C, V_REST = 20 * ms, 250 * pF, -70 * mV
R = TAU / C


@pytest.mark.parametrize("kinetics", ["exp", "alpha", "delta"])
def test_membrane_follows_analytic_solution(kinetics):
    current = 150 * pA  # R*I = 12 mV: stays below threshold
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(
        LIF(kinetics=kinetics, tau_m=TAU, c_m=C, v_rest=V_REST, v_thresh=0.0, i_offset=current),
        n=1,
        v=-80 * mV,
    )
    mon = net.state_monitor(pop, "v")
    net.run(0.2)
    t = mon.t
    exact = V_REST + R * current * (1 - np.exp(-t / TAU)) + (-80 * mV - V_REST) * np.exp(-t / TAU)
    rel = np.abs(mon["v"][:, 0] - exact) / np.abs(exact)
    assert rel.max() < 1e-9


@pytest.mark.parametrize("t_ref", [0.0, 2 * ms, 2.05 * ms])
def test_interspike_interval_matches_threshold_crossing_time(t_ref):
    dt = 0.1 * ms
    current, v_th, v_reset = 500 * pA, -55 * mV, -70 * mV  # R*I = 40 mV
    net = sim.Network(dt=dt, seed=1)
    pop = net.population(
        LIF(
            tau_m=TAU,
            c_m=C,
            v_rest=V_REST,
            v_thresh=v_th,
            v_reset=v_reset,
            t_ref=t_ref,
            i_offset=current,
        ),
        n=1,
        v=v_reset,
    )
    spikes = net.spike_monitor(pop)
    net.run(0.3)
    v_inf = V_REST + R * current
    crossing = TAU * math.log((v_inf - v_reset) / (v_inf - v_th))  # from reset to threshold
    steps_to_cross = math.ceil(crossing / dt - 1e-9)
    ref_steps = math.floor(t_ref / dt + 0.5)  # t_ref rounds to the nearest step
    isi = (ref_steps + steps_to_cross) * dt
    assert spikes.times[0] == pytest.approx(steps_to_cross * dt, abs=1e-12)
    np.testing.assert_allclose(np.diff(spikes.times), isi, atol=1e-12)
    assert len(spikes.times) == int((0.3 - steps_to_cross * dt) // isi) + 1


def test_exponential_psc_response_is_analytic():
    """One input spike: v(t) = w R tau_s/(tau_s - tau_m) (e^{-t/tau_s} - e^{-t/tau_m})."""
    # 2**-33 A (116 pA) is exact in float32, the storage type of static weights
    dt, tau_s, w, t_in, delay = 0.1 * ms, 5 * ms, 2.0**-33, 10 * ms, 1.5 * ms
    net = sim.Network(dt=dt, seed=1)
    pop = net.population(
        LIF(tau_m=TAU, c_m=C, v_rest=0.0, v_thresh=100 * mV, tau_syn_exc=tau_s), n=1, v=0.0
    )
    src = net.population(SpikeSource([t_in]))
    net.connect(src, pop, weight=w, delay=delay)
    mon = net.state_monitor(pop, ["v", "i_syn_exc"])
    net.run(0.1)
    t = mon.t
    arrival = t_in + delay
    s = np.clip(t - arrival, 0, None)
    exact_v = w / C * tau_s * TAU / (TAU - tau_s) * (np.exp(-s / TAU) - np.exp(-s / tau_s))
    np.testing.assert_allclose(mon["v"][:, 0], exact_v, rtol=1e-9, atol=1e-15)
    i = mon["i_syn_exc"][:, 0]
    first = np.flatnonzero(i)[0]
    assert t[first] == pytest.approx(arrival, abs=1e-12)  # current jumps exactly at t + delay
    assert i[first] == w


@pytest.mark.parametrize("delay_ms", [0.1, 0.5, 1.5, 25.5, 30.0])
def test_input_arrives_exactly_after_delay(delay_ms):
    dt = 0.1 * ms
    net = sim.Network(dt=dt, seed=3)
    pop = net.population(
        LIF(kinetics="delta", tau_m=1e6, v_rest=0.0, v_thresh=1.0, strict_units=False), n=1, v=0.0
    )
    src = net.population(SpikeSource([5 * ms, 7.3 * ms]))
    sent = net.spike_monitor(src)
    proj = net.connect(src, pop, weight=1 * mV, delay=delay_ms * ms)
    mon = net.state_monitor(pop, "v")
    net.run(0.05)
    np.testing.assert_allclose(sent.times, [5 * ms, 7.3 * ms], atol=1e-12)
    jumps = mon.t[np.flatnonzero(np.diff(np.r_[0.0, mon["v"][:, 0]]) > 0.5 * mV)]
    np.testing.assert_allclose(jumps, sent.times + delay_ms * ms, atol=1e-12)
    assert proj.delay_steps[0] == round(delay_ms * 10)


def test_refractory_neuron_ignores_input_and_keeps_synaptic_current():
    dt = 0.1 * ms
    net = sim.Network(dt=dt, seed=1)
    pop = net.population(
        LIF(kinetics="delta", v_rest=0.0, v_thresh=10 * mV, v_reset=0.0, t_ref=2 * ms), n=1, v=0.0
    )
    src = net.population(SpikeSource([1 * ms, 1.5 * ms, 3.5 * ms]))
    net.connect(src, pop, weight=20 * mV, delay=dt)
    spikes = net.spike_monitor(pop)
    net.run(0.01)
    # the 1.5 ms input falls in the refractory period after the spike at 1.1 ms
    np.testing.assert_allclose(spikes.times, [1.1 * ms, 3.6 * ms], atol=1e-12)


def test_alpha_conductance_peaks_at_the_weight_after_tau():
    """kinetics="cond_alpha" (NEST's aeif_cond_alpha / iaf_cond_alpha): a spike of weight
    w gives g(t) = w (t/tau) exp(1 - t/tau) after its arrival, peaking at w after tau."""
    import axonforge as sim
    from axonforge.models import AdEx, SpikeSource
    from axonforge.units import ms, nS

    net = sim.Network(dt=0.1 * ms, seed=1)
    cell = net.population(AdEx(kinetics="cond_alpha", tau_syn_exc=2 * ms), n=1)
    src = net.population(SpikeSource(times=np.array([1.0 * ms])), n=1)
    net.connect(src, cell, rule=sim.AllToAll(), weight=10 * nS, delay=1 * ms)
    g = net.state_monitor(cell, ["g_exc"])
    net.run(20 * ms)
    t = np.asarray(g.t) - 2 * ms  # arrives in the sample at 2 ms
    ref = np.where(t > 0, 10 * nS * (t / (2 * ms)) * np.exp(1 - t / (2 * ms)), 0.0)
    np.testing.assert_allclose(g["g_exc"][:, 0], ref, atol=1e-6 * 10 * nS)
    assert g["g_exc"][:, 0].max() == pytest.approx(10 * nS, rel=1e-6)
    assert cell.checked.spec.parameters["e_rev_inh"][0] == -85e-3
