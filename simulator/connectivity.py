"""Connection rules, value distributions and the CSR-by-source synapse store.

Rules (semantics as NEST's ``conn_spec`` rules of the same names) produce ``(pre, post)``
index pairs with vectorised NumPy from a seeded ``numpy.random.Generator``; distributions
draw weights, delays and initial values. :func:`csr_build` sorts synapses by source
with a compiled counting sort (O(synapses), stable, so synapse order is deterministic).
"""

from __future__ import annotations

import numpy as np
from numba import njit


# ----------------------------------------------------------------------------- distributions
class Distribution:
    """A seeded random value source: ``sample(rng, size) -> float64 array``."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
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
    """Gaussian with ``mean`` and ``std``; optionally clipped by redrawing outside
    ``[low, high]`` (a truncated normal, never a silent clip)."""

    def __init__(self, mean, std, low=-np.inf, high=np.inf):
        if std < 0:
            raise ValueError(f"normal(std={std}): std must be >= 0")
        if not low < high:
            raise ValueError("normal: low must be < high")
        self.mean, self.std, self.low, self.high = float(mean), float(std), low, high

    def sample(self, rng, size):
        out = rng.normal(self.mean, self.std, size)
        bad = (out < self.low) | (out > self.high)
        for _ in range(1000):
            if not bad.any():
                return out
            out[bad] = rng.normal(self.mean, self.std, int(bad.sum()))
            bad = (out < self.low) | (out > self.high)
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


def values(spec, rng, size, what: str, keep_scalar=False):
    """Turn a scalar, array or :class:`Distribution` into ``size`` float64 values.

    With ``keep_scalar=True`` a scalar comes back as a 0-d float64 array instead of being
    broadcast (callers treat it as shared by all ``size`` elements).
    """
    if isinstance(spec, Distribution):
        out = np.asarray(spec.sample(rng, size), dtype=np.float64)
    else:
        arr = np.asarray(spec, dtype=np.float64) if not isinstance(spec, str) else None
        if arr is None:
            raise TypeError(f"{what}: expected a number, an array or a distribution, got {spec!r}")
        if arr.ndim == 0:
            out = arr if keep_scalar else np.full(size, float(arr))
        elif arr.shape == (size,):
            out = arr.copy()
        else:
            raise ValueError(
                f"{what}: got an array of shape {arr.shape}, expected a scalar or shape ({size},)"
            )
    if not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(np.atleast_1d(out)))[0])
        raise ValueError(f"{what}: value {bad} is not finite ({np.atleast_1d(out)[bad]})")
    return out


# ----------------------------------------------------------------------------------- rules
class Rule:
    """A connection rule; ``pairs(n_pre, n_post, same, rng)`` returns (pre, post) indices.

    ``same`` is a boolean array over pre indices giving, where pre and post are the same
    neurons, the post index of each pre neuron (or -1): autapses are pairs with
    ``post == same[pre]``.
    """

    allow_autapses = True
    allow_multapses = True

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def describe(self) -> dict:
        return {
            "rule": type(self).__name__,
            **{k: v for k, v in vars(self).items() if not isinstance(v, np.ndarray)},
        }


def _drop_autapses(pre, post, self_post):
    if self_post is None:
        return pre, post
    keep = self_post[pre] != post
    return pre[keep], post[keep]


class AllToAll(Rule):
    """Every pre neuron to every post neuron."""

    def __init__(self, allow_autapses=True):
        self.allow_autapses = bool(allow_autapses)

    def pairs(self, n_pre, n_post, self_post, rng):
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        return (pre, post) if self.allow_autapses else _drop_autapses(pre, post, self_post)


class OneToOne(Rule):
    """Pre ``i`` to post ``i``; both sides must have the same size."""

    def pairs(self, n_pre, n_post, self_post, rng):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs pre and post of equal size, got {n_pre} and {n_post}")
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()


class FixedProbability(Rule):
    """Each (pre, post) pair independently with probability ``p`` (NEST ``pairwise_bernoulli``)."""

    def __init__(self, p, allow_autapses=True):
        if not (isinstance(p, (int, float, np.floating)) and 0.0 <= float(p) <= 1.0):
            raise ValueError(f"FixedProbability(p={p!r}): p must be a probability in [0, 1]")
        self.p, self.allow_autapses = float(p), bool(allow_autapses)

    def pairs(self, n_pre, n_post, self_post, rng):
        total = n_pre * n_post
        if self.p == 0.0 or total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        if self.p == 1.0:
            flat = np.arange(total, dtype=np.int64)
        else:
            flat = _bernoulli_positions(rng, total, self.p)
        pre, post = flat // n_post, flat % n_post
        return (pre, post) if self.allow_autapses else _drop_autapses(pre, post, self_post)


def _bernoulli_positions(rng, total, p):
    """Sorted indices ``i < total`` each chosen independently with probability ``p``.

    Gaps between successive chosen indices are geometric(p) (the "skip" method), so the
    cost is O(chosen), not O(total), and no de-duplication is needed.
    """
    chunks, pos = [], -1
    batch = int(total * p + 6 * np.sqrt(total * p) + 16)
    while True:
        steps = rng.geometric(p, size=batch)
        idx = pos + np.cumsum(steps, dtype=np.int64)
        if idx[-1] >= total:
            chunks.append(idx[idx < total])
            break
        chunks.append(idx)
        pos = int(idx[-1])
        batch = max(16, int((total - pos) * p * 1.2) + 16)
    return np.concatenate(chunks)


class _FixedDegree(Rule):
    """``k`` synapses per neuron on the fixed side, partners drawn at random."""

    fixed = ""  # "post" (in-degree) or "pre" (out-degree)

    def __init__(self, k, allow_autapses=True, allow_multapses=True):
        if isinstance(k, bool) or int(k) != k or k < 0:
            raise ValueError(f"{type(self).__name__}(k={k!r}): k must be a non-negative integer")
        self.k = int(k)
        self.allow_autapses, self.allow_multapses = bool(allow_autapses), bool(allow_multapses)

    def pairs(self, n_pre, n_post, self_post, rng):
        n_fixed, n_drawn = (n_post, n_pre) if self.fixed == "post" else (n_pre, n_post)
        drawn = "pre" if self.fixed == "post" else "post"
        pool = n_drawn - (0 if self.allow_autapses or self_post is None else 1)
        if not self.allow_multapses and self.k > pool:
            raise ValueError(
                f"{type(self).__name__}(k={self.k}) without multapses needs at least "
                f"{self.k} candidate {drawn} neurons, there are {pool}"
            )
        if self.k and n_drawn == 0:
            raise ValueError(f"{type(self).__name__}: the {drawn} population is empty")
        forbidden = None
        if not self.allow_autapses and self_post is not None:
            # the drawn index that is the same neuron as each fixed-side neuron
            forbidden = _inverse(self_post, n_post) if self.fixed == "post" else self_post
        fixed = np.repeat(np.arange(n_fixed, dtype=_itype(n_fixed)), self.k)
        other = _draw_rows(rng, n_drawn, n_fixed, self.k, self.allow_multapses, forbidden)
        other = other.reshape(-1)
        return (other, fixed) if self.fixed == "post" else (fixed, other)


class FixedInDegree(_FixedDegree):
    """Each post neuron receives exactly ``k`` synapses from randomly drawn pre neurons
    (NEST ``fixed_indegree``)."""

    fixed = "post"


class FixedOutDegree(_FixedDegree):
    """Each pre neuron makes exactly ``k`` synapses onto randomly drawn post neurons
    (NEST ``fixed_outdegree``)."""

    fixed = "pre"


def _itype(n):
    """The smallest index type for ``range(n)`` (halves index memory for big networks)."""
    return np.int32 if n < 2**31 else np.int64


def _inverse(self_post, n_post):
    """For each post index, the pre index that is the same neuron (or -1)."""
    if self_post is None:
        return None
    inv = np.full(n_post, -1, dtype=np.int64)
    has = self_post >= 0
    inv[self_post[has]] = np.flatnonzero(has)
    return inv


def _draw_rows(rng, n_choices, n_rows, k, multapses, forbidden):
    """``(n_rows, k)`` indices into ``range(n_choices)``; row r avoids ``forbidden[r]`` and,
    without multapses, repeats. Redraws only the offending entries (vectorised)."""
    out = rng.integers(0, n_choices, size=(n_rows, k), dtype=_itype(n_choices))
    for _ in range(10000):
        bad = np.zeros(out.shape, dtype=bool)
        if forbidden is not None:
            bad |= out == forbidden[:, None]
        if not multapses and k > 1:
            order = np.argsort(out, axis=1, kind="stable")
            srt = np.take_along_axis(out, order, axis=1)
            dup = np.zeros(out.shape, dtype=bool)
            dup[:, 1:] = srt[:, 1:] == srt[:, :-1]
            np.put_along_axis(bad, order, dup | np.take_along_axis(bad, order, axis=1), axis=1)
        if not bad.any():
            return out
        out[bad] = rng.integers(0, n_choices, size=int(bad.sum()), dtype=out.dtype)
    raise RuntimeError("could not draw connections without autapses/multapses")  # pragma: no cover


class Explicit(Rule):
    """Given index pairs: ``Explicit(pre_ids, post_ids)`` (indices into pre and post)."""

    def __init__(self, pre_ids, post_ids):
        pre = np.asarray(pre_ids)
        post = np.asarray(post_ids)
        for name, arr in (("pre_ids", pre), ("post_ids", post)):
            if arr.ndim != 1:
                raise ValueError(f"Explicit: {name} must be 1-D, got shape {arr.shape}")
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"Explicit: {name} must be integers, got {arr.dtype}")
        if len(pre) != len(post):
            raise ValueError(
                f"Explicit: pre_ids has {len(pre)} entries but post_ids has "
                f"{len(post)}; they must pair up"
            )
        self.pre_ids, self.post_ids = pre.astype(np.int64), post.astype(np.int64)

    def pairs(self, n_pre, n_post, self_post, rng):
        for name, arr, n in (("pre_ids", self.pre_ids, n_pre), ("post_ids", self.post_ids, n_post)):
            if len(arr) and (arr.min() < 0 or arr.max() >= n):
                bad = int(np.flatnonzero((arr < 0) | (arr >= n))[0])
                raise ValueError(f"Explicit: {name}[{bad}] = {arr[bad]} is outside 0..{n - 1}")
        return self.pre_ids.copy(), self.post_ids.copy()

    def describe(self):
        return {"rule": "Explicit", "n": int(len(self.pre_ids))}


# ------------------------------------------------------------------------------------ CSR
@njit(cache=True)
def _csr_fill(pre, post, pre_sel, post_sel, n_pre_pop, n_post_pop, steps, w, off, w_out):
    """Counting sort of synapses by source (stable), writing each synapse's ring-buffer
    offset ``steps*n_post + target`` and weight straight into their final places.
    ``steps`` and ``w`` have one entry per synapse, or one shared by all."""
    m = pre.shape[0]
    ptr = np.zeros(n_pre_pop + 1, dtype=np.int64)
    for s in range(m):
        ptr[pre_sel[pre[s]] + 1] += 1
    for i in range(n_pre_pop):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    s_step = 1 if steps.shape[0] == m else 0
    s_w = 1 if w.shape[0] == m else 0
    for s in range(m):
        j = pre_sel[pre[s]]
        pos = fill[j]
        fill[j] = pos + 1
        off[pos] = steps[s * s_step] * n_post_pop + post_sel[post[s]]
        w_out[pos] = w[s * s_w]
    return ptr


def csr_build(
    pre, post, pre_sel, post_sel, n_pre_pop, n_post_pop, steps, w, idx_type, w_type=np.float32
):
    """``(ptr, off, w)`` of the CSR-by-source store from local (pre, post) pairs.

    ``pre``/``post`` index ``pre_sel``/``post_sel`` (population indices); synapses of
    source ``i`` are ``ptr[i]:ptr[i+1]``, in the order the rule produced them.
    """
    m = len(pre)
    off = np.empty(m, dtype=idx_type)
    w_out = np.empty(m, dtype=w_type)
    ptr = _csr_fill(
        pre,
        post,
        np.ascontiguousarray(pre_sel, dtype=np.int64),
        np.ascontiguousarray(post_sel, dtype=np.int64),
        int(n_pre_pop),
        int(n_post_pop),
        np.ascontiguousarray(steps, dtype=np.int64),
        np.ascontiguousarray(w, dtype=w_type),
        off,
        w_out,
    )
    return ptr, off, w_out
