"""EinsumDense as hls4ml lowers it (transposes around one DenseLatency per slice), against the
C simulation: free data axes, a contraction over two axes, an in-place axis, and transposes of
the input and of the output; a narrow config (accumulators narrower than the products,
saturating) and a wide one: two compiles."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, overflowing_inputs

EQUATIONS = {
    "e_free": ("abc,cd->abd", (3, 4), "d"),
    "e_contract2": ("abc,bce->ae", (6,), "e"),
    "e_inplace": ("abc,cb->ab", (3,), None),
    "e_tpose_in": ("abc,bd->acd", (5, 4), "d"),
    "e_tpose_out": ("abc,cd->adb", (4, 3), "d"),
}


def einsum_model(seed: int = 51) -> object:
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((3, 5), name="x_in")
    outs = []
    for name, (eq, shape, bias) in EQUATIONS.items():
        layer = keras.layers.EinsumDense(eq, output_shape=shape, bias_axes=bias, name=name)
        outs.append(layer(inp))
        layer.set_weights([rng.normal(0.0, 0.6, w.shape) for w in layer.get_weights()])
    return keras.Model(inp, outs)


NARROW = {
    "Model": {"Precision": "ap_fixed<10,4,AP_RND,AP_SAT>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<8,3,AP_RND>"}},
        **{
            name: {
                "Precision": {
                    "weight": "ap_fixed<7,2,AP_RND>",
                    "accum": "ap_fixed<9,4,AP_RND,AP_SAT>",
                }
            }
            for name in EQUATIONS
        },
    },
}
WIDE = {"Model": {"Precision": "ap_fixed<32,12>", "ReuseFactor": 1, "Strategy": "Latency"}}


@pytest.fixture(scope="module")
def model() -> object:
    return einsum_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_einsum_dense_matches_csim(model: object, config: dict) -> None:
    """Five EinsumDense equations: every output and traced layer equals the C simulation."""
    em, _, _ = assert_equal_to_csim(
        model, config, overflowing_inputs(52, (400, 3, 5)), same_layers=True
    )
    nodes = {n: em.graph.node(n).attrs for n in EQUATIONS}
    assert nodes["e_inplace"]["n_inplace"] == 3
    assert nodes["e_tpose_in"]["inp_tpose_idxs"] != [0, 1]
    assert nodes["e_tpose_out"]["out_tpose_idxs"] != [0, 1]
    if config is NARROW:
        assert any(em.overflows[f"{n}.accum_t"].count for n in EQUATIONS)
