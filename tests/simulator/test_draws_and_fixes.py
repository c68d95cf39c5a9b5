"""Issue 9: keyed random draws, monitor rates through the CLI, linear port statements,
the float32 range of weights."""

import re

import numpy as np
import pytest
from scipy import stats

import axonforge as sim
from axonforge import cli, draws, projection
from axonforge.models import LIF, NeuronModel, NeuronSpec, PoissonSource
from axonforge.rng import normal as rng_normal
from axonforge.rng import uniform as rng_uniform
from axonforge.units import Hz, ms, mV, pA

DT = 0.1 * ms


def _lif_net(n=4000, seed=1, **initial):
    net = sim.Network(dt=DT, seed=seed)
    pop = net.population(LIF(), n=n, name="all", **initial)
    return net, pop


# ------------------------------------------------------------- 1. keyed draws: the hash
def test_vectorised_draws_compute_the_kernels_hash():
    """Call 0 of an element without occurrence is exactly rng.uniform / rng.normal of its
    index under the draw key, as the kernels compute them."""
    key = np.uint64(draws.draw_key(7, draws.SET, 3, 2, 11))  # typed as the kernels type it
    idx = np.array([0, 1, 5, 1000, 2**40, 2**62 - 1])
    kd = draws.KeyedDraws(key, idx)
    assert np.array_equal(kd.random(), [rng_uniform(key, int(i)) for i in idx])
    kd = draws.KeyedDraws(key, idx)
    assert np.array_equal(kd.standard_normal(), [rng_normal(key, int(i)) for i in idx])
    # every coordinate of the key matters
    keys = {
        int(draws.draw_key(*c, 0))
        for c in [(7, 2, 3, 2), (8, 2, 3, 2), (7, 3, 3, 2), (7, 2, 4, 2), (7, 2, 3, 3)]
    }
    assert len(keys) == 5 and int(draws.draw_key(7, 2, 3, 2, 1)) not in keys


def test_further_calls_and_occurrences_are_independent_and_selectable():
    key = draws.draw_key(1, draws.WEIGHT, 5, 0, 0)
    idx = np.arange(10_000)
    kd = draws.KeyedDraws(key, idx)
    a, b = kd.random(), kd.random()
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(len(idx))
    occ1 = draws.KeyedDraws(key, idx, np.ones(len(idx), np.int64)).random()
    assert abs(np.corrcoef(a, occ1)[0, 1]) < 4 / np.sqrt(len(idx))
    # a selection sees the values the elements have in the whole draw
    kd = draws.KeyedDraws(key, idx)
    kd.random()
    sel = kd.select(np.array([3, 70, 9000])).random()
    assert np.array_equal(sel, b[[3, 70, 9000]])


# ------------------------------------------------------------- 1. keyed draws: symptoms
def test_two_projections_in_one_step_get_different_weights():
    net, pop = _lif_net(1000)
    a = net.connect(pop, pop, rule=sim.FixedInDegree(20), weight=1 * pA)
    b = net.connect(pop, pop, rule=sim.FixedInDegree(20), weight=1 * pA)
    a.weights = sim.uniform(1 * pA, 5 * pA)
    b.weights = sim.uniform(1 * pA, 5 * pA)
    assert not np.allclose(a.weights, b.weights, atol=0)
    assert abs(np.corrcoef(a.weights, b.weights)[0, 1]) < 4 / np.sqrt(len(a))


def test_two_views_of_one_population_get_different_values():
    net, pop = _lif_net()
    exc, inh = pop[:3200], pop[3200:]
    exc.set(v=sim.uniform(-60 * mV, -50 * mV))
    inh.set(v=sim.uniform(-60 * mV, -50 * mV))
    v = pop.v
    assert not np.allclose(v[3200:], v[:800], atol=0)
    assert abs(np.corrcoef(v[3200:], v[:800])[0, 1]) < 4 / np.sqrt(800)


def test_repeated_set_and_weights_calls_never_repeat():
    net, pop = _lif_net(500)
    pop.set(v=sim.uniform(-60 * mV, -50 * mV))
    first = pop.v
    pop.set(v=sim.uniform(-60 * mV, -50 * mV))
    assert not np.any(first == pop.v)
    proj = net.connect(pop, pop, rule=sim.FixedInDegree(10), weight=sim.uniform(1 * pA, 2 * pA))
    w0 = proj.weights
    proj.weights = sim.uniform(1 * pA, 2 * pA)
    w1 = proj.weights
    proj.weights = sim.uniform(1 * pA, 2 * pA)
    assert not np.any(w0 == w1) and not np.any(w1 == proj.weights)


def test_values_are_keyed_by_population_index_not_view_index():
    """A view gets the values its neurons get when the whole population is set, and the
    initial values do not depend on the population's size."""
    _, whole = _lif_net(100)
    _, part = _lif_net(100)
    whole.set(v=sim.normal(-55 * mV, 2 * mV))
    part[40:60].set(v=sim.normal(-55 * mV, 2 * mV))
    assert np.array_equal(part.v[40:60], whole.v[40:60])
    _, small = _lif_net(50, v=sim.uniform(-60 * mV, -50 * mV))
    _, large = _lif_net(5000, v=sim.uniform(-60 * mV, -50 * mV))
    assert np.array_equal(small.v, large.v[:50])


def _by_synapse(proj, post_ids=None):
    """{(pre, post, occurrence): (weight, delay)} of a projection (``post_ids``: the
    population indices of its post view)."""
    out = {}
    post = proj.post_ids if post_ids is None else np.asarray(post_ids)[proj.post_ids]
    for i, j, w, d in zip(proj.pre_ids, post, proj.weights, proj.delays):
        k = 0
        while (i, j, k) in out:
            k += 1
        out[(i, j, k)] = (w, d)
    return out


@pytest.mark.parametrize(
    "rule",
    [sim.FixedProbability(0.1), sim.FixedInDegree(30), sim.AllToAll()],
    ids=["prob", "indegree-multapses", "all"],
)
def test_a_subset_of_targets_gets_the_values_of_the_full_build(rule):
    """As when ranks or threads build only their own targets: same synapses, same values,
    multapses told apart by their occurrence."""
    values = dict(
        weight=sim.normal(3 * pA, 1 * pA, low=0.0),
        delay=sim.uniform(0.1 * ms, 3 * ms),
        round_delays=True,
    )
    net, pop = _lif_net(60)
    full = _by_synapse(net.connect(pop[:20], pop, rule=rule, **values))
    net2, pop2 = _lif_net(60)
    targets = [5, 17, 33, 59]
    part = _by_synapse(net2.connect(pop2[:20], pop2[targets], rule=rule, **values), targets)
    assert part
    assert all(full[k] == v for k, v in part.items())
    if isinstance(rule, sim.FixedInDegree):
        assert any(k[2] > 0 for k in full)  # multapses occurred and got their own values
        w = {k: v[0] for k, v in full.items()}
        assert all(w[k] != w[(k[0], k[1], 0)] for k in w if k[2] > 0)


def test_blocks_and_explicit_order_do_not_change_values(monkeypatch):
    """Building in smaller blocks, or from the same pairs listed in another order by an
    Explicit rule, gives every synapse the same values."""
    values = dict(weight=sim.uniform(1 * pA, 5 * pA), delay=sim.exponential(1 * ms))
    net, pop = _lif_net(300)
    ref = net.connect(pop, pop, rule=sim.FixedInDegree(40), round_delays=True, **values)
    monkeypatch.setattr(projection, "_block", lambda m: 1000)
    net2, pop2 = _lif_net(300)
    small = net2.connect(pop2, pop2, rule=sim.FixedInDegree(40), round_delays=True, **values)
    assert np.array_equal(small.weights, ref.weights)
    assert np.array_equal(small.delays, ref.delays)
    order = np.random.default_rng(3).permutation(len(ref))
    net3, pop3 = _lif_net(300)
    rule = sim.Explicit(ref.pre_ids[order], ref.post_ids[order])
    expl = net3.connect(pop3, pop3, rule=rule, round_delays=True, **values)
    assert _by_synapse(expl) == _by_synapse(ref)


# ------------------------------------------------------------- 1. keyed draws: statistics
N = 40_000


def _sample(dist, seed=5):
    """Values of a distribution for N neurons (initial values of a population)."""
    key = draws.draw_key(seed, draws.INIT, 1, 0, 0)
    return dist.sample(draws.KeyedDraws(key, np.arange(N)), N)


def _check_moments(x, mean, std):
    """Sample mean and std within 4 standard errors (SE of the std by the delta method,
    from the sample's fourth central moment): a false alarm has probability ~1e-4."""
    n = len(x)
    assert abs(x.mean() - mean) < 4 * std / np.sqrt(n)
    m4 = np.mean((x - x.mean()) ** 4)
    se_std = np.sqrt(max(m4 - std**4, 0.0) / (4 * std**2 * n))
    assert abs(x.std() - std) < 4 * se_std


def test_uniform_statistics():
    x = _sample(sim.uniform(-60 * mV, -50 * mV))
    assert x.min() >= -60 * mV and x.max() < -50 * mV
    _check_moments(x, -55 * mV, 10 * mV / np.sqrt(12))
    # a test at level 0.001 of a correct generator fails with probability 0.001
    assert stats.kstest(x, "uniform", args=(-60 * mV, 10 * mV)).pvalue > 1e-3


def test_normal_statistics():
    x = _sample(sim.normal(3.0, 2.0))
    _check_moments(x, 3.0, 2.0)
    assert stats.kstest(x, "norm", args=(3.0, 2.0)).pvalue > 1e-3


def test_truncated_normal_redraws_keep_the_truncated_law():
    """Redraws (never clipping): the law of a normal truncated to [low, high]."""
    low, high = 1.0, 4.0
    x = _sample(sim.normal(3.0, 2.0, low=low, high=high))
    assert x.min() >= low and x.max() <= high
    assert not np.any(x == low) and not np.any(x == high)
    law = stats.truncnorm((low - 3.0) / 2.0, (high - 3.0) / 2.0, loc=3.0, scale=2.0)
    _check_moments(x, law.mean(), law.std())
    assert stats.kstest(x, law.cdf).pvalue > 1e-3


def test_lognormal_and_exponential_statistics():
    x = _sample(sim.lognormal(5.0, 3.0))
    assert x.min() > 0
    _check_moments(x, 5.0, 3.0)
    s2 = np.log1p((3.0 / 5.0) ** 2)
    assert stats.kstest(x, "lognorm", args=(np.sqrt(s2), 0, 5.0 * np.exp(-s2 / 2))).pvalue > 1e-3
    y = _sample(sim.exponential(2.0))
    assert y.min() >= 0
    _check_moments(y, 2.0, 2.0)
    assert stats.kstest(y, "expon", args=(0, 2.0)).pvalue > 1e-3


def test_weights_of_a_projection_follow_the_distribution():
    net, pop = _lif_net(2000)
    proj = net.connect(pop, pop, rule=sim.FixedInDegree(20), weight=sim.normal(5 * pA, 1 * pA))
    w = proj.weights
    _check_moments(w, 5 * pA, 1 * pA)
    # weights are stored as float32: compare in that resolution
    assert stats.kstest(w / pA, "norm", args=(5.0, 1.0)).pvalue > 1e-3


def test_poisson_rates_set_on_views_differ():
    net = sim.Network(dt=DT, seed=2)
    src = net.population(PoissonSource(rate=10 * Hz), n=200)
    src[:100].set(rate=sim.uniform(5 * Hz, 15 * Hz))
    src[100:].set(rate=sim.uniform(5 * Hz, 15 * Hz))
    r = src.get("rate")
    assert not np.allclose(r[:100], r[100:])


# --------------------------------------------------------------- 2. rates through the CLI
def test_cli_rate_of_a_monitor_created_after_t0(tmp_path, capsys):
    """A network that ran 1 s, then got a monitor and ran 0.5 s more, saved: ``axonforge
    run`` for 0.5 s prints the rate over the 1 s the monitor recorded."""
    net = sim.Network(dt=DT, seed=3)
    src = net.population(PoissonSource(rate=50 * Hz), n=200, name="src")
    net.run(1.0)
    mon = net.spike_monitor(src, name="late")
    net.run(0.5)
    assert mon.start_step == 10_000
    before = mon.num_spikes
    path = tmp_path / "net.h5"
    net.save(path)
    loaded = sim.load(path)
    assert loaded.monitors["late"].start_step == 10_000
    assert loaded.monitors["late"].mean_rate() == pytest.approx(before / (200 * 0.5))
    capsys.readouterr()
    out = tmp_path / "out"
    code = cli.main(["run", str(path), "--duration", "0.5", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert code == 0
    found = re.search(r"late: (\d+) spikes, mean rate ([\d.]+) Hz over 200 neurons", text)
    assert found, text
    spikes, rate = int(found[1]), float(found[2])
    assert spikes > before
    assert rate == pytest.approx(spikes / (200 * 1.0), abs=0.006)
    assert 45 < rate < 55  # not diluted by the 1 s before the monitor existed


# --------------------------------------------------------- 3. port statements are linear
def _spec(port):
    return NeuronSpec(
        name="Lin",
        parameters={"tau": (10e-3, "s", ""), "a": (2.0, "", ""), "c": (3.0, "", "")},
        state={"v": (0.0, "V", ""), "g": (0.0, "S", "")},
        equations=("dv/dt = -v/tau", "dg/dt = -g/tau"),
        ports={"exc": port},
    )


@pytest.mark.parametrize(
    "port",
    [
        "v += w_in",
        "v += a*w_in",
        "v += w_in/c",
        "v += (a + exp(c))*w_in",
        "v -= w_in*a/c",
        "v = v + w_in*a",
        "v = w_in + v",
        "v = w_in*a",  # sets v to the step's summed input (graded input, e.g. a current)
        "v = v - w_in",
        "g += -w_in",
        "g += w_in*exp(a) + 2*w_in",
    ],
)
def test_linear_port_statements_are_accepted(port):
    sim.check_spec(_spec(port))


@pytest.mark.parametrize(
    "port",
    [
        "v += w_in**2",
        "v += w_in*w_in",
        "v = exp(w_in)",
        "v += exp(w_in)",
        "v += w_in + 1",
        "v += a/w_in",
        "v *= w_in",
        "v /= 1 + w_in",
        "v = g + w_in",
        "v = w_in - v",
        "v += abs(w_in)",
        "v += w_in if a > 0 else 0",
    ],
)
def test_nonlinear_port_statements_are_rejected(port):
    with pytest.raises(sim.SpecError) as err:
        sim.check_spec(_spec(port))
    msg = str(err.value)
    assert "'Lin'" in msg and "'exc'" in msg and port in msg
    assert "port statements must be linear in w_in, e.g. v += w_in or g += w_in*scale" in msg


# ------------------------------------------------------------ 4. weights within float32
class Plain(NeuronModel):
    """A port without a sign rule."""

    spec = NeuronSpec(
        name="Plain",
        parameters={"tau": (10e-3, "s", "")},
        state={"v": (0.0, "V", "")},
        equations=("dv/dt = -v/tau",),
        ports={"exc": "v += w_in"},
    )


BIG = 1e39  # beyond float32's 3.4e38, fine as a float64


def _plain():
    net = sim.Network(dt=DT, seed=1)
    pop = net.population(Plain(strict_units=False), n=20, name="p")
    return net, pop


def _bad(n, k, value):
    w = np.full(n, 1e-3)
    w[k] = value
    return w


@pytest.mark.parametrize(
    "weight, where",
    [
        (BIG, "all synapses"),
        (-BIG, "all synapses"),
        (lambda n: _bad(n, 7, BIG), "synapse 7"),
        (lambda n: _bad(n, 3, -BIG), "synapse 3"),
        (sim.uniform(BIG, 2 * BIG), "synapse 0"),
    ],
    ids=["scalar", "negative-scalar", "array", "negative-array", "distribution"],
)
def test_connect_rejects_weights_beyond_float32(weight, where):
    net, pop = _plain()
    weight = weight(20 * 19) if callable(weight) else weight
    with pytest.raises(ValueError) as err:
        net.connect(pop, pop, rule=sim.AllToAll(allow_autapses=False), weight=weight)
    msg = str(err.value)
    assert "connect 'proj0'" in msg and where in msg and "float32" in msg


@pytest.mark.parametrize(
    "weight, where",
    [
        (lambda n: _bad(n, 4, BIG), "pair 4"),
        (BIG, "all synapses"),
        (sim.normal(BIG, 1e37), "synapse 0"),
    ],
    ids=["array", "scalar", "distribution"],
)
def test_explicit_rejects_weights_beyond_float32(weight, where):
    net, pop = _plain()
    rule = sim.Explicit([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6])
    weight = weight(6) if callable(weight) else weight
    with pytest.raises(ValueError) as err:
        net.connect(pop, pop, rule=rule, weight=weight)
    msg = str(err.value)
    assert "connect 'proj0'" in msg and where in msg and "float32" in msg


@pytest.mark.parametrize(
    "value, where",
    [
        (BIG, "synapse 0"),
        (lambda n: _bad(n, 5, -BIG), "synapse 5"),
        (sim.uniform(BIG, 2 * BIG), "synapse 0"),
    ],
    ids=["scalar", "array", "distribution"],
)
def test_weights_setter_rejects_values_beyond_float32(value, where):
    net, pop = _plain()
    proj = net.connect(pop, pop, rule=sim.FixedInDegree(3), weight=1e-3)
    value = value(len(proj)) if callable(value) else value
    with pytest.raises(ValueError) as err:
        proj.weights = value
    msg = str(err.value)
    assert "projection 'proj0'" in msg and where in msg and "float32" in msg
    assert np.all(proj.weights == np.float32(1e-3))  # unchanged


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected_on_every_path(bad):
    net, pop = _plain()
    with pytest.raises(ValueError, match="connect 'proj0'.*not finite"):
        net.connect(pop, pop, rule=sim.OneToOne(), weight=bad)
    with pytest.raises(ValueError, match="connect 'proj0'.*value 2 is not finite"):
        net.connect(pop, pop, rule=sim.OneToOne(), weight=_bad(20, 2, bad))
    with pytest.raises(ValueError, match="connect 'proj0'.*value 1 is not finite"):
        net.connect(pop, pop, rule=sim.Explicit([0, 1], [1, 2]), weight=_bad(2, 1, bad))
    proj = net.connect(pop, pop, rule=sim.OneToOne(), weight=1e-3)
    with pytest.raises(ValueError, match="projection 'proj0'.*not finite"):
        proj.weights = bad
    with pytest.raises(ValueError, match="projection 'proj0'.*value 3 is not finite"):
        proj.weights = _bad(20, 3, bad)
