"""axonforge.analysis against Elephant on the same fixed-seed trains, against closed-form
values, and on bad input.

Tolerances: where both sides do the same arithmetic up to the order of a sum (rates,
counts, CV, Fano, histograms, Victor–Purpura's dynamic programme) the agreement asked is
1e-12 relative (a few ulps of float64 over sums of at most ~1e3 terms) or exact for
integer counts. The van Rossum distance is a square root of a difference of kernel sums
of size K ~ n (1 + 2 r tau); both codes round those sums at ~1e-16 K, so the squared
distances are compared at 1e-9 relative with an absolute floor of 1e-12 K (identical or
nearly identical trains have D^2 ~ 0, where only the absolute error means anything)."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import axonforge as af
from axonforge import analysis as an
from axonforge import stats

elephant = pytest.importorskip("elephant")  # a safety net only: elephant is in [test]
neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
from elephant import spike_train_correlation as esc  # noqa: E402
from elephant import spike_train_dissimilarity as esd  # noqa: E402
from elephant import statistics as es  # noqa: E402
from elephant.conversion import BinnedSpikeTrain  # noqa: E402

# Elephant 1.2 with quantities 0.16 warns on every binning that `copy=` is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:The .copy. argument in Quantity is deprecated")

T = 10.0  # s, the window of the generated trains


def poisson(rng, rate, t_stop=T, t_start=0.0):
    """A homogeneous Poisson train [s] from numpy (sorted uniform times, Poisson count)."""
    return np.sort(rng.uniform(t_start, t_stop, rng.poisson(rate * (t_stop - t_start))))


@pytest.fixture(scope="module")
def trains():
    """Fixed-seed trains plus the edge cases: empty, one spike, an identical pair, and
    two almost identical ones (1 us jitter)."""
    rng = np.random.default_rng(12)
    out = [poisson(rng, r) for r in (3.0, 8.0, 15.0, 15.0, 40.0)]
    out += [np.zeros(0), np.array([2.5]), out[1].copy()]
    out += [np.clip(out[2] + rng.normal(0, 1e-6, len(out[2])), 0, T)]
    return out


def population(trains):
    """(times, ids) of a list of trains."""
    t = np.concatenate(trains)
    i = np.concatenate([np.full(len(x), k) for k, x in enumerate(trains)]).astype(np.int64)
    return t, i


def neo_trains(trains, t_start=0.0, t_stop=T):
    return [neo.SpikeTrain(x, units="s", t_start=t_start, t_stop=t_stop) for x in trains]


# ------------------------------------------------------------------ against Elephant
@pytest.mark.parametrize("tau", [1e-3, 1e-2, 0.1, 1.0, math.inf])
def test_van_rossum_matches_elephant(trains, tau):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Elephant warns when it clips D^2 < 0 to 0
        ref = esd.van_rossum_distance(neo_trains(trains), tau * pq.s)
    mine = an.van_rossum_matrix(trains, tau=tau)
    n = np.array([len(x) for x in trains], float)
    scale = (n[:, None] + n[None, :]) * (1 + 2 * 40.0 * min(tau, T)) + 1  # ~ kernel sums
    np.testing.assert_allclose(mine**2, ref**2, rtol=1e-9, atol=1e-12 * scale.max())
    # the paired form gives the same numbers as the matrix's entries
    pairs = an.van_rossum_distance(trains[:-1], trains[1:], tau)
    np.testing.assert_allclose(pairs, np.diag(mine, 1), rtol=1e-12, atol=1e-12)
    assert np.all(np.diag(mine) == 0)  # identical trains: exactly 0 (both codes)
    assert mine[1, 7] == 0  # trains[7] is a copy of trains[1]
    block = an.van_rossum_matrix(trains[:4], trains[4:], tau)  # two sets: a block of it
    np.testing.assert_allclose(block**2, ref[:4, 4:] ** 2, rtol=1e-9, atol=1e-12 * scale.max())


@pytest.mark.parametrize("q", [0.0, 1.0, 50.0, 1e3, 1e5])
def test_victor_purpura_matches_elephant(trains, q):
    small = [x[:40] for x in trains]  # Elephant's DP is slow; 40 spikes suffice
    ref = esd.victor_purpura_distance(neo_trains(small), q * pq.Hz)
    mine = an.victor_purpura_matrix(small, q=q)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-12)
    block = an.victor_purpura_matrix(small[:4], small[4:], q)
    np.testing.assert_allclose(block, ref[:4, 4:], rtol=1e-12, atol=1e-12)
    # Elephant's 'intuitive' algorithm (the textbook DP) on one pair, as a second witness
    a, b = neo_trains(small[1:3])
    slow = esd.victor_purpura_distance([a, b], q * pq.Hz, algorithm="intuitive")[0, 1]
    assert an.victor_purpura_distance(small[1], small[2], q) == pytest.approx(slow, rel=1e-12)


def test_rates_match_elephant_mean_firing_rate(trains):
    t, i = population(trains)
    mine = an.rates(t, len(trains), 0.0, T, ids=i)
    ref = [es.mean_firing_rate(x, t_start=0.0, t_stop=T) if len(x) else 0.0 for x in trains]
    np.testing.assert_allclose(mine, ref, rtol=1e-12)  # the same count over the same span
    # a sub-window: half-open [2, 7) here, closed in Elephant (no spike sits on 7.0)
    mine = an.rates(t, len(trains), 2.0, 7.0, ids=i)
    ref = [np.sum((x >= 2) & (x <= 7)) / 5.0 for x in trains]
    np.testing.assert_allclose(mine, ref, rtol=1e-12)


def test_isi_cv_matches_elephant_cv_of_isi(trains):
    t, i = population(trains)
    mine = an.isi_cv(t, len(trains), ids=i)
    for k, x in enumerate(trains):
        if len(x) < 3:
            assert np.isnan(mine[k])
        else:
            ref = es.cv(es.isi(x))  # scipy.stats.variation: sd (ddof=0) / mean
            assert mine[k] == pytest.approx(ref, rel=1e-12)
    # axonforge.stats.isi_cv (the mean over units) is unchanged for its callers
    assert stats.isi_cv(t, i) == pytest.approx(np.nanmean(mine), rel=1e-12)
    assert stats.isi_cv(SimpleNamespace(times=t, ids=i)) == pytest.approx(np.nanmean(mine))
    assert math.isnan(stats.isi_cv(np.array([0.1, 0.2]), np.array([0, 1])))


@pytest.mark.parametrize("width", [0.05, 0.1, 0.5])
def test_fano_matches_elephant_fanofactor(trains, width):
    t, i = population(trains)
    mine = an.fano_factor(t, width, len(trains), 0.0, T, ids=i)
    binned = BinnedSpikeTrain(neo_trains(trains), bin_size=width * pq.s)  # Elephant's bins
    for k, counts in enumerate(binned.to_array()):
        segments = [np.zeros(c) for c in counts]  # one "trial" per bin, with its count
        ref = es.fanofactor(segments)  # var/mean of the counts, ddof=0; NaN if all 0
        if np.isnan(ref):
            assert np.isnan(mine[k])
        else:
            assert mine[k] == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("width", [1e-3, 5e-3, 0.2])
def test_population_rate_matches_elephant_time_histogram(trains, width):
    rng = np.random.default_rng(3)
    # spikes on a 0.1 ms simulation grid land on bin edges: Elephant's 1e-8 rounding rule
    grid = [np.unique(np.round(x / 1e-4)) * 1e-4 for x in trains] + [
        np.round(rng.uniform(0, T, 200) / 1e-3) * 1e-3
    ]
    grid = [np.sort(g[g < T]) for g in grid]
    t, i = population(grid)
    edges, mine = an.population_rate(t, width, 0.0, T, n_units=len(grid), ids=i)
    ref = es.time_histogram(neo_trains(grid), width * pq.s, output="rate")
    np.testing.assert_allclose(mine, ref.magnitude.ravel(), rtol=1e-12)
    np.testing.assert_allclose(edges[:-1], ref.times.rescale("s").magnitude, rtol=1e-12)
    _, total = an.population_rate(t, width, 0.0, T, ids=i)  # summed, not per unit
    counts = es.time_histogram(neo_trains(grid), width * pq.s, output="counts")
    np.testing.assert_allclose(total * width, counts.magnitude.ravel(), rtol=1e-12)


def test_psth_matches_elephant_time_histogram_of_aligned_trials(trains):
    rng = np.random.default_rng(5)
    stim = np.sort(rng.uniform(1.0, 9.0, 12))
    window, width = (-0.2, 0.5), 0.02
    units = trains[:5]
    t, i = population(units)
    edges, mine = an.psth(t, stim, window, width, n_units=len(units), ids=i)
    segments = []
    for s in stim:
        for x in units:
            lag = x - s
            seg = lag[(lag >= window[0]) & (lag <= window[1])]
            segments.append(neo.SpikeTrain(seg, units="s", t_start=window[0], t_stop=window[1]))
    ref = es.time_histogram(segments, width * pq.s, output="rate")  # / (trials * units)
    np.testing.assert_allclose(mine, ref.magnitude.ravel(), rtol=1e-12)
    assert edges[0] == window[0] and edges[-1] == pytest.approx(window[1])
    _, per = an.psth(t, stim, window, width, n_units=len(units), ids=i, per_unit=True)
    np.testing.assert_allclose(per.mean(axis=0), mine, rtol=1e-12)


@pytest.mark.parametrize("width, max_lag", [(1e-3, 0.02), (5e-3, 0.1), (0.05, 1.0)])
def test_cross_correlogram_matches_elephant_cch(trains, width, max_lag):
    a, b = trains[3], trains[4]
    lags, mine = an.cross_correlogram(a, b, width, max_lag, 0.0, T)
    W = round(max_lag / width)
    ba = BinnedSpikeTrain(neo_trains([a]), bin_size=width * pq.s, t_start=0 * pq.s)
    bb = BinnedSpikeTrain(neo_trains([b]), bin_size=width * pq.s, t_start=0 * pq.s)
    ref, ref_lags = esc.cross_correlation_histogram(ba, bb, window=[-W, W], binary=False)
    np.testing.assert_array_equal(mine, ref.magnitude.ravel())  # integer counts: exact
    np.testing.assert_allclose(lags, ref_lags * width, rtol=1e-12)
    # the lag-by-lag path for many pairs gives the same counts
    _, dense = an.cross_correlogram(a, b, width, max_lag, 0.0, T, max_pairs=0)
    np.testing.assert_array_equal(dense, mine)


# ------------------------------------------------------------------ closed forms
def test_van_rossum_closed_forms():
    assert an.van_rossum_distance([1.0], [], 0.01) == pytest.approx(1.0, rel=1e-15)
    paper = an.van_rossum_distance([1.0], [], 0.01, normalization="paper")
    assert paper == pytest.approx(math.sqrt(0.5), rel=1e-15)  # (1/tau) int e^{-2t/tau} dt
    # two single spikes d apart: D^2 = 2 (1 - exp(-d/tau)) (Elephant's normalisation)
    for d in (1e-4, 3e-3, 0.05):
        got = an.van_rossum_distance([1.0], [1.0 + d], 0.01)
        assert got == pytest.approx(math.sqrt(2 * (1 - math.exp(-d / 0.01))), rel=1e-9)
    assert an.van_rossum_distance([0.1, 0.2, 0.3], [0.5], math.inf) == 2.0  # count difference
    assert an.van_rossum_distance([], [], 0.01) == 0.0


def test_victor_purpura_closed_forms():
    for q, d in [(10.0, 0.05), (10.0, 0.3), (100.0, 0.0199), (100.0, 0.021), (0.0, 5.0)]:
        assert an.victor_purpura_distance([1.0], [1.0 + d], q) == pytest.approx(min(q * d, 2))
    assert an.victor_purpura_distance([1.0, 2.0], [], 5.0) == 2.0
    assert an.victor_purpura_distance([1.0, 2.0], [1.0, 2.0], math.inf) == 0.0  # no shift
    assert an.victor_purpura_distance([1.0, 2.0], [1.0, 2.5], math.inf) == 2.0


def test_poisson_fano_and_cv_are_about_one_and_a_clock_has_cv_zero():
    rng = np.random.default_rng(2024)
    units = [poisson(rng, 20.0) for _ in range(50)]
    t, i = population(units)
    fano = an.fano_factor(t, 0.1, 50, 0.0, T, ids=i)
    # per unit, 100 bins: sd of the sample Fano ~ sqrt(2/99) = 0.14; of the mean of 50
    # units 0.02. 0.1 is five standard errors.
    assert abs(np.mean(fano) - 1.0) < 0.1
    cv = an.isi_cv(t, 50, ids=i)
    # ~200 intervals a unit: sd of the CV ~ 1/sqrt(200) = 0.07, of the mean 0.01
    assert abs(np.mean(cv) - 1.0) < 0.05
    clock = np.arange(1, 200) * 0.01
    assert an.isi_cv(clock)[0] == pytest.approx(0.0, abs=1e-12)
    assert an.fano_factor(clock + 0.005, 0.01, 1, 0.0, 2.0)[0] == pytest.approx(0.005, abs=1e-12)


def test_cross_correlogram_sign_and_psth_of_locked_spikes():
    lags, c = an.cross_correlogram([1.0], [1.0035], 1e-3, 0.005, 0.0, 2.0)
    assert lags[np.argmax(c)] == pytest.approx(0.003) and c.sum() == 1  # b follows a: +
    lags, c = an.cross_correlogram([1.0035], [1.0], 1e-3, 0.005, 0.0, 2.0)
    assert lags[np.argmax(c)] == pytest.approx(-0.003)  # a in bin 1003, b in bin 1000
    stim = np.arange(10) + 0.5
    edges, r = an.psth(stim + 0.012, stim, (-0.05, 0.05), 0.01)
    assert r[np.searchsorted(edges, 0.012) - 1] == pytest.approx(100.0)  # 1 spike/trial/bin
    assert r.sum() * 0.01 == pytest.approx(1.0)


def test_spike_trains_split_and_accept_objects():
    rec = SimpleNamespace(times=np.array([0.3, 0.1, 0.2]), ids=np.array([2, 0, 2]), n_units=4)
    trains = an.spike_trains(rec)
    assert [list(x) for x in trains] == [[0.1], [], [0.2, 0.3], []]
    assert [list(x) for x in an.spike_trains(rec, t_start=0.15, t_stop=0.3)] == [[], [], [0.2], []]
    np.testing.assert_array_equal(an.rates(rec, t_stop=1.0), [1.0, 0.0, 2.0, 0.0])


# ------------------------------------------------------------------ compare and figure
@pytest.fixture(scope="module")
def two_populations(tmp_path_factory):
    rng = np.random.default_rng(7)
    sim = [poisson(rng, r) for r in np.linspace(2, 30, 12)]
    rec = [np.sort(np.clip(x + rng.normal(0, 2e-3, len(x)), 0, T - 1e-9)) for x in sim]
    t, i = population(rec)
    path = tmp_path_factory.mktemp("rec") / "rec.npz"
    np.savez(path, times=t, ids=i, n_units=12)
    recorded = af.read_spikes(path)  # a SpikeData, as a recording arrives
    t, i = population(sim)
    return SimpleNamespace(times=t, ids=i, n_units=12), recorded, sim, rec


def test_compare_numbers_are_the_functions_numbers(two_populations):
    simulated, recorded, sim, rec = two_populations
    r = an.compare(simulated, recorded, t_stop=T, tau=0.01, q=100.0)
    assert r.n_units == 12
    np.testing.assert_array_equal(r.rates_sim, an.rates(simulated, 12, 0.0, T))
    np.testing.assert_array_equal(r.fano_rec, an.fano_factor(recorded, 0.1, 12, 0.0, T))
    np.testing.assert_allclose(r.van_rossum, an.van_rossum_distance(sim, rec, 0.01))
    np.testing.assert_allclose(r.victor_purpura, an.victor_purpura_distance(sim, rec, 100.0))
    s = r.summary()
    assert s["rate_correlation"] > 0.99  # jitter keeps every spike: rates nearly equal
    assert 0 < s["van_rossum"] and 0 < s["victor_purpura"]
    assert "rate_correlation" in str(r)
    same = an.compare(simulated, simulated, t_stop=T)
    assert np.all(same.van_rossum == 0) and np.all(same.victor_purpura == 0)
    assert same.rate_correlation == pytest.approx(1.0)


def test_plot_comparison_writes_a_png(two_populations, tmp_path):
    simulated, recorded, _, _ = two_populations
    path = tmp_path / "comparison.png"
    fig = an.plot_comparison(an.compare(simulated, recorded, t_stop=T), path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) >= 6
    fig2 = an.plot_comparison(simulated, recorded, t_stop=T)  # two populations directly
    assert len(fig2.axes) == len(fig.axes)


# ------------------------------------------------------------------ bad input
T3, I3 = np.array([0.1, 0.2, 0.3]), np.array([0, 1, 1])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: an.population_rate(T3, -0.01, 0.0, 1.0, ids=I3), "bin_width must be a positive"),
        (lambda: an.fano_factor(T3, 0.0, 2, 0.0, 1.0, ids=I3), "bin_width must be a positive"),
        (lambda: an.rates(T3, 2, 1.0, 1.0, ids=I3), "t_stop > t_start"),
        (lambda: an.rates(T3, 2, 0.0, -1.0, ids=I3), "t_stop > t_start"),
        (lambda: an.rates(T3, 2, 0.0, None, ids=I3), "give t_stop"),
        (lambda: an.rates(T3, 2, 0.0, 1.0, ids=I3[:2]), "differ in length"),
        (lambda: an.rates([0.1, np.nan, 0.3], 2, 0.0, 1.0, ids=I3), "non-finite"),
        (lambda: an.isi_cv([0.1, np.inf, 0.3], ids=I3), "non-finite"),
        (lambda: an.rates(T3, 1, 0.0, 1.0, ids=I3), r"ids must lie in 0\.\.0"),
        (lambda: an.rates(T3, 2, 0.0, 1.0, ids=[0, -1, 1]), "ids must lie in"),
        (lambda: an.rates(T3, 2, 0.0, 1.0, ids=[0, 0.5, 1]), "ids must be integers"),
        (lambda: an.rates(T3, I3, 0.0, 1.0), "pass spike ids as the keyword"),
        (lambda: an.fano_factor(T3, 0.1, None, 0.0, 1.0, ids=I3), "give n_units"),
        (lambda: an.population_rate(T3, 2.0, 0.0, 1.0), "longer than the window"),
        (lambda: an.isi_cv(T3, min_spikes=1), "min_spikes"),
        (lambda: an.psth(T3, [0.2], (0.1, -0.1), 0.01), "t_stop > t_start"),
        (lambda: an.psth(T3, [], (-0.1, 0.1), 0.01), "no stimulus times"),
        (lambda: an.psth(T3, [np.nan], (-0.1, 0.1), 0.01), "non-finite"),
        (lambda: an.cross_correlogram(T3, T3, 0.01, -0.1, 0.0, 1.0), "max_lag"),
        (lambda: an.cross_correlogram(T3, T3, 0.1, 5.0, 0.0, 1.0), "exceeds the window"),
        (lambda: an.van_rossum_distance([0.1], [0.2], 0.0), "tau must be a positive"),
        (lambda: an.van_rossum_distance([0.1], [0.2], -1.0), "tau must be a positive"),
        (lambda: an.van_rossum_distance([[0.1]], [[0.2], [0.3]], 0.1), "same length"),
        (lambda: an.van_rossum_distance([0.1], [np.nan], 0.1), "non-finite"),
        (lambda: an.van_rossum_distance([0.1], [0.2], 0.1, normalization="x"), "normalization"),
        (lambda: an.victor_purpura_distance([0.1], [0.2], -1.0), "q must be a number >= 0"),
        (lambda: an.victor_purpura_distance([0.1], [0.2], np.nan), "q must be a number >= 0"),
        (lambda: an.compare(T3, T3, None, 0.0, 1.0), "give n_units"),
        (lambda: an.plot_comparison(SimpleNamespace(times=T3, ids=I3)), "give a Comparison"),
    ],
)
def test_bad_input_fails_loudly(call, message):
    with pytest.raises(ValueError, match=message):
        call()
