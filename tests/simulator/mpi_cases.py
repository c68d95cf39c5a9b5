"""Run the engine cases under MPI: ``mpirun -n N python mpi_cases.py OUT_DIR [THREADS]``.

Rank 0 writes ``OUT_DIR/<case>.npz`` with each case's results and ``OUT_DIR/<case>.h5``
with the network saved after the run (test_mpi.py compares both with a single-process
run)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from engine_cases import CASES  # noqa: E402

out = Path(sys.argv[1])
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
for name, case in CASES.items():
    net, results = case(threads)
    assert net.ranks > 1, "run me under mpirun -n N with N > 1"
    net.save(out / f"{name}.h5")
    if net.rank == 0:
        np.savez(out / f"{name}.npz", *results)
