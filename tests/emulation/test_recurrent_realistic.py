"""A realistic LSTM (20 time steps, 6 features, 16 units, then a Dense head; Keras's own
initialisers, seeded) under hls4ml's default config equals the C simulation on 500 inputs drawn
from a standard normal distribution: one compile."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim


def realistic_lstm() -> object:
    import keras

    keras.utils.set_random_seed(101)
    inp = keras.Input((20, 6), name="x_in")
    h = keras.layers.LSTM(16, name="lstm")(inp)
    return keras.Model(inp, keras.layers.Dense(5, name="head")(h))


def realistic_inputs(n: int = 500) -> np.ndarray:
    return np.random.default_rng(102).normal(0.0, 1.0, (n, 20, 6))


@pytest.mark.csim
@requires_gxx
def test_realistic_lstm_matches_csim_on_500_inputs() -> None:
    """Every traced layer and the output equal the C simulation on 500 normal inputs."""
    import hls4ml

    model = realistic_lstm()
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    _, _, want = assert_equal_to_csim(model, cfg, realistic_inputs(), same_layers=True)
    assert np.unique(want["lstm"]).size > 500
