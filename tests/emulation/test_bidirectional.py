"""Bidirectional(LSTM) as hls4ml 1.3 converts it (``nnet::bidirectional_stack``: a forward and a
backward ``lstm_static`` of their own weights, sharing accum_t, result_t and the table, states
concatenated) against hls4ml's C simulation: Vivado under hls4ml's defaults and a narrow config,
Vitis under the narrow one (three compiles)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import mismatch_report, overflowing_inputs


def bidirectional_model(seed: int = 91) -> object:
    """Bidirectional LSTMs: one returning sequences (4 + 4), one its last states (3 + 3)."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((6, 3), name="x_in")
    seq = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi_seq")
    last = keras.layers.Bidirectional(keras.layers.LSTM(3), name="bi_last")
    model = keras.Model(inp, last(seq(inp)))
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.6, w.shape))
    return model


def default_config(model: object) -> dict:
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name")


def narrow_config(model: object) -> dict:
    """Input, accum_t and result_t of three types (a saturating, rounding accumulator), narrow
    weights per direction, a small table; bi_last under Resource with ReuseFactor 2 (its input
    kernel adds in the strided order)."""
    cfg = default_config(model)
    cfg["LayerName"]["x_in"]["Precision"] = {"result": "ap_fixed<10,3,AP_RND>"}
    for name in ("bi_seq", "bi_last"):
        precision = cfg["LayerName"][name]["Precision"]
        precision.update(accum="ap_fixed<12,4,AP_RND,AP_SAT>", result="ap_fixed<10,2,AP_RND>")
        precision.update(forward_weight="ap_fixed<7,2,AP_RND>", backward_weight="ap_fixed<6,1>")
        precision.update(backward_recurrent_weight="ap_fixed<7,2,AP_RND>")
    cfg["LayerName"]["bi_seq"].update(table_t="ap_fixed<10,2,AP_RND,AP_SAT>", TableSize=256)
    cfg["LayerName"]["bi_last"].update(Strategy="Resource", ReuseFactor=2)
    return cfg


CASES = [("Vivado", "default"), ("Vivado", "narrow"), ("Vitis", "narrow")]


@pytest.fixture(scope="module")
def model() -> object:
    return bidirectional_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize(("backend", "config"), CASES, ids=[f"{b}-{c}" for b, c in CASES])
def test_bidirectional_lstm_matches_csim(model: object, backend: str, config: str) -> None:
    """Every output and traced layer equals hls4ml's C simulation."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_predict, hls_trace

    cfg = default_config(model) if config == "default" else narrow_config(model)
    X = overflowing_inputs(92, (300, 6, 3))
    em = EmulatedModel(model, cfg, backend=backend)
    te, th = em.trace(X), hls_trace(model, cfg, X, backend=backend)
    assert sorted(te) == sorted(th) and {"bi_seq", "bi_last"} <= set(th)
    for name, want in th.items():
        got = te[name].reshape(want.shape)
        assert np.array_equal(got, want), f"{name}: " + mismatch_report(got, want, inputs=X)
    y, y_hls = em.predict(X), hls_predict(model, cfg, X, backend=backend)
    y = np.reshape(y, np.shape(y_hls))
    assert np.array_equal(y, y_hls), mismatch_report(y, y_hls, inputs=X)
    assert em.graph.node("bi_seq").kind == "Bidirectional"
    if config == "narrow":
        last = em.graph.node("bi_last").attrs
        assert last["strategy"] == "resource" and int(last["reuse_factor"]) == 2, last
    assert np.unique(th["bi_seq"]).size > 100


def _refusal(model: object, **target: str) -> str:
    from emulation.errors import ConfigError, UnsupportedLayerError
    from emulation.model import EmulatedModel

    # Vitis refuses a stream Bidirectional itself (a ConfigError quoting hls4ml)
    refused = ConfigError if target.get("backend") == "Vitis" else UnsupportedLayerError
    with pytest.raises(refused) as info:
        EmulatedModel(model, default_config(model), **target).predict(np.zeros((1, 5, 3)))
    return str(info.value)


def test_what_hls4ml_converts_wrongly_is_refused_before_converting() -> None:
    """Bidirectional(GRU) (hls4ml's converter crashes), a GRU with reset_after=False and a
    go_backwards LSTM (both converted but run differently) are refused naming layer and fix."""
    import keras

    L = keras.layers
    inp = keras.Input((5, 3), name="x_in")
    cases = {
        r"'b' of class Bidirectional\(GRU\) .* use Bidirectional\(LSTM\)": L.Bidirectional(
            L.GRU(4), name="b"
        ),
        r"'g' of class GRU uses reset_after=False.*reset_after=True": L.GRU(
            4, reset_after=False, name="g"
        ),
        r"'l' of class LSTM sets go_backwards=True, which hls4ml 1.3 ignores": L.LSTM(
            4, go_backwards=True, name="l"
        ),
    }
    for reason, layer in cases.items():
        assert re.search(reason, _refusal(keras.Model(inp, layer(inp)))), reason


def test_bidirectional_is_refused_in_io_stream() -> None:
    """io_stream: refused naming the layer and io_parallel (Vivado: no stream C++; Vitis: hls4ml
    refuses it)."""
    import keras

    inp = keras.Input((5, 3), name="x_in")
    model = keras.Model(inp, keras.layers.Bidirectional(keras.layers.LSTM(4), name="b")(inp))
    for backend in ("Vivado", "Vitis"):
        message = _refusal(model, backend=backend, io_type="io_stream")
        assert "io_parallel" in message and re.search(r"['\"]b['\"]", message), message
