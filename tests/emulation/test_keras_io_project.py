"""emulation.io.keras_files: hls4ml project files (KerasJson/KerasH5/KerasModel, paths relative
to the YAML or the folder run in) and what is refused in them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulation.errors import ModelLoadError
from emulation.io.keras_files import Project, load, load_project
from tests.support.keras_files import X, assert_close, predict, reference

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")


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
    assert_close(predict(project.model, X), reference(X))
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
    assert_close(predict(model, X), reference(X))
    assert cfg == {"Model": {"Precision": "ap_fixed<16,6>"}}


def test_project_keras_model_plain_path(keras3_dir: Path) -> None:
    """KerasModel may be a plain path too."""
    model, _ = load(_project(keras3_dir, "KerasModel: m.keras\n"))
    assert_close(predict(model, X), reference(X))


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
    assert_close(predict(model, X), reference(X))


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
