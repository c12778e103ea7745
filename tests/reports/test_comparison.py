"""Comparison reports: the text table, the Markdown summary and the figure, from plain data."""

from __future__ import annotations

import copy
import io
import json

import pytest
from matplotlib.colors import same_color
from matplotlib.figure import Figure

from reports.comparison import (
    DIFFER_COLOR,
    GID_DIVERGENCE,
    comparison_markdown,
    comparison_table,
    plot_comparison,
)


def _layer(name: str, kind: str, identical: int, total: int, lsb: float) -> dict:
    return {
        "name": name,
        "kind": kind,
        "type": "ap_fixed<16,6>",
        "identical": identical,
        "total": total,
        "max_lsb_difference": lsb,
    }


def _data(*, agree: bool) -> dict:
    """What Comparison.to_dict() gives for a 4-layer model over 100 samples of 3 outputs."""
    side = {
        "top_class_agreement": 0.97,
        "max_abs_error": 0.125,
        "mean_abs_error": 0.01,
        "accuracy": 0.95,
    }
    data = {
        "n_samples": 100,
        "n_values": 300,
        "identical": 300,
        "output_type": "ap_fixed<16,6>",
        "max_lsb_difference": 0.0,
        "max_abs_difference": 0.0,
        "first_divergence": None,
        "layers": [
            _layer("fc1", "Dense", 800, 800, 0.0),
            _layer("relu1", "Activation", 800, 800, 0.0),
            _layer("fc2", "Dense", 300, 300, 0.0),
            _layer("softmax", "Softmax", 300, 300, 0.0),
        ],
        "float_accuracy": 0.96,
        "emulator": dict(side),
        "csim": dict(side),
        "overflows": {"fc1.accum_t": {"count": 0, "total": 3200, "share": 0.0, "max_abs": 3.0}},
        "histograms": {
            "emulator_vs_csim_lsb": [{"label": "0", "count": 300}],
            "vs_float": {
                "edges_log2": [-12, -11, -10, -9],
                "counts": {"emulator": [10, 200, 90], "csim": [10, 200, 90]},
                "zeros": {"emulator": 0, "csim": 0},
            },
        },
        "hls_tool": "gxx",
        "cached": True,
        "timings": {"emulate": 0.1, "csim": 0.05},
        "project_dir": "/cache/abc",
        "notes": [],
        "identical_share": 1.0,
        "agree": True,
    }
    if not agree:
        data.update(
            identical=297,
            max_lsb_difference=12.0,
            max_abs_difference=12 / 1024,
            identical_share=0.99,
            agree=False,
            first_divergence={
                "layer": "fc2",
                "kind": "Dense",
                "sample": 7,
                "index": [1],
                "emulator": 0.5,
                "csim": 0.5009765625,
                "lsb_difference": 1.0,
                "emulator_type": "ap_fixed<12,5>",
                "csim_type": "ap_fixed<16,6>",
                "differing": 5,
                "total": 300,
            },
        )
        data["layers"][2] = _layer("fc2", "Dense", 295, 300, 1.0)
        data["layers"][3] = _layer("softmax", "Softmax", 297, 300, 12.0)
        data["overflows"]["fc1.accum_t"]["count"] = 4
        data["histograms"]["emulator_vs_csim_lsb"] = [
            {"label": "0", "count": 297},
            {"label": "1", "count": 1},
            {"label": "2", "count": 0},
            {"label": "3-4", "count": 1},
            {"label": "5-8", "count": 0},
            {"label": "9-16", "count": 1},
        ]
    return data


def _rendered(fig: Figure) -> Figure:
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return fig


def test_table_has_three_columns_and_the_verdict():
    """The table heads float / emulator / C simulation, then says how many values agree."""
    lines = comparison_table(_data(agree=True)).splitlines()
    assert lines[0].split() == ["float", "Keras", "emulator", "C", "simulation"]
    assert lines[1].split() == ["top-class", "agreement", "(reference)", "97.0", "%", "97.0", "%"]
    assert any(line.startswith("accuracy") and "96.0 %" in line for line in lines)
    assert "emulator vs C simulation: 300 of 300 values identical (100 %)" in lines
    assert "largest difference: 0 LSB of ap_fixed<16,6>" in lines
    assert "first diverging layer: none (all 4 traced layers identical)" in lines


def test_table_localises_a_divergence_with_both_values_and_types():
    """A mismatch names the layer, the sample, both values, the LSBs and both types."""
    text = comparison_table(_data(agree=False))
    assert "297 of 300 values identical (99.0 %)" in text
    assert "largest difference: 12 LSB of ap_fixed<16,6> (0.01172)" in text
    assert (
        "first diverging layer: fc2 (Dense), sample 7, output [1]: emulator 0.5, "
        "C simulation 0.5009765625 (1 LSB; types: emulator ap_fixed<12,5>, C simulation "
        "ap_fixed<16,6>); 5 of 300 values of that layer differ"
    ) in text
    assert "emulator overflows: fc1.accum_t 4 of 3200" in text


def test_a_near_miss_never_reads_100_percent():
    """799 of 800 identical prints 99.9 %, not 100 %."""
    data = _data(agree=False)
    data.update(identical=7999, n_values=8000)
    assert "(99.9 %)" in comparison_table(data)


def test_table_omits_accuracy_without_labels():
    """Without labels there is no accuracy row."""
    data = _data(agree=True)
    data["float_accuracy"] = None
    assert "accuracy" not in comparison_table(data)


def test_markdown_has_verdict_table_and_layers():
    """summary.md: a heading with the verdict, the three-way table and one row per layer."""
    md = comparison_markdown(_data(agree=False))
    assert md.startswith("# C simulation: emulator and C simulation DIFFER")
    assert "| | float Keras | emulator | C simulation |" in md
    assert "| fc2 | Dense | `ap_fixed<16,6>` | 295 of 300 (98.3 %) | 1 |" in md


@pytest.mark.parametrize("agree", [True, False])
def test_figure_has_three_panels_and_the_verdict(agree):
    """Three axes; the title says agree or DIFFER (and the first layer)."""
    fig = _rendered(plot_comparison(_data(agree=agree)))
    assert len(fig.axes) == 3
    title = fig._suptitle.get_text()
    if agree:
        assert "agree on every value" in title
    else:
        assert "DIFFER: 297 of 300 output values identical (99.0 %), first at layer fc2" in title


def test_lsb_panel_draws_one_bar_per_bin():
    """The LSB histogram has one bar per bin, labelled, the exact bin green and others red."""
    data = _data(agree=False)
    ax = _rendered(plot_comparison(data)).axes[0]
    bars = ax.containers[0]
    assert len(bars) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3-4", "5-8", "9-16"]
    assert same_color(bars[1].get_facecolor(), DIFFER_COLOR)
    assert not same_color(bars[0].get_facecolor(), DIFFER_COLOR)


def test_float_panel_draws_emulator_and_csim():
    """One step line per side, both in the legend with their count of exact values."""
    ax = _rendered(plot_comparison(_data(agree=True))).axes[1]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "emulator: 0 of 300 exactly 0 (identical, not drawn)",
        "C simulation: 0 of 300 exactly 0 (identical, not drawn)",
    ]
    assert len(ax.patches) == 2


def _wide_errors() -> dict:
    """Float rounding down to 2^-120 under errors of the output's LSB (2^-10) and above."""
    data = _data(agree=True)
    edges = list(range(-120, -1))  # 119 edges, 118 bins: -120 .. -3
    counts = [0] * (len(edges) - 1)
    for k, n in ((-120, 1), (-90, 1), (-30, 2), (-12, 30), (-11, 150), (-10, 80)):
        counts[edges.index(k)] = n
    counts[-1] = 4  # [-3, -2)
    data["histograms"]["vs_float"] = {
        "edges_log2": edges,
        "counts": {"emulator": counts, "csim": list(counts)},
        "zeros": {"emulator": 30, "csim": 30},
    }
    return data


def test_float_panel_clips_to_the_span_that_matters():
    """x runs from the output type's LSB / 2^8 (ap_fixed<16,6>: 2^-18) to the largest error,
    not from 2^-120; the legend counts the exact zeros and the values left of the range."""
    ax = _rendered(plot_comparison(_wide_errors())).axes[1]
    low, high = ax.get_xlim()
    assert low == -18 and high == -2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == ("emulator: 30 of 298 exactly 0 (identical, not drawn), 4 below $2^{-18}$")
    assert labels[1].startswith("C simulation: 30 of 298 exactly 0")
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert min(ticks) >= -18  # no tick labels down at 2^-120


def test_float_panel_without_a_type_starts_at_the_first_percentile():
    """Without an output type the 1st percentile of the non-zero errors starts the range."""
    data = _wide_errors()
    data["output_type"] = None
    ax = _rendered(plot_comparison(data)).axes[1]
    assert ax.get_xlim() == (-30, -2)  # the 1st percentile of 268 non-zero errors


def test_layer_panel_marks_the_first_divergence():
    """The first diverging layer's label is red and carries the 'first divergence' note."""
    ax = _rendered(plot_comparison(_data(agree=False))).axes[2]
    red = [t.get_text() for t in ax.get_yticklabels() if same_color(t.get_color(), DIFFER_COLOR)]
    assert red == ["fc2 (Dense)"]
    notes = [t for t in ax.texts if t.get_gid() == GID_DIVERGENCE]
    assert len(notes) == 1
    assert "first divergence" in notes[0].get_text()


def test_layer_panel_has_no_note_when_all_agree():
    """No divergence, no note."""
    ax = _rendered(plot_comparison(_data(agree=True))).axes[2]
    assert not [t for t in ax.texts if t.get_gid() == GID_DIVERGENCE]


def test_plots_from_saved_json_without_touching_it():
    """A JSON round trip plots the same; the data is not modified."""
    data = json.loads(json.dumps(_data(agree=False)))
    before = copy.deepcopy(data)
    plot_comparison(data)
    comparison_table(data)
    comparison_markdown(data)
    assert data == before
