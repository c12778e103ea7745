"""emulation.layers.dense without a compiler: every path of `dense` against the literal C++
loop, for every overflow kind, sum order, block size and overflow count."""

from __future__ import annotations

import numpy as np
import pytest

import emulation.layers.dense as dense_mod
from emulation.fixed import FixedType
from emulation.layers import dense_int
from emulation.layers.base import Context
from emulation.layers.dense import dense, dense_sum_order
from emulation.layers.dense_int import column_max_abs
from tests.support.dense_cases import B_T, W_T, X_T, dense_operands, reference_dense
from tests.support.hls import mismatch_report


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


def _call(x, w, b, accum, order=None, ctx=None):
    accum_t = FixedType.parse(accum)
    result_t = FixedType.parse("ap_fixed<9,3,AP_RND,AP_SAT>")
    kw = {"x_t": X_T, "w_t": W_T, "b_t": B_T, "accum_t": accum_t, "result_t": result_t}
    return dense(x, w, b, order=order, ctx=ctx, **kw), accum_t, result_t


@pytest.mark.parametrize("accum", ACCUMULATORS)
def test_dense_equals_the_literal_cpp_loop(accum, dense_kernel):
    """Every path of dense() equals the literal loop of casts, for every overflow kind."""
    x, w, b = dense_operands(1)
    order = dense_sum_order(x.shape[1], "resource", 4)
    got, accum_t, result_t = _call(x, w, b, accum, order)
    expected = reference_dense(x, w, b, accum_t, result_t, order)
    assert np.array_equal(got, expected), mismatch_report(got, expected, types=accum)


@pytest.mark.parametrize("accum", ACCUMULATORS)
def test_integer_path_equals_float_path(accum, dense_kernel, monkeypatch):
    """The mantissa path (for types past 53 bits) gives the float64 path's values and counts."""
    x, w, b = dense_operands(2)
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
    x, w, b = dense_operands(3)
    assert dense_mod._matmul_ok(column_max_abs(x), w, X_T, W_T, FixedType.parse(accum))
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
def test_products_leaving_the_range_take_the_int64_loop(accum, dense_kernel, monkeypatch):
    """Products that overflow accum_t on their own go through the int64 kernels (the compiled
    loop where numba is) with the values, overflow counts and largest |value| of the float64
    reference that casts every product, and of the literal C++ loop."""
    x, w, b = dense_operands(7)
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
    assert np.array_equal(got, reference_dense(x, w, b, accum_t, result_t, order))


def test_wide_types_use_python_integers(monkeypatch):
    """Past 62 bits the same code runs on Python ints and gives the int64 answer."""
    x, w, b = dense_operands(4, batch=50)
    monkeypatch.setattr(dense_mod, "_FLOAT_BITS", 4)
    small, _, _ = _call(x, w, b, ACCUMULATORS[4])
    monkeypatch.setattr(dense_int, "_INT64_BITS", 8)
    wide, _, _ = _call(x, w, b, ACCUMULATORS[4])
    assert np.array_equal(wide, small)


@pytest.mark.parametrize("accum", [ACCUMULATORS[1], ACCUMULATORS[3], ACCUMULATORS[4]])
def test_blocks_bound_memory_without_changing_results(accum, dense_kernel, monkeypatch):
    """Tiny blocks (one sample, one output at a time) give the same values."""
    x, w, b = dense_operands(5)
    whole, _, _ = _call(x, w, b, accum)
    monkeypatch.setattr(dense_mod, "_BLOCK", 1)
    monkeypatch.setattr(dense_int, "_BLOCK", 1)
    assert np.array_equal(_call(x, w, b, accum)[0], whole)


def test_overflows_are_counted_per_accumulation(dense_kernel):
    """One entry per sample and output; overflowed when a cast changed the running value."""
    x, w, b = dense_operands(6)
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
