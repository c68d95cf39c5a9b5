"""User-defined models (the README's example) and the command-line interface."""

import subprocess
import sys

import numpy as np
import pytest

import axonforge as sim
from axonforge import cli
from axonforge.models import LIF, NeuronModel, NeuronSpec, SpikeSource
from axonforge.units import ms, mV, pA


class QIF(NeuronModel):
    """Quadratic integrate-and-fire (Ermentrout & Kopell 1986; Latham et al. 2000)."""

    spec = NeuronSpec(
        name="QIF",
        parameters={
            "tau": (10e-3, "s", "time constant"),
            "v_c": (-50e-3, "V", "critical"),
            "v_r": (-65e-3, "V", "rest"),
            "v_peak": (0.0, "V", "peak"),
            "v_reset": (-70e-3, "V", "reset"),
            "k": (1 / 15e-3, "1/V", "gain"),
        },
        state={"v": ("v_r", "V", "membrane potential")},
        equations=("dv/dt = k*(v - v_r)*(v - v_c)/tau",),
        threshold="v >= v_peak",
        reset=("v = v_reset",),
        ports={"exc": "v += w_in"},
        method="rk4",
    )


def test_user_defined_linear_model_matches_builtin_lif():
    """The same LIF written by a user in another form gives the same trajectory."""

    class MyLIF(NeuronModel):
        spec = NeuronSpec(
            name="MyLIF",
            parameters={
                "R": (80e6, "ohm", ""),
                "tau": (20e-3, "s", ""),
                "I": (300e-12, "A", ""),
                "el": (-70e-3, "V", ""),
            },
            state={"v": ("el", "V", "")},
            equations=("dv/dt = (el - v + R*I)/tau",),
        )

    net = sim.Network(dt=0.1 * ms, seed=1)
    mine = net.population(MyLIF(), n=1)
    ref = net.population(
        LIF(
            tau_m=20 * ms, c_m=20 * ms / 80e6, v_rest=-70 * mV, v_thresh=100 * mV, i_offset=300 * pA
        ),
        n=1,
    )
    a, b = net.state_monitor(mine, "v"), net.state_monitor(ref, "v")
    net.run(0.1)
    np.testing.assert_allclose(a["v"], b["v"], rtol=1e-12)
    assert net.populations["pop0"].checked.method == "exact"


def test_quadratic_integrate_and_fire_period():
    """A kick above the unstable fixed point v_c: the time to reach v_peak is the integral
    of dv / (k (v - v_r)(v - v_c) / tau) from the kicked value (scipy quad)."""
    from scipy.integrate import quad

    net = sim.Network(dt=0.01 * ms, seed=1)
    pop = net.population(QIF(), n=1)
    src = net.population(SpikeSource([1 * ms]))
    net.connect(src, pop, weight=20 * mV, delay=0.01 * ms)  # kick it over the unstable point
    spikes = net.spike_monitor(pop)
    net.run(0.1)
    p = QIF().params
    f = lambda v: p["k"] * (v - p["v_r"]) * (v - p["v_c"]) / p["tau"]  # noqa: E731
    t_rise, _ = quad(lambda v: 1 / f(v), p["v_r"] + 20 * mV, p["v_peak"])
    assert len(spikes.times) == 1  # from reset (below v_r) it decays back to rest
    # the kick lands in the step ending at 1.01 ms; the spike is the first step end after
    # the crossing, so it lies within one step after 1.01 ms + t_rise
    assert 0 <= spikes.times[0] - (1.01 * ms + t_rise) < 0.01 * ms + 1e-9


def test_cli_help_and_run_saved_network(tmp_path, capsys):
    out = subprocess.run(
        [sys.executable, "-m", "axonforge.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "run" in out and "info" in out
    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(LIF(i_offset=np.linspace(300, 500, 20) * pA), n=20, name="cells")
    path = tmp_path / "net.h5"
    net.save(path)
    assert (
        cli.main(
            [
                "run",
                str(path),
                "--duration",
                "0.1",
                "--out",
                str(tmp_path / "res"),
                "--quiet",
                "--save",
                str(tmp_path / "after.h5"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "spikes_cells" in text and "mean rate" in text
    assert (tmp_path / "res" / "recordings.h5").exists()
    assert (tmp_path / "res" / "spikes_cells_raster.png").stat().st_size > 1000
    assert sim.load(tmp_path / "after.h5").t == pytest.approx(0.1)
    assert cli.main(["info", str(path)]) == 0
    assert "cells" in capsys.readouterr().out
    del pop


def test_a_spec_without_equations_counts_its_input():
    """A variable changed only by input (Brian2's ``v : 1``): no ODE, a port, a threshold."""

    class Counter(NeuronModel):
        spec = NeuronSpec(
            name="Counter",
            parameters={"n_fire": (3.0, "1", "inputs per spike")},
            state={"v": (0.0, "1", "inputs counted")},
            equations=(),
            threshold="v >= n_fire",
            reset=("v = 0",),
            ports={"exc": "v += w_in"},
        )

    net = sim.Network(dt=0.1 * ms, seed=1)
    pop = net.population(Counter(), n=2)
    src = net.population(SpikeSource(np.arange(1, 11) * ms))
    net.connect(src, pop, weight=1.0)
    spikes = net.spike_monitor(pop)
    net.run(0.02)
    # inputs at 1..10 ms arrive one step later; every third one fires
    np.testing.assert_allclose(spikes.times[::2] / ms, [3.1, 6.1, 9.1])
    assert pop.get("v").tolist() == [1.0, 1.0]
