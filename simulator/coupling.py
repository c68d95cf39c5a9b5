"""The state of a continuous coupling (:mod:`axonforge.models.coupling`): the checked
summed expressions of a projection and its target-sorted index.

Each step, before the targets' update, phase A sets each target variable to the sum over
the synapses onto each target of the expression, read from snapshots of the neurons'
state taken at the end of the previous step (:mod:`axonforge.engine.coupling`). A
network with a coupling runs one-step chunks: a coupling has no delay.
"""

from __future__ import annotations

import ast

import numpy as np

from axonforge import spec as spec_mod


class SummedState:
    """What a projection with ``synapse=`` a :class:`~axonforge.models.coupling.
    CouplingModel` needs: ``exprs`` (target variable -> checked expression), the
    neuron variables it reads (``reads_pre``, ``reads_post``) and the target-sorted
    index (``tptr``, ``tidx``, ``tsrc``)."""

    def __init__(self, proj, model):
        self.proj, self.model = proj, model
        where = f"connect {proj.name!r}: {type(model).__name__}"
        if not proj.pre_pop.is_neuron:
            raise TypeError(
                f"{where} reads the presynaptic neurons' state every step; "
                f"{proj.pre_pop.name!r} is an input source, which has none"
            )
        pre_state = set(proj.pre_pop.checked.spec.state)
        post_checked = proj.post_pop.checked
        post_state = set(post_checked.spec.state)
        params = set(model.spec.parameters)
        allowed = {"w", *params, *(f"{v}_pre" for v in pre_state)}
        allowed |= {f"{v}_post" for v in post_state}
        self.exprs, self.reads_pre, self.reads_post = {}, set(), set()
        for target, text in model.spec.summed.items():
            if target not in post_state:
                raise ValueError(
                    f"{where}: the summed variable {target!r} is not a state variable of "
                    f"{post_checked.spec.name} (it has {sorted(post_state)}); declare it in "
                    "the post model's spec (an initial value, no ODE) and read it in its "
                    "equations"
                )
            if target in post_checked.ode_vars:
                raise ValueError(
                    f"{where}: {target!r} has an ODE in {post_checked.spec.name}; a summed "
                    "variable is set every step, so it must have none"
                )
            try:
                node = ast.parse(text, mode="eval").body
            except SyntaxError as exc:
                raise ValueError(f"{where}: summed {text!r} is not valid ({exc.msg})") from None
            fake = spec_mod.NeuronSpec(name=model.spec.name, parameters={}, state={}, equations=())
            try:
                spec_mod._check_names(fake, f"summed {target!r}", text, node, allowed)
            except spec_mod.SpecError as err:
                raise ValueError(f"{where}: {err}") from None
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            self.reads_pre |= {n[:-4] for n in names if n.endswith("_pre") and n in allowed}
            self.reads_post |= {n[:-5] for n in names if n.endswith("_post") and n in allowed}
            consts = {k: ast.Constant(float(v)) for k, v in model.params.items()}
            self.exprs[target] = spec_mod._Inline(consts).visit(node)
        self.index_arrays()

    def index_arrays(self):
        """The synapses by target: ``tptr`` (per post neuron), ``tidx`` (synapse),
        ``tsrc`` (its source); rows of the CSR store are sorted by target, so each
        target's synapses come in source order."""
        proj = self.proj
        n_post = proj.post_pop.n
        tgt = proj.off % n_post
        order = np.argsort(tgt, kind="stable")
        self.tptr = np.zeros(n_post + 1, np.int64)
        self.tptr[1:] = np.cumsum(np.bincount(tgt, minlength=n_post))
        self.tidx = order.astype(np.int64)
        src = np.repeat(np.arange(proj.pre_pop.n, dtype=np.int32), np.diff(proj.ptr))
        self.tsrc = src[order]

    def plan(self) -> tuple:
        """``((target variable, expression), ...)`` for the kernel description."""
        return tuple(self.exprs.items())

    def kernel_state(self) -> dict:
        return {"tptr": self.tptr, "tidx": self.tidx, "tsrc": self.tsrc}
