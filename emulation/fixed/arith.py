"""The types of C++ arithmetic on ``ap_fixed``/``ap_int`` (the headers' ``RType``): the type of
a product, of a sum, and of a sum of n terms, each holding every result exactly.
"""

from __future__ import annotations

from emulation.errors import ConfigError
from emulation.fixed.types import FixedType

__all__ = ["accumulate_type", "product_type", "sum_type"]


def _result(width: int, integer: int, signed: bool, a: FixedType, b: FixedType) -> FixedType:
    # ap_int op ap_int is an ap_int (ap_int_base::RType); anything with an ap_fixed operand is
    # an ap_[u]fixed with the default modes (ap_fixed_base::RType via _ap_fixed_factory).
    if a.is_integer_type and b.is_integer_type:
        return FixedType.integer_type(width, signed)
    return FixedType(width, integer, signed)


def product_type(a: FixedType, b: FixedType) -> FixedType:
    """Type of ``a * b`` in C++ (``RType::mult``): it holds every product exactly.

    W = Wa + Wb, I = Ia + Ib, signed if either is; ``AP_TRN``, ``AP_WRAP`` (``ap_int`` when
    both operands are integer types).
    """
    return _result(a.width + b.width, a.integer + b.integer, a.signed or b.signed, a, b)


def sum_type(a: FixedType, b: FixedType) -> FixedType:
    """Type of ``a + b`` in C++ (``RType::plus``): it holds every sum exactly.

    I = max(Ia + [b signed, a not], Ib + [a signed, b not]) + 1, F = max(Fa, Fb).
    """
    i = max(a.integer + (b.signed and not a.signed), b.integer + (a.signed and not b.signed)) + 1
    f = max(a.fractional, b.fractional)
    return _result(i + f, i, a.signed or b.signed, a, b)


def accumulate_type(t: FixedType, n: int) -> FixedType:
    """Type that holds any sum of ``n`` values of ``t`` exactly: ceil(log2 n) more bits."""
    if n < 1:
        raise ConfigError(f"number of terms must be >= 1; got {n}")
    extra = (n - 1).bit_length()
    return _result(t.width + extra, t.integer + extra, t.signed, t, t)
