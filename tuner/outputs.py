"""Write a tuning result: the recommended hls4ml config (or project file) and tuning.json.

Every file is written atomically: an existing output is replaced whole or not at all.
"""

from __future__ import annotations

import json
from pathlib import Path

from emulation.config import KerasModelRef, write_config
from emulation.files import atomic_write_text
from tuner.tune import TuneResult

__all__ = [
    "keras3_copy_path",
    "project_settings",
    "save_keras3_copy",
    "write_outputs",
    "write_tuning_json",
]

DEFAULT_PART = "xcvu13p-flga2577-2-e"
DEFAULT_CLOCK_NS = 5


def _from_cwd(p: Path) -> str:
    """``p`` as hls4ml will resolve it: from the folder ``hls4ml convert -c`` runs in, which
    is taken to be where aptune runs (relative when below it, else absolute)."""
    p = p.resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def keras3_copy_path(output: Path) -> Path:
    """Where a project file's Keras 3 copy of a legacy (``.json``/``.h5``) model goes."""
    return output.with_name(f"{output.stem}_model.keras")


def project_settings(model_path: Path, output: Path, model_copy: Path | None = None) -> dict:
    """hls4ml project keys for ``hls4ml convert -c``, paths from the current directory.

    hls4ml 1.3 under Keras 3 converts a project file only through ``KerasModel`` (a
    ``!keras_model`` tag it hands to ``keras.models.load_model``): ``KerasJson``/``KerasH5``
    are ignored, and ``convert -c`` then exits 0 having written nothing. A legacy model is
    therefore referenced through ``model_copy``, a Keras 3 ``.keras`` copy written beside the
    YAML (`save_keras3_copy`); a ``.keras`` model is referenced where it is.
    """
    keras_file = model_path if model_copy is None else model_copy
    return {
        "KerasModel": KerasModelRef(_from_cwd(keras_file)),
        "OutputDir": _from_cwd(output.with_name(f"{output.stem}_prj")),
        "ProjectName": "myproject",
        "Backend": "Vivado",
        "Part": DEFAULT_PART,
        "ClockPeriod": DEFAULT_CLOCK_NS,
        "IOType": "io_parallel",
    }


def save_keras3_copy(model, path: Path) -> Path:
    """Save ``model`` as a Keras 3 ``.keras`` file at ``path``, atomically."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        model.save(staged)
        staged.replace(path)
    return path


def write_tuning_json(result: TuneResult, folder: Path) -> Path:
    """``folder/tuning.json``: every candidate, the baselines, the validation figures."""
    text = json.dumps(result.to_dict(), indent=1, default=str, allow_nan=True)
    return atomic_write_text(folder / "tuning.json", text + "\n")


def write_outputs(
    result: TuneResult,
    model_path: Path,
    output: Path,
    *,
    project: bool = False,
    model=None,
) -> dict[str, Path]:
    """Write the config (when the target was met) and tuning.json; returns the paths.

    ``project``: a whole hls4ml project file; a legacy model (``.json``, ``.h5``) then gets a
    Keras 3 copy beside it (``model``, the loaded Keras model, is what is saved).
    """
    paths = {"tuning.json": write_tuning_json(result, output.parent)}
    if result.config:
        settings = None
        if project:
            copy = None
            if model_path.suffix.lower() != ".keras":
                copy = save_keras3_copy(model, keras3_copy_path(output))
                paths["model"] = copy
            settings = project_settings(model_path, output, copy)
        paths["config"] = write_config(result.config, output, project=settings)
    return paths
