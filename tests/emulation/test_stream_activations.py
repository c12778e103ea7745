"""io_stream activations that differ from io_parallel: selu's lambda and relu6.

hls4ml 1.3's stream selu (``nnet_activation_stream.h``) computes its positive branch as
``(typename data_T::value_type)1.0507... * datareg``: lambda cast to the input's own type, where
io_parallel casts it to ``ap_ufixed<16,1>``; a narrow input type (a few fractional bits, or
rounding and wrapping modes) therefore changes the positive outputs. relu6 has no stream
function at all (the project does not compile) and is refused in io_stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation import EmulatedModel, UnsupportedLayerError
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, mismatch_report

N = 400


def selu_model() -> object:
    """Three inputs, each through its own selu (so each gets its own input type)."""
    import keras

    inputs = [keras.Input((8,), name=f"x{k}") for k in range(3)]
    outs = [keras.layers.Activation("selu", name=f"selu{k}")(x) for k, x in enumerate(inputs)]
    return keras.Model(inputs, outs)


#: narrow inputs (lambda 1.03125 with TRN, 1.0625 with RND; ap_fixed<6,1> wraps lambda to a
#: negative value) and a wide one; every result wide enough to show the product exactly
SELU_CONFIG = {
    "Model": {"Precision": "ap_fixed<24,8>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x0": {"Precision": {"result": "ap_fixed<8,3>"}},
        "x1": {"Precision": {"result": "ap_fixed<6,1,AP_RND,AP_WRAP>"}},
        "x2": {"Precision": {"result": "ap_fixed<20,6,AP_RND>"}},
        "selu1": {"Precision": {"result": "ap_fixed<10,3,AP_RND,AP_SAT>"}},
    },
}


def _inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.normal(0.0, 2.0, (N, 8)) for _ in range(3)]


@requires_gxx
@pytest.mark.csim
def test_stream_selu_casts_lambda_to_the_input_type_as_the_c_simulation() -> None:
    """Narrow and wide inputs: every selu output in io_stream equals the C simulation, and the
    narrow ones really differ from io_parallel's lambda (the test can fail)."""
    model, X = selu_model(), _inputs()
    got = EmulatedModel(model, SELU_CONFIG, io_type="io_stream").predict(X)
    want = hls_predict(model, SELU_CONFIG, X, io_type="io_stream")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g = np.reshape(g, np.shape(w))
        assert np.array_equal(g, w), f"selu{k}: " + mismatch_report(g, w, inputs=X[k])
    parallel = EmulatedModel(model, SELU_CONFIG, io_type="io_parallel").predict(X)
    for k in (0, 1):
        assert not np.array_equal(np.reshape(parallel[k], np.shape(want[k])), want[k])


def test_relu6_is_refused_in_io_stream_naming_the_layer() -> None:
    """hls4ml 1.3 converts relu6 in io_stream but its C++ does not compile: refused, with the
    alternative; io_parallel emulates it."""
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Activation("relu6", name="r6")])
    config = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, config, io_type="io_stream")
    assert str(info.value) == (
        "layer 'r6' of class Activation (relu6) is not supported in io_stream: hls4ml 1.3's "
        "nnet_activation_stream.h has no relu6 (its C++ does not compile); use relu, or emulate "
        "the model in io_parallel, where relu6 is emulated"
    )
    y = EmulatedModel(model, config, io_type="io_parallel").predict(np.full((1, 6), 9.0))
    assert np.all(y == 6.0)
