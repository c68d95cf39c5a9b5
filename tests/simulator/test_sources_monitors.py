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


def test_the_shared_data_skip_says_what_the_folder_is_and_how_to_get_it():
    """When ../shared/data is absent, the replay test's skip reason explains it."""
    from conftest import SHARED_DATA, SHARED_DATA_MISSING

    assert str(SHARED_DATA) in SHARED_DATA_MISSING
    for fact in ("README.md", "nitime 0.12.1", "pip download --no-deps", "beside"):
        assert fact in SHARED_DATA_MISSING


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


def test_poisson_rate_can_be_changed_between_runs(tmp_path):
    """``pop.set(rate=...)`` holds from the current time on; counts in each second are
    Poisson with the set rate (tolerance 5 standard deviations)."""
    net = sim.Network(dt=0.1 * ms, seed=3)
    src = net.population(PoissonSource(rate=10 * Hz), n=1000, name="in")
    sp = net.spike_monitor(src)
    net.run(1.0)
    src.set(rate=50 * Hz)
    assert np.all(src.get("rate") == 50.0)
    net.run(1.0)
    src[:500].set(rate=0.0)
    path = tmp_path / "net.h5"
    net.save(path)
    net.run(1.0)
    t, i = sp.times, sp.ids
    for count, mean in (
        (np.sum(t <= 1.0), 10_000),
        (np.sum((t > 1.0) & (t <= 2.0)), 50_000),
        (np.sum((t > 2.0) & (i >= 500)), 25_000),
    ):
        assert abs(count - mean) < 5 * np.sqrt(mean), (count, mean)
    assert np.sum((t > 2.0) & (i < 500)) == 0
    back = sim.load(path)  # the new rates are saved and continue identically
    back.run(1.0)
    later = back.monitors[sp.name]
    np.testing.assert_array_equal(later.times[later.times > 2.0], t[t > 2.0])
    with pytest.raises(ValueError, match="rates must be finite and >= 0"):
        src.set(rate=-1.0)


def test_monitors_are_looked_up_by_name_also_after_load(tmp_path):
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(i_offset=400 * pA), n=5, name="cells")
    net.spike_monitor(pop, name="spikes")
    net.state_monitor(pop, "v", name="v")
    net.rate_monitor(pop)
    assert list(net.monitors) == ["spikes", "v", "mon2"]
    with pytest.raises(ValueError, match="a monitor named 'v' already exists"):
        net.state_monitor(pop, "v", name="v")
    net.run(0.05)
    net.save(tmp_path / "net.h5")
    back = sim.load(tmp_path / "net.h5")
    assert list(back.monitors) == ["spikes", "v", "mon2"]
    assert back.monitors["spikes"].num_spikes == net.monitors["spikes"].num_spikes > 0


def test_raster_style_keywords_and_summary_units(tmp_path):
    """``markersize``/``ms``/``s`` and ``color``/``c`` all work; each variable is shown in
    a unit of its own (``v`` in mV, a current in pA), not every variable times 1e3."""
    import matplotlib

    matplotlib.use("Agg")
    net = sim.Network(dt=0.1 * ms, seed=1)
    src = net.population(SpikeSource([1 * ms, 3 * ms], [0, 0]), n=1)
    pop = net.population(LIF(i_offset=400 * pA), n=2)
    net.connect(src, pop, weight=80 * pA)
    sp = net.spike_monitor(pop)
    mon = net.state_monitor(pop, ["v", "i_syn_exc"])
    net.run(0.05)
    assert sim.plot.raster(sp, markersize=3).lines[0].get_markersize() == 3
    assert sim.plot.raster(sp, ms=2, c="r").lines[0].get_color() == "r"
    assert sim.plot.raster(sp, s=16).lines[0].get_markersize() == 4
    fig = sim.plot.summary(states=mon, variable="i_syn_exc")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "i_syn_exc [pA]"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mon["i_syn_exc"][:, 0] * 1e12)
    ax = sim.plot.summary(states=mon, path=tmp_path / "v.png").axes[0]
    assert ax.get_ylabel() == "v [mV]"
    assert (tmp_path / "v.png").stat().st_size > 1000
