"""Export a network to hardware: memory-initialisation files, the UART stream, NIR, and a
manifest that ties them together.

:func:`export` maps a network onto a target (design-rule checks first), prepares every
file in memory, and only then writes them, each atomically (a temporary file renamed into
place), the manifest last. A network that breaks a rule, an unknown format or a target that
lacks one leaves the output folder untouched. The files are deterministic: exporting the
same network twice gives byte-identical files, manifest included (it holds no timestamp).
:func:`load_manifest` reads a manifest back and checks every file against its SHA-256.

Formats (``format=``, one name or a sequence):

``mem``, ``coe``, ``mif``
    one file per memory of the mapped network, ``<memory name>.<format>``
    (:mod:`axonforge.hardware.memfiles`: ``$readmemh``, Xilinx, Intel syntax);
``uart``
    ``<target name>.uart.bin``: the configuration command stream of targets with a UART
    interface (``config.uart_stream()``; NeuroCoreX);
``nir``
    ``network.nir``: the network as a NIR graph (:func:`axonforge.hardware.to_nir`,
    written by :func:`nir.write`); needs no target;
``bitstream``
    ``top.bin`` for the iCE40 UP5K (target ``ice40-up5k``; the iCEBreaker's pins), with
    the sources it was built from (``af_core.v``, ``top.v``, ``top.pcf``) and
    ``bitstream_report.json`` (cells, fmax, cycles per step, real-time factor):
    :func:`axonforge.hardware.bitstream.build` runs Yosys, nextpnr and icepack. For
    ``artix7`` (no open flow): a Vivado project folder
    (:func:`axonforge.hardware.bitstream.vendor_project`: sources, memories, a
    constraints template and ``build.tcl``).

and always ``manifest.json`` (layout in :func:`export`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np

from axonforge.hardware import memfiles, targets

#: the formats :func:`export` writes
FORMATS = ("mem", "coe", "mif", "uart", "nir", "bitstream")
#: the manifest's file name in the output folder
MANIFEST = "manifest.json"
#: the manifest's ``"format"`` value and layout version
MANIFEST_FORMAT = "axonforge-hardware-export"
MANIFEST_VERSION = 1

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


def _formats(format) -> list[str]:
    names = [format] if isinstance(format, str) else list(format or ())
    if not names:
        raise ValueError(f"export: no format given; choose from {', '.join(FORMATS)}")
    for name in names:
        if name not in FORMATS:
            raise ValueError(
                f"export: unknown format {name!r}; valid formats: {', '.join(FORMATS)}"
            )
    return list(dict.fromkeys(names))  # once each, in the order given


def _is_mapped(obj) -> bool:
    return callable(getattr(obj, "memories", None)) and hasattr(obj, "target")


def _jsonable(obj, where):
    """``obj`` as plain JSON data (numpy scalars and arrays, tuples, sets, paths and
    dataclasses converted; non-finite floats as the strings "inf", "-inf", "nan")."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else str(value)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist(), where)
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj), where)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return sorted((_jsonable(v, where) for v in obj), key=repr)
    raise TypeError(
        f"export manifest: {where} is a {type(obj).__name__}, which has no JSON form; "
        "mapped networks must report plain numbers, strings, lists and dicts"
    )


def _index(index) -> dict:
    """``{population: (kind, start, n)}`` as ``{population: {"kind", "start", "n"}}``."""
    out = {}
    for name, entry in (index or {}).items():
        kind, start, n = entry
        out[str(name)] = {"kind": str(kind), "start": int(start), "n": int(n)}
    return out


def _target_entry(target) -> dict | None:
    if target is None:
        return None
    params = (
        dataclasses.asdict(target)
        if dataclasses.is_dataclass(target) and not isinstance(target, type)
        else {"name": target.name}
    )
    return {"name": str(target.name), "parameters": _jsonable(params, "target")}


def _uart_bytes(config, target_name, formats_with_memories):
    supported = ", ".join([*formats_with_memories, "nir"])
    method = getattr(config, "uart_stream", None)
    if not callable(method):
        stream = None
    else:
        try:
            stream = method()
        except ValueError as exc:
            raise ValueError(
                f"export: target {target_name!r} has no UART configuration stream ({exc}); "
                f"its formats: {supported}"
            ) from exc
    if stream is None:
        raise ValueError(
            f"export: target {target_name!r} has no UART configuration stream; "
            f"its formats: {supported}"
        )
    return bytes(stream)


def _nir_bytes(net) -> bytes:
    try:
        import nir
    except ImportError as exc:
        raise ImportError(
            "export format 'nir' needs the nir package: pip install nir (or axonforge[fpga])"
        ) from exc
    nir_io = importlib.import_module("axonforge.hardware.nir_io")
    graph = nir_io.to_nir(net)
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    return buffer.getvalue()


def _bitstream_files(config, target) -> list:
    """``top.bin``, its sources and report, built in a temporary folder."""
    import tempfile

    from axonforge.hardware import bitstream

    if target.name in bitstream.VENDOR_PROJECTS:  # no open flow: the vendor's project
        project = bitstream.vendor_project(config)
        return [(name, "bitstream", None, text.encode("utf-8")) for name, text in project.items()]
    if target.name != "ice40-up5k":
        raise ValueError(
            f"export: format 'bitstream' is built for the iCE40 UP5K with the open flow "
            f"(target 'ice40-up5k'), or written as a vendor project for 'artix7' (Vivado) "
            f"or 'max10' (Quartus Prime); for {target.name!r} write the memories (mem, coe, "
            "mif) or its uart stream"
        )
    with tempfile.TemporaryDirectory(prefix="af_bitstream_") as tmp:
        report = bitstream.build(config, tmp)
        out = [(Path(path).name, "bitstream", None, Path(path).read_bytes())
               for path in report["files"].values()]  # fmt: skip
    report["files"] = {k: Path(v).name for k, v in report["files"].items()}
    text = json.dumps(report, indent=2, allow_nan=False) + "\n"
    out.append(("bitstream_report.json", "bitstream", None, text.encode("utf-8")))
    return out


def export(net, target, format, out, *, radix: int = 16, **options) -> list[Path]:
    """Map ``net`` onto ``target`` and write it in ``format`` to the folder ``out``;
    returns the paths written, the manifest last.

    Parameters
    ----------
    net : Network or mapped network
        The network (mapped here with ``target.map(net, **options)``), or a network
        already mapped (an object with the :class:`~axonforge.hardware.targets.MappedNetwork`
        protocol; ``target`` then may be None or must name its target; ``nir`` then is not
        available).
    target : str, Target or None
        A name of :data:`~axonforge.hardware.targets.TARGETS` (``"ice40-up5k"``,
        ``"artix7"``, ``"neurocorex"``) or a :class:`~axonforge.hardware.targets.Target`;
        None only for ``format="nir"``, which needs no mapping.
    format : str or sequence of str
        ``"mem"``, ``"coe"``, ``"mif"``, ``"uart"``, ``"nir"``, ``"bitstream"`` (module
        docstring), or several.
    out : path
        The output folder, created if missing (only once every file is ready).
    radix : int
        Digits of ``mem`` (16: ``$readmemh``, 2: ``$readmemb``) and ``coe`` (2, 10, 16)
        files; ``mif`` files are always hex.
    **options
        Passed to ``target.map`` (JSON-able ones are recorded in the manifest).

    Raises
    ------
    DesignRuleError
        The network does not fit the target; nothing is written.
    ValueError
        Unknown target or format, a format the target lacks (``uart`` without a UART
        interface), an empty or unnamed memory, two memories with one name; nothing is
        written.

    Notes
    -----
    ``manifest.json`` is a JSON object: ``format`` (``"axonforge-hardware-export"``),
    ``manifest_version`` (1), ``axonforge_version``, ``target`` (``{"name", "parameters"}``
    with every field of the Target, or null for a NIR-only export), ``dt`` [s], ``index``
    (population -> ``{"kind", "start", "n"}``), ``scales`` (units per LSB), ``resources``,
    ``options``, ``formats``, and ``files``: one entry per file written, ``{"name",
    "format", "memory", "width", "depth", "signed", "radix", "bytes", "sha256"}`` (the
    memory fields null for ``uart`` and ``nir``). No timestamps: the same export gives the
    same bytes.
    """
    import axonforge

    formats = _formats(format)
    if radix not in (2, 10, 16):
        raise ValueError(f"export: radix must be 2, 10 or 16, got {radix!r}")
    if radix == 10 and "mem" in formats:
        raise ValueError("export: .mem files are hex (radix=16) or binary (radix=2), not 10")
    if out is None:
        raise ValueError("export: out= names the folder to write to")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"export: out={str(out)!r} exists and is not a folder")

    # 1. the mapping: design-rule checks before anything is written
    mapped_given = _is_mapped(net)
    if mapped_given:
        config = net
        if target is not None and targets.get(target).name != config.target.name:
            raise ValueError(
                f"export: the network is already mapped onto {config.target.name!r}, "
                f"not {targets.get(target).name!r}"
            )
        target = config.target
        if "nir" in formats:
            raise ValueError("export: format 'nir' needs the network itself, not a mapped network")
    elif target is None:
        if formats != ["nir"]:
            raise ValueError(
                f"export: formats {', '.join(f for f in formats if f != 'nir')} need a "
                f"target; known targets: {', '.join(sorted(targets.TARGETS)) or '(none)'}"
            )
        config = None
    else:
        target = targets.get(target)
        config = target.map(net, **options)

    # 2. every file's bytes, in memory
    files = []  # (name, format, memory or None, bytes)
    memories = list(config.memories()) if config is not None else []
    has_uart = callable(getattr(config, "uart_stream", None))
    memory_formats = ["mem", "coe", "mif"] if memories else []
    wanted_memories = [f for f in formats if f in ("mem", "coe", "mif")]
    if wanted_memories and not memories:
        supported = ", ".join([*(["uart"] if has_uart else []), "nir"])
        raise ValueError(
            f"export: target {target.name!r} maps this network to no memories, so there is "
            f"nothing to write as {', '.join(wanted_memories)}; its formats: {supported}"
        )
    checked = []
    for memory in memories if wanted_memories else []:
        memory = memfiles._checked(memory)
        if not _SAFE_NAME.match(memory.name):
            raise ValueError(
                f"export: memory name {memory.name!r} cannot be a file name (letters, digits, "
                "'_', '.', '+', '-'; not starting with '.' or '-')"
            )
        if any(m.name == memory.name for m in checked):
            raise ValueError(f"export: two memories are called {memory.name!r}")
        checked.append(memory)
    for fmt in formats:
        if fmt == "mem":
            files += [
                (f"{m.name}.mem", fmt, m, memfiles.format_mem(m, radix).encode("ascii"))
                for m in checked
            ]
        elif fmt == "coe":
            files += [
                (f"{m.name}.coe", fmt, m, memfiles.format_coe(m, radix).encode("ascii"))
                for m in checked
            ]
        elif fmt == "mif":
            files += [
                (f"{m.name}.mif", fmt, m, memfiles.format_mif(m).encode("ascii")) for m in checked
            ]
        elif fmt == "uart":
            if not _SAFE_NAME.match(target.name):
                raise ValueError(f"export: target name {target.name!r} cannot be a file name")
            stream = _uart_bytes(config, target.name, memory_formats)
            files.append((f"{target.name}.uart.bin", fmt, None, stream))
        elif fmt == "nir":
            files.append(("network.nir", fmt, None, _nir_bytes(net)))
        elif fmt == "bitstream":
            files += _bitstream_files(config, target)
    names = [f[0] for f in files]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ValueError(f"export: two files would be called {', '.join(clash)}")

    entries = []
    for name, fmt, memory, data in files:
        entries.append(
            {
                "name": name,
                "format": fmt,
                "memory": memory.name if memory is not None else None,
                "width": int(memory.width) if memory is not None else None,
                "depth": int(memory.depth) if memory is not None else None,
                "signed": bool(memory.signed) if memory is not None else None,
                "radix": (16 if fmt == "mif" else radix) if memory is not None else None,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    recorded_options = {}
    for key, value in options.items():
        try:
            recorded_options[key] = _jsonable(value, f"options[{key!r}]")
        except TypeError:
            recorded_options[key] = f"<{type(value).__name__}>"
    manifest = {
        "format": MANIFEST_FORMAT,
        "manifest_version": MANIFEST_VERSION,
        "axonforge_version": axonforge.__version__,
        "target": _target_entry(target),
        "dt": _jsonable(config.dt, "dt") if config is not None else None,
        "index": _index(config.index) if config is not None else None,
        "scales": _jsonable(config.scales, "scales") if config is not None else None,
        "resources": _jsonable(config.resources(), "resources") if config is not None else None,
        "options": recorded_options,
        "formats": formats,
        "files": entries,
    }
    manifest_bytes = (json.dumps(manifest, indent=2, allow_nan=False) + "\n").encode("utf-8")

    # 3. write: each file atomically, the manifest last
    out.mkdir(parents=True, exist_ok=True)
    paths = [memfiles.write_bytes(out / name, data) for name, _, _, data in files]
    paths.append(memfiles.write_bytes(out / MANIFEST, manifest_bytes))
    return paths


def load_manifest(path) -> dict:
    """Read an export's manifest (``path``: ``manifest.json`` or the folder holding it)
    and check every file it lists against its size and SHA-256.

    Returns the manifest as a dict. Raises :class:`ValueError` naming the first file that
    is missing or whose content differs, or a manifest that is not one of :func:`export`.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no export manifest at {str(path)!r}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not a JSON manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{str(path)!r} is not an axonforge hardware export manifest")
    version = manifest.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise ValueError(
            f"{str(path)!r}: manifest version {version!r}; this axonforge reads version "
            f"{MANIFEST_VERSION}"
        )
    for entry in manifest.get("files", []):
        name = entry["name"]
        if not _SAFE_NAME.match(name):
            raise ValueError(f"{str(path)!r}: file name {name!r} is not a plain file name")
        file = path.parent / name
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise ValueError(
                f"{str(path)!r}: file {name!r} listed in the manifest is missing"
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"] or len(data) != entry.get("bytes", len(data)):
            raise ValueError(
                f"{str(path)!r}: file {name!r} differs from the export (sha256 {digest}, "
                f"{len(data)} bytes; the manifest says {entry['sha256']}, "
                f"{entry.get('bytes')} bytes)"
            )
    return manifest
