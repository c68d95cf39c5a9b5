"""Connectivity and values written as expressions of indices and positions, and
populations with positions (issue 10, item 4). Statistical tests use fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import axonforge as sim
from axonforge.models import LIF
from axonforge.units import ms, pA


def degree_chi2(degrees, n, p):
    """chi^2 goodness of fit of ``degrees`` to Binomial(n, p), bins with expectation >= 5
    (the tails merged into the outer bins)."""
    k = np.arange(n + 1)
    expected = stats.binom.pmf(k, n, p) * len(degrees)
    observed = np.bincount(degrees, minlength=n + 1).astype(float)
    lo = int(np.argmax(np.cumsum(expected) >= 5))
    hi = n - int(np.argmax(np.cumsum(expected[::-1]) >= 5))
    obs = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1 : hi], [observed[hi:].sum()]])
    exp = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1 : hi], [expected[hi:].sum()]])
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def test_in_and_out_degrees_follow_the_binomials_of_the_expression():
    """p = 0.05 for even sources and 0.15 for odd ones, over 600 x 800 pairs: the
    out-degrees of each class are Binomial(800, p) and the in-degrees Binomial(300, 0.05)
    + Binomial(300, 0.15), which has mean 60 and variance 52.5 (checked by a normal chi^2
    bin test: p-values above 0.001 at a fixed seed)."""
    net = sim.Network(seed=5)
    a = net.population(LIF(), n=600)
    b = net.population(LIF(), n=800)
    proj = net.connect(a, b, rule=sim.PairwiseBernoulli(p="0.05 + 0.1*(i % 2)"), weight=1 * pA)
    out = np.bincount(proj.pre_ids, minlength=600)
    assert degree_chi2(out[0::2], 800, 0.05) > 1e-3
    assert degree_chi2(out[1::2], 800, 0.15) > 1e-3
    into = np.bincount(proj.post_ids, minlength=800)
    assert into.mean() == pytest.approx(60.0, abs=4 * np.sqrt(52.5 / 800))
    assert into.var() == pytest.approx(52.5, rel=4 * np.sqrt(2 / 800))


def test_constant_expression_gives_binomial_degrees_and_conditions_hold():
    net = sim.Network(seed=6)
    pop = net.population(LIF(), n=500)
    proj = net.connect(pop, pop, rule=sim.PairwiseBernoulli(0.1, condition="i != j"), weight=1 * pA)
    pre, post = proj.pre_ids, proj.post_ids
    assert not np.any(pre == post)
    assert degree_chi2(np.bincount(post, minlength=500), 499, 0.1) > 1e-3
    assert degree_chi2(np.bincount(pre, minlength=500), 499, 0.1) > 1e-3
    ordered = net.connect(pop, pop, rule=sim.PairwiseBernoulli(0.2, condition="i < j"))
    assert np.all(ordered.pre_ids < ordered.post_ids) and len(ordered) > 0


def test_connection_probability_against_distance_matches_the_expression():
    """A periodic 2-D sheet of 50 x 50 neurons, p = 0.8 exp(-d^2/(2 s^2)), s = 0.1: in each
    distance bin the fraction of connected pairs equals the mean of p over the bin's pairs
    within 4 binomial standard errors, and nothing connects where p is 0 (condition
    d < 0.3)."""
    net = sim.Network(seed=7)
    sheet = net.population(LIF(), positions=sim.grid((50, 50), spacing=0.02, periodic=True))
    rule = sim.PairwiseBernoulli(p=sim.expr("p0*exp(-d**2/(2*s**2))", p0=0.8, s=0.1),
                                 condition="d < 0.3 and i != j")  # fmt: skip
    proj = net.connect(sheet, sheet, rule=rule, weight=1 * pA)
    pos = sheet.positions

    def dist(a, b):
        delta = pos[b] - pos[a]
        delta -= np.round(delta)  # the box is 1 x 1
        return np.sqrt((delta**2).sum(axis=-1))

    connected = dist(proj.pre_ids, proj.post_ids)
    assert connected.max() < 0.3
    # all pairs from a sample of 200 sources
    src = np.arange(0, sheet.n, 12)
    pre, post = np.repeat(src, sheet.n), np.tile(np.arange(sheet.n), len(src))
    keep = pre != post
    pre, post = pre[keep], post[keep]
    d = dist(pre, post)
    made = set(zip(proj.pre_ids.tolist(), proj.post_ids.tolist()))
    hit = np.array([(a, b) in made for a, b in zip(pre.tolist(), post.tolist())])
    edges = np.linspace(0.0, 0.3, 7)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (d >= lo) & (d < hi)
        p = 0.8 * np.exp(-(d[sel] ** 2) / (2 * 0.1**2))
        n = sel.sum()
        se = np.sqrt((p * (1 - p)).sum()) / n
        assert hit[sel].mean() == pytest.approx(p.mean(), abs=4 * se + 1e-12), (lo, hi)
    assert not hit[d >= 0.3].any()


def test_weights_delays_and_initial_values_as_expressions():
    net = sim.Network(dt=0.1 * ms, seed=8)
    line = net.population(LIF(), positions=np.linspace(0, 1, 30)[:, None],
                          v=sim.expr("-70e-3 + 10e-3*x"))  # fmt: skip
    np.testing.assert_allclose(line.get("v"), -70e-3 + 10e-3 * np.linspace(0, 1, 30))
    proj = net.connect(
        line, line, rule=sim.AllToAll(allow_autapses=False),
        weight=sim.expr("w0*exp(-d/lam)", w0=100 * pA, lam=0.25),
        delay=sim.expr("d0 + d/v", d0=0.5 * ms, v=500.0), round_delays=True,
    )  # fmt: skip
    d = np.abs(line.positions[proj.post_ids, 0] - line.positions[proj.pre_ids, 0])
    np.testing.assert_allclose(proj.weights, 100e-12 * np.exp(-d / 0.25), rtol=1e-6)
    steps = np.floor((0.5e-3 + d / 500.0) / 1e-4 + 0.5)
    np.testing.assert_allclose(proj.delays, steps * 1e-4, rtol=1e-12)
    proj.weights = sim.expr("1e-12*(i + j)")
    np.testing.assert_allclose(proj.weights, 1e-12 * (proj.pre_ids + proj.post_ids), rtol=1e-6)


def test_random_positions_are_keyed_and_fill_the_box():
    a = sim.Network(seed=3).population(LIF(), n=2000, positions=sim.random_positions((2.0, 1.0)))
    b = sim.Network(seed=3).population(LIF(), n=2000, positions=sim.random_positions((2.0, 1.0)))
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.positions.shape == (2000, 2)
    assert 0 <= a.positions[:, 0].min() and a.positions[:, 0].max() < 2.0
    assert a.positions[:, 0].mean() == pytest.approx(1.0, abs=4 * 2 / np.sqrt(12 * 2000))
    assert stats.kstest(a.positions[:, 1], "uniform").pvalue > 1e-3


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda net, pop: net.connect(pop, pop, rule=sim.PairwiseBernoulli("1.5 - i/100")),
         r"is 1\.5 for the pair \(i=0"),
        (lambda net, pop: sim.PairwiseBernoulli(0.1, condition="i + j"), "is not a condition"),
        (lambda net, pop: sim.PairwiseBernoulli("q*2"), "unknown symbol 'q'"),
        (lambda net, pop: sim.PairwiseBernoulli("rand()"), "not allowed"),
        (lambda net, pop: net.connect(pop, pop, rule=sim.PairwiseBernoulli("exp(-d)")),
         "has no positions"),
        (lambda net, pop: net.population(LIF(), n=10, positions=np.zeros((9, 2))),
         r"shape \(10, d\)"),
        (lambda net, pop: net.population(LIF(), n=10, positions=np.zeros((10, 4))),
         r"shape \(10, d\)"),
        (lambda net, pop: net.population(LIF(), n=10, positions=sim.grid((3, 3))),
         "9 points for 10 neurons"),
        (lambda net, pop: net.connect(
            net.population(LIF(), positions=sim.grid((3, 3), periodic=True)),
            net.population(LIF(), positions=sim.grid((3, 3))),
            rule=sim.PairwiseBernoulli("exp(-d)")), "do not share one periodic space"),
        (lambda net, pop: net.connect(
            net.population(LIF(), positions=sim.grid((3, 3))),
            net.population(LIF(), positions=sim.grid((3, 3))),
            rule=sim.PairwiseBernoulli("exp(-dz)")), "2 dimension"),
        (lambda net, pop: sim.expr("a*d", i=1.0), "cannot name a constant"),
    ],
)  # fmt: skip
def test_bad_expressions_and_positions_fail_clearly(make, message):
    net = sim.Network(seed=1)
    pop = net.population(LIF(), n=100)
    with pytest.raises((ValueError, TypeError), match=message):
        make(net, pop)


def test_a_pairwise_rule_is_the_same_for_any_view_order_and_rank_split():
    """Draws are keyed by (projection, target, source) in population indices: building
    onto the targets of two halves (as two MPI ranks do) gives the whole projection's
    rows; the threads and MPI tests run it too (engine_cases.rules)."""
    from axonforge.connectivity import Layout

    net = sim.Network(seed=2)
    pop = net.population(LIF(), n=300, positions=sim.random_positions((1.0, 1.0), periodic=True))
    rule = sim.PairwiseBernoulli(sim.expr("exp(-d/0.2)"), condition="i != j")
    rule.prepare(pop, pop.ids, pop, pop.ids)
    rows = []
    for owned in (None, (0, 152), (152, 300)):
        lay = Layout(pop, pop.ids, pop, pop.ids, False, 2, 99, owned)
        ptr = rule.rows(lay)
        off = np.zeros(ptr[-1], np.int64)
        rule.fill(lay, ptr, off, 0)
        rows.append([off[ptr[k] : ptr[k + 1]] for k in range(300)])
    whole, first, second = rows
    for k in range(300):
        np.testing.assert_array_equal(whole[k], np.concatenate([first[k], second[k]]))


def test_where_gives_nearest_neighbours_on_a_line():
    net = sim.Network(seed=4)
    pop = net.population(LIF(), positions=sim.grid((10,), spacing=1.0))
    proj = net.connect(pop, pop, rule=sim.PairwiseBernoulli("where(d <= 1.0, 1.0, 0.0)"),
                       weight=1 * pA)  # fmt: skip
    assert len(proj) == 10 + 2 * 9  # itself and both neighbours


def test_positions_are_saved_and_loaded(tmp_path):
    net = sim.Network(seed=9)
    pop = net.population(LIF(), positions=sim.grid((4, 5), spacing=0.1, periodic=True))
    net.save(tmp_path / "net.h5")
    back = sim.load(tmp_path / "net.h5").populations[pop.name]
    np.testing.assert_array_equal(back.positions, pop.positions)
    np.testing.assert_array_equal(back.extent, pop.extent)


LAYOUTS = {
    "2-D periodic": sim.random_positions((1.0, 1.0), periodic=True),
    "2-D": sim.random_positions((1.0, 0.7)),
    "1-D periodic": sim.random_positions((1.0,), periodic=True),
    "3-D periodic": sim.random_positions((0.5, 0.5, 0.5), periodic=True),
    "3-D grid": sim.grid((9, 10, 11), spacing=0.05),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_a_radius_gives_the_synapses_of_the_rule_without_it_where_p_is_zero_beyond(layout):
    """A cut-off visits only the sources in the cells around each target (and runs the
    pair loop target by target instead of source by source), yet the draws are keyed
    by (target, source): with ``p`` zero beyond the radius the rows are those of the
    rule that evaluates every pair."""
    n = 990 if isinstance(layout, sim.grid) else 1500
    r = 0.12
    p = sim.expr("0.6*exp(-d**2/(2*s**2))", s=0.05)
    rows = []
    for rule in (
        sim.PairwiseBernoulli(p, condition=sim.expr("d*d <= r*r and i != j", r=r)),
        sim.PairwiseBernoulli(p, condition="i != j", radius=r),
        sim.PairwiseBernoulli(p, radius=r, allow_autapses=False),
    ):
        net = sim.Network(seed=11)
        pop = net.population(LIF(), n=n, positions=layout)
        proj = net.connect(pop, pop, rule=rule, weight=1 * pA)
        rows.append((proj.ptr, proj.off))
    assert rows[0][1].size > 5 * n
    for ptr, off in rows[1:]:
        np.testing.assert_array_equal(ptr, rows[0][0])
        np.testing.assert_array_equal(off, rows[0][1])


def test_a_radius_keeps_the_rule_independent_of_the_rank_split_and_of_views():
    """With a cut-off, building onto the targets of two halves (as two MPI ranks do)
    gives the whole projection's rows; with and without one, a projection between
    shuffled views holds exactly the whole population's synapses among those neurons
    (draws keyed by population indices), in ascending target order."""
    from axonforge.connectivity import Layout

    def build(radius, pre=None, post=None):
        net = sim.Network(seed=3)
        sheet = sim.random_positions((1.0, 1.0), periodic=True)
        pop = net.population(LIF(), n=800, positions=sheet)
        rule = sim.PairwiseBernoulli(sim.expr("exp(-d/0.05)"), condition="i != j", radius=radius)
        a, b = (pop, pop) if pre is None else (pop[pre], pop[post])
        return pop, rule, net.connect(a, b, rule=rule, weight=1 * pA)

    pop, rule, proj = build(0.15)
    rows = []
    for owned in (None, (0, 397), (397, 800)):
        lay = Layout(pop, pop.ids, pop, pop.ids, False, 3, proj.stream, owned)
        ptr = rule.rows(lay)
        off = np.zeros(ptr[-1], np.int64)
        rule.fill(lay, ptr, off, 0)
        rows.append([off[ptr[k] : ptr[k + 1]] for k in range(800)])
    for k in range(800):
        np.testing.assert_array_equal(rows[0][k], proj.post_ids[proj.ptr[k] : proj.ptr[k + 1]])
        np.testing.assert_array_equal(rows[0][k], np.concatenate([rows[1][k], rows[2][k]]))
    rng = np.random.default_rng(0)
    pre, post = rng.permutation(800)[:500], rng.permutation(800)[:600]
    for radius in (0.15, None):
        whole = build(radius)[2]
        sub = build(radius, pre, post)[2]
        keep = np.isin(whole.pre_ids, pre) & np.isin(whole.post_ids, post)
        expected = set(zip(whole.pre_ids[keep].tolist(), whole.post_ids[keep].tolist()))
        got = zip(pre[sub.pre_ids].tolist(), post[sub.post_ids].tolist())  # view -> population
        assert set(got) == expected
        assert len(sub) == keep.sum() > 0
        for k in range(800):  # rows in ascending target (population) order
            assert np.all(np.diff(sub.off[sub.ptr[k] : sub.ptr[k + 1]]) > 0)


def test_a_radius_needs_positions_and_a_positive_distance():
    net = sim.Network(seed=1)
    pop = net.population(LIF(), n=20)
    with pytest.raises(ValueError, match="has no positions"):
        net.connect(pop, pop, rule=sim.PairwiseBernoulli(0.5, radius=0.1))
    for bad in (0.0, -1.0, float("inf"), "0.1", True):
        with pytest.raises(ValueError, match="cut-off distance"):
            sim.PairwiseBernoulli(0.5, radius=bad)
    rule = sim.PairwiseBernoulli(0.5, radius=0.25)
    assert rule.describe()["radius"] == 0.25


def test_cells_hold_every_neighbour_within_the_radius():
    """axonforge.space.cells and source_runs: the cells around a point's own (2 split +
    1 along each axis, wrapped where periodic, trimmed to the sphere) hold every point
    within the radius, for points at cell borders, at the box's edges and outside the
    points' range."""
    from axonforge.expressions import source_runs
    from axonforge.space import cells, wrapped

    rng = np.random.default_rng(1)
    for extent, radius in ((np.array([1.0, 1.0]), 0.1), (None, 0.07), (np.array([0.6]), 0.05),
                           (np.array([0.4, 0.5, 0.3]), 0.06), (None, 0.3)):  # fmt: skip
        d = 2 if extent is None else len(extent)
        pos = rng.random((3000, d)) * (1.0 if extent is None else extent)
        pos[:50] = np.round(pos[:50] / (radius / 2)) * (radius / 2)  # on cell borders
        if extent is not None:
            pos[50:60] = extent * (1 - 1e-17)
            pos = wrapped(pos, extent)
        split = 2 if extent is None else 3
        order, grid_n, grid_f, start = cells(pos, extent, radius, split)
        runs = np.zeros(4 * (2 * split + 1) ** 2 + 4, np.int64)
        probes = np.concatenate([pos[:300], rng.random((50, d)) * 1.5 - 0.25])
        for t in probes:
            t = wrapped(t, extent) if extent is not None else t
            delta = pos - t
            if extent is not None:
                delta -= extent * np.round(delta / extent)
            near = set(np.flatnonzero((delta**2).sum(axis=1) <= radius**2).tolist())
            t3 = np.concatenate([np.zeros(3 - d), t])
            k = source_runs(t3[0], t3[1], t3[2], grid_n, grid_f, start, runs)
            seen = [order[runs[2 * q] : runs[2 * q + 1]] for q in range(k)]
            seen = np.concatenate([*seen, np.zeros(0, np.int64)])
            assert len(seen) == len(set(seen.tolist()))  # no cell twice
            assert near <= set(seen.tolist())


def test_the_exp_of_rules_is_within_an_ulp_of_the_library():
    """rule_exp (fused multiply-adds, branch-free) against NumPy's exp; NaN stays NaN (a
    probability that is NaN must fail, not pass as a number)."""
    from numba import njit

    from axonforge.expressions import rule_exp

    @njit
    def apply(x):
        out = np.empty_like(x)
        for k in range(x.shape[0]):
            out[k] = rule_exp(x[k])
        return out

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708, 709, 200_000), rng.uniform(-30, 1, 100_000),
                        [0.0, -1e-300, 1.0, 709.0, -708.0]])  # fmt: skip
    np.testing.assert_allclose(apply(x), np.exp(x), rtol=2.3e-16)
    assert apply(np.array([0.0]))[0] == 1.0
    assert np.isnan(apply(np.array([np.nan]))[0])


@pytest.mark.parametrize("periodic", [True, False])
def test_signed_displacements_and_positions_are_the_same_in_both_loop_orders(periodic):
    """Without a radius the kernel runs source by source, with one target by target:
    the symbols of either side (i, j, x_pre, y_post, signed dx, dy) mean the same in
    both, and the synapses satisfy the condition as NumPy computes it."""
    p = sim.expr("0.5*exp(-d**2/(2*s**2))*(1 + x_pre - y_post)/3 + 0*(i + j)", s=0.05)
    cond = "dx > 0 and dy < 0.5*dx and i != j"
    rows = []
    for rule in (
        sim.PairwiseBernoulli(p, condition=cond + " and d*d <= 0.0144"),
        sim.PairwiseBernoulli(p, condition=cond, radius=0.12),
    ):
        net = sim.Network(seed=12)
        layout = sim.random_positions((1.0, 1.0), periodic=periodic)
        pop = net.population(LIF(), n=1500, positions=layout)
        proj = net.connect(pop, pop, rule=rule, weight=1 * pA)
        rows.append((proj.ptr, proj.off))
    np.testing.assert_array_equal(rows[0][0], rows[1][0])
    np.testing.assert_array_equal(rows[0][1], rows[1][1])
    delta = pop.positions[proj.post_ids] - pop.positions[proj.pre_ids]
    if periodic:
        delta -= np.round(delta)
    assert len(proj) > 1000
    assert np.all(delta[:, 0] > 0) and np.all(delta[:, 1] < 0.5 * delta[:, 0])
    assert np.all((delta**2).sum(axis=1) <= 0.0144 * (1 + 1e-12))
