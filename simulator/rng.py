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
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C_STREAM = np.uint64(0xD6E8FEB86659FD93)
_C_STEP = np.uint64(0xA0761D6478BD642F)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_ONE = np.uint64(1)

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


# The normal: Box-Muller from ONE hash, in float32, branch-free.
#
# Cost is what matters here: with white noise in every neuron, one normal per neuron and
# step can cost more than the neuron update itself (benchmarks/README.md, "White noise in
# every neuron"). The earlier version hashed twice (two 53-bit uniforms) and ran a
# float64 log (with a division) and cosine, ~4 ns a normal; this one hashes once and
# splits the 64 bits into a 40-bit uniform for the radius and a 24-bit one for the angle,
# and does the transform in float32 (twice the SIMD lanes of float64, half the polynomial
# terms). Within a vectorised neuron loop it costs ~1.2 ns (3.75 ns before).
#
# Precision (the trade-off, stated in :func:`normal`): the value is a float32 result
# (relative error < 5e-7 against the float64 transform of the same two uniforms), and
# |z| <= sqrt(2 * 41 * ln 2) = 7.54 (P(|Z| > 7.54) = 4.7e-14 for a true normal; the old
# 53-bit version reached 8.57). The radius keeps float32 relative precision at both ends:
# in the tails (u small) from the float32 conversion of the 40-bit integer, near z = 0
# (u near 1) from the integer complement of u (see :func:`neg2_log_radius`). A 32-bit
# radius would save ~0.1 ns a normal but stop at |z| = 6.76 (P = 1.3e-11).
#
# Bit-for-bit reproducibility (C, CUDA, any thread count) holds because every step is an
# IEEE float32 operation in a fixed order: + - * sqrt, the int -> float conversions
# (round to nearest), and fused multiply-adds through fma() (exactly rounded by
# definition, so contraction flags do not matter); axonforge.engine.c_printer writes the
# same operations as C (``af_normal``).


@intrinsic
def fma32(typingctx, a, b, c):
    """``a * b + c`` rounded once (llvm.fma; C's ``fmaf``), float32."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    f32 = types.float32
    return f32(f32, f32, f32), codegen


_I32 = llvm_ir.IntType(32)
#: log's range reduction (as in musl's logf): adding 1.0f - sqrt(1/2)f to the bits of x
#: carries into the exponent exactly when the mantissa is >= sqrt(2)
_SQRT_HALF_BITS = 0x3F3504F3
_CENTRE = 0x3F800000 - _SQRT_HALF_BITS
#: bits of the radius's uniform, counting the 1/2 of the midpoint (u = (2b + 1) 2**-41)
_RADIUS_BITS = 41


@intrinsic
def _mantissa32(typingctx, x):
    """The ``m`` of float32 ``x = m * 2**e`` (x > 0) with ``sqrt(1/2) <= m < sqrt(2)``:
    integer operations on the bits of ``x``."""

    def codegen(context, builder, signature, args):
        ix = builder.add(builder.bitcast(args[0], _I32), llvm_ir.Constant(_I32, _CENTRE))
        m = builder.and_(ix, llvm_ir.Constant(_I32, 0x7FFFFF))
        m = builder.add(m, llvm_ir.Constant(_I32, _SQRT_HALF_BITS))
        return builder.bitcast(m, llvm_ir.FloatType())

    return types.float32(types.float32), codegen


@intrinsic
def _exponent32(typingctx, x):
    """The ``e - 41`` (a float32) that goes with :func:`_mantissa32`: the exponent of
    ``x * 2**-41``, the scale of the radius's uniform (:func:`normal`)."""

    def codegen(context, builder, signature, args):
        ix = builder.add(builder.bitcast(args[0], _I32), llvm_ir.Constant(_I32, _CENTRE))
        e = builder.ashr(ix, llvm_ir.Constant(_I32, 23))
        e = builder.sub(e, llvm_ir.Constant(_I32, 127 + _RADIUS_BITS))
        return builder.sitofp(e, llvm_ir.FloatType())

    return types.float32(types.float32), codegen


def _f32(values):
    return tuple(np.float32(v) for v in values)


#: -2 log(1 + f) / f for sqrt(1/2) - 1 <= f < sqrt(2) - 1, ascending powers of f: a degree-7
#: near-minimax fit (least squares on Chebyshev nodes, iteratively reweighted), rounded to
#: float32; relative error of -2 log(1 + f) < 3.1e-7 in float32 with FMA (the whole radius:
#: < 5e-7, tests/simulator/test_noise.py)
LOG_POLY = _f32(
    (
        -1.9999998807907104,
        1.000006914138794,
        -0.6667121648788452,
        0.49943119287490845,
        -0.39768484234809875,
        0.3442489206790924,
        -0.3267618715763092,
        0.20757167041301727,
    )
)
#: sin(pi w) / w in powers of s = w^2, |w| <= 1/2, ascending: degree 4, fitted the same way;
#: absolute error of sin(pi w) < 1.6e-7
SIN_POLY = _f32(
    (
        3.1415927410125732,
        -5.167710304260254,
        2.5500776767730713,
        -0.5982921719551086,
        0.07765940576791763,
    )
)
_M2LN2 = np.float32(-2.0 * math.log(2.0))  # -2 ln 2
_ONE32 = np.float32(1.0)
_ZERO32 = np.float32(0.0)
#: y ^ _COMPLEMENT = 2**41 - y for an odd y < 2**41 (flips bits 1..40)
_COMPLEMENT = np.uint64(2**41 - 2)
_NEG_TO_UNIT = np.float32(-(2.0**-_RADIUS_BITS))
_MID24 = np.float32(8388607.5)  # (2**24 - 1) / 2: centres the 24-bit angle
_TO_HALF = np.float32(2.0**-24)
_NORMAL_SALT = np.uint64(0x2545F4914F6CDD1D)
_MASK24 = np.uint64(0xFFFFFF)
_S23 = np.uint64(23)


@njit(cache=True, inline="always")
def neg2_log_radius(y):
    """``-2 log u`` (the Box-Muller radius squared, float32) for ``u = y 2**-41``, ``y`` an
    odd uint64 below ``2**41``; branch-free. ``u = m 2**e`` with ``m`` in [sqrt(1/2),
    sqrt(2)) (the bits of ``float32(y)``), then ``-2 log m`` by a polynomial in ``f = m - 1``
    evaluated by Estrin's scheme (a dependency chain 3 FMAs deep instead of Horner's 7:
    in a vectorised loop the normal's cost is mostly its latency). For
    ``u >= sqrt(1/2)`` (``e == 0``) ``f = u - 1`` is taken from the complement ``2**41 - y``
    instead: float32(y) would round ``u`` near 1 to a multiple of 2**-24 and so lose the
    radii below ~3e-4; the complement keeps ``1 - u`` to float32 relative precision."""
    x = np.float32(np.int64(y))
    e = _exponent32(x)  # -41..0
    near_one = np.float32(np.int64(y ^ _COMPLEMENT)) * _NEG_TO_UNIT  # u - 1, exact scaling
    f = near_one if e == _ZERO32 else _mantissa32(x) - _ONE32  # (Sterbenz: exact)
    c = LOG_POLY
    f2 = f * f
    f4 = f2 * f2
    lo = fma32(fma32(c[3], f, c[2]), f2, fma32(c[1], f, c[0]))
    hi = fma32(fma32(c[7], f, c[6]), f2, fma32(c[5], f, c[4]))
    return fma32(f, fma32(hi, f4, lo), e * _M2LN2)


@njit(cache=True, inline="always")
def sin_half_turn(w):
    """``sin(pi w)`` for a float32 ``|w| <= 1/2``: an odd polynomial, branch-free."""
    s = w * w
    c = SIN_POLY
    s2 = s * s
    return w * fma32(fma32(c[4], s2, fma32(c[3], s, c[2])), s2, fma32(c[1], s, c[0]))


@njit(cache=True, inline="always")
def normal(key, index):
    """A standard normal for element ``index`` under a step key: Box-Muller with one
    hash. Bits 24-63 give the radius ``sqrt(-2 log u)`` with ``u = (b + 1/2) 2**-40`` (so
    0 < u < 1), bits 0-23 the angle: ``sin(pi w)`` with ``w`` uniform on the midpoints of
    (-1/2, 1/2) has the law of ``cos(2 pi v)`` (each value is taken twice per turn), and
    its sign comes with it. Computed in float32 (relative error < 5e-7) and returned as a
    float64; ``|z| <= 7.54``. The hash is salted so that ``normal(key, i)`` and
    ``uniform(key, i)`` are not made from the same bits."""
    # unsigned arithmetic: Numba makes uint64 * int64 a float64
    h = mix64((key ^ _NORMAL_SALT) + (np.uint64(index) + _ONE) * _GOLDEN)
    # y = 2b + 1 < 2**41: an int64, whose conversion to float32 is one instruction
    r2 = neg2_log_radius((h >> _S23) | _ONE)
    w = (np.float32(np.int64(h & _MASK24)) - _MID24) * _TO_HALF  # exact
    return float(np.sqrt(r2) * sin_half_turn(w))


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
