"""`emulation.fixed`: parsing, printing, construction, ranges and hand-worked quantisation
cases (ties, integer types, saturation bits, wide values, large arrays).

The bit-exact proof against the C++ headers is in ``test_fixed_cpp.py``; the properties checked
against a plain Python-integer reference for every width are in ``test_fixed_properties.py``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings

from emulation.errors import ConfigError, DataError
from emulation.fixed import FixedType, Overflow, Rounding, accumulate_type, product_type, sum_type
from tests.support.fixed_strategies import fixed_types

# --------------------------------------------------------------------------- parse / print
ACCEPTED = {
    "ap_fixed<16,6>": FixedType(16, 6),
    "ap_fixed<16,6,AP_RND,AP_SAT>": FixedType(16, 6, True, "RND", "SAT"),
    "ap_fixed<16, 6, AP_RND_CONV, AP_SAT_SYM, 0>": FixedType(16, 6, True, "RND_CONV", "SAT_SYM"),
    "fixed<16,6,RND,SAT>": FixedType(16, 6, True, "RND", "SAT"),
    "ufixed<8,0>": FixedType(8, 0, False),
    "ap_ufixed<8,-2,AP_TRN_ZERO,AP_WRAP,3>": FixedType(8, -2, False, "TRN_ZERO", "WRAP", 3),
    "ap_int<8>": FixedType.integer_type(8),
    "int<8>": FixedType.integer_type(8),
    "uint<4>": FixedType.integer_type(4, signed=False),
    "ap_uint<4>": FixedType.integer_type(4, signed=False),
    " ap_fixed < 18 , 8 , rnd , sat > ": FixedType(18, 8, True, "RND", "SAT"),
    "fixed<16,6,TRN,WRAP,0>": FixedType(16, 6),  # what hls4ml's str() writes
    "ap_fixed<16,6,AC_RND,AC_SAT>": FixedType(16, 6, True, "RND", "SAT"),  # hls4ml strips AC_
}

MALFORMED = [
    "ap_fixed<16>",
    "ap_fixed<0,6>",
    "ap_int<0>",
    "ap_fixed<16,6,AP_RNDCONV>",
    "ap_fixed<16,6,AP_RND,AP_SATURATE>",
    "ap_fixed<16,6,AP_RND,AP_SAT,-1>",
    "ap_fixed<16,6,AP_RND,AP_SAT,17>",
    "ap_fixed<16,6,AP_RND,AP_SAT,0,1>",
    "ap_fixed<16,6",
    "ap_fixed<a,b>",
    "ap_int<8,3>",
    "ap_fixed<2000,6>",
    "auto",
    "float",
    "garbage",
    "",
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED.items())
def test_parse_accepts_hls4ml_spellings(text: str, expected: FixedType) -> None:
    """Every spelling hls4ml accepts in a config parses to the right type."""
    assert FixedType.parse(text) == expected


@pytest.mark.parametrize("text", MALFORMED)
def test_parse_rejects_malformed_with_the_text_quoted(text: str) -> None:
    """A malformed precision raises ConfigError quoting the text."""
    with pytest.raises(ConfigError, match="cannot parse precision") as info:
        FixedType.parse(text)
    assert repr(text) in str(info.value)


def test_parse_error_shows_the_accepted_form() -> None:
    """A malformed shape names the accepted form."""
    with pytest.raises(ConfigError, match=r"expected ap_\[u\]fixed<W,I\[,Q\[,O\[,N\]\]\]>"):
        FixedType.parse("ap_fixed<16>")


def test_parse_error_lists_the_allowed_modes() -> None:
    """An unknown mode lists the allowed ones."""
    with pytest.raises(ConfigError, match=r"AP_TRN, AP_TRN_ZERO, AP_RND, .*, AP_RND_CONV"):
        FixedType.parse("ap_fixed<16,6,AP_RNDCONV>")
    with pytest.raises(ConfigError, match="AP_WRAP, AP_SAT, AP_SAT_ZERO, AP_SAT_SYM"):
        FixedType.parse("ap_fixed<16,6,AP_RND,SATURATE>")


@settings(deadline=None)
@given(fixed_types(max_width=200))
def test_printing_round_trips_through_parse(t: FixedType) -> None:
    """parse(to_hls()) and parse(to_config()) give the type back; str is to_hls."""
    assert FixedType.parse(t.to_hls()) == t
    assert FixedType.parse(t.to_config()) == t
    assert str(t) == t.to_hls()


def test_printing_omits_default_modes() -> None:
    """Default trailing modes are omitted; integer types print as ap_int/int."""
    assert FixedType(16, 6).to_hls() == "ap_fixed<16,6>"
    assert FixedType(16, 6, True, "RND").to_hls() == "ap_fixed<16,6,AP_RND>"
    assert FixedType(16, 6, False, "TRN", "SAT").to_hls() == "ap_ufixed<16,6,AP_TRN,AP_SAT>"
    assert FixedType(16, 6, True, "TRN", "WRAP", 2).to_config() == "fixed<16,6,TRN,WRAP,2>"
    assert FixedType.integer_type(8, signed=False).to_hls() == "ap_uint<8>"
    assert FixedType.integer_type(8).to_config() == "int<8>"
    assert FixedType(8, 8).to_hls() == "ap_fixed<8,8>"  # floors, unlike ap_int<8>


@settings(max_examples=50, deadline=None)
@given(fixed_types(max_width=200))
def test_hls4ml_reads_to_config_back(t: FixedType) -> None:
    """hls4ml's own precision parser reads to_config() to the same type."""
    from hls4ml.backends.fpga.fpga_backend import FPGABackend
    from hls4ml.model.types import IntegerPrecisionType

    theirs = FPGABackend.convert_precision_string(t.to_config())
    assert (theirs.width, theirs.signed) == (t.width, t.signed)
    if t.is_integer_type:
        assert isinstance(theirs, IntegerPrecisionType)
        return
    assert theirs.integer == t.integer
    assert theirs.rounding_mode.name == t.rounding.name
    assert theirs.saturation_mode.name == t.overflow.name
    assert theirs.saturation_bits == t.sat_bits


# ---------------------------------------------------------------------------- construction
def test_modes_given_as_strings_become_enums() -> None:
    """Mode names with or without AP_ are coerced to the enums."""
    t = FixedType(8, 3, rounding="AP_RND_CONV", overflow="sat_sym")
    assert t.rounding is Rounding.RND_CONV and t.overflow is Overflow.SAT_SYM


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 0), "width must be in"),
        ((8, 3, True, "RND", "WRAP", 9), "sat_bits must be in"),
        ((8, 3, True, "RNDX"), "unknown rounding mode 'RNDX'"),
        ((8, 3, True, "RND", "WRAPX"), "unknown overflow mode 'WRAPX'"),
        ((1100, 20), "width must be in"),
        ((1000, -30), "fractional bits"),
        ((8, 1030), "integer bits"),
        ((8.0, 3), "width must be an int"),
        ((8, 3, "yes"), "signed must be a bool"),
    ],
)
def test_invalid_types_raise_config_error(args: tuple, message: str) -> None:
    """Invalid fields raise ConfigError (never assert) with the reason."""
    with pytest.raises(ConfigError, match=message):
        FixedType(*args)


def test_lsb_min_max() -> None:
    """lsb, min and max follow W, I, the sign and SAT_SYM."""
    t = FixedType(16, 6)
    assert (t.fractional, t.lsb, t.min, t.max) == (10, 2**-10, -32.0, 32 - 2**-10)
    u = FixedType(8, 0, signed=False)
    assert (u.lsb, u.min, u.max) == (2**-8, 0.0, 1 - 2**-8)
    s = FixedType(8, 3, overflow="SAT_SYM")
    assert s.min == -s.max == -(4 - 2**-5)
    assert FixedType(1, 1, overflow="SAT_SYM").min == -1.0  # the header keeps -1 for W = 1
    assert FixedType(4, 8).lsb == 16.0 and FixedType(4, 8).max == 112.0
    assert FixedType.integer_type(8).is_integer_type and not FixedType(8, 8).is_integer_type


def test_wide_values_are_the_nearest_double() -> None:
    """For W > 53 an unrepresentable value comes back as the nearest double."""
    t = FixedType(64, 64, overflow="SAT")
    assert t.quantize_raw([1e30])[0] == 2**63 - 1
    assert t.quantize([1e30])[0] == 2.0**63
    assert FixedType(64, 64, signed=False).quantize_raw([2.0**64 - 2048])[0] == 2**64 - 2048


@pytest.mark.parametrize(
    "spec",
    ["ap_fixed<54,24>", "ap_fixed<60,10,AP_RND,AP_SAT>", "ap_ufixed<54,4,AP_RND_CONV,AP_WRAP,1>",
     "ap_fixed<54,54,AP_TRN_ZERO,AP_SAT_SYM>", "ap_uint<56>"],
)  # fmt: skip
def test_wide_quantize_in_float_at_the_2_to_53_edge(spec):
    """A wide cast whose mantissas all stay below 2^53 skips the integers; at and past 2^53
    (and below 0 unsigned) it takes them: both equal the exact mantissas, masks included."""
    t = FixedType.parse(spec)
    edge = np.array([2.0**53 - 1, 2.0**53 - 2, -(2.0**53 - 1), 3.5, -0.25, 0.0, -7.75])
    below = np.ldexp(np.concatenate([edge, edge + 0.5, edge - 0.25]), -t.fractional)
    for x in (below, np.append(below, np.ldexp(2.0**53, -t.fractional)), np.array([2.0**60])):
        y, mask = t.quantize(x, return_overflow=True)
        raw, want_mask = t.quantize_raw(x, return_overflow=True)
        want = [float(Fraction(int(m)) * Fraction(2) ** -t.fractional) for m in raw.tolist()]
        assert y.tolist() == want, spec
        assert np.array_equal(mask, want_mask), spec


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_raise_data_error(bad: float) -> None:
    """NaN or infinite input raises DataError naming the count and the first index."""
    x = np.array([0.5, 1.0, bad, 2.0, bad])
    with pytest.raises(DataError, match=r"2 NaN or infinite value\(s\) \(first at index 2\)"):
        FixedType(16, 6).quantize(x)


def test_overflow_mask_marks_wrapped_and_saturated_values() -> None:
    """The mask marks values outside the range, and -2^(W-1) under signed SAT_SYM."""
    x = np.array([-9.0, -8.0, -7.5, 0.0, 7.75, 8.0, 100.0])
    for mode in ("WRAP", "SAT", "SAT_ZERO"):
        _, mask = FixedType(6, 4, overflow=mode).quantize(x, return_overflow=True)
        assert mask.tolist() == [True, False, False, False, False, True, True]
    y, mask = FixedType(6, 4, overflow="SAT_SYM").quantize(x, return_overflow=True)
    assert mask.tolist() == [True, True, False, False, False, True, True]
    assert y.tolist() == [-7.75, -7.75, -7.5, 0.0, 7.75, 7.75, 7.75]


def test_rounding_modes_on_ties() -> None:
    """Each rounding mode sends half-LSB ties where its name says."""
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.49999999999999994])
    expected = {
        "TRN": [-3, -2, -1, 0, 1, 2, -1],
        "TRN_ZERO": [-2, -1, 0, 0, 1, 2, 0],
        "RND": [-2, -1, 0, 1, 2, 3, 0],
        "RND_ZERO": [-2, -1, 0, 0, 1, 2, 0],
        "RND_MIN_INF": [-3, -2, -1, 0, 1, 2, 0],
        "RND_INF": [-3, -2, -1, 1, 2, 3, 0],
        "RND_CONV": [-2, -2, 0, 0, 2, 2, 0],
    }
    for mode, want in expected.items():
        assert FixedType(8, 8, rounding=mode).quantize(x).tolist() == want, mode


def test_integer_types_round_toward_zero_and_keep_the_double_quirk() -> None:
    """ap_int converts toward zero; from a double, (-0.5, 0) becomes +1 as in the header."""
    t = FixedType.integer_type(8)
    x = np.array([-0.3, -0.7, -1.5, 2.7, 200.0])
    assert t.quantize(x).tolist() == [0, 0, -1, 2, -56]
    assert t.quantize(x, from_double=True).tolist() == [1, 0, -1, 2, -56]


def test_wrap_with_saturation_bits() -> None:
    """AP_WRAP with N > 0 keeps the low W - N bits and saturates the top N."""
    t = FixedType(8, 8, overflow="WRAP", sat_bits=2)
    # 300 = 0b1_0010_1100: low 6 bits 44, top two bits 01 (positive): 64 + 44
    assert t.quantize([300.0, -300.0]).tolist() == [108.0, -128.0 + (-300 % 64)]
    u = FixedType(8, 8, signed=False, overflow="WRAP", sat_bits=2)
    assert u.quantize([300.0, -1.0]).tolist() == [192.0 + 44, 192.0 + 63]


def test_shape_and_scalars_are_kept() -> None:
    """quantize keeps the input's shape; a scalar gives a 0-d array."""
    t = FixedType(8, 3)
    assert t.quantize(np.zeros((2, 3, 4))).shape == (2, 3, 4)
    assert t.quantize(0.3).shape == ()
    assert t.quantize_raw(np.zeros((0, 3))).shape == (0, 3)


def test_type_rules() -> None:
    """product_type, sum_type and accumulate_type follow ap_fixed's RType rules."""
    a, b = FixedType(16, 6), FixedType(8, 3, signed=False)
    assert product_type(a, b) == FixedType(24, 9)
    assert sum_type(a, b) == FixedType(17, 7)
    assert sum_type(b, b) == FixedType(9, 4, signed=False)
    assert accumulate_type(a, 16) == FixedType(20, 10)
    assert accumulate_type(a, 1) == a
    i8 = FixedType.integer_type(8)
    assert product_type(i8, i8) == FixedType.integer_type(16)
    assert product_type(i8, a) == FixedType(24, 14)
    with pytest.raises(ConfigError, match=r"^number of terms must be >= 1; got 0$"):
        accumulate_type(a, 0)


def test_large_arrays_match_small_pieces() -> None:
    """Arrays spanning many cache blocks give the same values and mask as small pieces."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(200_003) * 40.0
    x[::997] = 0.5  # ties
    for spec in ("ap_fixed<8,6,AP_RND,AP_WRAP,2>", "ap_ufixed<10,4,AP_RND_INF,AP_SAT_SYM>"):
        t = FixedType.parse(spec)
        y, mask = t.quantize(x, return_overflow=True)
        pieces = [t.quantize(x[i : i + 999], return_overflow=True) for i in range(0, x.size, 999)]
        assert np.array_equal(y, np.concatenate([p[0] for p in pieces])), spec
        assert np.array_equal(mask, np.concatenate([p[1] for p in pieces])), spec


def test_nan_far_into_a_large_array_is_reported_at_its_index() -> None:
    """A NaN after the first cache blocks is found and reported at its own index."""
    x = np.zeros((3, 100_000))
    x[2, 12_345] = np.nan
    with pytest.raises(
        DataError, match=r"1 NaN or infinite value\(s\) \(first at index \(2, 12345\)"
    ):
        FixedType(16, 6).quantize(x)


@pytest.mark.parametrize(
    "spec", ["ap_fixed<16,6>", "ap_fixed<53,40>", "ap_ufixed<12,3>", "ap_fixed<1,1>"]
)
def test_whole_block_wrap_at_the_2_to_52_switch(spec):
    """Plain AP_WRAP in float64 (one floor below 2^52, a remainder and a fix-up beyond) equals
    Python-int wrapping on mantissas around +-2^52, +-2^53 and far beyond, mixed in one block."""
    t = FixedType.parse(spec)
    rng = np.random.default_rng(0)
    q = [s * ((1 << e) + d) for e in (52, 53, 60) for d in range(-4, 5) for s in (1, -1)]
    q += [int(v) for v in rng.integers(-(1 << 62), 1 << 62, 2000)]
    q += [int(v) for v in rng.integers(-(1 << 20), 1 << 20, 2000)]
    x = np.ldexp(np.array([float(v) for v in q]), -t.fractional)
    exact = [int(v) for v in np.ldexp(x, t.fractional).tolist()]  # the doubles' own integers
    period, half = 1 << t.width, 1 << (t.width - 1)
    want = [(v + half) % period - half if t.signed else v % period for v in exact]
    assert t.quantize_raw(x).tolist() == want
    assert t.quantize_raw(x[-2000:]).tolist() == want[-2000:]  # small values alone
