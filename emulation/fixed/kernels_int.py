"""The integer kernels behind `emulation.fixed.types.FixedType`: exact mantissas in int64/uint64
up to 64 bits and in Python ints beyond, for W > 53 and for fixed-to-fixed casts.

Rounding is exact in float64 at every width (`emulation.fixed.kernels`); only the overflow modes
of wide types and the casts of integer mantissas need integer arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from emulation.fixed.kernels import integer_double_quirk, out_of_range, scaled_rounded
from emulation.fixed.modes import Overflow, Rounding

if TYPE_CHECKING:
    from emulation.fixed.types import FixedType

__all__ = [
    "cast_py",
    "overflow_int",
    "overflow_py",
    "quantize_wide",
    "raw_to_float",
    "raw_wide",
    "requantize",
    "requantize_int64",
]


# ------------------------------------------------------------------------------ W > 53
def quantize_wide(x: np.ndarray, t: FixedType, from_double: bool) -> tuple[np.ndarray, np.ndarray]:
    """`FixedType.quantize` for W > 53. Every rounded mantissa below 2^53 in magnitude is in range
    (the range reaches +-2^53 and beyond; unsigned: from 0) and exact in float64, so then
    no integers are needed: the common case of a wide accumulator or result holding values
    that a float64 path computed. Otherwise the exact integer path."""
    q = scaled_rounded(x, t)
    if not (from_double and t.is_integer_type) and q.size:
        lo, hi = float(q.min()), float(q.max())
        if lo > -(2.0**53) and hi < 2.0**53 and (t.signed or lo >= 0):
            return np.ldexp(q, -t.fractional) + 0.0, np.zeros(q.shape, dtype=bool)
    raw, mask = raw_wide(x, t, from_double, q)
    return raw_to_float(raw, t.fractional), mask


def raw_wide(
    x: np.ndarray, t: FixedType, from_double: bool, q: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`FixedType.quantize_raw` for W > 53 (``q``: the rounded mantissas, if already known)."""
    # Rounding is exact in float64 for every width: the rounded mantissa of a double is an
    # integer held exactly by a double (or inf); only the overflow mode needs integers.
    q = scaled_rounded(x, t) if q is None else q
    if from_double and t.is_integer_type:
        q = integer_double_quirk(x, q)
    mask = out_of_range(q, t)
    if t.width <= 64:
        dtype = np.uint64 if (not t.signed and t.width == 64) else np.int64
        raw = np.zeros(q.shape, dtype=dtype)
        inside = ~mask
        raw[inside] = q[inside].astype(dtype)
        if mask.any():
            raw[mask] = overflow_int(q[mask], t).astype(dtype)
        return raw, mask
    raw = np.empty(q.shape, dtype=object)
    flat_q = q.ravel()
    flat_m = mask.ravel()
    raw.ravel()[:] = [
        overflow_py(int(v) if np.isfinite(v) else None, t, v < 0) if m else int(v)
        for v, m in zip(flat_q.tolist(), flat_m.tolist(), strict=True)
    ]
    return raw, mask


def requantize(m: np.ndarray, shift: int, t: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """`FixedType.requantize_raw` of integer mantissas ``m`` scaled by 2^shift."""
    if t.width <= 64 and m.dtype.kind in "iu" and shift >= -63:
        # Vectorised in int64 (uint64 for unsigned 64-bit mantissas).
        m = m.astype(np.uint64 if m.dtype == np.uint64 else np.int64, copy=False)
        return requantize_int64(m, shift, t)
    flat = [int(v) for v in m.ravel().tolist()]
    pairs = [cast_py(v, shift, t) for v in flat]
    mask = np.array([p[1] for p in pairs], dtype=bool).reshape(m.shape)
    values = [p[0] for p in pairs]
    if t.width <= 64:
        dtype = np.uint64 if (not t.signed and t.width == 64) else np.int64
        raw = np.array(values, dtype=dtype).reshape(m.shape)
    else:
        raw = np.empty(m.shape, dtype=object)
        raw.ravel()[:] = values
    return raw, mask


# ----------------------------------------------------------------------------- int kernels
def overflow_int(q: np.ndarray, t: FixedType) -> np.ndarray:
    """Overflow mode on out-of-range float64 integers for 53 < W <= 64: int64/uint64."""
    dtype = np.uint64 if (not t.signed and t.width == 64) else np.int64
    if t.overflow is Overflow.SAT_ZERO:
        return np.zeros(q.shape, dtype=dtype)
    if t.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        out = np.empty(q.shape, dtype=dtype)
        out[q > 0] = t.max_raw
        out[~(q > 0)] = t.min_raw
        return out
    bits = t.width - t.sat_bits
    low = _mod_pow2_uint64(q, bits)
    return _compose_uint64(low, q < 0, t).astype(dtype)


def _mod_pow2_uint64(q: np.ndarray, bits: int) -> np.ndarray:
    """Exact q mod 2^bits (bits <= 64) of integer-valued doubles, as uint64; 0 for inf."""
    q = np.where(np.isfinite(q), q, 0.0)  # the low bits of an overflowed (inf) q are 0
    frac, exp = np.frexp(q)
    mant = np.ldexp(frac, 53).astype(np.int64).astype(np.uint64)  # two's complement
    shift = exp.astype(np.int64) - 53
    out = np.zeros(q.shape, dtype=np.uint64)
    left = (shift >= 0) & (shift < 64)
    out[left] = mant[left] << shift[left].astype(np.uint64)
    right = shift < 0  # only when |q| < 2^53: a plain integer
    out[right] = q[right].astype(np.int64).astype(np.uint64)
    if bits < 64:
        out &= np.uint64((1 << bits) - 1)
    return out


def _compose_uint64(low: np.ndarray, negative: np.ndarray, t: FixedType) -> np.ndarray:
    """The float kernel's `_wrap_compose` on uint64 bit patterns; the signed/unsigned mantissa."""
    w, n = t.width, t.sat_bits
    mask_w = (1 << w) - 1
    if n:
        if t.signed:
            pos_top = np.uint64((1 << (w - 1)) - (1 << (w - n)))
            neg_top = np.uint64(1 << (w - 1))
            low = low | np.where(negative, neg_top, pos_top)
        else:
            low = low | np.uint64(mask_w - ((1 << (w - n)) - 1))
    if not t.signed:
        return low
    if w == 64:
        return low.view(np.int64)
    sign = np.uint64(1 << (w - 1))
    return (low ^ sign).astype(np.int64) - np.int64(1 << (w - 1))


def requantize_int64(m: np.ndarray, shift: int, t: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """`requantize_raw` for int64 or uint64 mantissas, shift >= -63, W <= 64."""
    w = t.width
    dtype = np.uint64 if (not t.signed and w == 64) else np.int64
    top = 1 << (w - t.signed)
    bottom = -(1 << (w - 1)) if t.signed else 0
    sym = t.signed and t.overflow is Overflow.SAT_SYM and w > 1
    if shift >= 0:
        # q = m * 2^shift: compare m with the limits scaled down, then shift in range only.
        hi_m = -((-top) >> shift)  # ceil(top / 2^shift): q >= top iff m >= hi_m
        lo_m = (bottom + (1 << shift) - 1) >> shift if bottom else 0  # ceil(bottom / 2^s)
        over = _at_least(m, hi_m)
        under = _at_most(m, bottom >> shift) if sym else _at_most(m, lo_m - 1)
        mask = over | under
        raw = np.zeros(m.shape, dtype=dtype)
        inside = ~mask
        if shift < 64:  # beyond, only m = 0 is inside the range
            raw[inside] = m[inside].astype(dtype) << dtype(shift)
        if mask.any():
            sel = m[mask]
            raw[mask] = _overflow_exact_int(sel, shift, over[mask], t).astype(dtype)
        return raw, mask
    k = -shift
    floor = m >> k
    rem = m & ((1 << k) - 1)
    half = 1 << (k - 1)
    r = t.rounding
    if r is Rounding.TRN:
        up = None
    elif r is Rounding.TRN_ZERO:
        up = (rem != 0) & (m < 0)
    elif r is Rounding.RND:
        up = rem >= half
    elif r is Rounding.RND_MIN_INF:
        up = rem > half
    elif r is Rounding.RND_ZERO:
        up = (rem > half) | ((rem == half) & (m < 0))
    elif r is Rounding.RND_INF:
        up = (rem > half) | ((rem == half) & (m > 0))
    else:
        up = (rem > half) | ((rem == half) & ((floor & 1) == 1))
    q = floor if up is None else floor + up
    over = _at_least(q, top)
    under = _at_most(q, bottom) if sym else _at_most(q, bottom - 1)
    mask = over | under
    raw = np.zeros(m.shape, dtype=dtype)
    inside = ~mask
    raw[inside] = q[inside].astype(dtype)
    if mask.any():
        raw[mask] = _overflow_exact_int(q[mask], 0, over[mask], t).astype(dtype)
    return raw, mask


def _at_least(m: np.ndarray, bound: int) -> np.ndarray:
    """m >= bound for an int64/uint64 array m and any Python int bound."""
    info = np.iinfo(m.dtype)
    if bound > info.max:
        return np.zeros(m.shape, dtype=bool)
    return m >= max(bound, info.min)


def _at_most(m: np.ndarray, bound: int) -> np.ndarray:
    """m <= bound for an int64/uint64 array m and any Python int bound."""
    info = np.iinfo(m.dtype)
    if bound < info.min:
        return np.zeros(m.shape, dtype=bool)
    return m <= min(bound, info.max)


def _overflow_exact_int(m: np.ndarray, shift: int, over: np.ndarray, t: FixedType) -> np.ndarray:
    """Overflow mode on out-of-range q = m * 2^shift (int64/uint64 m, shift >= 0)."""
    dtype = np.uint64 if (not t.signed and t.width == 64) else np.int64
    if t.overflow is Overflow.SAT_ZERO:
        return np.zeros(m.shape, dtype=dtype)
    if t.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        out = np.empty(m.shape, dtype=dtype)
        out[over] = t.max_raw
        out[~over] = t.min_raw
        return out
    bits = t.width - t.sat_bits
    if shift >= 64:  # the low 64 bits of m * 2^shift are zero
        low = np.zeros(m.shape, dtype=np.uint64)
    else:
        low = m.astype(np.uint64) << np.uint64(shift)  # two's complement, modulo 2^64
    if bits < 64:
        low &= np.uint64((1 << bits) - 1)
    return _compose_uint64(low, m < 0, t).astype(dtype)


# --------------------------------------------------------------------------- python ints
def overflow_py(q: int | None, t: FixedType, negative: bool | None = None) -> int:
    """Overflow mode on one out-of-range mantissa (None: infinitely large, low bits zero)."""
    if negative is None:
        negative = q is not None and q < 0
    if t.overflow is Overflow.SAT_ZERO:
        return 0
    if t.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        return t.min_raw if negative else t.max_raw
    w, n = t.width, t.sat_bits
    low = 0 if q is None else q % (1 << (w - n))
    if n:
        if not t.signed:
            return low + (1 << w) - (1 << (w - n))
        return low + (-(1 << (w - 1)) if negative else (1 << (w - 1)) - (1 << (w - n)))
    if t.signed and low >= 1 << (w - 1):
        return low - (1 << w)
    return low


def _round_py(m: int, k: int, rounding: Rounding) -> int:
    """R(m / 2^k) for k >= 1, exactly."""
    floor = m >> k
    rem = m - (floor << k)
    half = 1 << (k - 1)
    if rounding is Rounding.TRN:
        return floor
    if rounding is Rounding.TRN_ZERO:
        return floor + (rem != 0 and m < 0)
    if rounding is Rounding.RND:
        return floor + (rem >= half)
    if rounding is Rounding.RND_MIN_INF:
        return floor + (rem > half)
    if rounding is Rounding.RND_ZERO:
        return floor + (rem > half or (rem == half and m < 0))
    if rounding is Rounding.RND_INF:
        return floor + (rem > half or (rem == half and m > 0))
    return floor + (rem > half or (rem == half and floor % 2 == 1))


def cast_py(m: int, shift: int, t: FixedType) -> tuple[int, bool]:
    """Cast of mantissa m scaled by 2^shift to t's mantissa; (value, overflowed)."""
    q = m << shift if shift >= 0 else _round_py(m, -shift, t.rounding)
    sym = t.signed and t.overflow is Overflow.SAT_SYM and t.width > 1
    low = -(1 << (t.width - 1)) if t.signed else 0
    if q > t.max_raw or q < low or (sym and q == low):
        return overflow_py(q, t), True
    return q, False


def raw_to_float(raw: np.ndarray, fractional: int) -> np.ndarray:
    """Nearest float64 of ``raw * 2^-F`` for integer mantissas (int64 or Python ints; exact
    when representable, so up to 53 bits)."""
    raw = np.asarray(raw)
    if raw.dtype == object:
        flat = np.array([float(v) for v in raw.ravel().tolist()], dtype=np.float64)
        return np.ldexp(flat.reshape(raw.shape), -fractional) + 0.0
    if abs(fractional) <= 1000:
        # one pass: the int64 -> float64 conversion inside the product by 2^-F, which is a
        # normal double here, so the product rounds (to a subnormal) only as ldexp would
        return np.multiply(raw, np.ldexp(1.0, -fractional), dtype=np.float64)
    return np.ldexp(raw.astype(np.float64), -fractional) + 0.0
