"""Shared test helpers: a private kernel cache, example loading, the shared data folder."""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# Kernels compiled by the tests go to a per-session folder unless the caller chose one,
# so a stale user cache can never mask a codegen change.
os.environ.setdefault("AXONFORGE_CACHE", tempfile.mkdtemp(prefix="axonforge-test-cache-"))


def load_example(name):
    """Import ``examples/<name>.py`` as a module."""
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data folder {SHARED_DATA} is not present beside the checkout")
    return SHARED_DATA
