"""Izhikevich (2007) distal reward: dopamine-modulated STDP finds the one rewarded synapse
=======================================================================================

Source: E. M. Izhikevich, "Solving the distal reward problem through linkage of STDP and
dopamine signaling", Cereb. Cortex 17:2443 (2007), Fig. 1, and its code ``daspnet.m``.
1000 Izhikevich neurons (800 regular-spiking excitatory, 200 fast-spiking inhibitory),
100 synapses per neuron (excitatory onto any neuron, inhibitory onto excitatory ones,
random targets), 1 ms delays; excitatory synapses start at 1 mV, are plastic with
:class:`axonforge.models.DopamineSTDP` (eligibility tau_c = 1 s, windows 20 ms, bounds [0, 4] mV)
and inhibitory ones are -1 mV. Every millisecond each neuron gets uniform random input
(the code's 13*(rand - 0.5) mV). One synapse, from neuron n1 to neuron n2, starts at 0.
Whenever n2 fires within 20 ms after n1, a reward arrives 1-3 s later (uniform), raising
the dopamine concentration by 0.5 (decay 0.2 s). Nothing else is rewarded, and in
between n1 and n2 fire with thousands of other pairs.

Expected outcome (paper, Fig. 1): the rewarded synapse climbs to the maximum 4 mV
within the one-hour experiment while the other excitatory synapses stay low (the
weight distribution piles up near 0). Here the run stops early once the synapse has
held the maximum for ``--hold`` seconds; ``--duration 3600`` is the paper's hour.
``python examples/distal_reward.py``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonforge as sim
from axonforge.models import DopamineSTDP, Izhikevich, NoiseSource
from axonforge.units import ms, mV

W_MAX = 4 * mV


def build(seed=1, dt=0.5 * ms, n_exc=800, n_inh=200, fanout=100):
    """The network; returns ``(net, plastic projection, index of the rewarded synapse,
    (n1, n2), monitor of n1 and n2 spikes)``."""
    net = sim.Network(dt=dt, seed=seed)
    n = n_exc + n_inh
    a = np.r_[np.full(n_exc, 0.02), np.full(n_inh, 0.1)] * 1e3  # 1/s (paper: 1/ms)
    d = np.r_[np.full(n_exc, 8.0), np.full(n_inh, 2.0)]  # V/s (paper: mV/ms)
    pop = net.population(Izhikevich(a=a, d=d), n=n, name="cortex")
    exc, inh = pop[:n_exc], pop[n_exc:]
    dopamine = net.modulator("dopamine", tau=0.2)
    rule = DopamineSTDP(a_plus=10 * mV, a_minus=-15 * mV, w_max=W_MAX)  # weights in volts
    proj = net.connect(
        exc,
        pop,
        rule=sim.FixedOutDegree(fanout),
        weight=1 * mV,
        delay=1 * ms,
        synapse=rule,
        modulator=dopamine,
        name="exc",
    )
    net.connect(
        inh,
        exc,
        rule=sim.FixedOutDegree(fanout),
        weight=-1 * mV,
        delay=1 * ms,
        port="inh",
        name="inh",
    )
    # the code's 13*(rand - 0.5) mV every millisecond: uniform, standard deviation 13/sqrt(12)
    noise = net.population(
        NoiseSource(std=1.0, period=1 * ms, distribution="uniform"), n=n, name="thalamus"
    )
    net.connect(noise, pop, rule=sim.OneToOne(), weight=13 / np.sqrt(12) * mV, delay=dt)
    n1 = 0
    rewarded = int(proj.ptr[n1])  # n1's first synapse (storage is ordered by source)
    n2 = int(proj.post_ids[rewarded])
    w = proj.weights
    w[rewarded] = 0.0
    proj.weights = w
    pair = net.spike_monitor(pop[[n1, n2]], name="n1_n2")
    return net, proj, rewarded, (n1, n2), pair


def rewards_due(pair_monitor, seen, interval=20 * ms):
    """Times of n2 spikes (after index ``seen``) that follow an n1 spike by less than
    ``interval`` (the paper's coincidence; a spike in the same step does not count)."""
    times, ids = pair_monitor.times, pair_monitor.ids
    t1 = times[ids == 0]
    hits = []
    for t2 in times[seen:][ids[seen:] == 1]:
        before = t1[t1 <= t2 + 1e-12]
        if len(before) and before[-1] < t2 - 1e-12 and t2 - before[-1] < interval:
            hits.append(t2)
    return hits, len(times)


def run(duration=3600.0, hold=60.0, seed=1, chunk=1.0, progress=True):
    """Run the protocol; returns a dict of results (weights, reward times, timings)."""
    net, proj, rewarded, (n1, n2), pair = build(seed=seed)
    wmon = net.weight_monitor(proj, [rewarded], every=int(round(chunk / net.dt)))
    rng = np.random.default_rng(seed + 1000)
    pending, delivered, seen = [], [], 0
    reached = None
    t0 = time.perf_counter()
    while net.t < duration - 1e-9:
        end = min(duration, net.t + chunk)
        while pending and pending[0] < end - 1e-9:  # rewards due in this chunk
            due = pending.pop(0)
            net.run(round(due - net.t, 6))
            net.set_modulator(net.modulators["dopamine"].value + 0.5)
            delivered.append(due)
        net.run(round(end - net.t, 6))
        hits, seen = rewards_due(pair, seen)
        # delays of 1 + ceil(2000*rand) ms, as the paper's code
        pending += [round(t2 + 1.0 + np.ceil(2000 * rng.random()) * 1e-3, 6) for t2 in hits]
        pending.sort()
        w = proj.weights[rewarded]
        if reached is None and w >= 0.99 * W_MAX:
            reached = net.t
        if progress and int(net.t) % 60 == 0:
            print(f"  t={net.t:6.0f} s  rewarded synapse {w / mV:.2f} mV, {len(delivered)} rewards")
        if reached is not None and net.t - reached >= hold:
            break
    wall = time.perf_counter() - t0
    w = proj.weights
    others = np.delete(w, rewarded)
    return dict(
        net=net,
        t_end=net.t,
        wall=wall,
        w_rewarded=w[rewarded],
        w_others=others,
        reached=reached,
        rewards=np.array(delivered),
        trace_t=wmon.t,
        trace_w=wmon["w"][:, 0],
        n1=n1,
        n2=n2,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600.0, help="seconds (paper: 3600)")
    ap.add_argument("--hold", type=float, default=60.0, help="stop after holding the max [s]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="distal_reward.png")
    args = ap.parse_args(argv)
    r = run(args.duration, args.hold, args.seed)
    others = r["w_others"]
    print(
        f"Izhikevich 2007 distal reward, {r['t_end']:.0f} s simulated in {r['wall']:.1f} s: "
        f"{len(r['rewards'])} rewards"
    )
    reached = "not reached" if r["reached"] is None else f"reached at t = {r['reached']:.0f} s"
    print(f"rewarded synapse n{r['n1']}->n{r['n2']}: {r['w_rewarded'] / mV:.3f} mV ({reached})")
    print(
        f"other {len(others)} excitatory synapses: mean {others.mean() / mV:.3f} mV, "
        f"99th percentile {np.percentile(others, 99) / mV:.3f} mV, "
        f"{np.mean(others >= 0.99 * W_MAX):.4%} at the maximum"
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(r["trace_t"] / 60, r["trace_w"] / mV, label="rewarded synapse")
    ax1.plot(r["rewards"] / 60, np.zeros(len(r["rewards"])), "rx", ms=3, label="rewards")
    ax1.set(xlabel="time [min]", ylabel="weight [mV]", title="Rewarded synapse")
    ax1.legend()
    ax2.hist(others / mV, bins=np.linspace(0, W_MAX / mV, 81))
    ax2.axvline(r["w_rewarded"] / mV, color="r", label="rewarded synapse")
    ax2.set(xlabel="weight [mV]", ylabel="synapses", title="Excitatory weights", yscale="log")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(args.figure, dpi=120)
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
