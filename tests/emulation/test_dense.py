"""emulation.layers.dense: the Dense templates bit for bit against the C simulation (the unit
tests are in ``test_dense_unit.py``, the value-based float bound in ``test_dense_values.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import emulation.hls_nodes
from emulation import EmulatedModel
from emulation.layers.base import Context
from emulation.layers.dense import dense, dense_adapter, dense_sum_order
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report
from tests.support.models import inputs, mlp

# ---------------------------------------------------------------------------- C simulation
# 16-32-32-8-4, Latency: every hard case of the types.
HARD = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        # 6-bit weights written with 3 decimals: weights rounded twice; 'auto' accum and result
        "d1": {"Precision": {"weight": "ap_fixed<6,3>", "result": "auto", "accum": "auto"}},
        # 27-bit inputs: products rounded to an accumulator with negative integer bits in the
        # weights and bias, wrap with saturation bits, symmetric saturation of the result
        "d2": {
            "Precision": {
                "weight": "ap_fixed<8,-1>",
                "bias": "ap_fixed<8,-2,AP_RND_MIN_INF>",
                "accum": "ap_fixed<12,4,AP_TRN,AP_WRAP,2>",
                "result": "ap_fixed<10,2,AP_RND_CONV,AP_SAT_SYM>",
            }
        },
        # 10-bit inputs x 54-bit weights: 64-bit products (Python ints), cast to a narrow
        # rounding, saturating accumulator; unsigned saturating result
        "d3": {
            "Precision": {
                "weight": "ap_fixed<54,5,AP_RND>",
                "accum": "ap_fixed<11,3,AP_RND,AP_SAT>",
                "result": "ap_ufixed<8,2,AP_RND_INF,AP_SAT>",
            }
        },
        # integer weights (ap_int), SAT_ZERO accumulator, wrapping result with I < 0
        "d4": {
            "Precision": {
                "weight": "ap_int<4>",
                "accum": "ap_fixed<9,5,AP_RND_ZERO,AP_SAT_ZERO>",
                "result": "ap_fixed<8,-1,AP_RND,AP_WRAP>",
            }
        },
    },
}

# 100-20-10, Resource: strided sums (R = 4 < n_in) and R = 40 > n_in, both saturating.
RESOURCE = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<8,3,AP_RND,AP_SAT>"}},
        "d1": {
            "Strategy": "Resource",
            "ReuseFactor": 4,
            "Precision": {
                "weight": "ap_fixed<8,1,AP_RND_CONV>",
                "accum": "ap_fixed<9,2,AP_RND,AP_SAT>",
                "result": "ap_fixed<10,3,AP_TRN_ZERO,AP_SAT>",
            },
        },
        "d2": {
            "Strategy": "Resource",
            "ReuseFactor": 40,
            "Precision": {
                "accum": "ap_fixed<8,1,AP_RND_INF,AP_SAT_SYM>",
                "result": "ap_fixed<12,4>",
            },
        },
    },
}


@pytest.fixture(scope="module")
def hard_case():
    return mlp([16, 32, 32, 8, 4], seed=0), HARD, inputs(1000, 16)


@pytest.fixture(scope="module")
def resource_case():
    return mlp([100, 20, 10], seed=5), RESOURCE, inputs(1000, 100, spread=1.5)


_RUNS: dict[str, tuple] = {}


def _run(case: str, request) -> tuple:
    """(model, cfg, X, emulator, predict, overflows after predict, trace), once per case."""
    if case not in _RUNS:
        model, cfg, X = request.getfixturevalue(case)
        em = EmulatedModel(model, cfg)
        y = em.predict(X)
        _RUNS[case] = (model, cfg, X, em, y, em.overflows, em.trace(X))
    return _RUNS[case]


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("case", ["hard_case", "resource_case"])
def test_predict_equals_c_simulation(case, request):
    """predict() equals hls4ml's C simulation on 1,000 samples, value for value."""
    model, cfg, X, _, got, _, _ = _run(case, request)
    expected = hls_predict(model, cfg, X)
    assert np.array_equal(got, expected), mismatch_report(got, expected, inputs=X)


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("case", ["hard_case", "resource_case"])
def test_trace_equals_c_simulation(case, request):
    """trace() equals hls4ml's trace, layer by layer."""
    model, cfg, X, em, _, _, got = _run(case, request)
    expected = hls_trace(model, cfg, X)
    assert set(got) == set(expected)
    for name in expected:
        types = dict(em.graph.node(name).types)
        assert np.array_equal(got[name], expected[name]), f"layer {name}: " + mismatch_report(
            got[name], expected[name], inputs=X, types=types
        )


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize(
    ("case", "points"),
    [
        ("hard_case", ["d2.accum_t", "d2.result_t", "d3.accum_t", "d3.result_t", "d4.result_t"]),
        ("resource_case", ["x_in.result_t", "d1.accum_t", "d2.accum_t"]),
    ],
)
def test_the_hard_cases_really_overflow(case, points, request):
    """The configs exercise what they claim: wrapped and saturated accumulators and results."""
    overflows = _run(case, request)[5]
    assert all(overflows[p].count > 0 for p in points), {p: overflows[p] for p in points}


@requires_gxx
@pytest.mark.csim
def test_resource_sums_in_strided_order(resource_case):
    """With a saturating accumulator only the strided order reproduces Resource, R = 4."""
    model, cfg, X = resource_case
    node = EmulatedModel(model, cfg).graph.node("d1")
    expected = hls_trace(model, cfg, X)["d1"]
    x = node.input_types[0].quantize(X)
    kw = {
        "x_t": node.input_types[0],
        "w_t": node.types["weight_t"],
        "b_t": node.types["bias_t"],
        "accum_t": node.types["accum_t"],
        "result_t": node.types["result_t"],
    }
    w, b = node.weights["weight"].T, node.weights["bias"]
    strided = dense(x, w, b, order=dense_sum_order(100, "resource", 4), **kw)
    natural = dense(x, w, b, order=None, **kw)
    assert np.array_equal(strided, expected), mismatch_report(strided, expected)
    assert not np.array_equal(natural, expected)


@requires_gxx
@pytest.mark.csim
def test_weights_are_rounded_twice(hard_case, monkeypatch):
    """Q(text(w)) reproduces the C simulation of d1; Q(w) alone does not."""
    model, cfg, X = hard_case
    expected = hls_trace(model, cfg, X)["d1"]

    def first_dense(em: EmulatedModel) -> np.ndarray:
        node = em.graph.node("d1")
        x = node.input_types[0].quantize(X)
        return dense_adapter(node, [x], Context())

    twice = first_dense(EmulatedModel(model, cfg))
    monkeypatch.setattr(
        emulation.hls_nodes, "decimal_text_values", lambda data, digits: np.asarray(data, float)
    )
    once = first_dense(EmulatedModel(model, cfg))
    assert np.array_equal(twice, expected), mismatch_report(twice, expected)
    assert not np.array_equal(once, expected)
