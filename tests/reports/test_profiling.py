"""Profiling: summary data, JSON round trip, figure contents, and hls4ml's four workflows."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from emulation.errors import ConfigError, DataError
from emulation.fixed import FixedType
from reports.plots import GID_PEAK
from reports.profiling import (
    BINS_PER_OCTAVE,
    PLOT_KINDS,
    Profile,
    Row,
    check_plot,
    plot_profile,
    summarize,
)
from tests.support import figures

T8 = FixedType.parse("ap_fixed<8,3>")  # LSB 2^-5, max 3.96875


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
    fig = figures.rendered(plot_profile(_profile(), plot))
    assert isinstance(fig, Figure)
    assert figures.labels(fig) == ["d1/weight", "d1/bias", "d2/weight", "d2/bias"]
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y axis points down: first row on top


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_grey_boxes_one_per_typed_row(plot):
    """Each row with a type gets one tagged grey box; untyped profiles get none."""
    assert len(figures.type_boxes(figures.rendered(plot_profile(_profile(typed=True), plot)))) == 4
    assert len(figures.type_boxes(figures.rendered(plot_profile(_profile(typed=False), plot)))) == 0


def test_grey_box_spans_lsb_to_max():
    """The box runs from log2(LSB) to log2(max) of the type, behind the data."""
    box = figures.type_boxes(plot_profile(_profile(), "boxplot"))[0]
    assert box.get_x() == -5.0
    assert math.isclose(box.get_x() + box.get_width(), math.log2(T8.max))
    assert box.get_zorder() < 2


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_overflowing_row_is_red_with_its_count(plot):
    """Only the variable beyond its type is red, annotated with the number that overflowed."""
    fig = figures.rendered(plot_profile(_profile(), plot))
    assert figures.red_labels(fig) == ["d2/weight"]
    assert figures.notes(fig) == ["1 overflowed"]
    assert any("did not fit a type" in t for t in figures.legend(fig))


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_axis_label_and_legend(plot):
    """The x axis says log2 of |value|; the legend explains the grey box."""
    fig = figures.rendered(plot_profile(_profile(), plot))
    assert "log2" in fig.axes[0].get_xlabel()
    assert "|value|" in fig.axes[0].get_xlabel()
    assert any("range of the configured type" in t for t in figures.legend(fig))
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks and all(t.startswith("$2^{") for t in ticks)


def test_untyped_legend_has_no_grey_or_red_entry():
    """Without types the legend does not mention type ranges or overflows."""
    legend = figures.legend(figures.rendered(plot_profile(_profile(typed=False), "boxplot")))
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
    assert figures.notes(fig) == ["4 overflowed"]


def test_accumulator_overflow_marks_the_row_red():
    """An overflow at another cast point of the layer (accum_t) makes the row red and is named."""
    values = np.linspace(0.1, 3.5, 50)
    row = Row("dense", "dense", 50, summarize(values), T8, 0, 3.5, {"accum_t": 240})
    fig = figures.rendered(
        plot_profile(Profile("activations", "emulator", (row,), 50), "histogram")
    )
    assert figures.red_labels(fig) == ["dense"]
    assert figures.notes(fig) == ["240 overflowed in accum_t"]
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
    figures.rendered(plot_profile(p, plot))
    assert json.dumps(p.to_dict()) == before


def test_figure_from_saved_profile_matches():
    """A profile read back from JSON draws the same rows, boxes and notes."""
    p = _profile()
    fig = figures.rendered(plot_profile(Profile.from_dict(json.loads(json.dumps(p.to_dict())))))
    assert figures.labels(fig) == [r.name for r in p.rows]
    assert len(figures.type_boxes(fig)) == 4
    assert figures.notes(fig) == ["1 overflowed"]


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
        check_plot("swarm")


# ------------------------------------------------------------------------ reports draw only


def test_reports_never_run_a_model():
    """No module of ``reports`` imports Keras, the emulator or a file loader: it draws the plain
    data it is given (the profiles are computed in ``tuner.numerical_profile``)."""
    import ast
    from pathlib import Path

    import reports

    running = ("keras", "tensorflow", "hls4ml", "emulation.model", "emulation.graph")
    running += ("emulation.io.keras_files", "emulation.io.data_files", "emulation.config", "tuner")
    found = []
    for path in sorted(Path(reports.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in running[:3]]
            found += [f"{path.name}: {n}" for n in names if n.startswith(running[3:])]
    assert not found, found


def test_public_names_exist():
    """Every name in the modules' __all__ is defined (and the package re-exports the API)."""
    import reports
    import reports.plots
    import reports.profiling

    for module in (reports, reports.plots, reports.profiling):
        assert all(hasattr(module, name) for name in module.__all__)
