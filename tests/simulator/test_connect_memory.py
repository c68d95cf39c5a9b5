"""Building connections: peak memory below 2x what stays stored, the estimate made before
building, the MemoryError that comes instead of a doomed build, delay rounding counts and
seeded realisations.

Peaks are measured with ``tracemalloc`` (allocations through Python, which is how the
build allocates every large array; Numba's own small temporaries are not seen), as the
peak during ``connect`` minus what was allocated before, divided by ``proj.nbytes``. Each
configuration is first built once at a tiny size so that compiling or loading the kernels
(which allocates Python objects) is not counted. Networks have ~10^6 synapses.
"""

import functools
import tracemalloc

import numpy as np
import pytest

import axonforge as sim
from axonforge import memory
from axonforge.models import LIF, STDP, TsodyksMarkram
from axonforge.units import ms, pA

DT = 0.1 * ms


class GridDelays(sim.Distribution):
    """Delays drawn on the time grid (1..30 steps): per-synapse delays that need no rounding."""

    def sample(self, rng, size):
        return rng.integers(1, 31, size) * DT


VALUES = {
    "scalar": dict(weight=5 * pA, delay=1.5 * ms),
    "uniform": dict(
        weight=sim.uniform(1 * pA, 5 * pA), delay=sim.uniform(0.1 * ms, 5 * ms), round_delays=True
    ),
    "normal": dict(
        weight=sim.normal(5 * pA, 2 * pA, low=0.0),
        delay=sim.normal(2 * ms, 1 * ms, low=0.0),
        round_delays=True,
    ),
    "lognormal": dict(
        weight=sim.lognormal(5 * pA, 3 * pA), delay=sim.lognormal(1 * ms, 1 * ms), round_delays=True
    ),
    "exponential": dict(
        weight=sim.exponential(2 * pA), delay=sim.exponential(1 * ms), round_delays=True
    ),
    "on-grid": dict(weight=sim.uniform(0.0, 5 * pA), delay=GridDelays()),
}


def _rules(n):
    """(rule, size of the population, pre/post selector) giving ~10^6 synapses."""
    g = np.random.default_rng(0)
    return {
        "all": (sim.AllToAll(allow_autapses=False), 1000, lambda p: (p, p)),
        "one": (sim.OneToOne(), 1_000_000, lambda p: (p[::2], p[1::2])),
        "prob-skip": (sim.FixedProbability(0.1), 3200, lambda p: (p, p)),
        "prob-pairs": (sim.FixedProbability(0.5, allow_autapses=False), 2000, lambda p: (p, p)),
        "in": (
            sim.FixedInDegree(400, allow_autapses=False, allow_multapses=False),
            2500,
            lambda p: (p, p),
        ),
        "out": (sim.FixedOutDegree(600), 4000, lambda p: (p[::2], p[1000:])),
        "explicit": (
            sim.Explicit(g.integers(0, 1000, n), g.integers(0, 900, n)),
            2000,
            lambda p: (p[500:1500], p[1000:1900]),
        ),
    }


@functools.cache
def _sides(which, n, seed=3):
    """A network and the pre/post of a rule's test (views of a million neurons are slow to
    make: build them once)."""
    net = sim.Network(dt=DT, seed=seed)
    pre, post = _rules(1)[which][2](net.population(LIF(), n=n))
    return net, pre, post


def _connect_traced(which, size=10**6, **kw):
    """Build ``which`` (see _rules) into its cached network; (projection, traced peak).
    The projection is taken out of the network again, so that memory does not pile up."""
    rule, n, _ = _rules(size)[which]
    net, pre, post = _sides(which, n)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        proj = net.connect(pre, post, rule=rule, **kw)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del net.projections[proj.name]
    return proj, peak


RULES = list(_rules(1))


@pytest.mark.parametrize("values", list(VALUES))
@pytest.mark.parametrize("which", RULES)
def test_peak_is_below_twice_what_is_stored(which, values):
    _connect_traced(which, **VALUES[values])  # compiles or loads the kernels first
    proj, peak = _connect_traced(which, **VALUES[values])
    assert len(proj) > 4 * 10**5
    assert peak / proj.nbytes < 2.0, f"peak {peak} for {proj.nbytes} stored"
    assert proj.delays.min() >= DT * (1 - 1e-9)


@pytest.mark.parametrize("rule", [sim.FixedProbability(6e-4), sim.FixedOutDegree(25)])
def test_peak_with_int64_offsets(rule):
    """40,000 targets and delays up to 6 s (60,000 steps): offsets need int64. (Delays
    of seconds are implausible for neurons, so the model opts out of the unit check.)"""
    net = sim.Network(dt=DT, seed=3)
    pop = net.population(LIF(strict_units=False), n=40_000)
    kw = dict(weight=sim.uniform(1 * pA, 2 * pA), delay=sim.uniform(0.1 * ms, 6000 * ms))
    for _ in range(2):  # the first compiles or loads the kernels
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        proj = net.connect(pop, pop, rule=rule, round_delays=True, **kw)
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    assert proj.off.dtype == np.int64 and proj.max_delay_steps > 50_000
    assert peak / proj.nbytes < 2.0
    np.testing.assert_array_equal(proj.targets, proj.off % 40_000)


@pytest.mark.parametrize("plastic", [False, True])
@pytest.mark.parametrize("which", RULES)
def test_estimate_is_within_ten_percent(which, plastic):
    rule, n, _ = _rules(10**6)[which]
    synapse = STDP(w_max=10 * pA) if plastic else None
    net, pre, post = _sides(which, n)
    net.projections.clear()
    kw = dict(weight=sim.uniform(1 * pA, 5 * pA), delay=sim.uniform(0.1 * ms, 5 * ms))
    est = net.estimate_connection(pre, post, rule=rule, synapse=synapse, **kw)
    assert not net.projections  # nothing was built
    proj = net.connect(pre, post, rule=rule, synapse=synapse, round_delays=True, **kw)
    net.projections.clear()
    assert len(proj) >= 10**5
    assert abs(est.stored_bytes / proj.nbytes - 1) < 0.1
    assert abs(est.synapses / len(proj) - 1) < 0.1
    assert est.peak_bytes >= est.stored_bytes
    assert "GiB" in str(est)


def test_estimate_of_a_rule_with_state_and_of_int64_offsets():
    net = sim.Network(dt=DT, seed=1)
    pop = net.population(LIF(strict_units=False), n=40_000)  # delays of seconds, on purpose
    for kw in (
        dict(rule=sim.FixedInDegree(5), synapse=TsodyksMarkram(), weight=1 * pA),
        dict(rule=sim.FixedInDegree(5), delay=sim.uniform(1 * ms, 6000 * ms), weight=1 * pA),
    ):
        est = net.estimate_connection(pop, pop, **kw)
        proj = net.connect(pop, pop, round_delays=True, **kw)
        assert abs(est.stored_bytes / proj.nbytes - 1) < 0.1
    assert proj.off.dtype == np.int64


def test_memory_error_before_anything_is_built(monkeypatch):
    net = sim.Network(dt=DT, seed=1)
    pop = net.population(LIF(), n=20_000)
    monkeypatch.setattr(memory, "available_memory", lambda: 50 * 2**20)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(MemoryError) as info:
            net.connect(pop, pop, rule=sim.FixedProbability(0.1), weight=1 * pA, name="big")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    msg = str(info.value)
    assert "connect 'big'" in msg and "40,000,000 synapses" in msg
    assert "GiB stored" in msg and "0.0488 GiB" in msg  # 50 MiB available
    assert "smaller p" in msg and "split the network" in msg
    assert peak < 2**20  # the 300 MiB network was never started
    assert "big" not in net.projections
    # builds below memory.CHECK_ABOVE (64 MiB) are not checked: reading the limits
    # would cost more than they do
    monkeypatch.setattr(memory, "available_memory", lambda: 0)
    small = net.connect(pop[:1000], pop[:1000], rule=sim.FixedProbability(0.1), weight=1 * pA)
    assert len(small) > 0


def test_available_memory_is_known_here():
    avail = memory.available_memory()
    assert avail is None or avail > 0


GIB = 2**30


@pytest.mark.parametrize(
    "files, expect",
    [
        ({}, 8 * GIB),  # no cgroup limit: MemAvailable
        (  # v2, the parent's limit binds: 3 GiB - 2 GiB used + 0.5 GiB reclaimable cache
            {
                "/proc/self/cgroup": "0::/jobs/me",
                "/sys/fs/cgroup/jobs/me/memory.max": "max",
                "/sys/fs/cgroup/jobs/me/memory.current": str(GIB),
                "/sys/fs/cgroup/jobs/memory.max": str(3 * GIB),
                "/sys/fs/cgroup/jobs/memory.current": str(2 * GIB),
                "/sys/fs/cgroup/jobs/memory.stat": f"anon 1\ninactive_file {GIB // 2}",
            },
            1.5 * GIB,
        ),
        (  # v1: 4 GiB limit on this process's group, 1 GiB used
            {
                "/proc/self/cgroup": "4:memory:/box\n0::/",
                "/sys/fs/cgroup/memory/box/memory.limit_in_bytes": str(4 * GIB),
                "/sys/fs/cgroup/memory/box/memory.usage_in_bytes": str(GIB),
            },
            3 * GIB,
        ),
    ],
)
def test_available_memory_reads_cgroup_limits(monkeypatch, files, expect):
    files = {"/proc/meminfo": f"MemTotal: 1\nMemAvailable: {8 * GIB // 1024} kB", **files}
    monkeypatch.setattr(memory, "_read", files.get)
    assert memory.available_memory() == expect


def test_round_delays_raises_delays_below_one_step():
    net = sim.Network(dt=DT, seed=2)
    pop = net.population(LIF(), n=300)
    p = net.connect(pop, pop, rule=sim.FixedInDegree(10), delay=0.86 * DT, round_delays=True)
    assert p.raised_delays == p.rounded_delays == 3000
    assert np.all(p.delay_steps == 1)
    q = net.connect(
        pop, pop, rule=sim.FixedInDegree(100), delay=sim.exponential(1 * ms), round_delays=True
    )
    assert q.delays.min() >= DT * (1 - 1e-9) and q.max_delay_steps > 30
    # P(exponential(1 ms) < 0.1 ms) = 1 - exp(-0.1) = 0.0952; 5 standard deviations
    expect = 30_000 * (1 - np.exp(-0.1))
    assert abs(q.raised_delays - expect) < 5 * np.sqrt(expect)
    assert q.rounded_delays == len(q)  # continuous delays: every one was rounded
    r = net.connect(
        pop,
        pop,
        rule=sim.FixedInDegree(5),
        delay=sim.lognormal(0.2 * ms, 0.1 * ms),
        round_delays=True,
    )
    assert 0 < r.raised_delays < len(r) and r.delays.min() >= DT * (1 - 1e-9)
    on_grid = net.connect(pop, pop, rule=sim.FixedInDegree(5), delay=GridDelays())
    assert on_grid.rounded_delays == on_grid.raised_delays == 0
    with pytest.raises(ValueError, match="below dt.*minimum delay is one time step"):
        net.connect(pop, pop, rule=sim.FixedInDegree(5), delay=sim.exponential(1 * ms))
    for bad in (-1 * ms, np.inf):
        with pytest.raises(ValueError, match="negative or not finite|not finite"):
            net.connect(pop, pop, rule=sim.OneToOne(), delay=bad, round_delays=True)
    with pytest.raises(ValueError, match=r"synapse 3\) is negative"):
        net.connect(
            pop[:5],
            pop[:5],
            rule=sim.OneToOne(),
            delay=np.r_[1, 1, 1, -1, 1] * ms,
            round_delays=True,
        )


@pytest.mark.parametrize("which", RULES)
def test_same_seed_same_network_other_seed_another(which):
    rule, _, _ = _rules(3000)[which]
    kw = VALUES["uniform"]

    def build(seed):
        net = sim.Network(dt=DT, seed=seed)
        pop = net.population(LIF(), n=2000)
        net.connect(pop, pop, rule=sim.FixedProbability(0.01), weight=1 * pA)  # a first one
        pre, post = (pop[::2], pop[1::2]) if which == "one" else (pop[:1500], pop[700:])
        return net.connect(pre, post, rule=rule, **kw)

    a, b, c = build(7), build(7), build(8)
    for attr in ("pre_ids", "post_ids", "weights", "delays"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.weights, c.weights)
    if which not in ("all", "one", "explicit"):  # deterministic structure otherwise
        assert not (np.array_equal(a.pre_ids, c.pre_ids) and np.array_equal(a.post_ids, c.post_ids))
