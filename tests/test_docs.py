"""Every Python code block of the documentation runs: the blocks of a page, in order, in
one fresh namespace (as a reader following the page would). The Sphinx build itself runs
in CI (.ci/run, with warnings as errors); this test keeps the pages' code honest when
only the test suite is run."""

import re
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: python\s*$")


def python_blocks(text):
    """The contents of the ``.. code-block:: python`` directives of a reST page."""
    lines, blocks, i = text.splitlines(), [], 0
    while i < len(lines):
        m = DIRECTIVE.match(lines[i])
        i += 1
        if not m:
            continue
        outer = len(m.group(1))
        while i < len(lines) and re.match(r"^\s+:\w[\w-]*:", lines[i]):  # directive options
            i += 1
        body = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > outer
        ):
            body.append(lines[i])
            i += 1
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    return blocks


PAGES = sorted(p for p in DOCS.rglob("*.rst") if python_blocks(p.read_text()))


def test_the_docs_have_code_to_run():
    assert len(PAGES) >= 6
    assert sum(len(python_blocks(p.read_text())) for p in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_every_python_block_of_a_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for number, block in enumerate(python_blocks(page.read_text()), 1):
        try:
            exec(compile(block, f"{page.name} block {number}", "exec"), namespace)  # noqa: S102
        except Exception as exc:
            pytest.fail(f"{page.relative_to(DOCS)} python block {number}: {exc!r}")
