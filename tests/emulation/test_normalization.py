"""emulation.layers.normalization: nnet::normalize on exact values (C simulation in test_model)."""

from __future__ import annotations

import numpy as np
import pytest

import emulation.layers.normalization as norm
from emulation.fixed import FixedType
from emulation.layers.base import Context
from emulation.layers.normalization import batchnorm

X_T = FixedType.parse("ap_fixed<12,4>")
S_T = FixedType.parse("ap_fixed<10,2,AP_RND>")
B_T = FixedType.parse("ap_fixed<9,3>")


def _operands(seed: int):
    rng = np.random.default_rng(seed)
    x = X_T.quantize(rng.normal(0, 3, (400, 6)))
    return x, S_T.quantize(rng.uniform(-1.9, 1.9, 6)), B_T.quantize(rng.normal(0, 2, 6))


@pytest.mark.parametrize(
    "result", ["ap_fixed<8,3,AP_RND,AP_SAT>", "ap_ufixed<6,2,AP_RND_CONV>", "ap_fixed<7,-1>"]
)
def test_batchnorm_is_one_cast_of_the_exact_affine_value(result):
    """(result_t)(x * scale + bias), no cast in between."""
    x, s, b = _operands(1)
    result_t = FixedType.parse(result)
    got = batchnorm(x, s, b, x_t=X_T, scale_t=S_T, bias_t=B_T, result_t=result_t)
    assert np.array_equal(got, result_t.quantize(x * s + b))


def test_integer_path_equals_float_path(monkeypatch):
    """Past 53 bits the mantissa path gives what the float path gives below it."""
    x, s, b = _operands(2)
    result_t = FixedType.parse("ap_fixed<9,3,AP_RND,AP_SAT>")
    kw = {"x_t": X_T, "scale_t": S_T, "bias_t": B_T, "result_t": result_t}
    in_float = batchnorm(x, s, b, **kw)
    monkeypatch.setattr(norm, "_FLOAT_BITS", 4)
    assert np.array_equal(batchnorm(x, s, b, **kw), in_float)
    monkeypatch.setattr(norm, "_INT64_BITS", 4)
    assert np.array_equal(batchnorm(x, s, b, **kw), in_float)


def test_batchnorm_counts_result_overflows():
    """The cast to result_t is recorded under '<point>.result_t'."""
    x, s, b = _operands(3)
    ctx = Context()
    result_t = FixedType.parse("ap_fixed<6,2,AP_TRN,AP_SAT>")
    batchnorm(x, s, b, x_t=X_T, scale_t=S_T, bias_t=B_T, result_t=result_t, ctx=ctx, point="bn")
    p = ctx.points["bn.result_t"]
    assert p.total == x.size and 0 < p.count < p.total
    assert p.max_abs == np.max(np.abs(x * s + b))
