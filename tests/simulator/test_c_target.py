"""The C target against Numba: the same lowered neuron update (one population, N steps),
printed once by the C printer and once by the Python printer, gives bit-identical state
and the same spikes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import axonforge as af
from axonforge.backends.numba_backend import load_kernel
from axonforge.engine import c_target, ir
from axonforge.engine.description import PopPlan
from axonforge.engine.printers import PythonPrinter
from axonforge.models import neurons as M

pytestmark = pytest.mark.skipif(
    shutil.which("cc") is None, reason="no C compiler (cc) found: the C target cannot build"
)

N = 16
STEPS = 3000
DT = 1e-4


def numba_kernel(kernel: c_target.Kernel):
    """The kernel's statements printed by PythonPrinter in a Numba function of the same
    parameters (no 2-D ``_cols``: NumPy arrays carry their shape), compiled as the Numba
    backend compiles kernels (no fast-math)."""
    params = [p for p, _ in kernel.params() if not _is_cols(kernel, p)]
    lines = [
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from axonforge.rng import normal, poisson, step_key, uniform",
        "from axonforge.engine.runtime import nan_max, nan_min",
        "",
        "@njit(cache=True, nogil=True, error_model='numpy')",
        f"def {kernel.name}({', '.join(params)}):",
        *PythonPrinter().lines([*kernel.body, ir.Return(kernel.returns)], 1),
    ]
    return getattr(load_kernel("\n".join(lines) + "\n"), kernel.name), params


def _is_cols(kernel, p):
    return p.endswith("_cols") and p[:-5] in kernel.args.decls


def population(model, **initial):
    net = af.Network(dt=DT, seed=3)
    pop = net.population(model, N, **initial)
    net._prepare()
    return pop


def run_both(pop, steps=STEPS, ports=(), inputs=None):
    plan = PopPlan("neuron", pop.checked, ports, pop.uniform)
    start = c_target.one_worker(pop.kernel_state(), steps)
    start.update(inputs or {})
    L = len(next(iter(inputs.values()))) // N if inputs else 1
    # C
    c_state = c_target.one_worker(start, steps)
    c_status, c_spikes = c_target.run_neuron_update(plan, c_state, steps, DT, L=L)
    # Numba, the same statements
    kernel = c_target.neuron_kernel(plan)
    fn, params = numba_kernel(kernel)
    nb_state = c_target.one_worker(start, steps)
    values = kernel.args.bind({("pop", 0): c_target._Owner(nb_state)})
    common = {"w": 0, "gw": 0, "k0": 0, "k1": steps, "L": L, "seed": 0, "dt": DT}
    nb_status = tuple(int(x) for x in fn(*(common.get(p, values.get(p)) for p in params)))
    nb_spikes = c_target.spikes(nb_state, steps)
    return (c_status, c_state, c_spikes), (nb_status, nb_state, nb_spikes)


def assert_identical(pop, c, nb, min_spikes):
    (c_status, c_state, c_spikes), (nb_status, nb_state, nb_spikes) = c, nb
    assert c_status == nb_status == (0, STEPS, -1, -1)
    for name in pop.state:
        x, y = c_state[f"x_{name}"], nb_state[f"x_{name}"]
        assert x.dtype == y.dtype == np.float64
        same = x.view(np.uint64) == y.view(np.uint64)
        assert same.all(), f"{name}: first difference at neuron {np.flatnonzero(~same)[0]}"
    for key in ("until", "fire", "sptr", "spk", *(k for k in c_state if k.startswith("rb_"))):
        assert np.array_equal(c_state[key], nb_state[key]), key
    assert c_spikes == nb_spikes
    # the comparison covers spikes, resets and neurons that never fire
    fired = {i for _, i in c_spikes}
    assert len(c_spikes) >= min_spikes and 0 < len(fired) < N, (len(c_spikes), fired)


def test_lif_exact_integration_c_equals_numba():
    rng = np.random.default_rng(0)
    pop = population(
        M.LIF(
            i_offset=np.linspace(50e-12, 600e-12, N),
            t_ref=np.where(np.arange(N) % 2 == 0, 2e-3, 5e-3),
            tau_m=rng.uniform(10e-3, 30e-3, N),
        ),
        v=rng.uniform(-70e-3, -54e-3, N),
        i_syn_exc=rng.uniform(0, 300e-12, N),
        i_syn_inh=-rng.uniform(0, 300e-12, N),
    )
    assert pop.checked.method == "exact"
    c, nb = run_both(pop)
    assert_identical(pop, c, nb, min_spikes=50)


def test_lif_with_ring_buffer_ports_c_equals_numba():
    """Input through ports: each step reads and clears its ring-buffer row (a row view
    in C), and refractory neurons ignore input on the clamped port."""
    rng = np.random.default_rng(5)
    pop = population(M.LIF(i_offset=np.linspace(0.0, 300e-12, N)), v=rng.uniform(-70e-3, -56e-3, N))
    inputs = {
        "rb_exc": rng.uniform(0.0, 1e-11, STEPS * N) * (rng.random(STEPS * N) < 0.3),
        "rb_inh": -rng.uniform(0.0, 1e-11, STEPS * N) * (rng.random(STEPS * N) < 0.2),
    }
    c, nb = run_both(pop, ports=("exc", "inh"), inputs=inputs)
    assert_identical(pop, c, nb, min_spikes=20)
    assert not c[1]["rb_exc"].any()  # every row was read and cleared


def test_izhikevich_euler_c_equals_numba():
    rng = np.random.default_rng(1)
    pop = population(
        M.Izhikevich(
            i_offset=np.linspace(0.0, 15e-12, N),
            a=rng.uniform(20.0, 100.0, N),
            d=rng.uniform(2.0, 8.0, N),
        ),
        v=rng.uniform(-70e-3, -50e-3, N),
    )
    assert pop.checked.method == "euler"
    c, nb = run_both(pop)
    assert_identical(pop, c, nb, min_spikes=50)


def test_adex_rk4_c_equals_numba():
    rng = np.random.default_rng(2)
    delta_t = np.full(N, 2e-3)
    delta_t[[3, 11]] = 0.0  # the integrate-and-fire limit: the other branch of both ternaries
    pop = population(
        M.AdEx(
            i_offset=np.linspace(0.0, 1.2e-9, N),
            t_ref=np.where(np.arange(N) % 3 == 0, 2e-3, 0.0),
            delta_t=delta_t,
            a=rng.uniform(0.0, 8e-9, N),
        ),
        v=rng.uniform(-70e-3, -52e-3, N),
        w=rng.uniform(0.0, 50e-12, N),
    )
    assert pop.checked.method == "rk4"
    c, nb = run_both(pop)
    assert_identical(pop, c, nb, min_spikes=50)


@pytest.mark.parametrize("t_ref", [0.0, 2e-3])
def test_adex_rkf45_c_equals_numba(t_ref):
    """The adaptive integrator: sub-step loops, rejected steps, per-neuron step sizes and
    the reset inside the step (refractory for the rest of it), printed as C and Python."""
    rng = np.random.default_rng(5)
    pop = population(
        M.AdEx(method="rkf45", i_offset=np.linspace(0.0, 1.2e-9, N), t_ref=t_ref,
               a=rng.uniform(0.0, 8e-9, N)),
        v=rng.uniform(-70e-3, -52e-3, N),
        w=rng.uniform(0.0, 50e-12, N),
    )  # fmt: skip
    assert pop.checked.method == "rkf45"
    c, nb = run_both(pop)
    assert_identical(pop, c, nb, min_spikes=50)
    assert np.array_equal(c[1]["hstep"], nb[1]["hstep"])
    assert (c[1]["hstep"] > 0).all()


def test_hh_exponential_euler_c_equals_numba():
    """Hodgkin-Huxley by exponential Euler (expm1, exprel's branch, exp in the rates, the
    shared subexpressions) with conductance input through both ports and a refractory
    dead time that clamps nothing."""
    rng = np.random.default_rng(6)
    pop = population(
        M.HH(
            i_offset=np.where(np.arange(N) >= 3, np.linspace(0.0, 0.6e-9, N), 0.0),
            g_na=rng.uniform(15e-6, 25e-6, N),
        ),
        v=rng.uniform(-75e-3, -55e-3, N),
        m=rng.uniform(0.0, 0.1, N),
        h=rng.uniform(0.3, 0.9, N),
        n_k=rng.uniform(0.1, 0.5, N),
    )
    assert pop.checked.method == "exponential_euler"
    quiet = np.tile(np.arange(N) >= 3, STEPS)  # neurons 0-2: no input, no current
    inputs = {
        "rb_exc": rng.uniform(0.0, 6e-9, STEPS * N) * (rng.random(STEPS * N) < 0.2) * quiet,
        "rb_inh": rng.uniform(0.0, 20e-9, STEPS * N) * (rng.random(STEPS * N) < 0.05),
    }
    c, nb = run_both(pop, ports=("exc", "inh"), inputs=inputs)
    assert_identical(pop, c, nb, min_spikes=50)


def test_nonfinite_state_is_reported_alike():
    """A state that becomes infinite stops both at the same step and neuron."""
    pop = population(M.Izhikevich(i_offset=np.linspace(0.0, 10e-12, N)))
    pop.state["v"][5] = 1e200  # v*v overflows in the first step
    (c_status, *_), (nb_status, *_) = run_both(pop, steps=10)
    assert c_status == nb_status == (2, 0, 0, 5)


def test_c_target_equals_a_network_run():
    """The harness is the engine's phase A: a Network with the one population, run by
    the Numba backend, ends in the C target's state with the same spikes."""

    def make():
        rng = np.random.default_rng(4)
        net = af.Network(dt=DT, seed=3)
        pop = net.population(
            M.LIF(i_offset=np.linspace(50e-12, 600e-12, N)),
            N,
            v=rng.uniform(-70e-3, -54e-3, N),
            i_syn_exc=rng.uniform(0, 300e-12, N),
        )
        return net, pop

    net, pop = make()
    net._prepare()
    plan = PopPlan("neuron", pop.checked, (), pop.uniform)
    state = c_target.one_worker(pop.kernel_state(), STEPS)
    status, spikes = c_target.run_neuron_update(plan, state, STEPS, DT)
    assert status == (0, STEPS, -1, -1)

    net, pop = make()
    mon = net.spike_monitor(pop)
    net.run(STEPS * DT)
    for name, value in pop.state.items():
        assert np.array_equal(value.view(np.uint64), state[f"x_{name}"].view(np.uint64)), name
    assert np.array_equal(pop.until, state["until"])
    got = sorted(zip(mon.steps_recorded.tolist(), mon.ids.tolist()))
    assert len(spikes) > 50 and got == sorted(spikes)


def test_white_noise_and_random_calls_c_equal_numba():
    """The exact Ornstein-Uhlenbeck update (noise coefficients per neuron) and
    Euler-Maruyama with two noise symbols, rand() in a threshold and randn() in a reset:
    the counter-based normals (branch-free Box-Muller in single precision with fused
    multiply-adds, :func:`axonforge.rng.normal`) are
    the same bits in C and Numba."""
    from engine_cases import ESCAPE_QIF, NOISY_LIF

    from axonforge.models.base import spec_model

    lif = population(
        spec_model(NOISY_LIF, strict_units=False, mu=np.linspace(0.0, 25e-3, N),
                   sigma=np.linspace(0.5e-3, 4e-3, N)),
        v=np.linspace(0.0, 15e-3, N),
    )  # fmt: skip
    assert lif.checked.method == "exact" and lif.checked.noise
    c, nb = run_both(lif)
    # 52.6 +- 4.3 spikes over seeds: at least 35 shows the comparison covers spiking
    assert_identical(lif, c, nb, min_spikes=35)
    qif = population(
        spec_model(ESCAPE_QIF, strict_units=False, rate=np.where(np.arange(N) < 4, 0.0, 50.0),
                   sigma=np.linspace(0.0, 0.4, N)),
        u=np.linspace(-1.0, 0.0, N),
    )  # fmt: skip
    assert qif.checked.method == "euler" and qif.checked.n_random == 2
    c, nb = run_both(qif)
    (_, _, c_spikes) = c
    assert len(c_spikes) > 20
    for name in qif.state:
        assert np.array_equal(c[1][f"x_{name}"].view(np.uint64), nb[1][f"x_{name}"].view(np.uint64))
    assert c_spikes == nb[2]


def test_astrocytes_c_equal_numba():
    """Astrocytes: the Li-Rinzel model's bounds (Ca clipped after integration) and graded
    output (an event with its value wherever the SIC is nonzero), and the G-ChI model's
    refractory condition (release on each upward crossing of c_theta)."""
    from axonforge.models import AstrocyteGChI, AstrocyteLR1994

    lr = population(
        AstrocyteLR1994(ip3_0=np.linspace(0.1, 0.8, N)),
        ca=np.linspace(0.0, 2.0, N), ip3=np.linspace(0.1, 1.5, N),
    )  # fmt: skip
    c, nb = run_both(lr)
    (c_status, c_state, _), (nb_status, nb_state, _) = c, nb
    assert c_status == nb_status == (0, STEPS, -1, -1)
    for key in ("x_ca", "x_ip3", "x_h_ip3r", "sptr", "spk", "mult"):
        assert np.array_equal(c_state[key], nb_state[key]), key
    assert c_state["sptr"][0, -1] > 1000  # SIC events were emitted
    gchi = population(
        AstrocyteGChI(f_ex=2.0, i_bias=np.linspace(0.3, 1.5, N)),
        ca=np.linspace(0.0, 0.6, N), ip3=0.4, h=0.9,
    )  # fmt: skip
    c, nb = run_both(gchi, steps=STEPS)
    (c_status, c_state, c_spikes), (nb_status, nb_state, nb_spikes) = c, nb
    assert c_status == nb_status
    for name in gchi.state:
        assert np.array_equal(c_state[f"x_{name}"], nb_state[f"x_{name}"]), name
    assert c_spikes == nb_spikes and np.array_equal(c_state["until"], nb_state["until"])
