"""Bad input fails early with a message naming the culprit and the fix."""

import h5py
import numpy as np
import pytest

import axonforge as sim
from axonforge.io import FileFormatError
from axonforge.models import LIF, NeuronModel, NeuronSpec, PoissonSource, SpikeSource
from axonforge.units import ms, mV, pA


@pytest.mark.parametrize("dt", [0.0, -0.1 * ms, float("nan"), float("inf"), "0.1"])
def test_bad_dt(dt):
    with pytest.raises(ValueError, match="dt must be a positive number"):
        sim.Network(dt=dt)


def test_bad_seed_backend_precision():
    with pytest.raises(ValueError, match="seed"):
        sim.Network(seed=-1)
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        sim.Network(backend="cuda")
    with pytest.raises(ValueError, match="precision"):
        sim.Network(precision="float16")


@pytest.fixture
def net():
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.a = net.population(LIF(), n=10, name="a")
    return net


def test_delay_below_dt(net):
    with pytest.raises(ValueError, match="below dt.*minimum delay is one time step"):
        net.connect(net.a, net.a, delay=0.05 * ms)


def test_delay_off_grid_names_the_rule(net):
    with pytest.raises(ValueError, match=r"not a multiple of dt.*round_delays=True"):
        net.connect(net.a, net.a, delay=0.15 * ms)
    proj = net.connect(net.a, net.a, delay=0.16 * ms, round_delays=True)
    assert proj.rounded_delays == 100 and np.allclose(proj.delays, 0.2 * ms)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5"])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match="p must be a probability in"):
        sim.FixedProbability(p)


def test_unknown_parameter_name_suggests_fix():
    with pytest.raises(TypeError, match="unknown parameter 'tau_mem'; did you mean 'tau_m'"):
        LIF(tau_mem=10 * ms)


def test_ode_with_undefined_symbol():
    spec = NeuronSpec(
        name="Bad",
        parameters={"tau": (0.01, "s", "")},
        state={"v": (0.0, "V", "")},
        equations=("dv/dt = -v/tau_m",),
    )

    class Bad(NeuronModel):
        pass

    Bad.spec = spec
    n = sim.Network(dt=0.1 * ms)
    with pytest.raises(
        sim.SpecError, match=r"equation 1 .*unknown symbol 'tau_m'; did you mean 'tau'"
    ):
        n.population(Bad(), n=1)


@pytest.mark.parametrize(
    "eq,msg",
    [
        ("dq/dt = -v", "'q' is not a state variable"),
        ("dv/dt = -v +", "not a valid Python expression"),
        ("v = 3", "expected the form 'dX/dt = expression'"),
        ("dv/dt = foo(v)", "unknown function 'foo'"),
        ("dv/dt = v[0]", "'Subscript' is not allowed"),
    ],
)
def test_malformed_equations(eq, msg):
    spec = NeuronSpec(name="Bad", parameters={}, state={"v": (0.0, "V", "")}, equations=(eq,))
    with pytest.raises(sim.SpecError, match=msg):
        sim.check_spec(spec)


def test_reset_assigning_a_parameter_and_exact_on_nonlinear():
    spec = NeuronSpec(
        name="Bad",
        parameters={"a": (1.0, "", "")},
        state={"v": (0.0, "V", "")},
        equations=("dv/dt = -v",),
        threshold="v > 1",
        reset=("a = 0",),
    )
    with pytest.raises(sim.SpecError, match="cannot assign to 'a': it is a parameter"):
        sim.check_spec(spec)
    spec = NeuronSpec(
        name="Bad",
        parameters={},
        state={"v": (0.0, "V", "")},
        equations=("dv/dt = v**2",),
        method="exact",
    )
    with pytest.raises(sim.SpecError, match="method 'exact' needs ODEs linear"):
        sim.check_spec(spec)


def test_mismatched_array_lengths(net):
    with pytest.raises(ValueError, match="parameter 'tau_m' has 3 values but n=10"):
        net.population(LIF(tau_m=np.ones(3) * 10 * ms), n=10)
    with pytest.raises(ValueError, match="times has 2 entries but ids has 3"):
        SpikeSource([1 * ms, 2 * ms], [0, 1, 2])
    with pytest.raises(ValueError, match="Explicit: pre_ids has 2 entries but post_ids has 1"):
        sim.Explicit([0, 1], [0])


def test_weight_array_of_wrong_shape(net):
    with pytest.raises(
        ValueError,
        match=r"weight: got an array of shape \(5,\), expected a scalar "
        r"or shape \(10,\)",
    ):
        net.connect(net.a, net.a, rule=sim.OneToOne(), weight=np.ones(5) * pA)


def test_weight_sign_and_port(net):
    with pytest.raises(ValueError, match="port 'inh' takes weights <= 0"):
        net.connect(net.a, net.a, rule=sim.OneToOne(), weight=5 * pA, port="inh")
    with pytest.raises(ValueError, match="has no port 'gaba'"):
        net.connect(net.a, net.a, port="gaba")
    with pytest.raises(ValueError, match="value 3 is not finite"):
        net.connect(
            net.a, net.a, rule=sim.OneToOne(), weight=np.r_[1, 1, 1, np.nan, 1, 1, 1, 1, 1, 1] * pA
        )


def test_bad_parameter_values(net):
    with pytest.raises(ValueError, match="LIF: tau_m = -0.01 must be > 0"):
        LIF(tau_m=-10 * ms)  # a hard rule: strict_units=False does not lift it
    with pytest.raises(ValueError, match="tau_m = -0.01 must be > 0"):
        LIF(tau_m=-10 * ms, strict_units=False)
    with pytest.raises(ValueError, match=r"tau_m\[1\] = -0.01 must be > 0"):
        net.population(LIF(tau_m=[10 * ms, -10 * ms]), n=2)
    with pytest.raises(ValueError, match="non-finite"):
        LIF(v_rest=float("nan"))
    with pytest.raises(TypeError, match="not a state variable of LIF.*did you mean 'v'"):
        net.population(LIF(), n=2, vm=-70 * mV)


def test_bad_run_and_monitor_arguments(net):
    with pytest.raises(ValueError, match="not a multiple of dt"):
        net.run(0.00015)
    with pytest.raises(ValueError, match="'u' is not a state variable"):
        net.state_monitor(net.a, ["u"])
    with pytest.raises(ValueError, match="every must be a positive integer"):
        net.state_monitor(net.a, ["v"], every=0)


def test_sources_reject_bad_input(net):
    with pytest.raises(ValueError, match="negative"):
        SpikeSource([-1 * ms])
    with pytest.raises(ValueError, match="round to t=0"):
        net.population(SpikeSource([0.01 * ms]))
    with pytest.raises(ValueError, match="rates must be finite and >= 0"):
        PoissonSource(rate=-5.0)
    with pytest.raises(ValueError, match="too high"):
        net.population(PoissonSource(rate=1e6), n=1)


def test_nan_state_stops_the_run():
    spec = NeuronSpec(
        name="Blowup",
        parameters={},
        state={"v": (1.0, "V", "")},
        equations=("dv/dt = 1e6*v**2",),
        method="euler",
    )

    class Blowup(NeuronModel):
        pass

    Blowup.spec = spec
    n = sim.Network(dt=0.1 * ms)
    n.population(Blowup(), n=3, name="b")
    with pytest.raises(FloatingPointError, match="population 'b': neuron 0 got a non-finite state"):
        n.run(0.01)


def test_files_that_are_not_ours(tmp_path):
    text = tmp_path / "x.h5"
    text.write_text("hello")
    with pytest.raises(FileFormatError, match="not a readable HDF5 file"):
        sim.load(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(FileFormatError, match="not an axonforge-network file"):
        sim.load(other)
    with pytest.raises(FileNotFoundError):
        sim.load(tmp_path / "missing.h5")


def test_truncated_network_file(tmp_path):
    net = sim.Network(dt=0.1 * ms, seed=1)
    a = net.population(LIF(), n=100)
    net.connect(a, a, rule=sim.FixedProbability(0.5), weight=1 * pA)
    path = tmp_path / "net.h5"
    net.save(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="cut.h5"):
        sim.load(cut)


def _blowup(method):
    class Blowup(NeuronModel):
        spec = NeuronSpec(
            name="Blowup",
            parameters={},
            state={"v": (1.0, "V", "")},
            equations=("dv/dt = 1e6*v**2",),
            method=method,
        )

    net = sim.Network(dt=0.1 * ms)
    net.population(Blowup(), n=1, name="b")
    with pytest.raises(FloatingPointError) as err:
        net.run(0.01)
    return str(err.value)


def test_non_finite_advice_fits_the_method():
    euler, rk4 = _blowup("euler"), _blowup("rk4")
    assert "method='rk4'" in euler
    assert "(v = inf)" in euler or "(v = nan)" in euler
    assert "method='rk4'" not in rk4
    assert "smaller dt" in rk4 and "min(v, v_peak)" in rk4


def test_port_statement_with_w_suggests_w_in():
    spec = NeuronSpec(
        name="Old",
        parameters={"tau": (10e-3, "s", "")},
        state={"v": (0.0, "V", "")},
        equations=("dv/dt = -v/tau",),
        ports={"exc": "v += w"},
    )
    with pytest.raises(sim.SpecError, match="did you mean 'w_in', the summed weight"):
        sim.check_spec(spec)


def test_a_saved_network_with_nan_fails_to_load_naming_the_dataset(tmp_path):
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(LIF(), n=4, name="cells")
    path = tmp_path / "net.h5"
    net.save(path)
    with h5py.File(path, "a") as f:
        f["populations/0/state/v"][2] = np.nan
    with pytest.raises(FileFormatError, match=r"/populations/0/state/v holds 1 non-finite"):
        sim.load(path)
