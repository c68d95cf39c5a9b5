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
_ONE, _TWO = np.uint64(1), np.uint64(2)

#: streams of the white noise of neuron population P: XI_STREAM + P*1024 + r for its r-th
#: normal per neuron and step; of its rand()/randn() call site c: RANDOM_STREAM + P*1024 + c
#: (apart from the populations' own streams, 1, 2, ..., and connectivity's, 2**40 + ...).
#: One key per step and draw keeps the element index alone as the counter: no index
#: arithmetic in the vectorised neuron loop.
XI_STREAM = 3 << 40
RANDOM_STREAM = 5 << 40
DRAWS_PER_POPULATION = 1024


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


# Box-Muller needs log and cos. Library calls keep a loop over neurons scalar (~20 ns a
# normal); these branch-free polynomial versions vectorise (~4 ns) and are plain IEEE
# operations in a fixed order, so the C/CUDA runtime (axonforge.engine.c_printer) computes
# them bit for bit alike. Both are within 2 ulp-scale of the library functions.
_SQRT_HALF = 0.7071067811865476
_LN2 = 0.6931471805599453
#: 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ...), |s| <= 0.172 after range reduction:
#: the terms to s^20 leave < 1e-17
LOG_SERIES = tuple(1.0 / k for k in range(21, 0, -2))
#: Taylor coefficients of cos a and sin a / a in z = a^2, highest first, |a| <= pi/4
COS_SERIES = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(7, -1, -1))
SIN_SERIES = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(7, -1, -1))
#: range reduction of log: u < 2^-p is scaled by 2^p (p = 32, 16, ..., 1), so any
#: u >= 2^-63 lands in [1/2, 1)
_SCALES = tuple((2.0**-p, 2.0**p, float(p)) for p in (32, 16, 8, 4, 2, 1))


@njit(cache=True, inline="always")
def log_unit(u):
    """``log(u)`` for ``0 < u <= 1`` without a library call (branch-free)."""
    e = 0.0
    (t0, f0, p0), (t1, f1, p1), (t2, f2, p2), (t3, f3, p3), (t4, f4, p4), (t5, f5, p5) = _SCALES
    small = u < t0
    u, e = (u * f0, e - p0) if small else (u, e)
    small = u < t1
    u, e = (u * f1, e - p1) if small else (u, e)
    small = u < t2
    u, e = (u * f2, e - p2) if small else (u, e)
    small = u < t3
    u, e = (u * f3, e - p3) if small else (u, e)
    small = u < t4
    u, e = (u * f4, e - p4) if small else (u, e)
    small = u < t5
    u, e = (u * f5, e - p5) if small else (u, e)
    small = u < _SQRT_HALF  # u in [sqrt(1/2), sqrt(2)) from here
    u, e = (u * 2.0, e - 1.0) if small else (u, e)
    s = (u - 1.0) / (u + 1.0)
    z = s * s
    c = LOG_SERIES
    poly = c[0]
    poly = poly * z + c[1]
    poly = poly * z + c[2]
    poly = poly * z + c[3]
    poly = poly * z + c[4]
    poly = poly * z + c[5]
    poly = poly * z + c[6]
    poly = poly * z + c[7]
    poly = poly * z + c[8]
    poly = poly * z + c[9]
    poly = poly * z + c[10]
    return 2.0 * s * poly + e * _LN2


@njit(cache=True, inline="always")
def _series8(c, z):
    return (
        (((((c[0] * z + c[1]) * z + c[2]) * z + c[3]) * z + c[4]) * z + c[5]) * z + c[6]
    ) * z + c[7]


@njit(cache=True, inline="always")
def cos_turn(u):
    """``cos(2 pi u)`` for ``0 <= u < 1`` without a library call (branch-free): reduced by
    symmetry to an angle in [0, pi/4], then a Taylor polynomial of cos or sin."""
    x = abs(u - np.floor(u + 0.5))  # [0, 1/2]
    flip = x > 0.25
    x = 0.5 - x if flip else x  # [0, 1/4]: cos(pi - a) = -cos(a)
    use_sin = x > 0.125
    y = 0.25 - x if use_sin else x  # [0, 1/8]: cos(pi/2 - a) = sin(a)
    a = 2.0 * math.pi * y
    z = a * a
    r = a * _series8(SIN_SERIES, z) if use_sin else _series8(COS_SERIES, z)
    return -r if flip else r


@njit(cache=True, inline="always")
def normal(key, index):
    """A standard normal by Box-Muller from two uniforms of element ``index``."""
    # unsigned arithmetic: Numba makes uint64 * int64 a float64
    j = np.uint64(index) * _TWO
    u1 = 1.0 - uniform(key, j)  # in (0, 1]
    u2 = uniform(key, j + _ONE)
    return math.sqrt(-2.0 * log_unit(u1)) * cos_turn(u2)


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
