"""A tiny trained classifier for tuner tests: fast to emulate, real enough to tune."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory):
    """(model, x, labels, model path): a 4-8-3 MLP trained on scikit-learn's iris."""
    import keras
    from sklearn.datasets import load_iris

    data = load_iris()
    x = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    y = data.target.astype(np.int64)
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((4,), name="features"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="logits"),
            keras.layers.Activation("softmax", name="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x.astype(np.float32), y, epochs=60, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("iris") / "iris.keras"
    model.save(path)
    return model, x, y, path
