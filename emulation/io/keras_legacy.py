"""Keras 1/2 files under Keras 3: config repair, building, and legacy HDF5 weights.

Keras 3 refuses most legacy files as they are. Legacy configs are repaired before they are
built with Keras 3's legacy config loader: a Sequential config that is a bare list is wrapped,
``batch_input_shape`` on a layer that is not an ``InputLayer`` becomes ``input_shape`` (or Keras
3 adds an extra ``None`` dimension to the input), and Keras 1 argument names are renamed.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.errors import ModelLoadError

if TYPE_CHECKING:
    import keras

__all__ = [
    "build_legacy",
    "first_line",
    "fix_legacy_config",
    "is_keras3_config",
    "load_weights",
    "quiet",
]

# ---------------------------------------------------------------------------------------------
# Legacy config repair

# Keras 1 / 2.0 class and argument names and their Keras 2.2+ spellings.
_KERAS1_CLASSES = {"Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D"}
_KERAS1_ARGS = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
    "nb_filter": "filters",
    "filter_length": "kernel_size",
    "subsample_length": "strides",
    "subsample": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format",
    "pool_length": "pool_size",
    "stride": "strides",
    "atrous_rate": "dilation_rate",
    "input_dtype": "dtype",
    "beta_init": "beta_initializer",
    "gamma_init": "gamma_initializer",
}
_KERAS1_DROPPED = ("mode", "input_length", "cache")  # BatchNormalization mode, Conv1D length
_DATA_FORMATS = {"tf": "channels_last", "th": "channels_first"}


def _fix_keras1_args(class_name: str, cfg: dict[str, Any]) -> None:
    for old, new in _KERAS1_ARGS.items():
        if old in cfg and new not in cfg:
            cfg[new] = cfg.pop(old)
    if class_name == "Dropout" and "p" in cfg and "rate" not in cfg:
        cfg["rate"] = cfg.pop("p")
    if "nb_row" in cfg and "nb_col" in cfg and "kernel_size" not in cfg:
        cfg["kernel_size"] = [cfg.pop("nb_row"), cfg.pop("nb_col")]
    if "data_format" in cfg and cfg["data_format"] in (*_DATA_FORMATS, "default"):
        fmt = cfg.pop("data_format")
        if fmt in _DATA_FORMATS:
            cfg["data_format"] = _DATA_FORMATS[fmt]
    if "input_dim" in cfg:
        dim = cfg.pop("input_dim")
        if "batch_input_shape" not in cfg and "input_shape" not in cfg:
            cfg["input_shape"] = [dim]
    for key in _KERAS1_DROPPED:
        cfg.pop(key, None)


def _fix_layer(layer: dict[str, Any]) -> None:
    layer["class_name"] = _KERAS1_CLASSES.get(layer["class_name"], layer["class_name"])
    cfg = layer.get("config")
    if not isinstance(cfg, dict):
        return
    class_name = layer["class_name"]
    if class_name in ("Sequential", "Model", "Functional"):
        _fix_model(layer)
        return
    _fix_keras1_args(class_name, cfg)
    if class_name != "InputLayer" and "batch_input_shape" in cfg:
        shape = cfg.pop("batch_input_shape")
        if "input_shape" not in cfg:
            # Keras 3 would read the batch dimension as a data dimension.
            cfg["input_shape"] = list(shape[1:])


def _fix_model(model: dict[str, Any]) -> None:
    cfg = model.get("config")
    if model.get("class_name") == "Sequential" and isinstance(cfg, list):
        model["config"] = cfg = {"name": "sequential", "layers": cfg}
    if isinstance(cfg, dict):
        for key in ("input_layers", "output_layers"):
            ends = cfg.get(key)
            if isinstance(ends, list) and len(ends) == 1 and isinstance(ends[0], list):
                # Keras 2 nests a single input as [[name, 0, 0]]; Keras 3 then expects a list
                # of inputs and warns at every call given a plain array.
                cfg[key] = ends[0]
        for layer in cfg.get("layers", []):
            if isinstance(layer, dict) and "class_name" in layer:
                _fix_layer(layer)


def fix_legacy_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a Keras 1/2 model config that Keras 3's legacy loader builds correctly.

    Wraps a bare-list Sequential config as ``{"name", "layers"}``, turns ``batch_input_shape``
    on any layer but ``InputLayer`` into ``input_shape`` (dropping the batch dimension) and
    renames Keras 1 classes and arguments (``output_dim``, ``init``, ``W_regularizer``,
    ``subsample``, ``border_mode``, ``nb_filter``, ``Convolution2D``...). Nested models too.

    Examples
    --------
    >>> cfg = {"class_name": "Sequential", "config": [{"class_name": "Dense",
    ...        "config": {"name": "d", "output_dim": 3, "batch_input_shape": [None, 4]}}]}
    >>> fix_legacy_config(cfg)["config"]["layers"][0]["config"]
    {'name': 'd', 'units': 3, 'input_shape': [4]}
    """
    fixed = copy.deepcopy(config)
    _fix_model(fixed)
    return fixed


def is_keras3_config(config: dict[str, Any], keras_version: str | None) -> bool:
    if keras_version is not None:
        return str(keras_version).startswith("3")
    return "module" in config or "registered_name" in config


# ---------------------------------------------------------------------------------------------
# Keras plumbing (imported lazily: TensorFlow takes seconds to import)


@contextlib.contextmanager
def quiet() -> Any:
    # Keras warns about input_shape on layers; the repaired legacy configs use it on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def build_legacy(config: dict[str, Any]) -> keras.Model:
    """Build a model from a Keras 1/2 config with Keras 3's legacy config loader."""
    from keras.src.legacy.saving import saving_utils

    try:
        from keras.src.legacy.saving.saving_options import keras_option_scope
    except ImportError:  # older Keras 3 releases have no such scope
        scope: Any = contextlib.nullcontext()
    else:
        scope = keras_option_scope(use_legacy_config=True)
    with quiet(), scope:
        return saving_utils.model_from_config(fix_legacy_config(config))


def _legacy_layer_names(group: Any) -> list[str]:
    names = []
    for raw in group.attrs.get("layer_names", []):
        name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        if len(group[name].attrs.get("weight_names", [])):
            names.append(name)
    return names


def load_weights(model: keras.Model, weights: Path) -> None:
    """Load a weights file (legacy HDF5 layout, full-model .h5 or Keras 3 ``.weights.h5``).

    Legacy files load in layer order first; when that fails (a layer count that differs,
    e.g. an extra layer without weights in the file) they load by layer name, but only if
    every layer with weights in the model has a group of its name in the file.
    """
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    try:
        handle = h5py.File(weights, "r")
    except OSError as exc:
        raise ModelLoadError(f"cannot read weights file {weights}: not an HDF5 file") from exc
    with handle:
        group = handle
        if "layer_names" not in handle.attrs and "model_weights" in handle:
            group = handle["model_weights"]
        if "layer_names" not in group.attrs:
            keras3_layout = True
        else:
            keras3_layout = False
            try:
                with quiet():
                    legacy_h5_format.load_weights_from_hdf5_group(group, model)
                return
            except ValueError as exc:
                in_file = set(_legacy_layer_names(group))
                needed = {layer.name for layer in model.layers if layer.weights}
                missing = sorted(needed - in_file)
                if missing:
                    raise ModelLoadError(
                        f"weights file {weights} does not fit the model: {first_line(exc)}; "
                        f"layers without weights in the file: {', '.join(missing)}. Pass the "
                        "weights saved with this architecture (--weights)"
                    ) from exc
                try:
                    with quiet():
                        legacy_h5_format.load_weights_from_hdf5_group_by_name(group, model)
                    return
                except ValueError as exc2:
                    raise ModelLoadError(
                        f"weights file {weights} does not fit the model: {first_line(exc2)}. "
                        "Pass the weights saved with this architecture (--weights)"
                    ) from exc2
    if keras3_layout:
        if not weights.name.endswith(".weights.h5"):
            raise ModelLoadError(
                f"weights file {weights} is in Keras 3 layout but not named *.weights.h5: "
                "rename it so Keras reads it as Keras 3 weights"
            )
        try:
            with quiet():
                model.load_weights(weights)
        except Exception as exc:
            raise ModelLoadError(
                f"weights file {weights} does not fit the model: {first_line(exc)}. "
                "Pass the weights saved with this architecture (--weights)"
            ) from exc
