"""An event camera drives a spiking layer: one N-MNIST digit
=========================================================

One sample of N-MNIST (Orchard et al. 2015; ``../shared/data/dvs/nmnist_sample.bin``,
CC BY-SA 4.0): an ATIS event camera on a pan-tilt unit makes three saccades over an
MNIST digit, 4,325 events in 0.31 s from a 34 x 34 sensor. Each pixel and polarity is
one source, channel ``(y*34 + x)*2 + p`` (2,312 sources; :func:`axonforge.read_spikes`).

The events drive a convolution-free layer of 100 LIF neurons (current-based exponential
synapses): every neuron sees a random fifth of the channels (``FixedProbability(0.2)``,
weights uniform in 20-60 pA, delay 1 ms), and the layer inhibits itself (all-to-all,
-150 pA). The figure shows the events as a raster and as an image of the event counts
per pixel, and the layer's raster. Expected (seed 1): 4,322 events replayed (3 merged
with another of their pixel in a 0.1 ms step); the layer fires 110 spikes from 54 of its
100 neurons, in three bursts that follow the three saccades (36, 32 and 42 spikes in
0-105, 105-210 and 210-330 ms).

``python examples/nmnist_layer.py`` writes ``nmnist_layer.png``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import axonforge as af
from axonforge.models import LIF, SpikeSource
from axonforge.units import ms, pA

SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared/data/dvs/nmnist_sample.bin"
WIDTH = HEIGHT = 34
N_LAYER = 100


def build(data, seed=1):
    """``(net, inputs, layer)``: the events as a SpikeSource population and the layer's
    spike monitor (and the input's)."""
    net = af.Network(dt=0.1 * ms, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a pixel's events in one 0.1 ms step merge
        events = net.population(SpikeSource(data.times, data.ids), n=data.n_units,
                                name="camera")  # fmt: skip
    layer = net.population(LIF(tau_m=20 * ms, tau_syn_exc=5 * ms), n=N_LAYER, name="layer")
    net.connect(events, layer, rule=af.FixedProbability(0.2),
                weight=af.uniform(20 * pA, 60 * pA), delay=1 * ms, name="input")  # fmt: skip
    net.connect(layer, layer, rule=af.AllToAll(allow_autapses=False), weight=-150 * pA,
                delay=1 * ms, port="inh", name="inhibition")  # fmt: skip
    return net, net.spike_monitor(events, name="events"), net.spike_monitor(layer, name="spikes")


def run(path=SAMPLE, seed=1):
    data = af.read_spikes(path)  # the format is guessed from the file
    net, events, layer = build(data, seed)
    net.run(np.ceil(data.times[-1] / net.dt) * net.dt + 20 * ms)
    return data, net, events, layer


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", default=str(SAMPLE))
    ap.add_argument("--figure", default="nmnist_layer.png")
    args = ap.parse_args(argv)
    data, net, events, layer = run(args.sample)
    src = net.populations["camera"]
    print(f"{data.n_spikes} events from {len(np.unique(data.ids))} of {data.n_units} "
          f"channels over {data.times[-1] * 1e3:.0f} ms; {src.merged_spikes} merged in "
          f"a step, {events.num_spikes} replayed")  # fmt: skip
    thirds = np.histogram(layer.times, [0, 0.105, 0.21, 0.33])[0]
    active = len(np.unique(layer.ids))
    print(f"layer: {layer.num_spikes} spikes from {active} of {N_LAYER} neurons; per "
          f"saccade {thirds.tolist()}")  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from axonforge.plot import raster

    fig = Figure(figsize=(12, 4))
    FigureCanvasAgg(fig)
    ax_img, ax_in, ax_out = fig.subplots(1, 3, width_ratios=(1, 1.6, 1.6))
    counts = np.bincount(data.ids // 2, minlength=WIDTH * HEIGHT).reshape(HEIGHT, WIDTH)
    ax_img.imshow(counts, cmap="gray_r")
    ax_img.set_title("events per pixel")
    ax_img.set_axis_off()
    raster(events, ax=ax_in, color="k")
    ax_in.set_title("camera events (channel = (y*34 + x)*2 + p)")
    ax_in.set_ylabel("channel")
    raster(layer, ax=ax_out, color="C0")
    ax_out.set_xlim(ax_in.get_xlim())
    ax_out.set_title(f"layer of {N_LAYER} LIF neurons")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=110)
    print(f"figure: {args.figure}")
    return data, layer


if __name__ == "__main__":
    main()
