"""emulation.layers.dense: the Dense templates bit for bit (unit tests, then C simulation)."""

from __future__ import annotations

import numpy as np
import pytest

import emulation.hls_nodes
import emulation.layers.dense as dense_mod
from emulation import EmulatedModel
from emulation.fixed import FixedType
from emulation.layers import dense_compiled, dense_int
from emulation.layers.base import Context
from emulation.layers.dense import dense, dense_adapter, dense_sum_order
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report
from tests.support.models import inputs, mlp

X_T = FixedType.parse("ap_fixed<10,4>")
W_T = FixedType.parse("ap_fixed<8,1>")
B_T = FixedType.parse("ap_fixed<8,3>")


def _operands(seed: int, batch: int = 300, n_in: int = 24, n_out: int = 7):
    """Exact random values of X_T, W_T and B_T."""
    rng = np.random.default_rng(seed)
    x = X_T.quantize(rng.normal(0, 3, (batch, n_in)))
    w = W_T.quantize(rng.normal(0, 0.5, (n_in, n_out)))
    b = B_T.quantize(rng.normal(0, 1, n_out))
    return x, w, b


def _reference(x, w, b, accum_t, result_t, order=None):
    """The C++ loop written out literally: one product, one cast and one sum at a time."""
    acc = np.broadcast_to(accum_t.quantize(b), (x.shape[0], w.shape[1])).copy()
    for i in range(x.shape[1]) if order is None else order:
        acc = accum_t.quantize(acc + accum_t.quantize(x[:, i, None] * w[None, i, :]))
    return result_t.quantize(acc)


# ------------------------------------------------------------------------------- unit tests
def test_sum_order_is_strided_only_for_resource_between_1_and_n_in():
    """Resource with 1 < R < n_in visits 0, R, 2R, ..., 1, 1 + R, ...; all else is natural."""
    assert dense_sum_order(8, "resource", 4).tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    assert dense_sum_order(6, "Resource", 2).tolist() == [0, 2, 4, 1, 3, 5]
    for strategy, r in (("latency", 4), ("resource", 1), ("resource", 8), ("resource", 16)):
        assert dense_sum_order(8, strategy, r) is None


@pytest.mark.parametrize("shape", [(1, 3), (2, 1), (7, 4), (4097, 16), (1000, 64), (33, 65)])
def test_column_max_abs_equals_the_plain_reduction(shape):
    """Halving the rows (few columns) or reducing along them: max |x_i| per column."""
    x = np.random.default_rng(shape[0]).normal(0, 3, shape)
    x[-1, 0] = -50.0  # the odd row left over by a halving holds a column's extreme
    assert np.array_equal(dense_mod.column_max_abs(x), np.abs(x).max(axis=0))


ACCUMULATORS = [
    "ap_fixed<30,10>",  # keeps every product bit, wraps: one matmul
    "ap_fixed<18,5,AP_TRN,AP_SAT>",  # keeps every bit, saturates: matmul, then the late ones
    "ap_fixed<18,5,AP_TRN,AP_WRAP,1>",  # the same with a non-modular wrap
    "ap_fixed<12,5,AP_RND>",  # rounds each product, wraps
    "ap_fixed<11,4,AP_RND_CONV,AP_SAT>",  # rounds and saturates: C++ order
    "ap_fixed<10,3,AP_TRN,AP_WRAP,2>",  # wraps with saturation bits: not modular
    "ap_ufixed<10,4,AP_RND_ZERO,AP_SAT_ZERO>",
    "ap_fixed<9,-1,AP_RND_MIN_INF,AP_SAT_SYM>",
    "ap_fixed<12,5>",  # truncates each product, wraps: a uniform config's default
]


@pytest.fixture(
    params=[
        "numpy",
        pytest.param(
            "numba",
            marks=pytest.mark.skipif(not dense_compiled.available, reason="numba not installed"),
        ),
    ]
)
def kernel(request, monkeypatch) -> str:
    """Rounded products through the NumPy reference blocks or the compiled loop."""
    monkeypatch.setattr(dense_compiled, "enabled", request.param == "numba")
    return request.param


def _cols(x):
    """What the bounds read of the inputs: the largest |x_i| over the batch."""
    return dense_mod.column_max_abs(x)


def _call(x, w, b, accum, order=None, ctx=None):
    accum_t = FixedType.parse(accum)
    result_t = FixedType.parse("ap_fixed<9,3,AP_RND,AP_SAT>")
    kw = {"x_t": X_T, "w_t": W_T, "b_t": B_T, "accum_t": accum_t, "result_t": result_t}
    return dense(x, w, b, order=order, ctx=ctx, **kw), accum_t, result_t


@pytest.mark.parametrize("accum", ACCUMULATORS)
def test_dense_equals_the_literal_cpp_loop(accum, kernel):
    """Every path of dense() equals the literal loop of casts, for every overflow kind."""
    x, w, b = _operands(1)
    order = dense_sum_order(x.shape[1], "resource", 4)
    got, accum_t, result_t = _call(x, w, b, accum, order)
    expected = _reference(x, w, b, accum_t, result_t, order)
    assert np.array_equal(got, expected), mismatch_report(got, expected, types=accum)


@pytest.mark.parametrize("accum", ACCUMULATORS)
def test_integer_path_equals_float_path(accum, kernel, monkeypatch):
    """The mantissa path (for types past 53 bits) gives the float64 path's values and counts."""
    x, w, b = _operands(2)
    order = dense_sum_order(x.shape[1], "resource", 3)
    ctx_f, ctx_i = Context(), Context()
    in_float, _, _ = _call(x, w, b, accum, order, ctx_f)
    monkeypatch.setattr(dense_mod, "_FLOAT_BITS", 4)
    in_int, _, _ = _call(x, w, b, accum, order, ctx_i)
    assert np.array_equal(in_int, in_float), mismatch_report(in_int, in_float)
    assert ctx_i.points == ctx_f.points


@pytest.mark.parametrize("accum", ACCUMULATORS[:3])
def test_matmul_equals_casting_every_product(accum, monkeypatch):
    """Where the matmul shortcut applies, casting every product gives the same values."""
    x, w, b = _operands(3)
    assert dense_mod._matmul_ok(_cols(x), w, X_T, W_T, FixedType.parse(accum))
    ctx_fast, ctx_cast = Context(), Context()
    fast, _, _ = _call(x, w, b, accum, None, ctx_fast)
    monkeypatch.setattr(dense_mod, "_matmul_ok", lambda *a: False)
    cast, _, _ = _call(x, w, b, accum, None, ctx_cast)
    assert np.array_equal(fast, cast), mismatch_report(fast, cast)
    assert ctx_fast.points == ctx_cast.points


# accumulators narrower than the products of X_T and W_T (up to 8): most products leave the
# range on their own, as in the tuner's accumulator trials; k = Fx + Fw - F_acc from 13 to -1
PRODUCT_OVERFLOW = [
    "ap_fixed<1,-1>",
    "ap_fixed<4,1>",
    "ap_fixed<5,2,AP_RND,AP_SAT>",
    "ap_fixed<6,2,AP_RND_INF,AP_SAT_SYM>",
    "ap_ufixed<6,2,AP_RND_CONV,AP_SAT_ZERO>",
    "ap_ufixed<6,2,AP_TRN_ZERO>",
    "ap_fixed<15,2,AP_TRN,AP_SAT>",  # k = 0: cast 2 is the overflow mode alone
    "ap_fixed<16,2>",  # k = -1: products taken on accum_t's grid
]


@pytest.mark.parametrize("accum", PRODUCT_OVERFLOW)
def test_products_leaving_the_range_take_the_int64_loop(accum, kernel, monkeypatch):
    """Products that overflow accum_t on their own go through the int64 kernels (the compiled
    loop where numba is) with the values, overflow counts and largest |value| of the float64
    reference that casts every product, and of the literal C++ loop."""
    x, w, b = _operands(7)
    accum_t = FixedType.parse(accum)
    prods = x[:, :, None] * w[None]
    assert np.max(prods) > accum_t.max and np.min(prods) < accum_t.min
    used: list[int] = []
    real = dense_mod.dense_wide.rounded_sums
    monkeypatch.setattr(
        dense_mod.dense_wide, "rounded_sums", lambda *a, **kw: used.append(1) or real(*a, **kw)
    )
    order = dense_sum_order(x.shape[1], "resource", 4)
    ctx, ctx_ref = Context(), Context()
    got, _, result_t = _call(x, w, b, accum, order, ctx)
    assert used
    monkeypatch.setattr(dense_mod, "_ROUNDED_INT", False)
    ref, _, _ = _call(x, w, b, accum, order, ctx_ref)
    assert np.array_equal(got, ref), mismatch_report(got, ref, types=accum)
    assert ctx.points == ctx_ref.points
    assert ctx.points["dense.accum_t"].count > 0
    assert np.array_equal(got, _reference(x, w, b, accum_t, result_t, order))


def test_wide_types_use_python_integers(monkeypatch):
    """Past 62 bits the same code runs on Python ints and gives the int64 answer."""
    x, w, b = _operands(4, batch=50)
    monkeypatch.setattr(dense_mod, "_FLOAT_BITS", 4)
    small, _, _ = _call(x, w, b, ACCUMULATORS[4])
    monkeypatch.setattr(dense_int, "_INT64_BITS", 8)
    wide, _, _ = _call(x, w, b, ACCUMULATORS[4])
    assert np.array_equal(wide, small)


@pytest.mark.parametrize("accum", [ACCUMULATORS[1], ACCUMULATORS[3], ACCUMULATORS[4]])
def test_blocks_bound_memory_without_changing_results(accum, kernel, monkeypatch):
    """Tiny blocks (one sample, one output at a time) give the same values."""
    x, w, b = _operands(5)
    whole, _, _ = _call(x, w, b, accum)
    monkeypatch.setattr(dense_mod, "_BLOCK", 1)
    monkeypatch.setattr(dense_int, "_BLOCK", 1)
    assert np.array_equal(_call(x, w, b, accum)[0], whole)


def test_overflows_are_counted_per_accumulation(kernel):
    """One entry per sample and output; overflowed when a cast changed the running value."""
    x, w, b = _operands(6)
    ctx = Context()
    dense(
        x,
        w,
        b,
        x_t=X_T,
        w_t=W_T,
        b_t=B_T,
        accum_t=FixedType.parse("ap_fixed<10,4,AP_TRN,AP_SAT>"),
        result_t=X_T,
        ctx=ctx,
        point="d",
    )
    acc, res = ctx.points["d.accum_t"], ctx.points["d.result_t"]
    assert acc.total == res.total == x.shape[0] * w.shape[1]
    assert 0 < acc.count < acc.total
    assert acc.max_abs > 8.0  # the accumulator's range is [-8, 8)


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
    assert dense_mod._float_exact(_cols(x), w, b, INT54, w_t, INT54) == (total < 1 << 53)
    got = dense(x, w, b, x_t=INT54, w_t=w_t, b_t=INT54, accum_t=INT54, result_t=INT54)
    wrapped = (total + (1 << 53)) % (1 << 54) - (1 << 53)  # the C++ accumulator, exactly
    assert got[0, 0] == float(wrapped), (got[0, 0], wrapped)


def test_value_bound_refuses_products_past_53_bits():
    """A single product of 2^53 (mantissas 2^27 x 2^26) is refused even with a wide accumulator."""
    x = np.array([[float(1 << 27)]])
    w = np.array([[float(1 << 26)]])
    assert not dense_mod._float_exact(_cols(x), w, np.zeros(1), INT54, FixedType(28, 28), INT54)
    assert dense_mod._float_exact(_cols(x), w / 2, np.zeros(1), INT54, FixedType(28, 28), INT54)


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
def test_value_bound_float_path_equals_integer_path(x_t, w_t, accum, kernel, monkeypatch):
    """Where only the values prove float64 exact, the float path gives the integer path's values
    and overflow counts, and the literal C++ loop's values."""
    rng = np.random.default_rng(7)
    x = x_t.quantize(rng.normal(0, 3, (400, 24)))
    w = w_t.quantize(rng.uniform(-0.4, 0.4, (24, 9)))
    b = B_T.quantize(rng.normal(0, 1, 9))
    accum_t, result_t = FixedType.parse(accum), FixedType.parse("ap_fixed<16,6>")
    assert dense_mod._float_exact(_cols(x), w, b, x_t, w_t, accum_t)
    kw = {"x_t": x_t, "w_t": w_t, "b_t": B_T, "accum_t": accum_t, "result_t": result_t}
    ctx_f, ctx_i = Context(), Context()
    fast = dense(x, w, b, ctx=ctx_f, **kw)
    monkeypatch.setattr(dense_mod, "_float_exact", lambda *a: False)
    slow = dense(x, w, b, ctx=ctx_i, **kw)
    assert np.array_equal(fast, slow), mismatch_report(fast, slow)
    assert ctx_f.points == ctx_i.points
    expected = _reference(x, w, b, accum_t, result_t)
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
