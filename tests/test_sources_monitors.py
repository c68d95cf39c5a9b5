"""Inputs (replay, Poisson, noise, step currents) and monitors, against their stated rules."""

import numpy as np
import pytest
from scipy import stats

import axonforge as sim
from axonforge.models import LIF, DCSource, NoiseSource, PoissonSource, SpikeSource, StepCurrent
from axonforge.units import Hz, ms, mV, pA


def test_spike_source_rounds_to_grid_and_counts_merges():
    net = sim.Network(dt=0.1 * ms, seed=1)
    times = np.array([1.0, 1.04, 1.05, 2.0, 2.0, 2.02]) * ms  # 1.05 rounds up (half-way)
    ids = np.array([0, 0, 1, 1, 1, 1])
    with pytest.warns(UserWarning, match="3 spike\\(s\\) fell in the same step"):
        src = net.population(SpikeSource(times, ids), n=2)
    assert src.merged_spikes == 3
    mon = net.spike_monitor(src)
    net.run(0.005)
    np.testing.assert_allclose(mon.times, [1.0 * ms, 1.1 * ms, 2.0 * ms], atol=1e-12)
    np.testing.assert_array_equal(mon.ids, [0, 1, 1])


def test_replay_of_real_spike_times(shared_data):
    """Grasshopper receptor recording (nitime/CRCNS ia-1): 929 spikes, min ISI 3.2 ms, all
    on a 100 us grid, so at dt = 0.1 ms every spike is replayed at its exact time."""
    t = np.loadtxt(shared_data / "text" / "grasshopper_spike_times1.txt") * 1e-6
    assert len(t) == 929
    net = sim.Network(dt=0.1 * ms, seed=1)
    src = net.population(SpikeSource(t))
    mon = net.spike_monitor(src)
    net.run(10.0)
    assert src.merged_spikes == 0
    np.testing.assert_allclose(mon.times, t, atol=1e-9)


def test_poisson_rate_and_count_statistics():
    """1000 sources x 1 s at 20 Hz: total ~ Poisson(20000) (5 sigma tolerance), counts per
    source with Fano factor 1, spike times uniform in time (KS at alpha = 1e-4); per-step
    counts follow Poisson(rate*dt) with multiplicity (rate*dt = 2 for the second group)."""
    net = sim.Network(dt=0.1 * ms, seed=4)
    slow = net.population(PoissonSource(rate=20 * Hz), n=1000)
    fast = net.population(PoissonSource(rate=20000 * Hz), n=5)
    ms_slow, ms_fast = net.spike_monitor(slow), net.spike_monitor(fast)
    net.run(1.0)
    assert abs(ms_slow.num_spikes - 20000) < 5 * np.sqrt(20000)
    counts_per_source = ms_slow.counts
    fano = counts_per_source.var(ddof=1) / counts_per_source.mean()
    assert abs(fano - 1.0) < 0.25  # sd of the sample Fano factor is ~ sqrt(2/999) = 0.045
    assert stats.kstest(ms_slow.times, stats.uniform(0, 1.0).cdf).pvalue > 1e-4
    counts = np.bincount(np.round(ms_fast.times / (0.1 * ms)).astype(int), minlength=10001)[1:]
    assert abs(counts.mean() / 5 - 2.0) < 5 * np.sqrt(2.0 / 50000)
    assert counts.max() > 5 * 2  # several spikes of one source in one step are kept


def test_time_varying_poisson_rate():
    net = sim.Network(dt=0.1 * ms, seed=2)
    src = net.population(PoissonSource(rate=[0.0, 100.0, 10.0], rate_times=[0.0, 0.2, 0.6]), n=500)
    mon = net.spike_monitor(src)
    net.run(1.0)
    t = mon.times
    assert np.sum(t <= 0.2) == 0
    for lo, hi, rate in ((0.2, 0.6, 100), (0.6, 1.0, 10)):
        n = np.sum((t > lo) & (t <= hi))
        expected = rate * 500 * (hi - lo)
        assert abs(n - expected) < 5 * np.sqrt(expected)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_noise_source_amplitude_distribution(distribution):
    """Kolmogorov-Smirnov against N(0, 1), or U(-sqrt(3), sqrt(3)) (unit variance)."""
    net = sim.Network(dt=0.1 * ms, seed=3)
    noise = net.population(
        NoiseSource(std=2.0, mean=1.0, period=1 * ms, distribution=distribution), n=2000
    )
    pop = net.population(
        LIF(kinetics="delta", tau_m=1e9, v_rest=0.0, v_thresh=1e9, strict_units=False),
        n=2000,
        v=0.0,
    )
    net.connect(noise, pop, rule=sim.OneToOne(), weight=1 * mV, delay=0.1 * ms)
    net.run(0.0011)  # exactly one noise event (emitted at 1 ms) has arrived
    v = pop.get("v") / mV
    assert abs(v.mean() - 1.0) < 5 * 2 / np.sqrt(2000)
    x = (v - 1.0) / 2.0
    if distribution == "normal":
        assert stats.kstest(x, "norm").pvalue > 1e-4
    else:
        assert stats.kstest(x, "uniform", args=(-np.sqrt(3), 2 * np.sqrt(3))).pvalue > 1e-4
        assert np.abs(x).max() <= np.sqrt(3)
    with pytest.raises(ValueError, match="distribution must be one of"):
        NoiseSource(std=1.0, distribution="cauchy")


def test_step_current_and_dc_source_timing():
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(v_thresh=100 * mV), n=2, v=-70 * mV)
    net.inject(StepCurrent([2 * ms, 5 * ms], [100 * pA, 0.0]), pop[:1])
    net.inject(DCSource(50 * pA, start=1 * ms, stop=3 * ms), pop[1:])
    mon = net.state_monitor(pop, "v")
    net.run(0.008)
    moved = [mon.t[np.flatnonzero(np.abs(mon["v"][:, i] + 70 * mV) > 1e-12)[0]] for i in (0, 1)]
    # a change at time t applies from the step that starts at t, sampled at t + dt
    np.testing.assert_allclose(moved, [2.1 * ms, 1.1 * ms], atol=1e-12)
    assert pop.get("i_offset").tolist() == [0.0, 0.0]


def test_state_monitor_every_and_rate_monitor_consistency():
    net = sim.Network(dt=0.1 * ms, seed=9)
    pop = net.population(LIF(i_offset=np.linspace(300, 600, 50) * pA), n=50)
    sm = net.state_monitor(pop[10:20], ["v", "i_syn_exc"], ids=[0, 5], every=7)
    rm = net.rate_monitor(pop[:25])
    sp = net.spike_monitor(pop[:25])
    net.run(0.05, progress=True)  # progress splits the run into many kernel calls
    net.run(0.0503)
    k = np.arange(1, 1004)
    np.testing.assert_allclose(sm.t, k[k % 7 == 0] * 0.1 * ms)
    assert sm["v"].shape == (len(sm.t), 2)
    assert rm.counts.sum() == sp.num_spikes > 0
    np.testing.assert_allclose(rm.t, k * 0.1 * ms)
    assert sp.ids.max() < 25
