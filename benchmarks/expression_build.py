"""Build time of connectivity written as expressions against FixedProbability, about
5*10^7 synapses each among 20,000 LIF neurons: ``python benchmarks/expression_build.py``.

Rules: FixedProbability(0.125) (geometric skips, cost per synapse);
PairwiseBernoulli(0.125) (one evaluation per pair: 4*10^8 pairs); PairwiseBernoulli with
a Gaussian of distance on a periodic 2-D random layout. Then a sparse local network
(skipped with ``--dense-only``): 200,000 neurons on a periodic unit square,
p = 0.5 exp(-d^2/(2 s^2)) with s = 0.01 and a cut-off radius of 5 s (about 1.3*10^7
synapses; 4*10^10 pairs without the cut-off), against FixedProbability with the same
expected number of synapses.

Kernels are compiled before the timed builds. Each build runs ``--repeat`` times (3),
the rules in turn and the order rotated from one round to the next (a process's first
large allocations cost more on some machines); the table gives every run and the median.
"""

import argparse
import math
import statistics
import time

import axonforge as sim
from axonforge.models import LIF
from axonforge.units import pA

parser = argparse.ArgumentParser()
parser.add_argument("--dense-only", action="store_true", help="skip the sparse local network")
parser.add_argument("--repeat", type=int, default=3, help="runs of each build")
args = parser.parse_args()

n = 20000
gauss = "0.5*exp(-d**2/(2*s**2))"
sheet = sim.random_positions((1.0, 1.0), periodic=True)
s, big = 0.01, 200_000
cases = {
    "FixedProbability(0.125)": (lambda: sim.FixedProbability(0.125), None, n),
    "PairwiseBernoulli('0.125')": (lambda: sim.PairwiseBernoulli(0.125), None, n),
    "PairwiseBernoulli(0.5 exp(-d^2/2s^2)), s = 0.2, 2-D periodic": (
        lambda: sim.PairwiseBernoulli(sim.expr(gauss, s=0.2)),
        sheet,
        n,
    ),
}
if not args.dense_only:
    cases.update(
        {
            "sparse: PairwiseBernoulli(same, s = 0.01, radius=5s), 2*10^5 neurons": (
                lambda: sim.PairwiseBernoulli(sim.expr(gauss, s=s), radius=5 * s),
                sheet,
                big,
            ),
            "sparse: FixedProbability(pi s^2) (as many synapses), 2*10^5 neurons": (
                lambda: sim.FixedProbability(math.pi * s * s),
                None,
                big,
            ),
        }
    )


def build(rule, positions=None, size=n):
    net = sim.Network(seed=1)
    pop = net.population(LIF(), n=size, positions=positions)
    t = time.perf_counter()
    proj = net.connect(pop, pop, rule=rule, weight=1 * pA)
    return time.perf_counter() - t, len(proj)


# warm (compile)
w = sim.Network(seed=0)
p = w.population(LIF(), n=50, positions=sheet)
for make, _, _size in cases.values():
    w.connect(p, p, rule=make(), weight=1 * pA)
times = {name: [] for name in cases}
counts = {}
names = list(cases)
for r in range(args.repeat):
    for name in names[r % len(names) :] + names[: r % len(names)]:
        make, pos, size = cases[name]
        t, counts[name] = build(make(), pos, size)
        times[name].append(t)
print("| rule | synapses | runs [s] | median [s] |")
print("|---|---|---|---|")
for name in names:
    runs = ", ".join(f"{t:.2f}" for t in times[name])
    print(f"| {name} | {counts[name]:,} | {runs} | {statistics.median(times[name]):.2f} |")
