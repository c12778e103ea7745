"""Every output location is checked before the work starts: an unwritable one is one line and
exit 2 with nothing computed; a missing folder is created and the summary says so."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tuner.cli import main

BAD = [
    pytest.param("{file}/sub", id="under-a-file"),
    pytest.param(
        "/proc/aptune-nowhere",
        id="proc",
        marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc"),
    ),
]


@pytest.fixture(scope="module")
def inputs(iris_model, tmp_path_factory):
    _, x, _, path = iris_model
    folder = tmp_path_factory.mktemp("outputs")
    np.save(folder / "x.npy", x)
    (folder / "file.txt").write_text("a file, not a folder\n")
    return path, folder


def _commands(model, x, out) -> dict[str, list[str]]:
    cfg = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
    cfg_path = out.parent / "cfg.yml"
    return {
        "tune": ["tune", model, "--data", x, "-o", f"{out}/r.yml", "--target", "0.9"],
        "tune-report": ["tune", model, "--data", x, "--report", str(out), "--target", "0.9"],
        "csim": ["csim", model, "--config", str(cfg_path), "--data", x, "--output-dir", str(out)],
        "emulate": ["emulate", model, "-c", str(cfg_path), "--data", x, "-o", f"{out}/y.npy"],
        "profile": ["profile", model, "-o", str(out)],
    }, cfg


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("command", ["tune", "tune-report", "csim", "emulate", "profile"])
def test_an_unwritable_output_is_refused_before_any_work(inputs, bad, command, capsys, tmp_path):
    import yaml

    model, folder = inputs
    out = tmp_path / "x"  # only for the config's location
    commands, cfg = _commands(str(model), str(folder / "x.npy"), out)
    out.parent.mkdir(exist_ok=True)
    (out.parent / "cfg.yml").write_text(yaml.safe_dump(cfg))
    bad_folder = bad.format(file=folder / "file.txt")
    args = [a.replace(str(out), bad_folder) for a in commands[command]]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert "cannot write" in captured.err and "choose a folder" in captured.err
    assert "candidates" not in captured.out  # refused before the search, not after it


def test_a_missing_output_folder_is_created_and_said(inputs, capsys, tmp_path):
    model, folder = inputs
    out = tmp_path / "new" / "deeper" / "r.yml"
    data = str(folder / "x.npy")
    code = main(["tune", str(model), "--data", data, "-o", str(out), "--target", "0.9"])
    assert code == 0
    assert out.exists()
    assert f"created folder {out.parent}" in capsys.readouterr().out
