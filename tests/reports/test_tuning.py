"""The tuning report's figures: plain data, the precision chart and the trade-off plot (the
page and its text are in ``test_tuning_html.py``)."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from emulation.metrics import Target
from reports.tuning_plots import (
    GID_BASELINE,
    GID_BITS,
    GID_CANDIDATES,
    GID_RESULT,
    GID_TARGET,
    layer_order,
    plot_precision,
    plot_tradeoff,
)
from tests.reports.tuning_data import BARS, CANDIDATES, LAYERS, full_record, tuning_record


@pytest.fixture(scope="module")
def precision_fig():
    return plot_precision(tuning_record())


@pytest.fixture(scope="module")
def tradeoff_fig():
    return plot_tradeoff(tuning_record())


def _bars(fig) -> dict[str, dict[str, object]]:
    """``{"<layer>.<type>": {part: Rectangle}}`` of the precision chart."""
    out: dict[str, dict[str, object]] = {}
    for patch in fig.axes[0].patches:
        gid = patch.get_gid() or ""
        if gid.startswith(GID_BITS + ":"):
            _, point, part = gid.split(":")
            out.setdefault(point, {})[part] = patch
    return out


def _candidate_collections(fig):
    ax = fig.axes[0]
    return [c for c in ax.collections if (c.get_gid() or "").startswith(GID_CANDIDATES + ":")]


def _by_gid(fig, gid: str):
    return [a for a in fig.axes[0].get_lines() if a.get_gid() == gid]


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.axes[0].texts)


# ------------------------------------------------------------------------- plain data
def test_layer_order_follows_execution_not_the_alphabet():
    """Layers come in the order of the ranges (execution order), not sorted by name."""
    assert layer_order(tuning_record()) == LAYERS


def test_parse_target_reads_metric_direction_and_bound():
    """'mae <= 0.02' is a lower-is-better bound of 0.02 on mae."""
    t = Target.parse("mae <= 0.02")
    assert (t.metric, t.higher_is_better, t.bound, t.is_share) == ("mae", False, 0.02, False)


# --------------------------------------------------------------------- precision chart
def test_precision_has_one_bar_per_layer_and_kind(precision_fig):
    """One bar per (layer, kind) present among weights, accumulators and results."""
    bars = _bars(precision_fig)
    assert {tuple(k.split(".")) for k in bars} == BARS


def test_precision_bar_spans_integer_left_and_fraction_right_of_the_point(precision_fig):
    """ap_fixed<10,4>: sign [-4,-3], integer [-3,0], fraction [0,6]."""
    parts = _bars(precision_fig)["fc1.result_t"]
    spans = {p: (r.get_x(), r.get_x() + r.get_width()) for p, r in parts.items()}
    assert spans == {"sign": (-4, -3), "integer": (-3, 0), "fraction": (0, 6)}


def test_precision_unsigned_type_has_no_sign_bit(precision_fig):
    """ap_ufixed<8,0> is eight fractional bits and no sign bit."""
    parts = _bars(precision_fig)["softmax.result_t"]
    assert set(parts) == {"fraction"}
    assert (parts["fraction"].get_x(), parts["fraction"].get_width()) == (0, 8)


def test_precision_negative_integer_bits_leave_a_gap_after_the_point(precision_fig):
    """ap_fixed<5,-1>: the sign bit sits one place right of the point, then 4 fraction bits."""
    parts = _bars(precision_fig)["out.weight_t"]
    spans = {p: (r.get_x(), r.get_x() + r.get_width()) for p, r in parts.items()}
    assert spans == {"sign": (1, 2), "fraction": (2, 6)}


def test_precision_segments_add_up_to_the_width():
    """Every bar's segments together are exactly W bits wide."""
    from emulation.fixed import FixedType

    record = tuning_record()
    for point, parts in _bars(plot_precision(record)).items():
        width = sum(r.get_width() for r in parts.values())
        assert width == FixedType.parse(record["result"]["types"][point]).width, point


def test_precision_labels_name_layers_kinds_and_types(precision_fig):
    """Row labels give kind and layer; each bar is labelled with its C++ type."""
    fig = precision_fig
    ax = fig.axes[0]
    kinds = [t.get_text() for t in ax.get_yticklabels()]
    layers = [t.get_text() for t in ax.get_yticklabels(minor=True)]
    assert Counter(kinds) == Counter({"result": 5, "weights": 2, "accumulator": 2})
    assert layers == LAYERS
    assert "ap_fixed<5,-1,AP_RND,AP_SAT>" in _texts(fig)
    assert "integer" in ax.get_xlabel() and "fractional" in ax.get_xlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "sign bit",
        "integer bits",
        "fractional bits",
    ]


def test_precision_of_an_unmet_target_draws_the_best_candidate():
    """Without a met target the chart draws best_types and says it misses the target."""
    fig = plot_precision(tuning_record(met=False))
    assert {tuple(k.split(".")) for k in _bars(fig)} == BARS
    assert "NOT meet" in fig.axes[0].get_title(loc="left")


# -------------------------------------------------------------------------- trade-off
def test_tradeoff_has_one_point_per_candidate(tradeoff_fig):
    """The candidate collections hold exactly one point per evaluated candidate, per phase."""
    fig = tradeoff_fig
    counts: Counter = Counter()
    for c in _candidate_collections(fig):
        counts[c.get_gid().split(":")[1]] += len(c.get_offsets())
    assert counts == Counter(phase for phase, *_ in CANDIDATES)


def test_tradeoff_points_sit_at_cost_and_metric(tradeoff_fig):
    """Each point is at (cost, metric), except the one far below, drawn on the lower edge."""
    fig = tradeoff_fig
    low = fig.axes[0].get_ylim()[0]
    drawn = sorted(
        tuple(p) for c in _candidate_collections(fig) for p in np.asarray(c.get_offsets())
    )
    expected = sorted((cost, max(metric, low)) for _, metric, cost, _ in CANDIDATES)
    assert drawn == expected
    assert 0.42 < low < 0.97  # zoomed on the target, the outlier clipped


def test_tradeoff_missed_candidates_are_hollow(tradeoff_fig):
    """Candidates that miss the target are white inside, the others filled."""
    fig = tradeoff_fig
    hollow = filled = 0
    for c in _candidate_collections(fig):
        for face in c.get_facecolors():
            if np.allclose(face, to_rgba("white")):
                hollow += 1
            else:
                filled += 1
    assert hollow == sum(not ok for *_, ok in CANDIDATES)
    assert filled == sum(ok for *_, ok in CANDIDATES)


def test_tradeoff_marks_and_labels_baselines_and_result(tradeoff_fig):
    """Existing baselines and the result are marked at (objective, metric) and labelled."""
    record = tuning_record()
    fig = tradeoff_fig
    for key in ("hls4ml_default", "cheapest_uniform"):
        (line,) = _by_gid(fig, f"{GID_BASELINE}:{key}")
        entry = record["baselines"][key]
        assert line.get_xdata()[0] == entry["objective"]
    assert _by_gid(fig, f"{GID_BASELINE}:range_rule") == []  # never met: not drawn
    (star,) = _by_gid(fig, GID_RESULT)
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (20100.0, 0.9902)
    labels = _texts(fig)
    for name in ("hls4ml default", "uniform ap_fixed<12,5>", "aptune"):
        assert name in labels
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "baseline: hls4ml default" in legend and "aptune (recommended)" in legend
    assert "target: agreement >= 0.99" in legend


def test_tradeoff_draws_the_target_line(tradeoff_fig):
    """A horizontal line at the target bound."""
    (line,) = _by_gid(tradeoff_fig, GID_TARGET)
    assert list(line.get_ydata()) == [0.99, 0.99]


def test_tradeoff_axes_are_labelled_with_units(tradeoff_fig):
    """The x axis names the objective and its unit, the y axis the metric and its data."""
    ax = tradeoff_fig.axes[0]
    assert "BOPs per inference" in ax.get_xlabel()
    assert "agreement" in ax.get_ylabel() and "calibration" in ax.get_ylabel()


def test_tradeoff_of_an_unmet_target_has_no_result_marker():
    """No star when no config met the target."""
    assert _by_gid(plot_tradeoff(tuning_record(met=False)), GID_RESULT) == []


def test_tradeoff_labels_stay_inside_the_figure(tradeoff_fig):
    """Every baseline and result label lies within the figure."""
    fig = tradeoff_fig
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    for text in fig.axes[0].texts:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()


def test_figures_leave_the_record_unchanged():
    """Drawing never modifies the data it draws."""
    record = full_record()
    before = copy.deepcopy(record)
    plot_precision(record)
    plot_tradeoff(record)
    assert record == before
