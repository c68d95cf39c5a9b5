"""What the adaptive integrator costs: ``python benchmarks/adex_rkf45.py [--peer-python
PY]``.

N uncoupled AdEx neurons (Brette & Gerstner 2005 defaults, NEST's aeif_psc_exp) under
constant currents from 0 to 1.2 nA (most of them fire tonically, 5-60 Hz), 1 s at dt
0.1 ms, integrated by axonforge with ``method="rk4"`` (reset at the step end) and
``method="rkf45"`` (adaptive per neuron, reset inside the step), and, with
``--peer-python``, by NEST 3.10's ``aeif_psc_exp`` (GSL's rkf45, one thread) in the same
run. Prints a Markdown table: simulate time (of the last 999 ms, after 1 ms that
compiles or warms up), spikes in the whole second, and the time over axonforge rkf45's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

import numpy as np

N, T = 2000, 1.0
CURRENTS = np.linspace(0.0, 1.2e-9, N)

NEST_SCRIPT = """
import json, time, numpy as np, nest
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.set(resolution=0.1, local_num_threads=1, print_time=False)
pop = nest.Create("aeif_psc_exp", {n})
pop.I_e = list(np.linspace(0.0, 1200.0, {n}))
sr = nest.Create("spike_recorder")
nest.Connect(pop, sr)
nest.Simulate(1.0)
t0 = time.perf_counter()
nest.Simulate({t_ms})
print(json.dumps(dict(wall=time.perf_counter() - t0, spikes=sr.n_events)))
"""


def axonforge_run(method):
    import axonforge as sim
    from axonforge.models import AdEx

    net = sim.Network(dt=1e-4, seed=1)
    pop = net.population(AdEx(method=method, i_offset=CURRENTS), n=N)
    spikes = net.spike_monitor(pop)
    net.run(1e-3)  # compile; then the rest of T, as NEST below
    t0 = time.perf_counter()
    net.run(T - 1e-3)
    return time.perf_counter() - t0, len(spikes.times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", help="a Python with nest-simulator installed")
    a = ap.parse_args()
    rows = [(f"axonforge {m}", *axonforge_run(m)) for m in ("rk4", "rkf45")]
    if a.peer_python:
        out = subprocess.run(
            [a.peer_python, "-c", NEST_SCRIPT.format(n=N, t_ms=T * 1000 - 1.0)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        res = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(("nest aeif_psc_exp", res["wall"], res["spikes"]))
    ref = rows[1][1]
    print("| integrator | simulate [s] | spikes | / axonforge rkf45 |")
    print("|---|---|---|---|")
    for name, wall, count in rows:
        print(f"| {name} | {wall:.3f} | {count} | {wall / ref:.2f}x |")


if __name__ == "__main__":
    main()
