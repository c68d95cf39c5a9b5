"""The CUDA source of a network's kernels, and the ``cuda-host`` backend that runs it on
the CPU.

:func:`cuda_source` prints a :class:`~axonforge.engine.description.KernelDescription`
as one CUDA C translation unit through :class:`~axonforge.engine.c_printer.CPrinter`
(the printer the C target uses, so every model, rule, coupling and monitor comes from
the same statements as the Numba kernels): the random-number and arithmetic helpers of
:data:`~axonforge.engine.c_printer.C_RUNTIME`, a ``__device__`` function with the
schedule's loop over min-delay chunks (room check, phases S, T, A and C, exactly as the
Numba backend's ``run_chunks``), and the ``__global__`` entry point
``af_run_chunks``. A whole run of chunks is one launch (a persistent kernel), so no
step and no chunk waits for the host; the status ``(code, step, population, index)``
stays in device memory until the run returns.

This first lowering runs the schedule in one thread of one block: correct everywhere
(spikes are appended in the canonical order, ring buffers are written by one writer, so
no atomics are needed), but not yet parallel; the parallel lowering of the neuron and
delivery loops is the next step of issue 14.

``backend="cuda-host"`` compiles that source, unchanged, for the CPU: the C++ compiler
reads it after :data:`HOST_HEADER`, which defines CUDA's qualifiers away and gives
``blockIdx``/``threadIdx``/``gridDim``/``blockDim``; :func:`build_host` builds a shared
library (cached by hash in ``$AXONFORGE_CACHE/cuda-host``) whose ``af_launch`` runs the
grid's blocks in a shuffled order, seeded per launch, so that a kernel that depended on
the order of its blocks would show it. It exists to verify the CUDA code where no GPU is
present (CI): it is not a fast CPU backend (one thread, ``-O2``; use ``numba``).

Floating point: no contraction into FMA and no fast math on either compiler
(``-ffp-contract=off -fno-fast-math``; ``nvcc -fmad=false``), so the printed operations
are the computed ones, as in the Numba and C targets.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from axonforge.engine.args import PREFIX
from axonforge.engine.backend import Backend
from axonforge.engine.c_printer import C_RUNTIME, CPrinter
from axonforge.engine.c_target import TYPES
from axonforge.engine.description import COMMON, RETURNS

#: host build of the CUDA source
HOST_FLAGS = ("-O2", "-std=c++17", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared")
#: device builds (the compile check of every kernel; ``cupy`` passes the same options)
NVCC_FLAGS = ("-std=c++17", "-fmad=false", "--extra-device-vectorization")
ARCHES = ("sm_80", "sm_90")

#: CUDA's vocabulary for a host compiler: the qualifiers vanish, the built-in indices
#: are globals that :func:`build_host`'s launcher sets before each block
HOST_HEADER = r"""/* axonforge cuda-host: CUDA C compiled for the CPU (verification only) */
#include <stdint.h>
#include <stdlib.h>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
struct af_dim3 { unsigned int x, y, z; };
static struct af_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static struct af_dim3 gridDim = {1, 1, 1}, blockDim = {1, 1, 1};
/* one host thread runs every thread of the grid in turn: an atomic is a plain update */
static inline long long atomicAdd(long long *a, long long v)
{ long long o = *a; *a += v; return o; }
static inline double atomicAdd(double *a, double v) { double o = *a; *a += v; return o; }
static inline void __syncthreads(void) {}
"""

#: the host launcher: every block of the grid, in a shuffled order, every thread in turn
HOST_LAUNCHER = r"""
/* blocks in an order shuffled by `shuffle` (a Fisher-Yates permutation from SplitMix64),
   threads of a block in order */
extern "C" int64_t af_launch(int64_t blocks, int64_t threads, uint64_t shuffle, AF_PARAMS)
{
    int64_t *order = (int64_t *)malloc(sizeof(int64_t) * (size_t)(blocks > 0 ? blocks : 1));
    for (int64_t b = 0; b < blocks; ++b) order[b] = b;
    uint64_t state = shuffle;
    for (int64_t b = blocks - 1; b > 0; --b) {
        state += 0x9E3779B97F4A7C15ULL;
        int64_t j = (int64_t)(af_mix64(state) % (uint64_t)(b + 1));
        int64_t tmp = order[b]; order[b] = order[j]; order[j] = tmp;
    }
    gridDim.x = (unsigned int)blocks;
    blockDim.x = (unsigned int)threads;
    for (int64_t b = 0; b < blocks; ++b) {
        blockIdx.x = (unsigned int)order[b];
        for (int64_t t = 0; t < threads; ++t) {
            threadIdx.x = (unsigned int)t;
            af_run_chunks(AF_ARGS);
        }
    }
    free(order);
    return af_ret[0];
}
"""

ENTRY = "af_run_chunks"
#: scalar parameters of the entry point before the kernels' arguments
LEADING = (
    ("start", "int64_t"),
    ("stop", "int64_t"),
    ("D", "int64_t"),
    ("L", "int64_t"),
    ("seed", "int64_t"),
    ("dt", "double"),
)
#: the parameters every phase function takes first (engine.description.COMMON)
COMMON_PARAMS = tuple((n, "double" if n == "dt" else "int64_t") for n in COMMON)
_CTYPES = {"int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "double": ctypes.c_double}


def parameters(description) -> list[tuple[str, str]]:
    """``(name, C type)`` of the entry point's parameters but ``af_ret``: the leading
    scalars, then every kernel argument in signature order (an array is a pointer to its
    first element; a 2-D array is followed by ``<name>_cols``, its row length)."""
    out = list(LEADING)
    for name, arg in description.args.decls.items():
        ctype = TYPES[arg.dtype][0]
        if not arg.shape:
            out.append((name, "double" if ctype in ("double", "float") else ctype))
            continue
        out.append((name, f"{ctype} *"))
        if len(arg.shape) == 2:
            out.append((f"{name}_cols", "int64_t"))
    return out


def cuda_source(description) -> str:
    """The CUDA C translation unit of ``description`` (see the module docstring): each
    function of the description (``room``, ``phase_s`` ... ``phase_c``) as a
    ``__device__`` function with the C target's ABI, the chunk loop over them, and the
    ``__global__`` entry point."""
    params = parameters(description)
    kernel_params = list(COMMON_PARAMS) + params[len(LEADING) :]
    lines = ["/* Generated by axonforge (axonforge.backends.cuda_backend); do not edit."]
    # what each argument prefix belongs to (CompileError reads it back)
    for (kind, index), label in sorted(description.labels.items()):
        lines.append(f"   {PREFIX[kind]}{index}_: {label.replace('*/', '* /')}")
    lines[-1] += " */"
    lines.append(C_RUNTIME)
    for name, body in description.functions.items():
        printer = CPrinter()
        lines.append(
            printer.function(
                f"af_{name}", kernel_params, body, RETURNS[name], qualifier="static __device__"
            )
        )
        lines.append("")
    sig = ", ".join(f"{c}{p}" if c.endswith("*") else f"{c} {p}" for p, c in params)
    sig += ", int64_t *af_ret"
    call = ", ".join(
        [
            "w",
            "gw",
            "k0",
            "k1",
            "L",
            "seed",
            "dt",
            *(p for p, _ in params[len(LEADING) :]),
            "af_ret",
        ]
    )
    names = ", ".join([*(p for p, _ in params), "af_ret"])
    status = "af_ret[0] = {0}; af_ret[1] = {1}; af_ret[2] = -1; af_ret[3] = -1; return {0};"
    lines += [
        "/* the schedule's loop over min-delay chunks, as the Numba backend's run_chunks */",
        f"static __device__ int64_t af_chunks({sig})",
        "{",
        "    const int64_t w = 0, gw = 0;",
        "    int64_t k0 = start, k1 = 0;",
        "    while (k0 < stop) {",
        "        k1 = k0 - k0 % D + D;",
        "        if (k1 > stop) k1 = stop;",
        f"        if (!af_room({call})) {{ {status.format(1, 'k0')} }}",
        *(
            f"        if (af_{phase}({call}) != 0) return af_ret[0];"
            for phase in ("phase_s", "phase_t", "phase_a", "phase_c")
        ),
        "        k0 = k1;",
        "    }",
        f"    {status.format(0, 'stop')}",
        "}",
        "",
        "/* one launch runs a whole range of chunks; this lowering: one thread */",
        f'extern "C" __global__ void {ENTRY}({sig})',
        "{",
        "    if (blockIdx.x != 0 || threadIdx.x != 0) return;",
        f"    af_chunks({names});",
        "}",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- builds
def host_compiler() -> str | None:
    """The C++ compiler of the host build: ``$CXX`` or ``c++``, if found."""
    return shutil.which(os.environ.get("CXX", "c++"))


def nvcc() -> str | None:
    """CUDA's compiler driver, if found (``$NVCC`` or ``nvcc`` on the PATH)."""
    return shutil.which(os.environ.get("NVCC", "nvcc"))


def cache_dir() -> Path:
    root = os.environ.get("AXONFORGE_CACHE") or Path.home() / ".cache" / "axonforge"
    path = Path(root) / "cuda-host"
    path.mkdir(parents=True, exist_ok=True)
    return path


class CompileError(RuntimeError):
    """The generated CUDA C did not compile: the compiler's message, with the generated
    lines it points at."""


def _explain(stderr: str, source: str, path: Path, what: str) -> str:
    """The compiler's first messages, each error with the generated line it names and
    the models whose arguments that line uses (from the source's header)."""
    lines = source.splitlines()
    owners = dict(re.findall(r"^   ((?:p|j|m|md)\d+_): (.*)$", source, re.M))
    out = [f"{what} failed for the generated kernel {path}:"]
    for msg in stderr.splitlines()[:20]:
        out.append("  " + msg)
        m = re.search(r"\((\d+)\)|:(\d+):", msg)
        if not (m and "error" in msg):
            continue
        n = int(m.group(1) or m.group(2))
        if 1 <= n <= len(lines):
            line = lines[n - 1].strip()
            out.append(f"    generated line {n}: {line}")
            used = sorted({owners[t] for t in re.findall(r"\b((?:p|j|m|md)\d+_)", line)
                           if t in owners})  # fmt: skip
            if used:
                out.append(f"    (the code of {', '.join(used)})")
    out.append(
        "This is a bug in axonforge's CUDA lowering, not in your model; please report it "
        "with the generated file."
    )
    return "\n".join(out)


def _full_host_source(source: str, params) -> str:
    names = [p for p, _ in params]
    sig = ", ".join(f"{c}{p}" if c.endswith("*") else f"{c} {p}" for p, c in params)
    launcher = HOST_LAUNCHER.replace("AF_PARAMS", sig + ", int64_t *af_ret").replace(
        "AF_ARGS", ", ".join([*names, "af_ret"])
    )
    return HOST_HEADER + source + launcher


_LIBS: dict = {}


def build_host(source: str, params) -> ctypes.CDLL:
    """Compile the CUDA ``source`` for the CPU (after :data:`HOST_HEADER`) into a shared
    library with the launcher ``af_launch`` (cached by the source's hash) and load it."""
    cxx = host_compiler()
    if cxx is None:
        raise RuntimeError(
            "backend='cuda-host' needs a C++ compiler: none found as $CXX or c++ "
            "(Debian: apt-get install g++)"
        )
    full = _full_host_source(source, params)
    key = hashlib.sha256(" ".join((cxx, *HOST_FLAGS, full)).encode()).hexdigest()[:24]
    if key in _LIBS:
        return _LIBS[key]
    folder = cache_dir()
    lib = folder / f"af_{key}.so"
    if not lib.exists():
        src = folder / f"af_{key}.cpp"
        src.write_text(full)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".so.tmp")
        os.close(fd)
        cmd = [cxx, *HOST_FLAGS, "-o", tmp, str(src), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            os.unlink(tmp)
            raise CompileError(_explain(done.stderr, full, src, "the host build (cuda-host)"))
        os.replace(tmp, lib)  # atomic: another process never loads half a library
    _LIBS[key] = ctypes.CDLL(str(lib))
    return _LIBS[key]


def compile_for_device(source: str, arches=ARCHES, out: Path | None = None) -> Path:
    """Compile ``source`` with ``nvcc`` to an object file holding machine code for each
    of ``arches`` (default sm_80 and sm_90): the check that the generated code is valid
    CUDA, with no GPU needed. Raises :class:`CompileError` with the generated lines the
    compiler names."""
    exe = nvcc()
    if exe is None:
        raise RuntimeError("compile_for_device needs nvcc (the CUDA toolkit) on the PATH")
    folder = Path(tempfile.mkdtemp(prefix="af_nvcc_")) if out is None else Path(out)
    src = folder / "kernel.cu"
    src.write_text(source)
    obj = folder / "kernel.o"
    gencode = [f"-gencode=arch=compute_{a[3:]},code={a}" for a in arches]
    cmd = [exe, *gencode, *NVCC_FLAGS, "-c", str(src), "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise CompileError(_explain(done.stderr, source, src, f"nvcc ({', '.join(arches)})"))
    return obj


# -------------------------------------------------------------------------- backends
class HostKernels:
    """A network's kernels built for the CPU: the library and the entry's parameters."""

    def __init__(self, lib, params, source):
        self.lib, self.params, self.source = lib, params, source
        self.fn = lib.af_launch
        self.launches = 0


_NUMPY = {
    "double": np.float64,
    "float": np.float32,
    "int64_t": np.int64,
    "int32_t": np.int32,
    "uint64_t": np.uint64,
    "uint8_t": np.bool_,
}


def host_arguments(params, argv, leading):
    """ctypes values and types for the entry's parameters, and the ``(original, copy)``
    pairs of arrays whose dtype differs from the declared C type (converted for the
    call, copied back after it: Population's ``refsteps`` is int32, declared ``i64``)."""
    values = iter(argv)
    cargs, types, backs = [], [], []
    last = None  # the previous array argument, whose row length a ``_cols`` follows
    for pname, ctype in params:
        if pname in leading:
            cargs.append(_CTYPES[ctype](leading[pname]))
            types.append(_CTYPES[ctype])
        elif last is not None and pname == f"{last[0]}_cols":
            cargs.append(ctypes.c_int64(last[1].shape[1]))
            types.append(ctypes.c_int64)
        elif ctype.endswith("*"):
            value = next(values)
            want = _NUMPY[ctype[:-1].strip()]
            arr = value
            if value.dtype != want or not value.flags.c_contiguous:
                arr = np.ascontiguousarray(value, dtype=want)
                backs.append((value, arr))
            last = (pname, arr)
            cargs.append(ctypes.c_void_p(arr.ctypes.data))
            types.append(ctypes.c_void_p)
        else:
            cargs.append(_CTYPES[ctype](next(values)))
            types.append(_CTYPES[ctype])
    return cargs, types, backs


class CudaHostBackend(Backend):
    """The CUDA source compiled for the CPU (verification; one worker, no MPI)."""

    name = "cuda-host"

    def __init__(self, threads=1, first_worker=0, blocks=1, block_threads=1):
        if threads != 1:
            raise ValueError("backend='cuda-host' runs one worker (threads=1)")
        self.blocks, self.block_threads = blocks, block_threads

    def source(self, description) -> str:
        return cuda_source(description)

    def compile(self, description):
        source = self.source(description)
        params = parameters(description)
        return HostKernels(build_host(source, params), params, source)

    def run_steps(self, kernels, argv, k0, k1, chunk, L, seed, dt, exchange=None):
        if exchange is not None:
            raise ValueError("backend='cuda-host' does not run under MPI; use backend='numba'")
        leading = {"start": k0, "stop": k1, "D": chunk, "L": L, "seed": seed, "dt": dt}
        cargs, types, backs = host_arguments(kernels.params, argv, leading)
        ret = np.zeros(4, np.int64)
        fn = kernels.fn
        fn.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_uint64, *types, ctypes.c_void_p]
        fn.restype = ctypes.c_int64
        kernels.launches += 1
        shuffle = (int(seed) * 0x9E3779B97F4A7C15 + kernels.launches) % 2**64
        fn(self.blocks, self.block_threads, shuffle, *cargs, ctypes.c_void_p(ret.ctypes.data))
        for orig, tmp in backs:
            orig[...] = tmp
        return tuple(int(x) for x in ret)


def check_cupy():
    """Raise a RuntimeError saying what ``backend="cupy"`` lacks here (CuPy, or a CUDA
    device) and pointing to ``backend="cuda-host"``; return CuPy when all is present."""
    hint = (
        'To verify the CUDA kernels without a GPU, use backend="cuda-host" (the same '
        'CUDA source compiled for the CPU); to simulate on the CPU, backend="numba".'
    )
    try:
        import cupy
    except ImportError as err:
        raise RuntimeError(
            f'Network: backend="cupy" needs CuPy, which is not installed ({err}). Install '
            'it with pip install "axonforge[gpu]" (CuPy for CUDA 13, cupy-cuda13x) on a '
            f"machine with an NVIDIA GPU and driver. {hint}"
        ) from None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - CuPy raises its own CUDARuntimeError
        raise RuntimeError(
            f'Network: backend="cupy": CuPy is installed but finds no usable CUDA driver '
            f"or device ({type(err).__name__}: {err}). {hint}"
        ) from None
    if n < 1:
        raise RuntimeError(f'Network: backend="cupy": no CUDA device is visible. {hint}')
    return cupy


class CupyBackend(Backend):
    """The CUDA source on a GPU through CuPy (built with nvcc by CuPy's ``RawModule``).

    The kernels' arrays are copied to the device at binding and back after each launch
    (the monitors and the state are read by the host between runs); a launch runs a
    whole range of chunks."""

    name = "cupy"

    def __init__(self):
        self.cupy = check_cupy()

    def source(self, description) -> str:
        return cuda_source(description)

    def compile(self, description):
        source = self.source(description)
        module = self.cupy.RawModule(
            code=source, backend="nvcc", options=NVCC_FLAGS, name_expressions=None
        )
        return HostKernels(module, parameters(description), source)

    def bind(self, description, owners) -> list:
        values = description.args.bind(owners)
        argv = [values[name] for name in description.args.names]
        size = sum(int(v.nbytes) if isinstance(v, np.ndarray) else 8 for v in argv)
        free, total = self.cupy.cuda.Device().mem_info
        by = {}
        for name, arg in description.args.decls.items():
            v = values[name]
            what = description.labels.get(arg.owner, f"{arg.owner[0]} {arg.owner[1]}")
            by[what] = by.get(what, 0) + (int(v.nbytes) if isinstance(v, np.ndarray) else 8)
        check_device_memory({"total": size, "by_owner": by}, free, total)
        return argv

    def run_steps(self, kernels, argv, k0, k1, chunk, L, seed, dt, exchange=None):
        cp = self.cupy
        if exchange is not None:
            raise ValueError("backend='cupy' does not run under MPI; use backend='numba'")
        fn = kernels.lib.get_function(ENTRY)
        leading = {"start": k0, "stop": k1, "D": chunk, "L": L, "seed": seed, "dt": dt}
        values = iter(argv)
        args, pairs, last = [], [], None
        for pname, ctype in kernels.params:
            if pname in leading:
                args.append(_NUMPY[ctype](leading[pname]))
            elif last is not None and pname == f"{last[0]}_cols":
                args.append(np.int64(last[1].shape[1]))
            elif ctype.endswith("*"):
                host = next(values)
                dev = cp.asarray(np.ascontiguousarray(host, dtype=_NUMPY[ctype[:-1].strip()]))
                pairs.append((host, dev))
                last = (pname, host)
                args.append(dev)
            else:
                args.append(_NUMPY[ctype](next(values)))
        ret = cp.zeros(4, cp.int64)
        fn((1,), (1,), (*args, ret))
        for host, dev in pairs:
            host[...] = cp.asnumpy(dev).astype(host.dtype, copy=False)
        return tuple(int(x) for x in cp.asnumpy(ret))


def check_device_memory(estimate: dict, free: int, total: int):
    """Raise MemoryError, before anything is copied, when the kernels' arrays
    (:meth:`~axonforge.Network.memory_estimate`) need more than the device's ``free``
    bytes (90 % of them: the CUDA context and CuPy's pool need room)."""
    need = estimate["total"]
    if need <= 0.9 * free:
        return
    top = sorted(estimate["by_owner"].items(), key=lambda kv: -kv[1])[:5]
    parts = ", ".join(f"{what} {b / 2**20:.1f} MiB" for what, b in top)
    raise MemoryError(
        f'Network: backend="cupy" needs {need / 2**30:.2f} GiB on the device for the '
        f"kernels' arrays, but only {free / 2**30:.2f} of its {total / 2**30:.2f} GiB are "
        f"free. The largest: {parts}. Record less (fewer monitored ids or variables, "
        'sparser sampling), make fewer synapses, or run on the CPU (backend="numba").'
    )


def make_backend(name: str) -> Backend:
    """The backend object for ``Network(backend=name)`` (not ``"numba"``)."""
    if name == "cuda-host":
        return CudaHostBackend()
    if name == "cupy":
        return CupyBackend()
    raise ValueError(f"unknown CUDA backend {name!r}")
