"""The counter-based generator (SplitMix64 finaliser) and property tests of the synapse store.

Statistical tolerances: KS tests at alpha = 1e-4 with fixed seeds; correlations of 1e5
samples must lie within 5 standard errors (5/sqrt(1e5) = 0.016) of zero.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from scipy import stats

import axonforge as sim
from axonforge import rng
from axonforge.models import LIF
from axonforge.units import ms


@njit(cache=False)
def _draw(seed, stream, steps, n, normal):
    out = np.empty((steps, n))
    for k in range(steps):
        key = rng.step_key(seed, stream, k)
        for i in range(n):
            out[k, i] = rng.normal(key, i) if normal else rng.uniform(key, i)
    return out


def test_uniforms_are_uniform_and_uncorrelated():
    u = _draw(12345, 3, 100, 1000, False)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4
    for a, b in ((u[:, :-1], u[:, 1:]), (u[:-1], u[1:])):  # neighbours in index and in step
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(a.size)
    other = _draw(12345, 4, 100, 1000, False)  # another stream
    assert abs(np.corrcoef(u.ravel(), other.ravel())[0, 1]) < 5 / np.sqrt(u.size)
    np.testing.assert_array_equal(u, _draw(12345, 3, 100, 1000, False))  # a pure function


def test_normals_are_standard_normal():
    z = _draw(7, 1, 100, 1000, True).ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.std() - 1) < 0.01


@njit(cache=False)
def _normals_and_bits(seed, n):
    """n normals of one step key, with the hash each is made from (rng.normal)."""
    key = rng.step_key(seed, 11, 0)
    z, h = np.empty(n), np.empty(n, np.uint64)
    for i in range(n):
        z[i] = rng.normal(key, i)
        h[i] = rng.mix64((key ^ rng._NORMAL_SALT) + (np.uint64(i) + np.uint64(1)) * rng._GOLDEN)
    return z, h


def test_normals_moments_and_tails():
    """1e6 normals (one hash and a float32 Box-Muller each): KS against scipy's normal,
    the first four moments within 5 standard errors, and the frequencies beyond 3, 4 and
    4.5 sigma (of 1e7) within 5 binomial standard errors."""
    z, _ = _normals_and_bits(2024, 10_000_000)
    head = z[:1_000_000]
    assert stats.kstest(head, stats.norm.cdf).pvalue > 1e-4
    n = head.size
    assert abs(head.mean()) < 5 / np.sqrt(n)
    assert abs(head.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(head)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(head)) < 5 * np.sqrt(24 / n)
    for a in (3.0, 4.0, 4.5):
        p = 2 * stats.norm.sf(a)
        count = np.count_nonzero(np.abs(z) > a)
        assert abs(count - p * z.size) < 5 * np.sqrt(p * z.size), (a, count, p * z.size)
    assert np.abs(z).max() <= np.sqrt(2 * 41 * np.log(2))  # the reach of a 40-bit uniform


def test_normals_are_float32_box_muller_of_their_hash():
    """The documented precision: each normal is sqrt(-2 log u) sin(pi w), u from the top 40
    bits of its hash and w from the low 24, within 5e-7 relative (float32 arithmetic)."""
    z, h = _normals_and_bits(99, 1_000_000)
    u = ((h >> np.uint64(24)).astype(np.float64) + 0.5) * 2.0**-40
    # 1 - u exactly (in float64), so that the reference keeps small radii too
    one_minus_u = ((2**40 - 1 - (h >> np.uint64(24))).astype(np.float64) + 0.5) * 2.0**-40
    w = ((h & np.uint64(0xFFFFFF)).astype(np.float64) - 8388607.5) * 2.0**-24
    want = np.sqrt(-2 * np.log1p(-one_minus_u)) * np.sin(np.pi * w)
    assert np.allclose(u, 1 - one_minus_u, rtol=0, atol=1e-15)
    np.testing.assert_allclose(z, want, rtol=5e-7, atol=1e-12)


def test_normals_are_independent_of_neighbours_and_uniforms():
    """No correlation (of values or of squares) between neighbours in index and in step, and
    none with the uniform of the same key and element (the normal's hash is salted)."""
    z = _draw(31, 5, 200, 1000, True)
    u = _draw(31, 5, 200, 1000, False)
    lim = 5 / np.sqrt(z.size)
    for a, b in ((z[:, :-1], z[:, 1:]), (z[:-1], z[1:]), (z, u - 0.5)):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < lim
        assert abs(np.corrcoef(a.ravel() ** 2, b.ravel() ** 2)[0, 1]) < lim


def test_poisson_cdf_table_inversion_matches_scipy():
    lam = np.array([0.01, 0.8, 2.0, 17.0])
    table = rng.poisson_cdf_table(lam)
    u = np.random.default_rng(0).random(200_000)
    for row, m in zip(table, lam):
        counts = (u[:, None] > row[None, :]).sum(axis=1)
        assert abs(counts.mean() - m) < 5 * np.sqrt(m / len(u))
        assert table.shape[1] > m + 5 * np.sqrt(m) and row[-1] == 1.0


@settings(max_examples=25, deadline=None)
@given(
    n_pre=st.integers(1, 40),
    n_post=st.integers(1, 40),
    m=st.integers(0, 300),
    seed=st.integers(0, 2**31),
    max_delay=st.integers(1, 300),
)
def test_csr_store_keeps_every_synapse(n_pre, n_post, m, seed, max_delay):
    """Explicit pairs, weights and delays come back as the same multiset."""
    g = np.random.default_rng(seed)
    pre, post = g.integers(0, n_pre, m), g.integers(0, n_post, m)
    w = g.uniform(0, 1e-9, m).astype(np.float32).astype(float)
    d = g.integers(1, max_delay + 1, m) * 0.1 * ms
    net = sim.Network(dt=0.1 * ms, seed=1)
    a, b = net.population(LIF(), n=n_pre), net.population(LIF(), n=n_post)
    p = net.connect(a, b, rule=sim.Explicit(pre, post), weight=w, delay=d)
    key = lambda *cols: sorted(zip(*[np.round(c, 15) for c in cols]))  # noqa: E731
    assert key(p.pre_ids, p.post_ids, p.weights, p.delays) == key(pre, post, w, d)
    assert np.all(np.diff(p.pre_ids) >= 0)  # stored by source


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), k=st.integers(0, 20), multapses=st.booleans(), seed=st.integers(0, 99))
def test_degree_rules_are_exact(n, k, multapses, seed):
    net = sim.Network(dt=0.1 * ms, seed=seed)
    pop = net.population(LIF(), n=n)
    k = min(k, n - 1) if not multapses else k
    for rule, count_of in ((sim.FixedInDegree, "post_ids"), (sim.FixedOutDegree, "pre_ids")):
        p = net.connect(pop, pop, rule=rule(k, allow_autapses=False, allow_multapses=multapses))
        assert np.all(np.bincount(getattr(p, count_of), minlength=n) == k)
        assert not np.any(p.pre_ids == p.post_ids)
        if not multapses:
            assert len(set(zip(p.pre_ids, p.post_ids))) == len(p)
