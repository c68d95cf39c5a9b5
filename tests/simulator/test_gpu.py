"""``backend="cupy"`` on a CUDA device: the same results as Numba, bit for bit. Run only
where CuPy finds a device (``pip install "axonforge[gpu]"`` on a GPU machine); skipped
elsewhere with the reason CuPy gives. ``test_cuda_host.py`` checks the same CUDA source
on the CPU in every CI run."""

import numpy as np
import pytest
from engine_cases import CASES
from test_cuda_host import NEURONS, assert_same, neuron_net, rules_zoo

from axonforge.backends import cuda_backend

try:
    cuda_backend.check_cupy()
    REASON = None
except RuntimeError as err:  # no CuPy or no device: say which
    REASON = str(err).split(". ")[0]

pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no GPU: {REASON}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_engine_cases_identical_on_the_gpu(name):
    _, ref = CASES[name](1, "numba")
    net, got = CASES[name](1, "cupy")
    assert net._engine.backend.name == "cupy"
    assert_same(ref, got, name)


@pytest.mark.parametrize("model", sorted(NEURONS))
def test_every_neuron_model_identical_on_the_gpu(model):
    _, ref = neuron_net(model, "numba")
    _, got = neuron_net(model, "cupy")
    assert_same(ref, got, model)


def test_every_rule_identical_on_the_gpu():
    _, ref = rules_zoo("numba")
    _, got = rules_zoo("cupy")
    assert_same(ref, got, "rules")
    assert len(np.asarray(got[0])) > 50
