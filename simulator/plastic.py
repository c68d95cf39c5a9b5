"""Plastic projections: checking synapse specs and holding their per-synapse and trace state.

Traces are kept lazily and exactly: a trace ``x`` with time constant ``tau`` is stored as
``S = x * exp((t - t_ref)/tau)``, so its value at step ``k`` is ``S * f_k`` with one factor
``f_k = exp(-(k - ref)*dt/tau)`` shared by all neurons and computed once per step. A
synaptic event then costs one multiplication (no ``exp``), nothing is decayed per step,
and the stored values are rescaled (``S *= f_k``, ``ref = k``) when the exponent exceeds
``RENORM`` to stay far from overflow. For postsynaptic events the synapses are visited
through a target-sorted index (``tptr``, ``tidx``, ``tsrc``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from models.plasticity import SynapseModel, SynapseSpec
from simulator.spec import CONSTANTS, SpecError, _Inline, _statement

#: rescale stored traces when (k - ref)*dt/tau exceeds this (exp(300) ~ 1e130)
RENORM = 300.0


@dataclass
class CheckedSynapse:
    """A parsed synapse spec: statements split into trace updates (once per spike) and
    per-synapse updates, for each event side."""

    spec: SynapseSpec
    pre_trace_stmts: list
    pre_syn_stmts: list
    post_trace_stmts: list
    post_syn_stmts: list

    @property
    def traces(self) -> dict:
        """``trace -> ("pre" | "post", tau parameter)``."""
        out = {t: ("pre", tau) for t, tau in self.spec.pre_traces.items()}
        out.update({t: ("post", tau) for t, tau in self.spec.post_traces.items()})
        return out


def check_synapse_spec(spec: SynapseSpec) -> CheckedSynapse:
    """Validate names and statement order of a synapse spec (raises SpecError)."""
    params, state = set(spec.parameters), set(spec.state)
    pre_t, post_t = set(spec.pre_traces), set(spec.post_traces)
    if "w" not in state:
        raise SpecError(f"synapse spec {spec.name!r}: state must contain the weight 'w'")
    names = [params, state, pre_t, post_t]
    everything = set().union(*names)
    if sum(len(x) for x in names) != len(everything):
        raise SpecError(
            f"synapse spec {spec.name!r}: parameter, state and trace names must be distinct"
        )
    for trace, tau in {**spec.pre_traces, **spec.post_traces}.items():
        if tau not in params:
            raise SpecError(
                f"synapse spec {spec.name!r}: trace {trace!r} decays with {tau!r}, "
                "which is not a parameter"
            )
    allowed = everything | {"dt"} | set(CONSTANTS)
    inline = _Inline({})

    def side(stmts, own_traces, where):
        traces, syn = [], []
        for text in stmts:
            tgt, op, node = _statement(spec, where, text, state | own_traces, allowed)
            node = inline.visit(node)
            if tgt in own_traces:
                if syn:
                    raise SpecError(
                        f"synapse spec {spec.name!r}, {where} {text!r}: trace updates run once "
                        "per spike before the per-synapse statements; list them first"
                    )
                traces.append((tgt, op, node))
            else:
                syn.append((tgt, op, node))
        return traces, syn

    pre_tr, pre_syn = side(spec.on_pre, pre_t, "on_pre")
    post_tr, post_syn = side(spec.on_post, post_t, "on_post")
    return CheckedSynapse(spec, pre_tr, pre_syn, post_tr, post_syn)


_CHECKED: dict = {}


def checked_synapse(spec: SynapseSpec) -> CheckedSynapse:
    key = spec.to_json()
    if key not in _CHECKED:
        _CHECKED[key] = check_synapse_spec(spec)
    return _CHECKED[key]


@njit(cache=True)
def _by_target(off, n_post):
    """Target-sorted view of a CSR-by-source store: (tptr, tidx) with the synapses of
    target t at tidx[tptr[t]:tptr[t+1]] (indices into the source-sorted arrays)."""
    m = off.shape[0]
    tptr = np.zeros(n_post + 1, np.int64)
    for q in range(m):
        tptr[off[q] % n_post + 1] += 1
    for t in range(n_post):
        tptr[t + 1] += tptr[t]
    fill = tptr[:-1].copy()
    tidx = np.empty(m, np.int64)
    for q in range(m):
        t = off[q] % n_post
        tidx[fill[t]] = q
        fill[t] += 1
    return tptr, tidx


class PlasticState:
    """Per-synapse state, per-neuron traces and index arrays of one plastic projection."""

    def __init__(self, proj, model: SynapseModel):
        if not isinstance(model, SynapseModel):
            raise TypeError(
                f"connect {proj.name!r}: synapse must be a plasticity rule such as "
                f"STDP(...), got {model!r}"
            )
        self.model = model
        self.checked = checked_synapse(model.spec)
        n_syn, n_pre, n_post = len(proj.off), proj.pre_pop.n, proj.post_pop.n
        dtype = proj.net.dtype
        self.state = {}
        for name, (init, _unit, _doc) in model.spec.state.items():
            self.state[name] = np.full(n_syn, float(init), dtype)
        self.state["w"][:] = proj.w  # the weights the connect call drew
        p = model.params
        if "w_min" in p and "w_max" in p:
            w = self.state["w"]
            if np.any((w < p["w_min"]) | (w > p["w_max"])):
                bad = int(np.flatnonzero((w < p["w_min"]) | (w > p["w_max"]))[0])
                raise ValueError(
                    f"connect {proj.name!r}: initial weight {w[bad]:.4g} (synapse {bad}) is "
                    f"outside [w_min, w_max] = [{p['w_min']:.4g}, {p['w_max']:.4g}] of {model!r}"
                )
        self.traces = {
            t: np.zeros(n_pre if side == "pre" else n_post)
            for t, (side, _tau) in self.checked.traces.items()
        }
        self.ref = np.zeros(1, np.int64)
        self.tgt, self.tptr, self.tidx, self.tsrc = self.index_arrays(proj)

    @staticmethod
    def index_arrays(proj):
        """Target of each synapse and the target-sorted index (derived from the CSR store,
        so they are rebuilt on load rather than saved)."""
        n_syn, n_pre, n_post = len(proj.off), proj.pre_pop.n, proj.post_pop.n
        tgt = (proj.off % n_post).astype(np.int32)
        tptr, tidx = _by_target(proj.off, n_post)
        src = np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(proj.ptr))
        return tgt, tptr, tidx.astype(np.int32 if n_syn < 2**31 else np.int64), src[tidx]

    def kernel_args(self, J: int) -> dict:
        out = {
            f"j{J}_ref": self.ref,
            f"j{J}_tgt": self.tgt,
            f"j{J}_tptr": self.tptr,
            f"j{J}_tidx": self.tidx,
            f"j{J}_tsrc": self.tsrc,
        }
        out.update({f"j{J}_s_{k}": v for k, v in self.state.items()})
        out.update({f"j{J}_S_{k}": v for k, v in self.traces.items()})
        out.update({f"j{J}_p_{k}": v for k, v in self.model.params.items()})
        return out

    def trace_values(self, trace: str, step: int, dt: float) -> np.ndarray:
        """Values of ``trace`` at network step ``step`` (for inspection and tests)."""
        _side, tau = self.checked.traces[trace]
        return self.traces[trace] * np.exp(-(step - self.ref[0]) * dt / self.model.params[tau])
