"""Shared test helpers: a private kernel cache, example loading, the shared data folder."""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
#: reference outputs of peer simulators (and the scripts that regenerate them)
FIXTURES = Path(__file__).resolve().parent / "fixtures"

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


#: why a test that reads real recordings skips, and how to get them
SHARED_DATA_MISSING = (
    f"real recordings not found: {SHARED_DATA} is absent. It is the project's shared "
    "folder of small public recordings (NWB units tables from the pynapple 0.11.4 sdist, "
    "an N-MNIST event-camera sample, the grasshopper spike-time files of the nitime 0.12.1 "
    "wheel; provenance, licences and checksums in its README.md), which CI places beside "
    "the checkout as ../shared. To run these tests locally, put that folder beside the "
    "repository, or recreate data/text/ from nitime: `pip download --no-deps nitime==0.12.1` "
    "and unzip nitime/data/grasshopper_spike_times*.txt into ../shared/data/text/"
)


@pytest.fixture
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(SHARED_DATA_MISSING)
    return SHARED_DATA
