"""Neuromodulators: a concentration shared by the three-factor synapses bound to it.

A :class:`Modulator` is a volume transmitter in the sense of NEST's ``volume_transmitter``
(Potjans, Morrison & Diesmann 2010, Front. Comput. Neurosci. 4:141): one concentration
``mod`` per modulator, read by every synapse of the projections bound to it
(``net.connect(..., synapse=DopamineSTDP(...), modulator=mod)``). It decays as
``dmod/dt = -mod/tau`` (or holds its value when ``tau`` is ``None``), jumps by ``amount``
for each spike of an optional ``source`` population (dopaminergic neurons) at the end of
the step the spike is emitted in, and can be set from Python between runs
(``net.set_modulator(value)``), e.g. to deliver a reward.
"""

from __future__ import annotations

import json
import math

import numpy as np

from axonforge.engine.partition import WorkerCopies
from axonforge.state import state


class Modulator:
    """A modulator concentration (see the module docstring). Create with
    :meth:`axonforge.Network.modulator`."""

    def __init__(self, net, name, tau, source, amount, value):
        if tau is not None and (not np.isfinite(tau) or tau <= 0):
            raise ValueError(
                f"modulator {name!r}: tau must be a positive time in seconds (or None to "
                f"hold the value), got {tau!r}"
            )
        if not np.isfinite(amount):
            raise ValueError(f"modulator {name!r}: amount must be finite, got {amount!r}")
        if source is not None:
            from axonforge.population import resolve

            pop, sel = resolve(source, f"modulator {name!r}: source")
            if len(sel) != pop.n:
                raise ValueError(
                    f"modulator {name!r}: the source must be a whole population "
                    f"(got a view of {pop.name!r})"
                )
            if pop.net is not net:
                raise ValueError(f"modulator {name!r}: the source belongs to another network")
            if not pop.carries_spikes:
                raise TypeError(
                    f"modulator {name!r}: {pop.name!r} emits values (a NoiseSource or a "
                    "graded output), not spikes"
                )
            source = pop
        self.net, self.name, self.tau, self.source = net, name, tau, source
        self.amount = float(amount)
        self.m = np.zeros(1)
        self.value = value

    @property
    def value(self) -> float:
        """The concentration at the current network time."""
        return float(self.m[0])

    @value.setter
    def value(self, v):
        number = isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)
        if not number or not np.isfinite(v):
            raise ValueError(f"modulator {self.name!r}: value must be a finite number, got {v!r}")
        self.m[0] = float(v)

    @property
    def projections(self) -> list:
        """The projections whose rule reads this modulator."""
        return [
            p
            for p in self.net.projections.values()
            if p.plastic is not None and p.plastic.modulator is self
        ]

    def allocate_chunk(self, layout):
        self._copies = WorkerCopies(layout.threads)

    def kernel_state(self) -> dict:
        decay = 1.0 if self.tau is None else math.exp(-self.net.dt / self.tau)
        return {"m": self._copies.of(self.m, single=True), "decay": decay, "amount": self.amount}

    def collect(self):
        """Take the concentration back from the workers' copies after a run."""
        self._copies.collect()

    def describe(self) -> dict:
        return {
            "name": self.name,
            "tau": self.tau,
            "amount": self.amount,
            "source": None if self.source is None else self.source.name,
        }

    def saved_state(self) -> dict:
        """The modulator as a state dict (:mod:`axonforge.state`): its description and
        value (the same on every rank)."""
        return state(attrs={"info": json.dumps(self.describe()), "value": self.value})

    @classmethod
    def from_saved(cls, net, d) -> Modulator:
        """Rebuild a modulator of ``net`` (its populations restored) from
        :meth:`saved_state`'s dict."""
        info = json.loads(d["attrs"]["info"])
        src = info["source"]
        return cls(
            net,
            info["name"],
            info["tau"],
            None if src is None else net.populations[src],
            info["amount"],
            float(d["attrs"]["value"]),
        )

    def __repr__(self):
        src = f", source={self.source.name!r}" if self.source is not None else ""
        return f"<Modulator {self.name!r}: value={self.value:.4g}, tau={self.tau}{src}>"


def find(net, which, where) -> Modulator:
    """The modulator ``which`` (object or name; ``None`` if the network has one)."""
    if isinstance(which, Modulator):
        if which.net is not net:
            raise ValueError(f"{where}: the modulator belongs to another network")
        return which
    if which is None and len(net.modulators) == 1:
        return next(iter(net.modulators.values()))
    if which not in net.modulators:
        known = sorted(net.modulators) or "none; create one with net.modulator(...)"
        raise ValueError(f"{where}: unknown modulator {which!r}; modulators: {known}")
    return net.modulators[which]


def set_value(net, value, name):
    """``Network.set_modulator``: checks that the call would change something."""
    if not net.modulators:
        raise ValueError(
            "set_modulator: the network has no modulator and no modulated projection; "
            "create one with net.modulator(...) and connect with a three-factor rule "
            "(synapse=DopamineSTDP(...), modulator=...)"
        )
    if name is None and len(net.modulators) > 1:
        raise ValueError(
            f"set_modulator: the network has modulators {sorted(net.modulators)}; "
            "name the one to set"
        )
    mod = find(net, name, "set_modulator")
    if not mod.projections:
        raise ValueError(
            f"set_modulator: no projection is modulated by {mod.name!r}, so the value "
            "would change nothing; connect with a three-factor rule "
            f"(synapse=DopamineSTDP(...), modulator={mod.name!r})"
        )
    mod.value = value
