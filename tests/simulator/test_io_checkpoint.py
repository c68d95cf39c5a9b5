"""Save/load round trips and checkpoints that continue exactly; the file format."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import axonforge as sim
from axonforge import io
from axonforge.models import (
    LIF,
    Izhikevich,
    NeuronModel,
    NeuronSpec,
    PoissonSource,
    SpikeSource,
    StepCurrent,
)
from axonforge.units import ms, mV, pA


def build(seed=7):
    """A small network exercising every saved part: two neuron models, replay, Poisson
    input, a step current, heterogeneous delays, and all three monitor kinds."""
    net = sim.Network(dt=0.1 * ms, seed=seed)
    lif = net.population(
        LIF(tau_m=np.linspace(10, 30, 300) * ms, i_offset=100 * pA),
        n=300,
        name="lif",
        v=sim.uniform(-70 * mV, -55 * mV),
    )
    izh = net.population(Izhikevich.preset("CH"), n=50, name="izh")
    poisson = net.population(
        PoissonSource(rate=[500.0, 2000.0], rate_times=[0.0, 0.05]), n=300, name="poisson"
    )
    replay = net.population(
        SpikeSource(np.arange(1, 100) * 1.3 * ms, np.arange(99) % 10), n=10, name="replay"
    )
    net.connect(poisson, lif, rule=sim.OneToOne(), weight=40 * pA, delay=1 * ms)
    net.connect(
        lif,
        lif,
        rule=sim.FixedProbability(0.1),
        weight=30 * pA,
        delay=sim.uniform(0.1 * ms, 5 * ms),
        round_delays=True,
    )
    net.connect(
        lif[200:], lif, rule=sim.FixedInDegree(10), weight=-80 * pA, delay=2 * ms, port="inh"
    )
    net.connect(replay, izh, rule=sim.AllToAll(), weight=3 * mV, delay=0.5 * ms)
    net.connect(lif, izh, rule=sim.FixedOutDegree(2), weight=1 * mV, delay=1.2 * ms)
    net.inject(StepCurrent([30 * ms, 80 * ms], [300 * pA, 150 * pA]), lif[:50])
    spikes = net.spike_monitor(lif, name="spk")
    izh_spikes = net.spike_monitor(izh, name="izh_spk")
    net.state_monitor(izh, ["v", "u"], ids=[0, 3], every=5, name="izh_v")
    net.rate_monitor(lif, name="rate")
    return net, spikes, izh_spikes


def test_split_run_with_checkpoint_equals_unbroken_run(tmp_path):
    net, spikes, izh = build()
    net.run(0.12)
    ref = (spikes.times.copy(), spikes.ids.copy(), izh.times.copy(), izh.ids.copy())
    assert len(ref[0]) > 500 and len(ref[2]) > 10

    net2, _, _ = build()
    net2.run(0.047)  # save mid-run, with spikes in flight
    path = tmp_path / "mid.h5"
    net2.save(path)
    net3 = sim.load(path)
    assert net3.t == pytest.approx(0.047)
    net3.run(0.073)
    s3 = net3.monitors
    np.testing.assert_array_equal(s3["spk"].times, ref[0])
    np.testing.assert_array_equal(s3["spk"].ids, ref[1])
    np.testing.assert_array_equal(s3["izh_spk"].times, ref[2])
    np.testing.assert_array_equal(s3["izh_spk"].ids, ref[3])


def test_round_trip_preserves_everything(tmp_path):
    net, spikes, _ = build()
    net.run(0.03)
    path = tmp_path / "net.h5"
    net.save(path)
    back = sim.load(path)
    assert list(back.populations) == list(net.populations)
    assert list(back.projections) == list(net.projections)
    assert (back.dt, back.seed, back.step, back.precision) == (
        net.dt,
        net.seed,
        net.step,
        net.precision,
    )
    for name, pop in net.populations.items():
        other = back.populations[name]
        assert other.n == pop.n and other.kind == pop.kind
        for k in pop.state:
            np.testing.assert_array_equal(other.state[k], pop.state[k])
        for k in pop.params:
            np.testing.assert_array_equal(other.params[k], pop.params[k])
    assert type(back.populations["lif"].model) is LIF
    for name, proj in net.projections.items():
        other = back.projections[name]
        for attr in ("pre_ids", "post_ids", "weights", "delays"):
            np.testing.assert_array_equal(getattr(other, attr), getattr(proj, attr))
    assert back.monitors[spikes.name].num_spikes == spikes.num_spikes


def test_user_defined_model_loads_without_its_class(tmp_path):
    spec = NeuronSpec(
        name="Leaky",
        parameters={"tau": (0.01, "s", "")},
        state={"x": (1.0, "1", "")},
        equations=("dx/dt = -x/tau",),
    )

    class Leaky(NeuronModel):
        pass

    Leaky.spec = spec
    net = sim.Network(dt=0.1 * ms, seed=1)
    net.population(Leaky(tau=0.02), n=3, name="leaky")
    net.run(0.01)
    path = tmp_path / "leaky.h5"
    net.save(path)
    back = sim.load(path)  # the class is local to this test: the stored spec is used
    assert back.populations["leaky"].model.spec == spec
    back.run(0.01)
    np.testing.assert_allclose(
        back.populations["leaky"].state["x"], np.exp(-0.02 / 0.02), rtol=1e-12
    )


def test_recordings_round_trip(tmp_path):
    net, spikes, _ = build()
    net.run(0.03)
    path = tmp_path / "rec.h5"
    io.save_recordings(path, net.monitors)
    rec = io.load_recordings(path)
    np.testing.assert_array_equal(rec["spk"].times, spikes.times)
    np.testing.assert_array_equal(rec["spk"].ids, spikes.ids)
    mon_v = net.monitors["izh_v"]
    np.testing.assert_array_equal(rec["izh_v"]["v"], mon_v["v"])
    np.testing.assert_array_equal(rec["izh_v"].t, mon_v.t)
    rate = net.monitors["rate"]
    np.testing.assert_array_equal(rec["rate"].rate, rate.rate)
    with pytest.raises(io.FileFormatError, match="not an axonforge-recording file"):
        io.load_recordings(_network_file(tmp_path))


def _network_file(tmp_path):
    net, _, _ = build()
    path = tmp_path / "n.h5"
    net.save(path)
    return path


# ------------------------------------------------------------------ file format and dicts
FIXTURE = Path(__file__).parents[1] / "fixtures" / "network_v1.h5"


def _contents(path):
    """Every attribute and dataset of a file, by HDF5 path."""
    out = {}
    with h5py.File(path) as f:
        out["/"] = dict(f.attrs)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
            else:
                out[name + "@"] = dict(obj.attrs)

        f.visititems(visit)
    return out


def test_a_file_written_before_state_dicts_loads_and_saves_unchanged(tmp_path):
    """tests/fixtures/network_v1.h5 was written by the per-class writers that state dicts
    replaced: it loads, and saving it again gives the same groups, attributes and data."""
    net = sim.load(FIXTURE)
    kinds = {name: type(pop).__name__ for name, pop in net.populations.items()}
    assert kinds == {
        "a": "NeuronPopulation",
        "noise": "NoisePopulation",
        "replay": "SpikeSourcePopulation",
        "poisson": "PoissonPopulation",
        "da": "PoissonPopulation",
    }
    assert [p.kind for p in net.populations.values()] == [
        "neuron", "noise", "spikes", "poisson", "poisson"
    ]  # fmt: skip
    assert net.monitors["spikes"].num_spikes > 0 and net.modulators["dopamine"].value > 0
    net.save(tmp_path / "again.h5")
    want, have = _contents(FIXTURE), _contents(tmp_path / "again.h5")
    assert want.keys() == have.keys()
    for key, value in want.items():
        if key.endswith("@") or key == "/":
            assert have[key].keys() == value.keys(), key
            for attr, v in value.items():
                assert np.array_equal(have[key][attr], v), f"{key}{attr}"
        else:
            assert have[key].dtype == value.dtype, key
            np.testing.assert_array_equal(have[key], value, err_msg=key)


def test_state_dicts_map_to_hdf5_and_back(tmp_path):
    d = {
        "attrs": {"name": "x", "n": 3, "flag": True},
        "arrays": {"a": np.arange(3), "state/v": np.ones(3), "state/u": np.zeros((2, 3))},
        "groups": {"sub": {"attrs": {"k": 1.5}, "arrays": {"q/r": np.arange(2.0)}}},
    }
    with h5py.File(tmp_path / "d.h5", "w") as f:
        io.write_group(f.create_group("g"), d)
        assert sorted(f["g"]) == ["a", "state", "sub"] and sorted(f["g/state"]) == ["u", "v"]
    with h5py.File(tmp_path / "d.h5") as f:
        back = io.read_group(f["g"], tmp_path / "d.h5")
    assert dict(back["attrs"]) == d["attrs"]
    assert sorted(back["arrays"]) == ["a", "state/u", "state/v"]
    np.testing.assert_array_equal(back["arrays"]["state/u"], d["arrays"]["state/u"])
    sub = back["groups"]["sub"]
    assert sub["attrs"]["k"] == 1.5 and list(sub["arrays"]) == ["q/r"]
    with pytest.raises(io.FileFormatError, match=r"d.h5: missing record /g/state/w"):
        back["arrays"]["state/w"]
    with pytest.raises(io.FileFormatError, match=r"d.h5: missing attribute /g@kind"):
        back["attrs"]["kind"]


def _edited(tmp_path, edit):
    path = tmp_path / "edited.h5"
    path.write_bytes(FIXTURE.read_bytes())
    with h5py.File(path, "a") as f:
        edit(f)
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: f["populations/0"].pop("until"), r"missing record /populations/0/until"),
        (
            lambda f: f["projections/3/plastic"].pop("traces"),
            r"missing record /projections/3/plastic/traces/",
        ),
        (lambda f: f["monitors/1"].pop("v_v"), r"missing record /monitors/1/v_v"),
        (lambda f: f["projections/0"].attrs.pop("port"), r"missing attribute /projections/0@port"),
        (lambda f: f.pop("projections"), r"missing record /projections"),
        (
            lambda f: f["populations/1"].attrs.update(kind="laser"),
            r"population 'noise' has unknown kind 'laser'",
        ),
        (
            lambda f: f["monitors/2"].attrs.update(kind="eeg"),
            r"monitor 'rate' has unknown kind 'eeg'",
        ),
        (lambda f: f["projections/1"].pop("w"), r"missing record /projections/1/w"),
        (
            lambda f: _shorten(f, "projections/1/w"),
            r"projection 'proj1' has inconsistent sizes",
        ),
        (
            lambda f: _shorten(f, "populations/0/rb/exc", axis=1),
            r"ring buffer of 'a'/exc has shape",
        ),
        (lambda f: f.attrs.update(version=2), r"written by a newer axonforge"),
        (lambda f: f.attrs.update(complete=False), r"incomplete file"),
        (lambda f: f.attrs.update(format="something"), r"not an axonforge-network file"),
    ],
)
def test_damaged_files_fail_naming_file_and_record(tmp_path, edit, message):
    path = _edited(tmp_path, edit)
    with pytest.raises(io.FileFormatError, match=r"edited\.h5: .*" + message):
        sim.load(path)


def _shorten(f, key, axis=0):
    data = f[key][()]
    del f[key]
    f[key] = np.delete(data, -1, axis=axis)
