"""Rebuild the built-in example: a small MLP trained on scikit-learn's digits.

Run once by hand (needs scikit-learn); the outputs ship with the package so that
``aptune tune --example`` works on a fresh machine without training anything.

    python -m tuner.example.make_example
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Train the 64-32-16-10 MLP and write the model, inputs and labels beside this file."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel intensities 0..16 -> [0, 1], exact
    y = digits.target.astype(np.int64)
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((64,), name="pixels"),
            keras.layers.Dense(32, activation="relu", name="dense1"),
            keras.layers.Dense(16, activation="relu", name="dense2"),
            keras.layers.Dense(10, name="logits"),
            keras.layers.Activation("softmax", name="softmax"),
        ],
        name="digits_mlp",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=32, validation_split=0.2, verbose=0)
    model.save(HERE / "digits_mlp.keras")
    np.save(HERE / "digits_x.npy", x)
    np.save(HERE / "digits_y.npy", y)
    acc = float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))
    print(f"float accuracy on all {len(y)} digits: {acc:.4f}")


if __name__ == "__main__":
    main()
