"""Spike streams (issue 12, item 4): a recording replayed from disk in windows gives the
very spikes of an in-memory replay, continues identically from a checkpoint, and fails
early and clearly on bad files. (Threads and MPI: the ``replay`` engine case.)"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

import axonforge as sim
from axonforge.models import LIF, SpikeSource, SpikeStream
from axonforge.streaming import StreamWriter, write_stream
from axonforge.units import ms, mV, pA

DT = 0.1 * ms
N = 60


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Sorted spikes with ties, times on both sides of grid points and repeats of one
    source in one step (merged)."""
    rng = np.random.default_rng(5)
    times = rng.uniform(0.0002, 0.3, 12_000)
    k = rng.integers(2, 2999, 300)
    # exactly between two step ends, just below and just above: half-way rounds up
    times[:300] = (k + 0.5) * DT
    times[300:600] = (k + 0.5) * DT * (1 - 1e-12)
    times[600:900] = (k + 0.5) * DT * (1 + 1e-12)
    times = np.sort(times)
    ids = rng.integers(0, N, len(times))
    path = tmp_path_factory.mktemp("stream") / "rec.h5"
    write_stream(path, times, ids, n_units=N)
    return path, times, ids


def _run(source, durations=(0.1, 0.2), threads=1, n=N):
    net = sim.Network(dt=DT, seed=2, threads=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = net.population(source, n=n, name="src")
        cells = net.population(LIF(kinetics="delta"), n=40, v=sim.uniform(-70 * mV, -52 * mV))
        net.connect(src, cells, rule=sim.FixedProbability(0.2), weight=1.5 * mV, delay=1 * ms)
        net.connect(
            cells, cells, rule=sim.FixedProbability(0.1), weight=-1 * mV, delay=1 * ms, port="inh"
        )
        out, seen = net.spike_monitor(cells), net.spike_monitor(src)
        for d in durations:
            net.run(d)
    return net, src, seen, out


def _same(a, b):
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.ids, b.ids)


@pytest.mark.parametrize("block", [7, 100, 1 << 18])
def test_a_stream_replays_the_spikes_of_an_in_memory_source(recording, block):
    path, times, ids = recording
    _, src_a, seen_a, out_a = _run(SpikeSource(times, ids))
    _, src_b, seen_b, out_b = _run(SpikeStream(path, block=block))
    _same(seen_a, seen_b)
    _same(out_a, out_b)
    assert src_b.merged_spikes == src_a.merged_spikes > 0
    assert len(seen_b.times) == len(times) - src_b.merged_spikes
    assert src_b.buffer.cap >= block  # grown where one chunk needed more


def test_off_grid_times_follow_the_rounding_rule(tmp_path):
    """Nearest step end, half-way up: 1.5 dt -> 2 dt, just below -> 1 dt."""
    t = np.array([1.5 * DT * (1 - 1e-9), 1.5 * DT, 3.49 * DT, 3.5 * DT])
    path = write_stream(tmp_path / "r.h5", t, [0, 1, 2, 3])
    _, _, seen, _ = _run(SpikeStream(path, block=2), durations=(0.001,), n=4)
    np.testing.assert_allclose(seen.times, np.array([1, 2, 3, 4]) * DT, rtol=1e-12)
    np.testing.assert_array_equal(seen.ids, [0, 1, 2, 3])


def test_a_window_and_a_shift_replay_what_spikedata_selects(recording):
    path, times, ids = recording
    data = sim.SpikeData(times, ids, N, np.arange(N))
    part = data.window(0.05, 0.2, shift_to_zero=False).shifted(0.01)
    _, _, seen_a, out_a = _run(SpikeSource(part.times, part.ids))
    _, _, seen_b, out_b = _run(SpikeStream(path, start=0.05, stop=0.2, shift=0.01, block=50))
    _same(seen_a, seen_b)
    _same(out_a, out_b)


def test_a_checkpoint_mid_replay_continues_identically(recording, tmp_path):
    path, _, _ = recording
    _, whole, seen_a, out_a = _run(SpikeStream(path, block=64), durations=(0.1, 0.2))
    net, src, _, _ = _run(SpikeStream(path, block=64), durations=(0.1,))
    merged = src.merged_spikes
    net.save(tmp_path / "mid.h5")
    back = sim.load(tmp_path / "mid.h5")
    assert back.populations["src"].merged_spikes == merged
    with pytest.warns(UserWarning, match="merged") as caught:
        back.run(0.2)
    assert caught[0].filename == __file__  # points at the run call
    seen_b, out_b = back.monitors[list(back.monitors)[1]], back.monitors[list(back.monitors)[0]]
    _same(seen_a, seen_b)
    _same(out_a, out_b)
    assert 0 < merged < back.populations["src"].merged_spikes == whole.merged_spikes


def test_store_and_restore_rewind_the_stream(recording):
    path, _, _ = recording
    net, src, seen, out = _run(SpikeStream(path, block=64), durations=(0.05,))
    net.store()
    net.run(0.1)
    first = (seen.times.copy(), out.times.copy(), src.merged_spikes)
    net.restore()
    with pytest.warns(UserWarning, match="merged"):  # a restored stream reads again
        net.run(0.1)
    np.testing.assert_array_equal(seen.times, first[0])
    np.testing.assert_array_equal(out.times, first[1])
    assert src.merged_spikes == first[2]


def test_in_memory_spikes_stream_and_save_whole(recording, tmp_path):
    _, times, ids = recording
    _, _, seen_a, _ = _run(SpikeSource(times, ids))
    net, _, _, _ = _run(SpikeStream((times, ids), block=500), durations=(0.1,))
    net.save(tmp_path / "mem.h5")
    back = sim.load(tmp_path / "mem.h5")
    with pytest.warns(UserWarning, match="merged"):
        back.run(0.2)
    _same(seen_a, back.monitors[list(back.monitors)[1]])


def test_merges_are_counted_and_warned_once(tmp_path):
    path = write_stream(tmp_path / "m.h5", [0.01, 0.01, 0.01, 0.02, 0.02], [3, 3, 1, 0, 0])
    net = sim.Network(dt=DT)
    pop = net.population(SpikeStream(path), n=4)
    seen = net.spike_monitor(pop)
    with pytest.warns(UserWarning, match="merged"):
        net.run(0.03)
    assert pop.merged_spikes == 2
    assert len(seen.times) == 3


# ------------------------------------------------------------------------- bad input
def _raw(path, times, ids, **attrs):
    with h5py.File(path, "w") as f:
        f["times"], f["ids"] = np.asarray(times, float), np.asarray(ids, np.int64)
        f.attrs.update(dict(format="axonforge-spike-stream", complete=True, n_units=5) | attrs)
    return path


@pytest.mark.parametrize(
    "times, ids, message",
    [
        ([0.01, 0.005, 0.02], [0, 1, 2], r"spikes 0\.\.2: times are not sorted \(time 1"),
        ([0.01, np.nan, 0.02], [0, 1, 2], r"time 1 is nan"),
        ([-0.01, 0.01], [0, 1], r"time 0 is negative"),
        ([0.01, 0.02], [0, 7], r"id 1 is 7, outside the population's 0\.\.4"),
    ],
)
def test_a_bad_file_fails_before_the_run_naming_it(tmp_path, times, ids, message):
    path = _raw(tmp_path / "bad.h5", times, ids)
    net = sim.Network(dt=DT)
    with pytest.raises(ValueError, match=message) as err:
        net.population(SpikeStream(path), n=5)
    assert str(path) in str(err.value)
    assert not net.populations  # nothing half-made


def test_files_that_are_not_streams_are_refused(tmp_path):
    net = sim.Network(dt=DT)
    with pytest.raises(FileNotFoundError, match="no such file"):
        net.population(SpikeStream(tmp_path / "missing.h5"))
    (tmp_path / "text.h5").write_text("0.1 0\n")
    with pytest.raises(ValueError, match="not a spike-stream file"):
        net.population(SpikeStream(tmp_path / "text.h5"))
    with h5py.File(tmp_path / "units.h5", "w") as f:
        f.create_group("units")
    with pytest.raises(ValueError, match="an NWB file.*write_stream"):
        net.population(SpikeStream(tmp_path / "units.h5"))
    with pytest.raises(ValueError, match="incomplete"):
        net.population(SpikeStream(_raw(tmp_path / "i.h5", [0.1], [0], complete=False)))
    with pytest.raises(ValueError, match="must be 1-D and equal"):
        net.population(SpikeStream(_raw(tmp_path / "s.h5", [0.1, 0.2], [0])))


def test_a_writer_refuses_bad_blocks_and_marks_a_failed_file_incomplete(tmp_path):
    path = tmp_path / "w.h5"
    with pytest.raises(ValueError, match="not sorted"):
        with StreamWriter(path, n_units=3) as out:
            out.append([0.1, 0.2], [0, 1])
            out.append([0.15], [2])  # earlier than the last block's end
    with pytest.raises(ValueError, match="incomplete"):
        sim.Network(dt=DT).population(SpikeStream(path))
    with pytest.raises(ValueError, match="2 times but 1 ids"):
        write_stream(tmp_path / "x.h5", [0.1, 0.2], [0])


def test_spikes_before_now_or_at_time_zero_are_refused(tmp_path):
    path = write_stream(tmp_path / "e.h5", [0.00004, 0.01], [0, 1])
    net = sim.Network(dt=DT)
    with pytest.raises(ValueError, match="rounds to t=0.*shift it"):
        net.population(SpikeStream(path), n=2)
    net.population(SpikeStream(path, shift=0.001), n=2)  # shifted: fine
    later = sim.Network(dt=DT)
    later.population(LIF(), n=1)
    later.run(0.005)
    with pytest.raises(ValueError, match="before the current network time"):
        later.population(SpikeStream(path, shift=0.001), n=2)
    ok = later.population(SpikeStream(path, start=0.005), n=2)
    with pytest.raises(TypeError, match="streams its spikes"):
        ok.set_spikes([0.1], [0])


def test_spec_arguments_are_checked():
    with pytest.raises(ValueError, match="block must be a positive integer"):
        SpikeStream("x.h5", block=0)
    with pytest.raises(ValueError, match="stop .* must be after start"):
        SpikeStream("x.h5", start=1.0, stop=0.5)
    with pytest.raises(ValueError, match="times\\[1\\] = -1.0 s is negative"):
        SpikeStream(([0.1, -1.0], [0, 0]))
    with pytest.raises(TypeError, match="spike-stream file path, a SpikeData"):
        sim.Network(dt=DT).population(SpikeStream(42))


def test_a_large_stream_replays_with_pa_weights_and_flat_window(tmp_path):
    """200k spikes through a 4,096-entry window (grown only if a chunk needs it)."""
    rng = np.random.default_rng(9)
    path = tmp_path / "big.h5"
    with StreamWriter(path, n_units=1000) as out:
        for j in range(20):
            t = np.sort(rng.uniform(0.05 * j, 0.05 * (j + 1), 10_000)) + 1e-3
            out.append(t, rng.integers(0, 1000, len(t)))
    net = sim.Network(dt=DT)
    src = net.population(SpikeStream(path, block=4096), name="src")
    cells = net.population(LIF(), n=1000)
    net.connect(src, cells, rule=sim.OneToOne(), weight=100 * pA)
    count = net.spike_monitor(src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.run(1.01)
    assert len(count.times) + src.merged_spikes == 200_000
    # the window grows only to hold the busiest chunk: memory follows the chunk, not
    # the recording
    steps = net._engine.layout.steps
    per_chunk = np.bincount(np.rint(count.times / DT).astype(int) // steps).max()
    assert src.buffer.cap <= max(4096, 2 * per_chunk) < 200_000


def test_read_spikes_reads_a_stream_file_whole_and_write_spikes_writes_one(recording, tmp_path):
    path, times, ids = recording
    data = sim.read_spikes(path)
    assert data.metadata["format"] == "stream" and data.n_units == N
    np.testing.assert_array_equal(data.times, times)
    np.testing.assert_array_equal(data.ids, ids[np.lexsort((ids, times))])
    out = sim.write_spikes(tmp_path / "again.h5", data, format="stream")
    again = sim.read_spikes(out)
    np.testing.assert_array_equal(again.times, data.times)
    np.testing.assert_array_equal(again.ids, data.ids)
    bad = _raw(tmp_path / "bad.h5", [0.2, 0.1], [0, 1])
    with pytest.raises(ValueError, match="bad.h5.*not sorted"):
        sim.read_spikes(bad)
