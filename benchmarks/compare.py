"""Run axonforge, Brian2 and NEST on the same networks, one fresh process each, and
print a table of times, spikes, rates and memory with ratios to axonforge.

    python benchmarks/compare.py --peer-python /path/to/peers-venv/bin/python
    python benchmarks/compare.py --workloads brunel --durations 0.2 1.0 --repeat 2
    python benchmarks/compare.py --fixture   # regenerate tests/fixtures/cuba_brian2.json
    python benchmarks/compare.py --fixture hh   # regenerate tests/fixtures/hh_brian2.json
    python benchmarks/compare.py --workloads cobahh --seeds 1 2 3 4 5 --repeat 1 \
        --simulators axonforge brian2-cpp brian2-runtime   # one row per seed, then ranges
    python benchmarks/compare.py --workloads cobahh --seeds 1 2 3 4 5 --same-network \
        --simulators axonforge brian2-cpp   # Brian2 simulates axonforge's realisations
    python benchmarks/compare.py --workloads brunel --durations 0.2 \
        --simulators axonforge axonforge@t2 axonforge@mpi2 brian2-cpp@t2 nest@t2

A simulator name may end in ``@tN`` (N threads; OpenMP threads for brian2-cpp) or, for
axonforge, ``@mpiN`` (N MPI ranks of one thread each, through ``mpirun`` from the
[mpi] extra).

The peers live in their own venv because Brian2 2.9 needs numpy < 2.3:
``python -m venv peers && peers/bin/pip install "numpy<2.3" brian2 nest-simulator``.
Results go to benchmarks/results/<date>.json; the table is Markdown (for README.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIMS = ["axonforge", "brian2-runtime", "brian2-cpp", "nest"]


def _launcher(python, simulator):
    """``(command prefix, simulator, extra options)`` for a name like ``nest@t2``."""
    import os
    import shutil

    base, _, mod = simulator.partition("@")
    if mod.startswith("t"):
        return [python], base, ["--threads", mod[1:]]
    if mod.startswith("mpi"):
        path = f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        mpirun = [shutil.which("mpirun", path=path) or "mpirun", "--oversubscribe"]
        if os.geteuid() == 0:
            mpirun.append("--allow-run-as-root")
        return [*mpirun, "-n", mod[3:], python], base, ["--threads", "1"]
    return [python], base, []


def measure(python, simulator, workload, duration, seed=1, extra=()):
    prefix, base, options = _launcher(python, simulator)
    cmd = [
        *prefix,
        str(HERE / "workloads.py"),
        base,
        workload,
        "--duration",
        str(duration),
        "--seed",
        str(seed),
        *options,
        *extra,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return {**json.loads(line[7:]), "simulator": simulator}
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {
        "simulator": simulator,
        "workload": workload,
        "duration": duration,
        "error": " | ".join(tail),
    }


def best_of(python_for, simulators, workload, duration, repeat, extra=(), seed=1):
    """Best (fastest simulation) of ``repeat`` runs per simulator, the runs interleaved
    round-robin so that all simulators see the same machine noise."""
    runs = {sim: [] for sim in simulators}
    for _ in range(repeat):
        for sim in simulators:
            runs[sim].append(
                measure(python_for(sim), sim, workload, duration, seed=seed, extra=extra)
            )
    out = []
    for sim in simulators:
        ok = [r for r in runs[sim] if "error" not in r]
        out.append(min(ok, key=lambda r: r["sim"]) if ok else runs[sim][0])
    return out


def table(results):
    rows = [
        "| workload | simulator | build [s] | compile [s] | simulate [s] | sim ratio "
        "(/ axonforge 1 thread) | sim ratio (/ fastest axonforge) | spikes | rate [Hz] | "
        "ISI CV | B/synapse | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    seeds = len({r.get("seed", 1) for r in results}) > 1
    for key in dict.fromkeys((r["workload"], r["duration"], r.get("seed", 1)) for r in results):
        group = [r for r in results if (r["workload"], r["duration"], r.get("seed", 1)) == key]
        ours = next((r for r in group if r["simulator"] == "axonforge" and "error" not in r), None)
        mine = [r for r in group if r["simulator"].startswith("axonforge") and "error" not in r]
        fastest = min(mine, key=lambda r: r["sim"]) if mine else None
        for r in group:
            name = f"{key[0]} {key[1]} s" + (f" seed {key[2]}" if seeds else "")
            if "error" in r:
                rows.append(f"| {name} | {r['simulator']} | error: {r['error'][:80]} |" + " |" * 9)
                continue
            ratio = r["sim"] / ours["sim"] if ours else float("nan")
            ratio2 = r["sim"] / fastest["sim"] if fastest else float("nan")
            bps = r.get("bytes_per_synapse")
            rows.append(
                f"| {name} | {r['simulator']} | {r['build']:.2f} | {r['compile']:.2f} | "
                f"{r['sim']:.3f} | {ratio:.2f}x | {ratio2:.2f}x | {r['spikes']} | "
                f"{r['rate']:.2f} | "
                f"{r.get('cv', float('nan')):.2f} | "
                f"{'-' if bps is None else f'{bps:.1f}'} | {r['peak_mb']:.0f} |"
            )
    return "\n".join(rows)


def ranges(results):
    """Per workload and simulator over seeds: min-max of rate and ISI CV, and the mean
    simulation time (a Markdown table; empty when there is one seed)."""
    if len({r.get("seed", 1) for r in results}) < 2:
        return ""
    rows = [
        "| workload | simulator | seeds | rate [Hz] min-max | ISI CV min-max | simulate [s] mean |",
        "|---|---|---|---|---|---|",
    ]
    ok = [r for r in results if "error" not in r]
    for key in dict.fromkeys((r["workload"], r["duration"], r["simulator"]) for r in ok):
        group = [r for r in ok if (r["workload"], r["duration"], r["simulator"]) == key]
        rate = [r["rate"] for r in group]
        cv = [r.get("cv", float("nan")) for r in group]
        sim = sum(r["sim"] for r in group) / len(group)
        rows.append(
            f"| {key[0]} {key[1]} s | {key[2]} | {len(group)} | {min(rate):.2f}-{max(rate):.2f} "
            f"| {min(cv):.2f}-{max(cv):.2f} | {sim:.3f} |"
        )
    return "\n".join(rows)


def hh_fixture(peer_python):
    """Brian2's exponential Euler on one HH neuron: the reference for tests/models/test_hh.py."""
    r = measure(peer_python, "brian2-runtime", "hh-neuron", 0.1)
    if "error" in r:
        raise SystemExit(f"Brian2 failed: {r['error']}")
    out = {
        "source": "Brian2 2.9.0 (numpy target), benchmarks/workloads.py hh-neuron: one "
        "Traub-Miles HH neuron, 0.5 nA from rest, exponential Euler, dt 0.1 ms, 100 ms; "
        "spike times shifted by +dt to axonforge's end-of-step labels",
        "current": 0.5e-9,
        "dt": 1e-4,
        "duration": 0.1,
        "spike_times": r["spike_times"],
        "v_every": r["every"],
        "v": r["v"],
    }
    path = HERE.parent / "tests" / "fixtures" / "hh_brian2.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}: {len(out['spike_times'])} spikes, {len(out['v'])} samples")


def fixture(peer_python):
    """Brian2 (runtime) CUBA over five seeds: the reference for tests/test_examples.py."""
    runs = [measure(peer_python, "brian2-runtime", "cuba", 1.0, seed=s) for s in range(1, 6)]
    bad = [r for r in runs if "error" in r]
    if bad:
        raise SystemExit(f"Brian2 failed: {bad[0]['error']}")
    rates = [r["rate"] for r in runs]
    cvs = [r["cv"] for r in runs]
    out = {
        "source": "Brian2 2.9.0 (cython runtime), benchmarks/workloads.py cuba, seeds 1-5, 1 s",
        "rates_hz": rates,
        "rate_hz_min": min(rates),
        "rate_hz_max": max(rates),
        "cvs": cvs,
        "cv_mean": sum(cvs) / len(cvs),
    }
    path = HERE.parent / "tests" / "fixtures" / "cuba_brian2.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--peer-python",
        default="/tmp/peers/bin/python",
        help="Python of the venv with brian2 and nest-simulator",
    )
    ap.add_argument("--workloads", nargs="+", default=["cuba", "brunel"])
    ap.add_argument("--durations", nargs="+", type=float, default=None)
    ap.add_argument("--simulators", nargs="+", default=SIMS)
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs")
    ap.add_argument(
        "--seeds", nargs="+", type=int, default=[1], help="network seeds (one row each)"
    )
    ap.add_argument(
        "--fixture",
        nargs="?",
        const="cuba",
        choices=["cuba", "hh"],
        help="regenerate a test fixture from Brian2 (cuba: default; hh: one HH neuron)",
    )
    ap.add_argument(
        "--same-network",
        action="store_true",
        help="cobahh: the peers simulate axonforge's realisation of each seed (its synapses "
        "and initial state, written by the first simulator, which must be axonforge)",
    )
    a = ap.parse_args()
    if a.same_network and not a.simulators[0].startswith("axonforge"):
        ap.error("--same-network: list axonforge first in --simulators (it writes the network)")
    if a.fixture:
        return (hh_fixture if a.fixture == "hh" else fixture)(a.peer_python)
    results = []
    python_for = lambda sim: sys.executable if sim.startswith("axonforge") else a.peer_python  # noqa: E731
    for workload in a.workloads:
        durations = a.durations or ([0.2, 1.0] if workload == "brunel" else [1.0])
        for duration in durations:
            for seed in a.seeds:
                extra = ()
                if a.same_network and workload == "cobahh":
                    (HERE / "results").mkdir(exist_ok=True)
                    extra = ("--network-file", str(HERE / "results" / f"cobahh_seed{seed}.npz"))
                for r in best_of(
                    python_for, a.simulators, workload, duration, a.repeat, extra, seed
                ):
                    print(json.dumps(r), flush=True)
                    results.append(r)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M")
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    print(ranges(results))


if __name__ == "__main__":
    main()
