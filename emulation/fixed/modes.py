"""Rounding (quantisation) and overflow modes of ``ap_fixed``, as the headers name them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Overflow", "Rounding"]


class Rounding(StrEnum):
    """Quantisation modes of ``ap_fixed`` (what happens to bits below the LSB)."""

    TRN = "AP_TRN"  # toward -inf (floor): the default
    TRN_ZERO = "AP_TRN_ZERO"  # toward zero
    RND = "AP_RND"  # to nearest, ties toward +inf
    RND_ZERO = "AP_RND_ZERO"  # to nearest, ties toward zero
    RND_MIN_INF = "AP_RND_MIN_INF"  # to nearest, ties toward -inf
    RND_INF = "AP_RND_INF"  # to nearest, ties away from zero
    RND_CONV = "AP_RND_CONV"  # to nearest, ties to even


class Overflow(StrEnum):
    """Overflow modes of ``ap_fixed`` (what happens to values outside the range)."""

    WRAP = "AP_WRAP"  # modulo 2^W (two's complement): the default
    SAT = "AP_SAT"  # clamp to [min, max]
    SAT_ZERO = "AP_SAT_ZERO"  # overflowed values become 0
    SAT_SYM = "AP_SAT_SYM"  # clamp to [-max, max] (signed), like SAT when unsigned
