"""hardware.export against a stand-in target whose mapping returns a small fake mapped
network (the MappedNetwork protocol of axonforge.hardware.targets): the files, the
manifest, design-rule checks before any write, determinism, and the manifest check."""

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import axonforge
from axonforge import hardware
from axonforge.hardware import targets
from axonforge.hardware.exporter import FORMATS, export, load_manifest
from axonforge.hardware.memfiles import Memory
from axonforge.hardware.targets import DesignRuleError, Target


def fake_memories():
    rng = np.random.default_rng(7)
    return [
        Memory("spiked", 1, [0, 1, 0, 0, 1, 1]),
        Memory("weights", 8, rng.integers(-128, 128, 64), signed=True, description="w"),
        Memory("v_mem", 18, [-(1 << 17), -1, 0, 1, (1 << 17) - 1], signed=True),
        Memory("synapses", 36, [0, (1 << 36) - 1, 3, 3, 3]),
        Memory("wide", 64, [-(1 << 63), (1 << 63) - 1, 0], signed=True),
    ]


class FakeConfig:
    """A mapped network: the protocol's attributes and methods, nothing else."""

    def __init__(self, target, net, uart=True):
        self.target, self.net = target, net
        self.dt = 1e-3
        self.index = {"inp": ("input", 0, 4), "exc": ("neuron", 0, 6)}
        self.scales = {"v": np.float64(2.0**-10), "w": 1.5e-12}
        self._uart = uart

    def memories(self):
        return fake_memories()

    def resources(self):
        return {
            "neurons": np.int64(6),
            "synapses": 24,
            "fan_in": np.array([4, 4, 4, 4, 4, 4]),
            "unfit": [],
            "utilisation": 0.25,
        }

    def uart_stream(self):
        if not self._uart:
            raise ValueError("this core has no UART interface")
        return bytes([0xA5, 0x01, 0x02, 0x00, 0xFF])


class FakeTarget(Target):
    """A Target whose mapping needs no mapping module: the net says whether it fits."""

    def map(self, net, **options):
        if getattr(net, "too_big", False):
            raise DesignRuleError(self.name, ["population 'exc': 600 neurons > 256 per core"])
        return FakeConfig(self, net, uart=self.name == "fake-uart")


def fake_target(name):
    return FakeTarget(
        name=name,
        description="a test core",
        source="tests",
        model="lif",
        state_bits=18,
        current_bits=18,
        weight_bits=8,
        trace_bits=0,
        frac_bits=10,
        decay="shift",
        neurons_per_core=256,
        cores=1,
        fan_in=64,
        fan_out=64,
        max_delay=1,
        weight_words=4096,
        clock_hz=12e6,
        cycles_per_update=4,
    )


@pytest.fixture
def fake_targets(monkeypatch):
    registry = {name: fake_target(name) for name in ("fake-core", "fake-uart")}
    monkeypatch.setattr(targets, "TARGETS", registry)
    return registry


class Net:
    too_big = False


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mem_files_and_manifest(fake_targets, tmp_path):
    out = tmp_path / "out"
    paths = export(Net(), target="fake-core", format="mem", out=out)
    names = [m.name for m in fake_memories()]
    assert [p.name for p in paths] == [f"{n}.mem" for n in names] + ["manifest.json"]
    assert all(p.parent == out for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "axonforge-hardware-export"
    assert manifest["axonforge_version"] == axonforge.__version__
    assert manifest["target"]["name"] == "fake-core"
    # JSON has lists where the target has tuples
    want = json.loads(json.dumps(dataclasses.asdict(fake_targets["fake-core"])))
    assert manifest["target"]["parameters"] == want
    assert manifest["dt"] == 1e-3
    assert manifest["index"] == {
        "inp": {"kind": "input", "start": 0, "n": 4},
        "exc": {"kind": "neuron", "start": 0, "n": 6},
    }
    assert manifest["scales"] == {"v": 2.0**-10, "w": 1.5e-12}
    assert manifest["resources"]["neurons"] == 6
    assert manifest["resources"]["fan_in"] == [4] * 6
    assert manifest["formats"] == ["mem"]
    for memory, entry in zip(fake_memories(), manifest["files"]):
        assert entry == {
            "name": f"{memory.name}.mem",
            "format": "mem",
            "memory": memory.name,
            "width": memory.width,
            "depth": memory.depth,
            "signed": memory.signed,
            "radix": 16,
            "bytes": (out / entry["name"]).stat().st_size,
            "sha256": sha(out / entry["name"]),
        }
    # no timestamps or absolute paths in the manifest
    text = (out / "manifest.json").read_text()
    assert str(tmp_path) not in text
    assert not re.search(r"\d{4}-\d\d-\d\d", text)


def test_the_written_words_are_the_memories_words(fake_targets, tmp_path):
    export(Net(), "fake-core", ["mem", "coe", "mif"], tmp_path)
    for memory in fake_memories():
        mask = (1 << memory.width) - 1
        expected = [int(w) & mask for w in memory.words]
        mem = [
            int(line, 16)
            for line in (tmp_path / f"{memory.name}.mem").read_text().splitlines()
            if not line.startswith("//")
        ]
        coe = (tmp_path / f"{memory.name}.coe").read_text()
        vector = coe.split("memory_initialization_vector=")[1]
        coe_words = [int(v, 16) for v in re.split(r"[\s,;]+", vector) if v]
        mif = {}
        for a, b, value in re.findall(
            r"^\s*\[?(\d+)(?:\.\.(\d+)\])?\s*:\s*([0-9A-F]+);",
            (tmp_path / f"{memory.name}.mif").read_text(),
            re.M,
        ):
            for address in range(int(a), int(b or a) + 1):
                mif[address] = int(value, 16)
        assert mem == coe_words == [mif[a] for a in range(memory.depth)] == expected


def test_exporting_twice_gives_identical_bytes(fake_targets, tmp_path):
    first = export(Net(), "fake-core", ["mem", "coe", "mif"], tmp_path / "a")
    second = export(Net(), "fake-core", ["mem", "coe", "mif"], tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    again = export(Net(), "fake-core", ["mem", "coe", "mif"], tmp_path / "a")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second]
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]


def test_design_rule_errors_write_nothing(fake_targets, tmp_path):
    big = Net()
    big.too_big = True
    with pytest.raises(DesignRuleError, match="600 neurons"):
        export(big, "fake-core", "mem", tmp_path / "new")
    assert not (tmp_path / "new").exists()

    out = tmp_path / "old"
    export(Net(), "fake-core", "coe", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(DesignRuleError):
        export(big, "fake-core", ["mem", "coe", "mif"], out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unknown_target_and_format_list_the_valid_ones(fake_targets, tmp_path):
    with pytest.raises(ValueError, match="unknown hardware target 'nope'.*fake-core, fake-uart"):
        export(Net(), "nope", "mem", tmp_path)
    with pytest.raises(ValueError, match="unknown format 'verilog'.*mem, coe, mif, uart, nir"):
        export(Net(), "fake-core", "verilog", tmp_path)
    with pytest.raises(ValueError, match="need a target"):
        export(Net(), None, "mem", tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert FORMATS == ("mem", "coe", "mif", "uart", "nir", "bitstream")


def test_radix(fake_targets, tmp_path):
    paths = export(Net(), "fake-core", ["mem", "coe"], tmp_path, radix=2)
    mem = paths[0].read_text().splitlines()
    assert mem[-6:] == ["0", "1", "0", "0", "1", "1"] and "$readmemb" in mem[-7]
    entries = json.loads(paths[-1].read_text())["files"]
    assert {e["radix"] for e in entries} == {2}
    with pytest.raises(ValueError, match="radix"):
        export(Net(), "fake-core", "mem", tmp_path / "dec", radix=10)
    assert not (tmp_path / "dec").exists()


def test_uart_stream(fake_targets, tmp_path):
    paths = export(Net(), "fake-uart", "uart", tmp_path)
    assert [p.name for p in paths] == ["fake-uart.uart.bin", "manifest.json"]
    assert paths[0].read_bytes() == bytes([0xA5, 0x01, 0x02, 0x00, 0xFF])
    entry = json.loads(paths[1].read_text())["files"][0]
    assert entry["format"] == "uart" and entry["memory"] is None
    assert entry["sha256"] == sha(paths[0])


def test_a_target_without_uart_says_which_formats_it_has(fake_targets, tmp_path):
    with pytest.raises(ValueError, match=r"'fake-core' has no UART.*formats: mem, coe, mif, nir"):
        export(Net(), "fake-core", ["mem", "uart"], tmp_path)
    assert list(tmp_path.iterdir()) == []  # the .mem files were not written either


def test_target_objects_pass_through(fake_targets, tmp_path):
    target = dataclasses.replace(fake_targets["fake-core"], name="custom")
    paths = export(Net(), target, "mif", tmp_path)
    assert json.loads(paths[-1].read_text())["target"]["name"] == "custom"


def test_an_already_mapped_network(fake_targets, tmp_path):
    config = fake_targets["fake-core"].map(Net())
    paths = export(config, None, "coe", tmp_path / "a")
    reference = export(Net(), "fake-core", "coe", tmp_path / "b")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in reference]
    with pytest.raises(ValueError, match="already mapped onto 'fake-core'"):
        export(config, "fake-uart", "coe", tmp_path / "c")


def test_bad_memories_are_refused_before_writing(fake_targets, monkeypatch, tmp_path):
    for memories, message in (
        ([Memory("a", 8, [1]), Memory("a", 8, [2])], "two memories are called 'a'"),
        ([Memory("a", 8, [])], "'a' is empty"),
        ([Memory("../a", 8, [1])], "cannot be a file name"),
    ):
        monkeypatch.setattr(FakeConfig, "memories", lambda self, m=memories: m)
        with pytest.raises(ValueError, match=re.escape(message)):
            export(Net(), "fake-core", "mem", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_load_manifest_verifies_every_file(fake_targets, tmp_path):
    export(Net(), "fake-uart", ["mem", "uart"], tmp_path)
    manifest = load_manifest(tmp_path)
    assert manifest == load_manifest(tmp_path / "manifest.json")
    assert len(manifest["files"]) == 6

    path = tmp_path / "v_mem.mem"
    text = path.read_text()
    path.write_text(text.replace("3ffff", "3fffe"))
    with pytest.raises(ValueError, match="file 'v_mem.mem' differs"):
        load_manifest(tmp_path)
    path.write_text(text)
    load_manifest(tmp_path)
    (tmp_path / "fake-uart.uart.bin").unlink()
    with pytest.raises(ValueError, match="'fake-uart.uart.bin' .*missing"):
        load_manifest(tmp_path)
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ValueError, match="not an axonforge hardware export manifest"):
        load_manifest(tmp_path / "other.json")


def test_nir_needs_no_target(monkeypatch, tmp_path):
    nir = pytest.importorskip("nir")

    def to_nir(net):
        n = np.array([3])
        return nir.NIRGraph(
            nodes={
                "input": nir.Input(input_type={"input": n}),
                "lif": nir.LIF(
                    tau=np.full(3, 0.01),
                    r=np.ones(3),
                    v_leak=np.zeros(3),
                    v_threshold=np.ones(3),
                ),
                "output": nir.Output(output_type={"output": n}),
            },
            edges=[("input", "lif"), ("lif", "output")],
        )

    fake = types.ModuleType("axonforge.hardware.nir_io")
    fake.to_nir = to_nir
    monkeypatch.setitem(sys.modules, "axonforge.hardware.nir_io", fake)
    first = export(Net(), None, "nir", tmp_path / "a")
    second = export(Net(), None, "nir", tmp_path / "b")
    assert [p.name for p in first] == ["network.nir", "manifest.json"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    graph = nir.read(first[0])
    assert set(graph.nodes) == {"input", "lif", "output"}
    manifest = load_manifest(tmp_path / "a")
    assert manifest["target"] is None and manifest["files"][0]["format"] == "nir"


def test_hardware_export_is_the_function_whichever_import_came_first(fake_targets, tmp_path):
    # the module is hardware.exporter, so importing it never hides the function
    paths = hardware.export(Net(), target="fake-core", format="mem", out=tmp_path)
    assert paths[-1].name == "manifest.json"
    code = (
        "import axonforge.hardware.exporter\n"
        "from axonforge import hardware\n"
        "assert hardware.export is axonforge.hardware.exporter.export\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
