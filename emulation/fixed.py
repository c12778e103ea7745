"""W = width: total bits of the mantissa m (two's complement when signed); value = m * 2^-F.
I = integer bits including the sign bit (may be negative or exceed W); F = W - I fractional.
quantizers' k, i, f: k = 1 if signed else 0, i = I - k (integer bits without sign), f = F.

Fixed-point types of the Vivado/Vitis ``ap_types`` headers, and exact quantisation.
`FixedType` covers ``ap_fixed``, ``ap_ufixed``, ``ap_int`` and ``ap_uint`` with every rounding
(quantisation) and overflow mode of ``ap_fixed_base.h``. `FixedType.quantize` reproduces the C++
conversion ``ap_fixed<...> y = (double)x;`` bit for bit in vectorised NumPy; `quantize_raw`
and `requantize_raw` give exact integer mantissas for every width (int64/uint64 up to 64 bits,
Python ints beyond).

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
from enum import Enum, StrEnum
from typing import Any

import numpy as np

from emulation.errors import ConfigError, DataError

__all__ = [
    "FixedType",
    "Overflow",
    "Rounding",
    "accumulate_type",
    "product_type",
    "sum_type",
]

# Widths the ap_types headers accept without AP_INT_MAX_W.
MAX_WIDTH = 1024
# The LSB 2^-F must be a normal double so every value of the type is exact (or 0) in float64.
MAX_FRACTIONAL = 1022
# The largest magnitude 2^(I - 1) (2^I unsigned) must be finite.
MAX_INTEGER = 1023
# Widths whose every value (mantissa below 2^53) is exact in float64.
FLOAT_EXACT_WIDTH = 53
# Elements processed per block: the temporaries of one block stay in the CPU cache.
_BLOCK = 1 << 16


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
            y, mask = _quantize_float(np.asarray(x, np.float64), self, from_double, return_overflow)
        else:
            raw, mask = self._raw_wide(_as_float64(x), from_double)
            y = _raw_to_float(raw, self.fractional)
        return (y, mask) if return_overflow else y

    def quantize_raw(
        self, x: Any, *, return_overflow: bool = False, from_double: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Like `quantize`, but return the exact integer mantissas (value = m * 2^-F).

        The dtype is int64 for W <= 64 (uint64 for an unsigned W = 64) and an object array of
        Python ints beyond.
        """
        if self.width <= FLOAT_EXACT_WIDTH:
            y, mask = _quantize_float(np.asarray(x, np.float64), self, from_double, return_overflow)
            raw = np.ldexp(y, self.fractional).astype(np.int64)
        else:
            raw, mask = self._raw_wide(_as_float64(x), from_double)
        return (raw, mask) if return_overflow else raw

    def _raw_wide(self, x: np.ndarray, from_double: bool) -> tuple[np.ndarray, np.ndarray]:
        # Rounding is exact in float64 for every width: the rounded mantissa of a double is an
        # integer held exactly by a double (or inf); only the overflow mode needs integers.
        q = _scaled_rounded(x, self)
        if from_double and self.is_integer_type:
            q = _integer_double_quirk(x, q)
        mask = _out_of_range(q, self)
        if self.width <= 64:
            dtype = np.uint64 if (not self.signed and self.width == 64) else np.int64
            raw = np.zeros(q.shape, dtype=dtype)
            inside = ~mask
            raw[inside] = q[inside].astype(dtype)
            if mask.any():
                raw[mask] = _overflow_int(q[mask], self).astype(dtype)
            return raw, mask
        raw = np.empty(q.shape, dtype=object)
        flat_q = q.ravel()
        flat_m = mask.ravel()
        raw.ravel()[:] = [
            _overflow_py(int(v) if np.isfinite(v) else None, self, v < 0) if m else int(v)
            for v, m in zip(flat_q.tolist(), flat_m.tolist(), strict=True)
        ]
        return raw, mask

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
        shift = self.fractional - source.fractional
        if self.width <= 64 and m.dtype.kind in "iu" and shift >= -63:
            # Vectorised in int64 (uint64 for unsigned 64-bit mantissas).
            m = m.astype(np.uint64 if m.dtype == np.uint64 else np.int64, copy=False)
            raw, mask = _requantize_int64(m, shift, self)
        else:
            flat = [int(v) for v in m.ravel().tolist()]
            pairs = [_cast_py(v, shift, self) for v in flat]
            mask = np.array([p[1] for p in pairs], dtype=bool).reshape(m.shape)
            values = [p[0] for p in pairs]
            if self.width <= 64:
                dtype = np.uint64 if (not self.signed and self.width == 64) else np.int64
                raw = np.array(values, dtype=dtype).reshape(m.shape)
            else:
                raw = np.empty(m.shape, dtype=object)
                raw.ravel()[:] = values
        return (raw, mask) if return_overflow else raw


# ----------------------------------------------------------------------------- type rules
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


# --------------------------------------------------------------------------- float kernel
def _as_float64(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    _raise_not_finite(x)
    return x


def _scaled_rounded(x: np.ndarray, t: FixedType) -> np.ndarray:
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


def _out_of_range(q: np.ndarray, t: FixedType) -> np.ndarray:
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


def _quantize_float(
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
            self._overflow(out, mask)
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

    def _overflow(self, q: np.ndarray, mask: np.ndarray | None) -> None:
        t = self.t
        n = q.size
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


def _integer_double_quirk(x: np.ndarray, q: np.ndarray) -> np.ndarray:
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
def _overflow_int(q: np.ndarray, t: FixedType) -> np.ndarray:
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


def _requantize_int64(m: np.ndarray, shift: int, t: FixedType) -> tuple[np.ndarray, np.ndarray]:
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
def _overflow_py(q: int | None, t: FixedType, negative: bool | None = None) -> int:
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


def _cast_py(m: int, shift: int, t: FixedType) -> tuple[int, bool]:
    """Cast of mantissa m scaled by 2^shift to t's mantissa; (value, overflowed)."""
    q = m << shift if shift >= 0 else _round_py(m, -shift, t.rounding)
    sym = t.signed and t.overflow is Overflow.SAT_SYM and t.width > 1
    low = -(1 << (t.width - 1)) if t.signed else 0
    if q > t.max_raw or q < low or (sym and q == low):
        return _overflow_py(q, t), True
    return q, False


def _raw_to_float(raw: np.ndarray, fractional: int) -> np.ndarray:
    """Nearest float64 of raw * 2^-F (exact when representable)."""
    if raw.dtype == object:
        flat = np.array([float(v) for v in raw.ravel().tolist()], dtype=np.float64)
        values = flat.reshape(raw.shape)
    else:
        values = raw.astype(np.float64)
    return np.ldexp(values, -fractional) + 0.0
