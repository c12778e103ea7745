"""LayerNormalization (``nnet_layernorm.h``: accum_t sums in order, the 1/sqrt table, the exact
final product) against hls4ml's C simulation: a narrow config (saturating accumulator, a
small table) and hls4ml's defaults widened: two compiles."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim


def layernorm_model(seed: int = 61) -> object:
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((4, 6), name="x_in")
    ln = keras.layers.LayerNormalization(axis=2, name="ln")
    model = keras.Model(inp, ln(inp))
    ln.set_weights([rng.uniform(0.5, 2.0, 6), rng.normal(0.0, 0.5, 6)])
    return model


NARROW = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "ln": {
            "Precision": {
                "accum": "ap_fixed<14,5,AP_RND,AP_SAT>",
                "result": "ap_fixed<10,3,AP_RND_CONV,AP_SAT>",
                "scale": "ap_fixed<8,2,AP_RND>",
            },
            "table_t": "ap_ufixed<10,5,AP_RND,AP_SAT>",
            "TableSize": 1024,
        },
    },
}
WIDE = {"Model": {"Precision": "ap_fixed<32,12>", "ReuseFactor": 1, "Strategy": "Latency"}}


def layernorm_inputs(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(62)
    X = rng.normal(0.0, 1.0, (n, 4, 6)) * rng.uniform(0.05, 3.0, (n, 4, 1))
    X[3 * n // 4 :] *= 2.0
    return X


@pytest.fixture(scope="module")
def model() -> object:
    return layernorm_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_layernorm_matches_csim(model: object, config: dict) -> None:
    """Rows of small and large variance: the normalised outputs equal the C simulation."""
    em, te, _ = assert_equal_to_csim(model, config, layernorm_inputs(), same_layers=True)
    assert em.graph.node("ln").kind == "LayerNormalization"
    assert np.unique(te["ln"]).size > 50
