"""The core's UART configuration loader (hardware/rtl/af_uart_loader.v) in Icarus
Verilog: a stream from :func:`rtl.uart_stream` writes exactly the exported memories, and
every kind of bad stream or .mem file is rejected by its checks."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import axonforge as sim
from axonforge.hardware import export, rtl
from axonforge.hardware.mapping import map_network
from axonforge.models import LIF, PoissonSource

if shutil.which("iverilog") is None:
    if os.environ.get("CI"):
        pytest.fail("iverilog is missing on this CI machine (.ci/run installs it)", pytrace=False)
    pytest.skip("no Icarus Verilog (apt-get install iverilog)", allow_module_level=True)


def small(n=20, seed=5):
    net = sim.Network(dt=1e-3, seed=seed)
    inp = net.population(PoissonSource(rate=40.0), n=8, name="in")
    pop = net.population(LIF(t_ref=2e-3), n=n, name="a")
    net.connect(inp, pop, rule=sim.FixedProbability(0.5), weight=60e-12, name="in",
                delay=sim.uniform(1e-3, 3e-3), round_delays=True)  # fmt: skip
    net.connect(pop, pop, rule=sim.FixedProbability(0.2), weight=-30e-12, port="inh",
                name="rec")  # fmt: skip
    return net


def packet(cmd, payload):
    chk = cmd[0]
    for b in payload:
        chk ^= b
    return b"\xa5" + cmd + payload + bytes([chk])


def header(cfg):
    return rtl.uart_stream(cfg).split(b"\xa5W", 1)[0]


def test_the_stream_loads_every_exported_memory(tmp_path):
    cfg = map_network(small(), "ice40-up5k")
    paths = export(small(), target="ice40-up5k", format="mem", out=tmp_path)
    res = rtl.simulate_loader(cfg, rtl.uart_stream(cfg, mem_dir=tmp_path, chunk=16))
    assert (res["err"], res["done"]) == (0, True)
    # the exported .mem files, parsed here (not by the writer), are what was written
    names = {p.stem for p in map(type(tmp_path), paths) if p.suffix == ".mem"}
    mems = rtl.core_memories(cfg)
    assert {m.name for m in mems} <= names
    for mem in mems:
        words = []
        for line in (tmp_path / f"{mem.name}.mem").read_text().splitlines():
            words += [int(t, 16) for t in line.split("//")[0].split()]
        got = res["writes"][mem.name]
        assert sorted(got) == list(range(len(mem.words))), mem.name
        assert [got[i] for i in range(len(mem.words))] == words[: len(mem.words)], mem.name
    assert sum(len(w) for w in res["writes"].values()) == sum(len(m.words) for m in mems)


def test_a_stream_for_other_core_parameters_is_rejected_before_any_write():
    cfg = map_network(small(n=20), "ice40-up5k")
    other = map_network(small(n=24), "ice40-up5k")  # another N, NPC, SYN, ...
    res = rtl.simulate_loader(cfg, rtl.uart_stream(other))
    assert res["err"] == 2 and not res["done"]
    assert rtl.UART_PARAMS[res["err_info"]] == "N"  # the first parameter that differs
    assert res["writes"] == {}


def test_mem_files_for_other_core_parameters_are_rejected(tmp_path):
    cfg = map_network(small(n=20), "ice40-up5k")
    export(small(n=24), target="ice40-up5k", format="mem", out=tmp_path)
    # the neuron memories are exported for every slot of the device; the row pointers
    # (one a source) are the first memory whose depth differs
    with pytest.raises(ValueError, match=r"core0_row_ptr\.mem has 33 words, but this "
                                         r"core's core0_row_ptr holds 29"):  # fmt: skip
        rtl.uart_stream(cfg, mem_dir=tmp_path)
    export(small(n=20), target="ice40-up5k", format="mem", out=tmp_path)
    path = tmp_path / "core0_theta.mem"
    lines = path.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip() and not line.startswith("//"))
    lines[i] = "1ffff"  # 17 bits in a 16-bit memory
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"core0_theta\.mem has a word 1ffff wider"):
        rtl.uart_stream(cfg, mem_dir=tmp_path)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="core0_theta"):
        rtl.uart_stream(cfg, mem_dir=tmp_path)


def test_each_bad_packet_is_named_by_its_error_code():
    cfg = map_network(small(), "ice40-up5k")
    mems = rtl.core_memories(cfg)
    hdr = header(cfg)
    theta = next(i for i, m in enumerate(mems) if m.name == "core0_theta")
    depth = len(mems[theta].words)

    def write(mem, addr, words, nbytes=2):
        head = bytes([mem]) + addr.to_bytes(3, "big") + len(words).to_bytes(3, "big")
        return packet(b"W", head + b"".join(w.to_bytes(nbytes, "big") for w in words))

    cases = {
        "no sync": (b"\x00" + hdr, 1, 0),
        "unknown command": (hdr + packet(b"X", b""), 1, ord("X")),
        "write before header": (write(theta, 0, [1]), 3, 0),
        "unknown memory": (hdr + write(len(mems), 0, [1]), 4, len(mems)),
        "past the end": (hdr + write(theta, depth - 1, [1, 2]), 5, theta),
        "checksum": (hdr + write(theta, 0, [7])[:-1] + b"\x00", 6, ord("W")),
        "bad magic": (packet(b"H", b"AX" + hdr[4:-1]), 2, 255),
    }
    for name, (stream, code, info) in cases.items():
        res = rtl.simulate_loader(cfg, stream)
        assert (res["err"], res["err_info"], res["done"]) == (code, info, False), name
        if code != 6:  # found before any word of the packet is written
            assert res["writes"] == {}, name
    # a good header and one write: accepted, and not done without G
    res = rtl.simulate_loader(cfg, hdr + write(theta, 3, [0x1234, 0xFFFF]))
    assert (res["err"], res["done"]) == (0, False)
    assert res["writes"] == {"core0_theta": {3: 0x1234, 4: 0xFFFF}}
    assert rtl.UART_ERRORS[res["err"] or 6]  # every code is documented


def test_yosys_synthesises_the_loader_for_ice40(tmp_path):
    from test_hw_rtl import needs_yosys

    needs_yosys()
    cfg = map_network(small(), "ice40-up5k")
    cells = rtl.synthesize_loader(cfg, tmp_path)
    assert 50 < cells.get("SB_LUT4", 0) < 1500
    assert np.sum([v for k, v in cells.items() if k.startswith("SB_DFF")]) > 50


def test_core_memory_ids_are_the_positions_in_core_memories():
    from test_hw_rtl import plastic, recurrent

    for net in (recurrent(), plastic()):
        cfg = map_network(net, "artix7")
        names = [m.name.removeprefix("core0_") for m in rtl.core_memories(cfg)]
        for name, mem_id in rtl.CORE_MEMORY_IDS.items():
            if name in names:
                assert names.index(name) == mem_id, name
        if (cfg.arrays["rule"] >= 0).any():
            assert set(rtl.CORE_MEMORY_IDS) <= set(names)


@pytest.mark.parametrize("which", ["recurrent", "plastic"])
def test_core_configured_over_uart_equals_the_emulator(which):
    # blank memories, the configuration sent on the serial line to the loader inside the
    # testbench, then the steps: the same spikes, states (and learnt weights) as the
    # emulator from the same configuration
    import test_hw_rtl

    net = getattr(test_hw_rtl, which)()
    cfg = map_network(net, "artix7")
    st, ids = test_hw_rtl.inputs(cfg.n_inputs, 300, 0.04, seed=3)
    em, _ = test_hw_rtl.assert_same(cfg, 300, st, ids, min_spikes=100, via_uart=True)
    assert (em.final_weights is not None) == (which == "plastic")
