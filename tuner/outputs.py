"""Write a tuning result: the recommended hls4ml config (or project file) and tuning.json.

The outputs of one run are staged in a `FileSet` and replaced together, each naming the run.
"""

from __future__ import annotations

import json
from pathlib import Path

from emulation.config import KerasModelRef, dump_config
from emulation.io.atomic_files import FileSet, atomic_write_text
from emulation.tuning_record import TuningRecord

__all__ = [
    "keras3_copy_path",
    "new_run_id",
    "project_settings",
    "run_of",
    "stage_outputs",
    "tuning_json_text",
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


def project_settings(
    model_path: Path,
    output: Path,
    model_copy: Path | None = None,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> dict:
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
        "Backend": backend,
        "Part": DEFAULT_PART,
        "ClockPeriod": DEFAULT_CLOCK_NS,
        "IOType": io_type,
    }


def new_run_id() -> str:
    """A name for one run, written into each of its outputs: UTC time and a random suffix."""
    import secrets
    import time

    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def run_of(config_path: Path) -> str | None:
    """The run an existing config names in its header (None: none, or not aptune's)."""
    try:
        first = config_path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    except OSError:
        return None
    if not first.startswith(RUN_HEADER):
        return None
    return first.removeprefix(RUN_HEADER).split()[0].rstrip(":")


RUN_HEADER = "# aptune run "


def tuning_json_text(result: TuningRecord) -> str:
    return json.dumps(result.to_json(), indent=1, default=str, allow_nan=True) + "\n"


def write_tuning_json(result: TuningRecord, folder: Path) -> Path:
    """``folder/tuning.json`` on its own (``aptune report`` re-reads it)."""
    return atomic_write_text(folder / "tuning.json", tuning_json_text(result))


def _or_nan(x: float | None) -> float:
    return float("nan") if x is None else x


def stage_outputs(
    files: FileSet,
    result: TuningRecord,
    model_path: Path,
    output: Path,
    *,
    project: bool = False,
    model=None,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> dict[str, Path]:
    """Stage the config (when one is recommended) and tuning.json into ``files``.

    Both name ``result.run``: the config in its first line, tuning.json in ``run``. When no
    config is recommended, an earlier config at ``output`` is left alone and tuning.json says
    which run it came from (``config_left``), so the two never pass for one run. ``project``:
    a whole hls4ml project file; a legacy model (``.json``, ``.h5``) then gets a Keras 3 copy
    beside it (``model``, the loaded Keras model, is what is saved).
    """
    paths: dict[str, Path] = {}
    if result.config:
        settings = None
        if project:
            copy = None
            if model_path.suffix.lower() != ".keras":
                copy = keras3_copy_path(output)
                paths["model"] = files.write_with(copy, model.save)
            settings = project_settings(model_path, output, copy, backend, io_type)
        header = (
            f"{RUN_HEADER}{result.run}: {result.target}, {result.final.source}, "
            f"validation {_or_nan(result.final.metric_validation):.4f}\n"
        )
        paths["config"] = files.write_text(
            output, header + dump_config(result.config, project=settings)
        )
    elif output.exists():
        result.config_left = f"{output} (run {run_of(output) or 'unknown'})"
    paths["tuning.json"] = files.write_text(output.parent / "tuning.json", tuning_json_text(result))
    return paths
