"""Fidelity and activity reports."""

import numpy as np
from conftest import load_example

from axonforge.hardware import report, targets


def test_fidelity_cuba_scaled_and_report():
    cuba = load_example("cuba")
    net, _, _ = cuba.build(seed=1, n=256, p=0.2, record_v=0)
    cfg = targets.get("ice40-up5k").map(net)
    f = report.fidelity(net, cfg, duration=0.3)
    # 16-bit state, 8-bit weights: the chaotic network diverges spike by spike, but the
    # mean rate agrees (population mean over 256 neurons x 0.3 s: ~440 spikes, so the
    # Poisson-like sampling error alone is ~5 %; seen: 1.4 %)
    assert f.rate_error < 0.08
    assert f.n_float > 300
    assert "fidelity on ice40-up5k" in f.summary()
    fig = f.figure()
    assert len(fig.axes) == 2
    res = cfg.emulate([], [], 1000)
    act = report.activity(cfg, res)
    tot = act["total"]
    assert 0.99 < tot["sparsity"] <= 1.0
    assert np.isclose(tot["synops"], sum(np.diff(cfg.arrays["ptr"])[256 * 0 + i]
                                         for i in res.spike_ids))  # fmt: skip
    assert tot["energy"] > 0 and "ESTIMATE" in act["energy_source"]
    assert "loihi" in act["reference"] and "23.6 pJ" in act["reference"]["loihi"]["source"]
    text = report.report_text(cfg, res, f)
    assert "saturation: none" in text and "activity over 1000 steps" in text
