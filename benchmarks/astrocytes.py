"""What astrocytes cost, beside NEST: ``python benchmarks/astrocytes.py --peer-python PY``.

The network of NEST 3.10's astrocyte HPC benchmark
(``examples/astrocytes/astrocyte_brunel_bernoulli``-style, "sparse" model), with 2,500
astrocytes (the issue's size; NEST's example uses 10,000):

* 8,000 excitatory and 2,000 inhibitory adaptive exponential neurons with alpha
  conductances and a slow-inward-current port (NEST ``aeif_cond_alpha_astro``;
  axonforge ``AdEx(kinetics="cond_alpha", sic=True)``, tau_syn 2 / 4 ms), each driven by
  independent 2 kHz Poisson input of 1 nS;
* excitatory synapses pairwise Bernoulli p = 0.1 onto all neurons (1 nS, delay 2 ms),
  each paired with probability 0.5 with an astrocyte from a random pool of 10 per
  target (``tripartite_bernoulli_with_pool``): the presynaptic neuron drives the
  astrocyte's IP3 (1.0, delay 2 ms), the astrocyte sends its SIC to the target (weight
  0.01, NEST's pA-equivalent: 0.01 pA);
* inhibitory synapses p = 0.1 (4 nS, delay 1 ms); all neuron-neuron and neuron-astrocyte
  synapses Tsodyks-Markram (U 0.5, tau_rec 800 ms, no facilitation), as in NEST's
  script;
* 2,500 ``astrocyte_lr_1994`` / ``AstrocyteLR1994`` with delta_IP3 = 0.5 uM, tau_IP3 =
  2 ms.

"without astrocytes" is the same network with p_third_if_primary = 0 (the same neuron
connections, no astrocyte synapses). Each configuration runs in a fresh process; the
simulate time excludes building and compiling (axonforge compiles in a first 10 ms run;
NEST runs the same 10 ms first). axonforge integrates the neurons with RK4 at dt = 0.1
ms, NEST with adaptive RKF45 (``--method rkf45`` runs axonforge's too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

N_EX, N_IN, N_ASTRO = 8000, 2000, 2500
P, P_THIRD, POOL, RATE = 0.1, 0.5, 10, 2000.0


def axonforge_run(astro, threads, duration, method, scale):
    sys.path.insert(0, str(Path(__file__).parent.parent))
    import axonforge as sim
    from axonforge.models import AdEx, AstrocyteLR1994, PoissonSource, TsodyksMarkram
    from axonforge.units import Hz, ms, nS, pA

    t0 = time.perf_counter()
    n_ex, n_in, n_astro = int(N_EX * scale), int(N_IN * scale), int(N_ASTRO * scale)
    net = sim.Network(dt=0.1 * ms, seed=1, threads=threads)
    model = AdEx(kinetics="cond_alpha", sic=True, tau_syn_exc=2 * ms, tau_syn_inh=4 * ms,
                 method=method)  # fmt: skip
    cells = net.population(model, n=n_ex + n_in)
    glia = net.population(AstrocyteLR1994(delta_ip3=0.5, tau_ip3=2 * ms), n=n_astro)
    drive = net.population(PoissonSource(rate=RATE * Hz), n=n_ex + n_in)
    net.connect(drive, cells, rule=sim.OneToOne(), weight=1 * nS, delay=1 * ms)

    def tm():
        return TsodyksMarkram(U=0.5, tau_rec=800 * ms, tau_fac=0.0)

    net.connect_tripartite(
        cells[:n_ex], cells, glia,
        sim.TripartiteBernoulliWithPool(P, P_THIRD if astro else 0.0, pool_size=POOL),
        primary=dict(weight=1 * nS, delay=2 * ms, synapse=tm()),
        third_in=dict(weight=1.0, delay=2 * ms, synapse=tm()),
        third_out=dict(weight=0.01 * pA, delay=1 * ms),
    )  # fmt: skip
    net.connect(cells[n_ex:], cells, rule=sim.FixedProbability(P), weight=4 * nS,
                delay=1 * ms, port="inh", synapse=tm())  # fmt: skip
    spikes = net.spike_monitor(cells)
    build = time.perf_counter() - t0
    n_syn = sum(len(p) for p in net.projections.values())
    net.run(10 * ms, progress=False)  # compiles
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    wall = time.perf_counter() - t0
    return dict(build=build, sim=wall, spikes=int(len(spikes.times)), synapses=n_syn)


NEST_SCRIPT = """
import json, time, nest
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.set(resolution=0.1, local_num_threads={threads}, rng_seed=1, print_time=False)
t0 = time.perf_counter()
n_ex, n_in, n_astro = {n_ex}, {n_in}, {n_astro}
nrn = dict(tau_syn_ex=2.0, tau_syn_in=4.0)
ex = nest.Create("aeif_cond_alpha_astro", n_ex, params=nrn)
inh = nest.Create("aeif_cond_alpha_astro", n_in, params=nrn)
astro = nest.Create("astrocyte_lr_1994", n_astro, params=dict(delta_IP3=0.5, tau_IP3=2.0))
noise = nest.Create("poisson_generator", params=dict(rate={rate}))
nest.Connect(noise, ex + inh, syn_spec=dict(weight=1.0))
tm = dict(synapse_model="tsodyks_synapse", U=0.5, tau_rec=800.0, tau_fac=0.0)
nest.TripartiteConnect(
    ex, ex + inh, astro,
    conn_spec=dict(rule="pairwise_bernoulli", p={p}),
    third_factor_conn_spec=dict(rule="third_factor_bernoulli_with_pool", p={p_third},
                                pool_size={pool}, pool_type="random"),
    syn_specs=dict(primary=dict(tm, weight=1.0, tau_psc=2.0, delay=2.0),
                   third_in=dict(tm, weight=1.0, tau_psc=2.0, delay=2.0),
                   third_out=dict(synapse_model="sic_connection", weight=0.01)),
)
nest.Connect(inh, ex + inh, dict(rule="pairwise_bernoulli", p={p}),
             dict(tm, weight=-4.0, tau_psc=4.0, delay=1.0))
sr = nest.Create("spike_recorder")
nest.Connect(ex + inh, sr)
build = time.perf_counter() - t0
n_syn = nest.num_connections
nest.Simulate(10.0)
t0 = time.perf_counter()
nest.Simulate({t_ms})
wall = time.perf_counter() - t0
print("RESULT " + json.dumps(dict(build=build, sim=wall, spikes=int(sr.n_events), synapses=n_syn)))
"""


def nest_run(python, astro, threads, duration, scale):
    script = NEST_SCRIPT.format(
        threads=threads, n_ex=int(N_EX * scale), n_in=int(N_IN * scale),
        n_astro=int(N_ASTRO * scale), rate=RATE, p=P, p_third=P_THIRD if astro else 0.0,
        pool=POOL, t_ms=duration * 1000,
    )  # fmt: skip
    out = subprocess.run([python, "-c", script], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", help="a Python with nest-simulator 3.10")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--scale", type=float, default=1.0, help="network size factor")
    ap.add_argument("--method", default="rk4", help="axonforge's neuron integrator")
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # simulator astro threads
    a = ap.parse_args()
    if a.one:  # a child process: one configuration
        astro, threads = a.one[1] == "1", int(a.one[2])
        res = axonforge_run(astro, threads, a.duration, a.method, a.scale)
        print("RESULT " + json.dumps(res))
        return
    rows = []
    for threads in a.threads:
        for astro in (False, True):
            cmd = [sys.executable, __file__, "--one", "axonforge", str(int(astro)),
                   str(threads), "--duration", str(a.duration), "--scale", str(a.scale),
                   "--method", a.method]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True)
            res = next((json.loads(x[7:]) for x in out.stdout.splitlines()
                        if x.startswith("RESULT ")), {"error": out.stderr[-300:]})  # fmt: skip
            rows.append(("axonforge", threads, astro, res))
            print(rows[-1], flush=True)
            if a.peer_python:
                res = nest_run(a.peer_python, astro, threads, a.duration, a.scale)
                rows.append(("nest", threads, astro, res))
                print(rows[-1], flush=True)
    print(f"\n{a.duration:g} s simulated, scale {a.scale:g}\n")
    print(
        "| simulator | threads | astrocytes | synapses | simulate [s] | spikes | with / without "
        "astrocytes | NEST / axonforge |"
    )
    print("|---|---|---|---|---|---|---|---|")
    times = {(s, t, x): r.get("sim") for s, t, x, r in rows}
    for sim_, threads, astro, r in rows:
        if "error" in r:
            print(f"| {sim_} | {threads} | {astro} | error: {r['error']} |")
            continue
        base = times.get((sim_, threads, False))
        cost = f"{r['sim'] / base:.2f}x" if astro and base else ""
        nest_t = times.get(("nest", threads, astro))
        ratio = f"{nest_t / r['sim']:.1f}x" if sim_ == "axonforge" and nest_t else ""
        print(
            f"| {sim_} | {threads} | {'yes' if astro else 'no'} | {r['synapses']:,} | "
            f"{r['sim']:.2f} | {r['spikes']:,} | {cost} | {ratio} |"
        )


if __name__ == "__main__":
    main()
