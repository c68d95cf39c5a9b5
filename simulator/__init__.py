"""axonforge: networks of spiking neurons compiled to Numba kernels.

``import axonforge as af`` gives the simulator API (this package, the repository's
``simulator/`` folder); the model library is ``axonforge.models`` (``models/``) and the
hardware layer ``axonforge.hardware`` (``hardware/``). Quick start::

    import axonforge as af
    from axonforge.units import ms, pA
    from axonforge.models import LIF

    net = af.Network(dt=0.1*ms, seed=1)
    pop = net.population(LIF(i_offset=400*pA), n=10)
    spikes = net.spike_monitor(pop)
    net.run(0.1)
"""

from axonforge import analysis, plot, stats, units  # matplotlib is imported on first use
from axonforge.backends.numba_backend import STATS as _STATS
from axonforge.connectivity import (
    AllToAll,
    Distribution,
    Explicit,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    FixedTotalNumber,
    OneToOne,
    PairwiseBernoulli,
    exponential,
    lognormal,
    normal,
    uniform,
)
from axonforge.encoding import send_on_delta
from axonforge.expressions import expr
from axonforge.network import Network
from axonforge.readers import (
    SpikeData,
    read_spikes,
    read_timeseries,
    spikes_from_events,
    write_spikes,
)
from axonforge.space import grid, random_positions
from axonforge.spec import SpecError, check_spec
from axonforge.tripartite import TripartiteBernoulliWithPool

__version__ = "0.1.0"


def compile_stats() -> dict:
    """Kernel counts in this process: generated modules, Numba compilations, loads from
    Numba's on-disk cache, and reuses of an already loaded kernel."""
    return dict(_STATS)


def load(path):
    """Load a network saved with :meth:`Network.save`."""
    from axonforge import io

    return io.load_network(path, Network)


__all__ = [
    "analysis",
    "plot",
    "stats",
    "units",
    "Network",
    "load",
    "read_spikes",
    "read_timeseries",
    "spikes_from_events",
    "write_spikes",
    "send_on_delta",
    "SpikeData",
    "compile_stats",
    "check_spec",
    "SpecError",
    "AllToAll",
    "OneToOne",
    "FixedProbability",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedTotalNumber",
    "Explicit",
    "Distribution",
    "PairwiseBernoulli",
    "TripartiteBernoulliWithPool",
    "expr",
    "grid",
    "random_positions",
    "uniform",
    "normal",
    "lognormal",
    "exponential",
]
