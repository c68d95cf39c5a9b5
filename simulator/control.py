"""Run-time control: Python callbacks between chunks, and snapshots in memory.

:class:`Operation` is what :meth:`axonforge.Network.every` returns: a Python function
called every ``interval`` seconds of simulated time, at ``t = start, start + interval,
...`` (Brian2's ``network_operation`` with ``when="start"``: a call at time ``t`` comes
before the step that starts at ``t``). The kernels run in min-delay chunks, and a
callback can only run between two kernel calls, so :meth:`~axonforge.Network.run` ends
a kernel call at every callback time (the next chunk starts there): whatever the
callback changes (state, parameters, weights, Poisson rates, modulators) holds from the
very next step on. A call that is due at the end of a run belongs to the next run.

:func:`store` and :func:`restore` keep whole network states in memory (Brian2's
``store()`` / ``restore()``). A snapshot is the network's state dict, the same one
``net.save`` writes to a file (:func:`axonforge.io.network_state`), with every array
copied. Restoring builds every owner again from its part of the dict with the
``from_saved`` a file load uses, and the existing object takes over the rebuilt one's
attributes, so the handles a script holds (populations, projections, monitors,
modulators) stay valid. The kernels are reused (the structure is unchanged).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from axonforge.monitors import grid_steps


# ------------------------------------------------------------------------- callbacks
def _takes_network(fn) -> bool:
    """Whether ``fn`` is called with the network (it takes a positional argument) or
    with nothing; a ``TypeError`` if it needs more than one."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: give it the network
        return True
    positional = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    required = [p for p in positional if p.kind != p.VAR_POSITIONAL and p.default is p.empty]
    required_kw = [
        p for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY and p.default is p.empty
    ]
    if len(required) > 1 or required_kw:
        raise TypeError(
            f"every: {getattr(fn, '__name__', fn)!r} must take no argument or one (the "
            f"network), but its signature is {sig}"
        )
    return bool(positional)


class Operation:
    """A Python function that the network calls every ``interval`` seconds of simulated
    time between chunks; made by :meth:`axonforge.Network.every`.

    Attributes
    ----------
    fn : callable
        The function, called as ``fn(net)`` (or ``fn()`` if it takes no argument).
    interval, start : float [s]
        Calls at ``t = start + j*interval``, ``j = 0, 1, ...``.
    calls : int
        How many times it has been called.
    """

    def __init__(self, net, fn, interval, start):
        if not callable(fn):
            raise TypeError(f"every: fn must be callable (a function of the network), got {fn!r}")
        number = isinstance(interval, (int, float, np.integer, np.floating))
        if isinstance(interval, bool) or not number or not np.isfinite(interval) or interval <= 0:
            raise ValueError(
                f"every: interval must be a positive number of seconds, got {interval!r}"
            )
        self.net, self.fn = net, fn
        self.interval_steps = grid_steps(interval, net.dt, "every: interval")
        if self.interval_steps < 1:
            raise ValueError(
                f"every: interval = {interval} s is shorter than one step (dt = {net.dt} s)"
            )
        self.start_step = grid_steps(start, net.dt, "every: start")
        self._with_net = _takes_network(fn)
        self.calls = 0

    @property
    def interval(self) -> float:
        return self.interval_steps * self.net.dt

    @property
    def start(self) -> float:
        return self.start_step * self.net.dt

    @property
    def active(self) -> bool:
        """False once removed."""
        return self in self.net.operations

    def remove(self):
        """Stop calling the function (also from inside it); removing twice is harmless."""
        if self.active:
            self.net.operations.remove(self)

    def due(self, step) -> bool:
        k = step - self.start_step
        return k >= 0 and k % self.interval_steps == 0

    def next_due(self, step) -> int:
        """The first step at or after ``step`` at which the function is called."""
        if step <= self.start_step:
            return self.start_step
        return step + (-(step - self.start_step)) % self.interval_steps

    def __call__(self):
        self.calls += 1
        if self._with_net:
            self.fn(self.net)
        else:
            self.fn()

    def __repr__(self):
        name = getattr(self.fn, "__name__", repr(self.fn))
        state = "" if self.active else ", removed"
        return (
            f"<Operation {name} every {self.interval:g} s from t = {self.start:g} s, "
            f"{self.calls} calls{state}>"
        )


def call_due(net):
    """Call the operations due at the network's current step, in the order they were
    added (an operation removed by an earlier one in the same step is not called)."""
    for op in list(net.operations):
        if op.active and op.due(net.step):
            op()


def next_due(net, end) -> int:
    """The first step after the current one at which an operation is due (``end`` if
    none is before it)."""
    after = net.step + 1
    return min((op.next_due(after) for op in net.operations), default=end, key=int)


# ------------------------------------------------------------------------- snapshots
_GROUPS = ("populations", "modulators", "projections", "monitors")


@dataclass
class Snapshot:
    """A stored network state: the network's state dict with copied arrays, and the
    names and classes of its objects (its structure)."""

    state: dict
    structure: dict
    gathered: dict  # MPI: samples of each sampled monitor already gathered on rank 0


def _copied(d) -> dict:
    """A copy of state dict ``d`` (:mod:`axonforge.state`) with every array copied and
    without ``split`` (which refers to live objects and matters only to MPI gathering)."""
    out = {
        "attrs": dict(d.get("attrs", {})),
        "arrays": {k: np.array(v, copy=True) for k, v in d.get("arrays", {}).items()},
    }
    if d.get("groups"):
        out["groups"] = {k: _copied(g) for k, g in d["groups"].items()}
    return out


def _structure(net) -> dict:
    return {
        g: [(name, type(obj).__name__) for name, obj in getattr(net, g).items()] for g in _GROUPS
    }


def store(net, name):
    """``Network.store``: see there."""
    from axonforge import io

    if not isinstance(name, str) or not name:
        raise TypeError(f"store: name must be a non-empty string, got {name!r}")
    net._snapshots[name] = Snapshot(
        state=_copied(io.network_state(net)),
        structure=_structure(net),
        gathered={m.name: m._gathered for m in net.monitors.values() if hasattr(m, "_gathered")},
    )


def _changes(before, now) -> str:
    """What differs between two structures, in words."""
    out = []
    for g in _GROUPS:
        old, new = dict(before[g]), dict(now[g])
        added = [n for n in new if n not in old]
        missing = [n for n in old if n not in new]
        changed = [n for n in new if n in old and new[n] != old[n]]
        what = g[:-1]
        out += [f"{what} {n!r} was added" for n in added]
        out += [f"{what} {n!r} is gone" for n in missing]
        out += [f"{what} {n!r} changed class ({old[n]} -> {new[n]})" for n in changed]
    return "; ".join(out)


def _adopt(old, new, keep=()):
    """``old`` takes ``new``'s attributes (except ``keep``), staying the same object."""
    vars(old).update({k: v for k, v in vars(new).items() if k not in keep})


def restore(net, name):
    """``Network.restore``: see there."""
    from axonforge import io
    from axonforge.modulators import Modulator
    from axonforge.population import KINDS
    from axonforge.projection import Projection
    from axonforge.state import numbered

    if getattr(net, "_running", False):
        raise RuntimeError(
            "restore: cannot restore during a run (from an every() callback); restore between runs"
        )
    if name not in net._snapshots:
        stored = sorted(net._snapshots) or "none; call net.store() first"
        raise ValueError(f"restore: no stored state named {name!r}; stored: {stored}")
    snap = net._snapshots[name]
    changes = _changes(snap.structure, _structure(net))
    if changes:
        raise ValueError(
            f"restore: the network's structure changed since store({name!r}): {changes}. "
            "A snapshot restores into the network it was taken of, with the same "
            "populations, projections, monitors and modulators; store again after "
            "adding objects, or build the network again"
        )
    d = _copied(snap.state)  # the snapshot itself stays intact for later restores
    groups = d["groups"]
    net.step = int(d["attrs"]["step"])
    for g in numbered(groups["populations"]["groups"]):
        pop = net.populations[str(g["attrs"]["name"])]
        new = KINDS[str(g["attrs"]["kind"])].from_saved(net, g)
        # a neuron model's spec cannot change, and its parameters live in pop.params:
        # keep the user's model object
        _adopt(pop, new, keep=("model", "checked") if pop.is_neuron else ())
    for g in numbered(groups["modulators"]["groups"]) if "groups" in groups["modulators"] else ():
        new = Modulator.from_saved(net, g)
        _adopt(net.modulators[new.name], new)
    for g in numbered(groups["projections"]["groups"]) if "groups" in groups["projections"] else ():
        proj = net.projections[str(g["attrs"]["name"])]
        new = Projection.from_saved(net, g)
        _adopt(proj, new, keep=("rule",))  # the user's rule object, not a stored copy
        if proj.plastic is not None:
            proj.plastic.proj = proj
    for g in numbered(groups["monitors"]["groups"]) if "groups" in groups["monitors"] else ():
        mon = net.monitors[str(g["attrs"]["name"])]
        new = io.MONITOR_KINDS[str(g["attrs"]["kind"])].from_saved(net, g)
        # under MPI a weight monitor's index is this rank's (its global ids are kept)
        _adopt(mon, new, keep=("index",) if getattr(mon, "global_ids", None) is not None else ())
        if mon.name in snap.gathered:
            mon._gathered = snap.gathered[mon.name]
    net.injections = [
        (
            net.populations[str(g["attrs"]["pop"])],
            g["arrays"]["ids"],
            g["arrays"]["steps"],
            g["arrays"]["amplitudes"],
        )
        for g in (
            numbered(groups["injections"]["groups"]) if "groups" in groups["injections"] else ()
        )
    ]
    # the next run lays out the engine again (reusing the compiled kernels) with the
    # restored spikes in flight, as after loading a file
    rings = [
        buf.shape[0] for p in net.populations.values() for buf in getattr(p, "rb", {}).values()
    ]
    net._ring_length = rings[0] if rings else None
    net._engine = None
    net._structure_changed = True
    net._broken = None
