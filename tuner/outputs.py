"""Write a tuning result: the recommended hls4ml config (or project file) and tuning.json.

Every file is written atomically: an existing output is replaced whole or not at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from emulation.config import KerasModelRef, write_config
from emulation.files import atomic_write_text
from tuner.tune import TuneResult

__all__ = ["project_settings", "write_outputs", "write_tuning_json"]

DEFAULT_PART = "xcvu13p-flga2577-2-e"
DEFAULT_CLOCK_NS = 5


def project_settings(model_path: Path, output: Path, weights: str | None = None) -> dict:
    """hls4ml project keys for ``hls4ml convert -c``: model paths relative to the YAML."""
    start = output.resolve().parent

    def rel(p: Path) -> str:
        return os.path.relpath(p.resolve(), start)

    settings: dict = {}
    if model_path.suffix.lower() == ".json":
        settings["KerasJson"] = rel(model_path)
        if weights:
            settings["KerasH5"] = rel(Path(weights))
        else:
            from emulation.keras_io import find_weights

            found = find_weights(model_path)
            if found is not None:
                settings["KerasH5"] = rel(found)
    elif model_path.suffix.lower() in (".h5", ".hdf5"):
        settings["KerasH5"] = rel(model_path)
    else:
        # hls4ml reads Keras 3 files only through this tag (KerasJson/KerasH5 return None)
        settings["KerasModel"] = KerasModelRef(rel(model_path))
    settings.update(
        {
            "OutputDir": f"{output.stem}_prj",
            "ProjectName": "myproject",
            "Backend": "Vivado",
            "Part": DEFAULT_PART,
            "ClockPeriod": DEFAULT_CLOCK_NS,
            "IOType": "io_parallel",
        }
    )
    return settings


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
    weights: str | None = None,
) -> dict[str, Path]:
    """Write the config (when the target was met) and tuning.json; returns the paths."""
    paths = {"tuning.json": write_tuning_json(result, output.parent)}
    if result.config:
        settings = project_settings(model_path, output, weights) if project else None
        paths["config"] = write_config(result.config, output, project=settings)
    return paths
