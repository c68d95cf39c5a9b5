"""The CUDA lowering (issue 14): the generated CUDA C, compiled for the CPU
(``backend="cuda-host"``), gives the Numba backend's results bit for bit, for every
engine case and for networks holding every neuron model, source, rule and astrocyte of
``models/``; the same source compiles with ``nvcc`` for sm_80 and sm_90; bad input
fails with clear errors."""

import os

import numpy as np
import pytest
from engine_cases import CASES

import axonforge as sim
from axonforge.backends import cuda_backend
from axonforge.models import (
    HH,
    LIF,
    AdEx,
    DCSource,
    ErrorModulatedHebbian,
    Izhikevich,
    LIFCond,
    LIFHomeostatic,
    NoiseSource,
    PoissonSource,
    SpikeSource,
    StepCurrent,
    TripletSTDP,
    TsodyksMarkram,
)
from axonforge.units import Hz, ms, mV, nS, pA

NVCC = cuda_backend.nvcc()


def compiles_for_the_device(source):
    """The source cuda-host ran compiles with nvcc for sm_80 and sm_90 (in CI nvcc must
    be present: the check is part of the issue's proof; elsewhere it is skipped)."""
    if NVCC is None:
        if os.environ.get("CI"):
            pytest.fail("nvcc (CUDA 13) is missing on this CI machine: the CUDA check cannot run")
        pytest.skip("nvcc is not installed here: the device compile check needs the CUDA toolkit")
    obj = cuda_backend.compile_for_device(source)
    assert obj.stat().st_size > 1000


def assert_same(a, b, what):
    assert len(a) == len(b)
    for j, (x, y) in enumerate(zip(a, b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (what, j)
        if x.dtype.kind == "f":  # bit for bit (NaN where NaN)
            bits = np.uint64 if x.itemsize == 8 else np.uint32
            assert np.array_equal(x.view(bits), y.view(bits)), (what, j)
        else:
            assert np.array_equal(x, y), (what, j)


@pytest.mark.parametrize("blocks", [1, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_engine_cases_identical_on_cuda_host(name, blocks):
    # cuba (2000 neurons, 100 ms), brunel (chunks of 15 steps), pair STDP (all and
    # nearest), three-factor (dopamine with a modulator set between runs), every
    # connection rule, white noise and random calls, gap junctions, astrocytes with
    # tripartite synapses, gliotransmission and IP3 diffusion, a stream refilled from
    # disk: spikes, traces, weights and modulator values equal to the last bit, with one
    # block and with three (each a worker owning a part of every population, run in an
    # OS thread of its own, meeting the others at the grid barrier)
    net_n, ref = CASES[name](1, "numba")
    net_c, got = CASES[name](blocks, "cuda-host")
    assert net_c._engine.backend.name == "cuda-host"
    assert net_c._engine.layout.threads == blocks
    assert_same(ref, got, name)
    # and the same connectivity: it is built on the host, once, for either backend
    for pn, pc in zip(net_n.projections.values(), net_c.projections.values()):
        assert np.array_equal(pn.pre_ids, pc.pre_ids) and np.array_equal(pn.post_ids, pc.post_ids)
        assert np.array_equal(pn.delays, pc.delays)
    compiles_for_the_device(net_c._engine.source)


#: every neuron model and kinetics of models/, with a weight for its ports
NEURONS = {
    "lif_exp": (lambda: LIF(i_offset=300 * pA), 40 * pA),
    "lif_delta": (lambda: LIF(kinetics="delta"), 0.8 * mV),
    "lif_alpha": (lambda: LIF(kinetics="alpha"), 40 * pA),
    "lif_cond": (lambda: LIFCond(), 2 * nS),
    "lif_homeostatic": (
        lambda: LIFHomeostatic(theta_plus=1 * mV, tau_theta=1.0, r_target=10.0, i_offset=350 * pA),
        40 * pA,
    ),
    "adex_rk4": (lambda: AdEx(i_offset=np.linspace(0.3, 0.9, 20) * 1e-9), 60 * pA),
    "adex_rkf45": (lambda: AdEx(method="rkf45", i_offset=0.6e-9), 60 * pA),
    "hh": (lambda: HH(i_offset=np.linspace(0.0, 0.5e-9, 20)), 3 * nS),
    "izhikevich": (lambda: Izhikevich(i_offset=np.linspace(0, 10e-12, 20)), 2 * mV),
}


def neuron_net(model, backend):
    """One neuron model driven by every input source (Poisson, replayed spikes, graded
    noise) and injected currents (DC, steps), with recurrent synapses; 60 ms. (One
    model a network: Numba compiles nine models in one kernel five times slower than
    nine kernels.)"""
    make, w = NEURONS[model]
    net = sim.Network(dt=0.1 * ms, seed=21, backend=backend)
    drive = net.population(PoissonSource(rate=40 * Hz), n=60, name="drive")
    replay = net.population(
        SpikeSource(np.arange(1, 400) * 0.1 * ms, ids=np.arange(399) % 10), n=10, name="replay"
    )
    pop = net.population(make(), n=20, name=model)
    net.connect(drive, pop, rule=sim.FixedProbability(0.3), weight=w, delay=1 * ms)
    net.connect(replay, pop, rule=sim.FixedProbability(0.2), weight=w, delay=0.5 * ms)
    net.connect(pop, pop, rule=sim.FixedProbability(0.1), weight=w, delay=1.5 * ms)
    if model == "lif_exp":
        noise = net.population(NoiseSource(std=30 * pA, period=1 * ms), n=12, name="noise")
        net.connect(noise, pop, rule=sim.FixedProbability(0.5), weight=1.0, delay=0.1 * ms)
        net.inject(DCSource(150 * pA, start=5 * ms, stop=30 * ms), pop[:10])
        net.inject(StepCurrent([10 * ms, 40 * ms], [200 * pA, 0.0]), pop[5:])
    spikes = net.spike_monitor(pop)
    trace = net.state_monitor(pop, ["v"], ids=[0, 7, 19], every=4)
    net.run(0.06)
    return net, [spikes.times, spikes.ids, trace["v"], *pop.state.values()]


def rules_zoo(backend):
    """The plasticity rules the engine cases leave out: triplet STDP, Tsodyks-Markram,
    and the error-modulated Hebbian rule with a modulator set from Python."""
    net = sim.Network(dt=0.1 * ms, seed=22, backend=backend)
    src = net.population(PoissonSource(rate=25 * Hz), n=100, name="src")
    post = net.population(LIF(i_offset=200 * pA), n=30, name="post")
    triplet = TripletSTDP.preset("visual_cortex_all_to_all", unit=200 * pA)
    trip = net.connect(src, post, rule=sim.FixedProbability(0.3), weight=40 * pA, delay=1 * ms,
                       synapse=triplet)  # fmt: skip
    tm = net.connect(src, post, rule=sim.FixedProbability(0.2), weight=80 * pA, delay=2 * ms,
                     synapse=TsodyksMarkram())  # fmt: skip
    err = net.modulator("error", tau=None)
    hebb = net.connect(src, post, rule=sim.FixedProbability(0.2), weight=10 * pA, delay=1 * ms,
                       synapse=ErrorModulatedHebbian(a_pre=2e-12, tau_c=0.05, w_min=0.0,
                                                     w_max=100e-12), modulator=err)  # fmt: skip
    spikes = net.spike_monitor(post)
    watch = net.weight_monitor(trip, synapses=np.arange(0, len(trip), 5), every=20)
    net.run(0.05)
    net.set_modulator(1.5, name="error")
    net.run(0.05)
    return net, [spikes.times, spikes.ids, trip.weights, tm.weights, hebb.weights, watch["w"]]


@pytest.mark.parametrize("model", sorted(NEURONS))
def test_every_neuron_model_identical_on_cuda_host(model):
    _, ref = neuron_net(model, "numba")
    net, got = neuron_net(model, "cuda-host")
    assert len(got[1]) > 0 or model == "izhikevich"  # spikes were compared
    assert_same(ref, got, model)
    compiles_for_the_device(net._engine.source)


def test_every_rule_identical_on_cuda_host():
    _, ref = rules_zoo("numba")
    net, got = rules_zoo("cuda-host")
    assert len(got[1]) > 50
    assert_same(ref, got, "rules")
    compiles_for_the_device(net._engine.source)


def test_cuba_example_identical_and_its_rate_over_a_second():
    # the CUBA example itself (4000 neurons): identical spike trains on both backends
    # over its first 50 ms and over a whole second (a chaotic network, so any difference
    # in one operation would show as different spikes within tens of ms)
    from conftest import load_example

    cuba = load_example("cuba")
    got = {}
    for backend in ("numba", "cuda-host"):
        net, spikes, _ = cuba.build(seed=1, record_v=0, backend=backend)
        net.run(0.05)
        first = (spikes.times.copy(), spikes.ids.copy())
        net.run(0.95)
        got[backend] = (first, spikes.times, spikes.ids, spikes.mean_rate())
    (f_n, t_n, i_n, r_n), (f_c, t_c, i_c, r_c) = got["numba"], got["cuda-host"]
    assert len(f_n[0]) > 500 and np.array_equal(f_n[0], f_c[0]) and np.array_equal(f_n[1], f_c[1])
    assert len(t_n) > 20000 and np.array_equal(t_n, t_c) and np.array_equal(i_n, i_c)
    assert abs(r_c - r_n) / r_n < 0.05  # the criterion, here met exactly


def test_cupy_without_a_gpu_says_what_is_missing():
    try:
        cuda_backend.check_cupy()
    except RuntimeError:
        pass
    else:  # pragma: no cover - a GPU machine runs the GPU tests instead
        pytest.skip("CuPy and a CUDA device are present")
    with pytest.raises(RuntimeError, match=r"(?s)backend=\"cupy\".*cuda-host"):
        sim.Network(backend="cupy")


def test_cuda_backends_reject_what_they_do_not_run():
    with pytest.raises(ValueError, match="float64"):
        sim.Network(backend="cuda-host", precision="float32")
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        sim.Network(backend="cuda")
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        cuda_backend.CudaHostBackend(workers=0)


def test_a_kernel_that_fails_to_compile_names_the_model_and_the_line():
    net = sim.Network(dt=0.1 * ms, seed=1, backend="cuda-host")
    src = net.population(PoissonSource(rate=10 * Hz), n=5, name="input")
    cells = net.population(LIF(), n=3, name="cells")
    net.connect(src, cells, weight=10 * pA)
    net._prepare()
    source = net._engine.source
    assert "p1_: population 'cells' (LIF)" in source
    lines = source.splitlines()
    n = next(i for i, line in enumerate(lines) if "p1_x_v[" in line and line.strip().endswith(";"))
    lines[n] = lines[n].replace(";", " +* ;", 1)  # a syntax error in the LIF update
    broken = "\n".join(lines)
    params = cuda_backend.parameters(net._engine.description)
    with pytest.raises(cuda_backend.CompileError) as err:
        cuda_backend.build_host(broken, params)
    msg = str(err.value)
    assert "population 'cells' (LIF)" in msg and "+* ;" in msg and "generated line" in msg
    if NVCC is not None:
        with pytest.raises(cuda_backend.CompileError, match=r"(?s)population 'cells' \(LIF\)"):
            cuda_backend.compile_for_device(broken)


def test_memory_estimate_and_the_device_check():
    # the kernels' arrays by owner, before anything is copied to a device: the CUBA
    # example's 320k static synapses take 8.4 bytes each (a float32 weight and an int32
    # ring offset, plus 16 bytes of row pointers per source), the spike monitor's chunk
    # buffers the most
    from conftest import load_example

    net, _, _ = load_example("cuba").build(seed=1, record_v=0)
    est = net.memory_estimate(backend="cupy")
    assert est["synapses"] == sum(len(p) for p in net.projections.values()) > 300_000
    assert 4 <= est["bytes_per_synapse"] < 12
    assert est["total"] == sum(est["by_owner"].values())
    assert any("population 'all' (LIF)" == k for k in est["by_owner"])
    cuda_backend.check_device_memory(est, free=2**34, total=2**34)  # fits: no error
    with pytest.raises(MemoryError, match=r"(?s)needs 0\.0\d GiB on the device.*monitor"):
        cuda_backend.check_device_memory(est, free=2**20, total=2**30)
    with pytest.raises(ValueError, match="unknown backend"):
        net.memory_estimate(backend="gpu")
