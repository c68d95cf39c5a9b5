r"""NIR graphs: a network to the Neuromorphic Intermediate Representation and back.

NIR (Pedersen et al. 2024, *Nature Communications* 15:8122, "Neuromorphic intermediate
representation: a unified instruction set for interoperable brain-inspired computing";
the ``nir`` package >= 1.0.8, docs ``docs/source/primitives.md``) describes a network as a
graph of continuous-time nodes. :func:`to_nir` writes a :class:`~axonforge.Network` as
such a graph; :func:`from_nir` builds a network from one (a ``nir.NIRGraph`` or a ``.nir``
file), including graphs written by snnTorch, Norse and the other NIR tools.

**Node mapping.**

* ``LIF()`` (``kinetics="exp"``, NEST ``iaf_psc_exp``) is NIR's ``CubaLIF``:
  ``tau_syn dI/dt = -I + w_in*x``, ``tau_mem dv/dt = (v_leak - v) + r*I``;
* ``LIF(kinetics="delta")`` is NIR's ``LIF``: ``tau dv/dt = (v_leak - v) + r*x``;
* a ``SpikeSource`` or ``SpikeStream`` population is an ``Input`` node of its name;
* a projection is a ``Linear`` node of its name (weights ``(out, in)``), followed or
  preceded by a ``Delay`` node ``<name>:delay`` when its delay exceeds one step;
* a population that no projection leaves feeds an ``Output`` node.

On import, ``IF``, ``I``, ``LI`` and ``CubaLI`` nodes become
:class:`~axonforge.models.LIF` populations too (``IF``/``I``: ``tau_m = 1e12 s``, a
leak of 1e-16 per 0.1 ms step; ``LI``/``CubaLI`` and ``I``: ``v_thresh = 1e300 V``, they
never spike: read their ``v`` with a state monitor);
``Affine``, ``Linear``, ``Scale``, ``Flatten`` and ``Delay`` nodes between two neuron
nodes become projections (their matrices multiplied along each path, ``Flatten`` in C
order), and nested ``NIRGraph`` nodes (snnTorch's recurrent layers) are flattened, their
nodes named ``<graph>.<node>``.

**Conventions.**

* **Units.** Time constants and delays in seconds, as NIR's convention; potentials,
  resistances and currents are taken as they come (imported models are built with
  ``strict_units=False``, since NIR graphs are often dimensionless: ``v_threshold = 1``).
* **An input is the value 1 held for one step** (the NIR paper's reading; the paper's
  exact LIF solution ``paper/01_lif/lif_exact_sim.py`` and snnTorch/Norse treat inputs as
  constant over ``dt``): a spike of source j into node i through weight ``W[i, j]`` is the
  input ``W[i, j]`` held for ``dt``.
* **Weights: one factor, 1.** An exported NIR weight equals the axonforge weight
  (amperes into ``CubaLIF``, volts into ``LIF``); the step's input gain lives in the
  node: ``w_in = 1/(1 - exp(-dt/tau_syn))`` (``CubaLIF``) and ``r = 1/(1 - exp(-dt/tau))``
  (``LIF``), so that the input ``W`` held for one step, integrated exactly, changes the
  synaptic current (``CubaLIF``) or the membrane (``LIF``) by exactly ``W`` at the end
  of the step. For ``dt << tau`` these are ``tau_syn/dt`` and ``tau/dt``, snnTorch's own
  export convention. ``CubaLIF.r = tau_m/c_m`` (ohms: ``I`` is in amperes) and
  ``v_leak = v_rest + r*i_offset`` (``LIF``: ``v_rest + tau_m*i_offset/c_m``).
  On import the axonforge weight is ``gain_i * W[i, j]`` with ``gain = w_in*(1 -
  exp(-dt/tau_syn))`` (``CubaLIF``, ``CubaLI``), ``r*(1 - exp(-dt/tau))`` (``LIF``,
  ``LI``) or ``r*dt`` (``IF``, ``I``); positive weights go to port ``exc`` and negative
  ones to ``inh`` (both with ``tau_syn``). A projection is named after the weight nodes
  of its path (``"fc1"``, ``"lif1.w_rec"``; ``"<src>-><dst>"`` for a bare edge), with
  ``:exc``/``:inh`` appended when its weights have both signs.
* **Biases.** An ``Affine`` bias ``b`` reaching node i is a constant input: for ``LIF``
  and ``LI`` it moves ``v_rest`` to ``v_leak + r*b``; for ``CubaLIF``/``CubaLI`` it is
  ``i_offset = w_in*b`` with the initial ``i_syn_exc = -w_in*b``, so that the total
  current rises as ``w_in*b*(1 - exp(-t/tau_syn))`` from 0, as NIR's synaptic ODE does;
  for ``IF``/``I`` it is the drift ``i_offset/c_m = r*b`` (``c_m = 1``).
* **Discretisation.** Every node is integrated exactly (the matrix exponential of
  :class:`~axonforge.models.LIF`, Rotter & Diesmann 1999) between steps; the input of a
  step arrives as a jump at its end. For ``LIF``/``LI``/``IF`` nodes this reproduces NIR's
  exact solution at every step boundary. For ``CubaLIF`` the synaptic current is exact at
  step boundaries, and the membrane misses only the input's contribution *within* its own
  step (second order, ``r*w_in*W*dt**2/(2*tau_syn*tau_mem)``). A spike is detected at the
  end of the step in which ``v`` crosses ``v_threshold`` (axonforge tests ``v >=
  v_thresh``, NIR ``v > v_threshold``: the same except on a null set) and ``v`` is reset
  there, so a spike time is the exact crossing rounded up to the grid, and the reset comes
  up to one step later than in an exact event-driven solution. snnTorch (``mem = beta*mem
  + syn``, ``beta = 1 - dt/tau``) and Norse (``v += dt/tau*((v_leak - v) + i)``) integrate
  with forward Euler instead: their decay per step is ``1 - dt/tau`` where ours is
  ``exp(-dt/tau)``, a relative difference of about ``(dt/tau)**2/2`` per step. For the NIR
  paper's LIF graph (``dt/tau = 0.04``) all four spikes fall in the same step as the exact
  solution's, Norse's and snnTorch's (``tests/hardware/test_hw_nir.py``). The difference
  grows with ``dt/tau`` (the paper's Braille graphs, written by snnTorch, have
  ``dt/tau_syn`` up to 0.55); it has not been measured against snnTorch itself.
* **Time and delays.** A spike emitted in the step ending at ``t`` reaches its targets in
  the step ending at ``t + d``, ``d >= dt`` (:meth:`~axonforge.Network.connect`). NIR
  edges carry no delay, so on import every path from one node to another becomes a
  projection of delay ``dt`` plus the path's ``Delay`` nodes (which must lie on the
  grid); on export a projection of delay ``d`` gets a ``Delay`` node of ``d - dt``
  (none when ``d = dt``). Recurrent edges thus act one step later, as in snnTorch's and
  Norse's recurrent layers; a feed-forward layer at depth ``L`` (``L = 1`` for a node fed
  by an ``Input``) spikes ``L - 1`` steps later than in those frameworks, which pass a
  spike on within the step. An input sample ``k`` (the value held over ``[k*dt,
  (k+1)*dt]``, as snnTorch's ``x[k]``) is a ``SpikeSource`` spike at ``t = k*dt``; it
  acts in the step ending at ``(k+1)*dt``, and a spike that a framework reports in its
  step ``k`` appears at ``(k+1)*dt`` here (sample 0 cannot be replayed: the first
  replayable time is ``dt``). Delays of a projection may differ per source or per target
  (one ``Delay`` node before or after the ``Linear``), not per synapse.
* **State.** NIR graphs hold no state: an imported network starts with ``v = v_leak``
  (``IF``/``I``: 0) and ``I = 0``; :func:`to_nir` warns when the network's present state
  differs from the exported nodes' rest, since it is not exported.
* ``dt`` is stored in the graph's ``metadata["dt"]``; :func:`from_nir` needs ``dt=`` when a
  graph has none (snnTorch's exporter assumes 1e-4 s, Norse's ``from_nir`` defaults to
  1e-3 s and writes time constants in seconds).

**Graphs written by other tools.**
snnTorch writes ``Leaky``/``Synaptic`` as ``LIF``/``CubaLIF`` with ``r = tau/dt``,
``w_in = tau_syn/dt``, ``v_leak = 0``, ``v_reset = 0``, ``dt = 1e-4 s`` (its
``export_nir.py``), which under the conventions above is its own update rule up to the
Euler/exact difference. Norse writes ``LIFBoxCell`` as ``LIF`` with ``r = 1`` (its
Euler step adds ``dt/tau*x``, NIR's semantics); its ``LIFCell`` becomes ``CubaLIF`` with
``w_in = 1`` and ``r = 1`` while Norse itself adds each input to ``i`` in full, so such
a graph imports with synaptic jumps ``1 - exp(-dt/tau_syn)`` times Norse's (read NIR's
semantics, as this module does, or scale ``w_in`` by ``1/(1 - exp(-dt/tau_syn))``
before importing to get Norse's behaviour).

Not expressible (:func:`to_nir` raises a ``ValueError`` naming the object): refractory
periods, models other than :class:`~axonforge.models.LIF` (conductance-based, Izhikevich, AdEx, HH,
homeostatic), alpha or conductance kinetics, ``sic`` ports, different ``tau_syn_exc`` and
``tau_syn_inh`` when both ports receive projections (NIR's ``CubaLIF`` has one synaptic
current), Poisson and noise sources, plastic synapses, continuous couplings, astrocytes,
modulators, scheduled currents (:meth:`~axonforge.Network.inject`) and per-synapse
delays. Not importable (:func:`from_nir` raises naming the node and its type):
``Conv1d``, ``Conv2d``, ``SumPool2d``, ``AvgPool2d``, ``Threshold``, and graded outputs
(``LI``, ``CubaLI``, ``I``) that drive other neurons.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

__all__ = ["to_nir", "from_nir"]

#: membrane time constant [s] of an imported ``IF``/``I`` node: no leak in practice
IF_TAU = 1e12
#: threshold [V] of an imported ``LI``/``CubaLI``/``I`` node: it never spikes
NO_THRESHOLD = 1e300
_GRID_TOL = 1e-6


def _nir():
    try:
        import nir
    except ImportError as err:  # pragma: no cover - nir is in the test extra
        raise ImportError(
            "axonforge.hardware.nir_io needs the 'nir' package: pip install 'nir>=1.0.8'"
        ) from err
    return nir


def _step_gain(dt, tau):
    """``1 - exp(-dt/tau)``: what an input held for one step leaves in a variable that
    relaxes with time constant ``tau`` (exact integration)."""
    return -np.expm1(-dt / np.asarray(tau, np.float64))


def _ms(x):
    return f"{float(np.max(x)) * 1e3:g} ms"


# ======================================================================================
# export
# ======================================================================================
def to_nir(net):
    """The network as a ``nir.NIRGraph`` (conventions: the module docstring).

    Parameters
    ----------
    net : axonforge.Network

    Returns
    -------
    nir.NIRGraph
        Nodes named after the populations (``CubaLIF``, ``LIF``, ``IF``, ``LI``,
        ``CubaLI``, ``Input``) and projections (``Linear``, ``<name>:delay``), an
        ``Output`` node per population that no projection leaves, or per population
        when every one feeds another (``"output"`` when there is one, else
        ``"output_<population>"``), and
        ``metadata = {"dt": net.dt, "generator": "axonforge"}``. Write it with
        ``nir.write(path, graph)``.

    Raises
    ------
    ValueError
        For what NIR cannot express, naming the population or projection and how to
        change it (refractory periods, other models or kinetics, plasticity, ...).
    """
    nir = _nir()
    from axonforge.models.sources import SpikeSource, SpikeStream

    if getattr(net, "modulators", None):
        name = next(iter(net.modulators))
        raise ValueError(f"NIR cannot express neuromodulators: the network has modulator {name!r}")
    if getattr(net, "injections", None):
        pop = net.injections[0][0].name
        raise ValueError(
            f"NIR cannot express a scheduled current: population {pop!r} has a StepCurrent "
            "injected (net.inject); use a constant i_offset to export"
        )
    dt = float(net.dt)
    nodes, edges = {}, []
    for pop in net.populations.values():
        if isinstance(pop.model, (SpikeSource, SpikeStream)):
            nodes[pop.name] = nir.Input(input_type=np.array([pop.n]))
        elif not pop.is_neuron:
            raise ValueError(
                f"NIR cannot express a {type(pop.model).__name__}: population {pop.name!r} "
                "is a random source; NIR inputs are data: record its spikes and replay them "
                "with a SpikeSource to export"
            )
        else:
            nodes[pop.name] = _export_neuron(nir, net, pop, dt)
    for proj in net.projections.values():
        _export_projection(nir, proj, dt, nodes, edges)
    leaves = [
        p.name
        for p in net.populations.values()
        if p.is_neuron and not any(e[0] == p.name for e in edges)
    ]
    if not leaves:  # every population feeds another: all are outputs (NIR needs one)
        leaves = [p.name for p in net.populations.values() if p.is_neuron]
    for name in leaves:
        out = "output" if len(leaves) == 1 else f"output_{name}"
        _add(nodes, out, nir.Output(output_type=np.array([net.populations[name].n])), name)
        edges.append((name, out))
    metadata = {"dt": dt, "generator": "axonforge"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def _add(nodes, name, node, owner):
    if name in nodes:
        raise ValueError(
            f"to_nir: NIR node name {name!r} (for {owner!r}) is taken by another population "
            "or projection; rename one of them"
        )
    nodes[name] = node


def _export_neuron(nir, net, pop, dt):
    from axonforge.models.neurons import LIF

    model, name = pop.model, pop.name
    if type(model) is not LIF:
        raise ValueError(
            f"NIR cannot express {type(model).__name__} neurons: population {name!r} is "
            f"{model.spec.name}; NIR's neuron nodes are LIF, CubaLIF, IF and LI, which "
            "axonforge writes from LIF (kinetics 'exp' or 'delta')"
        )
    if model.kinetics not in ("exp", "delta"):
        raise ValueError(
            f"NIR cannot express {model.kinetics!r} synaptic kinetics: population {name!r} "
            "is LIF(kinetics=" + repr(model.kinetics) + "); use kinetics='exp' (CubaLIF) or "
            "'delta' (LIF) to export"
        )
    if model.sic:
        raise ValueError(
            f"NIR cannot express astrocytes' slow inward current: population {name!r} has "
            "the 'sic' port; make it without sic=True to export"
        )
    if pop.checked.outputs:
        raise ValueError(f"NIR cannot express graded outputs: population {name!r}")
    p = pop.params
    if np.any(p["t_ref"] > 0):
        raise ValueError(
            f"NIR cannot express a refractory period: population {name!r} has t_ref = "
            f"{_ms(p['t_ref'])}; set t_ref=0 to export"
        )
    tau_m, c_m, v_rest = p["tau_m"], p["c_m"], p["v_rest"]
    thresh, reset, i_off = p["v_thresh"], p["v_reset"], p["i_offset"]
    never = bool(np.all(thresh >= NO_THRESHOLD / 10))
    if model.kinetics == "delta":
        if np.all(tau_m >= IF_TAU) and not np.any(i_off):
            r = np.full(pop.n, 1.0 / dt)
            node = (
                nir.I(r=r)
                if never
                else nir.IF(r=r, v_threshold=thresh.copy(), v_reset=reset.copy())
            )
            rest = np.zeros(pop.n)
        else:
            r = 1.0 / _step_gain(dt, tau_m)
            v_leak = v_rest + tau_m * i_off / c_m
            if never:
                node = nir.LI(tau=tau_m.copy(), r=r, v_leak=v_leak)
            else:
                node = nir.LIF(
                    tau=tau_m.copy(),
                    r=r,
                    v_leak=v_leak,
                    v_threshold=thresh.copy(),
                    v_reset=reset.copy(),
                )
            rest = v_leak
        _warn_state(pop, rest, ())
        return node
    used = pop.ports_in_use(net)
    t_exc, t_inh = p["tau_syn_exc"], p["tau_syn_inh"]
    if len(used) == 2 and not np.allclose(t_exc, t_inh, rtol=1e-12, atol=0):
        ex = [q.name for q in net.projections.values() if q.post_pop is pop and q.port == "exc"]
        ih = [q.name for q in net.projections.values() if q.post_pop is pop and q.port == "inh"]
        raise ValueError(
            f"NIR cannot express two synaptic time constants: population {name!r} has "
            f"tau_syn_exc = {_ms(t_exc)} and tau_syn_inh = {_ms(t_inh)}, and both ports "
            f"receive projections ({ex[0]!r} on 'exc', {ih[0]!r} on 'inh'); NIR's CubaLIF "
            "has one synaptic current: give both ports the same tau_syn to export"
        )
    tau_syn = t_inh if used == ("inh",) else t_exc
    r = tau_m / c_m
    v_leak = v_rest + r * i_off
    w_in = 1.0 / _step_gain(dt, tau_syn)
    if never:
        node = nir.CubaLI(
            tau_syn=tau_syn.copy(), tau_mem=tau_m.copy(), r=r, v_leak=v_leak, w_in=w_in
        )
    else:
        node = nir.CubaLIF(
            tau_syn=tau_syn.copy(),
            tau_mem=tau_m.copy(),
            r=r,
            v_leak=v_leak,
            v_threshold=thresh.copy(),
            v_reset=reset.copy(),
            w_in=w_in,
        )
    _warn_state(pop, v_leak, ("i_syn_exc", "i_syn_inh"))
    return node


def _warn_state(pop, rest, currents):
    v = pop.state["v"]
    moved = not np.allclose(v, rest, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(rest)))))
    moved |= any(np.any(pop.state[c] != 0) for c in currents)
    if moved:
        warnings.warn(
            f"to_nir: population {pop.name!r}: NIR graphs hold no state; the exported node "
            "starts at rest (v = v_leak, I = 0), not at the network's present state",
            stacklevel=3,
        )


def _export_projection(nir, proj, dt, nodes, edges):
    name = proj.name
    if proj.plastic is not None:
        raise ValueError(
            f"NIR cannot express plasticity: projection {name!r} has a plastic synapse "
            f"({type(proj.plastic.model).__name__}); connect with static weights "
            "(synapse=None) to export"
        )
    if proj.summed is not None:
        raise ValueError(
            f"NIR cannot express a continuous coupling: projection {name!r} is a "
            f"{type(proj.summed).__name__} coupling"
        )
    if proj.astro_pop is not None:
        raise ValueError(
            f"NIR cannot express tripartite synapses: projection {name!r} pairs synapses "
            f"with astrocytes of {proj.astro_pop.name!r}"
        )
    if proj.port not in ("exc", "inh"):
        raise ValueError(f"NIR cannot express the {proj.port!r} port: projection {name!r}")
    pre, post = proj.pre_pop, proj.post_pop
    pre_ids, post_ids = proj.pre_ids, proj.post_ids
    w = np.zeros((post.n, pre.n))
    np.add.at(w, (post_ids, pre_ids), proj.weights)
    extra = proj.delay_steps - 1
    before = after = None  # Delay node before (per source) / after (per target) the Linear
    if len(extra) and extra.min() == extra.max():
        if extra[0] > 0:
            after = np.full(post.n, extra[0] * dt)
    elif len(extra):
        per_post = np.zeros(post.n, np.int64)
        per_post[post_ids] = extra
        per_pre = np.zeros(pre.n, np.int64)
        per_pre[pre_ids] = extra
        if np.array_equal(per_post[post_ids], extra):
            after = per_post * dt
        elif np.array_equal(per_pre[pre_ids], extra):
            before = per_pre * dt
        else:
            raise ValueError(
                f"NIR cannot express per-synapse delays: projection {name!r} has delays "
                f"({_ms(proj.delays.min())} .. {_ms(proj.delays.max())}) that depend on both "
                "source and target; NIR Delay nodes delay whole signals, one value per "
                "source or per target"
            )
    lin = name if name not in nodes else f"{name}:proj"
    chain = [pre.name]
    if before is not None:
        _add(nodes, f"{lin}:delay", nir.Delay(delay=before), name)
        chain.append(f"{lin}:delay")
    _add(nodes, lin, nir.Linear(weight=w), name)
    chain.append(lin)
    if after is not None:
        _add(nodes, f"{lin}:delay", nir.Delay(delay=after), name)
        chain.append(f"{lin}:delay")
    chain.append(post.name)
    edges.extend(zip(chain[:-1], chain[1:]))


# ======================================================================================
# import
# ======================================================================================
class _Pass:
    """An inner ``Input``/``Output`` node of a flattened subgraph: passes its input on."""


_NEURONS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")
_OPERATORS = ("Affine", "Linear", "Scale", "Flatten", "Delay", "_Pass")
_GRADED = ("LI", "CubaLI", "I")


def from_nir(graph_or_path, dt=None, inputs=None, seed=None):
    """A network built from a NIR graph (conventions: the module docstring).

    Parameters
    ----------
    graph_or_path : nir.NIRGraph, str or path
        A graph, or a ``.nir`` file (read with ``nir.read``).
    dt : float [s], optional
        The time step. Default: the graph's ``metadata["dt"]``; required when the graph
        has none (snnTorch's exports assume 1e-4 s).
    inputs : dict, optional
        ``{input_node_name: data}`` for the graph's ``Input`` nodes: a
        :class:`~axonforge.models.SpikeSource` (ids index the input's elements, flattened
        in C order), or an array of shape ``(steps, n)`` (or ``(steps,)`` for one element)
        of 0/1 samples, as a framework's input tensor without the batch axis: a 1 at
        sample ``k`` becomes a spike at ``k*dt`` (the input 1 held over
        ``[k*dt, (k+1)*dt]``). Unbound inputs replay nothing
        (``pop.set_spikes`` can fill them later).
    seed : int, optional
        The network's seed.

    Returns
    -------
    axonforge.Network
        One population per ``Input`` and neuron node, named after the node (nested
        graphs' nodes ``<graph>.<node>``); one or two projections per path of weight
        nodes between them (named after those nodes, ``:exc``/``:inh`` appended when
        both signs occur).

    Raises
    ------
    ValueError
        The file is not a NIR graph (naming the file), ``dt`` is missing, a node type is
        not supported (naming the node and its type), the graph has a cycle but no
        ``Input`` node, shapes do not match, or a delay is off the time grid.
    """
    nir = _nir()
    graph, label = _load(nir, graph_or_path)
    dt = _time_step(graph, dt, label)
    nodes, edges = _flatten(nir, graph, "")
    kinds = {}
    for name, node in nodes.items():
        t = type(node).__name__
        if t in _NEURONS:
            kinds[name] = "neuron"
        elif t in _OPERATORS:
            kinds[name] = "op"
        elif t in ("Input", "Output"):
            kinds[name] = t.lower()
        else:
            raise ValueError(
                f"{label}: node {name!r} is a {t}, which axonforge cannot import (supported: "
                f"{', '.join(_NEURONS + _OPERATORS[:-1])}, Input, Output and nested NIRGraph)"
            )
    succ = {n: [] for n in nodes}
    pred = {n: [] for n in nodes}
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise ValueError(f"{label}: edge ({a!r}, {b!r}) names {end!r}, which is no node")
        succ[a].append(b)
        pred[b].append(a)
    if "input" not in kinds.values():
        cycle = _find_cycle(succ)
        if cycle:
            raise ValueError(
                f"{label}: the graph has a cycle ({' -> '.join(cycle)}) but no Input node; "
                "NIR rejects such graphs (its type check): add an Input node"
            )
    g = _Graph(nodes, kinds, succ, pred, label)
    net = _build(g, dt, inputs, seed)
    return net


def _load(nir, obj):
    if isinstance(obj, nir.NIRGraph):
        return obj, "NIR graph"
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.exists(path):
            raise FileNotFoundError(f"from_nir: no such file: {path!r}")
        try:
            graph = nir.read(path, type_check=False)
        except Exception as err:  # h5py, KeyError, ... : what nir.read raises varies
            raise ValueError(
                f"{path}: not a NIR file (nir.read failed: {type(err).__name__}: {err})"
            ) from err
        if not isinstance(graph, nir.NIRGraph):
            raise ValueError(f"{path}: holds a single {type(graph).__name__} node, not a NIRGraph")
        return graph, path
    raise TypeError(f"from_nir: expected a nir.NIRGraph or a path, got {type(obj).__name__}")


def _time_step(graph, dt, label):
    if dt is None:
        dt = (graph.metadata or {}).get("dt")
        if dt is None:
            raise ValueError(
                f"{label}: the graph's metadata has no 'dt'; pass dt= (the time step its "
                "writer used: snnTorch's exporter assumes 1e-4 s, Norse's from_nir "
                "defaults to 1e-3 s)"
            )
    dt = float(np.asarray(dt))
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"{label}: dt must be a positive number of seconds, got {dt!r}")
    return dt


def _flatten(nir, graph, prefix):
    """Nodes and edges with nested graphs expanded: an inner node ``k`` of subgraph
    ``S`` becomes ``S.k``; its Input and Output nodes become pass-through nodes, and edges
    into and out of ``S`` go through them."""
    nodes, edges, ports = {}, [], {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            inner, inner_edges = _flatten(nir, node, full + ".")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            for k in ins + outs:
                inner[f"{full}.{k}"] = _Pass()
            nodes.update(inner)
            edges.extend(inner_edges)
            ports[name] = (ins, outs)
        else:
            nodes[full] = node

    def end(x, side):
        if x in ports:
            ins, outs = ports[x]
            names = ins if side == 1 else outs
            if len(names) != 1:
                raise ValueError(
                    f"subgraph {prefix + x!r} has {len(names)} "
                    f"{'Input' if side else 'Output'} nodes; an edge to it is ambiguous"
                )
            return f"{prefix}{x}.{names[0]}"
        return prefix + x

    for a, b in graph.edges:
        edges.append((end(a, 0), end(b, 1)))
    return nodes, edges


def _find_cycle(succ):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in succ[n]:
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in succ:
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def _arr(x):
    return np.asarray(x, dtype=np.float64)


class _Graph:
    def __init__(self, nodes, kinds, succ, pred, label):
        self.nodes, self.kinds, self.succ, self.pred, self.label = nodes, kinds, succ, pred, label
        self._size, self._bias = {}, {}

    def type(self, name):
        return type(self.nodes[name]).__name__

    def size(self, name, seen=()):
        """Number of elements of the node's output (C-order flattened)."""
        if name in self._size:
            return self._size[name]
        node, kind = self.nodes[name], self.kinds[name]
        if kind == "neuron":
            shapes = [np.shape(v) for k, v in vars(node).items() if k not in _NOT_PARAMS]
            n = max(int(np.prod(s)) for s in shapes)
        elif kind == "input":
            shape = np.asarray(next(iter(node.input_type.values()))).ravel()
            n = int(np.prod(shape))
        elif kind == "output":
            n = 0
        elif self.type(name) in ("Affine", "Linear"):
            n = int(_arr(node.weight).shape[0])
        else:  # Scale, Flatten, Delay, pass-through: the size of what comes in
            if name in seen:
                raise ValueError(
                    f"{self.label}: weight nodes {' -> '.join(seen + (name,))} form a loop "
                    "with no neuron in it (an algebraic loop)"
                )
            ins = {self.size(p, seen + (name,)) for p in self.pred[name]}
            if len(ins) != 1:
                raise ValueError(
                    f"{self.label}: node {name!r} ({self.type(name)}) has inputs of sizes "
                    f"{sorted(ins)}; they must agree"
                )
            n = ins.pop()
        self._size[name] = n
        return n

    def apply(self, name, m, src_name):
        """The operator node's map applied to ``m`` (rows: the elements coming in)."""
        node, t = self.nodes[name], self.type(name)
        if t in ("Affine", "Linear"):
            w = _arr(node.weight)
            if w.ndim != 2 or w.shape[1] != m.shape[0]:
                raise ValueError(
                    f"{self.label}: {t} node {name!r} has weight of shape {w.shape} (out, in) "
                    f"but receives {m.shape[0]} elements from {src_name!r}"
                )
            return w @ m
        if t == "Scale":
            s = _arr(node.scale).ravel()
            if s.size not in (1, m.shape[0]):
                raise ValueError(
                    f"{self.label}: Scale node {name!r} has {s.size} factors for "
                    f"{m.shape[0]} elements"
                )
            return s[:, None] * m
        return m  # Flatten (C order), Delay, pass-through

    def bias(self, name, seen=()):
        """The constant part of an operator node's output."""
        if name in self._bias:
            return self._bias[name]
        if name in seen:
            raise ValueError(
                f"{self.label}: weight nodes {' -> '.join(seen + (name,))} form a loop "
                "with no neuron in it (an algebraic loop)"
            )
        n_in = self._in_size(name)
        b = np.zeros((n_in, 1))
        for p in self.pred[name]:
            if self.kinds[p] == "op":
                b = b + self.bias(p, seen + (name,))[:, None]
        out = self.apply(name, b, name)[:, 0]
        if self.type(name) == "Affine":
            out = out + _arr(self.nodes[name].bias).ravel()
        self._bias[name] = out
        return out

    def _in_size(self, name):
        t = self.type(name)
        if t in ("Affine", "Linear"):
            return int(_arr(self.nodes[name].weight).shape[1])
        return self.size(name)

    def target_bias(self, name):
        b = np.zeros(self.size(name))
        for p in self.pred[name]:
            if self.kinds[p] == "op":
                pb = self.bias(p)
                if pb.shape != b.shape:
                    raise ValueError(
                        f"{self.label}: node {p!r} sends {pb.size} elements to {name!r} "
                        f"({self.type(name)}, {b.size} neurons)"
                    )
                b = b + pb
        return b

    def paths(self, src):
        """Every path of operator nodes from ``src`` to a neuron node: (target, matrix
        (n_target, n_src), per-source delay, per-target delay, operator names)."""
        n = self.size(src)
        found = []

        def walk(node, m, dpre, dpost, ops):
            kind = self.kinds[node]
            if kind == "neuron":
                if m.shape[0] != self.size(node):
                    raise ValueError(
                        f"{self.label}: {node!r} ({self.type(node)}) has {self.size(node)} "
                        f"neurons but receives {m.shape[0]} elements from {src!r}"
                        + (f" through {' -> '.join(ops)}" if ops else "")
                    )
                found.append((node, m, dpre, dpost, ops))
                return
            if kind in ("output", "input"):
                return
            if node in ops:
                raise ValueError(
                    f"{self.label}: weight nodes {' -> '.join(ops[ops.index(node) :] + (node,))} "
                    "form a loop with no neuron in it (an algebraic loop)"
                )
            t = self.type(node)
            if t == "Delay":
                d = _arr(self.nodes[node].delay).ravel()
                if d.size not in (1, m.shape[0]):
                    raise ValueError(
                        f"{self.label}: Delay node {node!r} has {d.size} delays for "
                        f"{m.shape[0]} elements"
                    )
                # before any weight matrix, elements are still the source's own
                if dpost is None:
                    dpre = dpre + d
                else:
                    dpost = dpost + d
            elif t in ("Affine", "Linear"):
                shift = 0.0
                if dpost is not None and dpost.size:
                    if np.ptp(dpost) > 0:
                        raise ValueError(
                            f"{self.label}: a Delay between weight nodes, before {t} node "
                            f"{node!r} (on a path from {src!r}), delays its elements "
                            "differently; axonforge delays are per synapse: per source "
                            "(a Delay before the first weight node) or per target (after "
                            "the last)"
                        )
                    shift = float(dpost[0])
                m = self.apply(node, m, src)
                dpre = dpre + shift  # a uniform delay commutes with the matrix
                dpost = np.zeros(m.shape[0])
            else:  # Scale, Flatten, pass-through: element by element
                m = self.apply(node, m, src)
            for nxt in self.succ[node]:
                walk(nxt, m, dpre, dpost, ops + (node,))

        for nxt in self.succ[src]:
            walk(nxt, np.eye(n), np.zeros(n), None, ())
        return found


_NOT_PARAMS = ("input_type", "output_type", "metadata")


def _neuron_model(g, name, dt):
    """(LIF model, initial state, gain per neuron) for a neuron node."""
    from axonforge.models.neurons import LIF

    node, t, n = g.nodes[name], g.type(name), g.size(name)

    def p(attr, default=None):
        v = getattr(node, attr, None)
        v = default if v is None else v
        a = _arr(v).ravel()
        if a.size not in (1, n):
            raise ValueError(
                f"{g.label}: {t} node {name!r}: {attr} has {a.size} values for {n} neurons"
            )
        return np.broadcast_to(a, (n,)).copy()

    b = g.target_bias(name)
    common = dict(t_ref=0.0, strict_units=False)
    if t in ("LIF", "LI"):
        tau, r, v_leak = p("tau"), p("r"), p("v_leak")
        thresh = p("v_threshold") if t == "LIF" else np.full(n, NO_THRESHOLD)
        reset = p("v_reset", 0.0) if t == "LIF" else v_leak
        model = LIF(
            kinetics="delta",
            tau_m=tau,
            c_m=1.0,
            v_rest=v_leak + r * b,
            v_thresh=thresh,
            v_reset=reset,
            i_offset=0.0,
            **common,
        )
        return model, {"v": v_leak}, r * _step_gain(dt, tau)
    if t in ("IF", "I"):
        r = p("r")
        thresh = p("v_threshold") if t == "IF" else np.full(n, NO_THRESHOLD)
        reset = p("v_reset", 0.0) if t == "IF" else np.zeros(n)
        model = LIF(
            kinetics="delta",
            tau_m=IF_TAU,
            c_m=1.0,
            v_rest=0.0,
            v_thresh=thresh,
            v_reset=reset,
            i_offset=r * b,
            **common,
        )
        return model, {"v": np.zeros(n)}, r * dt
    # CubaLIF, CubaLI
    tau_syn, tau_mem, r, v_leak = p("tau_syn"), p("tau_mem"), p("r"), p("v_leak")
    w_in = p("w_in", 1.0)
    if np.any(r == 0):
        raise ValueError(f"{g.label}: {t} node {name!r} has r = 0 (no input reaches v)")
    thresh = p("v_threshold") if t == "CubaLIF" else np.full(n, NO_THRESHOLD)
    reset = p("v_reset", 0.0) if t == "CubaLIF" else v_leak
    drive = w_in * b
    model = LIF(
        kinetics="exp",
        tau_m=tau_mem,
        c_m=tau_mem / r,
        tau_syn_exc=tau_syn,
        tau_syn_inh=tau_syn,
        v_rest=v_leak,
        v_thresh=thresh,
        v_reset=reset,
        i_offset=drive,
        **common,
    )
    init = {"v": v_leak}
    if np.any(drive):
        init["i_syn_exc"] = -drive
    return model, init, w_in * _step_gain(dt, tau_syn)


def _input_source(name, data, n, dt):
    from axonforge.models.sources import SpikeSource

    if isinstance(data, SpikeSource):
        return data
    a = np.asarray(data)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] != n:
        raise ValueError(
            f"from_nir: inputs[{name!r}] has shape {np.shape(data)}; give a SpikeSource or "
            f"an array of shape (steps, {n}) of 0/1 samples"
        )
    if not np.all((a == 0) | (a == 1)):
        raise ValueError(
            f"from_nir: inputs[{name!r}] holds values other than 0 and 1; axonforge replays "
            "spikes (an input of 1 held for one step), not graded inputs"
        )
    steps, ids = np.nonzero(a)
    if len(steps) and steps.min() == 0:
        raise ValueError(
            f"from_nir: inputs[{name!r}] has a 1 at sample 0; sample k is a spike at k*dt and "
            "the first replayable time is dt: prepend a zero sample (shifting every spike one "
            "step later)"
        )
    return SpikeSource(times=steps * dt, ids=ids)


def _build(g, dt, inputs, seed):
    import axonforge as af
    from axonforge.models.sources import SpikeSource

    inputs = dict(inputs or {})
    in_names = [k for k, v in g.kinds.items() if v == "input"]
    unknown = sorted(set(inputs) - set(in_names))
    if unknown:
        raise ValueError(
            f"from_nir: inputs names {unknown[0]!r}, which is no Input node of {g.label}; "
            f"its Input nodes: {in_names}"
        )
    net = af.Network(dt=dt, seed=seed)
    gains = {}
    for name, kind in g.kinds.items():
        if kind == "input":
            n = g.size(name)
            src = (
                _input_source(name, inputs[name], n, dt)
                if name in inputs
                else SpikeSource(times=[])
            )
            net.population(src, n, name=name)
        elif kind == "neuron":
            model, init, gain = _neuron_model(g, name, dt)
            net.population(model, g.size(name), name=name, **init)
            gains[name] = gain
    taken = set()
    for src, kind in g.kinds.items():
        if kind not in ("input", "neuron"):
            continue
        for tgt, m, dpre, dpost, ops in g.paths(src):
            if kind == "neuron" and g.type(src) in _GRADED:
                raise ValueError(
                    f"{g.label}: {g.type(src)} node {src!r} drives {tgt!r}; its output is "
                    "graded (a potential, not spikes), which axonforge synapses cannot carry"
                )
            _connect(net, g, src, tgt, m * gains[tgt][:, None], dpre, dpost, ops, dt, taken)
    return net


def _connect(net, g, src, tgt, w, dpre, dpost, ops, dt, taken):
    weights = [o for o in ops if g.type(o) in ("Affine", "Linear", "Scale")]
    base = "+".join(weights or ops) or f"{src}->{tgt}"
    delay = dt + dpre[None, :] + (0.0 if dpost is None else dpost[:, None])
    delay = np.broadcast_to(delay, w.shape)
    steps = delay / dt
    off = np.abs(steps - np.round(steps)) > _GRID_TOL
    if np.any(off & (w != 0)):
        i, j = np.argwhere(off & (w != 0))[0]
        delays = [o for o in ops if g.type(o) == "Delay"]
        raise ValueError(
            f"{g.label}: the path {src!r} -> {' -> '.join(ops + (tgt,))} delays by "
            f"{delay[i, j] - dt:.6g} s (Delay nodes {delays}), which is not a multiple of "
            f"dt = {dt:g} s"
        )
    parts = [(port, mask) for port, mask in (("exc", w > 0), ("inh", w < 0)) if mask.any()]
    for port, mask in parts:
        name = base if len(parts) == 1 else f"{base}:{port}"
        k, unique = 1, name
        while unique in taken:
            k += 1
            unique = f"{name}#{k}"
        taken.add(unique)
        post, pre = np.nonzero(mask)
        net.connect(
            net.populations[src],
            net.populations[tgt],
            _explicit(pre, post),
            weight=w[post, pre],
            delay=np.round(steps[post, pre]) * dt,
            port=port,
            name=unique,
        )


def _explicit(pre, post):
    from axonforge.connectivity import Explicit

    return Explicit(pre.astype(np.int64), post.astype(np.int64))
