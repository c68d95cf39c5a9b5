"""Float simulator against the bit-accurate emulator (fidelity), and activity / energy
figures of a mapped network.

* :func:`fidelity` runs the same input spikes through the float network (``net.run``)
  and the emulator and compares spike times, rates and learned weights
  (:class:`Fidelity`, with :meth:`Fidelity.summary` and :meth:`Fidelity.figure`);
* :func:`activity` gives, per population, spikes, sparsity, synaptic operations per
  second, memory words and an energy estimate from the target's per-operation figures
  (:attr:`~axonforge.hardware.targets.Target.energy_per_synop`, ``energy_per_update``,
  sources in ``energy_source``), next to published chips
  (:data:`~axonforge.hardware.targets.REFERENCE_ENERGY`: Loihi, ODIN);
* :func:`report_text` renders resources, saturation, quantisation and activity as the
  text ``axonforge export --check`` prints.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from axonforge.hardware.targets import REFERENCE_ENERGY, get


@dataclasses.dataclass
class Fidelity:
    """Float against emulator over ``n_steps`` steps. ``matched_float``: fraction of float
    spikes with an emulator spike of the same neuron within ``tolerance`` steps;
    ``matched_emulator`` the converse; ``rate_error``: relative error of the mean rate;
    ``rate_error_per_neuron``: mean ``|rate_emu - rate_float|`` over neurons, relative to the
    mean float rate; ``weight_error``: per plastic projection, the largest ``|w_emu - w_float|``
    after the run relative to ``w_max - w_min``."""

    target: str
    n_steps: int
    dt: float
    tolerance: int
    n_float: int
    n_emulator: int
    matched_float: float
    matched_emulator: float
    rate_float: float
    rate_emulator: float
    rate_error: float
    rate_error_per_neuron: float
    weight_error: dict
    saturated: dict
    float_spikes: tuple = dataclasses.field(repr=False, default=None)
    emulator_spikes: tuple = dataclasses.field(repr=False, default=None)
    rates: tuple = dataclasses.field(repr=False, default=None)
    #: the mapped network and the emulator's run (for :func:`report_text`)
    config: object = dataclasses.field(repr=False, default=None)
    result: object = dataclasses.field(repr=False, default=None)

    def summary(self) -> str:
        lines = [
            f"fidelity on {self.target}: {self.n_steps} steps of {self.dt * 1e3:g} ms",
            f"  spikes: float {self.n_float}, emulator {self.n_emulator}",
            f"  matched within +-{self.tolerance} step(s): {self.matched_float:.1%} of float, "
            f"{self.matched_emulator:.1%} of emulator spikes",
            f"  mean rate: float {self.rate_float:.3f} Hz, emulator {self.rate_emulator:.3f} Hz "
            f"(error {self.rate_error:.2%}); per-neuron rate error "
            f"{self.rate_error_per_neuron:.2%}",
        ]
        for name, err in self.weight_error.items():
            lines.append(f"  weights of {name!r} after learning: largest error {err:.2%} of range")
        sat = {k: v for k, v in self.saturated.items() if v}
        lines.append(f"  saturation events: {sat if sat else 'none'}")
        return "\n".join(lines)

    def figure(self):
        """Raster of both runs (float dots, emulator rings) and per-neuron rates: a
        matplotlib ``Figure`` (Agg canvas, no pyplot)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 4))
        FigureCanvasAgg(fig)
        ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
        (fs, fi), (es, ei) = self.float_spikes, self.emulator_spikes
        ax.plot(fs * self.dt, fi, ".", ms=2, label="float")
        ax.plot(es * self.dt, ei, "o", ms=3, mfc="none", label="emulator", alpha=0.6)
        ax.set_xlabel("time [s]")
        ax.set_ylabel("neuron")
        ax.legend(loc="upper right")
        ax.set_title(f"{self.target}: {self.matched_float:.0%} of float spikes matched")
        rf, re = self.rates
        bx.plot(rf, re, ".", ms=3)
        top = max(float(np.max(rf, initial=0)), float(np.max(re, initial=0)), 1e-9)
        bx.plot([0, top], [0, top], "k-", lw=0.5)
        bx.set_xlabel("float rate [Hz]")
        bx.set_ylabel("emulator rate [Hz]")
        fig.tight_layout()
        return fig


def _matched(a_steps, a_ids, b_steps, b_ids, tol, n_steps):
    """Fraction of spikes a with a spike b of the same neuron within tol steps."""
    if len(a_steps) == 0:
        return 1.0
    span = n_steps + 2 * tol + 2
    kb = np.sort(b_ids * span + b_steps)
    ka = a_ids * span + a_steps
    idx = np.searchsorted(kb, ka - tol)
    ok = idx < len(kb)
    ok[ok] = kb[idx[ok]] <= ka[ok] + tol
    return float(ok.mean())


def fidelity(net, target, inputs=None, duration=0.5, tolerance=1, **map_options) -> Fidelity:
    """Run ``net`` for ``duration`` seconds in the float simulator (this advances the
    network) and its mapping onto ``target`` (a target name, a Target, or an already
    mapped configuration made from ``net`` in its current state) in the emulator, with
    the same input spikes: those the network's input populations emit in the float run
    (SpikeSource schedules, SpikeStream recordings, Poisson draws), recorded and fed to
    the emulator step for step. ``inputs``: optional ``{population: (times, ids)}`` that
    replace SpikeSource schedules first (times relative to now, in s)."""
    if inputs:
        for name, (times, ids) in inputs.items():
            net.populations[name].set_spikes(np.asarray(times, float) + net.t, ids)
    config = target if hasattr(target, "emulate") else get(target).map(net, **map_options)
    n_steps = int(round(duration / net.dt))
    step0 = net.step
    mons = {
        name: net.spike_monitor(net.populations[name])
        for name in config.index
        if net.populations[name].carries_spikes
    }
    plastic = {n: p for n, p in net.projections.items() if p.plastic is not None}
    net.run(n_steps * net.dt)
    ins, outs = ([], []), ([], [])
    for name, mon in mons.items():
        kind, start, _ = config.index[name]
        steps = np.floor(mon.times / net.dt + 0.5).astype(np.int64) - 1 - step0
        ids = np.asarray(mon.ids, np.int64) + start
        dest = ins if kind == "input" else outs
        dest[0].append(steps)
        dest[1].append(ids)
    cat = lambda x: np.concatenate(x) if x else np.zeros(0, np.int64)  # noqa: E731
    in_steps, in_ids = cat(ins[0]), cat(ins[1])
    fs, fi = cat(outs[0]), cat(outs[1])
    res = config.emulate(in_steps, in_ids, n_steps)
    in_window = (in_steps >= 0) & (in_steps < n_steps)
    res.extra["input_counts"] = np.bincount(in_ids[in_window], minlength=config.n_inputs)
    es, ei = res.spike_steps, res.spike_ids
    T = n_steps * net.dt
    n = config.n_neurons
    rf = np.bincount(fi, minlength=n) / T
    re = np.bincount(ei, minlength=n) / T
    mean_f = float(rf.mean()) if n else 0.0
    werr = {}
    for name, proj in plastic.items():
        if res.final_weights is None or name not in getattr(config, "weight_index", {}):
            continue
        p = proj.plastic.model.params
        w_emu = res.final_weights[config.weight_index[name]] * config.scales["w"][name]
        rng = max(p["w_max"] - p["w_min"], 1e-300)
        werr[name] = float(np.max(np.abs(w_emu - proj.weights), initial=0.0) / rng)
    return Fidelity(
        target=config.target.name,
        n_steps=n_steps,
        dt=net.dt,
        tolerance=tolerance,
        n_float=len(fs),
        n_emulator=len(es),
        matched_float=_matched(fs, fi, es, ei, tolerance, n_steps),
        matched_emulator=_matched(es, ei, fs, fi, tolerance, n_steps),
        rate_float=mean_f,
        rate_emulator=float(re.mean()) if n else 0.0,
        rate_error=abs(float(re.mean()) - mean_f) / mean_f if mean_f else 0.0,
        rate_error_per_neuron=float(np.mean(np.abs(re - rf)) / mean_f) if mean_f else 0.0,
        weight_error=werr,
        saturated=dict(res.extra.get("saturated", {})),
        float_spikes=(fs, fi),
        emulator_spikes=(es, ei),
        rates=(rf, re),
        config=config,
        result=res,
    )


def activity(config, result) -> dict:
    """Per neuron population (and ``"total"``): spikes, mean rate [Hz], sparsity (the
    fraction of neuron-steps without a spike), synaptic operations (spikes x fan-out,
    input spikes included in their targets' populations) and per second, memory words
    (synapse words onto the population plus its neuron-memory words) and the energy
    estimate [J] (``None`` where the target has no figure), plus the same workload priced
    at the reference chips' figures (``"reference"``)."""
    t = config.target
    T = result.n_steps * config.dt
    a = getattr(config, "arrays", None)
    out = {}
    ids = np.asarray(result.spike_ids, np.int64)
    counts = np.bincount(ids, minlength=config.n_neurons)
    if a is not None:
        fan_out = np.diff(a["ptr"])
        src_spikes = np.zeros(config.n_sources, np.int64)
        src_spikes[config.n_inputs :] = counts
        inputs = result.extra.get("input_counts")  # set by fidelity()
        if inputs is not None:
            src_spikes[: config.n_inputs] = inputs
        per_syn = np.repeat(src_spikes, fan_out)
        syn_per_neuron = np.bincount(a["tgt"], weights=per_syn, minlength=config.n_neurons)
        words_per_neuron = np.bincount(a["tgt"], minlength=config.n_neurons)
        # neuron and state memory words per neuron (mapping docstring; NeuroCoreX: 2)
        n_fields = getattr(config, "neuron_words", 21)
    else:
        syn_per_neuron = np.zeros(config.n_neurons)
        words_per_neuron = np.zeros(config.n_neurons, np.int64)
        n_fields = 0
    tot = {"spikes": 0, "neurons": 0, "synops": 0.0, "words": 0}
    for name, (kind, start, n) in config.index.items():
        if kind != "neuron":
            continue
        sl = slice(start, start + n)
        spikes = int(counts[sl].sum())
        synops = float(syn_per_neuron[sl].sum())
        words = int(words_per_neuron[sl].sum()) + n * n_fields
        out[name] = _entry(t, spikes, n, synops, words, result.n_steps, T)
        tot["spikes"] += spikes
        tot["neurons"] += n
        tot["synops"] += synops
        tot["words"] += words
    out["total"] = _entry(
        t, tot["spikes"], tot["neurons"], tot["synops"], tot["words"], result.n_steps, T
    )
    out["reference"] = {
        chip: {
            "energy": tot["synops"] * e_sop + tot["neurons"] * result.n_steps * (e_upd or 0.0),
            "source": src,
        }
        for chip, (e_sop, e_upd, src) in REFERENCE_ENERGY.items()
    }
    out["energy_source"] = t.energy_source
    return out


def _entry(t, spikes, n, synops, words, n_steps, T):
    updates = n * n_steps
    energy = None
    if t.energy_per_synop is not None and t.energy_per_update is not None:
        energy = synops * t.energy_per_synop + updates * t.energy_per_update
    return {
        "neurons": n,
        "spikes": spikes,
        "rate": spikes / max(n, 1) / T if T else 0.0,
        "sparsity": 1.0 - spikes / max(updates, 1),
        "synops": synops,
        "synops_per_s": synops / T if T else 0.0,
        "memory_words": words,
        "energy": energy,
        "power": energy / T if energy is not None and T else None,
    }


def report_text(config, result=None, fidelity_result=None) -> str:
    """Resources, saturation, quantisation and (given an emulator result) activity and
    energy, as text."""
    r = config.resources()
    syn = r["synapses"]
    syn = (
        f"{sum(syn.values())} ({', '.join(f'{k} {v}' for k, v in syn.items())})"
        if isinstance(syn, dict)
        else syn
    )
    lines = [
        f"target {r['target']}: {r['neurons']} neurons, {r['inputs']} inputs, "
        f"{syn} synapses on {r.get('cores_used', 1)} core(s); dt {config.dt * 1e3:g} ms",
    ]
    for c in r.get("cores", []):
        lines.append(
            f"  core {c['core']}: {c['neurons']}/{c['neurons_per_core']} neurons, "
            f"{c['synapses']}/{c['weight_words']} synapse words, max fan-in "
            f"{c['max_fan_in']}, max fan-out {c['max_fan_out']}"
        )
    if "memory_bits" in r:
        words = r.get("memory_words", sum(m.depth for m in config.memories()))
        lines.append(f"  memories: {words} words, {r['memory_bits'] / 8192:.1f} KiB")
    if "arithmetic" in r:
        lines.append("  arithmetic: " + ", ".join(f"{k} {v}" for k, v in r["arithmetic"].items()))
    sat = r.get("saturation") or []
    sat = [f"{k}: {v}" for k, v in sat.items()] if isinstance(sat, dict) else list(sat)
    lines.append("saturation: " + ("none" if not sat else ""))
    lines += [f"  {s}" for s in sat]
    for key in ("deviation",):  # targets that approximate the float model say by how much
        for k, v in (r.get(key) or {}).items():
            lines.append(f"  {key} {k}: {v}")
    if r.get("quantisation"):
        lines.append("quantisation:")
        lines += [f"  {s}" for s in r["quantisation"]]
    missing = r.get("did_not_fit") or r.get("not_fitted")
    if missing:
        lines.append("did not fit:")
        lines += [f"  {s}" for s in missing]
    if result is not None:
        act = activity(config, result)
        lines.append(
            f"activity over {result.n_steps} steps ({result.n_steps * config.dt:g} s; "
            "energy: " + (act["energy_source"] or "no figures") + "):"
        )
        lines.append(
            f"  {'population':<16}{'rate Hz':>9}{'sparsity':>10}{'SOP/s':>12}{'words':>9}"
            f"{'energy J':>11}"
        )
        for name, e in act.items():
            if name in ("reference", "energy_source"):
                continue
            en = "-" if e["energy"] is None else f"{e['energy']:.3g}"
            lines.append(
                f"  {name:<16}{e['rate']:>9.2f}{e['sparsity']:>10.4f}{e['synops_per_s']:>12.4g}"
                f"{e['memory_words']:>9}{en:>11}"
            )
        for chip, e in act["reference"].items():
            lines.append(f"  at {chip}'s figures: {e['energy']:.3g} J ({e['source']})")
    if fidelity_result is not None:
        lines.append(fidelity_result.summary())
    return "\n".join(lines)


def check(net, target, duration=1.0, figure=None, **map_options) -> str:
    """What ``axonforge export --check`` prints: ``net`` mapped onto ``target`` (design
    rules first), run for ``duration`` seconds in the float simulator and in the
    emulator with the same inputs (:func:`fidelity`; this advances ``net``), then the
    resources, saturation, activity, energy and fidelity as text (:func:`report_text`).
    ``figure``: a path for the fidelity figure."""
    fid = fidelity(net, target, duration=duration, **map_options)
    if figure is not None:
        fid.figure().savefig(figure, dpi=110)
    return report_text(fid.config, fid.result, fid)
