"""Casts 1-3 of the Dense accumulation on integer mantissas, for types too wide for float64.

`emulation.layers.dense` runs in float64 while every value has at most 53 bits; past that it
comes here: the kernels of `emulation.layers.dense_wide` where the largest mantissas show they
apply (float64 BLAS pieces for exact products, int64 for rounded ones), else the C++ loop step
by step, in int64 up to 62 bits and on Python ints beyond, in blocks of samples.
"""

from __future__ import annotations

import numpy as np

from emulation.fixed import (
    INT64_BITS,
    FixedType,
    Overflow,
    accumulate_type,
    product_type,
    sum_type,
)
from emulation.fixed.kernels_int import raw_to_float
from emulation.layers import dense_wide

__all__ = [
    "accumulate_int",
    "chunks",
    "column_max_abs",
    "int64_mantissas",
    "sums_fit_int64",
    "wraps",
]

# Elements of one block of products (samples x inputs x outputs): 4 Mi float64 = 32 MiB.
_BLOCK = 1 << 22
# Widths whose products and sums stay exact in int64 (with room for the sign and a carry).
_INT64_BITS = INT64_BITS


def wraps(t: FixedType) -> bool:
    """True when every cast to ``t`` is reduction modulo 2^W (associative)."""
    return t.overflow is Overflow.WRAP and t.sat_bits == 0


def column_max_abs(x: np.ndarray) -> np.ndarray:
    """max |x_i| over the batch, per input (n_in,), no |x| temporary. Few columns: by halving
    the rows (long passes; NumPy's axis-0 reduction of a (4096, 4) array is 20x slower)."""
    if x.shape[0] == 0:
        return np.zeros(x.shape[1])
    if x.shape[1] > 64:
        return np.maximum(x.max(axis=0), -x.min(axis=0))
    return np.maximum(_fold(x, np.maximum), -_fold(x, np.minimum))


def _fold(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    while x.shape[0] > 1:
        h = x.shape[0] // 2
        y = op(x[:h], x[h : 2 * h])
        if x.shape[0] % 2:
            op(y[0], x[-1], out=y[0])
        x = y
    return x[0]


def chunks(n: int, size: int) -> list[slice]:
    return [slice(k, min(k + size, n)) for k in range(0, n, max(1, size))]


def accumulate_int(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Casts 1-3 on integer mantissas, for types too wide for float64.

    Returns accumulator mantissas, which accumulations overflowed, and the largest |bias| or
    |final sum|. The kernels of `emulation.layers.dense_wide` where they apply (int64 and
    float64 BLAS pieces), else step by step in int64 or, past 62 bits, Python ints.
    """
    batch, n_in = x.shape
    n_out = w.shape[1]
    b_raw, b_over = accum_t.requantize_raw(b_t.quantize_raw(b), b_t, return_overflow=True)
    over = np.broadcast_to(b_over, (batch, n_out)).copy()
    max_abs = float(np.max(np.abs(b), initial=0.0))
    fast = wide_kernels(x, w, np.asarray(b_raw), x_t, w_t, accum_t)
    if fast is not None:
        acc, o, m = fast
        return acc, over | o, max(max_abs, float(np.ldexp(m, -accum_t.fractional)))
    rows = max(1, _BLOCK // max(1, n_in * n_out))
    acc = np.empty((batch, n_out), dtype=object)
    for rs in chunks(batch, rows):
        a, o, m = _accumulate_steps(x[rs], w, np.asarray(b_raw), x_t, w_t, accum_t)
        acc[rs] = a
        over[rs] |= o
        max_abs = max(max_abs, m)
    fits = accum_t.width <= 64 and not (not accum_t.signed and accum_t.width == 64)
    return (acc.astype(np.int64) if fits else acc), over, max_abs


def int64_mantissas(v: np.ndarray, t: FixedType) -> np.ndarray | None:
    """int64 mantissas of exact values of t, or None when they may not fit (uint64, wider)."""
    raw = np.asarray(t.quantize_raw(v))
    return raw if raw.dtype == np.int64 else None


def wide_kernels(
    x: np.ndarray,
    w: np.ndarray,
    b_raw: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Casts 2-3 by `dense_wide.exact_sums` (exact products that cannot overflow accum_t, from
    the largest mantissas) or `dense_wide.rounded_sums` (the others) when everything fits
    int64; else None."""
    if accum_t.width > 64 or b_raw.dtype != np.int64:
        return None
    mx, mw = int64_mantissas(x, x_t), int64_mantissas(w, w_t)
    if mx is None or mw is None or mx.size == 0 or mw.size == 0:
        return None
    big = max(abs(int(mx.min())), int(mx.max())) * max(abs(int(mw.min())), int(mw.max()))
    shift = accum_t.fractional - x_t.fractional - w_t.fractional
    biggest = big << shift if shift >= 0 else (big >> -shift) + 1
    fit = biggest <= accum_t.max_raw and -biggest >= accum_t.min_raw
    if shift >= 0 and fit:
        return dense_wide.exact_sums(mx, mw, b_raw, shift, accum_t)
    if shift >= 0:
        # exact products that may leave the range: on accum_t's grid, cast 2 is the overflow
        # mode alone (rounded_sums with k = 0)
        if big << shift >= 1 << INT64_BITS:
            return None
        mw, big, shift = mw << np.int64(shift), big << shift, 0
    k = -shift
    x_max = np.max(np.abs(mx.astype(np.float64)), axis=0)
    if big + (1 << k) >= 1 << INT64_BITS or not sums_fit_int64(x_max, mw, b_raw, k, accum_t, fit):
        return None
    acc, over, exact = dense_wide.rounded_sums(mx, mw, b_raw, k, big, accum_t, fit)
    return acc, over, float(np.max(np.abs(exact.astype(np.float64)), initial=0.0))


def sums_fit_int64(
    x_max: np.ndarray, mw: np.ndarray, b_raw: np.ndarray, k: int, accum_t: FixedType, fit: bool
) -> bool:
    """Whether every partial sum of bias and products cast to accum_t (rounded by k bits) fits
    int64: from the values when no product overflows (|bias| + sum_i X_i |w_i| 2^-k + n_in,
    with ``x_max`` the X_i, the largest |x_i| mantissas as float64, computed with a wide
    margin), else from the types."""
    n_in = mw.shape[0]
    if not fit:
        return accumulate_type(accum_t, n_in + 1).width <= 64
    sums = np.ldexp(x_max @ np.abs(mw.astype(np.float64)), -k) + np.abs(b_raw) + n_in
    return float(np.max(sums, initial=0.0)) * (1 + 2.0**-30) < 2.0**INT64_BITS


def _accumulate_steps(
    x: np.ndarray,
    w: np.ndarray,
    b_raw: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The last resort: casts 2-3 one input at a time, int64 up to 62 bits, else Python ints
    (one block of samples). Returns mantissas (object), overflows (casts 2-3), max |sum|."""
    batch, n_in = x.shape
    n_out = w.shape[1]
    p_t = product_type(x_t, w_t)
    total_t = accumulate_type(accum_t, n_in + 1)
    dtype = np.int64 if max(p_t.width, total_t.width) <= _INT64_BITS else object
    mx = np.asarray(x_t.quantize_raw(x)).astype(dtype)
    mw = np.asarray(w_t.quantize_raw(w)).astype(dtype)
    over = np.zeros((batch, n_out), dtype=bool)
    modular = wraps(accum_t)
    s_t = total_t if modular else sum_type(accum_t, accum_t)
    acc = np.broadcast_to(b_raw.astype(dtype), (batch, n_out)).copy()
    exact = acc.copy()  # the sum without overflow, for max_abs
    for i in range(n_in):
        prod = mx[:, i, None] * mw[None, i, :]
        p, o = accum_t.requantize_raw(prod, p_t, return_overflow=True)
        over |= o
        p = np.asarray(p).astype(dtype)
        exact = exact + p
        if modular:
            acc = acc + p  # wrapped once at the end: addition modulo 2^W
        else:
            acc, o = accum_t.requantize_raw(acc + p, s_t, return_overflow=True)
            acc = np.asarray(acc).astype(dtype)
            over |= o
    if modular:
        acc, o = accum_t.requantize_raw(acc, s_t, return_overflow=True)
        over |= o
    max_abs = float(np.max(np.abs(raw_to_float(exact, accum_t.fractional)), initial=0.0))
    return np.asarray(acc).astype(object), over, max_abs
