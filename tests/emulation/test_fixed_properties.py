"""Properties of `emulation.fixed` quantisation for every width, including the wide paths:
idempotence, range, monotonicity, and a plain Python-integer reference (`reference_cast`) for
``quantize_raw``, ``requantize_raw`` and the float values.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emulation.fixed import FixedType, Overflow, Rounding
from tests.support.fixed_strategies import fixed_types, values_for


# ------------------------------------------------------------------------ reference model
def _round_ref(n: int, d: int, rounding: Rounding) -> int:
    """n / d rounded by the mode, with Python integers (d > 0)."""
    floor, rem = divmod(n, d)
    twice = 2 * rem
    if rounding is Rounding.TRN:
        return floor
    if rounding is Rounding.TRN_ZERO:
        return floor + (rem > 0 and n < 0)
    above = twice > d
    tie = twice == d
    if rounding is Rounding.RND:
        return floor + (above or tie)
    if rounding is Rounding.RND_MIN_INF:
        return floor + above
    if rounding is Rounding.RND_ZERO:
        return floor + (above or (tie and n < 0))
    if rounding is Rounding.RND_INF:
        return floor + (above or (tie and n > 0))
    return floor + (above or (tie and floor % 2 == 1))


def reference_cast(value: Fraction, t: FixedType) -> tuple[int, bool]:
    """(mantissa, overflowed) of value cast to t, from the definitions in the docs."""
    scaled = value * Fraction(2) ** t.fractional
    q = _round_ref(scaled.numerator, scaled.denominator, t.rounding)
    w = t.width
    low = -(2 ** (w - 1)) if t.signed else 0
    high = 2 ** (w - 1) - 1 if t.signed else 2**w - 1
    sym = t.signed and t.overflow is Overflow.SAT_SYM and w > 1
    if low <= q <= high and not (sym and q == low):
        return q, False
    if t.overflow is Overflow.SAT_ZERO:
        return 0, True
    if t.overflow is Overflow.SAT:
        return (high if q > 0 else low), True
    if t.overflow is Overflow.SAT_SYM:
        return (high if q > 0 else (low + 1 if sym else low)), True
    n = t.sat_bits
    rest = q % 2 ** (w - n)
    if n == 0:
        wrapped = q % 2**w
        return (wrapped - 2**w if t.signed and wrapped >= 2 ** (w - 1) else wrapped), True
    if not t.signed:
        return rest + 2**w - 2 ** (w - n), True
    return (rest - 2 ** (w - 1) if q < 0 else rest + 2 ** (w - 1) - 2 ** (w - n)), True


def _diff_report(t: FixedType, x: np.ndarray, want: list, got: list) -> str:
    bad = [j for j in range(len(want)) if want[j] != got[j]]
    rows = [f"  x={x[j]!r} expected={want[j]} got={got[j]}" for j in bad[:5]]
    return f"{t}: {len(bad)} of {len(want)} differ\n" + "\n".join(rows)


@settings(deadline=None)
@given(fixed_types(max_width=53), st.data())
def test_quantize_is_idempotent(t: FixedType, data: st.DataObject) -> None:
    """Quantizing a quantized value changes nothing."""
    y = t.quantize(data.draw(values_for(t)))
    assert np.array_equal(t.quantize(y), y)


SATURATING = (Overflow.SAT, Overflow.SAT_SYM, Overflow.SAT_ZERO)


@settings(deadline=None)
@given(fixed_types(max_width=53, overflows=SATURATING), st.data())
def test_saturating_modes_stay_in_range(t: FixedType, data: st.DataObject) -> None:
    """Under SAT, SAT_SYM and SAT_ZERO every value lies in [min, max]."""
    y = t.quantize(data.draw(values_for(t)))
    assert np.all((y >= t.min) & (y <= t.max))


@settings(deadline=None)
@given(fixed_types(max_width=53, overflows=(Overflow.SAT, Overflow.SAT_SYM)), st.data())
def test_quantize_is_monotone_except_wrap_and_sat_zero(t: FixedType, data: st.DataObject) -> None:
    """Larger inputs never give smaller outputs under SAT and SAT_SYM."""
    x = np.sort(data.draw(values_for(t)))
    y = t.quantize(x)
    assert np.all(np.diff(y) >= 0), f"{t}: not monotone for {x[np.flatnonzero(np.diff(y) < 0)]}"


@settings(deadline=None)
@given(fixed_types(max_width=53, overflows=(Overflow.SAT_ZERO,)), st.data())
def test_sat_zero_is_monotone_inside_the_range(t: FixedType, data: st.DataObject) -> None:
    """SAT_ZERO is monotone over the inputs that do not overflow."""
    x = np.sort(data.draw(values_for(t)))
    y, over = t.quantize(x, return_overflow=True)
    assert np.all(np.diff(y[~over]) >= 0)


@settings(deadline=None)
@given(fixed_types(max_width=130), st.data())
def test_quantize_raw_and_mask_match_the_reference(t: FixedType, data: st.DataObject) -> None:
    """quantize_raw and its overflow mask equal the Python-integer reference, any width."""
    x = data.draw(values_for(t))
    raw, mask = t.quantize_raw(x, return_overflow=True)
    want = [reference_cast(Fraction(float(v)), t) for v in x]
    got = list(zip((int(v) for v in raw.tolist()), mask.tolist(), strict=True))
    assert got == want, _diff_report(t, x, want, got)


@settings(deadline=None)
@given(fixed_types(max_width=96), fixed_types(max_width=96), st.data())
def test_requantize_raw_matches_the_reference(
    t: FixedType, source: FixedType, data: st.DataObject
) -> None:
    """requantize_raw of exact source mantissas equals the reference, any widths."""
    low = -(2 ** (source.width - 1)) if source.signed else 0
    high = 2 ** (source.width - source.signed) - 1
    ints = data.draw(st.lists(st.integers(low, high), min_size=1, max_size=30))
    if source.width <= 63 or (source.width == 64 and source.signed):
        mantissa = np.array(ints, dtype=np.int64)
    else:
        mantissa = np.array(ints, dtype=object)
    raw, mask = t.requantize_raw(mantissa, source, return_overflow=True)
    want = [reference_cast(Fraction(m) * Fraction(2) ** -source.fractional, t) for m in ints]
    got = list(zip((int(v) for v in raw.tolist()), mask.tolist(), strict=True))
    assert got == want, _diff_report(t, np.array(ints, dtype=object), want, got)


@settings(deadline=None)
@given(fixed_types(max_width=53), st.data())
def test_quantize_values_are_raw_times_lsb(t: FixedType, data: st.DataObject) -> None:
    """For W <= 53, quantize is exactly quantize_raw * 2^-F, with no -0.0."""
    x = data.draw(values_for(t))
    y = t.quantize(x)
    assert np.array_equal(y, t.quantize_raw(x).astype(np.float64) * t.lsb)
    assert not np.any(np.signbit(y) & (y == 0))


@settings(deadline=None)
@given(fixed_types(max_width=130), st.data())
def test_wide_quantize_is_the_nearest_double_of_raw(t: FixedType, data: st.DataObject) -> None:
    """quantize(x) is the double nearest raw * 2^-F (exact whenever representable)."""
    x = data.draw(values_for(t))
    raw = t.quantize_raw(x)
    want = [float(Fraction(int(m)) * Fraction(2) ** -t.fractional) for m in raw.tolist()]
    assert t.quantize(x).tolist() == want
