"""`aptune tune` from the command line: outputs, project files and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from tuner.cli import main


@pytest.fixture(scope="module")
def files(iris_model, tmp_path_factory):
    """The tiny iris model with its data and labels saved as a user would have them."""
    _, x, y, path = iris_model
    folder = tmp_path_factory.mktemp("cli")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    return path, folder / "x.npy", folder / "y.npy", folder


def test_tune_writes_a_config_hls4ml_reads(files, capsys):
    """A successful run exits 0 and writes the config and tuning.json; hls4ml reads the YAML."""
    import hls4ml

    from emulation.io.keras_files import load_model

    model_path, x, y, folder = files
    out = folder / "run" / "cfg.yml"
    code = main(
        [
            "tune",
            str(model_path),
            "--data",
            str(x),
            "--labels",
            str(y),
            "-o",
            str(out),
            "--project",
            "--seed",
            "1",
            "--target",
            "0.95",
        ]
    )
    assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "aptune (recommended)" in text and "uniform ap_fixed<" in text
    # 105 calibration samples are searched together with jittered copies, and the summary
    # says so
    assert "searched on 105 samples and 1995 noisy copies of them" in text
    project = yaml.safe_load(out.read_text().replace("!keras_model", ""))
    assert project["KerasModel"].endswith("iris.keras") and project["IOType"] == "io_parallel"
    record = json.loads((out.parent / "tuning.json").read_text())
    assert record["result"]["met_validation"]
    hls4ml.converters.convert_from_keras_model(
        load_model(model_path),
        hls_config=project["HLSConfig"],
        backend="Vivado",
        io_type="io_parallel",
        output_dir=str(folder / "unused"),
    )


def test_unreachable_target_exits_1_with_the_best_reached(files, capsys):
    """An impossible target ends with exit 1 and the best metric seen, and writes no config."""
    model_path, x, _, folder = files
    out = folder / "impossible" / "cfg.yml"
    code = main(
        [
            "tune",
            str(model_path),
            "--data",
            str(x),
            "--metric",
            "mae",
            "--target",
            "1e-12",
            "-o",
            str(out),
        ]
    )
    assert code == 1
    assert "best metric seen" in capsys.readouterr().out
    assert not out.exists() and (out.parent / "tuning.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "missing.npy"], "not found"),
        ([], "--data is required"),
        (["--data", "{x}", "--labels", "{short}"], "label"),
        (["--data", "{nan}"], "NaN"),
        (["--data", "{x}", "--metric", "accuracy"], "--labels"),
        (["--data", "{x}", "--jobs", "0"], "--jobs"),
        (["--data", "{x}", "--target", "99"], "0.99 for 99"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(files, capsys, extra, message):
    """Missing files, mismatched labels, NaNs and bad flags: one line on stderr, exit 2."""
    model_path, x, y, folder = files
    short, nan = folder / "short.npy", folder / "nan.npy"
    np.save(short, np.load(y)[:10])
    bad = np.load(x)
    bad[3, 1] = np.nan
    np.save(nan, bad)
    args = [a.format(x=x, short=short, nan=nan) for a in extra]
    code = main(["tune", str(model_path), *args, "-o", str(folder / "never.yml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (folder / "never.yml").exists()
