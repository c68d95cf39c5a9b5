"""The G-ChI astrocyte, gliotransmission and IP3 diffusion against Brian 2 running
Stimberg et al.'s (2019) examples (fixtures from tests/fixtures/make_gchi_fixtures.py):
Fig. 3, release-decreasing gliotransmission that turns a depressing synapse into a
facilitating one, and Fig. 5, an IP3 wave along a ring of gap-coupled astrocytes."""

import json

import numpy as np
import pytest
from conftest import FIXTURES

import axonforge as sim
from axonforge.models import (
    AstrocyteGChI,
    GliotransmitterTsodyksMarkram,
    IP3Diffusion,
    SpikeSource,
)
from axonforge.models.base import NeuronSpec, spec_model

#: a target that sums what arrives (weight 1: the released fraction r_S of each spike)
COUNTER = NeuronSpec(
    name="Counter", parameters={}, state={"q": (0.0, "1", "summed release")}, equations=(),
    ports={"in": "q += w_in"}, port_units={"in": "1"},
)  # fmt: skip


def fig3(dt):
    """Two astrocytes (IP3 driven toward 0.8 and 1.25 uM) and three synapses from one
    spike train: without astrocyte, under astrocyte 0, under astrocyte 1."""
    d = json.loads((FIXTURES / "brian2_gchi_fig3_tripartite.json").read_text())
    net = sim.Network(dt=dt, seed=1)
    glia = net.population(AstrocyteGChI(f_ex=2.0, i_bias=np.array([0.8, 1.25])), n=2,
                          ip3=0.4, ca=0.0, h=0.9)  # fmt: skip
    src = net.population(SpikeSource(times=np.array(d["presynaptic_spike_times_s"])), n=1)
    cnt = net.population(spec_model(COUNTER), n=3)
    net.connect(src, cnt, rule=sim.Explicit([0, 0, 0], [0, 1, 2]), weight=1.0, delay=dt,
                port="in", synapse=GliotransmitterTsodyksMarkram(),
                astrocytes=(glia, [-1, 0, 1]))  # fmt: skip
    q = net.state_monitor(cnt, ["q"])
    releases = net.spike_monitor(glia)
    net.run(d["duration_s"])
    dq = np.diff(q["q"], axis=0, prepend=0.0)
    r = [dq[:, j][dq[:, j] != 0] for j in range(3)]
    return d, r, releases


def test_gliotransmission_turns_depression_into_facilitation():
    """Brian 2's r_S per spike (16 spikes): the unmodulated synapse (U_0* = 0.6)
    depresses, r_S = 0.600, 0.367, 0.154, ... exactly; under astrocytes that released
    gliotransmitter (Gamma_S 0.77 and 0.92) the first release drops to 0.14 and 0.045 and
    the next ones grow (facilitation), as in Stimberg et al.'s Fig. 3.

    Tolerance for the modulated synapses: 0.006. Brian 2 integrates Gamma_S exactly with
    the astrocyte's G_A frozen over each 1 ms step (first-order splitting of the G_A
    pulse, tau 17 ms), axonforge integrates both with RK4; ours is converged (dt = 0.1 ms
    changes r_S by < 2e-5, checked below), Brian's splitting moves Gamma_S by ~0.007 and
    r_S by up to 0.0051 (synapse 1) and 0.0028 (synapse 2)."""
    d, r, releases = fig3(1e-3)
    # releases: Brian reports the step start, axonforge the step end
    for a in (0, 1):
        ours = releases.times[releases.ids == a] - 1e-3
        np.testing.assert_allclose(ours, d["gliotransmitter_release_times_s"][f"astrocyte{a}"],
                                   atol=1e-9)  # fmt: skip
    ref = [np.array(d["per_spike"][f"synapse{j}"]["r_S"]) for j in range(3)]
    assert [len(x) for x in r] == [16, 16, 16]
    np.testing.assert_allclose(r[0], ref[0], atol=1e-12)
    np.testing.assert_allclose(r[1], ref[1], atol=0.006)
    np.testing.assert_allclose(r[2], ref[2], atol=0.006)
    # the switch, in numbers: depression without gliotransmission ...
    assert r[0][0] == pytest.approx(0.6) and np.all(np.diff(r[0][:5]) < 0)
    # ... facilitation under the astrocytes: release grows over the first spikes
    assert r[1][0] < 0.15 and r[1][1] > 1.4 * r[1][0] and r[1][2] > r[1][1]
    assert r[2][0] < 0.05 and np.all(np.diff(r[2][:5]) > 0)
    # converged: a ten times smaller step changes r_S by < 2e-5
    _d, fine, _rel = fig3(1e-4)
    for a, b in zip(r, fine, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_ip3_wave_travels_along_a_ring_as_in_brian2():
    """Fig. 5: 50 astrocytes in a ring, IP3 diffusion both ways (F = 0.09 uM/s), cell 25
    driven toward IP3 = 1 uM for the first 20 s of every 50 s: the Ca2+ wave's first
    peak reaches cells 25, 22, ..., 1 at Brian 2's times (8.10 s, then ~46.6 s per three
    cells) within 0.1 s (2 steps: Brian evaluates the square-wave stimulus at the RK4
    stage times, here it switches between runs), and mirror cells 25 - k and 25 + k are
    identical."""
    d = json.loads((FIXTURES / "brian2_gchi_fig5_ring.json").read_text())
    n, dt = 50, d["dt_s"]
    net = sim.Network(dt=dt, seed=1, strict_units=False)  # Brian's 50 ms step
    # Fig. 5's astrocytes release no gliotransmitter (u_a = 0) and have no PLCbeta input
    model = AstrocyteGChI(o_beta=0.0, u_a=0.0, f_ex=0.09, k_p=0.05, o_delta=0.6, k_delta=0.1,
                          omega_5p=0.05, k_d=0.7, i_bias=0.0)  # fmt: skip
    glia = net.population(model, n=n, ca=0.0, ip3=0.0, h=0.9)
    ring = np.arange(n)
    pre = np.concatenate([ring, ring])
    post = np.concatenate([(ring + 1) % n, (ring - 1) % n])
    net.connect(glia, glia, rule=sim.Explicit(pre, post), weight=0.09, synapse=IP3Diffusion())
    ca = net.state_monitor(glia, ["ca"])
    bias = np.zeros(n)
    for _period in range(8):  # 400 s
        bias[25] = 1.0
        glia.set(i_bias=bias)
        net.run(20.0)
        bias[25] = 0.0
        glia.set(i_bias=bias)
        net.run(30.0)
    c = ca["ca"]
    t = np.asarray(ca.t)  # the state at t, as Brian's monitors (which sample at t)
    for cell in (25, 22, 19, 16, 13, 10, 7, 4, 1):
        x = c[:, cell]
        peaks = np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] > 0.1)) + 1
        first = t[peaks[0]]
        assert first == pytest.approx(d["C_peaks"][str(cell)]["t_s"][0], abs=0.1), cell
    np.testing.assert_array_equal(c[:, 25 - 7], c[:, 25 + 7])


def test_tripartite_synapses_save_and_load(tmp_path):
    """The synapses' astrocytes are saved with the network: a loaded network continues
    identically."""
    net = sim.Network(dt=1e-3, seed=1)
    glia = net.population(AstrocyteGChI(f_ex=2.0, i_bias=np.array([0.8, 1.25])), n=2,
                          ip3=0.4, ca=0.0, h=0.9, name="glia")  # fmt: skip
    src = net.population(SpikeSource(times=np.arange(1, 60) * 0.05), n=1)
    cnt = net.population(spec_model(COUNTER), n=3, name="cnt")
    net.connect(src, cnt, rule=sim.Explicit([0, 0, 0], [0, 1, 2]), weight=1.0, delay=1e-3,
                port="in", synapse=GliotransmitterTsodyksMarkram(),
                astrocytes=(glia, [-1, 0, 1]))  # fmt: skip
    net.run(1.5)
    net.save(tmp_path / "tri.h5")
    q = net.state_monitor(cnt, ["q"])
    net.run(1.5)
    loaded = sim.load(tmp_path / "tri.h5")
    proj = next(iter(loaded.projections.values()))
    assert proj.astro_pop.name == "glia" and list(proj.astro_index) == [-1, 0, 1]
    lq = loaded.state_monitor(loaded.populations["cnt"], ["q"])
    loaded.run(1.5)
    np.testing.assert_array_equal(lq["q"], q["q"])
    assert q["q"][-1, 2] < q["q"][-1, 0]  # gliotransmission lowered release


def test_astrocyte_reads_need_astrocytes():
    net = sim.Network(dt=1e-3, seed=1)
    src = net.population(SpikeSource(times=np.array([0.01])), n=1)
    cnt = net.population(spec_model(COUNTER), n=1)
    with pytest.raises(ValueError, match="connect_tripartite"):
        net.connect(src, cnt, rule=sim.AllToAll(), weight=1.0, port="in",
                    synapse=GliotransmitterTsodyksMarkram())  # fmt: skip
    glia = net.population(AstrocyteGChI(), n=2)
    with pytest.raises(TypeError, match="Explicit"):
        net.connect(src, cnt, rule=sim.AllToAll(), weight=1.0, port="in",
                    synapse=GliotransmitterTsodyksMarkram(), astrocytes=(glia, [0]))  # fmt: skip
    with pytest.raises(ValueError, match=r"-1 \(none\) or 0..1"):
        net.connect(src, cnt, rule=sim.Explicit([0], [0]), weight=1.0, port="in",
                    synapse=GliotransmitterTsodyksMarkram(), astrocytes=(glia, [2]))  # fmt: skip
