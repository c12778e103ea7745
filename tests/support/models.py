"""Small seeded Keras models for the emulator tests (same seed, same model, same cache key)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def mlp(
    sizes: Sequence[int],
    *,
    seed: int = 0,
    batchnorm_after: Sequence[int] = (),
    names: Sequence[str] | None = None,
) -> object:
    """A linear MLP ``sizes[0] -> sizes[1] -> ...`` with random weights, biases and BN stats.

    Layers are named ``d1, d2, ...`` (or ``names``); ``batchnorm_after`` lists the (1-based)
    Dense layers followed by a BatchNormalization ``bn<k>`` with non-trivial statistics.
    """
    import keras

    rng = np.random.default_rng(seed)
    names = list(names) if names is not None else [f"d{k}" for k in range(1, len(sizes))]
    inp = keras.Input((sizes[0],), name="x_in")
    x = inp
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        dense = keras.layers.Dense(n_out, name=names[k - 1])
        x = dense(x)
        scale = 1.5 / np.sqrt(n_in)
        dense.set_weights([rng.uniform(-scale, scale, (n_in, n_out)), rng.normal(0.0, 0.3, n_out)])
        if k in batchnorm_after:
            bn = keras.layers.BatchNormalization(name=f"bn{k}")
            x = bn(x)
            bn.set_weights(
                [
                    rng.uniform(0.5, 2.0, n_out),
                    rng.normal(0.0, 0.5, n_out),
                    rng.normal(0.0, 0.5, n_out),
                    rng.uniform(0.5, 3.0, n_out),
                ]
            )
    return keras.Model(inp, x)


def two_heads(seed: int = 0) -> object:
    """16 -> 24, then two linear heads (3 and 5 outputs): a model with two outputs."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((16,), name="x_in")
    trunk = keras.layers.Dense(24, name="trunk")
    h = trunk(inp)
    head_a = keras.layers.Dense(3, name="head_a")
    head_b = keras.layers.Dense(5, name="head_b")
    model = keras.Model(inp, [head_a(h), head_b(h)])
    for layer in (trunk, head_a, head_b):
        w, b = layer.get_weights()
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape), rng.normal(0.0, 0.3, b.shape)])
    return model


def inputs(n: int, size: int, *, seed: int = 1, spread: float = 3.0) -> np.ndarray:
    """``n`` samples off any fixed-point grid: normal times ``spread``; the last quarter doubled
    (to overflow narrow input and accumulator types)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, spread, (n, size))
    X[3 * n // 4 :] *= 2.0
    return X


#: Samples of the activation and softmax model tests (`model_inputs`).
MODEL_SAMPLES = 1000


def model_inputs(n: int = MODEL_SAMPLES, size: int = 8, seed: int = 1) -> np.ndarray:
    """Seeded inputs off the grid; the last quarter doubled to overflow narrow types."""
    return inputs(n, size, seed=seed, spread=3.0)


def auto_config(model: object) -> dict:
    """``config_from_keras_model(granularity='name')``: 'auto' Dense results (36 bits here)."""
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
