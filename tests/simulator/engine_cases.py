"""Networks that must give identical results for any number of threads or MPI ranks
(used by test_engine.py and, under mpirun, by mpi_cases.py), and on every backend
(test_cuda_host.py runs them on ``backend="cuda-host"``)."""

from __future__ import annotations

import numpy as np

import axonforge as sim
from axonforge.models import (
    LIF,
    STDP,
    AstrocyteGChI,
    AstrocyteLR1994,
    DopamineSTDP,
    GliotransmitterTsodyksMarkram,
    IP3Diffusion,
    PoissonSource,
)
from axonforge.models.base import NeuronSpec, spec_model
from axonforge.models.coupling import GapJunction
from axonforge.units import Hz, ms, mV, pA, pF


def cuba(threads, backend="numba"):
    net = sim.Network(dt=0.1 * ms, seed=3, threads=threads, backend=backend)
    lif = LIF(
        tau_m=20 * ms,
        c_m=250 * pF,
        v_rest=-49 * mV,
        v_thresh=-50 * mV,
        v_reset=-60 * mV,
        t_ref=5 * ms,
        tau_syn_exc=5 * ms,
        tau_syn_inh=10 * ms,
    )
    pop = net.population(lif, n=2000, v=sim.uniform(-60 * mV, -50 * mV))
    net.connect(pop[:1600], pop, rule=sim.FixedProbability(0.04), weight=40 * pA, delay=0.1 * ms)
    net.connect(
        pop[1600:],
        pop,
        rule=sim.FixedProbability(0.04),
        weight=-200 * pA,
        delay=0.1 * ms,
        port="inh",
    )
    spikes = net.spike_monitor(pop)
    trace = net.state_monitor(pop, ["v"], ids=[0, 999, 1999], every=3)
    net.run(0.1)
    return net, [spikes.times, spikes.ids, trace["v"]]


def brunel(threads, backend="numba"):
    """A small Brunel (2000) network with delay 1.5 ms: chunks of 15 steps."""
    net = sim.Network(dt=0.1 * ms, seed=4, threads=threads, backend=backend)
    model = LIF(
        tau_m=20 * ms,
        c_m=250 * pF,
        v_rest=0.0,
        v_reset=10 * mV,
        v_thresh=20 * mV,
        t_ref=2 * ms,
        tau_syn_exc=0.5 * ms,
        tau_syn_inh=0.5 * ms,
        strict_units=False,
    )
    pop = net.population(model, n=1000, v=sim.uniform(0, 20 * mV))
    ext = net.population(PoissonSource(rate=60 * Hz), n=1000)
    net.connect(ext, pop, rule=sim.FixedInDegree(20), weight=600 * pA, delay=1.5 * ms)
    net.connect(pop[:800], pop, rule=sim.FixedInDegree(80), weight=60 * pA, delay=1.5 * ms)
    net.connect(
        pop[800:], pop, rule=sim.FixedInDegree(20), weight=-300 * pA, delay=1.5 * ms, port="inh"
    )
    spikes = net.spike_monitor(pop)
    rate = net.rate_monitor(pop)
    net.run(0.2)
    assert net._engine.layout.steps == 15
    return net, [spikes.times, spikes.ids, rate.counts]


def stdp(threads, backend="numba"):
    net = sim.Network(dt=0.1 * ms, seed=5, threads=threads, backend=backend)
    src = net.population(PoissonSource(rate=15 * Hz), n=300)
    post = net.population(LIF(), n=80)
    rule = dict(w_max=200 * pA, a_plus=2 * pA, a_minus=-2.1 * pA)
    ff = net.connect(
        src,
        post,
        rule=sim.FixedProbability(0.2),
        weight=sim.uniform(0, 100 * pA),
        delay=1 * ms,
        synapse=STDP(**rule),
    )
    rec = net.connect(
        post,
        post,
        rule=sim.FixedProbability(0.1),
        weight=50 * pA,
        delay=2 * ms,
        synapse=STDP(**rule, pairing="nearest"),
    )
    watch = net.weight_monitor(rec, synapses=np.arange(0, len(rec), 7), every=10)
    spikes = net.spike_monitor(post)
    net.run(0.3)
    return net, [spikes.times, spikes.ids, ff.weights, rec.weights, watch["w"]]


def dopamine(threads, backend="numba"):
    net = sim.Network(dt=0.1 * ms, seed=6, threads=threads, backend=backend)
    src = net.population(PoissonSource(rate=20 * Hz), n=200)
    post = net.population(LIF(), n=60)
    da = net.population(PoissonSource(rate=5 * Hz), n=5)
    mod = net.modulator("dopamine", tau=0.2, source=da, amount=0.5)
    proj = net.connect(
        src,
        post,
        rule=sim.FixedProbability(0.3),
        weight=80 * pA,
        delay=1 * ms,
        synapse=DopamineSTDP(a_plus=1e-9, a_minus=-1.5e-9, w_max=1e-9),
        modulator=mod,
    )
    spikes = net.spike_monitor(post)
    net.run(0.3)
    net.set_modulator(1.0)
    net.run(0.1)
    return net, [spikes.times, spikes.ids, proj.weights, np.array([mod.value])]


def rules(threads, backend="numba"):
    """Every connection rule (an expression of distance too), on views (one unsorted),
    with and without autapses and multapses, drawn and per-synapse weights and delays, a
    plastic projection and a weight monitor: under MPI each rank builds only its targets'
    synapses, and the saved file (the whole network) must equal a single process's."""
    net = sim.Network(dt=0.1 * ms, seed=8, threads=threads, backend=backend)
    src = net.population(PoissonSource(rate=40 * Hz), n=40)
    exc = net.population(LIF(), n=90, v=sim.uniform(-70 * mV, -55 * mV),
                         positions=sim.random_positions((1.0, 1.0), periodic=True))  # fmt: skip
    inh = net.population(LIF(), n=30)
    shuffled = exc[np.array([50, 3, 88, 17, 61, 0, 42, 75, 29, 9, 64, 33])]
    pairs = np.random.default_rng(1).integers(0, [40, 90], size=(300, 2))
    net.connect(src, exc, rule=sim.FixedTotalNumber(900), delay=sim.uniform(0.5 * ms, 2 * ms),
                round_delays=True,
                weight=sim.uniform(100 * pA, 300 * pA))  # fmt: skip
    net.connect(exc, exc, rule=sim.AllToAll(allow_autapses=False), weight=2 * pA, delay=1 * ms)
    net.connect(exc[::3], inh, rule=sim.FixedOutDegree(7), weight=sim.normal(40 * pA, 5 * pA),
                delay=1.5 * ms)  # fmt: skip
    net.connect(inh, exc[10:70], rule=sim.FixedInDegree(4, allow_multapses=False),
                weight=-100 * pA, delay=0.8 * ms, port="inh")  # fmt: skip
    net.connect(exc[:30], inh, rule=sim.OneToOne(), weight=30 * pA, delay=0.5 * ms)
    net.connect(src, exc, rule=sim.Explicit(pairs[:, 0], pairs[:, 1]),
                weight=np.linspace(10, 200, 300) * pA,
                delay=np.round(np.linspace(0.5, 3, 300), 1) * ms)  # fmt: skip
    net.connect(inh[:5], shuffled, rule=sim.AllToAll(),
                weight=-np.arange(1, 61) * pA, delay=1 * ms, port="inh")  # fmt: skip
    net.connect(exc, shuffled, rule=sim.FixedProbability(0.2, allow_autapses=False),
                weight=sim.uniform(0 * pA, 20 * pA), delay=sim.uniform(0.5 * ms, 1 * ms),
                round_delays=True)  # fmt: skip
    net.connect(exc, exc, rule=sim.PairwiseBernoulli(sim.expr("0.6*exp(-d/0.2)"), "i != j"),
                weight=sim.expr("w*exp(-d/0.3)", w=8 * pA), delay=sim.expr("0.5e-3 + 2e-3*d"),
                round_delays=True)  # fmt: skip
    plastic = net.connect(src, exc, rule=sim.FixedOutDegree(10), weight=50 * pA, delay=1 * ms,
                          synapse=STDP(w_max=400 * pA))  # fmt: skip
    weights = net.weight_monitor(plastic, synapses=[0, 7, 150, 399], every=10)
    spikes = net.spike_monitor(exc)
    net.run(0.1)
    return net, [spikes.times, spikes.ids, weights["w"]]


NOISY_LIF = NeuronSpec(
    name="NoisyLIF",
    parameters={
        "tau_m": (20e-3, "s", "membrane time constant"),
        "mu": (15e-3, "V", "mean drive"),
        "sigma": (6e-3, "V", "noise: the free membrane's standard deviation"),
        "theta": (20e-3, "V", "threshold"),
        "v_r": (10e-3, "V", "reset"),
        "tau_ref": (2e-3, "s", "refractory period"),
        "tau_s": (5e-3, "s", "synaptic time constant"),
    },
    state={"v": (0.0, "V", "membrane potential"), "s": (0.0, "V", "synaptic input")},
    equations=(
        "dv/dt = (mu - v + s)/tau_m + sigma*sqrt(2/tau_m)*xi",
        "ds/dt = -s/tau_s",
    ),
    threshold="v >= theta",
    reset=("v = v_r",),
    refractory="tau_ref",
    clamped=("v",),
    ports={"exc": "s += w_in"},
)
ESCAPE_QIF = NeuronSpec(
    name="EscapeQIF",
    parameters={
        "tau": (10e-3, "s", "time constant"),
        "sigma": (0.3, "1", "noise"),
        "rate": (200.0, "Hz", "escape rate above 1"),
    },
    state={"u": (0.0, "1", "phase-like variable")},
    equations=("du/dt = (u*u + 0.05)/tau + sigma*(1 + u*u)*xi_a/sqrt(tau) - sigma*xi_b/sqrt(tau)",),
    threshold="u > 5 or rand() < rate*dt*heaviside(u - 1)",
    reset=("u = -1 + 0.2*randn()",),
    ports={"exc": "u += w_in"},
)


def noisy(threads, backend="numba"):
    """White noise, exact (OU) and Euler-Maruyama, and rand()/randn() in threshold and
    reset: every draw keyed by (population, step, neuron), so the same for any split."""
    net = sim.Network(dt=0.1 * ms, seed=9, threads=threads, backend=backend)
    lif = net.population(spec_model(NOISY_LIF, strict_units=False), n=300)
    qif = net.population(spec_model(ESCAPE_QIF, strict_units=False), n=200)
    net.connect(lif, qif, rule=sim.FixedInDegree(10), weight=0.02, delay=1 * ms)
    net.connect(qif, lif, rule=sim.FixedProbability(0.1), weight=0.5 * mV, delay=1.5 * ms,
                port="exc")  # fmt: skip
    a, b = net.spike_monitor(lif), net.spike_monitor(qif)
    trace = net.state_monitor(qif, ["u"], ids=[0, 150], every=5)
    net.run(0.2)
    return net, [a.times, a.ids, b.times, b.ids, trace["u"]]


SPIKELET_LIF = NeuronSpec(
    name="SpikeletLIF",
    parameters={
        "c": (200e-12, "F", "capacitance"),
        "g_l": (10e-9, "S", "leak conductance"),
        "e_l": (-70e-3, "V", "leak reversal"),
        "i_e": (250e-12, "A", "drive"),
        "v_th": (-50e-3, "V", "threshold"),
        "v_r": (-60e-3, "V", "reset"),
        "t_ref": (1e-3, "s", "refractory period"),
        "tau_s": (1e-3, "s", "width of the spike seen through gap junctions"),
    },
    state={
        "v": ("e_l", "V", "membrane potential"),
        "s": (0.0, "1", "spike waveform (1 at a spike, decaying)"),
        "i_gap": (0.0, "A", "gap-junction current"),
        "i_syn": (0.0, "A", "synaptic current"),
    },
    equations=(
        "dv/dt = (g_l*(e_l - v) + i_e + i_gap + i_syn)/c",
        "ds/dt = -s/tau_s",
        "di_syn/dt = -i_syn/(2e-3)",
    ),
    threshold="v >= v_th",
    reset=("v = v_r", "s += 1"),
    refractory="t_ref",
    clamped=("v",),
    ports={"exc": "i_syn += w_in"},
)


def Spikelet():  # noqa: N802 - reads as the model it makes
    """A gap junction that also passes the spike (Lewis & Rinzel 2003)."""
    return GapJunction(spike="s")


def gap(threads, backend="numba"):
    """Gap junctions (continuous coupling, one-step chunks) beside chemical synapses."""
    net = sim.Network(dt=0.1 * ms, seed=10, threads=threads, backend=backend)
    cells = net.population(spec_model(SPIKELET_LIF, i_e=np.linspace(200e-12, 300e-12, 150)),
                           n=150, v=sim.uniform(-60 * mV, -50 * mV))  # fmt: skip
    net.connect(cells, cells, rule=sim.FixedProbability(0.05, allow_autapses=False),
                weight=sim.uniform(0.5e-9, 2e-9), synapse=Spikelet())  # fmt: skip
    net.connect(cells, cells, rule=sim.FixedProbability(0.05), weight=20 * pA, delay=1 * ms)
    spikes = net.spike_monitor(cells)
    trace = net.state_monitor(cells, ["v", "i_gap"], ids=[0, 77, 149], every=7)
    net.run(0.2)
    return net, [spikes.times, spikes.ids, trace["v"], trace["i_gap"]]


def astro(threads, backend="numba"):
    """Astrocytes in a tripartite network: release drives IP3, the slow inward current
    (a graded output, exchanged with its values) drives the neurons with a delay."""
    net = sim.Network(dt=0.1 * ms, seed=11, threads=threads, backend=backend)
    cells = net.population(LIF(sic=True, i_offset=np.linspace(300, 420, 120) * pA), n=120,
                           v=sim.uniform(-70 * mV, -55 * mV))  # fmt: skip
    glia = net.population(AstrocyteLR1994(delta_ip3=0.02), n=30, ca=sim.uniform(0.1, 0.6))
    net.connect_tripartite(
        cells, cells, glia,
        sim.TripartiteBernoulliWithPool(0.1, 0.5, pool_size=4, allow_autapses=False),
        primary=dict(weight=30 * pA, delay=1 * ms), third_in=dict(weight=1.0, delay=1 * ms),
        third_out=dict(weight=sim.uniform(1 * pA, 5 * pA), delay=2 * ms),
    )  # fmt: skip
    # gliotransmission: synapses read gamma_s of their astrocyte (another rank's too)
    gchi = net.population(AstrocyteGChI(f_ex=2.0, i_bias=np.linspace(0.5, 1.5, 8)), n=8,
                          g_a=sim.uniform(0.0, 60.0), ip3=0.4)  # fmt: skip
    net.connect_tripartite(
        cells, cells, gchi, sim.TripartiteBernoulliWithPool(0.05, 0.8, pool_size=2),
        primary=dict(weight=40 * pA, delay=1 * ms, synapse=GliotransmitterTsodyksMarkram()),
        third_in=dict(weight=0.01, port="glu", delay=1 * ms), third_out=False,
    )  # fmt: skip
    # IP3 diffusion through gap junctions between the G-ChI astrocytes (a ring): a
    # coupling, so this network runs in one-step chunks
    ring = np.arange(8)
    net.connect(gchi, gchi, rule=sim.Explicit(np.r_[ring, ring], np.r_[(ring + 1) % 8,
                (ring - 1) % 8]), weight=0.09, synapse=IP3Diffusion())  # fmt: skip
    spikes = net.spike_monitor(cells)
    trace = net.state_monitor(glia, ["ca", "ip3"], ids=[0, 17, 29], every=5)
    sic = net.state_monitor(cells, ["i_sic"], ids=[0, 63, 119], every=5)
    gamma = net.state_monitor(gchi, ["gamma_s", "y_s", "j_coupling"], every=5)
    net.run(0.15)
    return net, [spikes.times, spikes.ids, trace["ca"], trace["ip3"], sic["i_sic"],
                 gamma["gamma_s"], gamma["y_s"], gamma["j_coupling"]]  # fmt: skip


def replay_file():
    """A spike-stream file with the same contents for every process (written to a
    temporary name and moved into place, so ranks writing it at once are safe)."""
    import os
    import tempfile
    from pathlib import Path

    from axonforge.streaming import write_stream

    path = Path(tempfile.gettempdir()) / "axonforge_engine_case_replay_v2.h5"
    if not path.exists():
        rng = np.random.default_rng(12)
        times = np.sort(rng.uniform(0.001, 0.2, 30_000))
        times[100:140] = times[100]  # spikes on one time: merged where one id repeats
        ids = rng.integers(0, 400, len(times))
        part = path.with_name(f"{path.name}.{os.getpid()}.{np.random.randint(1 << 30)}")
        write_stream(part, times, ids, n_units=400)
        os.replace(part, path)
    return path


def replay(threads, backend="numba"):
    """A recording streamed from disk in small windows (refilled many times, grown once)
    drives a recurrent network; a second stream of the same file, shifted and windowed,
    is recorded itself (so under MPI it is read whole on every rank)."""
    import warnings

    from axonforge.models import SpikeStream

    net = sim.Network(dt=0.1 * ms, seed=12, threads=threads, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # merged spikes, counted below
        rec = net.population(SpikeStream(replay_file(), block=64), name="rec")
        late = net.population(SpikeStream(replay_file(), start=0.05, stop=0.15, shift=-0.04,
                                          block=1000), n=400, name="late")  # fmt: skip
    cells = net.population(LIF(), n=300, v=sim.uniform(-70 * mV, -55 * mV))
    net.connect(rec[:300], cells, rule=sim.OneToOne(), weight=400 * pA)
    net.connect(rec, cells, rule=sim.FixedProbability(0.05), weight=300 * pA, delay=0.5 * ms)
    net.connect(late, cells, rule=sim.FixedInDegree(5), weight=200 * pA, delay=2 * ms)
    net.connect(cells, cells, rule=sim.FixedProbability(0.05), weight=-50 * pA, delay=1 * ms,
                port="inh")  # fmt: skip
    spikes = net.spike_monitor(cells)
    seen = net.spike_monitor(late)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # merged spikes, counted below
        net.run(0.08)
        net.run(0.12)
    merged = np.array([rec.merged_spikes, late.merged_spikes])
    return net, [spikes.times, spikes.ids, seen.times, seen.ids, merged]


CASES = {
    "cuba": cuba,
    "brunel": brunel,
    "stdp": stdp,
    "dopamine": dopamine,
    "rules": rules,
    "noisy": noisy,
    "gap": gap,
    "astro": astro,
    "replay": replay,
}
#: results that are per-rank under MPI (``proj.weights`` holds the rank's own synapses;
#: the saved file holds all of them)
PER_RANK = {"stdp": {2, 3}, "dopamine": {2}}
