"""The Vitis backend (io_parallel) against hls4ml's C simulation built with ``backend='Vitis'``.

One two-input model carries the dense, conv1d, conv2d, pooling, merge, activation and softmax
families, with Latency and Resource layers (Vitis overrides the conv and pooling headers);
it is compiled under a narrow config (rounding, saturating accumulators narrower than the
products) and a wide one: two compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import ConfigError
from tests.conftest import requires_gxx
from tests.support.nnet_harness import assert_exact

N = 400


def families_model(seed: int = 31) -> object:
    """(16, 3) -> Conv1D -> MaxPool1D; (8, 8, 2) -> Conv2D -> AveragePooling2D; both flattened,
    concatenated, Dense -> ReLU; a second Dense added to it, then sigmoid and softmax heads."""
    import keras

    L = keras.layers
    a_in = keras.Input((16, 3), name="in1d")
    b_in = keras.Input((8, 8, 2), name="in2d")
    a = L.Flatten(name="fa")(L.MaxPooling1D(2, name="p1")(L.Conv1D(4, 3, name="c1")(a_in)))
    b = L.Conv2D(3, 3, padding="same", name="c2")(b_in)
    b = L.Flatten(name="fb")(L.AveragePooling2D(2, name="p2")(b))
    h = L.Concatenate(name="cat")([a, b])
    d1 = L.Activation("relu", name="r1")(L.Dense(12, name="d1")(h))
    d2 = L.Dense(12, name="d2")(h)
    s = L.Add(name="add")([d1, d2])
    logits = L.Dense(5, name="d3")(s)
    outs = [L.Activation("softmax", name="sm")(logits), L.Activation("sigmoid", name="sig")(s)]
    model = keras.Model([a_in, b_in], outs)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0.0, 0.4, w.shape) for w in layer.get_weights()])
    return model


def _config(narrow: bool) -> dict:
    names: dict = {
        "c2": {"Strategy": "Resource", "ReuseFactor": 3},
        "d2": {"Strategy": "Resource", "ReuseFactor": 4},
    }
    default = "ap_fixed<32,12>"
    if narrow:
        default = "ap_fixed<10,4,AP_RND,AP_SAT>"
        names["in1d"] = {"Precision": {"result": "ap_fixed<8,3,AP_RND>"}}
        names["in2d"] = {"Precision": {"result": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}}
        names["c1"] = {"Precision": {"accum": "ap_fixed<10,4,AP_RND,AP_SAT>"}}
        names["c2"]["Precision"] = {"accum": "ap_fixed<9,3,AP_RND_INF,AP_SAT>"}
        names["p2"] = {"Precision": {"accum": "ap_fixed<10,3,AP_RND>"}}
        names["d2"]["Precision"] = {"accum": "ap_fixed<10,3,AP_RND,AP_SAT>"}
        names["sm"] = {"Precision": {"result": "ap_ufixed<8,0,AP_RND,AP_SAT>"}}
    return {
        "Model": {"Precision": default, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": names,
    }


NARROW, WIDE = _config(True), _config(False)


def families_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(32)
    xs = [rng.normal(0.0, 1.5, (N, 16, 3)), rng.normal(0.0, 1.5, (N, 8, 8, 2))]
    for x in xs:
        x[3 * N // 4 :] *= 2.0
    return xs


@pytest.fixture(scope="module")
def model() -> object:
    return families_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_vitis_families_match_csim(model: object, config: dict) -> None:
    """Every output and traced layer equals hls4ml's Vitis C simulation, value for value."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_predict, hls_trace

    X = families_inputs()
    em = EmulatedModel(model, config, backend="vitis")
    assert em.graph.backend == "Vitis"
    got, want = em.predict(X), hls_predict(model, config, X, backend="Vitis")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_exact(g, w, f"output {k} ({em.graph.outputs[k]})")
    te, th = em.trace(X), hls_trace(model, config, X, backend="Vitis")
    assert sorted(te) == sorted(th)
    kinds = {em.graph.node(name).kind for name in th}
    assert {"Conv1D", "Conv2D", "Pooling1D", "Pooling2D", "Concatenate", "Dense", "Merge"} <= kinds
    assert {"Activation", "Softmax"} <= kinds
    for name in th:
        assert_exact(te[name], th[name], f"trace {name} ({em.graph.node(name).types})")


def test_an_unknown_backend_is_a_config_error_naming_the_choices() -> None:
    """``backend='Quartus'`` is refused before hls4ml runs, naming Vivado and Vitis."""
    from emulation.hls_nodes import backend_name

    assert backend_name("VITIS") == "Vitis"
    with pytest.raises(
        ConfigError, match=r"'Quartus' is not emulated; expected one of Vivado, Vitis"
    ):
        backend_name("Quartus")
