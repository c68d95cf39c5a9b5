"""The adaptive Runge-Kutta-Fehlberg 4(5) integrator (``method="rkf45"``) against
analytic solutions: a relaxing membrane, the firing times of a leaky integrate-and-fire
neuron under constant drive with the reset inside the step, and the state carried
through store/restore and files. (Against NEST's aeif models:
tests/models/test_models_vs_nest.py, ``test_adex_rkf45_spikes_equal_nest``.)"""

import math

import numpy as np
import pytest

import axonforge as sim
from axonforge.models import AdEx
from axonforge.models.base import NeuronSpec, spec_model
from axonforge.spec import SpecError, check_spec
from axonforge.units import ms, mV, pA

TAU, V_INF, V_TH, V_RESET = 10e-3, -40e-3, -50e-3, -70e-3


def lif(method, t_ref=0.0, error_tol=1e-6):
    """A LIF neuron driven above threshold: dv/dt = (v_inf - v)/tau (nonlinear methods
    only see an ODE; the exact solution is known)."""
    spec = NeuronSpec(
        name="drivenLIF",
        parameters={
            "tau": (TAU, "s", "membrane time constant"),
            "v_inf": (V_INF, "V", "asymptotic potential"),
            "v_th": (V_TH, "V", "threshold"),
            "v_reset": (V_RESET, "V", "reset"),
            "t_ref": (t_ref, "s", "refractory period"),
        },
        state={"v": ("v_reset", "V", "membrane potential")},
        equations=("dv/dt = (v_inf - v)/tau",),
        threshold="v >= v_th",
        reset=("v = v_reset",),
        refractory="t_ref",
        clamped=("v",),
        method=method,
        error_tol=error_tol,
    )
    return spec_model(spec)


def test_relaxation_matches_the_exponential():
    net = sim.Network(dt=0.1 * ms, seed=1)
    spec = NeuronSpec(
        name="passive",
        parameters={"tau": (TAU, "s", "time constant"), "e": (-65e-3, "V", "rest")},
        state={"v": ("e", "V", "potential")},
        equations=("dv/dt = (e - v)/tau",),
        method="rkf45",
    )
    pop = net.population(spec_model(spec), n=3, v=np.array([-80e-3, -50e-3, -65e-3]))
    mon = net.state_monitor(pop, ["v"])
    net.run(50 * ms)
    t = np.asarray(mon.t)[:, None]
    exact = -65e-3 + (np.array([-80e-3, -50e-3, -65e-3]) + 65e-3) * np.exp(-t / TAU)
    # the absolute tolerance is 1e-6 mV per sub-step; errors of the accepted steps add up
    assert len(t) == 500
    assert np.max(np.abs(mon["v"] - exact)) < 1e-8


@pytest.mark.parametrize("t_ref", [0.0, 1.0e-3])
def test_reset_inside_the_step_gives_the_analytic_firing_times(t_ref):
    """From v_reset the membrane reaches v_th after T = tau ln((v_inf - v_reset)/(v_inf -
    v_th)) = 10.986 ms; with the reset inside the step and no refractory period spike k
    is at k T (and k (T + t_ref') with a refractory period of whole steps, held at
    v_reset from the crossing to the end of its step plus t_ref). Reported spikes carry
    the time of the end of their step. A method that resets at the end of the step
    rounds each interval up to whole steps instead."""
    dt = 0.1 * ms
    T = TAU * math.log((V_INF - V_RESET) / (V_INF - V_TH))
    net = sim.Network(dt=dt, seed=1)
    pop = net.population(lif("rkf45", t_ref), n=1)
    spikes = net.spike_monitor(pop)
    net.run(200 * ms)
    steps = np.round(spikes.times / dt).astype(int)  # the step a spike ended
    if t_ref == 0.0:
        expected = np.ceil(np.arange(1, len(steps) + 1) * T / dt - 1e-9).astype(int)
    else:  # each crossing step is followed by 10 refractory steps; then T again
        expected, s = [], 0
        while True:
            s = math.ceil((s * dt + T) / dt - 1e-9)  # crossing at the start time + T
            if s * dt > 200 * ms:
                break
            expected.append(s)
            s += round(t_ref / dt)  # free again at the end of step s + refsteps
        expected = np.array(expected)
    assert len(steps) == len(expected) >= 15
    assert np.array_equal(steps, expected), steps - expected
    if t_ref == 0.0:  # rk4 resets at the step end: every interval is ceil(T/dt) steps
        net2 = sim.Network(dt=dt, seed=1)
        pop2 = net2.population(lif("rk4", t_ref), n=1)
        late = net2.spike_monitor(pop2)
        net2.run(200 * ms)
        k = np.arange(1, len(late.times) + 1)
        assert np.array_equal(np.round(late.times / dt), k * math.ceil(T / dt))
        assert not np.array_equal(np.round(late.times / dt), steps)


def _adex_net(tmp_net=None):
    net = sim.Network(dt=0.1 * ms, seed=2)
    pop = net.population(
        AdEx(method="rkf45", i_offset=np.linspace(500, 900, 20) * pA, t_ref=2 * ms),
        n=20,
        v=sim.uniform(-70 * mV, -55 * mV),
        name="adex",
    )
    return net, pop


def test_step_sizes_are_state_store_restore_and_files(tmp_path):
    """The per-neuron step size is part of the state: a restored or reloaded network
    continues bit-identically."""
    net, pop = _adex_net()
    mon = net.spike_monitor(pop)
    net.run(30 * ms)
    assert (pop.hstep > 0).all() and (pop.hstep != 0.1 * ms).any()
    net.store()
    net.save(tmp_path / "adex.h5")
    net.run(50 * ms)
    first = (mon.times.copy(), mon.ids.copy(), pop.state["v"].copy(), pop.hstep.copy())
    net.restore()
    net.run(50 * ms)
    assert np.array_equal(pop.state["v"], first[2]) and np.array_equal(pop.hstep, first[3])
    loaded = sim.load(tmp_path / "adex.h5")
    lp = loaded.populations["adex"]
    loaded.run(50 * ms)
    assert np.array_equal(lp.state["v"], first[2]) and np.array_equal(lp.hstep, first[3])


def test_threads_give_identical_results():
    out = []
    for threads in (1, 2):
        net = sim.Network(dt=0.1 * ms, seed=2, threads=threads)
        pop = net.population(
            AdEx(method="rkf45", i_offset=np.linspace(500, 900, 40) * pA), n=40,
            v=sim.uniform(-70 * mV, -55 * mV),
        )  # fmt: skip
        net.connect(pop, pop, rule=sim.FixedProbability(0.2), weight=200 * pA, delay=1 * ms)
        mon = net.spike_monitor(pop)
        net.run(100 * ms)
        out.append((mon.times.copy(), mon.ids.copy(), pop.state["w"].copy()))
    assert len(out[0][0]) > 50
    for a, b in zip(out[0], out[1], strict=True):
        assert np.array_equal(a, b)


def test_bad_input_fails_clearly():
    with pytest.raises(SpecError, match="rkf45.*cannot integrate stochastic"):
        check_spec(
            NeuronSpec(
                name="noisy",
                parameters={"tau": (TAU, "s", "t")},
                state={"v": (0.0, "V", "v")},
                equations=("dv/dt = -v/tau + 1e-3*xi/sqrt(tau)",),
                method="rkf45",
            )  # fmt: skip
        )
    with pytest.raises(SpecError, match="error_tol must be a positive number"):
        check_spec(lif("rkf45", error_tol=0.0).spec)
    with pytest.raises(SpecError, match="unknown method 'rk45'"):
        check_spec(lif("rk45").spec)


def test_a_blow_up_stops_with_the_integrators_advice():
    spec = NeuronSpec(
        name="blowup", parameters={"tau": (TAU, "s", "time constant")},
        state={"v": (1e-3, "V", "potential")},
        equations=("dv/dt = v*v/(1e-3*tau)",), method="rkf45",
    )  # fmt: skip
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(spec_model(spec), n=1)
    with pytest.raises(FloatingPointError, match="rkf45.*error_tol"):
        net.run(50 * ms)
