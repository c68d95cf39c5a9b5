"""Spike-train statistics used to judge network regimes and compare with recordings.

Functions take spike ``times`` [s] and ``ids`` (as a spike monitor or a loaded recording
provides them), or an object with ``.times`` and ``.ids``.
"""

from __future__ import annotations

import numpy as np


def _times_ids(spikes, ids=None):
    if ids is None:
        return np.asarray(spikes.times, float), np.asarray(spikes.ids, np.int64)
    return np.asarray(spikes, float), np.asarray(ids, np.int64)


def isi_cv(spikes, ids=None, min_spikes=3) -> float:
    """Mean coefficient of variation of interspike intervals over the neurons with at
    least ``min_spikes`` spikes (NaN if none). A Poisson process has CV 1, a clock 0;
    Brunel (2000) calls CV > ~0.7 irregular. The per-neuron values are
    :func:`axonforge.analysis.isi_cv`."""
    from axonforge.analysis import isi_cv as per_unit

    cvs = per_unit(spikes, ids=ids, min_spikes=min_spikes)
    cvs = cvs[np.isfinite(cvs)]
    return float(np.mean(cvs)) if len(cvs) else float("nan")


def population_count_cv(spikes, bin_width, ids=None, t_start=0.0) -> float:
    """Coefficient of variation of the population spike count in bins of ``bin_width``
    seconds after ``t_start``: near 0 for asynchronous activity of a large population,
    large for synchronous bursts."""
    t, _ = _times_ids(spikes, ids)
    t = t[t > t_start]
    if len(t) == 0:
        return float("nan")
    counts = np.bincount(((t - t_start) / bin_width).astype(np.int64))
    return float(counts.std() / counts.mean())
