"""`FixedType`: the ``ap_fixed``, ``ap_ufixed``, ``ap_int`` and ``ap_uint`` types of the
Vivado/Vitis ``ap_types`` headers, with every rounding (quantisation) and overflow mode of
``ap_fixed_base.h``; its parser, its printer and exact quantisation. `FixedType.quantize`
reproduces the C++ conversion ``ap_fixed<...> y = (double)x;`` bit for bit in vectorised NumPy;
`quantize_raw` and `requantize_raw` give exact integer mantissas for every width (int64/uint64 up
to 64 bits, Python ints beyond). Import it from `emulation.fixed`.

Exactness: x * 2^F is exact in float64 (a power of two; an underflow only matters through sign
and non-zeroness, an overflow to inf only through the overflow mode), and floor/trunc/rint and
s - rint(s) are exact, so the rounded mantissa is an exact integer held in a double for every
width. Only wrapping values wider than 53 bits needs integer arithmetic.

Notes on what the headers really do (each is proven by ``tests/emulation/test_fixed_cpp.py``):

- ``ap_int<W>`` / ``ap_uint<W>`` convert like C integers: toward zero, then modulo 2^W. They
  are therefore ``FixedType(W, W, rounding=TRN_ZERO)`` here, not ``ap_fixed<W,W>`` (which
  floors). From a double the header has one more quirk: a negative double in (-0.5, 0) becomes
  +1 (``ap_int_base(double)`` sign-extends a shift that lost every bit, then negates it).
  ``quantize(x, from_double=True)`` reproduces it; by default `quantize` converts as from a
  fixed-point value (``ap_int(ap_fixed)``, no quirk), which is what layer casts need.
- ``AP_SAT_SYM`` on a signed type saturates to -(2^(W-1) - 1) LSBs, and also moves an exact
  -2^(W-1) there (the overflow mask marks it). For W = 1 the header keeps -1.
- ``AP_WRAP`` with N = ``sat_bits`` > 0 wraps the low W - N bits and, on overflow, sets the top
  N bits: signed, the sign bit to the sign of the source and the next N - 1 bits to its
  inverse; unsigned, all N bits to one (also on underflow).
- A fixed-to-fixed cast that rounds aborts in the header (``get_bit`` assertion) when the
  target's LSB lies more than the source's width above the source's LSB; `requantize_raw`
  returns the mathematically defined value there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from emulation.errors import ConfigError, DataError
from emulation.fixed.kernels import as_float64, quantize_float
from emulation.fixed.kernels_int import quantize_wide, raw_wide, requantize
from emulation.fixed.modes import Overflow, Rounding

__all__ = ["FLOAT_EXACT_WIDTH", "INT64_BITS", "FixedType"]

# Widths the ap_types headers accept without AP_INT_MAX_W.
MAX_WIDTH = 1024
# The LSB 2^-F must be a normal double so every value of the type is exact (or 0) in float64.
MAX_FRACTIONAL = 1022
# The largest magnitude 2^(I - 1) (2^I unsigned) must be finite.
MAX_INTEGER = 1023
# Widths whose every value (mantissa below 2^53) is exact in float64.
FLOAT_EXACT_WIDTH = 53
#: Headroom of exact int64 mantissa arithmetic: sums and products of values below 2^62 stay
#: exact in int64 (with ``FLOAT_EXACT_WIDTH``, the one home of the emulator's bit budgets).
INT64_BITS = 62


_EXPECTED = "expected ap_[u]fixed<W,I[,Q[,O[,N]]]> or ap_[u]int<W>"
_SPELLING = re.compile(r"(?:ap_)?(u?)(fixed|int)<([^<>]*)>")
_INT = re.compile(r"[+-]?\d+")


def _allowed(enum: type[Enum]) -> str:
    return ", ".join(m.value for m in enum)


def _coerce_mode(value: Any, enum: type[Rounding] | type[Overflow], what: str) -> Any:
    """An enum member from a member or a name: ``"AP_RND"``, ``"RND"``, ``"rnd"``, ``"AC_RND"``."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        key = value.strip().upper()
        key = key[3:] if key.startswith(("AP_", "AC_")) else key
        if key in enum.__members__:
            return enum.__members__[key]
    raise ConfigError(f"unknown {what} mode {value!r}; expected one of {_allowed(enum)}")


@dataclass(frozen=True)
class FixedType:
    """An ``ap_[u]fixed<W, I, Q, O, N>`` (or ``ap_[u]int<W>``) type.

    Parameters
    ----------
    width : W, total bits, 1..1024.
    integer : I, integer bits including the sign bit; may be negative or exceed W.
    signed : two's complement (``ap_fixed``) or unsigned (``ap_ufixed``).
    rounding : quantisation mode; a `Rounding` or its name (``"AP_RND"`` or ``"RND"``).
    overflow : overflow mode; an `Overflow` or its name.
    sat_bits : N, saturation bits of ``AP_WRAP`` (0..W); ignored by the SAT modes.

    Examples
    --------
    >>> t = FixedType.parse("ap_fixed<8,3,AP_RND,AP_SAT>")
    >>> t.quantize([0.1, 5.0, -7.0]).tolist()
    [0.09375, 3.96875, -4.0]
    """

    width: int
    integer: int
    signed: bool = True
    rounding: Rounding = Rounding.TRN
    overflow: Overflow = Overflow.WRAP
    sat_bits: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "integer", "sat_bits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ConfigError(f"{name} must be an int; got {value!r}")
            object.__setattr__(self, name, int(value))
        if not isinstance(self.signed, bool | np.bool_):
            raise ConfigError(f"signed must be a bool; got {self.signed!r}")
        object.__setattr__(self, "signed", bool(self.signed))
        object.__setattr__(self, "rounding", _coerce_mode(self.rounding, Rounding, "rounding"))
        object.__setattr__(self, "overflow", _coerce_mode(self.overflow, Overflow, "overflow"))
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(
                f"width must be in [1, {MAX_WIDTH}]; got {self.width} in {self._spec()}"
            )
        if self.fractional > MAX_FRACTIONAL:
            raise ConfigError(
                f"{self._spec()} has {self.fractional} fractional bits; at most "
                f"{MAX_FRACTIONAL} are supported (its LSB would be a subnormal double): "
                "raise the integer bits or lower the width"
            )
        if self.integer > MAX_INTEGER:
            raise ConfigError(
                f"{self._spec()} has {self.integer} integer bits; at most {MAX_INTEGER} are "
                "supported (its range would exceed float64)"
            )
        if not 0 <= self.sat_bits <= self.width:
            raise ConfigError(
                f"sat_bits must be in [0, width={self.width}]; got {self.sat_bits} in "
                f"{self._spec()}"
            )

    def _spec(self) -> str:
        # Plain spelling for error messages, safe before validation finished.
        u = "" if self.signed else "u"
        return f"ap_{u}fixed<{self.width},{self.integer}>"

    # ----------------------------------------------------------------------------- properties
    @property
    def fractional(self) -> int:
        """F = W - I, the number of fractional bits (negative when I > W)."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        """Value of one LSB, 2^-F."""
        return float(np.ldexp(1.0, -self.fractional))

    @property
    def min_raw(self) -> int:
        """Smallest mantissa a conversion can produce (SAT_SYM excludes -2^(W-1))."""
        if not self.signed:
            return 0
        low = -(1 << (self.width - 1))
        if self.overflow is Overflow.SAT_SYM and self.width > 1:
            return low + 1
        return low

    @property
    def max_raw(self) -> int:
        """Largest mantissa, 2^(W-1) - 1 (signed) or 2^W - 1 (unsigned)."""
        return (1 << (self.width - self.signed)) - 1

    @property
    def min(self) -> float:
        """Smallest value a conversion can produce (nearest float64 when W > 53)."""
        return float(np.ldexp(float(self.min_raw), -self.fractional))

    @property
    def max(self) -> float:
        """Largest value (nearest float64 when W > 53)."""
        return float(np.ldexp(float(self.max_raw), -self.fractional))

    @property
    def is_integer_type(self) -> bool:
        """True for the types written ``ap_int<W>`` / ``ap_uint<W>``.

        That is I = W with C integer conversion (``AP_TRN_ZERO``, ``AP_WRAP``, N = 0).
        """
        return (
            self.integer == self.width
            and self.rounding is Rounding.TRN_ZERO
            and self.overflow is Overflow.WRAP
            and self.sat_bits == 0
        )

    def holds(self, other: FixedType) -> bool:
        """Whether every value of ``other`` (its whole two's-complement range) is a value of
        this type: a cast from ``other`` to this type is then the identity, in every mode."""
        shift = self.fractional - other.fractional
        if shift < 0:
            return False
        low = -(1 << (other.width - 1)) if other.signed else 0
        high = (1 << (other.width - other.signed)) - 1
        return self.min_raw <= low << shift and high << shift <= self.max_raw

    @property
    def exact_in_float(self) -> bool:
        """True when every value of the type is exact in float64 (W <= 53)."""
        return self.width <= FLOAT_EXACT_WIDTH

    # ------------------------------------------------------------------------ construction
    @classmethod
    def integer_type(cls, width: int, signed: bool = True) -> FixedType:
        """The type of ``ap_int<width>`` (or ``ap_uint<width>``): C conversion toward zero."""
        return cls(width, width, signed, Rounding.TRN_ZERO, Overflow.WRAP, 0)

    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Read any spelling hls4ml accepts in a config.

        ``ap_fixed<16,6>``, ``ap_fixed<16,6,AP_RND,AP_SAT>``, ``fixed<16, 6, RND_CONV, SAT_SYM,
        0>``, ``ap_ufixed<8,0>``, ``ufixed<8,0>``, ``ap_int<8>``, ``int<8>``, ``uint<4>``,
        ``ap_uint<4>``; whitespace anywhere; modes with or without ``AP_``, any case.
        """
        if isinstance(text, FixedType):
            return text
        if not isinstance(text, str):
            raise ConfigError(f"cannot parse precision {text!r}: {_EXPECTED}")
        compact = re.sub(r"\s+", "", text)
        match = _SPELLING.fullmatch(compact)
        if match is None:
            raise ConfigError(f"cannot parse precision {text!r}: {_EXPECTED}")
        unsigned, kind, args = match.groups()
        fields = args.split(",")
        n_numeric = 2 if kind == "fixed" else 1
        n_max = 5 if kind == "fixed" else 1
        if not n_numeric <= len(fields) <= n_max or not all(
            _INT.fullmatch(f) for f in fields[:n_numeric]
        ):
            raise ConfigError(f"cannot parse precision {text!r}: {_EXPECTED}")
        width = int(fields[0])
        if kind == "int":
            try:
                return cls.integer_type(width, signed=not unsigned)
            except ConfigError as exc:
                raise ConfigError(f"cannot parse precision {text!r}: {exc}") from None
        integer = int(fields[1])
        rounding: Any = Rounding.TRN
        overflow: Any = Overflow.WRAP
        sat_bits = 0
        try:
            if len(fields) > 2:
                rounding = _coerce_mode(fields[2], Rounding, "rounding")
            if len(fields) > 3:
                overflow = _coerce_mode(fields[3], Overflow, "overflow")
            if len(fields) > 4:
                if not _INT.fullmatch(fields[4]):
                    raise ConfigError(f"saturation bits must be an int; got {fields[4]!r}")
                sat_bits = int(fields[4])
            return cls(width, integer, not unsigned, rounding, overflow, sat_bits)
        except ConfigError as exc:
            raise ConfigError(f"cannot parse precision {text!r}: {exc}") from None

    # ---------------------------------------------------------------------------- printing
    def _mode_args(self, prefix: bool) -> list[str]:
        def name(mode: Enum) -> str:
            return mode.value if prefix else mode.name

        if self.sat_bits:
            return [name(self.rounding), name(self.overflow), str(self.sat_bits)]
        if self.overflow is not Overflow.WRAP:
            return [name(self.rounding), name(self.overflow)]
        if self.rounding is not Rounding.TRN:
            return [name(self.rounding)]
        return []

    def to_hls(self) -> str:
        """C++ spelling: ``ap_fixed<16,6,AP_RND,AP_SAT>``, ``ap_int<8>``; default modes omitted."""
        u = "" if self.signed else "u"
        if self.is_integer_type:
            return f"ap_{u}int<{self.width}>"
        args = [str(self.width), str(self.integer), *self._mode_args(prefix=True)]
        return f"ap_{u}fixed<{','.join(args)}>"

    def to_config(self) -> str:
        """hls4ml config spelling: ``fixed<16,6>``, ``fixed<16,6,RND,SAT>``, ``uint<4>``.

        The form ``config_from_keras_model`` writes (its default is ``fixed<16,6>``; layer
        entries are ``str(FixedPrecisionType)``, e.g. ``fixed<16,6,TRN,WRAP,0>``), with default
        trailing modes omitted. hls4ml 1.3 reads both this and `to_hls` back to the same
        precision (tested); it writes ``ap_int<W>`` into the C++ for ``int<W>``.
        """
        u = "" if self.signed else "u"
        if self.is_integer_type:
            return f"{u}int<{self.width}>"
        args = [str(self.width), str(self.integer), *self._mode_args(prefix=False)]
        return f"{u}fixed<{','.join(args)}>"

    def __str__(self) -> str:
        return self.to_hls()

    # ------------------------------------------------------------------------ quantisation
    def quantize(
        self, x: Any, *, return_overflow: bool = False, from_double: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Convert float64 values as C++ ``T y = (double)x;`` does.

        Parameters
        ----------
        x : array-like of float64 (float32 converts exactly), e.g. exact values of another
            `FixedType` held in float64.
        return_overflow : also return a bool mask of the values that were outside the range
            before the overflow mode acted (wrapped or saturated; for signed ``AP_SAT_SYM`` also
            an exact -2^(W-1) LSBs).
        from_double : only matters for integer types (``ap_int``/``ap_uint``): True reproduces
            the header's double constructor, which turns a negative x in (-0.5, 0) into +1;
            False (default) converts as from a fixed-point value (to 0), as layer casts do.
            Use True for the conversion of a model's float input.

        Returns
        -------
        values : float64 array of x's shape, exactly the C++ value for W <= 53. For W > 53 it
            is exact when the value is representable in float64 and the nearest float64
            otherwise; `quantize_raw` gives the exact mantissa.
        mask : bool array, only with ``return_overflow``.

        Raises
        ------
        DataError : when x holds NaN or infinity.
        """
        if self.width <= FLOAT_EXACT_WIDTH:
            y, mask = quantize_float(np.asarray(x, np.float64), self, from_double, return_overflow)
        else:
            y, mask = quantize_wide(as_float64(x), self, from_double)
        return (y, mask) if return_overflow else y

    def quantize_raw(
        self, x: Any, *, return_overflow: bool = False, from_double: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Like `quantize`, but return the exact integer mantissas (value = m * 2^-F).

        The dtype is int64 for W <= 64 (uint64 for an unsigned W = 64) and an object array of
        Python ints beyond.
        """
        if self.width <= FLOAT_EXACT_WIDTH:
            y, mask = quantize_float(np.asarray(x, np.float64), self, from_double, return_overflow)
            raw = np.ldexp(y, self.fractional).astype(np.int64)
        else:
            raw, mask = raw_wide(as_float64(x), self, from_double)
        return (raw, mask) if return_overflow else raw

    def requantize_raw(
        self, mantissa: Any, source: FixedType, *, return_overflow: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Cast exact values of ``source``, given as integer mantissas, to this type.

        Follows ``ap_fixed_base::operator=`` (and ``ap_int(ap_fixed)``: integer types round
        toward zero). ``mantissa`` is an int64/uint64 array or an object array of Python ints
        (as `quantize_raw` returns); the result has this type's mantissa dtype.
        """
        m = np.asarray(mantissa)
        if m.dtype.kind not in "iuO":
            raise DataError(f"mantissas must be integers; got dtype {m.dtype}")
        raw, mask = requantize(m, self.fractional - source.fractional, self)
        return (raw, mask) if return_overflow else raw
