"""The integer bits a largest |value| needs: the one home of that rule, for the tuner's ranges
and the checker's fixes.
"""

from __future__ import annotations

import numpy as np

from emulation.fixed.types import FixedType

__all__ = ["fitting", "integer_bits"]


def integer_bits(max_abs: float, signed: bool) -> int:
    """Fewest integer bits (sign included) whose range holds ``max_abs`` without overflow.

    Signed ``ap_fixed<W,I>`` holds [-2^(I-1), 2^(I-1)); unsigned holds [0, 2^I). The value
    itself lies on a grid at least as fine as the type's, so ``2^(I-1) > max_abs`` suffices.
    """
    if max_abs <= 0:
        return 1 if signed else 0
    bits = int(np.floor(np.log2(max_abs))) + 1  # 2^bits > max_abs
    return bits + 1 if signed else bits


def fitting(t: FixedType, max_abs: float) -> FixedType:
    """``t`` with enough integer bits that its largest value reaches ``max_abs``, the same
    fractional bits and modes, and at least one integer bit more than ``t``.

    For a value that overflowed ``t``: one just below a power of two can round up past the
    top, and counting its integer bits alone (`integer_bits`) would suggest ``t`` itself.
    """
    need = integer_bits(max_abs, t.signed) if max_abs > 0 else 1
    if 2.0 ** (need - int(t.signed)) - t.lsb < max_abs:  # the largest value with ``need`` bits
        need += 1
    integer = max(t.integer + 1, need)
    return FixedType(t.fractional + integer, integer, t.signed, t.rounding, t.overflow, t.sat_bits)
