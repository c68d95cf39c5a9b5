"""Song, Miller & Abbott (2000): competitive Hebbian learning through STDP
=======================================================================

Source: S. Song, K. D. Miller & L. F. Abbott, "Competitive Hebbian learning through
spike-timing-dependent synaptic plasticity", Nat. Neurosci. 3:919 (2000), Figs. 1-2;
parameters as Brian2's ``examples/synapses/STDP.py`` (which follows the paper): one
conductance-based integrate-and-fire neuron (tau_m 10 ms, E_L -74 mV, threshold -54 mV,
reset -60 mV, E_exc 0 mV, tau_exc 5 ms) driven by 1000 excitatory Poisson inputs at
15 Hz through additive STDP synapses: ``tau_+ = tau_- = 20 ms``, ``A_+ = 0.01 g_max``,
``A_- = -1.05 A_+``, weights in [0, g_max], g_max = 0.01 of the leak conductance, initial
weights uniform in [0, g_max].

Expected outcome (paper, Fig. 2): the weight distribution becomes bimodal, most weights
near 0 or near g_max, and the output rate settles to a moderate value that depends only
weakly on the input rate (rate regulation). ``python examples/song_stdp.py --duration 100``
writes the weight histogram and the weight-versus-time of a few synapses.
"""

from __future__ import annotations

import argparse

import numpy as np

import axonforge as sim
from axonforge.models import STDP, LIFCond, PoissonSource
from axonforge.units import Hz, ms, mV, nF

C_M, TAU_M = 1 * nF, 10 * ms
G_LEAK = C_M / TAU_M  # 100 nS
G_MAX = 0.01 * G_LEAK


def build(n_inputs=1000, rate=15 * Hz, seed=1):
    """Returns ``(net, input projection, output spike monitor)``."""
    net = sim.Network(dt=0.1 * ms, seed=seed)
    neuron = LIFCond(
        tau_m=TAU_M,
        c_m=C_M,
        v_rest=-74 * mV,
        v_thresh=-54 * mV,
        v_reset=-60 * mV,
        t_ref=0.0,
        tau_syn_exc=5 * ms,
        e_rev_exc=0.0,
    )
    out = net.population(neuron, n=1, name="output", v=-74 * mV)
    inputs = net.population(PoissonSource(rate=rate), n=n_inputs, name="inputs")
    a_plus = 0.01 * G_MAX
    rule = STDP(
        tau_plus=20 * ms,
        tau_minus=20 * ms,
        a_plus=a_plus,
        a_minus=-1.05 * a_plus,
        w_min=0.0,
        w_max=G_MAX,
    )
    proj = net.connect(
        inputs,
        out,
        rule=sim.AllToAll(),
        weight=sim.uniform(0.0, G_MAX),
        delay=0.1 * ms,
        synapse=rule,
        name="stdp",
    )
    return net, proj, net.spike_monitor(out, name="output")


def bimodality(weights):
    """Fractions of weights in the lowest and highest tenth of [0, g_max]."""
    w = np.asarray(weights) / G_MAX
    return float(np.mean(w < 0.1)), float(np.mean(w > 0.9))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=100.0)
    ap.add_argument("--figure", default="song_stdp.png")
    args = ap.parse_args(argv)
    net, proj, spikes = build()
    traces = net.weight_monitor(proj, synapses=[0, 1, 2, 3, 4], every=1000)
    net.run(args.duration, progress=True)
    low, high = bimodality(proj.weights)
    late = spikes.times[spikes.times > args.duration / 2]
    print(
        f"Song et al. 2000: after {args.duration} s, {low:.0%} of weights < 0.1 g_max and "
        f"{high:.0%} > 0.9 g_max; output rate over the second half "
        f"{len(late) / (args.duration / 2):.1f} Hz"
    )
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    a.hist(proj.weights / G_MAX, bins=40)
    a.set_xlabel("w / g_max")
    a.set_ylabel("synapses")
    b.plot(traces.t, traces["w"] / G_MAX)
    b.set_xlabel("time [s]")
    b.set_ylabel("w / g_max")
    fig.suptitle("STDP (Song, Miller & Abbott 2000): bimodal weights")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=110)
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
