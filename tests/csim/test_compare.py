"""The three-way comparison: agreement, a caught and localised mismatch, JSON-ready data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from csim.compare import _lsb_histogram, compare
from emulation.errors import ConfigError, DataError, ToolError
from emulation.fixed import FixedType
from tests.conftest import requires_gxx
from tests.csim.small_models import BROKEN_AT_D2, CONFIG, small_inputs, small_labels
from tests.support.hls import hls_trace


@pytest.fixture(scope="module")
def model(small_model_file):
    from emulation.io.keras_files import load_model

    return load_model(small_model_file)


@pytest.fixture(scope="module")
def agreeing(model, csim_cache):
    return compare(
        model, CONFIG, small_inputs(), small_labels(), cache_dir=csim_cache, progress=False
    )


@pytest.fixture(scope="module")
def broken(model, csim_cache):
    return compare(
        model,
        CONFIG,
        small_inputs(),
        small_labels(),
        cache_dir=csim_cache,
        progress=False,
        emulator_config=BROKEN_AT_D2,
    )


@requires_gxx
@pytest.mark.csim
def test_emulator_and_csim_agree_on_every_value(agreeing):
    """The emulator matches hls4ml's C simulation bit for bit on the small model."""
    assert agreeing.agree, agreeing.first_divergence
    assert agreeing.identical == agreeing.n_values == 200 * 4
    assert agreeing.max_lsb_difference == 0.0
    assert agreeing.first_divergence is None
    assert [layer.name for layer in agreeing.layers] == [
        "d1",
        "d1_relu",
        "d2",
        "d2_relu",
        "d3",
        "sm",
    ]


@requires_gxx
@pytest.mark.csim
def test_both_sides_measured_against_float(agreeing):
    """Identical sides get identical float metrics; accuracy is counted against labels."""
    assert agreeing.emulator == agreeing.csim
    assert 0.0 < agreeing.emulator.mean_abs_error <= agreeing.emulator.max_abs_error < 1.0
    assert 0.5 < agreeing.emulator.top_class_agreement <= 1.0
    assert agreeing.emulator.accuracy is not None
    assert agreeing.float_accuracy is not None


@requires_gxx
@pytest.mark.csim
def test_mismatch_is_caught_and_localised_to_the_changed_layer(broken):
    """An emulator handed a narrower d2 diverges first at d2, with both types and values."""
    assert not broken.agree
    assert broken.identical < broken.n_values
    d = broken.first_divergence
    assert d is not None
    assert (d.layer, d.kind) == ("d2", "Dense")
    assert (d.emulator_type, d.csim_type) == ("ap_fixed<12,5>", "ap_fixed<16,6>")
    assert d.emulator != d.csim
    assert d.lsb_difference == abs(d.emulator - d.csim) / 2.0**-10
    # layers before d2 are untouched by the change
    before = {layer.name: layer for layer in broken.layers[:2]}
    assert all(layer.identical == layer.total for layer in before.values())
    assert broken.max_lsb_difference > 0


@requires_gxx
@pytest.mark.csim
def test_divergence_values_are_the_traced_ones(model, broken):
    """The reported sample, index and values are where the emulator's trace first differs from
    hls4ml's own C-simulation trace."""
    from emulation.model import EmulatedModel

    d = broken.first_divergence
    X = small_inputs()
    emu = EmulatedModel(model, BROKEN_AT_D2).trace(X)["d2"]
    ref = hls_trace(model, CONFIG, X)["d2"].reshape(emu.shape)
    differs = (emu != ref).any(axis=1)
    assert d.sample == int(np.argmax(differs))
    assert emu[d.sample, d.index[0]] == d.emulator
    assert ref[d.sample, d.index[0]] == d.csim


@requires_gxx
@pytest.mark.csim
def test_result_is_json_ready(broken):
    """to_dict() survives a JSON round trip unchanged."""
    data = broken.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["agree"] is False
    assert data["first_divergence"]["layer"] == "d2"
    assert set(data["overflows"]) >= {"d1.accum_t", "d2.result_t"}


@requires_gxx
@pytest.mark.csim
def test_second_comparison_uses_the_cache(model, csim_cache, agreeing):
    """A repeated comparison reports the compiled simulation as cached."""
    again = compare(model, CONFIG, small_inputs(20), cache_dir=csim_cache, progress=False)
    assert again.cached
    assert "compile" not in again.timings


def test_unknown_tool_is_refused(model):
    """hls_tool outside gxx/vivado/vitis is a ConfigError naming the choices."""
    with pytest.raises(ConfigError, match="gxx, vivado, vitis"):
        compare(model, CONFIG, small_inputs(5), hls_tool="quartus", progress=False)


def test_vendor_tool_missing_is_one_line(model, tmp_path, monkeypatch):
    """--hls-tool vivado without vivado_hls on PATH: one line that names the g++ way."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError) as info:
        compare(model, CONFIG, small_inputs(5), hls_tool="vivado", progress=False)
    assert str(info.value) == (
        "vivado_hls not found on PATH; --hls-tool gxx runs hls4ml's g++ C simulation instead"
    )


def test_labels_of_wrong_length_are_a_data_error(model, csim_cache):
    """Labels must give one class per sample (checked before anything is compiled)."""
    with pytest.raises(DataError, match="labels for 10 input samples"):
        compare(
            model, CONFIG, small_inputs(10), np.zeros(7, int), cache_dir=csim_cache, progress=False
        )


def test_lsb_histogram_bins_by_powers_of_two():
    """Differences count as 0, 1, 2, 3-4, 5-8 LSB; non-integer ones round up."""
    t = FixedType.parse("ap_fixed<8,4>")  # LSB 1/16
    diff = np.array([0, 0, 1, 2, 3, 4, 5, 8, 2.5]) / 16
    rows = _lsb_histogram(diff, t)
    assert rows == [
        {"label": "0", "count": 2},
        {"label": "1", "count": 1},
        {"label": "2", "count": 1},
        {"label": "3-4", "count": 3},
        {"label": "5-8", "count": 2},
    ]
