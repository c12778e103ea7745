"""emulation.layers.dense: the value-based float64 bound (sums that only their values prove
exact in float64), at the 2^53 edge, against the integer path and the C simulation."""

from __future__ import annotations

import numpy as np
import pytest

import emulation.layers.dense as dense_mod
from emulation import EmulatedModel
from emulation.fixed import FixedType
from emulation.layers.base import Context
from emulation.layers.dense import dense
from emulation.layers.dense_int import column_max_abs
from tests.conftest import requires_gxx
from tests.support.dense_cases import B_T, reference_dense
from tests.support.hls import hls_predict, mismatch_report
from tests.support.models import inputs, mlp

# ------------------------------------------------------------- value-based float exactness
INT54 = FixedType(54, 54)  # integers of 54 bits: no type-only proof of float exactness


def _edge(total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sample whose three products (weights 1) sum to ``total`` near 2^53."""
    half = 1 << 52
    x = np.array([[half, total - half - 1, 1]], dtype=np.float64)
    return x, np.ones((3, 1)), np.zeros(1)


@pytest.mark.parametrize("total", [(1 << 53) - 1, 1 << 53, (1 << 53) + 1])
def test_value_bound_at_the_2_to_53_edge(total):
    """The value bound proves float64 exact exactly below 2^53 and never at or past it; past it
    a float64 matmul rounds 2^53 + 1 to 2^53 and the 54-bit wrap would differ."""
    x, w, b = _edge(total)
    w_t = FixedType(2, 2)
    assert dense_mod._float_exact(column_max_abs(x), w, b, INT54, w_t, INT54) == (total < 1 << 53)
    got = dense(x, w, b, x_t=INT54, w_t=w_t, b_t=INT54, accum_t=INT54, result_t=INT54)
    wrapped = (total + (1 << 53)) % (1 << 54) - (1 << 53)  # the C++ accumulator, exactly
    assert got[0, 0] == float(wrapped), (got[0, 0], wrapped)


def test_value_bound_refuses_products_past_53_bits():
    """A single product of 2^53 (mantissas 2^27 x 2^26) is refused even with a wide accumulator."""
    x = np.array([[float(1 << 27)]])
    w = np.array([[float(1 << 26)]])
    assert not dense_mod._float_exact(
        column_max_abs(x), w, np.zeros(1), INT54, FixedType(28, 28), INT54
    )
    assert dense_mod._float_exact(
        column_max_abs(x), w / 2, np.zeros(1), INT54, FixedType(28, 28), INT54
    )


# wide types no type-only rule proves exact in float64, whose values do: an exact-product
# accumulator of 56 bits (matmul) and 58-bit products rounded into a saturating one
WIDE_VALUES = [
    (FixedType.parse("ap_fixed<20,6>"), FixedType.parse("ap_fixed<32,1>"), "ap_fixed<56,11>"),
    (
        FixedType.parse("ap_fixed<24,8>"),
        FixedType.parse("ap_fixed<34,2>"),
        "ap_fixed<40,6,AP_RND,AP_SAT>",
    ),
    (
        FixedType.parse("ap_fixed<24,8>"),
        FixedType.parse("ap_fixed<34,2>"),
        "ap_fixed<30,3,AP_RND_CONV>",
    ),
]


@pytest.mark.parametrize(("x_t", "w_t", "accum"), WIDE_VALUES)
def test_value_bound_float_path_equals_integer_path(x_t, w_t, accum, dense_kernel, monkeypatch):
    """Where only the values prove float64 exact, the float path gives the integer path's values
    and overflow counts, and the literal C++ loop's values."""
    rng = np.random.default_rng(7)
    x = x_t.quantize(rng.normal(0, 3, (400, 24)))
    w = w_t.quantize(rng.uniform(-0.4, 0.4, (24, 9)))
    b = B_T.quantize(rng.normal(0, 1, 9))
    accum_t, result_t = FixedType.parse(accum), FixedType.parse("ap_fixed<16,6>")
    assert dense_mod._float_exact(column_max_abs(x), w, b, x_t, w_t, accum_t)
    kw = {"x_t": x_t, "w_t": w_t, "b_t": B_T, "accum_t": accum_t, "result_t": result_t}
    ctx_f, ctx_i = Context(), Context()
    fast = dense(x, w, b, ctx=ctx_f, **kw)
    monkeypatch.setattr(dense_mod, "_float_exact", lambda *a: False)
    slow = dense(x, w, b, ctx=ctx_i, **kw)
    assert np.array_equal(fast, slow), mismatch_report(fast, slow)
    assert ctx_f.points == ctx_i.points
    expected = reference_dense(x, w, b, accum_t, result_t)
    assert np.array_equal(fast, expected), mismatch_report(fast, expected)


# 16-24-8, Latency: wide types whose sums only the values prove exact in float64
WIDE = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<20,6>"}},
        # 52-bit products kept whole by a 56-bit accumulator: one matmul
        "d1": {
            "Precision": {
                "weight": "ap_fixed<32,1>",
                "accum": "ap_fixed<56,11>",
                "result": "ap_fixed<24,8>",
            }
        },
        # 58-bit products rounded into a saturating accumulator: every product cast
        "d2": {
            "Precision": {
                "weight": "ap_fixed<34,2>",
                "accum": "ap_fixed<40,6,AP_RND,AP_SAT>",
                "result": "ap_fixed<18,6,AP_RND,AP_SAT>",
            }
        },
    },
}


@requires_gxx
@pytest.mark.csim
def test_value_bound_float_path_equals_c_simulation(monkeypatch):
    """Both layers take the float64 path only their values prove exact, and equal hls4ml."""
    model, X = mlp([16, 24, 8], seed=3), inputs(1000, 16)
    proven = []
    real = dense_mod._float_exact

    def spy(x_max, w, b, x_t, w_t, accum_t):
        n = x_max.shape[0] + 1
        types_only = max(
            dense_mod.product_type(x_t, w_t).width,
            dense_mod.accumulate_type(accum_t, n).width,
        )
        ok = real(x_max, w, b, x_t, w_t, accum_t)
        proven.append(ok and types_only > dense_mod._FLOAT_BITS)
        return ok

    monkeypatch.setattr(dense_mod, "_float_exact", spy)
    got = EmulatedModel(model, WIDE).predict(X)
    assert proven == [True, True]
    expected = hls_predict(model, WIDE, X)
    assert np.array_equal(got, expected), mismatch_report(got, expected, inputs=X)
