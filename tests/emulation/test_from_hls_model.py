"""`EmulatedModel.from_hls_model`: an hls4ml ModelGraph the user holds, against its own
``compile(); predict(X)`` (``np.array_equal``), without Keras in the emulator's loop.

Dense and conv graphs come from hls4ml's converter; a third is edited on the ModelGraph after the
conversion (a result precision, an accumulator, a weight precision assigned without
``update_precision``, so its C++ text keeps the old digits): the emulator reads the graph as it
stands, as the writer does.
"""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from tests.conftest import requires_gxx
from tests.support.models import inputs, mlp
from tests.support.nnet_harness import assert_exact

N = 500


def _conv_model() -> object:
    import keras

    L = keras.layers
    inp = keras.Input((10, 10, 2), name="img")
    x = L.Conv2D(4, 3, padding="same", name="c")(inp)
    x = L.MaxPooling2D(2, name="mp")(L.Activation("relu", name="r")(x))
    x = L.Dense(5, name="d")(L.Flatten(name="f")(x))
    model = keras.Model(inp, L.Activation("softmax", name="sm")(x))
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0.0, 0.4, w.shape) for w in layer.get_weights()])
    return model


_NARROW = {
    "Model": {"Precision": "ap_fixed<10,4,AP_RND,AP_SAT>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {"c": {"Precision": {"accum": "ap_fixed<11,4,AP_RND,AP_SAT>"}}},
}

_WIDE = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}


def _predict(hls_model: object, X: np.ndarray | list[np.ndarray]) -> np.ndarray:
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in X] if isinstance(X, list) else X
    with contextlib.redirect_stdout(io.StringIO()):
        return hls_model.predict(np.ascontiguousarray(xs, dtype=np.float64) if xs is X else xs)


def _convert(model: object, config: dict, tmp_path: object, io_type: str = "io_parallel") -> object:
    import hls4ml

    with contextlib.redirect_stdout(io.StringIO()):
        return hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, io_type=io_type, output_dir=str(tmp_path)
        )


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("which", ["dense", "conv"])
def test_from_hls_model_equals_its_predict(which: str) -> None:
    """The ModelGraph hls4ml converted and compiled, emulated from the graph alone."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_compile

    if which == "dense":
        model = mlp([12, 16, 6], seed=3, batchnorm_after=[1])
        X = inputs(N, 12, seed=4)
        config = {
            **_NARROW,
            "LayerName": {"d1": {"Precision": {"accum": "ap_fixed<9,3,AP_TRN,AP_SAT>"}}},
        }
    else:
        model, config = _conv_model(), _NARROW
        X = np.random.default_rng(6).normal(0.0, 1.5, (N, 10, 10, 2))
    hls_model = hls_compile(model, config)
    em = EmulatedModel.from_hls_model(hls_model)
    assert_exact(em.predict(X), _predict(hls_model, X), f"{which} outputs")


@pytest.mark.csim
@requires_gxx
def test_from_hls_model_reads_edits_made_on_the_graph(tmp_path: object) -> None:
    """Types set on the ModelGraph after the conversion are what the C simulation computes."""
    from hls4ml.model.types import RoundingMode, SaturationMode

    from emulation.model import EmulatedModel

    model = mlp([12, 16, 6], seed=7)
    X = inputs(N, 12, seed=8)
    config = {
        **_WIDE,
        "LayerName": {
            "d1": {"Precision": {"accum": "ap_fixed<16,6>"}},
            "d2": {"Precision": {"weight": "ap_fixed<12,3>"}},
        },
    }
    hls_model = _convert(model, config, tmp_path)
    d1, d2 = hls_model.graph["d1"], hls_model.graph["d2"]

    def edit(t: object, width: int, integer: int, **modes: object) -> None:
        # a copy of the backend's own precision object (one may be shared by several types)
        p = copy.deepcopy(t.precision)
        p.width, p.integer = width, integer
        for key, value in modes.items():
            setattr(p, key, value)
        t.precision = p

    sat = SaturationMode.SAT
    edit(d1.get_output_variable().type, 8, 3, rounding_mode=RoundingMode.RND, saturation_mode=sat)
    edit(d1.types["accum_t"], 10, 4, saturation_mode=sat)
    # assigned directly: the text keeps 9 digits (ap_fixed<12,3>), then the C++ casts to <5,1>
    edit(d2.weights["weight"].type, 5, 1)
    # d2's accum_t is named model_default_t, whose typedef the writer takes from an earlier
    # layer: this edit does not reach the C++
    edit(d2.types["accum_t"], 6, 2)
    before = EmulatedModel(model, config)
    em = EmulatedModel.from_hls_model(hls_model)
    d1_types, d2_types = em.graph.node("d1").types, em.graph.node("d2").types
    assert (d1_types["result_t"].width, d1_types["accum_t"].width) == (8, 10)
    assert (d2_types["weight_t"].width, d2_types["accum_t"].width) == (5, 16)
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model.compile()
    want = _predict(hls_model, X)
    assert not np.array_equal(before.predict(X), want), "the edits must change the outputs"
    assert_exact(em.predict(X), want, "edited graph outputs")


@pytest.mark.csim
@requires_gxx
def test_from_hls_model_in_io_stream() -> None:
    """An io_stream ModelGraph (ZeroPadding and Clone nodes inserted) emulated from the graph."""
    from emulation.model import EmulatedModel
    from tests.emulation.test_vitis import NARROW, families_inputs, families_model
    from tests.support.hls import hls_compile

    hls_model = hls_compile(families_model(), NARROW, io_type="io_stream")
    em = EmulatedModel.from_hls_model(hls_model)
    X = families_inputs()
    for k, (g, w) in enumerate(zip(em.predict(X), _predict(hls_model, X), strict=True)):
        assert_exact(g, w, f"output {k}")


def test_from_hls_model_refuses_a_recurrent_layer(tmp_path: object) -> None:
    """A SimpleRNN in the graph (hls4ml writes no code for it) is refused with its name, class
    and the alternative."""
    import keras

    from emulation.model import EmulatedModel

    inp = keras.Input((5, 3), name="seq")
    model = keras.Model(inp, keras.layers.SimpleRNN(4, name="rnn")(inp))
    hls_model = _convert(model, _WIDE, tmp_path)
    with pytest.raises(UnsupportedLayerError, match=r"'rnn' of class SimpleRNN .*LSTM or a GRU"):
        EmulatedModel.from_hls_model(hls_model)
