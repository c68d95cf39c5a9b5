"""The interface every backend implements, and the run of one range of steps on it.

A backend turns a :class:`~axonforge.engine.description.KernelDescription` into
callables (:meth:`Backend.compile`), binds the owners' state to the kernels' arguments
(:meth:`Backend.bind`), moves arrays to and from its memory (:meth:`Backend.push`,
:meth:`Backend.pull`; the identity for CPU backends) and runs a range of steps
(:meth:`Backend.run_steps`), following the schedule of
:data:`~axonforge.engine.description.SCHEDULE` in chunks of ``D`` steps.

``run_steps`` returns ``(status, step, population, index)``: status 0 when it reached
the end; 1 when a monitor buffer must be drained before ``step`` (the host drains and
calls again); 2 when neuron ``index`` of ``population`` got a non-finite state in
``step``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Backend(ABC):
    name = ""

    @abstractmethod
    def compile(self, description):
        """Compiled kernels for ``description`` (cached by structure)."""

    def bind(self, description, owners) -> list:
        """The kernels' arguments in signature order, from the owners' ``kernel_state()``
        (checked against their declarations)."""
        values = description.args.bind(owners)
        return [self.push(values[name]) for name in description.args.names]

    def push(self, value):
        return value

    def pull(self, value):
        return value

    @abstractmethod
    def run_steps(self, kernels, argv, k0, k1, chunk, L, seed, dt):
        """Advance from step ``k0`` to ``k1`` in chunks of ``chunk`` steps."""
