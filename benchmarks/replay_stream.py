"""Streaming replay: memory and injection speed of a long recording replayed from disk.

``python benchmarks/replay_stream.py [--spikes 1e7] [--peer-python PY]``

A recording of 1,000 units firing Poisson at 100 Hz is written to a spike-stream file
(:mod:`axonforge.streaming`) with 10^6 and 10^7 spikes (10 s and 100 s), and replayed at
dt = 0.1 ms into one LIF neuron through 1,000 synapses (all-to-one), so that the run's
time is the injection itself: the walk over the window, the refills from disk and the
delivery of every spike. Each configuration runs in a fresh process, which reports:

* ``run s``: wall time of ``net.run`` (the kernel is compiled before, in a 1 ms run);
* ``spikes/s``: replayed spikes per second of that wall time;
* ``peak MB``: the process's peak resident memory (``ru_maxrss``), and ``over base``:
  the part added by the run and the source (peak minus the resident memory after
  importing axonforge, numba and h5py).

``memory`` replays the same 10^7 spikes from a :class:`~axonforge.models.SpikeSource` held
in memory, for contrast. With ``--peer-python``, Brian2's ``SpikeGeneratorGroup`` and
NEST's ``spike_generator`` replay the same spikes (read from the file whole: neither
streams) into the same neuron, in their own processes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_UNITS, RATE, DT = 1000, 100.0, 1e-4


def make_file(path, seconds, seed=1):
    """Poisson spikes of N_UNITS units at RATE, written one second at a time."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent.parent))
    from axonforge.streaming import StreamWriter

    rng = np.random.default_rng(seed)
    with StreamWriter(path, n_units=N_UNITS) as out:
        for s in range(seconds):
            n = rng.poisson(N_UNITS * RATE)
            t = np.sort(rng.uniform(s, s + 1, n)) + 1e-3
            out.append(t, rng.integers(0, N_UNITS, n))
    return path


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def axonforge_run(path, seconds, mode):
    import warnings

    import h5py
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent.parent))
    import axonforge as sim
    from axonforge.models import LIF, SpikeSource, SpikeStream
    from axonforge.units import mV

    base = _rss_mb()
    net = sim.Network(dt=DT, seed=1)
    if mode == "stream":
        src = SpikeStream(path)
    else:
        with h5py.File(path, "r") as f:
            src = SpikeSource(f["times"][:], f["ids"][:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # merged spikes: counted below
        pop = net.population(src, n=N_UNITS)
        cell = net.population(LIF(kinetics="delta", v_thresh=150 * mV), n=1)  # never fires
        net.connect(pop, cell, rule=sim.AllToAll(), weight=0.01 * mV)
        net.run(1e-3)
        t0 = time.perf_counter()
        net.run(seconds - 1e-3)
        wall = time.perf_counter() - t0
    with h5py.File(path, "r") as f:
        n = f["times"].shape[0]
    replayed = n - pop.merged_spikes
    assert np.isfinite(cell.get("v")).all()
    return dict(run=wall, spikes=n, replayed=replayed, peak=_rss_mb(), base=base)


def brian2_run(path, seconds):
    import h5py

    base = _rss_mb()
    import brian2 as b2

    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = DT * b2.second
    import numpy as np

    with h5py.File(path, "r") as f:
        times, ids = f["times"][:], f["ids"][:].astype(np.int64)
    # Brian2 refuses two spikes of one source in one step: merge them, as axonforge does
    steps = np.floor(times / DT + 0.5).astype(np.int64)
    key = np.unique(steps * N_UNITS + ids)
    gen = b2.SpikeGeneratorGroup(N_UNITS, key % N_UNITS, (key // N_UNITS) * DT * b2.second)
    cell = b2.NeuronGroup(1, "dv/dt = -v/(20*ms) : volt", threshold="v > 1*volt")
    syn = b2.Synapses(gen, cell, on_pre="v += 0.01*mV")
    syn.connect()
    net = b2.Network(gen, cell, syn)
    net.run(1 * b2.ms)
    t0 = time.perf_counter()
    net.run((seconds - 1e-3) * b2.second)
    return dict(run=time.perf_counter() - t0, spikes=len(times), peak=_rss_mb(), base=base)


def nest_run(path, seconds):
    import h5py
    import numpy as np

    base = _rss_mb()
    import nest

    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = DT * 1e3
    with h5py.File(path, "r") as f:
        times, ids = f["times"][:], f["ids"][:]
    steps = np.floor(times / DT + 0.5)  # NEST needs on-grid times
    gens = nest.Create("spike_generator", N_UNITS, params={"allow_offgrid_times": True})
    order = np.argsort(ids, kind="stable")
    split = np.searchsorted(ids[order], np.arange(N_UNITS + 1))
    for i, g in enumerate(gens):
        t = np.unique(steps[order[split[i] : split[i + 1]]]) * DT * 1e3
        g.spike_times = t[t > 0].tolist()
    cell = nest.Create("iaf_psc_delta", params={"V_th": 1e6})
    nest.Connect(gens, cell, syn_spec={"weight": 0.01, "delay": DT * 1e3})
    nest.Simulate(1.0)
    t0 = time.perf_counter()
    nest.Simulate((seconds - 1e-3) * 1e3)
    return dict(run=time.perf_counter() - t0, spikes=len(times), peak=_rss_mb(), base=base)


def child(args):
    path, seconds = Path(args.child[1]), int(args.child[2])
    kind = args.child[0]
    if kind in ("stream", "memory"):
        out = axonforge_run(path, seconds, kind)
    elif kind == "brian2":
        out = brian2_run(path, seconds)
    else:
        out = nest_run(path, seconds)
    print(json.dumps(out))


def run_child(python, kind, path, seconds):
    cmd = [python, __file__, "--child", kind, str(path), str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spikes", type=float, default=1e7, help="the larger recording")
    ap.add_argument("--peer-python", help="a Python with brian2 and nest")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    big = int(round(args.spikes / (N_UNITS * RATE)))
    rows = []
    for seconds in (big // 10, big):
        path = Path(args.dir) / f"axonforge_replay_bench_{seconds}s.h5"
        if not path.exists():
            make_file(path, seconds)
        kinds = [("stream", sys.executable)]
        if seconds == big:
            kinds.append(("memory", sys.executable))
            if args.peer_python:
                kinds += [("brian2", args.peer_python), ("nest", args.peer_python)]
        for kind, python in kinds:
            out = run_child(python, kind, path, seconds)
            rows.append((kind, seconds, out))
            print(kind, seconds, out, flush=True)
    print()
    print("| source | recording | spikes | run s | spikes/s | peak MB | over base MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, seconds, out in rows:
        if "error" in out:
            print(f"| {kind} | {seconds} s | | | | | {out['error']} |")
            continue
        rate = out["spikes"] / out["run"]
        print(
            f"| {kind} | {seconds} s | {out['spikes']:,} | {out['run']:.3f} | {rate:.3g} | "
            f"{out['peak']:.0f} | {out['peak'] - out['base']:.0f} |"
        )


if __name__ == "__main__":
    main()
