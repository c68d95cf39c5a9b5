"""spikeforge simulator: networks of spiking neurons compiled to Numba kernels.

Quick start::

    import simulator as sim
    from simulator.units import ms, mV, pA
    from models import LIF

    net = sim.Network(dt=0.1*ms, seed=1)
    pop = net.population(LIF(i_offset=400*pA), n=10)
    spikes = net.spike_monitor(pop)
    net.run(0.1)
"""

from simulator import plot  # matplotlib is imported lazily inside
from simulator.backends.numba_backend import STATS as _STATS
from simulator.connectivity import (
    AllToAll,
    Distribution,
    Explicit,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    OneToOne,
    exponential,
    lognormal,
    normal,
    uniform,
)
from simulator.network import Network
from simulator.spec import SpecError, check_spec

__version__ = "0.1.0"


def compile_stats() -> dict:
    """Kernel counts in this process: generated modules, Numba compilations, loads from
    Numba's on-disk cache, and reuses of an already loaded kernel."""
    return dict(_STATS)


def load(path):
    """Load a network saved with :meth:`Network.save`."""
    from simulator import io

    return io.load_network(path)


__all__ = [
    "plot",
    "Network",
    "load",
    "compile_stats",
    "check_spec",
    "SpecError",
    "AllToAll",
    "OneToOne",
    "FixedProbability",
    "FixedInDegree",
    "FixedOutDegree",
    "Explicit",
    "Distribution",
    "uniform",
    "normal",
    "lognormal",
    "exponential",
]
