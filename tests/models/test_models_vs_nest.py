"""Single neurons against NEST 3.10 traces (peer simulator), model by model.

Fixture: tests/fixtures/nest_single_neurons.json, made by
tests/fixtures/make_nest_fixtures.py (run it in a venv with nest-simulator). Protocol:
one neuron, dt = 0.1 ms, 300 ms; excitatory and inhibitory input spikes with delay
1.5 ms; a step current switched on at 50 ms and off at 200 ms. NEST connects the
step-current generator with its default delay of 1 ms, so here the current changes at
51 and 201 ms.

Tolerances: exactly integrated models (LIF with exp/alpha/delta currents) and the
Izhikevich model (both use NEST's forward-Euler scheme) must give identical spike times
and traces within 1e-6 mV (NEST's recorded values carry about 1e-7 mV of rounding).
iaf_cond_exp is integrated by NEST with adaptive RKF45 and here with RK4 at dt: same
spikes, traces within 1e-5 mV. AdEx: NEST resets inside its adaptive sub-steps, we at
the step end, so spike counts must agree and times within 1 ms here; the lag over many
spikes is measured against tests/fixtures/nest_aeif_drift.json (same script, fixture
``aeif_drift``) and bounded as AdEx's docstring states.
"""

import json

import numpy as np
import pytest
from conftest import FIXTURES

import axonforge as sim
from axonforge.models import LIF, AdEx, Izhikevich, LIFCond, SpikeSource, StepCurrent
from axonforge.units import ms, mV, nS, pA, pF

FIX = json.loads((FIXTURES / "nest_single_neurons.json").read_text())


def _model(name, p):
    if name.startswith("iaf_psc"):
        kin = name.split("_")[-1]
        syn = (
            {}
            if kin == "delta"
            else dict(tau_syn_exc=p["tau_syn_ex"] * ms, tau_syn_inh=p["tau_syn_in"] * ms)
        )
        model = LIF(
            kinetics=kin,
            c_m=p["C_m"] * pF,
            tau_m=p["tau_m"] * ms,
            t_ref=p["t_ref"] * ms,
            v_rest=p["E_L"] * mV,
            v_reset=p["V_reset"] * mV,
            v_thresh=p["V_th"] * mV,
            **syn,
        )
        return model, (mV if kin == "delta" else pA)
    if name == "iaf_cond_exp":
        return LIFCond(
            c_m=p["C_m"] * pF,
            tau_m=p["C_m"] / p["g_L"] * ms,
            t_ref=p["t_ref"] * ms,
            v_rest=p["E_L"] * mV,
            v_reset=p["V_reset"] * mV,
            v_thresh=p["V_th"] * mV,
            tau_syn_exc=p["tau_syn_ex"] * ms,
            tau_syn_inh=p["tau_syn_in"] * ms,
            e_rev_exc=p["E_ex"] * mV,
            e_rev_inh=p["E_in"] * mV,
        ), nS
    if name == "izhikevich":
        return Izhikevich(
            a=p["a"] * 1e3, b=p["b"] * 1e3, c=p["c"] * mV, d=p["d"], v_peak=p["V_th"] * mV
        ), mV
    return AdEx(
        c_m=p["C_m"] * pF,
        g_l=p["g_L"] * nS,
        e_l=p["E_L"] * mV,
        delta_t=p["Delta_T"] * mV,
        v_t=p["V_th"] * mV,
        tau_w=p["tau_w"] * ms,
        a=p["a"] * nS,
        b=p["b"] * pA,
        v_reset=p["V_reset"] * mV,
        v_peak=p["V_peak"] * mV,
        t_ref=p["t_ref"] * ms,
        tau_syn_exc=p["tau_syn_ex"] * ms,
        tau_syn_inh=p["tau_syn_in"] * ms,
    ), pA


def simulate(name):
    case = FIX["cases"][name]
    model, wunit = _model(name, case["params"])
    net = sim.Network(dt=FIX["dt_ms"] * ms, seed=1)
    init = {"v": case["v0"] * mV}
    if "u0" in case:
        init["u"] = case["u0"]  # mV/ms == V/s
    pop = net.population(model, n=1, **init)
    for times, w, port in (
        (FIX["exc_times_ms"], case["w_exc"], "exc"),
        (FIX["inh_times_ms"], case["w_inh"], "inh"),
    ):
        src = net.population(SpikeSource(np.array(times) * ms))
        net.connect(src, pop, weight=w * wunit, delay=FIX["delay_ms"] * ms, port=port)
    net.inject(StepCurrent((np.array(FIX["step_ms"]) + 1.0) * ms, [case["i_on"] * pA, 0.0]), pop)
    spikes = net.spike_monitor(pop)
    trace = net.state_monitor(pop, "v")
    net.run(FIX["t_ms"] * ms)
    return case, spikes, trace


@pytest.mark.parametrize(
    "name,tol_mv",
    [
        ("iaf_psc_exp", 1e-6),
        ("iaf_psc_alpha", 1e-6),
        ("iaf_psc_delta", 1e-6),
        ("izhikevich", 1e-4),
        ("iaf_cond_exp", 1e-5),
    ],
)
def test_identical_spikes_and_traces(name, tol_mv):
    case, spikes, trace = simulate(name)
    assert len(case["spikes"]) >= 5, "fixture should exercise several spikes"
    np.testing.assert_allclose(spikes.times / ms, case["spikes"], atol=1e-9)
    n = len(case["v"])
    np.testing.assert_allclose(trace.t[:n] / ms, case["times"], atol=1e-9)
    assert np.max(np.abs(trace["v"][:n, 0] / mV - np.array(case["v"]))) < tol_mv


def test_adex_close_to_nest():
    case, spikes, trace = simulate("aeif_psc_exp")
    assert len(spikes.times) == len(case["spikes"]) == 5
    assert np.max(np.abs(spikes.times / ms - case["spikes"])) < 1.0
    # before the first spike the two integrations agree closely
    first = int(round(case["spikes"][0] / FIX["dt_ms"])) - 5
    assert np.max(np.abs(trace["v"][:first, 0] / mV - case["v"][:first])) < 1e-3


def test_adex_with_delta_t_zero_is_the_integrate_and_fire_limit():
    """NEST's aeif models treat Delta_T = 0 as the plain integrate-and-fire limit: no
    exponential current and the threshold moves to V_th. With a = b = 0 that is a LIF with
    tau_m = c_m/g_l, integrated here exactly; RK4 at dt must give the same spike steps
    (each within one step) and never a NaN."""
    c_m, g_l, e_l, v_t, v_reset, i_e = 281 * pF, 30 * nS, -70.6 * mV, -50.4 * mV, -60 * mV, 800
    net = sim.Network(dt=0.1 * ms, seed=1)
    adex = net.population(
        AdEx(c_m=c_m, g_l=g_l, e_l=e_l, v_t=v_t, v_reset=v_reset, delta_t=0.0, a=0.0, b=0.0,
             i_offset=i_e * pA),
        n=1,
    )  # fmt: skip
    lif = net.population(
        LIF(tau_m=c_m / g_l, c_m=c_m, v_rest=e_l, v_thresh=v_t, v_reset=v_reset, t_ref=0.0,
            i_offset=i_e * pA),
        n=1,
    )  # fmt: skip
    a, b = net.spike_monitor(adex), net.spike_monitor(lif)
    net.run(0.5)
    assert len(a.times) == len(b.times) > 10
    assert np.max(np.abs(a.times - b.times)) <= 0.1 * ms + 1e-12


DRIFT = json.loads((FIXTURES / "nest_aeif_drift.json").read_text())


def _adex_drift(protocol, dt_ms, method=None):
    case = DRIFT["protocols"][protocol]
    p, d = case["params"], {**case["nest_defaults_used"], **case["params"]}
    net = sim.Network(dt=dt_ms * ms, seed=1)
    pop = net.population(
        AdEx(
            method=method,
            c_m=p["C_m"] * pF, g_l=p["g_L"] * nS, e_l=p["E_L"] * mV, delta_t=p["Delta_T"] * mV,
            v_t=p["V_th"] * mV, tau_w=p["tau_w"] * ms, a=p["a"] * nS, b=p["b"] * pA,
            v_reset=p["V_reset"] * mV, v_peak=p["V_peak"] * mV, t_ref=d["t_ref"] * ms,
            i_offset=p["I_e"] * pA, tau_syn_exc=d["tau_syn_ex"] * ms,
            tau_syn_inh=d["tau_syn_in"] * ms,
        ),
        n=1, v=case["v0"] * mV, w=case["w0"] * pA,
    )  # fmt: skip
    for inp in case.get("inputs", ()):
        src = net.population(SpikeSource(times=np.array(inp["times"]) * ms), n=1)
        port = "exc" if inp["weight"] > 0 else "inh"
        net.connect(src, pop, rule=sim.AllToAll(), weight=inp["weight"] * pA,
                    delay=case["delay"] * ms, port=port)  # fmt: skip
    spikes = net.spike_monitor(pop)
    net.run(case["t_ms"] * ms)
    return spikes.times / ms, np.array(case["spikes"][f"{dt_ms:g}"])


@pytest.mark.parametrize("protocol", ["lsodar", "tonic"])
def test_adex_spike_lag_behind_nest_is_as_documented(protocol):
    """The accuracy stated in AdEx's docstring, measured against NEST 3.10 aeif_psc_exp
    (fixture nest_aeif_drift.json: NEST's LSODAR test protocol, 7 spikes in 100 ms, and a
    tonic Brette-Gerstner cell, 17 spikes in 1 s). AdEx resets at the end of the step in
    which it crosses v_peak, NEST inside its adaptive sub-step, so spike k lags by about
    0.6-0.8 k steps (measured: 5 steps at the 7th LSODAR spike, 13 at the 17th tonic one);
    the bound here is 0.8 k + 1 steps and never early. At dt = 0.01 ms every spike lies
    within 0.2 ms of NEST's at dt = 0.1 ms."""
    ours, nest = _adex_drift(protocol, 0.1)
    assert len(ours) == len(nest) >= 7
    lag = np.round((ours - nest) / 0.1).astype(int)
    k = np.arange(1, len(lag) + 1)
    assert np.all(lag >= 0) and np.all(lag <= 0.8 * k + 1), lag
    fine, _ = _adex_drift(protocol, 0.01)
    assert len(fine) == len(nest) and np.max(np.abs(fine - nest)) < 0.2, fine - nest


@pytest.mark.parametrize("protocol", ["lsodar", "tonic", "refractory_input"])
@pytest.mark.parametrize("dt_ms", [0.1, 0.01])
def test_adex_rkf45_spikes_equal_nest(protocol, dt_ms):
    """With method="rkf45" AdEx is integrated as NEST's aeif_psc_exp is (adaptive
    Runge-Kutta-Fehlberg 4(5), absolute tolerance 1e-6 in mV/pA, the reset inside the
    sub-step that crosses v_peak): every spike falls in the same step as NEST's, at both
    resolutions, over 7-17 spikes; ``refractory_input`` adds t_ref = 2 ms and excitatory
    and inhibitory input spikes. (With rk4 at the step end, spike 17 lags 13 steps.)"""
    ours, nest = _adex_drift(protocol, dt_ms, method="rkf45")
    assert len(nest) >= 7
    assert len(ours) == len(nest)
    assert np.array_equal(np.round(ours / dt_ms), np.round(nest / dt_ms)), ours - nest
