"""Hypothesis strategies of the `emulation.fixed` property tests: any valid `FixedType`, and
doubles around one (on its grid, at half-LSB ties, beyond its range, arbitrary)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from emulation.fixed import FixedType, Overflow, Rounding

# Every property test runs without hypothesis' deadline: timing varies on a shared machine.


@st.composite
def fixed_types(
    draw: st.DrawFn, max_width: int = 80, overflows: tuple[Overflow, ...] = tuple(Overflow)
) -> FixedType:
    """Any valid type: widths 1..max_width, I below, inside and beyond W, every mode."""
    width = draw(st.integers(1, max_width))
    integer = draw(st.integers(-20, width + 20))
    overflow = draw(st.sampled_from(overflows))
    sat_bits = draw(st.integers(0, width)) if draw(st.booleans()) else 0
    return FixedType(
        width, integer, draw(st.booleans()), draw(st.sampled_from(Rounding)), overflow, sat_bits
    )


@st.composite
def values_for(draw: st.DrawFn, t: FixedType, n: int = 40) -> np.ndarray:
    """Doubles around t: on the grid, at half-LSB ties, beyond the range and arbitrary."""
    ints = st.integers(-(2 ** min(t.width + 2, 52)), 2 ** min(t.width + 2, 52))
    grid = [np.ldexp(float(m), -t.fractional - 1) for m in draw(st.lists(ints, max_size=n))]
    floats = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
    return np.array(grid + draw(st.lists(floats, max_size=n)), dtype=np.float64)
