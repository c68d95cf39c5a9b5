"""Counter-based random numbers for kernels: a pure function of (seed, stream, step, index).

Because every draw is a hash of its coordinates, results do not depend on thread count,
chunking, backend or checkpoint/restore: a restored network needs no RNG state, only its
step counter. The mixer is the SplitMix64 finaliser (Steele, Lea & Flood 2014, "Fast
splittable pseudorandom number generators", OOPSLA), applied to a unique counter; this is
the construction of SplitMix64 itself, which passes BigCrush.

Host-side draws use the same functions: connectivity (:mod:`axonforge.connectivity`) and
values from distributions (:mod:`axonforge.draws`, keyed by element).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C_STREAM = np.uint64(0xD6E8FEB86659FD93)
_C_STEP = np.uint64(0xA0761D6478BD642F)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

#: stream of the white noise ``xi`` of neuron population P: XI_STREAM + P; of its
#: ``rand()``/``randn()`` calls: RANDOM_STREAM + P (apart from the populations' own streams,
#: 1, 2, ..., and connectivity's, 2**40 + ...)
XI_STREAM = 3 << 40
RANDOM_STREAM = 5 << 40


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finaliser of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def step_key(seed, stream, step):
    """Hash of (seed, stream, step): one per population and time step."""
    h = mix64(np.uint64(seed) ^ (np.uint64(stream) * _C_STREAM))
    return mix64(h ^ (np.uint64(step) * _C_STEP))


@njit(cache=True, inline="always")
def uniform(key, index):
    """A uniform double in [0, 1) for element ``index`` under a step key."""
    h = mix64(key + (np.uint64(index) + np.uint64(1)) * _GOLDEN)
    # the top 53 bits fit an int64, whose conversion to double is one instruction
    return float(np.int64(h >> _S11)) * _TO_UNIT


@njit(cache=True, inline="always")
def poisson(key, index, lam, exp_neg_lam):
    """A Poisson(lam) count by inversion with one uniform (lam <= 50 is enforced upstream)."""
    if lam <= 0.0:
        return 0
    u = uniform(key, index)
    p = exp_neg_lam
    s = p
    c = 0
    while u > s and c < 1000:
        c += 1
        p *= lam / c
        s += p
    return c


@njit(cache=True, inline="always")
def normal(key, index):
    """A standard normal by Box-Muller from two uniforms of element ``index``."""
    u1 = 1.0 - uniform(key, 2 * index)  # in (0, 1]
    u2 = uniform(key, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def poisson_cdf_table(lam: np.ndarray) -> np.ndarray:
    """Cumulative Poisson probabilities ``P(N <= j)`` for each mean in ``lam`` (rows), long
    enough that the last entry is 1 to double precision, so that the count for a uniform
    ``u < 1`` is exactly ``sum_j (u > cdf[j])`` (inversion without branches)."""
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)
    top = int(np.max(lam, initial=0.0))
    length = top + int(12 * np.sqrt(top + 1)) + 24
    j = np.arange(length)
    from scipy.stats import poisson as _poisson

    table = _poisson.cdf(j[None, :], lam[:, None])
    table[:, -1] = 1.0
    return np.ascontiguousarray(table)


def uniform_host(seed, stream, step, index):
    """The same stream evaluated on the host (for tests of the generator itself)."""
    key = step_key(seed, stream, step)
    return np.array([uniform(key, i) for i in np.atleast_1d(index)])


def exp_neg(lam):
    return math.exp(-lam)
