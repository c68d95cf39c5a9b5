"""axonforge model library: neuron, astrocyte, input and plasticity specs as plain data.

Nothing here imports the simulator; ``simulator`` compiles these specs into kernels.
"""

from .astrocytes import AstrocyteGChI, AstrocyteLR1994
from .base import KINETICS, NeuronModel, NeuronSpec, compose, spec_model
from .coupling import CouplingModel, CouplingSpec, GapJunction, IP3Diffusion
from .neurons import HH, LIF, AdEx, Izhikevich, LIFCond, LIFHomeostatic
from .plasticity import (
    STDP,
    DopamineSTDP,
    ErrorModulatedHebbian,
    GliotransmitterTsodyksMarkram,
    SynapseModel,
    SynapseSpec,
    TripletSTDP,
    TsodyksMarkram,
)
from .sources import DCSource, NoiseSource, PoissonSource, SpikeSource, SpikeStream, StepCurrent

__all__ = [
    "KINETICS",
    "NeuronModel",
    "NeuronSpec",
    "compose",
    "spec_model",
    "STDP",
    "TripletSTDP",
    "TsodyksMarkram",
    "DopamineSTDP",
    "ErrorModulatedHebbian",
    "SynapseModel",
    "SynapseSpec",
    "CouplingModel",
    "CouplingSpec",
    "GapJunction",
    "LIF",
    "LIFCond",
    "LIFHomeostatic",
    "Izhikevich",
    "AdEx",
    "HH",
    "AstrocyteLR1994",
    "AstrocyteGChI",
    "IP3Diffusion",
    "GliotransmitterTsodyksMarkram",
    "SpikeSource",
    "SpikeStream",
    "PoissonSource",
    "NoiseSource",
    "StepCurrent",
    "DCSource",
]
