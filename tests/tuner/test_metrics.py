"""The search's confidence on a target, and one agreement for `tune` and `check`."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.metrics import Target
from tuner.metrics import ConfidentTarget, wilson_lower


def test_wilson_bound_of_a_perfect_small_sample():
    """0 misses in 105 samples proves about 97.5 % at 95 % confidence, not 99 %."""
    assert wilson_lower(1.0, 105, 0.95) == pytest.approx(1 / (1 + 1.6449**2 / 105), abs=1e-4)
    assert wilson_lower(0.99, 10_000, 0.95) > 0.988


def test_confident_target_needs_enough_samples():
    """The search's target: a share must hold with confidence; an error keeps a reserve."""
    small = ConfidentTarget(Target("agreement", 0.99), n=105)
    large = ConfidentTarget(Target("agreement", 0.99), n=100_000)
    assert not small.met(1.0) and large.met(0.995)
    assert ConfidentTarget(Target("mae", 0.01), n=10).met(0.004)
    assert not ConfidentTarget(Target("mae", 0.01), n=10).met(0.006)


def test_tune_and_check_agree_on_a_one_output_model():
    """A single sigmoid output: the search's agreement and `aptune check`'s are the same
    number (``y > 0.5`` in both), below 1, so neither counts the always-0 argmax."""
    import keras

    from emulation.check import check
    from emulation.graph import build_graph
    from tuner.evaluate import Reference, emulated_metric

    rng = np.random.default_rng(3)
    inp = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, name="d1")(inp)
    h = keras.layers.Dense(1, name="d2")(h)
    model = keras.Model(inp, keras.layers.Activation("sigmoid", name="sig")(h))
    for layer in model.layers[1:3]:
        w, b = layer.get_weights()
        layer.set_weights([rng.normal(0, 0.6, w.shape), rng.normal(0, 0.1, b.shape)])
    x = rng.normal(0, 1, (400, 6))
    y_float = model.predict(x.astype(np.float32), verbose=0).astype(np.float64)
    cfg = {"Model": {"Precision": "ap_fixed<6,3>", "ReuseFactor": 1, "Strategy": "Latency"}}

    tuned, _, _ = emulated_metric(build_graph(model, cfg), Reference(x, y_float), "agreement")
    checked = check(model, cfg, x, y_float, agreement=0.999).data["agreement"]
    assert checked == tuned
    assert 0.5 < tuned < 1.0
