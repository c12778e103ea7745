"""emulation.io.keras_files on the real models: each loads and matches the float outputs shipped
beside it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulation.config import unknown_keys
from emulation.errors import ModelLoadError
from emulation.io.data_files import load_data
from emulation.io.keras_files import load, load_model, load_project
from tests.support.keras_files import assert_close, predict

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")


# --- the real models -------------------------------------------------------------------------

REAL_MODELS = [
    "conv1d/KERAS_conv1d.json",
    "conv1d/KERAS_conv1d_small.json",
    "conv2d/KERAS_conv2d_model.json",
    "conv2d/jetTagger_Conv2D_Small.json",
    "conv2d/jetTagger_Conv2D_Small_NoBatchNorm.json",
    "iris_mlp/hls_prj_keras_model.keras",
    "iris_mlp/iris_mlp.h5",
    "iris_mlp/iris_mlp_fixed.h5",
    "iris_mlp/iris_mlp_logits.h5",
    "jet_KERAS_3layer/KERAS_1layer.json",
    "jet_KERAS_3layer/KERAS_3layer.json",
    "jet_KERAS_3layer/KERAS_3layer_batch_norm.json",
    "jet_dense_deep/KERAS_dense_16x100x100x100x100x100x5.json",
    "jet_dense_deep/KERAS_dense_16x200x200x200x200x200x5.json",
    "jet_dense_deep/KERAS_dense_16x500x500x500x500x500x5.json",
    "mnist_mlp/KERAS_mnist_mlp.json",
    "svhn_grayscale_mlp/svhn_grayscale_mlp.h5",
    "svhn_grayscale_mlp/svhn_grayscale_mlp.json",
]

# (model, inputs, reference outputs): float Keras outputs shipped beside the models.
REFERENCES = [
    (
        "iris_mlp/iris_mlp.h5",
        "iris_mlp/iris_all150_scaled_input_features.dat",
        "iris_mlp/iris_mlp_keras3_predictions_all150.dat",
    ),
    (
        "iris_mlp/iris_mlp_fixed.h5",
        "iris_mlp/iris_all150_scaled_input_features.dat",
        "iris_mlp/iris_mlp_fixed_keras3_predictions_all150.dat",
    ),
    (
        "iris_mlp/iris_mlp_logits.h5",
        "iris_mlp/iris_all150_scaled_input_features.dat",
        "iris_mlp/iris_mlp_logits_keras3_predictions_all150.dat",
    ),
    (
        "iris_mlp/hls_prj_keras_model.keras",
        "iris_mlp/iris_all150_scaled_input_features.dat",
        "iris_mlp/hls_prj_keras_model_keras3_predictions_all150.dat",
    ),
    (
        "mnist_mlp/KERAS_mnist_mlp.json",
        "mnist_mlp/KERAS_mnist_mlp_inputs.dat",
        "mnist_mlp/KERAS_mnist_mlp_outputs.dat",
    ),
    (
        "svhn_grayscale_mlp/svhn_grayscale_mlp.json",
        "svhn_grayscale_mlp/svhn_grayscale_mlp_input_features.dat",
        "svhn_grayscale_mlp/svhn_grayscale_mlp_predictions.dat",
    ),
    (
        "svhn_grayscale_mlp/svhn_grayscale_mlp.h5",
        "svhn_grayscale_mlp/svhn_grayscale_mlp_input_features.dat",
        "svhn_grayscale_mlp/svhn_grayscale_mlp_predictions.dat",
    ),
]

_CACHE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def real_model(realdata: Path) -> Any:
    """Load a real model once per module, by its path under the realdata folder."""

    def get(name: str) -> Any:
        if name not in _CACHE:
            _CACHE[name] = load_model(realdata / name)
        return _CACHE[name]

    yield get
    _CACHE.clear()


@pytest.mark.parametrize("name", REAL_MODELS)
def test_real_model_loads_and_runs(real_model: Any, name: str) -> None:
    """Every real model loads with a single batch dimension and gives finite outputs."""
    model = real_model(name)
    shape = model.input_shape
    assert shape[0] is None and None not in shape[1:], f"input shape {shape}"
    x = np.random.default_rng(7).normal(size=(8, *shape[1:]))
    y = predict(model, x)
    assert y.shape == (8, *model.output_shape[1:])
    assert np.isfinite(y).all()


@pytest.mark.parametrize(("name", "inputs", "outputs"), REFERENCES)
def test_real_model_matches_reference(
    real_model: Any, realdata: Path, name: str, inputs: str, outputs: str
) -> None:
    """Float outputs match the reference outputs shipped with the model (float32 tolerance)."""
    model = real_model(name)
    x = load_data(realdata / inputs, expected_shape=model.input_shape)
    want = load_data(realdata / outputs)
    assert_close(predict(model, x), want)


def test_real_pruned_weights(realdata: Path) -> None:
    """The jet MLP loads with its 70 % pruned weights passed explicitly."""
    folder = realdata / "jet_KERAS_3layer"
    model = load_model(
        folder / "KERAS_3layer.json", weights=folder / "KERAS_3layer_70pruned_retrained_weights.h5"
    )
    kernels = [layer.get_weights()[0] for layer in model.layers if layer.get_weights()]
    zeros = sum(int((k == 0).sum()) for k in kernels) / sum(k.size for k in kernels)
    assert zeros > 0.6, f"only {zeros:.0%} of the kernel weights are zero"


def test_real_iris_project(realdata: Path) -> None:
    """The Iris project YAML loads its .h5 with its HLSConfig and settings."""
    project = load_project(realdata / "iris_mlp" / "hls4ml_config.yml")
    assert project.model_file.name == "iris_mlp_fixed.h5"
    assert project.hls_config["Model"]["Precision"] == "ap_fixed<16,6>"
    assert project.settings["Part"] == "xc7z020clg400-1"
    assert "KerasH5" not in project.settings


def test_real_hls4ml_written_project(realdata: Path, tmp_path: Path) -> None:
    """The project hls4ml wrote for Iris names OutputDir/keras_model.keras: not shipped, so
    the error says where it looked; laid out as hls4ml left it, it loads."""
    source = realdata / "iris_mlp" / "hls_prj_hls4ml_config.yml"
    with pytest.raises(ModelLoadError, match="KerasModel names projeto_iris_hls_ip_axi/keras"):
        load_project(source)
    out = tmp_path / "projeto_iris_hls_ip_axi"
    out.mkdir()
    shutil.copy(source, out / "hls4ml_config.yml")
    (out / "keras_model.keras").symlink_to(realdata / "iris_mlp" / "hls_prj_keras_model.keras")
    project = load_project(out / "hls4ml_config.yml")
    assert project.model.input_shape == (None, 4)
    # IOType under Model is not read by hls4ml (the top-level IOType is).
    assert unknown_keys(project.hls_config) == ["Model.IOType"]


@pytest.mark.parametrize(
    ("project", "key", "beside"),
    [
        ("jet_KERAS_3layer/keras-config.yml", "KerasJson", "KERAS_3layer.json"),
        ("jet_KERAS_3layer/keras-config-1layer.yml", "KerasJson", "KERAS_1layer.json"),
        ("jet_KERAS_3layer/keras-config-3layer.yml", "KerasJson", "KERAS_3layer.json"),
        (
            "jet_KERAS_3layer/keras-config-3layer-batch-norm.yml",
            "KerasJson",
            "KERAS_3layer_batch_norm.json",
        ),
        ("mnist_mlp/keras-config.yml", "KerasJson", "KERAS_mnist_mlp.json"),
        ("svhn_grayscale_mlp/keras-config.yml", "KerasJson", "svhn_grayscale_mlp.json"),
    ],
)
def test_real_projects_naming_other_folders(
    realdata: Path, project: str, key: str, beside: str
) -> None:
    """Project files naming files in folders that were not shipped get a clear error and fix."""
    with pytest.raises(ModelLoadError, match=f"set {key}: {beside}"):
        load_project(realdata / project)


def test_real_jet_project_in_original_layout(realdata: Path, tmp_path: Path) -> None:
    """Laid out as the project expects (files under keras/), the jet project loads."""
    folder = realdata / "jet_KERAS_3layer"
    (tmp_path / "keras").mkdir()
    for name in ("KERAS_1layer.json", "KERAS_1layer_weights.h5"):
        (tmp_path / "keras" / name).symlink_to(folder / name)
    shutil.copy(folder / "keras-config-1layer.yml", tmp_path / "keras-config-1layer.yml")
    model, cfg = load(tmp_path / "keras-config-1layer.yml")
    assert model.input_shape == (None, 10)
    assert cfg == {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
