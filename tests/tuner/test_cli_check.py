"""``aptune check``: summary, layer table, findings, exit codes, JSON, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emulation.config import write_config
from tests.csim.small_models import CONFIG, small_inputs
from tuner.cli import main


@pytest.fixture
def files(tmp_path, small_model_file):
    """The small softmax model, a clean config, a config with a warning, and data."""
    clean = write_config(CONFIG, tmp_path / "clean.yml")
    warn = write_config(
        {**CONFIG, "LayerName": {**CONFIG["LayerName"], "d33": {"ReuseFactor": 1}}},
        tmp_path / "warn.yml",
    )
    x = tmp_path / "x.npy"
    np.save(x, small_inputs(40))
    return {"model": str(small_model_file), "clean": str(clean), "warn": str(warn), "x": str(x)}


def test_clean_config_exits_0_and_lists_every_layer(files, capsys):
    """A clean config: exit 0, counts first, one row per generated layer with its types."""
    code = main(["check", files["model"], "-c", files["clean"]])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0] == "0 error(s), 0 warning(s), 0 note(s)"
    for layer in ("d1", "d1_relu", "d2", "d3", "sm"):
        assert f"  {layer} (" in out
    assert "result_t=ap_fixed<16,6> " in out  # d3's result, from the config (no mark)


def test_default_config_exits_1_with_the_softmax_error(files, capsys):
    """Without -c: hls4ml's default config, whose 'auto' softmax input is an error."""
    code = main(["check", files["model"]])
    out = capsys.readouterr().out
    assert code == 1
    assert "ERROR [sm]" in out and "fix: LayerName: {d3: {Precision: {result:" in out
    assert "result_t=ap_fixed<" in out and ">*" in out  # 'auto' types are marked


def test_warning_exits_0_but_1_with_strict(files, capsys):
    """A LayerName typo is a warning: exit 0, and 1 under --strict."""
    assert main(["check", files["model"], "-c", files["warn"]]) == 0
    assert "did you mean d3?" in capsys.readouterr().out
    assert main(["check", files["model"], "-c", files["warn"], "--strict"]) == 1


def test_agreement_far_below_99_percent_exits_1(files, tmp_path, capsys):
    """A d2 result of ap_fixed<4,2> agrees with float Keras on 80 % of the samples: an error
    and exit 1 (it used to be a warning and exit 0)."""
    layers = {**CONFIG["LayerName"], "d2": {"Precision": {"result": "ap_fixed<4,2>"}}}
    bad = write_config({**CONFIG, "LayerName": layers}, tmp_path / "bad.yml")
    code = main(["check", files["model"], "-c", str(bad), "--data", files["x"]])
    out = capsys.readouterr().out
    assert code == 1 and "ERROR [sm] the emulated C simulation agrees" in out


def test_json_output_with_data(files, capsys):
    """--json --data prints the plain result with overflow points and the agreement."""
    code = main(["check", files["model"], "-c", files["clean"], "--data", files["x"], "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0
    assert d["layers"][0]["name"] == "x"
    assert d["data"]["samples"] == 40 and 0 <= d["data"]["agreement"] <= 1
    assert any(p["point"] == "d1.result_t" for p in d["data"]["points"])


def test_bad_config_is_one_line_and_exit_2(files, tmp_path, capsys):
    """A config hls4ml cannot read: exit 2, one line on stderr."""
    bad = tmp_path / "bad.yml"
    bad.write_text("Model:\n  Precision: ap_fixed<16>\n")
    code = main(["check", files["model"], "-c", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("aptune: ConfigError: Model.Precision: cannot use 'ap_fixed<16>'")
    assert "expected ap_[u]fixed<W,I[,Q[,O[,N]]]> or ap_[u]int<W>" in err  # what to write


def test_batchnorm_model_check_prints_no_hls4ml_notes(tmp_path, capfd):
    """A model with BatchNormalization: hls4ml's da4ml note no longer leaks into the output."""
    from tests.support.models import mlp

    path = tmp_path / "bn.keras"
    mlp([6, 5, 4], batchnorm_after=[1]).save(path)
    capfd.readouterr()
    code = main(["check", str(path)])  # hls4ml's default config: converted twice
    out, err = capfd.readouterr()
    assert code == 0, out  # a linear MLP: nothing above a note
    assert out.splitlines()[0].startswith("0 error(s), 0 warning(s), ")
    assert "da4ml" not in out + err and "handler used" not in out
    assert err == "", err


def test_report_writes_the_page_and_figures(files, tmp_path, capsys):
    """--data --report DIR: the check as before, then the page and its files in DIR."""
    out_dir = tmp_path / "report"
    argv = ["check", files["model"], "-c", files["clean"], "--data", files["x"]]
    code = main([*argv, "--report", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("0 error(s), ")  # the summary first
    assert out.rstrip().splitlines()[-1] == (
        f"report: {out_dir / 'check.html'} (with ranges.png, shares.png, check.json)"
    )
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "check.html",
        "check.json",
        "ranges.png",
        "shares.png",
    ]
    saved = json.loads((out_dir / "check.json").read_text())
    assert any(p["point"] == "d1.result_t" for p in saved["data"]["points"])
    code = main([*argv, "--report", str(out_dir), "--json"])
    assert json.loads(capsys.readouterr().out)["files"]["check.html"] == str(out_dir / "check.html")


@pytest.mark.parametrize("case", ["no data", "a file"])
def test_report_usage_errors_are_one_line_and_write_nothing(files, tmp_path, capsys, case):
    """--report without --data, or onto a file: exit 2, one line, nothing written."""
    target = tmp_path / "report"
    argv = ["check", files["model"], "-c", files["clean"], "--report", str(target)]
    if case == "a file":
        target.write_text("mine")
        argv += ["--data", files["x"]]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "DataError" in err, err
    assert target.read_text() == "mine" if case == "a file" else not target.exists()
