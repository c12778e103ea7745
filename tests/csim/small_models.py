"""A small model and configs for the comparator's tests (one compile serves them all)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: What the C simulation is built with: explicit narrow result before the softmax.
CONFIG: dict[str, Any] = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {"d3": {"Precision": {"result": "ap_fixed<16,6>"}}},
}

#: The same with the second Dense layer's result narrowed: handed to the emulator only, it
#: must make the comparator report a divergence at d2 (and not before).
BROKEN_AT_D2: dict[str, Any] = {
    "Model": CONFIG["Model"],
    "LayerName": {**CONFIG["LayerName"], "d2": {"Precision": {"result": "ap_fixed<12,5>"}}},
}


def small_model() -> Any:
    """Dense 6-8-8-4 with ReLU and a softmax, seeded."""
    import keras

    keras.utils.set_random_seed(1)
    inp = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, activation="relu", name="d1")(inp)
    h = keras.layers.Dense(8, activation="relu", name="d2")(h)
    h = keras.layers.Dense(4, name="d3")(h)
    out = keras.layers.Activation("softmax", name="sm")(h)
    return keras.Model(inp, out, name="small")


def small_inputs(n: int = 200, seed: int = 0) -> np.ndarray:
    """Off-grid normal inputs, some doubled to force wide values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[::10] *= 4.0
    return x


def small_labels(n: int = 200, seed: int = 1) -> np.ndarray:
    """Random class ids (accuracy is only counted, not judged)."""
    return np.random.default_rng(seed).integers(0, 4, n)
