"""The ``axonforge`` command never crashes on user mistakes: one line on stderr, a
non-zero exit status, the traceback only with ``--debug``; continued runs work."""

import subprocess
import sys

import numpy as np
import pytest

import axonforge as af
from axonforge import cli
from axonforge.models import LIF
from axonforge.units import pA


def _axonforge(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "axonforge.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def saved(tmp_path):
    """A network that has already run for 1 s, saved (the README's CLI example)."""
    net = af.Network(seed=1)
    net.population(LIF(i_offset=np.linspace(300, 500, 20) * pA), n=20, name="cells")
    net.run(1.0)
    path = tmp_path / "net.h5"
    net.save(path)
    return path


def test_a_continued_run_writes_its_results(saved, tmp_path, capsys):
    """``axonforge run net.h5 --duration 2 --out results/`` on a network at t = 1 s (it
    crashed in the progress bar before); the rate is over the 2 s recorded."""
    out = tmp_path / "results"
    code = cli.main(["run", str(saved), "--duration", "2", "--out", str(out)])
    assert code == 0
    assert (out / "recordings.h5").exists() and (out / "spikes_cells_raster.png").exists()
    text = capsys.readouterr().out
    assert "network time now 3 s" in text
    recs = af.io.load_recordings(out / "recordings.h5")
    spikes = recs["spikes_cells"]
    rate = len(spikes.times) / (20 * 2.0)
    assert f"mean rate {rate:.2f} Hz" in text
    assert spikes.times.min() > 1.0  # the monitor saw only the continued run


def test_run_then_run_with_progress_bar(capsys):
    net = af.Network(seed=1)
    pop = net.population(LIF(i_offset=400 * pA), n=10)
    spikes = net.spike_monitor(pop)
    net.run(1.0)
    net.run(0.1, progress=True)
    assert net.t == pytest.approx(1.1)
    err = capsys.readouterr().err
    assert "run 0.1 s (t = 1 s -> 1.1 s)" in err  # the bar states this run's duration
    assert spikes.mean_rate() > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["run", "missing.h5"], "missing.h5: no such file"),
        (["info", "junk.h5"], "junk.h5: not a readable HDF5 file"),
        (["run", "NET", "--duration", "0.00015"], "not a multiple of dt"),
        (["run", "NET", "--duration", "-1"], "duration must be a non-negative number"),
        (["run", "missing.py"], "missing.py: no such script"),
    ],
)
def test_user_errors_print_one_line(saved, tmp_path, args, message):
    (tmp_path / "junk.h5").write_text("not hdf5")
    args = [str(saved) if a == "NET" else a for a in args]
    done = _axonforge(*args, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("axonforge: error: "), done.stderr
    assert message in lines[0]
    debug = _axonforge("--debug", *args, cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_duration_before_a_script_is_reported_and_script_options_pass_through(tmp_path):
    script = tmp_path / "echo.py"
    script.write_text("import sys\nprint('argv', sys.argv[1:])\n")
    done = _axonforge("run", "--duration", "2", script, "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "argv ['--seed', '3']" in done.stdout
    assert "--duration before the script applies to saved networks" in done.stderr
    assert "ignored for a script" in done.stderr


def test_help_shows_defaults():
    done = _axonforge("run", "--help")
    assert done.returncode == 0
    assert "(default: 1.0)" in " ".join(done.stdout.split())
    assert "--debug" in _axonforge("--help").stdout
