"""Replay a recording into a saved network and compare what the network does with it.

The job behind ``axonforge replay RECORDING --model NET.h5`` (and usable from Python):
:func:`replay` feeds a recording (a :class:`~axonforge.SpikeData`) to the network's
spike-source population, runs the network for the recording's length, and measures the
network's population against the recording with :func:`axonforge.analysis.compare`
(unit i of the recording against neuron i); :func:`write_report` writes the numbers as
text or HTML beside the figure of :func:`axonforge.analysis.plot_comparison`.

Times: recording time ``start`` (0 by default) is replayed at the network's current time
``net.t``, so a loaded network continues where it stopped; the comparison puts both
sides on that common clock, from 0 to the replayed duration.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import numpy as np

from axonforge import analysis


@dataclasses.dataclass
class ReplayResult:
    """What :func:`replay` did: the populations it used, the window it replayed, the
    monitor of the compared population and the :class:`~axonforge.analysis.Comparison`
    (None when no population matches the recording's size)."""

    input: object
    target: object
    monitor: object
    start: float
    duration: float
    t0: float
    data: object
    comparison: object = None
    populations: dict = dataclasses.field(default_factory=dict)


def _one(candidates, what, option, net):
    if len(candidates) == 1:
        return candidates[0]
    names = sorted(p.name for p in net.populations.values())
    if not candidates:
        return None
    raise ValueError(
        f"replay: the network has {len(candidates)} {what} "
        f"({', '.join(sorted(p.name for p in candidates))}); choose one with {option} "
        f"(populations: {', '.join(names)})"
    )


def _population(net, name, option):
    if name not in net.populations:
        raise ValueError(
            f"replay: {option} {name!r}: the network has no such population; it has "
            f"{', '.join(sorted(net.populations))}"
        )
    return net.populations[name]


def replay(net, data, input=None, compare=None, start=0.0, stop=None, duration=None,
           progress=None, **compare_options) -> ReplayResult:  # fmt: skip
    """Drive ``net`` with the recording ``data`` and compare.

    Parameters
    ----------
    net : Network
        With a :class:`~axonforge.models.SpikeSource` population of at least
        ``data.n_units`` sources (unit i drives source i).
    data : SpikeData
        The recording (:func:`axonforge.read_spikes`).
    input, compare : str, optional
        Names of the driven population and of the population compared with the recording
        (default: the only spike-source population; the only neuron population with
        ``data.n_units`` neurons, else no comparison).
    start, stop : float [s]
        The recording's window to replay (``start <= t < stop``).
    duration : float [s], optional
        How long to run (default: to the window's end, or the last spike plus 10 ms,
        rounded up to the time grid).
    progress : bool or None
        ``net.run``'s progress bar.
    compare_options
        Passed to :func:`axonforge.analysis.compare` (``bin_width``, ``tau``, ``q``...).
    """
    sources = [p for p in net.populations.values() if p.kind == "spikes"]
    src = (
        _population(net, input, "--input")
        if input
        else _one(sources, "spike-source populations", "--input", net)
    )
    if src is None or src.kind != "spikes":
        raise ValueError(
            "replay: the network needs a SpikeSource population to drive "
            f"({'none found' if src is None else repr(src.name) + ' is a ' + src.kind}); "
            "build it with net.population(SpikeSource([], []), n=N_UNITS) and save it"
        )
    if data.n_units > src.n:
        raise ValueError(
            f"replay: the recording has {data.n_units} units but population "
            f"{src.name!r} has {src.n} sources; unit i drives source i"
        )
    window = data.window(start, stop) if (start or stop is not None) else data
    if duration is None:
        end = window.duration if window.duration else None
        if end is None:
            end = (float(window.times[-1]) if window.n_spikes else 0.0) + 0.01
        duration = np.ceil(end / net.dt - 1e-9) * net.dt
    t0 = net.t
    if window.n_spikes:
        src.set_spikes(window.times + t0, window.ids)
    neurons = [p for p in net.populations.values() if p.is_neuron and p.n == data.n_units]
    if compare:
        target = _population(net, compare, "--compare")
        if target.n != data.n_units:
            raise ValueError(
                f"replay: --compare {compare!r} has {target.n} neurons but the recording "
                f"{data.n_units} units; they are compared unit i with neuron i"
            )
    else:
        target = neurons[0] if len(neurons) == 1 else None
    monitors = {}
    for pop in net.populations.values():
        if pop.is_neuron:
            have = [m for m in net.monitors.values() if m.kind == "spikes" and m.pop is pop]
            monitors[pop.name] = (
                have[0] if have else net.spike_monitor(pop, name=f"spikes_{pop.name}")
            )
    net.run(duration, progress=progress)
    result = ReplayResult(src, target, monitors.get(getattr(target, "name", None)), start,
                          float(duration), t0, window)  # fmt: skip
    for name, mon in monitors.items():
        t, ids = _relative(mon, t0, duration)
        pop = net.populations[name]
        result.populations[name] = {
            "n": pop.n,
            "spikes": len(t),
            "rate": len(t) / (pop.n * duration) if duration else float("nan"),
            "isi_cv": analysis.finite_mean(analysis.isi_cv(t, pop.n, ids=ids)),
        }
    if target is not None:
        t, ids = _relative(result.monitor, t0, duration)
        keep = window.times < duration
        result.comparison = analysis.compare(
            t, window.times[keep], data.n_units, 0.0, duration,
            ids_sim=ids, ids_rec=window.ids[keep], **compare_options,
        )  # fmt: skip
    return result


def _relative(mon, t0, duration):
    t = np.asarray(mon.times) - t0
    keep = (t >= 0) & (t < duration)
    return t[keep], np.asarray(mon.ids)[keep]


def report_text(result: ReplayResult) -> str:
    """The report as plain text."""
    data = result.data
    lines = [
        f"recording: {data.metadata.get('source', '?')} ({data.metadata.get('format', '?')}),"
        f" {data.n_units} units, {data.n_spikes} spikes replayed",
        f"replayed: recording time {result.start:g} s on, {result.duration:g} s, into "
        f"population {result.input.name!r} from network time {result.t0:g} s",
        "",
        "network populations (spikes in the replayed window):",
    ]
    for name, s in result.populations.items():
        lines.append(
            f"  {name}: {s['n']} neurons, {s['spikes']} spikes, {s['rate']:.3g} Hz, "
            f"mean ISI CV {s['isi_cv']:.3g}"
        )
    if result.comparison is None:
        lines += ["", "no comparison: no neuron population has the recording's size (--compare)"]
    else:
        lines += ["", f"population {result.target.name!r} against the recording:"]
        lines += ["  " + row for row in str(result.comparison).splitlines()]
    return "\n".join(lines) + "\n"


def write_report(result: ReplayResult, out, html_report=False) -> list:
    """Write ``report.txt`` (or ``report.html``) and ``comparison.png`` into ``out``;
    returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    if result.comparison is not None:
        fig_path = out / "comparison.png"
        analysis.plot_comparison(result.comparison, path=fig_path,
                                 labels=(result.target.name, "recording"))  # fmt: skip
        paths.append(fig_path)
    text = report_text(result)
    if html_report:
        page = [
            "<!DOCTYPE html><html><head><meta charset='utf-8'>",
            "<title>axonforge replay report</title></head><body>",
            "<h1>axonforge replay report</h1>",
            f"<pre>{html.escape(text)}</pre>",
        ]
        if result.comparison is not None:
            rows = "".join(
                f"<tr><td>{html.escape(k)}</td><td>{v:.4g}</td></tr>"
                for k, v in result.comparison.summary().items()
            )
            page += [f"<table border='1'>{rows}</table>", "<img src='comparison.png'>"]
        page.append("</body></html>")
        path = out / "report.html"
        path.write_text("\n".join(page))
    else:
        path = out / "report.txt"
        path.write_text(text)
    return [path, *paths]
