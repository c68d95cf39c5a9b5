"""The plasticity benchmark (issue 4): the same network with static and with STDP synapses.

10,000 independent Poisson inputs at 5 Hz project with fixed in-degree 1000 onto 10,000
current-based LIF neurons (NEST ``iaf_psc_exp`` dynamics: tau_m 20 ms, C_m 250 pF,
E_L -70 mV, threshold -55 mV, reset -70 mV, t_ref 2 ms, tau_syn 5 ms), weight 7 pA, delay
1 ms, dt 0.1 ms: 10^7 synapses, output ~5 Hz. ``plastic`` adds additive all-to-all pair
STDP (tau 20 ms, a_+ = 0.01 pA, a_- = -0.0105 pA, w in [0, 20 pA]): axonforge ``STDP``,
Brian2 ``Synapses`` with event-driven traces, NEST ``stdp_synapse`` (lambda = 5e-4,
alpha = 1.05, Wmax = 20 pA, mu = 0: the same additive rule). NEST needs one
``parrot_neuron`` per input to give each its own Poisson train.

Called by ``workloads.py`` (``plastic`` / ``static``); returns the same keys.
"""

from __future__ import annotations

import time

P = dict(
    n_in=10000,
    n=10000,
    k=1000,
    rate=5.0,
    w_pa=7.0,
    delay_ms=1.0,
    tau_ms=20.0,
    a_plus_pa=0.01,
    a_minus_pa=-0.0105,
    w_max_pa=20.0,
)


def axonforge(workload, duration, seed):
    import axonforge as sim
    from axonforge.models import LIF, STDP, PoissonSource
    from axonforge.units import Hz, ms, pA

    t0 = time.perf_counter()
    net = sim.Network(dt=0.1 * ms, seed=seed)
    inp = net.population(PoissonSource(rate=P["rate"] * Hz), n=P["n_in"])
    pop = net.population(LIF(tau_m=20 * ms, t_ref=2 * ms, tau_syn_exc=5 * ms), n=P["n"])
    rule = None
    if workload == "plastic":
        rule = STDP(
            tau_plus=P["tau_ms"] * ms,
            tau_minus=P["tau_ms"] * ms,
            a_plus=P["a_plus_pa"] * pA,
            a_minus=P["a_minus_pa"] * pA,
            w_min=0.0,
            w_max=P["w_max_pa"] * pA,
        )
    proj = net.connect(
        inp,
        pop,
        rule=sim.FixedInDegree(P["k"]),
        weight=P["w_pa"] * pA,
        delay=P["delay_ms"] * ms,
        synapse=rule,
    )
    spikes = net.spike_monitor(pop)
    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(0.0)
    t_compile = time.perf_counter() - t1
    t2 = time.perf_counter()
    net.run(duration)
    t_sim = time.perf_counter() - t2
    return dict(
        build=t_build,
        compile=t_compile,
        sim=t_sim,
        spikes=spikes.num_spikes,
        rate=spikes.mean_rate(duration),
        synapses=len(proj),
        stored_bytes_per_synapse=proj.nbytes / len(proj),
        mean_weight_pa=float(proj.weights.mean() / pA),
    )


def brian2(workload, duration, seed, mode):
    import tempfile

    import brian2 as b2
    import numpy as np
    from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, ms, mV, pA, pF

    t0 = time.perf_counter()
    if mode == "cpp":
        b2.set_device(
            "cpp_standalone", directory=tempfile.mkdtemp(prefix="b2cpp_"), build_on_run=False
        )
    else:
        b2.prefs.codegen.target = "cython"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * ms
    ns = dict(
        taum=20 * ms,
        C=250 * pF,
        El=-70 * mV,
        Vt=-55 * mV,
        Vr=-70 * mV,
        taus=5 * ms,
        w0=P["w_pa"] * pA,
        tau=P["tau_ms"] * ms,
        Apre=P["a_plus_pa"] * pA,
        Apost=P["a_minus_pa"] * pA,
        wmax=P["w_max_pa"] * pA,
    )
    inp = PoissonGroup(P["n_in"], P["rate"] * Hz)
    pop = NeuronGroup(
        P["n"],
        """dv/dt = (El - v)/taum + I/C : volt (unless refractory)
                                 dI/dt = -I/taus : amp""",
        threshold="v > Vt",
        reset="v = Vr",
        refractory=2 * ms,
        method="exact",
        namespace=ns,
    )
    pop.v = -70 * mV
    if workload == "plastic":
        syn = Synapses(
            inp,
            pop,
            """w : amp
                                    dapre/dt = -apre/tau : amp (event-driven)
                                    dapost/dt = -apost/tau : amp (event-driven)""",
            on_pre="""apre += Apre
                                 w = clip(w + apost, 0*amp, wmax)
                                 I += w""",
            on_post="""apost += Apost
                                  w = clip(w + apre, 0*amp, wmax)""",
            delay=P["delay_ms"] * ms,
            namespace=ns,
        )
    else:
        syn = Synapses(inp, pop, "w : amp", on_pre="I += w", delay=P["delay_ms"] * ms, namespace=ns)
    rng = np.random.default_rng(seed)
    post = np.repeat(np.arange(P["n"]), P["k"])
    syn.connect(i=rng.integers(0, P["n_in"], len(post)), j=post)
    syn.w = "w0"
    mon = SpikeMonitor(pop)
    net = b2.Network(inp, pop, syn, mon)
    if mode == "cpp":
        net.run(duration * b2.second)
        t1 = time.perf_counter()
        b2.device.build(run=True, compile=True, directory=None)
        total = time.perf_counter() - t1
        t_sim = b2.device._last_run_time
        out = dict(build=time.perf_counter() - t0 - t_sim, compile=total - t_sim, sim=t_sim)
    else:
        net.run(0 * b2.second)
        t_build = time.perf_counter() - t0
        t2 = time.perf_counter()
        net.run(duration * b2.second)
        out = dict(build=t_build, compile=0.0, sim=time.perf_counter() - t2)
    out.update(
        spikes=int(mon.num_spikes),
        rate=int(mon.num_spikes) / (P["n"] * duration),
        synapses=int(len(syn)),
        mean_weight_pa=float(np.mean(syn.w[:] / pA)),
    )
    return out


def nest_run(workload, duration, seed):
    import nest
    import numpy as np

    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.set(resolution=0.1, rng_seed=seed + 1, local_num_threads=1, print_time=False)
    pop = nest.Create(
        "iaf_psc_exp",
        P["n"],
        params=dict(
            C_m=250.0,
            tau_m=20.0,
            E_L=-70.0,
            V_th=-55.0,
            V_reset=-70.0,
            t_ref=2.0,
            tau_syn_ex=5.0,
            tau_syn_in=5.0,
            V_m=-70.0,
            tau_minus=P["tau_ms"],
        ),
    )
    gens = nest.Create("poisson_generator", P["n_in"], params=dict(rate=P["rate"]))
    parrots = nest.Create("parrot_neuron", P["n_in"])
    nest.Connect(gens, parrots, "one_to_one")
    conn = dict(rule="fixed_indegree", indegree=P["k"])
    if workload == "plastic":
        lam = P["a_plus_pa"] / P["w_max_pa"]
        syn = dict(
            synapse_model="stdp_synapse",
            weight=P["w_pa"],
            delay=P["delay_ms"],
            tau_plus=P["tau_ms"],
            **{"lambda": lam},
            alpha=-P["a_minus_pa"] / P["a_plus_pa"],
            mu_plus=0.0,
            mu_minus=0.0,
            Wmax=P["w_max_pa"],
        )
    else:
        syn = dict(weight=P["w_pa"], delay=P["delay_ms"])
    nest.Connect(parrots, pop, conn, syn)
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    nest.Prepare()
    nest.Run(0.1)
    t_build = time.perf_counter() - t0
    t2 = time.perf_counter()
    nest.Run(duration * 1e3 - 0.1)
    t_sim = time.perf_counter() - t2
    nest.Cleanup()
    times = np.asarray(sr.get("events")["times"])
    # GetConnections over all 10^7 synapses takes many minutes in NEST 3.10: sample the
    # weights of the first 100 sources (100,000 synapses) for the mean
    w = nest.GetConnections(parrots[:100], pop).get("weight")
    return dict(
        build=t_build,
        compile=0.0,
        sim=t_sim,
        spikes=int(times.size),
        rate=times.size / (P["n"] * duration),
        synapses=nest.num_connections - P["n_in"] - P["n"],
        mean_weight_pa=float(np.mean(w)),
    )
