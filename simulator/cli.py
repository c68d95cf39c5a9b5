"""The ``axonforge`` command: run saved networks or example scripts, inspect files.

axonforge run net.h5 --duration 1.0 --out results/
axonforge run examples/cuba.py --duration 2.0   (options after the script go to it)
axonforge info net.h5
axonforge cache [--clear]
"""

from __future__ import annotations

import argparse
import runpy
import shutil
import sys
import time
from pathlib import Path


def _run(args):
    target = Path(args.target)
    if target.suffix == ".py":
        if not target.exists():
            raise SystemExit(f"axonforge run: {target}: no such script")
        sys.argv = [str(target)] + list(args.script_args)
        runpy.run_path(str(target), run_name="__main__")
        return 0
    import axonforge as sim
    from axonforge import io, plot

    net = sim.load(target)
    out = Path(args.out or target.with_suffix(""))
    out.mkdir(parents=True, exist_ok=True)
    if not net.monitors and not args.no_monitor:
        for pop in net.populations.values():
            net.spike_monitor(pop, name=f"spikes_{pop.name}")
    t0 = time.perf_counter()
    net.run(args.duration, progress=not args.quiet)
    wall = time.perf_counter() - t0
    print(f"simulated {args.duration} s in {wall:.2f} s wall (t = {net.t:.4f} s)")
    for mon in net.monitors:
        if mon.kind == "spikes":
            print(
                f"  {mon.name}: {mon.num_spikes} spikes, mean rate "
                f"{mon.mean_rate():.2f} Hz over {len(mon.sel)} neurons"
            )
            plot.summary(spikes=mon, path=out / f"{mon.name}_raster.png", title=mon.name)
        elif mon.kind == "state":
            plot.summary(
                states=mon,
                variable=mon.variables[0],
                path=out / f"{mon.name}_trace.png",
                title=mon.name,
            )
    io.save_recordings(out / "recordings.h5", net.monitors)
    if args.save:
        net.save(args.save)
    print(f"recordings and figures in {out}/")
    return 0


def _info(args):
    import axonforge as sim

    net = sim.load(args.file)
    print(net)
    for pop in net.populations.values():
        print(f"  {pop!r}")
    for proj in net.projections.values():
        rule = "" if proj.plastic is None else f", rule {proj.plastic.model!r}"
        print(f"  {proj!r}, {proj.nbytes / 1e6:.2f} MB{rule}")
    for mod in net.modulators.values():
        print(f"  {mod!r}")
    for mon in net.monitors:
        print(f"  {mon!r}")
    return 0


def _cache(args):
    from axonforge.backends.numba_backend import cache_dir

    folder = cache_dir()
    files = list(folder.glob("k_*.py"))
    print(f"{folder}: {len(files)} kernel module(s)")
    if args.clear:
        shutil.rmtree(folder)
        print("cleared")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="axonforge", description="axonforge: spiking-network simulator (Numba kernels)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a saved network (.h5) or an example script (.py)")
    run.add_argument("target", help="network file saved with net.save(), or a Python script")
    run.add_argument("--duration", type=float, default=1.0, help="seconds to simulate (.h5)")
    run.add_argument("--out", help="folder for recordings.h5 and figures (.h5)")
    run.add_argument("--save", help="save the network after the run to this file (.h5)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--no-monitor",
        action="store_true",
        help="do not add spike monitors to a network that has none",
    )
    run.set_defaults(func=_run)
    info = sub.add_parser("info", help="describe a saved network")
    info.add_argument("file")
    info.set_defaults(func=_info)
    cache = sub.add_parser("cache", help="show or clear the compiled-kernel cache")
    cache.add_argument("--clear", action="store_true")
    cache.set_defaults(func=_cache)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not (args.command == "run" and args.target.endswith(".py")):
        parser.error(f"unrecognised arguments: {' '.join(unknown)}")
    args.script_args = unknown  # a script's own options pass through to it
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
