"""Accumulators narrower than their products (the tuner's accumulator trials): every product
leaves accum_t's range on its own often, and the emulator still takes its int64 kernels (the
compiled loop where numba is), bit for bit against hls4ml's C simulation."""

from __future__ import annotations

import numpy as np
import pytest

from emulation import EmulatedModel
from emulation.layers import dense_compiled, dense_wide
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim
from tests.support.models import inputs, mlp

# 16-32-32-8-4, linear: k = Fx + Fw - F_acc bits dropped from each product (17, 18, 11, -1)
NARROW = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        # rounded and saturated, strided (Resource) order
        "d1": {
            "Strategy": "Resource",
            "ReuseFactor": 4,
            "Precision": {"accum": "ap_fixed<5,2,AP_RND,AP_SAT>"},
        },
        # one bit, wrapping: the deep jet MLP's trial that was 10x slower
        "d2": {"Precision": {"accum": "ap_fixed<1,-1>"}},
        # unsigned, to zero: every negative product overflows
        "d3": {"Precision": {"accum": "ap_ufixed<6,-3,AP_RND_CONV,AP_SAT_ZERO>"}},
        # more fractional bits than the products (k < 0), symmetric saturation
        "d4": {
            "Precision": {"weight": "ap_fixed<16,1>", "accum": "ap_fixed<20,-6,AP_TRN,AP_SAT_SYM>"}
        },
    },
}


@pytest.fixture(scope="module")
def narrow_case():
    return mlp([16, 32, 32, 8, 4], seed=0), NARROW, inputs(1000, 16)


def test_products_leave_every_accumulator_and_take_the_int64_kernels(narrow_case, monkeypatch):
    """Each layer's products leave its accumulator's range (a share of them), and each layer
    goes through `dense_wide.rounded_sums` (compiled where numba is), none through the float64
    per-product casts."""
    model, cfg, X = narrow_case
    calls: list[bool] = []
    real = dense_wide.rounded_sums

    def spy(*a, **kw):
        calls.append(dense_compiled.supports(a[5]))
        return real(*a, **kw)

    monkeypatch.setattr(dense_wide, "rounded_sums", spy)
    em = EmulatedModel(model, cfg)
    trace = em.trace(X)
    assert calls == [dense_compiled.available] * 4
    for node in (n for n in em.nodes if n.kind == "Dense"):
        x = trace.get(node.inputs[0], X)
        w = node.weights["weight"]
        w = (w.T if node.attrs.get("_weights_transposed") else w).reshape(x.shape[1], -1)
        prods = x[:, :, None] * w[None]
        accum_t = node.types["accum_t"]
        share = np.mean((prods > accum_t.max) | (prods < accum_t.min))
        assert share > 0.04, (node.name, share)
        assert em.overflows[f"{node.name}.accum_t"].count > 0


@requires_gxx
@pytest.mark.csim
def test_narrow_accumulators_equal_c_simulation(narrow_case):
    """trace() and predict() equal hls4ml's C simulation, layer by layer."""
    assert_equal_to_csim(*narrow_case)
