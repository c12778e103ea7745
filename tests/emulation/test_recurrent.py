"""LSTM and GRU (``nnet_recurrent.h``: two ``nnet::dense`` per step, the gate sums and tables in
accum_t, the state in result_t) against hls4ml's C simulation, io_parallel on Vivado: hls4ml's
default config, and a narrow one (rounding, saturating and wrapping accumulators, small tables,
Resource strategy with a strided sum order): one compile per model and config."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, overflowing_inputs


def recurrent_model(kind: str, seed: int) -> object:
    """Two stacked layers of ``kind``: one returning sequences (6 units), a linear activation
    (which changes the type only in the narrow config), one returning the last state."""
    import keras

    rng = np.random.default_rng(seed)
    layer = getattr(keras.layers, kind)
    inp = keras.Input((6, 3), name="x_in")
    seq = layer(6, return_sequences=True, name="rnn_seq")(inp)
    recast = keras.layers.Activation("linear", name="recast")(seq)
    last = layer(4, name="rnn_last")(recast)
    model = keras.Model(inp, last)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.6, w.shape))
    return model


def default_config(model: object) -> dict:
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name")


#: hls4ml 1.3 compiles an LSTM only when its input type, accum_t and result_t are one type
#: (`emulation.layers.recurrent`); a GRU takes any three.
SATURATING = {
    "LSTM": ("ap_fixed<12,4,AP_RND,AP_SAT>",) * 3,
    "GRU": ("ap_fixed<10,3,AP_RND>", "ap_fixed<12,4,AP_RND,AP_SAT>", "ap_fixed<10,2,AP_RND_CONV>"),
}
WRAPPING = {"LSTM": ("ap_fixed<9,2>",) * 2, "GRU": ("ap_fixed<9,2>", "ap_fixed<8,1>")}


def narrow_config(model: object, kind: str) -> dict:
    """Layer rnn_seq: saturating, rounding accumulator and state, 256-entry table; rnn_last:
    wrapping accumulator and state, Resource strategy with ReuseFactor 2 (strided sums)."""
    cfg = default_config(model)
    x_t, accum_t, result_t = SATURATING[kind]
    cfg["LayerName"]["x_in"]["Precision"] = {"result": x_t}
    cfg["LayerName"]["recast"] = {"Precision": {"result": WRAPPING[kind][0]}}
    cfg["LayerName"]["rnn_seq"].update(
        Precision={
            "accum": accum_t,
            "result": result_t,
            "weight": "ap_fixed<7,2,AP_RND>",
            "recurrent_weight": "ap_fixed<6,1,AP_RND>",
            "bias": "ap_fixed<8,3>",
            "recurrent_bias": "ap_fixed<8,3>",
        },
        table_t="ap_fixed<10,2,AP_RND,AP_SAT>",
        TableSize=256,
    )
    cfg["LayerName"]["rnn_last"].update(
        Precision={
            "accum": WRAPPING[kind][0],
            "result": WRAPPING[kind][1],
            "weight": "ap_fixed<6,2,AP_RND>",
            "recurrent_weight": "ap_fixed<6,2>",
            "bias": "ap_fixed<8,3>",
            "recurrent_bias": "ap_fixed<8,3>",
        },
        Strategy="Resource",
        ReuseFactor=2,
    )
    return cfg


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", ["default", "narrow"])
def test_lstm_matches_csim(config: str) -> None:
    """Stacked LSTMs (sequences, then the last state) equal the C simulation, every layer."""
    model = recurrent_model("LSTM", seed=71)
    cfg = default_config(model) if config == "default" else narrow_config(model, "LSTM")
    X = overflowing_inputs(72, (300, 6, 3))
    em, _, want = assert_equal_to_csim(model, cfg, X, same_layers=True)
    assert em.graph.node("rnn_seq").kind == "LSTM"
    assert np.unique(want["rnn_seq"]).size > 100
    if config == "narrow":
        seq, last = em.graph.node("rnn_seq"), em.graph.node("rnn_last")
        assert int(seq.attrs["table_size"]) == 256 and seq.types["table_t"].width == 10
        assert last.attrs["strategy"] == "resource" and int(last.attrs["reuse_factor"]) == 2
        em.predict(X)
        over = em.overflows
        # the narrow types really overflow: saturation in rnn_seq, wrapping in rnn_last
        assert over["rnn_seq.accum_t"].count > 0
        assert over["rnn_last.accum_t"].count + over["rnn_last.result_t"].count > 0


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", ["default", "narrow"])
def test_gru_matches_csim(config: str) -> None:
    """Stacked GRUs (reset_after, Keras 3's default) equal the C simulation, every layer; the
    narrow config gives input, accum_t and result_t three different types."""
    model = recurrent_model("GRU", seed=73)
    cfg = default_config(model) if config == "default" else narrow_config(model, "GRU")
    X = overflowing_inputs(74, (300, 6, 3))
    em, _, want = assert_equal_to_csim(model, cfg, X, same_layers=True)
    assert em.graph.node("rnn_last").kind == "GRU"
    assert np.unique(want["rnn_seq"]).size > 100
    if config == "narrow":
        em.predict(X)
        assert em.overflows["rnn_seq.accum_t"].count > 0


def test_lstm_of_mixed_types_is_refused_with_hls4ml_reason() -> None:
    """An LSTM whose accum_t differs from its result_t (hls4ml's C++ does not compile it) is
    refused naming the layer, its types and the fix."""
    from emulation.errors import UnsupportedLayerError
    from emulation.model import EmulatedModel

    model = recurrent_model("LSTM", seed=71)
    cfg = default_config(model)
    cfg["LayerName"]["rnn_seq"]["Precision"]["accum"] = "ap_fixed<20,8>"
    with pytest.raises(UnsupportedLayerError, match=r"'rnn_seq' of class LSTM .* same precision"):
        EmulatedModel(model, cfg).predict(np.zeros((1, 6, 3)))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"recurrent_activation": "hard_sigmoid"}, r"'hard_sigmoid'.*sigmoid, tanh, relu"),
        ({"activation": "linear"}, r"activation='linear'.*sigmoid, tanh, relu"),
    ],
    ids=["hard_sigmoid", "linear"],
)
def test_gru_hls4ml_cannot_run_is_refused(options: dict, reason: str) -> None:
    """What hls4ml 1.3 converts but cannot compile (hard_sigmoid: nnet_recr_activations.h has
    no such activation) is refused naming the layer and class."""
    import keras

    from emulation.errors import UnsupportedLayerError
    from emulation.model import EmulatedModel

    inp = keras.Input((5, 3), name="x_in")
    model = keras.Model(inp, keras.layers.GRU(4, name="g", **options)(inp))
    with pytest.raises(UnsupportedLayerError, match=r"layer 'g' of class GRU .*" + reason):
        EmulatedModel(model, default_config(model)).predict(np.zeros((1, 5, 3)))


def test_simple_rnn_gets_no_code_from_hls4ml() -> None:
    """The reason SimpleRNN stays refused: hls4ml 1.3 converts it on Vivado and Vitis but
    writes no function call for it (so its C simulation never sets the output)."""
    import hls4ml
    import keras

    inp = keras.Input((5, 3), name="x_in")
    model = keras.Model(inp, keras.layers.SimpleRNN(4, name="rnn")(inp))
    for backend in ("Vivado", "Vitis"):
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=default_config(model), backend=backend
        )
        assert hls_model.graph["rnn"].get_attr("function_cpp") is None


def test_lstm_from_an_hls_model_equals_the_converted_one() -> None:
    """`EmulatedModel.from_hls_model` reads an LSTM's types and weights as a fresh conversion
    does (Resource strategy, transposed weights, a narrow table): the same outputs."""
    import hls4ml

    from emulation.model import EmulatedModel

    model = recurrent_model("LSTM", seed=71)
    cfg = narrow_config(model, "LSTM")
    hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg)
    X = overflowing_inputs(75, (100, 6, 3))
    y = EmulatedModel.from_hls_model(hls_model).predict(X)
    assert np.array_equal(y, EmulatedModel(model, cfg).predict(X))
    assert np.unique(y).size > 50
