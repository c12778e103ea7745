"""`emulation.check`: each finding on a small model and config that triggers it (no compiler).

That ``Precision: {table: ...}`` has no effect and ``table_t`` does is proven against the C
simulation in ``test_activation.py`` (``test_precision_table_is_ignored_at_every_level``,
``test_table_t_key_and_table_size_set_the_table``); here the check only has to report it.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.check import check
from tests.support.check_models import BASE, NARROW, apply_fix, codes, safe


@pytest.fixture(scope="module")
def bn_model():
    """Dense 4-6 followed by a BatchNormalization with non-trivial statistics."""
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((4,), name="x")
    h = keras.layers.Dense(6, name="dense")(inp)
    out = keras.layers.BatchNormalization(name="bn")(h)
    model = keras.Model(inp, out)
    bn = model.get_layer("bn")
    bn.set_weights([np.full(6, 1.5), np.full(6, 0.25), np.full(6, 0.1), np.full(6, 2.0)])
    return model


def test_clean_config_has_no_warning(mlp):
    """A model default and a narrow softmax input give nothing above a note."""
    result = check(mlp, safe())
    assert result.worst in (None, "note"), result.findings


def test_precision_table_that_changes_nothing_visible_is_a_warning(mlp):
    """``Precision: {table: X}`` with X != the table in use: warning, fix via table_t."""
    result = check(mlp, safe(sig={"Precision": {"table": "ap_fixed<8,1>"}}))
    [f] = codes(result, "ignored-key")
    assert f.severity == "warning" and f.layer == "sig"
    assert "table_t: ap_fixed<8,1>" in f.fix and "ap_fixed<18,8>" in f.message


def test_precision_table_equal_to_default_is_a_note(mlp):
    """What config_from_keras_model writes (the default table) is only a note."""
    result = check(mlp, safe(sig={"Precision": {"table": "fixed<18,8,TRN,WRAP,0>"}}))
    [f] = codes(result, "ignored-key")
    assert f.severity == "note"


def test_ignored_table_keys_at_model_level(mlp):
    """``Model.Precision.exp_table`` is reported too."""
    cfg = safe()
    cfg["Model"] = {**BASE, "Precision": {"default": NARROW, "exp_table": "ap_fixed<8,1>"}}
    [f] = codes(check(mlp, cfg), "ignored-key")
    assert "Model.Precision.exp_table" in f.message and "exp_table_t" in f.fix


def test_unknown_key(mlp):
    """A misspelt Model key is a warning naming its path."""
    cfg = safe()
    cfg["Model"] = {**BASE, "ReuseFactr": 2}
    [f] = codes(check(mlp, cfg), "unknown-key")
    assert f.severity == "warning" and "Model.ReuseFactr" in f.message


def test_layer_name_matching_no_layer_names_the_closest(mlp):
    """LayerName.dens1 matches nothing; the closest name (dense1) is suggested."""
    [f] = codes(check(mlp, safe(dens1={"ReuseFactor": 1})), "unknown-layer")
    assert f.severity == "warning" and "dense1" in f.fix


def test_precision_of_fused_batchnorm(bn_model):
    """BN precisions are dropped when hls4ml fuses BN into the 'auto'-result Dense."""
    cfg = {
        "Model": BASE,
        "LayerName": {
            "dense": {"Precision": {"result": "auto"}},
            "bn": {"Precision": {"scale": "ap_fixed<8,3>", "result": "ap_fixed<12,4>"}},
        },
    }
    result = check(bn_model, cfg)
    assert "bn" not in [row.name for row in result.layers]
    [f] = codes(result, "fused-batchnorm")
    assert f.severity == "warning" and f.layer == "bn" and "dense" in f.fix


def test_batchnorm_kept_when_dense_result_is_explicit(bn_model):
    """An explicit Dense result keeps BN a layer: nothing to report."""
    cfg = {
        "Model": BASE,
        "LayerName": {
            "dense": {"Precision": {"result": NARROW}},
            "bn": {"Precision": {"scale": "ap_fixed<8,3>"}},
        },
    }
    result = check(bn_model, cfg)
    assert "bn" in [row.name for row in result.layers]
    assert not codes(result, "fused-batchnorm")


def test_replaced_reuse_factor(mlp):
    """ReuseFactor 5 on a 6x8 Resource Dense is replaced; the finding gives the one used."""
    result = check(mlp, safe(dense1={"ReuseFactor": 5, "Strategy": "Resource"}))
    [f] = codes(result, "reuse-replaced")
    used = next(r.reuse_factor for r in result.layers if r.name == "dense1")
    assert used != 5 and f.fix == f"LayerName: {{dense1: {{ReuseFactor: {used}}}}}"
    assert "valid: 1, 2, 3, 6, 12, 24, 48" in f.message


def test_auto_softmax_input_is_an_error(mlp):
    """An 'auto' Dense result feeding a stable softmax: error, fix on the feeding layer."""
    cfg = {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    [f] = codes(check(mlp, cfg), "softmax-resolution")
    assert f.severity == "error" and f.layer == "sm"
    assert f.fix.startswith("LayerName: {logits: {Precision: {result: ap_fixed<16,6>}}} ")
    assert "unverified" in f.fix


def test_moderately_wide_softmax_input_is_a_warning(mlp):
    """ap_fixed<18,9> input: step 1/4, coarse but not collapsed."""
    [f] = codes(check(mlp, safe(logits={"Precision": {"result": "ap_fixed<18,9>"}})),
                 "softmax-resolution")  # fmt: skip
    assert f.severity == "warning" and "step of 0.25" in f.message


@pytest.fixture(scope="module")
def big_logits():
    """Dense 6-4 -> softmax with logits up to ~100 on normal inputs (as the MNIST MLP's ~192):
    an ap_fixed<16,6> softmax input, the data-free fix, wraps them."""
    import keras

    keras.utils.set_random_seed(4)
    inp = keras.Input((6,), name="x")
    h = keras.layers.Dense(4, name="logits")(inp)
    model = keras.Model(inp, keras.layers.Activation("softmax", name="sm")(h))
    w, b = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([w * 30, b])
    return model, np.random.default_rng(0).normal(size=(200, 6))


WIDE_17_9 = {"Model": {**BASE, "Precision": "ap_fixed<17,9>"}}


def test_softmax_fix_is_verified_on_the_data(big_logits):
    """ap_fixed<17,9> everywhere: the data-free fix (an ap_fixed<16,6> input) wraps these
    logits; with data the suggested fix is a larger table, emulated and said to be verified,
    and applying it clears the finding without losing agreement."""
    model, x = big_logits
    narrowed = apply_fix(WIDE_17_9, "LayerName: {logits: {Precision: {result: ap_fixed<16,6>}}}")
    assert any(f.point == "logits.result_t" for f in codes(check(model, narrowed, x), "overflow"))
    result = check(model, WIDE_17_9, x)
    [f] = codes(result, "softmax-resolution")
    assert f.fix.startswith("LayerName: {sm: {TableSize: 4096}} (verified on the emulator")
    assert "200 samples" in f.fix and "agreement 100.0%" in f.fix
    fixed = check(model, apply_fix(WIDE_17_9, f.fix), x)
    assert not codes(fixed, "softmax-resolution") and not codes(fixed, "overflow")
    assert fixed.data["agreement"] >= result.data["agreement"]


def test_softmax_fix_narrows_the_input_when_no_table_is_enough(big_logits):
    """An 'auto' (very wide) softmax input: no table up to 65,536 entries clears the finding,
    so the fix is an input with the integer bits the observed logits need (and x_max - x:
    ap_fixed<19,9>) with a larger table, verified; the tried-and-failed ones are not offered."""
    model, x = big_logits
    cfg = {**WIDE_17_9, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    [f] = codes(check(model, cfg, x), "softmax-resolution")
    assert f.fix.startswith(
        "LayerName: {logits: {Precision: {result: ap_fixed<19,9>}}} and "
        "LayerName: {sm: {TableSize: 16384}} (verified"
    )
    fixed = check(model, apply_fix(cfg, f.fix), x)
    assert not codes(fixed, "softmax-resolution") and not codes(fixed, "overflow")
    assert fixed.data["agreement"] == 1.0


def test_softmax_fix_without_data_says_it_is_unverified(big_logits):
    """Without data nothing is emulated: the fix says so."""
    model, _ = big_logits
    [f] = codes(check(model, WIDE_17_9), "softmax-resolution")
    assert f.fix.endswith(
        "(unverified: no data; with --data `aptune check` tries fixes on the emulator)"
    )


def test_softmax_table_size_not_power_of_two(mlp):
    """TableSize 1000 makes the C++ index past the table: error."""
    result = check(mlp, safe(sm={"TableSize": 1000}))
    found = codes(result, "table-size")
    assert found and all(f.severity == "error" for f in found)
    assert any("InvTableSize: 512" in f.fix for f in found)


def test_inverse_table_larger_than_its_index_type(mlp):
    """1024 entries indexed by an 8-bit inv_inp_t: error."""
    result = check(mlp, safe(sm={"inv_inp_t": "ap_fixed<8,4>"}))
    [f] = codes(result, "table-size")
    assert f.severity == "error" and "ap_fixed<8,4>" in f.message
