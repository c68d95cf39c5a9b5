"""The engine: identical results for any thread count, min-delay chunks and their
consequences, and the errors of bad runs (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import astro, brunel, cuba, dopamine, gap, noisy, replay, rules, stdp

import axonforge as sim
import axonforge.engine.runner as runner
from axonforge.models import (
    LIF,
    PoissonSource,
    SpikeSource,
    SynapseModel,
    SynapseSpec,
)
from axonforge.units import Hz, ms, pA


@pytest.fixture
def threads_always(monkeypatch):
    """Use as many threads as asked even for small networks."""
    monkeypatch.setattr(runner, "MIN_WORK_PER_THREAD", 1)


@pytest.mark.parametrize(
    "network", [cuba, brunel, stdp, dopamine, rules, noisy, gap, astro, replay]
)
def test_same_results_for_one_two_and_three_threads(network, threads_always):
    _net, ref = network(1)
    assert len(ref[0]) > 20
    for threads in (2, 3):
        net, out = network(threads)
        assert net.workers == threads
        for a, b in zip(ref, out):
            np.testing.assert_array_equal(a, b)


def test_threads_default_and_errors():
    assert sim.Network().threads >= 1
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            sim.Network(threads=bad)


def test_small_networks_use_one_thread():
    net, _ = cuba(2)
    assert net.threads == 2 and net.workers == 1  # too little work per chunk to pay


def test_rule_reading_v_post_sees_the_end_of_the_chunk():
    """With delays of 1 ms the engine runs chunks of 10 steps; a rule reading ``v_post``
    at a presynaptic event sees the postsynaptic state at the end of the event's chunk
    (phase A has advanced every neuron through the whole chunk before phase C delivers)."""
    spec = SynapseSpec(
        name="SeeV",
        parameters={},
        state={"w": (0.0, "", ""), "seen": (0.0, "", "")},
        on_pre=("seen = v_post",),
    )
    rule = type("SeeV", (SynapseModel,), {"spec": spec})
    net = sim.Network(dt=0.1 * ms, seed=1, threads=1)
    src = net.population(SpikeSource([3.45 * ms], [0]), n=1)
    post = net.population(LIF(i_offset=300 * pA), n=1)
    proj = net.connect(src, post, weight=0.0, delay=1 * ms, synapse=rule())
    trace = net.state_monitor(post, ["v"])
    net.run(5 * ms, progress=False)
    assert net._engine.layout.steps == 10
    k = 34  # the spike's step: it ends at 3.5 ms
    end_of_chunk = (k // 10) * 10 + 9
    seen = proj.plastic.state["seen"][0]
    assert seen == trace["v"][end_of_chunk, 0]
    assert seen != trace["v"][k, 0]


def test_projection_with_a_shorter_delay_added_between_runs():
    """Adding a projection whose delay is below the current chunk length recomputes the
    schedule; its spikes arrive exactly ``delay`` after they are emitted."""
    net = sim.Network(dt=0.1 * ms, seed=1)
    src = net.population(SpikeSource([2 * ms, 7 * ms], [0, 0]), n=1)
    relay = net.population(LIF(t_ref=0.1 * ms), n=1)  # fires in the step its input arrives
    post = net.population(LIF(tau_syn_exc=5 * ms), n=1)
    net.connect(src, relay, weight=1e-9, delay=0.1 * ms, port="exc")
    net.connect(relay, post, weight=0.0, delay=2 * ms)
    trace = net.state_monitor(post, ["i_syn_exc"])
    relayed = net.spike_monitor(relay)
    net.run(5 * ms)
    assert net._engine.layout.steps == 20
    net.connect(relay, post, weight=100 * pA, delay=0.3 * ms)
    net.run(5 * ms)
    assert net._engine.layout.steps == 3
    fired = relayed.times[relayed.times > 5 * ms][0]
    i = trace["i_syn_exc"][:, 0]
    first = int(np.flatnonzero(i > 0)[0])
    assert trace.t[first] == pytest.approx(fired + 0.3 * ms)


def test_static_source_projections_do_not_shorten_the_chunk():
    """Input sources are generated and delivered at the start of their chunk: a Poisson
    input with delay 0.1 ms leaves the chunk at the recurrent delay (2 ms = 20 steps),
    and the run equals one in chunks of one step (what a chunk bounded by the input's
    delay would be)."""

    def run(recurrent_delay):
        net = sim.Network(dt=0.1 * ms, seed=2)
        pop = net.population(LIF(), n=200)
        ext = net.population(PoissonSource(rate=800 * Hz), n=200)
        net.connect(ext, pop, rule=sim.OneToOne(), weight=300 * pA, delay=0.1 * ms)
        net.connect(pop, pop, rule=sim.FixedInDegree(10), weight=50 * pA, delay=recurrent_delay)
        spikes = net.spike_monitor(pop)
        net.run(0.1)
        return net._engine.layout.steps, spikes

    steps, a = run(2 * ms)
    assert steps == 20 and len(a.times) > 50
    import axonforge.engine.runner as runner

    original = runner.MAX_CHUNK
    try:
        runner.MAX_CHUNK = 1
        steps, b = run(2 * ms)
    finally:
        runner.MAX_CHUNK = original
    assert steps == 1
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.ids, b.ids)


def test_a_run_after_a_non_finite_state_is_refused():
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(), n=3)
    pop.state["v"][1] = np.inf  # as a bad parameter or input would make it
    with pytest.raises(FloatingPointError, match="neuron 1 got a non-finite state"):
        net.run(1 * ms)
    with pytest.raises(RuntimeError, match="stopped in the middle of a step.*build it again"):
        net.run(1 * ms)


def test_monitor_buffers_are_bounded_per_chunk():
    """A run much longer than a monitor's buffer drains it between chunks: the buffers
    stay small and nothing is lost."""
    net = sim.Network(dt=0.1 * ms, seed=2)
    pop = net.population(LIF(i_offset=400 * pA), n=10)
    trace = net.state_monitor(pop, ["v"], every=1)
    rates = net.rate_monitor(pop)
    net.run(1 * ms)
    rows = len(trace._bsteps)
    assert rows < 70_000
    net.run(rows * 3 * 0.1 * ms)
    assert trace["v"].shape == (10 + rows * 3, 10)
    assert np.all(np.diff(trace.t) > 0) and len(rates.counts) == 10 + rows * 3


def test_recordings_too_large_for_memory_fail_before_running(monkeypatch):
    import axonforge.memory as memory

    net = sim.Network(dt=0.1 * ms, seed=2)
    pop = net.population(LIF(), n=1000)
    net.state_monitor(pop, ["v", "i_syn_exc"], every=1)
    monkeypatch.setattr(memory, "available_memory", lambda: 100 << 20)
    with pytest.raises(MemoryError, match=r"would record .* GiB.*sample less often"):
        net.run(10.0)
    assert net.step == 0


def test_loading_and_info_compile_nothing(tmp_path):
    """A saved network loads, describes itself and reports its memory without generating
    or compiling a kernel (hardware export relies on it)."""
    import os
    import subprocess
    import sys

    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(), n=10)
    net.connect(pop, pop, rule=sim.FixedInDegree(3), weight=10 * pA, delay=1 * ms)
    net.save(tmp_path / "net.h5")
    cache = tmp_path / "cache"
    env = {**os.environ, "AXONFORGE_CACHE": str(cache)}
    code = (
        "import axonforge as sim, sys; net = sim.load(sys.argv[1]); "
        "print(sum(p.nbytes for p in net.projections.values())); print(sim.compile_stats())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "net.h5")],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert "'kernels_generated': 0" in out.stdout and "'compiled': 0" in out.stdout
    info = subprocess.run(
        [sys.executable, "-m", "axonforge.cli", "info", str(tmp_path / "net.h5")],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert "pop0" in info.stdout
    assert not list(cache.glob("kernels/k_*.py"))


def test_progress_pieces_never_change_results():
    """A run cut into pieces for the progress bar (their length follows wall time) gives
    the same results as one call: pieces end on the grid of chunks, and chunks lie on
    the absolute grid of D steps, so a rule reading v_post (at the end of each chunk)
    sees the same times. (Before the fix a first run's short timing pieces shifted the
    chunk grid by a few steps and changed such a network's spikes.)"""

    class Reader(SynapseModel):
        spec = SynapseSpec(name="Reader", parameters={}, state={"w": (0.0, "weight", "w")},
                           transmit="w*(1 + 20*(v_post + 0.07))")  # fmt: skip

    out = []
    for progress in (False, True, True):
        net = sim.Network(dt=0.1 * ms, seed=11)
        cells = net.population(LIF(i_offset=np.linspace(300, 420, 120) * pA), n=120)
        rng = np.random.default_rng(1)
        pre, post = rng.integers(0, 120, 700), rng.integers(0, 120, 700)
        net.connect(cells, cells, rule=sim.Explicit(pre, post), weight=40 * pA, delay=1 * ms,
                    synapse=Reader())  # fmt: skip
        v = net.state_monitor(cells, ["v"])
        net.run(0.013, progress=progress)
        net.run(0.02, progress=progress)  # starts mid-chunk: the grid stays absolute
        out.append(v["v"])
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
