"""Load Keras models in every form hls4ml users keep them.

Supported inputs:

- Keras 3 ``.keras`` archives;
- full-model ``.h5`` files, Keras 2 ones included;
- Keras 1/2 architecture JSON plus a weights ``.h5`` (``X.json`` finds ``X_weights.h5`` or
  ``X.h5`` beside it, or the weights are given explicitly);
- hls4ml project YAML files (``KerasModel``, ``!keras_model`` tag, ``KerasJson`` + ``KerasH5``
  or ``KerasH5`` alone), paths relative to the YAML file.

Legacy files are repaired and built by `emulation.io.keras_legacy`. Every failure is a
:class:`ModelLoadError` naming the file and the fix.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.config import read_config, read_yaml
from emulation.errors import ConfigError, ModelLoadError
from emulation.io.keras_legacy import (
    build_legacy,
    first_line,
    fix_legacy_config,
    is_keras3_config,
    load_weights,
    quiet,
)

if TYPE_CHECKING:
    import keras

__all__ = [
    "SUPPORTED_MODELS",
    "Project",
    "find_weights",
    "fix_legacy_config",
    "load",
    "load_model",
    "load_project",
]

SUPPORTED_MODELS = "expected .keras, .h5, .json (+ _weights.h5) or an hls4ml project .yml"

_MODEL_KEYS = ("KerasModel", "KerasJson", "KerasH5")
_OTHER_FRONTENDS = ("OnnxModel", "PytorchModel")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Project:
    """An hls4ml project file, loaded.

    Attributes
    ----------
    model : keras.Model
        The Keras model the project names.
    hls_config : dict
        The validated ``HLSConfig`` section (empty when the file has none).
    settings : dict
        Every other key except the model keys: ``OutputDir``, ``ProjectName``, ``Part``,
        ``ClockPeriod``, ``IOType``, ``Backend``...
    path : Path
        The project file.
    model_file : Path
        The model file loaded (``.keras``, ``.h5`` or ``.json``), resolved.
    weights_file : Path or None
        The weights file, for a JSON model.
    """

    model: keras.Model = field(repr=False)
    hls_config: dict[str, Any]
    settings: dict[str, Any]
    path: Path
    model_file: Path
    weights_file: Path | None = None


# ---------------------------------------------------------------------------------------------
# One loader per file kind


def find_weights(json_path: PathLike) -> Path | None:
    """Find the weights file beside an architecture JSON, or None.

    ``X.json`` looks for ``X_weights.h5``, ``X.weights.h5``, ``X.h5`` (and ``.hdf5``), in
    that order.
    """
    path = Path(json_path)
    stem = path.with_suffix("")
    for suffix in ("_weights.h5", ".weights.h5", ".h5", "_weights.hdf5", ".hdf5"):
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def _load_keras(path: Path) -> keras.Model:
    import zipfile

    import keras

    if not zipfile.is_zipfile(path):
        raise ModelLoadError(
            f"cannot load {path}: not a Keras 3 .keras archive (a zip file); re-save it with "
            "model.save('model.keras') or pass the .h5 or .json it came from"
        )
    try:
        with quiet():
            return keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {path}: {first_line(exc)}") from exc


def _read_model_config(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Return the ``model_config`` attribute of an HDF5 file (None for weights only)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
            version = handle.attrs.get("keras_version")
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path}: not an HDF5 file ({first_line(exc)})") from exc
    if raw is None:
        return None, None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    if isinstance(version, bytes):
        version = version.decode("utf-8")
    try:
        return json.loads(raw), (None if version is None else str(version))
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"cannot read {path}: its model_config is not JSON") from exc


def _load_h5(path: Path) -> keras.Model:
    import keras

    config, version = _read_model_config(path)
    if config is None:
        json_path = _json_beside(path)
        hint = (
            f"load {json_path} with this file as weights"
            if json_path
            else "pass the architecture .json with this file as --weights"
        )
        raise ModelLoadError(f"{path} holds weights only (no model_config): {hint}")
    fixed_needed = fix_legacy_config(config) != config
    if not fixed_needed and is_keras3_config(config, version):
        try:
            with quiet():
                return keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelLoadError(f"cannot load {path}: {first_line(exc)}") from exc
    # Keras 2 files: keras.models.load_model either fails or, for a Sequential model whose first
    # layer carries batch_input_shape, silently builds an input with an extra None dimension.
    try:
        model = build_legacy(config)
    except Exception as exc:
        raise ModelLoadError(f"cannot build the model stored in {path}: {first_line(exc)}") from exc
    load_weights(model, path)
    return model


def _json_beside(weights: Path) -> Path | None:
    name = weights.name
    for suffix in ("_weights.h5", ".weights.h5", ".h5", "_weights.hdf5", ".hdf5"):
        if name.endswith(suffix):
            candidate = weights.with_name(name[: -len(suffix)] + ".json")
            if candidate.is_file():
                return candidate
    return None


def _load_json(path: Path, weights: Path | None) -> keras.Model:
    import keras

    try:
        text = path.read_text(encoding="utf-8")
        config = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read {path}: {first_line(exc)}") from exc
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ModelLoadError(
            f"{path} is not a Keras model JSON (no class_name/config): pass the file written by "
            "model.to_json()"
        )
    weights = weights if weights is not None else find_weights(path)
    if weights is None:
        raise ModelLoadError(
            f"no weights found for {path} (looked for {path.stem}_weights.h5 and "
            f"{path.stem}.h5 beside it): pass the weights file with --weights"
        )
    if not weights.is_file():
        raise ModelLoadError(f"weights file not found: {weights}")
    try:
        if is_keras3_config(config, config.get("keras_version")):
            with quiet():
                model = keras.models.model_from_json(text)
        else:
            model = build_legacy(config)
    except Exception as exc:
        raise ModelLoadError(f"cannot build the model in {path}: {first_line(exc)}") from exc
    load_weights(model, weights)
    return model


# ---------------------------------------------------------------------------------------------
# Project files


def _resolve(value: Any, key: str, project: Path, settings: dict[str, Any]) -> Path:
    """Find the file a project key names: relative to the project file, or to its parent when
    the project file sits inside ``OutputDir`` (hls4ml writes ``OutputDir/keras_model.keras``
    relative to the folder it ran in), else relative to the folder this runs in, as
    ``hls4ml convert -c`` reads it (``aptune tune --project`` writes it so)."""
    if not isinstance(value, str) or not value.strip():
        raise ModelLoadError(f"{project}: {key} is {value!r}; expected a file path")
    named = Path(value)
    if named.is_absolute():
        candidates = [named]
    else:
        candidates = [project.parent / named]
        out_dir = settings.get("OutputDir")
        if isinstance(out_dir, str) and out_dir:
            prefix = Path(out_dir).parts
            if named.parts[: len(prefix)] == prefix:
                candidates.append(project.parent / Path(*named.parts[len(prefix) :]))
        candidates.append(Path.cwd() / named)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    hint = "paths are relative to the project file or to the folder you run in"
    beside = project.parent / named.name
    if beside.is_file() and beside not in candidates:
        hint = f"a file {named.name} is beside the project file: set {key}: {named.name}"
    tried = " or ".join(str(c) for c in candidates)
    raise ModelLoadError(f"{project}: {key} names {value}, not found at {tried} ({hint})")


def load_project(path: PathLike) -> Project:
    """Load an hls4ml project YAML: its Keras model, its HLSConfig and its other settings.

    Parameters
    ----------
    path : str or PathLike
        A project file with ``KerasModel`` (a path, or hls4ml's ``!keras_model path`` tag),
        ``KerasJson`` + ``KerasH5``, ``KerasJson`` alone (weights found beside it) or
        ``KerasH5`` alone (a full-model file). Paths are relative to the YAML file.

    Raises
    ------
    ModelLoadError
        Missing or malformed file, no model key, a model file not found or not loadable.
    ConfigError
        A bad value in HLSConfig.
    """
    project = Path(path)
    if not project.is_file():
        raise ModelLoadError(f"project file not found: {project}")
    try:
        data = read_yaml(project)
    except ConfigError as exc:
        raise ModelLoadError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(
            f"{project} is not an hls4ml project file (a mapping with KerasModel or KerasJson "
            "and HLSConfig)"
        )
    if not any(key in data for key in _MODEL_KEYS):
        other = [key for key in _OTHER_FRONTENDS if key in data]
        if other:
            raise ModelLoadError(f"{project} names {other[0]}: aptune reads Keras models only")
        raise ModelLoadError(
            f"{project} names no model: add KerasModel: model.keras, or KerasJson: model.json "
            "with KerasH5: model_weights.h5"
        )
    settings = {k: v for k, v in data.items() if k not in (*_MODEL_KEYS, "HLSConfig")}
    hls_config = read_config({"HLSConfig": data.get("HLSConfig")})
    weights_file = None
    if "KerasModel" in data:
        model_file = _resolve(data["KerasModel"], "KerasModel", project, settings)
        if model_file.suffix.lower() == ".json":
            model = load_model(model_file)
            weights_file = find_weights(model_file)
        else:
            model = load_model(model_file)
    elif "KerasJson" in data:
        model_file = _resolve(data["KerasJson"], "KerasJson", project, settings)
        if data.get("KerasH5") is not None:
            weights_file = _resolve(data["KerasH5"], "KerasH5", project, settings)
        else:
            weights_file = find_weights(model_file)
        model = load_model(model_file, weights=weights_file)
    else:
        model_file = _resolve(data["KerasH5"], "KerasH5", project, settings)
        model = load_model(model_file)
    return Project(model, hls_config, settings, project.resolve(), model_file, weights_file)


# ---------------------------------------------------------------------------------------------
# Entry points


def load_model(path: PathLike, *, weights: PathLike | None = None) -> keras.Model:
    """Load a Keras model from any supported file.

    Parameters
    ----------
    path : str or PathLike
        ``.keras``; full-model ``.h5``/``.hdf5``; architecture ``.json`` (weights beside it as
        ``X_weights.h5`` or ``X.h5``); or an hls4ml project ``.yml``/``.yaml``.
    weights : str or PathLike, optional
        The weights file for a ``.json`` model, when it is not beside it.

    Returns
    -------
    keras.Model
        Uncompiled.

    Raises
    ------
    ModelLoadError
        Missing, unreadable or unsupported file, JSON without weights, project without model;
        the message names the file and the fix.
    """
    file = Path(path)
    if not file.exists():
        raise ModelLoadError(f"model file not found: {file}")
    if not file.is_file():
        raise ModelLoadError(f"{file} is a folder, not a model file ({SUPPORTED_MODELS})")
    suffix = file.suffix.lower()
    weights_file = None if weights is None else Path(weights)
    if weights_file is not None and suffix != ".json":
        raise ModelLoadError(
            f"--weights is only for a .json architecture; {file} holds its own weights"
        )
    if suffix == ".keras":
        return _load_keras(file)
    if suffix in (".h5", ".hdf5"):
        return _load_h5(file)
    if suffix == ".json":
        return _load_json(file, weights_file)
    if suffix in (".yml", ".yaml"):
        return load_project(file).model
    raise ModelLoadError(f"cannot load {file}: unknown model format {suffix!r}; {SUPPORTED_MODELS}")


def load(
    path: PathLike, *, weights: PathLike | None = None
) -> tuple[keras.Model, dict[str, Any] | None]:
    """Load a model, with its HLSConfig when ``path`` is an hls4ml project file.

    This is what the command line calls.

    Returns
    -------
    (keras.Model, dict or None)
        The model, and the project's HLSConfig (``{}`` if it has none), or None for a plain
        model file.
    """
    if Path(path).suffix.lower() in (".yml", ".yaml"):
        if weights is not None:
            raise ModelLoadError(
                f"--weights is only for a .json architecture; {path} names its own files"
            )
        project = load_project(path)
        return project.model, project.hls_config
    return load_model(path, weights=weights), None
