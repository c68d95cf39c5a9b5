"""NIR export and import (axonforge.hardware.nir_io): graphs written by other frameworks
run with the spikes those frameworks documented, the documented weight factor and
discretisation, round trips, and a clear error for everything NIR or axonforge cannot
express. Fixtures and their provenance: tests/fixtures/nir/README.md."""

import json
import math

import nir
import numpy as np
import pytest
from conftest import FIXTURES

import axonforge as af
from axonforge import hardware
from axonforge.models import LIF, STDP, Izhikevich, PoissonSource, SpikeSource

NIR_DIR = FIXTURES / "nir"
DT = 1e-4


def spikes(mon):
    return np.asarray(mon.times), np.asarray(mon.ids)


# ------------------------------------------------------------------ other frameworks
def test_the_nir_papers_lif_graph_spikes_where_exact_norse_and_snntorch_spike():
    """paper/01_lif: a Norse-written LIF graph driven by the paper's input train. The
    exact solution, Norse and snnTorch all spike in steps 460, 510, 710, 760; so do we
    (tolerance: the same step), and each of our spike times is the exact crossing
    rounded up to the grid."""
    ref = json.loads((NIR_DIR / "lif_paper_spikes.json").read_text())
    assert ref["dt"] == DT
    samples = np.zeros(ref["n_samples"])
    samples[ref["input_samples"]] = 1
    net = hardware.from_nir(NIR_DIR / "lif_norse.nir", dt=DT, inputs={"input": samples})
    assert set(net.populations) == {"input", "1"} and set(net.projections) == {"0"}
    mon = net.spike_monitor(net.populations["1"])
    vmon = net.state_monitor(net.populations["1"], ["v"])
    net.run(ref["n_samples"] * DT)
    steps = np.round(mon.times / DT).astype(int) - 1  # our time (k+1)*dt is step k
    for framework in ("exact", "norse", "snntorch", "nengo", "spinnaker2"):
        assert steps.tolist() == ref["spike_steps"][framework], framework
    late = mon.times - np.array(ref["exact_spike_times"])
    assert np.all((late > 0) & (late <= DT))
    # before the first spike the membrane is NIR's exact solution at every step end
    tau, v, exact = 2.5e-3, 0.0, []
    for x in samples[:460]:
        v = x + (v - x) * math.exp(-DT / tau)  # r = 1, v_leak = 0, input held for dt
        exact.append(v)
    # (to float32 precision: the graph's tau is float32, and so are axonforge's weights)
    np.testing.assert_allclose(vmon["v"][:460, 0], exact, rtol=1e-6, atol=1e-12)


def test_a_self_spiking_lif_and_its_psps_follow_the_one_step_input_reading():
    """two_lif_neurons.nir (paper/01_lif/debug_spike_representation): LIF1 with v_leak
    above threshold fires regularly (interval: the exact one, tau*ln(1.2/0.2), rounded up
    to whole steps, since the reset comes at the end of the step); each of its spikes is
    the input 1 held for one step into LIF2, a jump of r*(1 - exp(-dt/tau)) one step
    later (the README there: the effect grows with dt, as the input's integral is dt)."""
    net = hardware.from_nir(NIR_DIR / "two_lif_neurons.nir", dt=DT)
    m1 = net.spike_monitor(net.populations["lif1"])
    v2 = net.state_monitor(net.populations["lif2"], ["v"])
    net.run(0.1)
    period = math.ceil(0.01 * math.log(1.2 / 0.2) / DT)
    # v starts at v_leak = 1.2 > threshold: the first step spikes
    expected = DT * (1 + period * np.arange(len(m1.times)))
    np.testing.assert_allclose(m1.times, expected, rtol=0, atol=1e-12)
    assert len(m1.times) == 1 + (1000 - 1) // period
    jump = 1.0 * -math.expm1(-DT / 0.01)
    t = v2.t[:, None]
    arrive = m1.times[None, :] + DT
    psp = np.where(t >= arrive - 1e-12, jump * np.exp(-(t - arrive) / 0.01), 0.0).sum(1)
    np.testing.assert_allclose(v2["v"][:, 0], psp, rtol=1e-7, atol=1e-13)  # float32 weights
    assert not len(net.spike_monitor(net.populations["lif2"]).times)


def _reference(graph, x, dt):
    """An independent NumPy run of a two-layer recurrent CubaLIF graph of the Braille
    form (input -> fc1 -> lif1.lif <-> lif1.w_rec, lif1.lif -> fc2 -> lif2) under the
    documented discretisation: exact free evolution over a step (constant drive from the
    biases), the step's input added to I at its end (gain w_in*(1 - exp(-dt/tau_syn)),
    weights rounded to float32 as axonforge stores them), threshold and reset at the end
    of the step, one step from a spike to its targets."""
    nd = graph.nodes

    def layer(name, bias):
        p = nd[name]
        a = {k: np.asarray(getattr(p, k), np.float64) for k in
             ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")}  # fmt: skip
        a["gain"] = a["w_in"] * -np.expm1(-dt / a["tau_syn"])
        a["i_ss"] = a["w_in"] * bias
        return a

    def bias(node):
        return np.asarray(getattr(nd[node], "bias", 0.0), np.float64)

    L1 = layer("lif1.lif", bias("fc1") + bias("lif1.w_rec"))
    L2 = layer("lif2", bias("fc2"))
    w = {k: np.asarray(nd[k].weight, np.float64) for k in ("fc1", "lif1.w_rec", "fc2")}
    out = []
    state = [(L1["v_leak"].copy(), np.zeros_like(L1["v_leak"])),
             (L2["v_leak"].copy(), np.zeros_like(L2["v_leak"]))]  # fmt: skip
    s1_prev = np.zeros(len(L1["v_leak"]))
    for k in range(len(x)):
        inputs = (w["fc1"], x[k], w["lif1.w_rec"], s1_prev), (w["fc2"], s1_prev)
        new = []
        for (v, i), L, inp in zip(state, (L1, L2), inputs):
            es, em = np.exp(-dt / L["tau_syn"]), np.exp(-dt / L["tau_mem"])
            d = i - L["i_ss"]
            ts, tm = L["tau_syn"], L["tau_mem"]
            v_inf = L["v_leak"] + L["r"] * L["i_ss"]
            v = v_inf + (v - v_inf) * em + L["r"] * d * ts / (ts - tm) * (es - em)
            i = L["i_ss"] + d * es
            for m, s in zip(inp[::2], inp[1::2]):
                jumps = (L["gain"][:, None] * m).astype(np.float32).astype(np.float64)
                i = i + jumps @ s
            fire = v >= L["v_threshold"]
            v = np.where(fire, L["v_reset"], v)
            new.append((v, i, fire))
        state = [(v, i) for v, i, _ in new]
        s1_prev = new[0][2].astype(np.float64)
        out.append((new[0][2], new[1][2]))
    return out


@pytest.mark.parametrize("name", ["braille_noDelay_bias_zero", "braille_noDelay_noBias_subtract"])
def test_snntorch_braille_graphs_import_with_the_documented_factor_and_run(name):
    """The NIR paper's Braille networks, written by snnTorch (r = tau_mem/dt, w_in =
    tau_syn/dt): sizes and parameters as the graph says, weights = w_in*(1 -
    exp(-dt/tau_syn)) * W split by sign onto exc/inh, Affine biases as a constant drive,
    and a run on random input spikes identical, spike for spike, to an independent NumPy
    implementation of the documented discretisation."""
    graph = nir.read(NIR_DIR / f"{name}.nir", type_check=False)
    assert not graph.metadata  # snnTorch stores no dt: it must be given
    with pytest.raises(ValueError, match="no 'dt'.*pass dt="):
        hardware.from_nir(NIR_DIR / f"{name}.nir")
    rng = np.random.default_rng(7)
    x = (rng.random((1000, 12)) < 0.3).astype(float)
    x[0] = 0  # sample 0 cannot be replayed (the first replayable time is dt)
    net = hardware.from_nir(NIR_DIR / f"{name}.nir", dt=DT, inputs={"input": x}, seed=1)
    n1 = graph.nodes["lif1.lif"].v_threshold.size
    assert {k: p.n for k, p in net.populations.items()} == {"input": 12, "lif1.lif": n1, "lif2": 7}
    lif1, node = net.populations["lif1.lif"], graph.nodes["lif1.lif"]
    np.testing.assert_allclose(lif1.params["tau_m"], node.tau_mem)
    np.testing.assert_allclose(lif1.params["c_m"], node.tau_mem / node.r)
    np.testing.assert_allclose(lif1.params["tau_syn_inh"], node.tau_syn)
    assert np.all(lif1.params["t_ref"] == 0)
    gain = node.w_in * -np.expm1(-DT / node.tau_syn)
    # snnTorch adds W itself per step (w_in*dt/tau_syn = 1); exact integration gives
    # (tau_syn/dt)*(1 - exp(-dt/tau_syn)) of it
    np.testing.assert_allclose(gain, node.tau_syn / DT * -np.expm1(-DT / node.tau_syn), rtol=1e-6)
    w = np.zeros((n1, 12))
    for port in ("exc", "inh"):
        p = net.projections[f"fc1:{port}"]
        assert p.port == port and np.all(np.sign(p.weights) == (1 if port == "exc" else -1))
        w[p.post_ids, p.pre_ids] += p.weights
        assert np.all(p.delays == DT)
    expect = gain[:, None] * np.asarray(graph.nodes["fc1"].weight, np.float64)
    np.testing.assert_allclose(w, expect, rtol=1e-7)
    if "bias" in name:
        b = np.float64(graph.nodes["fc1"].bias) + np.float64(graph.nodes["lif1.w_rec"].bias)
        drive = np.float64(node.w_in) * b
        np.testing.assert_allclose(lif1.params["i_offset"], drive, rtol=1e-12)
        np.testing.assert_allclose(lif1.get("i_syn_exc"), -drive, rtol=1e-12)
    mons = [net.spike_monitor(net.populations[k]) for k in ("lif1.lif", "lif2")]
    net.run(len(x) * DT)
    ref = _reference(graph, x, DT)
    for layer, mon in enumerate(mons):
        fired = np.array([r[layer] for r in ref])
        steps, ids = np.nonzero(fired)
        assert len(steps) > 20
        order = np.lexsort((mon.ids, mon.times))
        np.testing.assert_array_equal(np.round(mon.times[order] / DT).astype(int) - 1, steps)
        np.testing.assert_array_equal(mon.ids[order], ids)


# ------------------------------------------------------------------------ round trip
def _lif_network(i_offset=0.0):
    net = af.Network(dt=DT, seed=3)
    rng = np.random.default_rng(0)
    times = np.unique(np.round(rng.uniform(1e-3, 0.2, 400), 4))
    ids = rng.integers(0, 20, len(times))
    src = net.population(SpikeSource(times=times, ids=ids), 20, name="inp")
    exc = net.population(LIF(t_ref=0.0, tau_syn_exc=5e-3, tau_syn_inh=5e-3), 30, name="exc")
    rest = -70e-3 + 20e-3 * i_offset / 250e-12  # the exported node's rest (v_leak)
    inh = net.population(
        LIF(kinetics="delta", t_ref=0.0, i_offset=i_offset), 10, name="inh", v=rest
    )
    net.connect(src, exc, af.FixedProbability(0.5), weight=1.2e-9, name="in_exc")
    net.connect(exc, inh, af.FixedProbability(0.3), weight=2e-3, delay=3e-4, name="e_i")
    net.connect(inh, exc, af.FixedProbability(0.3), weight=-1e-9, port="inh", name="i_e")
    net.connect(exc, exc, af.FixedProbability(0.1), weight=0.3e-9, name="rec")
    return net, (times, ids)


def test_round_trip_float_nir_float_gives_the_same_spikes(tmp_path):
    net, (times, ids) = _lif_network(i_offset=50e-12)
    graph = hardware.to_nir(net)
    nir.write(tmp_path / "net.nir", graph)
    back = hardware.from_nir(tmp_path / "net.nir", inputs={"inp": SpikeSource(times, ids)})
    assert set(back.populations) == set(net.populations)
    assert set(back.projections) == set(net.projections)
    for name, proj in net.projections.items():
        other = back.projections[name]
        assert other.port == proj.port
        a = sorted(zip(proj.pre_ids, proj.post_ids, proj.weights, proj.delays))
        b = sorted(zip(other.pre_ids, other.post_ids, other.weights, other.delays))
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-7, atol=0)
    mons = [n.spike_monitor(n.populations[p]) for n in (net, back) for p in ("exc", "inh")]
    net.run(0.2)
    back.run(0.2)
    for a, b in ((mons[0], mons[2]), (mons[1], mons[3])):
        assert len(a.times) > 100
        np.testing.assert_array_equal(spikes(a)[0], spikes(b)[0])
        np.testing.assert_array_equal(spikes(a)[1], spikes(b)[1])


def _same(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)) and not np.isscalar(a):
        assert sorted(map(tuple, a)) == sorted(map(tuple, b)), where
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b)), where


def test_the_exported_graph_survives_nir_write_and_read_field_by_field(tmp_path):
    net, _ = _lif_network()
    graph = hardware.to_nir(net)
    nir.write(tmp_path / "net.nir", graph)
    back = nir.read(tmp_path / "net.nir")  # with NIR's own type check
    a, b = graph.to_dict(), back.to_dict()
    _same(a["nodes"], b["nodes"], "nodes")
    _same(a["edges"], b["edges"], "edges")
    assert float(b["metadata"]["dt"]) == DT


def test_exported_conventions_weight_factor_one_r_w_in_delays_and_dt():
    net, _ = _lif_network(i_offset=50e-12)
    g = hardware.to_nir(net)
    assert g.metadata["dt"] == DT
    kinds = {k: type(v).__name__ for k, v in g.nodes.items()}
    assert kinds == {
        "inp": "Input", "exc": "CubaLIF", "inh": "LIF", "in_exc": "Linear", "e_i": "Linear",
        "e_i:delay": "Delay", "i_e": "Linear", "rec": "Linear",
        "output_exc": "Output", "output_inh": "Output",
    }  # fmt: skip
    exc, inh = g.nodes["exc"], g.nodes["inh"]
    np.testing.assert_allclose(exc.r, 20e-3 / 250e-12)  # tau_m/c_m: I in amperes
    np.testing.assert_allclose(exc.w_in, 1 / -np.expm1(-DT / 5e-3))
    np.testing.assert_allclose(exc.tau_syn, 5e-3)
    np.testing.assert_allclose(exc.v_leak, -70e-3)
    np.testing.assert_allclose(inh.r, 1 / -np.expm1(-DT / 20e-3))
    np.testing.assert_allclose(inh.v_leak, -70e-3 + 20e-3 * 50e-12 / 250e-12)
    np.testing.assert_allclose(g.nodes["e_i:delay"].delay, 2e-4)  # 3e-4 - one step
    for name in ("in_exc", "e_i", "i_e", "rec"):
        p = net.projections[name]
        w = g.nodes[name].weight
        assert w.shape == (p.post_pop.n, p.pre_pop.n)  # NIR's (out, in)
        np.testing.assert_array_equal(w[p.post_ids, p.pre_ids], p.weights)  # factor 1
        assert np.count_nonzero(w) == len(p)
    assert ("e_i", "e_i:delay") in g.edges and ("e_i:delay", "inh") in g.edges
    assert ("rec", "exc") in g.edges and ("exc", "rec") in g.edges


def test_delays_per_target_export_and_import_and_shift_spikes(tmp_path):
    net = af.Network(dt=DT, seed=1)
    src = net.population(SpikeSource(times=[1e-3, 2e-3], ids=[0, 1]), 2, name="src")
    post = net.population(LIF(kinetics="delta", t_ref=0.0), 3, name="post")
    pairs = af.Explicit([0, 1, 0, 1, 0], [0, 0, 1, 1, 2])
    d = np.array([1, 1, 4, 4, 2]) * DT  # per target
    net.connect(src, post, pairs, weight=20e-3, delay=d, name="p")
    g = hardware.to_nir(net)
    np.testing.assert_allclose(g.nodes["p:delay"].delay, np.array([0, 3, 1]) * DT)
    back = hardware.from_nir(g, inputs={"src": SpikeSource([1e-3, 2e-3], [0, 1])})
    np.testing.assert_allclose(sorted(back.projections["p"].delays), sorted(d))
    mon = back.spike_monitor(back.populations["post"])
    back.run(5e-3)
    # each input spike alone crosses threshold (20 mV jump, 15 mV to go), delay later
    got = sorted(zip(np.round(mon.times / DT).astype(int), mon.ids))
    assert got == sorted([(10 + 1, 0), (20 + 1, 0), (10 + 4, 1), (20 + 4, 1), (10 + 2, 2)])
    # a delay per source too; per synapse cannot be expressed
    net.connect(src, post, af.Explicit([0, 1], [0, 0]), weight=1e-3, delay=[DT, 2 * DT], name="q")
    assert type(hardware.to_nir(net).nodes["q:delay"]).__name__ == "Delay"
    net.connect(src, post, pairs, weight=1e-3, delay=[1e-4, 2e-4, 3e-4, 4e-4, 5e-4], name="r")
    with pytest.raises(ValueError, match="per-synapse delays: projection 'r'"):
        hardware.to_nir(net)


# ------------------------------------------------------------------ other node types
def _graph(nodes, edges, **meta):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)


def test_if_with_a_bias_and_a_nested_recurrent_subgraph():
    """IF: dv/dt = r*b from an Affine bias: v reaches 1 after ceil(1/(r*b*dt)) steps,
    and the pattern repeats from the reset. A nested NIRGraph (snnTorch's RLeaky form)
    flattens to '<graph>.<node>' populations and acts as its flat equivalent."""
    one = np.ones(1)
    g = _graph(
        {
            "in": nir.Input(input_type=np.array([1])),
            "fc": nir.Affine(weight=np.zeros((1, 1)), bias=np.array([90.0])),
            "if": nir.IF(r=one, v_threshold=one, v_reset=0 * one),
        },
        [("in", "fc"), ("fc", "if")],
        dt=DT,
    )
    net = hardware.from_nir(g)
    assert len(net.projections) == 0  # an all-zero matrix makes no synapse
    mon = net.spike_monitor(net.populations["if"])
    net.run(0.05)
    n = math.ceil(1 / (90 * DT) - 1e-9)
    np.testing.assert_allclose(mon.times, DT * n * np.arange(1, len(mon.times) + 1), atol=1e-12)
    assert len(mon.times) == 500 // n

    def lif():
        return nir.LIF(tau=np.full(2, 0.02), r=np.full(2, 200.0), v_leak=np.zeros(2),
                       v_threshold=np.ones(2), v_reset=np.zeros(2))  # fmt: skip

    w_rec = np.array([[0.0, 0.02], [0.02, 0.0]])
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([2])), "lif": lif(),
               "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type=np.array([2]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False,
    )  # fmt: skip
    w_in = np.array([[0.3, 0.0], [0.0, 0.2]])
    nested = _graph(
        {"in": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=w_in),
         "rnn": inner, "out": nir.Output(output_type=np.array([2]))},
        [("in", "fc"), ("fc", "rnn"), ("rnn", "out")], dt=DT,
    )  # fmt: skip
    flat = _graph(
        {"in": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=w_in),
         "rnn.lif": lif(), "rnn.w_rec": nir.Linear(weight=w_rec)},
        [("in", "fc"), ("fc", "rnn.lif"), ("rnn.lif", "rnn.w_rec"), ("rnn.w_rec", "rnn.lif")],
        dt=DT,
    )  # fmt: skip
    x = (np.random.default_rng(2).random((300, 2)) < 0.3).astype(float)
    x[0] = 0
    got = []
    for graph in (nested, flat):
        net = hardware.from_nir(graph, inputs={"in": x})
        assert "rnn.lif" in net.populations and "rnn.w_rec" in net.projections
        mon = net.spike_monitor(net.populations["rnn.lif"])
        net.run(0.03)
        got.append(spikes(mon))
    assert len(got[0][0]) > 10
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])


def test_an_li_readout_never_spikes_and_its_v_is_nirs_leaky_integral():
    g = _graph(
        {"in": nir.Input(input_type=np.array([1])), "w": nir.Linear(weight=np.array([[2.0]])),
         "li": nir.LI(tau=np.array([0.01]), r=np.array([1.0]), v_leak=np.array([0.0])),
         "out": nir.Output(output_type=np.array([1]))},
        [("in", "w"), ("w", "li"), ("li", "out")], dt=DT,
    )  # fmt: skip
    net = hardware.from_nir(g, inputs={"in": SpikeSource([1e-3])})
    v = net.state_monitor(net.populations["li"], ["v"])
    net.run(3e-3)
    # the input 2 held over [1 ms, 1.1 ms], integrated exactly
    t = v.t
    want = np.where(
        t >= 1.1e-3 - 1e-12, 2 * -np.expm1(-DT / 0.01) * np.exp(-(t - 1.1e-3) / 0.01), 0
    )
    np.testing.assert_allclose(v["v"][:, 0], want, rtol=1e-7, atol=1e-15)  # float32 weights
    with pytest.warns(UserWarning, match="'li': NIR graphs hold no state"):  # v has moved
        back = hardware.to_nir(net)
    assert type(back.nodes["li"]).__name__ == "LI"


# ------------------------------------------------------------------------ errors
def test_export_refuses_what_nir_cannot_express_naming_the_object():
    def net_with(**kw):
        net = af.Network(dt=DT, seed=1)
        net.population(LIF(**kw), 2, name="exc")
        return net

    with pytest.raises(
        ValueError,
        match=r"NIR cannot express a refractory period: population 'exc' has t_ref = 2 ms; "
        r"set t_ref=0 to export",
    ):
        hardware.to_nir(net_with())
    with pytest.raises(ValueError, match="'alpha' synaptic kinetics: population 'exc'"):
        hardware.to_nir(net_with(t_ref=0.0, kinetics="alpha"))
    net = af.Network(dt=DT, seed=1)
    net.population(Izhikevich(), 2, name="izh")
    with pytest.raises(ValueError, match="Izhikevich neurons: population 'izh'"):
        hardware.to_nir(net)
    net = af.Network(dt=DT, seed=1)
    net.population(PoissonSource(rate=10.0), 2, name="noise")
    with pytest.raises(ValueError, match="PoissonSource: population 'noise'"):
        hardware.to_nir(net)
    net = net_with(t_ref=0.0, tau_syn_exc=5e-3, tau_syn_inh=10e-3)
    pop = net.populations["exc"]
    net.connect(pop, pop, weight=1e-12, name="e")
    hardware.to_nir(net)  # one port used: its tau_syn
    net.connect(pop, pop, weight=-1e-12, port="inh", name="i")
    with pytest.raises(
        ValueError, match=r"two synaptic time constants: population 'exc'.*'e'.*'i'"
    ):
        hardware.to_nir(net)
    net = net_with(t_ref=0.0)
    pop = net.populations["exc"]
    net.connect(pop, pop, weight=1e-12, synapse=STDP(), name="plastic")
    with pytest.raises(ValueError, match="plasticity: projection 'plastic'"):
        hardware.to_nir(net)
    net = net_with(t_ref=0.0)
    net.populations["exc"].set(v=-60e-3)
    with pytest.warns(UserWarning, match="population 'exc': NIR graphs hold no state"):
        hardware.to_nir(net)


def test_import_errors_name_the_file_the_node_and_the_fix(tmp_path):
    bad = tmp_path / "notes.nir"
    bad.write_text("not hdf5")
    with pytest.raises(ValueError, match=r"notes\.nir: not a NIR file"):
        hardware.from_nir(bad)
    with pytest.raises(FileNotFoundError, match="missing.nir"):
        hardware.from_nir(tmp_path / "missing.nir", dt=DT)
    conv = _graph(
        {"in": nir.Input(input_type=np.array([1, 4, 4])),
         "c1": nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 3, 3)), stride=1,
                          padding=0, dilation=1, groups=1, bias=np.zeros(1))},
        [("in", "c1")], dt=DT,
    )  # fmt: skip
    with pytest.raises(ValueError, match="node 'c1' is a Conv2d, which axonforge cannot import"):
        hardware.from_nir(conv)
    lif = nir.LIF(tau=np.ones(1) * 0.01, r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.ones(1))
    loop = _graph({"a": lif, "w": nir.Linear(weight=np.ones((1, 1)))}, [("a", "w"), ("w", "a")])
    with pytest.raises(ValueError, match=r"cycle \(a -> w -> a\) but no Input node"):
        hardware.from_nir(loop, dt=DT)
    li = _graph(
        {"in": nir.Input(input_type=np.array([1])),
         "li": nir.LI(tau=np.ones(1) * 0.01, r=np.ones(1), v_leak=np.zeros(1)), "b": lif},
        [("in", "li"), ("li", "b")], dt=DT,
    )  # fmt: skip
    with pytest.raises(ValueError, match="LI node 'li' drives 'b'.*graded"):
        hardware.from_nir(li)
    delayed = _graph(
        {"in": nir.Input(input_type=np.array([1])), "d": nir.Delay(delay=np.array([1.5e-4])),
         "b": lif},
        [("in", "d"), ("d", "b")], dt=DT,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"Delay nodes \['d'\].*not a multiple of dt"):
        hardware.from_nir(delayed)
    ok = _graph({"in": nir.Input(input_type=np.array([1])), "b": lif}, [("in", "b")], dt=DT)
    with pytest.raises(ValueError, match="'inp', which is no Input node.*\\['in'\\]"):
        hardware.from_nir(ok, inputs={"inp": SpikeSource([1e-3])})
    with pytest.raises(ValueError, match="a 1 at sample 0"):
        hardware.from_nir(ok, inputs={"in": np.array([1.0, 0.0])})
    shapes = _graph(
        {"in": nir.Input(input_type=np.array([3])), "w": nir.Linear(weight=np.ones((1, 2))),
         "b": lif},
        [("in", "w"), ("w", "b")], dt=DT,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"'w' has weight of shape \(1, 2\).*3 elements"):
        hardware.from_nir(shapes)
