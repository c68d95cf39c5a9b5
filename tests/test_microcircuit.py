"""Potjans & Diesmann (2014) microcircuit at 10 % of the neurons (examples/microcircuit.py).

Scaling: ``scale=0.1`` keeps every in-degree, weight and input of the full model (NEST's
``N_scaling``), 7,717 neurons and 2.99·10⁷ synapses; fixed seed 1; rates over 1 s after
0.2 s. Runs in about 10 s with a warm kernel cache, 30-45 s cold (the kernel has 73
projections and compiles in 18-35 s on the 2-core CI machine).

Reference numbers, measured first (tests/fixtures/microcircuit_rates.json):

* NEST 3.10 on the same 10 % network (benchmarks/microcircuit.py --one nest, its own
  random connectivity, seeds 1-3) and axonforge (seeds 1-10): the mean rates agree within
  5 % in every population (axonforge 10 seeds vs NEST 3 seeds: L23E 1.76 vs 1.78, L4E
  4.20 vs 4.16, L5E 10.54 vs 10.05, L6E 1.14 vs 1.12 Hz). One realisation varies more
  than that: over seeds, L23E spans 1.35-2.44 Hz (standard deviation 0.29 Hz, 17 %).
* Since weights and delays are keyed draws (issue 9: values no longer depend on how the
  network is split), the same seeds give other realisations with the same weight and
  delay distributions (mean, spread, KS test, no correlations: checked). Over seeds 1-6
  L23E is 1.77-2.66 Hz (mean 2.13, against 1.76 for the ten earlier realisations); seed 1
  is the highest, and the fixture keeps these runs too.
* The published full-scale rates (NEST's documented full_mean_rates, Potjans &
  Diesmann Fig. 6) are not those of the 10 % model: removing 90 % of the neurons while
  keeping in-degrees makes shared input, and so correlations, ten times larger, which
  raises the rates of the populations driven most by recurrent excitation (L23E 1.8 Hz
  instead of 0.94, L5E 10 instead of 7.7), in NEST exactly as here (van Albada, Helias
  & Diesmann 2015, PLoS Comput. Biol. 11:e1004490: downscaling with fixed in-degrees
  preserves mean input but not correlations).

Tolerances: against the NEST mean at the same scale, per population max(3 standard
deviations of the 19 runs, 10 %) (fixture ``tolerance``: L23E 1.04 Hz, L4E 0.42 Hz, L5E
2.7 Hz, L6E 0.21 Hz, ...): a run that lies outside would be a 3-sigma outlier of the
realisation-to-realisation spread, which no correct implementation should produce for
the fixed seed (seed 1 lies within 0.85 tolerances of the NEST mean everywhere).
Against the published full-scale rates, a factor of 3 either way (measured over 10
seeds: L23E 1.4-2.6x, all others 0.9-1.9x). The orderings tested are those the paper
reports that also held in every one of the 19 runs at this scale: L2/3 and L6
excitatory cells fire slowest, L5E fastest among the excitatory cells, and inhibitory
cells faster than the excitatory cells of their layer in L2/3, L4 and L6 (in L5 the full
model's L5I > L5E gap of 12 % is within the seed spread at this scale, so it is not
tested). Irregularity: mean ISI CV above 0.4 in every population (measured 0.5-0.8).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import load_example

FIXTURE = Path(__file__).parent / "fixtures" / "microcircuit_rates.json"


@pytest.fixture(scope="module")
def run():
    mc = load_example("microcircuit")
    net, _pops, spikes, info = mc.build(scale=0.1, seed=1)
    net.run(0.2)
    net.run(1.0)
    return mc, net, mc.analyse(spikes, info, 0.2, 1.2), info


def test_network_size_and_synapse_count(run):
    mc, net, _res, info = run
    assert int(info["n"].sum()) == 7717
    rec = mc.recurrent(net)
    expected = np.round(mc.full_num_synapses() * 0.1).astype(int)
    assert sum(p.n_synapses for p in rec) == int(expected.sum()) == 29_888_097
    assert sum(p.nbytes for p in rec) / sum(p.n_synapses for p in rec) < 8.2


def test_weights_are_the_published_psc_amplitude():
    mc = load_example("microcircuit")
    assert mc.psc_over_psp() * 0.15e-3 == pytest.approx(87.81e-12, abs=0.01e-12)
    par = mc.parameters(1.0)
    assert par["w"][0, 2] == pytest.approx(2 * par["w"][0, 0])  # L4E -> L23E doubled
    assert par["w"][3, 1] == pytest.approx(-4 * par["w"][3, 0])
    assert int(np.round(mc.full_num_synapses()).sum()) == pytest.approx(2.99e8, rel=0.01)


def test_rates_match_nest_at_the_same_scale(run):
    _mc, _net, res, _info = run
    ref = json.loads(FIXTURE.read_text())
    for name, nest_rate, tol in zip(
        ref["populations"], ref["nest_scale_0.1_mean"], ref["tolerance"]
    ):
        assert abs(res[name]["rate"] - nest_rate) <= tol, (name, res[name]["rate"], nest_rate)


def test_rates_near_the_published_full_scale_rates(run):
    mc, _net, res, _info = run
    for k, name in enumerate(mc.POPS):
        ratio = res[name]["rate"] / mc.REFERENCE_RATES[k]
        assert 1 / 3 < ratio < 3, (name, res[name]["rate"], mc.REFERENCE_RATES[k])


def test_cell_type_orderings_and_irregularity(run):
    _mc, _net, res, _info = run
    r = {k: v["rate"] for k, v in res.items()}
    assert r["L23E"] < r["L4E"] and r["L6E"] < r["L4E"]
    assert r["L5E"] > max(r["L23E"], r["L4E"], r["L6E"])
    for layer in ("L23", "L4", "L6"):
        assert r[layer + "I"] > r[layer + "E"], layer
    for name, v in res.items():
        assert v["cv"] > 0.4, (name, v["cv"])
