"""Event-camera (AEDAT) and Neo readers, the pynwb cross-check of the NWB reader, and
NWB time series (axonforge.read_timeseries)."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import axonforge as af
from axonforge.readers import SpikeData, guess_format

DATA = Path(__file__).parents[2].parent / "shared" / "data"
NWB_FILES = ["A8604-211122_phy.nwb", "A2929-200711_neurosuite.nwb"]


@pytest.fixture
def data_dir():
    if not DATA.exists():
        from conftest import SHARED_DATA_MISSING

        pytest.skip(SHARED_DATA_MISSING)
    return DATA


def _dvs(width, height, n=500, seed=7, span_us=2_000_000, start_us=0):
    """Events on a width x height sensor, ids (y*width + x)*2 + p, whole-microsecond times."""
    rng = np.random.default_rng(seed)
    t_us = start_us + np.sort(rng.integers(0, span_us, n))
    ids = rng.integers(0, width * height * 2, n)
    n_units = width * height * 2
    meta = {"width": width, "height": height}
    from axonforge.readers import _finish

    return _finish("<gen>", "aedat", t_us * 1e-6, ids, n_units, np.arange(n_units), meta=meta)


# ------------------------------------------------------------------ AEDAT


@pytest.mark.parametrize(
    "version, size", [("2.0", (128, 128)), ("3.1", (128, 128)), ("3.1", (346, 260))]
)
def test_aedat_round_trip(tmp_path, version, size):
    src = _dvs(*size)
    path = af.write_spikes(tmp_path / "rec.aedat", src, version=version)
    assert guess_format(path) == "aedat"
    back = af.read_spikes(path)
    assert back.metadata["format"] == "aedat" and back.metadata["aedat_version"] == version
    assert (back.metadata["width"], back.metadata["height"]) == size
    assert back.n_units == size[0] * size[1] * 2 and isinstance(back, SpikeData)
    np.testing.assert_array_equal(back.ids, src.ids)
    np.testing.assert_array_equal(np.round(back.times * 1e6), np.round(src.times * 1e6))


def test_aedat2_dvs128_address_layout_follows_jaer(tmp_path):
    """jAER DVS128: x = 127 - bits 7..1, y = bits 14..8, ON when bit 0 is clear; bit 15
    marks a special (sync) event, which is skipped."""

    def event(addr, t):
        return int(addr).to_bytes(4, "big") + int(t).to_bytes(4, "big")

    body = event((5 << 8) | (10 << 1) | 0, 100)  # x = 117, y = 5, ON
    body += event((127 << 8) | (0 << 1) | 1, 200)  # x = 127, y = 127, OFF
    body += event(0x8000, 250)  # special event
    path = tmp_path / "dvs.dat"  # jAER's own suffix: the magic decides
    path.write_bytes(b"#!AER-DAT2.0\r\n# comment\r\n" + body)
    d = af.read_spikes(path)
    np.testing.assert_array_equal(d.ids, [(5 * 128 + 117) * 2 + 1, (127 * 128 + 127) * 2 + 0])
    np.testing.assert_allclose(d.times, [100e-6, 200e-6])
    assert d.metadata["special_events"] == 1


def test_aedat1_has_16_bit_addresses(tmp_path):
    body = (3 << 8 | 2 << 1).to_bytes(2, "big") + (7).to_bytes(4, "big")
    (tmp_path / "v1.aedat").write_bytes(b"#!AER-DAT1.0\n" + body)
    d = af.read_spikes(tmp_path / "v1.aedat")
    assert list(d.ids) == [(3 * 128 + 125) * 2 + 1] and d.times[0] == pytest.approx(7e-6)


def test_aedat2_timestamp_wrap(tmp_path):
    src = _dvs(128, 128, n=50, span_us=10, start_us=2**32 - 5)  # crosses 2**32 us
    back = af.read_spikes(af.write_spikes(tmp_path / "w.aedat", src, version="2.0"))
    np.testing.assert_array_equal(np.round(back.times * 1e6), np.round(src.times * 1e6))
    assert back.metadata["timestamp_wraps"] == 1


def test_aedat31_overflow_packets_and_validity(tmp_path):
    """Timestamps past 2**31 us go to packets with eventTSOverflow = 1; invalid events
    and non-polarity packets are skipped."""
    src = _dvs(64, 48, n=40, span_us=20, start_us=2**31 - 10)
    path = af.write_spikes(tmp_path / "o.aedat", src, version="3.1", packet_events=7)
    raw = bytearray(path.read_bytes())
    body = raw.index(b"#!END-HEADER\r\n") + len(b"#!END-HEADER\r\n")
    overflows = []
    pos = body
    while pos < len(raw):
        number = int.from_bytes(raw[pos + 20 : pos + 24], "little")
        overflows.append(int.from_bytes(raw[pos + 12 : pos + 16], "little"))
        pos += 28 + 8 * number
    assert overflows[0] == 0 and overflows[-1] == 1 and overflows == sorted(overflows)
    back = af.read_spikes(path)
    np.testing.assert_array_equal(np.round(back.times * 1e6), np.round(src.times * 1e6))
    assert back.times[-1] * 1e6 > 2**31
    # clear the valid bit of the first event; append a special-event packet (type 0)
    raw[body + 28] &= 0xFE
    special = np.zeros(1, "<u2,<u2,<u4,<u4,<u4,<u4,<u4,<u4")
    special[0] = (0, 1, 8, 4, 0, 2, 2, 2)
    raw += special.tobytes() + bytes(16)
    path.write_bytes(bytes(raw))
    cut = af.read_spikes(path)
    assert cut.n_spikes == src.n_spikes - 1
    assert cut.metadata["invalid_events"] == 1 and cut.metadata["skipped_events"] == {0: 2}


def test_aedat31_size_from_header_or_options(tmp_path):
    path = af.write_spikes(tmp_path / "s.aedat", _dvs(20, 10, n=30), version="3.1")
    text = path.read_bytes().replace(b"#sizeX: 20\r\n#sizeY: 10\r\n", b"")
    path.write_bytes(text)
    with pytest.raises(ValueError, match=r"s\.aedat.*pass width= and height="):
        af.read_spikes(path)
    assert af.read_spikes(path, width=20, height=10).n_units == 400
    with pytest.raises(ValueError, match=r"s\.aedat.*outside the 5x5 sensor"):
        af.read_spikes(path, width=5, height=5)


@pytest.mark.parametrize(
    "version, cut",
    [("2.0", 3), ("3.1", 5), ("3.1", 20 * 8 + 10)],  # 3.1: inside the events, the header
)
def test_truncated_aedat_fails(tmp_path, version, cut):
    path = af.write_spikes(tmp_path / "t.aedat", _dvs(128, 128, n=20), version=version)
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(ValueError, match=r"t\.aedat.*truncated"):
        af.read_spikes(path)


def test_aedat_wrong_magic_and_unsupported_layouts_fail(tmp_path):
    path = tmp_path / "x.aedat"
    path.write_bytes(b"#!EVT-DAT2.0\r\n" + bytes(16))
    with pytest.raises(ValueError, match=r"x\.aedat.*not an AEDAT file"):
        af.read_spikes(path)
    path.write_bytes(b"#!AER-DAT2.0\r\n" + (1 << 20).to_bytes(4, "big") + bytes(4))
    with pytest.raises(ValueError, match=r"x\.aedat.*wider than the 16-bit DVS128"):
        af.read_spikes(path)
    path.write_bytes(b"#!AER-DAT4.0\r\n")
    with pytest.raises(ValueError, match=r"x\.aedat.*version '4.0' is not supported"):
        af.read_spikes(path)
    path.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n")
    with pytest.raises(ValueError, match=r"x\.aedat.*END-HEADER"):
        af.read_spikes(path)


# ------------------------------------------------------------------ Neo


def _neo_block(n_segments=1):
    neo = pytest.importorskip("neo")  # a test dependency: only absent outside [test]
    import quantities as pq

    block = neo.Block(name="b")
    for s in range(n_segments):
        seg = neo.Segment(name=f"seg{s}")
        seg.spiketrains.append(
            neo.SpikeTrain([3.0, 1.5, 7.25], units="ms", t_stop=10 * pq.ms, name="cellA")
        )
        seg.spiketrains.append(
            neo.SpikeTrain([0.002, 0.004], units="s", t_stop=0.01, name="cellB", channel=4)
        )
        block.segments.append(seg)
    return block


def test_neo_pickle_round_trip(tmp_path):
    from neo.io import PickleIO

    path = tmp_path / "block.pkl"
    PickleIO(str(path)).write_block(_neo_block())
    assert guess_format(path) == "neo"
    for io in (None, "PickleIO", PickleIO):
        d = af.read_spikes(path, io=io) if io is not None else af.read_spikes(path)
        assert d.metadata["format"] == "neo" and d.metadata["io"] == "PickleIO"
        assert list(d.unit_labels) == ["cellA", "cellB"]
        trains = {lab: d.times[d.ids == i] for i, lab in enumerate(d.unit_labels)}
        np.testing.assert_allclose(trains["cellA"], [1.5e-3, 3e-3, 7.25e-3], rtol=0, atol=1e-15)
        np.testing.assert_array_equal(trains["cellB"], [0.002, 0.004])
        assert d.duration == pytest.approx(0.01)
        assert d.metadata["annotations"][1] == {"channel": 4}


def test_neo_several_segments_need_a_choice(tmp_path):
    from neo.io import PickleIO

    path = tmp_path / "two.pkl"
    PickleIO(str(path)).write_block(_neo_block(2))
    with pytest.raises(ValueError, match=r"two\.pkl.*2 segments.*segment=k"):
        af.read_spikes(path)
    d = af.read_spikes(path, segment=1)
    assert d.n_spikes == 5 and d.metadata["segment"] == 1
    with pytest.raises(ValueError, match=r"segment=2 but the file has 2"):
        af.read_spikes(path, segment=2)


def test_neo_unreadable_file_fails_naming_it(tmp_path):
    pytest.importorskip("neo")
    path = tmp_path / "junk.pkl"
    path.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match=r"junk\.pkl.*neo cannot read it"):
        af.read_spikes(path)
    with pytest.raises(ValueError, match="no neo IO named"):
        af.read_spikes(path, format="neo", io="NoSuchIO")


# ------------------------------------------------------------------ pynwb cross-check


@pytest.mark.filterwarnings("ignore:The 'manufacturer' field is deprecated")
@pytest.mark.parametrize("name", NWB_FILES)
def test_h5py_reader_agrees_with_pynwb_exactly(data_dir, name):
    pynwb = pytest.importorskip("pynwb")  # in the [test] extra
    path = data_dir / "nwb" / name
    ours = af.read_spikes(path)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        ids = list(units.id[:])
        theirs = {int(i): np.asarray(units["spike_times"][k]) for k, i in enumerate(ids)}
    assert list(ours.unit_labels) == ids
    for k, label in enumerate(ours.unit_labels):
        mine = ours.times[ours.ids == k]
        np.testing.assert_array_equal(mine, np.sort(theirs[int(label)]))  # exact
    via = af.read_spikes(path, backend="pynwb")
    np.testing.assert_array_equal(via.times, ours.times)
    np.testing.assert_array_equal(via.ids, ours.ids)
    assert via.metadata["backend"] == "pynwb"


def test_pynwb_backend_on_a_written_file_and_bad_backend(tmp_path):
    from axonforge.readers import _finish

    src = _finish("<t>", "npz", [0.1, 0.2, 0.3], [0, 1, 0], 2, np.array([5, 9]))
    path = af.write_spikes(tmp_path / "s.nwb", src)
    with pytest.raises(ValueError, match="backend must be"):
        af.read_spikes(path, backend="nwbinspector")
    bad = tmp_path / "bad.nwb"
    with h5py.File(bad, "w") as f:
        f.create_group("acquisition")
    with pytest.raises(ValueError, match=r"bad\.nwb"):
        af.read_spikes(bad, backend="pynwb")


# ------------------------------------------------------------------ NWB time series


def test_read_timeseries_real_behaviour(data_dir):
    path = data_dir / "nwb" / "A2929-200711_neurosuite.nwb"
    hd = af.read_timeseries(path, "CompassDirection")
    assert hd.labels == ("rx", "ry", "rz") and hd.unit == "radian"
    assert hd.data.shape == (63527, 3) and hd.times.shape == (63527,)
    assert hd.times[0] == pytest.approx(670.6407) and hd.times[-1] == pytest.approx(
        1199.99, abs=0.01
    )
    assert 115 < 1 / np.median(np.diff(hd.times)) < 125
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(hd.data[:, 1], f["acquisition/CompassDirection/ry/data"][()])
    x = af.read_timeseries(path, "Position/x")
    assert x.data.shape == (63527,) and x.labels == ("x",)
    assert af.read_timeseries(path, "acquisition/Position").data.shape == (63527, 3)
    with pytest.raises(ValueError, match=r"no time series 'HeadDirection'.*CompassDirection/rx"):
        af.read_timeseries(path, "HeadDirection")


def test_read_timeseries_starting_time_rate_and_conversion(tmp_path):
    path = tmp_path / "ts.nwb"
    with h5py.File(path, "w") as f:
        g = f.create_group("processing/behavior/Speed")
        g.attrs["neurodata_type"] = "TimeSeries"
        d = g.create_dataset("data", data=np.array([1, 2, 3, 4], np.int16))
        d.attrs.update(unit="m/s", conversion=0.5, offset=1.0)
        st = g.create_dataset("starting_time", data=2.0)
        st.attrs["rate"] = 10.0
        h = f.create_group("acquisition/Bad")
        h.create_dataset("data", data=np.zeros(3))
        h.create_dataset("timestamps", data=np.zeros(2))
    s = af.read_timeseries(path, "Speed")
    np.testing.assert_allclose(s.times, [2.0, 2.1, 2.2, 2.3])
    np.testing.assert_allclose(s.data, [1.5, 2.0, 2.5, 3.0])
    assert s.unit == "m/s" and s.name == "/processing/behavior/Speed"
    with pytest.raises(ValueError, match=r"ts\.nwb.*2 timestamps for 3 samples"):
        af.read_timeseries(path, "Bad")
    with pytest.raises(ValueError, match=r"missing\.nwb.*no such file"):
        af.read_timeseries(tmp_path / "missing.nwb", "Speed")
