"""axonforge.analysis against Elephant on the same trains: wall time of each measure.

Trains: ``N`` homogeneous Poisson units (numpy, seed 0) of ``n`` spikes on average over
10 s. Distances: the full N x N matrix (Elephant's only form) for van Rossum
(tau 10 ms) and Victor-Purpura (q 100/s, fewer units: Elephant's DP is O(n^2) in Python
per pair); Fano factor and CCH on the same trains. Each timing is the best of
``repeat`` runs after one warm-up call (Numba compiles or loads its cache there). The
results are also checked to agree (same tolerances as tests/simulator/test_analysis.py).

    python benchmarks/analysis.py [--units 100] [--spikes 1000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def best(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    import neo
    import quantities as pq
    from elephant import spike_train_dissimilarity as esd
    from elephant import statistics as es

    from axonforge import analysis as an

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--spikes", type=int, default=1000)
    p.add_argument("--vp-units", type=int, default=10)
    p.add_argument("--vp-spikes", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    T, rng = 10.0, np.random.default_rng(0)

    def poisson(n):
        return np.sort(rng.uniform(0, T, rng.poisson(n)))

    rows = []
    trains = [poisson(args.spikes) for _ in range(args.units)]
    neos = [neo.SpikeTrain(x, units="s", t_stop=T) for x in trains]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        te, ref = best(lambda: esd.van_rossum_distance(neos, 0.01 * pq.s), 1)
    ta, mine = best(lambda: an.van_rossum_matrix(trains, tau=0.01), args.repeat)
    np.testing.assert_allclose(mine**2, ref**2, rtol=1e-9, atol=1e-9 * 2 * args.spikes)
    rows.append((f"van Rossum {args.units}x{args.units}, {args.spikes} spikes", te, ta))

    small = [poisson(args.vp_spikes) for _ in range(args.vp_units)]
    neos_s = [neo.SpikeTrain(x, units="s", t_stop=T) for x in small]
    te, ref = best(lambda: esd.victor_purpura_distance(neos_s, 100 * pq.Hz), 1)
    ta, mine = best(lambda: an.victor_purpura_matrix(small, q=100.0), args.repeat)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-12)
    rows.append((f"Victor-Purpura {args.vp_units}^2, {args.vp_spikes} spikes", te, ta))

    t = np.concatenate(trains)
    ids = np.concatenate([np.full(len(x), k) for k, x in enumerate(trains)])
    w = 0.1

    def elephant_fano():
        from elephant.conversion import BinnedSpikeTrain

        counts = BinnedSpikeTrain(neos, bin_size=w * pq.s).to_array()
        return [es.fanofactor([np.zeros(c) for c in row]) for row in counts]

    te, ref = best(elephant_fano, 1)
    ta, mine = best(lambda: an.fano_factor(t, w, args.units, 0.0, T, ids=ids), args.repeat)
    np.testing.assert_allclose(mine, ref, rtol=1e-12)
    rows.append((f"Fano factor {args.units} units, {w * 1e3:g} ms bins", te, ta))

    def elephant_cv():
        return [es.cv(es.isi(x)) for x in trains]

    te, ref = best(elephant_cv, args.repeat)
    ta, mine = best(lambda: an.isi_cv(t, args.units, ids=ids), args.repeat)
    np.testing.assert_allclose(mine, ref, rtol=1e-12)
    rows.append((f"ISI CV {args.units} units", te, ta))

    def elephant_cch():
        from elephant.conversion import BinnedSpikeTrain
        from elephant.spike_train_correlation import cross_correlation_histogram

        a = BinnedSpikeTrain(neos[0], bin_size=1e-3 * pq.s)
        b = BinnedSpikeTrain(neos[1], bin_size=1e-3 * pq.s)
        return cross_correlation_histogram(a, b, window=[-50, 50])[0].magnitude.ravel()

    te, ref = best(elephant_cch, args.repeat)
    ta, (_, mine) = best(
        lambda: an.cross_correlogram(trains[0], trains[1], 1e-3, 0.05, 0.0, T), args.repeat
    )
    np.testing.assert_array_equal(mine, ref)
    rows.append(("CCH 2 trains, 1 ms bins, +-50 ms", te, ta))

    print(f"{'measure':<46} {'elephant [s]':>12} {'axonforge [s]':>14} {'speedup':>8}")
    for name, te, ta in rows:
        print(f"{name:<46} {te:12.4f} {ta:14.5f} {te / ta:8.0f}x")


if __name__ == "__main__":
    main()
