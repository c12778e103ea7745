"""Tests for emulation.keras_io: every model file form hls4ml users keep."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulation.config import unknown_keys
from emulation.data import load_data
from emulation.errors import ModelLoadError
from emulation.keras_io import (
    Project,
    find_weights,
    fix_legacy_config,
    load,
    load_model,
    load_project,
)

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")

RNG = np.random.default_rng(20240601)
W1 = RNG.normal(size=(4, 3)).astype(np.float32)
B1 = RNG.normal(size=3).astype(np.float32)
W2 = RNG.normal(size=(3, 2)).astype(np.float32)
B2 = RNG.normal(size=2).astype(np.float32)
X = RNG.normal(size=(16, 4))


def _reference(x: np.ndarray) -> np.ndarray:
    """The 4-3-2 MLP of W1..B2 (ReLU, softmax) in float64 NumPy."""
    h = np.maximum(x @ W1 + B1, 0.0)
    z = h @ W2 + B2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x.astype(np.float32), training=False), dtype=np.float64)


def _assert_close(got: np.ndarray, want: np.ndarray, atol: float = 1e-5) -> None:
    """Float32 model against a float reference: not a fixed-point comparison."""
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    err = np.abs(got - want)
    bad = ~np.isclose(got, want, rtol=1e-5, atol=atol)
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} outputs differ (max |diff| {err.max():.3g}); "
        f"first at {np.argwhere(bad)[:3].tolist()}"
    )


# --- legacy files made here ------------------------------------------------------------------


def _dense_cfg(name: str, units: int, activation: str, **extra: Any) -> dict[str, Any]:
    config = {"name": name, "units": units, "activation": activation, "use_bias": True}
    return {"class_name": "Dense", "config": {**config, **extra}}


def _keras2_sequential() -> dict[str, Any]:
    """A Keras 2.0-style Sequential JSON: bare layer list, batch_input_shape on a Dense."""
    return {
        "class_name": "Sequential",
        "keras_version": "2.0.0",
        "backend": "tensorflow",
        "config": [
            _dense_cfg("fc1", 3, "relu", batch_input_shape=[None, 4], dtype="float32"),
            _dense_cfg("fc2", 2, "softmax"),
        ],
    }


def _keras2_functional() -> dict[str, Any]:
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
        {**_dense_cfg("fc1", 3, "relu"), "name": "fc1", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {**_dense_cfg("fc2", 2, "softmax"), "name": "fc2", "inbound_nodes": [[["fc1", 0, 0, {}]]]},
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


def _keras1_sequential() -> dict[str, Any]:
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


def _write_legacy_weights(group: Any, layers: dict[str, list[np.ndarray]], names: str) -> None:
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


def _keras2_names(layer: str, i: int) -> str:
    return f"{layer}/{('kernel', 'bias')[i]}:0"


WEIGHTS = {"fc1": [W1, B1], "fc2": [W2, B2]}


def _weights_file(
    path: Path, layers: dict[str, list[np.ndarray]] = WEIGHTS, names: str = "{layer}/w{i}:0"
) -> Path:
    with h5py.File(path, "w") as handle:
        _write_legacy_weights(handle, layers, names)
    return path


@pytest.fixture(scope="module")
def legacy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of Keras 1/2 files (JSON + weights, full-model .h5) written with h5py."""
    folder = tmp_path_factory.mktemp("legacy")
    (folder / "seq.json").write_text(json.dumps(_keras2_sequential()))
    _weights_file(folder / "seq_weights.h5")
    (folder / "func.json").write_text(json.dumps(_keras2_functional()))
    _weights_file(folder / "func.h5")
    (folder / "k1.json").write_text(json.dumps(_keras1_sequential()))
    _weights_file(folder / "k1_weights.h5", names="{layer}_W{i}")
    (folder / "other.json").write_text(json.dumps(_keras2_sequential()))
    with h5py.File(folder / "full_keras2.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps(_keras2_sequential())
        handle.attrs["keras_version"] = b"2.2.4"
        handle.attrs["backend"] = b"tensorflow"
        _write_legacy_weights(handle.create_group("model_weights"), WEIGHTS, "{layer}/w{i}:0")
    return folder


@pytest.fixture(scope="module")
def keras3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the same MLP saved by Keras 3: .keras, .h5, JSON + .weights.h5."""
    folder = tmp_path_factory.mktemp("keras3")
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


# --- each path without real data -------------------------------------------------------------


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m3.json"])
def test_keras3_files(keras3_dir: Path, name: str) -> None:
    """Keras 3 .keras, .h5 and JSON + .weights.h5 load and compute the MLP."""
    model = load_model(keras3_dir / name)
    _assert_close(_predict(model, X), _reference(X))


@pytest.mark.parametrize("name", ["seq.json", "func.json", "k1.json"])
def test_legacy_json(legacy_dir: Path, name: str) -> None:
    """Keras 2 Sequential, Keras 2 functional and Keras 1 JSON load with weights found beside."""
    model = load_model(legacy_dir / name)
    assert model.input_shape == (None, 4)
    _assert_close(_predict(model, X), _reference(X))


def test_legacy_full_h5_has_no_extra_dimension(legacy_dir: Path) -> None:
    """A Keras 2 full-model .h5 loads with input (None, 4), not (None, None, 4)."""
    model = load_model(legacy_dir / "full_keras2.h5")
    assert model.input_shape == (None, 4)
    _assert_close(_predict(model, X), _reference(X))


def test_legacy_functional_call_does_not_warn(legacy_dir: Path) -> None:
    """A Keras 2 functional model takes a plain array without an input-structure warning."""
    model = load_model(legacy_dir / "func.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _predict(model, X)


def test_explicit_weights(legacy_dir: Path) -> None:
    """weights= names a file that is not beside the JSON."""
    model = load_model(legacy_dir / "other.json", weights=legacy_dir / "seq_weights.h5")
    _assert_close(_predict(model, X), _reference(X))


def test_weights_by_name_when_order_fails(legacy_dir: Path, tmp_path: Path) -> None:
    """A weights file with an extra layer loads by layer name."""
    extra = {"old_head": [np.zeros((2, 2), np.float32)], **WEIGHTS}
    weights = _weights_file(tmp_path / "extra.h5", extra)
    model = load_model(legacy_dir / "other.json", weights=weights)
    _assert_close(_predict(model, X), _reference(X))


def test_weights_that_do_not_fit(legacy_dir: Path, tmp_path: Path) -> None:
    """Weights of another architecture are a ModelLoadError naming the missing layers."""
    weights = _weights_file(tmp_path / "wrong.h5", {"dense_9": [W1, B1]})
    with pytest.raises(ModelLoadError, match="layers without weights in the file: fc1, fc2"):
        load_model(legacy_dir / "other.json", weights=weights)


def test_weights_of_wrong_shape(legacy_dir: Path, tmp_path: Path) -> None:
    """Weights of the wrong shape are wrapped, with the Keras error chained."""
    weights = _weights_file(tmp_path / "shape.h5", {"fc1": [W2, B2], "fc2": [W2, B2]})
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
    original = _keras2_sequential()
    fixed = fix_legacy_config(original)
    assert original == _keras2_sequential()
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


# --- project files ---------------------------------------------------------------------------


def _project(folder: Path, body: str) -> Path:
    path = folder / "prj.yml"
    path.write_text(
        body + "OutputDir: out\nPart: xc7z020clg400-1\nIOType: io_parallel\n"
        "HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    ReuseFactor: 1\n"
    )
    return path


def test_project_json_and_h5(legacy_dir: Path) -> None:
    """KerasJson + KerasH5, relative to the YAML, give the model, HLSConfig and settings."""
    path = _project(legacy_dir, "KerasJson: other.json\nKerasH5: seq_weights.h5\n")
    project = load_project(path)
    assert isinstance(project, Project)
    _assert_close(_predict(project.model, X), _reference(X))
    assert project.hls_config == {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
    assert project.settings == {
        "OutputDir": "out",
        "Part": "xc7z020clg400-1",
        "IOType": "io_parallel",
    }
    assert project.model_file == (legacy_dir / "other.json").resolve()
    assert project.weights_file == (legacy_dir / "seq_weights.h5").resolve()


def test_project_h5_alone(legacy_dir: Path) -> None:
    """KerasH5 alone is a full-model file."""
    project = load_project(_project(legacy_dir, "KerasH5: full_keras2.h5\n"))
    assert project.model.input_shape == (None, 4)
    assert project.weights_file is None


def test_project_keras_model_tag(keras3_dir: Path, tmp_path: Path) -> None:
    """hls4ml's own layout: the YAML inside OutputDir, !keras_model naming OutputDir/model."""
    out = tmp_path / "my_prj"
    out.mkdir()
    shutil.copy(keras3_dir / "m.keras", out / "keras_model.keras")
    (out / "hls4ml_config.yml").write_text(
        "KerasModel: !keras_model 'my_prj/keras_model.keras'\nOutputDir: my_prj\n"
        "HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n"
    )
    model, cfg = load(out / "hls4ml_config.yml")
    _assert_close(_predict(model, X), _reference(X))
    assert cfg == {"Model": {"Precision": "ap_fixed<16,6>"}}


def test_project_keras_model_plain_path(keras3_dir: Path) -> None:
    """KerasModel may be a plain path too."""
    model, _ = load(_project(keras3_dir, "KerasModel: m.keras\n"))
    _assert_close(_predict(model, X), _reference(X))


def test_project_model_path_relative_to_the_folder_run_in(
    keras3_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project in a subfolder naming its model from the folder it is run in, as
    ``aptune tune --project`` writes it for ``hls4ml convert -c``, loads from that folder."""
    shutil.copy(keras3_dir / "m.keras", tmp_path / "m.keras")
    (tmp_path / "configs").mkdir()
    project = _project(tmp_path / "configs", "KerasModel: m.keras\n")
    monkeypatch.chdir(tmp_path)
    model, _ = load(Path("configs") / project.name)
    _assert_close(_predict(model, X), _reference(X))


def test_project_without_model_key(tmp_path: Path) -> None:
    """A project YAML naming no model says which keys to add."""
    with pytest.raises(ModelLoadError, match="names no model: add KerasModel"):
        load_project(_project(tmp_path, ""))


def test_project_other_frontend(tmp_path: Path) -> None:
    """An ONNX project is refused with the reason."""
    with pytest.raises(ModelLoadError, match="OnnxModel: aptune reads Keras models only"):
        load_project(_project(tmp_path, "OnnxModel: m.onnx\n"))


def test_project_malformed_yaml(tmp_path: Path) -> None:
    """Malformed YAML in a project is a ModelLoadError with the line."""
    (tmp_path / "bad.yml").write_text("KerasH5: [m.h5\n")
    with pytest.raises(ModelLoadError, match="not valid YAML at line"):
        load(tmp_path / "bad.yml")


def test_project_missing_model_file(tmp_path: Path) -> None:
    """A model path that does not resolve says where it looked."""
    with pytest.raises(ModelLoadError, match=r"KerasH5 names gone.h5, not found at .*gone.h5"):
        load_project(_project(tmp_path, "KerasH5: gone.h5\n"))


# --- errors ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a ModelLoadError naming it."""
    with pytest.raises(ModelLoadError, match=r"model file not found: .*none\.keras"):
        load_model(tmp_path / "none.keras")


def test_folder(tmp_path: Path) -> None:
    """A folder is refused with the supported formats."""
    with pytest.raises(ModelLoadError, match=r"is a folder.*expected \.keras, \.h5"):
        load_model(tmp_path)


def test_unknown_extension(tmp_path: Path) -> None:
    """An unknown suffix lists the supported formats."""
    (tmp_path / "m.pb").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"unknown model format '\.pb'; expected \.keras"):
        load_model(tmp_path / "m.pb")


def test_unreadable_h5(tmp_path: Path) -> None:
    """A .h5 that is not HDF5 is wrapped, never a raw h5py error."""
    (tmp_path / "m.h5").write_bytes(b"garbage")
    with pytest.raises(ModelLoadError, match="not an HDF5 file") as info:
        load_model(tmp_path / "m.h5")
    assert info.value.__cause__ is not None


def test_unreadable_keras(tmp_path: Path) -> None:
    """A .keras that is not a zip archive says so."""
    (tmp_path / "m.keras").write_bytes(b"garbage")
    with pytest.raises(ModelLoadError, match=r"not a Keras 3 \.keras archive"):
        load_model(tmp_path / "m.keras")


def test_json_without_weights(legacy_dir: Path, tmp_path: Path) -> None:
    """A JSON without weights beside it asks for --weights."""
    shutil.copy(legacy_dir / "seq.json", tmp_path / "alone.json")
    with pytest.raises(ModelLoadError, match="pass the weights file with --weights"):
        load_model(tmp_path / "alone.json")


def test_json_not_a_model(tmp_path: Path) -> None:
    """A JSON file that is not a Keras model is refused."""
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ModelLoadError, match="not a Keras model JSON"):
        load_model(tmp_path / "x.json")


def test_weights_only_h5(legacy_dir: Path) -> None:
    """A weights-only .h5 given as the model points to the JSON beside it."""
    with pytest.raises(ModelLoadError, match=r"holds weights only.*seq\.json"):
        load_model(legacy_dir / "seq_weights.h5")


def test_weights_argument_on_non_json(keras3_dir: Path) -> None:
    """weights= with a file that holds its own weights is refused."""
    with pytest.raises(ModelLoadError, match=r"only for a \.json"):
        load_model(keras3_dir / "m.keras", weights=keras3_dir / "m.h5")


def test_load_plain_model_has_no_config(keras3_dir: Path) -> None:
    """load() on a model file returns (model, None)."""
    model, cfg = load(keras3_dir / "m.keras")
    assert cfg is None
    assert model.output_shape == (None, 2)


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
    y = _predict(model, x)
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
    _assert_close(_predict(model, x), want)


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
