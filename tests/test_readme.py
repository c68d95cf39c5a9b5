"""Every Python block of README.md runs as written, in order, in one namespace (as a user
pasting them into one session would), and the README's two set-up commands are the ones
CI runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def test_the_readme_has_code_to_run():
    assert len(BLOCKS) >= 5


def test_every_python_block_runs_in_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the blocks write net.h5 and raster.png
    namespace = {"__name__": "__readme__"}
    for number, block in enumerate(BLOCKS, 1):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the block that failed
            pytest.fail(f"README python block {number} failed: {type(exc).__name__}: {exc}")
    assert (tmp_path / "net.h5").exists() and (tmp_path / "raster.png").stat().st_size > 1000
    assert namespace["spikes"].num_spikes > 0
    assert "run 1 s" in capsys.readouterr().err  # the tour's progress bar states the duration


def test_quick_start_commands_are_what_ci_runs():
    commands = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    first, second = (line.split("#")[0].strip() for line in commands.strip().splitlines())
    assert first == "pip install . && python examples/cuba.py"
    ci = (ROOT / ".ci" / "run").read_text()
    assert second in ci, "the README's test command must be exactly what .ci/run runs"
