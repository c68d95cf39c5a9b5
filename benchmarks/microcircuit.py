"""Potjans & Diesmann (2014) microcircuit: axonforge beside NEST, each in a fresh process.

    python benchmarks/microcircuit.py --peer-python /work/peers/bin/python --scale 0.25
    python benchmarks/microcircuit.py --one axonforge --scale 0.1   # one measurement, here

The network is examples/microcircuit.py (NEST's Potjans_2014 parameters; the NEST side
below builds the same network with NEST's own rules: ``fixed_total_number``, redrawn
normal weights and delays, one ``poisson_generator`` per population). Measured per
simulator: build time (NEST: Create + Connect + Prepare, as NEST's example times it),
compile time (axonforge kernel, from an empty kernel cache; NEST none), resident memory
growth while building per synapse and the peak, axonforge's stored bytes per synapse,
and the real-time factor
(wall time / simulated time) of ``--duration`` seconds after ``--presim`` seconds.
Each measurement prints one ``RESULT {json}`` line; the driver prints a Markdown table
and writes benchmarks/results/microcircuit-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _example():
    import importlib.util

    spec = importlib.util.spec_from_file_location("mc", ROOT / "examples" / "microcircuit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rates(times, ids, bounds, t0, t1):
    import numpy as np

    keep = (times >= t0) & (times < t1)
    k = np.searchsorted(bounds, ids[keep], side="right") - 1
    counts = np.bincount(k, minlength=8)
    return (counts / (np.diff(bounds) * (t1 - t0))).tolist()


# ----------------------------------------------------------------------------- axonforge
def run_axonforge(scale, duration, presim, seed, threads):
    t0 = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import axonforge as sim
    from axonforge.models import LIF
    from axonforge.units import ms

    mc = _example()
    # Numba's typing context (~60 MB once per process) before the memory baseline
    warm = sim.Network(dt=0.1 * ms, seed=0)
    tiny = warm.population(LIF(), n=1)
    warm.connect(tiny, tiny)
    del warm, tiny
    gc.collect()
    base = rss_mb()
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    net, _pops, spikes, info = mc.build(scale=scale, seed=seed, threads=threads)
    gc.collect()
    built = rss_mb()
    t_build = time.perf_counter() - t1
    t2 = time.perf_counter()
    net.run(0.0)
    t_compile = time.perf_counter() - t2
    net.run(presim)
    t3 = time.perf_counter()
    net.run(duration)
    t_sim = time.perf_counter() - t3
    rec = mc.recurrent(net)
    n_syn = sum(p.n_synapses for p in rec)
    times, ids = spikes.times, spikes.ids
    return dict(
        simulator="axonforge",
        threads=threads or 1,
        neurons=int(info["n"].sum()),
        synapses=int(n_syn),
        build=t_build,
        compile=t_compile,
        sim=t_sim,
        rtf=t_sim / duration,
        bytes_per_synapse=(built - base) * 2**20 / n_syn,
        stored_bytes_per_synapse=sum(p.nbytes for p in rec) / n_syn,
        peak_mb=rss_mb("VmHWM"),
        rates=_rates(times, ids, info["bounds"], presim, presim + duration),
        spikes=int(np.count_nonzero(times >= presim)),
        import_s=t_import,
    )


# ----------------------------------------------------------------------------------- NEST
def nest_parameters(scale):
    """The example's parameters as JSON-able SI values, for the peers' venv (which has
    no axonforge)."""
    mc = _example()
    par = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in mc.parameters(scale).items()}
    names = ["V0_MEAN", "V0_STD", "BG_RATE", "W_REL_STD", "DELAY_EXC", "DELAY_INH"]
    names += ["DELAY_REL_STD", "DELAY_POISSON", "NEURON"]
    par.update(
        {
            k: getattr(mc, k).tolist() if hasattr(getattr(mc, k), "tolist") else getattr(mc, k)
            for k in names
        }
    )
    return par


def run_nest(params, duration, presim, seed, threads):
    import types

    import nest
    import numpy as np

    # parameters in SI units, converted below to NEST's ms, mV, pA, pF
    with open(params) as fh:
        raw = json.load(fh)
    par = {k: np.asarray(v) if isinstance(v, list) else v for k, v in raw.items()}
    mc = types.SimpleNamespace(**par)
    base = rss_mb()
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.set(resolution=0.1, rng_seed=seed, local_num_threads=threads, print_time=False)
    nr = mc.NEURON
    pops = []
    for i in range(8):
        p = nest.Create(
            "iaf_psc_exp",
            int(par["n"][i]),
            params=dict(
                tau_m=nr["tau_m"] * 1e3,
                C_m=nr["c_m"] * 1e12,
                E_L=nr["v_rest"] * 1e3,
                V_reset=nr["v_reset"] * 1e3,
                V_th=nr["v_thresh"] * 1e3,
                t_ref=nr["t_ref"] * 1e3,
                tau_syn_ex=nr["tau_syn_exc"] * 1e3,
                tau_syn_in=nr["tau_syn_inh"] * 1e3,
                I_e=par["dc"][i] * 1e12,
            ),
        )
        p.V_m = nest.random.normal(mc.V0_MEAN[i] * 1e3, mc.V0_STD[i] * 1e3)
        pops.append(p)
    for i in range(8):
        for j in range(8):
            if par["n_syn"][i, j] <= 0:
                continue
            w = par["w"][i, j] * 1e12
            d = (mc.DELAY_EXC if j % 2 == 0 else mc.DELAY_INH) * 1e3
            lo, hi = (0.0, np.inf) if w > 0 else (-np.inf, 0.0)
            nest.Connect(
                pops[j],
                pops[i],
                dict(rule="fixed_total_number", N=int(par["n_syn"][i, j])),
                dict(
                    synapse_model="static_synapse",
                    weight=nest.math.redraw(
                        nest.random.normal(mean=w, std=abs(w) * mc.W_REL_STD), min=lo, max=hi
                    ),
                    delay=nest.math.redraw(
                        nest.random.normal(mean=d, std=d * mc.DELAY_REL_STD), min=0.1, max=np.inf
                    ),
                ),
            )
    for i in range(8):
        pg = nest.Create("poisson_generator", params=dict(rate=mc.BG_RATE * par["k_ext"][i]))
        nest.Connect(
            pg, pops[i], syn_spec=dict(weight=par["w_ext"] * 1e12, delay=mc.DELAY_POISSON * 1e3)
        )
    sr = nest.Create("spike_recorder")
    for p in pops:
        nest.Connect(p, sr)
    nest.Prepare()
    nest.Cleanup()
    t_build = time.perf_counter() - t0
    gc.collect()
    built = rss_mb()
    n_neurons = int(sum(len(p) for p in pops))
    n_syn = nest.num_connections - 2 * n_neurons  # minus generator and recorder links
    nest.Simulate(presim * 1e3)
    t1 = time.perf_counter()
    nest.Simulate(duration * 1e3)
    t_sim = time.perf_counter() - t1
    ev = sr.get("events")
    times = np.asarray(ev["times"]) * 1e-3
    ids = np.asarray(ev["senders"]) - pops[0][0].global_id
    bounds = np.concatenate([[0], np.cumsum(par["n"])])
    return dict(
        simulator="nest",
        threads=threads,
        neurons=n_neurons,
        synapses=int(n_syn),
        build=t_build,
        compile=0.0,
        sim=t_sim,
        rtf=t_sim / duration,
        bytes_per_synapse=(built - base) * 2**20 / n_syn,
        peak_mb=rss_mb("VmHWM"),
        rates=_rates(times, ids, bounds, presim, presim + duration),
        spikes=int(np.count_nonzero(times >= presim)),
    )


# --------------------------------------------------------------------------------- driver
def measure(python, simulator, args, threads, params):
    cmd = [
        python,
        __file__,
        "--one",
        simulator,
        "--scale",
        str(args.scale),
        "--duration",
        str(args.duration),
        "--presim",
        str(args.presim),
        "--seed",
        str(args.seed),
        "--threads",
        str(threads),
        "--params",
        params,
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if simulator == "axonforge":  # an empty kernel cache: the compile time is a cold one
        import tempfile

        env["AXONFORGE_CACHE"] = tempfile.mkdtemp(prefix="afcache-bench-")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return dict(simulator=simulator, threads=threads, error=" | ".join(tail))


def table(results, args):
    pops = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
    rows = [
        "| simulator | threads | neurons | synapses | build [s] | compile [s] | "
        f"RTF ({args.duration} s) | B/synapse RSS | B/synapse stored | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['simulator']} | {r['threads']} | error: {r['error'][:100]} |")
            continue
        stored = r.get("stored_bytes_per_synapse")
        rows.append(
            f"| {r['simulator']} | {r['threads']} | {r['neurons']:,} | {r['synapses']:,} | "
            f"{r['build']:.1f} | {r['compile']:.1f} | {r['rtf']:.2f} | "
            f"{r['bytes_per_synapse']:.1f} | {'-' if stored is None else f'{stored:.2f}'} | "
            f"{r['peak_mb']:.0f} |"
        )
    rows += ["", "| simulator | threads | " + " | ".join(pops) + " |", "|---" * 10 + "|"]
    for r in results:
        if "error" not in r:
            rows.append(
                f"| {r['simulator']} | {r['threads']} | "
                + " | ".join(f"{x:.2f}" for x in r["rates"])
                + " |"
            )
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", choices=["axonforge", "nest"], help="one measurement, here")
    ap.add_argument("--peer-python", default="/work/peers/bin/python")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--presim", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=55)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nest-threads", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=[], help="simulators to leave out")
    ap.add_argument("--params", help="(with --one nest) parameters written by the driver")
    args = ap.parse_args()
    if args.one:
        if args.one == "axonforge":
            res = run_axonforge(args.scale, args.duration, args.presim, args.seed, args.threads)
        else:
            res = run_nest(args.params, args.duration, args.presim, args.seed, args.threads)
        res.update(scale=args.scale, duration=args.duration, presim=args.presim)
        print("RESULT " + json.dumps(res))
        return
    import inspect

    sys.path.insert(0, str(ROOT))
    import axonforge as sim

    af_threads = [1]
    if "threads" in inspect.signature(sim.Network).parameters:
        af_threads.append(2)
    else:
        print("axonforge's Network has no threads option: axonforge runs on 1 thread only")
    import tempfile

    params = Path(tempfile.mkdtemp()) / "params.json"
    params.write_text(json.dumps(nest_parameters(args.scale)))
    params = str(params)
    results = []
    if "axonforge" not in args.skip:
        for th in af_threads:
            results.append(measure(sys.executable, "axonforge", args, th, params))
            print(json.dumps(results[-1]), flush=True)
    if "nest" not in args.skip:
        results.append(measure(args.peer_python, "nest", args, args.nest_threads, params))
        print(json.dumps(results[-1]), flush=True)
    print(table(results, args))
    out = HERE / "results" / f"microcircuit-{datetime.date.today()}-scale{args.scale}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
