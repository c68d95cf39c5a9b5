"""Brunel (2000) sparse balanced network of LIF neurons with delta synapses
========================================================================

Source: N. Brunel, "Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons", J. Comput. Neurosci. 8:183 (2000), model A: tau = 20 ms, theta = 20 mV,
V_r = 10 mV, tau_rp = 2 ms, J = 0.1 mV (a jump of v), inhibitory weight -g*J, delay
D = 1.5 ms, N_E = 4 N_I, each neuron receiving C_E = eps*N_E excitatory and C_I = eps*N_I
inhibitory inputs (fixed in-degree) plus C_E independent external Poisson inputs at rate
nu_ext = eta * nu_thr, with nu_thr = theta / (J C_E tau). Same set-up as NEST's
``brunel_delta_nest.py``.

Expected outcome: with the default g = 5, eta = 2 (as NEST's example and the issue's
benchmark) the network sits in the high-activity irregular regime: single neurons fire
irregularly (mean ISI CV > 0.7) at about 30-45 Hz, depending on size. With ``--regime
AI`` (g = 6, eta = 4, Brunel Fig. 8B) the activity is asynchronous irregular with
CV > 0.7 as well. ``python examples/brunel.py --n 12500 --duration 0.5``.
"""

from __future__ import annotations

import argparse
import time

import axonforge as sim
from axonforge.models import LIF, PoissonSource
from axonforge.stats import isi_cv
from axonforge.units import Hz, ms, mV

REGIMES = {"default": dict(g=5.0, eta=2.0), "AI": dict(g=6.0, eta=4.0)}


def build(
    n=12500,
    epsilon=0.1,
    g=5.0,
    eta=2.0,
    J=0.1 * mV,
    delay=1.5 * ms,
    dt=0.1 * ms,
    seed=1,
    in_degree=None,
    record=None,
    precision="float64",
):
    """The network; ``in_degree=(C_E, C_I)`` overrides ``epsilon``. Returns
    ``(net, spike monitor, rate monitor)``; ``record`` limits the spike monitor to the
    first ``record`` neurons."""
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    c_e, c_i = in_degree or (int(round(epsilon * n_e)), int(round(epsilon * n_i)))
    tau, theta = 20 * ms, 20 * mV
    nu_thr = theta / (J * c_e * tau)
    nu_ext = eta * nu_thr
    net = sim.Network(dt=dt, seed=seed, precision=precision)
    model = LIF(
        kinetics="delta",
        tau_m=tau,
        v_rest=0.0,
        v_thresh=theta,
        v_reset=10 * mV,
        t_ref=2 * ms,
        c_m=250e-12,
    )
    pop = net.population(model, n=n, name="neurons", v=sim.uniform(0.0, theta))
    exc, inh = pop[:n_e], pop[n_e:]
    ext = net.population(PoissonSource(rate=nu_ext * c_e), n=n, name="external")
    net.connect(ext, pop, rule=sim.OneToOne(), weight=J, delay=delay, port="exc", name="ext")
    net.connect(
        exc, pop, rule=sim.FixedInDegree(c_e), weight=J, delay=delay, port="exc", name="exc"
    )
    net.connect(
        inh, pop, rule=sim.FixedInDegree(c_i), weight=-g * J, delay=delay, port="inh", name="inh"
    )
    target = pop if record is None else pop[:record]
    spikes = net.spike_monitor(target, name="spikes")
    rate = net.rate_monitor(pop, name="rate")
    net.info = dict(n_e=n_e, n_i=n_i, c_e=c_e, c_i=c_i, nu_thr=nu_thr, nu_ext=nu_ext)
    return net, spikes, rate


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12500)
    ap.add_argument("--duration", type=float, default=0.5)
    ap.add_argument("--regime", choices=sorted(REGIMES), default="default")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="brunel_raster.png")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    net, spikes, rate = build(
        n=args.n, seed=args.seed, record=min(args.n, 1000), **REGIMES[args.regime]
    )
    net.run(args.duration, progress=True)
    r = spikes.mean_rate()
    print(
        f"Brunel ({args.regime}: g={REGIMES[args.regime]['g']}, "
        f"eta={REGIMES[args.regime]['eta']}), N={args.n}, {args.duration} s: mean rate "
        f"{r:.2f} Hz, mean ISI CV {isi_cv(spikes):.2f} (first 1000 neurons)"
    )
    n_syn = sum(p.n_synapses for p in net.projections.values())
    print(
        f"{n_syn} synapses; build {net.timings['build']:.2f} s, compile "
        f"{net.timings['compile']:.2f} s, simulate {net.timings['run']:.2f} s; "
        f"wall {time.perf_counter() - t0:.2f} s"
    )
    sim.plot.summary(
        spikes=spikes,
        rates=rate,
        path=args.figure,
        title=f"Brunel 2000 ({args.regime}): {r:.1f} Hz, nu_ext = {net.info['nu_ext'] / Hz:.1f} Hz",
    )
    print(f"figure written to {args.figure}")


if __name__ == "__main__":
    main()
