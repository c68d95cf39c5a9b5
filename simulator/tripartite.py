"""Tripartite connectivity: neuron pairs that share an astrocyte (NEST's
``tripartite_bernoulli_with_pool``).

For each (pre, post) pair a *primary* synapse is made with probability ``p_primary``;
each primary synapse recruits, with probability ``p_third_if_primary``, one astrocyte
drawn uniformly from the postsynaptic neuron's *pool*, which then gets a synapse from the
presynaptic neuron (``third_in``: release drives its IP3) and one to the postsynaptic
neuron (``third_out``: its slow inward current). Pools, as NEST builds them:

* ``pool_type="random"``: each postsynaptic neuron's pool is ``pool_size`` distinct
  astrocytes drawn at random (default: all of them);
* ``pool_type="block"``: with ``pool_size == 1`` and ``n_post = m * n_astro``, neurons
  ``m*a .. m*a + m - 1`` share astrocyte ``a``; with ``n_post * pool_size == n_astro``,
  neuron ``j`` has astrocytes ``j*pool_size .. (j + 1)*pool_size - 1``.

Every draw is keyed by (seed, stream, postsynaptic neuron, presynaptic neuron), so the
triples are the same for any thread or rank count. Every process computes them all (a
compiled pass over the pairs) and each projection keeps the synapses onto its own
targets (:class:`axonforge.connectivity.Explicit`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from axonforge.rng import step_key
from axonforge.rng import uniform as _u01

#: offsets of the tripartite draws from the primary projection's connectivity stream:
#: primary Bernoulli, third-party Bernoulli, choice in the pool, the random pools
_PRIMARY, _THIRD, _CHOICE, _POOL = (3 << 56, 5 << 56, 6 << 56, 7 << 56)


class TripartiteProjections(NamedTuple):
    """The three projections :meth:`axonforge.Network.connect_tripartite` makes."""

    primary: object
    third_in: object
    third_out: object


class TripartiteBernoulliWithPool:
    """The tripartite rule (see the module docstring): ``p_primary``,
    ``p_third_if_primary``, ``pool_size`` (default: the whole astrocyte population),
    ``pool_type`` ``"random"`` or ``"block"``, ``allow_autapses`` (pre and post the same
    population)."""

    def __init__(
        self,
        p_primary,
        p_third_if_primary,
        pool_size=None,
        pool_type="random",
        allow_autapses=True,
    ):
        for name, p in (("p_primary", p_primary), ("p_third_if_primary", p_third_if_primary)):
            if isinstance(p, bool) or not (np.ndim(p) == 0 and 0.0 <= float(p) <= 1.0):
                raise ValueError(
                    f"TripartiteBernoulliWithPool: {name} must be in [0, 1], got {p!r}"
                )
        if pool_type not in ("random", "block"):
            raise ValueError(
                f"TripartiteBernoulliWithPool: pool_type must be 'random' or 'block', got "
                f"{pool_type!r}"
            )
        if pool_size is not None and (
            isinstance(pool_size, bool) or int(pool_size) != pool_size or pool_size < 1
        ):
            raise ValueError(
                f"TripartiteBernoulliWithPool: pool_size must be a positive integer, got "
                f"{pool_size!r}"
            )
        self.p_primary, self.p_third = float(p_primary), float(p_third_if_primary)
        self.pool_size = None if pool_size is None else int(pool_size)
        self.pool_type = pool_type
        self.allow_autapses = bool(allow_autapses)

    def __repr__(self):
        return (
            f"TripartiteBernoulliWithPool(p_primary={self.p_primary}, p_third_if_primary="
            f"{self.p_third}, pool_size={self.pool_size}, pool_type={self.pool_type!r})"
        )

    def pools(self, n_post, n_third, seed, stream) -> np.ndarray:
        """``(n_post, pool_size)``: each postsynaptic neuron's astrocytes."""
        size = n_third if self.pool_size is None else self.pool_size
        if size > n_third:
            raise ValueError(
                f"TripartiteBernoulliWithPool: pool_size = {size} exceeds the {n_third} "
                "astrocytes of the third population"
            )
        if self.pool_type == "random":
            return _random_pools(n_post, n_third, size, seed, stream + _POOL)
        if size == 1 and n_post % n_third == 0:
            return (np.arange(n_post, dtype=np.int64) // (n_post // n_third))[:, None]
        if n_post * size == n_third:
            return np.arange(n_third, dtype=np.int64).reshape(n_post, size)
        raise ValueError(
            f"TripartiteBernoulliWithPool: block pools of {size} do not fit {n_post} "
            f"postsynaptic neurons and {n_third} astrocytes: with pool_size=1 the neurons "
            "must be a multiple of the astrocytes, with pool_size > 1 neurons * pool_size "
            "must equal the astrocytes; otherwise use pool_type='random'"
        )

    def triples(self, n_pre, n_post, n_third, same, seed, stream):
        """``(pre, post, third)`` index arrays (into the pre, post and third populations
        or views), one entry per primary synapse, in target order; ``third`` is -1 where
        no astrocyte was recruited."""
        pools = self.pools(n_post, n_third, seed, stream)
        avoid = same and not self.allow_autapses
        counts = _count(n_pre, n_post, self.p_primary, avoid, seed, stream + _PRIMARY)
        total = int(counts.sum())
        pre = np.empty(total, np.int64)
        post = np.empty(total, np.int64)
        third = np.empty(total, np.int64)
        _fill(n_pre, n_post, self.p_primary, self.p_third, pools, avoid, seed, stream, pre, post,
              third)  # fmt: skip
        return pre, post, third


def pairing(name, pre, post, rule, astrocytes):
    """``connect(astrocytes=(astro, ids))`` as (population, pre, post, astrocyte)
    triples in population indices."""
    from axonforge.connectivity import Explicit
    from axonforge.population import resolve

    if not isinstance(rule, Explicit):
        raise TypeError(
            f"connect {name!r}: astrocytes= pairs synapses given by an Explicit rule "
            f"(one astrocyte index per pair); got {rule!r}"
        )
    try:
        glia, ids = astrocytes
    except (TypeError, ValueError):
        raise TypeError(
            f"connect {name!r}: astrocytes must be (astrocyte population, ids per pair)"
        ) from None
    glia_pop, glia_sel = resolve(glia, f"connect {name!r}: astrocytes")
    ids = np.asarray(ids)
    if ids.shape != rule.pre_ids.shape or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"connect {name!r}: astrocytes needs one integer index per pair of the rule "
            f"({len(rule.pre_ids)}), got an array of shape {ids.shape} ({ids.dtype})"
        )
    if len(ids) and (ids.min() < -1 or ids.max() >= len(glia_sel)):
        raise ValueError(
            f"connect {name!r}: astrocyte indices must be -1 (none) or 0..{len(glia_sel) - 1}"
        )
    pre_sel, post_sel = resolve(pre, "")[1], resolve(post, "")[1]
    third = np.where(ids >= 0, glia_sel[np.maximum(ids, 0)], -1)
    return (glia_pop, pre_sel[rule.pre_ids], post_sel[rule.post_ids], third)


def connect(net, pre, post, third, rule, primary=None, third_in=None, third_out=None, name=None):
    """What :meth:`axonforge.Network.connect_tripartite` does (documented there)."""
    from axonforge.connectivity import CONN_STREAM, Explicit
    from axonforge.population import resolve

    name = net._name(name, "tri", net.projections)
    if not isinstance(rule, TripartiteBernoulliWithPool):
        raise TypeError(
            f"connect_tripartite {name!r}: rule must be a TripartiteBernoulliWithPool, got {rule!r}"
        )
    sizes = []
    for obj, what in ((pre, "pre"), (post, "post"), (third, "third")):
        pop, sel = resolve(obj, f"connect_tripartite {name!r}: {what}")
        if pop.net is not net:
            raise ValueError(f"connect_tripartite {name!r}: {what} belongs to another network")
        sizes.append((pop, len(sel)))
    (pre_pop, n_pre), (post_pop, n_post), (_third_pop, n_third) = sizes
    stream = CONN_STREAM + 2 * len(net.projections)
    i, j, a = rule.triples(n_pre, n_post, n_third, pre_pop is post_pop, net.seed, stream)
    if len(i) == 0:
        raise ValueError(
            f"connect_tripartite {name!r}: {rule!r} made no synapse between "
            f"{n_pre} presynaptic and {n_post} postsynaptic neurons; raise p_primary"
        )
    has = a >= 0
    kinds = (
        (pre, post, i, j, primary, "exc", name),
        (pre, third, i[has], a[has], third_in, "ip3", f"{name}_in"),
        (third, post, a[has], j[has], third_out, "sic", f"{name}_out"),
    )
    made = []
    for src, tgt, pi, pj, kwargs, port, pname in kinds:
        if kwargs is False:
            made.append(None)
            continue
        kwargs = {"port": port, **(kwargs or {})}
        # the primary synapses know their astrocyte (rules may read <var>_astro)
        extra = {"astrocytes": (third, a)} if pname == name else {}
        made.append(net.connect(src, tgt, rule=Explicit(pi, pj), name=pname, **kwargs, **extra))
    return TripartiteProjections(*made)


@njit(cache=True)
def _random_pools(n_post, n_third, size, seed, stream):
    """Floyd's sampling of ``size`` distinct astrocytes per neuron, keyed by the neuron."""
    out = np.empty((n_post, size), np.int64)
    for j in range(n_post):
        key = step_key(seed, stream, j)
        m = 0
        for r in range(n_third - size, n_third):
            t = min(int(_u01(key, r) * (r + 1)), r)
            for q in range(m):
                if out[j, q] == t:
                    t = r
                    break
            out[j, m] = t
            m += 1
    return out


@njit(cache=True)
def _count(n_pre, n_post, p, avoid, seed, stream):
    counts = np.zeros(n_post, np.int64)
    for j in range(n_post):
        key = step_key(seed, stream, j)
        c = 0
        for i in range(n_pre):
            c += (_u01(key, i) < p) and not (avoid and i == j)
        counts[j] = c
    return counts


@njit(cache=True)
def _fill(n_pre, n_post, p1, p3, pools, avoid, seed, stream, pre, post, third):
    size = pools.shape[1]
    s = 0
    for j in range(n_post):
        k1 = step_key(seed, stream + _PRIMARY, j)
        k3 = step_key(seed, stream + _THIRD, j)
        kc = step_key(seed, stream + _CHOICE, j)
        for i in range(n_pre):
            if _u01(k1, i) < p1 and not (avoid and i == j):
                pre[s], post[s] = i, j
                if _u01(k3, i) < p3:
                    third[s] = pools[j, min(int(_u01(kc, i) * size), size - 1)]
                else:
                    third[s] = -1
                s += 1
