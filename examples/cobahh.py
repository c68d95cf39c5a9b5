"""COBAHH: 4000 Hodgkin-Huxley neurons with conductance-based synapses, exponential Euler
=========================================================================================

Source: benchmark 3 ("COBAHH") of Brette et al. (2007) J. Comput. Neurosci. 23:349,
after Destexhe et al. (2001), in the form of Brian2's ``examples/COBAHH.py``: 4000
single-compartment neurons with Traub & Miles (1991) Hodgkin-Huxley kinetics
(:class:`axonforge.models.HH`: 200 pF, leak 10 nS at -60 mV, g_Na = 20 uS, g_K = 6 uS,
VT = -63 mV), 3200 excitatory and 800 inhibitory, connection probability 0.02,
exponential conductances (tau_e = 5 ms to 0 mV, tau_i = 10 ms to -80 mV) with jumps
we = 6 nS and wi = 67 nS; a spike is counted when v crosses -20 mV (3 ms dead time, no
reset). dt = 0.1 ms, exponential Euler (Brian2's method for this model). No external
input: the initial state starts the activity, which then sustains itself. Initial
values as in Brian2: v ~ N(-65 mV, 5 mV), g_exc ~ N(40 nS, 15 nS), g_inh ~ N(200 nS,
120 nS), the two conductances truncated at 0 (redrawn; Brian2 lets about 5 % of g_inh
start slightly negative); m = h = n = 0. Synapses transmit with the minimum delay of one
step (Brian2's example has none: there a spike's conductance jump is applied in the
same step, here in the next).

Expected outcome (seed 1, 1 s): self-sustained irregular activity, 37.7 Hz on average
(32-39 Hz over 20 seeds) with a mean ISI CV of 2.0 (1.86-2.03): each neuron fires bursts
of action potentials (peaks near +45 mV) separated by pauses of tens to hundreds of
milliseconds, as the membrane traces show. Brian2 2.9 gives the same statistics for
the same network (benchmarks/README.md, "COBAHH": 20-seed means 35.2 Hz here against
34.8 Hz, CV 1.94 against 1.93). The state stays finite at dt = 0.1 ms.
Run: ``python examples/cobahh.py [--duration 1.0] [--n 4000]``.
"""

from __future__ import annotations

import argparse
import time

import axonforge as sim
from axonforge.models import HH
from axonforge.stats import isi_cv
from axonforge.units import ms, mV, nS

W_EXC, W_INH = 6 * nS, 67 * nS


def build(seed=1, n=4000, p=None, dt=0.1 * ms, record_v=3):
    """The COBAHH network; returns ``(net, spike monitor, state monitor or None)``.

    ``p`` defaults to 80/n (0.02 for the paper's 4000 neurons), so a smaller network
    keeps the in-degree of 64 excitatory and 16 inhibitory inputs."""
    p = 80.0 / n if p is None else p
    net = sim.Network(dt=dt, seed=seed)
    pop = net.population(
        HH(tau_syn_exc=5 * ms, tau_syn_inh=10 * ms, e_rev_exc=0 * mV, e_rev_inh=-80 * mV),
        n=n,
        name="all",
        v=sim.normal(-65 * mV, 5 * mV),
        g_exc=sim.normal(40 * nS, 15 * nS, low=0.0),
        g_inh=sim.normal(200 * nS, 120 * nS, low=0.0),
    )
    n_exc = int(n * 0.8)
    exc, inh = pop[:n_exc], pop[n_exc:]
    net.connect(
        exc, pop, rule=sim.FixedProbability(p), weight=W_EXC, delay=dt, port="exc", name="exc"
    )
    net.connect(
        inh, pop, rule=sim.FixedProbability(p), weight=W_INH, delay=dt, port="inh", name="inh"
    )
    spikes = net.spike_monitor(pop, name="spikes")
    ids = [1, 10, 100][:record_v]
    trace = net.state_monitor(pop, ["v"], ids=ids, name="v") if record_v else None
    return net, spikes, trace


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=4000, help="neurons (in-degree kept at 80)")
    ap.add_argument("--figure", default="cobahh.png", help="output PNG")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    net, spikes, trace = build(seed=args.seed, n=args.n)
    net.run(args.duration, progress=True)
    wall = time.perf_counter() - t0
    rate = spikes.mean_rate()
    print(
        f"COBAHH: {spikes.num_spikes} spikes from {len(spikes.sel)} neurons in "
        f"{args.duration} s -> mean rate {rate:.2f} Hz, mean ISI CV {isi_cv(spikes):.2f}"
    )
    print(
        f"synapses: {sum(p.n_synapses for p in net.projections.values())}; "
        f"timings [s]: build {net.timings['build']:.2f}, compile {net.timings['compile']:.2f}, "
        f"simulate {net.timings['run']:.3f}; whole script {wall:.2f}"
    )
    sim.plot.summary(
        spikes=spikes,
        states=trace,
        path=args.figure,
        title=f"COBAHH (Brette et al. 2007), exponential Euler: {rate:.2f} Hz",
    )
    print(f"figure written to {args.figure}")
    return net, spikes


if __name__ == "__main__":
    main()
