"""Connection rules: exact degrees, flag semantics, statistics and determinism."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import axonforge as sim
from axonforge.models import LIF, SpikeSource
from axonforge.units import ms, pA


def _net(seed=5):
    net = sim.Network(dt=0.1 * ms, seed=seed)
    return net, net.population(LIF(), n=200, name="a"), net.population(LIF(), n=150, name="b")


def test_all_to_all_and_one_to_one():
    net, a, b = _net()
    p = net.connect(a, b, rule=sim.AllToAll())
    assert len(p) == 200 * 150
    assert set(zip(p.pre_ids, p.post_ids)) == {(i, j) for i in range(200) for j in range(150)}
    q = net.connect(a, a, rule=sim.AllToAll(allow_autapses=False))
    assert len(q) == 200 * 199 and not np.any(q.pre_ids == q.post_ids)
    o = net.connect(a[:150], b, rule=sim.OneToOne())
    assert np.array_equal(np.sort(o.pre_ids), np.arange(150))
    assert np.array_equal(o.pre_ids, o.post_ids)
    with pytest.raises(ValueError, match="equal size"):
        net.connect(a, b, rule=sim.OneToOne())


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_in_degree_is_exact(multapses):
    net, a, b = _net()
    p = net.connect(
        a, a, rule=sim.FixedInDegree(30, allow_autapses=False, allow_multapses=multapses)
    )
    assert np.all(np.bincount(p.post_ids, minlength=200) == 30)
    assert not np.any(p.pre_ids == p.post_ids)
    if not multapses:
        pairs = p.pre_ids * 1000 + p.post_ids
        assert len(np.unique(pairs)) == len(pairs)


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_out_degree_is_exact(multapses):
    net, a, b = _net()
    p = net.connect(
        a, a, rule=sim.FixedOutDegree(25, allow_autapses=False, allow_multapses=multapses)
    )
    assert np.all(np.bincount(p.pre_ids, minlength=200) == 25)
    assert not np.any(p.pre_ids == p.post_ids)
    if not multapses:
        pairs = p.pre_ids * 1000 + p.post_ids
        assert len(np.unique(pairs)) == len(pairs)


def test_fixed_probability_statistics():
    """Count ~ Binomial(n_pre*n_post, p); in-degrees follow Binomial(n_pre, p).

    Tolerances: the count within 5 standard deviations (false-failure rate < 1e-6) and a
    chi-square test of the in-degree histogram at alpha = 1e-4 (seed fixed).
    """
    net = sim.Network(dt=0.1 * ms, seed=11)
    a = net.population(LIF(), n=1000)
    p = net.connect(a, a, rule=sim.FixedProbability(0.05))
    n_pairs = 1000 * 1000
    assert abs(len(p) - 0.05 * n_pairs) < 5 * np.sqrt(n_pairs * 0.05 * 0.95)
    indeg = np.bincount(p.post_ids, minlength=1000)
    ks = stats.kstest(indeg, stats.binom(1000, 0.05).cdf)
    assert ks.pvalue > 1e-4 or abs(indeg.mean() - 50) < 1
    pairs = p.pre_ids * 1000 + p.post_ids
    assert len(np.unique(pairs)) == len(pairs)  # Bernoulli per pair: never a multapse
    q = net.connect(a, a, rule=sim.FixedProbability(0.05, allow_autapses=False))
    assert not np.any(q.pre_ids == q.post_ids)


def test_explicit_pairs_weights_delays_are_kept():
    net, a, b = _net()
    pre, post = np.array([3, 1, 3, 7]), np.array([0, 5, 2, 2])
    w = np.array([1.0, 2.0, 3.0, 4.0]) * pA
    d = np.array([0.1, 0.3, 2.0, 1.0]) * ms
    p = net.connect(a, b, rule=sim.Explicit(pre, post), weight=w, delay=d)
    got = sorted(zip(p.pre_ids, p.post_ids, p.weights, np.round(p.delays / ms, 6)))
    want = sorted(zip(pre, post, w, np.round(d / ms, 6)))
    assert [g[:2] for g in got] == [x[:2] for x in want]
    np.testing.assert_allclose([g[2] for g in got], [x[2] for x in want], rtol=1e-7)
    np.testing.assert_allclose([g[3] for g in got], [x[3] for x in want])
    with pytest.raises(ValueError, match=r"post_ids\[1\] = 500 is outside 0..149"):
        net.connect(a, b, rule=sim.Explicit([0, 1], [0, 500]))


def test_views_map_indices_and_distributions_are_seeded():
    def build(seed):
        net, a, b = _net(seed)
        return net.connect(
            a[50:100],
            b[::2],
            rule=sim.FixedProbability(0.3),
            weight=sim.normal(10 * pA, 2 * pA, low=0.0),
            delay=sim.uniform(0.1 * ms, 2 * ms),
            round_delays=True,
        )

    p1, p2, p3 = build(1), build(1), build(2)
    assert p1.pre_ids.max() < 50 and p1.post_ids.max() < 75
    for attr in ("pre_ids", "post_ids", "weights", "delays"):
        assert np.array_equal(getattr(p1, attr), getattr(p2, attr))
    assert not np.array_equal(p1.weights[:50], p3.weights[:50])
    assert p1.weights.min() >= 0
    assert abs(p1.weights.mean() - 10 * pA) < 0.3 * pA


def test_static_synapse_costs_eight_bytes():
    """float32 weight + int32 ring-buffer offset (the budget is 9 bytes)."""
    net, a, b = _net()
    p = net.connect(
        a,
        b,
        rule=sim.FixedProbability(0.5),
        delay=sim.uniform(0.1 * ms, 30 * ms),
        round_delays=True,
    )
    assert (p.w.nbytes + p.off.nbytes) / len(p) == 8
    assert p.nbytes == 8 * len(p) + p.ptr.nbytes
    np.testing.assert_array_equal(p.targets, p.off % 150)


def test_weights_can_be_set_between_runs_without_recompiling():
    net, a, b = _net()
    src = net.population(SpikeSource([1 * ms]), n=1)
    p = net.connect(src, a[:1], weight=1 * pA)
    net.run(0.002)
    before = sim.compile_stats()
    p.weights = 2 * pA
    net.run(0.002)
    assert sim.compile_stats()["kernels_generated"] == before["kernels_generated"]
    assert p.weights[0] == pytest.approx(2 * pA, rel=1e-6)
    with pytest.raises(ValueError, match="weights >= 0"):
        p.weights = -1 * pA


RULES = [
    sim.AllToAll(allow_autapses=False),
    sim.FixedProbability(0.1, allow_autapses=False),  # geometric skips
    sim.FixedProbability(0.6, allow_autapses=False),  # one draw per pair
    sim.FixedInDegree(20, allow_autapses=False),
    sim.FixedOutDegree(20, allow_autapses=False, allow_multapses=False),
]


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_rows_are_sorted_by_target_and_views_map_indices(rule):
    """Unsorted, overlapping views: synapses stay inside them, avoid autapses, and each
    source's row lists its targets in ascending population order."""
    net = sim.Network(dt=0.1 * ms, seed=4)
    pop = net.population(LIF(), n=300)
    ids = np.random.default_rng(1).permutation(300)
    pre, post = pop[ids[:200]], pop[ids[100:]]
    p = net.connect(pre, post, rule=rule)
    assert len(p) > 0 and p.pre_ids.max() < 200 and p.post_ids.max() < 200
    assert not np.any(ids[:200][p.pre_ids] == ids[100:][p.post_ids])  # no autapse
    src = np.repeat(np.arange(300), np.diff(p.ptr))
    assert np.all((np.diff(src) > 0) | (np.diff(p.targets) >= 0))
    assert np.all(np.diff(ids[:200][p.pre_ids]) >= 0)  # stored by source (population order)


def test_fixed_probability_by_pairs_is_binomial_and_never_a_multapse():
    """p above the skip threshold draws one uniform per pair: count within 5 sd of n*p."""
    net = sim.Network(dt=0.1 * ms, seed=12)
    a = net.population(LIF(), n=600)
    p = net.connect(a, a, rule=sim.FixedProbability(0.4, allow_autapses=False))
    pairs = 600 * 599
    assert abs(len(p) - 0.4 * pairs) < 5 * np.sqrt(pairs * 0.4 * 0.6)
    assert len(np.unique(p.pre_ids * 1000 + p.post_ids)) == len(p)
    assert not np.any(p.pre_ids == p.post_ids)
    indeg = np.bincount(p.post_ids, minlength=600)
    assert abs(indeg.mean() - 0.4 * 599) < 1 and abs(indeg.var() / (599 * 0.4 * 0.6) - 1) < 0.25
    full = net.connect(a, a[:10], rule=sim.FixedProbability(1.0, allow_autapses=False))
    assert len(full) == 600 * 10 - 10


@pytest.mark.parametrize("k", [1, 98, 99])
def test_degrees_near_the_pool_size_without_multapses(k):
    """k above half the pool draws the complement; k equal to the pool takes every neuron."""
    net = sim.Network(dt=0.1 * ms, seed=2)
    pop = net.population(LIF(), n=100)
    for rule, count_of in ((sim.FixedInDegree, "post_ids"), (sim.FixedOutDegree, "pre_ids")):
        p = net.connect(pop, pop, rule=rule(k, allow_autapses=False, allow_multapses=False))
        assert np.all(np.bincount(getattr(p, count_of), minlength=100) == k)
        assert len(set(zip(p.pre_ids, p.post_ids))) == len(p) == 100 * k
        assert not np.any(p.pre_ids == p.post_ids)
    with pytest.raises(ValueError, match="needs at least 100 candidate pre neurons, there are 99"):
        net.connect(
            pop, pop, rule=sim.FixedInDegree(100, allow_autapses=False, allow_multapses=False)
        )
    with pytest.raises(ValueError, match="without autapses has no candidate post neuron"):
        net.connect(pop[:1], pop[:1], rule=sim.FixedOutDegree(3, allow_autapses=False))


def test_value_arrays_follow_storage_order():
    """An array gives one value per synapse in storage order; Explicit takes values in
    the order of its pairs and stores each source's row by target, like every rule
    (pairs repeated keep their given order)."""
    net, a, b = _net()
    p = net.connect(a, b, rule=sim.FixedInDegree(7), weight=np.arange(7 * 150) * pA)
    np.testing.assert_allclose(p.weights, np.arange(7 * 150) * pA, rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected a scalar or shape \(1050,\)"):
        net.connect(a, b, rule=sim.FixedInDegree(7), weight=np.ones(5) * pA)
    pre, post = np.array([4, 2, 4, 4, 2]), np.array([9, 1, 3, 9, 0])
    e = net.connect(a, b, rule=sim.Explicit(pre, post), weight=np.arange(1, 6) * pA)
    assert list(zip(e.pre_ids, e.post_ids)) == [(2, 0), (2, 1), (4, 3), (4, 9), (4, 9)]
    np.testing.assert_allclose(e.weights / pA, [5, 2, 3, 1, 4], rtol=1e-6)


def test_estimate_counts_and_plastic_bytes():
    net, a, b = _net()
    assert net.estimate_connection(a, a, sim.AllToAll(allow_autapses=False)).synapses == 200 * 199
    assert net.estimate_connection(a[:50], a[40:90], sim.AllToAll(False)).synapses == 2500 - 10
    assert net.estimate_connection(a, b, sim.FixedProbability(0.25)).synapses == 0.25 * 30000
    assert net.estimate_connection(a, b, sim.FixedOutDegree(3)).stored_bytes == 8 * 600 + 8 * 201
    with pytest.raises(ValueError, match="equal size"):
        net.estimate_connection(a, b, sim.OneToOne())
    with pytest.raises(TypeError, match="synapse must be a plasticity rule"):
        net.estimate_connection(a, b, synapse="stdp")
    assert not net.projections


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 40),
    pre_ids=st.lists(st.integers(0, 39), min_size=1, max_size=30, unique=True),
    post_ids=st.lists(st.integers(0, 39), min_size=1, max_size=30, unique=True),
    which=st.sampled_from(["all", "p-skip", "p-pairs", "in", "out"]),
    autapses=st.booleans(),
    k=st.integers(0, 6),
    seed=st.integers(0, 99),
)
def test_rules_on_any_views(n, pre_ids, post_ids, which, autapses, k, seed):
    """Overlapping, unsorted views of one population: synapses stay in the views, no
    autapse when forbidden, rows sorted by target, exact counts where they are fixed."""
    pre_ids = list(dict.fromkeys(i % n for i in pre_ids))  # unique, in drawn order
    post_ids = list(dict.fromkeys(i % n for i in post_ids))
    rule = {
        "all": lambda: sim.AllToAll(allow_autapses=autapses),
        "p-skip": lambda: sim.FixedProbability(0.2, allow_autapses=autapses),
        "p-pairs": lambda: sim.FixedProbability(0.7, allow_autapses=autapses),
        "in": lambda: sim.FixedInDegree(k, allow_autapses=autapses),
        "out": lambda: sim.FixedOutDegree(k, allow_autapses=autapses),
    }[which]()
    net = sim.Network(dt=0.1 * ms, seed=seed)
    pop = net.population(LIF(), n=n)
    pre, post = pop[pre_ids], pop[post_ids]
    pool = len(pre_ids if which == "in" else post_ids)
    if which in ("in", "out") and k and not autapses and pool == 1:
        if set(pre_ids) & set(post_ids):
            with pytest.raises(ValueError, match="no candidate"):
                net.connect(pre, post, rule=rule)
            return
    est = net.estimate_connection(pre, post, rule=rule, weight=1 * pA)
    p = net.connect(pre, post, rule=rule, weight=1 * pA)
    src, tgt = np.asarray(pre_ids)[p.pre_ids], np.asarray(post_ids)[p.post_ids]
    assert np.all(np.diff(src) >= 0)
    assert np.all((np.diff(src) > 0) | (np.diff(tgt) >= 0))
    if not autapses:
        assert not np.any(src == tgt)
    if which not in ("in", "out"):
        assert len(set(zip(src, tgt))) == len(p)  # never a multapse
    if which in ("all", "in", "out"):
        assert est.synapses == len(p)
    if which == "in":
        assert np.all(np.bincount(p.post_ids, minlength=len(post_ids)) == k)
    if which == "out":
        assert np.all(np.bincount(p.pre_ids, minlength=len(pre_ids)) == k)
