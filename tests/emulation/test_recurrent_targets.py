"""LSTM and GRU on the Vitis backend and in io_stream against hls4ml's C simulation (one
compile per target: Vitis io_parallel, Vivado io_stream, Vitis io_stream). Vitis uses
Vivado's ``nnet_recurrent.h``; io_stream's ``lstm_stack`` / ``gru_stack`` read one time step
per stream element and compute what io_parallel computes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import mismatch_report, overflowing_inputs

TARGETS = [("Vitis", "io_parallel"), ("Vivado", "io_stream"), ("Vitis", "io_stream")]


def lstm_gru_model(seed: int = 81) -> object:
    """An LSTM returning sequences (5 units) feeding a GRU returning its last state (4)."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((6, 3), name="x_in")
    seq = keras.layers.LSTM(5, return_sequences=True, name="lstm")(inp)
    last = keras.layers.GRU(4, name="gru")(seq)
    model = keras.Model(inp, last)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.6, w.shape))
    return model


def target_config(model: object) -> dict:
    """The LSTM in one rounding, saturating type (input, accum and result: hls4ml compiles no
    other LSTM); the GRU with a wrapping accumulator and its own result type."""
    import hls4ml

    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    shared = "ap_fixed<12,4,AP_RND,AP_SAT>"
    cfg["LayerName"]["x_in"]["Precision"] = {"result": shared}
    cfg["LayerName"]["lstm"]["Precision"].update(accum=shared, result=shared)
    cfg["LayerName"]["lstm"]["Precision"].update(weight="ap_fixed<8,2,AP_RND>")
    cfg["LayerName"]["gru"]["Precision"].update(accum="ap_fixed<10,3>", result="ap_fixed<9,1>")
    cfg["LayerName"]["gru"].update(table_t="ap_fixed<12,3,AP_RND>", TableSize=512)
    return cfg


@pytest.fixture(scope="module")
def model() -> object:
    return lstm_gru_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize(("backend", "io_type"), TARGETS, ids=[f"{b}-{i}" for b, i in TARGETS])
def test_recurrent_matches_csim_on_target(model: object, backend: str, io_type: str) -> None:
    """Every output and traced layer equals hls4ml's C simulation of that backend and io."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_predict, hls_trace

    cfg = target_config(model)
    X = overflowing_inputs(82, (300, 6, 3))
    em = EmulatedModel(model, cfg, backend=backend, io_type=io_type)
    assert (em.graph.backend, em.graph.io_type) == (backend, io_type)
    te, th = em.trace(X), hls_trace(model, cfg, X, backend=backend, io_type=io_type)
    assert sorted(te) == sorted(th) and {"lstm", "gru"} <= set(th)
    for name, want in th.items():
        got = te[name].reshape(want.shape)
        assert np.array_equal(got, want), f"{name}: " + mismatch_report(got, want, inputs=X)
    y, y_hls = em.predict(X), hls_predict(model, cfg, X, backend=backend, io_type=io_type)
    y = np.reshape(y, np.shape(y_hls))
    assert np.array_equal(y, y_hls), mismatch_report(y, y_hls, inputs=X)
    assert np.unique(th["lstm"]).size > 100
