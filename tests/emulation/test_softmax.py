"""`emulation.layers.softmax` against hand-computed cases, the C++ functions and hls4ml.

Same three levels as ``test_activation.py``: pure cases; ``nnet::softmax`` itself in the shared
g++ harness (`tests.support.softmax_specs`: every implementation, narrow and wide types,
saturating sums, wrapping normalisation); whole hls4ml models, including the collapse of an
'auto' wide input to a uniform output (the failure seen on the community SVHN model). The
config facts of DESIGN.md are in ``test_softmax_facts.py``.
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
from tests.support.hls import assert_equal_to_csim
from tests.support.models import MODEL_SAMPLES, auto_config, model_inputs
from tests.support.nnet_harness import assert_exact, harness_outputs
from tests.support.softmax_specs import RND_SAT, softmax_specs

T = FixedType.parse


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
    x = th["d1"].reshape(MODEL_SAMPLES, -1)
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
    x = th["d1"].reshape(MODEL_SAMPLES, -1)
    y = th["sm_stable"].reshape(MODEL_SAMPLES, -1)
    near = x.max(axis=1, keepdims=True) - x < 32
    assert np.array_equal(y > 0, near)
    assert np.all((y == y.max(axis=1, keepdims=True)) | (y == 0))
    assert np.all(y[near.all(axis=1)] == 102 / 1024) and near.all(axis=1).mean() > 0.5
    # the other implementations do not collapse on the same input
    assert np.unique(th["sm_latency"]).size > 1 and np.unique(th["sm_legacy"]).size > 1
