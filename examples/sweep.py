"""A parameter sweep in one process: 20 membrane time constants, one compilation
=============================================================================

Parameters, weights and state are arguments of the compiled kernel, never part of its
code, so networks that differ only in values share one kernel. Expected outcome: the
printed compile statistics show at most one kernel compiled (zero if an earlier process
left it in the on-disk cache) and 19 or more reuses, and the rate rises with tau_m.
``python examples/sweep.py``
"""

from __future__ import annotations

import numpy as np

import axonforge as sim
from axonforge.models import LIF, PoissonSource
from axonforge.units import Hz, ms, mV, pA


def rate_for(tau_m, seed=1):
    net = sim.Network(dt=0.1 * ms, seed=seed)
    pop = net.population(LIF(tau_m=tau_m, v_thresh=-55 * mV), n=200)
    ext = net.population(PoissonSource(rate=2000 * Hz), n=200)
    net.connect(ext, pop, rule=sim.OneToOne(), weight=80 * pA)
    net.connect(pop, pop, rule=sim.FixedProbability(0.1), weight=-20 * pA, port="inh", delay=1 * ms)
    spikes = net.spike_monitor(pop)
    net.run(0.5)
    return spikes.mean_rate()


def main():
    before = sim.compile_stats()
    taus = np.linspace(5, 30, 20) * ms
    rates = [rate_for(tau) for tau in taus]
    after = sim.compile_stats()
    for tau, r in zip(taus, rates):
        print(f"tau_m = {tau / ms:5.1f} ms -> {r:6.2f} Hz")
    delta = {k: after[k] - before[k] for k in after}
    print(f"compile statistics for 20 networks: {delta}")


if __name__ == "__main__":
    main()
