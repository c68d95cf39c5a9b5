"""What gap junctions cost: ``python benchmarks/gap_junctions.py [--threads N]``, or under
``mpirun -n N`` for ranks (rank 0 prints).

10,000 LIF neurons with spikelets (tests/simulator/engine_cases.py's ``SPIKELET_LIF``)
and chemical synapses (in-degree 100, delay 1.5 ms), with and without 10 gap junctions
per neuron (``Spikelet`` couplings, 10^5 of them). With couplings the network runs in
one-step chunks: every step each worker sums its targets' couplings from snapshots, the
threads meet at their barriers and MPI ranks exchange the snapshots (``Allgatherv`` of
8 bytes per neuron and coupled variable). Prints the simulated seconds per wall second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "simulator"))

from engine_cases import SPIKELET_LIF, Spikelet  # noqa: E402

import axonforge as sim  # noqa: E402
from axonforge.models.base import spec_model  # noqa: E402
from axonforge.units import ms, mV, pA  # noqa: E402


def build(coupled, threads, n=10_000, seed=1):
    net = sim.Network(dt=0.1 * ms, seed=seed, threads=threads)
    drive = np.random.default_rng(seed).uniform(180e-12, 260e-12, n)
    cells = net.population(spec_model(SPIKELET_LIF, i_e=drive), n=n,
                           v=sim.uniform(-60 * mV, -50 * mV))  # fmt: skip
    net.connect(cells, cells, rule=sim.FixedInDegree(100), weight=5 * pA, delay=1.5 * ms)
    if coupled:
        net.connect(cells, cells, rule=sim.FixedInDegree(10, allow_autapses=False),
                    weight=sim.uniform(0.2e-9, 1e-9), synapse=Spikelet())  # fmt: skip
    return net, net.spike_monitor(cells)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--duration", type=float, default=0.5)
    a = ap.parse_args()
    rows = []
    for coupled in (False, True):
        net, spikes = build(coupled, a.threads)
        net.run(0.01)  # compile
        t0 = time.perf_counter()
        net.run(a.duration)
        wall = time.perf_counter() - t0
        rows.append((coupled, wall, len(spikes.times), net.workers))
    if sim.Network().rank == 0:
        where = f"{net.ranks} rank(s) x {rows[0][3]} thread(s)"
        for coupled, wall, count, _ in rows:
            kind = "with gap junctions" if coupled else "chemical synapses only"
            print(f"| {where} | {kind} | {wall:.3f} | {a.duration / wall:.3f} | {count} |")
        print(f"cost of the couplings: {rows[1][1] / rows[0][1]:.2f}x")


if __name__ == "__main__":
    main()
