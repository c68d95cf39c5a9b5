"""A travelling wave on a 2-D sheet with distance-dependent connectivity and delays
=================================================================================

A periodic sheet of 60 x 60 excitatory LIF neurons (delta synapses) 50 um apart, each
connected to the others with probability ``p0 exp(-d^2 / (2 sigma^2))`` (sigma = 100 um)
through axons that conduct at ``v`` = 0.2 m/s, so a synapse's delay is ``0.3 ms + d/v``
(NEST's spatial networks and Brian2's ``connect(p='...')`` with distance-dependent
delays, e.g. Mehring et al. 2003, Biol. Cybern. 88:395, for travelling activity in
locally connected sheets). A brief Poisson volley excites a patch in the centre; the
activity then spreads as a ring-shaped wave, each neuron firing once as the front passes
(the refractory period, 20 ms, outlasts it), and the fronts annihilate where they meet
across the periodic border.

Expected outcome: the first-spike time of the neurons grows linearly with the distance
from the stimulated patch (correlation above 0.95), at a constant speed of about
0.06-0.08 m/s: the front advances about one connection radius per synaptic delay plus
the few milliseconds the membrane needs to reach threshold, slower than the axons'
0.2 m/s. ``python examples/travelling_wave.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonforge as sim
from axonforge.models import LIF, PoissonSource
from axonforge.units import Hz, ms, mV

UM = 1e-6


def build(side=60, spacing=50 * UM, sigma=100 * UM, p0=0.8, velocity=0.2, weight=3 * mV,
          seed=1):  # fmt: skip
    """The sheet, the stimulus and a spike monitor: ``(net, spikes, stimulated ids)``."""
    net = sim.Network(dt=0.1 * ms, seed=seed)
    model = LIF(kinetics="delta", tau_m=10 * ms, v_rest=0.0, v_thresh=15 * mV, v_reset=0.0,
                t_ref=20 * ms, c_m=250e-12)  # fmt: skip
    layout = sim.grid((side, side), spacing=spacing, periodic=True)
    sheet = net.population(model, positions=layout, name="sheet", v=sim.uniform(0.0, 5 * mV))
    net.connect(
        sheet, sheet,
        rule=sim.PairwiseBernoulli(sim.expr("p0*exp(-d**2/(2*s**2))", p0=p0, s=sigma),
                                   condition=sim.expr("i != j and d < 4*s", s=sigma)),
        weight=weight,
        delay=sim.expr("0.3e-3 + d/v", v=velocity),
        round_delays=True,
    )  # fmt: skip
    centre = (side // 2) * spacing
    d = np.hypot(*(sheet.positions - centre).T)
    patch = np.flatnonzero(d <= 3 * spacing)
    volley = net.population(PoissonSource(rate=400 * Hz), n=len(patch) * 20, name="volley")
    net.connect(volley, sheet[patch], rule=sim.FixedInDegree(20), weight=3 * mV)
    spikes = net.spike_monitor(sheet, name="spikes")
    net.info = dict(centre=np.array([centre, centre]))
    return net, spikes, patch


def front(net, spikes):
    """``(distance from the centre, first-spike time)`` of every neuron that fired."""
    sheet = net.populations["sheet"]
    centre = net.info["centre"]
    first = np.full(sheet.n, np.inf)
    np.minimum.at(first, spikes.ids, spikes.times)
    fired = np.isfinite(first)
    d = np.hypot(*(sheet.positions[fired] - centre).T)
    return d, first[fired]


def run(net, duration):
    """The 5 ms volley, then the sheet alone."""
    net.run(5 * ms)
    net.populations["volley"].set(rate=0.0)
    net.run(duration - 5 * ms)


def speed(net, spikes):
    """``(front speed [m/s], correlation of first-spike time with distance)``."""
    d, t = front(net, spikes)
    return 1.0 / np.polyfit(d, t, 1)[0], np.corrcoef(d, t)[0, 1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=0.08)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="travelling_wave.png")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    net, spikes, _ = build(seed=args.seed)
    run(net, args.duration)
    d, t = front(net, spikes)
    v, corr = speed(net, spikes)
    sheet = net.populations["sheet"]
    wall = time.perf_counter() - t0
    print(
        f"{len(d)} of {sheet.n} neurons fired; first spike against distance: correlation "
        f"{corr:.3f}, speed {v:.3f} m/s; wall {wall:.1f} s"
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    first = np.full(sheet.n, np.nan)
    np.fmin.at(first, spikes.ids, spikes.times)
    side = int(round(np.sqrt(sheet.n)))
    im = a.imshow(first.reshape(side, side) * 1e3, origin="lower", cmap="viridis")
    fig.colorbar(im, ax=a, label="first spike [ms]")
    a.set_title("first-spike time on the sheet")
    b.plot(d * 1e3, t * 1e3, ".", ms=2)
    b.set_xlabel("distance from the stimulus [mm]")
    b.set_ylabel("first spike [ms]")
    b.set_title(f"front speed {v:.3f} m/s")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=110)
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
