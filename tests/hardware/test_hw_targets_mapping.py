"""Targets, mapping (fixed point, design rules, saturation report, memories)."""

import warnings

import numpy as np
import pytest

import axonforge as sim
from axonforge.hardware import targets
from axonforge.hardware.mapping import map_network
from axonforge.hardware.memfiles import Memory
from axonforge.hardware.targets import DesignRuleError, UnsupportedError
from axonforge.models import LIF, STDP, AdEx, NoiseSource, SpikeSource


def small(n=20, delay=1e-3, weight=100e-12, dt=1e-3, n_in=10):
    net = sim.Network(dt=dt, seed=3)
    src = net.population(SpikeSource([5e-3, 9e-3], [0, 1]), n=n_in, name="in")
    pop = net.population(LIF(), n=n, name="pop")
    net.connect(src, pop, rule=sim.AllToAll(), weight=weight, delay=delay, name="ff")
    return net


def test_targets_described():
    for name in ("ice40-up5k", "artix7", "neurocorex"):
        t = targets.get(name)
        assert t.source and t.description
        assert targets.TARGETS[name] is t
    assert targets.get("neurocorex").dt == pytest.approx(0.96e-3)
    assert targets.get("neurocorex").neurons_per_core == 90
    assert "FPGA-DS-02008" in targets.get("ice40-up5k").source
    assert "DS180" in targets.get("artix7").source
    with pytest.raises(ValueError, match="unknown hardware target"):
        targets.get("nope")


def test_fixed_point_and_memories():
    net = small()
    cfg = map_network(net, "ice40-up5k")
    F = cfg.frac_bits
    a = cfg.arrays
    # decay multiplier of v: round(exp(-dt/tau_m) * 2**F)
    assert a["a_m"][0] == round(np.exp(-1e-3 / 20e-3) * 2**F)
    # threshold relative to rest in v LSBs
    assert a["theta"][0] == round(15e-3 / cfg.scales["v"]["pop"])
    w = a["w"] << a["shift"]
    assert np.allclose(w * cfg.scales["i"]["pop"], 100e-12, rtol=1 / 128)
    mems = {m.name: m for m in cfg.memories()}
    assert all(isinstance(m, Memory) for m in mems.values())
    syn = mems["core0_synapses"]
    assert syn.depth == 200
    # decode the first synapse word (layout of the mapping docstring)
    tb, db = 8, 4
    word = int(syn.words[0])
    assert word & ((1 << tb) - 1) == a["tgt"][0]
    assert (word >> tb) & 1 == 0
    assert (word >> (tb + 1)) & ((1 << db) - 1) == 1
    assert (word >> (tb + 1 + db)) & 15 == a["shift"][0]
    wv = word >> (tb + 5 + db)
    wv = wv - (1 << 8) if wv >= 128 else wv
    assert wv == a["w"][0]
    assert mems["core0_row_ptr"].depth == 10 + 20 + 1
    assert mems["routing"].words[:10].tolist() == [1] * 10
    res = cfg.resources()
    assert res["neurons"] == 20 and res["synapses"] == 200 and res["saturation"] == []
    with pytest.raises(ValueError, match="ice40-up5k"):
        cfg.uart_stream()


def test_drc_neurons_fanin_delay():
    net = sim.Network(dt=1e-4, seed=1)
    pop = net.population(LIF(), n=300, name="big")
    net.connect(pop, pop, rule=sim.FixedProbability(0.1), weight=1e-12, delay=4e-3, name="ee")
    with pytest.raises(DesignRuleError) as err:
        map_network(net, "ice40-up5k")
    text = str(err.value)
    assert "populations 'big' (300): 300 neurons > 256" in text
    assert "projection 'ee': delay 40 steps > max_delay 15 of ice40-up5k" in text
    assert err.value.resources["neurons"] == 300
    # fan-in
    net = small(n=4, n_in=1100)
    with pytest.raises(
        DesignRuleError,
        match=r"population 'pop': neuron 0 has fan-in 1100 > "
        r"fan_in 1024 of ice40-up5k \(projections 'ff'\)",
    ):
        map_network(net, "ice40-up5k")
    # fixed time step of neurocorex is a design rule too (checked by its mapper or ours)
    from axonforge.hardware.mapping import design_rules

    v, _ = design_rules(small(), targets.get("neurocorex"))
    assert any("fixed dt" in line for line in v)


def test_unsupported():
    net = sim.Network(dt=1e-4)
    net.population(AdEx(), n=2, name="adex")
    net.population(NoiseSource(mean=0.0, std=1e-12), n=2, name="noise")
    with pytest.raises(UnsupportedError) as err:
        map_network(net, "artix7")
    assert "population 'adex': neuron model AdEx" in str(err.value)
    assert "population 'noise'" in str(err.value)
    net = small()
    net2 = sim.Network(dt=1e-3)
    src = net2.population(SpikeSource([1e-3]), n=1, name="s")
    p = net2.population(LIF(), n=1, name="p")
    net2.connect(src, p, rule=sim.AllToAll(), weight=1e-10, synapse=STDP(), name="plastic")
    with pytest.raises(UnsupportedError, match="projection 'plastic'.*no learning"):
        map_network(net2, "ice40-up5k")
    map_network(net2, "artix7")  # artix7 runs pair STDP
    net3 = sim.Network(dt=1e-3)
    src = net3.population(SpikeSource([1e-3]), n=1, name="s")
    p = net3.population(LIF(), n=1, name="p")
    net3.connect(src, p, rule=sim.AllToAll(), weight=1e-10,
                 synapse=STDP(w_dependence="multiplicative"), name="mult")  # fmt: skip
    with pytest.raises(UnsupportedError, match="projection 'mult': plasticity STDP"):
        map_network(net3, "artix7")
    assert net is not None


def test_saturation_reported_not_clipped():
    net = small(weight=100e-12)
    # a weight shift too small for the weights: reported (warning + entry), strict raises
    with pytest.warns(UserWarning, match="projection 'ff': weights"):
        cfg = map_network(net, "ice40-up5k", weight_shift=0, scale={"i": 1e-14})
    sat = cfg.resources()["saturation"]
    assert any("projection 'ff': weights: 200 value(s) outside signed 8 bits" in s for s in sat)
    assert any("worst-case per-step input sum" in s for s in sat)
    with pytest.raises(DesignRuleError, match="projection 'ff': weights"):
        map_network(net, "ice40-up5k", weight_shift=0, scale={"i": 1e-14}, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        map_network(net, "ice40-up5k")  # the automatic choice fits


def test_cuba_does_not_fit_ice40():
    from conftest import load_example

    cuba = load_example("cuba")
    net, _, _ = cuba.build(seed=1, record_v=0)
    for name in ("ice40-up5k", "artix7"):
        with pytest.raises(DesignRuleError, match="4000 neurons >"):
            map_network(net, name)
