"""`emulation.layers.activation` against hand-computed cases, the C++ functions and hls4ml.

Three levels of proof:

1. pure-function cases worked out by hand (no compiler);
2. the real ``nnet_activation.h`` functions, compiled once into one harness (`run_nnet`) that
   calls each of them on seeded inputs for many type and table combinations (wide types, int
   wrap-around of the index, non-power-of-two tables, every rounding/overflow kind of result);
3. whole hls4ml models (``tests.support.hls``: hls4ml's own C simulation) against
   `EmulatedModel`: ``predict`` and every layer's ``trace`` exactly equal, plus the facts of
   DESIGN.md about table precisions.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers import activation as act
from emulation.layers import parametrized as param
from emulation.layers import tables
from emulation.layers.base import Context, Node
from emulation.layers.exact import Caster
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim

T = FixedType.parse
DEFAULT_TABLE = T("ap_fixed<18,8>")
N_SAMPLES = 1000


def assert_exact(got: np.ndarray, want: np.ndarray, what: str, x: np.ndarray | None = None) -> None:
    """np.array_equal, or a message with the count and the first differing values."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if np.array_equal(got, want):
        return
    bad = np.argwhere(got != want)
    lines = [f"{what}: {len(bad)} of {got.size} values differ"]
    for idx in bad[:5]:
        i = tuple(idx)
        inp = "" if x is None or x.shape != got.shape else f" input {x[i]!r}"
        lines.append(f"  at {i}:{inp} emulator {got[i]!r} C++ {want[i]!r}")
    pytest.fail("\n".join(lines))


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


# ============================================================ 2. the C++ functions themselves
@dataclass(frozen=True)
class CppCase:
    """One call of an nnet function: C++ declarations, the call, seeded input values."""

    name: str
    decls: str  # typedefs data_T and res_T, struct cfg, any constants
    call: str  # statement using arrays x and y
    x: np.ndarray  # (n, n_in) exact values of data_T


def _templates() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado"


_RUNS: dict[str, dict[str, np.ndarray]] = {}


def run_nnet(cases: list[CppCase], header: str = "nnet_utils/nnet_activation.h") -> dict:
    """Compile one program calling every case's function on its inputs; return the outputs.

    Each case lives in its own namespace; inputs are written as hexadecimal double literals
    (exact), outputs read back with ``%a``. Results are cached per source text for the session.
    """
    parts = [f'#include "{header}"', "#include <cstdio>"]
    for k, c in enumerate(cases):
        n, n_in = c.x.shape
        rows = ",\n".join("{" + ",".join(float(v).hex() for v in row) + "}" for row in c.x)
        parts.append(
            f"namespace c{k} {{\n{c.decls}\n"
            f"static const double X[{n}][{n_in}] = {{{rows}}};\n"
            f"void run() {{\n  for (int s = 0; s < {n}; s++) {{\n"
            f"    data_T x[{n_in}]; res_T y[{n_in}];\n"
            f"    for (int i = 0; i < {n_in}; i++) x[i] = X[s][i];\n"
            f"    {c.call}\n"
            f'    for (int i = 0; i < {n_in}; i++) printf("%a ", y[i].to_double());\n'
            f'    printf("\\n");\n  }}\n}}\n}}'
        )
    parts.append("int main() {\n" + "\n".join(f"  c{k}::run();" for k in range(len(cases))) + "\n}")
    source = "\n".join(parts)
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    if key not in _RUNS:
        with tempfile.TemporaryDirectory(prefix="aptune-nnet-") as tmp_dir:
            tmp = Path(tmp_dir)
            (tmp / "h.cpp").write_text(source)
            t = _templates()
            subprocess.run(
                # -O0: a third faster to compile; float semantics do not depend on the level
                # (SSE arithmetic, no fast-math) and the hls4ml model tests run hls4ml's -O3
                ["g++", "-O0", "-std=c++17", f"-I{t}", f"-I{t / 'ap_types'}", "h.cpp", "-o", "h"],
                cwd=tmp,
                check=True,
                capture_output=True,
            )
            run = subprocess.run([str(tmp / "h")], check=True, capture_output=True, text=True)
        out = run.stdout
        lines = out.splitlines()
        results, pos = {}, 0
        for c in cases:
            n = c.x.shape[0]
            block = lines[pos : pos + n]
            pos += n
            results[c.name] = np.array([[float.fromhex(v) for v in ln.split()] for ln in block])
        _RUNS[key] = results
    return _RUNS[key]


def seeded_inputs(data_t: FixedType, n: int, n_in: int, scale: float, seed: int) -> np.ndarray:
    """Values of ``data_t``: normal(0, scale) off the grid, plus +-max and 0 in the first row."""
    rng = np.random.default_rng(seed)
    x = data_t.quantize(rng.normal(0.0, scale, (n, n_in)))
    x[0, :3] = [data_t.max, data_t.min, 0.0]
    return x


def _act_decls(
    data_t: FixedType,
    res_t: FixedType,
    n_in: int,
    table_size: int = 1024,
    table_t: FixedType = DEFAULT_TABLE,
    param_t: FixedType | None = None,
) -> str:
    lines = [f"typedef {data_t.to_hls()} data_T;", f"typedef {res_t.to_hls()} res_T;"]
    if param_t is not None:
        lines.append(f"typedef {param_t.to_hls()} param_T;")
    lines.append(
        "struct cfg : nnet::activ_config { "
        f"static const unsigned n_in = {n_in}; static const unsigned table_size = {table_size}; "
        f"typedef {table_t.to_hls()} table_t; }};"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class Spec:
    """A case of the harness and the emulator call that must reproduce it."""

    case: CppCase
    emulate: object  # callable x -> y


def _spec_table(
    name: str,
    fn: str,
    data_t: str,
    res_t: str,
    table_t: str = "ap_fixed<18,8>",
    size: int = 1024,
    scale: float = 6.0,
    seed: int = 0,
) -> Spec:
    d, r, t = T(data_t), T(res_t), T(table_t)
    x = seeded_inputs(d, 64, 16, scale, seed)
    case = CppCase(name, _act_decls(d, r, 16, size, t), f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x)
    return Spec(
        case,
        lambda v: act.table_activation(v, fn, data_t=d, table_t=t, table_size=size, result_t=r),
    )


def activation_specs() -> list[Spec]:
    """The harness cases: every function, narrow and wide types, several table sizes."""
    specs = [
        _spec_table("sig_default", "sigmoid", "ap_fixed<16,6>", "ap_fixed<16,6>"),
        _spec_table(
            "sig_narrow",
            "sigmoid",
            "ap_fixed<12,5,AP_RND,AP_SAT>",
            "ap_ufixed<6,0,AP_RND,AP_SAT>",
            "ap_fixed<10,1,AP_RND_CONV,AP_SAT>",
            64,
        ),
        _spec_table(
            "sig_wide_table_n1000",
            "sigmoid",
            "ap_fixed<20,6>",
            "ap_fixed<26,2>",
            "ap_fixed<28,2,AP_RND>",
            1000,
            seed=1,
        ),
        _spec_table(
            "sig_n8_coarse_input",
            "sigmoid",
            "ap_fixed<6,8>",
            "ap_fixed<16,2>",
            size=8,
            scale=20.0,
            seed=2,
        ),
        _spec_table(
            "sig_wrapping_index",
            "sigmoid",
            "ap_fixed<48,32>",
            "ap_fixed<16,2>",
            scale=2.0**27,
            seed=3,
        ),
        _spec_table("tanh_default", "tanh", "ap_fixed<16,6>", "ap_fixed<16,6>", scale=3.0),
        _spec_table(
            "tanh_wrapping_table",
            "tanh",
            "ap_fixed<14,4>",
            "ap_fixed<10,2,AP_RND,AP_SAT>",
            "ap_fixed<8,1>",
            2048,
            scale=3.0,
            seed=4,
        ),
        _spec_table(
            "tanh_wide_table",
            "tanh",
            "ap_fixed<24,4>",
            "ap_fixed<30,2>",
            "ap_fixed<32,2,AP_RND_CONV>",
            4096,
            scale=2.0,
            seed=5,
        ),
        _spec_table(
            "softplus", "softplus", "ap_fixed<16,6>", "ap_fixed<10,4,AP_RND_CONV,AP_SAT>", seed=6
        ),
        _spec_table(
            "softplus_wide",
            "softplus",
            "ap_fixed<20,6>",
            "ap_fixed<30,5>",
            "ap_fixed<32,5,AP_RND>",
            2000,
            seed=7,
        ),
        _spec_table("softsign", "softsign", "ap_fixed<16,6>", "ap_fixed<16,6>", seed=8),
        _spec_table(
            "softsign_wide",
            "softsign",
            "ap_fixed<20,6>",
            "ap_fixed<30,2>",
            "ap_fixed<32,2,AP_RND>",
            1000,
            seed=9,
        ),
    ]
    # ELU and SELU (negative-side tables), wide inputs force the exact product path
    for name, d, r, p, t, n, scale, alpha in [
        (
            "elu",
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            "ap_ufixed<8,0>",
            "ap_fixed<18,8>",
            1024,
            6.0,
            0.7,
        ),
        (
            "elu_wide",
            "ap_fixed<44,24>",
            "ap_fixed<20,8,AP_RND,AP_SAT>",
            "ap_fixed<16,3>",
            "ap_fixed<24,2,AP_RND>",
            512,
            2.0**22,
            1.3,
        ),
    ]:
        dt, rt, pt, tt = T(d), T(r), T(p), T(t)
        x = seeded_inputs(dt, 64, 16, scale, 10)
        case = CppCase(
            name,
            _act_decls(dt, rt, 16, n, tt, pt),
            f"nnet::elu<data_T, param_T, res_T, cfg>(x, {alpha!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, a=alpha, dt=dt, pt=pt, tt=tt, n=n, rt=rt: param.elu(
                    v, a, data_t=dt, param_t=pt, table_t=tt, table_size=n, result_t=rt
                ),
            )
        )
    for name, d, r, t, n, scale in [
        ("selu", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<18,8>", 1024, 6.0),
        (
            "selu_wide",
            "ap_fixed<45,22>",
            "ap_fixed<24,12,AP_RND_ZERO,AP_SAT_SYM>",
            "ap_fixed<20,3,AP_RND>",
            300,
            2.0**20,
        ),
    ]:
        dt, rt, tt = T(d), T(r), T(t)
        x = seeded_inputs(dt, 64, 16, scale, 11)
        case = CppCase(
            name, _act_decls(dt, rt, 16, n, tt), "nnet::selu<data_T, res_T, cfg>(x, y);", x
        )
        specs.append(
            Spec(
                case,
                lambda v, dt=dt, tt=tt, n=n, rt=rt: act.selu(
                    v, data_t=dt, table_t=tt, table_size=n, result_t=rt
                ),
            )
        )
    # LeakyReLU, ThresholdedReLU, PReLU
    for name, d, r, p, alpha in [
        ("leaky", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_ufixed<8,-1>", 0.3),
        (
            "leaky_wide",
            "ap_fixed<50,20>",
            "ap_fixed<24,10,AP_RND_INF,AP_SAT>",
            "ap_fixed<18,1>",
            0.123,
        ),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 2.0 ** (dt.integer - 4), 12)
        case = CppCase(
            name,
            _act_decls(dt, rt, 16, param_t=pt),
            f"nnet::leaky_relu<data_T, param_T, res_T, cfg>(x, {alpha!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, a=alpha, dt=dt, pt=pt, rt=rt: param.leaky_relu(
                    v, a, data_t=dt, param_t=pt, result_t=rt
                ),
            )
        )
    for name, d, r, p, theta in [
        (
            "thresholded_zero",
            "ap_fixed<16,6>",
            "ap_fixed<12,4,AP_RND,AP_SAT>",
            "ap_fixed<16,6>",
            0.0,
        ),
        ("thresholded_coarse", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<4,1>", 0.37),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 2.0, 13)
        case = CppCase(
            name,
            _act_decls(dt, rt, 16, param_t=pt),
            f"nnet::thresholded_relu<data_T, param_T, res_T, cfg>(x, {theta!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, th=theta, pt=pt, rt=rt: param.thresholded_relu(
                    v, th, param_t=pt, result_t=rt
                ),
            )
        )
    for name, d, r, p in [
        ("prelu", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16,6>"),
        ("prelu_wide", "ap_fixed<44,14>", "ap_fixed<20,8,AP_RND_CONV>", "ap_fixed<44,14>"),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 4.0, 14)
        alpha = pt.quantize(np.random.default_rng(15).normal(0.2, 0.3, 16))
        consts = ",".join(float(v).hex() for v in alpha)
        decls = _act_decls(dt, rt, 16, param_t=pt) + f"\nstatic const double A[16] = {{{consts}}};"
        call = (
            "param_T a[16]; for (int i = 0; i < 16; i++) a[i] = A[i]; "
            "nnet::prelu<data_T, param_T, res_T, cfg>(x, a, y);"
        )
        specs.append(
            Spec(
                CppCase(name, decls, call, x),
                lambda v, al=alpha, dt=dt, pt=pt, rt=rt: param.prelu(
                    v, al, data_t=dt, param_t=pt, result_t=rt
                ),
            )
        )
    # hard sigmoid / tanh: config with static slope and shift
    for name, fn, d, r, slope, shift in [
        ("hard_sigmoid", "hard_sigmoid", "ap_fixed<16,6>", "ap_fixed<8,1,AP_RND,AP_SAT>", 0.2, 0.5),
        ("hard_sigmoid_wide", "hard_sigmoid", "ap_fixed<45,20>", "ap_fixed<20,2,AP_RND>", 0.2, 0.5),
        ("hard_tanh", "hard_tanh", "ap_fixed<16,6>", "ap_fixed<10,2,AP_RND_CONV,AP_SAT>", 0.2, 0.5),
    ]:
        dt, rt = T(d), T(r)
        st, ht = T("ap_ufixed<16,0>"), T("ap_ufixed<2,0>")
        x = seeded_inputs(dt, 64, 16, 4.0, 16)
        decls = (
            f"typedef {dt.to_hls()} data_T; typedef {rt.to_hls()} res_T;\n"
            "struct cfg { static const unsigned n_in = 16; "
            f"static const {st.to_hls()} slope; static const {ht.to_hls()} shift; "
            "static const unsigned io_type = nnet::io_parallel; "
            "static const unsigned reuse_factor = 1; };\n"
            f"const {st.to_hls()} cfg::slope = {slope!r}; "
            f"const {ht.to_hls()} cfg::shift = {shift!r};"
        )
        func = getattr(act, fn)
        specs.append(
            Spec(
                CppCase(name, decls, f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x),
                lambda v, func=func, dt=dt, rt=rt, st=st, ht=ht: func(
                    v, slope=0.2, shift=0.5, data_t=dt, slope_t=st, shift_t=ht, result_t=rt
                ),
            )
        )
    # relu, relu6, linear with rounding and saturating results
    for name, fn, d, r in [
        ("relu", "relu", "ap_fixed<16,6>", "ap_ufixed<6,2,AP_RND,AP_SAT>"),
        ("relu6", "relu6", "ap_fixed<16,6>", "ap_fixed<8,3,AP_RND_CONV>"),
        ("linear", "linear", "ap_fixed<16,6>", "ap_fixed<6,2,AP_RND_MIN_INF,AP_SAT_SYM>"),
    ]:
        dt, rt = T(d), T(r)
        x = seeded_inputs(dt, 64, 16, 6.0, 17)
        emulate = {
            "relu": lambda v, rt=rt: act.relu(v, result_t=rt),
            "relu6": lambda v, rt=rt: act.relu_max(v, 6, result_t=rt),
            "linear": lambda v, rt=rt: act.linear(v, result_t=rt),
        }[fn]
        specs.append(
            Spec(
                CppCase(name, _act_decls(dt, rt, 16), f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x),
                emulate,
            )
        )
    return specs


def harness_outputs() -> dict[str, np.ndarray]:
    """Outputs of every activation and softmax case: one g++ compile for both test modules."""
    from tests.emulation.test_softmax import softmax_specs

    return run_nnet([s.case for s in (*activation_specs(), *softmax_specs())])


@pytest.mark.csim
@requires_gxx
def test_every_activation_function_matches_the_cpp_function() -> None:
    """Each nnet activation, on 1,024 values per case (28 cases), equals the emulator exactly."""
    specs = activation_specs()
    outputs = harness_outputs()
    for s in specs:
        assert_exact(s.emulate(s.case.x), outputs[s.case.name], s.case.name, s.case.x)


# ===================================================================== 3. whole hls4ml models
def activation_model(seed: int = 0) -> object:
    """8 -> Dense(16) ``d1`` feeding every activation kind, each one a model output.

    The Dense weights spread its outputs to about +-12, beyond the sigmoid (+-8) and tanh (+-4)
    table ranges.
    """
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inp = keras.Input((8,), name="x_in")
    dense = layers.Dense(16, name="d1")
    h = dense(inp)
    dense.set_weights([rng.uniform(-1.2, 1.2, (8, 16)), rng.normal(0.0, 0.5, 16)])
    outs = [
        layers.Activation(name, name=name)(h)
        for name in ("sigmoid", "tanh", "softplus", "softsign", "selu", "relu", "relu6")
    ]
    outs += [
        layers.Activation("sigmoid", name="sig_prec")(h),
        layers.Activation("hard_sigmoid", name="hsig")(h),
        layers.Activation("linear", name="lin")(h),
        layers.ELU(alpha=0.7, name="elu")(h),
        layers.LeakyReLU(negative_slope=0.3, name="lrelu")(h),
        layers.ReLU(name="relu_layer")(h),
        layers.ReLU(threshold=0.5, name="trelu")(h),
    ]
    prelu = layers.PReLU(name="prelu")
    outs.append(prelu(h))
    prelu.set_weights([rng.normal(0.2, 0.3, 16)])
    return keras.Model(inp, outs)


NARROW_TABLE = "ap_fixed<8,1,AP_RND,AP_SAT>"

#: Narrow results with every kind of rounding and overflow, narrow and wide tables, several
#: table sizes; ``Precision: table`` written at all three levels (it must have no effect) and
#: ``table_t`` as a layer key (it must).
CUSTOM_CONFIG = {
    "Model": {
        "Precision": {"default": "ap_fixed<16,6>", "table": "ap_fixed<6,1>"},
        "ReuseFactor": 1,
        "Strategy": "Latency",
    },
    "LayerType": {"Activation": {"Precision": {"table": "ap_fixed<7,1>"}}},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<12,4,AP_RND,AP_SAT>"}},
        "d1": {"Precision": {"result": "ap_fixed<14,5>", "accum": "ap_fixed<24,8>"}},
        "sigmoid": {
            "Precision": {"result": "ap_ufixed<6,0,AP_RND,AP_SAT>"},
            "table_t": NARROW_TABLE,
            "TableSize": 64,
        },
        "sig_prec": {"Precision": {"result": "ap_fixed<16,2>", "table": NARROW_TABLE}},
        "tanh": {
            "Precision": {"result": "ap_fixed<20,2,AP_RND_CONV>"},
            "table_t": "ap_fixed<24,2,AP_RND_CONV>",
            "TableSize": 4096,
        },
        "softplus": {"Precision": {"result": "ap_fixed<10,4,AP_RND,AP_SAT>"}, "TableSize": 256},
        "softsign": {
            "Precision": {"result": "ap_fixed<8,1,AP_RND_ZERO,AP_SAT_SYM>"},
            "table_t": "ap_fixed<12,1,AP_RND>",
            "TableSize": 2000,
        },
        "selu": {"Precision": {"result": "ap_fixed<12,4,AP_RND_INF,AP_SAT>"}, "TableSize": 512},
        "elu": {
            "Precision": {"result": "ap_fixed<10,3,AP_RND,AP_SAT>", "param": "ap_fixed<8,2>"},
            "table_t": "ap_fixed<12,2,AP_RND>",
            "TableSize": 512,
        },
        "lrelu": {"Precision": {"result": "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"}},
        "relu_layer": {"Precision": {"result": "ap_ufixed<6,3,AP_RND,AP_SAT>"}},
        "trelu": {"Precision": {"result": "ap_ufixed<8,3>", "param": "ap_fixed<4,1>"}},
        "relu": {"Precision": {"result": "ap_ufixed<5,2>"}},
        "relu6": {"Precision": {"result": "ap_ufixed<8,3,AP_RND_MIN_INF,AP_SAT>"}},
        "hsig": {"Precision": {"result": "ap_ufixed<6,1,AP_RND,AP_SAT>"}},
        "lin": {"Precision": {"result": "ap_fixed<7,3,AP_RND_CONV,AP_SAT_SYM>"}},
        "prelu": {
            "Precision": {"result": "ap_fixed<9,4,AP_RND,AP_SAT>", "param": "ap_fixed<8,1,AP_RND>"}
        },
    },
}

#: Only a model default: every table at hls4ml's defaults (ap_fixed<18,8>, 1024 entries).
DEFAULT_CONFIG = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}}


def auto_config(model: object) -> dict:
    """``config_from_keras_model(granularity='name')``: 'auto' Dense results (36 bits here)."""
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")


def model_inputs(n: int = N_SAMPLES, size: int = 8, seed: int = 1) -> np.ndarray:
    """Seeded inputs off the grid; the last quarter doubled to overflow narrow types."""
    from tests.support.models import inputs

    return inputs(n, size, seed=seed, spread=3.0)


@pytest.fixture(scope="module")
def act_model() -> object:
    return activation_model()


@pytest.mark.csim
@requires_gxx
def test_custom_config_model_matches_csim(act_model: object) -> None:
    """15 activation layers with narrow, rounding and saturating types equal the C simulation."""
    em, _, th = assert_equal_to_csim(act_model, CUSTOM_CONFIG, model_inputs(), same_layers=True)
    kinds = {(n.kind, n.attrs.get("activation")) for n in em.nodes if n.name in th}
    # Dense + 13 activation kinds (ReLU() and ReLU(threshold) are both ThresholdedReLU)
    assert len(kinds) == 14
    # the inputs really leave the sigmoid's table range (+-8) on both sides
    assert th["d1"].min() < -8 and th["d1"].max() > 8


@pytest.mark.csim
@requires_gxx
def test_default_config_model_matches_csim(act_model: object) -> None:
    """With only a model default (default tables, 1024 entries), every layer is exact."""
    assert_equal_to_csim(act_model, DEFAULT_CONFIG, model_inputs(), same_layers=True)


@pytest.mark.csim
@requires_gxx
def test_auto_config_model_matches_csim(act_model: object) -> None:
    """'auto' precisions (36-bit Dense results, PReLU alpha in that type: 72-bit products)."""
    config = auto_config(act_model)
    em, _, _ = assert_equal_to_csim(act_model, config, model_inputs(), same_layers=True)
    prelu = em.graph.node("prelu")
    assert prelu.input_types[0].width + prelu.types["param_t"].width > 53  # exact-integer path


@pytest.mark.csim
@requires_gxx
def test_precision_table_is_ignored_at_every_level(act_model: object) -> None:
    """``Precision: {table: ...}`` (Model, LayerType, LayerName) leaves the table ap_fixed<18,8>.

    The C simulation equals the default-table emulation and differs from the narrow one.
    """
    from tests.support.hls import hls_trace

    th = hls_trace(act_model, CUSTOM_CONFIG, model_inputs())
    x = th["d1"].reshape(N_SAMPLES, -1)
    common = {"data_t": T("ap_fixed<14,5>"), "table_size": 1024, "result_t": T("ap_fixed<16,2>")}
    with_default = act.table_activation(x, "sigmoid", table_t=DEFAULT_TABLE, **common)
    for written in (NARROW_TABLE, "ap_fixed<7,1>", "ap_fixed<6,1>"):
        with_written = act.table_activation(x, "sigmoid", table_t=T(written), **common)
        assert not np.array_equal(with_written, th["sig_prec"]), written
    assert_exact(with_default, th["sig_prec"], "sig_prec with the default table")


@pytest.mark.csim
@requires_gxx
def test_table_t_key_and_table_size_set_the_table(act_model: object) -> None:
    """``table_t`` and ``TableSize`` as layer keys change the C simulation as emulated."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_trace

    th = hls_trace(act_model, CUSTOM_CONFIG, model_inputs())
    node = EmulatedModel(act_model, CUSTOM_CONFIG).graph.node("sigmoid")
    assert node.types["table_t"] == T(NARROW_TABLE)
    assert int(node.attrs["table_size"]) == 64
    x = th["d1"].reshape(N_SAMPLES, -1)
    common = {"data_t": T("ap_fixed<14,5>"), "result_t": T("ap_ufixed<6,0,AP_RND,AP_SAT>")}
    written = act.table_activation(x, "sigmoid", table_t=T(NARROW_TABLE), table_size=64, **common)
    assert_exact(written, th["sigmoid"], "sigmoid with table_t and TableSize")
    for table_t, size in ((DEFAULT_TABLE, 64), (T(NARROW_TABLE), 1024)):
        other = act.table_activation(x, "sigmoid", table_t=table_t, table_size=size, **common)
        assert not np.array_equal(other, th["sigmoid"]), (table_t, size)
