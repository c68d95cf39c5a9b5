"""Functions generated Numba kernels call besides :mod:`axonforge.rng`: the NaN rule of
``min``/``max`` (a NaN argument gives NaN, in every target; see
:mod:`axonforge.engine.printers`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


@njit(cache=True, inline="always")
def nan_min(a, b):
    return a if (a < b or a != a) else b


@njit(cache=True, inline="always")
def nan_max(a, b):
    return a if (a > b or a != a) else b


@intrinsic
def _bits_to_f64(typingctx, bits):
    """Reinterpret an int64 as the float64 with the same bits (one LLVM bitcast)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10  # Cody-Waite split of ln 2
#: Taylor coefficients of exp(r), highest first, |r| <= ln(2)/2: error < 1e-16
EXP_SERIES = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))


@njit(cache=True, inline="always")
def fast_exp(x):
    """``exp(x)`` without a library call, so that loops calling it vectorise (~1 ns
    instead of ~4 ns): ``2^k * p(r)`` with ``x = k ln 2 + r``, the power of two built
    from its bits. Within 1 ulp of ``math.exp`` for -708 <= x <= 709; smaller x give
    about 2.2e-308 (not subnormals or 0), larger ones about 8e307 (not inf). Used where
    those limits do not matter (connection probabilities), not in model kernels, whose
    results must match the C target's library ``exp``."""
    x = -708.0 if x < -708.0 else x
    x = 709.0 if x > 709.0 else x
    k = np.rint(x * _LOG2E)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    c = EXP_SERIES
    p = c[0]
    p = p * r + c[1]
    p = p * r + c[2]
    p = p * r + c[3]
    p = p * r + c[4]
    p = p * r + c[5]
    p = p * r + c[6]
    p = p * r + c[7]
    p = p * r + c[8]
    p = p * r + c[9]
    p = p * r + c[10]
    p = p * r + c[11]
    p = p * r + c[12]
    p = p * r + c[13]
    return p * _bits_to_f64((np.int64(k) + 1023) << 52)


#: the barrier of the threaded run in progress (one at a time per process)
_BARRIER = [None]


def set_barrier(barrier):
    _BARRIER[0] = barrier


def barrier_wait():
    """Wait for the other worker threads (called from kernels in object mode)."""
    _BARRIER[0].wait()
