"""Potjans & Diesmann (2014) cortical microcircuit: 77,169 LIF neurons in 8 populations
=====================================================================================

Source: T. C. Potjans & M. Diesmann, "The cell-type specific cortical microcircuit:
relating structure and activity in a full-scale spiking network model", Cerebral
Cortex 24:785 (2014), as implemented in NEST's PyNEST example ``Potjans_2014``
(``network_params.py``, ``network.py``, ``helpers.py``), whose parameters this script
uses unchanged:

* 1 mm² of early sensory cortex, layers 2/3, 4, 5, 6, an excitatory (E) and an
  inhibitory (I) population each: 20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948
  neurons (L23E, L23I, L4E, L4I, L5E, L5I, L6E, L6I), 77,169 in all.
* ``LIF`` (NEST ``iaf_psc_exp``): tau_m = 10 ms, C_m = 250 pF, E_L = V_reset = -65 mV,
  V_th = -50 mV, t_ref = 2 ms, exponential currents tau_syn = 0.5 ms.
* Connectivity: the paper's Table 5 connection probabilities C_a (target x source);
  per projection a fixed total number of synapses
  K = log(1 - C_a) / log(1 - 1/(N_pre N_post)) with multapses, as NEST's
  ``fixed_total_number`` (:class:`axonforge.FixedTotalNumber`); 2.99·10⁸ synapses.
* Weights: PSC amplitudes from a 0.15 mV PSP (87.81 pA), normal with relative std 0.1,
  L4E -> L23E doubled, inhibitory g = -4, truncated at 0 by redrawing (the sign never
  flips); delays normal, 1.5 ms (E) and 0.75 ms (I), relative std 0.5, truncated at
  dt = 0.1 ms by redrawing, then rounded to the grid (as NEST does).
* Background: independent Poisson input per neuron at 8 Hz x K_ext with K_ext = 1600,
  1500, 2100, 1900, 2000, 1900, 2900, 2100, weight 87.81 pA, delay 1.5 ms.
* Initial v: normal per population (NEST's "optimized" V0: means -68.28 ... -61.43 mV).

Scaling (NEST's rules): ``--scale`` multiplies the neuron numbers and the synapse
numbers alike, so in-degrees, weights and inputs stay as in the full model (only
correlations change); ``--k-scale`` also scales the in-degrees (recurrent and external)
by k, multiplies the weights by 1/sqrt(k), and adds the DC current
0.001 ms⁻¹ · tau_syn · (1 - sqrt(k)) · (Σ_src J K rate_full + J_ext K_ext 8 Hz) that keeps
the mean input of the full model, computed from NEST's full-scale reference rates.

Expected outcome: irregular activity (mean ISI CV 0.5-0.8) with the cell-type
specific rates of the paper's Fig. 6: L23E and L6E slowest (about 1 Hz), L4 at 4-6 Hz,
L5 the fastest excitatory cells, every inhibitory population faster than the excitatory
one of its layer. NEST's example documents its full-scale rates (12 MPI processes,
N = K = 1; ``full_mean_rates`` in ``network_params.py``, which the paper's Fig. 6 shows
within the spread of its bars) as

    L23E 0.943, L23I 3.026, L4E 4.368, L4I 5.882, L5E 7.733, L5I 8.664, L6E 1.096,
    L6I 7.851 Hz.

Measured here at full scale (seed 55, 1 s after 0.1 s; benchmarks/README.md): L23E
0.94, L23I 3.00, L4E 4.39, L4I 5.89, L5E 7.50, L5I 8.65, L6E 1.08, L6I 7.82 Hz, within
3 % of NEST's rates in every population.

At ``--scale 0.1`` (in-degrees kept) the rates are those of the 10 % model, not of the
full one: mean over seeds L23E 1.8, L23I 4.6, L4E 4.2, L4I 6.6, L5E 10.5, L5I 9.9,
L6E 1.1, L6I 8.8 Hz, the same as NEST 3.10 gives for that network within 5 %; fewer
neurons with the same in-degrees share more input, which raises the rates of L2/3 and
L5 (van Albada et al. 2015, PLoS Comput. Biol. 11:e1004490). ``tests/test_microcircuit.py``
checks a 10 % network against NEST at the same scale within 3 standard deviations of the
seed-to-seed spread, against the full-scale rates within a factor of 3, and the
orderings above; the numbers and tolerances are explained there. Full-scale rates and
timings: benchmarks/README.md, "Potjans-Diesmann microcircuit".
Run: ``python examples/microcircuit.py --scale 0.1 --duration 1.0`` (``--scale 1``: the
full model).
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings

import numpy as np

import axonforge as sim
from axonforge.models import LIF, PoissonSource
from axonforge.stats import isi_cv
from axonforge.units import Hz, ms, mV, pF

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: connection probabilities, target (row) x source (column), Potjans & Diesmann Table 5
CONN_PROBS = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: NEST's full-scale reference rates [Hz] (network_params.py, full_mean_rates)
REFERENCE_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]) * mV
V0_STD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]) * mV
BG_RATE = 8.0 * Hz
PSP_EXC = 0.15 * mV
G = -4.0
W_REL_STD = 0.1
DELAY_EXC, DELAY_INH, DELAY_REL_STD = 1.5 * ms, 0.75 * ms, 0.5
DELAY_POISSON = 1.5 * ms
NEURON = dict(
    tau_m=10 * ms,
    c_m=250 * pF,
    v_rest=-65 * mV,
    v_reset=-65 * mV,
    v_thresh=-50 * mV,
    t_ref=2 * ms,
    tau_syn_exc=0.5 * ms,
    tau_syn_inh=0.5 * ms,
)


def psc_over_psp(c_m=NEURON["c_m"], tau_m=NEURON["tau_m"], tau_syn=NEURON["tau_syn_exc"]):
    """Current amplitude [A] per volt of PSP peak for an exponential current into a
    LIF membrane (NEST helpers.postsynaptic_potential_to_current)."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def full_num_synapses():
    """Synapses per projection of the full model (target x source), not rounded:
    K = log(1 - C_a) / log(1 - 1/(N_pre N_post))."""
    prod = np.outer(N_FULL, N_FULL).astype(np.float64)
    return np.log(1.0 - CONN_PROBS) / np.log((prod - 1.0) / prod)


def parameters(scale=1.0, k_scale=1.0):
    """Neuron numbers, synapse numbers, weights [A], external in-degrees and DC [A] of
    the (scaled) model, derived as NEST's example derives them."""
    full = full_num_synapses()
    n = np.round(N_FULL * scale).astype(np.int64)
    n_syn = np.round(full * scale * k_scale).astype(np.int64)
    k_ext = np.round(K_EXT * k_scale).astype(np.int64)
    j = PSP_EXC * psc_over_psp()  # 87.81 pA
    w = np.full((8, 8), j)
    w[:, 1::2] *= G
    w[0, 2] *= 2.0  # L4E -> L23E
    w_ext = j
    dc = np.zeros(8)
    if k_scale != 1.0:
        # keep the full model's mean input: the missing part of the recurrent and the
        # external input as a DC current (tau_syn [ms] * 0.001 = tau_syn [s])
        indeg = full / N_FULL[:, None]
        rec = np.sum(w * indeg * REFERENCE_RATES, axis=1)
        ext = w_ext * K_EXT * BG_RATE
        dc = NEURON["tau_syn_exc"] * (1.0 - np.sqrt(k_scale)) * (rec + ext)
        w = w / np.sqrt(k_scale)
        w_ext = w_ext / np.sqrt(k_scale)
    return dict(n=n, n_syn=n_syn, w=w, w_ext=w_ext, k_ext=k_ext, dc=dc)


def build(scale=1.0, k_scale=1.0, seed=55, threads=None, dt=0.1 * ms, record=None):
    """The microcircuit. Returns ``(net, pops, spikes, info)``: ``pops`` maps each cell
    type to its view of the one neuron population; ``spikes`` records all neurons, or
    with ``record`` the first ``record`` of each cell type (:func:`by_population` splits
    it)."""
    par = parameters(scale, k_scale)
    kwargs = dict(dt=dt, seed=seed)
    if threads is not None:
        if "threads" in inspect.signature(sim.Network).parameters:
            kwargs["threads"] = threads
        else:
            warnings.warn(
                f"threads={threads}: this axonforge's Network has no threads option yet "
                "(runs on one thread)",
                stacklevel=2,
            )
    net = sim.Network(**kwargs)
    # one population of all neurons and one of their Poisson inputs, the 8 cell types as
    # views: a kernel holds one block of code per population and projection, and its
    # compile time grows faster than linearly with their number (benchmarks/README.md)
    n = par["n"]
    bounds = np.concatenate([[0], np.cumsum(n)])
    which = np.repeat(np.arange(8), n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2014]))
    v0 = rng.normal(V0_MEAN[which], V0_STD[which])
    neurons = net.population(
        LIF(**NEURON, i_offset=par["dc"][which]), n=int(bounds[-1]), name="neurons", v=v0
    )
    bg = net.population(
        PoissonSource(rate=BG_RATE * par["k_ext"][which]), n=int(bounds[-1]), name="background"
    )
    net.connect(
        bg,
        neurons,
        rule=sim.OneToOne(),
        weight=par["w_ext"],
        delay=DELAY_POISSON,
        port="exc",
        name="background",
    )
    pops = {name: neurons[bounds[i] : bounds[i + 1]] for i, name in enumerate(POPS)}
    for i, post in enumerate(POPS):  # targets
        for j, pre in enumerate(POPS):  # sources
            if par["n_syn"][i, j] <= 0:
                continue
            w = par["w"][i, j]
            exc = w > 0
            d = DELAY_EXC if j % 2 == 0 else DELAY_INH
            net.connect(
                pops[pre],
                pops[post],
                rule=sim.FixedTotalNumber(int(par["n_syn"][i, j])),
                weight=sim.normal(
                    w, abs(w) * W_REL_STD, **({"low": 0.0} if exc else {"high": 0.0})
                ),
                delay=sim.normal(d, d * DELAY_REL_STD, low=dt),
                round_delays=True,
                port="exc" if exc else "inh",
                name=f"{pre}->{post}",
            )
    target = neurons
    if record is not None:
        keep = np.concatenate(
            [np.arange(b, min(b + record, e)) for b, e in zip(bounds[:-1], bounds[1:])]
        )
        target = neurons[keep]
    spikes = net.spike_monitor(target, name="spikes")
    info = dict(scale=scale, k_scale=k_scale, bounds=bounds, record=record, **par)
    return net, pops, spikes, info


def recurrent(net):
    """The recurrent projections (neuron to neuron)."""
    return [p for p in net.projections.values() if p.pre_pop.is_neuron]


def by_population(spikes, info):
    """``{name: (times, local ids)}`` of the recorded spikes of each cell type."""
    t, i = spikes.times, spikes.ids
    bounds, rec = info["bounds"], info["record"]
    if rec is not None:  # recorded ids count the first ``rec`` neurons of each type
        sizes = np.minimum(info["n"], rec)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
    k = np.searchsorted(bounds, i, side="right") - 1
    return {name: (t[k == p], i[k == p] - bounds[p]) for p, name in enumerate(POPS)}


def analyse(spikes, info, t_start, t_stop):
    """Per cell type: mean rate [Hz] over [t_start, t_stop) of the recorded neurons and
    mean ISI CV (neurons with >= 3 spikes there)."""
    out = {}
    rec = info["record"]
    for p, (name, (t, i)) in enumerate(by_population(spikes, info).items()):
        keep = (t >= t_start) & (t < t_stop)
        n = info["n"][p] if rec is None else min(info["n"][p], rec)
        out[name] = dict(
            rate=np.count_nonzero(keep) / (n * (t_stop - t_start)),
            cv=isi_cv(t[keep], i[keep]),
        )
    return out


def figure(spikes, info, results, path, t_window=(0.0, np.inf), title=""):
    """Raster (up to 100 neurons per population, drawn top-down L23 to L6) and a bar
    chart of the rates beside NEST's full-scale reference rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_r, ax_b) = plt.subplots(1, 2, figsize=(12, 5), width_ratios=[2, 1])
    top, ticks = 0, []
    groups = by_population(spikes, info)
    for k, (t, i) in enumerate(groups.values()):
        keep = (t >= t_window[0]) & (t < t_window[1]) & (i < 100)
        shown = type("S", (), {"times": t[keep], "ids": -(top + i[keep])})
        sim.plot.raster(shown, ax=ax_r, color="tab:blue" if k % 2 == 0 else "tab:red")
        ticks.append(-(top + 50))
        top += 110
    ax_r.set_yticks(ticks, list(groups))
    ax_r.set_ylabel("")
    x = np.arange(len(POPS))
    ax_b.barh(x - 0.2, [results[p]["rate"] for p in POPS], 0.4, label="axonforge")
    ax_b.barh(x + 0.2, REFERENCE_RATES, 0.4, label="NEST full scale")
    ax_b.set_yticks(x, POPS)
    ax_b.invert_yaxis()
    ax_b.set_xlabel("rate [Hz]")
    ax_b.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1, help="fraction of neurons (1: full)")
    ap.add_argument("--k-scale", type=float, default=1.0, help="fraction of in-degrees")
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds, measured")
    ap.add_argument("--presim", type=float, default=0.5, help="seconds before measuring")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=55)
    ap.add_argument("--out", default="microcircuit.png", help="figure path ('' for none)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    net, _pops, spikes, info = build(args.scale, args.k_scale, args.seed, args.threads)
    t_build = time.perf_counter() - t0
    rec = recurrent(net)
    n_syn = sum(p.n_synapses for p in rec)
    stored = sum(p.nbytes for p in rec)
    print(
        f"{int(info['n'].sum())} neurons, {n_syn:,} recurrent synapses, built in "
        f"{t_build:.1f} s; {stored / n_syn:.2f} B/synapse stored (weights, offsets, rows)"
    )
    net.run(args.presim, progress=True)
    t1 = time.perf_counter()
    run0 = net.timings["run"]
    net.run(args.duration, progress=True)
    wall = net.timings["run"] - run0
    results = analyse(spikes, info, args.presim, args.presim + args.duration)
    print(f"{'pop':5s} {'rate [Hz]':>9s} {'NEST full':>9s} {'ISI CV':>7s}")
    for k, name in enumerate(POPS):
        r = results[name]
        print(f"{name:5s} {r['rate']:9.3f} {REFERENCE_RATES[k]:9.3f} {r['cv']:7.2f}")
    print(
        f"build {net.timings['build']:.1f} s, compile {net.timings['compile']:.1f} s, "
        f"simulate {wall:.1f} s for {args.duration} s (wall {time.perf_counter() - t1:.1f} s): "
        f"real-time factor {wall / args.duration:.2f} (wall / simulated time)"
    )
    if args.out:
        figure(
            spikes,
            info,
            results,
            args.out,
            (args.presim, args.presim + min(args.duration, 0.2)),
            f"Potjans & Diesmann 2014, scale {args.scale}, k-scale {args.k_scale}",
        )
        print(f"figure written to {args.out}")


if __name__ == "__main__":
    main()
