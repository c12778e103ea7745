"""``aptune emulate`` and ``aptune csim``: files written, exit codes, one-line errors."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import yaml

from emulation.config import write_config
from tests.conftest import requires_gxx, requires_realdata
from tests.csim.small_models import BROKEN_AT_D2, CONFIG, small_inputs, small_labels
from tuner.cli import main


@pytest.fixture
def files(tmp_path, small_model_file, csim_cache, monkeypatch):
    """Model, config, data and labels on disk; the session's compile cache in use."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    cfg = write_config(CONFIG, tmp_path / "cfg.yml")
    x = tmp_path / "x.npy"
    np.save(x, small_inputs(120))
    y = tmp_path / "y.npy"
    np.save(y, small_labels(120))
    return {"model": str(small_model_file), "config": str(cfg), "x": str(x), "y": str(y)}


def _one_line_error(capsys, code: int, expected: int = 2) -> str:
    captured = capsys.readouterr()
    assert code == expected
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


# ------------------------------------------------------------------------------ emulate
def test_emulate_writes_the_emulated_outputs(files, tmp_path, capsys):
    """emulate -o Y.npy saves exactly EmulatedModel.predict."""
    from emulation.io.keras_files import load_model
    from emulation.model import EmulatedModel

    out = tmp_path / "out" / "y.npy"
    code = main(
        [
            "emulate",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "-o",
            str(out),
        ]
    )
    assert code == 0
    want = EmulatedModel(load_model(files["model"]), CONFIG).predict(np.load(files["x"]))
    got = np.load(out)
    assert np.array_equal(got, want), f"{np.count_nonzero(got != want)} values differ"
    assert f"wrote {out}: 120 samples x 4 values" in capsys.readouterr().out


def test_emulate_trace_writes_one_file_per_layer(files, tmp_path):
    """--trace DIR holds <layer>.npy for every traced layer, shaped (n, *layer shape)."""
    code = main(
        [
            "emulate",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "-o",
            str(tmp_path / "y.npy"),
            "--trace",
            str(tmp_path / "t"),
        ]
    )
    assert code == 0
    names = sorted(p.stem for p in (tmp_path / "t").glob("*.npy"))
    assert names == ["d1", "d1_relu", "d2", "d2_relu", "d3", "sm"]
    assert np.load(tmp_path / "t" / "d1.npy").shape == (120, 8)
    assert np.array_equal(np.load(tmp_path / "t" / "sm.npy"), np.load(tmp_path / "y.npy"))


def test_emulate_takes_a_project_file_as_model_and_config(files, tmp_path):
    """A project YAML naming the model serves as MODEL and config; --config is optional."""
    project = tmp_path / "prj.yml"
    project.write_text(yaml.safe_dump({"KerasModel": files["model"], "HLSConfig": CONFIG}))
    code = main(["emulate", str(project), "--data", files["x"], "-o", str(tmp_path / "p.npy")])
    assert code == 0
    code = main(
        [
            "emulate",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "-o",
            str(tmp_path / "m.npy"),
        ]
    )
    assert np.array_equal(np.load(tmp_path / "p.npy"), np.load(tmp_path / "m.npy"))


def test_emulate_without_config_is_a_usage_error(files, tmp_path, capsys):
    """A plain model file without --config: exit 2, one line asking for --config."""
    code = main(["emulate", files["model"], "--data", files["x"], "-o", str(tmp_path / "y.npy")])
    assert "--config" in _one_line_error(capsys, code)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (np.zeros((5, 7)), "the model expects (6,)"),
        (np.full((5, 6), np.nan), "NaN"),
        (np.zeros((0, 6)), "empty"),
    ],
    ids=["wrong-shape", "nan", "empty"],
)
def test_bad_data_is_one_line(files, tmp_path, capsys, content, expected):
    """Wrong shape, NaN or empty data: exit 2 and one line saying what was expected."""
    bad = tmp_path / "bad.npy"
    np.save(bad, content)
    code = main(
        [
            "emulate",
            files["model"],
            "--config",
            files["config"],
            "--data",
            str(bad),
            "-o",
            str(tmp_path / "out.npy"),
        ]
    )
    assert expected in _one_line_error(capsys, code)
    assert not (tmp_path / "out.npy").exists()


def test_empty_dat_file_is_one_line(files, tmp_path, capsys):
    """An empty .dat file is refused in one line."""
    bad = tmp_path / "bad.dat"
    bad.write_text("")
    code = main(["csim", files["model"], "--config", files["config"], "--data", str(bad)])
    assert "is empty" in _one_line_error(capsys, code)


def test_missing_model_is_one_line(files, capsys):
    """A model path that does not exist: exit 2, one line."""
    code = main(["csim", "nope.keras", "--config", files["config"], "--data", files["x"]])
    assert "model file not found: nope.keras" in _one_line_error(capsys, code)


# --------------------------------------------------------------------------------- csim
@requires_gxx
@pytest.mark.csim
def test_csim_agreement_exits_0_and_writes_three_files(files, tmp_path, capsys):
    """Agreement: exit 0, the table and 100 % identical, comparison.json/summary.md/png."""
    code = main(
        [
            "csim",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "--labels",
            files["y"],
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "emulator vs C simulation: 480 of 480 values identical (100 %)" in out
    assert "float Keras  emulator  C simulation" in out
    folder = tmp_path / "aptune-csim"
    data = json.loads((folder / "comparison.json").read_text())
    assert data["agree"] is True
    assert data["n_samples"] == 120
    assert (folder / "summary.md").read_text().startswith("# C simulation")
    assert (folder / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@requires_gxx
@pytest.mark.csim
def test_csim_json_prints_the_comparison(files, tmp_path, capsys):
    """--json prints only JSON: the comparison plus the files written."""
    code = main(
        [
            "csim",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "--output-dir",
            str(tmp_path / "o"),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] == data["n_values"] == 480
    assert data["files"]["json"] == str(tmp_path / "o" / "comparison.json")


@requires_gxx
@pytest.mark.csim
def test_csim_mismatch_exits_1_and_names_the_layer(files, capsys, monkeypatch):
    """An emulator handed another config than the C simulation: exit 1, layer d2 named."""
    import csim.compare

    monkeypatch.setattr(
        csim.compare,
        "compare",
        functools.partial(csim.compare.compare, emulator_config=BROKEN_AT_D2),
    )
    code = main(["csim", files["model"], "--config", files["config"], "--data", files["x"]])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "first diverging layer: d2 (Dense)" in out
    assert "types: emulator ap_fixed<12,5>, C simulation ap_fixed<16,6>" in out


def test_csim_vendor_tool_missing_is_one_line(files, capsys, monkeypatch, tmp_path):
    """--hls-tool vivado without vivado_hls: exit 2 with the one-line hint."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(
        [
            "csim",
            files["model"],
            "--config",
            files["config"],
            "--data",
            files["x"],
            "--hls-tool",
            "vivado",
        ]
    )
    err = _one_line_error(capsys, code)
    assert "vivado_hls not found on PATH; --hls-tool gxx runs hls4ml's g++ C simulation" in err


def test_csim_without_gxx_is_one_line(files, capsys, monkeypatch, tmp_path):
    """No g++ on PATH: exit 2, one line naming the fix."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["csim", files["model"], "--config", files["config"], "--data", files["x"]])
    assert "g++ not found on PATH: install a C++ compiler" in _one_line_error(capsys, code)


def test_csim_unknown_tool_is_a_usage_error(files, capsys):
    """--hls-tool outside the choices: argparse's one line, exit 2."""
    code = main(["csim", files["model"], "--data", files["x"], "--hls-tool", "quartus"])
    assert "invalid choice" in _one_line_error(capsys, code)


# ----------------------------------------------------------------------- real models
@requires_gxx
@requires_realdata
@pytest.mark.csim
@pytest.mark.realdata
def test_csim_on_iris_agrees(realdata, tmp_path, monkeypatch, capsys, csim_cache):
    """The Iris MLP (project file as model and config), 150 samples: exit 0, 97.3 %."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    iris = realdata / "iris_mlp"
    code = main(
        [
            "csim",
            str(iris / "hls4ml_config.yml"),
            "--data",
            str(iris / "iris_all150_scaled_input_features.dat"),
            "--labels",
            str(iris / "iris_all150_truth_labels.dat"),
            "--output-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "450 of 450 values identical (100 %)" in out
    assert json.loads((tmp_path / "comparison.json").read_text())["float_accuracy"] == 146 / 150


@requires_gxx
@pytest.mark.csim
def test_csim_on_the_builtin_example_agrees(tmp_path, monkeypatch, capsys, csim_cache):
    """The digits example under hls4ml's name-granularity config: exit 0, all identical."""
    import hls4ml

    from emulation.io.keras_files import load_model
    from tuner import example

    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    folder = example.__path__[0]
    model = f"{folder}/digits_mlp.keras"
    cfg = hls4ml.utils.config_from_keras_model(load_model(model), granularity="name")
    write_config(cfg, tmp_path / "digits.yml")
    code = main(
        [
            "csim",
            model,
            "--config",
            str(tmp_path / "digits.yml"),
            "--data",
            f"{folder}/digits_x.npy",
            "--labels",
            f"{folder}/digits_y.npy",
            "--output-dir",
            str(tmp_path / "o"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "17970 of 17970 values identical (100 %)" in out
