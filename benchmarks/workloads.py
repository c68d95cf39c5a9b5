"""One benchmark measurement in this process: ``python workloads.py SIMULATOR WORKLOAD [opts]``.

Prints one JSON line: build, compile and simulation wall times [s], spikes, mean rate [Hz],
synapse count, resident memory of the built network per synapse [B], and peak resident
memory [MB]. Run by ``benchmarks/compare.py``, which starts a fresh process per
measurement (axonforge in the project's Python, Brian2/NEST in their own venv).

Simulators: ``axonforge``, ``brian2-runtime`` (Cython), ``brian2-cpp`` (cpp_standalone),
``nest``. Workloads (identical networks in each simulator):

* ``cuba``: Vogels & Abbott 2005 / Brette et al. 2007 benchmark 2, 4000 LIF, p = 0.02,
  exponential currents, delay 0.1 ms, dt 0.1 ms.
* ``cuba-noise`` (axonforge and Brian2): ``cuba`` with white noise on every membrane
  (``+ sigma*sqrt(2/tau_m)*xi``, sigma = 1 mV, the exact OU update): the cost of noise.
* ``brunel``: Brunel 2000 model A with delta synapses, N = 50,000 (40,000 E + 10,000 I),
  fixed in-degree 800 E + 200 I, J = 0.1 mV, g = 5, D = 1.5 ms, external Poisson input
  at 2 nu_thr through C_E synapses per neuron, dt 0.1 ms.
* ``cobahh`` (axonforge and Brian2): Brette et al. 2007 benchmark 3, Brian2's COBAHH:
  4000 Hodgkin-Huxley (Traub & Miles) neurons, 3200 E / 800 I, p = 0.02, exponential
  conductances (we = 6 nS, wi = 67 nS, 5 / 10 ms), delay 0.1 ms, exponential Euler at
  dt 0.1 ms; initial v ~ N(-65 mV, 5 mV), g_exc ~ N(40, 15) nS, g_inh ~ N(200, 120) nS,
  both truncated at 0 (redrawn; in Brian2 drawn by NumPy and assigned as arrays).
* ``hh-neuron`` (axonforge and Brian2): one ``HH`` neuron driven by 0.5 nA from rest
  (m = h = n = 0), exponential Euler at dt 0.1 ms: spike times and v every 1 ms (the
  fixture of tests/models/test_hh.py: ``compare.py --fixture hh``).
* ``plastic`` / ``static``: the plasticity benchmark of issue 4 (benchmarks/plasticity.py):
  10^7 synapses from 10,000 Poisson inputs onto 10,000 LIF, with and without STDP.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time


def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def isi_cv(times, ids, min_spikes=3):
    """Mean ISI coefficient of variation over neurons with at least ``min_spikes`` spikes.

    The same statistic as ``axonforge.stats.isi_cv``, repeated here because this function
    also runs in the peers' venv, where axonforge is not installed."""
    import numpy as np

    times, ids = np.asarray(times, float), np.asarray(ids, np.int64)
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    cvs = []
    for chunk in np.split(t, np.flatnonzero(np.diff(i)) + 1):
        if len(chunk) >= min_spikes:
            isi = np.diff(chunk)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


CUBA = dict(
    n=4000,
    n_exc=3200,
    p=0.02,
    tau_m=20.0,
    c_m=250.0,
    v_rest=-49.0,
    v_th=-50.0,
    v_reset=-60.0,
    t_ref=5.0,
    tau_e=5.0,
    tau_i=10.0,
    we_mv=1.62,
    wi_mv=-9.0,
    delay=0.1,
)
BRUNEL = dict(
    n=50000,
    c_e=800,
    c_i=200,
    j=0.1,
    g=5.0,
    eta=2.0,
    delay=1.5,
    tau=20.0,
    theta=20.0,
    v_reset=10.0,
    t_ref=2.0,
)

COBAHH = dict(
    n=4000,
    n_exc=3200,
    p=0.02,
    we_ns=6.0,
    wi_ns=67.0,
    tau_e=5.0,
    tau_i=10.0,
    delay=0.1,
    v0=(-65.0, 5.0),  # mV: Brian2's El + (randn()*5 - 5)*mV
    ge0=(40.0, 15.0),  # nS: (randn()*1.5 + 4)*10*nS
    gi0=(200.0, 120.0),  # nS: (randn()*12 + 20)*10*nS
)


def truncated_normal(rng, mean, std, size):
    """N(mean, std) with negative values redrawn (as axonforge's ``normal(low=0)``)."""
    out = rng.normal(mean, std, size)
    while (bad := out < 0).any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
    return out


# ----------------------------------------------------------------------------- axonforge
def _with_membrane_noise(model, sigma):
    """``model`` (a LIF) with white noise on v: ``+ sigma*sqrt(2/tau_m)*xi``, which gives
    the free membrane a standard deviation ``sigma`` (integrated exactly, as an OU)."""
    from dataclasses import replace

    from axonforge.models.base import spec_model

    spec = model.spec
    noisy = replace(
        spec,
        name="LIFNoise",
        parameters={**spec.parameters, "sigma": (sigma, "V", "std of the free membrane")},
        equations=(spec.equations[0] + " + sigma*sqrt(2/tau_m)*xi", *spec.equations[1:]),
    )
    params = dict(model.params)
    return spec_model(noisy, **params, sigma=sigma)


def axonforge(workload, duration, seed, n=None, precision="float64", threads=1, network_file=None):
    t0 = time.perf_counter()
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import axonforge as sim
    from axonforge.models import LIF, PoissonSource
    from axonforge.units import ms, mV, pF

    t_import = time.perf_counter() - t0
    # Numba's typing context (~60 MB, once per process) is initialised by the first
    # compiled call; do it before the baseline so B/synapse measures the network alone.
    warm = time.perf_counter()
    warm_net = sim.Network(dt=0.1 * ms, seed=0, threads=1)
    tiny = warm_net.population(LIF(), n=1)
    warm_net.connect(tiny, tiny)
    t_import += time.perf_counter() - warm
    base = rss_mb()
    net = sim.Network(dt=0.1 * ms, seed=seed, precision=precision, threads=threads)
    if workload in ("cuba", "cuba-noise"):
        c = CUBA
        model = LIF(
            tau_m=c["tau_m"] * ms,
            c_m=c["c_m"] * pF,
            v_rest=c["v_rest"] * mV,
            v_thresh=c["v_th"] * mV,
            v_reset=c["v_reset"] * mV,
            t_ref=c["t_ref"] * ms,
            tau_syn_exc=c["tau_e"] * ms,
            tau_syn_inh=c["tau_i"] * ms,
        )
        if workload == "cuba-noise":
            model = _with_membrane_noise(model, sigma=1 * mV)
        pop = net.population(model, n=c["n"], v=sim.uniform(c["v_reset"] * mV, c["v_th"] * mV))
        scale = c["c_m"] * pF / (c["tau_m"] * ms)
        net.connect(
            pop[: c["n_exc"]],
            pop,
            rule=sim.FixedProbability(c["p"]),
            weight=c["we_mv"] * mV * scale,
            delay=c["delay"] * ms,
            port="exc",
        )
        net.connect(
            pop[c["n_exc"] :],
            pop,
            rule=sim.FixedProbability(c["p"]),
            weight=c["wi_mv"] * mV * scale,
            delay=c["delay"] * ms,
            port="inh",
        )
    elif workload == "cobahh":
        from axonforge.models import HH
        from axonforge.units import nS

        c = COBAHH
        pop = net.population(
            HH(tau_syn_exc=c["tau_e"] * ms, tau_syn_inh=c["tau_i"] * ms),
            n=c["n"],
            v=sim.normal(c["v0"][0] * mV, c["v0"][1] * mV),
            g_exc=sim.normal(c["ge0"][0] * nS, c["ge0"][1] * nS, low=0.0),
            g_inh=sim.normal(c["gi0"][0] * nS, c["gi0"][1] * nS, low=0.0),
        )
        projs = [
            net.connect(
                pre,
                pop,
                rule=sim.FixedProbability(c["p"]),
                weight=weight,
                delay=c["delay"] * ms,
                port=port,
            )
            for pre, weight, port in (
                (pop[: c["n_exc"]], c["we_ns"] * nS, "exc"),
                (pop[c["n_exc"] :], c["wi_ns"] * nS, "inh"),
            )
        ]
        if network_file:  # the realisation, for Brian2 to simulate the same network
            import numpy as np

            np.savez(
                network_file,
                **{f"{port}_{end}": getattr(pr, f"{end}_ids")
                   for pr, port in zip(projs, ("exc", "inh"), strict=True)
                   for end in ("pre", "post")},
                v=pop.state["v"], g_exc=pop.state["g_exc"], g_inh=pop.state["g_inh"],
            )  # fmt: skip
    elif workload == "brunel":
        b = dict(BRUNEL)
        n = n or b["n"]
        n_e = int(0.8 * n)
        nu_thr = b["theta"] / (b["j"] * b["c_e"] * b["tau"] * 1e-3)  # Hz
        model = LIF(
            kinetics="delta",
            tau_m=b["tau"] * ms,
            v_rest=0.0,
            v_thresh=b["theta"] * mV,
            v_reset=b["v_reset"] * mV,
            t_ref=b["t_ref"] * ms,
        )
        pop = net.population(model, n=n, v=sim.uniform(0.0, b["theta"] * mV))
        ext = net.population(PoissonSource(rate=b["eta"] * nu_thr * b["c_e"]), n=n)
        d = b["delay"] * ms
        net.connect(ext, pop, rule=sim.OneToOne(), weight=b["j"] * mV, delay=d)
        net.connect(pop[:n_e], pop, rule=sim.FixedInDegree(b["c_e"]), weight=b["j"] * mV, delay=d)
        net.connect(
            pop[n_e:],
            pop,
            rule=sim.FixedInDegree(b["c_i"]),
            weight=-b["g"] * b["j"] * mV,
            delay=d,
            port="inh",
        )
    else:
        raise SystemExit(f"unknown workload {workload}")
    spikes = net.spike_monitor(pop)
    gc.collect()
    built = rss_mb()
    t_build = time.perf_counter() - t0 - t_import
    t1 = time.perf_counter()
    net.run(0.0)  # compile (or load) the kernel
    t_compile = time.perf_counter() - t1
    t2 = time.perf_counter()
    net.run(duration)
    t_sim = time.perf_counter() - t2
    n_syn = sum(p.n_synapses for p in net.projections.values() if p.pre_pop.is_neuron)
    return dict(
        build=t_build,
        compile=t_compile,
        sim=t_sim,
        spikes=spikes.num_spikes,
        cv=isi_cv(spikes.times, spikes.ids),
        rate=spikes.mean_rate(duration),
        synapses=n_syn,
        bytes_per_synapse=(built - base) * 2**20 / max(n_syn, 1),
        stored_bytes_per_synapse=sum(
            p.w.nbytes + p.off.nbytes for p in net.projections.values() if p.pre_pop.is_neuron
        )
        / max(n_syn, 1),
        peak_mb=rss_mb("VmHWM"),
        total=time.perf_counter() - t0,
        import_s=t_import,
    )


def hh_neuron(simulator, duration, current=0.5e-9, dt=1e-4):
    """One Hodgkin-Huxley neuron (Traub & Miles, COBAHH's membrane) under a constant
    current: spike times [s] and v [V] at the end of every 10th step."""
    t0 = time.perf_counter()
    if simulator == "axonforge":
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        import axonforge as sim
        from axonforge.models import HH

        net = sim.Network(dt=dt, seed=1)
        pop = net.population(HH(i_offset=current), n=1)
        spikes = net.spike_monitor(pop)
        trace = net.state_monitor(pop, ["v"])
        net.run(duration)
        times = [float(t) for t in spikes.times]
        v = [float(x) for x in trace["v"][9::10, 0]]
    else:
        import brian2 as b2
        from brian2 import NeuronGroup, SpikeMonitor, StateMonitor, amp, ms, mV, second

        b2.prefs.codegen.target = "numpy"
        b2.defaultclock.dt = dt * second
        ns = dict(
            Cm=200e-12 * b2.farad,
            gl=10e-9 * b2.siemens,
            El=-60 * mV,
            EK=-90 * mV,
            ENa=50 * mV,
            g_na=20e-6 * b2.siemens,
            g_kd=6e-6 * b2.siemens,
            VT=-63 * mV,
            I=current * amp,
        )
        eqs = """
        dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
        dm/dt = alpha_m*(1-m)-beta_m*m : 1
        dn/dt = alpha_n*(1-n)-beta_n*n : 1
        dh/dt = alpha_h*(1-h)-beta_h*h : 1
        alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
        beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
        alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
        beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
        alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
        beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
        """
        P = NeuronGroup(
            1,
            eqs,
            threshold="v>-20*mV",
            refractory=3 * ms,
            method="exponential_euler",
            namespace=ns,
        )
        P.v = -60 * mV
        mon, trace = SpikeMonitor(P), StateMonitor(P, "v", record=0)
        b2.run(duration * second)
        # Brian2 labels a step by its start, axonforge (as NEST) by its end
        times = [float(t) + dt for t in mon.t / second]
        v = [float(x) for x in trace.v[0][10::10] / b2.volt]
    return dict(spike_times=times, v=v, every=10 * dt, sim=time.perf_counter() - t0)


# --------------------------------------------------------------------------------- Brian2
def brian2(workload, duration, seed, mode, n=None, threads=1, network_file=None):
    import brian2 as b2
    import numpy as np
    from brian2 import Hz, NeuronGroup, PoissonInput, SpikeMonitor, Synapses, ms, mV, second

    t0 = time.perf_counter()
    base = rss_mb()
    if mode == "cpp":
        b2.set_device(
            "cpp_standalone", directory=tempfile.mkdtemp(prefix="b2cpp_"), build_on_run=False
        )
        b2.prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else threads
    else:
        b2.prefs.codegen.target = "cython"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * ms
    if workload in ("cuba", "cuba-noise"):
        c = CUBA
        noise = " + sigma*sqrt(2/taum)*xi" if workload == "cuba-noise" else ""
        eqs = f"""dv/dt = (ge + gi - (v - El))/taum{noise} : volt (unless refractory)
                 dge/dt = -ge/taue : volt
                 dgi/dt = -gi/taui : volt"""
        ns = dict(
            sigma=1 * mV,
            taum=c["tau_m"] * ms,
            taue=c["tau_e"] * ms,
            taui=c["tau_i"] * ms,
            El=c["v_rest"] * mV,
            Vt=c["v_th"] * mV,
            Vr=c["v_reset"] * mV,
            we=c["we_mv"] * mV,
            wi=c["wi_mv"] * mV,
        )
        P = NeuronGroup(
            c["n"],
            eqs,
            threshold="v > Vt",
            reset="v = Vr",
            refractory=c["t_ref"] * ms,
            # Brian2's "exact" refuses stochastic equations: Euler-Maruyama for the noise
            method="euler" if noise else "exact",
            namespace=ns,
        )
        P.v = "Vr + rand() * (Vt - Vr)"
        Ce = Synapses(P, P, on_pre="ge += we", delay=c["delay"] * ms, namespace=ns)
        Ci = Synapses(P, P, on_pre="gi += wi", delay=c["delay"] * ms, namespace=ns)
        Ce.connect(f"i < {c['n_exc']}", p=c["p"])
        Ci.connect(f"i >= {c['n_exc']}", p=c["p"])
        syns = [Ce, Ci]
    elif workload == "cobahh":
        from brian2 import cm, msiemens, nS, siemens, ufarad, umetre, volt

        c = COBAHH
        area = 20000 * umetre**2
        ns = dict(
            Cm=(1 * ufarad * cm**-2) * area,
            gl=(5e-5 * siemens * cm**-2) * area,
            El=-60 * mV,
            EK=-90 * mV,
            ENa=50 * mV,
            g_na=(100 * msiemens * cm**-2) * area,
            g_kd=(30 * msiemens * cm**-2) * area,
            VT=-63 * mV,
            taue=c["tau_e"] * ms,
            taui=c["tau_i"] * ms,
            Ee=0 * mV,
            Ei=-80 * mV,
            we=c["we_ns"] * nS,
            wi=c["wi_ns"] * nS,
        )
        # Brian2's examples/COBAHH.py, verbatim
        eqs = """
        dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-
                 g_na*(m*m*m)*h*(v-ENa)-
                 g_kd*(n*n*n*n)*(v-EK))/Cm : volt
        dm/dt = alpha_m*(1-m)-beta_m*m : 1
        dn/dt = alpha_n*(1-n)-beta_n*n : 1
        dh/dt = alpha_h*(1-h)-beta_h*h : 1
        dge/dt = -ge*(1./taue) : siemens
        dgi/dt = -gi*(1./taui) : siemens
        alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
        beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
        alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
        beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
        alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
        beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
        """
        P = NeuronGroup(
            c["n"],
            eqs,
            threshold="v>-20*mV",
            refractory=3 * ms,
            method="exponential_euler",
            namespace=ns,
        )
        Ce = Synapses(P, P, on_pre="ge += we", delay=c["delay"] * ms, namespace=ns)
        Ci = Synapses(P, P, on_pre="gi += wi", delay=c["delay"] * ms, namespace=ns)
        if network_file:  # axonforge's realisation: the same synapses and initial state
            net_file = np.load(network_file)
            P.v = net_file["v"] * volt
            P.ge = net_file["g_exc"] * siemens
            P.gi = net_file["g_inh"] * siemens
            Ce.connect(i=net_file["exc_pre"], j=net_file["exc_post"])
            Ci.connect(i=net_file["inh_pre"], j=net_file["inh_post"])
        else:
            rng = np.random.default_rng(seed)
            P.v = rng.normal(*c["v0"], c["n"]) * mV
            P.ge = truncated_normal(rng, *c["ge0"], c["n"]) * nS
            P.gi = truncated_normal(rng, *c["gi0"], c["n"]) * nS
            Ce.connect(f"i < {c['n_exc']}", p=c["p"])
            Ci.connect(f"i >= {c['n_exc']}", p=c["p"])
        syns = [Ce, Ci]
    else:
        b = dict(BRUNEL)
        n = n or b["n"]
        n_e = int(0.8 * n)
        nu_thr = b["theta"] / (b["j"] * b["c_e"] * b["tau"]) * 1e3 * Hz
        ns = dict(
            tau=b["tau"] * ms,
            theta=b["theta"] * mV,
            Vr=b["v_reset"] * mV,
            J=b["j"] * mV,
            gJ=-b["g"] * b["j"] * mV,
        )
        P = NeuronGroup(
            n,
            "dv/dt = -v/tau : volt (unless refractory)",
            threshold="v > theta",
            reset="v = Vr",
            refractory=b["t_ref"] * ms,
            method="exact",
            namespace=ns,
        )
        P.v = "rand() * theta"
        Ce = Synapses(P, P, on_pre="v += J", delay=b["delay"] * ms, namespace=ns)
        Ci = Synapses(P, P, on_pre="v += gJ", delay=b["delay"] * ms, namespace=ns)
        # fixed in-degree with multapses, as NEST's fixed_indegree: explicit index arrays
        rng = np.random.default_rng(seed)
        post_e = np.repeat(np.arange(n), b["c_e"])
        post_i = np.repeat(np.arange(n), b["c_i"])
        Ce.connect(i=rng.integers(0, n_e, len(post_e)), j=post_e)
        Ci.connect(i=rng.integers(n_e, n, len(post_i)), j=post_i)
        ext = PoissonInput(P, "v", b["c_e"], b["eta"] * nu_thr, weight=b["j"] * mV)
        syns = [Ce, Ci]
    mon = SpikeMonitor(P)
    net = b2.Network(b2.collect())
    if workload == "brunel":
        net.add(ext)
    if mode == "cpp":
        net.run(duration * second)
        t_before = time.perf_counter()
        b2.device.build(run=True, compile=True, directory=None)
        total_build = time.perf_counter() - t_before
        t_sim = b2.device._last_run_time
        t_build = time.perf_counter() - t0 - t_sim
        n_syn = int(sum(len(s) for s in syns))
        out = dict(build=t_build, compile=total_build - t_sim, sim=t_sim)
    else:
        net.run(0 * second)  # builds synapses and compiles the code objects
        n_syn = int(sum(len(s) for s in syns))
        gc.collect()
        built = rss_mb()
        t_build = time.perf_counter() - t0
        t2 = time.perf_counter()
        net.run(duration * second)
        out = dict(
            build=t_build,
            compile=0.0,
            sim=time.perf_counter() - t2,
            bytes_per_synapse=(built - base) * 2**20 / n_syn,
        )
    spikes = int(mon.num_spikes)
    out.update(
        spikes=spikes,
        cv=isi_cv(np.asarray(mon.t / second), np.asarray(mon.i)),
        rate=spikes / (len(P) * duration),
        synapses=n_syn,
        peak_mb=rss_mb("VmHWM"),
        total=time.perf_counter() - t0,
    )
    return out


# ----------------------------------------------------------------------------------- NEST
def nest_run(workload, duration, seed, n=None, threads=1):
    import nest
    import numpy as np

    t0 = time.perf_counter()
    base = rss_mb()
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.set(resolution=0.1, rng_seed=seed + 1, local_num_threads=threads, print_time=False)
    if workload == "cuba":
        c = CUBA
        P = nest.Create(
            "iaf_psc_exp",
            c["n"],
            params=dict(
                C_m=c["c_m"],
                tau_m=c["tau_m"],
                E_L=c["v_rest"],
                V_th=c["v_th"],
                V_reset=c["v_reset"],
                t_ref=c["t_ref"],
                tau_syn_ex=c["tau_e"],
                tau_syn_in=c["tau_i"],
                I_e=0.0,
            ),
        )
        P.V_m = nest.random.uniform(c["v_reset"], c["v_th"])
        scale = c["c_m"] / c["tau_m"]
        nest.Connect(
            P[: c["n_exc"]],
            P,
            dict(rule="pairwise_bernoulli", p=c["p"]),
            dict(weight=c["we_mv"] * scale, delay=c["delay"]),
        )
        nest.Connect(
            P[c["n_exc"] :],
            P,
            dict(rule="pairwise_bernoulli", p=c["p"]),
            dict(weight=c["wi_mv"] * scale, delay=c["delay"]),
        )
    else:
        b = dict(BRUNEL)
        n = n or b["n"]
        n_e = int(0.8 * n)
        nu_thr = b["theta"] / (b["j"] * b["c_e"] * b["tau"]) * 1e3
        P = nest.Create(
            "iaf_psc_delta",
            n,
            params=dict(
                tau_m=b["tau"],
                V_th=b["theta"],
                V_reset=b["v_reset"],
                t_ref=b["t_ref"],
                E_L=0.0,
                C_m=1.0,
                V_m=0.0,
            ),
        )
        P.V_m = nest.random.uniform(0.0, b["theta"])
        noise = nest.Create("poisson_generator", params=dict(rate=b["eta"] * nu_thr * b["c_e"]))
        nest.Connect(noise, P, syn_spec=dict(weight=b["j"], delay=b["delay"]))
        nest.Connect(
            P[:n_e],
            P,
            dict(rule="fixed_indegree", indegree=b["c_e"]),
            dict(weight=b["j"], delay=b["delay"]),
        )
        nest.Connect(
            P[n_e:],
            P,
            dict(rule="fixed_indegree", indegree=b["c_i"]),
            dict(weight=-b["g"] * b["j"], delay=b["delay"]),
        )
    sr = nest.Create("spike_recorder")
    nest.Connect(P, sr)
    nest.Prepare()
    nest.Run(0.1)  # finish connection infrastructure before measuring memory
    built = rss_mb()
    # minus the recorder's connections (and the Poisson generator's, for brunel)
    n_syn = nest.num_connections - len(P) * (2 if workload == "brunel" else 1)
    t_build = time.perf_counter() - t0
    t2 = time.perf_counter()
    nest.Run(duration * 1e3 - 0.1)
    t_sim = time.perf_counter() - t2
    nest.Cleanup()
    events = sr.get("events")
    times = np.asarray(events["times"])
    spikes = int(np.sum(times > 0.0))
    return dict(
        cv=isi_cv(times * 1e-3, events["senders"]),
        build=t_build,
        compile=0.0,
        sim=t_sim,
        spikes=spikes,
        rate=spikes / (len(P) * duration),
        synapses=int(n_syn),
        bytes_per_synapse=(built - base) * 2**20 / n_syn,
        peak_mb=rss_mb("VmHWM"),
        total=time.perf_counter() - t0,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("simulator", choices=["axonforge", "brian2-runtime", "brian2-cpp", "nest"])
    ap.add_argument(
        "workload",
        choices=["cuba", "cuba-noise", "cobahh", "hh-neuron", "brunel", "plastic", "static"],
    )
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=None, help="network size (brunel)")
    ap.add_argument("--precision", default="float64")
    ap.add_argument("--threads", type=int, default=1, help="threads (OpenMP for brian2-cpp)")
    ap.add_argument(
        "--network-file",
        help="cobahh: axonforge writes its realisation (synapses, initial state) here, "
        "Brian2 reads it and simulates the same network",
    )
    a = ap.parse_args()
    if a.workload in ("plastic", "static"):
        import plasticity

        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        if a.simulator == "axonforge":
            res = plasticity.axonforge(a.workload, a.duration, a.seed)
        elif a.simulator.startswith("brian2"):
            res = plasticity.brian2(a.workload, a.duration, a.seed, a.simulator.split("-")[1])
        else:
            res = plasticity.nest_run(a.workload, a.duration, a.seed)
        res.update(
            simulator=a.simulator,
            workload=a.workload,
            duration=a.duration,
            seed=a.seed,
            peak_mb=rss_mb("VmHWM"),
        )
        print("RESULT " + json.dumps(res))
        return
    if a.workload == "hh-neuron":
        res = hh_neuron(a.simulator.split("-")[0], a.duration)
        res.update(simulator=a.simulator, workload=a.workload, duration=a.duration)
        print("RESULT " + json.dumps(res))
        return
    if a.simulator == "axonforge":
        res = axonforge(a.workload, a.duration, a.seed, a.n, a.precision, a.threads, a.network_file)
    elif a.simulator.startswith("brian2"):
        mode = a.simulator.split("-")[1]
        res = brian2(a.workload, a.duration, a.seed, mode, a.n, a.threads, a.network_file)
    else:
        res = nest_run(a.workload, a.duration, a.seed, a.n, a.threads)
    res.update(simulator=a.simulator, workload=a.workload, duration=a.duration, seed=a.seed)
    res["threads"] = a.threads
    if os.environ.get("OMPI_COMM_WORLD_RANK", "0") == "0":  # under mpirun, rank 0 reports
        print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main()
