"""``--io-type io_parallel|io_stream`` and a project file's ``IOType`` on tune, check, csim and
profile (``aptune emulate``'s are in tests/emulation/test_io_stream.py)."""

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
    """Model, config and data on disk; the working directory is ``tmp_path``."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    x = tmp_path / "x.npy"
    np.save(x, small_inputs(40))
    cfg = write_config(CONFIG, tmp_path / "cfg.yml")
    return {"model": str(small_model_file), "config": str(cfg), "x": str(x)}


@pytest.fixture
def conversions(monkeypatch):
    """The io type of every hls4ml conversion made while the test runs."""
    import emulation.graph

    seen: list[str] = []
    real = emulation.graph.convert

    def spy(model, cfg, *, io_type="io_parallel", **kwargs):
        seen.append(io_type)
        return real(model, cfg, io_type=io_type, **kwargs)

    monkeypatch.setattr(emulation.graph, "convert", spy)
    return seen


@pytest.mark.parametrize("command", ["tune", "check", "csim", "profile"])
def test_an_unknown_io_type_is_one_line_exit_2(files, tmp_path, capsys, command):
    """--io-type io_streem: exit 2, one line naming both io types, nothing written."""
    args = {
        "tune": ["--data", files["x"], "-o", "out/cfg.yml"],
        "check": ["-c", files["config"], "--data", files["x"]],
        "csim": ["-c", files["config"], "--data", files["x"], "--output-dir", "out"],
        "profile": ["-c", files["config"], "--data", files["x"], "-o", "out"],
    }[command]
    code = main([command, files["model"], *args, "--io-type", "io_streem"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "'io_streem' is not emulated" in err and "io_parallel, io_stream" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["check", "profile"])
def test_check_and_profile_convert_in_the_io_type_given(files, conversions, capsys, command):
    """check / profile --io-type io_stream: every conversion is io_stream, and it runs."""
    args = ["-c", files["config"], "--data", files["x"], "--json"]
    if command == "profile":
        args += ["-o", "figs"]
    code = main([command, files["model"], *args, "--io-type", "io_stream"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    json.loads(out.out)
    assert conversions and set(conversions) == {"io_stream"}


def test_check_reads_iotype_from_a_project_given_as_model(files, tmp_path, conversions, capsys):
    """check PROJECT (IOType: io_stream) converts in io_stream; --io-type overrides it."""
    project = {
        "KerasModel": files["model"],
        "IOType": "io_stream",
        "OutputDir": "prj",
        "HLSConfig": CONFIG,
    }
    prj = tmp_path / "project.yml"
    prj.write_text(yaml.safe_dump(project))
    assert main(["check", str(prj), "--json"]) in (0, 1), capsys.readouterr().err
    assert set(conversions) == {"io_stream"}
    conversions.clear()
    assert main(["check", str(prj), "--json", "--io-type", "io_parallel"]) in (0, 1)
    assert set(conversions) == {"io_parallel"}


@pytest.fixture(scope="module")
def conv_files(tmp_path_factory):
    """A tiny Conv1D model whose io_stream graph differs from io_parallel's: 'same' padding
    (a ZeroPadding1D node) and a branch (a Clone node); inputs and its own argmax labels."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 2), name="x")
    h = keras.layers.Conv1D(4, 3, padding="same", activation="relu", name="c1")(inp)
    h = keras.layers.Add(name="add")([h, keras.layers.Conv1D(4, 1, name="c2")(h)])
    h = keras.layers.Flatten(name="f")(keras.layers.MaxPooling1D(2, name="p")(h))
    out = keras.layers.Dense(3, activation="softmax", name="d")(h)
    model = keras.Model(inp, out)
    folder = tmp_path_factory.mktemp("conv-stream")
    x = np.random.default_rng(0).normal(size=(300, 16, 2))
    model.save(folder / "conv.keras")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", model.predict(x, verbose=0).argmax(1))
    return folder


@requires_gxx
@pytest.mark.csim
def test_tune_in_io_stream_writes_a_project_csim_agrees_with(
    conv_files, tmp_path, csim_cache, conversions, monkeypatch, capsys
):
    """tune --io-type io_stream --project: every candidate is converted in io_stream, the
    stream-only nodes (padding, clone) are no precision points of the config, the project file
    says IOType: io_stream (hls4ml's own converter reads it so), and csim of that project
    compiles hls4ml's io_stream C++ and agrees with the emulator on every traced value."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run" / "cfg.yml"
    args = ["--data", str(conv_files / "x.npy"), "--labels", str(conv_files / "y.npy")]
    args += ["-o", str(out), "--project", "--time-limit", "20", "--target", "0.95"]
    code = main(["tune", str(conv_files / "conv.keras"), *args, "--io-type", "io_stream"])
    assert code in (0, 1), capsys.readouterr().err
    assert conversions and set(conversions) == {"io_stream"}
    project = yaml.safe_load(out.read_text().replace("!keras_model", ""))
    assert project["IOType"] == "io_stream"
    layers = set(project["HLSConfig"]["LayerName"])
    assert {"c1", "c2", "d"} <= layers
    assert not {n for n in layers if n.startswith(("zp1d_", "clone_"))}, layers

    import hls4ml

    converted = hls4ml.converters.convert_from_config(str(out))
    assert converted.config.get_config_value("IOType") == "io_stream"

    capsys.readouterr()
    code = main(["csim", str(out), "--data", str(conv_files / "x.npy"), "--json"])
    assert code == 0, capsys.readouterr()
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] == data["n_values"] > 0
    traced = {layer["name"] for layer in data["layers"]}
    assert {"zp1d_c1", "clone_c1_relu"} <= traced  # the stream graph's own nodes, compared
    assert all(layer["identical"] == layer["total"] for layer in data["layers"])
    top = (Path(data["project_dir"]) / "firmware" / "myproject.cpp").read_text()
    assert "hls::stream<" in top  # hls4ml's io_stream top function, not io_parallel's arrays
