"""Izhikevich (2003) presets reproduce the firing classes of the paper's Fig. 2.

Protocol: a 10 pA step (the paper's I = 10 with c_m = 1 pF) from 20 ms, 500 ms, dt 0.1 ms.
Patterns are judged by interspike-interval statistics (thresholds well away from the
measured values, so the test checks the class, not a trace).
"""

import numpy as np
import pytest

import axonforge as sim
from axonforge.models import Izhikevich, StepCurrent
from axonforge.units import ms, pA


@pytest.fixture(scope="module")
def isis():
    net = sim.Network(dt=0.1 * ms, seed=1)
    mons = {}
    for name in ("RS", "IB", "CH", "FS", "LTS"):
        pop = net.population(Izhikevich.preset(name), n=1, name=name)
        net.inject(StepCurrent([20 * ms], [10 * pA]), pop)
        mons[name] = net.spike_monitor(pop)
    net.run(0.5)
    return {k: np.diff(m.times) / ms for k, m in mons.items()}


def test_regular_spiking_is_tonic_with_adaptation(isis):
    isi = isis["RS"]
    assert isi.min() > 10  # never bursts
    assert isi[0] < 0.8 * isi[-1]  # spike-frequency adaptation
    steady = isi[2:]
    assert steady.std() / steady.mean() < 0.05  # then tonic


def test_intrinsically_bursting_starts_with_a_burst_then_tonic(isis):
    isi = isis["IB"]
    assert np.all(isi[:2] < 10)  # initial burst of >= 3 spikes
    assert np.all(isi[2:] > 20)  # followed by tonic spiking


def test_chattering_fires_repeated_bursts(isis):
    isi = isis["CH"]
    assert (isi > 20).sum() >= 5  # inter-burst intervals
    assert (isi < 10).sum() >= 3 * (isi > 20).sum()  # several spikes per burst
    assert isi.std() / isi.mean() > 1.0


def test_fast_spiking_is_fast_without_adaptation(isis):
    isi = isis["FS"]
    assert 1000 / isi[5:].mean() > 100  # > 100 Hz
    assert isi[5:].std() / isi[5:].mean() < 0.1
    assert isi.max() < 10


def test_low_threshold_spiking_adapts_strongly(isis):
    isi = isis["LTS"]
    assert isi[0] < 5 and isi[-1] > 2 * isi[0]
    assert isi.max() < 20


def test_thalamocortical_rebound_burst():
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(Izhikevich.preset("TC"), n=1)
    net.inject(StepCurrent([10 * ms, 200 * ms], [-10 * pA, 0.0]), pop)
    spikes = net.spike_monitor(pop)
    net.run(0.3)
    t = spikes.times / ms
    assert np.all(t > 200)  # silent while hyperpolarised
    burst = t[t < 230]  # rebound burst on release
    assert len(burst) >= 3 and burst[1] - burst[0] < 10


def test_unknown_preset_is_rejected():
    with pytest.raises(ValueError, match="unknown Izhikevich preset 'XX'.*RS"):
        Izhikevich.preset("XX")
