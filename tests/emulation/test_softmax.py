"""`emulation.layers.softmax` against hand-computed cases, the C++ functions and hls4ml.

Same three levels as ``test_activation.py``: pure cases; ``nnet::softmax`` itself in the shared
g++ harness (every implementation, narrow and wide types, saturating sums, wrapping
normalisation); whole hls4ml models, including the collapse of an 'auto' wide input to a uniform
output (the failure seen on the community SVHN model) and the config facts of DESIGN.md.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers import softmax as sm
from emulation.layers.exact import Caster
from tests.conftest import requires_gxx
from tests.emulation.test_activation import (
    N_SAMPLES,
    CppCase,
    Spec,
    assert_exact,
    auto_config,
    harness_outputs,
    model_inputs,
    seeded_inputs,
)
from tests.support.hls import assert_equal_to_csim

T = FixedType.parse
RND_SAT = T("ap_fixed<18,8,AP_RND,AP_SAT>")
MODEL_DEFAULT_T = T("ap_fixed<16,6>")


# ====================================================================== 1. hand-computed cases
def test_ceillog2_matches_nnet() -> None:
    """Address bits: 1 for sizes 1 and 2, 10 for 1024, 10 for 1000."""
    sizes = (1, 2, 3, 4, 5, 1000, 1024, 1025)
    assert [sm.ceillog2(n) for n in sizes] == [1, 1, 2, 2, 3, 10, 10, 11]


def test_tree_sum_follows_nnet_reduce_order() -> None:
    """Five saturating terms add as ((a+b)+(c+d))+e, not left to right."""
    t = T("ap_fixed<4,3,AP_TRN,AP_SAT>")  # range [-4, 3.5]
    terms = [np.array([v]) for v in (3.0, 3.0, -3.0, -3.0, 1.0)]
    got = sm.tree_sum(terms, t, Caster())
    # tree: 3+3 -> 3.5, -3-3 -> -4, 3.5-4 = -0.5, -0.5+1 = 0.5; sequential would give 1.0
    assert got.tolist() == [0.5]


def test_argmax_marks_the_first_maximum_with_one_in_the_result_type() -> None:
    """Ties go to the first index; (res_T)1 wraps to 0 in ap_ufixed<8,0>."""
    x = np.array([[1.0, 3.0, 3.0, 2.0]])
    assert sm.softmax_argmax(x, result_t=T("ap_fixed<8,2>")).tolist() == [[0, 1, 0, 0]]
    assert sm.softmax_argmax(x, result_t=T("ap_ufixed<8,0>")).tolist() == [[0, 0, 0, 0]]


def test_stable_sizes_follow_the_config_template() -> None:
    """Signed input: exp size min(inv size, 2^(W-1)), explicit exp size ignored; unsigned kept."""
    signed = sm.softmax_sizes({"table_size": 1024, "exp_table_size": 64}, T("ap_fixed<10,4>"))
    assert signed["exp_table_size"] == 512 and signed["inv_table_size"] == 1024
    assert signed["inp_norm_t"] == T("ap_ufixed<9,3>")
    small_inv = sm.softmax_sizes({"inv_table_size": 64}, T("ap_fixed<16,6>"))
    assert small_inv["exp_table_size"] == 64
    unsigned = sm.softmax_sizes({"exp_table_size": 256}, T("ap_ufixed<12,4>"))
    assert unsigned["exp_table_size"] == 256 and unsigned["inp_norm_t"] == T("ap_ufixed<12,4>")
    latency = sm.softmax_sizes({"implementation": "latency"}, T("ap_fixed<10,4>"))
    assert latency["exp_table_size"] == 1024 and latency["inp_norm_t"] is None


def test_wide_input_makes_the_stable_exp_index_coarse() -> None:
    """ap_fixed<36,16> input: inp_norm ap_ufixed<35,15>, 10 index bits, one entry per 32."""
    sizes = sm.softmax_sizes({}, T("ap_fixed<36,16>"))
    norm = sizes["inp_norm_t"]
    assert norm == T("ap_ufixed<35,15>") and sizes["exp_table_size"] == 1024
    table = sm.exp_table(norm, 1024, RND_SAT, 1.0, True)
    assert table[0] == 1.0 and table[1] == RND_SAT.quantize(np.exp(-32.0))


def test_inverse_of_zero_saturates_or_wraps_like_infinity() -> None:
    """Entry 0 is 1/0.0f = inf: the maximum on AP_SAT, 0 on AP_WRAP."""
    assert sm.inv_table(RND_SAT, 1024, RND_SAT)[0] == RND_SAT.max
    assert sm.inv_table(RND_SAT, 1024, T("ap_fixed<18,8>"))[0] == 0.0


def test_legacy_tables_ignore_the_layer_table_type() -> None:
    """The legacy version uses nnet::activ_config's ap_fixed<18,8>."""
    assert T("ap_fixed<18,8>") == sm.LEGACY_TABLE_T


@pytest.mark.parametrize("size", [1000, 96])
def test_table_sizes_not_a_power_of_two_are_refused(size: int) -> None:
    """The C++ would index past the end of the table: UnsupportedLayerError."""
    x = np.zeros((1, 4))
    with pytest.raises(UnsupportedLayerError, match="power of two"):
        sm.softmax_stable(
            x,
            data_t=T("ap_fixed<16,6>"),
            inp_norm_t=T("ap_ufixed<15,5>"),
            exp_table_t=RND_SAT,
            exp_table_size=size,
            inv_inp_t=RND_SAT,
            inv_table_t=RND_SAT,
            inv_table_size=1024,
            accum_t=RND_SAT,
            result_t=RND_SAT,
        )


def test_multidim_softmax_normalises_each_slice() -> None:
    """n_outer x n_slice x n_inner: argmax over the middle axis of a (2, 3, 4) layout."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 24))
    y = sm.softmax(x, "argmax", n_outer=2, n_inner=4, result_t=T("ap_fixed<8,2>"))
    want = x.reshape(5, 2, 3, 4).argmax(axis=2)[:, :, None, :] == np.arange(3)[:, None]
    assert np.array_equal(y.reshape(5, 2, 3, 4), want.astype(float))


# ============================================================ 2. the C++ functions themselves
def _softmax_decls(
    impl: str,
    data_t: FixedType,
    res_t: FixedType,
    n: int,
    *,
    exp_size: int,
    inv_size: int,
    exp_t: FixedType = RND_SAT,
    inv_t: FixedType = RND_SAT,
    accum_t: FixedType = MODEL_DEFAULT_T,
    inv_inp_t: FixedType = RND_SAT,
    inp_norm_t: FixedType | None = None,
    exp_scale: float = 1.0,
) -> str:
    norm = inp_norm_t.to_hls() if inp_norm_t is not None else "ap_fixed<1,0>"
    return "\n".join(
        [
            f"typedef {data_t.to_hls()} data_T; typedef {res_t.to_hls()} res_T;",
            "struct cfg : nnet::activ_config {",
            f"  static const unsigned n_in = {n}; static const unsigned n_slice = {n};",
            "  static const unsigned n_outer = 1; static const unsigned n_inner = 1;",
            "  static const unsigned parallelization_factor = -1;",
            f"  static const unsigned exp_table_size = {exp_size};",
            f"  static const unsigned inv_table_size = {inv_size};",
            "  static const unsigned io_type = nnet::io_parallel;",
            "  static const unsigned reuse_factor = 1; static const unsigned axis = -1;",
            "  static const nnet::softmax_implementation implementation = "
            f"nnet::softmax_implementation::{impl};",
            f"  static constexpr float exp_scale = {exp_scale!r};",
            f"  typedef {exp_t.to_hls()} exp_table_t; typedef {inv_t.to_hls()} inv_table_t;",
            f"  typedef {accum_t.to_hls()} accum_t; typedef {inv_inp_t.to_hls()} inv_inp_t;",
            f"  typedef {norm} inp_norm_t;",
            "};",
        ]
    )


def softmax_specs() -> list[Spec]:
    """The softmax harness cases (64 samples each): every implementation, hard types."""
    specs: list[Spec] = []
    call = "nnet::softmax<data_T, res_T, cfg>(x, y);"
    stable_cases = [
        # name, n, data, result, exp size, inv size, exp_t, inv_t, accum, inv_inp, scale, spread
        (
            "stable_default",
            10,
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            None,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<16,6>",
            RND_SAT,
            1.0,
            3.0,
        ),
        (
            "stable_narrow_saturating",
            7,
            "ap_fixed<8,3>",
            "ap_ufixed<8,0,AP_RND,AP_SAT>",
            None,
            256,
            T("ap_fixed<10,2,AP_RND,AP_SAT>"),
            T("ap_ufixed<10,4,AP_RND_CONV,AP_SAT>"),
            "ap_fixed<10,3,AP_RND,AP_SAT>",
            T("ap_fixed<9,4>"),
            1.0,
            3.0,
        ),
        (
            "stable_wide_input",
            10,
            "ap_fixed<36,16>",
            "ap_fixed<16,6>",
            None,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<18,8,AP_RND,AP_SAT>",
            RND_SAT,
            1.0,
            40.0,
        ),
        (
            "stable_wrapping_accum_scaled",
            5,
            "ap_fixed<12,5>",
            "ap_fixed<14,2,AP_RND>",
            None,
            512,
            T("ap_fixed<14,4,AP_RND>"),
            T("ap_fixed<16,6,AP_RND>"),
            "ap_fixed<9,3>",
            T("ap_fixed<12,5,AP_RND,AP_SAT>"),
            0.5,
            2.0,
        ),
        (
            "stable_unsigned",
            6,
            "ap_ufixed<12,4>",
            "ap_fixed<16,2>",
            4096,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<16,6>",
            RND_SAT,
            1.0,
            4.0,
        ),
    ]
    for name, n, d, r, exp_size, inv, exp_t, inv_t, acc, inv_inp, scale, spread in stable_cases:
        dt, rt, at = T(d), T(r), T(acc)
        sizes = sm.softmax_sizes({"exp_table_size": exp_size or inv, "inv_table_size": inv}, dt)
        norm = sizes["inp_norm_t"]
        x = seeded_inputs(dt, 64, n, spread, 20)
        decls = _softmax_decls(
            "stable",
            dt,
            rt,
            n,
            exp_size=sizes["exp_table_size"],
            inv_size=inv,
            exp_t=exp_t,
            inv_t=inv_t,
            accum_t=at,
            inv_inp_t=inv_inp,
            inp_norm_t=norm,
            exp_scale=scale,
        )
        kwargs = {
            "data_t": dt,
            "inp_norm_t": norm,
            "exp_table_t": exp_t,
            "exp_table_size": sizes["exp_table_size"],
            "inv_inp_t": inv_inp,
            "inv_table_t": inv_t,
            "inv_table_size": inv,
            "accum_t": at,
            "result_t": rt,
            "exp_scale": scale,
        }
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, kw=kwargs: sm.softmax_stable(v, **kw))
        )
    for name, n, d, r, size, exp_t, acc, spread in [
        (
            "latency_default",
            10,
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            1024,
            RND_SAT,
            "ap_fixed<16,6>",
            2.0,
        ),
        (
            "latency_narrow",
            7,
            "ap_fixed<10,4>",
            "ap_fixed<12,2,AP_RND_CONV>",
            512,
            T("ap_ufixed<18,8,AP_RND,AP_SAT>"),
            "ap_fixed<12,6,AP_RND,AP_SAT>",
            3.0,
        ),
    ]:
        dt, rt, at = T(d), T(r), T(acc)
        x = seeded_inputs(dt, 64, n, spread, 21)
        decls = _softmax_decls(
            "latency", dt, rt, n, exp_size=size, inv_size=size, exp_t=exp_t, accum_t=at
        )
        kwargs = {
            "data_t": dt,
            "exp_table_t": exp_t,
            "exp_table_size": size,
            "inv_inp_t": RND_SAT,
            "inv_table_t": RND_SAT,
            "inv_table_size": size,
            "accum_t": at,
            "result_t": rt,
        }
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, kw=kwargs: sm.softmax_latency(v, **kw))
        )
    for name, n, d, r, size, spread in [
        ("legacy_default", 10, "ap_fixed<16,6>", "ap_fixed<16,6>", 1024, 3.0),
        ("legacy_wide", 6, "ap_fixed<24,10>", "ap_fixed<10,2,AP_RND,AP_SAT>", 512, 30.0),
    ]:
        dt, rt = T(d), T(r)
        x = seeded_inputs(dt, 64, n, spread, 22)
        decls = _softmax_decls("legacy", dt, rt, n, exp_size=size, inv_size=size)
        specs.append(
            Spec(
                CppCase(name, decls, call, x),
                lambda v, dt=dt, rt=rt, size=size: sm.softmax_legacy(
                    v,
                    data_t=dt,
                    table_t=sm.LEGACY_TABLE_T,
                    exp_table_size=size,
                    inv_table_size=size,
                    result_t=rt,
                ),
            )
        )
    for name, r in [("argmax", "ap_fixed<8,2>"), ("argmax_wrapping_one", "ap_ufixed<8,0>")]:
        dt, rt = T("ap_fixed<8,3>"), T(r)  # coarse input: ties happen
        x = seeded_inputs(dt, 64, 10, 1.0, 23)
        decls = _softmax_decls("argmax", dt, rt, 10, exp_size=1024, inv_size=1024)
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, rt=rt: sm.softmax_argmax(v, result_t=rt))
        )
    return specs


@pytest.mark.csim
@requires_gxx
def test_every_softmax_implementation_matches_the_cpp_function() -> None:
    """nnet::softmax (stable, latency, legacy, argmax; 11 cases) equals the emulator exactly."""
    outputs = harness_outputs()
    for s in softmax_specs():
        assert_exact(s.emulate(s.case.x), outputs[s.case.name], s.case.name, s.case.x)


# ===================================================================== 3. whole hls4ml models
def softmax_model(seed: int = 0) -> object:
    """8 -> Dense(10) ``d1`` feeding four softmax layers (one per implementation), and
    8 -> Dense(12) ``d2`` -> Reshape(3, 4) -> Softmax(axis=1) (``softmax_multidim``)."""
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inp = keras.Input((8,), name="x_in")
    d1, d2 = layers.Dense(10, name="d1"), layers.Dense(12, name="d2")
    h1, h2 = d1(inp), d2(inp)
    d1.set_weights([rng.uniform(-1.0, 1.0, (8, 10)), rng.normal(0.0, 0.5, 10)])
    d2.set_weights([rng.uniform(-1.0, 1.0, (8, 12)), rng.normal(0.0, 0.5, 12)])
    outs = [layers.Activation("softmax", name=f"sm_{impl}")(h1) for impl in sm.IMPLEMENTATIONS]
    outs.append(layers.Softmax(axis=1, name="sm_axis")(layers.Reshape((3, 4), name="r")(h2)))
    return keras.Model(inp, outs)


def _implementations(config: dict) -> dict:
    config = copy.deepcopy(config)
    for impl in sm.IMPLEMENTATIONS:
        config["LayerName"].setdefault(f"sm_{impl}", {})["Implementation"] = impl
    return config


NARROW_CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "d1": {"Precision": {"result": "ap_fixed<10,4>"}},
        "d2": {"Precision": {"result": "ap_fixed<9,4,AP_RND,AP_SAT>"}},
        "sm_stable": {
            "Precision": {"result": "ap_ufixed<8,0,AP_RND,AP_SAT>"},
            "exp_table_t": "ap_fixed<12,4,AP_RND,AP_SAT>",
            "inv_table_t": "ap_fixed<14,6,AP_RND,AP_SAT>",
            "accum_t": "ap_fixed<14,6,AP_RND,AP_SAT>",
            "inv_inp_t": "ap_fixed<12,6,AP_RND,AP_SAT>",
            "TableSize": 256,
        },
        "sm_latency": {
            "Precision": {"result": "ap_fixed<12,2,AP_RND_CONV>"},
            "exp_table_t": "ap_ufixed<18,8,AP_RND,AP_SAT>",
            "TableSize": 512,
        },
        "sm_legacy": {
            "Precision": {"result": "ap_fixed<10,2,AP_RND,AP_SAT>"},
            "table_t": "ap_fixed<12,4>",  # ignored by the C++ (see LEGACY_TABLE_T)
            "TableSize": 512,
        },
        "sm_argmax": {"Precision": {"result": "ap_ufixed<4,1>"}},
        "sm_axis": {"Precision": {"result": "ap_fixed<12,2,AP_RND,AP_SAT>"}},
    },
}


@pytest.fixture(scope="module")
def sm_model() -> object:
    return softmax_model()


@pytest.mark.csim
@requires_gxx
def test_narrow_config_model_matches_csim(sm_model: object) -> None:
    """Every implementation with narrow inputs, custom tables and sizes equals the C simulation."""
    config = _implementations(NARROW_CONFIG)
    em, _, th = assert_equal_to_csim(sm_model, config, model_inputs(), same_layers=True)
    # the legacy layer's table_t key does not reach the C++: with it, the result would differ
    x = th["d1"].reshape(N_SAMPLES, -1)
    with_key = sm.softmax_legacy(
        x,
        data_t=T("ap_fixed<10,4>"),
        table_t=T("ap_fixed<12,4>"),
        exp_table_size=512,
        inv_table_size=512,
        result_t=T("ap_fixed<10,2,AP_RND,AP_SAT>"),
    )
    assert not np.array_equal(with_key, th["sm_legacy"])
    assert em.graph.node("sm_axis").attrs["n_inner"] == 4


@pytest.mark.csim
@requires_gxx
def test_auto_wide_input_gives_uniform_output_as_in_csim(sm_model: object) -> None:
    """'auto' Dense result (ap_fixed<36,16>) feeding a stable softmax: each output row is
    uniform over the classes near its maximum, in the C simulation as in the emulator."""
    config = _implementations(auto_config(sm_model))
    em, _, th = assert_equal_to_csim(sm_model, config, model_inputs(), same_layers=True)
    assert em.graph.node("sm_stable").input_types[0] == T("ap_fixed<36,16>")
    # one exp-table entry spans 2^(15 - 10) = 32: every class within 32 of the row's maximum
    # reads exp(-0) = 1, the rest exp(-32) = 0, so each row is uniform over the classes near
    # its maximum (all ten: 1/10 as ap_fixed<18,8,AP_RND>, 102/1024) and 0 elsewhere
    x = th["d1"].reshape(N_SAMPLES, -1)
    y = th["sm_stable"].reshape(N_SAMPLES, -1)
    near = x.max(axis=1, keepdims=True) - x < 32
    assert np.array_equal(y > 0, near)
    assert np.all((y == y.max(axis=1, keepdims=True)) | (y == 0))
    assert np.all(y[near.all(axis=1)] == 102 / 1024) and near.all(axis=1).mean() > 0.5
    # the other implementations do not collapse on the same input
    assert np.unique(th["sm_latency"]).size > 1 and np.unique(th["sm_legacy"]).size > 1


def facts_model(seed: int = 2) -> object:
    """Two Dense layers (14 and 10 bits wide results) feeding the softmax layers of
    `FACTS_CONFIG`, each probing one config fact."""
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inp = keras.Input((8,), name="x_in")
    wide, narrow = layers.Dense(10, name="wide"), layers.Dense(10, name="narrow")
    hw, hn = wide(inp), narrow(inp)
    wide.set_weights([rng.uniform(-1.0, 1.0, (8, 10)), rng.normal(0.0, 0.5, 10)])
    narrow.set_weights([rng.uniform(-1.0, 1.0, (8, 10)), rng.normal(0.0, 0.5, 10)])
    names_wide = (
        "prec_ignored",
        "keys_work",
        "table_size",
        "inv_size",
        "accum_prec",
        "accum_key",
        "accum_default",
    )
    outs = [layers.Activation("softmax", name=n)(hw) for n in names_wide]
    outs.append(layers.Activation("softmax", name="exp_size_ignored")(hn))
    return keras.Model(inp, outs)


NARROW_EXP = "ap_fixed<8,2,AP_RND,AP_SAT>"
NARROW_INV = "ap_fixed<8,4,AP_RND,AP_SAT>"
NARROW_INV_INP = "ap_fixed<8,5,AP_RND,AP_SAT>"
NARROW_ACC = "ap_fixed<9,5,AP_RND,AP_SAT>"
MODEL_DEFAULT = "ap_fixed<16,6>"
FINE_EXP = "ap_fixed<18,2,AP_RND,AP_SAT>"
NARROW_TABLES = {
    "exp_table_t": NARROW_EXP,
    "inv_table_t": NARROW_INV,
    "inv_inp_t": NARROW_INV_INP,
    "exp_table_size": 256,
    "inv_table_size": 256,
}

FACTS_CONFIG = {
    "Model": {"Precision": MODEL_DEFAULT, "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "wide": {"Precision": {"result": "ap_fixed<14,5>"}},
        "narrow": {"Precision": {"result": "ap_fixed<10,4>"}},
        "prec_ignored": {
            "Precision": {
                "exp_table": NARROW_EXP,
                "inv_table": NARROW_INV,
                "inv_inp": NARROW_INV_INP,
            }
        },
        "keys_work": {
            "exp_table_t": NARROW_EXP,
            "inv_table_t": NARROW_INV,
            "inv_inp_t": NARROW_INV_INP,
        },
        "table_size": {"TableSize": 256},
        "inv_size": {"InvTableSize": 64},
        "accum_prec": {"Precision": {"accum": NARROW_ACC}},
        "accum_key": {"accum_t": NARROW_ACC},
        # finer exp table entries than the model default keeps: the accumulator's cast shows
        "accum_default": {"exp_table_t": FINE_EXP},
        "exp_size_ignored": {"ExpTableSize": 64},
    },
}


@pytest.fixture(scope="module")
def facts() -> tuple:
    """The facts model, its C simulation trace, and a stable-softmax emulation helper."""
    model = facts_model()
    X = model_inputs(seed=3)
    em, _, th = assert_equal_to_csim(model, FACTS_CONFIG, X, same_layers=True)

    def emulate(layer: str, source: str, data_t: str, **over: object) -> np.ndarray:
        x = th[source].reshape(N_SAMPLES, -1)
        dt = T(data_t)
        kwargs = {
            "data_t": dt,
            "inp_norm_t": sm.softmax_sizes({}, dt)["inp_norm_t"],
            "exp_table_t": RND_SAT,
            "exp_table_size": 1024,
            "inv_inp_t": RND_SAT,
            "inv_table_t": RND_SAT,
            "inv_table_size": 1024,
            "accum_t": T(MODEL_DEFAULT),
            "result_t": T(MODEL_DEFAULT),
        }
        kwargs.update({k: T(v) if isinstance(v, str) else v for k, v in over.items()})
        return sm.softmax_stable(x, **kwargs)

    return em, th, emulate


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return not np.array_equal(a, b)


@pytest.mark.csim
@requires_gxx
def test_softmax_precision_entries_are_ignored(facts: tuple) -> None:
    """``Precision: {exp_table, inv_table, inv_inp}`` leave the tables ap_fixed<18,8,RND,SAT>."""
    em, th, emulate = facts
    node = em.graph.node("prec_ignored")
    assert all(node.types[k] == RND_SAT for k in ("exp_table_t", "inv_table_t", "inv_inp_t"))
    assert_exact(
        emulate("prec_ignored", "wide", "ap_fixed<14,5>"),
        th["prec_ignored"],
        "prec_ignored with default tables",
    )
    # as if written: 8-bit tables, which hls4ml would also shrink to 2^8 entries
    written = emulate("prec_ignored", "wide", "ap_fixed<14,5>", **NARROW_TABLES)
    assert _differs(written, th["prec_ignored"])


@pytest.mark.csim
@requires_gxx
def test_softmax_type_keys_set_the_tables(facts: tuple) -> None:
    """``exp_table_t``, ``inv_table_t``, ``inv_inp_t`` as layer keys change the C simulation.

    hls4ml's ``fix_softmax_table_size`` also lowers the table size to 2^8, the width of the
    written ``inv_table_t`` (the input's 14 bits would allow 2^14).
    """
    em, th, emulate = facts
    node = em.graph.node("keys_work")
    assert node.types["inv_table_t"] == T(NARROW_INV) and int(node.attrs["table_size"]) == 256
    written = emulate("keys_work", "wide", "ap_fixed<14,5>", **NARROW_TABLES)
    assert_exact(written, th["keys_work"], "keys_work with the written tables")
    assert _differs(emulate("keys_work", "wide", "ap_fixed<14,5>"), th["keys_work"])


@pytest.mark.csim
@requires_gxx
def test_table_size_sets_both_tables_and_inv_size_limits_the_exp_one(facts: tuple) -> None:
    """``TableSize`` sets both sizes; ``InvTableSize`` the inverse one, and the exp size becomes
    min(inverse size, 2^(W-1)) (64 here, not 1024)."""
    _, th, emulate = facts
    both = emulate("table_size", "wide", "ap_fixed<14,5>", exp_table_size=256, inv_table_size=256)
    assert_exact(both, th["table_size"], "TableSize 256")
    assert _differs(emulate("table_size", "wide", "ap_fixed<14,5>"), th["table_size"])
    inv = emulate("inv_size", "wide", "ap_fixed<14,5>", exp_table_size=64, inv_table_size=64)
    assert_exact(inv, th["inv_size"], "InvTableSize 64")
    assert _differs(
        emulate("inv_size", "wide", "ap_fixed<14,5>", inv_table_size=64), th["inv_size"]
    )


@pytest.mark.csim
@requires_gxx
def test_explicit_exp_table_size_is_ignored(facts: tuple) -> None:
    """``ExpTableSize: 64`` on an ap_fixed<10,4> input: the C++ uses min(1024, 2^9) = 512."""
    _, th, emulate = facts
    used = emulate("exp_size_ignored", "narrow", "ap_fixed<10,4>", exp_table_size=512)
    assert_exact(used, th["exp_size_ignored"], "exp size 512")
    written = emulate("exp_size_ignored", "narrow", "ap_fixed<10,4>", exp_table_size=64)
    assert _differs(written, th["exp_size_ignored"])


@pytest.mark.csim
@requires_gxx
def test_accumulator_is_the_model_default_unless_set(facts: tuple) -> None:
    """No accum setting: the model default (not the attribute's ap_fixed<18,8,RND,SAT>);
    ``Precision: {accum}`` and ``accum_t`` both set it."""
    em, th, emulate = facts
    assert em.graph.node("accum_default").types["accum_t"] == T(MODEL_DEFAULT)
    fine = {"exp_table_t": FINE_EXP}
    assert_exact(
        emulate("accum_default", "wide", "ap_fixed<14,5>", **fine),
        th["accum_default"],
        "accum = model default",
    )
    assert _differs(
        emulate("accum_default", "wide", "ap_fixed<14,5>", accum_t=RND_SAT, **fine),
        th["accum_default"],
    )
    for layer in ("accum_prec", "accum_key"):
        assert_exact(
            emulate(layer, "wide", "ap_fixed<14,5>", accum_t=NARROW_ACC),
            th[layer],
            f"{layer}: accum {NARROW_ACC}",
        )
        assert _differs(emulate(layer, "wide", "ap_fixed<14,5>"), th[layer])
