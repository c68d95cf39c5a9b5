"""A float network becomes the integer configuration of the generic core (target model
``"lif"``): fixed-point scaling, design-rule checks, partition onto cores, memories.

:func:`map_network` reads a network's populations and projections (never a compiled
kernel) and returns a :class:`CoreConfig` (the :class:`~axonforge.hardware.targets.
MappedNetwork` protocol). The arithmetic the configuration drives is documented in
:mod:`axonforge.hardware.emulator`.

Order of work: (1) unsupported objects fail (:class:`UnsupportedError`: a neuron model
or kinetics the core lacks, plasticity other than additive pair STDP on a target with
``stdp``, noise sources, couplings, astrocytes, injected currents); (2) design rules are
checked and all violations raised together (:class:`~axonforge.hardware.targets.
DesignRuleError`: neurons per device, fan-in, fan-out, delay range, synapse words per
core, the time step); (3) only then are numbers converted and memories built.

Fixed point (per neuron population; ``scales`` gives each LSB in SI units)
--------------------------------------------------------------------------
* LIF ``v`` is stored relative to ``v_rest`` with ``v_lsb = 4 * max(|v_thresh - v_rest|,
  |v_reset - v_rest|, max |v0 - v_rest|, 1 mV) / (2**(state_bits-1) - 1)``: the state holds
  four times the largest excursion the parameters name.
* Synaptic currents (``exp`` kinetics): ``i_lsb = 2**H * S / (2**(current_bits-1) - 1)``
  with ``S`` the worst-case per-step input sum of one port onto one neuron (sum of ``|w|``
  over its fan-in; at least the largest ``|w|``, ``|i_offset|`` and ``|initial current|``), so one
  step's input can never overflow the current register, and ``H`` bits of headroom for
  temporal summation (``headroom``, default ``2 + (current_bits - 16) // 2``: 2 bits at
  16, 6 at 24), but no larger than keeps the propagators ``p`` within ``coef_bits``.
  Unless ``headroom`` is given, the LSB is made finer where a bound allows it: a synapse
  delivers at most once per spike of its source, and a LIF source spikes at most once
  per ``m = max(round(t_ref / dt), 1)`` steps, so a port's current never exceeds
  ``R = sum |w| / (1 - alpha**m)`` (``alpha = exp(-dt / tau_syn)``; inputs and Izhikevich
  units ``m = 1``); ``i_lsb`` is at most ``1.01 R / (fill - 1 / (1 - alpha) - 2)``, the
  finest LSB at which ``R`` plus the rounding's drift fits the register
  (:func:`~axonforge.hardware.emulator.current_bound` is the same bound in integers).
  Finer currents matter: nearest rounding holds a decaying current in a dead band of
  ``1 / (2 (1 - alpha))`` LSB, a bias the coarser LSB turned into a 6-7 % lower rate of
  the balanced CUBA network on 16-bit currents (2 % with the bound).
* Weights: each projection has a power-of-two scale, ``w_lsb = unit * 2**shift`` (``unit``
  = the target's ``i_lsb``, or ``v_lsb`` for delta kinetics and Izhikevich), with the
  smallest ``shift`` (0..15) at which the largest ``|w|`` (for STDP also ``|w_min|``, ``|w_max|``)
  fits ``weight_bits`` signed; the core adds ``w << shift`` to the ring buffer.
* Decays ``a = round(exp(-dt/tau) * 2**F)`` (``decay="multiplier"``) or ``dash =
  round(log2(tau/dt))`` (``"shift"``); propagators ``p = round(P21 * i_lsb / v_lsb * 2**F)``
  and ``bias = round(P20 * i_offset / v_lsb * 2**F)`` with NEST's exact-integration
  ``P21 = tau_s tau_m / (c_m (tau_m - tau_s)) (e^{-dt/tau_m} - e^{-dt/tau_s})`` and
  ``P20 = tau_m / c_m (1 - e^{-dt/tau_m})``; ``F = frac_bits`` (target default).
* Izhikevich: ``v, u`` in ``2**-Fv`` mV (mV/ms), ``Fv = state_bits - 9``; coefficients with
  ``F - 1`` fraction bits (see the emulator).

Every float -> int conversion rounds half away from zero. Values that do not fit their
width (a weight, a threshold, a coefficient, a refractory count, an initial state, the
worst-case per-step input sum) are never clipped silently: each is listed in
``resources()["saturation"]`` and warned about (``strict=True`` raises instead); in the
memories such a value is held at the end of its range.

Partition: neurons are placed in index order (populations in creation order), core ``c``
holding neurons ``c*neurons_per_core ..``; inputs (SpikeSource, SpikeStream and
PoissonSource populations) are not neurons: they come first in the source index space and
reach every core through the routing memory.

Memories (:meth:`CoreConfig.memories`; ``{c}`` = core number; all words are two's
complement of the given width where signed)
-------------------------------------------------------------------------------------
Neuron memories of core ``c``, one word per neuron slot (``neurons_per_core`` words,
unused slots zero):

* ``core{c}_kind`` (2 bits): 0 LIF exp, 1 LIF delta, 2 Izhikevich;
* ``core{c}_a_m``, ``_a_e``, ``_a_i``, ``_p_e``, ``_p_i`` (``coef_bits`` signed): decays
  and propagators (``dash`` values with ``decay="shift"``);
* ``core{c}_bias`` (``state_bits + frac_bits + 1`` signed): constant input, in v LSB x
  ``2**F`` (Izhikevich: in v LSB);
* ``core{c}_theta``, ``_v_reset`` (``state_bits`` signed): threshold and reset (Izhikevich:
  ``v_peak`` and ``c``);
* ``core{c}_refsteps`` (8 bits): refractory steps;
* ``core{c}_izh_k1``, ``_izh_kh``, ``_izh_ka``, ``_izh_kb`` (``coef_bits`` signed) and
  ``core{c}_izh_d`` (``state_bits`` signed): Izhikevich coefficients (0 for LIF);
* state at t = 0: ``core{c}_v_init``, ``_u_init`` (``state_bits``), ``core{c}_ie_init``,
  ``_ii_init`` (``current_bits``), ``_ref_init`` (8 bits).

Synapses of core ``c`` (those onto its neurons), rows by source:

* ``core{c}_row_ptr`` (``n_sources + 1`` words, ``ceil(log2(weight_words + 1))`` bits):
  source ``j``'s synapses are words ``row_ptr[j] .. row_ptr[j+1]-1``; sources are the
  inputs (``0 .. n_inputs-1``) then the neurons (``n_inputs + neuron index``);
* ``core{c}_synapses``, one word per synapse, fields from bit 0 up:
  ``target`` (``tb = ceil(log2(neurons_per_core))`` bits, local slot), ``port`` (1 bit:
  0 exc, 1 inh), ``delay`` (``db = bit_length(max_delay)`` bits, in steps, 1..max_delay),
  ``shift`` (4 bits), ``weight`` (``weight_bits``, two's complement);
  width ``tb + 1 + db + 4 + weight_bits``;
* with STDP: ``core{c}_syn_rule`` (rule + 1, 0 = static; one word per synapse),
  ``core{c}_post_ptr`` (``neurons_per_core + 1`` words) and ``core{c}_post_syn`` (synapse
  addresses of each neuron's incoming plastic synapses, the transposed index used by
  post events), ``core{c}_post_src`` (the source of each ``post_syn`` entry, whose pre
  trace potentiates it), and ``stdp_rules``: 10 signed 32-bit words per rule, in order
  ``decay_pre, decay_post, A_plus, A_minus, w_min, w_max, k, one, trace_max, nearest``.

Routing: ``routing`` (``n_sources`` words of ``cores`` bits): bit ``c`` set when core
``c`` holds synapses of that source, i.e. where the source's spike is broadcast.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from axonforge.hardware import emulator
from axonforge.hardware.memfiles import Memory
from axonforge.hardware.targets import DesignRuleError, UnsupportedError, get

INPUT_KINDS = ("spikes", "stream", "poisson")
_RULE_FIELDS = (
    "decay_pre",
    "decay_post",
    "A_plus",
    "A_minus",
    "w_min",
    "w_max",
    "k",
    "one",
    "trace_max",
    "nearest",
)
#: extra fraction bits of the STDP amplitudes (A = a / w_lsb * 2**k / one)
STDP_EXTRA_BITS = 8


def _round(x):
    """Round half away from zero, to int64."""
    x = np.asarray(x, np.float64)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def _bits(n) -> int:
    """Bits to hold 0..n-1 (at least 1)."""
    return max(1, int(n - 1).bit_length())


def _srange(bits):
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


# ----------------------------------------------------------------------------- checks
def _spike_spacing(pop, h) -> int:
    """The fewest steps between two spikes of any source in ``pop``: a LIF neuron's
    refractory period holds it ``round(t_ref / dt)`` steps after a spike (at least 1);
    inputs and Izhikevich units can spike every step."""
    if pop.kind != "neuron" or type(pop.model).__name__ != "LIF":
        return 1
    refs = np.floor(np.asarray(pop.params["t_ref"], np.float64) / h + 0.5)
    return max(int(np.min(refs)), 1)


def _neuron_kind(pop, target):
    """0 LIF exp, 1 LIF delta, 2 Izhikevich; UnsupportedError lines otherwise."""
    model = type(pop.model).__name__
    kinetics = getattr(pop.model, "kinetics", None)
    if model not in target.neuron_models:
        return None, (
            f"population {pop.name!r}: neuron model {model} is not run by target "
            f"{target.name!r} (it runs {', '.join(target.neuron_models)})"
        )
    if model == "LIF" and kinetics in ("exp", "delta"):
        return (0 if kinetics == "exp" else 1), None
    if model == "Izhikevich" and kinetics == "delta":
        return 2, None
    return None, (
        f"population {pop.name!r}: {model} with kinetics={kinetics!r} is not supported by "
        f"target {target.name!r} (LIF: 'exp' or 'delta'; Izhikevich: 'delta')"
    )


def unsupported(net, target) -> list:
    """Lines naming each object of ``net`` the generic core cannot run."""
    out = []
    for pop in net.populations.values():
        if pop.kind == "neuron":
            out.append(_neuron_kind(pop, target)[1])
        elif pop.kind not in INPUT_KINDS:
            out.append(
                f"population {pop.name!r}: {type(pop.model).__name__} ({pop.kind}) sources "
                f"are not supported by target {target.name!r}; only spike inputs "
                "(SpikeSource, SpikeStream, PoissonSource) are"
            )
    for proj in net.projections.values():
        where = f"projection {proj.name!r}"
        if proj.summed is not None:
            out.append(f"{where}: continuous couplings are not supported by {target.name!r}")
            continue
        if proj.astro_pop is not None:
            out.append(f"{where}: tripartite (astrocyte) synapses are not supported")
        if proj.port not in ("exc", "inh"):
            out.append(f"{where}: port {proj.port!r} is not supported (only 'exc', 'inh')")
        if proj.plastic is not None:
            model = proj.plastic.model
            name = type(model).__name__
            if not target.stdp:
                out.append(f"{where}: plasticity ({name}) but {target.name!r} has no learning")
            elif name != "STDP" or getattr(model, "w_dependence", "") != "additive":
                out.append(
                    f"{where}: plasticity {name}"
                    f"{'[' + model.w_dependence + ']' if hasattr(model, 'w_dependence') else ''}"
                    f" is not supported; {target.name!r} runs additive pair STDP only"
                )
            elif getattr(proj.plastic, "modulator", None) is not None:
                out.append(f"{where}: modulated plasticity is not supported")
    if getattr(net, "injections", None):
        out.append(
            f"network: {len(net.injections)} injected current(s) (inject/StepCurrent) are "
            f"not supported by {target.name!r}; use i_offset"
        )
    if getattr(net, "modulators", None):
        out.append(f"network: modulators {sorted(net.modulators)} are not supported")
    return [line for line in out if line]


def _layout(net):
    """Index spaces: ``index`` name -> (kind, start, n); inputs and neurons in order."""
    index, n_in, n_neu = {}, 0, 0
    for pop in net.populations.values():
        if pop.kind == "neuron":
            index[pop.name] = ("neuron", n_neu, pop.n)
            n_neu += pop.n
        else:
            index[pop.name] = ("input", n_in, pop.n)
            n_in += pop.n
    return index, n_in, n_neu


def _population_ids(proj):
    """Source and target of each synapse as indices into the populations (``pre_ids`` /
    ``post_ids`` count within the views given to connect)."""
    pre = np.repeat(np.arange(proj.pre_pop.n, dtype=np.int64), np.diff(proj.ptr))
    return pre, proj.targets


def _synapse_table(net, index, n_in):
    """Per projection: (global source, neuron target, delay steps, float weight)."""
    table = {}
    for proj in net.projections.values():
        kind, start, _ = index[proj.pre_pop.name]
        pre, post = _population_ids(proj)
        src = pre + (start if kind == "input" else n_in + start)
        tgt = post + index[proj.post_pop.name][1]
        table[proj.name] = (src, tgt, proj.delay_steps, proj.weights)
    return table


def design_rules(net, target, index=None, table=None) -> tuple:
    """``(violations, summary)``: one line per broken limit (naming the population or
    projection and the limit) and the numbers behind them (neurons, synapses per core,
    largest fan-in / fan-out)."""
    if index is None:
        index, n_in, n_neu = _layout(net)
    else:
        n_in = sum(n for k, _, n in index.values() if k == "input")
        n_neu = sum(n for k, _, n in index.values() if k == "neuron")
    table = _synapse_table(net, index, n_in) if table is None else table
    t, out = target, []
    if t.dt is not None and abs(net.dt - t.dt) > 1e-9 * t.dt:
        out.append(f"network: dt = {net.dt:g} s, but {t.name} runs at a fixed dt = {t.dt:g} s")
    if n_neu > t.max_neurons:
        pops = [f"{p!r} ({n})" for p, (k, _, n) in index.items() if k == "neuron"]
        out.append(
            f"populations {', '.join(pops)}: {n_neu} neurons > {t.max_neurons} "
            f"({t.cores} core(s) x neurons_per_core {t.neurons_per_core}) of {t.name}"
        )
    n_src = n_in + n_neu
    fan_in = np.zeros(n_neu, np.int64)
    fan_out = np.zeros(n_src, np.int64)
    n_cores = max(1, -(-n_neu // t.neurons_per_core))
    per_core = np.zeros(n_cores, np.int64)
    for name, (src, tgt, delay, _) in table.items():
        fan_in += np.bincount(tgt, minlength=n_neu)
        fan_out += np.bincount(src, minlength=n_src)
        per_core += np.bincount(tgt // t.neurons_per_core, minlength=n_cores)[:n_cores]
        if len(delay) and delay.max() > t.max_delay:
            out.append(
                f"projection {name!r}: delay {int(delay.max())} steps > max_delay "
                f"{t.max_delay} of {t.name}"
            )
        if len(delay) and delay.min() < 1:
            out.append(f"projection {name!r}: delay {int(delay.min())} steps < 1")
    into = {}
    for name in table:
        into.setdefault(net.projections[name].post_pop.name, []).append(name)
    for name, (kind, start, n) in index.items():
        if kind == "neuron" and n and fan_in[start : start + n].max() > t.fan_in:
            i = int(np.argmax(fan_in[start : start + n]))
            projs = ", ".join(repr(p) for p in into.get(name, []))
            out.append(
                f"population {name!r}: neuron {i} has fan-in {int(fan_in[start + i])} > "
                f"fan_in {t.fan_in} of {t.name} (projections {projs})"
            )
        lo = start if kind == "input" else n_in + start
        if n and fan_out[lo : lo + n].max() > t.fan_out:
            i = int(np.argmax(fan_out[lo : lo + n]))
            out.append(
                f"population {name!r}: {'input' if kind == 'input' else 'neuron'} {i} has "
                f"fan-out {int(fan_out[lo + i])} > fan_out {t.fan_out} of {t.name}"
            )
    for c, words in enumerate(per_core):
        if words > t.weight_words:
            out.append(
                f"core {c}: {int(words)} synapse words > weight_words {t.weight_words} of "
                f"{t.name} (projections onto neurons {c * t.neurons_per_core}.."
                f"{min(n_neu, (c + 1) * t.neurons_per_core) - 1})"
            )
    summary = {
        "neurons": int(n_neu),
        "inputs": int(n_in),
        "synapses": int(sum(len(v[0]) for v in table.values())),
        "cores_needed": int(n_cores),
        "synapses_per_core": [int(x) for x in per_core],
        "max_fan_in": int(fan_in.max(initial=0)),
        "max_fan_out": int(fan_out.max(initial=0)),
    }
    return out, summary


# ---------------------------------------------------------------------------- mapping
class _Report:
    def __init__(self, strict, target):
        self.items, self.quant, self.strict, self.target = [], [], strict, target

    def fit(self, what, values, bits, signed=True, unit="LSB"):
        """Report values of ``what`` outside ``bits``; return them held in range."""
        values = np.asarray(values, np.int64)
        lo, hi = _srange(bits) if signed else (0, (1 << bits) - 1)
        bad = (values < lo) | (values > hi)
        if bad.any():
            worst = int(values[bad][np.argmax(np.abs(values[bad]))])
            self.items.append(
                f"{what}: {int(bad.sum())} value(s) outside {'signed' if signed else 'unsigned'}"
                f" {bits} bits ({lo}..{hi}), worst {worst} {unit}"
            )
        return np.clip(values, lo, hi)

    def finish(self):
        if not self.items:
            return
        msg = f"mapping onto {self.target}: values exceed their widths:\n  " + "\n  ".join(
            self.items
        )
        if self.strict:
            raise DesignRuleError(self.target, self.items)
        warnings.warn(
            msg + "\n(held at the end of their range; see resources()['saturation'])", stacklevel=4
        )


def _p21(tau_s, tau_m, c_m, h):
    same = np.isclose(tau_s, tau_m)
    ts = np.where(same, tau_m * (1 + 1e-9), tau_s)
    val = ts * tau_m / (c_m * (tau_m - ts)) * (np.exp(-h / tau_m) - np.exp(-h / ts))
    return np.where(same, h / c_m * np.exp(-h / tau_m), val)


def map_network(
    net,
    target,
    *,
    scale=None,
    frac_bits=None,
    rounding="nearest",
    decay=None,
    weight_shift=None,
    strict=False,
    headroom=None,
):
    """Map ``net`` onto ``target`` (a name or :class:`~axonforge.hardware.targets.Target`
    of model ``"lif"``; ``"neurocorex"`` is handed to its own mapper).

    Parameters
    ----------
    scale : dict, optional
        Fixed-point LSBs instead of the automatic choice: ``{"v": volts, "i": amperes}``,
        each a number (every population) or a dict by population name.
    frac_bits : int, optional
        Fraction bits ``F`` of decays and propagators (default: the target's).
    rounding : {"nearest", "floor"}
        The core's right shifts: round half away from zero, or floor (arithmetic shift).
    decay : {"multiplier", "shift"}, optional
        Decay arithmetic (default: the target's).
    weight_shift : int or dict, optional
        Weight scale ``2**shift`` current (or v) LSBs, per projection name or for all;
        default: the smallest shift at which the largest ``|w|`` fits.
    strict : bool
        Raise :class:`DesignRuleError` instead of warning when a value exceeds its width.
    headroom : int, optional
        Bits of the current register above the worst-case per-step input sum (given:
        exactly this; default: the target's, finer where the refractory-aware bound
        allows, see the module's notes).
    """
    target = get(target)
    if target.model == "neurocorex":
        from axonforge.hardware.neurocorex import map_network as ncx

        return ncx(net, target, scale=scale, rounding=rounding, strict=strict)
    if target.model != "lif":
        raise ValueError(f"target {target.name!r}: unknown core model {target.model!r}")
    if rounding not in ("nearest", "floor"):
        raise ValueError(f"rounding must be 'nearest' or 'floor', got {rounding!r}")
    decay = target.decay if decay is None else decay
    if decay not in ("multiplier", "shift"):
        raise ValueError(f"decay must be 'multiplier' or 'shift', got {decay!r}")
    bad = unsupported(net, target)
    if bad:
        raise UnsupportedError(target.name, bad)
    index, n_in, n_neu = _layout(net)
    table = _synapse_table(net, index, n_in)
    violations, summary = design_rules(net, target, index, table)
    if violations:
        err = DesignRuleError(target.name, violations)
        err.resources = summary
        raise err
    return CoreConfig(
        net, target, index, n_in, n_neu, table, scale or {}, frac_bits, rounding, decay,
        weight_shift, strict, summary, headroom,
    )  # fmt: skip


class CoreConfig:
    """A network mapped onto the generic core (the :class:`~axonforge.hardware.targets.
    MappedNetwork` protocol). ``arrays`` holds the integer configuration the emulator
    runs; ``scales`` the LSBs (``{"v": {pop: V}, "i": {pop: A}, "w": {proj: unit}}``,
    Izhikevich ``v`` in V too); ``weight_index[proj]`` the position of each of the
    projection's synapses (storage order) in the configuration's synapse order."""

    def __init__(
        self, net, target, index, n_in, n_neu, table, scale, frac_bits, rounding, decay,
        weight_shift, strict, summary, headroom=None,
    ):  # fmt: skip
        t = self.target = target
        self.dt, self.index = float(net.dt), index
        self.n_inputs, self.n_neurons = n_in, n_neu
        self.n_sources = n_in + n_neu
        self.frac_bits = int(t.frac_bits if frac_bits is None else frac_bits)
        self.rounding, self.decay = rounding, decay
        self.rounding_mode = emulator.NEAREST if rounding == "nearest" else emulator.FLOOR
        self.decay_mode = emulator.MULTIPLIER if decay == "multiplier" else emulator.SHIFT
        self.fv = t.state_bits - 9
        self.summary = summary
        self.headroom = 2 + max(0, t.current_bits - 16) // 2 if headroom is None else headroom
        self.headroom_given = headroom is not None
        rep = self._rep = _Report(strict, t.name)
        self.scales = {"v": {}, "i": {}, "w": {}}
        self.projections = list(table)
        self._neurons(net, scale, rep)
        self._synapses(net, table, weight_shift, rep)
        rep.finish()
        self.saturation, self.quantisation = rep.items, rep.quant

    # ----------------------------------------------------------------- neurons
    def _neurons(self, net, scale, rep):
        t, n, F, h = self.target, self.n_neurons, self.frac_bits, self.dt
        z = lambda: np.zeros(n, np.int64)  # noqa: E731
        a = {
            k: z()
            for k in "kind a_m a_e a_i p_e p_i bias theta v_reset refsteps izh_d "
            "v ie ii u ref".split()
        }
        a["izh"] = np.zeros((n, 6), np.int64)
        cmax = (1 << (t.coef_bits - 1)) - 1
        vmax = (1 << (t.state_bits - 1)) - 1
        imax = (1 << (t.current_bits - 1)) - 1
        # per population: worst-case per-step input sum of each port [A or V], and the
        # largest current the port can ever hold (emulator.current_bound's argument)
        worst, reach = {}, {}
        for proj in net.projections.values():
            w = np.abs(proj.weights)
            if proj.plastic is not None:
                p = proj.plastic.model.params
                w = np.full_like(w, max(abs(p["w_min"]), abs(p["w_max"])))
            post = proj.post_pop
            s = np.bincount(proj.targets, weights=w, minlength=post.n)
            key = (post.name, proj.port)
            worst[key] = worst.get(key, 0) + s
            tau = post.params.get(f"tau_syn_{proj.port}")
            if tau is not None:
                alpha = np.exp(-h / np.broadcast_to(np.asarray(tau, np.float64), (post.n,)))
                each = w / (1 - alpha[proj.targets] ** _spike_spacing(proj.pre_pop, h))
                reach[key] = reach.get(key, 0) + np.bincount(
                    proj.targets, weights=each, minlength=post.n
                )
        self._worst = worst
        for pop in net.populations.values():
            if pop.kind != "neuron":
                continue
            kind, start, m = self.index[pop.name]
            sl = slice(start, start + m)
            k = _neuron_kind(pop, t)[0]
            a["kind"][sl] = k
            P = pop.params
            if k == 2:
                self._izhikevich(pop, sl, a, rep)
                continue
            rest = P["v_rest"]
            v0 = pop.state["v"].astype(np.float64)
            span = max(
                np.max(np.abs(P["v_thresh"] - rest)),
                np.max(np.abs(P["v_reset"] - rest)),
                np.max(np.abs(v0 - rest)),
                1e-3,
            )
            v_lsb = _given(scale, "v", pop.name) or 4 * span / vmax
            self.scales["v"][pop.name] = v_lsb
            tau_m, c_m = P["tau_m"], P["c_m"]
            em = np.exp(-h / tau_m)
            what = f"population {pop.name!r}"
            if self.decay_mode == emulator.MULTIPLIER:
                a["a_m"][sl] = rep.fit(f"{what}: a_m", _round(em * 2**F), t.coef_bits)
            else:
                a["a_m"][sl] = np.maximum(_round(np.log2(tau_m / h)), 0)
            bias = _round(tau_m / c_m * (1 - em) * P["i_offset"] / v_lsb * 2**F)
            a["bias"][sl] = rep.fit(f"{what}: bias (i_offset)", bias, t.state_bits + F + 1)
            a["theta"][sl] = rep.fit(
                f"{what}: v_thresh", _round((P["v_thresh"] - rest) / v_lsb), t.state_bits
            )
            a["v_reset"][sl] = rep.fit(
                f"{what}: v_reset", _round((P["v_reset"] - rest) / v_lsb), t.state_bits
            )
            refs = np.floor(P["t_ref"] / h + 0.5).astype(np.int64)
            a["refsteps"][sl] = rep.fit(f"{what}: refractory steps", refs, 8, signed=False)
            a["v"][sl] = rep.fit(f"{what}: initial v", _round((v0 - rest) / v_lsb), t.state_bits)
            until = getattr(pop, "until", None)
            if until is not None:
                a["ref"][sl] = np.clip(until - net.step, 0, 255)
            if k == 0:
                i_worst = max(
                    float(np.max(worst.get((pop.name, p), np.zeros(1)), initial=0))
                    for p in ("exc", "inh")
                )
                i_worst = max(
                    i_worst,
                    float(np.max(np.abs(pop.state["i_syn_exc"]))),
                    float(np.max(np.abs(pop.state["i_syn_inh"]))),
                    float(np.max(np.abs(P["i_offset"]))),
                    1e-15,
                )
                fill = imax * (1 - 2.0 ** (1 - t.weight_bits))
                i_lsb = i_worst * 2.0**self.headroom / fill
                if not self.headroom_given:
                    # finer where the bound of emulator.current_bound allows it: the
                    # largest current the ports can reach, plus the rounding's
                    # 1 / (1 - alpha) LSB, fits the register (1 % margin for the
                    # rounded coefficients and weights)
                    taus = [np.max(P[f"tau_syn_{p}"]) for p in ("exc", "inh")]
                    slack = fill - 1 / (1 - np.exp(-h / max(taus))) - 2
                    i_reach = max(
                        i_worst,
                        *(
                            float(np.max(reach.get((pop.name, p), np.zeros(1)), initial=0))
                            for p in ("exc", "inh")
                        ),
                    )
                    if slack > 0:
                        i_lsb = min(i_lsb, 1.01 * i_reach / slack)
                # ... but no coarser than the propagators' coefficient width allows
                p21 = max(
                    float(np.max(_p21(P[k], tau_m, c_m, h))) for k in ("tau_syn_exc", "tau_syn_inh")
                )
                i_lsb = min(i_lsb, 0.999 * cmax * v_lsb / (p21 * 2**F))
                i_lsb = _given(scale, "i", pop.name) or i_lsb
                self.scales["i"][pop.name] = i_lsb
                for port, dk, pk, tau in (
                    ("exc", "a_e", "p_e", P["tau_syn_exc"]),
                    ("inh", "a_i", "p_i", P["tau_syn_inh"]),
                ):
                    es = np.exp(-h / tau)
                    if self.decay_mode == emulator.MULTIPLIER:
                        a[dk][sl] = rep.fit(f"{what}: a_{port}", _round(es * 2**F), t.coef_bits)
                        self._quant(what, f"a_{port}", es, a[dk][sl] / 2**F)
                    else:
                        a[dk][sl] = np.maximum(_round(np.log2(tau / h)), 0)
                    p21 = _p21(tau, tau_m, c_m, h) * i_lsb / v_lsb
                    a[pk][sl] = rep.fit(f"{what}: p_{port}", _round(p21 * 2**F), t.coef_bits)
                    self._quant(what, f"p_{port}", p21, a[pk][sl] / 2**F)
                for var, key in (("i_syn_exc", "ie"), ("i_syn_inh", "ii")):
                    a[key][sl] = rep.fit(
                        f"{what}: initial {var}",
                        _round(pop.state[var] / i_lsb),
                        t.current_bits,
                    )
                if self.decay_mode == emulator.MULTIPLIER:
                    self._quant(what, "a_m", em, a["a_m"][sl] / 2**F)
                if np.any(a["p_e"][sl] > cmax) or np.any(a["p_i"][sl] > cmax):
                    pass  # already reported by fit
        self.arrays = a
        # runs of equal neuron kind (populations are contiguous): (start, stop, kind)
        kinds = a["kind"]
        cut = np.flatnonzero(np.diff(kinds)) + 1 if n else np.zeros(0, np.int64)
        starts = np.concatenate(([0], cut)).astype(np.int64) if n else np.zeros(0, np.int64)
        stops = np.concatenate((cut, [n])).astype(np.int64) if n else np.zeros(0, np.int64)
        self.segments = np.ascontiguousarray(
            np.stack([starts, stops, kinds[starts]], axis=1).reshape(-1, 3).astype(np.int64)
        )

    def _quant(self, what, name, exact, stored):
        exact = np.asarray(exact, np.float64)
        err = np.abs(np.asarray(stored) - exact) / np.maximum(np.abs(exact), 1e-300)
        self._rep.quant.append(f"{what}: {name} relative error {float(np.max(err)):.2e}")

    _izh_fk = 0

    def _izhikevich(self, pop, sl, a, rep):
        t, h, fv = self.target, self.dt * 1e3, self.fv
        fk = t.coef_bits - 1 - math.ceil(math.log2(h) + 1e-12)
        P, what = pop.params, f"population {pop.name!r}"
        mv = 2.0**fv  # LSB per mV
        self.scales["v"][pop.name] = 1e-3 / mv
        k = np.stack(
            [
                _round(0.04 * h * 2**fk) + 0 * P["a"],
                _round(h * 2**fk) + 0 * P["a"],
                _round(P["a"] * 1e-3 * h * 2**fk),
                _round(P["b"] * 1e-3 * 2 ** (t.coef_bits - 2)),
                np.full(len(P["a"]), fk),
            ],
            axis=1,
        )
        a["izh"][sl, :4] = rep.fit(f"{what}: Izhikevich coefficients", k[:, :4], t.coef_bits)
        a["izh"][sl, 4] = fk
        a["izh"][sl, 5] = t.coef_bits - 2
        a["bias"][sl] = rep.fit(
            f"{what}: bias (i_offset/c_m)", _round(P["i_offset"] / P["c_m"] * mv), t.state_bits
        )
        a["theta"][sl] = rep.fit(f"{what}: v_peak", _round(P["v_peak"] * 1e3 * mv), t.state_bits)
        a["v_reset"][sl] = rep.fit(f"{what}: c", _round(P["c"] * 1e3 * mv), t.state_bits)
        a["izh_d"][sl] = rep.fit(f"{what}: d", _round(P["d"] * mv), t.state_bits)
        a["v"][sl] = rep.fit(f"{what}: initial v", _round(pop.state["v"] * 1e3 * mv), t.state_bits)
        a["u"][sl] = rep.fit(f"{what}: initial u", _round(pop.state["u"] * mv), t.state_bits)
        self._izh_fk = fk

    # ----------------------------------------------------------------- synapses
    def _synapses(self, net, table, weight_shift, rep):
        t, a = self.target, self.arrays
        wb = t.weight_bits
        wlo, whi = _srange(wb)
        parts, rules = [], []
        self._worst_lsb = {}
        for pi, (name, (src, tgt, delay, w)) in enumerate(table.items()):
            proj = net.projections[name]
            post = proj.post_pop.name
            kind = a["kind"][self.index[post][1]] if proj.post_pop.n else 0
            unit = self.scales["v"][post] if kind != 0 else self.scales["i"][post]
            if kind == 2:
                unit = 1e-3 / 2.0**self.fv  # Izhikevich weights are volts
            big = float(np.max(np.abs(w), initial=0.0))
            rule = -1
            if proj.plastic is not None:
                p = proj.plastic.model.params
                big = max(big, abs(p["w_min"]), abs(p["w_max"]))
            given = weight_shift.get(name) if isinstance(weight_shift, dict) else weight_shift
            if given is None:
                shift = 0
                while shift < 15 and _round(big / (unit * 2**shift)) > whi:
                    shift += 1
            else:
                shift = int(given)
            w_lsb = unit * 2**shift
            self.scales["w"][name] = w_lsb
            wi = rep.fit(f"projection {name!r}: weights", _round(w / w_lsb), wb)
            lost = int(np.count_nonzero((wi == 0) & (w != 0)))
            if lost:
                rep.quant.append(f"projection {name!r}: {lost} nonzero weight(s) round to 0")
            if len(w):
                err = np.max(np.abs(wi * w_lsb - w)) / max(big, 1e-300)
                rep.quant.append(
                    f"projection {name!r}: weights {wb} bit, scale 2**{shift} LSB, largest "
                    f"error {err:.2e} of max|w|"
                )
            if proj.plastic is not None:
                rule = len(rules)
                rules.append(self._stdp_rule(proj, w_lsb, rep))
            port = 0 if proj.port == "exc" else 1
            parts.append((src, tgt, delay, wi, shift, port, rule, pi))
            # worst-case per-step input sum in current (or v) LSBs
            ws = np.abs(w) / unit
            if rule >= 0:
                p = proj.plastic.model.params
                ws = np.full_like(ws, max(abs(p["w_min"]), abs(p["w_max"])) / unit)
            lsb = np.bincount(tgt - self.index[post][1], weights=ws, minlength=proj.post_pop.n)
            key = (post, proj.port)
            self._worst_lsb[key] = self._worst_lsb.get(key, 0) + lsb
        for (post, port), s in self._worst_lsb.items():
            kind = a["kind"][self.index[post][1]]
            bits = t.current_bits if kind == 0 else t.state_bits
            rep.fit(
                f"population {post!r}: worst-case per-step input sum on port {port!r}",
                np.round(s).astype(np.int64),
                bits,
            )
        m = sum(len(p[0]) for p in parts)
        cat = lambda i, dt: (  # noqa: E731
            np.concatenate([np.broadcast_to(np.asarray(p[i]), len(p[0])) for p in parts]).astype(dt)
            if parts
            else np.zeros(0, dt)
        )
        src, tgt, delay, w = cat(0, np.int64), cat(1, np.int64), cat(2, np.int64), cat(3, np.int64)
        shift, port, rule, pidx = (
            cat(4, np.int64),
            cat(5, np.int64),
            cat(6, np.int64),
            cat(7, np.int64),
        )
        order = np.argsort(src, kind="stable")
        self.weight_index = {}
        inv = np.empty(m, np.int64)
        inv[order] = np.arange(m)
        for pi, name in enumerate(table):
            self.weight_index[name] = inv[pidx == pi]
        a["ptr"] = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=self.n_sources))))
        for key, arr in (
            ("tgt", tgt), ("port", port), ("delay", delay), ("w", w), ("shift", shift),
            ("rule", rule), ("src", src),
        ):  # fmt: skip
            a[key] = np.ascontiguousarray(arr[order])
        self.n_slots = max(1, int(delay.max(initial=1)))
        n_rules = len(rules)
        a["rp"] = np.asarray(rules, np.int64).reshape(n_rules, len(_RULE_FIELDS))
        a["x_pre"] = np.zeros((n_rules, self.n_sources), np.int64)
        a["x_post"] = np.zeros((n_rules, self.n_neurons), np.int64)
        plastic = np.flatnonzero(a["rule"] >= 0)
        by_tgt = plastic[np.argsort(a["tgt"][plastic], kind="stable")]
        a["tsyn"] = by_tgt
        a["tsrc"] = a["src"][by_tgt]
        a["tptr"] = np.concatenate(
            ([0], np.cumsum(np.bincount(a["tgt"][by_tgt], minlength=self.n_neurons)))
        )
        for key in list(a):
            a[key] = np.ascontiguousarray(a[key])

    def _stdp_rule(self, proj, w_lsb, rep):
        t, F = self.target, self.frac_bits
        model = proj.plastic.model
        p, dt = model.params, self.dt
        one = 1 << (t.trace_bits - 2)
        tmax = (1 << t.trace_bits) - 1
        k = t.trace_bits - 2 + STDP_EXTRA_BITS
        what = f"projection {proj.name!r}: STDP"
        a_plus = int(_round(p["a_plus"] / w_lsb * 2**STDP_EXTRA_BITS))
        a_minus = int(_round(p["a_minus"] / w_lsb * 2**STDP_EXTRA_BITS))
        rep.quant.append(
            f"{what}: A+ = {a_plus}/2**{STDP_EXTRA_BITS} LSB, A- = {a_minus}/2**"
            f"{STDP_EXTRA_BITS} LSB (a_plus {p['a_plus']:.3g}, a_minus {p['a_minus']:.3g})"
        )
        if a_plus == 0 and p["a_plus"] != 0 or a_minus == 0 and p["a_minus"] != 0:
            rep.items.append(f"{what}: an amplitude rounds to 0 at weight LSB {w_lsb:.3g}")
        wmin, wmax = _round(p["w_min"] / w_lsb), _round(p["w_max"] / w_lsb)
        wlo, whi = _srange(t.weight_bits)
        wmin = int(rep.fit(f"{what}: w_min", [wmin], t.weight_bits)[0])
        wmax = int(rep.fit(f"{what}: w_max", [wmax], t.weight_bits)[0])
        dpre = int(_round(math.exp(-dt / p["tau_plus"]) * 2**F))
        dpost = int(_round(math.exp(-dt / p["tau_minus"]) * 2**F))
        nearest = 1 if getattr(model, "pairing", "all") == "nearest" else 0
        return [dpre, dpost, a_plus, a_minus, wmin, wmax, k, one, tmax, nearest]

    # ---------------------------------------------------------------- protocol
    def emulate(self, input_steps, input_ids, n_steps, record=None):
        """Run the bit-accurate emulator (:func:`axonforge.hardware.emulator.run`)."""
        return emulator.run(self, input_steps, input_ids, n_steps, record=record)

    def uart_stream(self):
        raise ValueError(
            f"target {self.target.name!r} has no UART configuration interface; only "
            "'neurocorex' has one (use the memory files: format 'mem', 'coe' or 'mif')"
        )

    def neuron_slices(self):
        """Per core: the neuron index range it holds."""
        npc = self.target.neurons_per_core
        return [
            (c * npc, min(self.n_neurons, (c + 1) * npc))
            for c in range(max(1, -(-self.n_neurons // npc)))
        ]

    def memories(self) -> list:
        """The memory images (layout in the module docstring)."""
        t, a, out = self.target, self.arrays, []
        npc = t.neurons_per_core
        F = self.frac_bits
        neuron_fields = [
            ("kind", 2, False, "neuron kind: 0 LIF exp, 1 LIF delta, 2 Izhikevich"),
            ("a_m", t.coef_bits, True, f"membrane decay, Q.{F} (dash with shift decay)"),
            ("a_e", t.coef_bits, True, f"exc current decay, Q.{F}"),
            ("a_i", t.coef_bits, True, f"inh current decay, Q.{F}"),
            ("p_e", t.coef_bits, True, f"exc current-to-v propagator, Q.{F}"),
            ("p_i", t.coef_bits, True, f"inh current-to-v propagator, Q.{F}"),
            ("bias", t.state_bits + F + 1, True, f"constant input, v LSB x 2**{F}"),
            ("theta", t.state_bits, True, "threshold (v LSB, relative to v_rest)"),
            ("v_reset", t.state_bits, True, "reset (v LSB, relative to v_rest)"),
            ("refsteps", 8, False, "refractory steps"),
            ("izh_d", t.state_bits, True, "Izhikevich d (v LSB per ms)"),
        ]
        state_fields = [
            ("v", "v_init", t.state_bits, True),
            ("u", "u_init", t.state_bits, True),
            ("ie", "ie_init", t.current_bits, True),
            ("ii", "ii_init", t.current_bits, True),
            ("ref", "ref_init", 8, False),
        ]
        tb = _bits(npc)
        db = max(1, t.max_delay.bit_length())
        width = tb + 1 + db + 4 + t.weight_bits
        ptr_bits = max(1, int(t.weight_words).bit_length())
        plastic = bool((a["rule"] >= 0).any())
        cores = self.neuron_slices()
        routing = np.zeros(self.n_sources, np.int64)
        for c, (lo, hi) in enumerate(cores):

            def pad(x, lo=lo, hi=hi):
                return np.concatenate((x[lo:hi], np.zeros(npc - (hi - lo), np.int64)))

            for name, bits, signed, desc in neuron_fields:
                out.append(Memory(f"core{c}_{name}", bits, pad(a[name]), signed, desc))
            for j, nm in enumerate(("k1", "kh", "ka", "kb")):
                out.append(
                    Memory(
                        f"core{c}_izh_{nm}",
                        t.coef_bits,
                        pad(a["izh"][:, j]),
                        True,
                        f"Izhikevich {nm}, Q.{self._izh_fk}",
                    )
                )
            for key, name, bits, signed in state_fields:
                out.append(Memory(f"core{c}_{name}", bits, pad(a[key]), signed, "state at t=0"))
            mine = (a["tgt"] >= lo) & (a["tgt"] < hi)
            sel = np.flatnonzero(mine)
            src = a["src"][sel]
            ptr = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=self.n_sources))))
            routing[np.unique(src)] |= 1 << c
            w = a["w"][sel] & ((1 << t.weight_bits) - 1)
            word = (
                (a["tgt"][sel] - lo)
                | (a["port"][sel] << tb)
                | (a["delay"][sel] << (tb + 1))
                | (a["shift"][sel] << (tb + 1 + db))
                | (w << (tb + 5 + db))
            )
            out.append(
                Memory(
                    f"core{c}_row_ptr",
                    ptr_bits,
                    ptr,
                    False,
                    "first synapse word of each source (inputs, then neurons)",
                )
            )
            out.append(
                Memory(
                    f"core{c}_synapses",
                    width,
                    word,
                    False,
                    f"bits [{tb - 1}:0] target slot, [{tb}] port (0 exc, 1 inh), "
                    f"[{tb + db}:{tb + 1}] delay, [{tb + db + 4}:{tb + db + 1}] shift, "
                    f"[{width - 1}:{tb + db + 5}] weight (two's complement)",
                )
            )
            if plastic:
                n_r = len(a["rp"])
                out.append(
                    Memory(f"core{c}_syn_rule", _bits(n_r + 1), a["rule"][sel] + 1, False,
                           "STDP rule + 1 of each synapse (0 static)")
                )  # fmt: skip
                pos = np.full(len(a["tgt"]), -1, np.int64)
                pos[sel] = np.arange(len(sel))
                tsyn = a["tsyn"][(a["tgt"][a["tsyn"]] >= lo) & (a["tgt"][a["tsyn"]] < hi)]
                tcount = np.bincount(a["tgt"][tsyn] - lo, minlength=npc)
                out.append(
                    Memory(f"core{c}_post_ptr", ptr_bits, np.concatenate(([0], np.cumsum(tcount))),
                           False, "first entry of each neuron's incoming plastic synapses")
                )  # fmt: skip
                out.append(
                    Memory(f"core{c}_post_syn", ptr_bits, pos[tsyn], False,
                           "synapse addresses of incoming plastic synapses, by target")
                )  # fmt: skip
                keep = (a["tgt"][a["tsyn"]] >= lo) & (a["tgt"][a["tsyn"]] < hi)
                out.append(
                    Memory(f"core{c}_post_src", _bits(self.n_sources), a["tsrc"][keep], False,
                           "source of each entry of post_syn (its pre trace)")
                )  # fmt: skip
        out.append(
            Memory("routing", max(1, len(cores)), routing, False, "cores reached by each source")
        )
        if plastic:
            out.append(
                Memory(
                    "stdp_rules",
                    32,
                    a["rp"].ravel(),
                    True,
                    "per rule: " + ", ".join(_RULE_FIELDS),
                )
            )
        return out

    def resources(self) -> dict:
        """Neurons, synapses, memory words and bits, fan-in/out per core, the step rate
        the clock sustains, saturation and quantisation reports (JSON-able)."""
        t, a = self.target, self.arrays
        mems = self.memories()
        fan_in = np.bincount(a["tgt"], minlength=self.n_neurons)
        cores = []
        for c, (lo, hi) in enumerate(self.neuron_slices()):
            mine = (a["tgt"] >= lo) & (a["tgt"] < hi)
            src = a["src"][mine]
            fan_out = np.bincount(src, minlength=self.n_sources) if len(src) else np.zeros(1)
            words = {m.name: m.depth for m in mems if m.name.startswith(f"core{c}_")}
            cores.append(
                {
                    "core": c,
                    "neurons": int(hi - lo),
                    "neurons_per_core": t.neurons_per_core,
                    "synapses": int(mine.sum()),
                    "weight_words": t.weight_words,
                    "max_fan_in": int(fan_in[lo:hi].max(initial=0)),
                    "max_fan_out": int(fan_out.max(initial=0)),
                    "ring_words": int(2 * self.n_slots * t.neurons_per_core),
                    "memory_words": words,
                }
            )
        bits = sum(m.width * m.depth for m in mems)
        return {
            "target": t.name,
            "dt": self.dt,
            "neurons": int(self.n_neurons),
            "inputs": int(self.n_inputs),
            "synapses": int(len(a["tgt"])),
            "cores_used": len(cores),
            "cores": cores,
            "delay_slots": int(self.n_slots),
            "memory_bits": int(bits),
            "memory_words": int(sum(m.depth for m in mems)),
            "update_cycles_per_step": int(t.neurons_per_core * t.cycles_per_update),
            "max_steps_per_second_idle": float(t.max_rate_steps()),
            "arithmetic": {
                "frac_bits": self.frac_bits,
                "rounding": self.rounding,
                "decay": self.decay,
                "state_bits": t.state_bits,
                "current_bits": t.current_bits,
                "weight_bits": t.weight_bits,
            },
            "scales": {k: {n: float(x) for n, x in v.items()} for k, v in self.scales.items()},
            "saturation": list(self.saturation),
            "quantisation": list(self.quantisation),
            "did_not_fit": [],
        }

    def __repr__(self):
        return (
            f"<CoreConfig {self.target.name}: {self.n_neurons} neurons, {self.n_inputs} inputs,"
            f" {len(self.arrays['tgt'])} synapses>"
        )


def _given(scale, key, pop):
    v = scale.get(key) if scale else None
    if isinstance(v, dict):
        v = v.get(pop)
    return None if v is None else float(v)
