"""The CUDA source of a network's kernels, and the ``cuda-host`` backend that runs it on
the CPU.

:func:`cuda_source` prints a :class:`~axonforge.engine.description.KernelDescription`
as one CUDA C translation unit through :class:`~axonforge.engine.c_printer.CPrinter`
(the printer the C target uses, so every model, rule, coupling and monitor comes from
the same statements as the Numba kernels): the random-number and arithmetic helpers of
:data:`~axonforge.engine.c_printer.C_RUNTIME`, each phase of the schedule (room check,
phases S, T, A and C) as a ``__device__`` function with the C target's ABI, and the
``__global__`` entry point ``af_run_chunks`` with the loop over min-delay chunks (as
the Numba backend's ``run_worker``). A whole run of chunks is one launch (a persistent
kernel), so no step and no chunk waits for the host; the status ``(code, step,
population, index)`` stays in device memory until the run returns.

Parallelism is the engine's own worker layout (DESIGN.md, "threads and MPI"): block
``w`` of the grid is worker ``w``, owning a contiguous range of every neuron population
and every synapse onto it, so no two blocks ever write the same element and each
target's input is summed in the canonical order (no atomics; results equal Numba's for
any number of blocks). The blocks meet at a grid barrier after phases S, A and C of
each chunk (:data:`GRID_SYNC`, a generation counter; all blocks must be resident, so
``cupy`` launches one block per multiprocessor). Inside a block, this lowering still
runs one thread: splitting the element loops over a block's threads (with block
reductions for the non-finite and spike counts, and an ordered compaction for the
spike buffers) is the next step.

``backend="cuda-host"`` compiles that source, unchanged, for the CPU: the C++ compiler
reads it after :data:`HOST_HEADER`, which defines CUDA's qualifiers away, gives
``blockIdx``/``threadIdx`` (thread-local) and real atomics; :func:`build_host` builds a
shared library (cached by hash in ``$AXONFORGE_CACHE/cuda-host``) whose ``af_launch``
runs each block of the grid in an OS thread of its own, started in a shuffled order,
so the grid barrier is a real one and a kernel that depended on the order of its blocks
would show it. ``Network(threads=N)`` sets the number of blocks. It exists to verify
the CUDA code where no GPU is present (CI): it is not a fast CPU backend (``-O2``, spin
barriers; use ``numba``).

Floating point: no contraction into FMA and no fast math on either compiler
(``-ffp-contract=off -fno-fast-math``; ``nvcc -fmad=false``), so the printed operations
are the computed ones, as in the Numba and C targets.
"""

from __future__ import annotations

import ctypes
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
from axonforge.engine.c_target import argument_params, build_library, cache_dir
from axonforge.engine.description import COMMON, RETURNS

#: host build of the CUDA source
HOST_FLAGS = (
    "-O2", "-std=c++17", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-pthread",
)  # fmt: skip
#: device builds (the compile check of every kernel; ``cupy`` passes the same options)
NVCC_FLAGS = ("-std=c++17", "-fmad=false", "--extra-device-vectorization")
ARCHES = ("sm_80", "sm_90")

#: CUDA's vocabulary for a host compiler: the qualifiers vanish; each block runs in an
#: OS thread of its own (so the grid barrier is a real one), with its indices
#: thread-local; atomics are the compiler's sequentially consistent builtins
HOST_HEADER = r"""/* axonforge cuda-host: CUDA C compiled for the CPU (verification only) */
#define AF_HOST 1
#include <stdint.h>
#include <stdlib.h>
#include <sched.h>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
struct af_dim3 { unsigned int x, y, z; };
static thread_local struct af_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static struct af_dim3 gridDim = {1, 1, 1}, blockDim = {1, 1, 1};
static inline unsigned int atomicAdd(unsigned int *a, unsigned int v)
{ return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }
static inline unsigned int atomicExch(unsigned int *a, unsigned int v)
{ return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }
static inline void __threadfence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __syncthreads(void) {}
static inline unsigned int af_atomic_load(unsigned int *p)
{ return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void af_pause(void) { sched_yield(); }
"""

#: the host launcher: one OS thread per block, started in an order shuffled by
#: ``shuffle`` (a Fisher-Yates permutation from SplitMix64); one thread per block
HOST_LAUNCHER = r"""
extern "C" int64_t af_launch(int64_t blocks, uint64_t shuffle, AF_PARAMS)
{
    std::vector<int64_t> order((size_t)blocks);
    for (int64_t b = 0; b < blocks; ++b) order[(size_t)b] = b;
    uint64_t state = shuffle;
    for (int64_t b = blocks - 1; b > 0; --b) {
        state += 0x9E3779B97F4A7C15ULL;
        int64_t j = (int64_t)(af_mix64(state) % (uint64_t)(b + 1));
        int64_t tmp = order[(size_t)b]; order[(size_t)b] = order[(size_t)j]; order[(size_t)j] = tmp;
    }
    gridDim.x = (unsigned int)blocks;
    blockDim.x = 1;
    af_barrier[0] = 0;
    af_barrier[1] = 0;
    std::vector<std::thread> pool;
    for (int64_t b : order) {
        pool.emplace_back([=]() {
            blockIdx.x = (unsigned int)b;
            threadIdx.x = 0;
            AF_ENTRY(AF_ARGS);
        });
    }
    for (auto &t : pool) t.join();
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
#: pointer parameters of the entry point after the kernels' arguments: per-block
#: statuses and room answers (``5 * blocks`` int64), the grid barrier's two counters,
#: the run's status ``(code, step, population, index)``
TRAILING = (("af_status", "int64_t *"), ("af_barrier", "unsigned int *"), ("af_ret", "int64_t *"))

#: a reusable barrier across all blocks of a grid (they must all be resident): arrive on
#: a counter, the last one resets it and advances the generation the others wait on.
#: ``af_atomic_load`` and ``af_pause`` are CUDA's here and the host header's there.
GRID_SYNC = r"""#ifndef AF_HOST
AF_FN unsigned int af_atomic_load(unsigned int *p) { return *(volatile unsigned int *)p; }
AF_FN void af_pause(void) { __nanosleep(64); }
#endif
AF_FN void af_set4(int64_t *r, int64_t a, int64_t b, int64_t c, int64_t d)
{ r[0] = a; r[1] = b; r[2] = c; r[3] = d; }
static __device__ void af_grid_sync(unsigned int *bar)
{
    __syncthreads();
    if (threadIdx.x == 0) {
        const unsigned int generation = af_atomic_load(&bar[1]);
        __threadfence();
        if (atomicAdd(&bar[0], 1u) == gridDim.x - 1u) {
            atomicExch(&bar[0], 0u);
            __threadfence();
            atomicAdd(&bar[1], 1u);
        } else {
            while (af_atomic_load(&bar[1]) == generation) af_pause();
        }
        __threadfence();
    }
    __syncthreads();
}
"""

_CTYPES = {"int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "double": ctypes.c_double}


def parameters(description) -> list[tuple[str, str]]:
    """``(name, C type)`` of the entry point's parameters but ``af_ret``: the leading
    scalars, then every kernel argument in signature order (an array is a pointer to its
    first element; a 2-D array is followed by ``<name>_cols``, its row length)."""
    return list(LEADING) + argument_params(description.args)


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
    sig += ", " + ", ".join(f"{c}{p}" for p, c in TRAILING)
    args = ", ".join(p for p, _ in params[len(LEADING) :])
    call = "w, gw, k0, k1, L, seed, dt, " + args + ", ret"
    lines += [
        GRID_SYNC,
        "/* The schedule's loop over min-delay chunks, as the Numba backend's run_worker:",
        "   block w is worker w (it owns a range of every neuron population and the synapses",
        "   onto it, so no two blocks write the same element and sums keep the canonical",
        "   order); the blocks meet at a grid barrier after phase S, after phase A and",
        "   after phase C. One launch runs a whole range of chunks (a persistent kernel);",
        "   all blocks must be resident at once. This lowering: thread 0 of each block. */",
        f'extern "C" __global__ void {ENTRY}({sig})',
        "{",
        "    const int64_t w = (int64_t)blockIdx.x, gw = w, workers = (int64_t)gridDim.x;",
        "    const int lead = threadIdx.x == 0;",
        "    int64_t k0 = start, k1 = 0, ret[4] = {0, 0, 0, 0};",
        "    int64_t *fits = af_status + 4 * workers; /* one room answer per block */",
        "    while (k0 < stop) {",
        "        k1 = k0 - k0 % D + D;",
        "        if (k1 > stop) k1 = stop;",
        f"        if (lead) fits[w] = af_room(0, gw, k0, k1, L, seed, dt, {args}, ret);",
        "        af_grid_sync(af_barrier);",
        "        for (int64_t v = 0; v < workers; ++v) {",
        "            if (!fits[v]) {",
        "                if (w == 0 && lead) af_set4(af_ret, 1, k0, -1, -1);",
        "                return;",
        "            }",
        "        }",
        f"        if (lead) af_phase_s({call});",
        "        af_grid_sync(af_barrier);",
        "        if (lead) {",
        f"            af_phase_t({call});",
        f"            af_phase_a({call});",
        "            for (int j = 0; j < 4; ++j) af_status[4 * w + j] = ret[j];",
        "        }",
        "        af_grid_sync(af_barrier);",
        "        /* the earliest non-finite state (step, population, index) of any worker */",
        "        int64_t bad = -1;",
        "        for (int64_t v = 0; v < workers; ++v) {",
        "            const int64_t *x = af_status + 4 * v, *y = af_status + 4 * bad;",
        "            if (x[0] != 0 && (bad < 0 || x[1] < y[1] || (x[1] == y[1] && (x[2] < y[2] ||",
        "                (x[2] == y[2] && x[3] < y[3]))))) bad = v;",
        "        }",
        "        if (bad >= 0) {",
        "            const int64_t *x = af_status + 4 * bad;",
        "            if (w == 0 && lead) af_set4(af_ret, x[0], x[1], x[2], x[3]);",
        "            return;",
        "        }",
        f"        if (lead) af_phase_c({call});",
        "        af_grid_sync(af_barrier);",
        "        k0 = k1;",
        "    }",
        "    if (w == 0 && lead) af_set4(af_ret, 0, stop, -1, -1);",
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
    everything = list(params) + list(TRAILING)
    sig = ", ".join(f"{c}{p}" if c.endswith("*") else f"{c} {p}" for p, c in everything)
    launcher = (
        HOST_LAUNCHER.replace("AF_PARAMS", sig)
        .replace("AF_ENTRY", ENTRY)
        .replace("AF_ARGS", ", ".join(p for p, _ in everything))
    )
    return HOST_HEADER + source + launcher


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

    def failed(stderr, text, path, cmd):
        return CompileError(_explain(stderr, text, path, "the host build (cuda-host)"))

    return build_library(full, cxx, HOST_FLAGS, cache_dir("cuda-host"), ".cpp", failed)


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
    """The CUDA source compiled for the CPU (verification; no MPI): ``workers`` blocks,
    each an OS thread, as the GPU runs ``workers`` blocks."""

    name = "cuda-host"

    def __init__(self, workers=1):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"backend='cuda-host': workers must be an int >= 1, got {workers!r}")
        self.workers = workers

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
        status = np.zeros(5 * self.workers, np.int64)
        barrier = np.zeros(2, np.uint32)
        ret = np.zeros(4, np.int64)
        fn = kernels.fn
        fn.argtypes = [ctypes.c_int64, ctypes.c_uint64, *types, *[ctypes.c_void_p] * 3]
        fn.restype = ctypes.c_int64
        kernels.launches += 1
        shuffle = (int(seed) * 0x9E3779B97F4A7C15 + kernels.launches) % 2**64
        fn(self.workers, shuffle, *cargs, *(ctypes.c_void_p(a.ctypes.data)
                                             for a in (status, barrier, ret)))  # fmt: skip
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

    def __init__(self, workers=None):
        self.cupy = check_cupy()
        device = self.cupy.cuda.Device()
        # every block must be resident at once (the grid barrier): one per multiprocessor
        sms = int(device.attributes["MultiProcessorCount"])
        self.workers = sms if workers is None else min(int(workers), sms)

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
        status = cp.zeros(5 * self.workers, cp.int64)
        barrier = cp.zeros(2, cp.uint32)
        ret = cp.zeros(4, cp.int64)
        # one thread a block in this lowering; one block a multiprocessor is resident
        # whatever the kernel's registers, which the grid barrier needs
        fn((self.workers,), (1,), (*args, status, barrier, ret))
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


def make_backend(name: str, workers=None) -> Backend:
    """The backend object for ``Network(backend=name)`` (not ``"numba"``): ``workers``
    blocks (cuda-host: default 1; cupy: default one per multiprocessor)."""
    if name == "cuda-host":
        return CudaHostBackend(1 if workers is None else workers)
    if name == "cupy":
        return CupyBackend(workers)
    raise ValueError(f"unknown CUDA backend {name!r}")
