"""The float64 kernels behind `emulation.fixed.types.FixedType`: rounding and the overflow modes
on exact float64 mantissas, used for every W <= 53 and for rounding at every width.

See `emulation.fixed.types` for why each path is exact and what the headers do; the integer
kernels (int64/uint64, Python ints) are `emulation.fixed.kernels_int`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from emulation.errors import DataError
from emulation.fixed.modes import Overflow, Rounding

if TYPE_CHECKING:
    from emulation.fixed.types import FixedType

__all__ = [
    "as_float64",
    "integer_double_quirk",
    "out_of_range",
    "quantize_float",
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
