"""`emulation.layers.activation` and `parametrized` on cases worked out by hand (no compiler):
the table index, its clamping and int wrap-around, wide products, hls4ml's hard sigmoid, the
overflow count of each cast point, and the error for an activation hls4ml lacks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers import activation as act
from emulation.layers import parametrized as param
from emulation.layers import tables
from emulation.layers.base import Context, Node
from emulation.layers.exact import Caster
from tests.support.nnet_harness import DEFAULT_TABLE

T = FixedType.parse
N_SAMPLES = 1000


# ====================================================================== 1. hand-computed cases
def test_index_truncates_toward_zero_so_the_middle_bin_is_twice_as_wide() -> None:
    """x in (-16/N, 16/N) all read entry N/2: int() truncates toward zero."""
    d = T("ap_fixed<16,6>")
    x = d.quantize(np.array([-1 / 64 + d.lsb, -d.lsb, 0.0, d.lsb, 1 / 64 - d.lsb, 1 / 64]))
    q = act.c_int_of_quotient(x, d, 1024, 16)
    assert q.tolist() == [0, 0, 0, 0, 0, 1]


def test_index_clamps_inputs_beyond_the_table_range() -> None:
    """Sigmoid inputs below -8 read entry 0 and above 8 the last entry."""
    d = T("ap_fixed<16,6>")
    x = np.array([[-20.0, -8.0, 7.99, 20.0]])
    y = act.table_activation(
        x, "sigmoid", data_t=d, table_t=DEFAULT_TABLE, table_size=1024, result_t=T("ap_fixed<24,8>")
    )
    table = tables.lut_table("sigmoid", 1024, DEFAULT_TABLE)
    assert y.tolist() == [[table[0], table[0], table[1023], table[1023]]]


def test_int_conversion_keeps_the_low_32_bits() -> None:
    """A quotient of 2^33 converts to int as 0, 2^31 as -2^31 (two's complement)."""
    d = T("ap_fixed<48,32>")
    x = np.array([2.0**29, 2.0**27, -(2.0**27)])  # * 1024 / 16 = 2^35, 2^33, -2^33
    assert act.c_int_of_quotient(x, d, 1024, 16).tolist() == [0, 0, 0]
    assert act.c_int_of_quotient(np.array([2.0**25]), d, 1024, 16).tolist() == [-(2**31)]


def test_division_truncates_at_the_input_lsb_when_integer_bits_exceed_width() -> None:
    """ap_fixed<4,6> (LSB 4): 4 * 8 / 16 is 0 in C++, not 2."""
    assert act.c_int_of_quotient(np.array([4.0, 8.0]), T("ap_fixed<4,6>"), 8, 16).tolist() == [0, 4]


def test_sigmoid_table_middle_entry_is_one_half() -> None:
    """Entry N/2 is sigmoid(0) = 0.5 and entry 0 is sigmoid(-8) in table_t."""
    table = tables.lut_table("sigmoid", 1024, DEFAULT_TABLE)
    assert table[512] == 0.5
    assert table[0] == DEFAULT_TABLE.quantize(1 / (1 + np.exp(8.0)))


def test_tables_are_cached_and_read_only() -> None:
    """The same (function, size, type) returns the same read-only array."""
    a = tables.lut_table("tanh", 256, DEFAULT_TABLE)
    assert a is tables.lut_table("tanh", 256, DEFAULT_TABLE)
    assert not a.flags.writeable


def test_elu_wrapped_negative_index_reads_the_last_entry() -> None:
    """ELU compares the index as unsigned: a wrapped negative int clamps to N - 1."""
    d = T("ap_fixed<48,32>")
    x = np.array([[-(2.0**28)]])  # * 1024 / -8 = 2^35 -> int 0; -2^25 -> 2^32 -> 0
    x2 = np.array([[-(2.0**24 + 2.0**23)]])  # * 128 = 3 * 2^30 -> int -2^30 (negative)
    q = act.c_int_of_quotient(x2, d, 1024, -8)
    assert q.item() < 0
    y = param.elu(
        x2,
        1.0,
        data_t=d,
        param_t=T("ap_ufixed<1,1>"),
        table_t=DEFAULT_TABLE,
        table_size=1024,
        result_t=DEFAULT_TABLE,
    )
    assert y.item() == tables.elu_table(1024, DEFAULT_TABLE)[1023]
    y0 = param.elu(
        x,
        1.0,
        data_t=d,
        param_t=T("ap_ufixed<1,1>"),
        table_t=DEFAULT_TABLE,
        table_size=1024,
        result_t=DEFAULT_TABLE,
    )
    assert y0.item() == tables.elu_table(1024, DEFAULT_TABLE)[0]


def test_wide_products_are_exact() -> None:
    """A 50-bit input times an 20-bit alpha (70 bits) rounds from the exact product."""
    d, p, r = T("ap_fixed<50,20>"), T("ap_fixed<20,1>"), T("ap_fixed<40,20,AP_RND>")
    # the second product lies just below a tie of result_t by less than float64 resolves:
    # rounded to float64 first it lands on the tie and AP_RND would round it the wrong way
    x = np.array([[-(3.0 + 2.0**-30), float.fromhex("-0x1.aaaaf1c7f04c0p+17")]])
    alpha = 0.3
    a = Fraction(float(p.quantize(alpha)))
    want = [float(r.quantize(float(Fraction(float(v)) * a))) for v in x.ravel()]
    # the exact product needs more than 53 bits: compare with Fractions, not float64
    exact = [Fraction(float(v)) * a for v in x.ravel()]
    assert any(Fraction(float(e)) != e for e in exact)
    got = param.leaky_relu(x, alpha, data_t=d, param_t=p, result_t=r)
    lsb = Fraction(r.lsb)
    manual = [float((e / lsb + Fraction(1, 2)).__floor__() * lsb) for e in exact]
    assert got.ravel().tolist() == manual
    assert want[0] == manual[0] and want[1] == manual[1] + float(r.lsb)  # float64: 1 LSB off


def test_hard_sigmoid_uses_hls4ml_slope_not_keras() -> None:
    """hard_sigmoid(1) is 0.2 * 1 + 0.5 (slope in ap_ufixed<16,0>), not Keras 3's 1/6 + 0.5."""
    y = act.hard_sigmoid(
        np.array([[1.0]]),
        slope=0.2,
        shift=0.5,
        data_t=T("ap_fixed<16,6>"),
        slope_t=T("ap_ufixed<16,0>"),
        shift_t=T("ap_ufixed<2,0>"),
        result_t=T("ap_fixed<32,2>"),
    )
    assert y.item() == np.floor(0.2 * 2**16) / 2**16 + 0.5


def test_overflows_are_counted_per_cast_point() -> None:
    """A result type too narrow for relu's output counts its wrapped values."""
    ctx = Context()
    cast = Caster(ctx, "r")
    act.relu(np.array([[1.0, 5.0, 9.0]]), result_t=T("ap_ufixed<3,3>"), cast=cast)
    assert ctx.points["r.result_t"].count == 1
    assert ctx.points["r.result_t"].total == 3


def test_each_value_is_cast_once_on_the_branch_taken() -> None:
    """LeakyReLU casts x or alpha * x, never both: 2 values, 1 overflow (9 > 3.5)."""
    ctx = Context()
    y = param.leaky_relu(
        np.array([[-1.0, 9.0]]),
        0.25,
        data_t=T("ap_fixed<16,6>"),
        param_t=T("ap_ufixed<8,0>"),
        result_t=T("ap_fixed<4,3,AP_TRN,AP_SAT>"),
        cast=Caster(ctx, "l"),
    )
    assert y.tolist() == [[-0.5, 3.5]]  # -0.25 floored to the LSB 0.5
    assert (ctx.points["l.result_t"].count, ctx.points["l.result_t"].total) == (1, 2)


def _node(kind: str, activation: str, **attrs: object) -> Node:
    return Node(
        name="a",
        kind=kind,
        inputs=("x",),
        output_shape=(2,),
        attrs={"activation": activation, **attrs},
        types={"result_t": T("ap_fixed<16,6>"), "table_t": DEFAULT_TABLE},
        input_types=(T("ap_fixed<16,6>"),),
    )


@pytest.mark.parametrize("name", ["silu", "gelu", "hard_tanh", "exponential"])
def test_unsupported_activation_names_the_supported_ones(name: str) -> None:
    """An activation hls4ml's C++ lacks raises UnsupportedLayerError listing the kinds."""
    from emulation.layers import adapter_for

    node = _node("Activation", name)
    with pytest.raises(UnsupportedLayerError, match="supported: linear, relu"):
        adapter_for(node)(node, [np.zeros((1, 2))], Context())
