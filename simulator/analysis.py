r"""Comparing a simulated and a recorded population of spike trains: one job, measuring
both the same way and setting the numbers (and a figure) side by side.

Inputs follow :mod:`axonforge.stats`: a population is either an object with ``.times``
[s] and ``.ids`` (a spike monitor, a loaded :class:`axonforge.SpikeData`) or a ``times``
array with ``ids=`` given as a keyword; a plain ``times`` array without ``ids`` is one
unit. ``n_units`` counts the units, silent ones included (taken from the object's
``n_units``, or a monitor's selection, when omitted). A single train is a 1-D array of
times; a sequence of such arrays is a list of trains (unit i = entry i).

Conventions shared by every measure here:

* Windows are half open, ``t_start <= t < t_stop``; times are in seconds, rates in Hz.
* Binning follows Elephant's ``BinnedSpikeTrain`` (Elephant 1.x,
  ``elephant.conversion``): bin ``k`` covers ``[t_start + k w, t_start + (k+1) w)``,
  ``n_bins = floor((t_stop - t_start)/w)`` (a final partial bin is dropped, with the
  spikes in it), and a spike whose position ``(t - t_start)/w`` lies within ``1e-8`` below
  an integer goes into the next bin, so spike times on a simulation's time grid do not
  flicker between bins through rounding.
* Bad input raises :class:`ValueError` saying which argument is wrong: a bin width that is
  not positive, ``t_stop <= t_start``, ``times`` and ``ids`` of different lengths,
  non-finite times, ids that are not integers or lie outside ``0..n_units-1``.

Measures and their sources:

Firing rate
    ``r_i = N_i / (t_stop - t_start)`` with ``N_i`` the spikes of unit i in the window
    (Dayan & Abbott 2001, *Theoretical Neuroscience*, sec. 1.2). Elephant's
    ``mean_firing_rate`` counts a spike exactly at ``t_stop`` too; here the window is half
    open.
Population rate and PSTH
    Spike-count histograms divided by bin width (and by the number of trials and, when
    given, of units): the peri-stimulus time histogram of Gerstein & Kiang 1960
    (Biophys J 1:15) and Dayan & Abbott sec. 1.2; Elephant's ``time_histogram`` with
    ``output="rate"``.
ISI CV
    ``CV = sd(ISI)/mean(ISI)`` of a unit's interspike intervals, population standard
    deviation (``ddof=0``, as ``scipy.stats.variation`` and Elephant's ``cv``); Poisson 1,
    clock 0 (Softky & Koch 1993, J Neurosci 13:334; Brunel 2000, J Comput Neurosci 8:183).
Fano factor
    ``F = Var(N)/E(N)`` of a unit's spike counts ``N`` in consecutive bins, the variance
    with ``ddof=0`` as in Elephant's ``fanofactor`` (Fano 1947, Phys Rev 72:26; for spike
    counts and their bias, Eden & Kramer 2010, J Neurosci Methods 190:149). Poisson 1.
Cross-correlogram
    ``C[L] = sum_k a[k] b[k + L]`` over the binned counts ``a``, ``b`` of the two trains:
    the number of spike pairs in which b's spike falls ``L`` bins after a's (positive lag:
    b follows a). This is Elephant's ``cross_correlation_histogram`` with
    ``binary=False``, no border correction, ``window=[-W, W]`` (Perkel, Gerstein & Moore
    1967, Biophys J 7:419; Eggermont 2010, in *Analysis of Parallel Spike Trains*, ch. 5).
van Rossum distance
    Each train filtered with the causal kernel ``exp(-t/tau)``, ``f(t) = sum_i
    exp(-(t - t_i)/tau) H(t - t_i)``; van Rossum 2001 (Neural Comput 13:751) defines
    ``D^2 = (1/tau) int (f - g)^2 dt``. Closed form (Houghton & Kreuz 2012, Network
    23:48): ``int f g dt = (tau/2) sum_ij exp(-|x_i - y_j|/tau)``. The default
    normalisation is Elephant's, ``D^2 = sum_ij k(a_i,a_j) + sum_ij k(b_i,b_j) -
    2 sum_ij k(a_i,b_j)`` with ``k(s,t) = exp(-|s-t|/tau)``, i.e. twice the paper's
    ``D^2``: one spike against none is at distance 1 (``normalization="paper"``:
    ``sqrt(1/2)``). ``tau = inf`` leaves the spike-count difference.
Victor–Purpura distance
    The least total cost of turning one train into the other by deleting or inserting
    spikes (cost 1 each) and shifting a spike by ``dt`` (cost ``q |dt|``, ``q`` in 1/s);
    computed by the dynamic programme of Victor & Purpura 1996 (J Neurophysiol 76:1310,
    and Network 8:127, 1997): ``G[i,j] = min(G[i-1,j] + 1, G[i,j-1] + 1,
    G[i-1,j-1] + q |a_i - b_j|)``. ``q = 0`` gives ``|n_a - n_b|``; ``q = inf`` forbids
    shifts (coincident spikes still match at no cost).

The distances run in Numba: van Rossum in one merged pass over two sorted trains
(``O(n_a + n_b)`` a pair), Victor–Purpura in ``O(n_a n_b)`` time and ``O(n_b)`` memory.
"""

from __future__ import annotations

import dataclasses
import math
from numbers import Integral, Real

import numpy as np
from numba import njit

from axonforge.stats import _times_ids

__all__ = [
    "spike_trains",
    "finite_mean",
    "rates",
    "population_rate",
    "isi_cv",
    "fano_factor",
    "psth",
    "cross_correlogram",
    "van_rossum_distance",
    "van_rossum_matrix",
    "victor_purpura_distance",
    "victor_purpura_matrix",
    "compare",
    "Comparison",
    "plot_comparison",
]

#: Elephant's ``BinnedSpikeTrain`` tolerance: a position within this of the next bin
#: edge counts in the next bin
BIN_TOLERANCE = 1e-8


# ------------------------------------------------------------------ checking input
def _positive(value, name, where, allow_inf=False):
    if not isinstance(value, Real) or math.isnan(value) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive number, got {value!r}")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{where}: {name} must be finite, got {value!r}")
    return float(value)


def _window(t_start, t_stop, where):
    if t_stop is None:
        raise ValueError(f"{where}: give t_stop [s], the end of the window")
    for name, v in (("t_start", t_start), ("t_stop", t_stop)):
        if not isinstance(v, Real) or not math.isfinite(v):
            raise ValueError(f"{where}: {name} must be a finite number [s], got {v!r}")
    if not t_stop > t_start:
        raise ValueError(f"{where}: need t_stop > t_start, got t_start={t_start}, t_stop={t_stop}")
    return float(t_start), float(t_stop)


def _times(values, where, name="times"):
    t = np.asarray(values, dtype=float)
    if t.ndim != 1:
        raise ValueError(f"{where}: {name} must be one-dimensional, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        bad = int(np.count_nonzero(~np.isfinite(t)))
        raise ValueError(f"{where}: {name} holds {bad} non-finite value(s) (NaN or inf)")
    return t


def _guess_n_units(spikes):
    n = getattr(spikes, "n_units", None)
    if n is None and hasattr(spikes, "sel"):  # a spike monitor: its selection
        n = len(spikes.sel)
    return n


def _spikes(spikes, ids, n_units, where, need_n=True):
    """``(times, ids, n_units)`` checked; ``spikes`` as in :mod:`axonforge.stats`, or a
    plain times array (one unit) when ``ids`` is None and it has no ``.times``."""
    if isinstance(n_units, np.ndarray | list | tuple):
        raise ValueError(
            f"{where}: n_units must be an integer; pass spike ids as the keyword ids=..."
        )
    if ids is None and not hasattr(spikes, "times"):
        t = _times(spikes, where)
        i = np.zeros(len(t), np.int64)
        if n_units is None:
            n_units = 1
    else:
        raw_ids = spikes.ids if ids is None else ids
        raw = np.asarray(raw_ids)
        if (
            raw.dtype.kind == "f"
            and raw.size
            and not np.all(np.isfinite(raw) & (raw == np.round(raw)))
        ):
            raise ValueError(f"{where}: ids must be integers")  # fmt: skip
        if raw.dtype.kind not in "iuf" and raw.size:
            raise ValueError(f"{where}: ids must be integers, got dtype {raw.dtype}")
        t = _times(spikes.times if ids is None else spikes, where)
        if raw.shape != t.shape:
            raise ValueError(
                f"{where}: times and ids differ in length ({len(t)} vs {raw.size} entries)"
            )
        t, i = _times_ids(t, raw)
        if n_units is None:
            n_units = _guess_n_units(spikes) if ids is None else None
    if n_units is None:
        if need_n:
            raise ValueError(f"{where}: give n_units (units without spikes count too)")
        n_units = int(i.max()) + 1 if len(i) else 0
    if not isinstance(n_units, Integral) or n_units < 0:
        raise ValueError(f"{where}: n_units must be a non-negative integer, got {n_units!r}")
    if len(i) and (i.min() < 0 or i.max() >= n_units):
        lo, hi = int(i.min()), int(i.max())
        raise ValueError(
            f"{where}: unit ids must lie in 0..{n_units - 1} (n_units={n_units}), "
            f"got ids from {lo} to {hi}"
        )
    return t, i, int(n_units)


def _n_bins(t_start, t_stop, width, where):
    n = _bin_positions(np.array([(t_stop - t_start) / width]))[0]
    if n < 1:
        raise ValueError(
            f"{where}: bin_width {width} s is longer than the window {t_stop - t_start} s"
        )
    return int(n)


def _bin_positions(x):
    """Elephant's ``round_binning_errors``: floor, but a value within BIN_TOLERANCE below
    the next integer goes up to it."""
    k = np.floor(x)
    return (k + (x - k >= 1.0 - BIN_TOLERANCE)).astype(np.int64)


def _binned(t, t_start, t_stop, width, n_bins):
    """Bin index of each spike in ``[t_start, t_stop]`` and the mask of those kept."""
    keep = (t >= t_start) & (t <= t_stop)
    k = _bin_positions((t[keep] - t_start) / width)
    ok = k < n_bins
    mask = np.flatnonzero(keep)[ok]
    return k[ok], mask


def _expand(start, stop):
    """For ranges ``[start_r, stop_r)``: the row ``r`` and the index of every element."""
    counts = np.maximum(stop - start, 0)
    rows = np.repeat(np.arange(len(start)), counts)
    first = np.repeat(start - (np.cumsum(counts) - counts), counts)
    return rows, first + np.arange(int(counts.sum()))


# ------------------------------------------------------------------ trains
def spike_trains(spikes, n_units=None, t_start=None, t_stop=None, *, ids=None):
    """Split a population into ``n_units`` sorted spike-time arrays (unit i is entry i,
    empty for a silent unit), optionally keeping ``t_start <= t < t_stop``."""
    t, i, n = _spikes(spikes, ids, n_units, "spike_trains")
    if t_start is not None or t_stop is not None:
        lo = -np.inf if t_start is None else t_start
        hi = np.inf if t_stop is None else t_stop
        if not hi > lo:
            raise ValueError(f"spike_trains: need t_stop > t_start, got {t_start}, {t_stop}")
        keep = (t >= lo) & (t < hi)
        t, i = t[keep], i[keep]
    order = np.lexsort((t, i))
    bounds = np.searchsorted(i[order], np.arange(n + 1))
    ts = t[order]
    return [ts[bounds[k] : bounds[k + 1]] for k in range(n)]


def _train_list(trains, where, name):
    """A single train (1-D array of times) or a sequence of trains -> (list, single?)."""
    if isinstance(trains, np.ndarray) and trains.dtype != object:
        if trains.ndim == 1:
            return [np.sort(_times(trains, where, name))], True
        raise ValueError(f"{where}: {name} must be a 1-D train or a list of trains")
    seq = list(trains)
    if all(np.ndim(x) == 0 for x in seq):  # a list of times: one train
        return [np.sort(_times(seq, where, name))], True
    out = [np.sort(_times(x, where, f"{name}[{k}]")) for k, x in enumerate(seq)]
    return out, False


def _packed(trains):
    lengths = np.array([len(x) for x in trains], np.int64)
    offsets = np.zeros(len(trains) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(trains) if trains else np.zeros(0)
    return np.ascontiguousarray(flat, dtype=np.float64), offsets


# ------------------------------------------------------------------ rates and counts
def rates(spikes, n_units=None, t_start=0.0, t_stop=None, *, ids=None) -> np.ndarray:
    r"""Firing rate [Hz] of every unit, :math:`r_i = N_i/(t_{stop} - t_{start})`, with
    :math:`N_i` its spikes in ``t_start <= t < t_stop``; silent units give 0."""
    t0, t1 = _window(t_start, t_stop, "rates")
    t, i, n = _spikes(spikes, ids, n_units, "rates")
    keep = (t >= t0) & (t < t1)
    return np.bincount(i[keep], minlength=n) / (t1 - t0)


def population_rate(spikes, bin_width, t_start=0.0, t_stop=None, n_units=None, *, ids=None):
    r"""Binned population rate: ``(edges, rate)``, ``edges`` the ``n_bins + 1`` bin edges
    [s] and ``rate[k] = C_k / w`` [spikes/s] with :math:`C_k` all spikes in bin k; with
    ``n_units`` given, the mean rate per unit, ``C_k / (n_units w)`` [Hz] (Elephant's
    ``time_histogram(..., output="rate")`` over the units' trains)."""
    w = _positive(bin_width, "bin_width", "population_rate")
    t0, t1 = _window(t_start, t_stop, "population_rate")
    t, _i, n = _spikes(spikes, ids, n_units, "population_rate", need_n=False)
    nb = _n_bins(t0, t1, w, "population_rate")
    k, _ = _binned(t, t0, t1, w, nb)
    counts = np.bincount(k, minlength=nb)
    edges = t0 + w * np.arange(nb + 1)
    if n_units is None:
        return edges, counts / w
    if n == 0:
        raise ValueError("population_rate: n_units must be positive")
    return edges, counts / (n * w)


def isi_cv(spikes, n_units=None, *, ids=None, min_spikes=3) -> np.ndarray:
    r"""Coefficient of variation of the interspike intervals of every unit,

    .. math:: CV_i = \sqrt{\tfrac{1}{m}\sum_k (\Delta_k - \bar\Delta)^2}\,/\,\bar\Delta,

    over the unit's ``m`` intervals :math:`\Delta_k`; NaN for a unit with fewer than
    ``min_spikes`` spikes (default 3, two intervals). ``n_units`` defaults to the
    object's, else the largest id + 1. :func:`axonforge.stats.isi_cv` is the mean of
    these."""
    if not isinstance(min_spikes, Integral) or min_spikes < 2:
        raise ValueError(f"isi_cv: min_spikes must be an integer >= 2, got {min_spikes!r}")
    t, i, n = _spikes(spikes, ids, n_units, "isi_cv", need_n=False)
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    same = i[1:] == i[:-1]
    isi, unit = np.diff(t)[same], i[1:][same]
    m = np.bincount(unit, minlength=n).astype(float)
    nspk = np.bincount(i, minlength=n)
    out = np.full(n, np.nan)
    ok = nspk >= min_spikes
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(unit, isi, minlength=n) / m
        var = np.bincount(unit, (isi - mean[unit]) ** 2, minlength=n) / m
        out[ok] = np.sqrt(var[ok]) / mean[ok]
    return out


def fano_factor(spikes, bin_width, n_units=None, t_start=0.0, t_stop=None, *, ids=None):
    r"""Fano factor of every unit's spike counts :math:`N_k` in the ``n_bins``
    consecutive bins of ``bin_width`` seconds: :math:`F = \mathrm{Var}(N)/\mathrm{E}(N)`
    with the population variance, computed exactly from integer sums,
    :math:`F = (n S_2 - S_1^2)/(n S_1)`, :math:`S_p = \sum_k N_k^p`. NaN for a silent
    unit. Elephant's ``fanofactor`` of the unit's bin-wise trains gives the same."""
    w = _positive(bin_width, "bin_width", "fano_factor")
    t0, t1 = _window(t_start, t_stop, "fano_factor")
    t, i, n = _spikes(spikes, ids, n_units, "fano_factor")
    nb = _n_bins(t0, t1, w, "fano_factor")
    k, mask = _binned(t, t0, t1, w, nb)
    key = i[mask] * nb + k
    cells, counts = np.unique(key, return_counts=True)
    unit = cells // nb
    s1 = np.bincount(unit, counts, minlength=n)
    s2 = np.bincount(unit, counts.astype(float) ** 2, minlength=n)
    out = np.full(n, np.nan)
    ok = s1 > 0
    out[ok] = (nb * s2[ok] - s1[ok] ** 2) / (nb * s1[ok])
    return out


def psth(spikes, stimulus_times, window, bin_width, n_units=None, *, ids=None,
         per_unit=False):  # fmt: skip
    r"""Peri-stimulus time histogram: ``(edges, rate)``.

    Every spike is counted at its lag ``t - s`` after every stimulus time ``s`` for which
    the lag lies in ``window = (before, after)`` [s] (e.g. ``(-0.1, 0.5)``); ``edges``
    are the bin edges of the lag axis. ``rate[k] = C_k / (n_{trials} w)`` (spikes/s of
    the population), divided further by ``n_units`` when given (mean rate per unit,
    Hz); ``per_unit=True`` returns an ``(n_units, n_bins)`` array of each unit's rate.
    Elephant's ``time_histogram(..., output="rate")`` over the trial-aligned trains."""
    w = _positive(bin_width, "bin_width", "psth")
    try:
        lo, hi = (float(x) for x in window)
    except (TypeError, ValueError):
        raise ValueError(f"psth: window must be (before, after) in s, got {window!r}") from None
    lo, hi = _window(lo, hi, "psth (window)")
    stim = np.sort(_times(stimulus_times, "psth", "stimulus_times"))
    if len(stim) == 0:
        raise ValueError("psth: no stimulus times")
    t, i, n = _spikes(spikes, ids, n_units, "psth", need_n=per_unit)
    nb = _n_bins(lo, hi, w, "psth")
    # stimuli s with lo <= t - s <= hi, i.e. t - hi <= s <= t - lo
    first = np.searchsorted(stim, t - hi, "left")
    last = np.searchsorted(stim, t - lo, "right")
    spike, which = _expand(first, last)
    lag = t[spike] - stim[which]
    k, mask = _binned(lag, lo, hi, w, nb)
    edges = lo + w * np.arange(nb + 1)
    trials = len(stim)
    if per_unit:
        counts = np.bincount(i[spike[mask]] * nb + k, minlength=n * nb).reshape(n, nb)
        return edges, counts / (trials * w)
    counts = np.bincount(k, minlength=nb)
    units = 1 if n_units is None else n
    if units == 0:
        raise ValueError("psth: n_units must be positive")
    return edges, counts / (trials * units * w)


def cross_correlogram(spikes_a, spikes_b, bin_width, max_lag, t_start=0.0, t_stop=None, *,
                      ids_a=None, ids_b=None, max_pairs=20_000_000):  # fmt: skip
    r"""Cross-correlogram of two trains (or two pooled populations): ``(lags, counts)``.

    Both are binned on the same grid (bins of ``bin_width`` from ``t_start``, see the
    module's conventions); ``counts[L + W] = sum_k a[k] b[k + L]`` for the lags
    ``L = -W..W`` bins, ``W = round(max_lag / bin_width)``: the number of spike pairs in
    which b's spike lies ``L`` bins **after** a's (a positive lag: b follows a). ``lags``
    are ``L * bin_width`` [s]. Equal to Elephant's
    ``cross_correlation_histogram(a, b, window=[-W, W], binary=False)``.

    The pairs are enumerated directly (``O(n + pairs)``) unless there would be more than
    ``max_pairs`` of them; then the binned counts are correlated lag by lag
    (``O(W n_bins)``)."""
    where = "cross_correlogram"
    w = _positive(bin_width, "bin_width", where)
    max_lag = float(max_lag) if isinstance(max_lag, Real) else max_lag
    if not isinstance(max_lag, float) or not math.isfinite(max_lag) or max_lag < 0:
        raise ValueError(f"{where}: max_lag must be a finite number >= 0 [s], got {max_lag!r}")
    t0, t1 = _window(t_start, t_stop, where)
    nb = _n_bins(t0, t1, w, where)
    W = int(round(max_lag / w))
    if W > nb - 1:
        raise ValueError(f"{where}: max_lag {max_lag} s exceeds the window ({nb} bins)")
    ta, _, _ = _spikes(spikes_a, ids_a, None, where, need_n=False)
    tb, _, _ = _spikes(spikes_b, ids_b, None, where, need_n=False)
    ka = np.sort(_binned(ta, t0, t1, w, nb)[0])
    kb = np.sort(_binned(tb, t0, t1, w, nb)[0])
    first = np.searchsorted(kb, ka - W, "left")
    last = np.searchsorted(kb, ka + W, "right")
    lags = np.arange(-W, W + 1)
    if int((last - first).sum()) <= max_pairs:
        ra, jb = _expand(first, last)
        counts = np.bincount(kb[jb] - ka[ra] + W, minlength=2 * W + 1)
    else:
        ca, cb = np.bincount(ka, minlength=nb), np.bincount(kb, minlength=nb)
        counts = np.array(
            [ca[max(0, -L) : nb - max(0, L)] @ cb[max(0, L) : nb - max(0, -L)] for L in lags]
        )
    return lags * w, counts


# ------------------------------------------------------------------ distances (Numba)
@njit(cache=True)
def _vr_squared(a, b, tau):
    """Elephant-normalised squared van Rossum distance of sorted trains a and b: the
    quadratic form sum_ij s_i s_j exp(-|t_i - t_j|/tau) of the merged train, spikes of a
    with sign +1 and of b with -1, in one pass (the trace holds the signed, decayed sum
    of earlier spikes)."""
    na, nb = len(a), len(b)
    if na == nb:
        same = True
        for k in range(na):
            if a[k] != b[k]:
                same = False
                break
        if same:
            return 0.0
    i = 0
    j = 0
    trace = 0.0
    acc = 0.0
    last = 0.0
    started = False
    while i < na or j < nb:
        if j >= nb or (i < na and a[i] <= b[j]):
            t = a[i]
            s = 1.0
            i += 1
        else:
            t = b[j]
            s = -1.0
            j += 1
        if started:
            trace *= math.exp(-(t - last) / tau)
        acc += s * trace
        trace += s
        last = t
        started = True
    d2 = na + nb + 2.0 * acc
    return d2 if d2 > 0.0 else 0.0


@njit(cache=True)
def _vp(a, b, q):
    """Victor–Purpura distance of sorted trains a and b (one row of the DP table)."""
    na, nb = len(a), len(b)
    if na == 0 or nb == 0:
        return float(na + nb)
    prev = np.arange(nb + 1).astype(np.float64)
    cur = np.empty(nb + 1)
    for i in range(1, na + 1):
        cur[0] = i
        ai = a[i - 1]
        for j in range(1, nb + 1):
            d = abs(ai - b[j - 1])
            shift = prev[j - 1] + (q * d if d > 0.0 else 0.0)
            best = min(prev[j], cur[j - 1]) + 1.0
            cur[j] = shift if shift < best else best
        prev, cur = cur, prev
    return prev[nb]


@njit(cache=True)
def _pairs(kind, fa, oa, fb, ob, param, matrix, symmetric):
    """Distances of trains packed as (flat, offsets): a[i] vs b[i], or every a[i] vs
    every b[j] when ``matrix`` (only j > i when ``symmetric``: b is a, the diagonal 0).
    kind 0: squared van Rossum, 1: Victor–Purpura."""
    na, nb = len(oa) - 1, len(ob) - 1
    out = np.zeros((na, nb if matrix else 1))
    for i in range(na):
        a = fa[oa[i] : oa[i + 1]]
        for jj in range(i + 1 if symmetric else 0, nb if matrix else 1):
            j = jj if matrix else i
            b = fb[ob[j] : ob[j + 1]]
            out[i, jj] = _vr_squared(a, b, param) if kind == 0 else _vp(a, b, param)
            if symmetric:
                out[jj, i] = out[i, jj]
    return out


def _distances(kind, trains_a, trains_b, param, matrix, where):
    la, single_a = _train_list(trains_a, where, "trains_a")
    lb, single_b = _train_list(la if trains_b is None else trains_b, where, "trains_b")
    if not matrix:
        if single_a != single_b or len(la) != len(lb):
            raise ValueError(
                f"{where}: give two trains, or two lists of trains of the same length "
                f"(got {len(la)} and {len(lb)} trains); for all pairs use the _matrix form"
            )
    fa, oa = _packed(la)
    fb, ob = _packed(lb)
    out = _pairs(kind, fa, oa, fb, ob, param, matrix, matrix and trains_b is None)
    if not matrix:
        out = out[:, 0]
        return float(out[0]) if single_a else out
    return out


def _vr_norm(d2, normalization, where):
    if normalization == "elephant":
        return np.sqrt(d2)
    if normalization == "paper":
        return np.sqrt(np.asarray(d2) / 2.0)[()]
    raise ValueError(f"{where}: normalization must be 'elephant' or 'paper', got {normalization!r}")


def van_rossum_distance(trains_a, trains_b, tau, *, normalization="elephant"):
    r"""van Rossum (2001) distance between two trains, or between ``trains_a[i]`` and
    ``trains_b[i]`` for two lists of trains (an array of distances).

    .. math:: D^2 = \sum_{ij} e^{-|a_i-a_j|/\tau} + \sum_{ij} e^{-|b_i-b_j|/\tau}
              - 2\sum_{ij} e^{-|a_i-b_j|/\tau}

    (``normalization="elephant"``, the default and Elephant's: one spike against none is
    1), or half of it (``"paper"``, van Rossum's :math:`\tfrac1\tau\int (f-g)^2 dt`: one
    spike against none is :math:`\sqrt{1/2}`). ``tau`` [s] > 0; ``inf`` gives
    ``|n_a - n_b|``. Exact, in one merged pass over the sorted trains."""
    tau = _positive(tau, "tau", "van_rossum_distance", allow_inf=True)
    d2 = _distances(0, trains_a, trains_b, tau, False, "van_rossum_distance")
    return _vr_norm(d2, normalization, "van_rossum_distance")


def van_rossum_matrix(trains_a, trains_b=None, tau=None, *, normalization="elephant"):
    """van Rossum distance of every train of ``trains_a`` to every train of ``trains_b``
    (default: ``trains_a`` itself, as Elephant's ``van_rossum_distance``): an
    ``(len(a), len(b))`` array. See :func:`van_rossum_distance`."""
    tau = _positive(tau, "tau", "van_rossum_matrix", allow_inf=True)
    d2 = _distances(0, trains_a, trains_b, tau, True, "van_rossum_matrix")
    return _vr_norm(d2, normalization, "van_rossum_matrix")


def victor_purpura_distance(trains_a, trains_b, q):
    r"""Victor–Purpura (1996) distance between two trains, or between ``trains_a[i]`` and
    ``trains_b[i]`` for two lists of trains: the least cost of edits, 1 per deleted or
    inserted spike and ``q |dt|`` per shift (``q`` [1/s] >= 0, ``inf`` allowed),

    .. math:: G_{ij} = \min(G_{i-1,j} + 1,\ G_{i,j-1} + 1,\ G_{i-1,j-1} + q|a_i - b_j|),

    :math:`G_{i0} = i`, :math:`G_{0j} = j`, :math:`D = G_{n_a n_b}`. One spike shifted by
    ``d``: ``min(q d, 2)``."""
    q = _nonnegative(q, "q", "victor_purpura_distance")
    return _distances(1, trains_a, trains_b, q, False, "victor_purpura_distance")


def victor_purpura_matrix(trains_a, trains_b=None, q=None):
    """Victor–Purpura distance of every train of ``trains_a`` to every train of
    ``trains_b`` (default: ``trains_a`` itself, as Elephant's
    ``victor_purpura_distance``). See :func:`victor_purpura_distance`."""
    q = _nonnegative(q, "q", "victor_purpura_matrix")
    return _distances(1, trains_a, trains_b, q, True, "victor_purpura_matrix")


def _nonnegative(value, name, where):
    if not isinstance(value, Real) or math.isnan(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a number >= 0 [1/s], got {value!r}")
    return float(value)


# ------------------------------------------------------------------ comparison
@dataclasses.dataclass(eq=False)
class Comparison:
    """The measures of a simulated and a recorded population over one window; built by
    :func:`compare`. Arrays are per unit (unit i of the simulation against unit i of
    the recording); ``summary()`` gives the scalar numbers as a dict."""

    n_units: int
    t_start: float
    t_stop: float
    bin_width: float
    fano_width: float
    tau: float
    q: float
    rates_sim: np.ndarray
    rates_rec: np.ndarray
    isi_cv_sim: np.ndarray
    isi_cv_rec: np.ndarray
    fano_sim: np.ndarray
    fano_rec: np.ndarray
    van_rossum: np.ndarray
    victor_purpura: np.ndarray
    edges: np.ndarray
    population_rate_sim: np.ndarray
    population_rate_rec: np.ndarray
    simulated: tuple = dataclasses.field(repr=False, default=())
    recorded: tuple = dataclasses.field(repr=False, default=())

    @property
    def rate_correlation(self) -> float:
        """Pearson correlation of the per-unit rates (NaN with < 2 units or a constant
        side)."""
        a, b = self.rates_sim, self.rates_rec
        if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
            return float("nan")
        return float(np.corrcoef(a, b)[0, 1])

    def summary(self) -> dict:
        """Scalar numbers: mean rates [Hz], mean ISI CV and Fano factor (over units where
        defined), rate correlation and mean distances."""
        return {
            "n_units": self.n_units,
            "rate_sim": finite_mean(self.rates_sim),
            "rate_rec": finite_mean(self.rates_rec),
            "isi_cv_sim": finite_mean(self.isi_cv_sim),
            "isi_cv_rec": finite_mean(self.isi_cv_rec),
            "fano_sim": finite_mean(self.fano_sim),
            "fano_rec": finite_mean(self.fano_rec),
            "rate_correlation": self.rate_correlation,
            "van_rossum": finite_mean(self.van_rossum),
            "victor_purpura": finite_mean(self.victor_purpura),
        }

    def __str__(self):
        rows = [f"{k:>16}  {v:.4g}" for k, v in self.summary().items()]
        return "\n".join([f"Comparison over [{self.t_start}, {self.t_stop}) s", *rows])


def finite_mean(x) -> float:
    """The mean of the finite entries of ``x`` (NaN when there are none), as summaries
    average per-unit measures that are undefined for some units (ISI CV, Fano)."""
    x = np.asarray(x, float)
    return float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else float("nan")


def compare(
    simulated,
    recorded,
    n_units=None,
    t_start=0.0,
    t_stop=None,
    *,
    bin_width=0.01,
    fano_width=0.1,
    tau=0.01,
    q=100.0,
    ids_sim=None,
    ids_rec=None,
) -> Comparison:
    """Measure a simulated and a recorded population the same way over
    ``t_start <= t < t_stop`` [s]: per-unit rates, ISI CV (>= 3 spikes), Fano factor in
    bins of ``fano_width``, population rate (mean per unit) in bins of ``bin_width``,
    and, unit i against unit i, the van Rossum distance (``tau`` [s], Elephant's
    normalisation) and the Victor–Purpura distance (``q`` [1/s]). ``n_units`` defaults
    to that of the objects (both must agree)."""
    where = "compare"
    t0, t1 = _window(t_start, t_stop, where)
    if n_units is None:
        na = _guess_n_units(simulated) if ids_sim is None else None
        nb = _guess_n_units(recorded) if ids_rec is None else None
        if na is None or nb is None or na != nb:
            raise ValueError(f"{where}: give n_units (the populations say {na} and {nb} units)")
        n_units = na
    ts, is_, n = _spikes(simulated, ids_sim, n_units, f"{where} (simulated)")
    tr, ir, _ = _spikes(recorded, ids_rec, n_units, f"{where} (recorded)")
    ks, kr = (ts >= t0) & (ts < t1), (tr >= t0) & (tr < t1)
    sim, rec = (ts[ks], is_[ks]), (tr[kr], ir[kr])
    tau = _positive(tau, "tau", where, allow_inf=True)
    q = _nonnegative(q, "q", where)
    fw = _positive(fano_width, "fano_width", where)
    bw = _positive(bin_width, "bin_width", where)
    trains_s = spike_trains(sim[0], n, ids=sim[1])
    trains_r = spike_trains(rec[0], n, ids=rec[1])
    edges, pop_s = population_rate(sim[0], bw, t0, t1, n, ids=sim[1])
    _, pop_r = population_rate(rec[0], bw, t0, t1, n, ids=rec[1])
    vr = van_rossum_distance(trains_s, trains_r, tau) if n else np.zeros(0)
    vp = victor_purpura_distance(trains_s, trains_r, q) if n else np.zeros(0)
    return Comparison(
        n_units=n, t_start=t0, t_stop=t1, bin_width=bw, fano_width=fw, tau=tau, q=q,
        rates_sim=rates(sim[0], n, t0, t1, ids=sim[1]),
        rates_rec=rates(rec[0], n, t0, t1, ids=rec[1]),
        isi_cv_sim=isi_cv(sim[0], n, ids=sim[1]),
        isi_cv_rec=isi_cv(rec[0], n, ids=rec[1]),
        fano_sim=fano_factor(sim[0], fw, n, t0, t1, ids=sim[1]),
        fano_rec=fano_factor(rec[0], fw, n, t0, t1, ids=rec[1]),
        van_rossum=vr, victor_purpura=vp,
        edges=edges, population_rate_sim=pop_s, population_rate_rec=pop_r,
        simulated=sim, recorded=rec,
    )  # fmt: skip


def plot_comparison(result, recorded=None, path=None, labels=("simulated", "recorded"),
                    **compare_kwargs):  # fmt: skip
    """A figure of a :class:`Comparison` (or of ``compare(result, recorded,
    **compare_kwargs)`` when two populations are given): rasters side by side, the
    population rates overlaid, per-unit rates against each other, mean ISI CV and Fano
    factor, and the per-unit distances. Returns the matplotlib ``Figure``; saved to
    ``path`` if given. Drawn without pyplot (a bare ``Figure`` on the Agg canvas), so it
    needs no display and leaves pyplot's figures alone."""
    from types import SimpleNamespace

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from axonforge.plot import raster

    if not isinstance(result, Comparison):
        if recorded is None:
            raise ValueError("plot_comparison: give a Comparison, or two populations")
        result = compare(result, recorded, **compare_kwargs)
    r = result
    fig = Figure(figsize=(11, 7.5))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(3, 3)
    top_row = grid[0, :].subgridspec(1, 2)
    colors = ("C0", "C3")
    for col, (side, name, c) in enumerate(zip((r.simulated, r.recorded), labels, colors)):
        ax = fig.add_subplot(top_row[0, col])
        if len(side):
            raster(SimpleNamespace(times=side[0], ids=side[1]), ax=ax, color=c)
        ax.set_xlim(r.t_start, r.t_stop)
        ax.set_ylim(-0.5, r.n_units - 0.5)
        ax.set_title(f"{name}: raster")
    ax = fig.add_subplot(grid[1, :])
    # the recording first, the simulation drawn over it
    for pop, name, c in list(zip((r.population_rate_sim, r.population_rate_rec), labels, colors))[
        ::-1
    ]:
        ax.stairs(pop, r.edges, color=c, label=name, alpha=0.8)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("rate per unit [Hz]")
    ax.set_title(f"population rate ({r.bin_width * 1e3:g} ms bins)")
    ax.legend(loc="upper right", fontsize="small")

    s = r.summary()
    ax = fig.add_subplot(grid[2, 0])
    ax.scatter(r.rates_rec, r.rates_sim, s=12, color="k")
    top = max(float(np.max(r.rates_sim, initial=0)), float(np.max(r.rates_rec, initial=0)))
    top = top * 1.05 or 1.0
    ax.plot([0, top], [0, top], color="0.6", lw=0.8)
    ax.set_xlabel(f"{labels[1]} rate [Hz]")
    ax.set_ylabel(f"{labels[0]} rate [Hz]")
    ax.set_title(f"per-unit rates (r = {s['rate_correlation']:.2f})")

    ax = fig.add_subplot(grid[2, 1])
    x = np.arange(2)
    for k, (key, name, c) in enumerate(zip(("sim", "rec"), labels, colors)):
        vals = [s[f"isi_cv_{key}"], s[f"fano_{key}"]]
        ax.bar(x + (k - 0.5) * 0.38, np.nan_to_num(vals), width=0.38, color=c, label=name)
    ax.set_xticks(x, ["ISI CV", f"Fano ({r.fano_width * 1e3:g} ms)"])
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.set_title("irregularity (Poisson = 1)")
    ax.legend(fontsize="small")

    ax = fig.add_subplot(grid[2, 2])
    units = np.arange(r.n_units)
    ax.plot(units, r.van_rossum, "o", ms=3, label=f"van Rossum (tau {r.tau * 1e3:g} ms)")
    ax.plot(units, r.victor_purpura, "s", ms=3, mfc="none", label=f"Victor-Purpura (q {r.q:g}/s)")
    ax.set_xlabel("unit")
    ax.set_ylabel("distance")
    ax.set_title("unit i vs unit i")
    ax.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
