"""``aptune csim --config A.yml --config B.yml``: compiled in parallel, one folder and one line
per config, the worst exit code."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emulation.config import write_config
from tests.conftest import requires_gxx
from tests.csim.small_models import BROKEN_AT_D2, CONFIG, small_inputs
from tuner.cli import main

pytestmark = [requires_gxx, pytest.mark.csim]


@pytest.fixture
def files(tmp_path, small_model_file, csim_cache, monkeypatch):
    """The small model, two configs hls4ml compiles, and data; the session's compile cache."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    x = tmp_path / "x.npy"
    np.save(x, small_inputs(60))
    return {
        "model": str(small_model_file),
        "a": str(write_config(CONFIG, tmp_path / "a.yml")),
        "b": str(write_config(BROKEN_AT_D2, tmp_path / "b.yml")),
        "x": str(x),
    }


def test_several_configs_compile_first_and_compare_into_their_folders(files, tmp_path, capsys):
    """Both configs are compiled before either is compared (so both comparisons find their
    build in the cache), each writes its three files in its own subfolder, one line each."""
    argv = ["csim", files["model"], "--data", files["x"], "--output-dir", str(tmp_path / "out")]
    code = main([*argv, "--config", files["a"], "--config", files["b"], "--jobs", "2"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    assert len(out) == 2 and all("agree: 240 of 240 values identical" in line for line in out)
    for name in ("a", "b"):
        folder = tmp_path / "out" / name
        assert {p.name for p in folder.iterdir()} >= {
            "comparison.json",
            "summary.md",
            "comparison.png",
        }
        data = json.loads((folder / "comparison.json").read_text())
        assert data["agree"] and data["cached"]


def test_the_exit_code_is_the_worst_of_the_configs(files, tmp_path, capsys):
    """A config hls4ml cannot read fails on its own line (exit 2); the other is still compared
    and written."""
    bad = tmp_path / "bad.yml"
    bad.write_text("Model: [this is not a config\n")
    argv = ["csim", files["model"], "--data", files["x"], "--config", files["a"]]
    code = main([*argv, "--config", str(bad), "--output-dir", str(tmp_path / "out")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 2
    assert lines[0].startswith(files["a"]) and "agree" in lines[0]
    assert lines[1].startswith(str(bad)) and "Error" in lines[1]
    assert (tmp_path / "out" / "a" / "comparison.json").exists()
