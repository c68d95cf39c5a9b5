"""Izhikevich (2003) network: 800 excitatory and 200 inhibitory neurons, all-to-all
================================================================================

Source: E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Netw.
14:1569 (2003), Fig. 3 and its MATLAB listing: excitatory cells with
a = 0.02, b = 0.2, c = -65 + 15 r^2, d = 8 - 6 r^2 (RS to CH), inhibitory cells with
a = 0.02 + 0.08 r, b = 0.25 - 0.05 r, c = -65, d = 2 (FS to LTS), r uniform in [0, 1]
per neuron; synaptic weights 0.5*U(0,1) mV from excitatory and -U(0,1) mV from inhibitory
neurons onto every neuron; thalamic input every 1 ms of 5 N(0,1) mV (excitatory) and
2 N(0,1) mV (inhibitory) targets. Here: dt = 0.5 ms, forward Euler (the paper integrates
v with two 0.5 ms Euler steps per 1 ms), delay 1 ms, inputs as jumps of v (delta
kinetics), which is the paper's one-millisecond current pulse integrated by Euler.

Expected outcome (paper, Fig. 3): cortical-like asynchronous activity punctuated by
population bursts; the population rate oscillates in the alpha (~10 Hz) and gamma
(~40 Hz) bands. Excitatory neurons fire at a few Hz to about 10 Hz, inhibitory ones
faster. ``python examples/izhikevich_network.py --duration 1.0``
"""

from __future__ import annotations

import argparse

import numpy as np

import axonforge as sim
from axonforge.models import Izhikevich, NoiseSource
from axonforge.units import ms, mV


def build(seed=1, n_exc=800, n_inh=200, dt=0.5 * ms):
    """The network; returns ``(net, spike monitor, rate monitor)``."""
    rng = np.random.default_rng(seed)
    re, ri = rng.random(n_exc), rng.random(n_inh)
    a = np.r_[0.02 * np.ones(n_exc), 0.02 + 0.08 * ri] * 1e3  # 1/s
    b = np.r_[0.2 * np.ones(n_exc), 0.25 - 0.05 * ri] * 1e3  # 1/s
    c = np.r_[-65 + 15 * re**2, -65 * np.ones(n_inh)] * mV
    d = np.r_[8 - 6 * re**2, 2 * np.ones(n_inh)]  # V/s (= mV/ms)
    net = sim.Network(dt=dt, seed=seed)
    n = n_exc + n_inh
    pop = net.population(
        Izhikevich(a=a, b=b, c=c, d=d), n=n, name="cortex", v=-65 * mV, u=b * -65 * mV
    )
    exc, inh = pop[:n_exc], pop[n_exc:]
    net.connect(
        exc,
        pop,
        rule=sim.AllToAll(),
        weight=sim.uniform(0.0, 0.5 * mV),
        delay=1 * ms,
        port="exc",
        name="exc",
    )
    net.connect(
        inh,
        pop,
        rule=sim.AllToAll(),
        weight=sim.uniform(-1.0 * mV, 0.0),
        delay=1 * ms,
        port="inh",
        name="inh",
    )
    for view, std, name in ((exc, 5 * mV, "thalamus_exc"), (inh, 2 * mV, "thalamus_inh")):
        noise = net.population(NoiseSource(std=1.0, period=1 * ms), n=len(view), name=name)
        net.connect(noise, view, rule=sim.OneToOne(), weight=std, delay=dt, port="exc")
    return net, net.spike_monitor(pop, name="spikes"), net.rate_monitor(pop, name="rate")


def band_power(rate_monitor, band, bin_width=1 * ms):
    """Fraction of the population-rate power spectrum (mean removed) in ``band`` [Hz]."""
    k = int(round(bin_width / rate_monitor.net.dt))
    r = rate_monitor.rate
    r = r[: len(r) // k * k].reshape(-1, k).mean(axis=1)
    spec = np.abs(np.fft.rfft(r - r.mean())) ** 2
    freq = np.fft.rfftfreq(len(r), bin_width)
    sel = (freq >= band[0]) & (freq < band[1])
    return float(spec[sel].sum() / spec[1:].sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="izhikevich_raster.png")
    args = ap.parse_args(argv)
    net, spikes, rate = build(seed=args.seed)
    net.run(args.duration, progress=True)
    rates = spikes.counts / args.duration
    print(
        f"Izhikevich 2003 network, {args.duration} s: excitatory {rates[:800].mean():.2f} Hz, "
        f"inhibitory {rates[800:].mean():.2f} Hz"
    )
    print(
        f"population-rate power in 8-13 Hz (alpha): {band_power(rate, (8, 13)):.2f}, "
        f"30-50 Hz (gamma): {band_power(rate, (30, 50)):.2f}, "
        f"above 100 Hz: {band_power(rate, (100, 500)):.2f}"
    )
    sim.plot.summary(
        spikes=spikes, rates=rate, path=args.figure, title="Izhikevich (2003) 1000-neuron network"
    )
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
