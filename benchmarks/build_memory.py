"""Memory and time of building connections: one fresh process per case.

``python benchmarks/build_memory.py`` prints a Markdown table; ``--cases a`` picks cases.
Each case runs in its own subprocess (``--child CASE``), because a process's resident
high-water mark (``ru_maxrss``) never goes down. Cases:

* ``a``: 20,000 LIF, FixedProbability(0.1), per-synapse ``sim.uniform`` weights and
  ``sim.uniform(0.1*ms, 5*ms)`` delays with ``round_delays=True`` (4·10^7 synapses).
* ``b``: 30,000 LIF, FixedProbability(0.2), scalar weight and delay (1.8·10^8 synapses).
* ``brunel``: the Brunel network's recurrent FixedInDegree(800 + 200) projections of 50,000
  neurons (5·10^7 synapses), scalar weight and delay.

``--mpi N`` builds each case on N MPI ranks (``mpirun -n N``): every rank builds only the
synapses onto its own neurons, and the table gives the largest rank's figures (estimate /
stored then compares the whole-network estimate with the sum over ranks).

Columns: synapses; stored MB (``proj.nbytes``); RSS growth that stays after the build;
peak RSS growth during the build (``ru_maxrss`` minus the RSS before); peak / stored;
estimate / stored (``net.estimate_connection``, "-" where the code has none); build s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

CASES = ("a", "b", "brunel")


def _rss_bytes():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(case):
    import axonforge as sim
    from axonforge.models import LIF
    from axonforge.units import ms, mV, pA

    def connections(net, scale):
        """(pre, post, kwargs) of each projection of the case, sized by ``scale``."""
        if case == "a":
            pop = net.population(LIF(), n=max(2, int(20000 * scale)))
            kw = dict(
                rule=sim.FixedProbability(0.1),
                weight=sim.uniform(10 * pA, 20 * pA),
                delay=sim.uniform(0.1 * ms, 5 * ms),
                round_delays=True,
            )
            return [(pop, pop, kw)]
        if case == "b":
            pop = net.population(LIF(), n=max(2, int(30000 * scale)))
            return [(pop, pop, dict(rule=sim.FixedProbability(0.2), weight=5 * pA))]
        n = max(10, int(50000 * scale))
        pop = net.population(LIF(kinetics="delta"), n=n)
        n_e, d = int(0.8 * n), 1.5 * ms
        return [
            (pop[:n_e], pop, dict(rule=sim.FixedInDegree(800), weight=0.1 * mV, delay=d)),
            (
                pop[n_e:],
                pop,
                dict(rule=sim.FixedInDegree(200), weight=-0.5 * mV, delay=d, port="inh"),
            ),
        ]

    # load (or compile) the kernels and Numba's runtime before the baseline
    warm = sim.Network(dt=0.1 * ms, seed=0)
    for pre, post, kw in connections(warm, 0.002):
        warm.connect(pre, post, **kw)
    net = sim.Network(dt=0.1 * ms, seed=1)
    todo = connections(net, 1.0)
    estimate = None
    if hasattr(net, "estimate_connection"):
        estimate = 0
        for pre, post, kw in todo:
            est = net.estimate_connection(pre, post, rule=kw["rule"], delay=kw.get("delay"))
            estimate += est.stored_bytes
    del warm
    gc.collect()
    before = _rss_bytes()
    t0 = time.perf_counter()
    projs = [net.connect(pre, post, **kw) for pre, post, kw in todo]
    seconds = time.perf_counter() - t0
    gc.collect()
    after, peak = _rss_bytes(), _maxrss_bytes()
    stored = sum(p.nbytes for p in projs)
    out = dict(
        case=case,
        synapses=sum(len(p) for p in projs),
        stored=stored,
        stays=after - before,
        peak=peak - before,
        estimate=estimate,
        seconds=seconds,
    )
    if net.comm is not None:  # several ranks: rank 0 reports the largest rank's figures
        out = net.comm.gather(out, root=0)
        if net.rank != 0:
            return
        largest = {k: max(o[k] for o in out) for k in ("stays", "peak", "seconds", "stored")}
        # the estimate is the whole network's: scaled so that the column compares it with
        # the sum over ranks
        share = largest["stored"] / sum(o["stored"] for o in out)
        out = {**out[0], **largest, "estimate": None if estimate is None else estimate * share}
    print("RESULT " + json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    ap.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    ap.add_argument("--mpi", type=int, default=1, help="build on this many MPI ranks")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    launch = [sys.executable]
    if args.mpi > 1:
        mpirun = shutil.which("mpirun", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        launch = [mpirun, "--oversubscribe", "-n", str(args.mpi), sys.executable]
        if os.geteuid() == 0:
            launch.insert(1, "--allow-run-as-root")
        print(f"on {args.mpi} MPI ranks: per rank, the largest of them\n")
    mb = 2**20
    print(
        "| case | synapses | stored MB | RSS stays MB | peak RSS growth MB | peak / stored "
        "| estimate / stored | build s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        run = subprocess.run([*launch, __file__, "--child", case], capture_output=True, text=True)
        line = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
        if run.returncode or not line:
            print(f"| {case} | failed: {run.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(line[-1][7:])
        est = "-" if r["estimate"] is None else f"{r['estimate'] / r['stored']:.3f}"
        print(
            f"| {case} | {r['synapses']:,} | {r['stored'] / mb:.0f} | {r['stays'] / mb:.0f} "
            f"| {r['peak'] / mb:.0f} | {r['peak'] / r['stored']:.2f} | {est} "
            f"| {r['seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
