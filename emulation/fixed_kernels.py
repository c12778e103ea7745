"""The vectorised kernels behind `emulation.fixed.FixedType`: float64 where every value is
exact, int64/uint64 where wrapping needs more than 53 bits, Python ints beyond 64 bits.

See `emulation.fixed` for why each path is exact and what the headers do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from emulation.errors import DataError
from emulation.fixed_modes import Overflow, Rounding

if TYPE_CHECKING:
    from emulation.fixed import FixedType

__all__ = [
    "as_float64",
    "cast_py",
    "integer_double_quirk",
    "out_of_range",
    "overflow_int",
    "overflow_py",
    "quantize_float",
    "raw_to_float",
    "requantize_int64",
    "scaled_rounded",
]

# Elements processed per block: the temporaries of one block stay in the CPU cache.
_BLOCK = 1 << 16
# Below this magnitude (2^52 - 2) a scaled value, rounded in any mode, stays under 2^52.
_SMALL = float(2**52 - 2)


# --------------------------------------------------------------------------- float kernel
def as_float64(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    _raise_not_finite(x)
    return x


def scaled_rounded(x: np.ndarray, t: FixedType) -> np.ndarray:
    """R(x * 2^F) as exact float64 integers (inf where x * 2^F overflows float64)."""
    f = t.fractional
    with np.errstate(over="ignore"):  # overflow to inf is handled by the overflow modes
        s = x * np.ldexp(1.0, f)  # exact otherwise: |F| <= 1022, so 2^F is a normal double
    if f < 0:
        # Scaling down may underflow to 0; rounding of |s| < 0.5 only needs sign and non-zero.
        lost = (s == 0) & (x != 0)
        if lost.any():
            s[lost] = np.copysign(5e-324, x[lost])
    return _round(s, t.rounding)


def _round(s: np.ndarray, rounding: Rounding) -> np.ndarray:
    """R(s) for exact scaled values s; the result is exact (integers, or inf kept)."""
    if rounding is Rounding.TRN:
        return np.floor(s)
    if rounding is Rounding.TRN_ZERO:
        return np.trunc(s)
    r = np.rint(s)  # to nearest, ties to even: RND_CONV
    if rounding is Rounding.RND_CONV:
        return r
    # d = s - rint(s) is exact (Sterbenz, or r = 0); a tie is |d| = 0.5 and rint chose the
    # even neighbour: move it where the mode sends ties. (s - floor(s) would not be exact
    # for negative s: -0.49999999999999994 + 1 rounds to 0.5.)
    with np.errstate(invalid="ignore"):  # inf - inf where s overflowed: no tie
        d = s - r
    if rounding is Rounding.RND:  # ties toward +inf
        return r + (d == 0.5)
    if rounding is Rounding.RND_MIN_INF:  # ties toward -inf
        return r - (d == -0.5)
    if rounding is Rounding.RND_ZERO:  # ties toward zero
        return r + ((d == 0.5) & (s < 0)) - ((d == -0.5) & (s > 0))
    return r + ((d == 0.5) & (s > 0)) - ((d == -0.5) & (s < 0))  # RND_INF: away from zero


def _bounds(t: FixedType) -> tuple[float, float]:
    """Mantissa limits as exact doubles: overflow iff q >= top, underflow iff q < bottom."""
    top = np.ldexp(1.0, t.width - t.signed)
    bottom = -np.ldexp(1.0, t.width - 1) if t.signed else 0.0
    return float(top), float(bottom)


def out_of_range(q: np.ndarray, t: FixedType) -> np.ndarray:
    top, bottom = _bounds(t)
    if t.signed and t.overflow is Overflow.SAT_SYM and t.width > 1:
        return (q >= top) | (q <= bottom)
    return (q >= top) | (q < bottom)


class _NotFinite(Exception):
    """A block held NaN or inf; the caller reports it for the whole array."""


def _raise_not_finite(x: np.ndarray) -> None:
    bad = ~np.isfinite(x)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), x.shape))
    where = first[0] if len(first) == 1 else first
    raise DataError(
        f"cannot quantize {int(bad.sum())} NaN or infinite value(s) (first at index "
        f"{where}); remove or replace them (e.g. numpy.nan_to_num) first"
    )


def quantize_float(
    x: np.ndarray, t: FixedType, from_double: bool = False, want_mask: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """The W <= 53 kernel: blocks small enough that every temporary stays in the CPU cache.

    Per block: x * 2^F (exact), round (exact, see `_round`), the overflow mode where the
    block's min/max say a value may be out of range, then * 2^-F (exact).
    """
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty(flat.size, dtype=np.float64)
    mask = np.zeros(flat.size, dtype=bool) if want_mask else None
    kernel = _BlockKernel(t, from_double, min(flat.size, _BLOCK))
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, flat.size, _BLOCK):
                stop = min(start + _BLOCK, flat.size)
                kernel(
                    flat[start:stop], out[start:stop], None if mask is None else mask[start:stop]
                )
    except _NotFinite:
        _raise_not_finite(flat.reshape(np.shape(x)))
    shape = np.shape(x)
    return out.reshape(shape), (None if mask is None else mask.reshape(shape))


class _BlockKernel:
    """In-place quantisation of one block; holds the scalars and scratch buffers of a call."""

    def __init__(self, t: FixedType, from_double: bool, size: int) -> None:
        self.t = t
        self.scale = float(np.ldexp(1.0, t.fractional))
        self.lsb = t.lsb
        self.top, self.bottom = _bounds(t)
        self.sym = t.signed and t.overflow is Overflow.SAT_SYM and t.width > 1
        self.quirk = from_double and t.is_integer_type
        self.s = np.empty(size)
        self.d = np.empty(size)
        self.b1 = np.empty(size, dtype=bool)
        self.b2 = np.empty(size, dtype=bool)

    def __call__(self, x: np.ndarray, out: np.ndarray, mask: np.ndarray | None) -> None:
        n = x.size
        lo, hi = float(x.min()), float(x.max())  # NaN propagates; inf shows
        if not (-np.inf < lo and hi < np.inf):
            raise _NotFinite
        t = self.t
        s = self.s[:n]
        np.multiply(x, self.scale, out=s)
        if t.fractional < 0:
            # Scaling down may underflow to 0; rounding |s| < 0.5 only needs sign and non-zero.
            lost = (s == 0) & (x != 0)
            if lost.any():
                s[lost] = np.copysign(5e-324, x[lost])
        self._round(s, out)
        s_lo, s_hi = lo * self.scale, hi * self.scale  # exact (or inf), as in the block
        if self.quirk and lo < 0:
            quirk = (x < 0) & (x > -0.5)
            np.putmask(out, quirk, 1.0)
            s_hi = max(s_hi, 1.0)
        # floor(s) <= q <= ceil(s) in every mode, so these bounds prove "no overflow".
        if not (s_hi <= self.top - 1 and s_lo >= self.bottom + self.sym):
            self._overflow(out, mask, s_lo, s_hi)
        np.multiply(out, self.lsb, out=out)
        np.add(out, 0.0, out=out)  # -0.0 -> 0.0, as the C++ value reads back

    def _round(self, s: np.ndarray, out: np.ndarray) -> None:
        r = self.t.rounding
        if r is Rounding.TRN:
            np.floor(s, out=out)
            return
        if r is Rounding.TRN_ZERO:
            np.trunc(s, out=out)
            return
        n = s.size
        d, tie = self.d[:n], self.b1[:n]
        if r in (Rounding.RND_ZERO, Rounding.RND_INF):
            # Round the magnitude (ties down / up), then restore the sign.
            np.abs(s, out=d)
            np.rint(d, out=out)
            np.subtract(d, out, out=d)  # exact, see `_round`
            if r is Rounding.RND_ZERO:
                np.equal(d, -0.5, out=tie)
                np.subtract(out, tie, out=out)
            else:
                np.equal(d, 0.5, out=tie)
                np.add(out, tie, out=out)
            np.copysign(out, s, out=out)
            return
        np.rint(s, out=out)
        if r is Rounding.RND_CONV:
            return
        np.subtract(s, out, out=d)  # exact, see `_round`
        if r is Rounding.RND:
            np.equal(d, 0.5, out=tie)
            np.add(out, tie, out=out)
        else:  # RND_MIN_INF
            np.equal(d, -0.5, out=tie)
            np.subtract(out, tie, out=out)

    def _overflow(self, q: np.ndarray, mask: np.ndarray | None, s_lo: float, s_hi: float) -> None:
        t = self.t
        n = q.size
        if t.overflow is Overflow.WRAP and t.sat_bits == 0 and -np.inf < s_lo and s_hi < np.inf:
            small = max(-s_lo, s_hi) < _SMALL
            self._wrap_whole(q, mask, small)
            return
        saturate = t.overflow in (Overflow.SAT, Overflow.SAT_SYM)
        if saturate and mask is None:
            np.minimum(q, float(t.max_raw), out=q)
            np.maximum(q, float(t.min_raw), out=q)
            return
        over, under = self.b1[:n], self.b2[:n]
        np.greater_equal(q, self.top, out=over)
        (np.less_equal if self.sym else np.less)(q, self.bottom, out=under)
        np.logical_or(over, under, out=over)
        if mask is not None:
            mask[:] = over
        if saturate:
            np.minimum(q, float(t.max_raw), out=q)
            np.maximum(q, float(t.min_raw), out=q)
        elif t.overflow is Overflow.SAT_ZERO:
            np.putmask(q, over, 0.0)
        else:
            idx = np.flatnonzero(over)
            if idx.size:
                q[idx] = _overflow_float(q[idx], t)

    def _wrap_whole(self, q: np.ndarray, mask: np.ndarray | None, small: bool) -> None:
        """Plain AP_WRAP (N = 0) of a whole block in float64, without gathering the wrapped
        values (most of a block wraps when the data spread far exceeds the range).

        ``small`` (every |q| < 2^52): q - 2^W floor((q + 2^(W-1)) / 2^W), one floor; the sum is
        an integer below 2^53, the division a power-of-two scaling, the result an integer in
        range, so every step is exact. Otherwise r = q - 2^W floor(q / 2^W) is q mod 2^W exactly
        for every finite integer-valued q (same argument without the sum), then (signed)
        r - 2^W where r >= 2^(W-1). In-range values come back unchanged, so nothing is
        gathered or scattered (masked writes cost ten times a full pass).
        """
        t = self.t
        n = q.size
        if mask is not None:
            under = self.b2[:n]
            np.greater_equal(q, self.top, out=mask)
            np.less(q, self.bottom, out=under)
            np.logical_or(mask, under, out=mask)
        period = float(np.ldexp(1.0, t.width))
        d = self.d[:n]
        if t.signed and small:
            np.add(q, period / 2, out=d)
            np.multiply(d, 1.0 / period, out=d)
        else:
            np.multiply(q, 1.0 / period, out=d)
        np.floor(d, out=d)
        np.multiply(d, period, out=d)
        np.subtract(q, d, out=q)
        if t.signed and not small:
            high = self.b1[:n]
            np.greater_equal(q, period / 2, out=high)
            np.multiply(high, period, out=d)
            np.subtract(q, d, out=q)


def integer_double_quirk(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    # ap_int_base(double) turns a negative double in (-0.5, 0) into +1 (see module notes).
    quirk = (x < 0) & (x > -0.5)
    if quirk.any():
        q = np.where(quirk, 1.0, q)
    return q


def _overflow_float(q: np.ndarray, t: FixedType) -> np.ndarray:
    """Apply the overflow mode to out-of-range rounded mantissas (W <= 53)."""
    if t.overflow is Overflow.SAT_ZERO:
        return np.zeros_like(q)
    if t.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        return np.where(q > 0, float(t.max_raw), float(t.min_raw))
    low = _mod_pow2_float(q, t.width - t.sat_bits)
    return _wrap_compose(low, q < 0, t, float)


def _mod_pow2_float(q: np.ndarray, bits: int) -> np.ndarray:
    """q mod 2^bits in [0, 2^bits), exact for integer-valued doubles; 0 for inf."""
    period = np.ldexp(1.0, bits)
    finite = np.isfinite(q)
    q = np.where(finite, q, 0.0)
    # q - floor(q / p) * p is exact: the quotient is scaled by a power of two, the result
    # is an integer below 2^53.
    r = q - np.floor(q / period) * period
    return r


def _wrap_compose(low: Any, negative: Any, t: FixedType, num: type) -> Any:
    """Mantissa from the low W - N bits of q, the top N bits set by the header's rules."""
    w, n = t.width, t.sat_bits
    if n == 0:
        if t.signed:
            half = num(1 << (w - 1))
            return np.where(low >= half, low - num(1 << w), low)
        return low
    if not t.signed:
        return low + num((1 << w) - (1 << (w - n)))
    # signed: sign bit = sign of the source, the next N - 1 bits its inverse
    positive_top = num((1 << (w - 1)) - (1 << (w - n)))
    negative_top = num(-(1 << (w - 1)))
    return low + np.where(negative, negative_top, positive_top)


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
    """`_wrap_compose` on uint64 bit patterns; returns the signed/unsigned mantissa."""
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
    """Nearest float64 of raw * 2^-F (exact when representable)."""
    if raw.dtype == object:
        flat = np.array([float(v) for v in raw.ravel().tolist()], dtype=np.float64)
        values = flat.reshape(raw.shape)
    else:
        values = raw.astype(np.float64)
    return np.ldexp(values, -fractional) + 0.0
