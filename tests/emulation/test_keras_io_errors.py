"""emulation.io.keras_files: every file it cannot load is one clear ModelLoadError."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulation.errors import ModelLoadError
from emulation.io.keras_files import load, load_model

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")


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
