"""Digital neuromorphic cores described as data, and what every mapped network offers.

A :class:`Target` says what a core computes and holds: its neuron model and arithmetic
(bit widths of membrane state, synaptic current, weights and traces; decay by multiplier
or by shift), its limits (neurons per core, cores, fan-in, fan-out, delay range, weight
memory) and its clock (cycles per neuron update, hence the time step it can sustain).
:data:`TARGETS` holds the shipped ones by name; :func:`get` looks one up.

Mapping a network onto a target (:meth:`Target.map`) gives a configuration object with
the protocol described in :class:`MappedNetwork`; exporters, the fidelity report and the
command line use only that protocol.
"""

from __future__ import annotations

import dataclasses

import numpy as np


class DesignRuleError(ValueError):
    """A network breaks a target's limits. ``violations`` lists one line per broken rule,
    each naming the population or projection, the quantity and the limit."""

    def __init__(self, target, violations):
        self.target, self.violations = target, list(violations)
        lines = "\n  ".join(self.violations)
        super().__init__(
            f"the network does not fit target {target!r} ({len(self.violations)} "
            f"design-rule violation(s)):\n  {lines}"
        )


class UnsupportedError(DesignRuleError):
    """The network holds something the target cannot run at all (a neuron model, a
    plasticity rule, a kind of source, a coupling); each line names the object."""


@dataclasses.dataclass
class EmulatorResult:
    """What an emulator run returns: the spikes as (step, neuron) pairs sorted by step
    then neuron (neuron = index in the mapped network's neuron space, see
    ``MappedNetwork.index``), the final integer weights per synapse (None without
    plasticity), and anything else the target records (``extra``, e.g. membrane traces)."""

    spike_steps: np.ndarray
    spike_ids: np.ndarray
    n_steps: int
    final_weights: np.ndarray | None = None
    extra: dict = dataclasses.field(default_factory=dict)


class MappedNetwork:
    """The protocol of a network mapped onto a target (documentation; the concrete
    classes are :class:`axonforge.hardware.mapping.CoreConfig` and
    :class:`axonforge.hardware.neurocorex.NeuroCoreXConfig`).

    Attributes: ``target`` (:class:`Target`), ``dt`` [s], ``index`` (population name ->
    ``(kind, start, n)``, kind ``"input"`` or ``"neuron"``: where each population's
    elements sit in the input and neuron index spaces), ``scales`` (physical units per
    least significant bit, e.g. ``{"v": volts, "w": ...}``).

    Methods: ``memories()`` -> list of :class:`~axonforge.hardware.memfiles.Memory`;
    ``resources()`` -> a JSON-able dict (neurons, synapses, memory words, fan-in and
    fan-out per core, what did not fit and why); ``emulate(input_steps, input_ids,
    n_steps)`` -> :class:`EmulatorResult`; ``uart_stream()`` -> bytes (targets with a
    UART configuration interface; others raise ValueError).
    """


@dataclasses.dataclass(frozen=True)
class Target:
    """One digital neuromorphic core (see the module docstring). Every number names its
    source in ``source``."""

    name: str
    description: str
    source: str
    #: the neuron arithmetic: "lif" (the generic core of axonforge.hardware.emulator:
    #: current-based exponential or delta LIF, plus an Izhikevich unit) or "neurocorex"
    #: (that board's RTL)
    model: str
    state_bits: int  # membrane potential
    current_bits: int  # synaptic current
    weight_bits: int
    trace_bits: int  # STDP traces or counters (0: no on-chip learning)
    frac_bits: int  # fraction bits of the state's fixed-point format
    decay: str  # "multiplier", "shift" or "subtractive"
    neurons_per_core: int
    cores: int
    fan_in: int  # synapses onto one neuron
    fan_out: int  # synapses from one neuron or input
    max_delay: int  # largest synaptic delay, in steps
    weight_words: int  # synapse memory words per core
    clock_hz: float
    cycles_per_update: int  # clock cycles per neuron update (time multiplexing)
    dt: float | None = None  # a fixed time step [s], or None: the network's
    stdp: bool = False
    #: clock cycles per synaptic event (one synapse word read, one ring-buffer add)
    cycles_per_synop: int = 1
    #: width of the multiplier coefficients (decays, propagators) in bits, signed
    coef_bits: int = 16
    #: energy figures for the activity report [J]: per synaptic operation and per neuron
    #: update (None: unknown), and where they come from (measured or an estimate)
    energy_per_synop: float | None = None
    energy_per_update: float | None = None
    energy_source: str = ""
    #: the axonforge neuron models the core's arithmetic runs (model "lif": the generic
    #: core of axonforge.hardware.emulator, whose Izhikevich unit is the variant)
    neuron_models: tuple = ("LIF",)

    @property
    def max_neurons(self) -> int:
        """Neurons on the whole device (cores x neurons per core)."""
        return self.cores * self.neurons_per_core

    def max_rate_steps(self, synops_per_step=0) -> float:
        """Time steps per second the clock sustains for a full core plus
        ``synops_per_step`` synaptic events per step."""
        cycles = self.neurons_per_core * self.cycles_per_update
        cycles += synops_per_step * self.cycles_per_synop
        return self.clock_hz / max(cycles, 1)

    def map(self, net, **options):
        """Map ``net`` onto this target: a :class:`MappedNetwork` (design-rule checks
        first: :class:`DesignRuleError`)."""
        if self.model == "neurocorex":
            from axonforge.hardware.neurocorex import map_network
        else:
            from axonforge.hardware.mapping import map_network
        return map_network(net, self, **options)


#: the shipped targets by name (filled in by the target definitions below)
TARGETS: dict = {}


def _add(target: Target) -> Target:
    TARGETS[target.name] = target
    return target


#: Lattice iCE40 UltraPlus UP5K: one time-multiplexed LIF/Izhikevich core.
ICE40_UP5K = _add(
    Target(
        name="ice40-up5k",
        description=(
            "Lattice iCE40 UP5K: one time-multiplexed core, 256 neurons, 16-bit state and "
            "currents, 8-bit weights, 15 delay slots; synapse words (25 of 32 bits) in two "
            "SPRAM banks, ring buffer, state and parameters in the other two and in EBR; "
            "decays and propagators on the MAC16 (16 x 16 signed, Q1.15 coefficients); "
            "no on-chip learning"
        ),
        source=(
            "device: Lattice iCE40 UltraPlus family data sheet FPGA-DS-02008 (UP5K: 5280 "
            "LUT4, 30 EBR x 4 kbit = 120 kbit, 4 SPRAM x 256 kbit (16K x 16) = 128 KB, "
            "8 DSP MAC16 16x16); core sizing (this design): synapse memory = 2 SPRAM as 16K "
            "words of 32 bits; ring 256 neurons x 15 slots x 2 ports x 16 bit = 123 kbit in "
            "a third SPRAM; clock 24 MHz (12 MHz oscillator x 2 by the PLL; a small LIF "
            "design reached 42-58 MHz with nextpnr, shared/reference/toolchains.md B); "
            "4 cycles per neuron update (3 MACs + write-back on one MAC16)"
        ),
        model="lif",
        state_bits=16,
        current_bits=16,
        weight_bits=8,
        trace_bits=0,
        frac_bits=15,
        decay="multiplier",
        neurons_per_core=256,
        cores=1,
        fan_in=1024,
        fan_out=256,
        max_delay=15,
        weight_words=16384,
        clock_hz=24e6,
        cycles_per_update=4,
        stdp=False,
        cycles_per_synop=1,
        coef_bits=16,
        neuron_models=("LIF", "Izhikevich"),
        energy_per_synop=200e-12,
        energy_per_update=800e-12,
        energy_source=(
            "ESTIMATE, not measured: about 5 mW dynamic core power at 24 MHz (order of "
            "magnitude of the Lattice iCE40 UltraPlus power figures, FPGA-DS-02008 / "
            "Radiant power calculator) -> ~200 pJ per clock cycle; 1 cycle per synaptic "
            "operation, 4 per neuron update"
        ),
    )
)

#: Xilinx Artix-7 XC7A100T: two cores with on-chip pair STDP.
ARTIX7 = _add(
    Target(
        name="artix7",
        description=(
            "Xilinx Artix-7 (XC7A100T; an XC7A35T holds one core): 2 time-multiplexed "
            "cores of 1024 neurons, 24-bit state and currents, 16-bit weights, 15 delay "
            "slots, 32K synapse words of 36 bits (one BRAM36 width) per core; decays and "
            "propagators on DSP48E1 (25 x 18: Q1.17 coefficients); pair STDP with 8-bit "
            "traces"
        ),
        source=(
            "device: Xilinx 7 Series FPGAs Data Sheet: Overview DS180 (XC7A35T: 50 BRAM36 "
            "= 1800 kbit, 90 DSP48E1; XC7A100T: 135 BRAM36 = 4860 kbit, 240 DSP48E1); core "
            "sizing (this design) per core: synapses 32K x 36 bit = 32 BRAM36, ring 1024 x "
            "15 x 2 x 24 bit = 21 BRAM36, state/parameters/traces ~9 BRAM36, so ~62 of 135 "
            "BRAM36 per core; 100 MHz clock (-1 speed grade, a conservative target); 2 "
            "cycles per neuron update (pipelined)"
        ),
        model="lif",
        state_bits=24,
        current_bits=24,
        weight_bits=16,
        trace_bits=8,
        frac_bits=17,
        decay="multiplier",
        neurons_per_core=1024,
        cores=2,
        fan_in=4096,
        fan_out=2048,
        max_delay=15,
        weight_words=32768,
        clock_hz=100e6,
        cycles_per_update=2,
        stdp=True,
        cycles_per_synop=1,
        coef_bits=18,
        neuron_models=("LIF", "Izhikevich"),
        energy_per_synop=300e-12,
        energy_per_update=600e-12,
        energy_source=(
            "ESTIMATE, not measured: about 30 mW dynamic power of one core at 100 MHz "
            "(order of magnitude from the Xilinx Power Estimator for ~60 BRAM36 + 5 DSP48 "
            "at low toggle rates) -> ~300 pJ per cycle; 1 cycle per synaptic operation, 2 "
            "per neuron update"
        ),
    )
)

#: Intel MAX 10 10M50 (the Terasic DE10-Lite board): one core, the generic core's
#: arithmetic on 18 x 18 multipliers.
MAX10 = _add(
    Target(
        name="max10",
        description=(
            "Intel MAX 10 (10M50DAF484C7G, Terasic DE10-Lite): 1 time-multiplexed core of "
            "512 neurons, 18-bit state and currents, 16-bit weights, 15 delay slots, 16K "
            "synapse words per core; decays and propagators on the 18 x 18 embedded "
            "multipliers (Q1.16 coefficients); pair STDP with 8-bit traces"
        ),
        source=(
            "device: Intel MAX 10 FPGA Device Overview (M10-OVERVIEW; 10M50: 49,760 logic "
            "elements, 182 M9K blocks = 1,638 kbit, 144 18 x 18 multipliers); board: "
            "Terasic DE10-Lite user manual (50 MHz oscillator); core sizing (this design): "
            "synapses 16K x 34 bit = 64 M9K, ring 512 x 15 x 2 x 18 bit = 30 M9K, "
            "state/parameters/traces ~12 M9K: ~106 of 182; 50 MHz clock (the board's), 1 "
            "cycle per neuron update (pipelined)"
        ),
        model="lif",
        state_bits=18,
        current_bits=18,
        weight_bits=16,
        trace_bits=8,
        frac_bits=16,
        decay="multiplier",
        neurons_per_core=512,
        cores=1,
        fan_in=2048,
        fan_out=1024,
        max_delay=15,
        weight_words=16384,
        clock_hz=50e6,
        cycles_per_update=1,
        stdp=True,
        cycles_per_synop=1,
        coef_bits=18,
        neuron_models=("LIF", "Izhikevich"),
        energy_per_synop=None,
        energy_per_update=None,
        energy_source="unknown: no measured or estimated figure for this device yet",
    )
)

#: ORNL NeuroCoreX on a Digilent Cmod A7-35T (its RTL; axonforge.hardware.neurocorex).
NEUROCOREX = _add(
    Target(
        name="neurocorex",
        description=(
            "ORNL NeuroCoreX (Cmod A7-35T): 96 time-multiplexed slots, 90 usable neurons, "
            "Q7.10 18-bit state, int8 weights in two 96x96 crossbars (input and recurrent), "
            "subtractive leak, one-step input latency, rectangular-window STDP, UART "
            "configuration at 1 Mbaud"
        ),
        source=(
            "shared/reference/hardware-targets.md section 1, read from ORNL/NeuroCoreX "
            "vhdl_src (Core_engine.vhd, Trig_LIF.vhd, clock_divider.vhd, tpre_matrix.vhd) "
            "and Gautam et al. arXiv 2506.14138 (2025): 100 kHz neuron clock, one slot per "
            "cycle, 96 slots -> dt = 0.96 ms; 90 usable neurons (slots 4-93)"
        ),
        model="neurocorex",
        state_bits=18,
        current_bits=18,
        weight_bits=8,
        trace_bits=8,
        frac_bits=10,
        decay="subtractive",
        neurons_per_core=90,
        cores=1,
        fan_in=180,
        fan_out=90,
        max_delay=1,
        weight_words=2 * 96 * 96,
        clock_hz=100e3,
        cycles_per_update=1,
        dt=0.96e-3,
        stdp=True,
        cycles_per_synop=0,
        coef_bits=18,
        energy_per_synop=None,
        energy_per_update=None,
        energy_source="no published energy figures for NeuroCoreX",
    )
)


#: published energy figures of neuromorphic chips, for comparison in the activity report
#: ([J] per synaptic operation, per neuron update, source)
REFERENCE_ENERGY = {
    "loihi": (
        23.6e-12,
        52e-12,
        "Davies et al. (2018) IEEE Micro 38(1):82, Table 1: 23.6 pJ per synaptic spike "
        "op (min), 52 pJ per active neuron update",
    ),
    "odin": (
        12.7e-12,
        None,
        "Frenkel et al. (2019) IEEE TBioCAS 13(1):145: 12.7 pJ per synaptic operation (0.55 V)",
    ),
}


def get(name) -> Target:
    """The target called ``name`` (a :class:`Target` passes through)."""
    if isinstance(name, Target):
        return name
    if name not in TARGETS:
        raise ValueError(f"unknown hardware target {name!r}; known: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
