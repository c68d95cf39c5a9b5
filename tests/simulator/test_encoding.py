"""Send-on-delta encoding (axonforge.send_on_delta): the reconstruction stays within the
threshold at every sample, events are counted as by hand, and bad input fails clearly."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import axonforge as af
from axonforge.encoding import DeltaEncoding

DATA = Path(__file__).parents[2].parent / "shared" / "data"


def _decode(enc, initial):
    """The receiver's side: x[0] plus threshold times (ups - downs) so far, from the
    spikes alone."""
    n, m = enc.signal.shape
    sample = np.searchsorted(enc.times, enc.spikes.times)
    assert np.array_equal(enc.times[sample], enc.spikes.times)  # events at sample times
    steps = np.zeros((n, m))
    sign = np.where(enc.spikes.ids % 2 == 0, 1.0, -1.0)
    np.add.at(steps, (sample, enc.spikes.ids // 2), sign)
    return initial + enc.threshold * np.cumsum(steps, axis=0)


def test_hand_computed_example():
    # threshold 1: 0 -> 0.4 (none) -> 1.0 (1 up) -> 3.2 (2 up) -> 2.9 (none) -> -0.1 (3 down)
    enc = af.send_on_delta([0.0, 0.4, 1.0, 3.2, 2.9, -0.1], 1.0, rate=10.0)
    assert isinstance(enc, DeltaEncoding)
    assert enc.n_events == 6 and enc.sparsity == pytest.approx(1.0)
    np.testing.assert_allclose(enc.spikes.times, [0.2, 0.3, 0.3, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(enc.spikes.ids, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(enc.reconstruct(), [0, 0, 1, 3, 3, 0])
    assert enc.max_error == pytest.approx(0.4)
    assert enc.rmse == pytest.approx(np.sqrt((0.16 + 0.04 + 0.01 + 0.01) / 6))
    assert enc.multi_event_samples == 2  # the 2-up and the 3-down samples
    assert list(enc.spikes.unit_labels) == ["ch0+", "ch0-"]
    text = enc.report()
    assert "6 (3 up, 3 down)" in text and "at most 3" in text and "merges" in text
    # held between samples; before the first sample, the first value
    np.testing.assert_allclose(enc.reconstruct([-1.0, 0.25, 0.31, 9.0]), [0, 1, 3, 0])


def test_channels_thresholds_and_labels():
    t = np.linspace(0, 1, 201)
    x = np.column_stack([np.sin(2 * np.pi * t), 10 * t, np.zeros_like(t)])
    enc = af.send_on_delta(x, [0.1, 2.5, 1.0], times=t, labels=["sin", "ramp", "flat"])
    assert enc.spikes.n_units == 6 and enc.n_channels == 3
    counts = np.bincount(enc.spikes.ids, minlength=6)
    assert counts[2] == 4 and counts[3] == 0  # ramp 0 -> 10 in steps of 2.5
    assert counts[4] == counts[5] == 0
    # sine 0 -> 1 -> -1 -> 0 in steps of 0.1: about 10 + 10 up and 20 down
    assert 17 <= counts[0] <= 21 and 18 <= counts[1] <= 21
    assert counts[0] - counts[1] == enc.levels[-1, 0]
    assert np.all(enc.max_error < enc.threshold)
    np.testing.assert_allclose(_decode(enc, x[0]), enc.reconstruct(), atol=1e-12)
    assert list(enc.spikes.unit_labels[2:4]) == ["ramp+", "ramp-"]


def test_times_keep_their_clock_unless_t_start():
    x = [0.0, 2.0, 2.0]
    assert af.send_on_delta(x, 1.0, times=[5.0, 5.1, 5.2]).spikes.times[0] == 5.1
    shifted = af.send_on_delta(x, 1.0, times=[5.0, 5.1, 5.2], t_start=0.0)
    np.testing.assert_allclose(shifted.spikes.times, [0.1, 0.1])
    np.testing.assert_allclose(af.send_on_delta(x, 1.0, rate=10, t_start=1).times, [1, 1.1, 1.2])


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
        elements=st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
    ),
    theta=st.floats(1e-2, 1e2),
)
def test_reconstruction_within_threshold_at_every_sample(x, theta):
    enc = af.send_on_delta(x, theta, rate=1000.0)
    assert np.all(np.abs(x - enc.reconstruct()) < theta)
    np.testing.assert_allclose(_decode(enc, x[0]), enc.reconstruct(), rtol=1e-9, atol=1e-9)
    # every event is needed: the number of steps is the level path's total variation
    assert enc.n_events == int(np.abs(np.diff(enc.levels, axis=0)).sum())


def test_real_head_direction(tmp_path):
    if not DATA.exists():
        from conftest import SHARED_DATA_MISSING

        pytest.skip(SHARED_DATA_MISSING)
    hd = af.read_timeseries(DATA / "nwb" / "A2929-200711_neurosuite.nwb", "CompassDirection")
    theta = np.deg2rad(5.0)
    enc = af.send_on_delta(hd.data, theta, times=hd.times, labels=hd.labels)
    assert np.all(enc.max_error < theta)
    np.testing.assert_allclose(_decode(enc, hd.data[0]), enc.reconstruct(), atol=1e-9)
    # the wrap from 2*pi to 0 is a jump of many thresholds in one sample
    assert enc.events_per_sample.max() >= 60
    # unwrapped angles need ten times fewer events: about one per 20 samples and channel
    smooth = af.send_on_delta(np.unwrap(hd.data, axis=0), theta, times=hd.times, t_start=0)
    assert 0.01 < smooth.sparsity < 0.1 and smooth.n_events * 10 < enc.n_events
    assert np.all(smooth.max_error < theta) and smooth.spikes.times[0] > 0


def test_encoded_events_drive_a_spike_source():
    from axonforge.models import SpikeSource
    from axonforge.units import ms

    enc = af.send_on_delta(np.sin(np.linspace(0, 6, 300)), 0.2, rate=1000.0)
    net = af.Network(dt=0.1 * ms, seed=1)
    src = net.population(
        SpikeSource(times=enc.spikes.times, ids=enc.spikes.ids), n=enc.spikes.n_units
    )
    mon = net.spike_monitor(src)
    net.run(0.31)
    assert mon.num_spikes == enc.n_events - src.merged_spikes > 0


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        (dict(signal=[0.0, 1.0], threshold=0.0, rate=1), "finite and > 0"),
        (dict(signal=[0.0, 1.0], threshold=-1.0, rate=1), "finite and > 0"),
        (dict(signal=[0.0, 1.0], threshold=np.nan, rate=1), "finite and > 0"),
        (dict(signal=[[0.0, 1.0]], threshold=[1.0], rate=1), "2 values"),
        (dict(signal=[0.0, np.nan, 1.0], threshold=1.0, rate=1), "sample 1, channel 0"),
        (dict(signal=[0.0, 1.0], threshold=1.0, times=[0.0, 1.0, 2.0]), "3 times for 2"),
        (dict(signal=[0.0, 1.0], threshold=1.0, times=[1.0, 1.0]), "strictly increasing"),
        (dict(signal=[0.0, 1.0], threshold=1.0), "exactly one of times"),
        (dict(signal=[0.0, 1.0], threshold=1.0, rate=1, times=[0, 1]), "exactly one of"),
        (dict(signal=[0.0, 1.0], threshold=1.0, rate=-5), "rate must be"),
        (dict(signal=[0.0, 1.0], threshold=1.0, times=[-1.0, 0.0]), ">= 0"),
        (dict(signal=np.zeros((2, 2)), threshold=1.0, rate=1, labels=["a"]), "1 labels"),
        (dict(signal=[1e6, 2e6], threshold=1e-9, rate=1), "cannot be resolved"),
    ],
)
def test_bad_input_fails_clearly(kwargs, problem):
    with pytest.raises(ValueError, match=f"send_on_delta: .*{problem}"):
        af.send_on_delta(**kwargs)


def test_the_callers_arrays_are_not_frozen():
    x, t = np.zeros(3), np.arange(3.0)
    enc = af.send_on_delta(x, 1.0, times=t)
    assert x.flags.writeable and t.flags.writeable
    assert not enc.signal.flags.writeable and not enc.spikes.times.flags.writeable
