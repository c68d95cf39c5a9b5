"""Projections: synapses between two populations (or views), stored CSR by source.

Per static synapse: a float32 weight and one int32 ``off = delay_steps * n_post + target``,
the synapse's offset into the target's ring buffer (flattened ``(slots, n_post)``): 8 bytes,
plus 8 bytes per source neuron for the row pointer. One index load per event instead of
separate target and delay loads halves the delivery cost (benchmarks/README.md); the
offset is independent of the ring length, so a later projection with a longer delay does
not invalidate it. ``off`` is int64 when ``(max delay + 1) * n_post`` exceeds 2**31.

Delay rule: a delay must be at least ``dt`` and lie on the time grid (``delay/dt`` within
1e-6 of an integer); otherwise connecting fails, unless ``round_delays=True``, which
rounds to the nearest step (half-way cases up) and records how many delays changed in
``proj.rounded_delays``.
"""

from __future__ import annotations

import numpy as np

from axonforge.connectivity import Rule, csr_build, values
from axonforge.plastic import PlasticState
from axonforge.population import lookup, resolve

_GRID_TOL = 1e-6


class Projection:
    """Synapses from ``pre`` to ``post`` onto receptor ``port``.

    Attributes
    ----------
    pre_ids, post_ids : int64 arrays
        Indices of each synapse's source and target within ``pre`` and ``post`` (the
        populations or views given to ``connect``), in storage order.
    weights : float64 array
        Current weights in the port's unit (A for current ports); assignable.
    delays : float64 array
        Delays in seconds (multiples of dt).
    """

    def __init__(
        self, net, pre, post, rule, weight, delay, port, name, round_delays, synapse, modulator
    ):
        self.net, self.name = net, name
        self.pre_pop, self.pre_sel = resolve(pre, f"connect {name!r}: pre")
        self.post_pop, self.post_sel = resolve(post, f"connect {name!r}: post")
        if self.post_pop.kind != "neuron":
            raise TypeError(
                f"connect {name!r}: post must be neurons; {self.post_pop.name!r} is an input source"
            )
        ports = self.post_pop.checked.spec.ports
        if port not in ports:
            raise ValueError(
                f"connect {name!r}: {self.post_pop.model.spec.name} has no port "
                f"{port!r}; its ports are {sorted(ports)}"
            )
        if not isinstance(rule, Rule):
            raise TypeError(
                f"connect {name!r}: rule must be a connection rule such as "
                f"sim.FixedProbability(0.1), got {rule!r}"
            )
        self.port, self.rule = port, rule
        rng = np.random.default_rng(np.random.SeedSequence([net.seed, 2, len(net.projections)]))
        self_post = None
        if self.pre_pop is self.post_pop:
            self_post = lookup(self.post_pop, self.post_sel)[self.pre_sel].astype(np.int64)
        pre_l, post_l = rule.pairs(len(self.pre_sel), len(self.post_sel), self_post, rng)
        m = len(pre_l)
        # scalars stay scalars: a 5e7-synapse network must not expand them into arrays
        w = values(weight, rng, m, f"connect {name!r}: weight", keep_scalar=True)
        self._check_sign(np.atleast_1d(w))
        d = values(
            net.dt if delay is None else delay, rng, m, f"connect {name!r}: delay", keep_scalar=True
        )
        steps = self._delay_steps(np.atleast_1d(d), round_delays, m)
        n_post = self.post_pop.n
        self.max_delay_steps = int(steps.max(initial=1))
        idx_type = np.int32 if (self.max_delay_steps + 1) * n_post < 2**31 else np.int64
        self.ptr, self.off, self.w = csr_build(
            pre_l,
            post_l,
            self.pre_sel,
            self.post_sel,
            self.pre_pop.n,
            n_post,
            steps,
            np.atleast_1d(w),
            idx_type,
            # plastic weights live in the state precision; static ones in float32
            np.float32 if synapse is None else net.dtype,
        )
        self.plastic = None
        if synapse is None and modulator is not None:
            raise ValueError(
                f"connect {name!r}: modulator= needs a three-factor rule "
                "(synapse=DopamineSTDP(...)); static synapses read no modulator"
            )
        if synapse is not None:
            if self.pre_pop.kind == "noise":
                raise TypeError(
                    f"connect {name!r}: a NoiseSource cannot drive a plastic synapse "
                    "(it emits amplitudes, not spikes)"
                )
            self.plastic = PlasticState(self, synapse, modulator)
            self.w = self.plastic.state["w"]  # one array: the kernel updates it in place

    def _check_sign(self, w):
        sign = self.post_pop.checked.spec.port_signs.get(self.port)
        if sign is None or len(w) == 0:
            return
        bad = w < 0 if sign > 0 else w > 0
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            need = ">= 0" if sign > 0 else "<= 0 (inhibitory weights are negative)"
            raise ValueError(
                f"connect {self.name!r}: port {self.port!r} takes weights {need}; "
                f"{int(bad.sum())} weight(s) have the wrong sign (first: synapse "
                f"{first}, {w[first]:.4g})"
            )
        if np.any(np.abs(w) > np.finfo(np.float32).max):
            raise ValueError(f"connect {self.name!r}: a weight exceeds the float32 range")

    def _delay_steps(self, d, round_delays, m):
        dt = self.net.dt
        ratio = d / dt
        if len(ratio) and ratio.min() < 1 - _GRID_TOL:
            i = int(np.argmin(ratio))
            raise ValueError(
                f"connect {self.name!r}: delay {d[i]:.6g} s (synapse {i}) is below "
                f"dt={dt} s; the minimum delay is one time step"
            )
        steps = np.floor(ratio + 0.5).astype(np.int64)
        off = np.abs(ratio - steps) > _GRID_TOL
        self.rounded_delays = 0
        if off.any():
            if not round_delays:
                i = int(np.flatnonzero(off)[0])
                raise ValueError(
                    f"connect {self.name!r}: delay {d[i]:.6g} s (synapse {i}) is not a multiple "
                    f"of dt={dt} s. Rule: delays must lie on the time grid; pass "
                    "round_delays=True to round them to the nearest step (half-way up)"
                )
            # a shared delay stands for all m synapses
            self.rounded_delays = int(off.sum()) if len(d) == m else m
        if len(steps) and steps.max() > 65535:
            raise ValueError(
                f"connect {self.name!r}: delay {steps.max() * dt} s exceeds 65535 steps"
            )
        return steps

    # ----------------------------------------------------------------------- access
    def __len__(self):
        return len(self.off)

    @property
    def n_synapses(self):
        return len(self.off)

    @property
    def targets(self) -> np.ndarray:
        """Target index of each synapse within the post population."""
        return (self.off % self.post_pop.n).astype(np.int64)

    @property
    def delay_steps(self) -> np.ndarray:
        return (self.off // self.post_pop.n).astype(np.int64)

    @property
    def pre_ids(self) -> np.ndarray:
        src = np.repeat(np.arange(self.pre_pop.n, dtype=np.int64), np.diff(self.ptr))
        return lookup(self.pre_pop, self.pre_sel)[src].astype(np.int64)

    @property
    def post_ids(self) -> np.ndarray:
        return lookup(self.post_pop, self.post_sel)[self.targets].astype(np.int64)

    @property
    def weights(self) -> np.ndarray:
        if self.plastic is not None:
            return self.plastic.current_weights().astype(np.float64)
        return self.w.astype(np.float64)

    @weights.setter
    def weights(self, value):
        rng = np.random.default_rng(np.random.SeedSequence([self.net.seed, 3, self.net.step]))
        w = values(value, rng, len(self.w), f"projection {self.name!r}: weights")
        self._check_sign(w)
        if self.plastic is not None:
            p = self.plastic.model.params
            if "w_min" in p and np.any((w < p["w_min"]) | (w > p["w_max"])):
                raise ValueError(
                    f"projection {self.name!r}: weights must lie in [w_min, w_max] = "
                    f"[{p['w_min']:.4g}, {p['w_max']:.4g}]"
                )
        self.w[:] = w
        if self.plastic is not None:
            self.plastic.drop_pending()  # the new values replace held-back changes

    @property
    def delays(self) -> np.ndarray:
        return self.delay_steps.astype(np.float64) * self.net.dt

    @property
    def nbytes(self) -> int:
        total = self.w.nbytes + self.off.nbytes + self.ptr.nbytes
        if self.plastic is not None:
            total += sum(a.nbytes for a in self.plastic.arrays) - self.w.nbytes
        return total

    def kernel_args(self, J: int) -> dict:
        out = {f"j{J}_ptr": self.ptr, f"j{J}_off": self.off, f"j{J}_w": self.w}
        if self.plastic is not None:
            out.update(self.plastic.kernel_args(J, self.net.dt))
        return out

    def __repr__(self):
        return (
            f"<Projection {self.name!r}: {self.pre_pop.name} -> {self.post_pop.name} "
            f"[{self.port}], {len(self)} synapses>"
        )
