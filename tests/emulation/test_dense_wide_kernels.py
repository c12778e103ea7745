"""emulation.layers.dense_wide: the pure integer kernels against Python ints (exact matmul
modulo 2^64, the high word past 2^63, the rounding shift on ties); no compiler."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType, Rounding
from emulation.layers import dense_wide

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


# ------------------------------------------------------------------------ pure kernels
def _py_matmul(mx: np.ndarray, mw: np.ndarray) -> list[list[int]]:
    a, b = mx.astype(object), mw.astype(object)
    return (a @ b).tolist()


@pytest.mark.parametrize("n_in", [1, 3, 64, 1000])
def test_exact_matmul_is_exact_modulo_2_to_64_near_2_to_63(n_in):
    """Mantissas at +-(2^63 - 1), -2^63 and random 64-bit ones: the Ozaki split is exact."""
    rng = np.random.default_rng(n_in)
    mx = rng.integers(I64_MIN, I64_MAX, (7, n_in), dtype=np.int64, endpoint=True)
    mw = rng.integers(I64_MIN, I64_MAX, (n_in, 5), dtype=np.int64, endpoint=True)
    mx[0, :] = I64_MIN
    mx[1, :] = I64_MAX
    mw[:, 0] = I64_MIN
    mw[:, 1] = I64_MAX
    mw[:, 2] = rng.integers(-(1 << 20), 1 << 20, n_in)  # narrow weights, few pieces
    got = dense_wide.exact_matmul_mod64(mx, mw)
    want = np.array([[v % (1 << 64) for v in row] for row in _py_matmul(mx, mw)], dtype=np.uint64)
    assert np.array_equal(got, want)


def test_high_word_recovers_sums_past_2_to_63():
    """S = t + 2^64 h exactly from S mod 2^64 and a float64 estimate, for |S| up to 2^70."""
    rng = np.random.default_rng(0)
    exact = [
        int(v) << int(s)
        for v, s in zip(
            rng.integers(-(1 << 62), 1 << 62, 400), rng.integers(0, 9, 400), strict=True
        )
    ]
    exact += [I64_MAX, I64_MIN, 1 << 63, -(1 << 63) - 1, (1 << 64) + 5, 0]
    low = np.array([v % (1 << 64) for v in exact], dtype=np.uint64)
    estimate = np.array([float(v) for v in exact]) * (1 + 2.0**-40)
    t, h = dense_wide.high_word(low, estimate)
    assert [int(a) + (int(b) << 64) for a, b in zip(t, h, strict=True)] == exact


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_round_shift_equals_the_cast_on_ties(rounding, dtype):
    """Add-and-shift rounding equals `requantize_raw` on every tie and its neighbours."""
    k = 5
    m = np.arange(-(3 << k) - 3, (3 << k) + 4, dtype=np.int64)
    m = np.concatenate([m, (np.arange(-40, 41) << k) + (1 << (k - 1))])
    target = FixedType(40, 30, rounding=rounding)
    source = FixedType(64, 64 - target.fractional - k)
    want = target.requantize_raw(m, source)
    got = dense_wide._round_shift(m.astype(dtype), k, rounding)
    assert np.array_equal(got.astype(np.int64), want)
