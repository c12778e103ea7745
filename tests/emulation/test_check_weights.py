"""`emulation.check` on weights: wrap-around, saturation, rounding to zero, and where each
layer type comes from (no compiler)."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.check import check
from tests.support.check_models import BASE, codes


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
    [f] = codes(check(small_weights, cfg), "weight-overflow")
    assert f.severity == "error" and f.layer == "d" and "1 of 8" in f.message
    assert f.fix == "LayerName: {d: {Precision: {weight: ap_fixed<9,3>}}}"


def test_saturating_weight_type_is_a_warning(small_weights):
    """With AP_SAT the largest weight saturates: a warning, not an error."""
    cfg = {
        "Model": BASE,
        "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,2,AP_TRN,AP_SAT>"}}},
    }
    [f] = codes(check(small_weights, cfg), "weight-overflow")
    assert f.severity == "warning" and "saturate" in f.message


def test_saturating_by_less_than_one_lsb_is_a_note(small_weights):
    """3.0 in ap_fixed<2,3,AP_RND,AP_SAT> (steps of 2, largest 2) rounds up to 4 and saturates to
    2: an error of 1, less than the LSB, as rounding could give: a note."""
    cfg = {
        "Model": BASE,
        "LayerName": {"d": {"Precision": {"weight": "ap_fixed<2,3,AP_RND,AP_SAT>"}}},
    }
    [f] = codes(check(small_weights, cfg), "weight-overflow")
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
    [f] = codes(check(model, cfg), "weight-overflow")
    assert f.severity == "note" and "ap_fixed<8,3," not in f.fix
    assert "bias: ap_fixed<9,4,AP_RND,AP_SAT>" in f.fix


def test_weights_rounded_to_zero(small_weights):
    """An LSB of 1/16 truncates the 7 small weights to zero: warning."""
    cfg = {"Model": BASE, "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,4>"}}}}
    [f] = codes(check(small_weights, cfg), "weight-zeroed")
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
