"""How much memory this process may still use, and failing early when a build would not fit.

:func:`available_memory` is ``MemAvailable`` of ``/proc/meminfo``, lowered by the
process's own cgroup limit (v2, with its ancestors; v1 with the hierarchical limit),
with psutil or ``sysconf`` as fallbacks elsewhere. :func:`check_memory` compares a
projection's estimated building peak (:func:`axonforge.projection.estimate`) with it and
raises ``MemoryError`` before anything is allocated.
"""

from __future__ import annotations

import os

_GIB = 2.0**30
#: builds needing less are not checked: reading the limits would cost more than the build,
#: and a build this small that cannot get its memory fails at once anyway
CHECK_ABOVE = 64 * 2**20


def check_memory(est, what):
    """Raise ``MemoryError`` when building ``est`` would need more than is available."""
    if est.peak_bytes < CHECK_ABOVE:
        return
    avail = available_memory()
    if avail is None or est.peak_bytes <= avail:
        return
    raise MemoryError(
        f"{what}: this connection would make about {est.synapses:,.0f} synapses, "
        f"{est.stored_bytes / _GIB:.3g} GiB stored and {est.peak_bytes / _GIB:.3g} GiB at "
        f"peak while building, but only {avail / _GIB:.3g} GiB of memory is available. "
        "Make fewer synapses (a smaller p for FixedProbability, a smaller k for "
        "FixedInDegree/FixedOutDegree, smaller populations), or split the network into "
        "parts that fit; net.estimate_connection(...) tells the cost before connecting."
    )


def available_memory():
    """Bytes this process can still allocate, or ``None`` when unknown.

    Linux: ``MemAvailable`` of /proc/meminfo, lowered to a cgroup's room (v2
    ``memory.max - memory.current``, v1 ``memory.limit_in_bytes - memory.usage_in_bytes``;
    inactive file cache counts as free, since the kernel reclaims it). Elsewhere psutil if
    installed, else free physical pages from ``os.sysconf``."""
    found = []
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemAvailable:"):
            found.append(int(line.split()[1]) * 1024)
    found += _cgroup_room()
    if found:
        return max(0, min(found))
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _read(path):
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _stat(path, field):
    for line in (_read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if key == field and value.strip().isdigit():
            return int(value)
    return 0


def _cgroup_room():
    """Room left under the memory limits of this process's cgroup and its ancestors."""
    paths = {}  # controller ("" for v2) -> this process's cgroup path
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        if line.count(":") < 2:
            continue
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            paths[c] = path.rstrip("/")
    out = []
    if "" in paths:  # v2: every ancestor may set memory.max
        parts = paths[""].split("/")
        for depth in range(len(parts), 0, -1):
            base = "/sys/fs/cgroup" + "/".join(parts[:depth])
            limit, used = _read(f"{base}/memory.max"), _read(f"{base}/memory.current")
            if limit and used and limit.isdigit() and used.isdigit():
                free = _stat(f"{base}/memory.stat", "inactive_file")
                out.append(int(limit) - int(used) + free)
    # v1: the process's own group (or the mount root inside a container), whose
    # hierarchical_memory_limit already includes the ancestors' limits
    for base in dict.fromkeys(
        (f"/sys/fs/cgroup/memory{paths.get('memory', '')}", "/sys/fs/cgroup/memory")
    ):
        used = _read(f"{base}/memory.usage_in_bytes")
        if used is None or not used.isdigit():
            continue
        limit = min(
            int(_read(f"{base}/memory.limit_in_bytes") or 2**63),
            _stat(f"{base}/memory.stat", "hierarchical_memory_limit") or 2**63,
        )
        if limit < 2**60:
            free = _stat(f"{base}/memory.stat", "total_inactive_file")
            out.append(limit - int(used) + free)
        break
    return out
