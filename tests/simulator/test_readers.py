"""Spike-data readers (axonforge.read_spikes) on real recordings and generated round trips.

Rules checked here: every reader sorts spikes by time, then id (stable), so unsorted input
is accepted; NaN or negative times, ids outside 0..n_units-1 and wrong-format files raise
ValueError naming the file."""

import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import axonforge as af
from axonforge.models import LIF, SpikeSource
from axonforge.readers import SpikeData
from axonforge.units import ms, pA

DATA = Path(__file__).parents[2].parent / "shared" / "data"


@pytest.fixture
def data_dir():
    if not DATA.exists():
        from conftest import SHARED_DATA_MISSING  # names DATA, the README and how to get it

        pytest.skip(SHARED_DATA_MISSING)
    return DATA


# ------------------------------------------------------------------ real recordings


@pytest.mark.parametrize(
    "name, n_units, n_spikes",
    [("A8604-211122_phy.nwb", 3, 21354), ("A2929-200711_neurosuite.nwb", 15, 98794)],
)
def test_real_nwb_units_tables(data_dir, name, n_units, n_spikes):
    d = af.read_spikes(data_dir / "nwb" / name)
    assert isinstance(d, SpikeData)
    assert d.metadata["format"] == "nwb" and d.metadata["source"].endswith(name)
    assert (d.n_units, len(d.times)) == (n_units, n_spikes)
    assert d.times.dtype == np.float64 and d.ids.dtype == np.int64
    assert np.all(np.diff(d.times) >= 0)
    assert set(np.unique(d.ids)) == set(range(n_units))
    if name.startswith("A8604"):
        np.testing.assert_array_equal(d.unit_labels, [6, 191, 206])
        np.testing.assert_array_equal(np.bincount(d.ids), [11020, 4690, 5644])
        assert d.duration == pytest.approx(1087.5289, abs=1e-3)
    else:
        np.testing.assert_array_equal(d.unit_labels, np.arange(15))


def test_real_nmnist_sample(data_dir):
    d = af.read_spikes(data_dir / "dvs" / "nmnist_sample.bin")
    assert d.metadata["format"] == "nmnist"
    assert len(d.times) == 4325 and d.n_units == 34 * 34 * 2 == 2312
    assert d.times[0] == pytest.approx(654e-6) and d.times[-1] == pytest.approx(311175e-6)
    assert len(np.unique(d.ids)) == 805
    assert np.sum(d.ids % 2 == 1) == 2145  # ON events
    # same channel map as the README's independent decoding
    raw = np.fromfile(data_dir / "dvs" / "nmnist_sample.bin", np.uint8).reshape(-1, 5)
    raw = raw.astype(np.int64)
    expect = (raw[:, 1] * 34 + raw[:, 0]) * 2 + (raw[:, 2] >> 7)
    np.testing.assert_array_equal(np.sort(d.ids), np.sort(expect))


@pytest.mark.parametrize("n, name", [(929, "1"), (868, "2")])
def test_real_text_files_in_microseconds(data_dir, n, name):
    path = data_dir / "text" / f"grasshopper_spike_times{name}.txt"
    d = af.read_spikes(path, time_unit=1e-6)
    assert d.metadata["format"] == "text" and d.n_units == 1 and len(d.times) == n
    np.testing.assert_allclose(d.times, np.loadtxt(path) * 1e-6)
    assert 0 < d.times[0] < d.times[-1] < 10.0


@pytest.mark.parametrize(
    "name, options",
    [
        ("nwb/A8604-211122_phy.nwb", {}),
        ("nwb/A2929-200711_neurosuite.nwb", {}),
        ("dvs/nmnist_sample.bin", {}),
        ("text/grasshopper_spike_times1.txt", {"time_unit": 1e-6}),
        ("text/grasshopper_spike_times2.txt", {"time_unit": 1e-6}),
    ],
)
def test_every_real_recording_drives_a_network(data_dir, name, options):
    """The first 2 s of each recording (all of the N-MNIST sample) replays exactly: every
    spike comes out of the source population except those merged in a step."""
    d = af.read_spikes(data_dir / name, **options)
    keep = d.times < 2.0
    assert keep.sum() > 10
    net = af.Network(dt=0.1 * ms, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # merged spikes: counted below
        src = net.population(SpikeSource(times=d.times[keep], ids=d.ids[keep]), n=d.n_units)
    pop = net.population(LIF(), n=4)
    net.connect(src, pop, weight=2000 * pA)
    src_mon, pop_mon = net.spike_monitor(src), net.spike_monitor(pop)
    net.run(2.0)
    assert src_mon.num_spikes == int(keep.sum()) - src.merged_spikes
    assert pop_mon.num_spikes > 0


# ------------------------------------------------------------------ round trips


def _generated(n_units=5, n=400, rate=30000.0, labels=None, seed=3):
    rng = np.random.default_rng(seed)
    samples = np.sort(rng.integers(0, int(5 * rate), n))
    times = samples / rate
    ids = rng.integers(0, n_units, n)
    ids[:n_units] = np.arange(n_units)  # every unit fires
    order = np.lexsort((ids, times))
    labels = np.arange(10, 10 + 7 * n_units, 7) if labels is None else np.asarray(labels)
    return SpikeData(times[order], ids[order], n_units, labels, sampling_rate=rate)


@pytest.mark.parametrize(
    "fmt, name",
    [("text", "s.txt"), ("text", "s.csv"), ("npz", "s.npz"), ("nwb", "s.nwb"), ("phy", "phy_out")],
)
def test_write_then_read_gives_the_same_spikes(tmp_path, fmt, name):
    src = _generated()
    path = af.write_spikes(tmp_path / name, src, fmt)
    for guess in (None, fmt):
        back = af.read_spikes(path, format=guess)
        assert back.metadata["format"] == fmt
        np.testing.assert_array_equal(back.times, src.times)
        np.testing.assert_array_equal(back.ids, src.ids)
        np.testing.assert_array_equal(back.unit_labels, src.unit_labels)
        assert back.n_units == src.n_units
    if fmt in ("npz", "nwb", "phy"):
        assert back.sampling_rate == src.sampling_rate


def test_string_labels_round_trip_in_npz(tmp_path):
    src = _generated(n_units=3, labels=["ca1_a", "ca1_b", "adn"])
    back = af.read_spikes(af.write_spikes(tmp_path / "s.npz", src, "npz"))
    assert list(back.unit_labels) == ["ca1_a", "ca1_b", "adn"]
    with pytest.raises(ValueError, match="unit_labels must be numbers"):
        af.write_spikes(tmp_path / "s.txt", src, "text")


def test_phy_folder_keeps_good_clusters_and_parses_params_without_exec(tmp_path):
    folder = tmp_path / "ks"
    folder.mkdir()
    np.save(folder / "spike_times.npy", np.array([[30], [60], [90], [120], [150]], np.uint64))
    np.save(folder / "spike_clusters.npy", np.array([3, 7, 3, 9, 7], np.int32))
    (folder / "params.py").write_text(
        "import os\ndat_path = r'raw.bin'\nn_channels_dat = 4\nsample_rate = 30000.\n"
        "hp_filtered = False\nboom = os.system('exit 1')\n"
    )
    (folder / "cluster_group.tsv").write_text("cluster_id\tgroup\n3\tgood\n7\tmua\n9\tgood\n")
    d = af.read_spikes(folder)
    assert d.metadata["format"] == "phy" and d.sampling_rate == 30000.0
    np.testing.assert_array_equal(d.unit_labels, [3, 9])
    np.testing.assert_allclose(d.times, np.array([30, 90, 120]) / 30000.0)
    np.testing.assert_array_equal(d.ids, [0, 0, 1])
    d = af.read_spikes(folder, groups=("good", "mua"))
    np.testing.assert_array_equal(d.unit_labels, [3, 7, 9])
    assert len(d.times) == 5
    (folder / "cluster_group.tsv").unlink()
    np.testing.assert_array_equal(af.read_spikes(folder).unit_labels, [3, 7, 9])


def test_nmnist_bit_layout_and_overflow_marker(tmp_path):
    def event(x, y, p, t):
        return bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])

    raw = event(1, 2, 1, 0x7FFFFF) + event(0, 240, 0, 0) + event(33, 33, 0, 5)
    path = tmp_path / "e.bin"
    path.write_bytes(raw)
    d = af.read_spikes(path)
    # the overflow marker adds 2**13 us to later events, and readers sort by time
    np.testing.assert_allclose(d.times, [(5 + 2**13) * 1e-6, 0x7FFFFF * 1e-6])
    np.testing.assert_array_equal(d.ids, [(33 * 34 + 33) * 2 + 0, (2 * 34 + 1) * 2 + 1])


def test_readers_sort_by_time_then_id(tmp_path):
    path = tmp_path / "u.tsv"
    path.write_text("time\tunit\n3.0\t5\n1.0\t9\n1.0\t5\n2.0\t9\n")
    d = af.read_spikes(path)
    np.testing.assert_array_equal(d.times, [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(d.unit_labels, [5, 9])
    np.testing.assert_array_equal(d.ids, [0, 1, 1, 0])
    assert not d.times.flags.writeable


# ------------------------------------------------------------------ bad input


def test_nwb_without_units_table_fails_naming_the_file(tmp_path):
    path = tmp_path / "behaviour_only.nwb"
    with h5py.File(path, "w") as f:
        f.attrs["nwb_version"] = "2.4.0"
        f.create_group("acquisition")
    with pytest.raises(ValueError, match=r"behaviour_only\.nwb.*no Units table"):
        af.read_spikes(path)
    with h5py.File(path, "a") as f:
        f.create_group("units")
    with pytest.raises(ValueError, match=r"behaviour_only\.nwb.*no spike_times column"):
        af.read_spikes(path)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("0.1\nnan\n0.3\n", "not finite"),
        ("0.1\n-0.2\n", "negative"),
        ("0.1\nabc\n", "not a number"),
    ],
)
def test_bad_text_fails_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "bad.txt"
    path.write_text("# header\n" + text)
    with pytest.raises(ValueError, match=rf"bad\.txt.*{problem}"):
        af.read_spikes(path)


def test_truncated_nmnist_fails(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(bytes(12))
    with pytest.raises(ValueError, match=r"cut\.bin.*not a multiple of 5"):
        af.read_spikes(path)


def test_phy_folder_without_params_fails(tmp_path):
    af.write_spikes(tmp_path / "phy", _generated(), "phy")
    (tmp_path / "phy" / "params.py").unlink()
    with pytest.raises(ValueError, match=r"phy.*without params\.py"):
        af.read_spikes(tmp_path / "phy")


def test_npz_ids_beyond_n_units_fail(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, times=[0.1, 0.2], ids=[0, 3], unit_labels=[10, 11])
    with pytest.raises(ValueError, match=r"s\.npz.*outside 0\.\.1"):
        af.read_spikes(path)


def test_wrong_format_and_unknown_files_fail_clearly(tmp_path):
    path = tmp_path / "spikes.nwb"
    path.write_text("0.1\n0.2\n")
    with pytest.raises(ValueError, match=r"spikes\.nwb.*not a readable HDF5"):
        af.read_spikes(path, format="nwb")
    with pytest.raises(ValueError, match=r"spikes\.nwb.*not a readable \.npz"):
        af.read_spikes(path, format="npz")
    other = tmp_path / "spikes.xyz"
    other.write_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match=r"spikes\.xyz.*cannot tell the format"):
        af.read_spikes(other)
    with pytest.raises(ValueError, match=r"missing\.txt.*no such file"):
        af.read_spikes(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="unknown format"):
        af.read_spikes(other, format="mat")


def _data(times, ids, n_units=3):
    from axonforge.readers import _finish

    return _finish("<test>", "npz", times, ids, n_units, np.arange(n_units) + 100, duration=2.0)


def test_replay_preparation_window_shift_select_loop_thin():
    d = _data([0.1, 0.5, 0.9, 1.2, 1.7], [0, 1, 2, 0, 1])
    w = d.window(0.4, 1.5)
    np.testing.assert_allclose(w.times, [0.1, 0.5, 0.8])
    assert list(w.ids) == [1, 2, 0] and w.duration == pytest.approx(1.1)
    assert w.metadata["transforms"] == ["window(0.4, 1.5)"]
    s = d.shifted(0.25)
    np.testing.assert_allclose(s.times, d.times + 0.25)
    sel = d.select([1, 0])
    assert sel.n_units == 2 and list(sel.ids) == [1, 0, 1, 0]
    assert list(sel.unit_labels) == [101, 100]
    loop = d.window(0.0, 1.0).looped(1.0, 3.0)
    np.testing.assert_allclose(loop.times, [0.1, 0.5, 0.9, 1.1, 1.5, 1.9, 2.1, 2.5, 2.9])
    many = _data(np.linspace(0, 1, 10001)[:-1], np.zeros(10000, int), 1)
    th = many.thinned(0.3, seed=4)
    assert abs(th.n_spikes - 3000) < 4 * np.sqrt(10000 * 0.3 * 0.7)
    assert np.array_equal(th.times, many.thinned(0.3, seed=4).times)
    with pytest.raises(ValueError, match="do not fit one period"):
        d.looped(1.0, 3.0)
    with pytest.raises(ValueError, match="units must lie"):
        d.select([3])
    with pytest.raises(ValueError, match="start < stop"):
        d.window(1.0, 0.5)
    with pytest.raises(ValueError, match="keep must be in"):
        d.thinned(1.5)


def test_injected_spikes_appear_at_their_rounded_times():
    """Times round to the nearest step end (half up): 1.04 ms -> 1.0 ms, 1.05 and 1.06 ms
    -> 1.1 ms, on both sides of a grid point; two spikes of one unit in one step merge
    (counted)."""
    import axonforge as sim
    from axonforge.models import SpikeSource
    from axonforge.units import ms

    d = _data(np.array([1.04, 1.05, 1.06, 2.0, 2.01]) * ms, [0, 1, 2, 0, 0])
    net = sim.Network(dt=0.1 * ms, seed=1)
    with pytest.warns(UserWarning, match="1 spike.* were merged"):
        src = net.population(SpikeSource(times=d.times, ids=d.ids), n=d.n_units)
    mon = net.spike_monitor(src)
    net.run(3 * ms)
    got = sorted(zip(np.round(mon.times / ms, 6).tolist(), mon.ids.tolist()))
    assert got == [(1.0, 0), (1.1, 1), (1.1, 2), (2.0, 0)]
    assert src.merged_spikes == 1


def test_nmnist_round_trip_with_overflow_markers(tmp_path):
    """Events beyond 2**23 us need overflow markers (y = 240, +2**13 us each): written and
    read back, the same events."""
    rng = np.random.default_rng(4)
    t_us = np.sort(rng.integers(0, 9_000_000, 3000))
    t_us[-5:] = 8_388_607 + np.arange(5) * 50_000  # around and past the 23-bit limit
    t_us = np.sort(t_us)
    ids = rng.integers(0, 34 * 34 * 2, len(t_us))
    order = np.lexsort((ids, t_us))
    src = SpikeData(t_us[order] * 1e-6, ids[order], 2312, np.arange(2312))
    path = af.write_spikes(tmp_path / "digit.bin", src)
    raw = np.fromfile(path, np.uint8).reshape(-1, 5)
    assert (raw[:, 1] == 240).sum() > 0  # markers were needed
    back = af.read_spikes(path)
    np.testing.assert_array_equal(np.rint(back.times * 1e6), np.rint(src.times * 1e6))
    np.testing.assert_array_equal(back.ids, src.ids)
    with pytest.raises(ValueError, match="whole microseconds"):
        af.write_spikes(tmp_path / "x.bin", SpikeData(np.array([1.5e-7]), np.array([0]), 2312,
                                                      np.arange(2312)))  # fmt: skip


def test_structured_event_arrays_map_pixels_and_polarity_to_channels():
    """tonic-style events (x, y, t [us], p) -> unit (y*width + x)*2 + p, sorted by time;
    the N-MNIST reader's layout."""
    ev = np.zeros(4, dtype=[("x", "i2"), ("y", "i2"), ("t", "i8"), ("p", "i1")])
    ev["x"], ev["y"], ev["t"], ev["p"] = (
        [3, 0, 33, 1],
        [0, 2, 33, 1],
        [50, 10, 20, 20],
        [1, 0, 1, 0],
    )
    data = af.spikes_from_events(ev, width=34, height=34)
    assert data.n_units == 2312
    np.testing.assert_allclose(data.times, [10e-6, 20e-6, 20e-6, 50e-6])
    np.testing.assert_array_equal(data.ids, [2 * 68, (34 + 1) * 2, (33 * 34 + 33) * 2 + 1, 7])
    renamed = ev.astype([("x", "i2"), ("y", "i2"), ("t", "i8"), ("polarity", "i1")])
    np.testing.assert_array_equal(af.spikes_from_events(renamed, 34, 34).ids, data.ids)
    with pytest.raises(ValueError, match=r"missing \['p'\]"):
        af.spikes_from_events(ev[["x", "y", "t"]], 34, 34)
    bad = ev.copy()
    bad["x"][2] = 40
    with pytest.raises(ValueError, match="event 2: x outside 0..width-1"):
        af.spikes_from_events(bad, 34, 34)
