"""FixedTotalNumber: NEST ``fixed_total_number`` semantics (Potjans & Diesmann 2014).

The rule makes exactly ``n`` synapses; each is an independent uniform draw of a target
and a source, so in-degrees and out-degrees are each multinomial(n, equal
probabilities): marginally Binomial(n, 1/N). Statistical checks use a fixed seed and a
chi-square test at alpha = 1e-4 (a false failure would need a 1-in-10,000 draw, and the
seed is fixed, so the test is deterministic); means are compared exactly where they are
exact (the total count) and within 5 standard errors where they are random.
"""

import numpy as np
import pytest
from scipy import stats

import axonforge as sim
from axonforge.models import LIF, SpikeSource
from axonforge.units import ms


def _net(seed=3):
    net = sim.Network(dt=0.1 * ms, seed=seed)
    a = net.population(LIF(), n=300, name="a")
    b = net.population(LIF(), n=200, name="b")
    return net, a, b


@pytest.mark.parametrize("n", [0, 1, 7, 12345, 200 * 300 * 3])
def test_count_is_exact(n):
    net, a, b = _net()
    p = net.connect(a, b, rule=sim.FixedTotalNumber(n))
    assert len(p) == n and p.n_synapses == n
    assert len(p.pre_ids) == len(p.post_ids) == n
    if n:
        assert p.pre_ids.min() >= 0 and p.pre_ids.max() < 300
        assert p.post_ids.min() >= 0 and p.post_ids.max() < 200


def _chi2_uniform_counts(counts, n):
    """p-value of the counts under multinomial(n, equal probabilities)."""
    expected = np.full(len(counts), n / len(counts))
    return stats.chisquare(counts, expected).pvalue


def test_in_and_out_degrees_are_multinomial():
    net, a, b = _net(seed=11)
    n = 60_000  # on average 300 per target and 200 per source
    p = net.connect(a, b, rule=sim.FixedTotalNumber(n))
    indeg = np.bincount(p.post_ids, minlength=200)
    outdeg = np.bincount(p.pre_ids, minlength=300)
    assert indeg.sum() == outdeg.sum() == n
    assert _chi2_uniform_counts(indeg, n) > 1e-4
    assert _chi2_uniform_counts(outdeg, n) > 1e-4
    # marginal: Binomial(n, 1/N); its variance n(1/N)(1-1/N) within 25 % (the sample
    # variance of 200 values has a relative standard error of sqrt(2/199) = 10 %)
    var_in = n / 200 * (1 - 1 / 200)
    assert abs(indeg.var(ddof=1) / var_in - 1) < 0.25
    # pairs: 300 x 200 cells with mean 1 synapse each; multapses do occur and their
    # number follows Poisson(1) cells closely (P(k >= 2) = 1 - 2/e = 0.264)
    pair_counts = np.bincount(p.pre_ids * 200 + p.post_ids, minlength=300 * 200)
    frac_multi = np.mean(pair_counts >= 2)
    se = np.sqrt(0.264 * 0.736 / pair_counts.size)
    assert abs(frac_multi - (1 - 2 / np.e)) < 5 * se


def test_no_autapses_and_rows_sorted_by_target():
    net, a, _b = _net(seed=5)
    p = net.connect(a, a, rule=sim.FixedTotalNumber(50_000, allow_autapses=False))
    assert len(p) == 50_000
    assert not np.any(p.pre_ids == p.post_ids)
    q = net.connect(a, a, rule=sim.FixedTotalNumber(50_000))
    assert np.any(q.pre_ids == q.post_ids)  # 50,000 / 300 expected autapses
    for proj in (p, q):
        for s in range(0, 300, 37):
            row = proj.post_ids[proj.ptr[s] : proj.ptr[s + 1]]
            assert np.all(np.diff(row) >= 0)


def test_views_and_unsorted_targets():
    net, a, b = _net(seed=9)
    post = b[np.array([150, 3, 77, 4, 190])]
    p = net.connect(a[10:40], post, rule=sim.FixedTotalNumber(5_000, allow_autapses=False))
    assert len(p) == 5_000
    assert set(np.unique(p.post_ids)) <= set(range(5))
    assert p.pre_ids.min() >= 0 and p.pre_ids.max() < 30
    # overlapping views of one population, no autapses: pre neuron 5 of a[5:10] is
    # neuron 10, which is post neuron 0 of a[10:20]
    q = net.connect(a[5:15], a[10:20], rule=sim.FixedTotalNumber(4_000, allow_autapses=False))
    assert not np.any(q.pre_ids + 5 == q.post_ids + 10)


def test_deterministic_and_seed_dependent():
    def build(seed):
        net, a, b = _net(seed=seed)
        p = net.connect(a, b, rule=sim.FixedTotalNumber(10_000))
        return p.pre_ids.copy(), p.post_ids.copy()

    x, y = build(1), build(1)
    assert np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
    z = build(2)
    assert not np.array_equal(x[1], z[1])


def test_rule_object_can_be_reused():
    net, a, b = _net()
    rule = sim.FixedTotalNumber(1_000)
    p = net.connect(a, b, rule=rule)
    q = net.connect(a, b, rule=rule)
    assert len(p) == len(q) == 1_000
    assert not np.array_equal(p.post_ids, q.post_ids)  # keyed by projection


def test_source_populations_and_estimate():
    net = sim.Network(dt=0.1 * ms, seed=1)
    src = net.population(SpikeSource(times=[0.001], ids=[0]), n=50)
    tgt = net.population(LIF(), n=40)
    est = net.estimate_connection(src, tgt, rule=sim.FixedTotalNumber(2_000))
    assert est.synapses == 2_000
    p = net.connect(src, tgt, rule=sim.FixedTotalNumber(2_000))
    assert est.stored_bytes == p.nbytes


def test_a_lone_self_source_without_autapses():
    """One pre neuron, which is also one of the targets: without autapses that target
    can receive nothing, the others share all synapses."""
    net, a, _b = _net()
    p = net.connect(a[4:5], a[0:10], rule=sim.FixedTotalNumber(500, allow_autapses=False))
    assert len(p) == 500 and not np.any(p.post_ids == 4)
    with pytest.raises(ValueError, match="no candidate pair"):
        net.connect(a[4:5], a[4:5], rule=sim.FixedTotalNumber(3, allow_autapses=False))
    q = net.connect(a[4:5], a[4:5], rule=sim.FixedTotalNumber(3))
    assert len(q) == 3


@pytest.mark.parametrize("bad", [-1, 2.5, True, "10", None, float("inf")])
def test_bad_n(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        sim.FixedTotalNumber(bad)


def test_multapses_cannot_be_switched_off():
    with pytest.raises(ValueError, match="multapses"):
        sim.FixedTotalNumber(10, allow_multapses=False)


def test_empty_side_is_refused_unless_n_is_zero():
    net, a, b = _net()
    with pytest.raises(ValueError, match="pre population is empty"):
        net.connect(a[:0], b, rule=sim.FixedTotalNumber(5))
    with pytest.raises(ValueError, match="post population is empty"):
        net.connect(a, b[:0], rule=sim.FixedTotalNumber(5))
    assert len(net.connect(a[:0], b, rule=sim.FixedTotalNumber(0))) == 0


def test_float_integral_n_and_describe():
    rule = sim.FixedTotalNumber(1e3)
    assert rule.n == 1000 and isinstance(rule.n, int)
    assert rule.describe() == {
        "rule": "FixedTotalNumber",
        "n": 1000,
        "allow_autapses": True,
        "allow_multapses": True,
    }
