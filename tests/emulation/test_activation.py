"""`emulation.layers.activation` against the C++ functions and whole hls4ml models.

Three levels of proof (the hand-computed cases are in ``test_activation_cases.py``):

1. pure-function cases worked out by hand (no compiler);
2. the real ``nnet_activation.h`` functions, compiled once into one harness
   (`tests.support.nnet_harness.run_nnet`) that calls each of them on seeded inputs for many
   type and table combinations (wide types, int wrap-around of the index, non-power-of-two
   tables, every rounding/overflow kind of result);
3. whole hls4ml models (``tests.support.hls``: hls4ml's own C simulation) against
   `EmulatedModel`: ``predict`` and every layer's ``trace`` exactly equal, plus the facts of
   DESIGN.md about table precisions.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers import activation as act
from tests.conftest import requires_gxx
from tests.support.activation_specs import activation_specs
from tests.support.hls import assert_equal_to_csim
from tests.support.models import MODEL_SAMPLES, auto_config, model_inputs
from tests.support.nnet_harness import DEFAULT_TABLE, assert_exact, harness_outputs

T = FixedType.parse


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
    x = th["d1"].reshape(MODEL_SAMPLES, -1)
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
    x = th["d1"].reshape(MODEL_SAMPLES, -1)
    common = {"data_t": T("ap_fixed<14,5>"), "result_t": T("ap_ufixed<6,0,AP_RND,AP_SAT>")}
    written = act.table_activation(x, "sigmoid", table_t=T(NARROW_TABLE), table_size=64, **common)
    assert_exact(written, th["sigmoid"], "sigmoid with table_t and TableSize")
    for table_t, size in ((DEFAULT_TABLE, 64), (T(NARROW_TABLE), 1024)):
        other = act.table_activation(x, "sigmoid", table_t=table_t, table_size=size, **common)
        assert not np.array_equal(other, th["sigmoid"]), (table_t, size)
