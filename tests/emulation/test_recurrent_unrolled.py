"""``Strategy: ResourceUnrolled`` on recurrent layers as hls4ml 1.3 builds it.

An LSTM or GRU keeps the strategy (with ReuseFactor > 1): ``GenerateUnrolledDenseResource``
writes one kernel per matrix (``dense_resource_unrolled_<index>_1`` for the input,
``..._2`` for the recurrent one), the Resource loops unrolled, so the products add in the
Resource order. A Bidirectional falls back to Resource (``init_bidirectional`` sets
``use_resource_instead`` whatever the ReuseFactor). An LSTM with R = 2 < n_in (the strided
order) feeding a GRU with R = 8 > n_in, saturating accumulators: Vivado io_parallel, and Vitis
io_stream with ``static: false`` too (two compiles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, hls_compile, overflowing_inputs

SHARED = "ap_fixed<9,3,AP_RND,AP_SAT>"


def unrolled_model(seed: int = 111) -> object:
    """(6, 4) -> LSTM(4) ``lstm`` returning sequences -> GRU(4) ``gru``."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((6, 4), name="x_in")
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(inp)
    model = keras.Model(inp, keras.layers.GRU(4, name="gru")(h))
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.6, w.shape))
    return model


def unrolled_config(model: object, lstm_strategy: str = "ResourceUnrolled") -> dict:
    """``lstm``: ReuseFactor 2, one saturating type (input, accum, result); ``gru``:
    ReuseFactor 8, a saturating accumulator and its own result type."""
    import hls4ml

    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    names = cfg["LayerName"]
    names["x_in"]["Precision"] = {"result": SHARED}
    names["lstm"]["Precision"].update(accum=SHARED, result=SHARED, weight="ap_fixed<8,2,AP_RND>")
    names["lstm"].update(Strategy=lstm_strategy, ReuseFactor=2)
    names["gru"]["Precision"].update(accum="ap_fixed<8,2,AP_RND,AP_SAT>", result="ap_fixed<9,1>")
    names["gru"].update(Strategy="ResourceUnrolled", ReuseFactor=8)
    return cfg


@pytest.fixture(scope="module")
def model() -> object:
    return unrolled_model()


@pytest.mark.csim
@requires_gxx
def test_resource_unrolled_recurrent_matches_csim(model: object) -> None:
    """Every output and traced layer equals the C simulation, which runs hls4ml's generated
    kernels; the natural order (Latency) misses it."""
    from emulation.model import EmulatedModel

    cfg = unrolled_config(model)
    X = overflowing_inputs(112, (300, 6, 4))
    em, _, want = assert_equal_to_csim(model, cfg, X, same_layers=True)
    attrs = {name: em.graph.node(name).attrs for name in ("lstm", "gru")}
    assert {n: a["strategy"] for n, a in attrs.items()} == dict.fromkeys(attrs, "resource_unrolled")
    rfs = {n: (a["reuse_factor"], a["recurrent_reuse_factor"]) for n, a in attrs.items()}
    assert rfs == {"lstm": (2, 2), "gru": (8, 8)}
    firmware = Path(hls_compile(model, cfg).config.get_output_dir()) / "firmware"
    code = "".join(p.read_text() for p in firmware.rglob("*.h"))
    assert code.count("class dense_resource_unrolled_") == 4
    assert np.unique(want["lstm"]).size > 100
    em.predict(X)
    assert em.overflows["lstm.accum_t"].count > 0
    latency = EmulatedModel(model, unrolled_config(model, lstm_strategy="Latency")).trace(X)
    assert not np.array_equal(latency["lstm"].reshape(want["lstm"].shape), want["lstm"])


@pytest.mark.csim
@requires_gxx
@pytest.mark.filterwarnings("ignore:.*may have unexpected II")
def test_unrolled_non_static_matches_csim_on_vitis_io_stream(model: object) -> None:
    """Vitis in io_stream (one step per stream element), ResourceUnrolled and ``static:
    false`` together: every output and traced layer equals the C simulation."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_predict, hls_trace, mismatch_report

    cfg = unrolled_config(model)
    for name in ("lstm", "gru"):
        cfg["LayerName"][name]["static"] = False
    target = {"backend": "Vitis", "io_type": "io_stream"}
    X = overflowing_inputs(113, (300, 6, 4))
    em = EmulatedModel(model, cfg, **target)
    te, th = em.trace(X), hls_trace(model, cfg, X, **target)
    assert sorted(te) == sorted(th) and {"lstm", "gru"} <= set(th)
    for name, want in th.items():
        got = te[name].reshape(want.shape)
        assert np.array_equal(got, want), f"{name}: " + mismatch_report(got, want, inputs=X)
    y, y_hls = em.predict(X), hls_predict(model, cfg, X, **target)
    assert np.array_equal(np.reshape(y, np.shape(y_hls)), y_hls), mismatch_report(y, y_hls)
    assert em.graph.node("gru").attrs["strategy"] == "resource_unrolled"
    assert em.graph.node("lstm").attrs["static"] is False


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept")
def test_resource_unrolled_moved_to_reuse_factor_1_is_refused() -> None:
    """hls4ml moves an invalid ReuseFactor (2 for 3 inputs) to 1 but keeps the strategy, and
    writes no unrolled kernel for R = 1 (its C++ does not compile): refused naming the layer,
    the class and Resource."""
    import hls4ml
    import keras

    from emulation.errors import UnsupportedLayerError
    from emulation.model import EmulatedModel

    inp = keras.Input((5, 3), name="x_in")
    model = keras.Model(inp, keras.layers.LSTM(4, name="rnn")(inp))
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    cfg["LayerName"]["rnn"].update(Strategy="ResourceUnrolled", ReuseFactor=2)
    layer = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg).graph["rnn"]
    assert (layer.get_attr("strategy"), layer.get_attr("reuse_factor")) == ("resource_unrolled", 1)
    assert layer.get_attr("resource_unrolled_dense_codegen_1") is None
    reason = r"'rnn' of class LSTM uses strategy resource_unrolled with ReuseFactor 1.*Resource"
    warned = pytest.warns(UserWarning, match="Invalid ReuseFactor=2")
    with warned, pytest.raises(UnsupportedLayerError, match=reason):
        EmulatedModel(model, cfg).predict(np.zeros((1, 5, 3)))


def test_resource_unrolled_bidirectional_runs_as_resource() -> None:
    """hls4ml 1.3 turns a Bidirectional's ResourceUnrolled into Resource: the emulator reads the
    converted strategy and reuse factor."""
    import hls4ml
    import keras

    from emulation.model import EmulatedModel

    inp = keras.Input((5, 4), name="x_in")
    model = keras.Model(inp, keras.layers.Bidirectional(keras.layers.LSTM(4), name="bi")(inp))
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    cfg["LayerName"]["bi"].update(Strategy="ResourceUnrolled", ReuseFactor=2)
    node = EmulatedModel(model, cfg).graph.node("bi")
    assert node.attrs["strategy"] == "resource" and int(node.attrs["reuse_factor"]) == 2
