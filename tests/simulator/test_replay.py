"""Replaying a recording into a saved network and comparing (issue 12, items 6 and 7):
``axonforge.replay``, the ``axonforge replay`` command, and the two examples that read
the real recordings in ../shared/data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_example

import axonforge as af
from axonforge import cli
from axonforge.models import LIF, SpikeSource
from axonforge.replay import replay
from axonforge.units import ms, mV


def relay(n=4):
    net = af.Network(dt=0.1 * ms, seed=1)
    src = net.population(SpikeSource([], []), n=n, name="input")
    cells = net.population(LIF(kinetics="delta"), n=n, name="relay")
    net.connect(src, cells, rule=af.OneToOne(), weight=30 * mV)  # every spike passes
    return net


def recording(n=4, seed=3):
    rng = np.random.default_rng(seed)
    # spikes on the grid, at least 5 ms apart per unit (beyond the 2 ms refractory time)
    counts = 10 + 5 * np.arange(n)  # different rates per unit
    times = np.concatenate([np.cumsum(rng.integers(50, 300, c)) * 1e-4 for c in counts])
    ids = np.repeat(np.arange(n), counts)
    order = np.lexsort((ids, times))
    return af.SpikeData(times[order], ids[order], n, np.arange(n) + 100)


def test_a_relay_reproduces_the_recording_one_step_later():
    """Every recorded spike makes its relay neuron fire in the step it arrives (no delay
    of the source's own step): the comparison finds the same rates and a small
    distance; the population is chosen automatically."""
    data = recording()
    net = relay()
    r = replay(net, data, progress=False)
    assert r.input.name == "input" and r.target.name == "relay"
    sim = r.comparison
    np.testing.assert_array_equal(sim.rates_sim, sim.rates_rec)
    shift = np.sort(r.monitor.times) - np.sort(data.times)
    np.testing.assert_allclose(shift, 0.1 * ms, atol=1e-12)  # arrive after the min delay
    assert sim.summary()["rate_correlation"] == pytest.approx(1.0)


def test_a_window_is_replayed_from_the_networks_current_time():
    data = recording()
    net = relay()
    net.run(0.05)
    r = replay(net, data, start=0.1, stop=0.3, progress=False)
    assert r.t0 == pytest.approx(0.05) and r.duration == pytest.approx(0.2)
    want = np.sort(data.times[(data.times >= 0.1) & (data.times < 0.3)] - 0.1 + 0.05)
    got = np.sort(r.monitor.times)
    np.testing.assert_allclose(got - want, 0.1 * ms, atol=1e-12)


def test_replay_errors_name_the_problem():
    data = recording(n=6)
    with pytest.raises(ValueError, match="recording has 6 units but population 'input' has 4"):
        replay(relay(4), data)
    with pytest.raises(ValueError, match="no such population; it has input, relay"):
        replay(relay(6), data, compare="cells")
    net = af.Network()
    net.population(LIF(), n=3)
    with pytest.raises(ValueError, match="needs a SpikeSource population"):
        replay(net, data)
    two = relay(6)
    two.population(SpikeSource([], []), n=6, name="other")
    with pytest.raises(ValueError, match="2 spike-source populations .* --input"):
        replay(two, data)


def test_the_command_writes_report_figure_and_recordings(tmp_path, capsys):
    data = recording()
    rec = tmp_path / "rec.npz"
    af.write_spikes(rec, data)
    model = tmp_path / "relay.h5"
    relay().save(model)
    out = tmp_path / "out"
    code = cli.main(["replay", str(rec), "--model", str(model), "--out", str(out),
                     "--report", "html", "--quiet"])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "population 'relay' against the recording" in text
    assert "rate_correlation  1" in text
    assert {p.name for p in out.iterdir()} == {"report.html", "comparison.png", "recordings.h5"}
    assert "<table" in (out / "report.html").read_text()
    rec_back = af.io.load_recordings(out / "recordings.h5")
    assert len(rec_back["spikes_relay"].times) == data.n_spikes


def test_the_command_reports_bad_input_in_one_line(tmp_path, capsys):
    model = tmp_path / "relay.h5"
    relay().save(model)
    bad = tmp_path / "bad.txt"
    bad.write_text("0.1\n0.05\nnan\n")
    assert cli.main(["replay", str(bad), "--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "error" in err and err.count("\n") == 1


# ------------------------------------------------------------- real recordings
def test_nwb_example_relays_head_direction_cells(shared_data, tmp_path, monkeypatch):
    """examples/replay_nwb.py on 20 s of the wake epoch: the relay keeps the units' rate
    order (correlation > 0.9) at a lower rate (coincidences only)."""
    ex = load_example("replay_nwb")
    path = shared_data / "nwb" / "A2929-200711_neurosuite.nwb"
    net, result, (ht, ry) = ex.run(path, 700.0, 720.0, progress=False)
    c = result.comparison
    s = c.summary()
    assert c.n_units == 15 and result.data.n_spikes > 1000
    assert s["rate_correlation"] > 0.9
    assert 0.1 * s["rate_rec"] < s["rate_sim"] < 0.8 * s["rate_rec"]
    assert len(ht) > 2000 and np.all((ry >= 0) & (ry < 2 * np.pi))
    monkeypatch.chdir(tmp_path)
    ex.main(["--recording", str(path), "--start", "700", "--stop", "720"])
    assert (tmp_path / "replay_nwb_comparison.png").exists()
    assert (tmp_path / "replay_nwb_tuning.png").exists()


def test_nmnist_example_drives_the_layer_in_three_saccades(shared_data, tmp_path, monkeypatch):
    ex = load_example("nmnist_layer")
    data, net, events, layer = ex.run(shared_data / "dvs" / "nmnist_sample.bin")
    assert data.n_units == 2312 and data.n_spikes == 4325
    assert events.num_spikes + net.populations["camera"].merged_spikes == 4325
    per_saccade = np.histogram(layer.times, [0, 0.105, 0.21, 0.33])[0]
    assert (per_saccade > 10).all(), per_saccade
    monkeypatch.chdir(tmp_path)
    ex.main([])
    assert (tmp_path / "nmnist_layer.png").exists()
