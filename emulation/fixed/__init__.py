"""W = width: total bits of the mantissa m (two's complement when signed); value = m * 2^-F.
I = integer bits including the sign bit (may be negative or exceed W); F = W - I fractional.
quantizers' k, i, f: k = 1 if signed else 0, i = I - k (integer bits without sign), f = F.

Fixed-point types of the Vivado/Vitis ``ap_types`` headers, and exact quantisation: the one
place the rest of aptune imports them from. Each idea has its own module:

- `emulation.fixed.types`: `FixedType` (parse, print, quantize) and the bit budgets;
- `emulation.fixed.modes`: the `Rounding` and `Overflow` modes;
- `emulation.fixed.arith`: the C++ result types of products and sums;
- `emulation.fixed.bits`: the integer bits a largest |value| needs;
- `emulation.fixed.kernels` and `emulation.fixed.kernels_int`: the vectorised kernels.
"""

from __future__ import annotations

from emulation.fixed.arith import accumulate_type, product_type, sum_type
from emulation.fixed.bits import fitting, integer_bits
from emulation.fixed.modes import Overflow, Rounding
from emulation.fixed.types import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType

__all__ = [
    "FLOAT_EXACT_WIDTH",
    "INT64_BITS",
    "FixedType",
    "Overflow",
    "Rounding",
    "accumulate_type",
    "fitting",
    "integer_bits",
    "product_type",
    "sum_type",
]
