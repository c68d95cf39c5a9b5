"""The bit-accurate hardware emulator: speed against real time and the float simulator.

``python benchmarks/emulator.py [--duration 1.0] [--repeat 3]``

Two workloads, both mapped with :func:`axonforge.hardware.map_network`:

* ``small``: 256 LIF neurons driven by 64 Poisson inputs at 10 Hz, 16k synapses in all
  (random recurrent 0.2 plus input 0.25, delays 1-8 ms), dt = 1 ms, on one artix7 core:
  ``x real time`` = simulated seconds per wall second of :meth:`CoreConfig.emulate`
  (goal >= 1000);
* ``cuba``: the 4000-neuron CUBA network (``examples/cuba.py``, dt = 0.1 ms, 320k
  synapses) on an artix7-like core whose memory limits are lifted (it does not fit the
  real devices: see the design-rule error in the tests): emulator wall time against
  ``net.run`` of the float simulator over the same simulated time (goal: ratio <= 1).

Times are the best of ``--repeat`` runs after one warm-up run (Numba compilation
excluded for both).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

import axonforge as sim
from axonforge.hardware import targets
from axonforge.models import LIF, PoissonSource

ROOT = Path(__file__).resolve().parent.parent


def _cuba():
    spec = importlib.util.spec_from_file_location("cuba", ROOT / "examples" / "cuba.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cuba"] = mod
    spec.loader.exec_module(mod)
    return mod


def small_net():
    net = sim.Network(dt=1e-3, seed=4)
    inp = net.population(PoissonSource(rate=10.0), n=64, name="in")
    pop = net.population(LIF(v_rest=-65e-3, v_thresh=-50e-3, i_offset=0.235e-9), n=256, name="n")
    delay = sim.uniform(1e-3, 8e-3)
    net.connect(inp, pop, rule=sim.FixedProbability(0.25), weight=30e-12, delay=delay,
                round_delays=True, name="ff")  # fmt: skip
    n_ee = 16384 - 4096
    p_rec = n_ee / 256**2
    net.connect(pop, pop, rule=sim.FixedProbability(p_rec), weight=-15e-12, delay=delay,
                round_delays=True, port="inh", name="rec")  # fmt: skip
    return net


def best(fn, repeat):
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []

    net = small_net()
    cfg = targets.get("artix7").map(net)
    n_syn = len(cfg.arrays["tgt"])
    steps = int(round(args.duration / net.dt))
    rng = np.random.default_rng(0)
    k = rng.poisson(10.0 * 64 * args.duration)
    in_steps, in_ids = rng.integers(0, steps, k), rng.integers(0, 64, k)
    res = cfg.emulate(in_steps, in_ids, steps)
    rate = len(res.spike_ids) / 256 / args.duration
    t_emu = best(lambda: cfg.emulate(in_steps, in_ids, steps), args.repeat)
    t_float = best(lambda: net.run(args.duration), args.repeat)
    rows.append((f"small (256 n, {n_syn // 1000}k syn, {rate:.1f} Hz)", t_emu, t_float))

    cuba = _cuba()
    net, _, _ = cuba.build(seed=1, record_v=0)
    big = dataclasses.replace(targets.get("artix7"), name="artix7-unbounded", cores=4,
                              weight_words=1 << 20)  # fmt: skip
    cfg = big.map(net)
    steps = int(round(args.duration / net.dt))
    res = cfg.emulate([], [], steps)
    rate = len(res.spike_ids) / 4000 / args.duration
    t_emu = best(lambda: cfg.emulate([], [], steps), args.repeat)
    t_float = best(lambda: net.run(args.duration), args.repeat)
    n_syn = len(cfg.arrays["tgt"])
    rows.append((f"cuba (4000 n, {n_syn // 1000}k syn, {rate:.1f} Hz)", t_emu, t_float))

    print(f"simulated {args.duration:g} s; best of {args.repeat}")
    print(f"{'workload':<34}{'emulator s':>11}{'x real time':>12}{'float s':>9}{'emu/float':>10}")
    for name, te, tf in rows:
        print(f"{name:<34}{te:>11.4f}{args.duration / te:>12.0f}{tf:>9.4f}{te / tf:>10.2f}")


if __name__ == "__main__":
    main()
