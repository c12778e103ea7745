"""Profiling: summary data, JSON round trip, figure contents, and hls4ml's four workflows."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from matplotlib.colors import same_color
from matplotlib.figure import Figure

from emulation.errors import ConfigError, DataError
from emulation.fixed import FixedType
from reports.plots import GID_OVERFLOW_NOTE, GID_PEAK, GID_TYPE_RANGE, OVERFLOW_COLOR
from reports.profiling import (
    BINS_PER_OCTAVE,
    PLOT_KINDS,
    Profile,
    Row,
    numerical,
    plot_profile,
    summarize,
)

T8 = FixedType.parse("ap_fixed<8,3>")  # LSB 2^-5, max 3.96875


# --------------------------------------------------------------------------- figure reading


def _rendered(fig: Figure) -> Figure:
    """Draw the figure (as saving does), so what the tests read is what a file shows."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return fig


def _labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def _red_labels(fig: Figure) -> list[str]:
    labels = fig.axes[0].get_yticklabels()
    return [t.get_text() for t in labels if same_color(t.get_color(), OVERFLOW_COLOR)]


def _type_boxes(fig: Figure) -> list:
    return [p for p in fig.axes[0].patches if p.get_gid() == GID_TYPE_RANGE]


def _notes(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == GID_OVERFLOW_NOTE]


def _legend(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


# --------------------------------------------------------------------------- plain data


def _row(name: str, values: np.ndarray, t: FixedType | None = None, peak=None) -> Row:
    count = None
    if t is not None:
        count = int(np.count_nonzero(t.quantize(values, return_overflow=True)[1]))
    return Row(name, name.split("/")[0], values.size, summarize(values), t, count, peak)


def _profile(kind: str = "weights", typed: bool = True) -> Profile:
    rng = np.random.default_rng(1)
    t = T8 if typed else None
    rows = (
        _row("d1/weight", rng.normal(0, 0.3, 64), t),
        _row("d1/bias", rng.normal(0, 0.05, 8), t),
        # one of 24 too big for ap_fixed<8,3>
        _row("d2/weight", rng.normal(0, 0.3, 24) * np.r_[np.ones(23), 40.0], t),
        _row("d2/bias", np.zeros(3), t),
    )
    samples = 10 if kind == "activations" else None
    return Profile(kind, "emulator" if typed else "keras", rows, samples)


def test_summarize_drops_zeros_and_takes_absolute_values():
    """Quartiles and extremes are of |x| for x != 0; the signed extremes are kept apart."""
    s = summarize(np.array([0.0, -4.0, 1.0, 2.0, 0.0, -0.5]))
    assert (s.count, s.min, s.median, s.max) == (4, 0.5, 1.5, 4.0)
    assert (s.lowest, s.highest) == (-4.0, 2.0)
    assert sum(s.hist_counts) == 4


def test_summarize_of_zeros_is_none():
    """A variable with no non-zero value has no summary (log2 of zero is undefined)."""
    assert summarize(np.zeros((3, 2))) is None


def test_summarize_refuses_nan():
    """NaN or infinity is a DataError naming the count."""
    with pytest.raises(DataError, match="1 NaN"):
        summarize(np.array([1.0, np.nan]))


def test_histogram_bins_start_at_powers_of_two():
    """Powers of two fall on the first fine bin of their octave; octaves() sums per power."""
    s = summarize(np.array([1.0, 1.5, 2.0, 3.0, 0.25, 2.0**0.5]))
    k, counts = s.octaves()
    assert dict(zip(k.tolist(), counts.tolist(), strict=True)) == {-2: 1, -1: 0, 0: 3, 1: 2}
    first_of_octave_0 = 0 * BINS_PER_OCTAVE - s.hist_start
    assert s.hist_counts[first_of_octave_0] == 1  # only 1.0 in [1, 2^(1/8))


def test_summarize_does_not_modify_its_input():
    """The values passed in are left as they were."""
    x = np.array([-1.0, 0.0, 3.0])
    summarize(x)
    assert np.array_equal(x, [-1.0, 0.0, 3.0])


def test_row_overflowed_uses_the_count_then_the_extremes():
    """The counted overflows decide; without a count, extremes beyond the type do."""
    s = summarize(np.array([5.0]))
    assert Row("a", "a", 1, s, T8, 0).overflowed is False
    assert Row("a", "a", 1, s, T8, None).overflowed is True
    assert Row("a", "a", 1, s, None, None).overflowed is False
    assert Row("a", "a", 1, summarize(np.array([-4.0])), T8, None).overflowed is False


def test_profile_round_trips_through_json():
    """to_dict -> JSON text -> from_dict gives an equal profile."""
    p = _profile("activations")
    p = Profile(p.kind, p.source, p.rows, p.samples, {"d1.accum_t": 7})
    back = Profile.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_rows_are_the_variables_top_to_bottom(plot):
    """One y tick label per variable, in layer order from the top."""
    fig = _rendered(plot_profile(_profile(), plot))
    assert isinstance(fig, Figure)
    assert _labels(fig) == ["d1/weight", "d1/bias", "d2/weight", "d2/bias"]
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y axis points down: first row on top


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_grey_boxes_one_per_typed_row(plot):
    """Each row with a type gets one tagged grey box; untyped profiles get none."""
    assert len(_type_boxes(_rendered(plot_profile(_profile(typed=True), plot)))) == 4
    assert len(_type_boxes(_rendered(plot_profile(_profile(typed=False), plot)))) == 0


def test_grey_box_spans_lsb_to_max():
    """The box runs from log2(LSB) to log2(max) of the type, behind the data."""
    box = _type_boxes(plot_profile(_profile(), "boxplot"))[0]
    assert box.get_x() == -5.0
    assert math.isclose(box.get_x() + box.get_width(), math.log2(T8.max))
    assert box.get_zorder() < 2


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_overflowing_row_is_red_with_its_count(plot):
    """Only the variable beyond its type is red, annotated with the number that overflowed."""
    fig = _rendered(plot_profile(_profile(), plot))
    assert _red_labels(fig) == ["d2/weight"]
    assert _notes(fig) == ["1 overflowed"]
    assert any("did not fit a type" in t for t in _legend(fig))


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_axis_label_and_legend(plot):
    """The x axis says log2 of |value|; the legend explains the grey box."""
    fig = _rendered(plot_profile(_profile(), plot))
    assert "log2" in fig.axes[0].get_xlabel()
    assert "|value|" in fig.axes[0].get_xlabel()
    assert any("range of the configured type" in t for t in _legend(fig))
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks and all(t.startswith("$2^{") for t in ticks)


def test_untyped_legend_has_no_grey_or_red_entry():
    """Without types the legend does not mention type ranges or overflows."""
    legend = _legend(_rendered(plot_profile(_profile(typed=False), "boxplot")))
    assert legend and not any("type" in t for t in legend)


def test_all_zero_row_is_labelled():
    """A variable with only zeros keeps its row and says so."""
    fig = plot_profile(_profile(), "violinplot")
    assert "all 3 values are zero" in [t.get_text() for t in fig.axes[0].texts]


def test_peak_before_cast_is_marked():
    """An activation whose pre-cast peak lies beyond the shown values gets a red cross there."""
    values = np.linspace(0.1, 3.5, 50)
    row = Row("relu", "relu", 50, summarize(values), T8, 4, 300.0)
    fig = plot_profile(Profile("activations", "emulator", (row,), 50), "boxplot")
    peaks = [line for line in fig.axes[0].lines if line.get_gid() == GID_PEAK]
    assert len(peaks) == 1
    assert peaks[0].get_xdata()[0] == math.log2(300.0)
    assert _notes(fig) == ["4 overflowed"]


def test_accumulator_overflow_marks_the_row_red():
    """An overflow at another cast point of the layer (accum_t) makes the row red and is named."""
    values = np.linspace(0.1, 3.5, 50)
    row = Row("dense", "dense", 50, summarize(values), T8, 0, 3.5, {"accum_t": 240})
    fig = _rendered(plot_profile(Profile("activations", "emulator", (row,), 50), "histogram"))
    assert _red_labels(fig) == ["dense"]
    assert _notes(fig) == ["240 overflowed in accum_t"]
    assert not [line for line in fig.axes[0].lines if line.get_gid() == GID_PEAK]
    back = Row.from_dict(json.loads(json.dumps(row.to_dict())))
    assert back == row


def test_other_overflows_are_named_in_the_subtitle():
    """Cast points that are not rows (accumulators) are listed under the title."""
    p = _profile("activations")
    p = Profile(p.kind, p.source, p.rows, p.samples, {"d1.accum_t": 7})
    assert "d1.accum_t (7)" in plot_profile(p).axes[0].get_title(loc="left")


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_drawing_does_not_modify_the_profile(plot):
    """The profile's data is the same before and after drawing."""
    p = _profile()
    before = json.dumps(p.to_dict())
    _rendered(plot_profile(p, plot))
    assert json.dumps(p.to_dict()) == before


def test_figure_from_saved_profile_matches():
    """A profile read back from JSON draws the same rows, boxes and notes."""
    p = _profile()
    fig = _rendered(plot_profile(Profile.from_dict(json.loads(json.dumps(p.to_dict())))))
    assert _labels(fig) == [r.name for r in p.rows]
    assert len(_type_boxes(fig)) == 4
    assert _notes(fig) == ["1 overflowed"]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_figures_save(fmt):
    """Figures render to PNG and SVG without pyplot."""
    buffer = io.BytesIO()
    plot_profile(_profile(), "histogram").savefig(buffer, format=fmt)
    assert buffer.getvalue()[:5] in (b"\x89PNG\r", b"<?xml")


def test_unknown_plot_kind_lists_the_three():
    """Any other plot kind is a ConfigError naming boxplot, histogram and violinplot."""
    with pytest.raises(ConfigError, match="boxplot, histogram, violinplot"):
        plot_profile(_profile(), "FacetGrid")
    with pytest.raises(ConfigError, match="boxplot, histogram, violinplot"):
        numerical(plot="swarm")


# --------------------------------------------------------------------------- from Keras models
# hls4ml's four documented workflows, on a 4-8-3 MLP whose dense1 weights hold two values
# (5 and -6) that ap_fixed<6,2> (max 1.9375) cannot hold, and whose dense1 result type
# ap_fixed<8,2> overflows on the test inputs.

WEIGHT_ROWS = ["dense1/weight", "dense1/bias", "out/weight", "out/bias"]
CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1},
    "LayerName": {"dense1": {"Precision": {"weight": "ap_fixed<6,2>", "result": "ap_fixed<8,2>"}}},
}


@pytest.fixture(scope="module")
def mlp():
    """Dense(8, relu) -> Dense(3) -> softmax, fixed seeded weights, never compiled."""
    import keras

    rng = np.random.default_rng(0)
    model = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            keras.layers.Dense(8, activation="relu", name="dense1"),
            keras.layers.Dense(3, name="out"),
            keras.layers.Activation("softmax", name="sm"),
        ]
    )
    w = np.clip(rng.normal(0, 0.4, (4, 8)), -1.5, 1.5)
    w[0, 0], w[1, 2] = 5.0, -6.0
    model.layers[0].set_weights([w, rng.normal(0, 0.1, 8)])
    model.layers[1].set_weights([rng.normal(0, 0.4, (8, 3)), rng.normal(0, 0.1, 3)])
    return model


@pytest.fixture(scope="module")
def samples():
    return np.random.default_rng(1).normal(0, 1, (200, 4))


@pytest.fixture(scope="module")
def hls_model(mlp):
    """hls4ml's ModelGraph of the MLP (converted only: nothing written or compiled)."""
    from emulation.graph import convert

    return convert(mlp, CONFIG)


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_only_gives_weights_without_grey_boxes(mlp, plot):
    """Case 1: a model alone gives the float weights per layer, no types, no second figure."""
    weights, activations = numerical(mlp, plot=plot)
    assert activations is None
    _rendered(weights)
    assert _labels(weights) == WEIGHT_ROWS
    assert _type_boxes(weights) == []
    assert _red_labels(weights) == []


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_hls_model_alone_gives_weights_with_grey_boxes(hls_model, plot):
    """Case 2: an hls4ml ModelGraph alone gives the weights with one grey box per variable."""
    weights, activations = numerical(hls_config=hls_model, plot=plot)
    assert activations is None
    _rendered(weights)
    assert _labels(weights) == WEIGHT_ROWS
    assert len(_type_boxes(weights)) == 4
    assert _red_labels(weights) == ["dense1/weight"]
    assert _notes(weights) == ["2 overflowed"]  # 5.0 and -6.0


def test_config_with_model_gives_weights_with_grey_boxes(mlp):
    """Case 2 with a config dict and the model: the same grey boxes and red mark."""
    weights, activations = numerical(mlp, CONFIG)
    assert activations is None
    assert len(_type_boxes(weights)) == 4
    assert _notes(_rendered(weights)) == ["2 overflowed"]


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_and_data_give_both_without_grey_boxes(mlp, samples, plot):
    """Case 3: model and data give weights and float activations per Keras layer, no types."""
    weights, activations = numerical(mlp, X=samples, plot=plot)
    assert _labels(weights) == WEIGHT_ROWS
    _rendered(activations)
    assert _labels(activations) == ["dense1", "out", "sm"]
    assert _type_boxes(weights) == [] and _type_boxes(activations) == []
    assert activations.get_suptitle() == "Layer outputs over 200 samples"
    assert not any("range of the configured type" in t for t in _legend(activations))


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_config_and_data_give_both_with_grey_boxes(mlp, samples, plot):
    """Case 4: both figures with grey boxes; the overflowing dense1 output is red, counted."""
    from emulation.model import EmulatedModel

    weights, activations = numerical(mlp, CONFIG, samples, plot=plot)
    _rendered(weights)
    _rendered(activations)
    assert len(_type_boxes(weights)) == 4
    assert _labels(activations) == ["dense1", "dense1_relu", "out", "sm"]  # hls4ml's layers
    assert len(_type_boxes(activations)) == 4
    em = EmulatedModel(mlp, CONFIG)
    em.trace(samples)
    count = em.overflows["dense1.result_t"].count
    assert count > 0
    assert _red_labels(activations) == ["dense1"]
    assert _notes(activations) == [f"{count} overflowed"]
    assert any("before the cast" in t for t in _legend(activations))


def test_project_dict_serves_as_model_and_config(mlp):
    """A project dict naming KerasModel is both the model and the config."""
    weights, _ = numerical(hls_config={"KerasModel": mlp, "HLSConfig": CONFIG})
    assert len(_type_boxes(weights)) == 4


def test_emulated_weights_are_after_batchnorm_fusion():
    """With a config the weights are hls4ml's (BN folded into dense1); without, Keras's."""
    import keras

    from reports.profiling import weights_profile

    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, name="dense1"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("relu", name="relu"),
        ]
    )
    rng = np.random.default_rng(3)
    model.get_layer("bn").set_weights([rng.uniform(1, 3, 8) for _ in range(4)])
    float_rows = [r.name for r in weights_profile(model).rows]
    assert float_rows == ["dense1/weight", "dense1/bias", "bn/scale", "bn/bias"]
    cfg = {
        "Model": {"Precision": "ap_fixed<16,6>"},
        "LayerName": {"dense1": {"Precision": {"result": "auto"}}},
    }
    fused = weights_profile(model, cfg)
    assert [r.name for r in fused.rows] == ["dense1/weight", "dense1/bias"]
    gamma, _, _, var = model.get_layer("bn").get_weights()
    kernel = model.get_layer("dense1").get_weights()[0]
    expected = np.max(np.abs(kernel * (gamma / np.sqrt(var + 1e-3))))
    assert math.isclose(fused.rows[0].summary.max, expected, rel_tol=1e-5)


def test_activations_refuse_data_of_the_wrong_shape(mlp):
    """Samples that do not fit the model's input are a DataError naming both shapes."""
    from reports.profiling import activations_profile

    with pytest.raises(DataError, match=r"\(4,\)"):
        activations_profile(mlp, np.ones((5, 3)))


def test_wrapped_accumulator_is_reported_on_its_row(mlp, samples):
    """A too-narrow dense1 accumulator is counted on the dense1 row, not lost."""
    from reports.profiling import activations_profile

    cfg = {"Model": {"Precision": "ap_fixed<16,6>"}}
    cfg["LayerName"] = {"dense1": {"Precision": {"accum": "ap_fixed<6,1>"}}}
    profile = activations_profile(mlp, samples, cfg)
    dense1 = profile.rows[0]
    assert dense1.name == "dense1" and dense1.cast_overflows["accum_t"] > 0
    assert next(r.name for r in profile.overflowing()) == "dense1"


def test_nothing_to_profile_is_a_config_error():
    """A config dict without a model says what to give."""
    with pytest.raises(ConfigError, match="Keras model"):
        numerical(hls_config=CONFIG)


def test_public_names_exist():
    """Every name in the modules' __all__ is defined (and the package re-exports the API)."""
    import reports
    import reports.plots
    import reports.profiling

    for module in (reports, reports.plots, reports.profiling):
        assert all(hasattr(module, name) for name in module.__all__)
