"""``Strategy: ResourceUnrolled`` against hls4ml's C simulation.

hls4ml 1.3 generates one function per Dense layer (``GenerateUnrolledDenseResource``) whose
``acc[j] += ...`` lines follow the Resource kernel's loops, so the products are added in the
Resource order (strided for 1 < R < n_in); a Conv in io_parallel falls back to Resource. One
model (Conv1D, then two Dense with R < n_in and R > n_in), a narrow config with saturating
accumulators (where the order matters) and a wide one: two compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.layers.dense import dense, dense_sum_order
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, dense_types, overflowing_inputs

N = 500


def unrolled_model(seed: int = 21) -> object:
    """(13, 4) -> Conv1D ``c1`` (4 filters, kernel 3) -> Flatten -> Dense ``d1`` (20), ``d2``."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((13, 4), name="x_in")
    c1 = keras.layers.Conv1D(4, 3, name="c1")
    h = keras.layers.Flatten(name="flat")(c1(inp))
    d1, d2 = keras.layers.Dense(20, name="d1"), keras.layers.Dense(10, name="d2")
    model = keras.Model(inp, d2(d1(h)))
    for layer, scale in ((c1, 0.5), (d1, 0.25), (d2, 0.4)):
        w, b = layer.get_weights()
        layer.set_weights([rng.uniform(-scale, scale, w.shape), rng.normal(0.0, 0.3, b.shape)])
    return model


def _config(narrow: bool) -> dict:
    unrolled = {"c1": 3, "d1": 4, "d2": 40}  # d1: R < n_in = 44; d2: R > n_in = 20
    names: dict = {
        k: {"Strategy": "ResourceUnrolled", "ReuseFactor": r} for k, r in unrolled.items()
    }
    default = "ap_fixed<32,12>"
    if narrow:
        default = "ap_fixed<10,4,AP_RND,AP_SAT>"
        names["x_in"] = {"Precision": {"result": "ap_fixed<8,3,AP_RND,AP_SAT>"}}
        names["c1"]["Precision"] = {"accum": "ap_fixed<9,3,AP_RND_INF,AP_SAT>"}
        names["d1"]["Precision"] = {
            "weight": "ap_fixed<8,1,AP_RND_CONV>",
            "accum": "ap_fixed<9,2,AP_RND,AP_SAT>",
            "result": "ap_fixed<10,3,AP_TRN_ZERO,AP_SAT>",
        }
        names["d2"]["Precision"] = {"accum": "ap_fixed<8,1,AP_RND_INF,AP_SAT_SYM>"}
    return {
        "Model": {"Precision": default, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": names,
    }


NARROW, WIDE = _config(True), _config(False)


@pytest.fixture(scope="module")
def model() -> object:
    return unrolled_model()


def test_unrolled_sum_order_is_the_resource_order() -> None:
    """ResourceUnrolled visits 0, R, 2R, ..., 1, 1 + R, ... for 1 < R < n_in, else in order."""
    assert dense_sum_order(8, "resource_unrolled", 4).tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    assert dense_sum_order(6, "resource_unrolled", 6) is None
    assert dense_sum_order(6, "resource_unrolled", 12) is None


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_resource_unrolled_matches_csim(model: object, config: dict) -> None:
    """Conv1D and two Dense under ResourceUnrolled: outputs and every traced layer are exact."""
    em, _, th = assert_equal_to_csim(
        model, config, overflowing_inputs(22, (N, 13, 4)), same_layers=True
    )
    strategies = {n: em.graph.node(n).attrs["strategy"] for n in ("c1", "d1", "d2")}
    # hls4ml keeps the unrolled Dense kernels and turns the io_parallel conv into Resource
    assert strategies == {"c1": "resource", "d1": "resource_unrolled", "d2": "resource_unrolled"}
    assert em.graph.node("d1").attrs["reuse_factor"] == 4
    if config is NARROW:
        # the order is what makes it exact: the natural order misses the C simulation
        node = em.graph.node("d1")
        kw = dense_types(node)
        x = th["flat"].reshape(N, -1) if "flat" in th else th["c1"].reshape(N, -1)
        w, b = node.weights["weight"].T, node.weights["bias"]
        assert not np.array_equal(dense(x, w, b, order=None, **kw), th["d1"])
