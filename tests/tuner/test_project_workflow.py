"""The README's project workflow as a user runs it: ``aptune tune ... -o configs/recommended.yml
--project``, then ``hls4ml convert -c configs/recommended.yml`` from the same folder, for a
Keras 3 ``.keras``, a full-model ``.h5`` and a legacy JSON + weights model; the project hls4ml
writes must compile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import REALDATA

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
HLS4ML = [sys.executable, "-c", "from hls4ml.cli import main; main()"]
APTUNE = [sys.executable, "-c", "from tuner.cli import main; raise SystemExit(main())"]


def _model(kind: str, iris_model, folder: Path) -> tuple[Path, np.ndarray]:
    model, x, _, _ = iris_model
    if kind == "h5":
        model.save(folder / "iris.h5")
        return folder / "iris.h5", x
    jet = REALDATA / "jet_KERAS_3layer"
    if not jet.is_dir():
        pytest.skip(f"legacy JSON model needs {jet}")
    for name in ("KERAS_3layer.json", "KERAS_3layer_weights.h5"):
        shutil.copy(jet / name, folder / name)
    return folder / "KERAS_3layer.json", np.random.default_rng(0).normal(size=(600, 16))


# the .keras case is the README's own workflow, run as written below
@pytest.mark.parametrize("kind", ["h5", "json"])
def test_hls4ml_convert_reads_the_project_file_from_the_folder_it_was_written_in(
    kind, iris_model, tmp_path
):
    model_path, x = _model(kind, iris_model, tmp_path)
    np.save(tmp_path / "x.npy", x)
    rel = model_path.name  # the user's own relative paths, from the folder they work in
    tune = subprocess.run(
        [
            *APTUNE,
            "tune",
            rel,
            "--data",
            "x.npy",
            "--target",
            "0.9",
            "--project",
            "-o",
            "configs/recommended.yml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert tune.returncode == 0, tune.stderr[-2000:]
    project = yaml.safe_load(
        (tmp_path / "configs/recommended.yml").read_text().replace("!keras_model", "")
    )
    if kind != "keras":
        # hls4ml 1.3 reads only KerasModel under Keras 3: a Keras 3 copy lies beside the YAML
        assert project["KerasModel"] == "configs/recommended_model.keras"
        assert (tmp_path / project["KerasModel"]).exists()
    convert = subprocess.run(
        [*HLS4ML, "convert", "-c", "configs/recommended.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert convert.returncode == 0, convert.stderr[-2000:]
    prj = tmp_path / project["OutputDir"]
    assert (prj / "firmware" / "myproject.cpp").exists(), f"hls4ml wrote nothing: {convert.stdout}"
    build = subprocess.run(["bash", "build_lib.sh"], cwd=prj, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    assert list(prj.glob("firmware/myproject-*.so"))


def _workflow_lines() -> list[str]:
    """The commands of the README's workflow section, as written."""
    from tests.conftest import REPO

    text = (REPO / "README.md").read_text()
    section = text.split("## The workflow", 1)[1]
    block = section.split("```", 2)[1]
    return [ln.split("#", 1)[0].strip() for ln in block.strip().splitlines() if ln.strip()]


def test_the_readme_workflow_runs_as_written(iris_model, tmp_path):
    """Each line of the README's workflow, in one folder holding model.keras, X.npy and
    y.npy (the iris model; 1,500 noisy copies of its samples, enough to prove 0.99): every
    command exits 0, and the project hls4ml writes compiles."""
    import shlex

    _, x, y, path = iris_model
    shutil.copy(path, tmp_path / "model.keras")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x), 1500)
    np.save(tmp_path / "X.npy", x[idx] + rng.normal(0, 0.05, (1500, x.shape[1])))
    np.save(tmp_path / "y.npy", y[idx])
    lines = _workflow_lines()
    assert [ln.split()[0] for ln in lines] == ["aptune", "aptune", "hls4ml"], lines
    for line in lines:
        tool, *args = shlex.split(line)
        run = subprocess.run(
            [*(APTUNE if tool == "aptune" else HLS4ML), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=ENV,
        )
        assert run.returncode == 0, f"{line}: {run.stdout[-1500:]} {run.stderr[-1500:]}"
    assert (tmp_path / "report" / "report.html").exists()
    prj = next(tmp_path.glob("configs/*_prj"))
    build = subprocess.run(["bash", "build_lib.sh"], cwd=prj, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
