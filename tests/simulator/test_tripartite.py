"""The tripartite rule (NEST's ``tripartite_bernoulli_with_pool``): counts at p = 1,
pools (block and random), statistics at p < 1, partition independence, and errors."""

import numpy as np
import pytest
from scipy import stats

import axonforge as sim
from axonforge.models import LIF, AstrocyteLR1994
from axonforge.units import ms, pA


def make(n_pre=4, n_post=2, n_third=3, seed=1, threads=None, **rule):
    net = sim.Network(dt=0.1 * ms, seed=seed, threads=threads)
    pre = net.population(LIF(), n=n_pre, name="pre")
    post = net.population(LIF(sic=True), n=n_post, name="post")
    astro = net.population(AstrocyteLR1994(), n=n_third, name="astro")
    rule = {"p_primary": 1.0, "p_third_if_primary": 1.0, **rule}
    tri = net.connect_tripartite(
        pre, post, astro, sim.TripartiteBernoulliWithPool(**rule),
        primary=dict(weight=50 * pA), third_in=dict(weight=1.0), third_out=dict(weight=1 * pA),
    )  # fmt: skip
    return net, tri


def test_p1_counts_as_nest():
    """NEST's test_connect_all: 4 pre x 2 post x 3 astrocytes at p = 1 gives 8/8/8."""
    _net, tri = make()
    assert (len(tri.primary), len(tri.third_in), len(tri.third_out)) == (8, 8, 8)
    # each primary synapse has its pair: third_in from its pre, third_out to its post
    assert sorted(tri.third_in.pre_ids) == sorted(tri.primary.pre_ids)
    assert sorted(tri.third_out.post_ids) == sorted(tri.primary.post_ids)


def test_block_pools():
    """pool_size 1 with 6 neurons and 3 astrocytes: neurons 0-1 -> 0, 2-3 -> 1, 4-5 -> 2;
    pool_size 2 with 3 neurons and 6 astrocytes: neuron j -> 2j, 2j+1."""
    _net, tri = make(n_pre=5, n_post=6, n_third=3, pool_type="block", pool_size=1)
    assert np.array_equal(tri.third_out.pre_ids, tri.third_out.post_ids // 2)
    _net, tri = make(n_pre=40, n_post=3, n_third=6, pool_type="block", pool_size=2)
    out = tri.third_out
    assert np.all(out.pre_ids // 2 == out.post_ids)
    # both astrocytes of a pool are used (40 draws each)
    assert len(np.unique(out.pre_ids)) == 6


def test_random_pools_hold_distinct_astrocytes_and_choices_are_uniform():
    _net, tri = make(n_pre=2000, n_post=5, n_third=50, pool_size=4)
    out = tri.third_out
    for j in range(5):
        used = out.pre_ids[out.post_ids == j]
        pool, counts = np.unique(used, return_counts=True)
        assert len(pool) == 4  # 2000 draws from a pool of 4 distinct astrocytes
        # uniform choice in the pool: chi-square, 3 dof, at the 0.1 % level
        assert stats.chisquare(counts).pvalue > 1e-3
    # different neurons get different pools (50 choose 4: a collision is unlikely)
    pools = {tuple(np.unique(out.pre_ids[out.post_ids == j])) for j in range(5)}
    assert len(pools) == 5


def test_statistics_below_p1():
    """Primary synapses ~ Binomial(n_pre n_post, p_primary), recruited ones ~
    Binomial(primary, p_third); both within 4 standard deviations (fixed seed)."""
    n_pre, n_post, p1, p3 = 300, 200, 0.1, 0.3
    _net, tri = make(n_pre=n_pre, n_post=n_post, n_third=20, p_primary=p1,
                     p_third_if_primary=p3, pool_size=5)  # fmt: skip
    n1 = len(tri.primary)
    mean, sd = n_pre * n_post * p1, np.sqrt(n_pre * n_post * p1 * (1 - p1))
    assert abs(n1 - mean) < 4 * sd
    n3 = len(tri.third_in)
    assert abs(n3 - n1 * p3) < 4 * np.sqrt(n1 * p3 * (1 - p3))
    assert len(tri.third_out) == n3
    # in-degrees of the primary projection: binomial(n_pre, p1) per target (chi-square)
    indeg = np.bincount(tri.primary.post_ids, minlength=n_post)
    assert abs(indeg.mean() - n_pre * p1) < 4 * np.sqrt(n_pre * p1 * (1 - p1) / n_post)


def test_independent_of_threads_and_seeded():
    a = make(n_pre=50, n_post=40, n_third=10, p_primary=0.3, p_third_if_primary=0.5, pool_size=3)[1]
    b = make(n_pre=50, n_post=40, n_third=10, p_primary=0.3, p_third_if_primary=0.5, pool_size=3,
             threads=2)[1]  # fmt: skip
    c = make(n_pre=50, n_post=40, n_third=10, p_primary=0.3, p_third_if_primary=0.5, pool_size=3,
             seed=2)[1]  # fmt: skip
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.pre_ids, y.pre_ids) and np.array_equal(x.post_ids, y.post_ids)
    assert not np.array_equal(a.primary.pre_ids, c.primary.pre_ids)


def test_runs_and_astrocytes_receive_spikes():
    net, tri = make(n_pre=20, n_post=10, n_third=4, p_primary=0.5, p_third_if_primary=0.5)
    net.populations["pre"].set(i_offset=500 * pA)
    ip3 = net.state_monitor(net.populations["astro"], ["ip3"])
    net.run(100 * ms)
    assert ip3["ip3"][-1].max() > ip3["ip3"][0].max()


def test_bad_input_fails_clearly():
    with pytest.raises(ValueError, match="made no synapse"):
        make(p_primary=0.0)
    with pytest.raises(ValueError, match="block pools of 2 do not fit"):
        make(n_post=4, n_third=6, pool_type="block", pool_size=2)
    with pytest.raises(ValueError, match="block pools of 1 do not fit"):
        make(n_post=4, n_third=3, pool_type="block", pool_size=1)
    with pytest.raises(ValueError, match="exceeds the 3 astrocytes"):
        make(pool_size=4)
    with pytest.raises(ValueError, match=r"p_primary must be in \[0, 1\]"):
        sim.TripartiteBernoulliWithPool(1.5, 0.5)
    with pytest.raises(ValueError, match="pool_type"):
        sim.TripartiteBernoulliWithPool(0.5, 0.5, pool_type="ring")
    net = sim.Network(dt=0.1 * ms, seed=1)
    pre = net.population(LIF(), n=3)
    post = net.population(LIF(), n=3)  # no sic port
    astro = net.population(AstrocyteLR1994(), n=3)
    with pytest.raises(ValueError, match="sic=True"):
        net.connect_tripartite(pre, post, astro, sim.TripartiteBernoulliWithPool(1.0, 1.0),
                               third_out=dict(weight=1 * pA))  # fmt: skip
