"""Gap junctions synchronise a population of oscillators
======================================================

200 LIF neurons, each an oscillator driven by a constant current (periods from about 20
to 30 ms, so uncoupled they drift apart), coupled by electrical synapses that pass the
spike as a brief depolarisation (the "spikelet" of Lewis & Rinzel 2003, J. Comput.
Neurosci. 14:283; Brian2's gap-junction example): each neuron has 20 junctions, of
conductance ``g``, with random partners, in both directions. The synchrony measure is
Golomb's chi (Golomb 2007, Scholarpedia 2:1347): the standard deviation of the
population-averaged potential over the mean standard deviation of single neurons'
potentials, about 1/sqrt(N) for independent neurons and 1 for identical ones.

Expected outcome: chi about 0.06 without coupling; about 0.7 with g = 1 nS, where the
neurons fire in volleys at a common period (their different drives keep their
potentials from coinciding between spikes, so chi stays below 1).
``python examples/gap_junctions.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonforge as sim
from axonforge.models import GapJunction, NeuronSpec, spec_model
from axonforge.units import ms, mV

OSCILLATOR = NeuronSpec(
    name="SpikeletLIF",
    parameters={
        "c": (200e-12, "F", "capacitance"),
        "g_l": (10e-9, "S", "leak conductance"),
        "e_l": (-70e-3, "V", "leak reversal"),
        "i_e": (250e-12, "A", "drive"),
        "v_th": (-50e-3, "V", "threshold"),
        "v_r": (-60e-3, "V", "reset"),
        "t_ref": (1e-3, "s", "refractory period"),
        "tau_s": (1e-3, "s", "width of the spike seen through gap junctions"),
    },
    state={
        "v": ("e_l", "V", "membrane potential"),
        "s": (0.0, "1", "spike waveform: 1 at a spike, decaying"),
        "i_gap": (0.0, "A", "gap-junction current"),
    },
    equations=("dv/dt = (g_l*(e_l - v) + i_e + i_gap)/c", "ds/dt = -s/tau_s"),
    threshold="v >= v_th",
    reset=("v = v_r", "s += 1"),
    refractory="t_ref",
    clamped=("v",),
    source="LIF with a spike waveform for electrical coupling (Lewis & Rinzel 2003)",
)


def build(g=1e-9, n=200, partners=20, seed=1):
    """``(net, spikes, potentials)``: the population, coupled with conductance ``g``."""
    net = sim.Network(dt=0.1 * ms, seed=seed)
    drive = np.random.default_rng(seed).uniform(230e-12, 290e-12, n)
    cells = net.population(spec_model(OSCILLATOR, i_e=drive), n=n, name="cells",
                           v=sim.uniform(-60 * mV, -50 * mV))  # fmt: skip
    if g > 0:
        # partners drawn one way, then the same pairs the other way: symmetric junctions
        rng = np.random.default_rng(seed + 1)
        pre = np.repeat(np.arange(n), partners // 2)
        post = (pre + rng.integers(1, n, len(pre))) % n
        pairs = sim.Explicit(np.concatenate([pre, post]), np.concatenate([post, pre]))
        net.connect(cells, cells, rule=pairs, weight=g, synapse=GapJunction(spike="s"))
    spikes = net.spike_monitor(cells, name="spikes")
    potentials = net.state_monitor(cells, ["v"], every=5, name="v")
    return net, spikes, potentials


def chi(potentials, skip=0.5):
    """Golomb's synchrony measure over the recording after ``skip`` seconds."""
    v = potentials["v"][potentials.t >= skip]
    return float(np.std(v.mean(axis=1)) / np.mean(np.std(v, axis=0)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.5)
    ap.add_argument("--g", type=float, default=1e-9, help="junction conductance [S]")
    ap.add_argument("--figure", default="gap_junctions.png")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    results = {}
    for g in (0.0, args.g):
        net, spikes, potentials = build(g=g)
        net.run(args.duration)
        results[g] = (spikes, potentials, chi(potentials))
        print(f"g = {g * 1e9:.2f} nS: {spikes.mean_rate():.1f} Hz, synchrony chi = "
              f"{results[g][2]:.2f}")  # fmt: skip
    print(f"wall {time.perf_counter() - t0:.1f} s")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    for ax, (g, (spikes, _pot, x)) in zip(axes, results.items()):
        ax.plot(spikes.times, spikes.ids, ".", ms=1.5)
        ax.set_ylabel("neuron")
        ax.set_title(f"g = {g * 1e9:.2f} nS: chi = {x:.2f}")
    axes[-1].set_xlabel("time [s]")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=110)
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
