"""``aptune tune`` -> ``check`` -> ``csim`` on a small LSTM model: the LSTM's weight, recurrent
weight, bias and table types are precision points; its result_t and its input's are held at the
template's type (hls4ml 1.3 compiles an LSTM only when input, accum and result are one type);
the C simulation of the tuned project agrees with the emulator on every traced value."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from tests.conftest import requires_gxx
from tuner.cli import main


@pytest.fixture(scope="module")
def lstm_files(tmp_path_factory):
    """An LSTM (8 steps, 3 features, 6 units) and a softmax Dense; inputs and its own labels."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 3), name="x")
    h = keras.layers.LSTM(6, name="lstm")(inp)
    out = keras.layers.Dense(3, activation="softmax", name="d")(h)
    model = keras.Model(inp, out)
    folder = tmp_path_factory.mktemp("lstm-tune")
    x = np.random.default_rng(0).normal(size=(300, 8, 3))
    model.save(folder / "lstm.keras")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", model.predict(x, verbose=0).argmax(1))
    return folder


@requires_gxx
@pytest.mark.csim
def test_tune_check_csim_on_an_lstm(lstm_files, tmp_path, csim_cache, monkeypatch, capsys):
    """tune writes LSTM weight and table points (never its result_t), check runs on the tuned
    config, and csim of the tuned project equals the emulator everywhere."""
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run" / "cfg.yml"
    data = ["--data", str(lstm_files / "x.npy")]
    args = [*data, "--labels", str(lstm_files / "y.npy"), "-o", str(out), "--project"]
    args += ["--time-limit", "30", "--target", "0.95"]
    code = main(["tune", str(lstm_files / "lstm.keras"), *args])
    assert code in (0, 1), capsys.readouterr().err
    project = yaml.safe_load(out.read_text().replace("!keras_model", ""))
    lstm = project["HLSConfig"]["LayerName"]["lstm"]
    precision = lstm["Precision"]
    assert all(precision[k] != "auto" for k in ("weight", "recurrent_weight", "bias")), lstm
    assert "table_t" in lstm, lstm
    tuned = json.loads((out.parent / "tuning.json").read_text())
    points = set(tuned["result"]["types"])
    assert {"lstm.weight_t", "lstm.recurrent_weight_t", "lstm.table_t"} <= points, points
    assert not {"lstm.result_t", "lstm.accum_t", "x.result_t"} & points

    capsys.readouterr()
    code = main(["check", str(out), *data, "--json"])
    assert code in (0, 1), capsys.readouterr().err
    json.loads(capsys.readouterr().out)

    code = main(["csim", str(out), *data, "--json"])
    assert code == 0, capsys.readouterr()
    result = json.loads(capsys.readouterr().out)
    assert result["identical"] == result["n_values"] > 0
    assert {layer["name"] for layer in result["layers"]} >= {"lstm", "d"}
    assert all(layer["identical"] == layer["total"] for layer in result["layers"])
