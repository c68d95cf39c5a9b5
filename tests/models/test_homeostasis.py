"""Homeostasis (axonforge.models.LIFHomeostatic): the adaptive threshold and synaptic scaling
against their closed-form solutions, and both regulating the rate toward the target."""

import numpy as np
import pytest

import axonforge as sim
from axonforge.models import LIFHomeostatic, PoissonSource, SpikeSource
from axonforge.units import Hz, ms, mV, pA

DT = 0.1 * ms


def test_adaptive_threshold_follows_its_closed_form():
    """theta(t) = sum_s theta_plus*exp(-(t - t_s)/tau_theta)
    - theta_plus*r_target*tau_theta*(1 - exp(-t/tau_theta)) (Diehl & Cook 2015 plus the
    target-rate drift), exact because the system is linear."""
    tp, tau, r = 2 * mV, 0.15, 4.0
    net = sim.Network(dt=DT, seed=1)
    pop = net.population(
        LIFHomeostatic(theta_plus=tp, tau_theta=tau, r_target=r, i_offset=500 * pA), n=1
    )
    mon = net.state_monitor(pop, ["theta"])
    spikes = net.spike_monitor(pop)
    net.run(0.5)
    t = mon.t
    expected = -tp * r * tau * (1 - np.exp(-t / tau))
    for ts in spikes.times:
        expected += np.where(t >= ts - 1e-12, tp * np.exp(-(t - ts) / tau), 0.0)
    assert len(spikes.times) > 10
    assert np.max(np.abs(mon["theta"][:, 0] - expected)) < 1e-9 * tp
    isi = np.diff(spikes.times)
    assert isi[-1] > 1.5 * isi[0]  # spike-frequency adaptation


def test_intrinsic_plasticity_settles_at_the_target_rate():
    """With a long tau_theta, a regularly firing neuron's threshold settles where one
    jump theta_plus balances the drift theta_plus*r_target over one interval: the ISI
    becomes 1/r_target (up to the 0.1 ms grid)."""
    net = sim.Network(dt=DT, seed=1)
    pop = net.population(
        LIFHomeostatic(theta_plus=1 * mV, tau_theta=1e4, r_target=10.0, i_offset=600 * pA), n=1
    )
    spikes = net.spike_monitor(pop)
    net.run(20.0)
    isi = np.diff(spikes.times)
    assert isi[0] < 0.03  # it started far above the target (> 30 Hz)
    assert np.all(np.abs(isi[-20:] - 0.1) <= 2 * DT + 1e-12), isi[-20:]


def test_synaptic_scaling_multiplies_input_by_its_closed_form():
    """A silent neuron: rate(t) = r_target*exp(-t/tau_rate), so log_scale(t) =
    beta*r_target*(t - tau_rate*(1 - exp(-t/tau_rate))), and each input spike of weight
    w raises i_syn_exc by w*exp(log_scale) (van Rossum et al. 2000, eq. 4)."""
    beta, r, tau_r, w, tau_syn = 0.05, 5.0, 0.5, 1 * pA, 5 * ms
    times = np.array([0.1, 0.4, 0.9, 1.5])
    net = sim.Network(dt=DT, seed=1)
    src = net.population(SpikeSource(times, np.zeros(4, int)), n=1)
    pop = net.population(
        LIFHomeostatic(beta=beta, r_target=r, tau_rate=tau_r, tau_syn_exc=tau_syn), n=1
    )
    net.connect(src, pop, weight=w, delay=DT)
    mon = net.state_monitor(pop, ["i_syn_exc", "log_scale"])
    net.run(1.6)
    t = mon.t
    analytic = beta * r * (t - tau_r * (1 - np.exp(-t / tau_r)))
    np.testing.assert_allclose(mon["log_scale"][:, 0], analytic, rtol=1e-9, atol=1e-12)
    i = mon["i_syn_exc"][:, 0]
    jumps = i[1:] - i[:-1] * np.exp(-DT / tau_syn)
    at = np.flatnonzero(jumps > 1e-3 * w) + 1
    np.testing.assert_allclose(t[at], times + DT, atol=1e-9)
    np.testing.assert_allclose(jumps[at - 1], w * np.exp(analytic[at]), rtol=1e-7)
    assert np.exp(analytic[at[-1]]) > 1.25  # the scale did grow


@pytest.mark.parametrize("start", ["low", "high"])
def test_synaptic_scaling_regulates_the_rate(start):
    """Neurons driven by Poisson input at about 2 Hz (or 25 Hz) scale their excitatory
    weights until they fire near the 8 Hz target (last 10 s within 2 Hz)."""
    w = 28 * pA if start == "low" else 45 * pA
    net = sim.Network(dt=DT, seed=4)
    inp = net.population(PoissonSource(rate=10 * Hz), n=400)
    pop = net.population(LIFHomeostatic(beta=0.02, r_target=8.0, tau_rate=2.0), n=50)
    net.connect(inp, pop, rule=sim.FixedInDegree(100), weight=w, delay=1 * ms)
    spikes = net.spike_monitor(pop)
    net.run(2.0)
    first = spikes.counts.mean() / 2.0
    assert (first < 4.0) if start == "low" else (first > 16.0), first
    net.run(58.0)
    late = np.sum(spikes.times > 50.0) / 50 / 10.0
    assert abs(late - 8.0) < 2.0, (first, late)
