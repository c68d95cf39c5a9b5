"""Graded outputs (a model emits a value every step instead of spikes, delivered with a
delay and scaled by the weight into a port), physical bounds on state variables, and
port statements that set a variable to the step's input (``i_sic = w_in``)."""

import numpy as np
import pytest

import axonforge as sim
from axonforge.models import LIF
from axonforge.models.base import NeuronSpec, spec_model
from axonforge.spec import SpecError, check_spec
from axonforge.units import ms, pA

#: a level that ramps at 1/s; it emits its value once above 0.0105
RAMP = NeuronSpec(
    name="Ramp",
    parameters={"r": (1.0, "1/s", "ramp rate"), "top": (0.05, "1", "upper bound")},
    state={"a": (0.0, "1", "level")},
    equations=("da/dt = r",),
    bounds={"a": (0.0, "top")},
    outputs={"out": "a if a > 0.0105 else 0.0"},
)


def ramp_net(threads=None, delay=1 * ms):
    net = sim.Network(dt=0.1 * ms, seed=1, threads=threads)
    src = net.population(spec_model(RAMP), n=2, a=np.array([0.0, 0.005]))
    cells = net.population(LIF(sic=True), n=3)
    net.connect(src, cells, rule=sim.AllToAll(), weight=1000 * pA, delay=delay, port="sic")
    return net, src, cells


def test_output_arrives_weighted_after_the_delay():
    """Step s's output (computed from the state at the end of step s) is the target's
    i_sic at the end of step s + delay (it drives the membrane from the next step on),
    summed over sources, weight times value; zero values send nothing."""
    net, src, cells = ramp_net()
    level = net.state_monitor(src, ["a"])
    sic = net.state_monitor(cells, ["i_sic"], ids=[0])
    net.run(60 * ms)
    a = level["a"]  # (steps, 2)
    out = np.where(a > 0.0105, a, 0.0).sum(axis=1)
    d = 10
    w = np.float32(1000 * pA)  # weights are stored in single precision
    assert np.allclose(sic["i_sic"][d:, 0], w * out[:-d], rtol=1e-12, atol=0)
    assert np.all(sic["i_sic"][:d, 0] == 0.0)
    # the bound holds: the level stops at 'top'
    assert a.max() == pytest.approx(0.05) and a[-1, 1] == 0.05


def test_membrane_integrates_the_current():
    net, src, cells = ramp_net()
    v = net.state_monitor(cells, ["v"], ids=[0])
    net.run(60 * ms)
    rest = float(np.atleast_1d(cells.model.params["v_rest"])[0])
    assert v["v"][0, 0] == rest and v["v"][-1, 0] > rest + 1e-3


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_give_identical_results(threads):
    ref, _s, ref_cells = ramp_net()
    ref_mon = ref.state_monitor(ref_cells, ["v", "i_sic"])
    ref.run(40 * ms)
    net, _s, cells = ramp_net(threads=threads)
    mon = net.state_monitor(cells, ["v", "i_sic"])
    net.run(40 * ms)
    assert np.array_equal(mon["v"], ref_mon["v"]) and np.array_equal(mon["i_sic"], ref_mon["i_sic"])


def test_graded_sources_cannot_drive_spike_consumers():
    net, src, cells = ramp_net()
    with pytest.raises(TypeError, match="emits values"):
        net.spike_monitor(src)
    from axonforge.models import STDP

    with pytest.raises(TypeError, match="cannot drive a plastic synapse"):
        net.connect(src, cells, rule=sim.AllToAll(), weight=1 * pA, port="sic",
                    synapse=STDP())  # fmt: skip


def test_a_port_the_target_lacks_is_refused_at_connect():
    net, src, _cells = ramp_net()
    plain = net.population(LIF(), n=2)
    with pytest.raises(ValueError, match="sic"):
        net.connect(src, plain, rule=sim.AllToAll(), weight=1 * pA, port="sic")


def test_bad_specs_fail_clearly():
    from dataclasses import replace

    with pytest.raises(SpecError, match="either spikes .* or a graded output"):
        check_spec(replace(RAMP, threshold="a > 1"))
    with pytest.raises(SpecError, match="at most one"):
        check_spec(replace(RAMP, outputs={"x": "a", "y": "a"}))
    with pytest.raises(SpecError, match="bounds of 'b'.*not a state variable"):
        check_spec(replace(RAMP, bounds={"b": (0.0, 1.0)}))
    with pytest.raises(SpecError, match="unknown symbol"):
        check_spec(replace(RAMP, bounds={"a": (0.0, "a + 1")}))
    with pytest.raises(SpecError, match="rand"):
        check_spec(replace(RAMP, outputs={"out": "a*rand()"}))
    with pytest.raises(SpecError, match="not linear in w_in"):
        check_spec(replace(RAMP, ports={"x": "a = w_in*w_in"}))


def test_bounds_do_not_hide_nan():
    spec = NeuronSpec(
        name="Blow", parameters={}, state={"a": (1.0, "1", "x")},
        equations=("da/dt = a*a*1e6",), bounds={"a": (0.0, 10.0)}, method="euler",
    )  # fmt: skip
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(spec_model(spec), n=1)
    net.run(5 * ms)  # clipped at 10 every step: finite
    spec2 = NeuronSpec(
        name="Nan", parameters={}, state={"a": (-1.0, "1", "x")},
        equations=("da/dt = sqrt(a)",), bounds={"a": (0.0, 10.0)}, method="euler",
    )  # fmt: skip
    net2 = sim.Network(dt=0.1 * ms, seed=1)
    net2.population(spec_model(spec2), n=1)
    with pytest.raises(FloatingPointError):
        net2.run(5 * ms)


def test_saved_and_loaded(tmp_path):
    net, src, cells = ramp_net()
    net.run(20 * ms)
    net.save(tmp_path / "g.h5")
    mon = net.state_monitor(cells, ["i_sic"])
    net.run(20 * ms)
    loaded = sim.load(tmp_path / "g.h5")
    assert loaded.populations[cells.name].model.sic
    lm = loaded.state_monitor(loaded.populations[cells.name], ["i_sic"])
    loaded.run(20 * ms)
    assert np.array_equal(lm["i_sic"], mon["i_sic"])


def test_repeated_synapses_deliver_their_summed_weight_and_follow_weight_changes():
    """A graded source's static synapses that repeat (same source, target and delay, as
    a tripartite rule makes them) are delivered once with their summed weight; weights
    set between runs take effect."""
    net = sim.Network(dt=0.1 * ms, seed=1)
    src = net.population(spec_model(RAMP), n=1, a=0.02)
    cells = net.population(LIF(sic=True), n=2)
    proj = net.connect(src, cells, rule=sim.Explicit([0, 0, 0, 0], [0, 0, 0, 1]),
                       weight=np.array([1.0, 2.0, 4.0, 8.0]) * pA, delay=1 * ms,
                       port="sic")  # fmt: skip
    assert len(proj) == 4
    sic = net.state_monitor(cells, ["i_sic"])
    level = net.state_monitor(src, ["a"])
    net.run(5 * ms)
    a = level["a"][:, 0]
    np.testing.assert_allclose(sic["i_sic"][10:, 0], 7 * pA * a[:-10], rtol=1e-6)
    np.testing.assert_allclose(sic["i_sic"][10:, 1], 8 * pA * a[:-10], rtol=1e-6)
    proj.weights = np.array([1.0, 1.0, 1.0, 1.0]) * pA
    net.run(5 * ms)
    a = level["a"][:, 0]
    np.testing.assert_allclose(sic["i_sic"][-30:, 0], 3 * pA * a[-40:-10], rtol=1e-6)
