"""Input models: spike replay, Poisson generators and injected step currents (data only).

Timing rules (stated here, enforced by the simulator):

* ``SpikeSource`` times are rounded to the nearest multiple of ``dt`` (half-way cases
  round up); a spike at grid time ``t`` is emitted in the step that ends at ``t``, like a
  neuron spike, so its targets feel it in the step ending at ``t + delay``. Several
  spikes of one source in one step are merged into one; the number merged is reported
  (``population.merged_spikes``) and warned about.
* ``SpikeStream`` follows the same rule for spikes streamed from disk in windows.
* ``PoissonSource`` draws, for every source and step, a Poisson count with mean
  ``rate * dt`` (as NEST's ``poisson_generator``); a count of ``k`` delivers ``k`` times
  the weight and appears ``k`` times in a spike monitor.
* ``NoiseSource`` emits, every ``period``, one event per source whose amplitude is drawn
  from N(mean, std); a projection delivers amplitude x weight. With delta kinetics and
  weight 1 mV this is the thalamic noise of Izhikevich (2003).
* ``StepCurrent`` sets the target's ``i_offset`` parameter at the given times (rounded to
  the grid like spike times); it is the analogue of NEST's ``step_current_generator``.
"""

from __future__ import annotations

import numpy as np


def _as_1d(name, value, dtype, owner):
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{owner}: {name} must be 1-D, got shape {arr.shape}")
    try:
        out = arr.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{owner}: {name} must be numeric ({exc})") from None
    if np.issubdtype(dtype, np.floating) and not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{owner}: {name}[{bad}] is not finite ({out[bad]})")
    return out


class SpikeSource:
    """Replays given spikes: ``SpikeSource(times=[s], ids=[int])``.

    Parameters
    ----------
    times : array of float [s]
        Spike times, any order; must be >= 0.
    ids : array of int, optional
        Source index of each spike (default: all 0). ``n`` of the population must exceed
        the largest id.
    """

    def __init__(self, times, ids=None):
        self.times = _as_1d("times", times, np.float64, "SpikeSource")
        if ids is None:
            self.ids = np.zeros(len(self.times), dtype=np.int64)
        else:
            raw = np.asarray(ids)
            if raw.size and not np.issubdtype(raw.dtype, np.integer):
                if not np.all(np.asarray(raw, float) == np.round(np.asarray(raw, float))):
                    raise TypeError("SpikeSource: ids must be integers")
            self.ids = _as_1d("ids", raw, np.int64, "SpikeSource")
        if len(self.ids) != len(self.times):
            raise ValueError(
                f"SpikeSource: times has {len(self.times)} entries but ids has "
                f"{len(self.ids)}; give one id per spike time"
            )
        if len(self.times) and self.times.min() < 0:
            bad = int(np.argmin(self.times))
            raise ValueError(f"SpikeSource: times[{bad}] = {self.times[bad]} s is negative")
        if len(self.ids) and self.ids.min() < 0:
            raise ValueError("SpikeSource: ids must be >= 0")

    def __repr__(self):
        return f"SpikeSource({len(self.times)} spikes)"


class SpikeStream:
    """Replays spikes streamed from disk in windows, for recordings too long to hold in
    memory: ``SpikeStream("recording.h5")``.

    The source is a spike-stream file (HDF5 with ``times`` [s], sorted, and ``ids``; write
    one with :func:`axonforge.streaming.write_stream` or convert any recording with
    ``axonforge.streaming.write_stream(path, axonforge.read_spikes(...))``), or spikes
    already in memory (a :class:`~axonforge.SpikeData`, or ``(times, ids)``). The timing
    rule is :class:`SpikeSource`'s (nearest step end, half-way up; spikes of one source in
    one step merged and counted). Only one window of ``block`` spikes is in memory at a
    time; the simulator refills it between chunks (:mod:`axonforge.streaming`).

    Parameters
    ----------
    source : str or path, SpikeData, or (times, ids)
    start, stop : float [s], optional
        Replay only spikes with ``start <= t < stop`` (recording time, before ``shift``).
    shift : float [s]
        Added to every replayed time (recording time ``t`` is replayed at ``t + shift``).
    block : int
        Spikes held in memory at a time (grown automatically if one chunk needs more).
    validate : bool
        Check the whole file once, block by block, when the population is created
        (sorted, finite, non-negative times; ids in range), so that a bad file fails
        before the run instead of half-way through it. Default True.
    """

    def __init__(self, source, start=None, stop=None, shift=0.0, block=1 << 18, validate=True):
        if isinstance(source, tuple):
            if len(source) != 2:
                raise ValueError("SpikeStream: in-memory spikes are given as (times, ids)")
            spikes = SpikeSource(*source)
            self.source = (spikes.times, spikes.ids)
        else:
            self.source = source
        for name, value in (("start", start), ("stop", stop)):
            if value is not None and not np.isfinite(value):
                raise ValueError(f"SpikeStream: {name} must be finite, got {value!r}")
        if start is not None and stop is not None and stop <= start:
            raise ValueError(f"SpikeStream: stop ({stop} s) must be after start ({start} s)")
        if not np.isfinite(shift):
            raise ValueError(f"SpikeStream: shift must be finite, got {shift!r}")
        if isinstance(block, bool) or int(block) != block or block < 1:
            raise ValueError(f"SpikeStream: block must be a positive integer, got {block!r}")
        self.start, self.stop, self.shift = start, stop, float(shift)
        self.block, self.validate = int(block), bool(validate)

    def __repr__(self):
        what = self.source if isinstance(self.source, str) else type(self.source).__name__
        return f"SpikeStream({what!r}, block={self.block})"


class PoissonSource:
    """Independent Poisson spike trains, one per source neuron.

    Parameters
    ----------
    rate : float or array [Hz]
        Constant rate (scalar or one per neuron), or, with ``rate_times``, an array of
        shape ``(len(rate_times),)`` or ``(len(rate_times), n)``: piecewise-constant
        rates, ``rate[j]`` holding from ``rate_times[j]`` on (rate 0 before the first).
    rate_times : array of float [s], optional
        Increasing change times for a time-varying rate.
    """

    def __init__(self, rate, rate_times=None):
        rate = np.asarray(rate, dtype=np.float64)
        if rate_times is None:
            if rate.ndim > 1:
                raise ValueError("PoissonSource: a constant rate is a scalar or a 1-D array")
            self.rate_times = np.zeros(1)
            self.rates = rate.reshape(1, -1)
        else:
            self.rate_times = _as_1d("rate_times", rate_times, np.float64, "PoissonSource")
            if np.any(np.diff(self.rate_times) <= 0):
                raise ValueError("PoissonSource: rate_times must be strictly increasing")
            if rate.ndim == 1 and len(rate) == len(self.rate_times):
                rate = rate.reshape(-1, 1)
            if rate.ndim != 2 or rate.shape[0] != len(self.rate_times):
                raise ValueError(
                    f"PoissonSource: rate has shape {rate.shape}; with "
                    f"{len(self.rate_times)} rate_times it must be "
                    f"({len(self.rate_times)},) or ({len(self.rate_times)}, n)"
                )
            self.rates = rate
        if not np.all(np.isfinite(self.rates)) or np.any(self.rates < 0):
            raise ValueError("PoissonSource: rates must be finite and >= 0 Hz")

    def __repr__(self):
        return f"PoissonSource(rates {self.rates.shape}, {len(self.rate_times)} segment(s))"


class NoiseSource:
    """Random input events: every ``period`` [s] each source emits an event of amplitude
    ``mean + std * X`` (independent across sources and periods), X standard normal
    (``distribution="normal"``) or uniform with unit variance (``"uniform"``: X uniform
    in [-sqrt(3), sqrt(3)), e.g. Izhikevich's ``13*(rand - 0.5)`` is ``std = 13/sqrt(12)``).

    Connected with ``OneToOne`` and weight ``w``, target ``i`` receives ``amplitude * w``
    through the port. ``period`` must be a multiple of ``dt`` (default: every step).
    """

    DISTRIBUTIONS = ("normal", "uniform")

    def __init__(self, std, mean=0.0, period=None, distribution="normal"):
        if not np.isfinite(std) or std < 0 or not np.isfinite(mean):
            raise ValueError("NoiseSource: std must be finite and >= 0, mean finite")
        if period is not None and not period > 0:
            raise ValueError("NoiseSource: period must be > 0 seconds")
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(
                f"NoiseSource: distribution must be one of {self.DISTRIBUTIONS}, "
                f"got {distribution!r}"
            )
        self.std, self.mean, self.period = float(std), float(mean), period
        self.distribution = distribution

    def __repr__(self):
        return (
            f"NoiseSource(mean={self.mean}, std={self.std}, period={self.period}, "
            f"distribution={self.distribution!r})"
        )


class StepCurrent:
    """A piecewise-constant current: ``amplitudes[j]`` [A] from ``times[j]`` [s] on.

    Injected into a population (or view) with ``net.inject(StepCurrent(...), target)``;
    it sets the targets' ``i_offset`` at each time (NEST ``step_current_generator``).
    """

    def __init__(self, times, amplitudes):
        self.times = _as_1d("times", times, np.float64, "StepCurrent")
        self.amplitudes = _as_1d("amplitudes", amplitudes, np.float64, "StepCurrent")
        if len(self.times) != len(self.amplitudes):
            raise ValueError("StepCurrent: times and amplitudes must have the same length")
        if np.any(np.diff(self.times) <= 0) or (len(self.times) and self.times[0] < 0):
            raise ValueError("StepCurrent: times must be >= 0 and strictly increasing")


def DCSource(amplitude, start=0.0, stop=None) -> StepCurrent:
    """A constant current ``amplitude`` [A] from ``start`` to ``stop`` [s] (PyNN's DCSource)."""
    if stop is None:
        return StepCurrent([start], [amplitude])
    if stop <= start:
        raise ValueError("DCSource: stop must be after start")
    return StepCurrent([start, stop], [amplitude, 0.0])
