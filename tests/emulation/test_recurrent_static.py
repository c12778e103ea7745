"""``static: false`` recurrent layers (``nnet::lstm`` / ``nnet::gru`` in place of
``lstm_static`` / ``gru_static``: the same arithmetic on the caller's zeroed state arrays)
against hls4ml's C simulation, io_parallel on Vivado: one model holding a Bidirectional(LSTM), a
GRU and an LSTM, under hls4ml's default types and a narrow config (two compiles)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, hls_compile, overflowing_inputs

LAYERS = ("bi", "gru", "lstm")


def static_model(seed: int = 101) -> object:
    """(6, 3) -> Bidirectional(LSTM(3)) ``bi`` and GRU(6) ``gru`` returning sequences, then
    LSTM(4) ``lstm`` returning its last state."""
    import keras

    rng = np.random.default_rng(seed)
    L = keras.layers
    inp = keras.Input((6, 3), name="x_in")
    h = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi")(inp)
    h = L.GRU(6, return_sequences=True, name="gru")(h)
    model = keras.Model(inp, L.LSTM(4, name="lstm")(h))
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.6, w.shape))
    return model


def non_static_config(model: object, narrow: bool) -> dict:
    """Every recurrent layer ``static: False``; ``narrow``: a rounding, saturating type for
    ``bi`` (input, accum and result: a non-static LSTM compiles for one type only), a wrapping
    accumulator and a third result type for ``gru`` (Resource, ReuseFactor 2: strided sums),
    that result type for ``lstm`` (small table)."""
    import hls4ml

    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    names = cfg["LayerName"]
    for name in LAYERS:
        names[name]["static"] = False
    if narrow:
        shared, state = "ap_fixed<12,4,AP_RND,AP_SAT>", "ap_fixed<9,2,AP_RND_CONV>"
        names["x_in"]["Precision"] = {"result": shared}
        names["bi"]["Precision"].update(accum=shared, result=shared)
        names["bi"]["Precision"].update(forward_weight="ap_fixed<7,2,AP_RND>")
        names["gru"]["Precision"].update(accum="ap_fixed<9,2>", result=state)
        names["gru"]["Precision"].update(weight="ap_fixed<6,1,AP_RND>")
        names["gru"].update(Strategy="Resource", ReuseFactor=2)
        names["lstm"]["Precision"].update(accum=state, result=state)
        names["lstm"].update(table_t="ap_fixed<10,2,AP_RND,AP_SAT>", TableSize=256)
    return cfg


@pytest.fixture(scope="module")
def model() -> object:
    return static_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("narrow", [False, True], ids=["default", "narrow"])
def test_non_static_recurrent_matches_csim(model: object, narrow: bool) -> None:
    """Every output and traced layer equals the C simulation, whose C++ really runs the
    non-static functions."""
    cfg = non_static_config(model, narrow)
    X = overflowing_inputs(102, (300, 6, 3))
    em, _, want = assert_equal_to_csim(model, cfg, X, same_layers=True)
    assert all(em.graph.node(name).attrs["static"] is False for name in LAYERS)
    params = Path(hls_compile(model, cfg).config.get_output_dir()) / "firmware/parameters.h"
    text = params.read_text()
    assert text.count("use_static = false") == 3 and "use_static = true" not in text
    assert re.search(r"nnet::lstm_class<", text) and "lstm_class_static" not in text
    assert np.unique(want["gru"]).size > 100
    if narrow:
        gru = em.graph.node("gru").attrs
        assert gru["strategy"] == "resource" and int(gru["reuse_factor"]) == 2
        em.predict(X)
        over = em.overflows
        assert over["bi.accum_t"].count > 0 and over["gru.accum_t"].count > 0


def test_non_static_bidirectional_of_mixed_types_is_refused() -> None:
    """A non-static Bidirectional(LSTM) whose accum_t differs from its result_t is refused
    (``lstm_class`` runs ``nnet::lstm``, which does not compile for it); the static one of the
    same types is emulated."""
    from emulation.errors import UnsupportedLayerError
    from emulation.model import EmulatedModel

    model = static_model()
    cfg = non_static_config(model, narrow=False)
    cfg["LayerName"]["bi"]["Precision"]["accum"] = "ap_fixed<20,8>"
    X = np.zeros((1, 6, 3))
    with pytest.raises(UnsupportedLayerError, match=r"'bi' of class Bidirectional .* one type"):
        EmulatedModel(model, cfg).predict(X)
    cfg["LayerName"]["bi"]["static"] = True
    assert EmulatedModel(model, cfg).trace(X)["bi"].shape == (1, 6, 6)
