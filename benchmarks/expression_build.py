"""Build time of connectivity written as expressions against FixedProbability, about
5*10^7 synapses each among 20,000 LIF neurons: ``python benchmarks/expression_build.py``.

Rules: FixedProbability(0.125) (geometric skips, cost per synapse);
PairwiseBernoulli(0.125) (one evaluation per pair: 4*10^8 pairs); PairwiseBernoulli with
a Gaussian of distance on a periodic 2-D random layout. Kernels are compiled before the
timed builds.
"""

import time

import axonforge as sim
from axonforge.models import LIF
from axonforge.units import pA

n = 20000


def build(rule, positions=None):
    net = sim.Network(seed=1)
    pop = net.population(LIF(), n=n, positions=positions)
    t = time.perf_counter()
    proj = net.connect(pop, pop, rule=rule, weight=1 * pA)
    return time.perf_counter() - t, len(proj)


# warm (compile)
w = sim.Network(seed=0)
p = w.population(LIF(), n=50, positions=sim.random_positions((1.0, 1.0), periodic=True))
for r in (
    sim.FixedProbability(0.125),
    sim.PairwiseBernoulli(0.125),
    sim.PairwiseBernoulli(sim.expr("0.5*exp(-d**2/(2*s**2))", s=0.2)),
):
    w.connect(p, p, rule=r, weight=1 * pA)
print("| rule | synapses | build [s] |")
print("|---|---|---|")
for name, rule, pos in [
    ("FixedProbability(0.125)", sim.FixedProbability(0.125), None),
    ("PairwiseBernoulli('0.125')", sim.PairwiseBernoulli(0.125), None),
    (
        "PairwiseBernoulli(0.5 exp(-d^2/2s^2)), 2-D periodic",
        sim.PairwiseBernoulli(sim.expr("0.5*exp(-d**2/(2*s**2))", s=0.2)),
        sim.random_positions((1.0, 1.0), periodic=True),
    ),
]:
    t, m = build(rule, pos)
    print(f"| {name} | {m:,} | {t:.2f} |")
