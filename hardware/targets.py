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
    #: the neuron arithmetic: "lif" (current-based exponential LIF of
    #: axonforge.hardware.emulator) or "neurocorex" (that board's RTL)
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


def get(name) -> Target:
    """The target called ``name`` (a :class:`Target` passes through)."""
    if isinstance(name, Target):
        return name
    if name not in TARGETS:
        raise ValueError(f"unknown hardware target {name!r}; known: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
