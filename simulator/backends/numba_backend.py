"""The Numba CPU backend: writes generated kernels to a cache folder and compiles them.

A kernel's module file is named by a hash of its source plus the engine version (the
source of the modules generated code calls into) and the Numba version, so:

* the same network structure reuses one in-memory kernel within a process;
* a second process finds the module on disk and Numba's own on-disk cache
  (``cache=True``) loads the machine code without compiling.

The cache folder is ``$AXONFORGE_CACHE`` or ``~/.cache/axonforge/kernels``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numba

_KERNELS: dict = {}
STATS = {"kernels_generated": 0, "compiled": 0, "loaded_from_disk": 0, "reused_in_memory": 0}


def cache_dir() -> Path:
    root = os.environ.get("AXONFORGE_CACHE") or Path.home() / ".cache" / "axonforge"
    path = Path(root) / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _engine_salt() -> str:
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(numba.__version__.encode())
    for name in ("rng.py", "codegen.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


_SALT = None


def load_kernel(source: str):
    """Compile (or load from cache) the kernel ``run_chunk`` defined by ``source``."""
    global _SALT
    if _SALT is None:
        _SALT = _engine_salt()
    key = hashlib.sha256((_SALT + source).encode()).hexdigest()[:24]
    if key in _KERNELS:
        STATS["reused_in_memory"] += 1
        return _KERNELS[key]
    folder = cache_dir()
    path = folder / f"k_{key}.py"
    if not path.exists():
        # Write atomically: a half-written module must never be imported by another process.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)
        STATS["kernels_generated"] += 1
    name = f"axonforge_kernel_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    kernel = module.run_chunk
    _KERNELS[key] = kernel
    return kernel


def compile_state(kernel):
    """A snapshot to pass to :func:`note_compilation` after a kernel's first call."""
    return len(kernel.signatures), sum(kernel.stats.cache_hits.values())


def note_compilation(kernel, before):
    """Count whether a first call compiled the kernel, loaded it from Numba's disk cache,
    or found it already compiled in this process."""
    n_sig, hits = before
    if len(kernel.signatures) == n_sig:
        return
    if sum(kernel.stats.cache_hits.values()) > hits:
        STATS["loaded_from_disk"] += 1
    else:
        STATS["compiled"] += 1
