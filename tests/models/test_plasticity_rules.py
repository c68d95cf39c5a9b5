"""Triplet STDP, Tsodyks-Markram short-term plasticity and dopamine-modulated STDP against
independent reference computations (models/plasticity.py names the sources).

The references here are written from the papers' equations, event by event with explicit
sums over spike lists or numerical quadrature, sharing no code with the simulator.
"""

import numpy as np
import pytest
from scipy.integrate import quad

import axonforge as sim
from axonforge.models import LIF, DopamineSTDP, SpikeSource, TripletSTDP, TsodyksMarkram
from axonforge.units import ms, mV

DT = 0.1 * ms


def forced_pair(rule, pre_times, post_times, w0, run, modulator=None, schedule=()):
    """One plastic synapse whose pre spikes are ``pre_times`` and whose post neuron is
    forced (strong one-to-one input, 0.1 ms delay) to spike at ``post_times``.
    ``schedule``: (time, modulator value) pairs applied with set_modulator."""
    net = sim.Network(dt=DT, seed=3)
    pre = net.population(SpikeSource(pre_times, np.zeros(len(pre_times), int)), n=1, name="pre")
    post = net.population(
        LIF(kinetics="delta", v_rest=0.0, v_thresh=1 * mV, v_reset=0.0, t_ref=0.0), n=1, v=0.0
    )
    if len(post_times):
        force = net.population(
            SpikeSource(np.asarray(post_times) - DT, np.zeros(len(post_times), int)), n=1
        )
        net.connect(force, post, weight=5 * mV, delay=DT)
    mod = None
    if modulator is not None:
        mod = net.modulator("dopamine", **modulator)
    proj = net.connect(pre, post, weight=w0, delay=DT, synapse=rule, modulator=mod)
    spikes = net.spike_monitor(post)
    t = 0.0
    for when, value in sorted(schedule):
        net.run(round(when - t, 9))
        net.set_modulator(value)
        t = when
    net.run(round(run - t, 9))
    np.testing.assert_allclose(spikes.times, post_times, atol=1e-12)  # protocol worked
    return proj, net


# ------------------------------------------------------------------------- triplet
def triplet_reference(p, pre, post, w0, nearest):
    """Pfister & Gerstner (2006) eqs. (3)-(4) with explicit sums over earlier spikes
    (nearest: only the latest one); a pre and a post spike at the same time: pre first."""
    events = sorted([(t, 0) for t in pre] + [(t, 1) for t in post])
    w = w0

    def trace(times, t, tau, strict):
        past = [s for s in times if (s < t - 1e-12 if strict else s <= t + 1e-12)]
        if nearest:
            past = past[-1:]
        return sum(np.exp(-(t - s) / tau) for s in past)

    for t, kind in events:
        if kind == 0:  # pre: o1 from earlier posts, r2 from earlier pres (t - eps)
            o1 = trace(post, t, p["tau_minus"], strict=True)
            r2 = trace(pre, t, p["tau_x"], strict=True)
            w = np.clip(w - o1 * (p["A2_minus"] + p["A3_minus"] * r2), p["w_min"], p["w_max"])
        else:  # post: r1 includes a pre at the same time; o2 from earlier posts
            r1 = trace(pre, t, p["tau_plus"], strict=False)
            o2 = trace(post, t, p["tau_y"], strict=True)
            w = np.clip(w + r1 * (p["A2_plus"] + p["A3_plus"] * o2), p["w_min"], p["w_max"])
    return w


#: weights are PSP jumps in volts here; 1 paper unit = 1 uV keeps the post neuron silent
UNIT = 1e-6


def triplet(preset):
    amps = {
        a: TripletSTDP.PRESETS[preset][a] * UNIT for a in TripletSTDP.PRESETS[preset] if a[0] == "A"
    }
    return TripletSTDP.preset(preset, w_min=0.0, w_max=10 * UNIT, **amps)


@pytest.mark.parametrize("preset", sorted(TripletSTDP.PRESETS))
def test_triplet_matches_the_equations_on_an_irregular_train(preset):
    rule = triplet(preset)
    rng = np.random.default_rng(5)
    pre = np.unique(np.round(rng.uniform(0.01, 0.5, 25), 4))
    post = np.unique(np.round(rng.uniform(0.01, 0.5, 20), 4))
    post = np.union1d(post, pre[:3])  # a few coincident pre/post pairs
    proj, _net = forced_pair(rule, pre, post, UNIT, 0.6)
    expected = triplet_reference(rule.params, pre, post, UNIT, rule.pairing == "nearest")
    assert abs(proj.weights[0] - expected) <= 1e-9 * abs(expected)


@pytest.mark.parametrize("dt_pair", [10 * ms, -10 * ms])
def test_triplet_frequency_dependence_of_pairing(dt_pair):
    """Sjöström et al. (2001) as fitted by Pfister & Gerstner (2006), Fig. 5: 60 pairings
    at 0.1 Hz give LTP for +10 ms and LTD for -10 ms; at 50 Hz both give LTP."""
    rule = triplet("visual_cortex_all_to_all")
    for rate, sign in ((0.1, np.sign(dt_pair)), (50.0, 1.0)):
        pre = 0.05 + np.arange(60) / rate
        post = np.round(pre + dt_pair, 6)
        proj, _ = forced_pair(rule, pre, post, UNIT, float(post.max() + 0.01))
        assert np.sign(proj.weights[0] - UNIT) == sign, (rate, dt_pair, proj.weights[0])


# ----------------------------------------------------------------- Tsodyks-Markram
def tm_reference(times, U, tau_rec, tau_fac, w):
    """Maass & Markram (2002) eqs. (4)-(5): amplitude w*u_n*x_n of each spike."""
    u, x, out, last = U, 1.0, [], None
    for t in times:
        if last is not None:
            delta = t - last
            fac = np.exp(-delta / tau_fac) if tau_fac > 0 else 0.0
            x = 1 - (1 - x * (1 - u)) * np.exp(-delta / tau_rec)
            u = U + u * (1 - U) * fac
        out.append(w * u * x)
        last = t
    return np.array(out)


@pytest.mark.parametrize(
    "params",
    [
        dict(U=0.5, tau_rec=0.8, tau_fac=0.0),  # depressing (Tsodyks & Markram 1997)
        dict(U=0.1, tau_rec=0.1, tau_fac=1.0),  # facilitating (Markram et al. 1998)
        dict(U=0.25, tau_rec=0.3, tau_fac=0.2),
    ],
)
def test_tsodyks_markram_response_matches_u_x_recursion(params):
    tau_syn, w = 2 * ms, 1e-9
    regular = 0.05 + np.arange(20) * 0.025  # 40 Hz train
    recovery = np.array([0.7, 0.95, 1.5])  # then single probes: recovery of x
    times = np.concatenate([regular, recovery])
    net = sim.Network(dt=DT, seed=1)
    pre = net.population(SpikeSource(times, np.zeros(len(times), int)), n=1)
    post = net.population(LIF(kinetics="exp", tau_syn_exc=tau_syn, v_thresh=100 * mV), n=1)
    net.connect(pre, post, weight=w, delay=DT, synapse=TsodyksMarkram(**params))
    mon = net.state_monitor(post, ["i_syn_exc"])
    net.run(1.6)
    current = mon["i_syn_exc"][:, 0]
    jumps = current[1:] - current[:-1] * np.exp(-DT / tau_syn)
    arrived = np.flatnonzero(np.abs(jumps) > 1e-3 * w) + 1
    np.testing.assert_allclose(mon.t[arrived], times + DT, atol=1e-9)  # delay DT
    expected = tm_reference(times, w=w, **params)
    assert np.max(np.abs(jumps[arrived - 1] - expected) / expected) < 1e-6


def test_tsodyks_markram_parameter_errors():
    with pytest.raises(ValueError, match="U = 1.5 must be in"):
        TsodyksMarkram(U=1.5)
    with pytest.raises(ValueError, match="tau_rec = -0.1 must be > 0"):
        TsodyksMarkram(tau_rec=-0.1)
    with pytest.raises(ValueError, match="tau_fac = -1 must be >= 0"):
        TsodyksMarkram(tau_fac=-1.0)


# ---------------------------------------------------------------- dopamine STDP
def dopamine_reference(p, pre, post, w0, end, tau_m, sets=(), da_spikes=(), amount=0.0):
    """Izhikevich (2007) eqs. (1)-(2), nearest pairing, integrated by quadrature between
    breakpoints: c jumps at spikes and decays with tau_c; mod decays with tau_m, jumps at
    dopamine spikes and is set at ``sets``; dw/dt = c*(mod + tonic), clipped."""
    events = sorted(
        [(t, 0, None) for t in pre]
        + [(t, 1, None) for t in post]
        + [(t, 2, v) for t, v in sets]
        + [(t, 3, None) for t in da_spikes]
        + [(end, 4, None)]
    )
    w, c, m, now = w0, 0.0, 0.0, 0.0
    last_pre = last_post = None
    for t, kind, value in events:
        if t > now:
            c0, m0, a = c, m, now

            def rate(s, c0=c0, m0=m0, a=a):
                return (
                    c0
                    * np.exp(-(s - a) / p["tau_c"])
                    * (m0 * np.exp(-(s - a) / tau_m) + p["tonic"])
                )

            w = np.clip(w + quad(rate, a, t, epsabs=0, epsrel=1e-13)[0], p["w_min"], p["w_max"])
            c *= np.exp(-(t - a) / p["tau_c"])
            m *= np.exp(-(t - a) / tau_m)
            now = t
        if kind == 0:
            if last_post is not None:
                c += p["a_minus"] * np.exp(-(t - last_post) / p["tau_minus"])
            last_pre = t
        elif kind == 1:
            if last_pre is not None:
                c += p["a_plus"] * np.exp(-(t - last_pre) / p["tau_plus"])
            last_post = t
        elif kind == 2:
            m = value
        elif kind == 3:
            m += amount
    return w


DOPA = dict(a_plus=2e-4, a_minus=-3e-4, tonic=0.002, w_min=0.0, w_max=1e-4)


@pytest.mark.parametrize("tau_c", [1.0, 0.03])  # 0.03 s: re-referenced every 0.3 s
def test_dopamine_stdp_matches_quadrature_of_the_equations(tau_c):
    rule = DopamineSTDP(tau_c=tau_c, **DOPA)
    rng = np.random.default_rng(11)
    pre = np.unique(np.round(rng.uniform(0.01, 1.2, 30), 4))
    post = np.unique(np.round(rng.uniform(0.01, 1.2, 30), 4))
    sets = [(0.3, 0.5), (0.8, 0.25), (1.1, 1.0)]  # rewards given between runs
    proj, net = forced_pair(rule, pre, post, 5e-5, 1.5, modulator=dict(tau=0.2), schedule=sets)
    expected = dopamine_reference(rule.params, pre, post, 5e-5, 1.5, 0.2, sets)
    assert abs(proj.weights[0] - expected) < 1e-9 * DOPA["w_max"]
    assert abs(expected - 5e-5) > 1e-7  # the rule did move the weight (by 1e-6 or more)


def test_dopamine_from_a_population_and_weight_bound():
    """Dopaminergic spikes raise the concentration by ``amount``; the weight saturates
    at w_max exactly where the reference's does."""
    da_times = np.array([0.25, 0.26, 0.6])
    rule = DopamineSTDP(**{**DOPA, "a_plus": 4e-3})
    pre = np.arange(0.05, 0.5, 0.05)
    post = np.round(pre + 5 * ms, 6)
    net = sim.Network(dt=DT, seed=3)
    pre_pop = net.population(SpikeSource(pre, np.zeros(len(pre), int)), n=1)
    post_pop = net.population(
        LIF(kinetics="delta", v_rest=0.0, v_thresh=1 * mV, v_reset=0.0, t_ref=0.0), n=1, v=0.0
    )
    force = net.population(SpikeSource(post - DT, np.zeros(len(post), int)), n=1)
    net.connect(force, post_pop, weight=5 * mV, delay=DT)
    da = net.population(SpikeSource(da_times - DT, [0, 1, 0]), n=2, name="VTA")
    mod = net.modulator("dopamine", tau=0.2, source=da, amount=0.3)
    proj = net.connect(pre_pop, post_pop, weight=5e-5, delay=DT, synapse=rule, modulator=mod)
    wmon = net.weight_monitor(proj, [0], variables=["w", "c"], every=100)
    net.run(1.0)
    expected = dopamine_reference(
        rule.params, pre, post, 5e-5, 1.0, 0.2, da_spikes=da_times, amount=0.3
    )
    assert abs(proj.weights[0] - expected) < 1e-9 * DOPA["w_max"]
    assert proj.weights[0] == DOPA["w_max"]  # saturated
    assert wmon["w"][-1, 0] == proj.weights[0]  # the monitor sees the up-to-date weight
    assert np.all(np.diff(wmon["w"][:, 0]) >= 0)


def test_modulated_network_checkpoint_continues_identically(tmp_path):
    def build():
        net = sim.Network(dt=DT, seed=8)
        src = net.population(sim_poisson(40.0), n=50, name="in")
        out = net.population(LIF(), n=20, name="out")
        mod = net.modulator("dopamine", tau=0.2)
        proj = net.connect(
            src,
            out,
            rule=sim.FixedProbability(0.3),
            weight=0.2e-9,
            synapse=DopamineSTDP(a_plus=1e-9, a_minus=-1.5e-9, w_max=1e-9),
            modulator=mod,
            name="plastic",
        )
        return net, proj

    a, pa = build()
    a.run(0.2)
    a.set_modulator(0.5)
    a.run(0.3)
    b, _ = build()
    b.run(0.2)
    b.set_modulator(0.5)
    b.run(0.1)
    b.save(tmp_path / "mid.h5")
    c = sim.load(tmp_path / "mid.h5")
    assert c.modulators["dopamine"].value == b.modulators["dopamine"].value
    c.run(0.2)
    np.testing.assert_array_equal(c.projections["plastic"].weights, pa.weights)
    assert np.ptp(pa.weights) > 0


def sim_poisson(rate):
    from axonforge.models import PoissonSource

    return PoissonSource(rate)


def test_modulator_errors():
    net = sim.Network(dt=DT, seed=1)
    a = net.population(SpikeSource([0.01], [0]), n=1)
    b = net.population(LIF(), n=1)
    with pytest.raises(ValueError, match="no modulator and no modulated projection"):
        net.set_modulator(1.0)
    mod = net.modulator("dopamine", tau=0.2)
    with pytest.raises(ValueError, match="no projection is modulated by 'dopamine'"):
        net.set_modulator(1.0)
    with pytest.raises(ValueError, match="three-factor rule; give the modulator"):
        net.connect(a, b, weight=0.0, synapse=DopamineSTDP(w_max=1e-9, a_plus=1e-9, a_minus=-1e-9))
    from axonforge.models import STDP

    with pytest.raises(ValueError, match="does not read a modulator"):
        net.connect(a, b, weight=0.0, synapse=STDP(), modulator=mod)
    with pytest.raises(ValueError, match="static synapses read no modulator"):
        net.connect(a, b, weight=0.0, modulator=mod)
    with pytest.raises(ValueError, match="already used"):
        net.modulator("dopamine")
    with pytest.raises(ValueError, match="tau must be a positive time"):
        net.modulator("other", tau=-1.0)
    with pytest.raises(ValueError, match="w_min = 1 is above w_max = 0"):
        DopamineSTDP(w_min=1.0, w_max=0.0)
    with pytest.raises(ValueError, match="tau_c = -1 must be > 0"):
        DopamineSTDP(tau_c=-1.0)
    amps = dict(w_max=1e-9, a_plus=1e-9, a_minus=-1e-9)  # amperes: the defaults are volts
    net.connect(a, b, weight=0.0, synapse=DopamineSTDP(**amps), modulator=mod)
    with pytest.raises(ValueError, match="finite number"):
        net.set_modulator(float("nan"))
    net.set_modulator(0.5)
    assert mod.value == 0.5


# ------------------------------------------------------- error-modulated readout
def test_error_modulated_hebbian_matches_its_closed_form():
    """Post neuron silent: c(t) = sum_s a_pre*exp(-(t - t_s)/tau_c), and with mod held
    at m_k during [T_k, T_k+1), w gains m_k * int c dt (closed form per spike)."""
    from axonforge.models import ErrorModulatedHebbian

    a_pre, tau_c = 2e-6, 0.05
    rule = ErrorModulatedHebbian(a_pre=a_pre, tau_c=tau_c, w_min=-1e-4, w_max=1e-4)
    pre = np.round(np.sort(np.random.default_rng(2).uniform(0.0, 0.9, 40)), 4)
    sets = [(0.0, 0.0), (0.2, 1.5), (0.5, -0.7), (0.7, 0.0), (0.8, 2.0)]
    proj, _ = forced_pair(rule, pre, [], 0.0, 1.0, modulator=dict(tau=None), schedule=sets[1:])
    bounds = [t for t, _ in sets] + [1.0]
    expected = 0.0
    for (start, m), end in zip(sets, bounds[1:]):
        for ts in pre[pre < end]:
            lo = max(start, ts)
            expected += (
                m * a_pre * tau_c * (np.exp(-(lo - ts) / tau_c) - np.exp(-(end - ts) / tau_c))
            )
    assert abs(proj.weights[0] - expected) < 1e-12 * 1e-4 + 1e-9 * abs(expected)
    assert abs(expected) > 1e-7


def test_error_modulated_readout_learns_a_target_rate_only_when_attending():
    """A readout neuron learns to fire at 20 Hz from 200 Poisson inputs when the
    modulator carries gate*(target - rate) every 100 ms; with the gate closed the
    weights do not move although the error is large."""
    from axonforge.models import ErrorModulatedHebbian, PoissonSource

    net = sim.Network(dt=DT, seed=5)
    inp = net.population(PoissonSource(rate=10.0), n=200)
    out = net.population(LIF(), n=1, name="readout")
    mod = net.modulator("error", tau=None)
    rule = ErrorModulatedHebbian(a_pre=2e-12, tau_c=0.05, w_min=0.0, w_max=100e-12)
    proj = net.connect(inp, out, weight=0.0, delay=1 * ms, synapse=rule, modulator=mod)
    spikes = net.spike_monitor(out)
    target, chunk, rates = 20.0, 0.1, [0.0]
    for step in range(100):
        gate = 1.0 if step < 80 else 0.0  # attention on for 8 s, then off
        net.set_modulator(gate * (target - rates[-1]))
        if step == 80:
            frozen = proj.weights.copy()
        before = len(spikes.times)
        net.run(chunk)
        rates.append((len(spikes.times) - before) / chunk)
    rates = rates[1:]
    assert np.mean(rates[:5]) < 2.0  # silent at first
    assert abs(np.mean(rates[60:80]) - target) < 5.0, rates[60:80]
    np.testing.assert_array_equal(proj.weights, frozen)  # gate closed: no learning
    assert abs(rates[-1] - target) < 15.0


def test_bad_three_factor_specs():
    from axonforge.models import SynapseModel, SynapseSpec

    def make(**kw):
        base = dict(
            name="Mine",
            parameters={"tau_c": (0.1, "s", ""), "w_min": (0.0, "", ""), "w_max": (1.0, "", "")},
            state={"w": (0.0, "", "")},
            eligibility={"c": "tau_c"},
            modulated="dw/dt = c*mod",
        )
        base.update(kw)
        cls = type("Mine", (SynapseModel,), {"spec": SynapseSpec(**base)})
        net = sim.Network(dt=DT, seed=1)
        a = net.population(SpikeSource([0.01], [0]), n=1)
        b = net.population(LIF(), n=1)
        net.connect(a, b, weight=0.0, synapse=cls(), modulator=net.modulator("m", tau=None))

    make()  # the base spec is valid
    with pytest.raises(sim.SpecError, match="must be linear in mod"):
        make(modulated="dw/dt = c*(mod*mod)")
    with pytest.raises(sim.SpecError, match="right side must be c"):
        make(modulated="dw/dt = mod + c")
    with pytest.raises(sim.SpecError, match="expected 'dw/dt = c"):
        make(modulated="dx/dt = c*mod")
    with pytest.raises(sim.SpecError, match=r"needs parameters \['w_max', 'w_min'\]"):
        make(parameters={"tau_c": (0.1, "s", "")})
    with pytest.raises(sim.SpecError, match="unknown symbol 'eta'"):
        make(modulated="dw/dt = c*(mod + eta)")
    with pytest.raises(ValueError, match="'c' decays with 'tau_e', which is not a parameter"):
        make(eligibility={"c": "tau_e"})


@pytest.mark.parametrize("name", ["STDP", "TripletSTDP", "DopamineSTDP", "ErrorModulatedHebbian"])
def test_every_bounded_rule_rejects_inverted_bounds_and_negative_taus(name):
    from axonforge import models

    cls = getattr(models, name)
    with pytest.raises(ValueError, match="w_min = 2 is above w_max = 1"):
        cls(w_min=2.0, w_max=1.0)
    tau = {"STDP": "tau_plus", "TripletSTDP": "tau_x", "DopamineSTDP": "tau_minus"}
    tau = tau.get(name, "tau_pre")
    with pytest.raises(ValueError, match=f"{tau} = -0.01 must be > 0"):
        cls(**{tau: -0.01})
