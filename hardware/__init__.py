"""axonforge.hardware: from a simulated network to an FPGA board or a neuromorphic chip.

* :mod:`~axonforge.hardware.targets`: digital neuromorphic cores described as data (bit
  widths, decay arithmetic, limits, clock): ``"ice40-up5k"``, ``"artix7"``, ``"max10"``,
  ``"neurocorex"``;
* :mod:`~axonforge.hardware.mapping`: a float network becomes an integer configuration
  for a target (fixed-point scaling, saturation report, partition onto cores, design-rule
  checks);
* :mod:`~axonforge.hardware.emulator`: the bit-accurate integer emulator (Numba), the
  reference an RTL core must match spike for spike;
* :mod:`~axonforge.hardware.neurocorex`: the NeuroCoreX board (ORNL): its mapping,
  emulator and UART command stream;
* :mod:`~axonforge.hardware.memfiles` and :mod:`~axonforge.hardware.exporter`: ``.mem``,
  ``.coe``, ``.mif`` files, the UART stream and a manifest;
* :mod:`~axonforge.hardware.nir_io`: NIR graphs (``to_nir``, ``from_nir``);
* :mod:`~axonforge.hardware.report`: float against emulator (fidelity) and activity /
  energy figures;
* :mod:`~axonforge.hardware.rtl`: the Verilog core (``rtl/af_core.v``), its Icarus
  co-simulation against the emulator and its Yosys synthesis;
  :mod:`~axonforge.hardware.bitstream`: an iCE40 UP5K bitstream and its report.

The hardware layer reads a network's structure and parameters; it never needs a compiled
kernel. Entry points: :func:`export`, :func:`to_nir`, :func:`from_nir`.
"""

from __future__ import annotations

__all__ = ["export", "to_nir", "from_nir", "map_network", "TARGETS"]


def __getattr__(name):
    # submodules import numba, h5py or nir: load them on first use only
    if name == "export":  # the function; its module is exporter (no name clash)
        from axonforge.hardware.exporter import export

        return export
    if name in ("to_nir", "from_nir"):
        from axonforge.hardware import nir_io

        return getattr(nir_io, name)
    if name == "map_network":
        from axonforge.hardware.mapping import map_network

        return map_network
    if name == "TARGETS":
        from axonforge.hardware.targets import TARGETS

        return TARGETS
    raise AttributeError(f"module 'axonforge.hardware' has no attribute {name!r}")
