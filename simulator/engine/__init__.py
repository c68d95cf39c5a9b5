"""The engine: one target-neutral description of a network's kernels, and its run.

Layers (DESIGN.md, "The seam"):

* :mod:`~axonforge.engine.description`: the plan, the phase schedule, :func:`describe`;
* :mod:`~axonforge.engine.args`: every kernel argument declared once;
* :mod:`~axonforge.engine.ir`: the statement form; lowering passes per concept in
  :mod:`~axonforge.engine.neurons`, :mod:`~axonforge.engine.synapses`,
  :mod:`~axonforge.engine.monitoring`;
* :mod:`~axonforge.engine.printers` (Python for Numba) and
  :mod:`~axonforge.engine.c_printer` (C for the C and CUDA targets);
* :mod:`~axonforge.engine.backend`: the backend interface; the Numba backend is
  :mod:`axonforge.backends.numba_backend`;
* :mod:`~axonforge.engine.partition` and :mod:`~axonforge.engine.runner`: workers,
  chunks and the run loop.
"""
