"""The NeuroCoreX board (ORNL): mapping, bit-accurate emulator and UART command stream.

NeuroCoreX (Gautam, Date, Kulkarni, Patton, Potok, arXiv 2506.14138; RTL in the
``ORNL/NeuroCoreX`` repository, ``vhdl_src/*.vhd``, tutorial in ``Tutorials/*.ipynb``) is
one time-multiplexed core on a Digilent Cmod A7-35T: 96 neuron slots, updated one per
100 kHz cycle, so one time step is **0.96 ms**; slots 4..93 may fire (90 neurons); two
96x96 int8 weight memories, "FF" (input -> neuron) and "AA" (neuron -> neuron); on-chip
STDP with rectangular windows. Everything below is read from the RTL (file names cite
``vhdl_src/``); where the paper, the tutorial and the RTL disagree, the RTL wins and the
difference is stated.

Entry points
------------
* :func:`map_network` (also ``TARGETS["neurocorex"].map(net)``): an axonforge network
  -> :class:`NeuroCoreXConfig` (design-rule checks first: ``DesignRuleError``);
* :meth:`NeuroCoreXConfig.from_arrays`: the native path (integer FF/AA weights,
  thresholds, refractory periods, leak, given directly);
* :meth:`NeuroCoreXConfig.emulate`: the emulator (Numba), :meth:`~NeuroCoreXConfig.uart_stream`
  the bytes the board takes, :func:`load_serial` writes them to the board (pyserial,
  ``pip install "axonforge[serial]"``), :func:`decode_spikes` reads the board's spike frames.

Number format (``Core_engine.vhd``)
-----------------------------------
v, currents, thresholds, the bias and the leak are 18-bit signed **Q7.10** (1.0 = 1024,
range -128.0 .. 127.999; :func:`to_q7_10` / :func:`from_q7_10`). Weights are int8.

Placement (the tutorial's padding convention, ``NeuroCoreX_Serial_Comm_DIGITS_Tutorial``)
-----------------------------------------------------------------------------------------
* neuron ``i`` (0..89) is slot ``4 + i``: its threshold and Tref_max are word ``4 + i``
  of their parameter blocks, its spike is bit ``i`` of the board's 90-bit frame;
* its FF row is ``6 + i``; input ``k`` (0..93) is FF column ``2 + k`` and is sent as
  input address ``k + 2`` (the tutorial pads FF at row 6, column 2 and sends
  ``neuron index + 2``);
* its AA row is ``6 + i`` and, as a presynaptic neuron, its AA column is ``5 + i`` (the
  tutorial pads AA at row 6, column 5);
* FF columns 0 and 1 stay zero and STDP-disabled: this module uses input address 0 as a
  harmless *filler* event (gaps of more than 256 steps, padding to ``n_steps``).

The row offset of 2 (row 6 for slot 4) and the column offset of 1 (AA column 5 for slot 4)
come from the RTL's pipeline (``w_comb_FF <= weight_FF_prev(index + 4)`` and one cycle of
BRAM latency in ``Core_engine.vhd``); this module takes them from the tutorial, which ran
on the board, and the emulator works on the same padded matrices.

Neuron update (``LIF_updater`` in ``Core_engine.vhd``), neuron by neuron in slot order
---------------------------------------------------------------------------------------
1. ``v' = v + I_bias`` (only the monitored slot of the ``0x4_`` debug command gets the
   bias; default bias 0);
2. fire if ``v' >= theta`` and the refractory counter is 0: ``v = 0``, counter = 1;
3. otherwise ``v = v' - L + I_rec + I_in`` (18-bit wrap, no lower clamp); the counter
   counts 1, 2, .. up to Tref_max and then returns to 0, so a neuron cannot fire for
   ``max(Tref_max, 1)`` steps after a spike and keeps integrating meanwhile;
4. the threshold is tested before this step's input is added: an input event at step t
   can make the neuron fire at step t + 1 at the earliest.

Currents: ``I_in = resize((sum of W_FF over this step's input event) * A_in << 10, 18)``,
a delta current (not kept), forced to 0 in the firing step; ``A_in`` is the low byte of
Tref_max of slot 0 (``Syn_amp_FF(7 downto 0) <= Tref_max(0)(7 downto 0)``; the tutorial
sends 1). ``I_rec = I_rec + resize((sum of W_AA over the other neurons that fired last
step) << 10, 18)``, never decays. ``resize`` is numeric_std's: the 36-bit shifted product
keeps its sign bit (bit 35) and its low 17 bits, so ``|W * A_in| >= 128`` wraps; the
mapping keeps ``|W * A_in| <= 128``.

Quirks emulated (not fixed)
---------------------------
* **AA current never decays** (its decay code is commented out) and, in a step in which
  no *other* neuron fired, the shared ``Isyn_out`` register is not written, so the neuron
  takes the value left by the neuron updated before it (**stale register**); likewise the
  FF register keeps its previous value in a step with recurrent spikes but no input
  event. The emulator reduces "before it" to the previous neuron in slot order; the
  exact hand-over through the RTL's pipeline stages is not verified (the tutorial sets
  every AA weight to 0), so :func:`map_network` warns when a network uses AA.
* **STDP weight arithmetic is 8-bit** (``lat_read_data + delta_w_pos`` is an 8-bit
  numeric_std sum): the guard ``> 127`` can never be true, so potentiation of 127 wraps
  to -128; depression floors at **-1** (``max(w - dw-, -1)``, and a weight below -1
  that is depressed jumps up to -1), and -128 - dw- wraps. ``stdp_overflow="saturate"``
  emulates the intended ``min(w + dw+, 127)`` instead.
* ``tpost_FF_max`` is loaded but unused: the post window of FF and AA synapses alike is
  ``tpost_AA_max`` (stdp_params word 1, bits 15:8).
* self-connections in AA are ignored by the RTL's accumulation (``(lat_acc_index - 1) /=
  current_neuron_index``): refused as a design rule.
* the STDP-enable bitmap is taken **MSB first** (``byte_buffer(7 - bit_count)`` in
  ``Core_engine.vhd``); the tutorial packs it LSB first, so the tutorial's bitmap
  enables bit-reversed synapses within each byte. This module writes MSB first
  (``bit_order="lsb"`` reproduces the tutorial).

STDP (``Core_engine.vhd``, rectangular windows, constant steps)
---------------------------------------------------------------
Per presynaptic element (input column or neuron; the RTL keeps one counter per synapse,
but a column's counters are reset and advanced together) ``tpre`` (int8) and ``apre``; per
neuron ``tpost``, ``apost``. A spike sets the counter to 0 and the flag to 1; each step
without a spike the counter advances while it is below the window maximum, and at the
maximum becomes -1 with the flag 0 (maxima are signed 8-bit). In step t, after the
neurons are updated: each neuron that fired potentiates its enabled synapses whose
``apre`` is 1; each presynaptic spike of step t depresses its enabled synapses whose
post neuron has ``apost`` 1; then the counters take step t's spikes. Flags are those at
the end of step t - 1, so a post spike at t potentiates pre spikes of steps
``t - tpre_max - 1 .. t - 1`` and same-step pairs do nothing. The step-level ordering is
this module's reduction of the RTL's per-slot BRAM sweeps.

Conversion of a float LIF network (:func:`map_network`)
-------------------------------------------------------
* the network's ``dt`` must be 0.96 ms (``Network(dt=0.96e-3)``); anything else is
  refused: the board's step is fixed by its clocks;
* models: :class:`~axonforge.models.LIF` only, kinetics ``"delta"`` (a weight is a jump
  of v) maps directly; ``"exp"`` is accepted as a delta jump of equal charge
  (``w * tau_syn / c_m``, exact for ``tau_syn << tau_m``; a deviation line says so);
* v: ``u = (v - v_reset) / s`` (the board resets to 0), ``theta = (v_thresh - v_reset)
  / s`` rounded to Q7.10. ``s`` [V per 1.0] is chosen so the threshold plus the largest
  excitatory jump stays below 127 (no 18-bit wrap): ``s = max((dv_th + w_max) / 127,
  -w_min / 128)`` with ``A_in = 1``; weights ``W = round(w / (s * A_in))``: the
  quantisation error is at most ``0.5 / |W|`` of a weight (``resources()["deviation"]``);
* leak: NeuroCoreX subtracts a constant ``L`` each step (slot 8 of tau_mem, one value for
  all neurons) and has no lower clamp. The float leak ``(v - v_rest) dt / tau_m`` is
  linearised at the middle of the firing range: ``L = ((v_thresh + v_reset)/2 - v_rest)
  * dt / tau_m - i_offset dt / c_m`` (``leak=`` overrides, in volts per step, 0 turns it
  off). Error: the float leak is larger near threshold and smaller near reset, and a
  silent NeuroCoreX neuron drifts below reset without bound; for neurons driven to fire
  regularly (tests/hardware/test_hw_neurocorex.py: 5 neurons at 40 to 50 Hz, 20 inputs)
  the rate error is 2 to 8 % (tested bound 15 %); weakly driven neurons fare worse.
  Different leaks across neurons cannot be held: the median is used and the spread
  reported (``strict=True`` refuses);
* refractory period: ``Tref_max = round(t_ref / dt)``; the board integrates while
  refractory (the float neuron is clamped);
* inputs: :class:`~axonforge.models.SpikeSource` populations (at most 94 inputs), at most
  one input event per step (the board's FIFO releases one record per step):
  ``emulate`` and ``uart_stream`` refuse more unless ``multiple="serialise"`` (the later
  events move to the next free steps, as the board's FIFO would deliver them);
* projections: input -> neuron go to FF, neuron -> neuron to AA (warned, see quirks);
  delays must be exactly one step; synapses between the same pair are summed;
* weights that do not fit int8 at a scale pinned with ``scale=`` are refused with a
  design-rule line, or clipped with ``clip=True`` (warned, counted in
  ``resources()["saturation"]``);
* on-chip STDP: projections with a plasticity rule (``synapse=STDP(...)``) get their
  enable bits set; windows ``round(tau_plus / dt)``, ``round(tau_minus / dt)`` (at most
  127), steps of one weight LSB, unless ``stdp=dict(tpre_ff=, tpost=, tpre_aa=,
  dw_plus=, dw_minus=)`` says otherwise; ``stdp=False`` turns it off.

UART (``uart_rx_sorter_input.vhd``; the command's high nibble is the opcode)
-----------------------------------------------------------------------------
``0x0_`` FF weights (9216 int8, row-major [post row][pre column]) + 1 closing byte
(ignored by the RTL, sent as 0x00); ``0x1_`` AA, same; ``0x2_`` 384 words of 3 bytes,
least significant first (bits 17:16 in the third byte's bits 1:0): theta, Tref_max,
tau_mem, stdp_params (96 words each); ``0x6_`` STDP-enable bitmap: 2304 bytes (AA bits
then FF bits, row-major, MSB first) + 1 closing byte; ``0x4_`` debug: I_bias (Q7.10),
monitored slot; ``0x3_`` input records ``[dt, addr_lo, addr_hi]``, ``FF FF FF`` ends the
run. A record is released once the steps elapsed since the previous one exceed ``dt``, so
an event ``g`` steps after the previous one is sent as ``dt = g - 1`` (the first as its
step number, as the tutorial does); gaps above 256 steps get filler records at address 0.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from axonforge.hardware.memfiles import Memory
from axonforge.hardware.targets import DesignRuleError, EmulatorResult, Target

__all__ = [
    "NeuroCoreXConfig",
    "map_network",
    "load_serial",
    "decode_spikes",
    "to_q7_10",
    "from_q7_10",
    "pack_bitmap",
    "DT",
    "N_SLOTS",
    "N_NEURONS",
    "N_INPUTS",
]

#: the board's time step [s]: 96 slots at 100 kHz (Trig_LIF.vhd, clock_divider.vhd)
DT = 0.96e-3
#: neuron slots of the core (Core_engine.vhd, N1 = 95)
N_SLOTS = 96
#: slots that may fire: 4..93
N_NEURONS = 90
FIRST_SLOT = 4
#: FF and AA rows of neuron 0, AA column of neuron 0, FF column of input 0 (tutorial)
ROW0, AA_COL0, FF_COL0 = 6, 5, 2
#: inputs: FF columns 2..95
N_INPUTS = N_SLOTS - FF_COL0
#: the input address of filler events (FF column 0: zero weights, STDP off)
FILLER_ADDR = 0
Q = 1024  # 1.0 in Q7.10
V_MIN, V_MAX = -(1 << 17), (1 << 17) - 1
BAUDRATE = 1_000_000
_CMD_FF, _CMD_AA, _CMD_PARAM, _CMD_INPUT, _CMD_DEBUG, _CMD_STDP_EN = (
    0x00, 0x10, 0x20, 0x30, 0x40, 0x60,
)  # fmt: skip


# ------------------------------------------------------------------ number format
def to_q7_10(x, *, what="value"):
    """Float(s) -> Q7.10 integers (round to nearest, 1.0 = 1024); ValueError naming
    ``what`` when outside the 18-bit signed range -128.0 .. 127.999."""
    a = np.asarray(x, dtype=np.float64)
    r = np.round(np.where(np.isfinite(a), a, 0.0) * Q)
    bad = (r < V_MIN) | (r > V_MAX) | ~np.isfinite(a)
    q = np.clip(r, V_MIN, V_MAX).astype(np.int64)
    if bad.any():
        v = a[bad].flat[0] if a.ndim else float(a)
        raise ValueError(
            f"{what} = {v} does not fit Q7.10 (18-bit signed: -128.0 .. {V_MAX / Q:.4f})"
        )
    return q if a.ndim else int(q)


def from_q7_10(q):
    """Q7.10 integers -> floats."""
    return np.asarray(q, dtype=np.float64) / Q


def _word_bytes(words):
    """18-bit words -> 3 bytes each, least significant first (two's complement)."""
    u = np.asarray(words, np.int64) & 0x3FFFF
    out = np.empty((len(u), 3), np.uint8)
    out[:, 0], out[:, 1], out[:, 2] = u & 0xFF, (u >> 8) & 0xFF, (u >> 16) & 0x03
    return out.tobytes()


def pack_bitmap(bits, bit_order="msb"):
    """0/1 values -> bytes, 8 per byte: ``"msb"`` (the RTL: first bit in bit 7) or
    ``"lsb"`` (the tutorial notebook: first bit in bit 0)."""
    b = np.asarray(bits, np.uint8).ravel() & 1
    b = np.concatenate([b, np.zeros((-len(b)) % 8, np.uint8)])
    if bit_order not in ("msb", "lsb"):
        raise ValueError(f"bit_order must be 'msb' or 'lsb', got {bit_order!r}")
    return np.packbits(b, bitorder="big" if bit_order == "msb" else "little").tobytes()


# ------------------------------------------------------------------ emulator kernel
def _kernel():
    from numba import njit

    @njit(cache=True, inline="always")
    def wrap18(x):
        return ((x + 131072) & 262143) - 131072

    @njit(cache=True, inline="always")
    def wrap8(x):
        return ((x + 128) & 255) - 128

    @njit(cache=True, inline="always")
    def resize_shift(p):
        # numeric_std: resize(p36 sll 10, 18) keeps bit 35 (sign) and the low 17 bits
        sh = (p << 10) & 68719476735  # 36 bits
        return (sh & 131071) - ((sh >> 35) & 1) * 131072

    @njit(cache=True)
    def run(ev, n_steps, theta, tref, leak, a_in, bias, bias_slot, ff, aa, en_ff, en_aa,
            tpre_ff_max, tpost_max, tpre_aa_max, dwp, dwm, saturate, record_v):  # fmt: skip
        n = theta.shape[0]
        v = np.zeros(n, np.int64)
        ref = np.zeros(n, np.int64)
        irec = np.zeros(n, np.int64)
        fired = np.zeros(n, np.bool_)
        prev = np.zeros(n, np.bool_)
        spikes = np.zeros((n_steps, n), np.bool_)
        vtr = np.zeros((n_steps if record_v else 0, n), np.int32)
        ncol = ff.shape[1]
        tpre_ff = np.full(ncol, -1, np.int64)
        tpre_aa = np.full(n, -1, np.int64)
        tpost = np.full(n, -1, np.int64)
        isyn = 0  # the shared Isyn_out and Isyn_out_FF registers (stale values persist)
        isyn_ff = 0
        for t in range(n_steps):
            c = ev[t]
            nprev = 0
            for i in range(n):
                prev[i] = fired[i]
                if fired[i]:
                    nprev += 1
            for i in range(n):
                slot = i + 4
                row = i + 6
                vp = wrap18(v[i] + (bias if slot == bias_slot else 0))
                fire = vp >= theta[i] and ref[i] == 0
                others = nprev - (1 if prev[i] else 0)
                if others > 0:
                    wsum = 0
                    for j in range(n):
                        if prev[j] and j != i:
                            wsum += aa[row, j + 5]
                    isyn = wrap18(irec[i] + resize_shift(wsum))
                if c >= 0:
                    isyn_ff = 0 if fire else resize_shift(ff[row, c] * a_in)
                elif others == 0:
                    isyn_ff = 0
                irec[i] = isyn
                fired[i] = fire
                if fire:
                    v[i] = 0
                    ref[i] = 1
                else:
                    v[i] = wrap18(vp - leak + isyn + isyn_ff)
                    if ref[i] >= 1 and ref[i] < tref[i]:
                        ref[i] += 1
                    elif ref[i] >= tref[i]:
                        ref[i] = 0
                spikes[t, i] = fire
                if record_v:
                    vtr[t, i] = v[i]
            # ---- STDP: flags as at the end of step t - 1
            for i in range(n):
                if not fired[i]:
                    continue
                row = i + 6
                for col in range(ncol):
                    if en_ff[row, col] and tpre_ff[col] >= 0:
                        w = ff[row, col] + dwp
                        ff[row, col] = min(w, 127) if saturate else wrap8(w)
                for j in range(n):
                    if j != i and en_aa[row, j + 5] and tpre_aa[j] >= 0:
                        w = aa[row, j + 5] + dwp
                        aa[row, j + 5] = min(w, 127) if saturate else wrap8(w)
            for i in range(n):
                if tpost[i] < 0:
                    continue
                row = i + 6
                if c >= 0 and en_ff[row, c]:
                    w = ff[row, c] - dwm
                    w = w if saturate else wrap8(w)
                    ff[row, c] = -1 if w < -1 else w
                for j in range(n):
                    if fired[j] and j != i and en_aa[row, j + 5]:
                        w = aa[row, j + 5] - dwm
                        w = w if saturate else wrap8(w)
                        aa[row, j + 5] = -1 if w < -1 else w
            # ---- counters take step t's spikes
            for col in range(ncol):
                if col == c:
                    tpre_ff[col] = 0
                elif tpre_ff[col] >= 0:
                    tpre_ff[col] = tpre_ff[col] + 1 if tpre_ff[col] < tpre_ff_max else -1
            for i in range(n):
                if fired[i]:
                    tpre_aa[i] = 0
                    tpost[i] = 0
                else:
                    if tpre_aa[i] >= 0:
                        tpre_aa[i] = tpre_aa[i] + 1 if tpre_aa[i] < tpre_aa_max else -1
                    if tpost[i] >= 0:
                        tpost[i] = tpost[i] + 1 if tpost[i] < tpost_max else -1
        return spikes, vtr, irec

    return run


_RUN = None


def _run(*args):
    global _RUN
    if _RUN is None:
        _RUN = _kernel()
    return _RUN(*args)


def _s8(x):
    """An 8-bit field as the RTL's signed(7 downto 0)."""
    x = int(x) & 0xFF
    return x - 256 if x >= 128 else x


# ------------------------------------------------------------------ configuration
@dataclasses.dataclass(eq=False)
class NeuroCoreXConfig:
    """A network placed on NeuroCoreX (the :class:`~axonforge.hardware.targets.MappedNetwork`
    protocol). Matrices are the board's padded 96x96 int8 memories, ``[row][column]``
    (see the module docstring for where neurons and inputs sit); parameter blocks are 96
    words each."""

    target: Target
    ff: np.ndarray
    aa: np.ndarray
    theta: np.ndarray  # 96 words, Q7.10
    tref: np.ndarray  # 96 words; word 0's low byte is A_in
    tau_mem: np.ndarray  # 96 words; word 8 is the leak L (Q7.10)
    stdp_params: np.ndarray  # 96 words
    stdp_en_ff: np.ndarray
    stdp_en_aa: np.ndarray
    n_neurons: int
    n_inputs: int
    index: dict = dataclasses.field(default_factory=dict)
    scales: dict = dataclasses.field(default_factory=dict)
    dt: float = DT
    bias: int = 0  # I_bias, Q7.10 (debug command)
    monitored: int = 1  # the slot that gets I_bias (tutorial: 1)
    stdp_overflow: str = "wrap"
    synapses: dict = dataclasses.field(default_factory=dict)  # proj -> (kind, rows, cols)
    saturation: dict = dataclasses.field(default_factory=dict)
    deviation: dict = dataclasses.field(default_factory=dict)
    not_fitted: list = dataclasses.field(default_factory=list)

    #: parameter words per neuron: theta and Tref_max (the leak is shared)
    neuron_words = 2

    @property
    def n_sources(self) -> int:
        return self.n_inputs + self.n_neurons

    @property
    def arrays(self) -> dict:
        """The synapses as the generic core's CSR by source (inputs, then neurons):
        ``ptr`` and ``tgt`` (neuron index), for activity counts
        (:func:`axonforge.hardware.report.activity`)."""
        n, m = self.n_neurons, self.n_inputs
        ff = self.ff[ROW0 : ROW0 + n, FF_COL0 : FF_COL0 + m] != 0  # [post][pre]
        aa = self.aa[ROW0 : ROW0 + n, AA_COL0 : AA_COL0 + n] != 0
        by_source = np.concatenate([ff.T, aa.T])  # [source][post]
        src, tgt = np.nonzero(by_source)
        ptr = np.zeros(self.n_sources + 1, np.int64)
        np.cumsum(np.bincount(src, minlength=self.n_sources), out=ptr[1:])
        return {"ptr": ptr, "tgt": tgt.astype(np.int64)}

    # ---- native path
    @classmethod
    def from_arrays(
        cls,
        ff,
        aa=None,
        theta=1.0,
        tref=0,
        leak=0.0,
        *,
        a_in=1,
        stdp_ff=None,
        stdp_aa=None,
        tpre_ff=127,
        tpost=127,
        tpre_aa=127,
        dw_plus=1,
        dw_minus=1,
        bias=0.0,
        monitored=1,
        stdp_overflow="wrap",
        target=None,
    ):
        """The native path: ``ff`` int8 ``(n_neurons, n_inputs)`` [post][pre], ``aa`` int8
        ``(n_neurons, n_neurons)`` [post][pre] (diagonal 0), ``theta`` thresholds in
        Q7.10 units (float, 1.0 = 1024 LSB; scalar or per neuron), ``tref`` Tref_max in
        steps, ``leak`` the global subtractive leak L per step (float, Q7.10 units),
        ``a_in`` the FF amplitude (0..255), ``stdp_ff``/``stdp_aa`` 0/1 enable masks of
        the shapes of ``ff``/``aa``, window maxima and steps as the RTL's 8-bit fields."""
        ff = np.atleast_2d(np.asarray(ff))
        n, m = ff.shape
        aa = np.zeros((n, n), np.int64) if aa is None else np.asarray(aa)
        errors = []
        if n > N_NEURONS:
            errors.append(f"ff has {n} neuron rows; neurocorex holds {N_NEURONS}")
        if m > N_INPUTS:
            errors.append(f"ff has {m} input columns; neurocorex has {N_INPUTS} (2..95)")
        if aa.shape != (n, n):
            errors.append(f"aa must be ({n}, {n}), got {aa.shape}")
        for name, w in (("ff", ff), ("aa", aa)):
            if not np.array_equal(w, np.round(w)) or w.size and (w.min() < -128 or w.max() > 127):
                errors.append(f"{name} weights must be integers in -128..127 (int8)")
        if aa.shape == (n, n) and np.any(np.diag(aa) != 0):
            errors.append("aa has self-connections; the RTL ignores them (diagonal must be 0)")
        if not 0 <= int(a_in) <= 255:
            errors.append(f"a_in = {a_in} must be 0..255 (the low byte of Tref_max[0])")
        if stdp_overflow not in ("wrap", "saturate"):
            errors.append(f"stdp_overflow must be 'wrap' or 'saturate', got {stdp_overflow!r}")
        target = target or _default_target()
        if errors:
            raise DesignRuleError(target.name, errors)
        th = np.broadcast_to(np.asarray(theta, np.float64), (n,))
        tr = np.broadcast_to(np.asarray(tref, np.int64), (n,))
        theta_w = np.full(N_SLOTS, V_MAX, np.int64)
        theta_w[FIRST_SLOT : FIRST_SLOT + n] = to_q7_10(th, what="theta")
        tref_w = np.zeros(N_SLOTS, np.int64)
        tref_w[FIRST_SLOT : FIRST_SLOT + n] = tr
        tref_w[0] = int(a_in)
        tau_w = np.zeros(N_SLOTS, np.int64)
        tau_w[8] = to_q7_10(leak, what="leak")
        sp = np.zeros(N_SLOTS, np.int64)
        for name, val in (("tpre_ff", tpre_ff), ("tpost", tpost), ("tpre_aa", tpre_aa),
                          ("dw_plus", dw_plus), ("dw_minus", dw_minus)):  # fmt: skip
            if not -128 <= int(val) <= 255:
                raise ValueError(f"{name} = {val} must fit 8 bits")
        sp[0] = (int(tpre_ff) & 0xFF) | ((int(tpost) & 0xFF) << 8)
        sp[1] = (int(tpre_aa) & 0xFF) | ((int(tpost) & 0xFF) << 8)
        sp[2] = (int(dw_plus) & 0xFF) | ((int(dw_minus) & 0xFF) << 8)
        FF = np.zeros((N_SLOTS, N_SLOTS), np.int64)
        AA = np.zeros((N_SLOTS, N_SLOTS), np.int64)
        FF[ROW0 : ROW0 + n, FF_COL0 : FF_COL0 + m] = ff
        AA[ROW0 : ROW0 + n, AA_COL0 : AA_COL0 + n] = aa
        EF = np.zeros((N_SLOTS, N_SLOTS), np.int64)
        EA = np.zeros((N_SLOTS, N_SLOTS), np.int64)
        if stdp_ff is not None:
            EF[ROW0 : ROW0 + n, FF_COL0 : FF_COL0 + m] = np.asarray(stdp_ff) != 0
        if stdp_aa is not None:
            EA[ROW0 : ROW0 + n, AA_COL0 : AA_COL0 + n] = np.asarray(stdp_aa) != 0
            np.fill_diagonal(EA[ROW0 : ROW0 + n, AA_COL0 : AA_COL0 + n], 0)
        cfg = cls(
            target=target, ff=FF, aa=AA, theta=theta_w, tref=tref_w, tau_mem=tau_w,
            stdp_params=sp, stdp_en_ff=EF, stdp_en_aa=EA, n_neurons=n, n_inputs=m,
            index={"neurons": ("neuron", 0, n), "inputs": ("input", 0, m)},
            scales={"v": 1.0 / Q, "w": float(a_in), "t": DT},
            bias=to_q7_10(bias, what="bias"), monitored=int(monitored),
            stdp_overflow=stdp_overflow,
        )  # fmt: skip
        return cfg

    # ---- parameters as the RTL reads them
    @property
    def a_in(self) -> int:
        """``Syn_amp_FF``: the default 9 with its low byte replaced by Tref_max[0]'s."""
        return (9 & ~0xFF) | (int(self.tref[0]) & 0xFF)

    @property
    def leak(self) -> int:
        """L, Q7.10: tau_mem word 8 (``V_by_Tau_dt <= tau_mem(8)``)."""
        return int(self.tau_mem[8])

    def stdp_fields(self) -> dict:
        """The STDP parameters as signed 8-bit fields (stdp_params words 0..2)."""
        sp = self.stdp_params
        return {
            "tpre_ff_max": _s8(sp[0]), "tpost_ff_max (unused by the RTL)": _s8(sp[0] >> 8),
            "tpre_aa_max": _s8(sp[1]), "tpost_aa_max": _s8(sp[1] >> 8),
            "dw_plus": _s8(sp[2]), "dw_minus": _s8(sp[2] >> 8),
        }  # fmt: skip

    @property
    def plastic(self) -> bool:
        return bool(self.stdp_en_ff.any() or self.stdp_en_aa.any())

    # ---- protocol
    def memories(self) -> list:
        """The board's memories: FF and AA weights (9216 int8 each, row-major
        [row][column]), the four 96-word parameter blocks (18 bits) and the two
        STDP-enable bitmaps (9216 bits each)."""
        M = Memory
        return [
            M("ff_weights", 8, self.ff.ravel(), True, "FF weights [post row][input column]"),
            M("aa_weights", 8, self.aa.ravel(), True, "AA weights [post row][pre column]"),
            M("theta", 18, self.theta, True, "thresholds, Q7.10, by slot"),
            M("tref_max", 18, self.tref, True, "Tref_max by slot; word 0 low byte = A_in"),
            M("tau_mem", 18, self.tau_mem, True, "word 8 = global subtractive leak, Q7.10"),
            M("stdp_params", 18, self.stdp_params, True,
              "w0: tpre_FF|tpost_FF<<8, w1: tpre_AA|tpost_AA<<8, w2: dw+|dw-<<8"),
            M("stdp_enable_aa", 1, self.stdp_en_aa.ravel(), False, "row-major"),
            M("stdp_enable_ff", 1, self.stdp_en_ff.ravel(), False, "row-major"),
        ]  # fmt: skip

    def resources(self) -> dict:
        """Neurons, inputs and synapses used, saturation, deviations, what did not fit."""
        nz_ff = int(np.count_nonzero(self.ff))
        nz_aa = int(np.count_nonzero(self.aa))
        return {
            "target": self.target.name,
            "dt": self.dt,
            "neurons": self.n_neurons,
            "neurons_available": N_NEURONS,
            "inputs": self.n_inputs,
            "inputs_available": N_INPUTS,
            "synapses": {"ff": nz_ff, "aa": nz_aa},
            "synapse_slots": {"ff": N_SLOTS * N_SLOTS, "aa": N_SLOTS * N_SLOTS},
            "stdp_enabled": {
                "ff": int(self.stdp_en_ff.sum()),
                "aa": int(self.stdp_en_aa.sum()),
            },
            "a_in": self.a_in,
            "leak_q7_10": self.leak,
            "memory_bits": 2 * N_SLOTS * N_SLOTS * 8 + 4 * N_SLOTS * 18 + 2 * N_SLOTS**2,
            "saturation": dict(self.saturation),
            "deviation": dict(self.deviation),
            "not_fitted": list(self.not_fitted),
        }

    # ---- inputs
    def input_columns(self, input_steps, input_ids, n_steps=None, multiple="error"):
        """One FF column per step (-1: none) from input events (``input_ids`` in the
        input index space). More than one event in a step: ValueError naming the steps
        (``multiple="error"``), or the later events move to the next free steps
        (``"serialise"``, what the board's FIFO does with records sent with dt = 0)."""
        steps = np.asarray(input_steps, np.int64).ravel()
        ids = np.asarray(input_ids, np.int64).ravel()
        if steps.shape != ids.shape:
            raise ValueError("input_steps and input_ids must have the same length")
        if len(ids) and (ids.min() < 0 or ids.max() >= max(self.n_inputs, 1)):
            raise ValueError(f"input ids must be 0..{self.n_inputs - 1}")
        if len(steps) and steps.min() < 0:
            raise ValueError("input steps must be >= 0")
        if multiple not in ("error", "serialise"):
            raise ValueError(f"multiple must be 'error' or 'serialise', got {multiple!r}")
        order = np.lexsort((ids, steps))
        steps, ids = steps[order], ids[order]
        if multiple == "error":
            dup = np.flatnonzero(np.diff(steps) == 0)
            if len(dup):
                bad = np.unique(steps[dup])
                raise ValueError(
                    f"neurocorex takes at most one input event per step; {len(bad)} step(s) "
                    f"have more (first: {bad[:5].tolist()}); pass multiple='serialise' to "
                    "deliver them on the following steps, as the board's FIFO would"
                )
        else:
            steps = steps.copy()
            for k in range(1, len(steps)):
                if steps[k] <= steps[k - 1]:
                    steps[k] = steps[k - 1] + 1
        n = int(steps.max()) + 1 if len(steps) else 0
        n = n if n_steps is None else int(n_steps)
        ev = np.full(n, -1, np.int64)
        keep = steps < n
        ev[steps[keep]] = FF_COL0 + ids[keep]
        return ev

    def emulate(self, input_steps=(), input_ids=(), n_steps=None, *, multiple="error",
                record_v=True) -> EmulatorResult:  # fmt: skip
        """Run the bit-accurate emulator for ``n_steps`` steps of 0.96 ms. Returns spikes
        as (step, neuron) pairs, ``final_weights`` = the (2, 96, 96) FF and AA memories
        after on-chip STDP (None without STDP), ``extra``: ``v`` (n_steps, n_neurons) Q7.10
        traces, ``i_rec`` (final AA currents), ``ff``, ``aa``, ``weights`` (per
        projection, per synapse, in the projection's storage order)."""
        ev = self.input_columns(input_steps, input_ids, n_steps, multiple)
        n_steps = len(ev) if n_steps is None else int(n_steps)
        f = self.stdp_fields()
        ff, aa = self.ff.astype(np.int64).copy(), self.aa.astype(np.int64).copy()
        spikes, vtr, irec = _run(
            ev, n_steps,
            self.theta[FIRST_SLOT : FIRST_SLOT + N_NEURONS].astype(np.int64),
            self.tref[FIRST_SLOT : FIRST_SLOT + N_NEURONS].astype(np.int64),
            self.leak, self.a_in, int(self.bias), int(self.monitored), ff, aa,
            self.stdp_en_ff.astype(np.bool_), self.stdp_en_aa.astype(np.bool_),
            f["tpre_ff_max"], f["tpost_aa_max"], f["tpre_aa_max"],
            f["dw_plus"], f["dw_minus"], self.stdp_overflow == "saturate", bool(record_v),
        )  # fmt: skip
        n = self.n_neurons
        st, ids = np.nonzero(spikes[:, :n])
        extra = {
            "v": vtr[:, :n].copy() if record_v else None,
            "i_rec": irec[:n].copy(),
            "ff": ff.astype(np.int8),
            "aa": aa.astype(np.int8),
            "input_columns": ev,
            "weights": {
                name: (ff if kind == "ff" else aa)[rows, cols].astype(np.int8)
                for name, (kind, rows, cols) in self.synapses.items()
            },
        }
        final = np.stack([ff, aa]).astype(np.int8) if self.plastic else None
        return EmulatorResult(st.astype(np.int64), ids.astype(np.int64), n_steps, final, extra)

    # ---- UART
    def input_records(self, input_steps, input_ids, n_steps=None, multiple="error") -> bytes:
        """The ``0x3_`` payload: ``[dt, addr_lo, addr_hi]`` per event (addr = input + 2),
        filler records at address 0 for gaps over 256 steps and, with ``n_steps``, up to
        step ``n_steps - 1`` (the board stops when its FIFO runs empty after the
        terminator), then ``FF FF FF``."""
        ev = self.input_columns(input_steps, input_ids, None, multiple)
        steps = np.flatnonzero(ev >= 0)
        addrs = (ev[steps] - FF_COL0 + 2).tolist()
        steps = steps.tolist()
        if n_steps is not None and (not steps or steps[-1] < n_steps - 1):
            steps.append(int(n_steps) - 1)
            addrs.append(FILLER_ADDR)
        out = bytearray()
        last = -1
        for s, a in zip(steps, addrs):
            while s - last - 1 > 255:  # filler: released 256 steps after the previous
                last += 256
                out += bytes((255, FILLER_ADDR, 0))
            out += bytes((s - last - 1, a & 0xFF, a >> 8))
            last = s
        out += b"\xff\xff\xff"
        return bytes(out)

    def uart_stream(self, inputs=None, *, n_steps=None, multiple="error", debug=True,
                    bit_order="msb") -> bytes:  # fmt: skip
        """The exact bytes the board accepts, in the tutorial's order: debug (``0x40``,
        I_bias and monitored slot; ``debug=False`` leaves it out), AA (``0x10``), FF
        (``0x00``), STDP-enable bitmap (``0x60``), parameters (``0x20``) and, with
        ``inputs=(input_steps, input_ids)``, the input records (``0x30``)."""
        out = bytearray()
        if debug:
            out.append(_CMD_DEBUG)
            out += _word_bytes([self.bias, self.monitored])
        out.append(_CMD_AA)
        out += self.aa.astype(np.int8).tobytes() + b"\x00"
        out.append(_CMD_FF)
        out += self.ff.astype(np.int8).tobytes() + b"\x00"
        out.append(_CMD_STDP_EN)
        out += pack_bitmap(
            np.concatenate([self.stdp_en_aa.ravel(), self.stdp_en_ff.ravel()]), bit_order
        )
        out += b"\x00"
        out.append(_CMD_PARAM)
        out += _word_bytes(np.concatenate([self.theta, self.tref, self.tau_mem, self.stdp_params]))
        if inputs is not None:
            out.append(_CMD_INPUT)
            out += self.input_records(*inputs, n_steps=n_steps, multiple=multiple)
        return bytes(out)


def decode_spikes(data: bytes, n_neurons=N_NEURONS) -> np.ndarray:
    """The board's spike output (``LIF_unit.vhd``): a ``0xFF`` start marker, then 90 bits
    per step packed LSB first with no padding between steps -> (n_steps, 90) bool."""
    data = bytes(data)
    start = data.find(b"\xff")
    if start < 0:
        raise ValueError("no 0xFF start marker in the data")
    bits = np.unpackbits(np.frombuffer(data[start + 1 :], np.uint8), bitorder="little")
    n = len(bits) // n_neurons
    return bits[: n * n_neurons].reshape(n, n_neurons).astype(bool)


def load_serial(stream: bytes, port, baudrate=BAUDRATE, *, timeout=1.0) -> int:
    """Write ``stream`` (:meth:`NeuroCoreXConfig.uart_stream`) to the board. ``port`` is
    a device name (opened with pyserial at ``baudrate``, 8N1, and closed afterwards) or
    an open port-like object with ``write``. Returns the number of bytes written."""
    own = isinstance(port, (str, bytes))
    if own:
        try:
            import serial
        except ImportError as e:
            raise ImportError('load_serial needs pyserial: pip install "axonforge[serial]"') from e
        port = serial.Serial(port, baudrate, timeout=timeout)
    try:
        n = 0
        view = memoryview(bytes(stream))
        while n < len(view):
            k = port.write(view[n:])
            n += len(view) - n if k is None else int(k)
            if k == 0:
                raise OSError("the serial port accepted no bytes")
        if hasattr(port, "flush"):
            port.flush()
        return n
    finally:
        if own:
            port.close()


# ------------------------------------------------------------------ mapping
def _default_target():
    from axonforge.hardware import targets

    t = targets.TARGETS.get("neurocorex")
    if t is not None:
        return t
    return Target(
        name="neurocorex",
        description="NeuroCoreX (ORNL): 90 LIF neurons, FF and AA int8 crossbars, STDP",
        source="ORNL/NeuroCoreX vhdl_src/Core_engine.vhd, uart_rx_sorter_input.vhd",
        model="neurocorex", state_bits=18, current_bits=18, weight_bits=8, trace_bits=8,
        frac_bits=10, decay="subtractive", neurons_per_core=N_NEURONS, cores=1,
        fan_in=N_INPUTS + N_NEURONS - 1, fan_out=N_NEURONS, max_delay=1,
        weight_words=2 * N_SLOTS * N_SLOTS, clock_hz=100e6, cycles_per_update=1000,
        dt=DT, stdp=True,
    )  # fmt: skip


def map_network(net, target=None, *, leak=None, a_in=None, stdp=None, strict=False,
                scale=None, clip=False, stdp_overflow="wrap") -> NeuroCoreXConfig:  # fmt: skip
    """Map ``net`` onto NeuroCoreX (rules and their error in the module docstring).

    ``leak``: the subtractive leak in volts per step (None: linearised at the middle of
    the firing range); ``a_in``: the FF amplitude (default 1); ``stdp``: None (enable
    on-chip STDP for projections with a plasticity rule), False, or a dict of
    ``tpre_ff, tpost, tpre_aa, dw_plus, dw_minus``; ``strict``: refuse parameters the
    board cannot hold exactly (per-neuron leaks) instead of reporting the deviation;
    ``scale``: volts per 1.0 of Q7.10 (None: chosen); ``clip``: clip weights that do not
    fit int8 (warned, ``resources()["saturation"]``) instead of refusing."""
    from axonforge.models import LIF

    target = target or _default_target()
    tname = target.name
    errors, notes = [], []
    if abs(net.dt - DT) > 1e-9 * DT:
        errors.append(
            f"network dt is {net.dt * 1e3:g} ms; {tname}'s time step is fixed at 0.96 ms "
            "(96 slots at 100 kHz): build the network with Network(dt=0.96e-3)"
        )
    neurons, inputs = [], []
    for pop in net.populations.values():
        if pop.is_neuron:
            if type(pop.model) is not LIF:
                errors.append(
                    f"population {pop.name!r} uses {type(pop.model).__name__}; {tname} runs "
                    "LIF neurons only"
                )
            elif pop.model.kinetics not in ("delta", "exp"):
                errors.append(
                    f"population {pop.name!r} has kinetics {pop.model.kinetics!r}; {tname} "
                    "takes 'delta' (or 'exp', as equal charge)"
                )
            neurons.append(pop)
        elif pop.kind == "spikes":
            inputs.append(pop)
        else:
            errors.append(
                f"population {pop.name!r} is a {pop.kind!r} source; {tname} replays given "
                "input events: use a SpikeSource"
            )
    n_neur = sum(p.n for p in neurons)
    n_in = sum(p.n for p in inputs)
    if n_neur > N_NEURONS:
        for p in neurons:
            if p.n > N_NEURONS:
                errors.append(f"population {p.name!r} needs {p.n} neurons; {tname} holds 90")
        errors.append(f"the network needs {n_neur} neurons in all; {tname} holds 90")
    if n_in > N_INPUTS:
        errors.append(
            f"the inputs ({', '.join(repr(p.name) for p in inputs)}) need {n_in} FF columns; "
            f"{tname} has {N_INPUTS} (fan-in from inputs)"
        )
    index, start_n, start_i = {}, 0, 0
    for p in neurons:
        index[p.name] = ("neuron", start_n, p.n)
        start_n += p.n
    for p in inputs:
        index[p.name] = ("input", start_i, p.n)
        start_i += p.n
    projs = list(net.projections.values())
    for pr in projs:
        if pr.port not in ("exc", "inh"):
            errors.append(f"projection {pr.name!r} targets port {pr.port!r}; {tname} has one")
        if len(pr) and np.any(np.asarray(pr.delay_steps) != 1):
            d = np.asarray(pr.delay_steps)
            errors.append(
                f"projection {pr.name!r} has delays of {int(d.min())}..{int(d.max())} steps; "
                f"{tname} delivers every spike after exactly 1 step"
            )
        if (
            pr.pre_pop.is_neuron
            and len(pr)
            and np.any(pr.pre_ids == pr.post_ids)
            and (pr.pre_pop is pr.post_pop)
        ):
            errors.append(
                f"projection {pr.name!r} has self-connections; {tname}'s AA accumulation "
                "ignores them"
            )
        if (
            pr.plastic is not None
            and type(pr.plastic.model).__name__ != "STDP"
            and (stdp is not False)
        ):
            errors.append(
                f"projection {pr.name!r} uses {type(pr.plastic.model).__name__}; "
                f"{tname} learns with pair STDP only (or pass stdp=False)"
            )
    if errors:
        raise DesignRuleError(tname, errors)

    # ---- float parameters per neuron, in the neuron index space
    keys = ("tau_m", "c_m", "v_rest", "v_thresh", "v_reset", "t_ref", "i_offset")
    P = {k: np.concatenate([np.broadcast_to(p.params[k], (p.n,)) for p in neurons]) for k in keys}
    if n_neur == 0:
        raise DesignRuleError(tname, ["the network has no neurons"])
    dth = P["v_thresh"] - P["v_reset"]

    def volts(pr):  # a weight as a jump of v
        w = np.asarray(pr.weights, np.float64)
        if pr.post_pop.model.kinetics == "exp":
            tau = pr.post_pop.params["tau_syn_" + pr.port]
            c_m = pr.post_pop.params["c_m"]
            post = pr.post_ids
            w = (
                w
                * np.broadcast_to(tau, (pr.post_pop.n,))[post]
                / np.broadcast_to(c_m, (pr.post_pop.n,))[post]
            )
        return w

    W = {pr.name: volts(pr) for pr in projs}
    w_all = np.concatenate([w for w in W.values()] + [np.zeros(1)])
    a_in = 1 if a_in is None else int(a_in)
    if not 1 <= a_in <= 255:
        raise DesignRuleError(tname, [f"a_in = {a_in} must be 1..255"])
    if scale is None:
        s = max(float(dth.max()) + max(float(w_all.max()), 0.0), 1e-30) / 127.0
        s = max(s, -float(w_all.min()) / 128.0 / 1.0)
        s_w = s / 1.0
    else:
        s = float(scale)
    s_w = s * a_in  # volts per weight LSB
    theta_f = dth / s
    if theta_f.max() * Q > V_MAX or theta_f.min() < 0:
        raise DesignRuleError(tname, [
            f"thresholds (v_thresh - v_reset = {dth.min():.4g}..{dth.max():.4g} V) at scale "
            f"{s:.4g} V per unit need {theta_f.max():.4g}; Q7.10 holds 0..127.999"
        ])  # fmt: skip
    # leak (one value for every neuron)
    steps_per_tau = DT / P["tau_m"]
    if leak is None:
        l_v = ((P["v_thresh"] + P["v_reset"]) / 2 - P["v_rest"]) * steps_per_tau
        l_v = l_v - P["i_offset"] * DT / P["c_m"]
        rule = "linearised at the middle of the firing range"
    else:
        l_v = np.broadcast_to(float(leak), (n_neur,))
        rule = "given"
    L = float(np.median(l_v))
    spread = float(np.max(np.abs(l_v - L)))
    if spread > 0.5 * s / Q:
        msg = (
            f"leak differs between neurons ({l_v.min():.4g}..{l_v.max():.4g} V/step); "
            f"{tname} has one global leak: using the median {L:.4g} V/step"
        )
        if strict:
            raise DesignRuleError(tname, [msg])
        warnings.warn(msg, stacklevel=2)
        notes.append(msg)
    tref = np.round(P["t_ref"] / DT).astype(np.int64)
    # ---- matrices
    ff = np.zeros((N_NEURONS, N_INPUTS))
    aa = np.zeros((N_NEURONS, N_NEURONS))
    en_ff = np.zeros(ff.shape, bool)
    en_aa = np.zeros(aa.shape, bool)
    synapses, saturation, uses_aa, stdp_rules = {}, {}, False, []
    for pr in projs:
        _, post0, _ = index[pr.post_pop.name]
        kind, pre0, _ = index[pr.pre_pop.name]
        rows = post0 + np.asarray(pr.post_ids, np.int64)
        cols = pre0 + np.asarray(pr.pre_ids, np.int64)
        target_m = ff if kind == "input" else aa
        uses_aa |= kind == "neuron" and len(pr) > 0
        np.add.at(target_m, (rows, cols), W[pr.name] / s_w)
        if pr.plastic is not None and stdp is not False:
            (en_ff if kind == "input" else en_aa)[rows, cols] = True
            stdp_rules.append(pr.plastic.model)
        synapses[pr.name] = (
            "ff" if kind == "input" else "aa",
            ROW0 + rows,
            (FF_COL0 if kind == "input" else AA_COL0) + cols,
        )
    q_ff, q_aa = np.round(ff), np.round(aa)
    sat_lines = []
    for name, q in (("ff", q_ff), ("aa", q_aa)):
        over = (q > 127) | (q < -128)
        if over.any():
            projs_hit = [
                pr.name for pr in projs
                if synapses[pr.name][0] == name and len(pr) and over[
                    synapses[pr.name][1] - ROW0,
                    synapses[pr.name][2] - (FF_COL0 if name == "ff" else AA_COL0),
                ].any()
            ]  # fmt: skip
            saturation[name] = {
                "weights": int(over.sum()),
                "largest": float(np.abs(q[over]).max()),
                "projections": projs_hit,
            }
            sat_lines.append(
                f"projection(s) {', '.join(map(repr, projs_hit))}: {int(over.sum())} "
                f"{name.upper()} "
                f"weight(s) up to {float(np.abs(q[over]).max()):g} LSB do not fit int8 "
                f"(-128..127) at {s_w:.4g} V per LSB"
            )
    if sat_lines:
        if not clip:
            raise DesignRuleError(tname, [*sat_lines, "pass clip=True to clip them"])
        warnings.warn("clipped: " + "; ".join(sat_lines), stacklevel=2)
        q_ff, q_aa = np.clip(q_ff, -128, 127), np.clip(q_aa, -128, 127)
    if uses_aa:
        warnings.warn(
            f"{tname}: the network uses recurrent (AA) synapses; on the board their current "
            "never decays and keeps a stale value in steps without recurrent spikes (emulated "
            "as read from the RTL; unverified on hardware)",
            stacklevel=2,
        )
    # ---- STDP parameters
    sp = {"tpre_ff": 127, "tpost": 127, "tpre_aa": 127, "dw_plus": 1, "dw_minus": 1}
    if stdp_rules:
        r = stdp_rules[0].params
        sp["tpre_ff"] = sp["tpre_aa"] = int(np.clip(round(r["tau_plus"] / DT), 0, 127))
        sp["tpost"] = int(np.clip(round(r["tau_minus"] / DT), 0, 127))
        notes.append(
            "on-chip STDP: rectangular windows of round(tau/dt) steps and steps of one "
            "weight LSB replace the exponential rule"
        )
    if isinstance(stdp, dict):
        unknown = set(stdp) - set(sp)
        if unknown:
            raise ValueError(f"stdp: unknown keys {sorted(unknown)}; known {sorted(sp)}")
        sp.update(stdp)
    cfg = NeuroCoreXConfig.from_arrays(
        q_ff[:n_neur, :n_in].astype(np.int64),
        q_aa[:n_neur, :n_neur].astype(np.int64),
        theta=np.round(theta_f * Q) / Q,
        tref=tref,
        leak=L / s,
        a_in=a_in,
        stdp_ff=en_ff[:n_neur, :n_in],
        stdp_aa=en_aa[:n_neur, :n_neur],
        tpre_ff=sp["tpre_ff"], tpost=sp["tpost"], tpre_aa=sp["tpre_aa"],
        dw_plus=sp["dw_plus"], dw_minus=sp["dw_minus"],
        stdp_overflow=stdp_overflow, target=target,
    )  # fmt: skip
    cfg.index = index
    cfg.scales = {"v": s / Q, "w": s_w, "t": DT, "v_offset": "v_reset"}
    cfg.synapses = synapses
    cfg.saturation = saturation
    qerr = {}
    for name, m in (("ff", ff), ("aa", aa)):
        nz = np.abs(m) > 0
        if nz.any():
            qerr[name] = float(np.max(np.abs(np.round(m[nz]) - m[nz]) / np.abs(m[nz])))
    cfg.deviation = {
        "weight_quantisation_max_rel": qerr,
        "theta_quantisation_max_V": float(np.max(np.abs(np.round(theta_f * Q) / Q - theta_f)) * s),
        "leak": f"{rule}: L = {L:.4g} V/step = {to_q7_10(L / s, what='leak')} LSB, "
        f"per-neuron spread {spread:.3g} V/step; linear instead of exponential, no lower clamp",
        "refractory": "the board integrates during Tref_max (the float LIF is clamped)",
        "notes": notes,
    }
    return cfg
