"""Encoding sampled signals (behaviour, stimuli, sensor traces) as spikes.

Send-on-delta
-------------
:func:`send_on_delta` reports a signal only when it has moved by a fixed step since the
last report: the send-on-delta (level-crossing) sampling of Miskowicz (2006),
"Send-on-delta concept: an event-based data reporting strategy", Sensors 6:49-63
(https://doi.org/10.3390/s6010049). The same idea -- transmit a unit's change only when it
exceeds a threshold -- underlies the delta networks of Neil, Lee, Delbruck and Liu (2017),
"Delta networks for optimized recurrent network computation", ICML, PMLR 70:2584-2593.

Rule, per channel ``c`` with threshold ``theta_c`` (all in the signal's unit):

* the reconstruction (the receiver's copy) starts at the first sample,
  ``ref = x[0]``, and the first sample emits nothing;
* at every later sample ``i`` the reference moves by whole steps towards the signal until
  ``|x[i] - ref| < theta_c``; each step up is one event of unit ``2c`` ("up"), each step
  down one event of unit ``2c + 1`` ("down"). So ``ref = x[0] + theta_c * (ups - downs)``
  and the reconstruction is within ``theta_c`` of the signal at every sample (checked
  after encoding, in floating point, exactly as :meth:`DeltaEncoding.reconstruct`
  computes it).

A jump of several thresholds in one sample gives several events of one unit **at the same
time** (the sample's time); they are not spread. A :class:`~axonforge.models.SpikeSource`
delivers them as one spike in that step (it merges duplicates and counts them in
``merged_spikes``), so a network sees fewer steps than the encoding has events: the
report gives the number of such samples (``multi_event_samples``) and the largest number
of events one channel emitted in one sample. Lower the threshold's ratio to the signal's
largest per-sample change, or sample faster, to avoid them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit

from axonforge.readers import SpikeData, _finish

__all__ = ["DeltaEncoding", "send_on_delta"]


@njit(cache=True)
def _delta_levels(x, theta):  # pragma: no cover - compiled
    """Integer level ``k[i, c]`` of the reconstruction ``x[0, c] + theta[c] * k[i, c]``."""
    n, m = x.shape
    levels = np.zeros((n, m), np.int64)
    for c in range(m):
        x0, th = x[0, c], theta[c]
        k = 0
        for i in range(1, n):
            d = x[i, c] - (x0 + th * k)
            if d >= th or d <= -th:
                k += int(np.floor(abs(d) / th)) * (1 if d > 0 else -1)
                # floating-point touch-up: at most a step or two either way
                while x[i, c] - (x0 + th * k) >= th:
                    k += 1
                while (x0 + th * k) - x[i, c] >= th:
                    k -= 1
            levels[i, c] = k
    return levels


@dataclasses.dataclass(frozen=True, eq=False)
class DeltaEncoding:
    """The result of :func:`send_on_delta`.

    Attributes
    ----------
    spikes : SpikeData
        Events [s]: unit ``2c`` for a step up of channel ``c``, ``2c + 1`` for a step down;
        ``SpikeSource(times=enc.spikes.times, ids=enc.spikes.ids)`` with
        ``n=enc.spikes.n_units`` replays them.
    times : float64 array [s], the sample times
    signal : float64 array ``(samples, channels)``, the encoded signal
    threshold : float64 array ``(channels,)``
    levels : int64 array ``(samples, channels)``, ups minus downs so far
    """

    spikes: SpikeData
    times: np.ndarray
    signal: np.ndarray
    threshold: np.ndarray
    levels: np.ndarray
    one_dimensional: bool = False

    @property
    def n_samples(self) -> int:
        return self.signal.shape[0]

    @property
    def n_channels(self) -> int:
        return self.signal.shape[1]

    @property
    def n_events(self) -> int:
        return self.spikes.n_spikes

    @property
    def sparsity(self) -> float:
        """Events per sample and channel (1.0: one event for every sample)."""
        return self.n_events / max(1, self.n_samples * self.n_channels)

    @property
    def events_per_sample(self) -> np.ndarray:
        """``(samples, channels)`` number of events each channel emitted at each sample."""
        return np.abs(np.diff(self.levels, axis=0, prepend=self.levels[:1]))

    def _shape(self, a):
        return a[:, 0] if self.one_dimensional else a

    def reconstruct(self, times=None) -> np.ndarray:
        """The staircase reconstruction ``x[0] + threshold * (ups - downs)``: at the sample
        times (default), or held from the last sample at or before each of ``times``
        (earlier times get the first sample's value)."""
        rec = self.signal[0] + self.threshold * self.levels
        if times is None:
            return self._shape(rec)
        t = np.asarray(times, np.float64)
        at = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, None)
        out = rec[at.ravel()].reshape(*t.shape, self.n_channels)
        return out[..., 0] if self.one_dimensional else out

    @property
    def errors(self) -> np.ndarray:
        return self.signal - (self.signal[0] + self.threshold * self.levels)

    @property
    def max_error(self):
        """Largest ``|signal - reconstruction|`` per channel (a float for a 1-D signal)."""
        e = np.max(np.abs(self.errors), axis=0)
        return float(e[0]) if self.one_dimensional else e

    @property
    def rmse(self):
        """Root-mean-square reconstruction error per channel (a float for a 1-D signal)."""
        e = np.sqrt(np.mean(self.errors**2, axis=0))
        return float(e[0]) if self.one_dimensional else e

    @property
    def multi_event_samples(self) -> int:
        """(sample, channel) pairs with more than one event at the same time."""
        return int(np.sum(self.events_per_sample > 1))

    def report(self) -> str:
        """A short text summary: events, sparsity, errors against the thresholds."""
        per = self.events_per_sample
        ids = self.spikes.ids
        ups, downs = int(np.sum(ids % 2 == 0)), int(np.sum(ids % 2 == 1))
        span = self.times[-1] - self.times[0] if self.n_samples > 1 else 0.0
        maxerr = np.atleast_1d(self.max_error)
        lines = [
            f"send-on-delta: {self.n_channels} channel(s) x {self.n_samples} samples "
            f"over {span:.6g} s",
            f"  threshold     {np.array2string(self.threshold, precision=4)}",
            f"  events        {self.n_events} ({ups} up, {downs} down) on "
            f"{self.spikes.n_units} units",
            f"  sparsity      {self.sparsity:.4g} events per sample and channel",
            f"  max |error|   {np.array2string(maxerr, precision=4)} "
            f"(< threshold: {bool(np.all(maxerr < self.threshold))})",
            f"  rmse          {np.array2string(np.atleast_1d(self.rmse), precision=4)}",
            f"  same-time     {self.multi_event_samples} (sample, channel) pair(s) with more "
            f"than one event (at most {int(per.max()) if per.size else 0}); a SpikeSource "
            "merges them into one spike per step",
        ]
        return "\n".join(lines)

    def __repr__(self):
        return (
            f"DeltaEncoding({self.n_events} events, {self.n_channels} channel(s), "
            f"{self.n_samples} samples, sparsity={self.sparsity:.3g})"
        )


def _fail(problem):
    return ValueError(f"send_on_delta: {problem}")


def send_on_delta(
    signal, threshold, times=None, rate=None, t_start=None, labels=None
) -> DeltaEncoding:
    """Encode a sampled signal as up/down events, one per threshold crossed.

    Parameters
    ----------
    signal : array ``(samples,)`` or ``(samples, channels)``, finite
    threshold : float or array ``(channels,)``, > 0, in the signal's unit
    times : array ``(samples,)`` [s], strictly increasing; or give ``rate``
    rate : float [Hz], sample rate when ``times`` is None
    t_start : float [s] or None
        With ``rate``: the first sample's time (default 0). With ``times``: None keeps
        the given clock, a number shifts the times so the first sample is at ``t_start``.
    labels : sequence of str, one per channel (default ``"ch0"``, ``"ch1"``, ...); the
        units are labelled ``"<label>+"`` (up) and ``"<label>-"`` (down).

    Returns
    -------
    DeltaEncoding
        Channel ``c`` gives unit ``2c`` (up) and ``2c + 1`` (down); see the module
        docstring for the rule and its sources.
    """
    x = np.array(signal, dtype=np.float64)  # a copy: frozen below, the caller's stays
    one_d = x.ndim == 1
    if one_d:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise _fail(f"signal must be (samples,) or (samples, channels), got {np.shape(signal)}")
    n, m = x.shape
    bad = ~np.isfinite(x)
    if bad.any():
        i, c = np.argwhere(bad)[0]
        raise _fail(
            f"{int(bad.sum())} signal value(s) not finite (first: sample {i}, channel {c}, "
            f"{x[i, c]}); fill or cut the gaps first"
        )
    theta = np.array(threshold, dtype=np.float64)
    if theta.ndim == 0:
        theta = np.full(m, float(theta))
    if theta.shape != (m,):
        raise _fail(f"threshold must be a number or {m} values, got shape {theta.shape}")
    if not np.all(np.isfinite(theta) & (theta > 0)):
        raise _fail(f"thresholds must be finite and > 0, got {theta}")
    if (times is None) == (rate is None):
        raise _fail("give exactly one of times= (sample times [s]) and rate= [Hz]")
    if times is not None:
        t = np.array(times, dtype=np.float64)
        if t.shape != (n,):
            raise _fail(f"{t.size} times for {n} samples")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise _fail("times must be finite and strictly increasing")
        if t_start is not None:
            t = t - t[0] + float(t_start)
    else:
        rate = float(rate)
        if not (np.isfinite(rate) and rate > 0):
            raise _fail(f"rate must be finite and > 0, got {rate}")
        t = (0.0 if t_start is None else float(t_start)) + np.arange(n) / rate
    if t[0] < 0:
        raise _fail(f"the first sample is at {t[0]} s; spike times must be >= 0 (use t_start)")
    if labels is None:
        labels = [f"ch{c}" for c in range(m)]
    labels = [str(v) for v in labels]
    if len(labels) != m:
        raise _fail(f"{len(labels)} labels for {m} channels")
    # too small a threshold for float64 steps: the level count would lose the signal
    scale = np.max(np.abs(x), axis=0)
    if np.any(theta < scale * 1e-12):
        raise _fail("a threshold below 1e-12 of its signal's magnitude cannot be resolved")

    levels = _delta_levels(np.ascontiguousarray(x), theta)
    rec = x[0] + theta * levels
    if np.any(np.abs(x - rec) >= theta):  # guaranteed by the loop; a cheap guard
        raise _fail("floating-point reconstruction left a sample a full threshold away")
    step = np.diff(levels, axis=0)  # (n-1, m): events at samples 1..n-1
    counts = np.abs(step).ravel()
    units = (2 * np.arange(m)[None, :] + (step < 0)).ravel()
    sample = np.repeat(np.arange(1, n), m)
    ev_times = np.repeat(t[sample], counts)
    ev_ids = np.repeat(units, counts)
    unit_labels = np.array([f"{lab}{sign}" for lab in labels for sign in "+-"])
    meta = {
        "encoding": "send_on_delta",
        "threshold": theta.tolist(),
        "channels": labels,
        "transforms": [f"send_on_delta({n} samples x {m} channels)"],
    }
    spikes = _finish("<send_on_delta>", "delta", ev_times, ev_ids, 2 * m, unit_labels,
                     duration=t[-1], meta=meta)  # fmt: skip
    for a in (t, x, theta, levels):
        a.setflags(write=False)
    return DeltaEncoding(spikes, t, x, theta, levels, one_dimensional=one_d)
