"""From STDP in the simulator to an iCE40 bitstream
================================================

A neuron layer learns which inputs fire together, and its learnt weights go to an
iCEBreaker board.

1. **Train** (float simulator, dt = 1 ms): 16 inputs, of which inputs 0-7 fire together
   in volleys (20 per second, plus background) and 8-15 independently at the same mean
   rate, drive 8 LIF neurons through additive pair STDP (Song, Miller & Abbott 2000:
   potentiation of inputs that fire just before the neuron, depression slightly
   stronger). The rule is the one the generic core computes on chip (integer traces,
   :mod:`axonforge.hardware.emulator`), so the same training could run on the
   ``artix7`` core; the iCE40 core has no trace memory, so here the learnt weights are
   frozen and exported.
2. **Export**: the trained layer with static weights is mapped onto ``ice40-up5k``
   (fixed point chosen per population), written as ``$readmemh`` files, and, when the
   open toolchain is installed (``pip install "axonforge[fpga]"``), built into
   ``top.bin`` for the iCEBreaker (pins in ``top.pcf``; the report gives cells, fmax and
   the real-time factor).
3. **Predict**: the bit-accurate emulator runs the board's arithmetic on two test
   inputs, 30 Hz on the learnt group (inputs 0-7) or on the other group (8-15); the
   float simulator runs the same inputs.

Expected outcome (seed 1): after 20 s of training the mean weight from the correlated
inputs is about 4x that from the independent ones (200 pA, at w_max, against about
50 pA), the layer firing at about 9 Hz; the learnt group makes the layer fire (about
420 spikes in 2 s), the other group not at all, in the emulator as in the float
simulator (their counts within 10 %; equal for seed 1). The bitstream, when built: 8 neurons and 128
synapses in about 1,200 logic cells, 8 block RAMs and 5 multipliers.

Run: ``python examples/ice40_board.py [--out ice40_board] [--no-bitstream]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import axonforge as sim
from axonforge import hardware
from axonforge.models import LIF, STDP, SpikeSource

DT = 1e-3
N_IN, N_OUT = 16, 8


def inputs(duration, seed, volleys=True):
    """Spike times and ids: inputs 0-7 share volleys (each joins with p = 0.8), all 16
    have independent background spikes; the mean rate of every input is the same."""
    rng = np.random.default_rng(seed)
    times, ids = [], []
    if volleys:
        for t in np.sort(rng.uniform(0.01, duration, int(20 * duration))):
            members = np.flatnonzero(rng.random(8) < 0.8)
            times += [t + rng.normal(0, 1e-3, len(members))]
            ids += [members]
    background = {True: [4.0] * 8 + [20.0] * 8, False: [20.0] * 16}[volleys]
    for i, rate in enumerate(background):
        k = rng.poisson(rate * duration)
        times += [rng.uniform(0.01, duration, k)]
        ids += [np.full(k, i)]
    t, i = np.concatenate(times), np.concatenate(ids)
    keep = (t > DT) & (t < duration)
    # one spike per input and step: the spike source rounds to the step grid
    steps = np.round(t[keep] / DT).astype(np.int64)
    grid = np.unique(np.stack([steps, i[keep]], axis=1), axis=0)
    return grid[:, 0] * DT, grid[:, 1]


def test_input(group, duration, seed):
    """Independent Poisson spikes at 30 Hz on inputs 0-7 (``group=0``) or 8-15 (``1``),
    the other eight silent."""
    rng = np.random.default_rng(seed)
    times, ids = [], []
    for i in range(8 * group, 8 * group + 8):
        k = rng.poisson(30.0 * duration)
        times.append(rng.uniform(0.01, duration, k))
        ids.append(np.full(k, i))
    steps = np.round(np.concatenate(times) / DT).astype(np.int64)
    grid = np.unique(np.stack([steps, np.concatenate(ids)], axis=1), axis=0)
    return grid[:, 0] * DT, grid[:, 1]


def layer(times, ids, weights, seed, plastic):
    net = sim.Network(dt=DT, seed=seed)
    src = net.population(SpikeSource(times, ids), n=N_IN, name="inputs")
    out = net.population(LIF(tau_m=20e-3, t_ref=2e-3), n=N_OUT, name="layer")
    rule = (
        STDP(a_plus=2e-12, a_minus=-2.2e-12, tau_plus=20e-3, tau_minus=20e-3, w_min=0.0,
             w_max=200e-12, strict_units=False)
        if plastic
        else None
    )  # fmt: skip
    proj = net.connect(src, out, rule=sim.AllToAll(), weight=weights, delay=DT, synapse=rule,
                       name="ff")  # fmt: skip
    spikes = net.spike_monitor(out)
    return net, proj, spikes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])  # the title
    ap.add_argument("--out", default="ice40_board", help="folder for the exported files")
    ap.add_argument("--no-bitstream", action="store_true", help="memory files only")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    weights = {}

    # 1. train
    t, i = inputs(20.0, args.seed)
    net, proj, _ = layer(t, i, 50e-12, args.seed, plastic=True)
    net.run(20.0)
    pre = proj.pre_ids
    w_corr = proj.weights[pre < 8].mean()
    w_ind = proj.weights[pre >= 8].mean()
    weights.update(correlated=w_corr, independent=w_ind)
    print(f"after 20 s of STDP: mean weight from correlated inputs {w_corr * 1e12:.0f} pA, "
          f"from independent ones {w_ind * 1e12:.0f} pA (ratio {w_corr / w_ind:.2f})")  # fmt: skip

    # 2. export the frozen layer
    learnt = proj.weights.copy()
    results = {}
    for group in (0, 1):
        tt, ii = test_input(group, 2.0, args.seed + 100)
        test, tproj, spikes = layer(tt, ii, 0.0, args.seed, plastic=False)
        tproj.weights = learnt
        config = hardware.map_network(test, "ice40-up5k")
        steps = np.round(tt / DT).astype(np.int64) - 1
        emu = config.emulate(steps, ii, int(round(2.0 / DT)))
        test.run(2.0)
        results[group] = (len(emu.spike_ids), spikes.num_spikes)
        if group == 0:
            frozen_config = config
    out = Path(args.out)
    formats = ["mem"] if args.no_bitstream else ["mem", "bitstream"]
    try:
        paths = hardware.export(frozen_config, None, formats, out)
    except RuntimeError as err:  # no toolchain: say so, keep the memory files
        print(f"no bitstream: {err}", file=sys.stderr)
        paths = hardware.export(frozen_config, None, ["mem"], out)
    print(f"{len(paths)} files in {out}/")
    if "bitstream" in formats and (out / "bitstream_report.json").exists():
        import json

        from axonforge.hardware.bitstream import report_text

        print(report_text(json.loads((out / "bitstream_report.json").read_text())))

    # 3. predictions
    for group, (n_emu, n_float) in results.items():
        label = "inputs 0-7 (learnt) " if group == 0 else "inputs 8-15 (other)"
        print(f"2 s of {label} at 30 Hz: emulator (the board) {n_emu} spikes, "
              f"float simulator {n_float}")  # fmt: skip
    return results, weights


if __name__ == "__main__":
    main()
