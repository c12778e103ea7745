"""`emulation.layers.merge` against hand-computed cases and hls4ml's C simulation.

One seeded model with three inputs of different types feeds every merge operation hls4ml
supports (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate on each axis, Dot),
with result types that round, wrap and saturate, and one Add whose second input is repeated
(``data2[i % n_elem2]``). Compiled once: ``predict`` and every layer's trace equal.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers.merge import concatenate, dot, merge
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report

T = FixedType.parse
N_SAMPLES = 300


# ===================================================================== 1. without a compiler
def test_average_is_the_exact_half_sum_then_one_cast() -> None:
    """(a + b) * 0.5 is exact; only the cast to result_t rounds (here RND: up on the tie)."""
    t = T("ap_fixed<8,4>")
    a, b = np.array([[0.0625]]), np.array([[0.0]])  # half of one LSB of ap_fixed<8,4>
    y = merge("average", a, b, a_t=t, b_t=t, result_t=T("ap_fixed<8,4,AP_RND>"))
    assert y.tolist() == [[0.0625]]
    y = merge("average", a, b, a_t=t, b_t=t, result_t=t)
    assert y.tolist() == [[0.0]]


def test_smaller_input_is_repeated_flat() -> None:
    """A 3-element input added to a 6-element one repeats as data2[i % 3]."""
    t = T("ap_fixed<16,8>")
    a = np.arange(6.0).reshape(1, 2, 3)
    b = np.array([[10.0, 20.0, 30.0]])
    y = merge("add", a, b, a_t=t, b_t=t, result_t=t)
    assert y.tolist() == [[10.0, 21.0, 32.0, 13.0, 24.0, 35.0]]


def test_wide_products_are_cast_exactly() -> None:
    """A 60-bit product, beyond float64, rounds as the C++ does (via integer mantissas)."""
    a_t, b_t = T("ap_fixed<30,2>"), T("ap_fixed<30,2>")
    a = np.array([[1.0 + 2.0**-28]])
    b = np.array([[1.0 - 2.0**-28]])  # a * b = 1 - 2^-56: rounds to 1.0 only with RND
    assert merge(
        "multiply", a, b, a_t=a_t, b_t=b_t, result_t=T("ap_fixed<40,2,AP_RND>")
    ).tolist() == [[1.0]]
    assert merge("multiply", a, b, a_t=a_t, b_t=b_t, result_t=T("ap_fixed<40,2>")).tolist() == [
        [1.0 - 2.0**-38]
    ]


def test_dot_saturates_step_by_step() -> None:
    """dot1d adds products one at a time: 3 + 3 saturates at 3.875, then - 3 gives 0.875."""
    t, acc = T("ap_fixed<8,4>"), T("ap_fixed<6,3,AP_TRN,AP_SAT>")
    a, b = np.array([[3.0, 3.0, -3.0]]), np.array([[1.0, 1.0, 1.0]])
    y = dot(a, b, a_t=t, b_t=t, accum_t=acc, result_t=t)
    assert y.tolist() == [[0.875]]


def test_concatenate_casts_both_inputs() -> None:
    """Concatenate assigns every value to result_t (here it wraps 5.0 to -3.0)."""
    a, b = np.array([[1.0, 5.0]]), np.array([[2.0]])
    assert concatenate(a, b, -1, result_t=T("ap_fixed<4,3>")).tolist() == [[1.0, -3.0, 2.0]]


def test_unknown_merge_op_is_refused() -> None:
    """An op hls4ml's Merge does not have raises UnsupportedLayerError naming the supported."""
    t = T("ap_fixed<8,4>")
    with pytest.raises(UnsupportedLayerError, match="add, subtract"):
        merge("power", np.zeros((1, 1)), np.zeros((1, 1)), a_t=t, b_t=t, result_t=t)


# ========================================================================= 2. C simulation
def _merge_model() -> object:
    """Three inputs feeding every merge kind; names are referred to by the config below."""
    import keras

    a = keras.Input((4, 3), name="in_a")
    b = keras.Input((4, 3), name="in_b")
    c = keras.Input((3,), name="in_c")
    L = keras.layers
    outs = [
        L.Add(name="add")([a, b]),
        L.Subtract(name="sub")([a, b]),
        L.Multiply(name="mul")([a, b]),
        L.Average(name="avg")([a, b]),
        L.Maximum(name="max")([a, b]),
        L.Minimum(name="min")([a, b]),
        L.Add(name="add_repeat")([a, L.Reshape((1, 3), name="c_row")(c)]),
        L.Concatenate(axis=1, name="cat_rows")([a, b]),
        L.Concatenate(axis=-1, name="cat_cols")([a, b]),
        L.Dot(axes=1, name="dot")([L.Flatten(name="fa")(a), L.Flatten(name="fb")(b)]),
    ]
    a3 = L.Reshape((2, 2, 3), name="a3")(a)
    b3 = L.Reshape((2, 2, 3), name="b3")(b)
    outs.append(L.Concatenate(axis=2, name="cat_mid")([a3, b3]))
    return keras.Model([a, b, c], outs)


MERGE_CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in_a": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "in_b": {"Precision": {"result": "ap_fixed<9,3,AP_RND_CONV,AP_SAT>"}},
        "in_c": {"Precision": {"result": "ap_ufixed<8,2>"}},
        "add": {"Precision": {"result": "ap_fixed<8,4,AP_RND,AP_SAT>"}},
        "sub": {"Precision": {"result": "ap_fixed<7,3>"}},
        "mul": {"Precision": {"result": "ap_fixed<9,4,AP_RND_ZERO,AP_SAT_SYM>"}},
        "avg": {"Precision": {"result": "ap_fixed<6,3,AP_RND_INF>"}},
        "max": {"Precision": {"result": "ap_fixed<6,2,AP_RND_MIN_INF,AP_SAT>"}},
        "min": {"Precision": {"result": "ap_fixed<6,2,AP_TRN_ZERO>"}},
        "add_repeat": {"Precision": {"result": "ap_fixed<8,3,AP_RND>"}},
        "cat_rows": {"Precision": {"result": "ap_fixed<7,3,AP_RND,AP_SAT>"}},
        "cat_cols": {"Precision": {"result": "auto"}},
        "cat_mid": {"Precision": {"result": "ap_fixed<6,3>"}},
        "dot": {
            "Precision": {
                "accum": "ap_fixed<9,5,AP_RND,AP_SAT>",
                "result": "ap_fixed<8,5,AP_RND_CONV>",
            }
        },
    },
}


def _merge_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(31)
    xa = rng.normal(0.0, 2.0, (N_SAMPLES, 4, 3))
    xb = rng.normal(0.0, 2.0, (N_SAMPLES, 4, 3))
    xc = rng.uniform(0.0, 4.5, (N_SAMPLES, 3))
    for x in (xa, xb):
        x[3 * N_SAMPLES // 4 :] *= 2.0
    return [xa, xb, xc]


@pytest.fixture(scope="module")
def merge_run() -> tuple[object, object, list[np.ndarray]]:
    from emulation.model import EmulatedModel

    model = _merge_model()
    return model, EmulatedModel(model, MERGE_CONFIG), _merge_inputs()


@requires_gxx
@pytest.mark.csim
def test_merge_model_predict_is_bit_exact(merge_run) -> None:
    """Every output of the merge model equals hls4ml's C simulation."""
    model, em, X = merge_run
    got, want = em.predict(X), hls_predict(model, MERGE_CONFIG, X)
    for g, w in zip(got, want, strict=True):
        g = g.reshape(w.shape)
        assert np.array_equal(g, w), mismatch_report(g, w)


@requires_gxx
@pytest.mark.csim
def test_merge_model_trace_is_bit_exact(merge_run) -> None:
    """Every merge layer's output equals hls4ml's trace of the same layer."""
    model, em, X = merge_run
    got, want = em.trace(X), hls_trace(model, MERGE_CONFIG, X)
    assert {"add", "mul", "dot", "cat_mid", "add_repeat"} <= set(want)
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        types = em.graph.node(name).types
        assert np.array_equal(g, w), f"{name}: " + mismatch_report(g, w, types=types)
