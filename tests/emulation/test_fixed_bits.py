"""`emulation.fixed.integer_bits` and `fitting`: the integer bits a largest |value| needs."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType, fitting, integer_bits


@pytest.mark.parametrize(
    ("max_abs", "signed", "bits"),
    [(0.0, True, 1), (0.0, False, 0), (0.99, True, 1), (1.0, True, 2), (1.0, False, 1),
     (3.75, True, 3), (4.0, True, 4), (0.25, True, 0), (0.24, True, -1), (0.2, False, -2)],
)  # fmt: skip
def test_integer_bits_at_the_boundaries(max_abs, signed, bits):
    """Signed I holds [-2^(I-1), 2^(I-1)): 1.0 needs 2 bits signed, 1 unsigned."""
    assert integer_bits(max_abs, signed) == bits


@pytest.mark.parametrize("signed", [True, False])
def test_integer_bits_is_the_fewest_that_hold_the_value(signed):
    """With I bits a grid value quantizes without overflow; with I - 1 it overflows."""
    rng = np.random.default_rng(0)
    values = np.ldexp(np.round(rng.uniform(1, 2**12, 500)), rng.integers(-20, 8, 500) - 10)
    for v in values:
        i = integer_bits(float(v), signed)
        holds = FixedType(i + 40, i, signed)
        _, over = holds.quantize(np.array([v]), return_overflow=True)
        _, under = FixedType(i + 39, i - 1, signed).quantize(np.array([v]), return_overflow=True)
        assert not over.any() and under.all(), (v, i, signed)


def test_fitting_adds_a_bit_when_the_value_rounds_past_the_top():
    """3.99 in a type with LSB 0.5 rounds up to 4: 3 integer bits hold 3.99 but not 4."""
    t = FixedType.parse("ap_fixed<4,2,AP_RND,AP_SAT>")  # LSB 0.25, max 1.75
    wider = fitting(FixedType.parse("ap_fixed<3,2,AP_RND,AP_SAT>"), 3.9)  # LSB 0.5, 3.9 -> 4.0
    assert (wider.integer, wider.fractional, wider.rounding) == (4, 1, t.rounding)
    assert not wider.quantize(np.array([3.9]), return_overflow=True)[1].any()
    assert fitting(t, 1.9) == FixedType.parse("ap_fixed<5,3,AP_RND,AP_SAT>")
