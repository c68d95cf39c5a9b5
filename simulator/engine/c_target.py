"""The C target (first step): kernel statements printed by
:class:`~axonforge.engine.c_printer.CPrinter`, built by the system C compiler into a
shared library and called through :mod:`ctypes`.

So far it runs the neuron update of one population (phase A without sources and
monitors): :func:`neuron_kernel` lowers it with :func:`axonforge.engine.neurons.
neuron_update` inside a loop over steps, :func:`run_neuron_update` builds and calls it.
Its purpose is the cross-target check: the same statements printed for Numba give the
same doubles, bit for bit (tests/simulator/test_c_target.py).

Build: ``cc -O2 -std=c99 -ffp-contract=off -fno-fast-math -fPIC -shared ... -lm`` (no
contraction into FMA, no reassociation: the printed operations are the computed ones),
into ``$AXONFORGE_CACHE/c`` (or ``~/.cache/axonforge/c``), one library per source hash.

The C ABI of a kernel function::

    int64_t name(int64_t w, int64_t gw, int64_t k0, int64_t k1, int64_t L,
                 int64_t seed, double dt,          /* COMMON, as the Numba kernels */
                 <each ArgTable argument, in declaration order>,
                 int64_t *af_ret);

* a scalar argument is passed by value: ``int``/``i64`` as ``int64_t``, ``float``/
  ``f64``/``state`` as ``double`` (float64 networks only), ``u64`` as ``uint64_t``;
* an array argument is a pointer to its first element, C-contiguous, of the declared
  element type (``state``/``f64`` ``double``, ``f32`` ``float``, ``i64`` ``int64_t``,
  ``i32`` ``int32_t``, ``u64`` ``uint64_t``, ``bool`` ``uint8_t``); a 2-D array is
  followed by ``int64_t <name>_cols``, its row length. An array whose dtype differs from
  the declaration (Population's ``refsteps`` is int32, declared ``i64``) is converted
  for the call and copied back after it;
* ``af_ret`` points to 4 ``int64_t``: the status tuple (``(0, k1, -1, -1)`` when the
  steps ran, ``(2, step, population, index)`` for a non-finite state); the function
  returns its first element.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axonforge.engine import ir, neurons
from axonforge.engine.args import ArgTable
from axonforge.engine.c_printer import C_RUNTIME, CPrinter
from axonforge.engine.ir import X

CFLAGS = ("-O2", "-std=c99", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared")

#: declared dtype -> (C type, NumPy dtype)
TYPES = {
    "state": ("double", np.float64),
    "f64": ("double", np.float64),
    "f32": ("float", np.float32),
    "i64": ("int64_t", np.int64),
    "i32": ("int32_t", np.int32),
    "u64": ("uint64_t", np.uint64),
    "bool": ("uint8_t", np.bool_),
    "int": ("int64_t", np.int64),
    "float": ("double", np.float64),
}

#: the scalar parameters every kernel takes first (engine.description.COMMON)
COMMON = (
    ("w", "int64_t"),
    ("gw", "int64_t"),
    ("k0", "int64_t"),
    ("k1", "int64_t"),
    ("L", "int64_t"),
    ("seed", "int64_t"),
    ("dt", "double"),
)
_CTYPES = {"int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "double": ctypes.c_double}


def compiler() -> str | None:
    """The C compiler: ``$CC`` or ``cc``, if found."""
    return shutil.which(os.environ.get("CC", "cc"))


def cache_dir(name: str = "c") -> Path:
    """``$AXONFORGE_CACHE/<name>`` (default root ``~/.cache/axonforge``), created."""
    root = os.environ.get("AXONFORGE_CACHE") or Path.home() / ".cache" / "axonforge"
    path = Path(root) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


_LIBS: dict = {}


def build(source: str) -> ctypes.CDLL:
    """Compile ``source`` into a shared library (cached by its hash) and load it."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("the C target needs a C compiler: none found as $CC or cc")

    def failed(stderr, text, path, cmd):
        return RuntimeError(f"C compilation failed ({' '.join(cmd)}):\n{stderr}")

    return build_library(source, cc, CFLAGS, cache_dir(), ".c", failed)


def build_library(source, compiler_path, flags, folder, suffix, failed) -> ctypes.CDLL:
    """Compile ``source`` with ``compiler_path`` and ``flags`` into a shared library in
    ``folder``, named by a hash of all three (so a rebuilt source never loads a stale
    library), load it, and keep it for this process. ``failed(stderr, source, path,
    command)`` makes the exception a failed compilation raises. Shared by the C target
    and the cuda-host backend."""
    key = hashlib.sha256(" ".join((compiler_path, *flags, source)).encode()).hexdigest()[:24]
    if key in _LIBS:
        return _LIBS[key]
    lib = Path(folder) / f"af_{key}.so"
    if not lib.exists():
        src = Path(folder) / f"af_{key}{suffix}"
        src.write_text(source)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".so.tmp")
        os.close(fd)
        cmd = [compiler_path, *flags, "-o", tmp, str(src), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            os.unlink(tmp)
            raise failed(done.stderr, source, src, cmd)
        os.replace(tmp, lib)  # atomic: another process never loads half a library
    _LIBS[key] = ctypes.CDLL(str(lib))
    return _LIBS[key]


def argument_params(args: ArgTable) -> list[tuple[str, str]]:
    """``(name, C type)`` of every kernel argument in signature order, as the C ABI
    passes them: a scalar by value, an array as a pointer to its first element followed,
    for a 2-D array, by ``<name>_cols`` (its row length)."""
    out = []
    for name, arg in args.decls.items():
        ctype = TYPES[arg.dtype][0]
        if not arg.shape:
            out.append((name, "double" if ctype in ("double", "float") else ctype))
            continue
        out.append((name, f"{ctype} *"))
        if len(arg.shape) == 2:
            out.append((f"{name}_cols", "int64_t"))
    return out


@dataclass
class Kernel:
    """One kernel function: its arguments, statements and fall-through status."""

    name: str
    args: ArgTable
    body: list
    returns: tuple

    def params(self) -> list[tuple[str, str]]:
        """``(name, C type)`` of every parameter but ``af_ret``, in ABI order."""
        return list(COMMON) + argument_params(self.args)

    def c_source(self) -> str:
        printer = CPrinter()
        return printer.function(self.name, self.params(), self.body, self.returns)


def neuron_kernel(pop_plan, P: int = 0, name: str = "af_neuron_steps") -> Kernel:
    """Steps ``k0 <= k < k1`` of the neuron update of population ``P`` for worker ``w``
    (spike buffer row ``gw``), as phase A runs it: ``c_P`` counts the chunk's spikes,
    ``sptr[gw, t]`` marks the count before step ``t``."""
    if not pop_plan.is_neuron:
        raise ValueError("neuron_kernel: a neuron population is needed")
    args = ArgTable()
    k, k0, k1, L, gw = (X.name(n) for n in ("k", "k0", "k1", "L", "gw"))
    sptr = args.pop(P, "sptr", "i64", ("workers", "steps+1"))
    count = X.name(f"c_{P}")
    update = neurons.neuron_update(args, P, pop_plan)
    head = [
        ir.assign("t", k - k0, "int"),
        ir.assign("slot", k % L, "int"),
        ir.assign(sptr[gw, X.name("t")], count, "int"),
    ]
    body = [
        ir.assign(f"c_{P}", 0, "int"),
        ir.loop("k", k0, k1, head + update),
        ir.assign(sptr[gw, k1 - k0], count, "int"),
    ]
    return Kernel(name, args, body, (X(0), k1, X(-1), X(-1)))


class _Owner:
    def __init__(self, state):
        self.state = state

    def kernel_state(self):
        return self.state


def call(lib, kernel: Kernel, values: dict, common: dict) -> tuple:
    """Call ``kernel`` in ``lib`` with ``values`` (argument name -> value, as
    :meth:`ArgTable.bind` gives) and ``common`` (``w``, ``gw``, ``k0``, ``k1``, ``L``,
    ``seed``, ``dt``). Arrays are updated in place."""
    argv, types, back = [], [], []
    decls = kernel.args.decls
    for pname, ctype in kernel.params():
        if pname in common:
            argv.append(_CTYPES[ctype](common[pname]))
            types.append(_CTYPES[ctype])
        elif pname.endswith("_cols") and pname[:-5] in decls:
            argv.append(ctypes.c_int64(values[pname[:-5]].shape[1]))
            types.append(ctypes.c_int64)
        elif ctype.endswith("*"):
            value = values[pname]
            want = TYPES[decls[pname].dtype][1]
            arr = np.ascontiguousarray(value, dtype=want)
            if arr is not value:
                back.append((value, arr))
            argv.append(ctypes.c_void_p(arr.ctypes.data))
            types.append(ctypes.c_void_p)
        else:
            argv.append(_CTYPES[ctype](values[pname]))
            types.append(_CTYPES[ctype])
    ret = np.zeros(4, np.int64)
    fn = getattr(lib, kernel.name)
    fn.argtypes = [*types, ctypes.c_void_p]
    fn.restype = ctypes.c_int64
    fn(*argv, ctypes.c_void_p(ret.ctypes.data))
    for orig, tmp in back:
        orig[...] = tmp
    return tuple(int(x) for x in ret)


def one_worker(state: dict, steps: int) -> dict:
    """A copy of a population's ``kernel_state()`` with the range and spike buffers of
    one worker owning all ``n`` neurons for ``steps`` steps (arrays copied, so two runs
    can start from the same state)."""
    n = int(state["n"])
    out = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
    out.update(
        lo=np.zeros(1, np.int64),
        hi=np.full(1, n, np.int64),
        spk=np.zeros((1, max(n * steps, 1)), np.int32),
        sptr=np.zeros((1, steps + 1), np.int64),
    )
    if "mult" in state:  # the values a graded output's events carry
        out["mult"] = np.zeros((1, max(n * steps, 1)), state["mult"].dtype)
    return out


def spikes(state: dict, steps: int, k0: int = 0) -> list[tuple[int, int]]:
    """``(step, id)`` of the spikes recorded in a one-worker state's buffer."""
    sptr, spk = state["sptr"][0], state["spk"][0]
    return [(k0 + t, int(spk[c])) for t in range(steps) for c in range(sptr[t], sptr[t + 1])]


def run_neuron_update(pop_plan, state: dict, steps: int, dt: float, k0=0, seed=0, P=0, L=1):
    """Run ``steps`` steps of population ``P``'s neuron update in C, on ``state``
    (:func:`one_worker` of a population's ``kernel_state()``, updated in place; with
    ports in ``pop_plan.ports_used``, ``state["rb_<port>"]`` holds ``L`` rows of ``n``
    inputs, step ``k`` reading and clearing row ``k % L``). Returns the status tuple and
    the spikes as ``(step, id)``."""
    kernel = neuron_kernel(pop_plan, P)
    lib = build(C_RUNTIME + "\n" + kernel.c_source() + "\n")
    values = kernel.args.bind({("pop", P): _Owner(state)})
    common = {"w": 0, "gw": 0, "k0": k0, "k1": k0 + steps, "L": L, "seed": seed, "dt": dt}
    status = call(lib, kernel, values, common)
    return status, spikes(state, steps, k0)
