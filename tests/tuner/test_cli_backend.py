"""``--backend Vivado|Vitis`` and a project file's ``Backend`` on the commands (``IOType``:
`test_cli_io_stream`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from emulation.config import write_config
from tests.conftest import requires_gxx
from tests.csim.small_models import CONFIG, small_inputs
from tuner.cli import main


@pytest.fixture
def files(tmp_path, small_model_file, csim_cache, monkeypatch):
    """Model, config and data on disk, and a project file naming the model (Backend Vitis)."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    cfg = write_config(CONFIG, tmp_path / "cfg.yml")
    x = tmp_path / "x.npy"
    np.save(x, small_inputs(60))
    project = {
        "KerasModel": str(small_model_file),
        "Backend": "Vitis",
        "IOType": "io_parallel",
        "OutputDir": "prj",
        "HLSConfig": CONFIG,
    }
    prj = tmp_path / "project.yml"
    prj.write_text(yaml.safe_dump(project))
    return {"model": str(small_model_file), "config": str(cfg), "x": str(x), "project": prj}


def _one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_an_unknown_backend_is_one_line_exit_2(files, tmp_path, capsys):
    """--backend Quartus: exit 2, one line naming Vivado and Vitis, nothing written."""
    out = tmp_path / "y.npy"
    args = ["--config", files["config"], "--data", files["x"], "-o", str(out)]
    code = main(["emulate", files["model"], *args, "--backend", "Quartus"])
    err = _one_line_error(capsys, code)
    assert "'Quartus' is not emulated" in err and "Vivado, Vitis" in err
    assert not out.exists()


def test_backend_reaches_the_emulator(files, tmp_path, monkeypatch):
    """emulate --backend vitis builds the Vitis graph; a project's Backend does the same."""
    import emulation.model

    seen = []
    real = emulation.model.build_graph

    def spy(model, cfg, *, backend="Vivado", **kwargs):
        seen.append(backend)
        return real(model, cfg, backend=backend, **kwargs)

    monkeypatch.setattr(emulation.model, "build_graph", spy)
    out = tmp_path / "y.npy"
    args = ["--data", files["x"], "-o", str(out)]
    assert main(["emulate", files["model"], "--config", files["config"], *args]) == 0
    assert (
        main(["emulate", files["model"], "--config", files["config"], *args, "--backend", "vitis"])
        == 0
    )
    assert main(["emulate", str(files["project"]), *args]) == 0
    assert main(["emulate", str(files["project"]), *args, "--backend", "Vivado"]) == 0
    assert seen == ["Vivado", "Vitis", "Vitis", "Vivado"]


@requires_gxx
@pytest.mark.csim
def test_csim_of_a_vitis_project_builds_the_vitis_project_and_agrees(files, tmp_path, capsys):
    """aptune csim PROJECT (Backend: Vitis) compiles hls4ml's Vitis project: exit 0, agree."""
    code = main(["csim", str(files["project"]), "--data", files["x"], "--output-dir", "cmp"])
    assert code == 0, capsys.readouterr()
    data = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert data["identical"] == data["n_values"]
    tcl = (Path(data["project_dir"]) / "project.tcl").read_text()
    assert 'set backend "vitis"' in tcl


def test_tune_with_backend_vitis_converts_every_candidate_for_vitis(
    iris_model, tmp_path, monkeypatch, capsys
):
    """tune --backend Vitis --project: every hls4ml conversion is for Vitis and the project
    file written names Backend: Vitis."""
    import emulation.graph

    _, x, y, path = iris_model
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    seen = set()
    real = emulation.graph.convert

    def spy(model, cfg, *, output_dir=None, backend="Vivado", **kwargs):
        seen.add(backend)
        return real(model, cfg, output_dir=output_dir, backend=backend, **kwargs)

    monkeypatch.setattr(emulation.graph, "convert", spy)
    out = tmp_path / "run" / "cfg.yml"
    args = ["--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy")]
    args += ["-o", str(out), "--project", "--time-limit", "20", "--target", "0.95"]
    args += ["--backend", "Vitis"]
    code = main(["tune", str(path), *args])
    assert code in (0, 1), capsys.readouterr().err
    assert seen == {"Vitis"}
    project = yaml.safe_load(out.read_text().replace("!keras_model", ""))
    assert project["Backend"] == "Vitis"
