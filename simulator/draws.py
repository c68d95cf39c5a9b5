"""Value distributions with counter-based, element-keyed draws.

Every random value (an initial state, a ``set``, a weight, a delay, a rate) is a pure
function of its coordinates, hashed with the SplitMix64 generator of :mod:`axonforge.rng`:

* the network seed;
* a tag for what is drawn (:data:`INIT`, :data:`SET`, :data:`WEIGHT`, :data:`DELAY`,
  :data:`RATE`);
* the owner's stream number (a population's ``stream``, a projection's ``stream``);
* the owner's draw counter (how many distributions were drawn for it before) and the
  network step, so that repeated ``set`` or ``weights =`` calls never repeat values;
* the element's identity: for a neuron its index in the population (not in a view); for
  a synapse the pair (pre, post) of population indices and the occurrence number of that
  pair among multapses.

So a value never depends on which thread, rank, block or view computes it: a subset of
synapses (those onto some targets) gets the values it has in the full build, and two
views of one population get different values. Within one draw, each further request of
the distribution (a second uniform, a redraw of a truncated normal) uses the next call
number under the same keys.

A :class:`Distribution` implements ``sample(rng, size)``; ``rng`` is a
:class:`KeyedDraws`, which offers the usual ``numpy.random.Generator`` methods
(``random``, ``uniform``, ``normal``, ``standard_normal``, ``exponential``,
``lognormal``, ``integers``) with one value per element, and ``select(idx)`` for the
elements a redraw concerns.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from axonforge.rng import mix64, step_key
from axonforge.rng import normal as _n01
from axonforge.rng import uniform as _u01

#: tags of what is drawn
INIT, SET, WEIGHT, DELAY, RATE, POSITIONS = 1, 2, 3, 4, 5, 6
_C_TAG = np.uint64(0x8CB92BA72F3D8DD7)
_C_STEP = np.uint64(0xE7037ED1A0B428DB)
_C_OCC = np.uint64(0x589965CC75374CC3)
_C_CALL = np.uint64(0x1D8E4E27C47D124F)


@njit(cache=True)
def draw_key(seed, tag, stream, count, step):
    """The key of one draw: (seed, tag, owner stream, owner draw counter, network step)."""
    h = step_key(mix64(np.uint64(seed) ^ (np.uint64(tag) * _C_TAG)), stream, count)
    return mix64(h ^ ((np.uint64(step) + np.uint64(1)) * _C_STEP))


@njit(cache=True, inline="always")
def _subkey(key, occ, call):
    """Key of occurrence ``occ`` (multapses) and call ``call`` (further requests)."""
    if occ == 0 and call == 0:
        return key
    return mix64(mix64(key ^ (np.uint64(occ) * _C_OCC)) ^ (np.uint64(call) * _C_CALL))


@njit(cache=True)
def _uniforms(key, index, occ, call, out):
    has_occ = occ.shape[0] > 0
    for j in range(index.shape[0]):
        out[j] = _u01(_subkey(key, occ[j] if has_occ else 0, call), index[j])


@njit(cache=True)
def _normals(key, index, occ, call, out):
    has_occ = occ.shape[0] > 0
    for j in range(index.shape[0]):
        out[j] = _n01(_subkey(key, occ[j] if has_occ else 0, call), index[j])


class KeyedDraws:
    """One value per element for each request, keyed by (key, element, occurrence, call).

    ``key``: a :func:`draw_key`; ``index``: each element's identity (int64); ``occ``: each
    element's occurrence number (int64, or empty: all 0). The methods follow
    ``numpy.random.Generator``; ``size``, if given, must be the number of elements."""

    def __init__(self, key, index, occ=None, _calls=None, context=None):
        self.key = np.uint64(key)
        self.index = np.ascontiguousarray(index, dtype=np.int64)
        empty = np.zeros(0, np.int64)
        self.occ = empty if occ is None else np.ascontiguousarray(occ, dtype=np.int64)
        self._calls = [0] if _calls is None else _calls  # shared with selections
        #: what the elements are, for values written as expressions
        #: (:mod:`axonforge.expressions`): ("neuron", population) or ("synapse", pre
        #: population, post population); None where unknown
        self.context = context

    def __len__(self):
        return len(self.index)

    def select(self, idx) -> KeyedDraws:
        """The draws of elements ``idx`` only (same keys; a request consumes one call
        number for every view of these draws)."""
        occ = self.occ[idx] if len(self.occ) else None
        return KeyedDraws(self.key, self.index[idx], occ, self._calls, self.context)

    def _next(self, fill, size):
        if size is not None and int(np.prod(size)) != len(self.index):
            raise ValueError(
                f"keyed draws give one value per element ({len(self.index)}), "
                f"not size={size}; use rng.select(idx) for a subset"
            )
        call = self._calls[0]
        self._calls[0] += 1
        out = np.empty(len(self.index), np.float64)
        fill(self.key, self.index, self.occ, np.uint64(call), out)
        return out

    def random(self, size=None):
        return self._next(_uniforms, size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return low + (high - low) * self.random(size)

    def standard_normal(self, size=None):
        return self._next(_normals, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return loc + scale * self.standard_normal(size)

    def exponential(self, scale=1.0, size=None):
        return -scale * np.log1p(-self.random(size))  # 1 - u lies in (0, 1]

    def lognormal(self, mean=0.0, sigma=1.0, size=None):
        return np.exp(self.normal(mean, sigma, size))

    def integers(self, low, high=None, size=None):
        low, high = (0, low) if high is None else (low, high)
        return (low + np.floor(self.random(size) * (high - low))).astype(np.int64)


def neuron_draws(owner, tag, ids) -> KeyedDraws:
    """Keyed draws for neurons ``ids`` (population indices) of population ``owner``; takes
    the owner's next draw number."""
    return KeyedDraws(_key(owner, owner.stream, tag), ids, context=("neuron", owner))


def _key(owner, stream, tag):
    count = getattr(owner, "n_draws", 0)
    owner.n_draws = count + 1
    net = owner.net
    return draw_key(net.seed, tag, stream, count, net.step)


def synapse_keys(owner, stream, tag):
    """The key of a draw for a projection's synapses (takes its next draw number)."""
    return _key(owner, stream, tag)


def synapse_draws(key, pre, post, n_post, occ, context=None) -> KeyedDraws:
    """Keyed draws for synapses given by population indices ``pre``, ``post`` and their
    occurrence numbers ``occ`` (the post population has ``n_post`` neurons)."""
    index = np.asarray(pre, np.int64) * np.int64(n_post) + np.asarray(post, np.int64)
    return KeyedDraws(key, index, occ, context=context)


@njit(cache=True)
def stored_ids(ptr, off, n_post, s0, s1):
    """(pre, post, occurrence) of stored synapses ``s0:s1`` of a CSR store whose rows hold
    multapses side by side (every rule but Explicit); ``off % n_post`` is the target."""
    nb = s1 - s0
    pre, post, occ = np.empty(nb, np.int64), np.empty(nb, np.int64), np.zeros(nb, np.int64)
    if nb == 0:
        return pre, post, occ
    r = np.searchsorted(ptr, s0, side="right") - 1
    # the occurrence of s0: equal targets before it in its row
    t0, c, s = off[s0] % n_post, 0, s0 - 1
    while s >= ptr[r] and off[s] % n_post == t0:
        c += 1
        s -= 1
    for j in range(nb):
        s = s0 + j
        while s >= ptr[r + 1]:
            r += 1
        t = off[s] % n_post
        if j > 0:
            c = c + 1 if (s > ptr[r] and pre[j - 1] == r and post[j - 1] == t) else 0
        pre[j], post[j], occ[j] = r, t, c
    return pre, post, occ


@njit(cache=True)
def stored_ids_any(ptr, off, n_post, s0, s1, seen):
    """As :func:`stored_ids` for rows in any target order (an Explicit rule keeps its
    pairs' order): the occurrence counts earlier equal targets of the row. ``seen`` is an
    int64 array of ``n_post`` zeros, returned zeroed."""
    nb = s1 - s0
    pre, post, occ = np.empty(nb, np.int64), np.empty(nb, np.int64), np.zeros(nb, np.int64)
    if nb == 0:
        return pre, post, occ
    r = np.searchsorted(ptr, s0, side="right") - 1
    while ptr[r] < s1:
        end = min(ptr[r + 1], s1)
        for s in range(ptr[r], end):
            t = off[s] % n_post
            if s >= s0:
                pre[s - s0], post[s - s0], occ[s - s0] = r, t, seen[t]
            seen[t] += 1
        for s in range(ptr[r], end):
            seen[off[s] % n_post] = 0
        r += 1
        if r >= ptr.shape[0] - 1:
            break
    return pre, post, occ


# ----------------------------------------------------------------------------- distributions
class Distribution:
    """A random value source: ``sample(rng, size) -> float64 array`` of one value per
    element, where ``rng`` is a :class:`KeyedDraws` (Generator-like, keyed by element)."""

    def sample(self, rng: KeyedDraws, size: int) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class uniform(Distribution):  # noqa: N801 - lowercase like numpy's samplers
    """Uniform on ``[low, high)``."""

    def __init__(self, low, high):
        if not high >= low:
            raise ValueError(f"uniform(low={low}, high={high}): high must be >= low")
        self.low, self.high = float(low), float(high)

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)


class normal(Distribution):  # noqa: N801
    """Gaussian with ``mean`` and ``std``; optionally truncated to ``[low, high]`` by
    redrawing the values outside (each redraw a further keyed call, never a silent clip)."""

    def __init__(self, mean, std, low=-np.inf, high=np.inf):
        if std < 0:
            raise ValueError(f"normal(std={std}): std must be >= 0")
        if not low < high:
            raise ValueError("normal: low must be < high")
        self.mean, self.std, self.low, self.high = float(mean), float(std), low, high

    def sample(self, rng, size):
        out = rng.normal(self.mean, self.std, size)
        bad = np.flatnonzero((out < self.low) | (out > self.high))
        for _ in range(1000):
            if not len(bad):
                return out
            new = rng.select(bad).normal(self.mean, self.std)
            out[bad] = new
            bad = bad[(new < self.low) | (new > self.high)]
        raise ValueError(f"{self!r}: the interval [low, high] holds almost no probability mass")


class lognormal(Distribution):  # noqa: N801
    """Log-normal with the given ``mean`` and ``std`` of the variable itself (not its log)."""

    def __init__(self, mean, std):
        if mean <= 0 or std < 0:
            raise ValueError("lognormal: mean must be > 0 and std >= 0")
        self.mean, self.std = float(mean), float(std)

    def sample(self, rng, size):
        s2 = np.log1p((self.std / self.mean) ** 2)
        return rng.lognormal(np.log(self.mean) - s2 / 2, np.sqrt(s2), size)


class exponential(Distribution):  # noqa: N801
    """Exponential with the given ``mean``."""

    def __init__(self, mean):
        if mean <= 0:
            raise ValueError("exponential: mean must be > 0")
        self.mean = float(mean)

    def sample(self, rng, size):
        return rng.exponential(self.mean, size)


# ------------------------------------------------------------------------------ values
def values(spec, draws, size, what: str, keep_scalar=False):
    """Turn a scalar, array or :class:`Distribution` into ``size`` float64 values.

    ``draws(start, stop)`` gives the :class:`KeyedDraws` of elements ``start:stop`` (called
    only for a distribution). With ``keep_scalar=True`` a scalar comes back as a 0-d
    float64 array instead of being broadcast (callers treat it as shared by all elements).
    """
    kind = value_kind(spec, size, what)
    if kind == "scalar" and keep_scalar:
        return _finite(np.asarray(spec, dtype=np.float64), what, 0)
    if kind == "scalar":
        return _finite(np.full(size, float(spec)), what, 0)
    out = value_block(spec, draws, 0, size, what)
    return out.copy() if kind == "array" else out


def value_kind(spec, size, what: str) -> str:
    """``"dist"``, ``"scalar"`` or ``"array"`` (one value per element); checks the shape."""
    if isinstance(spec, Distribution):
        return "dist"
    if isinstance(spec, str):
        raise TypeError(f"{what}: expected a number, an array or a distribution, got {spec!r}")
    # an ndarray's shape is read without converting it (a copy of a large array)
    arr = spec if isinstance(spec, np.ndarray) else np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        return "scalar"
    if arr.shape != (size,):
        raise ValueError(
            f"{what}: got an array of shape {arr.shape}, expected a scalar or shape ({size},)"
        )
    return "array"


def value_block(spec, draws, start, stop, what: str) -> np.ndarray:
    """Values ``start:stop`` of a distribution (keyed by ``draws(start, stop)``) or an array
    (a view when already float64), checked finite; a scalar gives a length-1 array."""
    if isinstance(spec, Distribution):
        rng = draws(start, stop)
        out = np.asarray(spec.sample(rng, len(rng)), dtype=np.float64).reshape(-1)
        if len(out) != stop - start:
            raise ValueError(
                f"{what}: {spec!r}.sample gave {len(out)} values for {stop - start} elements"
            )
    else:
        arr = np.asarray(spec, dtype=np.float64)
        out = arr.reshape(1) if arr.ndim == 0 else arr[start:stop]
    return _finite(out, what, start)


def _finite(out, what, start):
    if not np.isfinite(out).all():
        flat = np.atleast_1d(out)
        bad = int(np.flatnonzero(~np.isfinite(flat))[0])
        raise ValueError(f"{what}: value {start + bad} is not finite ({flat[bad]})")
    return out
