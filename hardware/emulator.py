"""The bit-accurate integer emulator of the generic core (target model ``"lif"``).

It computes, step by step and in integers only, what the time-multiplexed core of
:mod:`axonforge.hardware.mapping` computes; an RTL implementation must reproduce its
spikes, states and weights exactly. The configuration (widths, coefficients, synapse
words) comes from :class:`~axonforge.hardware.mapping.CoreConfig`, which documents the
memories; this module documents the arithmetic.

Arithmetic
----------
All values are two's-complement integers. ``rshift(x, k)`` is the core's only rounding:

* ``rounding="nearest"`` (default): round half away from zero,
  ``sign(x) * ((|x| + 2**(k-1)) >> k)``;
* ``rounding="floor"``: the arithmetic right shift ``x >> k`` (rounds toward -inf).

Widths: the membrane potential ``v`` (and Izhikevich's ``u``) saturate at ``state_bits``,
the synaptic currents at ``current_bits`` (saturating adders). Every saturation event is
counted (``EmulatorResult.extra["saturated"]``); the mapping's static analysis reports
where it can happen. Products are formed at full width (``state_bits + coef_bits``) before
the shift, as a DSP multiplier-accumulator does.

Decay of a state ``x`` with factor ``a`` (``frac_bits`` = F):

* ``decay="multiplier"``: ``x <- rshift(x * a, F)``, ``a = round(exp(-dt/tau) * 2**F)``;
* ``decay="shift"`` (Xylo-style): ``x <- x - max(x >> dash, 1)`` for ``x > 0`` and
  ``x - (x >> dash)`` for ``x < 0`` (at least one LSB towards 0), ``dash`` in place of ``a``.

LIF (current-based, exponential synapses; NEST ``iaf_psc_exp`` exact integration in
fixed point). ``v`` is relative to ``v_rest``; per neuron ``a_m, a_e, a_i`` (decays of v
and of the exc/inh currents), ``p_e, p_i`` (current-to-voltage propagators), ``bias``
(``i_offset``'s propagated contribution), all with F fraction bits:

* not refractory: ``v <- rshift(a_m*v + p_e*i_e + p_i*i_i + bias, F)`` (one accumulator,
  one rounding; with ``decay="shift"``: ``v <- v - dv(v) + rshift(p_e*i_e + p_i*i_i +
  bias, F)``); refractory: ``v`` held, ``ref <- ref - 1``;
* ``i_e <- decay(i_e, a_e) + in_e``, ``i_i <- decay(i_i, a_i) + in_i`` where ``in`` is
  this step's ring-buffer slot (weights already shifted to current LSBs);
* delta kinetics (``kinetics="delta"``): no currents; the slot's sum is added to ``v``
  after the update, and dropped in a step that began refractory (NEST
  ``iaf_psc_delta``).

Izhikevich (2003) unit, forward Euler with step ``h = dt`` [ms] in fixed point as FPGA
implementations of the model do (e.g. Pearson et al. 2007, IEEE TNN 18(5):1472; Cassidy &
Andreou 2008): ``v`` and ``u`` in units of ``2**-Fv`` mV (mV/ms), ``Fv = state_bits - 9``
(a +-256 mV range), coefficients with ``K = coef_bits - 1 - ceil(log2 h)`` fraction bits
(the most at which ``kh`` fits ``coef_bits``; per neuron ``izh[:, 4]``):
``k1 = round(0.04 h 2**K)``, ``kh = round(h 2**K)``, ``ka = round(a h 2**K)``, and
``kb = round(b 2**Kb)``, ``Kb = coef_bits - 2`` (``izh[:, 5]``; the paper's units: ``a``
in 1/ms, ``b`` dimensionless); ``5 v`` by shift-and-add:

* ``vv = rshift(v*v, Fv)``;
  ``v' = v + rshift(k1*vv + kh*(5*v + 140*2**Fv - u + bias), K)``;
  ``u' = u + rshift(ka*(rshift(kb*v, Kb) - u), K)`` (both from the old ``v, u``);
* then ``v += in_e + in_i`` (delta synapses, weights in v LSBs); spike when
  ``v >= v_peak``: ``v <- c``, ``u <- u + d``.

Per-step order (step ``s`` advances the state from ``t`` to ``t + dt``)
-----------------------------------------------------------------------
1. neuron update from the state at the step's start (v, u; refractory countdown);
2. currents decay and take ring-buffer slot ``s mod L`` (the synaptic input arriving in
   this step), which is then cleared; delta inputs go to ``v``;
3. threshold: ``v >= theta`` -> spike, reset, ``ref <- refsteps`` (Izhikevich: ``u += d``);
4. STDP traces decay (all pre and post traces, once per step);
5. presynaptic events, for each input spiking in step ``s`` (in input order) and then each
   neuron that fired in 3 (ascending index): for its synapses in CSR order, a plastic
   weight is first depressed, ``w <- clip(w + rshift(A_minus * x_post[target], k))``, then
   ``w << shift`` is added to slot ``(s + delay) mod L`` of the target's port; then its
   pre trace is bumped;
6. postsynaptic events, for each neuron that fired (ascending index): its post trace is
   bumped, then each incoming plastic synapse is potentiated,
   ``w <- clip(w + rshift(A_plus * x_pre[source], k))``.

A spike in step ``s`` over delay ``d`` (1 <= d <= L) thus enters the target's current in
step ``s + d``, and the membrane from step ``s + d + 1`` on, as in the float simulator.
Traces are unsigned, ``trace_bits`` wide: a spike adds ``one = 2**(trace_bits-2)``
(``pairing="all"``, saturating at ``2**trace_bits - 1``) or sets it to ``one``
(``"nearest"``); they decay by multiplier. Within a step pre events precede post events,
so ``Delta t = 0`` potentiates (the float simulator's rule). The STDP clip to
``[w_min, w_max]`` is the learning rule's semantics, not a saturation.

No Python loop runs per step, neuron or synapse: the whole run is one Numba function.
Runs of LIF neurons that share every parameter go through kernels compiled for them
(parameters as scalars, the refractory counter kept as the step it ends, the reset done
only for the neurons that fired, and a current's clamp left out where
:func:`current_bound` proves it can never act); the ring buffer is 32 bits wide where a
slot's worst-case sum fits. ``run(..., kernels="reference")`` runs the plain per-neuron
kernel instead, and the tests check that both give the same spikes, states, weights and
saturation counts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from axonforge.hardware.targets import EmulatorResult

#: neuron kinds of the generic core
LIF_EXP, LIF_DELTA, IZHIKEVICH = 0, 1, 2
#: rounding modes
NEAREST, FLOOR = 0, 1
#: decay modes
MULTIPLIER, SHIFT = 0, 1


@njit(cache=True, inline="always")
def rshift(x, k, mode):
    """``x / 2**k`` rounded: half away from zero (mode 0) or floor (mode 1)."""
    if k <= 0:
        return x
    if mode == 1:
        return x >> k
    half = np.int64(1) << (k - 1)
    if x >= 0:
        return (x + half) >> k
    return -((-x + half) >> k)


@njit(cache=True, inline="always")
def decay(x, a, frac, dmode, rmode):
    """One step of exponential decay of ``x`` (multiplier ``a`` or shift ``dash = a``)."""
    if dmode == 0:
        return rshift(x * a, frac, rmode)
    d = x >> a
    if x > 0 and d == 0:
        d = 1
    return x - d


@njit(cache=True, inline="always")
def _sat(x, lo, hi, count, k):
    if x > hi:
        count[k] += 1
        return hi
    if x < lo:
        count[k] += 1
        return lo
    return x


@njit(cache=True)
def _lif_segment(
    lo, hi, v, ie, ii, ref, a_m, a_e, a_i, p_e, p_i, bias, theta, v_reset, refsteps, delta,
    ring_e, ring_i, fire, frac, rh, rm, vlo, vhi, ilo, ihi,
):  # fmt: skip
    """Steps 1-3 for LIF neurons ``lo..hi-1`` with multiplier decay and per-neuron
    parameters, branch-free on slices (so the loop vectorises); returns (spikes,
    v saturations, current saturations)."""
    v, ie, ii, ref = v[lo:hi], ie[lo:hi], ii[lo:hi], ref[lo:hi]
    a_m, a_e, a_i, p_e, p_i = a_m[lo:hi], a_e[lo:hi], a_i[lo:hi], p_e[lo:hi], p_i[lo:hi]
    bias, theta, v_reset, refsteps = bias[lo:hi], theta[lo:hi], v_reset[lo:hi], refsteps[lo:hi]
    delta, ring_e, ring_i, fire = delta[lo:hi], ring_e[lo:hi], ring_i[lo:hi], fire[lo:hi]
    nspk = 0
    sv = 0
    si = 0
    for i in range(len(v)):
        # selects (not multiplications by 0/1 flags): they vectorise as blends
        rf = ref[i]
        held = rf > 0
        x = a_m[i] * v[i] + p_e[i] * ie[i] + p_i[i] * ii[i] + bias[i]
        x = (x + rh - (rm & (x >> 63))) >> frac
        in_e = ring_e[i]
        in_i = ring_i[i]
        ring_e[i] = 0
        ring_i[i] = 0
        r = rf - np.int64(held)
        d = delta[i] != 0
        vr = v[i] if held else (x + in_e + in_i if d else x)
        vn = min(max(vr, vlo), vhi)
        sv += np.int64(vn != vr)
        e = ie[i] * a_e[i]
        e = ((e + rh - (rm & (e >> 63))) >> frac) + (0 if d else in_e)
        g = ii[i] * a_i[i]
        g = ((g + rh - (rm & (g >> 63))) >> frac) + (0 if d else in_i)
        ec = min(max(e, ilo), ihi)
        gc = min(max(g, ilo), ihi)
        si += np.int64(ec != e) + np.int64(gc != g)
        ie[i] = ec
        ii[i] = gc
        f = (vn >= theta[i]) & (r == 0)
        v[i] = v_reset[i] if f else vn
        ref[i] = refsteps[i] if f else r
        fire[i] = f
        nspk += np.int64(f)
    return nspk, sv, si


def _make_lif_uniform(clamp_e, clamp_i, nearest, ring_in=True):
    """Steps 1-3 for a run of LIF neurons (exponential currents, multiplier decay) that
    share every parameter, passed as scalars (``prm`` = a_m, a_e, a_i, p_e, p_i, bias,
    theta, v_reset, refsteps). ``clamp_e=False`` (``clamp_i``) is compiled for runs whose
    excitatory (inhibitory) current the static bound of :func:`current_bound` proves can
    never leave its range: that saturating adder is then the identity, and its clamp is
    left out. ``nearest``: the rounding mode (half away from zero, or floor), also fixed at
    compile time. ``ring_in=False`` (only without clamps): the step's synaptic input is not
    read from the dense ring here; :func:`_run` adds it afterwards from its spike queue
    (an integer sum with no clamp in between, so the order does not matter); and the
    spikes are not counted (-1): :func:`_collect` scans the whole run instead, which costs
    less than counting in the kernel.

    Same arithmetic as :func:`_lif_segment`, with two changes of bookkeeping that the
    float simulator's kernels also make: the refractory counter is kept as the step
    ``until`` at which it reaches 0 (``ref = max(until - s, 0)`` at step ``s``; nothing
    is written while it counts down), and the reset of a neuron that fired (``v <-
    v_reset``, ``until <- s + 1 + refsteps``) is left to the caller, which visits only
    those. Together 40-50 % faster than :func:`_lif_segment`."""

    @njit(cache=True)
    def lif_uniform(
        lo, hi, s1, v, ie, ii, until, ring_e, ring_i, fire, prm, frac, rh, rm, vlo, vhi, ilo, ihi
    ):  # fmt: skip
        a_m, a_e, a_i, p_e, p_i, bias, theta = (
            prm[0], prm[1], prm[2], prm[3], prm[4], prm[5], prm[6]
        )  # fmt: skip
        v, ie, ii, until = v[lo:hi], ie[lo:hi], ii[lo:hi], until[lo:hi]
        ring_e, ring_i, fire = ring_e[lo:hi], ring_i[lo:hi], fire[lo:hi]
        nspk = 0
        sv = 0
        si = 0
        for i in range(len(v)):
            end = until[i]
            held = s1 <= end  # step s1 - 1 is in the refractory period
            vi = v[i]
            e = ie[i]
            g = ii[i]
            x = a_m * vi + p_e * e + p_i * g + bias
            if nearest:  # x >> 63 is -1 for x < 0: rounds half away from zero
                x = (x + rh + (x >> 63)) >> frac
            else:
                x = x >> frac
            vr = vi if held else x
            vn = min(max(vr, vlo), vhi)
            sv += np.int64(vn != vr)
            e = e * a_e
            g = g * a_i
            if nearest:
                e = (e + rh + (e >> 63)) >> frac
                g = (g + rh + (g >> 63)) >> frac
            else:
                e = e >> frac
                g = g >> frac
            if ring_in:
                e += ring_e[i]
                g += ring_i[i]
                ring_e[i] = 0
                ring_i[i] = 0
            # compile-time constants: each variant has only the clamps it needs
            if clamp_e:
                ec = min(max(e, ilo), ihi)
                si += np.int64(ec != e)
                e = ec
            if clamp_i:
                gc = min(max(g, ilo), ihi)
                si += np.int64(gc != g)
                g = gc
            ie[i] = e
            ii[i] = g
            if ring_in:  # the counter is 0 after this step's decrement
                f = (vn >= theta) & (end <= s1)
            else:  # a held v is below theta (checked by _spike_queue): no counter test
                f = vn >= theta
            v[i] = vn
            fire[i] = f
            if ring_in:
                nspk += np.int64(f)
        return nspk if ring_in else -1, sv, si

    return lif_uniform


#: the uniform-run kernels, indexed ``[nearest][clamp_e + 2 * clamp_i]``
_LIF_UNIFORM = tuple(
    tuple(_make_lif_uniform(bool(c & 1), bool(c & 2), nearest) for c in range(4))
    for nearest in (False, True)
)
_lif_uniform, _lif_uniform_e, _lif_uniform_i, _lif_uniform_ei = _LIF_UNIFORM[1]
_lif_uniform_f, _lif_uniform_fe, _lif_uniform_fi, _lif_uniform_fei = _LIF_UNIFORM[0]


def _make_lif_signed(ring_in):
    """:func:`_make_lif_uniform`'s kernel for a run whose signs are known (see
    :func:`_signed_run`): the excitatory current never negative, the inhibitory one never
    positive, rounding half away from zero, no current clamp, and a membrane that can
    leave its range only downwards. Rounding a number of known sign needs no sign test
    (``(x + half) >> F`` for ``x >= 0``, ``(x + half - 1) >> F`` for ``x <= 0``) and the
    membrane one clamp: the same arithmetic, ~15 % fewer instructions. ``ring_in``: as
    in :func:`_make_lif_uniform`."""

    @njit(cache=True)
    def lif_signed(
        lo, hi, s1, v, ie, ii, until, ring_e, ring_i, fire, prm, frac, rh, rm, vlo, vhi, ilo, ihi
    ):  # fmt: skip
        a_m, a_e, a_i, p_e, p_i, bias, theta = (
            prm[0], prm[1], prm[2], prm[3], prm[4], prm[5], prm[6]
        )  # fmt: skip
        v, ie, ii, until = v[lo:hi], ie[lo:hi], ii[lo:hi], until[lo:hi]
        ring_e, ring_i, fire = ring_e[lo:hi], ring_i[lo:hi], fire[lo:hi]
        rh1 = rh - 1
        nspk = 0
        sv = 0
        for i in range(len(v)):
            end = until[i]
            held = s1 <= end
            vi = v[i]
            e = ie[i]
            g = ii[i]
            x = a_m * vi + p_e * e + p_i * g + bias
            x = (x + rh + (x >> 63)) >> frac
            vr = vi if held else x
            vn = max(vr, vlo)
            sv += np.int64(vr < vlo)
            e = (e * a_e + rh) >> frac
            g = (g * a_i + rh1) >> frac
            if ring_in:
                e += ring_e[i]
                g += ring_i[i]
                ring_e[i] = 0
                ring_i[i] = 0
            ie[i] = e
            ii[i] = g
            if ring_in:
                f = (vn >= theta) & (end <= s1)
            else:
                f = vn >= theta
            v[i] = vn
            fire[i] = f
            if ring_in:
                nspk += np.int64(f)
        return nspk if ring_in else -1, sv, 0

    return lif_signed


_lif_uniform_signed = _make_lif_signed(True)
# the clamp-free kernels that leave the step's input to the event lists of :func:`_run`
_lif_signed_ev = _make_lif_signed(False)
_lif_uniform_ev = _make_lif_uniform(False, False, True, ring_in=False)
_lif_uniform_fev = _make_lif_uniform(False, False, False, ring_in=False)


#: segment modes of :func:`_run` (column 3 of its segment table); ``UNIFORM + 1``: the
#: excitatory current needs its clamp, ``+ 2``: the inhibitory one; ``SIGNED``: the run
#: :func:`_lif_uniform_signed` computes
GENERAL, VECTOR, UNIFORM, SIGNED = 0, 1, 2, 6
#: the per-neuron LIF parameters, in the order of a uniform run's scalars
LIF_PARAMS = ("a_m", "a_e", "a_i", "p_e", "p_i", "bias", "theta", "v_reset", "refsteps")


def _largest_inputs(config):
    """Per synapse, the largest ``|w << shift|`` it can ever add to a ring slot (a plastic
    one: its rule's ``max(|w_min|, |w_max|)``), as float64."""
    a = config.arrays
    w = np.abs(a["w"]).astype(np.float64)
    rule = a["rule"]
    if len(rule) and (rule >= 0).any():
        rp = a["rp"]
        plastic = rule >= 0
        r = rule[plastic]
        w[plastic] = np.maximum(np.abs(rp[r, 4]), np.abs(rp[r, 5]))
    return w * 2.0 ** a["shift"]


def worst_slot_sum(config) -> float:
    """The largest sum one ring-buffer entry can hold: every synapse onto one port of one
    neuron delivering its largest ``|w << shift|`` in the same step (the core sizes its
    ring words by it too)."""
    a = config.arrays
    n = len(a["kind"])
    worst = np.bincount(a["port"] * n + a["tgt"], weights=_largest_inputs(config), minlength=2 * n)
    return float(worst.max(initial=0))


def _ring(config):
    """The zeroed ring buffer ``(slots, 2 ports, n)``: 32-bit words where one slot's
    worst-case sum fits them, as the core's ring memory does (half the memory traffic of
    64 bits)."""
    fits = worst_slot_sum(config) < 2**31 - 1
    return np.zeros((config.n_slots, 2, len(config.arrays["kind"])), np.int32 if fits else np.int64)


def current_bound(config):
    """Per port and neuron, a bound on ``|i|`` (current LSBs) that holds at every step.

    Let ``alpha = a / 2**F`` be the port's decay. The register ``i`` differs from the
    exact recursion ``y' = alpha y + in`` (same inputs, no rounding) by
    ``err' = (round(alpha i) - alpha i) + alpha err``, and either rounding errs by at most
    one LSB, so ``|err| <= 1 / (1 - alpha)``. A synapse delivers its weight at most once
    every ``m`` steps, ``m`` the spacing of its source's spikes: ``max(refsteps, 1)`` for a
    LIF neuron (after a spike the counter holds it for ``refsteps`` steps), 1 for an input
    or an Izhikevich unit; so it adds at most ``|w << shift| / (1 - alpha**m)`` to
    ``|y|`` (a plastic synapse: its rule's ``max(|w_min|, |w_max|)``). Hence
    ``|i| <= |i_0| + sum |w| / (1 - alpha**m) + 1 / (1 - alpha)``. Returns an int64
    array ``(2, n)`` (ports exc, inh), rounded up; ``2**62`` where ``alpha >= 1``."""
    a = config.arrays
    n, F = len(a["kind"]), config.frac_bits
    w = _largest_inputs(config)
    # spike spacing of every source (inputs first in the source index space)
    spacing = np.ones(config.n_inputs + n, np.float64)
    lif = a["kind"] != IZHIKEVICH
    spacing[config.n_inputs :][lif] = np.maximum(a["refsteps"][lif], 1)
    src = np.repeat(np.arange(len(a["ptr"]) - 1), np.diff(a["ptr"]))
    tgt = a["tgt"]
    out = np.empty((2, n), np.int64)
    big = 2.0**62
    for row, (dk, ik) in enumerate((("a_e", "ie"), ("a_i", "ii"))):
        alpha = a[dk].astype(np.float64) / 2.0**F
        ok = alpha < 1
        on = a["port"] == row
        with np.errstate(divide="ignore", invalid="ignore"):
            per_syn = w[on] / (1 - alpha[tgt[on]] ** spacing[src[on]])
            b = np.abs(a[ik]) + np.bincount(tgt[on], weights=per_syn, minlength=n)
            b = b + 1 / (1 - alpha)
        b = np.where(ok & np.isfinite(b) & (b < big), np.ceil(b) + 1, big)
        out[row] = b.astype(np.int64)
    return out


def _signed_run(config, lo, hi, prm, bound_e) -> bool:
    """Whether neurons ``lo..hi-1`` (one uniform run, currents free of clamps) qualify
    for :func:`_lif_uniform_signed`: nearest rounding; non-negative decays and
    propagators; every synapse onto the excitatory port non-negative (a plastic one by
    its rule's ``w_min``) and every inhibitory one non-positive (``w_max``), with initial
    currents of the same signs, so ``i_exc >= 0`` and ``i_inh <= 0`` at every step; and
    the membrane's upper clamp idle: before an update ``v`` is below ``theta``, at
    ``v_reset`` or at its initial value, and the update adds at most
    ``(a_m max(v, 0) + p_e B_e + max(bias, 0) + half) >> F`` (``B_e`` the
    excitatory current's bound), which must stay within range."""
    a = config.arrays
    a_m, a_e, a_i, p_e, p_i, bias, theta, v_reset = (int(x) for x in prm[:8])
    if config.rounding_mode != NEAREST or min(a_m, a_e, a_i, p_e, p_i) < 0:
        return False
    if (a["ie"][lo:hi] < 0).any() or (a["ii"][lo:hi] > 0).any():
        return False
    mine = (a["tgt"] >= lo) & (a["tgt"] < hi)
    w = a["w"].astype(np.int64)
    rule = a["rule"]
    for port, bad in ((0, lambda x: x < 0), (1, lambda x: x > 0)):
        sel = mine & (a["port"] == port)
        static = sel & (rule < 0)
        if bad(w[static]).any():
            return False
        plastic = sel & (rule >= 0)
        if plastic.any():
            rp = a["rp"][rule[plastic]]
            extreme = rp[:, 4] if port == 0 else rp[:, 5]
            if bad(extreme).any():
                return False
    vhi = (1 << (config.target.state_bits - 1)) - 1
    v_up = max(theta - 1, v_reset, int(a["v"][lo:hi].max()), 0)
    half = 1 << (config.frac_bits - 1)
    top = (a_m * v_up + p_e * int(bound_e.max()) + max(bias, 0) + half) >> config.frac_bits
    return max(top, v_up) <= vhi


#: the average synapses per (source, delay) group from which spike-queue delivery is used
QUEUE_MIN_GROUP = 16


def _spike_queue_empty(n_slots):
    return np.zeros((0, n_slots + 1), np.int64), np.zeros(0, np.uint32), np.zeros(0, np.int32)


def _spike_queue(config, segments, uprm):
    """The synapses regrouped for spike-queue delivery, or empty arrays where it does not
    apply: ``(q_ptr, q_tgt, q_w)`` with the synapses of source ``src`` that arrive ``D``
    steps after its spike (``D`` = the ring delay, or ``n_slots`` for delay 0: the slot
    just read) at ``q_ptr[src, D-1]..q_ptr[src, D]-1``, their word in the currents
    (``port * n + tgt``) and their shifted weight.

    It applies where every run's kernel is free of current clamps (UNIFORM, SIGNED), no
    synapse is plastic, and ``v_reset < theta``: then a step's input is a plain integer
    sum added after the decay, whatever its order, so adding each due synapse straight
    into the current gives the ring's result without the ring (which every neuron reads
    and clears every step).

    It pays where the (source, delay) groups are long: a step then visits, per delay, the
    sources that spiked that many steps ago, and a short group costs a loop of its own
    (with branch misses) where the ring's delivery visits each source once. So it is
    used when the groups hold at least ``QUEUE_MIN_GROUP`` synapses on average (CUBA,
    one delay: 80; the 256-neuron benchmark, delays 1-8 ms: 6, where the ring is 2x
    faster)."""
    a = config.arrays
    n, n_slots = len(a["kind"]), config.n_slots
    n_src = len(a["ptr"]) - 1
    # a held membrane is below threshold (at v_reset after a spike, or at its initial
    # value while an initial refractory period runs), so those kernels test no counter
    theta, v_reset = uprm[:, LIF_PARAMS.index("theta")], uprm[:, LIF_PARAMS.index("v_reset")]
    held0 = a["ref"] > 0
    ok = (
        len(segments)
        and np.isin(segments[:, 3], (UNIFORM, SIGNED)).all()
        and not (a["rule"] >= 0).any()
        and a["rp"].shape[0] == 0
        and (v_reset < theta).all()
        and all(
            (a["v"][lo:hi][held0[lo:hi]] < t).all() for (lo, hi, _, _), t in zip(segments, theta)
        )
    )
    if not ok:
        return _spike_queue_empty(n_slots)
    src = np.repeat(np.arange(n_src), np.diff(a["ptr"]))
    arrive = np.where(a["delay"] > 0, a["delay"], n_slots) - 1
    key = src * n_slots + arrive
    if len(key) < QUEUE_MIN_GROUP * len(np.unique(key)):
        return _spike_queue_empty(n_slots)
    order = np.argsort(key, kind="stable")
    starts = np.r_[0, np.cumsum(np.bincount(key, minlength=n_src * n_slots))]
    q_ptr = starts[np.arange(n_src)[:, None] * n_slots + np.arange(n_slots + 1)]
    # 32-bit words where they fit: half the memory traffic of the synapse stream
    q_tgt = (a["port"].astype(np.int64) * n + a["tgt"])[order]
    q_tgt = q_tgt.astype(np.uint32 if 2 * n < 2**32 else np.uint64)
    q_w = (a["w"].astype(np.int64) << a["shift"])[order]
    if len(q_w) == 0 or np.abs(q_w).max() < 2**31:
        q_w = q_w.astype(np.int32)
    return q_ptr.astype(np.int64), q_tgt, q_w


def _segment_table(config, kernels="fast"):
    """The mapping's runs of equal neuron kind, refined for :func:`_run`: LIF runs with
    exponential currents and multiplier decay split into runs of equal parameters
    (uniform modes, scalars in the second table) unless that makes runs shorter than
    64 neurons on average (then per-neuron parameters, ``VECTOR``, as all LIF runs with
    ``kernels="reference"``)."""
    a = config.arrays
    rows, prm = [], []
    ihi = (1 << (config.target.current_bits - 1)) - 1
    bound = None
    for lo, hi, k in config.segments:
        if k == IZHIKEVICH or config.decay_mode != MULTIPLIER:
            rows.append((lo, hi, k, GENERAL))
            prm.append(np.zeros(len(LIF_PARAMS), np.int64))
            continue
        if k == LIF_DELTA or kernels == "reference":
            rows.append((lo, hi, k, VECTOR))
            prm.append(np.zeros(len(LIF_PARAMS), np.int64))
            continue
        table = np.stack([a[name][lo:hi] for name in LIF_PARAMS], axis=1)
        cut = np.flatnonzero((table[1:] != table[:-1]).any(axis=1)) + 1
        if (len(cut) + 1) * 64 > hi - lo and len(cut):
            rows.append((lo, hi, k, VECTOR))
            prm.append(np.zeros(len(LIF_PARAMS), np.int64))
            continue
        if bound is None:
            bound = current_bound(config)
        for s, e in zip(np.r_[0, cut], np.r_[cut, hi - lo]):
            clamp_e, clamp_i = (bool(b[lo + s : lo + e].max() > ihi) for b in bound)
            mode = UNIFORM + clamp_e + 2 * clamp_i
            if mode == UNIFORM and _signed_run(config, lo + s, lo + e, table[s],
                                               bound[0][lo + s : lo + e]):  # fmt: skip
                mode = SIGNED
            rows.append((lo + s, lo + e, k, mode))
            prm.append(table[s])
    seg = np.asarray(rows, np.int64).reshape(-1, 4)
    return seg, np.asarray(prm, np.int64).reshape(-1, len(LIF_PARAMS))


@njit(cache=True)
def _collect(fire, fire64, lo, hi, cnt, fired, nf):
    """Append to ``fired[nf:]`` the ``cnt`` indices ``i`` in ``lo..hi-1`` whose flag
    ``fire[i]`` is set, in ascending order, reading eight flags at a time (``fire64``
    views the same bytes; ``cnt = -1``: however many there are, 512 at a time);
    returns the new ``nf``. A function of its own: inside :func:`_run` the loop's
    registers spill, and it costs ten times as much."""
    if cnt < 0:
        # 512 flags (64 words) OR-ed at a time, a loop that vectorises; then the words of
        # the rare block with a spike
        for blk in range(lo >> 9, (hi + 511) >> 9):
            acc = np.uint64(0)
            for j in range(64 * blk, 64 * blk + 64):
                acc |= fire64[j]
            if acc == 0:
                continue
            for j in range(64 * blk, 64 * blk + 64):
                word = fire64[j]
                if word != 0:
                    for b in range(8):
                        i = 8 * j + b
                        if (word >> np.uint64(8 * b)) & np.uint64(0xFF) and lo <= i < hi:
                            fired[nf] = i
                            nf += 1
        return nf
    j = lo >> 3
    while cnt > 0:
        word = fire64[j]
        if word != 0:  # rare: all the work of a word with a spike in it is here
            for b in range(8):
                i = 8 * j + b
                if (word >> np.uint64(8 * b)) & np.uint64(0xFF) and lo <= i < hi:
                    fired[nf] = i
                    nf += 1
                    cnt -= 1
        j += 1
    return nf


@njit(cache=True)
def _run(
    n_steps,
    n_in,
    kind,
    a_m,
    a_e,
    a_i,
    p_e,
    p_i,
    bias,
    theta,
    v_reset,
    refsteps,
    izh,
    izh_d,
    v,
    ie,
    ii,
    u,
    ref,
    frac,
    fv,
    dmode,
    rmode,
    vlim,
    ilim,
    ptr,
    tgt,
    port,
    delay,
    w,
    shift,
    rule,
    n_slots,
    rp,
    x_pre,
    x_post,
    tptr,
    tsyn,
    tsrc,
    in_steps,
    in_ids,
    rec_ids,
    rec_v,
    segments,
    uprm,
    ring,
    cur,
    q_ptr,
    q_tgt,
    q_w,
):
    n = len(kind)
    # Spike-queue delivery (``queue``, see _spike_queue): this step's kernels leave the
    # currents without input, and the synapses due now are added straight into them
    # afterwards, from the sources that spiked D steps ago; sources are queued, not
    # synapses, and no ring is read or cleared per neuron.
    events = len(q_tgt) > 0 or len(q_ptr) > 0
    hist = np.empty((n_slots if events else 0, n_in + n), np.int64)
    hist_n = np.zeros(n_slots, np.int64)
    flat = ring.reshape(n_slots * 2 * n)  # the same memory, for the static fast path
    # static synapses (no rule): where each lands in a ring slot, and its shifted weight
    static = rp.shape[0] == 0
    # unsigned indices: Numba then drops its negative-index wraparound from the loop
    size = np.uint64(n_slots * 2 * n)
    off = (delay * 2 * n + port * n + tgt).astype(np.uint64)  # slot offset, port, target
    uptr = ptr.astype(np.uint64)
    wsh = w << shift
    fired = np.empty(n, np.int64)
    until = ref.copy()  # refractory counters of the uniform runs, as the step they end
    # spike flags as bytes, scanned through a 64-bit view (see _collect)
    fire = np.zeros((n + 511) // 512 * 512, np.uint8)
    fire64 = fire.view(np.uint64)
    delta = (kind == 1).astype(np.int64)
    cap = 1024
    sp_step = np.empty(cap, np.int64)
    sp_id = np.empty(cap, np.int64)
    n_sp = 0
    sat = np.zeros(3, np.int64)
    n_rules = rp.shape[0]
    vlo, vhi = -vlim - 1, vlim
    ilo, ihi = -ilim - 1, ilim
    c140 = np.int64(140) << fv
    rm = np.int64(1) if rmode == 0 else np.int64(0)
    rh = (np.int64(1) << (frac - 1)) if rmode == 0 else np.int64(0)
    ip = 0
    n_ev = 0
    for s in range(n_steps):
        slot = s % n_slots
        nf = 0
        for g in range(segments.shape[0]):
            lo, hi, k, mode = segments[g, 0], segments[g, 1], segments[g, 2], segments[g, 3]
            if mode != GENERAL:
                if mode == VECTOR:
                    cnt, sv, si = _lif_segment(
                        lo, hi, v, ie, ii, ref, a_m, a_e, a_i, p_e, p_i, bias, theta,
                        v_reset, refsteps, delta, ring[slot, 0], ring[slot, 1], fire, frac,
                        rh, rm, vlo, vhi, ilo, ihi,
                    )  # fmt: skip
                else:
                    args = (lo, hi, s + 1, v, ie, ii, until, ring[slot, 0], ring[slot, 1], fire,
                            uprm[g], frac, rh, rm, vlo, vhi, ilo, ihi)  # fmt: skip
                    if events:
                        if mode == SIGNED:
                            cnt, sv, si = _lif_signed_ev(*args)
                        elif rmode == FLOOR:
                            cnt, sv, si = _lif_uniform_fev(*args)
                        else:
                            cnt, sv, si = _lif_uniform_ev(*args)
                    elif mode == SIGNED:
                        cnt, sv, si = _lif_uniform_signed(*args)
                    elif rmode == FLOOR:
                        if mode == UNIFORM:
                            cnt, sv, si = _lif_uniform_f(*args)
                        elif mode == UNIFORM + 1:
                            cnt, sv, si = _lif_uniform_fe(*args)
                        elif mode == UNIFORM + 2:
                            cnt, sv, si = _lif_uniform_fi(*args)
                        else:
                            cnt, sv, si = _lif_uniform_fei(*args)
                    elif mode == UNIFORM:
                        cnt, sv, si = _lif_uniform(*args)
                    elif mode == UNIFORM + 1:
                        cnt, sv, si = _lif_uniform_e(*args)
                    elif mode == UNIFORM + 2:
                        cnt, sv, si = _lif_uniform_i(*args)
                    else:
                        cnt, sv, si = _lif_uniform_ei(*args)
                sat[0] += sv
                sat[1] += si
                nf0 = nf
                nf = _collect(fire, fire64, lo, hi, cnt, fired, nf)
                if mode >= UNIFORM:  # the reset that the uniform kernels leave to us
                    for j in range(nf0, nf):
                        v[fired[j]] = uprm[g, 7]
                        until[fired[j]] = s + 1 + uprm[g, 8]
                continue
            for i in range(lo, hi):
                held = ref[i] > 0
                # 1. neuron update
                if k == 2:
                    vi, ui = v[i], u[i]
                    fk = izh[i, 4]
                    vv = rshift(vi * vi, fv, rmode)
                    dv = izh[i, 0] * vv + izh[i, 1] * (5 * vi + c140 - ui + bias[i])
                    du = izh[i, 2] * (rshift(izh[i, 3] * vi, izh[i, 5], rmode) - ui)
                    v[i] = _sat(vi + rshift(dv, fk, rmode), vlo, vhi, sat, 0)
                    u[i] = _sat(ui + rshift(du, fk, rmode), vlo, vhi, sat, 2)
                elif ref[i] > 0:
                    ref[i] -= 1
                else:
                    syn = p_e[i] * ie[i] + p_i[i] * ii[i] + bias[i]
                    x = decay(v[i], a_m[i], frac, dmode, rmode) + rshift(syn, frac, rmode)
                    v[i] = _sat(x, vlo, vhi, sat, 0)
                # 2. synaptic input of this step
                in_e = ring[slot, 0, i]
                in_i = ring[slot, 1, i]
                ring[slot, 0, i] = 0
                ring[slot, 1, i] = 0
                if k == 0:
                    x = decay(ie[i], a_e[i], frac, dmode, rmode) + in_e
                    ie[i] = _sat(x, ilo, ihi, sat, 1)
                    x = decay(ii[i], a_i[i], frac, dmode, rmode) + in_i
                    ii[i] = _sat(x, ilo, ihi, sat, 1)
                elif not held and (in_e != 0 or in_i != 0):
                    v[i] = _sat(v[i] + in_e + in_i, vlo, vhi, sat, 0)
                # 3. threshold
                if v[i] >= theta[i] and (k == 2 or ref[i] == 0):
                    v[i] = v_reset[i]
                    if k == 2:
                        u[i] = _sat(u[i] + izh_d[i], vlo, vhi, sat, 2)
                    else:
                        ref[i] = refsteps[i]
                    fired[nf] = i
                    nf += 1
        if events:  # this step's input, after every kernel has decayed the currents
            for dd in range(1, min(n_slots, s) + 1):
                h = (s - dd) % n_slots
                for j in range(hist_n[h]):
                    src = hist[h, j]
                    for q in range(q_ptr[src, dd - 1], q_ptr[src, dd]):
                        cur[q_tgt[q]] += q_w[q]
        if len(rec_ids):
            for j in range(len(rec_ids)):
                rec_v[s, j] = v[rec_ids[j]]
        # record
        if n_sp + nf > cap:
            while n_sp + nf > cap:
                cap *= 2
            a = np.empty(cap, np.int64)
            a[:n_sp] = sp_step[:n_sp]
            sp_step = a
            b = np.empty(cap, np.int64)
            b[:n_sp] = sp_id[:n_sp]
            sp_id = b
        for j in range(nf):
            sp_step[n_sp] = s
            sp_id[n_sp] = fired[j]
            n_sp += 1
        # 4. trace decay
        for r in range(n_rules):
            dpre, dpost = rp[r, 0], rp[r, 1]
            for j in range(x_pre.shape[1]):
                if x_pre[r, j] != 0:
                    x_pre[r, j] = rshift(x_pre[r, j] * dpre, frac, rmode)
            for j in range(n):
                if x_post[r, j] != 0:
                    x_post[r, j] = rshift(x_post[r, j] * dpost, frac, rmode)
        # 5. presynaptic events: inputs of this step, then this step's spikes
        while ip < len(in_steps) and in_steps[ip] < s:
            ip += 1
        ip_end = ip
        while ip_end < len(in_steps) and in_steps[ip_end] == s:
            ip_end += 1
        if events:
            hist_n[s % n_slots] = 0  # its sources, of step s - n_slots, are all delivered
        for e in range(ip_end - ip + nf):
            src = in_ids[ip + e] if e < ip_end - ip else n_in + fired[e - (ip_end - ip)]
            if events:  # queued; delivered in the steps it reaches its targets
                h = s % n_slots
                hist[h, hist_n[h]] = src
                hist_n[h] += 1
                n_ev += ptr[src + 1] - ptr[src]
                continue
            if static:  # the same sums as below, without the rule and index arithmetic
                base = np.uint64(slot * 2 * n)
                for q in range(uptr[src], uptr[src + 1]):
                    at = base + off[q]  # delay < n_slots: one wrap at most
                    if at >= size:
                        at -= size
                    flat[at] += wsh[q]
                n_ev += ptr[src + 1] - ptr[src]
                continue
            for q in range(ptr[src], ptr[src + 1]):
                r = rule[q]
                if r >= 0:
                    t = tgt[q]
                    wq = w[q] + rshift(rp[r, 3] * x_post[r, t], rp[r, 6], rmode)
                    w[q] = min(max(wq, rp[r, 4]), rp[r, 5])
                at = slot + delay[q]  # delay < n_slots: no division per synapse
                if at >= n_slots:
                    at -= n_slots
                ring[at, port[q], tgt[q]] += w[q] << shift[q]
            n_ev += ptr[src + 1] - ptr[src]
            for r in range(n_rules):
                if rp[r, 9] == 1:
                    x_pre[r, src] = rp[r, 7]
                else:
                    x_pre[r, src] = min(x_pre[r, src] + rp[r, 7], rp[r, 8])
        ip = ip_end
        # 6. postsynaptic events
        if n_rules > 0:
            for j in range(nf):
                i = fired[j]
                for r in range(n_rules):
                    if rp[r, 9] == 1:
                        x_post[r, i] = rp[r, 7]
                    else:
                        x_post[r, i] = min(x_post[r, i] + rp[r, 7], rp[r, 8])
                for z in range(tptr[i], tptr[i + 1]):
                    q = tsyn[z]
                    r = rule[q]
                    wq = w[q] + rshift(rp[r, 2] * x_pre[r, tsrc[z]], rp[r, 6], rmode)
                    w[q] = min(max(wq, rp[r, 4]), rp[r, 5])
    for g in range(segments.shape[0]):
        if segments[g, 3] >= UNIFORM:
            for i in range(segments[g, 0], segments[g, 1]):
                ref[i] = max(until[i] - n_steps, 0)
    return sp_step[:n_sp].copy(), sp_id[:n_sp].copy(), sat, n_ev


def run(config, input_steps, input_ids, n_steps, record=None, kernels="fast") -> EmulatorResult:
    """Run ``config`` (a :class:`~axonforge.hardware.mapping.CoreConfig`) for ``n_steps``
    steps from its initial state with the given input spikes (``input_steps`` in
    ``0..n_steps-1``, ``input_ids`` in the input index space, any order). ``record``:
    neuron indices whose ``v`` (integer) is kept for every step (``extra["v"]``, shape
    ``(n_steps, len(record))``). The configuration itself is not changed.

    ``kernels="reference"`` runs every LIF neuron through the per-neuron-parameter
    kernel, with every clamp, instead of the kernels specialised for runs of equal
    parameters and for currents proven never to saturate; the results are identical
    (the tests check it), only slower."""
    if kernels not in ("fast", "reference"):
        raise ValueError(f"emulate: kernels must be 'fast' or 'reference', got {kernels!r}")
    a = config.arrays
    n_steps = int(n_steps)
    steps = np.asarray(input_steps, np.int64).ravel()
    ids = np.asarray(input_ids, np.int64).ravel()
    if steps.shape != ids.shape:
        raise ValueError("emulate: input_steps and input_ids must have the same length")
    if len(ids) and (ids.min() < 0 or ids.max() >= config.n_inputs):
        raise ValueError(
            f"emulate: input ids must lie in 0..{config.n_inputs - 1} (the mapped inputs)"
        )
    order = np.lexsort((ids, steps))
    steps, ids = steps[order], ids[order]
    keep = np.ones(len(steps), bool)
    keep[1:] = (steps[1:] != steps[:-1]) | (ids[1:] != ids[:-1])
    steps, ids = np.ascontiguousarray(steps[keep]), np.ascontiguousarray(ids[keep])
    rec = np.asarray([] if record is None else record, np.int64)
    rec_v = np.zeros((n_steps if len(rec) else 0, len(rec)), np.int64)
    state = {k: a[k].copy() for k in ("v", "u", "ref", "w", "x_pre", "x_post")}
    n = len(a["kind"])
    cur = np.concatenate([a["ie"], a["ii"]]).astype(np.int64)  # ie, ii back to back
    state["ie"], state["ii"] = cur[:n], cur[n:]
    segments, uprm = _segment_table(config, kernels)
    sp_step, sp_id, sat, n_ev = _run(
        n_steps,
        config.n_inputs,
        a["kind"],
        a["a_m"],
        a["a_e"],
        a["a_i"],
        a["p_e"],
        a["p_i"],
        a["bias"],
        a["theta"],
        a["v_reset"],
        a["refsteps"],
        a["izh"],
        a["izh_d"],
        state["v"],
        state["ie"],
        state["ii"],
        state["u"],
        state["ref"],
        config.frac_bits,
        config.fv,
        config.decay_mode,
        config.rounding_mode,
        (1 << (config.target.state_bits - 1)) - 1,
        (1 << (config.target.current_bits - 1)) - 1,
        a["ptr"],
        a["tgt"],
        a["port"],
        a["delay"],
        state["w"],
        a["shift"],
        a["rule"],
        config.n_slots,
        a["rp"],
        state["x_pre"],
        state["x_post"],
        a["tptr"],
        a["tsyn"],
        a["tsrc"],
        steps,
        ids,
        rec,
        rec_v,
        segments,
        uprm,
        _ring(config),
        cur,
        *_spike_queue(config, segments, uprm),
    )
    extra = {
        "saturated": {"v": int(sat[0]), "current": int(sat[1]), "u": int(sat[2])},
        "synaptic_events": int(n_ev),
        "state": {k: state[k] for k in ("v", "ie", "ii", "u", "ref")},
    }
    if len(rec):
        extra["v"] = rec_v
    plastic = bool((a["rule"] >= 0).any())
    return EmulatorResult(
        spike_steps=sp_step,
        spike_ids=sp_id,
        n_steps=n_steps,
        final_weights=state["w"] if plastic else None,
        extra=extra,
    )
