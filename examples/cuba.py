"""Vogels & Abbott (2005) CUBA network: 4000 current-based LIF neurons, 2 % connectivity
=====================================================================================

Source: T. P. Vogels & L. F. Abbott, J. Neurosci. 25:10786 (2005), as formalised by the
benchmark 2 ("CUBA") of Brette et al. (2007) J. Comput. Neurosci. 23:349 and Brian2's
``examples/CUBA.py``: tau_m = 20 ms, v_rest = -49 mV, threshold -50 mV, reset -60 mV,
refractory 5 ms, exponential currents tau_exc = 5 ms / tau_inh = 10 ms, 3200 excitatory
and 800 inhibitory neurons, connection probability 0.02, and PSP-equivalent weights
we = 1.62 mV and wi = -9 mV (converted to currents: w * c_m / tau_m with c_m = 250 pF).
Initial v uniform in [-60, -50] mV; no external input: the network sustains itself.

Expected outcome (seed 1, 1 s): self-sustained asynchronous irregular activity with a
mean rate of about 5-6 Hz per neuron (Brian2 2.9 on the same network: see
tests/fixtures/cuba_brian2.json), firing with a mean ISI CV of about 0.5 (Brian2:
0.51-0.53 over five seeds); the raster shows no global synchrony.
Run: ``python examples/cuba.py [--duration 1.0]``.
"""

from __future__ import annotations

import argparse
import time

import axonforge as sim
from axonforge.models import LIF
from axonforge.stats import isi_cv
from axonforge.units import ms, mV, pF

C_M, TAU_M = 250 * pF, 20 * ms
W_EXC = 1.62 * mV * C_M / TAU_M  # 20.25 pA
W_INH = -9.0 * mV * C_M / TAU_M  # -112.5 pA


def build(seed=1, n=4000, p=0.02, dt=0.1 * ms, record_v=2, precision="float64", backend="numba"):
    """The CUBA network; returns ``(net, spike monitor, state monitor or None)``."""
    net = sim.Network(dt=dt, seed=seed, precision=precision, backend=backend)
    model = LIF(
        tau_m=TAU_M,
        c_m=C_M,
        v_rest=-49 * mV,
        v_thresh=-50 * mV,
        v_reset=-60 * mV,
        t_ref=5 * ms,
        tau_syn_exc=5 * ms,
        tau_syn_inh=10 * ms,
        i_offset=0.0,
    )
    pop = net.population(model, n=n, name="all", v=sim.uniform(-60 * mV, -50 * mV))
    n_exc = int(n * 0.8)
    exc, inh = pop[:n_exc], pop[n_exc:]
    net.connect(
        exc, pop, rule=sim.FixedProbability(p), weight=W_EXC, delay=dt, port="exc", name="exc"
    )
    net.connect(
        inh, pop, rule=sim.FixedProbability(p), weight=W_INH, delay=dt, port="inh", name="inh"
    )
    spikes = net.spike_monitor(pop, name="spikes")
    trace = net.state_monitor(pop, ["v"], ids=list(range(record_v)), name="v") if record_v else None
    return net, spikes, trace


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="cuba_raster.png", help="output PNG")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    net, spikes, trace = build(seed=args.seed)
    net.run(args.duration, progress=True)
    wall = time.perf_counter() - t0
    rate = spikes.mean_rate()
    print(
        f"CUBA: {spikes.num_spikes} spikes from {len(spikes.sel)} neurons in "
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
        title=f"CUBA (Vogels & Abbott 2005): {rate:.2f} Hz",
    )
    print(f"figure written to {args.figure}")
    return net, spikes


if __name__ == "__main__":
    main()
