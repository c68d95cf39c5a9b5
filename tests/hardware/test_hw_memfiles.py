"""Memory-initialisation writers ($readmemh .mem, Xilinx .coe, Intel .mif) read back by
parsers written here from the formats' definitions (shared/reference/hardware-targets.md
section 3), independent of the writers' code: every word comes back, signed ones through
two's complement."""

import re

import numpy as np
import pytest

from axonforge.hardware.memfiles import Memory, write_coe, write_mem, write_mif

# --- independent parsers -------------------------------------------------------------------


def strip_c_comments(text):
    """Remove ``/* */`` and ``//`` comments (IEEE 1364 comment syntax)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_mem(text, radix=16):
    """$readmemh/$readmemb: whitespace-separated numbers fill consecutive addresses;
    ``@hex`` moves the load point; ``_`` is a digit separator. -> {address: pattern}."""
    words, address = {}, 0
    for token in strip_c_comments(text).split():
        if token.startswith("@"):
            address = int(token[1:], 16)
            continue
        words[address] = int(token.replace("_", ""), radix)
        address += 1
    return words


def parse_coe(text):
    """Xilinx COE: keywords case-insensitive, ``;`` ends a statement, a line whose
    first non-blank character is ``;`` is a comment, the vector is the last keyword and
    its values are separated by commas or whitespace. -> (radix, [patterns])."""
    lines = [line for line in text.splitlines() if not line.strip().startswith(";")]
    body = " ".join(lines)
    statements = [s.strip() for s in body.split(";") if s.strip()]
    radix, vector = None, None
    for statement in statements:
        key, _, value = statement.partition("=")
        key = key.strip().lower()
        if key == "memory_initialization_radix":
            radix = int(value)
        elif key == "memory_initialization_vector":
            vector = [v for v in re.split(r"[\s,]+", value) if v]
        else:
            raise AssertionError(f"unexpected COE statement {statement!r}")
    assert statements[-1].lower().startswith("memory_initialization_vector")
    return radix, [int(v, radix) for v in vector]


def parse_mif(text):
    """Intel MIF: ``--`` and ``% %`` comments; header ``KEY = value;``; ``CONTENT BEGIN``
    then ``addr : data;`` or ``[a..b] : data;`` (several ``data`` fill consecutive
    addresses), ``END;``. -> (header dict, {address: pattern})."""
    text = re.sub(r"%.*?%", " ", text, flags=re.S)
    text = re.sub(r"--[^\n]*", " ", text)
    parts = re.split(r"(?i)\bcontent\s+begin\b", text, maxsplit=1)
    assert len(parts) == 2, "CONTENT BEGIN missing"
    head, content = parts
    header = {}
    for statement in head.split(";"):
        if statement.strip():
            key, value = (s.strip() for s in statement.split("="))
            header[key.upper()] = value.upper()
    radixes = {"HEX": 16, "BIN": 2, "OCT": 8, "UNS": 10, "DEC": 10}
    a_radix, d_radix = radixes[header["ADDRESS_RADIX"]], radixes[header["DATA_RADIX"]]
    parts = re.split(r"(?i)\bend\s*;", content, maxsplit=1)
    assert len(parts) == 2, "END; missing"
    content = parts[0]
    words = {}
    for statement in content.split(";"):
        if not statement.strip():
            continue
        where, value = (s.strip() for s in statement.split(":"))
        values = [int(v, d_radix) for v in value.split()]
        m = re.fullmatch(r"\[\s*(\w+)\s*\.\.\s*(\w+)\s*\]", where)
        if m:
            lo, hi = int(m.group(1), a_radix), int(m.group(2), a_radix)
            for k, address in enumerate(range(lo, hi + 1)):
                words[address] = values[k % len(values)]
        else:
            for k, v in enumerate(values):
                words[int(where, a_radix) + k] = v
    return header, words


def as_signed(patterns, width, signed):
    """Patterns back to values: two's complement when signed."""
    out = []
    for p in patterns:
        assert 0 <= p < (1 << width), (p, width)
        out.append(p - (1 << width) if signed and p >> (width - 1) else p)
    return out


def dense(words, depth):
    assert sorted(words) == list(range(depth)), "addresses 0..depth-1, each once"
    return [words[a] for a in range(depth)]


# --- memories ------------------------------------------------------------------------------

rng = np.random.default_rng(3)


def memories():
    return [
        Memory("spike_bit", 1, [0, 1, 1, 0, 1]),
        Memory("w8", 8, [-128, -3, -1, 0, 1, 127, 0, 0, 0, -3], signed=True, description="w"),
        Memory("v18", 18, rng.integers(-(1 << 17), 1 << 17, 300), signed=True),
        Memory("syn36", 36, [0, (1 << 36) - 1, 12345678901, 0, 0, 0]),
        Memory("w64", 64, [-(1 << 63), (1 << 63) - 1, -1, 0, 5], signed=True),
        Memory("u64", 64, [0, (1 << 63) - 1, 1]),
        Memory("one", 5, [-16], signed=True),
    ]


@pytest.mark.parametrize("memory", memories(), ids=lambda m: m.name)
def test_mem_coe_mif_hold_the_same_words(memory, tmp_path):
    expected = memory.words.tolist()
    mem = write_mem(tmp_path / "m.mem", memory)
    coe = write_coe(tmp_path / "m.coe", memory)
    mif = write_mif(tmp_path / "m.mif", memory)

    words = parse_mem(mem.read_text())
    assert as_signed(dense(words, memory.depth), memory.width, memory.signed) == expected

    radix, vector = parse_coe(coe.read_text())
    assert radix == 16
    assert as_signed(vector, memory.width, memory.signed) == expected

    header, words = parse_mif(mif.read_text())
    assert header["WIDTH"] == str(memory.width) and header["DEPTH"] == str(memory.depth)
    assert as_signed(dense(words, memory.depth), memory.width, memory.signed) == expected


def test_mem_lines_are_zero_padded_masked_hex_after_a_header(tmp_path):
    memory = Memory("w", 10, [-3, 0, 511, -512], signed=True, description="two\nlines")
    text = write_mem(tmp_path / "w.mem", memory).read_text()
    comments = [line for line in text.splitlines() if line.startswith("//")]
    data = [line for line in text.splitlines() if not line.startswith("//")]
    assert data == ["3fd", "000", "1ff", "200"]  # ceil(10/4) = 3 digits, 10-bit masked
    header = " ".join(comments)
    assert "'w'" in header and "width 10" in header and "depth 4" in header
    assert "signed" in header and "two lines" in header
    # -3 at 8 bits is fd (hardware-targets.md section 3)
    assert write_mem(tmp_path / "b.mem", Memory("b", 8, [-3], signed=True)).read_text().split()[
        -1
    ] == ("fd")


def test_readmemb_and_coe_radixes(tmp_path):
    memory = Memory("w", 6, [-1, 2, -32, 31], signed=True)
    text = write_mem(tmp_path / "w.mem", memory, radix=2).read_text()
    data = [line for line in text.splitlines() if not line.startswith("//")]
    assert data == ["111111", "000010", "100000", "011111"]
    assert as_signed(dense(parse_mem(text, radix=2), 4), 6, True) == [-1, 2, -32, 31]
    for radix in (2, 10, 16):
        got_radix, vector = parse_coe(
            write_coe(tmp_path / f"w{radix}.coe", memory, radix).read_text()
        )
        assert got_radix == radix
        assert as_signed(vector, 6, True) == [-1, 2, -32, 31]
    with pytest.raises(ValueError, match="radix"):
        write_mem(tmp_path / "x.mem", memory, radix=10)
    with pytest.raises(ValueError, match="radix"):
        write_coe(tmp_path / "x.coe", memory, radix=8)


def test_coe_vector_is_last_and_ends_with_a_semicolon(tmp_path):
    text = write_coe(tmp_path / "w.coe", Memory("w", 8, [1, 2, 3])).read_text()
    statements = [line for line in text.splitlines() if line.strip() and not line.startswith(";")]
    assert statements[0] == "memory_initialization_radix=16;"
    assert statements[1] == "memory_initialization_vector="
    assert statements[2:] == ["01,", "02,", "03;"]


def test_mif_runs_become_ranges_and_the_header_is_quartus(tmp_path):
    memory = Memory("w", 12, [7, 7, 7, -1, 0, 0, 5], signed=True)
    text = write_mif(tmp_path / "w.mif", memory).read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0].startswith("--")
    body = [line for line in lines if not line.startswith("--")]
    assert body == [
        "WIDTH=12;",
        "DEPTH=7;",
        "ADDRESS_RADIX=UNS;",
        "DATA_RADIX=HEX;",
        "CONTENT BEGIN",
        "[0..2] : 007;",
        "3 : FFF;",
        "[4..5] : 000;",
        "6 : 005;",
        "END;",
    ]


def test_the_parsers_read_what_the_formats_allow():
    """The test's parsers against hand-written files using @addr, comments, ranges."""
    assert parse_mem("/* x */ 0a // y\n@4 ff 1_0\n") == {0: 10, 4: 255, 5: 16}
    assert parse_coe(
        "; c\nMEMORY_INITIALIZATION_RADIX = 10;\nmemory_initialization_vector = 1 2,3;"
    ) == (
        10,
        [1, 2, 3],
    )
    header, words = parse_mif(
        "% block %\nWIDTH = 8;\nDEPTH = 4;\nADDRESS_RADIX = HEX;\nDATA_RADIX = HEX;\n"
        "CONTENT BEGIN\n  [0..2] : 1F;\n  3 : 02;\nEND;\n"
    )
    assert header["DEPTH"] == "4" and words == {0: 31, 1: 31, 2: 31, 3: 2}


def test_bad_memories_are_refused(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        write_mem(tmp_path / "e.mem", Memory("e", 8, []))
    for writer in (write_coe, write_mif):
        with pytest.raises(ValueError, match="'e'.*empty"):
            writer(tmp_path / "e.x", Memory("e", 8, np.zeros(0, int)))
    with pytest.raises(ValueError, match="1..64"):
        Memory("wide", 65, [0])
    with pytest.raises(ValueError, match="does not fit"):
        Memory("w", 8, [128], signed=True)
    with pytest.raises(ValueError, match="does not fit"):
        Memory("w", 4, [-1])

    class Raw:  # a memory-like object skips Memory's constructor: the writers check anyway
        name, width, signed, description = "raw", 65, False, ""
        words = np.array([1])

    with pytest.raises(ValueError, match="1..64"):
        write_mem(tmp_path / "r.mem", Raw())
    Raw.width, Raw.words = 3, np.array([9])
    with pytest.raises(ValueError, match="word 0 = 9 does not fit"):
        write_mif(tmp_path / "r.mif", Raw())
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_a_rewrite_is_atomic_and_byte_identical(tmp_path):
    memory = memories()[2]
    first = write_coe(tmp_path / "v.coe", memory).read_bytes()
    second = write_coe(tmp_path / "v.coe", memory).read_bytes()
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == ["v.coe"]
