"""One installed import name, ``axonforge``: a user's own ``models.py``, ``simulator.py``
or ``hardware.py`` next to their script can neither break nor shadow it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python(code, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code] if code else [sys.executable, "script.py"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_script_beside_its_own_models_simulator_and_hardware_runs(tmp_path):
    for name in ("models", "simulator", "hardware"):
        (tmp_path / f"{name}.py").write_text(f"OWNER = 'user {name}.py'\n")
    (tmp_path / "script.py").write_text(
        textwrap.dedent(
            """
            import hardware
            import models
            import simulator

            import axonforge as af
            from axonforge import hardware as hw
            from axonforge.models import LIF
            from axonforge.units import ms, pA

            assert models.OWNER == "user models.py", models
            assert simulator.OWNER == "user simulator.py", simulator
            assert hardware.OWNER == "user hardware.py", hardware
            assert hw.__name__ == "axonforge.hardware"
            net = af.Network(dt=0.1 * ms, seed=1)
            pop = net.population(LIF(i_offset=400 * pA), n=5)
            spikes = net.spike_monitor(pop)
            net.run(0.1)
            print("spikes", spikes.num_spikes)
            """
        )
    )
    done = _python(None, tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 0


def test_only_axonforge_is_installed(tmp_path):
    """From a folder with nothing in it, the old top-level names do not import, and
    every package folder of the repository is reachable under ``axonforge``."""
    packages = sorted(
        ".".join(("axonforge", *p.parent.relative_to(ROOT / top).parts)).rstrip(".")
        if top == "simulator"
        else ".".join(("axonforge", top, *p.parent.relative_to(ROOT / top).parts))
        for top in ("simulator", "models", "hardware")
        for p in (ROOT / top).rglob("__init__.py")
    )
    code = textwrap.dedent(
        f"""
        import importlib, importlib.util
        for old in ("simulator", "models", "hardware", "spikeforge"):
            assert importlib.util.find_spec(old) is None, old
        for name in {packages!r}:
            importlib.import_module(name)
        print("ok")
        """
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "axonforge.backends" in packages and "axonforge.models" in packages
