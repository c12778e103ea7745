"""Keras model files written here for the `emulation.io.keras_files` tests: one 4-3-2 MLP (ReLU,
softmax) of seeded float32 weights, as Keras 1 and Keras 2 legacy files (JSON + HDF5 weights,
full-model .h5, written with h5py) and as Keras 3 saves (.keras, .h5, JSON + .weights.h5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

RNG = np.random.default_rng(20240601)
W1 = RNG.normal(size=(4, 3)).astype(np.float32)
B1 = RNG.normal(size=3).astype(np.float32)
W2 = RNG.normal(size=(3, 2)).astype(np.float32)
B2 = RNG.normal(size=2).astype(np.float32)
X = RNG.normal(size=(16, 4))


def reference(x: np.ndarray) -> np.ndarray:
    """The 4-3-2 MLP of W1..B2 (ReLU, softmax) in float64 NumPy."""
    h = np.maximum(x @ W1 + B1, 0.0)
    z = h @ W2 + B2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x.astype(np.float32), training=False), dtype=np.float64)


def assert_close(got: np.ndarray, want: np.ndarray, atol: float = 1e-5) -> None:
    """Float32 model against a float reference: not a fixed-point comparison."""
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    err = np.abs(got - want)
    bad = ~np.isclose(got, want, rtol=1e-5, atol=atol)
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} outputs differ (max |diff| {err.max():.3g}); "
        f"first at {np.argwhere(bad)[:3].tolist()}"
    )


def dense_cfg(name: str, units: int, activation: str, **extra: Any) -> dict[str, Any]:
    config = {"name": name, "units": units, "activation": activation, "use_bias": True}
    return {"class_name": "Dense", "config": {**config, **extra}}


def keras2_sequential() -> dict[str, Any]:
    """A Keras 2.0-style Sequential JSON: bare layer list, batch_input_shape on a Dense."""
    return {
        "class_name": "Sequential",
        "keras_version": "2.0.0",
        "backend": "tensorflow",
        "config": [
            dense_cfg("fc1", 3, "relu", batch_input_shape=[None, 4], dtype="float32"),
            dense_cfg("fc2", 2, "softmax"),
        ],
    }


def keras2_functional() -> dict[str, Any]:
    """A Keras 2.1-style functional JSON with nested input/output lists."""
    layers = [
        {
            "class_name": "InputLayer",
            "name": "input_1",
            "config": {
                "batch_input_shape": [None, 4],
                "dtype": "float32",
                "sparse": False,
                "name": "input_1",
            },
            "inbound_nodes": [],
        },
        {**dense_cfg("fc1", 3, "relu"), "name": "fc1", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {**dense_cfg("fc2", 2, "softmax"), "name": "fc2", "inbound_nodes": [[["fc1", 0, 0, {}]]]},
    ]
    return {
        "class_name": "Model",
        "keras_version": "2.1.3",
        "backend": "tensorflow",
        "config": {
            "name": "model_1",
            "layers": layers,
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["fc2", 0, 0]],
        },
    }


def keras1_sequential() -> dict[str, Any]:
    """A Keras 1-style JSON: output_dim, init, W_regularizer, bias, input_dtype."""

    def dense(name: str, units: int, activation: str, **extra: Any) -> dict[str, Any]:
        return {
            "class_name": "Dense",
            "config": {
                "name": name,
                "output_dim": units,
                "activation": activation,
                "init": "glorot_uniform",
                "W_regularizer": None,
                "b_regularizer": None,
                "W_constraint": None,
                "b_constraint": None,
                "activity_regularizer": None,
                "bias": True,
                "trainable": True,
                **extra,
            },
        }

    return {
        "class_name": "Sequential",
        "keras_version": "1.2.2",
        "config": [
            dense(
                "fc1", 3, "relu", batch_input_shape=[None, 4], input_dtype="float32", input_dim=4
            ),
            dense("fc2", 2, "softmax"),
        ],
    }


def write_legacy_weights(group: Any, layers: dict[str, list[np.ndarray]], names: str) -> None:
    """Write Keras 1/2's HDF5 weight layout (layer_names, weight_names) into a group."""
    group.attrs["layer_names"] = [name.encode() for name in layers]
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.0.0"
    for layer, values in layers.items():
        sub = group.create_group(layer)
        weight_names = [names.format(layer=layer, i=i) for i in range(len(values))]
        sub.attrs["weight_names"] = [n.encode() for n in weight_names]
        for name, value in zip(weight_names, values, strict=True):
            sub.create_dataset(name, data=value)


def keras2_names(layer: str, i: int) -> str:
    return f"{layer}/{('kernel', 'bias')[i]}:0"


WEIGHTS = {"fc1": [W1, B1], "fc2": [W2, B2]}


def weights_file(
    path: Path, layers: dict[str, list[np.ndarray]] = WEIGHTS, names: str = "{layer}/w{i}:0"
) -> Path:
    import h5py

    with h5py.File(path, "w") as handle:
        write_legacy_weights(handle, layers, names)
    return path


def write_legacy_folder(folder: Path) -> Path:
    """Keras 1/2 files of the MLP in ``folder``: JSON + weights beside, a full-model .h5."""
    import h5py

    (folder / "seq.json").write_text(json.dumps(keras2_sequential()))
    weights_file(folder / "seq_weights.h5")
    (folder / "func.json").write_text(json.dumps(keras2_functional()))
    weights_file(folder / "func.h5")
    (folder / "k1.json").write_text(json.dumps(keras1_sequential()))
    weights_file(folder / "k1_weights.h5", names="{layer}_W{i}")
    (folder / "other.json").write_text(json.dumps(keras2_sequential()))
    with h5py.File(folder / "full_keras2.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps(keras2_sequential())
        handle.attrs["keras_version"] = b"2.2.4"
        handle.attrs["backend"] = b"tensorflow"
        write_legacy_weights(handle.create_group("model_weights"), WEIGHTS, "{layer}/w{i}:0")
    return folder


def write_keras3_folder(folder: Path) -> Path:
    """The MLP saved by Keras 3 in ``folder``: .keras, .h5, JSON + .weights.h5."""
    import keras

    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="fc2")(hidden)
    model = keras.Model(inputs, outputs)
    model.get_layer("fc1").set_weights([W1, B1])
    model.get_layer("fc2").set_weights([W2, B2])
    model.save(folder / "m.keras")
    model.save(folder / "m.h5")
    (folder / "m3.json").write_text(model.to_json())
    model.save_weights(folder / "m3.weights.h5")
    return folder
