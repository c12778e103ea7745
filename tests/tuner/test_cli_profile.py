"""`aptune profile`: figures written, overflows reported, bad inputs refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from reports.profiling import Profile
from tests.conftest import requires_realdata
from tuner.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "tuner" / "example"

CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1},
    "LayerName": {"dense1": {"Precision": {"weight": "ap_fixed<6,2>", "result": "ap_fixed<8,2>"}}},
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A saved 4-8-3 MLP (two dense1 weights too big for ap_fixed<6,2>), data and configs."""
    import keras

    folder = tmp_path_factory.mktemp("profile")
    rng = np.random.default_rng(0)
    model = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            keras.layers.Dense(8, activation="relu", name="dense1"),
            keras.layers.Dense(3, name="out"),
        ]
    )
    w = np.clip(rng.normal(0, 0.4, (4, 8)), -1.5, 1.5)
    w[0, 0], w[1, 2] = 5.0, -6.0
    model.layers[0].set_weights([w, rng.normal(0, 0.1, 8)])
    model.layers[1].set_weights([rng.normal(0, 0.4, (8, 3)), rng.normal(0, 0.1, 3)])
    model.save(folder / "mlp.keras")
    np.save(folder / "x.npy", rng.normal(0, 1, (100, 4)))
    np.save(folder / "x_wrong.npy", rng.normal(0, 1, (100, 5)))
    (folder / "cfg.yml").write_text(yaml.safe_dump(CONFIG))
    (folder / "project.yml").write_text(
        "KerasModel: !keras_model mlp.keras\n" + yaml.safe_dump({"HLSConfig": CONFIG})
    )
    (folder / "bad_cfg.yml").write_text("Model:\n  Precision: ap_fixed<16>\n")
    return {p.stem: p for p in folder.iterdir()}


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_alone_writes_the_weights_figure(files, tmp_path, capsys):
    """Without data only weights.png is written; its path is printed."""
    assert main(["profile", str(files["mlp"]), "-o", str(tmp_path)]) == 0
    assert _is_png(tmp_path / "weights.png")
    assert not (tmp_path / "activations.png").exists()
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "weights.png")]


def test_data_and_config_write_both_and_report_overflows(files, tmp_path, capsys):
    """With data and config both figures are written and each overflow gets one line."""
    args = ["profile", str(files["mlp"]), "--data", str(files["x"]), "--config", str(files["cfg"])]
    assert main([*args, "-o", str(tmp_path), "--plot", "violinplot"]) == 0
    assert _is_png(tmp_path / "weights.png") and _is_png(tmp_path / "activations.png")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [str(tmp_path / "weights.png"), str(tmp_path / "activations.png")]
    assert out[2].startswith("weights dense1/weight: 2 of 32 values overflow ap_fixed<6,2>")
    assert out[3].startswith("activations dense1: ")
    assert len(out) == 4


def test_svg_holds_the_row_names_and_the_red_note(files, tmp_path):
    """--format svg writes text one can search: the variable names and the overflow note."""
    args = ["profile", str(files["mlp"]), "--config", str(files["cfg"]), "--format", "svg"]
    assert main([*args, "-o", str(tmp_path)]) == 0
    svg = (tmp_path / "weights.svg").read_text()
    for text in ("dense1/weight", "dense1/bias", "out/weight", "out/bias", "2 overflowed"):
        assert text in svg
    assert "log2" in svg


def test_project_yaml_serves_as_model_and_config(files, tmp_path, capsys):
    """An hls4ml project YAML gives the model and the types (--json shows them)."""
    assert main(["profile", str(files["project"]), "-o", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["figures"] == [str(tmp_path / "weights.png")]
    profile = Profile.from_dict(report["profiles"][0])
    assert [str(r.type) for r in profile.rows] == ["ap_fixed<6,2>", *["ap_fixed<16,6>"] * 3]
    assert [r.name for r in profile.overflowing()] == ["dense1/weight"]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["--plot", "swarm"], "invalid choice: 'swarm'"),
        (["--data", "missing.npy"], "DataError: data file not found"),
        (
            ["--data", "{x_wrong}"],
            "has samples of shape (5,) (5 values each, 100 samples); the model expects (4,)",
        ),
        (
            ["--config", "{bad_cfg}"],
            "ConfigError: Model.Precision: cannot use 'ap_fixed<16>': "
            "cannot parse precision 'ap_fixed<16>': expected ap_[u]fixed<W,I[,Q[,O[,N]]]>",
        ),
    ],
)
def test_bad_inputs_exit_2_with_one_line(files, tmp_path, capsys, extra, error):
    """Unknown plot kind, missing or misshapen data, a malformed config: exit 2, one line."""
    extra = [e.format(**{k: str(v) for k, v in files.items()}) for e in extra]
    assert main(["profile", str(files["mlp"]), "-o", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and error in err
    assert not list(tmp_path.iterdir())


def test_missing_model_exits_2(tmp_path, capsys):
    """A model file that does not exist is a one-line ModelLoadError."""
    assert main(["profile", str(tmp_path / "none.keras"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aptune: ModelLoadError:") and err.count("\n") == 1


def test_builtin_example(tmp_path, capsys):
    """The shipped digits MLP and its data profile without a config (float values)."""
    args = ["profile", str(EXAMPLE / "digits_mlp.keras"), "--data", str(EXAMPLE / "digits_x.npy")]
    assert main([*args, "-o", str(tmp_path), "--plot", "histogram"]) == 0
    assert _is_png(tmp_path / "weights.png") and _is_png(tmp_path / "activations.png")
    assert len(capsys.readouterr().out.splitlines()) == 2


@requires_realdata
def test_iris_with_its_config(realdata, tmp_path, capsys):
    """The Iris MLP with its project's ap_fixed<16,6> over all 150 samples."""
    iris = realdata / "iris_mlp"
    args = [
        "profile",
        str(iris / "hls_prj_keras_model.keras"),
        "--data",
        str(iris / "iris_all150_scaled_input_features.dat"),
        "--config",
        str(iris / "hls_prj_hls4ml_config.yml"),
        "--json",
    ]
    assert main([*args, "-o", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    weights, activations = (Profile.from_dict(p) for p in report["profiles"])
    assert activations.samples == 150
    assert all(r.type is not None for r in weights.rows + activations.rows)
    assert _is_png(tmp_path / "activations.png")
