"""`emulation.config.keys`: which block sets a layer's key, the one writer of types, hls4ml's
default config; each rule checked against the graph hls4ml itself builds."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from emulation.config import (
    IGNORED_PRECISION_KEYS,
    LAYER_LEVEL_TYPES,
    configured_type,
    default_config,
    ignored_keys,
    layer_setting,
    set_type,
    without_ignored_keys,
)
from emulation.fixed import FixedType

MODEL = {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}


@pytest.fixture(scope="module")
def model() -> Any:
    """Dense 4-3 (relu) -> Dense 3-2 -> softmax, named fc1, fc2, sm."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(2, name="fc2")(hidden)
    return keras.Model(inputs, keras.layers.Activation("softmax", name="sm")(outputs))


def _graph(model: Any, cfg: dict) -> Any:
    from emulation.graph import build_graph

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_graph(model, cfg)


def test_layer_name_beats_layer_type_beats_model(model):
    """ReuseFactor from LayerName, else LayerType, else Model: as hls4ml applies it."""
    cfg = {
        "Model": {**MODEL, "ReuseFactor": 1},
        "LayerType": {"Dense": {"ReuseFactor": 2}},
        "LayerName": {"FC1": {"ReuseFactor": 3}},  # matched case-insensitively
    }
    assert layer_setting(cfg, "fc1", "Dense", "ReuseFactor") == 3
    assert layer_setting(cfg, "fc2", "Dense", "ReuseFactor") == 2
    assert layer_setting(cfg, "sm", "Softmax", "ReuseFactor") == 1
    assert layer_setting({}, "sm", "Softmax", "ReuseFactor", 7) == 7
    graph = _graph(model, cfg)
    assert graph.node("fc1").attrs["reuse_factor"] == 3
    assert graph.node("fc2").attrs["reuse_factor"] == 2


def test_configured_type_follows_the_same_precedence():
    """A layer key, then Precision (string, <var>, default) of LayerName, then of LayerType;
    a table sub-key of Precision never counts."""
    cfg = {
        "Model": MODEL,
        "LayerType": {"Dense": {"Precision": {"result": "ap_fixed<10,4>"}}},
        "LayerName": {
            "fc1": {"Precision": {"default": "auto"}},
            "sm": {"Precision": {"table": "ap_fixed<8,1>"}, "exp_table_t": "ap_fixed<12,2>"},
        },
    }
    assert configured_type(cfg, "fc1", "Dense", "result_t") == "auto"
    assert configured_type(cfg, "fc2", "Dense", "result_t") == "ap_fixed<10,4>"
    assert configured_type(cfg, "fc2", "Dense", "weight_t") is None
    assert configured_type(cfg, "sm", "Softmax", "exp_table_t") == "ap_fixed<12,2>"
    assert configured_type(cfg, "sm", "Softmax", "table_t") is None


def test_set_type_writes_keys_hls4ml_applies(model):
    """Tables through the layer key, arithmetic types through Precision: hls4ml's graph then
    holds exactly the types written."""
    cfg = {"Model": MODEL, "LayerName": {"fc2": {}, "sm": {}}}
    result, table, inv_inp = (
        FixedType.parse("ap_fixed<12,5,AP_RND,AP_SAT>"),
        FixedType.parse("ap_ufixed<14,1>"),
        FixedType.parse("ap_fixed<16,8>"),
    )
    set_type(cfg["LayerName"]["fc2"], "result_t", result)
    set_type(cfg["LayerName"]["sm"], "exp_table_t", table)
    set_type(cfg["LayerName"]["sm"], "inv_inp_t", inv_inp.to_hls())
    assert cfg["LayerName"]["fc2"] == {"Precision": {"result": result.to_config()}}
    assert set(cfg["LayerName"]["sm"]) == {"exp_table_t", "inv_inp_t"}
    graph = _graph(model, cfg)
    assert graph.node("fc2").types["result_t"] == result
    assert graph.node("sm").types["exp_table_t"] == table
    assert graph.node("sm").types["inv_inp_t"] == inv_inp


def test_the_ignored_keys_name_the_layer_level_types():
    """Each ignored Precision sub-key maps to the layer key that sets its type."""
    assert set(IGNORED_PRECISION_KEYS.values()) == LAYER_LEVEL_TYPES
    assert all(v == f"{k}_t" for k, v in IGNORED_PRECISION_KEYS.items())


def test_without_ignored_keys_drops_them_at_every_level():
    """The table sub-keys go, everything else stays, and the input is not changed."""
    cfg = {
        "Model": {"Precision": {"default": "ap_fixed<16,6>", "table": "ap_fixed<18,8>"}},
        "LayerType": {"Softmax": {"Precision": {"exp_table": "ap_fixed<18,8>"}}},
        "LayerName": {"sm": {"Precision": {"inv_inp": "x", "result": "auto"}, "TableSize": 512}},
    }
    clean = without_ignored_keys(cfg)
    assert ignored_keys(clean) == []
    assert len(ignored_keys(cfg)) == 3
    assert clean["LayerName"]["sm"] == {"Precision": {"result": "auto"}, "TableSize": 512}
    assert clean["Model"]["Precision"] == {"default": "ap_fixed<16,6>"}


def test_default_config_is_hls4mls_own(model):
    """`default_config` is config_from_keras_model(granularity='name') for Vivado."""
    import hls4ml

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    assert default_config(model) == expected
    uniform = default_config(model, granularity="model", default_precision="ap_fixed<9,3>")
    assert uniform["Model"]["Precision"]["default"] == "ap_fixed<9,3>"
