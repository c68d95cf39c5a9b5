"""Figures from monitors: spike rasters, population rates and state traces (matplotlib).

Each function draws on ``ax`` (a new figure if omitted) and returns the axes, so figures
compose; :func:`summary` puts raster, rate and trace panels in one figure.
"""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(8, 3))
    return ax


def raster(spikes, ax=None, max_points=200_000, **kwargs):
    """Raster plot of a spike monitor (or a loaded recording): time [s] against neuron id."""
    ax = _axes(ax)
    t, i = np.asarray(spikes.times), np.asarray(spikes.ids)
    if len(t) > max_points:  # keep huge rasters drawable; a uniform subsample keeps density
        pick = np.random.default_rng(0).choice(len(t), max_points, replace=False)
        t, i = t[pick], i[pick]
    ax.plot(
        t,
        i,
        ls="",
        marker=kwargs.pop("marker", "."),
        ms=kwargs.pop("ms", 1.0),
        color=kwargs.pop("color", "k"),
        **kwargs,
    )
    ax.set_xlabel("time [s]")
    ax.set_ylabel("neuron")
    return ax


def rate(monitor, ax=None, width=5e-3, **kwargs):
    """Population rate [Hz] of a rate monitor, smoothed with a ``width``-second box."""
    ax = _axes(ax)
    ax.plot(monitor.t, monitor.smooth_rate(width), **kwargs)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("rate [Hz]")
    return ax


def trace(monitor, variable, ax=None, scale=1.0, unit="", **kwargs):
    """Traces of ``variable`` from a state monitor, one line per recorded neuron."""
    ax = _axes(ax)
    ax.plot(monitor.t, monitor[variable] * scale, **kwargs)
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{variable} [{unit}]" if unit else variable)
    return ax


def summary(spikes=None, rates=None, states=None, variable="v", path=None, title=None):
    """A stacked figure of whichever monitors are given; saved to ``path`` if given."""
    import matplotlib.pyplot as plt

    panels = [p for p in (spikes, rates, states) if p is not None]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(8, 2.6 * len(panels)), sharex=True, squeeze=False
    )
    axes = list(axes[:, 0])
    if spikes is not None:
        raster(spikes, axes.pop(0))
    if rates is not None:
        rate(rates, axes.pop(0))
    if states is not None:
        trace(states, variable, axes.pop(0), scale=1e3, unit="mV" if variable == "v" else "")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
