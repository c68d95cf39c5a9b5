"""Figures from monitors: spike rasters, population rates and state traces, astrocytes'
calcium and IP3 under the neurons (matplotlib).

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
    """Raster plot of a spike monitor (or a loaded recording): time [s] against neuron id.

    Keyword arguments go to matplotlib's ``plot`` (``markersize``/``ms``, ``color``/``c``,
    ``marker``, ...); ``s=`` (a marker area in points^2, as for ``scatter``) is accepted
    too.
    """
    ax = _axes(ax)
    t, i = np.asarray(spikes.times), np.asarray(spikes.ids)
    if len(t) > max_points:  # keep huge rasters drawable; a uniform subsample keeps density
        pick = np.random.default_rng(0).choice(len(t), max_points, replace=False)
        t, i = t[pick], i[pick]
    style = {"marker": ".", "markersize": 1.0, "color": "k"}
    aliases = {"ms": "markersize", "c": "color", "mfc": "markerfacecolor"}
    for key, value in kwargs.items():
        if key == "s":  # scatter's marker area [pt^2] -> plot's marker size [pt]
            style["markersize"] = float(np.sqrt(value))
        else:
            style[aliases.get(key, key)] = value
    ax.plot(t, i, ls="", **style)
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


def trace(monitor, variable, ax=None, scale=None, unit=None, **kwargs):
    """Traces of ``variable`` from a state or weight monitor, one line per recorded
    element. By default the values are shown in a readable unit of the variable's own
    (``v`` in mV, a current in pA, ...); give ``scale`` and ``unit`` to choose."""
    ax = _axes(ax)
    data = np.asarray(monitor[variable])
    if scale is None:
        scale, unit = display_unit(monitor, variable, data)
    ax.plot(monitor.t, data * scale, **kwargs)
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{variable} [{unit}]" if unit else variable)
    return ax


def display_unit(monitor, variable, data=None):
    """``(scale, label)`` for showing ``variable`` of ``monitor``: its SI unit from the
    model (state variables) or the port (weights), with the prefix that suits the data's
    magnitude; ``(1, "")`` when the unit is unknown (e.g. a loaded recording)."""
    from axonforge.models.base import port_unit
    from axonforge.models.ranges import UNITS, prefix

    unit = None
    pop = getattr(monitor, "pop", None)
    proj = getattr(monitor, "proj", None)
    if proj is not None and variable == "w":
        unit = port_unit(proj.post_pop.checked.spec, proj.port)
    elif pop is not None and getattr(pop, "is_neuron", False):
        entry = pop.checked.spec.state.get(variable)
        unit = entry[1] if entry else None
    if unit not in UNITS:
        return 1.0, unit or ""
    peak = float(np.max(np.abs(data))) if data is not None and np.size(data) else 0.0
    if peak == 0:
        return 1.0, unit
    label, scale = prefix(peak, unit)
    return 1.0 / scale, label


def summary(spikes=None, rates=None, states=None, variable="v", path=None, title=None, glia=None):
    """A stacked figure of whichever monitors are given; saved to ``path`` if given.
    ``glia``: a state monitor of astrocytes; each variable it records (e.g. ``ca`` and
    ``ip3``, in uM) gets a panel under the neurons'."""
    import matplotlib.pyplot as plt

    glia_vars = list(glia.variables) if glia is not None else []
    panels = [p for p in (spikes, rates, states) if p is not None] + glia_vars
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(8, 2.6 * len(panels)), sharex=True, squeeze=False
    )
    axes = list(axes[:, 0])
    if spikes is not None:
        raster(spikes, axes.pop(0))
    if rates is not None:
        rate(rates, axes.pop(0))
    if states is not None:
        trace(states, variable, axes.pop(0))
    for var in glia_vars:
        trace(glia, var, axes.pop(0), lw=0.8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
