"""Tests for emulation.io.keras_files: every model file form hls4ml users keep (files written
here, `tests.support.keras_files`); project files, errors and the real models in
``test_keras_io_{project,errors,real}.py``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from emulation.errors import ModelLoadError
from emulation.io.keras_files import find_weights, fix_legacy_config, load_model
from tests.support.keras_files import (
    B1,
    B2,
    W1,
    W2,
    WEIGHTS,
    X,
    assert_close,
    keras2_sequential,
    predict,
    reference,
    weights_file,
)

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")


# --- each path without real data -------------------------------------------------------------


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m3.json"])
def test_keras3_files(keras3_dir: Path, name: str) -> None:
    """Keras 3 .keras, .h5 and JSON + .weights.h5 load and compute the MLP."""
    model = load_model(keras3_dir / name)
    assert_close(predict(model, X), reference(X))


@pytest.mark.parametrize("name", ["seq.json", "func.json", "k1.json"])
def test_legacy_json(legacy_dir: Path, name: str) -> None:
    """Keras 2 Sequential, Keras 2 functional and Keras 1 JSON load with weights found beside."""
    model = load_model(legacy_dir / name)
    assert model.input_shape == (None, 4)
    assert_close(predict(model, X), reference(X))


def test_legacy_full_h5_has_no_extra_dimension(legacy_dir: Path) -> None:
    """A Keras 2 full-model .h5 loads with input (None, 4), not (None, None, 4)."""
    model = load_model(legacy_dir / "full_keras2.h5")
    assert model.input_shape == (None, 4)
    assert_close(predict(model, X), reference(X))


def test_legacy_functional_call_does_not_warn(legacy_dir: Path) -> None:
    """A Keras 2 functional model takes a plain array without an input-structure warning."""
    model = load_model(legacy_dir / "func.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(model, X)


def test_explicit_weights(legacy_dir: Path) -> None:
    """weights= names a file that is not beside the JSON."""
    model = load_model(legacy_dir / "other.json", weights=legacy_dir / "seq_weights.h5")
    assert_close(predict(model, X), reference(X))


def test_weights_by_name_when_order_fails(legacy_dir: Path, tmp_path: Path) -> None:
    """A weights file with an extra layer loads by layer name."""
    extra = {"old_head": [np.zeros((2, 2), np.float32)], **WEIGHTS}
    weights = weights_file(tmp_path / "extra.h5", extra)
    model = load_model(legacy_dir / "other.json", weights=weights)
    assert_close(predict(model, X), reference(X))


def test_weights_that_do_not_fit(legacy_dir: Path, tmp_path: Path) -> None:
    """Weights of another architecture are a ModelLoadError naming the missing layers."""
    weights = weights_file(tmp_path / "wrong.h5", {"dense_9": [W1, B1]})
    with pytest.raises(ModelLoadError, match="layers without weights in the file: fc1, fc2"):
        load_model(legacy_dir / "other.json", weights=weights)


def test_weights_of_wrong_shape(legacy_dir: Path, tmp_path: Path) -> None:
    """Weights of the wrong shape are wrapped, with the Keras error chained."""
    weights = weights_file(tmp_path / "shape.h5", {"fc1": [W2, B2], "fc2": [W2, B2]})
    with pytest.raises(ModelLoadError, match="does not fit the model") as info:
        load_model(legacy_dir / "other.json", weights=weights)
    assert info.value.__cause__ is not None


def test_find_weights(tmp_path: Path) -> None:
    """X.json finds X_weights.h5 before X.h5, and nothing when neither exists."""
    json_path = tmp_path / "X.json"
    assert find_weights(json_path) is None
    (tmp_path / "X.h5").write_bytes(b"")
    assert find_weights(json_path) == tmp_path / "X.h5"
    (tmp_path / "X_weights.h5").write_bytes(b"")
    assert find_weights(json_path) == tmp_path / "X_weights.h5"


def test_fix_legacy_config_is_pure() -> None:
    """The repair returns a new dict and leaves the input unchanged."""
    original = keras2_sequential()
    fixed = fix_legacy_config(original)
    assert original == keras2_sequential()
    assert fixed["config"]["name"] == "sequential"
    assert fixed["config"]["layers"][0]["config"]["input_shape"] == [4]
    assert "batch_input_shape" not in fixed["config"]["layers"][0]["config"]


def test_fix_keras1_conv_names() -> None:
    """Keras 1 convolution names and arguments map to their Keras 2 spellings."""
    layer = {
        "class_name": "Convolution2D",
        "config": {
            "name": "c",
            "nb_filter": 8,
            "nb_row": 3,
            "nb_col": 2,
            "subsample": [1, 1],
            "border_mode": "same",
            "dim_ordering": "tf",
            "init": "he_normal",
        },
    }
    fixed = fix_legacy_config({"class_name": "Sequential", "config": [layer]})
    got = fixed["config"]["layers"][0]
    assert got["class_name"] == "Conv2D"
    assert got["config"] == {
        "name": "c",
        "filters": 8,
        "kernel_size": [3, 2],
        "strides": [1, 1],
        "padding": "same",
        "data_format": "channels_last",
        "kernel_initializer": "he_normal",
    }
